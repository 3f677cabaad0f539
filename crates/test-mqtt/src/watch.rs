//! A test client that subscribes and records every message it sees, with helpers that wait for
//! one.

use std::{
    sync::{Arc, Mutex},
    thread,
};

use mqtt_auth::{
    BrokerSettings, QoS,
    connect::{Identity, Incoming, MqttClient, Publish, connect, create_client},
};

use crate::wait_for;

/// One message as a [`Watcher`] saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The topic it came on.
    pub topic: String,
    /// Its payload.
    pub payload: Vec<u8>,
    /// Whether the broker delivered it as retained (a message stored before the subscription).
    pub retained: bool,
}

impl Seen {
    /// The payload as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }

    /// The payload as JSON, or `Null` when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.payload).unwrap_or(serde_json::Value::Null)
    }
}

/// A connected client, subscribed to a filter at QoS 1, that records every message it receives
/// in order; disconnects when dropped.
#[derive(Debug)]
pub struct Watcher {
    client: MqttClient,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Watcher {
    /// Connects with `settings` and subscribes to `filter`; panics when either fails.
    pub fn new(settings: &BrokerSettings, filter: &str) -> Self {
        let client = create_client(settings).unwrap();
        let inbox = client.inbox().clone();
        connect(&client, settings, Identity::Configured, None).unwrap();
        client
            .subscribe(&[filter.to_owned()], QoS::AtLeastOnce)
            .unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        thread::spawn(move || {
            for item in inbox.iter() {
                if let Incoming::Message {
                    topic,
                    payload,
                    retained,
                } = item
                {
                    sink.lock().unwrap().push(Seen {
                        topic,
                        payload,
                        retained,
                    });
                }
            }
        });
        Self { client, seen }
    }

    /// Every message so far, in the order received.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The messages so far on `topic`.
    pub fn on(&self, topic: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|m| m.topic == topic)
            .collect()
    }

    /// The latest message so far on `topic`.
    pub fn last_on(&self, topic: &str) -> Option<Seen> {
        self.on(topic).pop()
    }

    /// The payloads so far on `topic` that parse as JSON, parsed.
    pub fn json_on(&self, topic: &str) -> Vec<serde_json::Value> {
        self.on(topic)
            .iter()
            .filter_map(|m| serde_json::from_slice(&m.payload).ok())
            .collect()
    }

    /// Forgets every message so far.
    pub fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }

    /// Waits for a message on `topic` that satisfies `pred`, and returns it.
    pub fn wait_on(&self, topic: &str, pred: impl Fn(&Seen) -> bool) -> Seen {
        let mut found = None;
        wait_for(&format!("a matching message on {topic}"), || {
            found = self.on(topic).into_iter().find(&pred);
            found.is_some()
        });
        found.unwrap_or_else(|| unreachable!())
    }

    /// Waits for a message on `topic` whose JSON ([`Seen::json`]) satisfies `pred`, and returns
    /// that JSON.
    pub fn wait_json(
        &self,
        topic: &str,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        self.wait_on(topic, |m| pred(&m.json())).json()
    }

    /// Publishes `payload` on `topic` at QoS 1.
    pub fn publish(&self, topic: &str, payload: &[u8]) {
        self.client
            .publish(&Publish::new(topic, payload, QoS::AtLeastOnce, false))
            .unwrap();
    }

    /// Publishes `payload` on `topic` at QoS 1, retained.
    pub fn publish_retained(&self, topic: &str, payload: &[u8]) {
        self.client
            .publish(&Publish::new(topic, payload, QoS::AtLeastOnce, true))
            .unwrap();
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.client.disconnect();
    }
}
