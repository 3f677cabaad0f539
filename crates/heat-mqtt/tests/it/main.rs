//! Integration tests of heat-mqtt against a real Mosquitto on a random loopback port.
//!
//! Each test starts its own broker (test-mosquitto) with a password file and the ACL of the
//! deployment: the controller user `ctl` may use `solar_heating/#`, write `homeassistant/#` and
//! read `homeassistant/status`; the test user `tester` may do anything. The test client is a
//! plain paho client that records every message it sees.

mod proxy;
mod session;

use std::{
    sync::{Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

use heat_core::{Controller, Params, Readings, Status, Timestamp};
use mqtt_auth::{BrokerSettings, ClientId, Credentials, Protocol, RetryPolicy, Username};
use paho_mqtt as paho;
use secrecy::SecretString;
use test_mosquitto::{Broker, BrokerBuilder};

const CTL_PASSWORD: &str = "ctl-pw-Hq7Zr2Lm9Xw4";
const TESTER_PASSWORD: &str = "tester-pw-Nb3Vc8Kd1Fs6";

const ACL: &str = "\
user ctl
topic readwrite solar_heating/#
topic write homeassistant/#
topic read homeassistant/status

user tester
topic readwrite #
";

/// Generous: the machine is shared and noisy.
const DEADLINE: Duration = Duration::from_secs(30);

fn init_log() {
    let logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
            .is_test(true)
            .build();
    let level = logger.filter();
    let _ = mqtt_auth::logging::install(logger, level);
}

fn broker() -> Broker {
    init_log();
    BrokerBuilder::new()
        .user("ctl", CTL_PASSWORD)
        .user("tester", TESTER_PASSWORD)
        .acl(ACL)
        .start()
        .unwrap()
}

fn settings(port: u16, user: &str, password: &str, client_id: &str) -> BrokerSettings {
    let credentials = Credentials::new(
        Username::new(user).unwrap(),
        SecretString::from(password.to_owned()),
    )
    .unwrap();
    BrokerSettings::new(
        "127.0.0.1",
        port,
        Protocol::V311,
        ClientId::new(client_id).unwrap(),
        credentials,
    )
    .with_timing(Duration::from_secs(5), Duration::from_secs(5))
}

fn ctl_settings(port: u16) -> BrokerSettings {
    settings(port, "ctl", CTL_PASSWORD, "heat-ctl")
}

/// Reconnects quickly after a transient failure (tests restart brokers).
fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        transient_initial: Duration::from_secs(1),
        transient_max: Duration::from_secs(2),
        ..RetryPolicy::default()
    }
}

/// A controller status after one step with plain readings.
fn status(collector: f64) -> Status {
    let mut c = Controller::new(Params::default(), Timestamp::from_secs(0));
    c.step(
        Timestamp::from_secs(1),
        &Readings::celsius(collector, 40.0, 50.0),
    );
    c.status()
}

/// Waits until `cond` holds, polling; panics with `what` after [`DEADLINE`].
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// One message as the test client saw it.
#[derive(Debug, Clone)]
struct Seen {
    topic: String,
    payload: Vec<u8>,
    retained: bool,
}

impl Seen {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }
}

/// The test user's client: subscribed to `#`, recording everything.
struct Watcher {
    client: mqtt_auth::connect::MqttClient,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Watcher {
    fn new(port: u16, id: &str) -> Self {
        let s = settings(port, "tester", TESTER_PASSWORD, id);
        let client = mqtt_auth::connect::create_client(&s).unwrap();
        let inbox = client.start_consuming();
        mqtt_auth::connect::connect(&client, &s, mqtt_auth::connect::Identity::Configured, None)
            .unwrap();
        client.subscribe("#", 1).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        thread::spawn(move || {
            for msg in inbox.iter().flatten() {
                sink.lock().unwrap().push(Seen {
                    topic: msg.topic().to_owned(),
                    payload: msg.payload().to_vec(),
                    retained: msg.retained(),
                });
            }
        });
        Self { client, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn on(&self, topic: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|m| m.topic == topic)
            .collect()
    }

    fn last_on(&self, topic: &str) -> Option<Seen> {
        self.on(topic).pop()
    }

    /// Waits for a message on `topic` that satisfies `pred`, and returns it.
    fn wait_on(&self, topic: &str, pred: impl Fn(&Seen) -> bool) -> Seen {
        let mut found = None;
        wait_for(&format!("a matching message on {topic}"), || {
            found = self.on(topic).into_iter().find(&pred);
            found.is_some()
        });
        found.unwrap_or_else(|| unreachable!())
    }

    /// The answers on the result topic, parsed.
    fn answers(&self) -> Vec<serde_json::Value> {
        self.on("solar_heating/result")
            .iter()
            .filter_map(|m| serde_json::from_slice(&m.payload).ok())
            .collect()
    }

    fn publish(&self, topic: &str, payload: &[u8]) {
        self.client
            .publish(paho::Message::new(topic, payload.to_vec(), 1))
            .unwrap();
    }

    fn publish_retained(&self, topic: &str, payload: &[u8]) {
        self.client
            .publish(paho::Message::new_retained(topic, payload.to_vec(), 1))
            .unwrap();
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.client.disconnect(None);
    }
}
