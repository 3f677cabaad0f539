//! The control loop. Every period: advance the simulated plant (under `--simulate`), sweep the
//! sensors, apply pending commands, step heat-core, drive the relays, hand the status to the
//! MQTT session when it changed or the heartbeat is due. Between ticks it waits on its input
//! channel, so a command is applied (and its new state handed over) as soon as it arrives, and
//! a stop request ends the wait at once. It never waits on the network: the [`Link`] methods
//! only fill a slot or a bounded queue.
//!
//! Under systemd the loop sends `READY=1` after its first tick has driven the relays and
//! `WATCHDOG=1` after every tick, and it ends its wait early to ping when the watchdog interval
//! is shorter than the period: every ping comes from this thread, so a loop stuck anywhere (a
//! sweep that blocks, a deadlock) stops them and systemd's watchdog fires.
//!
//! After a relay write error every load is held OFF ([`SafeHold`]) until all relays read back
//! OFF for the longest minimum OFF time, so the physical relays keep the anti short-cycling
//! times even though the controller never saw them go OFF (the same rule as heat-sim's).

use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use heat_core::{CommandError, CommandOutcome, Controller, EventKind, Output, Status, Timestamp};
use heat_hw::{RelayOutputs, RelayRole, apply_output};
use heat_mqtt::{InboundCommand, SessionHandle};
use log::{debug, error, info, trace, warn};

use crate::clock::LoopClock;
use crate::notify::{Notice, Notifier, Silent};
use crate::plant::Plant;
use crate::timing::{LoopTiming, TimingReport};

/// Where the loop hands its status and its verdicts on commands: the MQTT session, or a fake in
/// tests. Neither method may block on IO.
pub trait Link {
    /// The latest status, to publish.
    fn publish_state(&self, status: Status);
    /// The verdict on a command, to answer on the result topic.
    fn report(&self, command: &InboundCommand, result: &Result<CommandOutcome, CommandError>);
}

impl Link for SessionHandle {
    fn publish_state(&self, status: Status) {
        SessionHandle::publish_state(self, status);
    }

    fn report(&self, command: &InboundCommand, result: &Result<CommandOutcome, CommandError>) {
        SessionHandle::report(self, command, result);
    }
}

/// What wakes the loop between ticks.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A validated command from MQTT.
    Command(InboundCommand),
    /// Stop (a signal), with the reason for the log.
    Stop(String),
}

impl From<InboundCommand> for Input {
    fn from(command: InboundCommand) -> Self {
        Input::Command(command)
    }
}

/// How the loop runs. Durations are in the controller's (simulated) time; the loop divides by
/// the clock's scale for real waits.
#[derive(Debug, Clone)]
pub struct LoopSettings {
    /// Control period.
    pub period: Duration,
    /// The status is handed over at least this often even when unchanged.
    pub heartbeat: Duration,
    /// Real time between timing reports in the log.
    pub timing_report: Duration,
}

/// After a relay error: every load OFF until all relays read back OFF for `min_off`.
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

/// Why and how the loop ended.
#[derive(Debug, Clone)]
pub struct LoopEnd {
    /// The stop reason.
    pub reason: String,
    /// Ticks run.
    pub ticks: u64,
    /// The last timing window.
    pub timing: TimingReport,
}

/// The loop's state.
pub struct ControlLoop<'a> {
    plant: &'a mut Plant,
    controller: Controller,
    clock: LoopClock,
    settings: LoopSettings,
    link: &'a dyn Link,
    notifier: &'a dyn Notifier,
    hold: Option<SafeHold>,
    last_published: Option<(Status, Timestamp)>,
    last_plant_step: Timestamp,
    timing: LoopTiming,
    ticks: u64,
}

impl std::fmt::Debug for ControlLoop<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlLoop")
            .field("ticks", &self.ticks)
            .field("hold", &self.hold)
            .finish_non_exhaustive()
    }
}

fn on_off(on: bool) -> &'static str {
    if on { "ON" } else { "OFF" }
}

