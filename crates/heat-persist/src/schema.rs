//! The state file's content as types ([`StateFile`]) and as JSON. Pure.
//!
//! ```json
//! {
//!   "schema": 1,
//!   "mode": "eco",
//!   "parameters": { "dt_start": 9.5, "heater_setpoint": 55.0 },
//!   "counters": { "collected_kwh": 12.345, "heater_kwh": 1.5 },
//!   "last_disinfection": null
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

use heat_core::{Energy, Mode, Parameter};
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
    /// Reserved for the thermal disinfection (not built yet; always `None` for now): when the
    /// last one ended, in seconds since the Unix epoch.
    pub last_disinfection: Option<u64>,
}

/// The persisted counters: monotonic totals that continue across restarts. A later version adds
/// operating hours and start counts here, each with a default of zero.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Counters {
    /// Heat moved into the tank by the solar loop (kWh).
    #[serde(default)]
    pub collected_kwh: f64,
    /// Electricity used by the heater (kWh).
    #[serde(default)]
    pub heater_kwh: f64,
}

impl From<Energy> for Counters {
    fn from(e: Energy) -> Self {
        Self {
            collected_kwh: e.collected_kwh,
            heater_kwh: e.heater_kwh,
        }
    }
}

impl From<Counters> for Energy {
    fn from(c: Counters) -> Self {
        Energy {
            collected_kwh: c.collected_kwh,
            heater_kwh: c.heater_kwh,
        }
    }
}

/// Only the version, read first: a newer schema is recognised whatever else changed.
#[derive(Deserialize)]
struct Header {
    schema: u32,
}

/// The JSON form.
#[derive(Serialize, Deserialize)]
struct RawStateFile {
    schema: u32,
    mode: String,
    #[serde(default)]
    parameters: BTreeMap<String, f64>,
    #[serde(default)]
    counters: Counters,
    #[serde(default)]
    last_disinfection: Option<u64>,
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
    let raw: RawStateFile = serde_json::from_str(text).map_err(syntax)?;
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
    let mut counters = raw.counters;
    for (name, slot) in [
        ("collected_kwh", &mut counters.collected_kwh),
        ("heater_kwh", &mut counters.heater_kwh),
    ] {
        // serde_json never yields a non-finite number; a negative total is not a total.
        if *slot < 0.0 {
            dropped.push(Dropped::Counter { name, value: *slot });
            *slot = 0.0;
        }
    }
    Ok(Decoded {
        state: StateFile {
            mode,
            parameters,
            counters,
            last_disinfection: raw.last_disinfection,
        },
        dropped,
    })
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
    let numbers = state.parameters.iter().map(|(p, v)| (p.name(), *v)).chain([
        ("collected_kwh", c.collected_kwh),
        ("heater_kwh", c.heater_kwh),
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
        last_disinfection: state.last_disinfection,
    };
    let mut text =
        serde_json::to_string_pretty(&raw).map_err(|e| EncodeError::Json(e.to_string()))?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests;
