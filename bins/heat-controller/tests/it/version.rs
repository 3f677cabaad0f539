//! (f) `--version` prints the package version and the git commit, and Home Assistant's device
//! shows the same `sw_version` in the retained discovery configs.

use std::process::Command;

use crate::harness::{AVAILABILITY, Controller, STATE, Spec, broker, retained, wait_for, watch};

/// `heat-controller --version` without any setting: `heat-controller 0.1.0 (<commit>)`.
fn version_output() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_heat-controller"))
        .arg("--version")
        .env_clear()
        .output()
        .expect("heat-controller runs");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// `git rev-parse --short=12 HEAD` of this checkout, or None outside a repository (a tarball).
fn head() -> Option<String> {
    let out = Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "rev-parse",
            "--short=12",
            "HEAD",
        ])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[test]
fn version_prints_0_1_0_and_the_commit_of_this_checkout() {
    let line = version_output();
    let version = line
        .strip_prefix("heat-controller ")
        .unwrap_or_else(|| panic!("{line}"));
    let commit = version
        .strip_prefix("0.1.0 (")
        .and_then(|c| c.strip_suffix(')'))
        .unwrap_or_else(|| panic!("not `0.1.0 (<commit>)`: {line}"));
    match head() {
        Some(head) => assert!(
            commit == head || commit == format!("{head}-dirty"),
            "{line}: HEAD is {head}"
        ),
        None => assert_eq!(commit, "unknown commit", "{line}"),
    }
}

#[test]
fn home_assistant_shows_the_same_sw_version_as_version() {
    let line = version_output();
    let version = line.strip_prefix("heat-controller ").unwrap();
    let broker = broker();
    let watcher = watch(broker.port(), "watch-v", "solar_heating/#");
    let _ctl = Controller::start(&Spec::new(broker.port()));
    watcher.wait_on(AVAILABILITY, |m| m.text() == "online");
    watcher.wait_on(STATE, |_| true);
    let topic = "homeassistant/select/solar_heating/mode/config";
    let mut config = None;
    wait_for("the retained mode discovery config", || {
        config = retained(broker.port(), "watch-v2", topic);
        config.is_some()
    });
    let config = config.unwrap().json();
    assert_eq!(config["device"]["sw_version"], version, "{config}");
    assert_eq!(config["o"]["sw"], version, "{config}");
}
