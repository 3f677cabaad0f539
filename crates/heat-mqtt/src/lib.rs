//! The controller's MQTT session, as a library: topics, command validation, the state JSON, Home
//! Assistant discovery, and a session thread that owns one authenticated, reconnecting client.
//!
//! - [`topics`]: every topic from one validated prefix, outside the discovery prefix;
//! - [`command`]: hostile payloads to validated [`heat_core::Command`]s, and a rate limiter (pure);
//! - [`discovery`]: Home Assistant discovery configs and their removal (pure);
//! - [`reload`]: credentials read again on SIGHUP or when the password file changes;
//! - [`session`]: the session thread; the control loop talks to it without ever waiting.
//!
//! The state JSON and the answers are heat-state's types, re-exported here. Topics, payloads and
//! the state schema are documented in `docs/mqtt.md`.

pub mod command;
pub mod discovery;
pub mod reload;
pub mod session;
pub mod topics;

pub use command::{CommandRejection, RateLimit, RateLimiter, parse, render_payload};
pub use discovery::{Device, DiscoveryMessage, SwVersion, discovery_messages, removal_messages};
pub use heat_state::{Answer, LinkInfo, StateJson, state_json};
pub use reload::{CredentialSource, ReloadTrigger, Reloader};
pub use session::{InboundCommand, LinkState, Session, SessionConfig, SessionError, SessionHandle};
pub use topics::{CommandTopic, TopicError, Topics};
