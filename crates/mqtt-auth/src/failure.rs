//! Why a connection attempt failed: [`ConnectError`], and [`classify`] to build one from a
//! paho-mqtt error.
//!
//! paho-mqtt reports a refused CONNACK as `Error::ConnectReturn(code)` on MQTT 3.1.1 and as
//! `Error::ReasonCode(code, _)` on MQTT 5; the `Display` of the former is the useless text `"(0)"`,
//! so [`classify`] matches the variants and never parses messages.

use std::io;

use paho_mqtt::Error as PahoError;

use crate::{
    Protocol,
    codes::{Class, ReturnCode},
};

/// Why one connection attempt failed. Never carries a password.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The broker answered the CONNECT with a CONNACK carrying a failure code.
    #[error("broker refused the connection: {0}")]
    Rejected(ReturnCode),
    /// The TLS handshake or the verification of the broker's certificate failed. Never classified
    /// as an authentication failure.
    #[error("TLS handshake or certificate verification failed: {detail}")]
    Certificate {
        /// What failed, in the TLS library's words.
        detail: String,
    },
    /// The broker could not be reached: connection refused, DNS, reset, "TCP/TLS connect failure".
    #[error("network error: {detail}")]
    Network {
        /// paho-mqtt's or the OS's description, kept verbatim so callers can refine it.
        detail: String,
    },
    /// No CONNACK arrived within the connect timeout.
    #[error("no answer from the broker within the connect timeout")]
    Timeout,
    /// A local setting is invalid: options, URI, protocol, files.
    #[error("invalid MQTT client configuration: {detail}")]
    Configuration {
        /// What is invalid.
        detail: String,
    },
    /// Anything else; see the detail.
    #[error("connection failed: {detail}")]
    Other {
        /// paho-mqtt's description.
        detail: String,
    },
}

impl ConnectError {
    /// What this failure means for retrying.
    ///
    /// A [`Rejected`](Self::Rejected) takes the class of its code, except that a "rejection"
    /// carrying the success code is [`Class::Unknown`]. Certificate failures are
    /// [`Class::Configuration`] (trust store, certificate or host name must be fixed), network
    /// failures and timeouts [`Class::Transient`], [`Other`](Self::Other) [`Class::Unknown`].
    pub fn class(&self) -> Class {
        match self {
            ConnectError::Rejected(code) => match code.class() {
                Class::Accepted => Class::Unknown,
                class => class,
            },
            ConnectError::Certificate { .. } | ConnectError::Configuration { .. } => {
                Class::Configuration
            }
            ConnectError::Network { .. } | ConnectError::Timeout => Class::Transient,
            ConnectError::Other { .. } => Class::Unknown,
        }
    }

    /// The CONNACK code, when the broker sent one.
    pub fn code(&self) -> Option<ReturnCode> {
        match self {
            ConnectError::Rejected(code) => Some(*code),
            _ => None,
        }
    }

    /// What an operator should do about it.
    pub fn fix(&self) -> String {
        match self {
            ConnectError::Rejected(code) => code
                .fix()
                .unwrap_or("the broker sent a success code as a failure: read the broker's log")
                .to_owned(),
            ConnectError::Certificate { .. } => "check the CA file or trust store, that the broker's \
                 certificate is valid today and issued for the configured host name, and the client \
                 certificate and key if mutual TLS is used"
                .to_owned(),
            ConnectError::Network { .. } => "check that the broker is running and reachable at the \
                 configured host and port (DNS, firewall, listener), and that TLS is on exactly when \
                 the port expects it"
                .to_owned(),
            ConnectError::Timeout => "check that the broker is reachable and the port is an MQTT \
                 listener (plain vs TLS), or raise the connect timeout on a slow link"
                .to_owned(),
            ConnectError::Configuration { .. } => {
                "fix the MQTT client settings named in the error (broker URI, protocol version, TLS files)"
                    .to_owned()
            }
            ConnectError::Other { .. } => {
                "read the error detail and the broker's log for this client id; it is retried like a \
                 transient failure"
                    .to_owned()
            }
        }
    }
}

/// Turns a paho-mqtt error from a connect attempt on a `protocol` connection into a
/// [`ConnectError`].
///
/// - `ConnectReturn(code)` → [`ConnectError::Rejected`] with the MQTT 3.1.1 code, and
///   `ReasonCode(code, _)` → [`ConnectError::Rejected`] with the MQTT 5 code, whatever `protocol`
///   says: the variant names its table.
/// - `Timeout`, `TcpConnectTimeout` and I/O timeouts → [`ConnectError::Timeout`].
/// - `TcpTlsConnectFailure`, `TcpConnectCompletionFailure`, `SocketError`, `Disconnected` and other
///   I/O errors → [`ConnectError::Network`] with paho's text; callers that can tell a failed TLS
///   handshake from a refused TCP connection refine it into [`ConnectError::Certificate`].
/// - Bad arguments, NULL parameters, bad protocol/URI scheme, wrong MQTT version or option, missing
///   TLS options, NUL/UTF-8 errors → [`ConnectError::Configuration`].
/// - `ReceivedDisconnect(rc)` (an MQTT 5 DISCONNECT before CONNACK), `Failure` and the rest →
///   [`ConnectError::Other`]; the DISCONNECT reason is decoded into the detail.
pub fn classify(protocol: Protocol, err: &PahoError) -> ConnectError {
    use PahoError as E;
    let detail = || err.to_string();
    match err {
        E::ConnectReturn(code) => ConnectError::Rejected(ReturnCode::from(*code)),
        E::ReasonCode(code, _) => ConnectError::Rejected(ReturnCode::from(*code)),

        E::Timeout | E::TcpConnectTimeout => ConnectError::Timeout,
        E::Io(io) if io.kind() == io::ErrorKind::TimedOut => ConnectError::Timeout,

        E::Io(io)
            if matches!(
                io.kind(),
                io::ErrorKind::NotFound
                    | io::ErrorKind::PermissionDenied
                    | io::ErrorKind::InvalidInput
                    | io::ErrorKind::InvalidData
            ) =>
        {
            ConnectError::Configuration { detail: detail() }
        }
        E::TcpTlsConnectFailure | E::TcpConnectCompletionFailure | E::Disconnected | E::Io(_) => {
            ConnectError::Network { detail: detail() }
        }
        E::SocketError(rc) => ConnectError::Network {
            detail: format!("socket error {rc}"),
        },

        E::NullParameter
        | E::BadStructure
        | E::BadUtf8String
        | E::BadQos
        | E::SslNotSupported
        | E::BadProtocol
        | E::BadMqttOption
        | E::WrongMqttVersion
        | E::ZeroLenWillTopic
        | E::MaxBufferedZero
        | E::TopicNameTruncated
        | E::BadTopicFilter
        | E::MissingSslOptions
        | E::Utf8(_)
        | E::Nul(_)
        | E::Conversion => ConnectError::Configuration { detail: detail() },

        E::ReceivedDisconnect(rc) => ConnectError::Other {
            detail: match (protocol, u8::try_from(*rc)) {
                (Protocol::V5, Ok(byte)) => {
                    format!("broker sent DISCONNECT {}", ReturnCode::v5(byte))
                }
                _ => format!("broker sent DISCONNECT (code {rc})"),
            },
        },
        E::Failure => ConnectError::Other {
            detail: format!(
                "paho-mqtt reported a general failure without a reason (MQTT {protocol})"
            ),
        },
        _ => ConnectError::Other { detail: detail() },
    }
}

#[cfg(test)]
mod tests;