impl<'a> ControlLoop<'a> {
    /// A loop over `plant` with `controller`, timed by `clock`, reporting to `link`.
    pub fn new(
        plant: &'a mut Plant,
        controller: Controller,
        clock: LoopClock,
        settings: LoopSettings,
        link: &'a dyn Link,
    ) -> Self {
        let start = clock.now();
        Self {
            plant,
            controller,
            clock,
            settings,
            link,
            notifier: &Silent,
            hold: None,
            last_published: None,
            last_plant_step: start,
            timing: LoopTiming::new(),
            ticks: 0,
        }
    }

    /// Sends `READY=1` and `WATCHDOG=1` to `notifier` (default: nothing).
    pub fn with_notifier(mut self, notifier: &'a dyn Notifier) -> Self {
        self.notifier = notifier;
        self
    }

    /// The controller (for tests and the final log line).
    pub fn controller(&self) -> &Controller {
        &self.controller
    }

    /// Whether relays are being held OFF after a relay error.
    pub fn holding(&self) -> bool {
        self.hold.is_some()
    }

    /// Runs until a [`Input::Stop`] arrives or every sender is gone. The first tick is at once.
    pub fn run(&mut self, inputs: &Receiver<Input>) -> LoopEnd {
        let real_period = self
            .clock
            .real(self.settings.period)
            .max(Duration::from_micros(1));
        let watchdog = self.notifier.watchdog_interval();
        let mut next = Instant::now();
        let mut last_report = next;
        let mut next_ping = watchdog.map(|interval| next + interval);
        loop {
            let now = Instant::now();
            if let (Some(interval), Some(at)) = (watchdog, next_ping)
                && now >= at
            {
                // Between ticks when the period is longer than the watchdog interval.
                self.notifier.notify(Notice::Watchdog);
                next_ping = Some(now + interval);
            }
            if now < next {
                let wake = next_ping.map_or(next, |ping| ping.min(next));
                match inputs.recv_timeout(wake.saturating_duration_since(now)) {
                    Ok(Input::Command(cmd)) => {
                        self.command(cmd);
                        continue;
                    }
                    Ok(Input::Stop(why)) => return self.end(why),
                    Err(RecvTimeoutError::Disconnected) => {
                        return self.end("every input is gone".to_owned());
                    }
                    Err(RecvTimeoutError::Timeout) if Instant::now() < next => continue,
                    Err(RecvTimeoutError::Timeout) => {}
                }
            }
            let started = Instant::now();
            let jitter = if started >= next {
                started - next
            } else {
                next - started
            };
            if let Some(why) = self.tick(inputs) {
                return self.end(why);
            }
            if self.ticks == 1 {
                self.notifier.notify(Notice::Ready);
            }
            if let Some(interval) = watchdog {
                self.notifier.notify(Notice::Watchdog);
                next_ping = Some(Instant::now() + interval);
            }
            let work = started.elapsed();
            self.timing.record(jitter, work);
            trace!(
                "tick {}: jitter {:.3} ms, work {:.3} ms",
                self.ticks,
                jitter.as_secs_f64() * 1e3,
                work.as_secs_f64() * 1e3
            );
            let after = Instant::now();
            next = next.checked_add(real_period).unwrap_or(after + real_period);
            if next <= after {
                // A whole period behind (a slow sweep, a stopped process): skip, do not burst.
                let behind = after - next;
                let skipped = behind.as_nanos() / real_period.as_nanos() + 1;
                self.timing
                    .skipped(u64::try_from(skipped).unwrap_or(u64::MAX));
                next = after + real_period;
            }
            if self.timing.window_full() || after - last_report >= self.settings.timing_report {
                info!("{}", self.timing.take_report());
                last_report = after;
            }
        }
    }

    fn end(&mut self, reason: String) -> LoopEnd {
        LoopEnd {
            reason,
            ticks: self.ticks,
            timing: self.timing.take_report(),
        }
    }

