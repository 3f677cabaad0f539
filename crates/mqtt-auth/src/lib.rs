//! Authenticated MQTT connections that other services can reuse.
//!
//! This crate depends on no `heat-*` crate. It holds:
//! - [`credentials`]: username/password validation (empty, blank, placeholder, NUL);
//! - [`settings`]: validated broker settings (protocol, client id, TLS, credentials).

pub mod credentials;
pub mod settings;

pub use credentials::{CredentialError, Credentials, Username};
pub use settings::{BrokerSettings, ClientId, Protocol, TlsSettings, TrustAnchor, Verification};
