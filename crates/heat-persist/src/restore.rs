//! The file's values under the current configuration. Pure.
//!
//! The configuration (`[control]` in heat.toml) gives the starting parameters; each parameter
//! set over MQTT replaces its configured value when heat-core's validation accepts the result
//! (range, step and the cross-field rules against the other values). A value it refuses is
//! dropped, with a [`Dropped`], and the configured one stays: a restored file can never make the
//! parameters invalid.

use std::collections::BTreeMap;

use heat_core::{DailyEnergy, Energy, Holiday, Memory, Mode, Parameter, Params, Runtime};

use crate::problem::Dropped;
use crate::schema::{Counters, StateFile};

/// What the controller starts from.
#[derive(Debug, Clone, PartialEq)]
pub struct Restored {
    /// The parameters in force: the configuration with the accepted persisted values.
    pub params: Params,
    /// The mode.
    pub mode: Mode,
    /// The energy counters, to continue from.
    pub energy: Energy,
    /// The operating hours and starts, to continue from.
    pub runtime: Runtime,
    /// Today's and yesterday's energy, to continue from.
    pub daily: DailyEnergy,
    /// The last thermal disinfection's local day, to continue the interval from.
    pub last_disinfection_day: Option<i64>,
    /// Holiday mode's end date and the mode it returns to.
    pub holiday: Holiday,
    /// The persisted parameters that were applied (still "set over MQTT", so written again).
    pub parameters: BTreeMap<Parameter, f64>,
    /// Persisted parameters that were refused.
    pub dropped: Vec<Dropped>,
}

impl Restored {
    /// Nothing persisted: the configuration, auto mode, counters at zero.
    pub fn defaults(config: &Params) -> Self {
        Self {
            params: config.clone(),
            mode: Mode::default(),
            energy: Energy::default(),
            runtime: Runtime::default(),
            daily: DailyEnergy::default(),
            last_disinfection_day: None,
            holiday: Holiday::default(),
            parameters: BTreeMap::new(),
            dropped: Vec::new(),
        }
    }

    /// The state file this start corresponds to (what a write now would hold).
    pub fn state(&self) -> StateFile {
        StateFile {
            mode: self.mode,
            parameters: self.parameters.clone(),
            counters: Counters::new(self.energy, self.runtime),
            daily: self.daily,
            last_disinfection_day: self.last_disinfection_day,
            holiday: self.holiday,
        }
    }

    /// What the controller resumes from.
    pub fn memory(&self) -> Memory {
        Memory {
            mode: self.mode,
            energy: self.energy,
            runtime: self.runtime,
            daily: self.daily,
            last_disinfection_day: self.last_disinfection_day,
            holiday: self.holiday,
        }
    }
}

/// Applies `state` over `config`.
///
/// All values at once when they are valid together. Otherwise one at a time, in passes, until a
/// pass applies none (so that the order in which two related values are tried never decides:
/// a raised `dt_start` goes in before the `dt_stop` above the old one); the rest are dropped
/// with the error they get against the final parameters.
pub fn restore(config: &Params, state: &StateFile) -> Restored {
    let mut restored = Restored {
        mode: state.mode,
        energy: state.counters.energy(),
        runtime: state.counters.runtime(),
        daily: state.daily,
        last_disinfection_day: state.last_disinfection_day,
        holiday: state.holiday,
        ..Restored::defaults(config)
    };
    let mut raw = config.raw().clone();
    for (p, v) in &state.parameters {
        raw.set(*p, *v);
    }
    if let Ok(params) = Params::try_from(raw) {
        restored.params = params;
        restored.parameters = state.parameters.clone();
        return restored;
    }
    let mut left: Vec<(Parameter, f64)> = state.parameters.iter().map(|(p, v)| (*p, *v)).collect();
    loop {
        let before = left.len();
        left.retain(|&(p, v)| match restored.params.with(p, v) {
            Ok(params) => {
                restored.params = params;
                restored.parameters.insert(p, v);
                false
            }
            Err(_) => true,
        });
        if left.len() == before {
            break;
        }
    }
    for (parameter, value) in left {
        // The last pass refused each of these against these same parameters.
        match restored.params.with(parameter, value) {
            Ok(params) => {
                restored.params = params;
                restored.parameters.insert(parameter, value);
            }
            Err(error) => restored.dropped.push(Dropped::Parameter {
                parameter,
                value,
                error,
            }),
        }
    }
    restored
}

#[cfg(test)]
mod tests;
