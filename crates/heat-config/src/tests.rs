//! Tests of the shipped settings template `dist/heat.toml` (installed as
//! `/etc/heat-controller/heat.toml`): it loads as it is and changes nothing; with every example
//! line uncommented it loads the documented example; next to a provisioned environment neither
//! form contradicts it; and it names every key the loader accepts.

use std::path::{Path, PathBuf};

use heat_hw::{Polarity, RelayRole, SensorRole};
use mqtt_auth::TrustAnchor;
use tempfile::TempDir;

use crate::{
    Backend, ControllerSettings, DEFAULT_TOPIC_PREFIX, Layer, Settings, Sources,
    raw::{self, CONTROL_KEYS, CONTROLLER_KEYS, HARDWARE_KEYS, MQTT_KEYS, RELAY_KEYS, SECTIONS},
};

const PASSWORD: &str = "a-long-enough-Password-42";

fn template_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dist/heat.toml")
}

fn template() -> String {
    std::fs::read_to_string(template_path()).expect("dist/heat.toml is readable")
}

/// `# key = value` or `# [table]`: a line the owner is meant to uncomment. Prose and the
/// alternatives indented under it (`#   gpio_line = 4`) are not.
fn example_line(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("# ")?;
    let is_table = rest.starts_with('[') && rest.ends_with(']');
    let is_key = rest
        .split_once(" = ")
        .is_some_and(|(key, value)| is_key_name(key) && !value.is_empty());
    (is_table || is_key).then_some(rest)
}

