//! The broker, the controller process and the test user's recording client (test-mqtt's
//! `Watcher`).

use std::{
    fs::File,
    io::{BufRead, BufReader, Read},
    path::PathBuf,
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

use heat_loop::LoopEvent;
use heat_state::{
    Answer, LinkEvent, StateJson, TimingJson,
    log::{EVENT_TARGET, LINK_TARGET, TIMING_TARGET, records, records_strict},
};
use mqtt_auth::BrokerSettings;
use serde::de::DeserializeOwned;
use test_mosquitto::{Broker, BrokerBuilder};
pub(crate) use test_mqtt::{DEADLINE, Seen, Watcher, wait_for};

pub(crate) const CTL_PASSWORD: &str = "ctl-pw-Hq7Zr2Lm9Xw4Tp";
pub(crate) const TESTER_PASSWORD: &str = "tester-pw-Nb3Vc8Kd1Fs6";

pub(crate) const ACL: &str = "\
user ctl
topic readwrite solar_heating/#
topic write homeassistant/+/solar_heating/#
topic read homeassistant/status

user tester
topic readwrite #
";

pub(crate) const STATE: &str = "solar_heating/state";
pub(crate) const AVAILABILITY: &str = "solar_heating/availability";
pub(crate) const RESULT: &str = "solar_heating/result";

pub(crate) fn broker() -> Broker {
    BrokerBuilder::new()
        .user("ctl", CTL_PASSWORD)
        .user("tester", TESTER_PASSWORD)
        .acl(ACL)
        .start()
        .unwrap()
}

/// How to start the controller.
pub(crate) struct Spec {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) username: Option<&'static str>,
    pub(crate) password: Option<&'static str>,
    pub(crate) toml: String,
    pub(crate) args: Vec<String>,
    pub(crate) rust_log: &'static str,
    /// More environment variables (`NOTIFY_SOCKET`, `JOURNAL_STREAM`, ...).
    pub(crate) env: Vec<(&'static str, String)>,
    /// The relay journal, when a test must know its path before the start (default: in the
    /// controller's temp dir).
    pub(crate) journal: Option<PathBuf>,
    /// A file for stderr instead of the collected pipe (then `output()` holds stdout only).
    pub(crate) stderr: Option<PathBuf>,
}

impl Spec {
    /// `ctl` with its password, a 1 s period at 50× (a tick every 20 ms real), no probe.
    pub(crate) fn new(port: u16) -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port,
            username: Some("ctl"),
            password: Some(CTL_PASSWORD),
            toml: "[controller]\nperiod_secs = 1\nheartbeat_secs = 5\nprobe_anonymous = false\n"
                .to_owned(),
            args: vec!["--time-scale".into(), "50".into()],
            rust_log: "info",
            env: Vec::new(),
            journal: None,
            stderr: None,
        }
    }
}

/// The controller process, with its stdout and stderr collected.
pub(crate) struct Controller {
    child: Option<Child>,
    output: Arc<Mutex<String>>,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) journal: PathBuf,
}

fn collect(stream: impl Read + Send + 'static, sink: Arc<Mutex<String>>) {
    thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        loop {
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    // Shown in the output the test asserts on, rather than a silent truncation.
                    let note = format!("[harness: reading the controller's output failed: {e}]\n");
                    sink.lock().unwrap().push_str(&note);
                    break;
                }
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&line));
            line.clear();
        }
    });
}

