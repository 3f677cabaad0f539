//! Validated broker settings: everything needed to open one authenticated MQTT session.
//!
//! A value of these types is valid by construction; the loaders of each service (heat-config here)
//! turn their raw input into them and report errors in their own words.

use std::{fmt, path::PathBuf, str::FromStr, time::Duration};

use crate::credentials::Credentials;

/// The MQTT protocol version spoken on the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// MQTT 3.1.1 (protocol level 4).
    V311,
    /// MQTT 5.0 (protocol level 5).
    V5,
}

impl Protocol {
    /// The value paho-mqtt expects for `mqtt_version`.
    pub fn paho_version(self) -> u32 {
        match self {
            Protocol::V311 => paho_mqtt::MQTT_VERSION_3_1_1,
            Protocol::V5 => paho_mqtt::MQTT_VERSION_5,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::V311 => "3.1.1",
            Protocol::V5 => "5",
        })
    }
}

/// Error for a protocol version other than `3.1.1` or `5`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported MQTT version {0:?}: use \"3.1.1\" or \"5\"")]
pub struct ProtocolParseError(String);

impl FromStr for Protocol {
    type Err = ProtocolParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "3.1.1" | "311" | "4" => Ok(Protocol::V311),
            "5" | "5.0" => Ok(Protocol::V5),
            other => Err(ProtocolParseError(other.chars().take(32).collect())),
        }
    }
}

/// Longest client id accepted; MQTT 3.1.1 only guarantees 23, Mosquitto accepts far more.
pub const MAX_CLIENT_ID_LEN: usize = 64;

/// Why a client id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientIdError {
    /// Empty: the broker would invent one, and a new id on every connect breaks sessions.
    #[error("is empty; set a stable id such as \"solar-heating\"")]
    Empty,
    /// Longer than [`MAX_CLIENT_ID_LEN`].
    #[error("is {0} characters long; use at most {MAX_CLIENT_ID_LEN}")]
    TooLong(usize),
    /// Holds a character outside `A-Z a-z 0-9 - _ .`.
    #[error("contains {0:?}; use only letters, digits, '-', '_' and '.'")]
    BadChar(char),
}

/// A stable client id made only of characters every broker accepts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    /// Validates `value` as a client id.
    pub fn new(value: impl Into<String>) -> Result<Self, ClientIdError> {
        let value = value.into();
        if value.is_empty() {
            return Err(ClientIdError::Empty);
        }
        let len = value.chars().count();
        if len > MAX_CLIENT_ID_LEN {
            return Err(ClientIdError::TooLong(len));
        }
        if let Some(bad) = value
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(ClientIdError::BadChar(bad));
        }
        Ok(Self(value))
    }

    /// The id as sent to the broker.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the broker's certificate chain is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustAnchor {
    /// The operating system's CA store.
    SystemStore,
    /// A PEM file with the CA certificate(s) of a private CA.
    CaFile(PathBuf),
}

/// A client certificate and its private key (mutual TLS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificate {
    /// PEM certificate (chain) presented to the broker.
    pub cert_file: PathBuf,
    /// PEM private key; must not be readable by group or others.
    pub key_file: PathBuf,
}

/// Whether the broker's certificate is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Chain and hostname are verified: the default.
    Full,
    /// Nothing is verified. Only by explicit choice, and logged loudly on every connect.
    Insecure,
}

/// TLS settings for the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// What the server chain is checked against.
    pub trust: TrustAnchor,
    /// Client certificate for mutual TLS, if any.
    pub client_cert: Option<ClientCertificate>,
    /// Verification mode.
    pub verification: Verification,
}

impl TlsSettings {
    /// Verified TLS against `trust`, no client certificate.
    pub fn verified(trust: TrustAnchor) -> Self {
        Self {
            trust,
            client_cert: None,
            verification: Verification::Full,
        }
    }
}

/// Default MQTT keep-alive interval.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(30);
/// Default time allowed for TCP + TLS + CONNACK.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// What a blocking call waits beyond the connect timeout: Paho C checks its own connect timeout
/// only every 3 s, and a connect must fail there first.
const OPERATION_SLACK: Duration = Duration::from_secs(5);

/// Everything needed to open one authenticated session with one broker.
///
/// `Debug` never shows the password (see [`Credentials`]).
#[derive(Debug, Clone)]
pub struct BrokerSettings {
    host: String,
    port: u16,
    protocol: Protocol,
    client_id: ClientId,
    credentials: Credentials,
    tls: Option<TlsSettings>,
    keep_alive: Duration,
    connect_timeout: Duration,
}

