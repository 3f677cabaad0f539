//! What the state file is made of while the controller runs: [`Snapshot`]. Pure.
//!
//! The daemon's writer keeps one, fed with every status the loop publishes and every
//! accepted command; heat-sim keeps one the same way for its simulated state file. So both build
//! the file's content with the same code: the mode and the counters from the controller, and
//! only the parameters set over MQTT (a configured value is not persisted, so that a change in
//! heat.toml takes effect at the next start).

use std::collections::BTreeSet;

use heat_core::{Command, Memory, Parameter, RawParams, Status};

use crate::restore::Restored;
use crate::schema::{Counters, StateFile};

/// The controller's persisted state as last reported, with the parameters set over MQTT.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    memory: Memory,
    params: RawParams,
    /// The parameters set over MQTT (restored ones included): only these are persisted.
    set_over_mqtt: BTreeSet<Parameter>,
}

impl Snapshot {
    /// At startup: what the controller starts from.
    pub fn new(restored: &Restored) -> Self {
        Self {
            memory: restored.memory(),
            params: restored.params.raw().clone(),
            set_over_mqtt: restored.parameters.keys().copied().collect(),
        }
    }

    /// The controller's state from one of its statuses.
    pub fn update(&mut self, status: &Status) {
        self.set(
            &status.params,
            Memory {
                mode: status.mode,
                energy: status.energy,
                runtime: status.runtime,
                daily: status.daily,
                last_disinfection_day: status.disinfection.last_day,
                holiday: status.holiday,
            },
        );
    }

    /// The controller's state from its parts, for a caller that has no [`Status`] at hand
    /// (heat-sim, which does not build one per step).
    pub fn set(&mut self, params: &RawParams, memory: Memory) {
        self.params.clone_from(params);
        self.memory = memory;
    }

    /// A command was accepted: a parameter it set is persisted from now on.
    pub fn accepted(&mut self, command: &Command) {
        if let Command::SetParameter(p, _) = command {
            self.set_over_mqtt.insert(*p);
        }
    }

    /// The persisted part of the controller's state, as last set.
    pub fn memory(&self) -> Memory {
        self.memory
    }

    /// What the file would hold now.
    pub fn state(&self) -> StateFile {
        let m = &self.memory;
        StateFile {
            mode: m.mode,
            parameters: self
                .set_over_mqtt
                .iter()
                .map(|p| (*p, self.params.get(*p)))
                .collect(),
            counters: Counters::new(m.energy, m.runtime),
            daily: m.daily,
            last_disinfection_day: m.last_disinfection_day,
            holiday: m.holiday,
        }
    }
}

#[cfg(test)]
mod tests;
