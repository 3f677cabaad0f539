//! The loop on the simulated plant with a fake link that stops it after a number of states,
//! so nothing here depends on wall-clock time.

use std::cell::RefCell;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::time::Duration;

use heat_core::{Command, CommandError, CommandOutcome, Controller, Mode, Params, Status};
use heat_hw::sim::SimFault;
use heat_hw::{Plant, RelayOutputs, RelayRole};
use heat_mqtt::InboundCommand;

use heat_loop::StopReason;

use super::{ControlLoop, Input, Link, LoopSettings};
use crate::clock::LoopClock;
use crate::notify::{Notice, Notifier};
use crate::plant::{SimOptions, simulated};

/// Records what the loop hands over; asks it to stop after `stop_after` states.
struct FakeLink {
    states: RefCell<Vec<Status>>,
    reports: RefCell<Vec<(String, Result<CommandOutcome, CommandError>)>>,
    stop: SyncSender<Input>,
    stop_after: usize,
}

impl Link for FakeLink {
    fn publish_state(&self, status: Status) {
        let mut states = self.states.borrow_mut();
        states.push(status);
        if states.len() == self.stop_after {
            self.stop
                .try_send(Input::Stop(StopReason::Signal("SIGTERM")))
                .unwrap();
        }
    }

    fn report(
        &self,
        command: &InboundCommand,
        result: &Result<CommandOutcome, CommandError>,
        _pending: &heat_core::Pending,
    ) {
        self.reports
            .borrow_mut()
            .push((command.topic.clone(), result.clone()));
    }
}

fn setup(stop_after: usize) -> (FakeLink, SyncSender<Input>, Receiver<Input>) {
    let (tx, rx) = mpsc::sync_channel(64);
    let link = FakeLink {
        states: RefCell::default(),
        reports: RefCell::default(),
        stop: tx.clone(),
        stop_after,
    };
    (link, tx, rx)
}

fn settings() -> LoopSettings {
    LoopSettings {
        period: Duration::from_secs(1),
        heartbeat: Duration::from_secs(60),
        timing_report: Duration::from_secs(3600),
    }
}

fn command(topic: &str, command: Command) -> Input {
    Input::Command(InboundCommand {
        topic: topic.into(),
        command,
    })
}

#[test]
fn commands_are_applied_reported_and_shown_before_the_next_tick() {
    let mut plant = simulated(&SimOptions::default()).unwrap();
    let (link, tx, rx) = setup(40);
    tx.send(command(
        "solar_heating/mode/set",
        Command::SetMode(Mode::Manual),
    ))
    .unwrap();
    tx.send(command("solar_heating/pump/set", Command::SetPump(true)))
        .unwrap();
    // Refused: the heater needs manual mode, which it has; a parameter out of its cross rules is.
    tx.send(command(
        "solar_heating/dt_stop/set",
        Command::SetParameter(heat_core::Parameter::DtStop, 20.0),
    ))
    .unwrap();
    let clock = LoopClock::new(1000.0);
    let controller = Controller::new(Params::default(), clock.now());
    let end = ControlLoop::new(&mut plant, controller, clock, settings(), &link).run(&rx);
    assert_eq!(end.reason, StopReason::Signal("SIGTERM"));
    assert!(end.ticks >= 2, "{end:?}");

    let reports = link.reports.borrow();
    let verdicts: Vec<(&str, bool)> = reports
        .iter()
        .map(|(t, r)| (t.as_str(), r.is_ok()))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("solar_heating/mode/set", true),
            ("solar_heating/pump/set", true),
            ("solar_heating/dt_stop/set", false)
        ]
    );
    let states = link.states.borrow();
    let last = states.last().unwrap();
    assert_eq!(last.mode, Mode::Manual);
    assert!(last.manual_pump && last.pump, "{last:?}");
    assert!(plant.physics().with(|p| p.state().pump));
}

#[test]
fn a_failing_relay_puts_every_load_off_and_holds_it() {
    // A cold tank: the thermostat wants the heater ON; the pump relay cannot be written.
    let mut plant = simulated(&SimOptions::default()).unwrap();
    let sim = plant.physics().clone();
    sim.with(|p| p.inject(SimFault::RelayWrite(RelayRole::Pump)));
    let (link, _tx, rx) = setup(30);
    let clock = LoopClock::new(1000.0);
    let controller = Controller::new(Params::default(), clock.now());
    let mut lp = ControlLoop::new(&mut plant, controller, clock, settings(), &link);
    lp.run(&rx);
    assert!(lp.holding());
    assert!(
        lp.controller().status().heater,
        "the controller still wants heat"
    );
    assert!(
        !sim.with(|p| p.state().heater),
        "but the heater is held OFF"
    );
    assert_eq!(plant.relays().get(RelayRole::Heater), Some(false));
}

