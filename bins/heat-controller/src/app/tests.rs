//! Small decisions of startup.

use std::path::Path;

use super::{lock_path, node_id};

#[test]
fn node_ids_have_no_slashes() {
    assert_eq!(node_id("solar_heating"), "solar_heating");
    assert_eq!(node_id("house/solar"), "house_solar");
}

#[test]
fn a_simulation_at_the_default_lock_path_locks_in_the_temp_dir() {
    let default = Path::new(heat_config::DEFAULT_LOCK_FILE);
    assert_eq!(lock_path(default, false), default);
    assert!(lock_path(default, true).starts_with(std::env::temp_dir()));
    let custom = Path::new("/tmp/x/lock");
    assert_eq!(lock_path(custom, true), custom);
}
