//! What the controller publishes and logs, defined once and read back as types.
//!
//! The controller builds these documents and serialises them; the demo, the soak, the benches
//! and the tests deserialise the same types. So a key is renamed in one place, and a tool that
//! falls behind fails to parse instead of counting nothing.
//!
//! - [`state`]: the state JSON on `<prefix>/state` ([`StateJson`]) and the answer on
//!   `<prefix>/result` ([`Answer`]), built from heat-core's [`heat_core::Status`];
//! - [`link`]: the MQTT link's events ([`LinkEvent`]) and counters ([`LinkInfo`]);
//! - [`timing`]: the control loop's timing report ([`TimingJson`]);
//! - [`log`]: the log line they travel in, its targets, and typed reading of a log.
//!
//! Pure: no IO, no clock. It depends on no C library, so xtask can use it on a machine that
//! has installed nothing yet. The wire format is documented in `docs/mqtt.md`.

pub mod link;
pub mod log;
pub mod state;
pub mod timing;

pub use link::{LinkEvent, LinkInfo};
pub use state::{
    Answer, DisinfectionJson, EnergyJson, HolidayJson, OnOff, PendingJson, RuntimeJson, StateJson,
    Temperature, local_date, pending_json, rfc3339, state_json,
};
pub use timing::TimingJson;
