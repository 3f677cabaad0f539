//! CONNACK return codes (MQTT 3.1.1) and reason codes (MQTT 5): a total decode of every byte.
//!
//! Every byte of both protocol versions maps to a name, a human reason, a [`Severity`] and a
//! [`Class`]; unassigned bytes decode to an explicit `"Reserved"` entry. Nothing here panics and
//! nothing falls back to a silent default (style model: rumqttc `mqttbytes/v4/connack.rs`).
//!
//! # Classification
//!
//! MQTT 3.1.1 (decimal):
//!
//! | byte   | name                        | class           |
//! |--------|-----------------------------|-----------------|
//! | 0      | Accepted                    | accepted        |
//! | 1      | UnacceptableProtocolVersion | configuration   |
//! | 2      | IdentifierRejected          | configuration   |
//! | 3      | ServerUnavailable           | transient       |
//! | 4      | BadUserNameOrPassword       | auth_rejected   |
//! | 5      | NotAuthorized               | auth_rejected   |
//! | 6..255 | Reserved                    | unknown         |
//!
//! MQTT 5 (hex), codes a CONNACK may carry:
//!
//! | class         | codes                                                                      |
//! |---------------|----------------------------------------------------------------------------|
//! | accepted      | 0x00                                                                       |
//! | auth_rejected | 0x86 bad user name or password, 0x87 not authorized, 0x8A banned, 0x8C bad authentication method |
//! | transient     | 0x80 unspecified error, 0x88 server unavailable, 0x89 server busy, 0x97 quota exceeded, 0x9C use another server, 0x9F connection rate exceeded |
//! | configuration | 0x81, 0x82, 0x84, 0x85, 0x90, 0x95, 0x99, 0x9A, 0x9B, 0x9D server moved |
//! | unknown       | 0x83 implementation specific error                                         |
//!
//! Decisions on the debatable codes:
//! - 0x80 *unspecified error* is **transient**: the broker chose not to say why, and retrying with
//!   the short backoff is harmless (it is capped at one attempt a minute).
//! - 0x83 *implementation specific error* is **unknown**: only the broker's own documentation can
//!   say what it means. It is retried like a transient failure but logged as an error.
//! - 0x9C *use another server* is **transient** (MQTT 5 §4.11: the client should use another server
//!   *temporarily*); 0x9D *server moved* is **configuration** (permanent: change the broker address).
//! - Every code that is a valid MQTT 5 reason code but is not allowed in a CONNACK (0x01, 0x02,
//!   0x04, 0x10, 0x11, 0x18, 0x19, 0x8B, 0x8D, 0x8E, 0x8F, 0x91–0x94, 0x96, 0x98, 0x9E, 0xA0–0xA2)
//!   keeps its name but is **unknown**: receiving one means the peer does not speak MQTT 5 as
//!   expected, which no local setting is known to fix.
//! - Every unassigned byte is named `"Reserved"` and is **unknown** with severity error.

use std::fmt;

use crate::Protocol;

/// What a connection outcome means for the caller: retry soon, retry slowly, or stop and tell the
/// operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Class {
    /// The broker accepted the connection.
    Accepted,
    /// The broker refused the credentials or this client (bad password, not authorised, banned).
    /// Retrying with the same credentials will fail again.
    AuthRejected,
    /// A condition that is expected to clear by itself (broker busy, network down, timeout).
    Transient,
    /// A local setting is wrong (protocol version, client id, TLS trust, options) and must be fixed.
    Configuration,
    /// The outcome could not be interpreted (reserved or out-of-context code, unexplained failure).
    Unknown,
}

impl Class {
    /// Every class, in declaration order.
    pub const ALL: [Class; 5] = [
        Class::Accepted,
        Class::AuthRejected,
        Class::Transient,
        Class::Configuration,
        Class::Unknown,
    ];

    /// The stable lower-case name used in logs: `accepted`, `auth_rejected`, `transient`,
    /// `configuration`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Accepted => "accepted",
            Class::AuthRejected => "auth_rejected",
            Class::Transient => "transient",
            Class::Configuration => "configuration",
            Class::Unknown => "unknown",
        }
    }

    /// True when an early retry may succeed without anyone changing anything
    /// ([`Transient`](Class::Transient) and [`Unknown`](Class::Unknown)).
    ///
    /// [`AuthRejected`](Class::AuthRejected) and [`Configuration`](Class::Configuration) are not
    /// retryable in this sense; [`crate::Backoff`] still retries them, but only every few minutes, so
    /// that a fix on the broker side is picked up without a restart.
    pub fn is_retryable(self) -> bool {
        matches!(self, Class::Transient | Class::Unknown)
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How loudly an outcome should be reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Severity {
    /// Normal operation (connection accepted).
    Info,
    /// A failure expected to clear by itself.
    Warning,
    /// A failure that needs an operator, or one that could not be interpreted.
    Error,
}

impl Severity {
    /// The matching `log` level.
    pub fn log_level(self) -> log::Level {
        match self {
            Severity::Info => log::Level::Info,
            Severity::Warning => log::Level::Warn,
            Severity::Error => log::Level::Error,
        }
    }
}

/// One byte of a CONNACK: a return code (MQTT 3.1.1) or a reason code (MQTT 5), with the protocol
/// version needed to read it. Every byte of both versions is a valid value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReturnCode {
    protocol: Protocol,
    byte: u8,
}

