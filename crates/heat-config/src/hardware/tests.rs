//! Tests of the `[hardware]` table: the mapping conversions and every configuration error, each
//! through `Settings::load` as the binaries call it (the shipped template is tested in
//! `src/tests.rs`).

use std::path::Path;

use heat_hw::{Polarity, RelayRole};
use tempfile::TempDir;

use crate::{Backend, ConfigError, Settings, Sources};

const PASSWORD: &str = "a-long-enough-Password-42";

const SENSORS: &str = r#"
[hardware.sensors]
collector = "28-0316a2790aff"
tank_bottom = "28-0316a27951ff"
tank_top = "28-0417c1b2e3ff"
"#;

const RELAYS: &str = r#"
[hardware.relays.pump]
line = 17
[hardware.relays.heater]
chip = "/dev/gpiochip0"
line = 27
active_low = false
"#;

/// Loads `toml` written to a temp dir, with valid credentials in the environment.
fn load_toml(toml: &str) -> (TempDir, Result<Settings, ConfigError>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("heat.toml");
    std::fs::write(&path, toml).expect("write toml");
    let sources = Sources::new(dir.path())
        .with_var("MQTT_USERNAME", "heat")
        .with_var("MQTT_PASSWORD", PASSWORD)
        .with_config_path(&path);
    let result = Settings::load(&sources);
    (dir, result)
}

fn ok(toml: &str) -> Settings {
    match load_toml(toml).1 {
        Ok(s) => s,
        Err(e) => panic!("expected settings, got: {e}"),
    }
}

/// The error, after checking that its message names every needle and the file.
fn err(toml: &str, needles: &[&str]) -> ConfigError {
    match load_toml(toml) {
        (_, Ok(s)) => panic!("expected an error, got {s:?}"),
        (dir, Err(e)) => {
            let message = e.to_string();
            for needle in needles {
                assert!(message.contains(needle), "{message:?} lacks {needle:?}");
            }
            let file = dir.path().join("heat.toml");
            assert!(
                message.contains(&file.display().to_string()),
                "{message:?} does not name the file"
            );
            e
        }
    }
}

#[test]
fn mapping_converts_to_heat_hw_configs() {
    let s = ok(&format!("[hardware]\nw1_root = \"w1\"\n{SENSORS}{RELAYS}"));
    let hw = s.require_hardware().expect("configured");
    let w1 = hw.w1_config();
    // Relative to the TOML file's directory.
    assert!(w1.root.is_absolute() && w1.root.ends_with("w1"), "{w1:?}");
    assert_eq!(w1.sensors.len(), 3);
    let relays = hw.relay_configs();
    assert_eq!(relays[0].role, RelayRole::Pump);
    assert_eq!(relays[0].chip, Path::new("/dev/gpiochip0"));
    assert_eq!(
        relays[0].polarity,
        Polarity::ActiveLow,
        "default is active low"
    );
    assert_eq!(relays[1].polarity, Polarity::ActiveHigh);
    let roms = hw.rom_addresses();
    assert_eq!(roms.len(), 3);
    assert_eq!(heat_hw::onewire_gpio::w1_id(roms[0].1), "28-0316a2790aff");
}

#[test]
fn the_gpio_backend_needs_its_bus_line_and_checks_it_against_the_relays() {
    let s = ok(&format!(
        "[hardware]\nbackend = \"gpio\"\ngpio_line = 4\nresolution = 10\n{SENSORS}{RELAYS}"
    ));
    let bus = s.hardware().and_then(|h| h.bus()).expect("bus").clone();
    assert_eq!(bus.line(), 4);
    assert_eq!(bus.chip(), Path::new("/dev/gpiochip0"));
    assert_eq!(bus.resolution(), heat_hw::onewire_gpio::Resolution::Bits10);

    err(
        &format!("[hardware]\nbackend = \"gpio\"\n{SENSORS}{RELAYS}"),
        &["hardware.gpio_line is missing"],
    );
    let e = err(
        &format!("[hardware]\nbackend = \"gpio\"\ngpio_line = 17\n{SENSORS}{RELAYS}"),
        &["hardware.relays.pump", "hardware.gpio_line", "line 17"],
    );
    assert!(matches!(e, ConfigError::LineUsedTwice { line: 17, .. }));
    err(
        &format!(
            "[hardware]\nbackend = \"gpio\"\ngpio_line = 4\nresolution = 13\n{SENSORS}{RELAYS}"
        ),
        &["hardware.resolution", "13", "9, 10, 11 or 12"],
    );
}

#[test]
fn bus_keys_with_another_backend_are_a_warning() {
    let s = ok(&format!("[hardware]\ngpio_line = 4\n{SENSORS}{RELAYS}"));
    assert!(
        s.warnings().iter().any(|w| w.contains("gpio_line")),
        "{:?}",
        s.warnings()
    );
}

