//! `heat-diag sensors` on fake w1 sysfs trees written to a temp dir: roles, readings, every
//! typed error, missing roles, `--w1-root`, `--json` and the exit codes.

use std::{fs, path::Path, process::Command};

use crate::{heat_diag, text};

/// Credentials: the loader needs them whatever the subcommand.
const ENV: &[(&str, &str)] = &[
    ("MQTT_USERNAME", "heat"),
    ("MQTT_PASSWORD", "sensors-secret-Kx7Wq2Lm9"),
];

const COLLECTOR: &str = "28-0316a2790aff";
const TANK_BOTTOM: &str = "28-0316a27951ff";
const TANK_TOP: &str = "28-0417c1b2e3ff";
const AMBIENT: &str = "28-0000075e4f3a";

/// A kernel-style `w1_slave` with a valid CRC line reading `milli` m°C.
fn slave(milli: i64) -> String {
    format!("72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t={milli}\n")
}

fn sensor(root: &Path, id: &str, file: &str, contents: &str) {
    let dir = root.join(id);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(file), contents).unwrap();
}

/// `heat.toml` with backend w1 under `w1/` (relative to the file) and the four roles.
fn config(dir: &Path, extra: &str) -> String {
    let path = dir.join("heat.toml");
    fs::write(
        &path,
        format!(
            "[hardware]\nbackend = \"w1\"\nw1_root = \"w1\"\n{extra}\n\
             [hardware.sensors]\ncollector = \"{COLLECTOR}\"\ntank_bottom = \"{TANK_BOTTOM}\"\n\
             tank_top = \"{TANK_TOP}\"\nambient = \"{AMBIENT}\"\n\
             [hardware.relays.pump]\nline = 17\n[hardware.relays.heater]\nline = 27\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

#[test]
fn all_roles_valid_lists_unassigned_devices_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("w1");
    sensor(&root, COLLECTOR, "w1_slave", &slave(71_250));
    sensor(&root, TANK_BOTTOM, "w1_slave", &slave(30_500));
    // Newer kernels offer only `temperature`.
    sensor(&root, TANK_TOP, "temperature", "55125\n");
    sensor(&root, AMBIENT, "w1_slave", &slave(-3_500));
    sensor(&root, "28-00000000beef", "w1_slave", &slave(21_000));
    fs::create_dir_all(root.join("w1_bus_master1")).unwrap();
    let cfg = config(dir.path(), "");
    let out = heat_diag(dir.path(), &["--config", &cfg, "sensors"], ENV);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    for line in [
        format!("{COLLECTOR}  collector    71.250 °C"),
        format!("{TANK_TOP}  tank_top     55.125 °C"),
        format!("{AMBIENT}  ambient      -3.500 °C"),
        "28-00000000beef  unassigned   21.000 °C".to_owned(),
        "ok: all 4 configured roles".to_owned(),
    ] {
        assert!(shown.contains(&line), "{line:?} not in:\n{shown}");
    }
    assert!(!shown.contains("w1_bus_master1"), "{shown}");
}

#[test]
fn every_typed_error_and_missing_role_is_shown_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("w1");
    sensor(
        &root,
        COLLECTOR,
        "w1_slave",
        "72 01 4b 46 7f ff 0e 10 57 : crc=12 NO\n72 01 4b 46 7f ff 0e 10 57 t=23125\n",
    );
    sensor(&root, TANK_BOTTOM, "w1_slave", &slave(85_000));
    sensor(&root, TANK_TOP, "temperature", "-127000\n");
    sensor(&root, "28-0000000000a1", "w1_slave", &slave(130_000));
    sensor(&root, "28-0000000000a2", "w1_slave", "garbage\n");
    sensor(
        &root,
        "28-0000000000a3",
        "w1_slave",
        "00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n",
    );
    // The ambient sensor is configured but absent.
    let cfg = config(dir.path(), "");
    let out = heat_diag(dir.path(), &["--config", &cfg, "sensors", "--json"], ENV);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = json(&out);
    let kind = |id: &str| {
        report["devices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == id)
            .map(|d| (d["role"].clone(), d["error"]["kind"].clone()))
            .unwrap_or_else(|| panic!("{id} not listed: {report}"))
    };
    assert_eq!(kind(COLLECTOR), ("collector".into(), "crc".into()));
    assert_eq!(
        kind(TANK_BOTTOM),
        ("tank_bottom".into(), "power_on_value".into())
    );
    assert_eq!(kind(TANK_TOP), ("tank_top".into(), "disconnected".into()));
    let null = serde_json::Value::Null;
    assert_eq!(
        kind("28-0000000000a1"),
        (null.clone(), "out_of_range".into())
    );
    assert_eq!(kind("28-0000000000a2"), (null.clone(), "malformed".into()));
    assert_eq!(kind("28-0000000000a3"), (null, "disconnected".into()));
    assert_eq!(report["missing"][0]["role"], "ambient");
    assert_eq!(report["missing"][0]["id"], AMBIENT);
    assert_eq!(
        report["failed_roles"],
        serde_json::json!(["collector", "tank_bottom", "tank_top", "ambient"])
    );
    assert_eq!(report["ok"], false);

    let human = heat_diag(dir.path(), &["--config", &cfg, "sensors"], ENV);
    let shown = text(&human);
    assert_eq!(human.status.code(), Some(1), "{shown}");
    assert!(shown.contains("ERROR CRC mismatch [crc]"), "{shown}");
    assert!(
        shown.contains(&format!(
            "ambient      MISSING: configured as {AMBIENT}, not found on the bus"
        )),
        "{shown}"
    );
    assert!(shown.contains("FAIL: 4 of 4 configured roles"), "{shown}");
}

#[test]
fn a_read_that_never_completes_is_a_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("w1");
    sensor(&root, COLLECTOR, "w1_slave", &slave(20_000));
    sensor(&root, TANK_BOTTOM, "w1_slave", &slave(20_000));
    fs::create_dir_all(root.join(TANK_TOP)).unwrap();
    // A FIFO with no writer blocks the reader, as a wedged w1 bus does.
    let fifo = root.join(TANK_TOP).join("w1_slave");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let cfg = config(dir.path(), "");
    let out = heat_diag(dir.path(), &["--config", &cfg, "sensors", "--json"], ENV);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = json(&out);
    let top = report["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == TANK_TOP)
        .unwrap();
    assert_eq!(top["error"]["kind"], "timeout", "{report}");
    assert_eq!(
        report["failed_roles"],
        serde_json::json!(["tank_top", "ambient"])
    );
}

#[test]
fn w1_root_flag_overrides_the_configured_root() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("elsewhere");
    for id in [COLLECTOR, TANK_BOTTOM, TANK_TOP, AMBIENT] {
        sensor(&other, id, "temperature", "40000\n");
    }
    let cfg = config(dir.path(), "");
    // The configured root (w1/) does not exist: the bus cannot be listed.
    let out = heat_diag(dir.path(), &["--config", &cfg, "sensors"], ENV);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("bus error        cannot list"), "{shown}");
    assert!(shown.contains("dtoverlay=w1-gpio"), "{shown}");

    let out = heat_diag(
        dir.path(),
        &["--config", &cfg, "sensors", "--w1-root", "elsewhere"],
        ENV,
    );
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("elsewhere (w1)"), "{shown}");
}