fn is_key_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The template with every example line uncommented, and how many lines that was.
fn uncommented(text: &str) -> (String, usize) {
    let mut count = 0;
    let mut out = String::new();
    for line in text.lines() {
        match example_line(line) {
            Some(rest) => {
                count += 1;
                out.push_str(rest);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    (out, count)
}

/// The template's lines grouped by the table they sit in, commented tables included; lines
/// before the first table are under "".
fn sections(text: &str) -> Vec<(String, Vec<&str>)> {
    let mut out = vec![(String::new(), Vec::new())];
    for line in text.lines() {
        let bare = line.strip_prefix("# ").unwrap_or(line);
        if bare.starts_with('[') && bare.ends_with(']') {
            out.push((bare[1..bare.len() - 1].to_owned(), Vec::new()));
        } else if let Some((_, lines)) = out.last_mut() {
            lines.push(line);
        }
    }
    out
}

/// Loads `toml` (written to a temp dir as heat.toml) with the credentials in `env`, plus
/// anything the test adds through `extra`.
fn load(
    toml: &str,
    extra: impl FnOnce(&TempDir, Sources) -> Sources,
) -> (TempDir, PathBuf, Settings) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("heat.toml");
    std::fs::write(&path, toml).expect("write heat.toml");
    let sources = Sources::new(dir.path())
        .with_var("MQTT_USERNAME", "heat-controller")
        .with_var("MQTT_PASSWORD", PASSWORD)
        .with_config_path(&path);
    let sources = extra(&dir, sources);
    match Settings::load(&sources) {
        Ok(s) => (dir, path, s),
        Err(e) => panic!("the template does not load: {e}\n--- file ---\n{toml}"),
    }
}

fn assert_defaults(s: &Settings) {
    assert_defaults_but(s, ControllerSettings::default());
}

/// [`assert_defaults`] with `controller` as the expected `[controller]` settings.
fn assert_defaults_but(s: &Settings, controller: ControllerSettings) {
    assert_eq!(s.control_params(), &heat_core::Params::default());
    assert_eq!(s.controller(), &controller);
    assert_eq!(s.topic_prefix(), DEFAULT_TOPIC_PREFIX);
    assert_eq!(s.broker().keep_alive().as_secs(), 30);
    assert!(s.warnings().is_empty(), "{:?}", s.warnings());
}

#[test]
fn the_template_loads_as_it_is_and_changes_no_default() {
    let (_dir, path, s) = load(&template(), |_, s| s);
    assert_defaults(&s);
    assert!(s.hardware().is_none(), "the mapping is commented out");
    assert!(s.require_hardware().is_err(), "the daemon asks for it");
    // Nothing comes from the file but its empty [control] table, which is the defaults.
    let effective = s.effective().to_string();
    let path = path.display().to_string();
    let from_file: Vec<&str> = effective.lines().filter(|l| l.contains(&path)).collect();
    assert_eq!(from_file.len(), 1, "{effective}");
    assert!(from_file[0].starts_with("control "), "{effective}");
}

#[test]
fn with_every_example_uncommented_the_template_loads_the_documented_example() {
    let (text, count) = uncommented(&template());
    let keys = CONTROLLER_KEYS.len() + CONTROL_KEYS.len();
    assert!(count > keys, "only {count} example lines");
    let (_dir, _path, s) = load(&text, |_, s| s);
    // The examples are the defaults, so the uncommented file still changes none, but for the
    // state directory, which has none: its example is the package's StateDirectory.
    let controller = ControllerSettings {
        state_dir: Some(PathBuf::from("/var/lib/heat-controller")),
        ..ControllerSettings::default()
    };
    assert_defaults_but(&s, controller);
    let hw = s.hardware().expect("the example has [hardware]");
    assert_eq!(hw.backend(), Backend::W1);
    assert_eq!(hw.w1_root(), Path::new("/sys/bus/w1/devices"));
    assert_eq!(hw.sensor(SensorRole::Collector), Some("28-0316a2790aff"));
    assert_eq!(hw.sensor(SensorRole::TankBottom), Some("28-0316a27951ff"));
    assert_eq!(hw.sensor(SensorRole::TankTop), Some("28-0417c1b2e3ff"));
    assert_eq!(hw.sensor(SensorRole::Ambient), Some("28-0000075e4f3a"));
    let pump = hw.relay(RelayRole::Pump).expect("pump");
    assert_eq!(pump.chip(), Path::new("/dev/gpiochip0"));
    assert_eq!((pump.line(), pump.polarity()), (17, Polarity::ActiveLow));
    let heater = hw.relay(RelayRole::Heater).expect("heater");
    assert_eq!(
        (heater.line(), heater.polarity()),
        (27, Polarity::ActiveLow)
    );
}

/// What `heat-diag provision` writes to the controller's env: TLS through a private CA,
/// MQTT 5, its own topic prefix.
fn provisioned(dir: &TempDir, sources: Sources) -> Sources {
    let ca = dir.path().join("ca.crt");
    std::fs::write(&ca, "pem").expect("write ca");
    sources
        .with_var("MQTT_BROKER", "broker.lan")
        .with_var("MQTT_PORT", "8883")
        .with_var("MQTT_CA_FILE", ca.to_str().expect("utf-8 path"))
        .with_var("MQTT_VERSION", "5")
        .with_var("MQTT_TOPIC_PREFIX", "solar_heating")
}

#[test]
fn a_provisioned_environment_never_contradicts_the_template() {
    let (text, _) = uncommented(&template());
    for toml in [template(), text] {
        let (dir, _path, s) = load(&toml, provisioned);
        let tls = s.broker().tls().expect("the CA file turns TLS on");
        assert_eq!(tls.trust, TrustAnchor::CaFile(dir.path().join("ca.crt")));
        assert_eq!(s.broker().port(), 8883);
        assert_eq!(s.broker().host(), "broker.lan");
    }
}

#[test]
fn the_template_names_every_key_the_loader_accepts() {
    let text = template();
    let sections = sections(&text);
    let lines_of = |table: &str| -> Vec<&str> {
        match sections.iter().find(|(name, _)| name == table) {
            Some((_, lines)) => lines.clone(),
            None => panic!("dist/heat.toml has no [{table}] table"),
        }
    };
    // The key starts a comment line: an example (`# key = value`), an alternative
    // (`#   key = value`) or a row of the [mqtt] table (`#   key   VARIABLE ...`).
    let names = |lines: &[&str], key: &str| {
        lines.iter().any(|line| {
            line.trim_start_matches('#')
                .trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.starts_with([' ', '=']))
        })
    };
    let example = |lines: &[&str], key: &str| {
        lines
            .iter()
            .any(|line| example_line(line).is_some_and(|l| l.starts_with(&format!("{key} = "))))
    };
    for section in SECTIONS {
        lines_of(section);
    }
    let mqtt = lines_of("mqtt");
    for key in MQTT_KEYS {
        assert!(names(&mqtt, key), "[mqtt] does not name {key}");
    }
    for (table, keys) in [("controller", CONTROLLER_KEYS), ("control", CONTROL_KEYS)] {
        let lines = lines_of(table);
        for key in keys {
            assert!(example(&lines, key), "[{table}] has no `# {key} = ` line");
        }
    }
    let hardware = lines_of("hardware");
    for key in HARDWARE_KEYS {
        let table = format!("hardware.{key}");
        let is_table = sections.iter().any(|(name, _)| name.starts_with(&table));
        assert!(is_table || names(&hardware, key), "[hardware] lacks {key}");
    }
    let sensors = lines_of("hardware.sensors");
    for role in SensorRole::ALL {
        assert!(example(&sensors, role.as_str()), "no sensor {role}");
    }
    for role in RelayRole::ALL {
        let lines = lines_of(&format!("hardware.relays.{role}"));
        for key in RELAY_KEYS {
            assert!(example(&lines, key), "[hardware.relays.{role}] lacks {key}");
        }
    }
}

#[test]
fn even_uncommented_the_template_sets_no_connection_key() {
    let (text, _) = uncommented(&template());
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("heat.toml");
    std::fs::write(&path, text).expect("write heat.toml");
    let file = raw::load(Some((path, "--config".to_owned()))).expect("parses");
    for key in MQTT_KEYS {
        let layer = file.get("mqtt", key).map(|(_, layer)| layer);
        let from_file = matches!(layer, Some(Layer::Toml(_)));
        // keep_alive_secs is the one [mqtt] key heat.env has no variable for.
        assert_eq!(
            from_file,
            *key == "keep_alive_secs",
            "mqtt.{key}: {layer:?}"
        );
    }
    assert!(
        !template().contains("password ="),
        "no password in the template"
    );
}
