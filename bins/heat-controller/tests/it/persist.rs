//! Issue 14 acceptance a, b and c for the state file: the process against a real Mosquitto,
//! `--simulate`, `STATE_DIRECTORY` set to a temp dir.
//!
//! - a: mode eco and two parameters set over MQTT survive SIGTERM and a start, and the energy
//!   counters continue from where they stopped;
//! - c: a truncated file, garbage, a newer schema and an out-of-range parameter: the controller
//!   starts and controls, warns once with the path and the fix, keeps the bad copy, and Home
//!   Assistant's problem sensor is ON (the `state_file` alarm) until the next good write;
//! - b: SIGKILL at random moments of runs that write the file every simulated second: it always
//!   loads, and the counters never go backwards across the restarts.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use heat_core::Alarm;
use heat_core::{Mode, Parameter, Params};
use heat_persist::{StateDir, StateFile};
use heat_state::{StateJson, log::LogLine};
use rand::Rng;

use crate::harness::{Controller, ControllerWatch, STATE, Spec, broker, retained, typed, watch};

/// A spec whose state directory is `dir`; the pump and the heater run from the start (a hot
/// collector, a cold tank), so both energy counters move.
fn spec(port: u16, dir: &Path, extra_toml: &str) -> Spec {
    let mut spec = Spec::new(port);
    spec.toml.push_str(extra_toml);
    spec.env
        .push(("STATE_DIRECTORY", dir.display().to_string()));
    spec.args
        .extend(["--sim-initial-c".into(), "80,20,20".into()]);
    spec
}

fn on_disk(dir: &Path) -> StateFile {
    let loaded = StateDir::new(dir).load(&Params::default(), SystemTime::now());
    assert_eq!(loaded.problem, None, "{:?}", loaded.problem);
    loaded.on_disk.expect("a state file")
}

fn has_state_file_alarm(state: &StateJson) -> bool {
    state.problem.is_on() && state.has_alarm(Alarm::StateFile)
}

#[test]
fn a_restart_keeps_the_mode_the_parameters_and_the_counters() {
    let broker = broker();
    let dir = tempfile::tempdir().unwrap();
    let watcher = watch(broker.port(), "watch-persist-a", "#");
    let mut ctl = Controller::start(&spec(broker.port(), dir.path(), ""));
    watcher.wait_on(STATE, |_| true);
    for (topic, payload) in [
        ("solar_heating/mode/set", "eco"),
        ("solar_heating/dt_start/set", "9.5"),
        ("solar_heating/heater_setpoint/set", "55"),
    ] {
        watcher.publish(topic, payload.as_bytes());
        let answer = watcher.wait_answer(topic);
        assert!(answer.accepted, "{topic}: {answer:?}");
    }
    // Written right after the commands, before any interval.
    let file = on_disk(dir.path());
    assert_eq!(file.mode, Mode::Eco);
    assert_eq!(
        file.parameters
            .iter()
            .map(|(p, v)| (*p, *v))
            .collect::<Vec<_>>(),
        [(Parameter::DtStart, 9.5), (Parameter::HeaterSetpoint, 55.0)]
    );
    watcher.wait_state(|s| s.energy.collected_kwh > 0.0 && s.energy.heater_kwh > 0.0);
    ctl.signal("TERM");
    let (status, _) = ctl.wait_exit();
    assert!(status.success(), "{status}\n{}", ctl.output());
    let stopped = on_disk(dir.path());
    assert!(stopped.counters.collected_kwh > 0.0, "{stopped:?}");
    assert!(stopped.counters.heater_kwh > 0.0, "{stopped:?}");
    assert!(stopped.counters.pump_hours > 0.0, "{stopped:?}");
    assert!(stopped.counters.heater_hours > 0.0, "{stopped:?}");
    assert!(stopped.counters.pump_starts >= 1, "{stopped:?}");
    assert!(stopped.counters.heater_starts >= 1, "{stopped:?}");

    // A newcomer must not see the first run's state: clear it, then start again.
    watcher.publish_retained(STATE, b"");
    watcher.clear();
    let ctl = Controller::start(&spec(broker.port(), dir.path(), ""));
    let first = watcher.wait_state(|_| true);
    assert_eq!(first.mode, Mode::Eco, "{first:?}");
    assert_eq!(first.parameter(Parameter::DtStart), Some(9.5), "{first:?}");
    assert_eq!(
        first.parameter(Parameter::HeaterSetpoint),
        Some(55.0),
        "{first:?}"
    );
    assert_eq!(
        first.parameter(Parameter::DtStop),
        Some(4.0),
        "untouched: {first:?}"
    );
    // The counters continue: the first state already holds the stopped totals (the JSON
    // rounds to 0.001 kWh).
    for (counter, now, stopped) in [
        (
            "collected_kwh",
            first.energy.collected_kwh,
            stopped.counters.collected_kwh,
        ),
        (
            "heater_kwh",
            first.energy.heater_kwh,
            stopped.counters.heater_kwh,
        ),
        (
            "pump_hours",
            first.runtime.pump_hours,
            stopped.counters.pump_hours,
        ),
        (
            "heater_hours",
            first.runtime.heater_hours,
            stopped.counters.heater_hours,
        ),
    ] {
        assert!(
            now >= stopped - 0.0005,
            "{counter}: {now} < {stopped}: {first:?}"
        );
    }
    assert!(
        first.runtime.pump_starts >= stopped.counters.pump_starts
            && first.runtime.heater_starts >= stopped.counters.heater_starts,
        "starts: {first:?} vs {stopped:?}"
    );
    assert!(!has_state_file_alarm(&first), "{first:?}");
    let retained = retained(broker.port(), "watch-persist-a2", STATE).expect("retained state");
    let r: StateJson = typed(&retained);
    assert_eq!(
        (
            r.mode,
            r.parameter(Parameter::DtStart),
            r.parameter(Parameter::HeaterSetpoint)
        ),
        (Mode::Eco, Some(9.5), Some(55.0)),
        "{r:?}"
    );
    let output = ctl.output();
    assert!(output.contains("state file"), "{output}");
}

