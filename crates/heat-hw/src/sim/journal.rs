//! The relay journal of the simulated plant (heat-controller's `--relay-journal`): every relay
//! change, and every switch to the safe state, appended to a file stamped with the plant's
//! simulated time. Evidence for tests and demos of what the plant did, readable after the
//! process ended.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use super::SharedPlant;
use crate::relay::{RelayError, RelayOutputs, RelayRole};

#[cfg(test)]
mod tests;

/// Simulated relays that append every change, and every switch to the safe state, to a file:
/// `<simulated ms> <relay> ON|OFF`, `<simulated ms> <relay> error <why>`, `<simulated ms> safe`
/// (or `safe failed`).
pub struct JournalRelays {
    plant: SharedPlant,
    file: File,
}

impl std::fmt::Debug for JournalRelays {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalRelays").finish_non_exhaustive()
    }
}

impl JournalRelays {
    /// Journals writes to `plant`'s relays into `path` (appending).
    pub fn new(plant: SharedPlant, path: &Path) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self { plant, file })
    }

    fn note(&mut self, what: &str) {
        let ms = self.plant.with(|p| p.state().elapsed.as_millis());
        if let Err(e) = writeln!(self.file, "{ms} {what}") {
            log::warn!("relay journal: {e}");
        }
    }
}

impl RelayOutputs for JournalRelays {
    fn set(&mut self, role: RelayRole, on: bool) -> Result<(), RelayError> {
        let before = self.plant.get(role);
        let result = self.plant.set(role, on);
        match &result {
            Ok(()) if before != Some(on) => {
                self.note(&format!("{role} {}", if on { "ON" } else { "OFF" }));
            }
            Ok(()) => {}
            Err(e) => self.note(&format!("{role} error {e}")),
        }
        result
    }

    fn get(&self, role: RelayRole) -> Option<bool> {
        self.plant.get(role)
    }

    fn safe_state(&mut self) -> Result<(), RelayError> {
        let result = self.plant.safe_state();
        self.note(if result.is_ok() {
            "safe"
        } else {
            "safe failed"
        });
        result
    }
}
