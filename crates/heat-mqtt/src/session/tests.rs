//! Unit tests of the session's pure pieces: answers and configuration. The session itself is
//! tested against a real Mosquitto in `tests/it`.

use heat_core::{Interlock, Load, Mode, ParamError, Parameter};

use super::*;

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

#[test]
fn config_clamps_degenerate_values() {
    let c = SessionConfig::new(Topics::default(), Device::default())
        .with_heartbeat(Duration::ZERO)
        .with_command_capacity(0);
    assert_eq!(c.heartbeat, Duration::from_secs(1));
    assert_eq!(c.command_capacity, 1);
    assert!(c.discovery);
    assert_eq!(c.topics().prefix(), "solar_heating");
}
