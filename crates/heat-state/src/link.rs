//! The MQTT link as the tools see it: the counters in the state JSON ([`LinkInfo`]) and the
//! session's events ([`LinkEvent`]), logged as one JSON object per line on
//! [`crate::log::LINK_TARGET`]. mqtt-auth's audit lines stay the security record of every
//! attempt; these are what the demo, the soak and the tests count.

use serde::{Deserialize, Serialize};

/// What the session adds about its own connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LinkInfo {
    /// Successful connections since the session started (1 on the first, then +1 per reconnect).
    pub connects: u64,
    /// Commands refused by validation or rate limiting since the session started.
    pub commands_rejected: u64,
}

/// One event of the MQTT session. Serialises as `{"kind": "<kind>", ...fields}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LinkEvent {
    /// Connected and announced: `online` published, subscriptions granted, discovery and state
    /// sent.
    Connected {
        /// The broker, `host:port`.
        broker: String,
        /// Whether the connection is TLS.
        tls: bool,
        /// The count of connections so far, this one included ([`LinkInfo::connects`]).
        connects: u64,
    },
    /// A connection attempt failed (the audit line has the details).
    ConnectFailed {
        /// mqtt-auth's class of the failure: `transient`, `auth_rejected`, `configuration`,
        /// `unknown`.
        class: String,
        /// Seconds until the next attempt.
        retry_in_s: f64,
    },
    /// The connection was lost.
    Lost {
        /// Why, as far as the client knows.
        reason: String,
    },
    /// Another client took this client id: the broker closed this connection because a
    /// second connection claimed the same id. Two processes share one client id.
    TakenOver {
        /// The client id both use.
        client_id: String,
        /// How it is known: `disconnect_0x8e` (MQTT 5's reason "session taken over") or
        /// `dropped_while_broker_accepts` (no reason given, as over MQTT 3.1.1 or from
        /// Mosquitto before 2.0.12: the broker dropped the connection, twice in a row soon after
        /// it was made, while it kept accepting new ones).
        evidence: String,
    },
    /// The credentials were read again from their sources (environment, password file, systemd
    /// credential) and the next attempt was made due at once.
    CredentialsReloaded {
        /// What asked for it: `sighup` or `file_changed`.
        trigger: String,
    },
    /// Reading the credentials again failed; the old ones stay (the error line says why and
    /// how to fix it).
    CredentialsReloadFailed {
        /// What asked for it: `sighup` or `file_changed`.
        trigger: String,
    },
}

impl LinkEvent {
    /// The stable snake_case name of the event's kind (the `kind` key of its JSON).
    pub const fn kind(&self) -> &'static str {
        match self {
            LinkEvent::Connected { .. } => "connected",
            LinkEvent::ConnectFailed { .. } => "connect_failed",
            LinkEvent::Lost { .. } => "lost",
            LinkEvent::TakenOver { .. } => "taken_over",
            LinkEvent::CredentialsReloaded { .. } => "credentials_reloaded",
            LinkEvent::CredentialsReloadFailed { .. } => "credentials_reload_failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_events_read_back_with_their_kind_first() {
        let events: [LinkEvent; 6] = [
            LinkEvent::Connected {
                broker: "127.0.0.1:8883".into(),
                tls: true,
                connects: 2,
            },
            LinkEvent::ConnectFailed {
                class: "auth_rejected".into(),
                retry_in_s: 30.0,
            },
            LinkEvent::Lost {
                reason: "connection lost".into(),
            },
            LinkEvent::TakenOver {
                client_id: "solar-heating".into(),
                evidence: "disconnect_0x8e".into(),
            },
            LinkEvent::CredentialsReloaded {
                trigger: "sighup".into(),
            },
            LinkEvent::CredentialsReloadFailed {
                trigger: "file_changed".into(),
            },
        ];
        for event in events {
            let json = serde_json::to_string(&event).unwrap();
            assert!(
                json.starts_with(&format!(r#"{{"kind":"{}""#, event.kind())),
                "{json}"
            );
            assert_eq!(serde_json::from_str::<LinkEvent>(&json).unwrap(), event);
        }
    }
}