#[test]
fn the_sim_backend_needs_no_devices_but_still_validates_them() {
    let s = ok("[hardware]\nbackend = \"sim\"\n");
    let hw = s.hardware().expect("configured");
    assert_eq!(hw.backend(), Backend::Sim);
    assert!(hw.sensors().is_empty() && hw.relays().is_empty());
    err(
        "[hardware]\nbackend = \"sim\"\n[hardware.sensors]\ncollector = \"28-xyz\"\n",
        &["hardware.sensors.collector", "28-xyz", "12 hex digits"],
    );
}

#[test]
fn no_hardware_table_loads_but_a_daemon_is_told_to_add_one() {
    let s = ok("[mqtt]\nbroker = \"localhost\"\n");
    assert!(s.hardware().is_none());
    let e = s.require_hardware().expect_err("not configured");
    assert!(matches!(e, ConfigError::HardwareNotConfigured { .. }));
    assert!(e.to_string().contains("--simulate"), "{e}");
}

#[test]
fn each_mapping_mistake_is_its_own_error() {
    let e = err(
        &format!("[hardware]\nbackend = \"1wire\"\n{SENSORS}{RELAYS}"),
        &[
            "hardware.backend",
            "\"1wire\"",
            "\"w1\"",
            "\"gpio\"",
            "\"sim\"",
        ],
    );
    assert!(matches!(e, ConfigError::UnknownBackend { .. }));

    let e = err(
        &format!("{SENSORS}colector = \"28-0316a2790a00\"\n{RELAYS}"),
        &[
            "hardware.sensors.colector",
            "collector, tank_bottom, tank_top or ambient",
        ],
    );
    assert!(matches!(e, ConfigError::UnknownSensorRole { .. }));

    let e = err(
        &format!("{SENSORS}{RELAYS}[hardware.relays.pmp]\nline = 5\n"),
        &["hardware.relays.pmp", "pump or heater"],
    );
    assert!(matches!(e, ConfigError::UnknownRelayRole { .. }));

    let e = err(
        &format!("{SENSORS}{RELAYS}").replace("line = 17", "line = 17\nlin = 3"),
        &["hardware.relays.pump.lin", "chip, line, active_low"],
    );
    assert!(matches!(e, ConfigError::UnknownKey { .. }));

    let e = err(
        &format!("[hardware]\nrelay = 1\n{SENSORS}{RELAYS}"),
        &["hardware.relay", "backend"],
    );
    assert!(matches!(e, ConfigError::UnknownKey { .. }));

    let e = err(
        &format!("{SENSORS}{RELAYS}").replace("28-0417c1b2e3ff", "28-0316A2790AFF"),
        &[
            "hardware.sensors.collector",
            "hardware.sensors.tank_top",
            "28-0316a2790aff",
        ],
    );
    assert!(matches!(e, ConfigError::DuplicateSensorId { .. }));

    let e = err(
        &format!("{SENSORS}{RELAYS}").replace("tank_top = \"28-0417c1b2e3ff\"", ""),
        &["hardware.sensors.tank_top is missing", "w1 backend"],
    );
    assert!(matches!(
        e,
        ConfigError::MissingSensor {
            role: "tank_top",
            ..
        }
    ));

    let e = err(
        &format!("{SENSORS}[hardware.relays.pump]\nline = 17\n"),
        &["[hardware.relays.heater] is missing"],
    );
    assert!(matches!(
        e,
        ConfigError::MissingRelay { role: "heater", .. }
    ));

    let e = err(
        &format!("{SENSORS}{RELAYS}").replace("line = 27", "line = 17"),
        &[
            "hardware.relays.pump",
            "hardware.relays.heater",
            "line 17",
            "/dev/gpiochip0",
        ],
    );
    assert!(matches!(e, ConfigError::LineUsedTwice { .. }));

    let e = err(
        &format!("{SENSORS}{RELAYS}").replace("line = 27", ""),
        &["hardware.relays.heater.line is missing"],
    );
    assert!(matches!(e, ConfigError::MissingRelayLine { .. }));

    let e = err(
        &format!("{SENSORS}{RELAYS}").replace("/dev/gpiochip0", "gpio0"),
        &["hardware.relays.heater.chip", "\"gpio0\"", "gpiochip0"],
    );
    assert!(matches!(e, ConfigError::InvalidChip { .. }));

    let e = err(
        &format!("[hardware]\nw1_root = \" \"\n{SENSORS}{RELAYS}"),
        &["hardware.w1_root", "empty"],
    );
    assert!(matches!(e, ConfigError::EmptyW1Root { .. }));
}

#[test]
fn chips_in_different_spellings_are_the_same_chip() {
    // "gpiochip0" and "/dev/gpiochip0" are one device: line 5 on both is a conflict.
    let toml = format!("{SENSORS}{RELAYS}")
        .replace("line = 17", "line = 5")
        .replace("line = 27", "line = 5");
    let e = err(&toml, &["line 5"]);
    assert!(matches!(e, ConfigError::LineUsedTwice { line: 5, .. }));
    // Same line on another chip is fine.
    let toml = toml.replace("/dev/gpiochip0", "gpiochip1");
    let s = ok(&toml);
    assert_eq!(s.hardware().map(|h| h.relays().len()), Some(2));
}
