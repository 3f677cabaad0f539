//! Unit tests of the session's pure pieces: configuration (the answers are heat-state's). The session itself is
//! tested against a real Mosquitto in `tests/it`.

use super::*;

#[test]
fn config_clamps_degenerate_values() {
    let c = SessionConfig::new(Topics::default(), Device::default())
        .with_heartbeat(Duration::ZERO)
        .with_command_capacity(0);
    assert_eq!(c.heartbeat, Duration::from_secs(1));
    assert_eq!(c.command_capacity, 1);
    assert!(c.discovery);
    assert_eq!(c.topics().prefix(), "solar_heating");
}
