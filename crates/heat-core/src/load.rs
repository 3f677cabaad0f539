//! The loads the controller switches: the one name for the pump and the heater, shared by the
//! controller's events and errors, the relay drivers (heat-hw's `RelayRole` is this type), the
//! MQTT topics and the diagnostics.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

#[cfg(test)]
mod tests;

/// A load switched by a relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Load {
    /// Circulation pump between collector and tank.
    Pump,
    /// Auxiliary electric heater in the tank.
    Heater,
}

impl Load {
    /// Every load.
    pub const ALL: [Load; 2] = [Load::Pump, Load::Heater];

    /// The name used in configuration, topics, the state JSON and logs: `pump` or `heater`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Load::Pump => "pump",
            Load::Heater => "heater",
        }
    }
}

impl fmt::Display for Load {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A load name that is not one of [`Load::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown load {0:?} (expected pump or heater)")]
pub struct UnknownLoad(pub String);

impl FromStr for Load {
    type Err = UnknownLoad;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Load::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| UnknownLoad(s.to_owned()))
    }
}