#[test]
fn the_loop_ends_when_every_input_is_gone_and_leaves_relays_to_the_guard() {
    let mut plant = simulated(&SimOptions::default()).unwrap();
    let sim = plant.physics().clone();
    let (unused_tx, _unused_rx) = mpsc::sync_channel(1);
    let link = FakeLink {
        states: RefCell::default(),
        reports: RefCell::default(),
        stop: unused_tx,
        stop_after: usize::MAX,
    };
    let (tx, rx) = mpsc::sync_channel::<Input>(1);
    drop(tx);
    let clock = LoopClock::new(1000.0);
    let controller = Controller::new(Params::default(), clock.now());
    let end = ControlLoop::new(&mut plant, controller, clock, settings(), &link).run(&rx);
    assert_eq!(end.reason, StopReason::InputsGone);
    assert_eq!(end.ticks, 1, "the first tick is at once");
    plant.relays().set(RelayRole::Pump, true).unwrap();
    drop(plant);
    let s = sim.with(|p| p.state());
    assert!(!s.pump && !s.heater);
}

/// Records notices; asks the loop to stop after `stop_after` watchdog pings. `states` is how many
/// states the link had been handed when each notice came.
struct Recorder<'a> {
    notices: RefCell<Vec<(Notice, usize)>>,
    interval: Option<Duration>,
    link: &'a FakeLink,
    stop_after: usize,
}

impl Notifier for Recorder<'_> {
    fn notify(&self, notice: Notice) {
        let mut notices = self.notices.borrow_mut();
        notices.push((notice, self.link.states.borrow().len()));
        let pings = notices
            .iter()
            .filter(|(n, _)| *n == Notice::Watchdog)
            .count();
        if notice == Notice::Watchdog && pings == self.stop_after {
            self.link
                .stop
                .try_send(Input::Stop(StopReason::Signal("SIGINT")))
                .unwrap();
        }
    }

    fn watchdog_interval(&self) -> Option<Duration> {
        self.interval
    }
}

#[test]
fn ready_follows_the_first_tick_and_every_tick_pings_the_watchdog() {
    let mut plant = simulated(&SimOptions::default()).unwrap();
    let (link, _tx, rx) = setup(usize::MAX);
    let recorder = Recorder {
        notices: RefCell::default(),
        // Longer than the test: every ping here comes from a tick.
        interval: Some(Duration::from_secs(3600)),
        link: &link,
        stop_after: 10,
    };
    let clock = LoopClock::new(1000.0);
    let controller = Controller::new(Params::default(), clock.now());
    let end = ControlLoop::new(&mut plant, controller, clock, settings(), &link)
        .with_notifier(&recorder)
        .run(&rx);
    assert_eq!(end.reason, StopReason::Signal("SIGINT"));
    let notices = recorder.notices.borrow();
    // READY=1 once, first, after the first tick had handed over its state (relays driven).
    assert_eq!(notices[0], (Notice::Ready, 1), "{notices:?}");
    assert!(
        notices[1..].iter().all(|(n, _)| *n == Notice::Watchdog),
        "{notices:?}"
    );
    assert_eq!(notices.len() - 1, 10);
    // One ping per finished tick; an 11th tick may start and find the stop request first.
    assert!((10..=11).contains(&end.ticks), "{end:?}");
}

#[test]
fn a_period_longer_than_the_watchdog_interval_still_pings_in_time() {
    let mut plant = simulated(&SimOptions::default()).unwrap();
    let (link, _tx, rx) = setup(usize::MAX);
    let recorder = Recorder {
        notices: RefCell::default(),
        interval: Some(Duration::from_millis(10)),
        link: &link,
        stop_after: 5,
    };
    // A 60 s period in real time: without the early wake-ups only the first tick would ping
    // within the test.
    let clock = LoopClock::new(1.0);
    let controller = Controller::new(Params::default(), clock.now());
    let slow = LoopSettings {
        period: Duration::from_secs(60),
        ..settings()
    };
    let end = ControlLoop::new(&mut plant, controller, clock, slow, &link)
        .with_notifier(&recorder)
        .run(&rx);
    assert_eq!(end.reason, StopReason::Signal("SIGINT"));
    assert_eq!(end.ticks, 1, "pings between ticks, not extra ticks");
    let notices: Vec<Notice> = recorder.notices.borrow().iter().map(|(n, _)| *n).collect();
    assert_eq!(
        notices,
        [
            Notice::Ready,
            Notice::Watchdog,
            Notice::Watchdog,
            Notice::Watchdog,
            Notice::Watchdog,
            Notice::Watchdog
        ]
    );
}

#[test]
fn without_a_watchdog_only_ready_is_sent() {
    let mut plant = simulated(&SimOptions::default()).unwrap();
    let (link, _tx, rx) = setup(20);
    let recorder = Recorder {
        notices: RefCell::default(),
        interval: None,
        link: &link,
        stop_after: usize::MAX,
    };
    let clock = LoopClock::new(1000.0);
    let controller = Controller::new(Params::default(), clock.now());
    let end = ControlLoop::new(&mut plant, controller, clock, settings(), &link)
        .with_notifier(&recorder)
        .run(&rx);
    assert_eq!(end.reason, StopReason::Signal("SIGTERM"));
    assert!(end.ticks >= 2, "{end:?}");
    assert_eq!(*recorder.notices.borrow(), [(Notice::Ready, 1)]);
}
