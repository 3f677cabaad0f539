//! The loop's decisions: one control step per sweep, commands applied and acted on at once,
//! the safety hold after a relay failure, and the one throttle on the status.
//!
//! A driver calls, per period: [`Machine::tick`] with the sweep's readings, executes the
//! [`RelayCommand`] it gets, reports the result with [`Machine::relays_done`] (which may ask for
//! the safe state, to execute and report in turn), then publishes [`Machine::status`] when it is
//! `Some` and logs [`Machine::take_events`]. A command goes through [`Machine::command`], which
//! applies it and runs a control step on the latest readings in the same call (no new sweep),
//! so the relays follow at once, limited only by the minimum ON/OFF times; a switch those hold
//! back is [`Machine::due`] at a time when the driver calls [`Machine::wake`].

use std::time::Duration;

use heat_core::{
    Command, CommandError, CommandOutcome, Controller, LocalTime, Output, Readings, Status,
    Timestamp,
};

use crate::event::LoopEvent;

/// What the machine wants done with the relays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayCommand {
    /// Drive each relay to this state.
    Set {
        /// Pump relay.
        pump: bool,
        /// Heater relay.
        heater: bool,
    },
    /// Every load OFF, as far as the relays allow (after a write failure).
    SafeState,
}

/// One relay write that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayFailure {
    /// The driver's error, naming the relay.
    pub error: String,
}

/// What executing a [`RelayCommand`] did: the failures, then what each relay reads back
/// (`None` when it cannot tell).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RelayReport {
    /// Failed writes.
    pub failures: Vec<RelayFailure>,
    /// The pump relay read back after the command.
    pub pump: Option<bool>,
    /// The heater relay read back after the command.
    pub heater: Option<bool>,
}

impl RelayReport {
    fn all_off(&self) -> bool {
        self.pump == Some(false) && self.heater == Some(false)
    }
}

/// After a relay write error: every load OFF until all relays read back OFF for the longest
/// minimum OFF time, so the physical relays keep the anti short-cycling times even though the
/// controller never saw them go OFF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SafeHold {
    off_since: Option<Timestamp>,
}

impl SafeHold {
    /// A hold that starts now.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the hold is over at `now`, given whether every relay read back OFF.
    pub fn update(&mut self, now: Timestamp, all_off: bool, min_off: Duration) -> bool {
        if !all_off {
            self.off_since = None;
            return false;
        }
        let since = *self.off_since.get_or_insert(now);
        now.saturating_duration_since(since) >= min_off
    }
}

/// The one throttle on the status: hand it over when it changed or the heartbeat is due. (The
/// MQTT session publishes every status it is handed; the throttle lives here, in the loop's
/// time, so heat-sim, the benches and the daemon share it and tests drive it without a clock.)
#[derive(Debug, Clone, PartialEq)]
pub struct Throttle {
    heartbeat: Duration,
    last: Option<(Status, Timestamp)>,
}

impl Throttle {
    /// Nothing handed over yet; unchanged status again after `heartbeat`.
    pub fn new(heartbeat: Duration) -> Self {
        Self {
            heartbeat,
            last: None,
        }
    }

    /// `Some(status)` when it is due at `now` (and remembers it as handed over).
    pub fn due(&mut self, now: Timestamp, status: Status) -> Option<Status> {
        let due = match &self.last {
            None => true,
            Some((last, at)) => {
                *last != status || now.saturating_duration_since(*at) >= self.heartbeat
            }
        };
        if !due {
            return None;
        }
        self.last = Some((status.clone(), now));
        Some(status)
    }
}

/// The control loop's state machine. Pure: every call gets the time.
#[derive(Debug, Clone)]
pub struct Machine {
    controller: Controller,
    // The latest sweep and when it was taken.
    readings: Option<(Readings, Timestamp)>,
    last_output: Option<Output>,
    hold: Option<SafeHold>,
    throttle: Throttle,
    events: Vec<LoopEvent>,
    ticks: u64,
    // When the earliest held-back switch becomes allowed.
    due: Option<Timestamp>,
}

impl Machine {
    /// A machine around `controller`, with the status heartbeat `heartbeat`.
    pub fn new(controller: Controller, heartbeat: Duration) -> Self {
        Self {
            controller,
            readings: None,
            last_output: None,
            hold: None,
            throttle: Throttle::new(heartbeat),
            events: Vec::new(),
            ticks: 0,
            due: None,
        }
    }

    /// The controller.
    pub fn controller(&self) -> &Controller {
        &self.controller
    }

    /// The last control step's output, if a step ran.
    pub fn last_output(&self) -> Option<&Output> {
        self.last_output.as_ref()
    }

    /// Whether relays are being held OFF after a relay error.
    pub fn holding(&self) -> bool {
        self.hold.is_some()
    }

    /// The hold, for diagnostics.
    pub fn hold(&self) -> Option<SafeHold> {
        self.hold
    }

