//! Tests of the state JSON and the RFC 3339 formatter.

use std::time::Duration;

use heat_core::{Controller, Interlock, Mode, Params, Reading, Readings, SensorFault, Timestamp};
use serde_json::Value;

use super::*;

fn status_with(readings: Readings) -> Status {
    let mut c = Controller::new(Params::default(), Timestamp::from_secs(0));
    c.step(Timestamp::from_secs(1), &readings);
    c.status()
}

fn at(secs: u64, millis: u32) -> SystemTime {
    UNIX_EPOCH + Duration::new(secs, millis * 1_000_000)
}

#[test]
fn rfc3339_known_values() {
    assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    assert_eq!(rfc3339(at(951_782_400, 5)), "2000-02-29T00:00:00.005Z");
    assert_eq!(rfc3339(at(1_714_564_800, 0)), "2024-05-01T12:00:00.000Z");
    assert_eq!(rfc3339(at(4_102_444_799, 999)), "2099-12-31T23:59:59.999Z");
    assert_eq!(
        rfc3339(UNIX_EPOCH - Duration::from_secs(5)),
        "1970-01-01T00:00:00.000Z"
    );
}

#[test]
fn healthy_plant() {
    let status = status_with(Readings::celsius(60.0, 40.0, 50.125));
    let link = LinkInfo {
        connects: 2,
        commands_rejected: 1,
    };
    let v: Value =
        serde_json::from_str(&state_json(&status, link, at(1_714_564_800, 0)).unwrap()).unwrap();
    assert_eq!(v["time"], "2024-05-01T12:00:00.000Z");
    assert_eq!(v["mode"], "auto");
    assert_eq!(v["state"], status.state.as_str());
    assert_eq!(v["pump"], on_off(status.pump));
    assert_eq!(v["heater"], on_off(status.heater));
    assert_eq!(v["manual_pump"], "OFF");
    assert_eq!(v["problem"], "OFF");
    assert_eq!(v["temperatures"]["collector"]["value"], 60.0);
    assert_eq!(v["temperatures"]["tank_top"]["value"], 50.13);
    assert_eq!(v["temperatures"]["tank_bottom"]["fault"], Value::Null);
    assert_eq!(v["alarms"], Value::Array(vec![]));
    for p in Parameter::ALL {
        assert_eq!(v["parameters"][p.name()], status.params.get(p), "{p}");
    }
    assert_eq!(v["energy"]["collected_kwh"], 0.0);
    assert_eq!(v["link"]["connects"], 2);
    assert_eq!(v["link"]["commands_rejected"], 1);
}

#[test]
fn faulted_sensor_is_null_with_its_fault_and_an_alarm() {
    let readings = Readings {
        collector: Reading::Fault(SensorFault::Disconnected),
        tank_bottom: Reading::Value(40.0),
        tank_top: Reading::Value(50.0),
    };
    let status = status_with(readings);
    let v: Value =
        serde_json::from_str(&state_json(&status, LinkInfo::default(), UNIX_EPOCH).unwrap())
            .unwrap();
    assert_eq!(v["temperatures"]["collector"]["value"], Value::Null);
    assert_eq!(v["temperatures"]["collector"]["fault"], "disconnected");
    assert_eq!(v["problem"], "ON");
    assert_eq!(v["alarms"][0]["alarm"], "sensor");
    assert_eq!(v["alarms"][0]["sensor"], "collector");
    assert_eq!(v["alarms"][0]["fault"], "disconnected");
    assert_eq!(v["pump"], "OFF");
}

#[test]
fn hand_built_status_with_every_alarm_and_non_finite_numbers() {
    let mut status = status_with(Readings::celsius(20.0, 20.0, 20.0));
    status.mode = Mode::Manual;
    status.alarms = vec![Alarm::BoilStop, Alarm::TankMax, Alarm::StateFile];
    status.interlocks = vec![Interlock::BoilStop];
    status.collector.value = Some(f64::NAN);
    status.energy.heater_kwh = f64::INFINITY;
    let json = state_json(&status, LinkInfo::default(), UNIX_EPOCH).unwrap();
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["mode"], "manual");
    assert_eq!(v["alarms"][0], serde_json::json!({"alarm": "boil_stop"}));
    assert_eq!(v["alarms"][1], serde_json::json!({"alarm": "tank_max"}));
    assert_eq!(v["alarms"][2], serde_json::json!({"alarm": "state_file"}));
    assert_eq!(v["interlocks"][0], "boil stop");
    assert_eq!(v["temperatures"]["collector"]["value"], Value::Null);
    assert!(v["energy"]["heater_kwh"].is_number(), "{json}");
}
