//! Sensor readings and their validation: physical range, NaN/inf, the DS18B20 power-on value,
//! staleness and fault hysteresis.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// The three temperature sensors of the plant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sensor {
    /// Collector outlet.
    Collector,
    /// Tank bottom (solar heat exchanger return).
    TankBottom,
    /// Tank top (hot water draw-off, heater thermostat).
    TankTop,
}

impl Sensor {
    /// Every sensor, in a stable order.
    pub const ALL: [Sensor; 3] = [Sensor::Collector, Sensor::TankBottom, Sensor::TankTop];

    /// Snake-case name, e.g. `"tank_top"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Sensor::Collector => "collector",
            Sensor::TankBottom => "tank_bottom",
            Sensor::TankTop => "tank_top",
        }
    }
}

impl fmt::Display for Sensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a sensor has no usable value. Hardware layers map their errors onto these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensorFault {
    /// The sensor was not found or delivered nothing.
    Missing,
    /// The reading failed its CRC check (transient: the last value is held until stale).
    Crc,
    /// The DS18B20 power-on value: the hardware saw the power-on scratchpad, or a bare 85.0 °C
    /// came without a plausible value before it.
    PowerOnValue,
    /// The sensor reports being disconnected (e.g. DS18B20 -127 °C).
    Disconnected,
    /// The value lies outside the physical range configured for this sensor.
    OutOfRange,
    /// The value was NaN or infinite.
    NotFinite,
    /// No fresh reading for longer than the configured stale timeout.
    Stale,
    /// The bus or driver failed (transient: the last value is held until stale).
    Io,
}

impl SensorFault {
    /// Snake-case name, e.g. `"power_on_value"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SensorFault::Missing => "missing",
            SensorFault::Crc => "crc",
            SensorFault::PowerOnValue => "power_on_value",
            SensorFault::Disconnected => "disconnected",
            SensorFault::OutOfRange => "out_of_range",
            SensorFault::NotFinite => "not_finite",
            SensorFault::Stale => "stale",
            SensorFault::Io => "io",
        }
    }

    /// A transient fault (a single bad CRC or bus hiccup) holds the last good value until it is
    /// older than the stale timeout, so one glitch does not cycle the pump.
    pub const fn is_transient(self) -> bool {
        matches!(self, SensorFault::Crc | SensorFault::Io)
    }
}

impl fmt::Display for SensorFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One sensor's reading for one control step: a temperature in °C or a fault.
///
/// The two value variants differ only in how 85.0 °C is judged (docs/hardware.md): the DS18B20
/// reports exactly that before its first conversion, and a tank also reads exactly 85.000 °C for
/// minutes while it cools through it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading {
    /// A temperature in °C from a source that cannot tell a conversion happened (the kernel's
    /// `temperature` file, a computed value). 85.0 °C counts only when the previous good value
    /// lies within `power_on_window_k` of it; otherwise it is [`SensorFault::PowerOnValue`].
    Value(f64),
    /// A temperature in °C whose scratchpad showed a finished conversion (not the power-on
    /// pattern), so 85.0 °C is taken as it is. The power-on pattern itself arrives as
    /// `Fault(PowerOnValue)`: the scratchpad evidence wins over the window either way.
    Converted(f64),
    /// The hardware layer could not read the sensor.
    Fault(SensorFault),
}

impl From<f64> for Reading {
    fn from(v: f64) -> Self {
        Reading::Value(v)
    }
}

impl From<SensorFault> for Reading {
    fn from(f: SensorFault) -> Self {
        Reading::Fault(f)
    }
}

/// The readings of all sensors for one control step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Readings {
    /// Collector outlet.
    pub collector: Reading,
    /// Tank bottom.
    pub tank_bottom: Reading,
    /// Tank top.
    pub tank_top: Reading,
}

impl Readings {
    /// Three plain values, in °C (collector, tank bottom, tank top).
    pub fn celsius(collector: f64, tank_bottom: f64, tank_top: f64) -> Self {
        Self {
            collector: Reading::Value(collector),
            tank_bottom: Reading::Value(tank_bottom),
            tank_top: Reading::Value(tank_top),
        }
    }

    /// The reading of `sensor`.
    pub fn get(&self, sensor: Sensor) -> Reading {
        match sensor {
            Sensor::Collector => self.collector,
            Sensor::TankBottom => self.tank_bottom,
            Sensor::TankTop => self.tank_top,
        }
    }
}

