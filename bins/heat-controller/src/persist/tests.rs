//! The writer thread behind a fake link: a command is written at once, the alarm follows the
//! problem flag, shutdown writes the last state.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use heat_core::{Controller, DailyEnergy, Energy, Memory, Mode, Parameter, Params, Runtime};
use heat_persist::{Counters, Restored};

use super::*;

/// Records what the loop would have published.
#[derive(Default)]
struct Recorder {
    states: Mutex<Vec<Status>>,
}

impl Link for Recorder {
    fn publish_state(&self, status: Status) {
        self.states.lock().unwrap().push(status);
    }

    fn report(&self, _: &InboundCommand, _: &Result<CommandOutcome, CommandError>, _: &Pending) {}
}

fn status(mode: Mode, energy: Energy, params: &Params) -> Status {
    let runtime = Runtime {
        pump_hours: energy.collected_kwh * 2.0,
        pump_starts: 3,
        heater_hours: energy.heater_kwh / 3.0,
        heater_starts: 1,
    };
    Controller::resume(
        params.clone(),
        Timestamp::from_millis(0),
        Memory {
            mode,
            energy,
            runtime,
            daily: DailyEnergy::default(),
            last_disinfection_day: Some(20_000),
            ..Memory::default()
        },
    )
    .status()
}

fn inbound(command: Command) -> InboundCommand {
    InboundCommand {
        topic: "solar_heating/mode/set".into(),
        command,
    }
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn defaults() -> Loaded {
    Loaded {
        restored: Restored::defaults(&Params::default()),
        on_disk: None,
        problem: None,
        from_previous: false,
    }
}

#[test]
fn an_accepted_command_is_written_at_once_with_the_parameters_set_over_mqtt() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::new(tmp.path());
    // An hour between interval writes: only the command can explain a write.
    let p = Persistence::start(
        dir.clone(),
        &defaults(),
        Duration::from_secs(3600),
        LoopClock::new(1.0),
    )
    .unwrap();
    let recorder = Recorder::default();
    let link = PersistingLink::new(&recorder, &p);
    let params = Params::default().with(Parameter::DtStart, 9.5).unwrap();
    link.publish_state(status(Mode::Eco, Energy::default(), &params));
    std::thread::sleep(Duration::from_millis(50));
    assert!(
        !dir.path().exists(),
        "a status alone waits for the interval"
    );
    link.report(
        &inbound(Command::SetParameter(Parameter::DtStart, 9.5)),
        &Ok(CommandOutcome::Accepted),
        &Pending::default(),
    );
    wait_for("the write", || dir.path().exists());
    let on_disk = dir
        .load(&Params::default(), SystemTime::now())
        .on_disk
        .unwrap();
    assert_eq!(on_disk.mode, Mode::Eco);
    assert_eq!(
        on_disk.parameters.into_iter().collect::<Vec<_>>(),
        vec![(Parameter::DtStart, 9.5)],
        "only what was set over MQTT"
    );
    // A refused command writes nothing and is not "set over MQTT".
    link.report(
        &inbound(Command::SetParameter(Parameter::DtStop, 99.0)),
        &Err(CommandError::NotManual {
            load: heat_core::Load::Pump,
            mode: Mode::Eco,
        }),
        &Pending::default(),
    );
    let energy = Energy {
        collected_kwh: 2.0,
        heater_kwh: 1.0,
    };
    let last = status(Mode::Eco, energy, &params);
    p.finish(&last);
    let on_disk = dir
        .load(&Params::default(), SystemTime::now())
        .on_disk
        .unwrap();
    assert_eq!(
        on_disk.counters,
        Counters::new(energy, last.runtime),
        "shutdown writes the last state"
    );
    assert_eq!(on_disk.parameters.len(), 1);
    assert!(
        recorder
            .states
            .lock()
            .unwrap()
            .iter()
            .all(|s| s.alarms.is_empty())
    );
}

#[test]
fn the_alarm_shows_from_a_bad_file_until_the_next_good_write() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::new(tmp.path());
    std::fs::write(dir.path(), "{\"schema\": 1, \"mode\": \"eco\", \"param").unwrap();
    let loaded = dir.load(&Params::default(), SystemTime::now());
    assert!(loaded.problem.is_some());
    // 1 s between interval writes at 1000× simulated time: 1 ms real.
    let p = Persistence::start(
        dir.clone(),
        &loaded,
        Duration::from_secs(1),
        LoopClock::new(1000.0),
    )
    .unwrap();
    let recorder = Recorder::default();
    let link = PersistingLink::new(&recorder, &p);
    let s = status(Mode::Auto, Energy::default(), &Params::default());
    link.publish_state(s.clone());
    assert_eq!(
        recorder.states.lock().unwrap()[0].alarms,
        vec![Alarm::StateFile]
    );
    wait_for("the first good write", || !p.problem());
    assert!(dir.path().exists());
    link.publish_state(s);
    assert_eq!(recorder.states.lock().unwrap()[1].alarms, vec![]);
}

#[test]
fn a_failed_write_raises_the_alarm() {
    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("not-a-directory");
    std::fs::write(&blocker, "").unwrap();
    let p = Persistence::start(
        StateDir::new(&blocker),
        &defaults(),
        Duration::from_secs(3600),
        LoopClock::new(1.0),
    )
    .unwrap();
    let recorder = Recorder::default();
    let link = PersistingLink::new(&recorder, &p);
    assert!(!p.problem());
    link.report(
        &inbound(Command::SetMode(Mode::Off)),
        &Ok(CommandOutcome::Accepted),
        &Pending::default(),
    );
    wait_for("the failed write", || p.problem());
    link.publish_state(status(Mode::Off, Energy::default(), &Params::default()));
    assert_eq!(
        recorder.states.lock().unwrap()[0].alarms,
        vec![Alarm::StateFile]
    );
}
