//! The controller's MQTT session, as a library: topics, command validation, the state JSON, Home
//! Assistant discovery, and a session thread that owns one authenticated, reconnecting client.
//!
//! - [`topics`]: every topic from one validated prefix, outside the discovery prefix;
//! - [`command`]: hostile payloads to validated [`heat_core::Command`]s, and a rate limiter (pure);
//! - [`state`]: the state JSON from a [`heat_core::Status`] (pure);
//! - [`discovery`]: Home Assistant discovery configs and their removal (pure);
//! - [`session`]: the session thread; the control loop talks to it without ever waiting.
//!
//! Topics, payloads and the state schema are documented in `docs/mqtt.md`.

pub mod command;
pub mod discovery;
pub mod session;
pub mod state;
pub mod topics;

pub use command::{CommandRejection, RateLimit, RateLimiter, parse, render_payload};
pub use discovery::{Device, DiscoveryMessage, SwVersion, discovery_messages, removal_messages};
pub use session::{
    Answer, InboundCommand, LinkState, Session, SessionConfig, SessionError, SessionHandle,
};
pub use state::{LinkInfo, StateJson, state_json};
pub use topics::{CommandTopic, TopicError, Topics};