#[test]
fn bad_state_files_warn_once_keep_a_copy_and_show_the_problem_until_the_next_write() {
    let good = "{\"schema\": 1, \"mode\": \"eco\", \"parameters\": {\"dt_start\": 9.5}, \
                \"counters\": {\"collected_kwh\": 2.0, \"heater_kwh\": 1.0}}";
    let cases: [(&str, String, &str); 4] = [
        ("truncated", good[..good.len() / 2].to_owned(), "auto"),
        (
            "garbage",
            "\u{1}\u{2}PK\u{3}\u{4} not json at all".to_owned(),
            "auto",
        ),
        (
            "newer schema",
            good.replace("\"schema\": 1", "\"schema\": 2"),
            "auto",
        ),
        // Out of range: dropped alone, the rest restored.
        (
            "out of range",
            good.replace("\"dt_start\": 9.5", "\"dt_start\": 9.5, \"boil_stop\": 400"),
            "eco",
        ),
    ];
    let broker = broker();
    for (i, (name, text, mode)) in cases.into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, &text).unwrap();
        let watcher = watch(broker.port(), &format!("watch-persist-c-{i}"), "#");
        // A persist interval of 60 s (1.2 s real at 50×): the next good write comes soon, but
        // after the session has published the first state (at 1 s, 20 ms real, the write could
        // clear the alarm before anything was published, and the first state showed none).
        let mut ctl = Controller::start(&spec(
            broker.port(),
            dir.path(),
            "persist_interval_secs = 60\n",
        ));
        // Home Assistant's problem sensor is ON with the state_file alarm.
        let first = watcher.wait_state(|_| true);
        assert!(has_state_file_alarm(&first), "{name}: {first:?}");
        assert_eq!(first.mode.as_str(), mode, "{name}: {first:?}");
        // It controls: the hot collector starts the pump.
        watcher.wait_state(|s| s.pump.is_on());
        // The next good write clears the alarm.
        watcher.wait_state(|s| !has_state_file_alarm(s) && !s.problem.is_on());
        ctl.signal("TERM");
        let (status, _) = ctl.wait_exit();
        assert!(status.success(), "{name}: {status}");

        let output = ctl.output();
        let path_text = path.display().to_string();
        let warnings: Vec<&str> = output
            .lines()
            .filter(|l| {
                LogLine::parse(l).is_some_and(|l| l.level == log::Level::Warn)
                    && l.contains(&path_text)
            })
            .collect();
        assert_eq!(warnings.len(), 1, "{name}: warned {warnings:?}\n{output}");
        assert!(warnings[0].contains("Fix: "), "{name}: {}", warnings[0]);
        let copies: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("state.json.bad-")
            })
            .collect();
        assert_eq!(copies.len(), 1, "{name}: {copies:?}");
        assert_eq!(
            std::fs::read_to_string(copies[0].path()).unwrap(),
            text,
            "{name}"
        );
        assert!(
            warnings[0].contains(&copies[0].path().display().to_string()),
            "{name}"
        );
        // And a good file replaced the bad one.
        let file = on_disk(dir.path());
        assert_eq!(file.mode.as_str(), mode, "{name}");
        assert!(
            !file.parameters.contains_key(&Parameter::BoilStop),
            "{name}"
        );
        watcher.publish_retained(STATE, b"");
    }
}

