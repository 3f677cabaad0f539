//! The state file's content as types ([`StateFile`]) and as JSON. Pure.
//!
//! ```json
//! {
//!   "schema": 1,
//!   "mode": "eco",
//!   "parameters": { "dt_start": 9.5, "heater_setpoint": 55.0 },
//!   "counters": {
//!     "collected_kwh": 12.345, "heater_kwh": 1.5,
//!     "pump_hours": 310.25, "pump_starts": 1204, "heater_hours": 41.5, "heater_starts": 380
//!   },
//!   "daily": { "day": 20791, "collected_today_kwh": 3.25, "heater_today_kwh": 0.5,
//!              "collected_yesterday_kwh": 7.0, "heater_yesterday_kwh": 1.25 },
//!   "last_disinfection_day": 20790,
//!   "holiday": { "end_day": 20807, "return_to": "eco" }
//! }
//! ```
//!
//! Reading is in two stages, raw (serde, names as text) then typed, so that one unknown name (a
//! mode or parameter from a later version, a hand edit) drops that value alone, with a
//! [`Dropped`], rather than the whole file. Unknown fields are ignored: a later version may add
//! a field under the same schema only when ignoring it is harmless (a new counter, with its
//! default); any other change raises [`SCHEMA`], and an older version then keeps the file aside
//! as a newer schema instead of misreading it.

use std::collections::BTreeMap;

use heat_core::{DailyEnergy, Energy, Holiday, Mode, Parameter, Runtime};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::problem::Dropped;

/// The schema this version reads and writes.
pub const SCHEMA: u32 = 1;

/// What the state file holds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StateFile {
    /// The mode.
    pub mode: Mode,
    /// Every parameter set over MQTT, with its value.
    pub parameters: BTreeMap<Parameter, f64>,
    /// The counters.
    pub counters: Counters,
    /// Today's and yesterday's energy, with the local day they count from.
    pub daily: DailyEnergy,
    /// The local day of the last completed thermal disinfection, in days since 1970-01-01
    /// (heat-core's `LocalTime::day`); `None` when none is known.
    pub last_disinfection_day: Option<i64>,
    /// Holiday mode's end date and the mode it returns to.
    pub holiday: Holiday,
}

/// The persisted counters: monotonic totals that continue across restarts. Each one missing
/// from a file (one written before it existed) reads as zero.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Counters {
    /// Heat moved into the tank by the solar loop (kWh).
    pub collected_kwh: f64,
    /// Electricity used by the heater (kWh).
    pub heater_kwh: f64,
    /// Hours the pump ran.
    pub pump_hours: f64,
    /// Times the pump started.
    pub pump_starts: u64,
    /// Hours the heater ran.
    pub heater_hours: f64,
    /// Times the heater started.
    pub heater_starts: u64,
}

impl Counters {
    /// The controller's counters.
    pub fn new(energy: Energy, runtime: Runtime) -> Self {
        Self {
            collected_kwh: energy.collected_kwh,
            heater_kwh: energy.heater_kwh,
            pump_hours: runtime.pump_hours,
            pump_starts: runtime.pump_starts,
            heater_hours: runtime.heater_hours,
            heater_starts: runtime.heater_starts,
        }
    }

    /// The energy counters, to resume the controller from.
    pub fn energy(&self) -> Energy {
        Energy {
            collected_kwh: self.collected_kwh,
            heater_kwh: self.heater_kwh,
        }
    }

    /// The operating hours and starts, to resume the controller from.
    pub fn runtime(&self) -> Runtime {
        Runtime {
            pump_hours: self.pump_hours,
            pump_starts: self.pump_starts,
            heater_hours: self.heater_hours,
            heater_starts: self.heater_starts,
        }
    }

