//! Authenticated MQTT connections that other services can reuse.
//!
//! This crate depends on no `heat-*` crate. It holds:
//! - [`credentials`]: username/password validation (empty, blank, placeholder, NUL);
//! - [`settings`]: validated broker settings (protocol, client id, TLS, credentials);
//! - [`codes`]: CONNACK return/reason codes of MQTT 3.1.1 and 5, decoded and classified;
//! - [`failure`]: why a connection attempt failed, classified from paho-mqtt's errors;
//! - [`qos`]: [`QoS`], the three MQTT delivery levels, decoded totally;
//! - [`retry`]: the retry policy (fast for transient failures, slow for rejections), pure;
//! - [`audit`]: the one-line audit record of each connection attempt (username, never password);
//! - [`connect`]: paho-mqtt connect options from settings, and one audited connection attempt;
//! - [`tls`]: our own TLS handshake, which says why a TLS connection failed;
//! - [`probe`]: does the broker refuse anonymous clients and wrong passwords?
//! - [`reach`]: does the broker's port accept TCP again (ends a network backoff early)?
//! - [`logging`]: keeps paho-mqtt's debug output (it holds the password) out of the log.

pub mod audit;
pub mod codes;
pub mod connect;
pub mod credentials;
pub mod failure;
pub mod logging;
pub mod probe;
pub mod qos;
pub mod reach;
pub mod retry;
pub mod settings;
pub mod tls;

pub use audit::{AUDIT_TARGET, AuditRecord};
pub use codes::{Class, ReturnCode, Severity};
pub use credentials::{CredentialError, Credentials, Username};
pub use failure::{ConnectError, classify};
pub use qos::{InvalidQos, QoS};
pub use retry::{Backoff, RetryPolicy, RetrySchedule};
pub use settings::{BrokerSettings, ClientId, Protocol, TlsSettings, TrustAnchor, Verification};
