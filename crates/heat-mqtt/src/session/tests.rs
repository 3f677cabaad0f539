//! Unit tests of the session's configuration. The pure session is tested as tables in
//! `machine/tests.rs`, the driver against a real Mosquitto in `tests/it`.

use super::*;

#[test]
fn config_clamps_degenerate_values() {
    let c = SessionConfig::new(Topics::default(), Device::default()).with_command_capacity(0);
    assert_eq!(c.command_capacity, 1);
    assert!(c.discovery);
    assert_eq!(c.topics().prefix(), "solar_heating");
}
