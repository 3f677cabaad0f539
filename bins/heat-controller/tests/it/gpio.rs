//! Without GPIO: the controller names the chip and line it needed and the fix, once, and exits
//! 1 without touching anything. Chips tried: a path that does not exist, a directory, and a
//! regular file this user may not open (mode 000, with the controller run as `nobody` through
//! `setpriv` when the tests run as root, since root opens anything).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

/// Writes a `[hardware]` config whose relays sit on `chip` (pump line 17, heater line 27) into
/// `dir`, readable by anyone, with the lock file in a world-writable subdirectory.
fn config(dir: &Path, chip: &Path) -> std::path::PathBuf {
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    let w1 = dir.join("w1");
    let locks = dir.join("locks");
    fs::create_dir(&w1).unwrap();
    fs::create_dir(&locks).unwrap();
    fs::set_permissions(&locks, fs::Permissions::from_mode(0o777)).unwrap();
    let toml = format!(
        "[controller]\nlock_file = \"{}\"\nprobe_anonymous = false\n\
         [hardware]\nbackend = \"w1\"\nw1_root = \"{}\"\n\
         [hardware.sensors]\ncollector = \"28-0316a2790aff\"\n\
         tank_bottom = \"28-0316a27951ff\"\ntank_top = \"28-0417c1b2e3ff\"\n\
         [hardware.relays.pump]\nchip = \"{chip}\"\nline = 17\n\
         [hardware.relays.heater]\nchip = \"{chip}\"\nline = 27\n",
        locks.join("lock").display(),
        w1.display(),
        chip = chip.display(),
    );
    let path = dir.join("heat.toml");
    fs::write(&path, toml).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    path
}

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("id runs");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// Runs the controller on real hardware settings (no --simulate), as `nobody` when asked and
/// root.
fn run(dir: &Path, config: &Path, as_nobody: bool) -> Output {
    let bin = env!("CARGO_BIN_EXE_heat-controller");
    let mut cmd = if as_nobody && is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", bin]);
        c
    } else {
        Command::new(bin)
    };
    cmd.arg("--config")
        .arg(config)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("MQTT_BROKER", "127.0.0.1")
        .env(
            "MQTT_PORT",
            test_mosquitto::free_port().unwrap().to_string(),
        )
        .env("MQTT_USERNAME", "ctl")
        .env("MQTT_PASSWORD", crate::harness::CTL_PASSWORD)
        .output()
        .expect(
            "heat-controller runs (setpriv comes with util-linux: apt-get install -y util-linux)",
        )
}

/// Exit 1, one message naming the chip and the pump's line 17 with `fix`, nothing touched.
fn assert_refused(out: &Output, chip: &Path, fix: &str) {
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let chip = chip.display().to_string();
    assert!(
        text.contains(&format!("GPIO line 17 needs {chip}")),
        "{text}"
    );
    assert!(text.contains("[hardware.relays.pump]"), "{text}");
    assert!(text.contains(fix), "{text}");
    assert_eq!(text.matches("GPIO line").count(), 1, "said once: {text}");
    assert!(!text.contains("os error"), "{text}");
    assert!(!text.contains("relays safe"), "{text}");
}

#[test]
fn a_missing_chip_is_named_once_with_its_line_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let chip = dir.path().join("gpiochip9");
    let config = config(dir.path(), &chip);
    let out = run(dir.path(), &config, false);
    assert_refused(&out, &chip, "ls -l /dev/gpiochip*");
    assert!(String::from_utf8_lossy(&out.stderr).contains("which does not exist"));
}

#[test]
fn a_directory_is_not_a_chip() {
    let dir = tempfile::tempdir().unwrap();
    let chip = dir.path().join("chipdir");
    fs::create_dir(&chip).unwrap();
    let config = config(dir.path(), &chip);
    let out = run(dir.path(), &config, false);
    assert_refused(&out, &chip, "is not a GPIO chip device");
}

#[test]
fn a_chip_this_user_may_not_open_says_which_group_to_join() {
    let dir = tempfile::tempdir().unwrap();
    let chip = dir.path().join("gpiochip0");
    fs::write(&chip, "").unwrap();
    fs::set_permissions(&chip, fs::Permissions::from_mode(0o000)).unwrap();
    let config = config(dir.path(), &chip);
    let out = run(dir.path(), &config, true);
    assert_refused(&out, &chip, "usermod -aG gpio");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("`ls -l {}`", chip.display())),
        "{out:?}"
    );
}