#[test]
fn without_a_state_directory_a_simulation_persists_nothing() {
    let broker = broker();
    let watcher = watch(broker.port(), "watch-persist-none", "#");
    let mut ctl = Controller::start(&Spec::new(broker.port()));
    watcher.wait_on(STATE, |_| true);
    watcher.publish("solar_heating/mode/set", b"eco");
    assert!(watcher.wait_answer("solar_heating/mode/set").accepted);
    ctl.signal("TERM");
    let (status, _) = ctl.wait_exit();
    assert!(status.success(), "{status}");
    let files: Vec<String> = std::fs::read_dir(ctl.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !files.iter().any(|f| f.starts_with("state.json")),
        "{files:?}"
    );
    let output = ctl.output();
    assert!(!output.contains("state file"), "{output}");
    assert!(
        !output.contains("no state directory"),
        "only without --simulate: {output}"
    );
}

/// Kills of the real controller; the file-level test in heat-persist kills a writer 200 times.
const KILLS: usize = 40;

#[test]
fn sigkill_at_random_moments_never_leaves_a_file_that_does_not_load() {
    // No broker: control and persistence never wait for one.
    let dir = tempfile::tempdir().unwrap();
    let mut spec = spec(1, dir.path(), "persist_interval_secs = 1\n");
    // A tick and a write every simulated second, 1 ms real.
    spec.args = vec![
        "--time-scale".into(),
        "1000".into(),
        "--sim-initial-c".into(),
        "80,20,20".into(),
    ];
    spec.rust_log = "warn";
    let mut rng = rand::rng();
    let started = Instant::now();
    let (mut previous, mut written_rounds) = (StateFile::default().counters, 0);
    for round in 0..KILLS {
        let mut ctl = Controller::start(&spec);
        std::thread::sleep(Duration::from_millis(rng.random_range(0..250)));
        ctl.signal("KILL");
        let (status, _) = ctl.wait_exit();
        assert!(
            !status.success(),
            "round {round}: {status}\n{}",
            ctl.output()
        );
        let loaded = StateDir::new(dir.path()).load(&Params::default(), SystemTime::now());
        assert_eq!(loaded.problem, None, "round {round}");
        let Some(file) = loaded.on_disk else {
            assert_eq!(
                previous,
                StateFile::default().counters,
                "round {round}: file gone"
            );
            continue;
        };
        let c = file.counters;
        assert!(
            c.collected_kwh >= previous.collected_kwh
                && c.heater_kwh >= previous.heater_kwh
                && c.pump_hours >= previous.pump_hours
                && c.heater_hours >= previous.heater_hours
                && c.pump_starts >= previous.pump_starts
                && c.heater_starts >= previous.heater_starts,
            "round {round}: counters went back from {previous:?} to {c:?}"
        );
        if c != previous {
            written_rounds += 1;
        }
        previous = c;
        // No state file warning: every start found a good file (or none yet).
        let output = ctl.output();
        assert!(
            !output
                .lines()
                .any(|l| l.contains("WARN") && l.contains("state file")),
            "round {round}: {output}"
        );
    }
    assert!(
        written_rounds > KILLS / 2,
        "only {written_rounds} of {KILLS} runs wrote: the kills came too early to test much"
    );
    println!(
        "{KILLS} SIGKILLs of the controller in {:.1} s: the file loaded every time, {written_rounds} \
         rounds advanced the counters (to {previous:?})",
        started.elapsed().as_secs_f64()
    );
}