    /// Every counter by its name in the file, as a number.
    fn numbers(&self) -> [(&'static str, f64); 6] {
        // Start counts stay far below 2^53, where f64 is exact.
        #[allow(clippy::cast_precision_loss)]
        [
            ("collected_kwh", self.collected_kwh),
            ("heater_kwh", self.heater_kwh),
            ("pump_hours", self.pump_hours),
            ("pump_starts", self.pump_starts as f64),
            ("heater_hours", self.heater_hours),
            ("heater_starts", self.heater_starts as f64),
        ]
    }
}

/// The counters as read: every one a number, so that one bad value (negative, or a fractional
/// count) drops that counter alone rather than the whole file.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
struct RawCounters {
    collected_kwh: f64,
    heater_kwh: f64,
    pump_hours: f64,
    pump_starts: f64,
    heater_hours: f64,
    heater_starts: f64,
}

/// Today's and yesterday's energy as written.
#[derive(Debug, Clone, Copy, Serialize)]
struct DailyJson {
    day: Option<i64>,
    collected_today_kwh: f64,
    heater_today_kwh: f64,
    collected_yesterday_kwh: f64,
    heater_yesterday_kwh: f64,
}

impl From<DailyEnergy> for DailyJson {
    fn from(d: DailyEnergy) -> Self {
        Self {
            day: d.day,
            collected_today_kwh: d.today.collected_kwh,
            heater_today_kwh: d.today.heater_kwh,
            collected_yesterday_kwh: d.yesterday.collected_kwh,
            heater_yesterday_kwh: d.yesterday.heater_kwh,
        }
    }
}

/// Today's and yesterday's energy as read: every one a number (see [`RawCounters`]).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
struct RawDaily {
    day: Option<f64>,
    collected_today_kwh: f64,
    heater_today_kwh: f64,
    collected_yesterday_kwh: f64,
    heater_yesterday_kwh: f64,
}

/// The holiday as written: the end date as a day number, the mode by name.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct HolidayJson<D> {
    #[serde(default)]
    end_day: Option<D>,
    #[serde(default)]
    return_to: Option<String>,
}

/// Only the version, read first: a newer schema is recognised whatever else changed.
#[derive(Deserialize)]
struct Header {
    schema: u32,
}

/// The JSON form: written with [`Counters`] and a day number, read with [`RawCounters`] and
/// any number.
#[derive(Serialize, Deserialize)]
struct RawStateFile<C, D, Y> {
    schema: u32,
    mode: String,
    #[serde(default)]
    parameters: BTreeMap<String, f64>,
    #[serde(default)]
    counters: C,
    #[serde(default)]
    daily: Y,
    #[serde(default)]
    last_disinfection_day: Option<D>,
    // Added under schema 1: an older version ignores it (and a holiday mode it does not know
    // reads as auto).
    #[serde(default)]
    holiday: Option<HolidayJson<D>>,
}

/// Why a file's text is not a state file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not JSON, truncated, or fields of the wrong type (serde_json's message, with line and
    /// column).
    #[error("not a valid state file: {0}")]
    Syntax(String),
    /// Written by a later version with a schema this one does not know.
    #[error("schema {found} is newer than {SCHEMA}, the newest this version reads")]
    NewerSchema {
        /// The file's schema.
        found: u32,
    },
    /// Schema 0 was never written.
    #[error("schema 0 is not a state file schema (the first is 1)")]
    SchemaZero,
}

/// A decoded file: the values, and those dropped because this version cannot use them.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The usable values.
    pub state: StateFile,
    /// The values left out, each with why.
    pub dropped: Vec<Dropped>,
}

