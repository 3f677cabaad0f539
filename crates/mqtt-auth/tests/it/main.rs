//! Integration tests of mqtt-auth against a real Mosquitto on a random loopback port.
//!
//! Every test starts its own broker (test-mosquitto) with its own password file and certificates.
//! All log records of this process are captured, at trace level, so that tests can assert that
//! no password ever reaches the log.

mod connect;
mod operations;
mod probe;
mod tls;

use std::sync::{Mutex, OnceLock};

use log::{LevelFilter, Log, Metadata, Record};
use mqtt_auth::{BrokerSettings, ClientId, Credentials, Protocol, Username};
use secrecy::SecretString;

/// Everything logged in this test process.
struct Capture(Mutex<Vec<String>>);

impl Log for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &Record<'_>) {
        let line = format!("{} {} {}", record.level(), record.target(), record.args());
        self.0.lock().unwrap().push(line);
    }
    fn flush(&self) {}
}

static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();

/// Installs the capturing logger (capped like the binaries') at trace level, once.
fn capture() -> &'static Capture {
    CAPTURE.get_or_init(|| {
        let capture: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        struct Forward(&'static Capture);
        impl Log for Forward {
            fn enabled(&self, m: &Metadata<'_>) -> bool {
                self.0.enabled(m)
            }
            fn log(&self, r: &Record<'_>) {
                self.0.log(r)
            }
            fn flush(&self) {}
        }
        mqtt_auth::logging::install(Forward(capture), LevelFilter::Trace).unwrap();
        capture
    })
}

/// Log lines captured so far that mention `needle`.
fn logged_lines_with(needle: &str) -> Vec<String> {
    capture()
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains(needle))
        .cloned()
        .collect()
}

/// A distinct password per test, long and unusual enough to be searched for in logs.
fn password(tag: &str) -> String {
    format!("pw-{tag}-Zq8xV3kR7mT2")
}

fn settings(port: u16, protocol: Protocol, user: &str, password: &str) -> BrokerSettings {
    capture();
    let credentials = Credentials::new(
        Username::new(user).unwrap(),
        SecretString::from(password.to_owned()),
    )
    .unwrap();
    BrokerSettings::new(
        "127.0.0.1",
        port,
        protocol,
        ClientId::new(format!("it-{user}")).unwrap(),
        credentials,
    )
}

const PROTOCOLS: [Protocol; 2] = [Protocol::V311, Protocol::V5];
