//! Operating modes, operating states, interlocks and alarms: the named vocabulary of the plant.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::sensor::{Sensor, SensorFault};

/// The mode the user selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Solar differential, cooling, heater thermostat at its setpoint.
    #[default]
    Auto,
    /// As auto with the eco differential and the lower eco heater setpoint.
    Eco,
    /// Pump and heater follow commands; interlocks still apply.
    Manual,
    /// Loads off, except what frost protection requires.
    Off,
    /// Away: solar runs as in auto, the heater stays off (except for a thermal disinfection
    /// when `holiday_disinfection` is on), night cooling recools the tank to
    /// `holiday_cooling_tank`; at the holiday's end date the previous mode returns.
    Holiday,
}

impl Mode {
    /// Every mode (the options of a Home Assistant `select`).
    pub const ALL: [Mode; 5] = [
        Mode::Auto,
        Mode::Eco,
        Mode::Manual,
        Mode::Off,
        Mode::Holiday,
    ];

    /// Whether a thermal disinfection may run the heater in this mode: auto and eco, and
    /// holiday when `holiday_disinfection` is on.
    pub const fn allows_disinfection(self, holiday_disinfection: bool) -> bool {
        match self {
            Mode::Auto | Mode::Eco => true,
            Mode::Holiday => holiday_disinfection,
            Mode::Manual | Mode::Off => false,
        }
    }

    /// `"auto"`, `"eco"`, `"manual"`, `"off"` or `"holiday"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Mode::Auto => "auto",
            Mode::Eco => "eco",
            Mode::Manual => "manual",
            Mode::Off => "off",
            Mode::Holiday => "holiday",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A mode name that is not one of [`Mode::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown mode {0:?} (expected auto, eco, manual, off or holiday)")]
pub struct UnknownMode(pub String);

impl FromStr for Mode {
    type Err = UnknownMode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownMode(s.to_owned()))
    }
}

/// The named state of the plant, derived after each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperatingState {
    /// Before the first step.
    Starting,
    /// A sensor is faulted.
    Fault,
    /// Boil stop latched or tank at its maximum.
    Overheated,
    /// The pump runs to keep the collector from freezing.
    FrostProtection,
    /// Mode off.
    Off,
    /// Mode manual.
    Manual,
    /// The pump runs to cool a hot collector.
    CollectorCooling,
    /// The pump runs to dump tank heat through the collector.
    NightCooling,
    /// The pump runs on the solar differential.
    Heating,
    /// Only the auxiliary heater runs.
    AuxHeating,
    /// Nothing to do.
    Standby,
}

impl OperatingState {
    /// Snake-case name, e.g. `"collector_cooling"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            OperatingState::Starting => "starting",
            OperatingState::Fault => "fault",
            OperatingState::Overheated => "overheated",
            OperatingState::FrostProtection => "frost_protection",
            OperatingState::Off => "off",
            OperatingState::Manual => "manual",
            OperatingState::CollectorCooling => "collector_cooling",
            OperatingState::NightCooling => "night_cooling",
            OperatingState::Heating => "heating",
            OperatingState::AuxHeating => "aux_heating",
            OperatingState::Standby => "standby",
        }
    }
}

impl fmt::Display for OperatingState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule that overrides the mode and any command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interlock {
    /// A sensor the load needs has no usable value: the load is OFF.
    SensorFault(Sensor),
    /// Boil stop latched: the pump is OFF.
    BoilStop,
    /// Tank at its maximum (the comfort level): heater OFF, and pump OFF unless it moves heat out
    /// of the tank or cools the collector (auto/eco, both tank sensors good).
    TankMax,
    /// Tank at its emergency level: heater OFF, and pump OFF unless it moves heat out of the
    /// tank. Nothing loads the tank here, collector cooling included.
    TankEmergency,
    /// Frost protection: the pump is ON.
    FrostProtection,
}

impl Interlock {
    /// Whether this interlock forces its load OFF (a safety OFF is never delayed).
    pub const fn forces_off(self) -> bool {
        !matches!(self, Interlock::FrostProtection)
    }
}

impl fmt::Display for Interlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Interlock::SensorFault(s) => write!(f, "{s} sensor fault"),
            Interlock::BoilStop => f.write_str("boil stop"),
            Interlock::TankMax => f.write_str("tank maximum"),
            Interlock::TankEmergency => f.write_str("tank emergency"),
            Interlock::FrostProtection => f.write_str("frost protection"),
        }
    }
}

/// An active alarm, published in the status.
///
/// Serialised as the state JSON's alarm objects: `{"alarm": "sensor", "sensor": "collector",
/// "fault": "crc"}`, `{"alarm": "boil_stop"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "alarm", rename_all = "snake_case")]
pub enum Alarm {
    /// A sensor is faulted; clears once it has read good for `fault_clear_s`.
    Sensor {
        /// Which sensor.
        sensor: Sensor,
        /// Its fault.
        fault: SensorFault,
    },
    /// Boil stop latched; clears below `boil_stop - boil_stop_hysteresis`.
    BoilStop,
    /// Tank at its maximum; clears below `tank_max - tank_max_hysteresis`.
    TankMax,
    /// Tank at its emergency level; clears below `tank_emergency - tank_max_hysteresis`.
    TankEmergency,
    /// The last thermal disinfection did not hold its target within its time; clears at the
    /// next completed one.
    DisinfectionFailed,
    /// The service's state file could not be read or written (heat-persist): mode, parameters
    /// or counters may not survive a restart. The controller never raises it itself; the
    /// service adds it to the status it publishes, until the file's next good write.
    StateFile,
}
