//! What the controller benches share: the broker's users and ACL, the test client, and the
//! controller process (release build, `--simulate`, probe off).

use std::{
    fs,
    path::Path,
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use mqtt_auth::{
    BrokerSettings, ClientId, Protocol,
    connect::{Identity, Incoming, MqttClient, connect, create_client},
};
use test_mosquitto::{Broker, BrokerBuilder};

/// Throwaway passwords of the benches' private brokers.
const CTL_PASSWORD: &str = "bench-ctl-Kq2Wm7Rz4Lp9";
const TESTER_PASSWORD: &str = "bench-tester-Vb6Ns1Hd8Fx3";
/// The deployment's ACL for the controller, and a test user who may do anything.
const ACL: &str = "user ctl\ntopic readwrite solar_heating/#\ntopic write homeassistant/+/solar_heating/#\n\
                   topic read homeassistant/status\n\nuser tester\ntopic readwrite #\n";
/// How long a bench waits for an expected message or exit before it fails.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// The test client's inbox.
pub(crate) type Inbox = crossbeam_channel::Receiver<Incoming>;

/// A message the test client received.
#[derive(Debug)]
pub(crate) struct Message {
    topic: String,
    payload: Vec<u8>,
    retained: bool,
}

impl Message {
    // Not every bench reads the topic (e2e subscribes to one topic at a time).
    #[allow(dead_code)]
    pub(crate) fn topic(&self) -> &str {
        &self.topic
    }

    pub(crate) fn payload(&self) -> &[u8] {
        &self.payload
    }

    pub(crate) fn retained(&self) -> bool {
        self.retained
    }
}

/// A private Mosquitto on 127.0.0.1 with `set_tcp_nodelay true`, the password file and the ACL.
pub(crate) fn broker() -> Broker {
    BrokerBuilder::new()
        .config_line("set_tcp_nodelay true")
        .user("ctl", CTL_PASSWORD)
        .user("tester", TESTER_PASSWORD)
        .acl(ACL)
        .start()
        .expect("mosquitto")
}

/// The test user's client (MQTT 3.1.1), connected, consuming into the returned inbox.
pub(crate) fn tester(port: u16, id: &str) -> (MqttClient, Inbox) {
    let s = BrokerSettings::new(
        "127.0.0.1",
        port,
        Protocol::V311,
        ClientId::new(id).unwrap(),
        test_mqtt::credentials("tester", TESTER_PASSWORD),
    );
    let client = create_client(&s).expect("client");
    let inbox = client.inbox().clone();
    connect(&client, &s, Identity::Configured, None).expect("connect");
    (client, inbox)
}

/// Receives until a message satisfies `pred`; returns when it arrived. Panics after `within`,
/// naming `what`.
pub(crate) fn recv_until(
    inbox: &Inbox,
    within: Duration,
    what: &str,
    mut pred: impl FnMut(&Message) -> bool,
) -> Instant {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match inbox.recv_timeout(left) {
            Ok(Incoming::Message {
                topic,
                payload,
                retained,
            }) => {
                let m = Message {
                    topic,
                    payload,
                    retained,
                };
                if pred(&m) {
                    return Instant::now();
                }
            }
            Ok(_) => {}
            Err(e) => panic!("no {what} within {within:?}: {e:?}"),
        }
    }
}

/// The controller process: release build, `--simulate`, user `ctl`, no anonymous probe.
pub(crate) struct Ctl {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Ctl {
    /// Starts the controller with client id `id`, control period `period_secs`, simulated time
    /// `scale`× real time, and `tables` (TOML, e.g. a `[control]` table; may be empty) after its
    /// `[controller]` table. Its output (`RUST_LOG=info`) is appended to `log`, or discarded.
    pub(crate) fn start(
        port: u16,
        id: &str,
        period_secs: u64,
        scale: u32,
        log: Option<&Path>,
        tables: &str,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("heat.toml");
        fs::write(
            &config,
            format!(
                "[controller]\nlock_file = \"{}\"\nperiod_secs = {period_secs}\n\
                 probe_anonymous = false\n{tables}",
                dir.path().join("lock").display()
            ),
        )
        .unwrap();
        let output = || match log {
            Some(path) => Stdio::from(
                fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .expect("controller log"),
            ),
            None => Stdio::null(),
        };
        let child = Command::new(env!("CARGO_BIN_EXE_heat-controller"))
            .env_clear()
            .current_dir(dir.path())
            .env("RUST_LOG", "info")
            .env("MQTT_BROKER", "127.0.0.1")
            .env("MQTT_PORT", port.to_string())
            .env("MQTT_CLIENT_ID", id)
            .env("MQTT_USERNAME", "ctl")
            .env("MQTT_PASSWORD", CTL_PASSWORD)
            .arg("--config")
            .arg(&config)
            .args(["--simulate", "--time-scale", &scale.to_string()])
            .stdin(Stdio::null())
            .stdout(output())
            .stderr(output())
            .spawn()
            .expect("heat-controller starts");
        Self { child, _dir: dir }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then SIGKILL if it has not exited within [`WAIT`].
    pub(crate) fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + WAIT;
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Ctl {
    fn drop(&mut self) {
        // A bench that panics must not leave the controller running.
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
