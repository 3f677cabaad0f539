//! Tests of the state JSON and the RFC 3339 formatter.

use std::time::Duration;

use heat_core::{
    Controller, Interlock, Mode, ParamError, Params, PendingSwitch, Reading, Readings, SensorFault,
    Timestamp,
};
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
    assert_eq!(v["pump"], OnOff::from(status.pump).as_str());
    assert_eq!(v["heater"], OnOff::from(status.heater).as_str());
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

/// Every document the controller publishes reads back as the same value: the tools' view
/// (deserialising) and the controller's (serialising) are one definition.
#[test]
fn the_state_reads_back_as_it_was_written() {
    let mut status = status_with(Readings {
        collector: Reading::Fault(SensorFault::Crc),
        tank_bottom: Reading::Value(40.0),
        tank_top: Reading::Value(50.0),
    });
    status.alarms.push(Alarm::StateFile);
    status.interlocks.push(Interlock::TankMax);
    status.pending.pump = Some(PendingSwitch {
        to: true,
        in_ms: 41_001,
    });
    let link = LinkInfo {
        connects: 3,
        commands_rejected: 2,
    };
    let state = StateJson::new(&status, link, at(1_714_564_800, 7));
    let back: StateJson = serde_json::from_str(&state.to_json().unwrap()).unwrap();
    assert_eq!(back, state);
    assert_eq!(
        back.pending[&Load::Pump],
        PendingJson {
            to: OnOff::On,
            in_s: 42
        }
    );
    assert!(back.has_alarm(Alarm::StateFile));
    assert!(back.has_alarm(Alarm::Sensor {
        sensor: Sensor::Collector,
        fault: SensorFault::Missing,
    }));
    assert!(!back.has_alarm(Alarm::BoilStop));
    assert_eq!(back.temperature(Sensor::Collector), None);
    assert_eq!(back.temperature(Sensor::TankTop), Some(50.0));
    assert_eq!(
        back.parameter(Parameter::TankMax),
        Some(status.params.get(Parameter::TankMax))
    );
}

/// The exact bytes Home Assistant's templates and existing dashboards read: a key renamed or
/// reordered by a type change shows here first.
#[test]
fn the_wire_format_is_pinned() {
    let mut status = status_with(Readings::celsius(60.0, 40.0, 50.0));
    status.alarms = vec![Alarm::Sensor {
        sensor: Sensor::TankTop,
        fault: SensorFault::PowerOnValue,
    }];
    status.pending.heater = Some(PendingSwitch {
        to: false,
        in_ms: 999,
    });
    let json = state_json(&status, LinkInfo::default(), UNIX_EPOCH).unwrap();
    let head = format!(
        r#"{{"time":"1970-01-01T00:00:00.000Z","mode":"auto","state":"{}","pump":"{}","heater":"{}","manual_pump":"OFF","manual_heater":"OFF","problem":"ON","temperatures":{{"collector":{{"value":60.0,"fault":null}},"tank_bottom":{{"value":40.0,"fault":null}},"tank_top":{{"value":50.0,"fault":null}}}},"alarms":[{{"alarm":"sensor","sensor":"tank_top","fault":"power_on_value"}}],"interlocks":[],"parameters":{{"dt_start":"#,
        status.state.as_str(),
        OnOff::from(status.pump),
        OnOff::from(status.heater),
    );
    assert!(json.starts_with(&head), "{json}");
    assert!(
        json.ends_with(r#""runtime":{"pump_hours":0.0,"pump_starts":1,"heater_hours":0.0,"heater_starts":1},"disinfection":{"running":false,"last_disinfection":null,"next_due":null},"holiday":{"end":null,"return_to":null},"pending":{"heater":{"to":"OFF","in_s":1}},"link":{"connects":0,"commands_rejected":0}}"#),
        "{json}"
    );
}

#[test]
fn a_state_from_an_older_or_foreign_writer_is_an_error_naming_the_key() {
    let error = serde_json::from_str::<StateJson>(r#"{"time":"x","mode":"turbo"}"#).unwrap_err();
    assert!(error.to_string().contains("turbo"), "{error}");
}

#[test]
fn answers_cut_long_topics_and_say_what_is_held_back() {
    let long = "t".repeat(MAX_ANSWER_TOPIC + 10);
    let a = Answer::new(&long, false, "r");
    assert_eq!(a.topic.chars().count(), MAX_ANSWER_TOPIC);
    let pending = Pending {
        pump: Some(PendingSwitch {
            to: true,
            in_ms: 1500,
        }),
        heater: None,
    };
    let a = Answer::new("p/pump/set", true, "accepted").with_pending(&pending);
    assert_eq!(a.reason, "accepted; pump switches ON in 2 s");
    let json = a.to_json().unwrap();
    assert_eq!(
        json,
        r#"{"topic":"p/pump/set","accepted":true,"reason":"accepted; pump switches ON in 2 s","pending":{"pump":{"to":"ON","in_s":2}}}"#
    );
    assert_eq!(serde_json::from_str::<Answer>(&json).unwrap(), a);
    let plain = Answer::new("p/mode/set", false, "no").to_json().unwrap();
    assert!(!plain.contains("pending"), "{plain}");
    assert_eq!(
        serde_json::from_str::<Answer>(&plain)
            .unwrap()
            .pending
            .len(),
        0
    );
}

#[test]
fn answers_render_the_controller_verdict() {
    let ok = Answer::from_outcome("p/mode/set", &Ok(CommandOutcome::Accepted));
    assert_eq!(
        ok.to_json().unwrap(),
        r#"{"topic":"p/mode/set","accepted":true,"reason":"accepted"}"#
    );
    let overridden = Answer::from_outcome(
        "p/pump/set",
        &Ok(CommandOutcome::AcceptedButOverridden {
            reason: Interlock::BoilStop,
        }),
    );
    assert!(overridden.accepted);
    assert!(
        overridden.reason.contains("boil stop"),
        "{}",
        overridden.reason
    );
    let refused = Answer::from_outcome(
        "p/pump/set",
        &Err(CommandError::NotManual {
            load: Load::Pump,
            mode: Mode::Auto,
        }),
    );
    assert!(!refused.accepted);
    assert_eq!(
        refused.reason,
        "pump commands need manual mode (mode is auto)"
    );
    let param = Answer::from_outcome(
        "p/dt_stop/set",
        &Err(CommandError::Param(ParamError::NotFinite {
            field: Parameter::DtStop.name(),
            value: f64::NAN,
        })),
    );
    assert!(
        !param.accepted && param.reason.contains("dt_stop"),
        "{}",
        param.reason
    );
}

#[test]
fn answer_topics_are_bounded_and_escaped() {
    let long = "x\"".repeat(200);
    let a = Answer::new(&long, false, "r");
    assert_eq!(a.topic.chars().count(), MAX_ANSWER_TOPIC);
    let v: serde_json::Value = serde_json::from_str(&a.to_json().unwrap()).unwrap();
    assert_eq!(
        v["topic"].as_str().unwrap().chars().count(),
        MAX_ANSWER_TOPIC
    );
}