/// Decoded meaning of one code.
struct Entry {
    name: &'static str,
    reason: &'static str,
    class: Class,
}

const fn entry(name: &'static str, reason: &'static str, class: Class) -> Entry {
    Entry {
        name,
        reason,
        class,
    }
}

const V3_RESERVED: Entry = entry(
    "Reserved",
    "reserved return code (not defined by MQTT 3.1.1)",
    Class::Unknown,
);
const V5_RESERVED: Entry = entry(
    "Reserved",
    "reserved reason code (not assigned by MQTT 5)",
    Class::Unknown,
);

fn decode_v3(byte: u8) -> Entry {
    use Class::*;
    match byte {
        0 => entry("Accepted", "connection accepted", Accepted),
        1 => entry(
            "UnacceptableProtocolVersion",
            "unacceptable protocol version",
            Configuration,
        ),
        2 => entry(
            "IdentifierRejected",
            "client identifier rejected",
            Configuration,
        ),
        3 => entry("ServerUnavailable", "server unavailable", Transient),
        4 => entry(
            "BadUserNameOrPassword",
            "bad user name or password",
            AuthRejected,
        ),
        5 => entry("NotAuthorized", "not authorized", AuthRejected),
        6..=u8::MAX => V3_RESERVED,
    }
}

fn decode_v5(byte: u8) -> Entry {
    use Class::*;
    match byte {
        0x00 => entry("Success", "success", Accepted),
        // Valid MQTT 5 reason codes that a CONNACK must not carry.
        0x01 => entry(
            "GrantedQos1",
            "granted QoS 1 (not valid in CONNACK)",
            Unknown,
        ),
        0x02 => entry(
            "GrantedQos2",
            "granted QoS 2 (not valid in CONNACK)",
            Unknown,
        ),
        0x04 => entry(
            "DisconnectWithWillMessage",
            "disconnect with will message (not valid in CONNACK)",
            Unknown,
        ),
        0x10 => entry(
            "NoMatchingSubscribers",
            "no matching subscribers (not valid in CONNACK)",
            Unknown,
        ),
        0x11 => entry(
            "NoSubscriptionExisted",
            "no subscription existed (not valid in CONNACK)",
            Unknown,
        ),
        0x18 => entry(
            "ContinueAuthentication",
            "continue authentication (not valid in CONNACK)",
            Unknown,
        ),
        0x19 => entry(
            "ReAuthenticate",
            "re-authenticate (not valid in CONNACK)",
            Unknown,
        ),
        // CONNACK failure codes.
        0x80 => entry("UnspecifiedError", "unspecified error", Transient),
        0x81 => entry("MalformedPacket", "malformed packet", Configuration),
        0x82 => entry("ProtocolError", "protocol error", Configuration),
        0x83 => entry(
            "ImplementationSpecificError",
            "implementation specific error",
            Unknown,
        ),
        0x84 => entry(
            "UnsupportedProtocolVersion",
            "unsupported protocol version",
            Configuration,
        ),
        0x85 => entry(
            "ClientIdentifierNotValid",
            "client identifier not valid",
            Configuration,
        ),
        0x86 => entry(
            "BadUserNameOrPassword",
            "bad user name or password",
            AuthRejected,
        ),
        0x87 => entry("NotAuthorized", "not authorized", AuthRejected),
        0x88 => entry("ServerUnavailable", "server unavailable", Transient),
        0x89 => entry("ServerBusy", "server busy", Transient),
        0x8A => entry("Banned", "banned", AuthRejected),
        0x8B => entry(
            "ServerShuttingDown",
            "server shutting down (not valid in CONNACK)",
            Unknown,
        ),
        0x8C => entry(
            "BadAuthenticationMethod",
            "bad authentication method",
            AuthRejected,
        ),
        0x8D => entry(
            "KeepAliveTimeout",
            "keep alive timeout (not valid in CONNACK)",
            Unknown,
        ),
        0x8E => entry(
            "SessionTakenOver",
            "session taken over (not valid in CONNACK)",
            Unknown,
        ),
        0x8F => entry(
            "TopicFilterInvalid",
            "topic filter invalid (not valid in CONNACK)",
            Unknown,
        ),
        0x90 => entry("TopicNameInvalid", "topic name invalid", Configuration),
        0x91 => entry(
            "PacketIdentifierInUse",
            "packet identifier in use (not valid in CONNACK)",
            Unknown,
        ),
        0x92 => entry(
            "PacketIdentifierNotFound",
            "packet identifier not found (not valid in CONNACK)",
            Unknown,
        ),
        0x93 => entry(
            "ReceiveMaximumExceeded",
            "receive maximum exceeded (not valid in CONNACK)",
            Unknown,
        ),
        0x94 => entry(
            "TopicAliasInvalid",
            "topic alias invalid (not valid in CONNACK)",
            Unknown,
        ),
        0x95 => entry("PacketTooLarge", "packet too large", Configuration),
        0x96 => entry(
            "MessageRateTooHigh",
            "message rate too high (not valid in CONNACK)",
            Unknown,
        ),
        0x97 => entry("QuotaExceeded", "quota exceeded", Transient),
        0x98 => entry(
            "AdministrativeAction",
            "administrative action (not valid in CONNACK)",
            Unknown,
        ),
        0x99 => entry(
            "PayloadFormatInvalid",
            "payload format invalid",
            Configuration,
        ),
        0x9A => entry("RetainNotSupported", "retain not supported", Configuration),
        0x9B => entry("QosNotSupported", "QoS not supported", Configuration),
        0x9C => entry("UseAnotherServer", "use another server", Transient),
        0x9D => entry("ServerMoved", "server moved", Configuration),
        0x9E => entry(
            "SharedSubscriptionsNotSupported",
            "shared subscriptions not supported (not valid in CONNACK)",
            Unknown,
        ),
        0x9F => entry(
            "ConnectionRateExceeded",
            "connection rate exceeded",
            Transient,
        ),
        0xA0 => entry(
            "MaximumConnectTime",
            "maximum connect time (not valid in CONNACK)",
            Unknown,
        ),
        0xA1 => entry(
            "SubscriptionIdentifiersNotSupported",
            "subscription identifiers not supported (not valid in CONNACK)",
            Unknown,
        ),
        0xA2 => entry(
            "WildcardSubscriptionsNotSupported",
            "wildcard subscriptions not supported (not valid in CONNACK)",
            Unknown,
        ),
        0x03 | 0x05..=0x0F | 0x12..=0x17 | 0x1A..=0x7F | 0xA3..=u8::MAX => V5_RESERVED,
    }
}

