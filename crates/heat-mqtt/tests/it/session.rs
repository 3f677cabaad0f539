//! The session against a real broker: announcement, commands, reconnects, rejection, shutdown.

use std::{sync::mpsc::Receiver, thread, time::Duration};

use heat_core::{Command, CommandOutcome, Mode, Parameter, Sensor};
use heat_mqtt::{Answer, StateJson};
use heat_mqtt::{
    Device, InboundCommand, LinkState, Session, SessionConfig, SessionHandle, Topics,
    discovery_messages,
};
use serde_json::Value;
use test_mqtt::{DEADLINE, Seen, Watcher, settings, wait_for};

use crate::{broker, ctl_settings, fast_retry, proxy::Proxy, status, watch};

const AVAILABILITY: &str = "solar_heating/availability";
const STATE: &str = "solar_heating/state";
const RESULT: &str = "solar_heating/result";

fn config() -> SessionConfig {
    SessionConfig::new(Topics::default(), Device::default()).with_retry(fast_retry())
}

/// Starts a session with a first state, and waits until it is connected (and so announced).
fn spawn(port: u16, collector: f64) -> (SessionHandle, Receiver<InboundCommand>) {
    let (handle, rx) = Session::spawn(config(), ctl_settings(port)).unwrap();
    handle.publish_state(status(collector));
    wait_for("the session to connect", || {
        handle.link() == LinkState::Connected
    });
    (handle, rx)
}

fn discovery_topics() -> Vec<String> {
    discovery_messages(&Topics::default(), &Device::default())
        .into_iter()
        .map(|m| m.topic)
        .collect()
}

fn state_json(m: &Seen) -> StateJson {
    serde_json::from_slice(&m.payload)
        .unwrap_or_else(|e| panic!("no StateJson ({e}): {}", m.text()))
}

/// The answers on the result topic so far, typed.
fn answers(w: &Watcher) -> Vec<Answer> {
    w.on(RESULT)
        .iter()
        .map(|m| {
            serde_json::from_slice(&m.payload)
                .unwrap_or_else(|e| panic!("no Answer ({e}): {}", m.text()))
        })
        .collect()
}

/// Waits for the retained availability, state and every discovery config, as a new subscriber
/// sees them.
fn assert_announced(port: u16, id: &str, collector: f64) -> Watcher {
    let w = watch(port, id);
    w.wait_on(AVAILABILITY, |m| m.retained && m.payload == b"online");
    let state = w.wait_on(STATE, |m| m.retained);
    let v = state_json(&state);
    assert_eq!(v.temperature(Sensor::Collector), Some(collector), "{v:?}");
    for topic in discovery_topics() {
        let m = w.wait_on(&topic, |m| m.retained);
        let config: Value = serde_json::from_slice(&m.payload).unwrap();
        assert_eq!(config["availability_topic"], AVAILABILITY, "{topic}");
        assert!(config["unique_id"].is_string(), "{topic}");
    }
    w
}

/// Receives the next command, waiting at most [`DEADLINE`].
fn next_command(rx: &Receiver<InboundCommand>) -> InboundCommand {
    rx.recv_timeout(DEADLINE).expect("a command")
}

#[test]
fn announces_online_state_and_discovery_then_offline_at_shutdown() {
    let broker = broker();
    let (handle, _rx) = spawn(broker.port(), 30.0);
    let w = assert_announced(broker.port(), "w-announce", 30.0);

    // A changed state is published at once.
    handle.publish_state(status(31.5));
    let m = w.wait_on(STATE, |m| {
        state_json(m).temperature(Sensor::Collector) == Some(31.5)
    });
    assert_eq!(state_json(&m).link.connects, 1);

    // Home Assistant restarting: a removed config comes back.
    let first = discovery_topics().remove(0);
    w.publish_retained(&first, b"");
    w.wait_on(&first, |m| m.payload.is_empty());
    let before = w.on(&first).len();
    w.publish("homeassistant/status", b"online");
    wait_for("discovery again after homeassistant/status online", || {
        w.on(&first)
            .iter()
            .skip(before)
            .any(|m| !m.payload.is_empty())
    });

    handle.shutdown(Duration::from_secs(2)).unwrap();
    w.wait_on(AVAILABILITY, |m| m.payload == b"offline");
    let late = watch(broker.port(), "w-late");
    late.wait_on(AVAILABILITY, |m| m.retained && m.payload == b"offline");
}

