//! The simulated plant as a `Plant`: the physics follows the loop's clock, the schedule's
//! faults and hangs come back from `advance`, the relays are guarded and journaled.

use std::time::Duration;

use heat_core::Timestamp;
use heat_loop::LoopEvent;

use super::SimulatedPlant;
use crate::plant::{Advance, Plant};
use crate::relay::{RelayOutputs, RelayRole};
use crate::sensor::SensorRole;
use crate::sim::{SimConfig, SimFault};

fn elapsed(plant: &SimulatedPlant) -> Duration {
    plant.physics().with(|p| p.state().elapsed)
}

#[test]
fn advance_steps_the_physics_to_the_loops_clock() {
    let mut plant = SimulatedPlant::new(SimConfig::default());
    // (now, simulated time of the physics after the advance)
    let table = [(0, 0), (30, 30), (90, 90), (90, 90), (60, 90), (120, 120)];
    for (now, after) in table {
        assert_eq!(
            plant.advance(Timestamp::from_secs(now)),
            Advance::default(),
            "at {now} s"
        );
        assert_eq!(elapsed(&plant), Duration::from_secs(after), "at {now} s");
    }
}

#[test]
fn a_maximum_advance_caps_each_step_after_a_long_stop() {
    let mut plant =
        SimulatedPlant::new(SimConfig::default()).with_max_advance(Duration::from_secs(300));
    let _ = plant.advance(Timestamp::from_secs(3600));
    assert_eq!(elapsed(&plant), Duration::from_secs(300));
    // The next advance counts from the loop's `now`, not from where the physics stopped.
    let _ = plant.advance(Timestamp::from_secs(3630));
    assert_eq!(elapsed(&plant), Duration::from_secs(330));
}

#[test]
fn the_schedule_comes_back_as_events_and_hangs() {
    let schedule = "crc:collector@30+30,hang:sweep@60+20".parse().unwrap();
    let mut plant = SimulatedPlant::new(SimConfig::default()).with_faults(schedule);
    let injected = |fault: &str| LoopEvent::SimFaultInjected {
        fault: fault.to_owned(),
    };
    let cleared = |fault: &str| LoopEvent::SimFaultCleared {
        fault: fault.to_owned(),
    };
    assert_eq!(plant.advance(Timestamp::from_secs(0)), Advance::default());
    assert_eq!(
        plant.advance(Timestamp::from_secs(30)).events,
        [injected("crc:collector")]
    );
    assert_eq!(
        plant.sweep().get(SensorRole::Collector),
        Err(crate::SensorError::Crc)
    );
    assert_eq!(
        plant.advance(Timestamp::from_secs(60)),
        Advance {
            events: vec![cleared("crc:collector"), injected("hang:sweep")],
            sweep_hang: Some(Duration::from_secs(20)),
        }
    );
    assert!(plant.sweep().get(SensorRole::Collector).is_ok());
    assert_eq!(
        plant.advance(Timestamp::from_secs(80)),
        Advance {
            events: vec![cleared("hang:sweep")],
            sweep_hang: None,
        }
    );
}

#[test]
fn the_relays_are_journaled_and_off_when_the_plant_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    let config = SimConfig {
        seed: 5,
        ..SimConfig::default()
    };
    let mut plant = SimulatedPlant::journaled(config, &path).unwrap();
    assert_eq!(plant.description(), "simulated plant (seed 5)");
    let physics = plant.physics().clone();
    let _ = plant.advance(Timestamp::from_secs(30));
    plant.relays().set(RelayRole::Pump, true).unwrap();
    assert!(physics.with(|p| p.state().pump));
    physics.with(|p| p.inject(SimFault::RelayWrite(RelayRole::Heater)));
    assert!(plant.relays().set(RelayRole::Heater, true).is_err());
    physics.with(|p| p.clear_faults());
    drop(plant);
    assert!(
        !physics.with(|p| p.state().pump),
        "OFF when the plant is dropped"
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "30000 pump ON", "{text}");
    assert!(lines[1].starts_with("30000 heater error"), "{text}");
    assert_eq!(lines[2], "30000 safe", "{text}");
    assert_eq!(lines.len(), 3, "{text}");
}

#[test]
fn a_journal_that_cannot_be_opened_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no such dir").join("journal");
    assert!(SimulatedPlant::journaled(SimConfig::default(), &missing).is_err());
}