    /// Applies one command now, hands over the new status, then reports the verdict (in that
    /// order, so the state is ready when the answer goes out).
    pub fn command(&mut self, cmd: InboundCommand) {
        let now = self.clock.now();
        let result = self.controller.command(now, cmd.command);
        match &result {
            Ok(outcome) => debug!("command on {} accepted: {outcome:?}", cmd.topic),
            Err(e) => warn!("command on {} refused by the controller: {e}", cmd.topic),
        }
        // The state shows the new mode, request or parameter at once; relays follow at the
        // next tick.
        self.publish(now);
        self.link.report(&cmd, &result);
    }

    /// One period's work; `Some(reason)` when a stop request was found among the inputs.
    fn tick(&mut self, inputs: &Receiver<Input>) -> Option<String> {
        self.ticks += 1;
        let now = self.clock.now();
        let mut hang = None;
        if let Some(sim) = &self.plant.sim {
            // Physics up to now: about one period of simulated time per tick, never more than
            // ten (after the process was stopped, for instance).
            let dt = now
                .saturating_duration_since(self.last_plant_step)
                .min(self.settings.period * 10);
            sim.with(|p| p.step(dt));
            self.last_plant_step = now;
            if let Some(faults) = self.plant.sim_faults.as_mut() {
                hang = sim.with(|p| faults.apply(now, p));
            }
        }
        if let Some(left) = hang {
            // `hang:sweep`: the sweep blocks, as on a wedged bus; nothing else runs meanwhile.
            std::thread::sleep(self.clock.real(left));
        }
        let sweep = self.plant.sensors.sweep(&mut *self.plant.delay);
        let readings = sweep.to_readings();
        loop {
            match inputs.try_recv() {
                Ok(Input::Command(cmd)) => self.command(cmd),
                Ok(Input::Stop(why)) => return Some(why),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        let out = self.controller.step(now, &readings);
        for e in &out.events {
            match e.kind {
                EventKind::InterlockActivated(_) => warn!("{}", e.reason),
                _ => info!("{}", e.reason),
            }
        }
        self.drive_relays(now, &out);
        self.publish(now);
        None
    }

    fn drive_relays(&mut self, now: Timestamp, out: &Output) {
        let held_off = Output {
            pump: false,
            heater: false,
            state: out.state,
            pump_interlock: None,
            heater_interlock: None,
            events: Vec::new(),
        };
        let commanded = if self.hold.is_some() { &held_off } else { out };
        let errors = apply_output(&mut self.plant.relays, commanded);
        if !errors.is_empty() {
            if self.hold.is_none() {
                for e in &errors {
                    error!("relay write failed: {e}; every load OFF and held OFF");
                }
            } else {
                for e in &errors {
                    debug!("relay write failed again while held OFF: {e}");
                }
            }
            if let Err(e) = self.plant.relays.safe_state() {
                debug!("safe state incomplete: {e}");
            }
            self.hold = Some(SafeHold::new());
        }
        if let Some(hold) = self.hold.as_mut() {
            let all_off = RelayRole::ALL
                .into_iter()
                .all(|r| self.plant.relays.get(r) == Some(false));
            let raw = self.controller.params().raw();
            let min_off = Duration::from_secs(raw.pump_min_off_s.max(raw.heater_min_off_s));
            if hold.update(now, all_off, min_off) {
                info!(
                    "relays read back OFF for {} s: control resumes (pump {}, heater {} wanted)",
                    min_off.as_secs(),
                    on_off(out.pump),
                    on_off(out.heater)
                );
                self.hold = None;
            }
        }
    }

    /// Hands the status over when it changed or the heartbeat is due.
    fn publish(&mut self, now: Timestamp) {
        let status = self.controller.status();
        let due = match &self.last_published {
            None => true,
            Some((last, at)) => {
                *last != status || now.saturating_duration_since(*at) >= self.settings.heartbeat
            }
        };
        if due {
            self.link.publish_state(status.clone());
            self.last_published = Some((status, now));
        }
    }
}

#[cfg(test)]
mod tests;
