//! `heat-diag relay`: refusal while the controller's lock is held, the lock held during the
//! check, polarity and the return to OFF through `--dry-run` (no GPIO exists here), Ctrl-C
//! during the hold, and the failure of a real open on a missing chip.

use std::{
    fs::{self, File, OpenOptions, TryLockError},
    io::{BufRead, BufReader, Read, Write},
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    thread,
    time::{Duration, Instant},
};

use crate::{heat_diag, text};

/// No MQTT variable at all: a wiring check needs only `[hardware]` and the lock file.
const ENV: &[(&str, &str)] = &[];

/// `heat.toml` with the lock file in `dir/run/lock`, pump on line 17 (active low, the
/// default) and heater on line 27 (active high); `chip` for both relays.
fn config(dir: &Path, chip: &str) -> (String, PathBuf) {
    let path = dir.join("heat.toml");
    fs::write(
        &path,
        format!(
            "[controller]\nlock_file = \"run/lock\"\n\
             [hardware]\nbackend = \"w1\"\n[hardware.sensors]\ncollector = \"28-000000000001\"\n\
             tank_bottom = \"28-000000000002\"\ntank_top = \"28-000000000003\"\n\
             [hardware.relays.pump]\nchip = \"{chip}\"\nline = 17\n\
             [hardware.relays.heater]\nchip = \"{chip}\"\nline = 27\nactive_low = false\n"
        ),
    )
    .unwrap();
    (path.display().to_string(), dir.join("run/lock"))
}

fn open_lock(path: &Path) -> File {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .unwrap()
}

/// Runs `heat-diag --config CFG relay ARGS...` in `dir`.
fn relay(dir: &Path, cfg: &str, args: &[&str]) -> Output {
    let mut all = vec!["--config", cfg, "relay"];
    all.extend_from_slice(args);
    heat_diag(dir, &all, ENV)
}

/// The `dry run: ... <- level` lines of `out`, as the levels only.
fn levels(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| l.starts_with("dry run:"))
        .filter_map(|l| l.rsplit("<- ").next())
        .collect()
}

#[test]
fn refuses_while_the_controller_holds_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, lock) = config(dir.path(), "gpiochip0");
    let mut controller = open_lock(&lock);
    controller.try_lock().unwrap();
    controller.write_all(b"31337\n").unwrap();
    for args in [
        vec!["pump", "on", "--for", "1"],
        vec!["heater", "off", "--dry-run"],
    ] {
        let out = relay(dir.path(), &cfg, &args);
        let shown = text(&out);
        assert_eq!(out.status.code(), Some(2), "{shown}");
        assert!(shown.contains(&lock.display().to_string()), "{shown}");
        assert!(shown.contains("pid 31337"), "{shown}");
        assert!(
            shown.contains("driving the relays; stop it first"),
            "{shown}"
        );
        // Refused before any line was touched.
        assert!(levels(&shown).is_empty(), "{shown}");
    }
    let mut again = String::new();
    File::open(&lock)
        .unwrap()
        .read_to_string(&mut again)
        .unwrap();
    assert_eq!(again, "31337\n", "the holder's pid must stay");
}

#[test]
fn dry_run_active_low_pump_goes_low_then_back_high() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, lock) = config(dir.path(), "gpiochip0");
    let out = relay(dir.path(), &cfg, &["pump", "on", "--for", "0", "--dry-run"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    // OFF at open, ON, OFF after the hold, OFF once more when the driver is dropped.
    assert_eq!(levels(&shown), ["high", "low", "high", "high"], "{shown}");
    assert!(shown.contains("/dev/gpiochip0 line 17"), "{shown}");
    assert!(shown.contains("active low (low = ON)"), "{shown}");
    assert!(shown.contains("pump ON (line low) for 0 s"), "{shown}");
    assert!(
        shown.contains("pump OFF (line high): back in the safe state"),
        "{shown}"
    );
    // The lock is free again and holds no stale pid.
    let file = open_lock(&lock);
    file.try_lock().unwrap();
    assert_eq!(fs::read_to_string(&lock).unwrap(), "");
}

#[test]
fn dry_run_active_high_heater_goes_high_then_back_low() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, _) = config(dir.path(), "gpiochip0");
    let out = relay(
        dir.path(),
        &cfg,
        &["heater", "on", "--for", "1", "--dry-run"],
    );
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert_eq!(levels(&shown), ["low", "high", "low", "low"], "{shown}");
    assert!(shown.contains("line 27"), "{shown}");

    let off = relay(
        dir.path(),
        &cfg,
        &["heater", "off", "--for", "0", "--dry-run"],
    );
    assert_eq!(off.status.code(), Some(0), "{}", text(&off));
    assert_eq!(levels(&text(&off)), ["low"; 4]);
}

#[test]
fn holds_the_lock_during_the_check_and_ctrl_c_returns_the_relay_off() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, lock) = config(dir.path(), "gpiochip0");
    let mut child = Command::new(env!("CARGO_BIN_EXE_heat-diag"))
        .args([
            "--config",
            &cfg,
            "relay",
            "pump",
            "on",
            "--for",
            "60",
            "--dry-run",
        ])
        .current_dir(dir.path())
        .env_clear()
        .envs(ENV.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("for 60 s") {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "ended early: {seen}"
        );
        seen.push_str(&line);
    }
    assert_eq!(levels(&seen), ["high", "low"], "{seen}");

    // While it holds the relay ON, a controller could not start.
    let controller = open_lock(&lock);
    assert!(matches!(
        controller.try_lock(),
        Err(TryLockError::WouldBlock)
    ));
    assert_eq!(
        fs::read_to_string(&lock).unwrap().trim(),
        child.id().to_string()
    );

    let start = Instant::now();
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no exit after SIGINT"
        );
        thread::sleep(Duration::from_millis(20));
    };
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(status.code(), Some(0), "{seen}{rest}");
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(levels(&rest), ["high", "high"], "{rest}");
    assert!(rest.contains("back in the safe state"), "{rest}");
    assert!(rest.contains("interrupted by signal 2"), "{rest}");
    controller.try_lock().unwrap();
}

#[test]
fn a_real_open_without_the_chip_fails_with_exit_1() {
    // No GPIO here: the real path can only be shown to fail cleanly and release the lock.
    let dir = tempfile::tempdir().unwrap();
    let (cfg, lock) = config(dir.path(), "/nonexistent/gpiochip9");
    let out = relay(dir.path(), &cfg, &["pump", "on", "--for", "0"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("/nonexistent/gpiochip9"), "{shown}");
    assert!(shown.contains("line 17"), "{shown}");
    open_lock(&lock).try_lock().unwrap();
}

#[test]
fn usage_and_configuration_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, _) = config(dir.path(), "gpiochip0");
    for args in [
        vec!["boiler", "on"],
        vec!["pump", "maybe"],
        vec!["pump", "on", "--for", "99999"],
        vec!["pump"],
    ] {
        let out = relay(dir.path(), &cfg, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
    }
    let sim = dir.path().join("sim.toml");
    fs::write(&sim, "[hardware]\nbackend = \"sim\"\n").unwrap();
    let out = relay(
        dir.path(),
        sim.to_str().unwrap(),
        &["pump", "on", "--dry-run"],
    );
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    assert!(
        shown.contains("backend = \"sim\" drives no relays"),
        "{shown}"
    );
    let bare = dir.path().join("bare.toml");
    fs::write(&bare, "").unwrap();
    let out = relay(dir.path(), bare.to_str().unwrap(), &["pump", "on"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}
