//! The controller's state file, `state.json` in its state directory: what survives a restart.
//!
//! It holds, under a schema version ([`SCHEMA`]), the mode, every parameter set over MQTT, the
//! counters and (reserved) the last thermal disinfection. It holds no secret: nothing in it
//! comes from the MQTT settings.
//!
//! - [`schema`]: [`StateFile`], the typed content, and its JSON form ([`encode`], [`decode`]);
//! - [`restore`]: the file's values under the current configuration ([`restore()`]): a
//!   parameter that heat-core's validation refuses is dropped, never applied;
//! - [`snapshot`]: [`Snapshot`], the file's content built from the controller's statuses and
//!   accepted commands (the daemon's writer and heat-sim keep one each);
//! - [`policy`]: [`WritePolicy`], when to write (pure: the caller passes the time);
//! - [`startup`]: which generation a start uses ([`start()`]): `state.json`, else the previous
//!   generation `state.json.prev`, else the defaults;
//! - [`file`]: the IO: [`StateDir::load`] (a missing file means defaults; a bad one is kept as
//!   `state.json.bad-<time>` and reported, and the previous generation used if it is good) and
//!   [`StateDir::write`] (atomic: temp file, fsync, the current file hard-linked as
//!   `state.json.prev`, rename, fsync of the directory);
//! - [`problem`]: [`StateFileProblem`], the typed reason for the `state_file` alarm, whose
//!   `Display` names the file and the fix.
//!
//! Everything but [`file`] is pure. Nothing here may stop the controller from controlling: every
//! failure becomes a [`StateFileProblem`] and the defaults.

pub mod file;
pub mod policy;
pub mod problem;
pub mod restore;
pub mod schema;
pub mod snapshot;
pub mod startup;

pub use file::{Loaded, StateDir};
pub use policy::{Decision, Occasion, WritePolicy};
pub use problem::{Dropped, Fallback, Kept, StateFileProblem};
pub use restore::{Restored, restore};
pub use schema::{Counters, DecodeError, Decoded, EncodeError, SCHEMA, StateFile, decode, encode};
pub use snapshot::Snapshot;
pub use startup::{Generation, Source, Start, Unusable, start};

/// The file's name in the state directory.
pub const FILE_NAME: &str = "state.json";
