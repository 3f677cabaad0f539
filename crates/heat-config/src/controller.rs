//! The `[controller]` table: how the daemon runs (loop period, heartbeat, Home Assistant
//! discovery, lock file, simulation speed, state directory and how often it is written). Three
//! settings have environment overrides: `HEAT_CONTROL_PERIOD_SECS`, `HEAT_DISCOVERY` and
//! systemd's `STATE_DIRECTORY` (for `state_dir`).

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Default control-loop period, seconds (the original system's 30 s loop).
pub const DEFAULT_PERIOD_SECS: u64 = 30;
/// Default state heartbeat, seconds.
pub const DEFAULT_HEARTBEAT_SECS: u64 = 60;
/// Default Home Assistant discovery prefix.
pub const DEFAULT_DISCOVERY_PREFIX: &str = "homeassistant";
/// Default device name in Home Assistant.
pub const DEFAULT_DEVICE_NAME: &str = "Solar heating";
/// Default lock file, so that two controllers never drive the same relays.
pub const DEFAULT_LOCK_FILE: &str = "/run/heat-controller/lock";
/// Default seconds between writes of the state file when only counters change.
pub const DEFAULT_PERSIST_INTERVAL_SECS: u64 = 600;

/// Validated `[controller]` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ControllerSettings {
    pub(crate) period: Duration,
    pub(crate) heartbeat: Duration,
    pub(crate) discovery: bool,
    pub(crate) discovery_prefix: String,
    pub(crate) probe_anonymous: bool,
    pub(crate) device_name: String,
    pub(crate) lock_file: PathBuf,
    pub(crate) time_scale: f64,
    pub(crate) state_dir: Option<PathBuf>,
    pub(crate) persist_interval: Duration,
}

impl Default for ControllerSettings {
    fn default() -> Self {
        Self {
            period: Duration::from_secs(DEFAULT_PERIOD_SECS),
            heartbeat: Duration::from_secs(DEFAULT_HEARTBEAT_SECS),
            discovery: true,
            discovery_prefix: DEFAULT_DISCOVERY_PREFIX.to_owned(),
            probe_anonymous: true,
            device_name: DEFAULT_DEVICE_NAME.to_owned(),
            lock_file: PathBuf::from(DEFAULT_LOCK_FILE),
            time_scale: 1.0,
            state_dir: None,
            persist_interval: Duration::from_secs(DEFAULT_PERSIST_INTERVAL_SECS),
        }
    }
}

impl ControllerSettings {
    /// Control-loop period (`period_secs`, 1–3600, default 30; `HEAT_CONTROL_PERIOD_SECS`).
    pub fn period(&self) -> Duration {
        self.period
    }

    /// State republish interval (`heartbeat_secs`, 5–3600, default 60).
    pub fn heartbeat(&self) -> Duration {
        self.heartbeat
    }

    /// Whether to publish Home Assistant discovery (`discovery`, default true; `HEAT_DISCOVERY`).
    pub fn discovery(&self) -> bool {
        self.discovery
    }

    /// Home Assistant discovery prefix (`discovery_prefix`, default `homeassistant`).
    pub fn discovery_prefix(&self) -> &str {
        &self.discovery_prefix
    }

    /// Whether to check at startup that the broker refuses anonymous clients
    /// (`probe_anonymous`, default true).
    pub fn probe_anonymous(&self) -> bool {
        self.probe_anonymous
    }

    /// Device name in Home Assistant (`device_name`, default `Solar heating`).
    pub fn device_name(&self) -> &str {
        &self.device_name
    }

    /// Lock file held while the controller runs (`lock_file`, default
    /// `/run/heat-controller/lock`).
    pub fn lock_file(&self) -> &Path {
        &self.lock_file
    }

    /// Simulated seconds per wall-clock second under `--simulate` (`time_scale`, 1–100000,
    /// default 1).
    pub fn time_scale(&self) -> f64 {
        self.time_scale
    }

    /// Where the state file lives (`state_dir`; systemd's `STATE_DIRECTORY` wins, as every
    /// variable wins over the TOML file). `None` when neither is set: the daemon then persists
    /// nothing, and says so at startup unless it simulates.
    pub fn state_dir(&self) -> Option<&Path> {
        self.state_dir.as_deref()
    }

    /// At most this often the state file is written when only counters changed
    /// (`persist_interval_secs`, 1–86400, default 600); commands and shutdown write at once.
    pub fn persist_interval(&self) -> Duration {
        self.persist_interval
    }
}

#[cfg(test)]
mod tests;