#[test]
fn commands_arrive_validated_and_every_one_is_answered() {
    let broker = broker();
    // A retained command, left on the broker before the controller subscribes, is stale.
    let w = watch(broker.port(), "w-commands");
    w.publish_retained("solar_heating/mode/set", b"off");
    let (handle, rx) = spawn(broker.port(), 20.0);
    wait_for("the retained command refused", || {
        answers(&w).iter().any(|a| a.reason.contains("retain"))
    });
    // The answer says how to clear it, with the actual topic.
    let retained = answers(&w)
        .into_iter()
        .find(|a| a.reason.contains("retain"))
        .unwrap();
    assert_eq!(retained.topic, "solar_heating/mode/set");
    assert!(!retained.accepted);
    let reason = retained.reason.as_str();
    assert!(
        reason.contains("mosquitto_pub -r -n -t 'solar_heating/mode/set'"),
        "{reason}"
    );
    // Clearing it is an empty command, refused too.
    w.publish_retained("solar_heating/mode/set", b"");
    wait_for("the empty command refused", || {
        answers(&w).iter().any(|a| a.reason.contains("empty"))
    });

    let good: [(&str, &[u8], Command); 4] = [
        (
            "solar_heating/mode/set",
            b"manual",
            Command::SetMode(Mode::Manual),
        ),
        ("solar_heating/pump/set", b"ON", Command::SetPump(true)),
        (
            "solar_heating/heater/set",
            b"OFF\n",
            Command::SetHeater(false),
        ),
        (
            "solar_heating/dt_start/set",
            b"9.5",
            Command::SetParameter(Parameter::DtStart, 9.5),
        ),
    ];
    for (topic, payload, expected) in good {
        w.publish(topic, payload);
        let cmd = next_command(&rx);
        assert_eq!(cmd.topic, topic);
        assert_eq!(cmd.command, expected);
        handle.report(
            &cmd,
            &Ok(CommandOutcome::Accepted),
            &heat_core::Pending::default(),
        );
    }
    wait_for("four accepted answers", || {
        answers(&w).iter().filter(|a| a.accepted).count() == 4
    });

    let oversized = vec![b'7'; 200];
    let bad: [(&str, &[u8], &str); 7] = [
        ("solar_heating/pump/set", &oversized, "bytes"),
        ("solar_heating/pump/set", b"O\xffN", "UTF-8"),
        ("solar_heating/mode/set", b"turbo", "unknown value"),
        ("solar_heating/dt_start/set", b"41", "outside"),
        ("solar_heating/dt_start/set", b"NaN", "not a plain decimal"),
        ("solar_heating/bogus/set", b"1", "unknown command topic"),
        ("solar_heating/boil_stop/set", b"152", "step"),
    ];
    for (topic, payload, reason) in bad {
        w.publish(topic, payload);
        wait_for(&format!("the answer to {topic} ({reason})"), || {
            answers(&w)
                .iter()
                .any(|a| a.topic == topic && !a.accepted && a.reason.contains(reason))
        });
    }
    // A flood: refused after the burst, answered once.
    let flood = 40;
    for _ in 0..flood {
        w.publish("solar_heating/heater/set", b"ON");
    }
    wait_for("a rate-limit answer", || {
        answers(&w).iter().any(|a| a.reason.contains("too many"))
    });
    // The flood's last message is handled after the answer to its first refusal: wait until
    // the session counted them all (answered or not) through the state's link info.
    handle.publish_state(status(20.0));
    wait_for("the state", || w.last_on(STATE).is_some());

    // Nothing bad reached the channel: only the flood's admitted heater commands are there.
    let admitted: Vec<InboundCommand> = rx.try_iter().collect();
    assert!(
        admitted
            .iter()
            .all(|c| c.command == Command::SetHeater(true)),
        "{admitted:?}"
    );
    assert!(admitted.len() < flood, "{} admitted", admitted.len());
    handle.shutdown(Duration::from_secs(2)).unwrap();
}

#[test]
fn reconnects_after_broker_restart_and_republishes_everything() {
    let mut broker = broker();
    let (handle, rx) = spawn(broker.port(), 25.0);
    let w = watch(broker.port(), "w-before");
    w.wait_on(STATE, |_| true);
    drop(w);

    broker.stop();
    wait_for("the session to notice", || {
        matches!(handle.link(), LinkState::Down { .. })
    });
    broker.restart().unwrap();
    wait_for("the session to reconnect", || {
        handle.link() == LinkState::Connected
    });

    // The broker keeps nothing (persistence false): all of it was published again.
    let w = assert_announced(broker.port(), "w-after", 25.0);
    assert_eq!(state_json(&w.last_on(STATE).unwrap()).link.connects, 2);
    // Subscribed again.
    w.publish("solar_heating/mode/set", b"eco");
    assert_eq!(next_command(&rx).command, Command::SetMode(Mode::Eco));
    handle.shutdown(Duration::from_secs(2)).unwrap();
}

#[test]
fn a_cut_link_shows_offline_through_the_will_then_online_again() {
    let broker = broker();
    let proxy = Proxy::start(broker.port());
    let (handle, rx) = Session::spawn(config(), ctl_settings(proxy.port())).unwrap();
    handle.publish_state(status(22.0));
    wait_for("the session to connect", || {
        handle.link() == LinkState::Connected
    });
    let w = watch(broker.port(), "w-cut");
    w.wait_on(AVAILABILITY, |m| m.payload == b"online");
    w.wait_on(STATE, |_| true);
    let states_before = w.on(STATE).len();

    proxy.cut();
    let offline = w.wait_on(AVAILABILITY, |m| m.payload == b"offline");
    assert!(!offline.text().is_empty());
    wait_for("online again", || {
        w.on(AVAILABILITY)
            .iter()
            .skip_while(|m| m.payload != b"offline")
            .any(|m| m.payload == b"online")
    });
    wait_for("the state again", || w.on(STATE).len() > states_before);
    w.publish("solar_heating/pump/set", b"OFF");
    assert_eq!(next_command(&rx).command, Command::SetPump(false));
    handle.shutdown(Duration::from_secs(2)).unwrap();
}