#[test]
fn configuration_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("bare.toml");
    fs::write(&bare, "[mqtt]\nbroker = \"localhost\"\n").unwrap();
    let out = heat_diag(
        dir.path(),
        &["--config", bare.to_str().unwrap(), "sensors"],
        ENV,
    );
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    assert!(shown.contains("[hardware]"), "{shown}");

    let sim = dir.path().join("sim.toml");
    fs::write(&sim, "[hardware]\nbackend = \"sim\"\n").unwrap();
    let out = heat_diag(
        dir.path(),
        &["--config", sim.to_str().unwrap(), "sensors"],
        ENV,
    );
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    assert!(
        shown.contains("backend = \"sim\" has no sensors"),
        "{shown}"
    );

    let gpio = dir.path().join("gpio.toml");
    fs::write(
        &gpio,
        format!(
            "[hardware]\nbackend = \"gpio\"\ngpio_line = 4\n[hardware.sensors]\n\
             collector = \"{COLLECTOR}\"\ntank_bottom = \"{TANK_BOTTOM}\"\ntank_top = \"{TANK_TOP}\"\n\
             [hardware.relays.pump]\nline = 17\n[hardware.relays.heater]\nline = 27\n"
        ),
    )
    .unwrap();
    let out = heat_diag(
        dir.path(),
        &[
            "--config",
            gpio.to_str().unwrap(),
            "sensors",
            "--w1-root",
            "x",
        ],
        ENV,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--w1-root applies to backend"));
}

#[test]
fn gpio_backend_without_a_chip_reports_the_bus_and_exits_1() {
    // No GPIO exists here: the honest check is that the failure is reported, not hidden.
    let dir = tempfile::tempdir().unwrap();
    let gpio = dir.path().join("gpio.toml");
    fs::write(
        &gpio,
        format!(
            "[hardware]\nbackend = \"gpio\"\ngpio_chip = \"/nonexistent/gpiochip9\"\ngpio_line = 4\n\
             [hardware.sensors]\ncollector = \"{COLLECTOR}\"\ntank_bottom = \"{TANK_BOTTOM}\"\n\
             tank_top = \"{TANK_TOP}\"\n\
             [hardware.relays.pump]\nline = 17\n[hardware.relays.heater]\nline = 27\n"
        ),
    )
    .unwrap();
    let out = heat_diag(
        dir.path(),
        &["--config", gpio.to_str().unwrap(), "sensors", "--json"],
        ENV,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = json(&out);
    assert_eq!(report["backend"], "gpio");
    let err = report["bus_error"].as_str().unwrap();
    assert!(err.contains("/nonexistent/gpiochip9"), "{err}");
    assert_eq!(report["missing"].as_array().unwrap().len(), 3);
}