impl BrokerSettings {
    /// Plain-TCP settings with default keep-alive and timeout; add TLS with [`Self::with_tls`].
    pub fn new(
        host: impl Into<String>,
        port: u16,
        protocol: Protocol,
        client_id: ClientId,
        credentials: Credentials,
    ) -> Self {
        Self {
            host: host.into(),
            port,
            protocol,
            client_id,
            credentials,
            tls: None,
            keep_alive: DEFAULT_KEEP_ALIVE,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }

    /// Turns TLS on (or off with `None`).
    pub fn with_tls(mut self, tls: Option<TlsSettings>) -> Self {
        self.tls = tls;
        self
    }

    /// Sets keep-alive and connect timeout.
    pub fn with_timing(mut self, keep_alive: Duration, connect_timeout: Duration) -> Self {
        self.keep_alive = keep_alive;
        self.connect_timeout = connect_timeout;
        self
    }

    /// Replaces the client id (the probe uses throwaway ids).
    pub fn with_client_id(mut self, client_id: ClientId) -> Self {
        self.client_id = client_id;
        self
    }

    /// Replaces the credentials (the probe tries a wrong password).
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Broker host name or address.
    pub fn host(&self) -> &str {
        &self.host
    }
    /// Broker port.
    pub fn port(&self) -> u16 {
        self.port
    }
    /// Protocol version.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }
    /// Stable client id.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }
    /// Username and password.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }
    /// TLS settings, `None` for plain TCP.
    pub fn tls(&self) -> Option<&TlsSettings> {
        self.tls.as_ref()
    }
    /// Keep-alive interval.
    pub fn keep_alive(&self) -> Duration {
        self.keep_alive
    }
    /// Time allowed for one connection attempt.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }
    /// The longest any blocking call of a client from
    /// [`create_client`](crate::connect::create_client) waits: connect, publish, subscribe,
    /// disconnect. The connect timeout plus 5 s (15 s by default).
    pub fn operation_timeout(&self) -> Duration {
        self.connect_timeout + OPERATION_SLACK
    }

    /// The server URI paho-mqtt expects: `tcp://` or `ssl://`, IPv6 literals bracketed.
    pub fn server_uri(&self) -> String {
        let scheme = if self.tls.is_some() { "ssl" } else { "tcp" };
        format!("{scheme}://{}", self.broker_addr())
    }

    /// `host:port`, as the audit log names the broker.
    pub fn broker_addr(&self) -> String {
        format!("{}:{}", self.bracketed_host(), self.port)
    }

    fn bracketed_host(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;
    use crate::credentials::Username;

    #[test]
    fn protocol_parses_only_known_versions() {
        assert_eq!("3.1.1".parse::<Protocol>(), Ok(Protocol::V311));
        assert_eq!("5".parse::<Protocol>(), Ok(Protocol::V5));
        assert!("3.1".parse::<Protocol>().is_err());
        assert!("".parse::<Protocol>().is_err());
    }

    #[test]
    fn client_id_rules() {
        assert!(ClientId::new("solar-heating_1.0").is_ok());
        assert_eq!(ClientId::new(""), Err(ClientIdError::Empty));
        assert_eq!(ClientId::new("a/b"), Err(ClientIdError::BadChar('/')));
        assert_eq!(ClientId::new("a b"), Err(ClientIdError::BadChar(' ')));
        assert_eq!(
            ClientId::new("x".repeat(65)),
            Err(ClientIdError::TooLong(65))
        );
    }

    #[test]
    fn server_uri_brackets_ipv6_and_picks_scheme() {
        let creds = Credentials::new(
            Username::new("u1").unwrap(),
            SecretString::from("a-long-enough-password".to_owned()),
        )
        .unwrap();
        let s = BrokerSettings::new(
            "::1",
            1883,
            Protocol::V5,
            ClientId::new("c").unwrap(),
            creds,
        );
        assert_eq!(s.server_uri(), "tcp://[::1]:1883");
        assert_eq!(s.broker_addr(), "[::1]:1883");
        let s = s.with_tls(Some(TlsSettings::verified(TrustAnchor::SystemStore)));
        assert_eq!(s.server_uri(), "ssl://[::1]:1883");
        assert!(!format!("{s:?}").contains("a-long-enough-password"));
    }
}
