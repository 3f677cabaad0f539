//! The relay guard, and the hardware plant over a fake w1 bus.

use std::time::Duration;

use heat_core::Timestamp;

use super::{Advance, HardwarePlant, Plant, SafeRelays};
use crate::clock::VirtualClock;
use crate::relay::{RelayOutputs, RelayRole};
use crate::sensor::SensorRole;
use crate::sim::{SimConfig, SimPlant};
use crate::w1::{FakeW1, W1Bank, W1Config};

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

/// A hardware plant of one w1 sensor (the collector at 42.5 °C, 750 ms conversions on
/// `clock`) with the simulated plant's relays standing in for GPIO.
fn hardware(clock: &VirtualClock) -> (HardwarePlant, crate::sim::SharedPlant) {
    let mut fake = FakeW1::new(
        crate::w1::DEFAULT_ROOT,
        clock.clone(),
        Duration::from_millis(750),
        false,
    );
    fake.set_sensor("28-000000000001", 42_500);
    let bank = W1Bank::new(
        fake,
        W1Config::new(vec![(SensorRole::Collector, "28-000000000001".into())]),
    );
    let relays = SimPlant::new(SimConfig::default()).into_shared();
    let plant = HardwarePlant::new(
        Box::new(bank),
        Box::new(clock.clone()),
        Box::new(relays.clone()),
        "fake w1; relays simulated",
    );
    (plant, relays)
}

#[test]
fn the_hardware_plant_sweeps_its_bank_and_its_advance_does_nothing() {
    let clock = VirtualClock::new();
    let (mut plant, _relays) = hardware(&clock);
    assert_eq!(plant.description(), "fake w1; relays simulated");
    assert_eq!(
        plant.advance(Timestamp::from_secs(3600)),
        Advance::default()
    );
    assert_eq!(clock.now(), Duration::ZERO, "advancing converts nothing");
    let sweep = plant.sweep();
    assert_eq!(sweep.get(SensorRole::Collector), Ok(42.5));
    assert_eq!(clock.now(), Duration::from_millis(750), "one conversion");
}

#[test]
fn the_hardware_plant_guards_its_relays() {
    let (mut plant, relays) = hardware(&VirtualClock::new());
    plant.relays().set(RelayRole::Heater, true).unwrap();
    assert!(relays.with(|p| p.state().heater));
    drop(plant);
    assert!(
        !relays.with(|p| p.state().heater),
        "OFF when the plant is dropped"
    );
}
