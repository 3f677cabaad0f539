//! Integration tests of heat-mqtt against a real Mosquitto on a random loopback port.
//!
//! Each test starts its own broker (test-mosquitto) with a password file and the ACL of the
//! deployment: the controller user `ctl` may use `solar_heating/#`, write only its own
//! discovery configs `homeassistant/+/solar_heating/#` and read `homeassistant/status`; the test
//! user `tester` may do anything. The test client is
//! test-mqtt's `Watcher` as `tester`, which records every message it sees.

mod proxy;
mod session;

use std::time::Duration;

use heat_core::{Controller, Params, Readings, Status, Timestamp};
use mqtt_auth::{BrokerSettings, RetryPolicy};
use test_mosquitto::{Broker, BrokerBuilder};
use test_mqtt::{Watcher, settings};

const CTL_PASSWORD: &str = "ctl-pw-Hq7Zr2Lm9Xw4";
const TESTER_PASSWORD: &str = "tester-pw-Nb3Vc8Kd1Fs6";

const ACL: &str = "\
user ctl
topic readwrite solar_heating/#
topic write homeassistant/+/solar_heating/#
topic read homeassistant/status

user tester
topic readwrite #
";

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

fn ctl_settings(port: u16) -> BrokerSettings {
    settings("127.0.0.1", port, "ctl", CTL_PASSWORD, "heat-ctl")
}

/// The test user's client: subscribed to `#`, recording everything.
fn watch(port: u16, id: &str) -> Watcher {
    let settings = settings("127.0.0.1", port, "tester", TESTER_PASSWORD, id);
    Watcher::new(&settings, "#")
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