/// What a sensor currently contributes, as published in the status.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SensorStatus {
    /// The value the control logic uses, if the sensor is usable.
    pub value: Option<f64>,
    /// The active fault, if any (set until the sensor has been good for the clear time).
    pub fault: Option<SensorFault>,
}

/// Limits the validation needs, copied from the params each step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Validation {
    pub(crate) min: f64,
    pub(crate) max: f64,
    pub(crate) stale_ms: u64,
    pub(crate) clear_ms: u64,
    pub(crate) power_on_window: f64,
}

/// A change worth an event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Change {
    Faulted(SensorFault),
    Recovered,
}

/// Per-sensor memory: last good value, active fault and its clear timer.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Track {
    last_good: Option<(f64, Timestamp)>,
    fault: Option<SensorFault>,
    good_since: Option<Timestamp>,
    // None before the first reading: unknown, so unusable, but no alarm.
    value: Option<f64>,
}

/// The DS18B20 reports exactly this before its first conversion.
const POWER_ON_VALUE: f64 = 85.0;

impl Track {
    /// The usable value, if any.
    pub(crate) fn value(&self) -> Option<f64> {
        self.value
    }

    pub(crate) fn status(&self) -> SensorStatus {
        SensorStatus {
            value: self.value,
            fault: self.fault,
        }
    }

    pub(crate) fn fault(&self) -> Option<SensorFault> {
        self.fault
    }

    fn fresh_good(&self, now: Timestamp, v: &Validation) -> Option<f64> {
        self.last_good
            .filter(|(_, at)| {
                now.saturating_duration_since(*at).as_millis() <= u128::from(v.stale_ms)
            })
            .map(|(value, _)| value)
    }

    /// Classifies one reading: `Ok(value, fresh)` or the fault it amounts to.
    fn classify(
        &self,
        now: Timestamp,
        reading: Reading,
        v: &Validation,
    ) -> Result<(f64, bool), SensorFault> {
        match reading {
            Reading::Value(x) | Reading::Converted(x) if !x.is_finite() => {
                Err(SensorFault::NotFinite)
            }
            Reading::Value(x) | Reading::Converted(x) if x < v.min || x > v.max => {
                Err(SensorFault::OutOfRange)
            }
            // Without scratchpad evidence, the window is all there is. Exact comparison is
            // intended: the power-on value is a fixed register pattern, not a measurement.
            Reading::Value(x) if x == POWER_ON_VALUE => match self.fresh_good(now, v) {
                Some(prev) if (prev - POWER_ON_VALUE).abs() <= v.power_on_window => Ok((x, true)),
                _ => Err(SensorFault::PowerOnValue),
            },
            Reading::Value(x) | Reading::Converted(x) => Ok((x, true)),
            Reading::Fault(f) if f.is_transient() => match self.fresh_good(now, v) {
                Some(prev) => Ok((prev, false)),
                None if self.last_good.is_some() => Err(SensorFault::Stale),
                None => Err(f),
            },
            Reading::Fault(f) => Err(f),
        }
    }

    /// Feeds one reading, taken at `taken` (at or before `now`); returns a change worth an
    /// event. Only `taken` refreshes the last good value and counts toward the clear time, so
    /// stepping again on an old sweep (a command acted on at once) does not make it look new.
    pub(crate) fn update(
        &mut self,
        now: Timestamp,
        taken: Timestamp,
        reading: Reading,
        v: &Validation,
    ) -> Option<Change> {
        let taken = taken.min(now);
        let age_ms = now.saturating_duration_since(taken).as_millis();
        let classified = if age_ms > u128::from(v.stale_ms) {
            // A sweep older than the stale timeout is no evidence at all.
            match self.fresh_good(now, v) {
                Some(prev) => Ok((prev, false)),
                None => Err(SensorFault::Stale),
            }
        } else {
            self.classify(now, reading, v)
        };
        match classified {
            Err(fault) => {
                let was = self.fault.replace(fault);
                self.good_since = None;
                self.value = None;
                (was.is_none()).then_some(Change::Faulted(fault))
            }
            Ok((value, fresh)) => {
                if fresh {
                    self.last_good = Some((value, taken));
                }
                let mut change = None;
                if self.fault.is_some() && fresh {
                    let since = *self.good_since.get_or_insert(taken);
                    if taken.saturating_duration_since(since).as_millis() >= u128::from(v.clear_ms)
                    {
                        self.fault = None;
                        self.good_since = None;
                        change = Some(Change::Recovered);
                    }
                }
                self.value = if self.fault.is_none() {
                    Some(value)
                } else {
                    None
                };
                change
            }
        }
    }
}

#[cfg(test)]
mod tests;