impl Controller {
    pub(crate) fn start(spec: &Spec) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("lock");
        let toml = format!(
            "[controller]\nlock_file = \"{}\"\n{}",
            lock.display(),
            spec.toml.replacen("[controller]\n", "", 1)
        );
        let config = dir.path().join("heat.toml");
        std::fs::write(&config, toml).unwrap();
        let journal = spec
            .journal
            .clone()
            .unwrap_or_else(|| dir.path().join("relays.journal"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_heat-controller"));
        cmd.env_clear()
            .current_dir(dir.path())
            .env("RUST_LOG", spec.rust_log)
            .env("MQTT_BROKER", &spec.host)
            .env("MQTT_PORT", spec.port.to_string())
            .env("MQTT_CLIENT_ID", "heat-ctl-under-test")
            .arg("--config")
            .arg(&config)
            .arg("--simulate")
            .arg("--relay-journal")
            .arg(&journal)
            .args(&spec.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(match &spec.stderr {
                Some(path) => Stdio::from(File::create(path).unwrap()),
                None => Stdio::piped(),
            });
        cmd.envs(spec.env.iter().map(|(k, v)| (k, v)));
        if let Some(u) = spec.username {
            cmd.env("MQTT_USERNAME", u);
        }
        if let Some(p) = spec.password {
            cmd.env("MQTT_PASSWORD", p);
        }
        let mut child = cmd.spawn().unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        collect(child.stdout.take().unwrap(), Arc::clone(&output));
        if let Some(stderr) = child.stderr.take() {
            collect(stderr, Arc::clone(&output));
        }
        Self {
            child: Some(child),
            output,
            dir,
            journal,
        }
    }

    pub(crate) fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits for a record on `target` that satisfies `pred`, read as a `T` (heat-state's typed
    /// log reading; a record that is no `T` fails the test at once). `what` names it on timeout.
    fn wait_record<T: DeserializeOwned>(
        &self,
        target: &str,
        what: &str,
        pred: impl Fn(&T) -> bool,
    ) -> T {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let output = self.output();
            for record in records_strict::<T>(&output, target) {
                match record {
                    Ok(r) if pred(&r) => return r,
                    Ok(_) => {}
                    Err(e) => panic!("{e}"),
                }
            }
            if Instant::now() >= deadline {
                let lines: Vec<&str> = output.lines().collect();
                let tail = lines[lines.len().saturating_sub(40)..].join("\n");
                panic!("timed out waiting for {what} on {target}; the log's tail:\n{tail}");
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for a plant event (heat-loop's [`LoopEvent`]) that satisfies `pred`.
    pub(crate) fn wait_event(&self, what: &str, pred: impl Fn(&LoopEvent) -> bool) -> LoopEvent {
        self.wait_record(EVENT_TARGET, what, pred)
    }

    /// Waits for a link event (heat-state's [`LinkEvent`]) that satisfies `pred`.
    pub(crate) fn wait_link(&self, what: &str, pred: impl Fn(&LinkEvent) -> bool) -> LinkEvent {
        self.wait_record(LINK_TARGET, what, pred)
    }

    /// The link events logged so far.
    pub(crate) fn records_on_link(&self) -> Vec<LinkEvent> {
        records::<LinkEvent>(&self.output(), LINK_TARGET).collect()
    }

    /// Connections made so far: the session's `connected` link events.
    pub(crate) fn connections(&self) -> u64 {
        self.records_on_link()
            .iter()
            .filter(|e| matches!(e, LinkEvent::Connected { .. }))
            .count() as u64
    }

    /// Whether a link event that satisfies `pred` has been logged yet.
    pub(crate) fn has_link(&self, pred: impl Fn(&LinkEvent) -> bool) -> bool {
        self.records_on_link().iter().any(pred)
    }

    /// Waits until the session has connected `n` times.
    pub(crate) fn wait_connected(&self, n: u64) {
        self.wait_link(
            &format!("connection #{n}"),
            |e| matches!(e, LinkEvent::Connected { connects, .. } if *connects == n),
        );
    }

    /// Waits for a simulated fault starting with `fault` (`--sim-faults` syntax) to be
    /// injected (`injected`) or cleared.
    pub(crate) fn wait_sim_fault(&self, fault: &str, injected: bool) {
        let what = format!(
            "simulated fault {fault} {}",
            if injected { "injected" } else { "cleared" }
        );
        self.wait_event(&what, |e| match e {
            LoopEvent::SimFaultInjected { fault: f } => injected && f.starts_with(fault),
            LoopEvent::SimFaultCleared { fault: f } => !injected && f.starts_with(fault),
            _ => false,
        });
    }

    /// The last timing report the loop logged.
    pub(crate) fn last_timing(&self) -> Option<TimingJson> {
        records::<TimingJson>(&self.output(), TIMING_TARGET).last()
    }

    pub(crate) fn journal(&self) -> String {
        std::fs::read_to_string(&self.journal).unwrap_or_default()
    }

    /// True while the process has not exited.
    pub(crate) fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    pub(crate) fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{sig} failed");
    }

    /// Waits for the exit (within [`DEADLINE`]); returns the status and the time it took.
    pub(crate) fn wait_exit(&mut self) -> (ExitStatus, Duration) {
        let since = Instant::now();
        let child = self.child.as_mut().unwrap();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                // Let the readers drain the pipes.
                thread::sleep(Duration::from_millis(50));
                self.child = None;
                return (status, since.elapsed());
            }
            assert!(since.elapsed() < DEADLINE, "the controller did not exit");
            thread::sleep(Duration::from_millis(5));
        }
    }

    pub(crate) fn lock_path(&self) -> PathBuf {
        self.dir.path().join("lock")
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The test user's settings for a broker at `host`.
pub(crate) fn tester_settings_at(host: &str, port: u16, id: &str) -> BrokerSettings {
    test_mqtt::settings(host, port, "tester", TESTER_PASSWORD, id)
}

/// The test user's client: subscribed to `filter`, recording everything.
pub(crate) fn watch(port: u16, id: &str, filter: &str) -> Watcher {
    watch_at("127.0.0.1", port, id, filter)
}

/// [`watch`] on a broker at `host`.
pub(crate) fn watch_at(host: &str, port: u16, id: &str, filter: &str) -> Watcher {
    Watcher::new(&tester_settings_at(host, port, id), filter)
}

/// What the controller publishes, as a [`Watcher`] sees it.
pub(crate) trait ControllerWatch {
    /// Waits for a state that satisfies `pred`, read as heat-state's [`StateJson`] (a state
    /// message that is no `StateJson` fails the test).
    fn wait_state(&self, pred: impl Fn(&StateJson) -> bool) -> StateJson;

    /// Waits for an answer to a command on `topic` (the first one seen since the start or the
    /// last [`Watcher::clear`]), read as heat-state's [`Answer`].
    fn wait_answer(&self, topic: &str) -> Answer;

    /// Every state seen so far, typed.
    fn states(&self) -> Vec<StateJson>;
}

/// `m`'s payload as a `T`; a payload that is no `T` fails the test, naming it.
pub(crate) fn typed<T: DeserializeOwned>(m: &Seen) -> T {
    serde_json::from_slice(&m.payload).unwrap_or_else(|e| {
        panic!(
            "a message on {} is not the controller's document ({e}): {}",
            m.topic,
            m.text()
        )
    })
}

impl ControllerWatch for Watcher {
    fn wait_state(&self, pred: impl Fn(&StateJson) -> bool) -> StateJson {
        // An empty payload is a test clearing the retained state (the controller never
        // publishes one), not a state.
        typed(&self.wait_on(STATE, |m| !m.payload.is_empty() && pred(&typed(m))))
    }

    fn wait_answer(&self, topic: &str) -> Answer {
        typed(&self.wait_on(RESULT, |m| typed::<Answer>(m).topic == topic))
    }

    fn states(&self) -> Vec<StateJson> {
        self.on(STATE)
            .iter()
            .filter(|m| !m.payload.is_empty())
            .map(typed)
            .collect()
    }
}

/// Reads one retained message from a fresh subscription (what a newcomer would see).
pub(crate) fn retained(port: u16, id: &str, topic: &str) -> Option<Seen> {
    retained_at("127.0.0.1", port, id, topic)
}

/// [`retained`] from a broker at `host`.
pub(crate) fn retained_at(host: &str, port: u16, id: &str, topic: &str) -> Option<Seen> {
    let w = watch_at(host, port, id, topic);
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if let Some(m) = w.on(topic).into_iter().find(|m| m.retained) {
            return Some(m);
        }
        thread::sleep(Duration::from_millis(20));
    }
    None
}
