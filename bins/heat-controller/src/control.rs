//! The control loop's real-time driver around heat-loop's pure [`Machine`]. Every period:
//! advance the plant (heat-hw's [`Plant`]: the simulated one steps its physics and applies its
//! fault schedule, the hardware does nothing), sweep the sensors, feed the readings to
//! the machine, drive the relays it commands, hand over the status when the machine's throttle
//! says so, log the machine's events. Between ticks it waits on its input channel, so a command
//! is applied, acted on (the relays follow in the same call, limited only by the minimum
//! ON/OFF times) and its new state handed over as soon as it arrives; a stop request ends the
//! wait at once. It never waits on the network: the [`Link`] methods only fill a slot or a
//! bounded queue. Everything decided (hold, throttle, events) is the machine's.
//!
//! Under systemd the loop sends `READY=1` after its first tick has driven the relays and
//! `WATCHDOG=1` after every tick, and it ends its wait early to ping when the watchdog interval
//! is shorter than the period: every ping comes from this thread, so a loop stuck anywhere (a
//! sweep that blocks, a deadlock) stops them and systemd's watchdog fires.
//!
//! After a relay write error every load is held OFF (heat-loop's [`heat_loop::SafeHold`]) until
//! all relays read back OFF for the longest minimum OFF time; heat-sim runs the same machine.
//!
//! Events go to the log target [`EVENT_TARGET`] as one JSON object per line (`kind` first),
//! besides the human-readable line on this module's target.

use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use heat_core::{CommandError, CommandOutcome, Controller, LocalTime, Pending, Status, Timestamp};
use heat_hw::Plant;
use heat_loop::{LoopEvent, Machine, RelayCommand, StopReason};
use heat_mqtt::{InboundCommand, SessionHandle};
use heat_state::OnOff;
use log::{debug, error, info, trace, warn};

/// The log target of plant events: one JSON object per line, `{"kind": ..., ...}` (heat-state's,
/// where the tools that read it find it too).
pub use heat_state::log::EVENT_TARGET;

use crate::clock::{LoopClock, WallClock};
use crate::notify::{Notice, Notifier, Silent};
use crate::timing::{LoopTiming, TimingReport};

/// Where the loop hands its status and its verdicts on commands: the MQTT session, or a fake in
/// tests. Neither method may block on IO.
pub trait Link {
    /// The latest status, to publish.
    fn publish_state(&self, status: Status);
    /// The verdict on a command, to answer on the result topic, with what a minimum ON/OFF
    /// time still holds back after it.
    fn report(
        &self,
        command: &InboundCommand,
        result: &Result<CommandOutcome, CommandError>,
        pending: &Pending,
    );
}

impl Link for SessionHandle {
    fn publish_state(&self, status: Status) {
        SessionHandle::publish_state(self, status);
    }

    fn report(
        &self,
        command: &InboundCommand,
        result: &Result<CommandOutcome, CommandError>,
        pending: &Pending,
    ) {
        SessionHandle::report(self, command, result, pending);
    }
}

/// What wakes the loop between ticks.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A validated command from MQTT.
    Command(InboundCommand),
    /// Stop (a signal), with the reason.
    Stop(StopReason),
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

/// Why and how the loop ended.
#[derive(Debug, Clone)]
pub struct LoopEnd {
    /// The stop reason.
    pub reason: StopReason,
    /// Ticks run.
    pub ticks: u64,
    /// The last timing window.
    pub timing: TimingReport,
}

/// The loop's state.
pub struct ControlLoop<'a> {
    plant: &'a mut dyn Plant,
    machine: Machine,
    clock: LoopClock,
    /// The local time of day; without one the clock-based functions stay neutral.
    wall: Option<WallClock>,
    settings: LoopSettings,
    link: &'a dyn Link,
    notifier: &'a dyn Notifier,
    timing: LoopTiming,
    ticks: u64,
}

impl std::fmt::Debug for ControlLoop<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlLoop")
            .field("ticks", &self.ticks)
            .field("hold", &self.machine.hold())
            .finish_non_exhaustive()
    }
}

/// Logs `event` as JSON on [`EVENT_TARGET`], and as a sentence for people on this target.
fn log_event(event: &LoopEvent) {
    let level = if event.is_warning() {
        log::Level::Warn
    } else {
        log::Level::Info
    };
    heat_state::log::emit(EVENT_TARGET, level, event.kind(), event);
    match event {
        LoopEvent::PumpSwitched { reason, .. }
        | LoopEvent::HeaterSwitched { reason, .. }
        | LoopEvent::InterlockReleased { reason, .. } => info!("{reason}"),
        LoopEvent::Disinfection { change, reason } => match change {
            heat_core::DisinfectionChange::Failed => warn!("{reason}"),
            _ => info!("{reason}"),
        },
        LoopEvent::InterlockActivated { reason, .. } => warn!("{reason}"),
        LoopEvent::Holiday { reason, .. } => info!("{reason}"),
        LoopEvent::StateChanged { from, to } => info!("state {from} -> {to}"),
        LoopEvent::ModeChanged { from, to } => info!("mode changed from {from} to {to} by command"),
        LoopEvent::ParameterChanged { parameter, value } => {
            info!("{parameter} set to {value} by command")
        }
        LoopEvent::ManualRequest { load, on } => {
            info!("manual {load} {} requested", OnOff::from(*on))
        }
        LoopEvent::CommandAccepted { command, .. } => debug!("command accepted: {command}"),
        LoopEvent::CommandRefused { command, error } => {
            warn!("command {command} refused by the controller: {error}")
        }
        LoopEvent::RelayWriteFailed { error } => {
            error!("relay write failed: {error}; every load OFF and held OFF")
        }
        LoopEvent::HoldStarted => {}
        LoopEvent::HoldEnded {
            min_off_s,
            pump,
            heater,
        } => info!(
            "relays read back OFF for {min_off_s} s: control resumes (pump {}, heater {} wanted)",
            OnOff::from(*pump),
            OnOff::from(*heater)
        ),
        LoopEvent::SimFaultInjected { fault } => warn!("simulated fault injected: {fault}"),
        LoopEvent::SimFaultCleared { fault } => warn!("simulated fault cleared: {fault}"),
    }
}

