//! The glue: the command line's options reach heat-hw's simulated plant.

use std::time::Duration;

use heat_core::Timestamp;
use heat_hw::{Plant, RelayOutputs, RelayRole};

use super::{SimOptions, simulated};

#[test]
fn the_simulated_plant_starts_where_asked() {
    let plant = simulated(&SimOptions {
        seed: 3,
        initial_c: Some((10.0, 91.0, 92.0)),
        ..SimOptions::default()
    })
    .unwrap();
    let state = plant.physics().with(|p| p.state());
    assert_eq!(
        (state.collector_c, state.tank_bottom_c, state.tank_top_c),
        (10.0, 91.0, 92.0)
    );
    assert!(plant.description().contains("seed 3"));
}

#[test]
fn the_options_bring_the_journal_the_schedule_and_the_maximum_advance() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal");
    let mut plant = simulated(&SimOptions {
        journal: Some(journal.clone()),
        faults: Some("relay:pump@0+6000".parse().unwrap()),
        max_advance: Some(Duration::from_secs(10)),
        ..SimOptions::default()
    })
    .unwrap();
    let advance = plant.advance(Timestamp::from_secs(600));
    assert_eq!(advance.events.len(), 1, "{advance:?}");
    assert_eq!(
        plant.physics().with(|p| p.state().elapsed),
        Duration::from_secs(10)
    );
    assert!(plant.relays().set(RelayRole::Pump, true).is_err());
    drop(plant);
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(text.contains("pump error"), "{text}");
}

#[test]
fn a_journal_that_cannot_be_opened_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("journal");
    let err = simulated(&SimOptions {
        journal: Some(path.clone()),
        ..SimOptions::default()
    })
    .unwrap_err();
    assert!(
        format!("{err:#}").contains(&path.display().to_string()),
        "{err:#}"
    );
}