const FIX_CREDENTIALS: &str = "check MQTT_USERNAME and MQTT_PASSWORD, and that this user exists in the \
     broker's password file (mosquitto_passwd); the broker found them malformed or wrong";
const FIX_NOT_AUTHORIZED: &str = "check MQTT_USERNAME and MQTT_PASSWORD: Mosquitto 2.0 answers every \
     failed login (unknown user, wrong or missing password) this way; check that the user is in the \
     broker's password_file (mosquitto_passwd), that the broker was reloaded after the change, and \
     its allow_anonymous, acl_file or auth plugin rules for this user and client id";
const FIX_BANNED: &str = "the broker has banned this user or client id: ask the broker's operator \
     to lift the ban; check MQTT_USERNAME and the client id";
const FIX_AUTH_METHOD: &str = "the broker does not accept this authentication method: use \
     username/password authentication or configure the broker's authentication plugin";
const FIX_PROTOCOL: &str = "the broker does not speak the configured MQTT protocol version: \
     switch between \"3.1.1\" and \"5\" (Mosquitto 2.0 supports both)";
const FIX_CLIENT_ID: &str = "the broker refused the client id: use a shorter id of letters, \
     digits, '-' and '_' that no other client uses, or check the broker's clientid_prefixes";
const FIX_SERVER_BUSY: &str = "the broker is starting, overloaded or limiting connections: \
     wait, and check the broker's log and limits (max_connections) if it persists";
const FIX_ANOTHER_SERVER: &str = "the broker redirected this client to another server: check the \
     broker address and the broker's log";
const FIX_SERVER_MOVED: &str = "the broker has moved permanently: update the configured broker \
     host and port";
const FIX_CLIENT_OPTIONS: &str = "the broker refused this client's CONNECT options (will topic, \
     will payload, retain, QoS or packet size): check the last-will settings against the \
     broker's limits";
const FIX_PEER: &str = "the peer sent a code a CONNACK cannot carry: check that the host and port \
     belong to an MQTT broker and that the configured protocol version matches it";
const FIX_UNSPECIFIED: &str = "the broker gave no reason: read the broker's log for this \
     client id";