impl<'a> ControlLoop<'a> {
    /// A loop over `plant` with `controller`, timed by `clock`, reporting to `link`.
    pub fn new(
        plant: &'a mut dyn Plant,
        controller: Controller,
        clock: LoopClock,
        settings: LoopSettings,
        link: &'a dyn Link,
    ) -> Self {
        Self {
            plant,
            machine: Machine::new(controller, settings.heartbeat),
            clock,
            wall: None,
            settings,
            link,
            notifier: &Silent,
            timing: LoopTiming::new(),
            ticks: 0,
        }
    }

    /// Sends `READY=1` and `WATCHDOG=1` to `notifier` (default: nothing).
    pub fn with_notifier(mut self, notifier: &'a dyn Notifier) -> Self {
        self.notifier = notifier;
        self
    }

    /// Hands heat-core the local time of day from `wall` (default: none, so the heater time
    /// windows stay open all day).
    pub fn with_wall_clock(mut self, wall: WallClock) -> Self {
        self.wall = Some(wall);
        self
    }

    /// Both clocks at one instant: the loop's timestamp, and the local time if there is a
    /// plausible wall clock.
    fn clocks(&mut self) -> (Timestamp, Option<LocalTime>) {
        let at = Instant::now();
        let local = self.wall.as_mut().and_then(|w| w.local(at));
        (self.clock.at(at), local)
    }

    /// The controller (for tests and the final log line).
    pub fn controller(&self) -> &Controller {
        self.machine.controller()
    }

    /// Whether relays are being held OFF after a relay error.
    pub fn holding(&self) -> bool {
        self.machine.holding()
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
            if let Some(due) = self.machine.due()
                && self.clock.now() >= due
            {
                // A switch a minimum time held back is allowed now: act before the next tick.
                let (at, local) = self.clocks();
                if let Some(relays) = self.machine.wake(at, local) {
                    self.drive(at, relays);
                }
                self.publish(at);
                continue;
            }
            if now < next {
                let mut wake = next_ping.map_or(next, |ping| ping.min(next));
                if let Some(due) = self.machine.due() {
                    let left = due.saturating_duration_since(self.clock.now());
                    // Rounded up to a millisecond, so the wake is never before the timestamp.
                    let real = self.clock.real(left) + Duration::from_millis(1);
                    wake = wake.min(now + real);
                }
                match inputs.recv_timeout(wake.saturating_duration_since(now)) {
                    Ok(Input::Command(cmd)) => {
                        self.command(cmd);
                        continue;
                    }
                    Ok(Input::Stop(why)) => return self.end(why),
                    Err(RecvTimeoutError::Disconnected) => {
                        return self.end(StopReason::InputsGone);
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
                self.timing.take_report().log();
                last_report = after;
            }
        }
    }

    fn end(&mut self, reason: StopReason) -> LoopEnd {
        LoopEnd {
            reason,
            ticks: self.ticks,
            timing: self.timing.take_report(),
        }
    }

    /// Applies one command now and acts on it at once (a control step on the latest readings,
    /// relays driven), hands over the new status, then reports the verdict (in that order, so
    /// the state is ready when the answer goes out).
    pub fn command(&mut self, cmd: InboundCommand) {
        let (now, local) = self.clocks();
        let (result, relays) = self.machine.command(now, local, cmd.command);
        if let Some(relays) = relays {
            self.drive(now, relays);
        }
        self.publish(now);
        let pending = self.machine.controller().status().pending;
        self.link.report(&cmd, &result, &pending);
    }

    /// One period's work; `Some(reason)` when a stop request was found among the inputs.
    fn tick(&mut self, inputs: &Receiver<Input>) -> Option<StopReason> {
        self.ticks += 1;
        let (now, local) = self.clocks();
        let advance = self.plant.advance(now);
        for e in advance.events {
            self.machine.note(e);
        }
        if let Some(left) = advance.sweep_hang {
            // `hang:sweep`: the sweep blocks, as on a wedged bus; nothing else runs meanwhile.
            for e in self.machine.take_events() {
                log_event(&e);
            }
            std::thread::sleep(self.clock.real(left));
        }
        let sweep = self.plant.sweep();
        let readings = sweep.to_readings();
        loop {
            match inputs.try_recv() {
                Ok(Input::Command(cmd)) => self.command(cmd),
                Ok(Input::Stop(why)) => return Some(why),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        let relays = self.machine.tick(now, local, readings);
        self.drive(now, relays);
        self.publish(now);
        None
    }

    fn drive(&mut self, now: Timestamp, relays: RelayCommand) {
        heat_hw::drive(&mut self.machine, self.plant.relays(), now, relays);
    }

    /// Hands the status over when the machine's throttle says it is due (changed, or the
    /// heartbeat), then logs the machine's events: the log write (stderr, the journal) is kept
    /// off the command → state path.
    fn publish(&mut self, now: Timestamp) {
        if let Some(status) = self.machine.status(now) {
            self.link.publish_state(status);
        }
        for e in self.machine.take_events() {
            log_event(&e);
        }
    }
}

#[cfg(test)]
mod tests;
