//! Test support: MQTT clients for tests against a real broker (usually one from test-mosquitto).
//!
//! [`settings`] builds mqtt-auth's settings for a test broker's user; [`watch::Watcher`] is a
//! client that subscribes and records every message it sees, with helpers that wait for one;
//! [`wait_for`] is the polling wait they share.
//!
//! mqtt-auth's own tests do not use this crate: it depends on mqtt-auth, and a dev-dependency
//! back to it would give mqtt-auth's unit tests a second, distinct `mqtt_auth`.

pub mod watch;

use std::{
    thread,
    time::{Duration, Instant},
};

use mqtt_auth::{BrokerSettings, ClientId, Credentials, Protocol, Username};
use secrecy::SecretString;

pub use crate::watch::{Seen, Watcher};

/// How long [`wait_for`] waits. Generous: the machine is shared and noisy.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Waits until `cond` holds, polling; panics with `what` after [`DEADLINE`].
pub fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// The credentials of a test broker's user; panics on a name or password that mqtt-auth refuses
/// (the test's own mistake).
pub fn credentials(user: &str, password: &str) -> Credentials {
    Credentials::new(
        Username::new(user).unwrap(),
        SecretString::from(password.to_owned()),
    )
    .unwrap()
}

/// Settings for `user` as client `client_id` on the plain listener at `host:port`: MQTT 3.1.1,
/// keep-alive and connect timeout 5 s.
pub fn settings(
    host: &str,
    port: u16,
    user: &str,
    password: &str,
    client_id: &str,
) -> BrokerSettings {
    BrokerSettings::new(
        host,
        port,
        Protocol::V311,
        ClientId::new(client_id).unwrap(),
        credentials(user, password),
    )
    .with_timing(Duration::from_secs(5), Duration::from_secs(5))
}