/// Decodes a state file's text.
pub fn decode(text: &str) -> Result<Decoded, DecodeError> {
    let syntax = |e: serde_json::Error| DecodeError::Syntax(e.to_string());
    let header: Header = serde_json::from_str(text).map_err(syntax)?;
    match header.schema {
        0 => return Err(DecodeError::SchemaZero),
        found if found > SCHEMA => return Err(DecodeError::NewerSchema { found }),
        _ => {}
    }
    let raw: RawStateFile<RawCounters, f64, RawDaily> =
        serde_json::from_str(text).map_err(syntax)?;
    let mut dropped = Vec::new();
    let mode = raw.mode.parse::<Mode>().unwrap_or_else(|_| {
        dropped.push(Dropped::Mode {
            name: raw.mode.clone(),
        });
        Mode::default()
    });
    let mut parameters = BTreeMap::new();
    for (name, value) in raw.parameters {
        match name.parse::<Parameter>() {
            Ok(p) => {
                parameters.insert(p, value);
            }
            Err(_) => dropped.push(Dropped::UnknownParameter { name, value }),
        }
    }
    let c = raw.counters;
    let mut total = |name: &'static str, value: f64| {
        // serde_json never yields a non-finite number; a negative total is not a total.
        if value < 0.0 {
            dropped.push(Dropped::Counter { name, value });
            0.0
        } else {
            value
        }
    };
    let y = raw.daily;
    let daily = DailyEnergy {
        // Not a day number: the day starts again at the next step with a local time (the
        // values still count).
        day: y.day.and_then(day_number),
        today: Energy {
            collected_kwh: total("collected_today_kwh", y.collected_today_kwh),
            heater_kwh: total("heater_today_kwh", y.heater_today_kwh),
        },
        yesterday: Energy {
            collected_kwh: total("collected_yesterday_kwh", y.collected_yesterday_kwh),
            heater_kwh: total("heater_yesterday_kwh", y.heater_yesterday_kwh),
        },
    };
    let collected_kwh = total("collected_kwh", c.collected_kwh);
    let heater_kwh = total("heater_kwh", c.heater_kwh);
    let pump_hours = total("pump_hours", c.pump_hours);
    let heater_hours = total("heater_hours", c.heater_hours);
    let mut count = |name: &'static str, value: f64| {
        if value >= 0.0 && value.fract() == 0.0 {
            // Whole and non-negative; beyond u64 it saturates, as a count would.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let n = value as u64;
            n
        } else {
            dropped.push(Dropped::Counter { name, value });
            0
        }
    };
    let counters = Counters {
        collected_kwh,
        heater_kwh,
        pump_hours,
        pump_starts: count("pump_starts", c.pump_starts),
        heater_hours,
        heater_starts: count("heater_starts", c.heater_starts),
    };
    let last_disinfection_day = raw.last_disinfection_day.and_then(|value| {
        let day = day_number(value);
        if day.is_none() {
            dropped.push(Dropped::LastDisinfection { value });
        }
        day
    });
    let mut holiday = Holiday::default();
    if let Some(h) = raw.holiday {
        holiday.end_day = h.end_day.and_then(|value| {
            let day = day_number(value);
            if day.is_none() {
                dropped.push(Dropped::HolidayEnd { value });
            }
            day
        });
        if let Some(name) = h.return_to {
            match name.parse::<Mode>() {
                Ok(mode) => holiday.return_to = mode,
                Err(_) => dropped.push(Dropped::Mode { name }),
            }
        }
    }
    Ok(Decoded {
        state: StateFile {
            mode,
            parameters,
            counters,
            daily,
            last_disinfection_day,
            holiday,
        },
        dropped,
    })
}

/// `value` as a local day number (days since 1970-01-01): whole, and within a few thousand
/// years of 1970.
fn day_number(value: f64) -> Option<i64> {
    // Whole and below 1e7 in magnitude: the cast is exact.
    #[allow(clippy::cast_possible_truncation)]
    (value.fract() == 0.0 && value.abs() < 1e7).then_some(value as i64)
}

/// A state that cannot be written as a file that reads back.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// JSON has no NaN or infinity (serde_json would write `null`, which does not read back).
    #[error("{field} = {value} is not a finite number")]
    NotFinite {
        /// The parameter or counter.
        field: String,
        /// Its value.
        value: f64,
    },
    /// serde_json refused (not expected: strings, finite numbers, maps with string keys).
    #[error("not serialisable: {0}")]
    Json(String),
}

/// The file's text: pretty JSON (a person may read it), ending in a newline.
pub fn encode(state: &StateFile) -> Result<String, EncodeError> {
    let c = state.counters;
    let numbers = state
        .parameters
        .iter()
        .map(|(p, v)| (p.name(), *v))
        .chain(c.numbers())
        .chain([
            ("collected_today_kwh", state.daily.today.collected_kwh),
            ("heater_today_kwh", state.daily.today.heater_kwh),
            (
                "collected_yesterday_kwh",
                state.daily.yesterday.collected_kwh,
            ),
            ("heater_yesterday_kwh", state.daily.yesterday.heater_kwh),
        ]);
    for (field, value) in numbers {
        if !value.is_finite() {
            return Err(EncodeError::NotFinite {
                field: field.to_owned(),
                value,
            });
        }
    }
    let raw = RawStateFile {
        schema: SCHEMA,
        mode: state.mode.as_str().to_owned(),
        parameters: state
            .parameters
            .iter()
            .map(|(p, v)| (p.name().to_owned(), *v))
            .collect(),
        counters: c,
        daily: DailyJson::from(state.daily),
        last_disinfection_day: state.last_disinfection_day,
        holiday: Some(HolidayJson {
            end_day: state.holiday.end_day,
            return_to: Some(state.holiday.return_to.as_str().to_owned()),
        }),
    };
    let mut text =
        serde_json::to_string_pretty(&raw).map_err(|e| EncodeError::Json(e.to_string()))?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests;
