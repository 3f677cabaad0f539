//! The journal records changes, failures and safe states, not repeated writes.

use super::JournalRelays;
use crate::relay::{RelayOutputs, RelayRole};
use crate::sim::{SimConfig, SimFault, SimPlant};

#[test]
fn the_journal_records_changes_and_safe_states_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    let shared = SimPlant::new(SimConfig::default()).into_shared();
    let mut j = JournalRelays::new(shared.clone(), &path).unwrap();
    j.set(RelayRole::Pump, true).unwrap();
    j.set(RelayRole::Pump, true).unwrap();
    j.set(RelayRole::Heater, false).unwrap();
    shared.with(|p| p.inject(SimFault::RelayWrite(RelayRole::Heater)));
    assert!(j.set(RelayRole::Heater, true).is_err());
    assert!(j.safe_state().is_err());
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().map(|l| l.split_once(' ').unwrap().1).collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0], "pump ON");
    assert!(lines[1].starts_with("heater error"), "{text}");
    assert_eq!(lines[2], "safe failed");
}
