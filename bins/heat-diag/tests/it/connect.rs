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

#[test]
fn connect_leaves_the_controllers_own_connection_alone() {
    let broker = BrokerBuilder::new().user("diag", PASSWORD).start().unwrap();
    // The running controller: connected with the configured (here the default) client id.
    let controller_id = heat_config::DEFAULT_CLIENT_ID;
    let controller = test_mqtt::Watcher::new(
        &test_mqtt::settings("127.0.0.1", broker.port(), "diag", PASSWORD, controller_id),
        "it/#",
    );
    let out = run(broker.port(), PASSWORD, &["connect"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains(&format!("client id   {controller_id}-diag-connect-")),
        "{shown}"
    );
    let log = broker.log();
    assert!(
        log.contains(&format!(" as {controller_id}-diag-connect-")),
        "heat-diag connected with an id of its own:\n{log}"
    );
    assert!(
        !log.contains("already connected, closing old connection"),
        "a client was taken over:\n{log}"
    );
    // heat-diag's own connection and the probe's two attempts came and went; the controller's
    // is still the one it opened, and still works.
    assert_eq!(
        log.matches(&format!(" as {controller_id} (")).count(),
        1,
        "only the controller itself used its id:\n{log}"
    );
    controller.publish("it/still-here", b"yes");
    controller.wait_on("it/still-here", |m| m.payload == b"yes");
    assert!(
        !broker
            .log()
            .contains(&format!("Client {controller_id} disconnected")),
        "{}",
        broker.log()
    );
}