#[test]
fn rejected_credentials_are_reported_and_retried_slowly() {
    let broker = broker();
    let wrong = settings(
        "127.0.0.1",
        broker.port(),
        "ctl",
        "not-the-password-4Kx",
        "heat-ctl",
    );
    let (handle, rx) = Session::spawn(config().with_retry(Default::default()), wrong).unwrap();
    wait_for("the rejection", || {
        matches!(handle.link(), LinkState::Rejected { .. })
    });
    let LinkState::Rejected { reason, fix } = handle.link() else {
        unreachable!()
    };
    assert!(reason.contains("not authori"), "{reason}");
    assert!(!fix.is_empty());
    // The control loop is not held up.
    handle.publish_state(status(40.0));
    // Watch for 20 s: one attempt (the default policy waits at least 30 s after a rejection).
    thread::sleep(Duration::from_secs(20));
    let attempts = broker.connection_attempts();
    assert_eq!(attempts, 1, "{attempts} attempts in 20 s");
    assert!(rx.try_recv().is_err());
    handle.shutdown(Duration::from_secs(2)).unwrap();
}

/// Credentials the test hands out: `None` is a reload that fails.
#[derive(Clone)]
struct Handed(std::sync::Arc<std::sync::Mutex<Option<mqtt_auth::Credentials>>>);

impl heat_mqtt::CredentialSource for Handed {
    fn watched_file(&self) -> Option<std::path::PathBuf> {
        None
    }

    fn load(&self) -> Result<mqtt_auth::Credentials, String> {
        self.0
            .lock()
            .unwrap()
            .clone()
            .ok_or_else(|| "the test's password file is empty: write one".to_owned())
    }
}

fn wrong_settings(port: u16) -> mqtt_auth::BrokerSettings {
    settings("127.0.0.1", port, "ctl", "not-the-password-4Kx", "heat-ctl")
}

#[test]
fn a_reload_request_retries_at_once_and_a_failed_one_keeps_waiting() {
    let broker = broker();
    let port = broker.port();
    let handed = Handed(std::sync::Arc::default());
    let config = config()
        .with_retry(Default::default())
        .with_reloader(heat_mqtt::Reloader::new(handed.clone()));
    let (handle, _rx) = Session::spawn(config, wrong_settings(port)).unwrap();
    wait_for("the rejection", || {
        matches!(handle.link(), LinkState::Rejected { .. })
    });
    let trigger = handle.reload_trigger();
    // A reload that fails: nothing new to try, so no attempt (the next is 30 s away).
    trigger.request();
    thread::sleep(Duration::from_secs(2));
    assert_eq!(broker.connection_attempts(), 1);
    assert!(matches!(handle.link(), LinkState::Rejected { .. }));
    // The right credentials, then a request: connected at once.
    *handed.0.lock().unwrap() = Some(ctl_settings(port).credentials().clone());
    trigger.request();
    wait_for("connected with the reloaded credentials", || {
        handle.link() == LinkState::Connected
    });
    assert_eq!(broker.connection_attempts(), 2);
    handle.shutdown(Duration::from_secs(2)).unwrap();
}

/// Reads the password from a file the test rewrites.
struct FromFile(std::path::PathBuf);

impl heat_mqtt::CredentialSource for FromFile {
    fn watched_file(&self) -> Option<std::path::PathBuf> {
        Some(self.0.clone())
    }

    fn load(&self) -> Result<mqtt_auth::Credentials, String> {
        let text = std::fs::read_to_string(&self.0).map_err(|e| e.to_string())?;
        let password = secrecy::SecretString::from(text.trim_end().to_owned());
        mqtt_auth::Credentials::new(mqtt_auth::Username::new("ctl").unwrap(), password)
            .map_err(|e| e.to_string())
    }
}

#[test]
fn a_changed_password_file_is_retried_at_once_while_refused() {
    let broker = broker();
    let port = broker.port();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pw");
    std::fs::write(&file, "not-the-password-4Kx\n").unwrap();
    let config = config()
        .with_retry(Default::default())
        .with_reloader(heat_mqtt::Reloader::new(FromFile(file.clone())));
    let (handle, _rx) = Session::spawn(config, wrong_settings(port)).unwrap();
    wait_for("the rejection", || {
        matches!(handle.link(), LinkState::Rejected { .. })
    });
    std::fs::write(&file, format!("{}\n", crate::CTL_PASSWORD)).unwrap();
    // Within the first check (5 s), long before the schedule's 30 s.
    wait_for("connected after the file changed", || {
        handle.link() == LinkState::Connected
    });
    assert_eq!(broker.connection_attempts(), 2);
    handle.shutdown(Duration::from_secs(2)).unwrap();
}
