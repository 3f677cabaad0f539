//! Issue 13 acceptance a: commands act at once. Real Mosquitto, `--simulate` at time scale 1,
//! the default 30 s period: a manual pump ON shows in the retained state before the next tick,
//! and an OFF inside the minimum ON time is answered with the time left and then followed as
//! soon as that time has passed, still before the next tick.
//!
//! "Before the next tick" is read from simulated time, not the wall clock: the relay journal
//! stamps each switch with the simulated plant's time, which only advances at a tick, so a
//! switch stamped 0 ms happened before the second tick (at 30 s).

use heat_core::Load;
use heat_state::{OnOff, StateJson};

use crate::harness::{Controller, ControllerWatch, STATE, Spec, broker, retained, typed, watch};

/// The journal's `<ms> pump ON|OFF` lines, in order.
fn pump_switches(journal: &str) -> Vec<(u64, String)> {
    journal
        .lines()
        .filter_map(|l| {
            let (ms, what) = l.split_once(' ')?;
            let state = what.strip_prefix("pump ")?;
            Some((ms.parse().ok()?, state.to_owned()))
        })
        .collect()
}

#[test]
fn a_manual_pump_command_switches_before_the_next_tick_and_a_held_back_one_follows() {
    let broker = broker();
    let watcher = watch(broker.port(), "watch-at-once", "#");
    let mut spec = Spec::new(broker.port());
    // The default period (30 s) at time scale 1; a short minimum ON time so the test waits
    // seconds, not a minute.
    spec.toml = "[controller]\nprobe_anonymous = false\n[control]\npump_min_on_s = 3\n\
                 pump_min_off_s = 3\n"
        .to_owned();
    spec.args = vec!["--time-scale".into(), "1".into()];
    let ctl = Controller::start(&spec);
    watcher.wait_on(STATE, |_| true);

    watcher.publish("solar_heating/mode/set", b"manual");
    assert!(watcher.wait_answer("solar_heating/mode/set").accepted);
    watcher.publish("solar_heating/pump/set", b"ON");
    let answer = watcher.wait_answer("solar_heating/pump/set");
    assert!(answer.accepted, "{answer:?}");
    watcher.wait_state(|s| s.pump.is_on());
    let state = retained(broker.port(), "watch-at-once-2", STATE).expect("retained state");
    assert!(typed::<StateJson>(&state).pump.is_on(), "{}", state.text());
    let switches = pump_switches(&ctl.journal());
    assert_eq!(
        switches.first().map(|s| s.1.as_str()),
        Some("ON"),
        "{switches:?}"
    );
    assert!(
        switches[0].0 < 30_000,
        "pump ON only at a later tick: {switches:?}"
    );

    // Inside the 3 s minimum ON time: accepted, held back, answered with the time left.
    watcher.clear();
    watcher.publish("solar_heating/pump/set", b"OFF");
    let answer = watcher.wait_answer("solar_heating/pump/set");
    assert!(answer.accepted, "{answer:?}");
    let pending = answer.pending.get(&Load::Pump).expect("the pump held back");
    assert_eq!(pending.to, OnOff::Off, "{answer:?}");
    assert!((1..=3).contains(&pending.in_s), "{answer:?}");
    assert!(answer.reason.contains("pump switches OFF in"), "{answer:?}");

    // Then it follows once the minimum time has passed, without waiting for the next tick.
    let state = watcher.wait_state(|s| !s.pump.is_on());
    assert!(state.pending.is_empty(), "{state:?}");
    let switches = pump_switches(&ctl.journal());
    let states: Vec<&str> = switches.iter().map(|s| s.1.as_str()).collect();
    assert_eq!(states, ["ON", "OFF"], "{switches:?}");
    assert!(
        switches[1].0 < 30_000,
        "pump OFF only at a later tick: {switches:?}"
    );
}
