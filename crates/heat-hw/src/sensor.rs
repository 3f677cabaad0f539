//! The sensor-bank abstraction shared by every temperature backend.

use std::fmt;
use std::str::FromStr;

use embedded_hal::delay::DelayNs;

#[cfg(test)]
mod tests;

/// Where a temperature sensor sits in the plant. Sensors are addressed by role, never by ROM id,
/// so swapping a probe only touches configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SensorRole {
    /// Collector outlet (required).
    Collector,
    /// Bottom of the storage tank, the collector return (required).
    TankBottom,
    /// Top of the storage tank, the hot draw-off (required).
    TankTop,
    /// Outdoor air (optional).
    Ambient,
}

impl SensorRole {
    /// Roles every installation must configure.
    pub const REQUIRED: [SensorRole; 3] = [Self::Collector, Self::TankBottom, Self::TankTop];
    /// Every role, required first.
    pub const ALL: [SensorRole; 4] = [
        Self::Collector,
        Self::TankBottom,
        Self::TankTop,
        Self::Ambient,
    ];

    /// The configuration name (`collector`, `tank_bottom`, `tank_top`, `ambient`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Collector => "collector",
            Self::TankBottom => "tank_bottom",
            Self::TankTop => "tank_top",
            Self::Ambient => "ambient",
        }
    }

    /// Whether an installation must have this sensor.
    pub fn is_required(self) -> bool {
        Self::REQUIRED.contains(&self)
    }

    /// The required roles absent from `configured`, for configuration validation.
    pub fn missing_required(configured: &[SensorRole]) -> Vec<SensorRole> {
        Self::REQUIRED
            .into_iter()
            .filter(|r| !configured.contains(r))
            .collect()
    }
}

impl fmt::Display for SensorRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of [`SensorRole::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown sensor role {0:?} (expected collector, tank_bottom, tank_top or ambient)")]
pub struct UnknownRole(pub String);

impl FromStr for SensorRole {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// Why one sensor produced no trustworthy value in a sweep.
///
/// Mapping to `heat-core`'s `SensorFault`, implemented in [`crate::adapter`]:
///
/// | `SensorError`       | `SensorFault`   |
/// |---------------------|-----------------|
/// | `Missing`           | `Missing`       |
/// | `Crc`               | `Crc`           |
/// | `PowerOnValue`      | `PowerOnValue`  |
/// | `Disconnected`      | `Disconnected`  |
/// | `OutOfRange(_)`     | `OutOfRange`    |
/// | `NotFinite`         | `NotFinite`     |
/// | `Timeout`           | `Io`            |
/// | `Malformed(_)`      | `Io`            |
/// | `Io(_)`             | `Io`            |
///
/// `Stale` has no source here: staleness is a judgement about the age of the last good value,
/// which `heat-core` makes with its own clock (a stuck sensor reports fresh-looking values).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SensorError {
    /// The device is not present (no sysfs directory, no presence pulse, not configured).
    #[error("sensor missing")]
    Missing,
    /// The scratchpad CRC failed, also after the one retry.
    #[error("CRC mismatch")]
    Crc,
    /// 85.000 °C: the power-on register value, meaning no conversion happened.
    #[error("power-on value 85.000 °C (no conversion)")]
    PowerOnValue,
    /// −127 °C or an all-zero scratchpad: the sensor dropped off the bus.
    #[error("sensor disconnected")]
    Disconnected,
    /// Outside the DS18B20 range of −55…125 °C; carries the value in milli °C.
    #[error("reading {0} m°C out of range")]
    OutOfRange(i64),
    /// A NaN or infinite value (only possible from computed sources such as the simulation).
    #[error("reading is not a finite number")]
    NotFinite,
    /// The read did not complete in time (a stuck kernel read or conversion).
    #[error("read timed out")]
    Timeout,
    /// The device answered with text that is not a reading.
    #[error("malformed reading: {0}")]
    Malformed(String),
    /// Any other I/O or bus failure, with its message.
    #[error("I/O error: {0}")]
    Io(String),
}

/// Lowest temperature a DS18B20 measures, in milli °C.
pub const MIN_MILLI_C: i64 = -55_000;
/// Highest temperature a DS18B20 measures, in milli °C.
pub const MAX_MILLI_C: i64 = 125_000;
const POWER_ON_MILLI_C: i64 = 85_000;
const DISCONNECTED_MILLI_C: i64 = -127_000;

/// Classifies a raw reading in milli °C: DS18B20 sentinels and range checks, then °C.
pub fn classify_milli(milli: i64) -> Result<f64, SensorError> {
    match milli {
        POWER_ON_MILLI_C => Err(SensorError::PowerOnValue),
        DISCONNECTED_MILLI_C => Err(SensorError::Disconnected),
        m if !(MIN_MILLI_C..=MAX_MILLI_C).contains(&m) => Err(SensorError::OutOfRange(m)),
        // Exact: |m| <= 125000 is far inside f64's integer range.
        m => Ok(m as f64 / 1000.0),
    }
}

/// Classifies a reading in °C from a computed source (simulation, bit-banged decode).
pub fn classify_celsius(celsius: f64) -> Result<f64, SensorError> {
    if !celsius.is_finite() {
        return Err(SensorError::NotFinite);
    }
    // Sentinels and range are checked on whole milli °C; the value keeps its full precision.
    classify_milli((celsius * 1000.0).round() as i64).map(|_| celsius)
}

/// The result of one sweep: per configured role, a temperature in °C or the reason there is none.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sweep {
    readings: Vec<(SensorRole, Result<f64, SensorError>)>,
}

impl Sweep {
    /// An empty sweep.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one role's outcome, replacing an earlier one for the same role.
    pub fn insert(&mut self, role: SensorRole, reading: Result<f64, SensorError>) {
        match self.readings.iter_mut().find(|(r, _)| *r == role) {
            Some(slot) => slot.1 = reading,
            None => self.readings.push((role, reading)),
        }
    }

    /// The outcome for `role`; an unconfigured role is [`SensorError::Missing`].
    pub fn get(&self, role: SensorRole) -> Result<f64, SensorError> {
        self.readings
            .iter()
            .find(|(r, _)| *r == role)
            .map_or(Err(SensorError::Missing), |(_, v)| v.clone())
    }

    /// Every recorded outcome, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = (SensorRole, &Result<f64, SensorError>)> {
        self.readings.iter().map(|(r, v)| (*r, v))
    }

    /// Number of roles in the sweep.
    pub fn len(&self) -> usize {
        self.readings.len()
    }

    /// Whether the sweep holds no roles.
    pub fn is_empty(&self) -> bool {
        self.readings.is_empty()
    }
}

/// A set of temperature sensors read together.
pub trait SensorBank {
    /// The configured roles, in sweep order.
    fn roles(&self) -> Vec<SensorRole>;

    /// Reads every configured sensor once. Never fails as a whole: each role carries its own
    /// value or error. Conversion waits go through `delay`, so a virtual clock makes them free.
    fn sweep(&mut self, delay: &mut dyn DelayNs) -> Sweep;
}
