//! The relay guard and the journal, on the simulated plant.

use heat_hw::sim::{SimConfig, SimFault, SimPlant};
use heat_hw::{RelayOutputs, RelayRole};

use super::{JournalRelays, SafeRelays, SimOptions, simulated};

#[test]
fn the_guard_switches_every_load_off_when_dropped() {
    let shared = SimPlant::new(SimConfig::default()).into_shared();
    let mut relays = SafeRelays::new(Box::new(shared.clone()));
    relays.set(RelayRole::Pump, true).unwrap();
    relays.set(RelayRole::Heater, true).unwrap();
    drop(relays);
    let s = shared.with(|p| p.state());
    assert!(!s.pump && !s.heater);
}

#[test]
fn the_guard_switches_off_while_a_panic_unwinds() {
    let shared = SimPlant::new(SimConfig::default()).into_shared();
    let handle = shared.clone();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let mut relays = SafeRelays::new(Box::new(handle));
        relays.set(RelayRole::Heater, true).unwrap();
        panic!("a bug in the loop");
    }));
    assert!(result.is_err());
    assert!(!shared.with(|p| p.state().heater));
}

#[test]
fn the_journal_records_changes_and_safe_states_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    let shared = SimPlant::new(SimConfig::default()).into_shared();
    let mut j = JournalRelays::new(shared.clone(), &path).unwrap();
    j.set(RelayRole::Pump, true).unwrap();
    j.set(RelayRole::Pump, true).unwrap();
    j.set(RelayRole::Heater, false).unwrap();
    shared.with(|p| p.inject(SimFault::RelayWrite(RelayRole::Heater)));
    assert!(j.set(RelayRole::Heater, true).is_err());
    assert!(j.safe_state().is_err());
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().map(|l| l.split_once(' ').unwrap().1).collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0], "pump ON");
    assert!(lines[1].starts_with("heater error"), "{text}");
    assert_eq!(lines[2], "safe failed");
}

#[test]
fn the_simulated_plant_starts_where_asked() {
    let plant = simulated(&SimOptions {
        seed: 3,
        initial_c: Some((10.0, 91.0, 92.0)),
        journal: None,
        faults: None,
    })
    .unwrap();
    let state = plant.sim.as_ref().unwrap().with(|p| p.state());
    assert_eq!(
        (state.collector_c, state.tank_bottom_c, state.tank_top_c),
        (10.0, 91.0, 92.0)
    );
    assert!(plant.description.contains("seed 3"));
}
