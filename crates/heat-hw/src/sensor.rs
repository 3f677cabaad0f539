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
    /// 85.000 °C with the scratchpad still in its power-on state ([`Scratchpad::is_power_on`]):
    /// no conversion happened (the sensor lost power or was read too early).
    #[error("power-on value 85.000 °C (the scratchpad shows no conversion)")]
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
const DISCONNECTED_MILLI_C: i64 = -127_000;

/// Classifies a raw reading in milli °C: the −127 sentinel and the range, then °C.
///
/// 85.000 °C passes: a bare value cannot tell the power-on value from a real 85.000 °C. Sources
/// with a scratchpad decide with [`classify_scratchpad`]; a bare value goes to heat-core as
/// [`Provenance::ValueOnly`], where the plausibility window decides (docs/hardware.md).
pub fn classify_milli(milli: i64) -> Result<f64, SensorError> {
    match milli {
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

/// Where a sweep's value came from, for the one question a value alone cannot answer: is an
/// 85.000 °C the DS18B20 power-on value or a real temperature?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Provenance {
    /// The driver read the scratchpad and found no power-on pattern ([`Scratchpad::is_power_on`]),
    /// so a conversion happened and 85.000 °C is real.
    Scratchpad,
    /// Only the value is known (the kernel's `temperature` file, a computed source): heat-core's
    /// plausibility window decides about 85.0 °C.
    #[default]
    ValueOnly,
}

/// The nine bytes a DS18B20 answers to READ SCRATCHPAD (datasheet figure 9): temperature LSB and
/// MSB, TH, TL, configuration, three reserved bytes, CRC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scratchpad(pub [u8; 9]);

/// Temperature register at power-on: +85 °C (0x0550).
const POWER_ON_RAW: i16 = 0x0550;
/// Reserved byte 6 at power-on on genuine parts and every documented clone family that powers on
/// at 85 °C; genuine parts overwrite it on each conversion with `0x10 - (LSB & 0x0F)`.
const POWER_ON_BYTE6: u8 = 0x0c;

impl Scratchpad {
    /// The power-on scratchpad with the factory TH/TL/configuration (`50 05 4B 46 7F FF 0C 10`).
    pub fn power_on() -> Self {
        Self::with_crc([0x50, 0x05, 0x4b, 0x46, 0x7f, 0xff, POWER_ON_BYTE6, 0x10])
    }

    /// What a genuine (Maxim, "family A1") DS18B20 holds after converting to `raw` (1/16 °C
    /// steps): reserved byte 6 becomes `0x10 - (LSB & 0x0F)`, so at 85.000 °C it reads 0x10.
    pub fn after_conversion(raw: i16, config: u8) -> Self {
        let [lo, hi] = raw.to_le_bytes();
        Self::with_crc([lo, hi, 0x4b, 0x46, config, 0xff, 0x10 - (lo & 0x0f), 0x10])
    }

    fn with_crc(bytes: [u8; 8]) -> Self {
        let mut pad = [0u8; 9];
        pad[..8].copy_from_slice(&bytes);
        pad[8] = one_wire_bus::crc::crc8(&bytes);
        Self(pad)
    }

    /// The temperature register in 1/16 °C.
    pub fn raw(&self) -> i16 {
        i16::from_le_bytes([self.0[0], self.0[1]])
    }

    /// Whether the CRC byte matches the first eight.
    pub fn crc_ok(&self) -> bool {
        one_wire_bus::crc::crc8(&self.0[..8]) == self.0[8]
    }

    /// The power-on pattern: temperature 0x0550 (85 °C) with reserved byte 6 still at 0x0C.
    /// TH, TL and configuration are left out on purpose: they come from the EEPROM at power-on,
    /// so a user-set resolution or alarm changes them. This is the rule of Linux w1_therm's
    /// `features` bit 1 and of DallasTemperature 4.x (docs/hardware.md).
    pub fn is_power_on(&self) -> bool {
        self.raw() == POWER_ON_RAW && self.0[6] == POWER_ON_BYTE6
    }
}

/// Classifies a scratchpad whose CRC has been checked: a power-on pattern is
/// [`SensorError::PowerOnValue`], anything else goes through [`classify_celsius`]. `undefined_bits`
/// masks the low register bits that a lower resolution leaves undefined.
pub fn classify_scratchpad(pad: &Scratchpad, undefined_bits: i16) -> Result<f64, SensorError> {
    if pad.is_power_on() {
        return Err(SensorError::PowerOnValue);
    }
    let raw = pad.raw() & !undefined_bits;
    // Exact: 1/16 °C steps are binary fractions.
    classify_celsius(f64::from(raw) / 16.0)
}

/// The result of one sweep: per configured role, a temperature in °C or the reason there is none.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sweep {
    readings: Vec<(SensorRole, Result<f64, SensorError>, Provenance)>,
}

impl Sweep {
    /// An empty sweep.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one role's outcome from a bare value ([`Provenance::ValueOnly`]), replacing an
    /// earlier one for the same role.
    pub fn insert(&mut self, role: SensorRole, reading: Result<f64, SensorError>) {
        self.insert_from(role, reading, Provenance::ValueOnly);
    }

    /// Records one role's outcome and where it came from, replacing an earlier one.
    pub fn insert_from(
        &mut self,
        role: SensorRole,
        reading: Result<f64, SensorError>,
        provenance: Provenance,
    ) {
        match self.readings.iter_mut().find(|(r, _, _)| *r == role) {
            Some(slot) => {
                slot.1 = reading;
                slot.2 = provenance;
            }
            None => self.readings.push((role, reading, provenance)),
        }
    }

    /// Where `role`'s value came from; an unconfigured role is [`Provenance::ValueOnly`].
    pub fn provenance(&self, role: SensorRole) -> Provenance {
        self.readings
            .iter()
            .find(|(r, _, _)| *r == role)
            .map_or(Provenance::ValueOnly, |(_, _, p)| *p)
    }

    /// The outcome for `role`; an unconfigured role is [`SensorError::Missing`].
    pub fn get(&self, role: SensorRole) -> Result<f64, SensorError> {
        self.readings
            .iter()
            .find(|(r, _, _)| *r == role)
            .map_or(Err(SensorError::Missing), |(_, v, _)| v.clone())
    }

    /// Every recorded outcome, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = (SensorRole, &Result<f64, SensorError>)> {
        self.readings.iter().map(|(r, v, _)| (*r, v))
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
