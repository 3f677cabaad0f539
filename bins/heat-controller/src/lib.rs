//! `heat-controller`: the daemon that runs the plant. A thin composition of the workspace crates:
//! heat-config's validated settings, heat-hw's sensors and relays (or its simulated plant),
//! heat-core's pure controller, and heat-mqtt's session to Home Assistant.
//!
//! - [`cli`]: the command line;
//! - [`app`]: startup (settings, heat-hw's relay lock, hardware, session, probe) and shutdown;
//! - [`checks`]: the configuration checks before anything is touched, shared with
//!   `heat-diag check-config`;
//! - [`control`]: the control loop, which never waits on MQTT;
//! - [`plant`]: heat-hw's plant, real (opened from `[hardware]`) or simulated (from the
//!   command line), its relays behind a guard that switches every load OFF when dropped (also
//!   while a panic unwinds);
//! - [`clock`]: heat-core's monotonic [`heat_core::Timestamp`] from [`std::time::Instant`],
//!   scaled under `--simulate`;
//! - [`timing`]: the loop's measurement of its own period jitter;
//! - [`notify`]: systemd's `READY=1`, `WATCHDOG=1` and `STOPPING=1`;
//! - [`persist`]: the state file (heat-persist) restored at startup and written by its own
//!   thread, and the `state_file` alarm.

pub mod app;
pub mod checks;
pub mod cli;
pub mod clock;
pub mod control;
pub mod notify;
pub mod persist;
pub mod plant;
pub mod timing;
