//! Tests for the heat-hw → heat-core mapping and for applying outputs to relays.

use heat_core::{OperatingState, Output};

use super::*;
use crate::sim::{SimConfig, SimFault, SimPlant};

#[test]
fn every_sensor_error_maps_as_documented() {
    let table = [
        (SensorError::Missing, SensorFault::Missing),
        (SensorError::Crc, SensorFault::Crc),
        (SensorError::PowerOnValue, SensorFault::PowerOnValue),
        (SensorError::Disconnected, SensorFault::Disconnected),
        (SensorError::OutOfRange(130_000), SensorFault::OutOfRange),
        (SensorError::NotFinite, SensorFault::NotFinite),
        (SensorError::Timeout, SensorFault::Io),
        (SensorError::Malformed("x".into()), SensorFault::Io),
        (SensorError::Io("bus".into()), SensorFault::Io),
    ];
    for (error, fault) in table {
        assert_eq!(SensorFault::from(&error), fault, "{error:?}");
        assert_eq!(SensorFault::from(error), fault);
    }
}

#[test]
fn a_sweep_becomes_readings_and_absent_roles_are_missing() {
    let mut sweep = Sweep::new();
    sweep.insert(SensorRole::Collector, Ok(40.5));
    sweep.insert(SensorRole::TankTop, Err(SensorError::Crc));
    sweep.insert(SensorRole::Ambient, Ok(12.0));
    let r = sweep.to_readings();
    assert_eq!(r.collector, Reading::Value(40.5));
    assert_eq!(r.tank_bottom, Reading::Fault(SensorFault::Missing));
    assert_eq!(r.tank_top, Reading::Fault(SensorFault::Crc));
}

fn output(pump: bool, heater: bool) -> Output {
    Output {
        pump,
        heater,
        state: OperatingState::Standby,
        pump_interlock: None,
        heater_interlock: None,
        events: Vec::new(),
    }
}

#[test]
fn outputs_drive_the_relays_and_failures_are_returned() {
    let mut plant = SimPlant::new(SimConfig::default());
    assert!(apply_output(&mut plant, &output(true, true)).is_empty());
    assert_eq!(plant.get(RelayRole::Pump), Some(true));
    assert_eq!(plant.get(RelayRole::Heater), Some(true));

    plant.inject(SimFault::RelayWrite(RelayRole::Heater));
    let errors = apply_output(&mut plant, &output(false, false));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(matches!(
        errors[0],
        RelayError::Write {
            role: RelayRole::Heater,
            ..
        }
    ));
    // The pump still switched; the heater's state is unknown, as the trait documents.
    assert_eq!(plant.get(RelayRole::Pump), Some(false));
    assert_eq!(plant.get(RelayRole::Heater), None);
}
