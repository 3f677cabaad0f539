//! `heat-diag connect` against a real Mosquitto.

use std::time::Instant;

use test_mosquitto::BrokerBuilder;

use crate::{heat_diag, text};

const PASSWORD: &str = "connect-secret-Hq4Rt8Yn2Vb6";

fn env(port: u16, password: &str) -> Vec<(&'static str, String)> {
    vec![
        ("MQTT_BROKER", "127.0.0.1".to_owned()),
        ("MQTT_PORT", port.to_string()),
        ("MQTT_USERNAME", "diag".to_owned()),
        ("MQTT_PASSWORD", password.to_owned()),
        ("MQTT_VERSION", "5".to_owned()),
        ("RUST_LOG", "trace".to_owned()),
    ]
}

fn run(port: u16, password: &str, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let env = env(port, password);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    heat_diag(dir.path(), args, &env)
}

#[test]
fn connect_prints_connack_audit_and_probe_without_the_password() {
    let broker = BrokerBuilder::new().user("diag", PASSWORD).start().unwrap();
    let out = run(broker.port(), PASSWORD, &["connect"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("CONNACK     0x00"), "{shown}");
    assert!(shown.contains("user=diag"), "{shown}");
    assert!(shown.contains("verdict     secure"), "{shown}");
    assert!(
        !shown.contains(PASSWORD),
        "password in output at RUST_LOG=trace"
    );
    assert!(
        !broker.log().contains(PASSWORD),
        "password in the broker log"
    );
}

#[test]
fn open_broker_is_reported_insecure_with_exit_1() {
    let broker = BrokerBuilder::new()
        .user("diag", PASSWORD)
        .allow_anonymous(true)
        .start()
        .unwrap();
    let out = run(broker.port(), PASSWORD, &["connect"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("INSECURE"), "{shown}");
}

#[test]
fn auth_rejection_is_not_retried_within_20_seconds() {
    let broker = BrokerBuilder::new().user("diag", PASSWORD).start().unwrap();
    let wrong = "wrong-secret-Jm3Kd9Fs1Qa7";
    let started = Instant::now();
    let out = run(
        broker.port(),
        wrong,
        &["connect", "--no-probe", "--retry-for", "20"],
    );
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        started.elapsed().as_secs() >= 20,
        "the window was waited out"
    );
    let attempts = broker.connection_attempts();
    assert!(
        (1..=2).contains(&attempts),
        "broker saw {attempts} attempts in 20 s:\n{}",
        broker.log()
    );
    assert!(shown.contains("auth_rejected"), "{shown}");
    assert!(
        shown.contains("MQTT_PASSWORD"),
        "the fix names the variable: {shown}"
    );
    assert!(!shown.contains(wrong), "password in output");
}