    /// Ticks run (sweeps fed).
    pub fn ticks(&self) -> u64 {
        self.ticks
    }

    /// One period: a new sweep's readings at `now`, with the local time of day (`None` while
    /// the wall clock is not plausible). Returns what to do with the relays.
    pub fn tick(
        &mut self,
        now: Timestamp,
        local: Option<LocalTime>,
        readings: Readings,
    ) -> RelayCommand {
        self.ticks += 1;
        self.readings = Some((readings, now));
        self.step(now, local, readings, now)
    }

    /// Applies `command` at `now`. When accepted and a sweep has been seen, runs a control step
    /// on the latest readings at once and returns the relay command to execute. The step knows
    /// when the readings were taken, so it never counts them as new (their staleness runs on).
    pub fn command(
        &mut self,
        now: Timestamp,
        local: Option<LocalTime>,
        command: Command,
    ) -> (Result<CommandOutcome, CommandError>, Option<RelayCommand>) {
        let result = self.controller.command(now, command);
        let relays = match &result {
            Ok(outcome) => {
                self.events.push(LoopEvent::CommandAccepted {
                    command: format!("{command:?}"),
                    overridden_by: match outcome {
                        CommandOutcome::AcceptedButOverridden { reason } => Some(*reason),
                        _ => None,
                    },
                });
                self.readings
                    .map(|(r, taken)| self.step(now, local, r, taken))
            }
            Err(e) => {
                self.events.push(LoopEvent::CommandRefused {
                    command: format!("{command:?}"),
                    error: e.to_string(),
                });
                None
            }
        };
        (result, relays)
    }

    /// When a switch that a minimum time holds back becomes allowed: a driver wakes then and
    /// calls [`Machine::wake`], so the relay follows as soon as the minimum time has passed
    /// rather than at the next tick.
    pub fn due(&self) -> Option<Timestamp> {
        self.due
    }

    /// At or after [`Machine::due`]: a control step on the latest readings (no new sweep).
    pub fn wake(&mut self, now: Timestamp, local: Option<LocalTime>) -> Option<RelayCommand> {
        self.readings
            .map(|(r, taken)| self.step(now, local, r, taken))
    }

    fn step(
        &mut self,
        now: Timestamp,
        local: Option<LocalTime>,
        readings: Readings,
        taken: Timestamp,
    ) -> RelayCommand {
        let out = self.controller.step_on(now, local, &readings, taken);
        let pending = self.controller.status().pending;
        self.due = [pending.pump, pending.heater]
            .into_iter()
            .flatten()
            .map(|p| now + Duration::from_millis(p.in_ms))
            .min();
        self.events
            .extend(out.events.iter().map(LoopEvent::from_core));
        let command = if self.hold.is_some() {
            RelayCommand::Set {
                pump: false,
                heater: false,
            }
        } else {
            RelayCommand::Set {
                pump: out.pump,
                heater: out.heater,
            }
        };
        self.last_output = Some(out);
        command
    }

    /// The longest minimum OFF time in force.
    fn min_off(&self) -> Duration {
        let raw = self.controller.params().raw();
        Duration::from_secs(raw.pump_min_off_s.max(raw.heater_min_off_s))
    }

    /// The result of executing `done`; returns a follow-up command (the safe state after a
    /// failed write), whose result comes back here too.
    pub fn relays_done(
        &mut self,
        now: Timestamp,
        done: RelayCommand,
        report: &RelayReport,
    ) -> Option<RelayCommand> {
        if done != RelayCommand::SafeState && !report.failures.is_empty() {
            if self.hold.is_none() {
                for f in &report.failures {
                    self.events.push(LoopEvent::RelayWriteFailed {
                        error: f.error.clone(),
                    });
                }
                self.events.push(LoopEvent::HoldStarted);
            }
            // A failure while held restarts the hold: the OFF time counts from a good state.
            self.hold = Some(SafeHold::new());
            return Some(RelayCommand::SafeState);
        }
        let min_off = self.min_off();
        if let Some(hold) = self.hold.as_mut()
            && hold.update(now, report.all_off(), min_off)
        {
            self.hold = None;
            let (pump, heater) = self
                .last_output
                .as_ref()
                .map_or((false, false), |o| (o.pump, o.heater));
            self.events.push(LoopEvent::HoldEnded {
                min_off_s: min_off.as_secs(),
                pump,
                heater,
            });
        }
        None
    }

    /// The status to publish now, when it changed or the heartbeat is due (the one throttle).
    pub fn status(&mut self, now: Timestamp) -> Option<Status> {
        let status = self.controller.status();
        self.throttle.due(now, status)
    }

    /// Adds an event the driver observed (a simulated fault injected or cleared), so every
    /// event goes out through the same path.
    pub fn note(&mut self, event: LoopEvent) {
        self.events.push(event);
    }

    /// The events since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<LoopEvent> {
        std::mem::take(&mut self.events)
    }
}

#[cfg(test)]
mod tests;
