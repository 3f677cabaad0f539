//! `heat-diag sensors` on fake w1 sysfs trees written to a temp dir: roles, readings, every
//! typed error, missing roles, `--w1-root`, `--json`, `--watch` and the exit codes. Every run has
//! no MQTT variable at all (the environment is cleared): listing sensors needs none, nor a
//! `[hardware]` table.

use std::{
    fs,
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use crate::{heat_diag, text};

/// No MQTT variable at all.
const ENV: &[(&str, &str)] = &[];

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
    // The power-on scratchpad (50 05 … 0c 10): a bare t=85000 with a converted pad is a real 85 °C.
    sensor(
        &root,
        TANK_BOTTOM,
        "w1_slave",
        "50 05 4b 46 7f ff 0c 10 1c : crc=1c YES\n50 05 4b 46 7f ff 0c 10 1c t=85000\n",
    );
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

#[test]
fn without_a_hardware_table_or_any_config_every_sensor_is_listed_unassigned() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("w1");
    sensor(&root, COLLECTOR, "w1_slave", &slave(44_500));
    sensor(&root, "28-00000000beef", "temperature", "21000\n");
    fs::create_dir_all(root.join("w1_bus_master1")).unwrap();
    // A TOML with MQTT settings only, and then no TOML at all.
    let bare = dir.path().join("bare.toml");
    fs::write(&bare, "[mqtt]\nbroker = \"localhost\"\n").unwrap();
    for config in [&["--config", bare.to_str().unwrap()][..], &[]] {
        let args = [config, &["sensors", "--w1-root", "w1"]].concat();
        let out = heat_diag(dir.path(), &args, ENV);
        let shown = text(&out);
        assert_eq!(out.status.code(), Some(0), "{config:?}: {shown}");
        for line in [
            format!("{COLLECTOR}  unassigned   44.500 °C"),
            "28-00000000beef  unassigned   21.000 °C".to_owned(),
            "no roles configured: put these ids into [hardware.sensors]".to_owned(),
        ] {
            assert!(shown.contains(&line), "{line:?} not in:\n{shown}");
        }

        let args = [config, &["sensors", "--w1-root", "w1", "--json"]].concat();
        let out = heat_diag(dir.path(), &args, ENV);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let report = json(&out);
        assert_eq!(report["backend"], "w1");
        assert_eq!(report["ok"], true);
        let ids: Vec<_> = report["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["id"].clone(), d["role"].clone(), d["celsius"].clone()))
            .collect();
        assert_eq!(
            ids,
            vec![
                (
                    "28-00000000beef".into(),
                    serde_json::Value::Null,
                    21.0.into()
                ),
                (COLLECTOR.into(), serde_json::Value::Null, 44.5.into()),
            ]
        );
    }

    // The default root is the kernel's; where it is missing, that is a bus error (exit 1).
    let out = heat_diag(dir.path(), &["sensors", "--json"], ENV);
    let report = json(&out);
    assert_eq!(report["bus"], "/sys/bus/w1/devices", "{report}");
    if report["bus_error"].is_string() {
        assert_eq!(out.status.code(), Some(1), "{report}");
        assert_eq!(report["ok"], false);
    }
}

/// Reads `child`'s stdout lines on a thread.
fn lines_of(child: &mut std::process::Child) -> mpsc::Receiver<String> {
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in stdout.lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits (generously) for a line that satisfies `pred`; every line seen is in the panic.
fn wait_line(
    rx: &mpsc::Receiver<String>,
    seen: &mut Vec<String>,
    pred: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                seen.push(line.clone());
                if pred(&line) {
                    return line;
                }
            }
            Err(e) => panic!("{e}; lines so far:\n{}", seen.join("\n")),
        }
    }
}

fn spawn_watch(dir: &Path, extra: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_heat-diag"))
        .args([&["sensors", "--watch", "--w1-root", "w1"], extra].concat())
        .current_dir(dir)
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn interrupt(child: &mut std::process::Child) -> std::process::ExitStatus {
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    child.wait().unwrap()
}

#[test]
fn watch_shows_the_warmed_sensor_change_until_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("w1");
    sensor(&root, COLLECTOR, "w1_slave", &slave(20_000));
    sensor(&root, TANK_TOP, "w1_slave", &slave(20_500));
    let mut child = spawn_watch(dir.path(), &[]);
    let rx = lines_of(&mut child);
    let mut seen = Vec::new();
    wait_line(&rx, &mut seen, |l| {
        l.starts_with(&format!("{COLLECTOR}  unassigned   20.000 °C"))
    });
    // A hand on the collector probe.
    sensor(&root, COLLECTOR, "w1_slave", &slave(23_250));
    let warmed = wait_line(&rx, &mut seen, |l| {
        l.starts_with(&format!("{COLLECTOR}  unassigned   23.250 °C"))
    });
    assert!(warmed.contains("+3.250  <- changed most"), "{warmed}");
    let other = wait_line(&rx, &mut seen, |l| l.starts_with(TANK_TOP));
    assert!(
        other.contains("+0.000") && !other.contains("changed most"),
        "{other}"
    );
    let status = interrupt(&mut child);
    assert_eq!(
        status.code(),
        Some(0),
        "Ctrl-C ends --watch cleanly; {}",
        seen.join("\n")
    );
}

#[test]
fn watch_json_prints_one_typed_sweep_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("w1");
    sensor(&root, TANK_BOTTOM, "temperature", "30000\n");
    let mut child = spawn_watch(dir.path(), &["--json"]);
    let rx = lines_of(&mut child);
    let mut seen = Vec::new();
    let parse = |l: &str| serde_json::from_str::<serde_json::Value>(l).unwrap();
    let first = parse(&wait_line(&rx, &mut seen, |_| true));
    assert_eq!(first["sweep"], 1);
    assert_eq!(first["report"]["devices"][0]["celsius"], 30.0);
    assert_eq!(first["changes"][0]["change_c"], serde_json::Value::Null);
    sensor(&root, TANK_BOTTOM, "temperature", "31500\n");
    let warmed = parse(&wait_line(&rx, &mut seen, |l| {
        parse(l)["report"]["devices"][0]["celsius"] == 31.5
    }));
    assert!(warmed["sweep"].as_u64().unwrap() > 1, "{warmed}");
    assert_eq!(warmed["changes"][0]["id"], TANK_BOTTOM);
    assert_eq!(warmed["changes"][0]["change_c"], 1.5);
    assert_eq!(warmed["most_changed"], TANK_BOTTOM);
    assert_eq!(interrupt(&mut child).code(), Some(0));
}

#[test]
fn a_hardware_table_without_sensor_ids_yet_lists_the_bus_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("w1");
    sensor(&root, COLLECTOR, "w1_slave", &slave(19_000));
    let cfg = dir.path().join("heat.toml");
    fs::write(
        &cfg,
        "[hardware]\nw1_root = \"w1\"\n[hardware.relays.pump]\nline = 17\n[hardware.relays.heater]\nline = 27\n",
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let out = heat_diag(dir.path(), &["--config", cfg, "sensors"], ENV);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains(&format!("{COLLECTOR}  unassigned   19.000 °C")),
        "{shown}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("heat-controller will refuse this"),
        "{stderr}"
    );
    assert!(stderr.contains("collector"), "{stderr}");
    // The controller's own checks still refuse it.
    let out = heat_diag(
        dir.path(),
        &["--config", cfg, "check-config"],
        &[
            ("MQTT_USERNAME", "heat"),
            ("MQTT_PASSWORD", "sensors-secret-Kx7Wq2Lm9"),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("collector"), "{}", text(&out));
}