impl ReturnCode {
    /// The code `byte` as read under `protocol`. Total: every byte is accepted.
    pub fn new(protocol: Protocol, byte: u8) -> Self {
        Self { protocol, byte }
    }

    /// An MQTT 3.1.1 CONNACK return code.
    pub fn v311(byte: u8) -> Self {
        Self::new(Protocol::V311, byte)
    }

    /// An MQTT 5 reason code.
    pub fn v5(byte: u8) -> Self {
        Self::new(Protocol::V5, byte)
    }

    /// The protocol version the byte belongs to.
    pub fn protocol(self) -> Protocol {
        self.protocol
    }

    /// The raw byte.
    pub fn byte(self) -> u8 {
        self.byte
    }

    fn entry(self) -> Entry {
        match self.protocol {
            Protocol::V311 => decode_v3(self.byte),
            Protocol::V5 => decode_v5(self.byte),
        }
    }

    /// The code's name in UpperCamelCase, as paho-mqtt spells it where it has one (`"NotAuthorized"`),
    /// `"Reserved"` for an unassigned byte.
    pub fn name(self) -> &'static str {
        self.entry().name
    }

    /// A short lower-case human reason (`"not authorized"`).
    pub fn reason(self) -> &'static str {
        self.entry().reason
    }

    /// What the code means for retrying.
    pub fn class(self) -> Class {
        self.entry().class
    }

    /// How loudly to report it: info when accepted, warning when transient, error otherwise.
    pub fn severity(self) -> Severity {
        match self.class() {
            Class::Accepted => Severity::Info,
            Class::Transient => Severity::Warning,
            Class::AuthRejected | Class::Configuration | Class::Unknown => Severity::Error,
        }
    }

    /// True for the success code (0 in both versions).
    pub fn is_success(self) -> bool {
        self.byte == 0
    }

    /// What an operator should do about it; `None` only for success.
    pub fn fix(self) -> Option<&'static str> {
        let fix = match (self.protocol, self.byte) {
            (_, 0) => return None,
            (Protocol::V311, 4) | (Protocol::V5, 0x86) => FIX_CREDENTIALS,
            (Protocol::V311, 5) | (Protocol::V5, 0x87) => FIX_NOT_AUTHORIZED,
            (Protocol::V5, 0x8A) => FIX_BANNED,
            (Protocol::V5, 0x8C) => FIX_AUTH_METHOD,
            (Protocol::V311, 1) | (Protocol::V5, 0x84) => FIX_PROTOCOL,
            (Protocol::V311, 2) | (Protocol::V5, 0x85) => FIX_CLIENT_ID,
            (Protocol::V311, 3) | (Protocol::V5, 0x88 | 0x89 | 0x97 | 0x9F) => FIX_SERVER_BUSY,
            (Protocol::V5, 0x9C) => FIX_ANOTHER_SERVER,
            (Protocol::V5, 0x9D) => FIX_SERVER_MOVED,
            (Protocol::V5, 0x90 | 0x95 | 0x99 | 0x9A | 0x9B) => FIX_CLIENT_OPTIONS,
            (Protocol::V5, 0x80 | 0x83) => FIX_UNSPECIFIED,
            _ => FIX_PEER,
        };
        Some(fix)
    }

    /// The byte as the protocol's documents write it: decimal for MQTT 3.1.1 (`5`, as Mosquitto
    /// logs it), hexadecimal for MQTT 5 (`0x87`).
    pub fn number(self) -> impl fmt::Display {
        Number(self)
    }
}

/// Formats the byte of a [`ReturnCode`]; see [`ReturnCode::number`].
#[derive(Debug)]
struct Number(ReturnCode);

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.protocol {
            Protocol::V311 => write!(f, "{}", self.0.byte),
            Protocol::V5 => write!(f, "0x{:02X}", self.0.byte),
        }
    }
}

impl fmt::Display for ReturnCode {
    /// `5 NotAuthorized (not authorized)` for MQTT 3.1.1, `0x87 NotAuthorized (not authorized)`
    /// for MQTT 5.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ({})", self.number(), self.name(), self.reason())
    }
}

impl From<paho_mqtt::ConnectReturnCode> for ReturnCode {
    /// paho-mqtt's MQTT 3.1.1 return code.
    fn from(code: paho_mqtt::ConnectReturnCode) -> Self {
        Self::v311(code as u8)
    }
}

impl From<paho_mqtt::ReasonCode> for ReturnCode {
    /// paho-mqtt's MQTT 5 reason code. paho maps bytes it does not know to its internal `0xFF`,
    /// which decodes as reserved.
    fn from(code: paho_mqtt::ReasonCode) -> Self {
        Self::v5(code as u8)
    }
}

#[cfg(test)]
mod tests;
