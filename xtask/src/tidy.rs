//! Tidy checks: project-wide rules, run as ordinary tests.

#![cfg(test)]

use std::{
    fs,
    path::{Path, PathBuf},
};

use crate::system::{cargo, project_root};

fn files_with_extension(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "target" && name != ".git" {
                files_with_extension(&path, ext, out);
            }
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

fn rust_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for top in ["crates", "bins", "xtask", "fuzz"] {
        files_with_extension(&project_root().join(top), "rs", &mut files);
    }
    assert!(
        files.len() > 5,
        "found only {} Rust files: is the root right?",
        files.len()
    );
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(project_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn every_rust_file_opens_with_a_module_doc() {
    let offenders: Vec<String> = rust_files()
        .into_iter()
        .filter(|p| !fs::read_to_string(p).unwrap_or_default().starts_with("//!"))
        .map(|p| relative(&p))
        .collect();
    assert!(
        offenders.is_empty(),
        "files without a leading `//!` doc: {offenders:#?}"
    );
}

#[test]
fn no_ignored_tests() {
    let needle = concat!("#[", "ignore");
    let offenders: Vec<String> = rust_files()
        .into_iter()
        .filter(|p| fs::read_to_string(p).unwrap_or_default().contains(needle))
        .map(|p| relative(&p))
        .collect();
    assert!(
        offenders.is_empty(),
        "ignored tests hide failures: {offenders:#?}"
    );
}

/// Every `MQTT_*`/`HEAT_*` variable that heat-config reads is documented in `.env.example`. The
/// others are not the operator's to set (systemd sets `CREDENTIALS_DIRECTORY`).
#[test]
fn env_example_lists_every_variable() {
    let example = fs::read_to_string(project_root().join(".env.example")).expect(".env.example");
    let ours: Vec<&str> = heat_config::VARIABLES
        .iter()
        .copied()
        .filter(|var| var.starts_with("MQTT_") || var.starts_with("HEAT_"))
        .collect();
    let missing: Vec<&str> = ours
        .into_iter()
        .filter(|var| {
            !example.lines().any(|line| {
                let line = line.trim_start_matches('#').trim_start();
                line.starts_with(&format!("{var}="))
            })
        })
        .collect();
    assert!(
        missing.is_empty(),
        ".env.example does not document: {missing:?}"
    );
}

fn normal_dependencies(manifest: &Path) -> Vec<String> {
    let text = fs::read_to_string(manifest).unwrap();
    let mut in_deps = false;
    let mut deps = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && let Some((name, _)) = line.split_once('=') {
            let name = name.trim().split('.').next().unwrap_or_default();
            if !name.is_empty() && !name.starts_with('#') {
                deps.push(name.to_owned());
            }
        }
    }
    deps
}

#[test]
fn mqtt_auth_depends_on_no_heat_crate() {
    let deps = normal_dependencies(&project_root().join("crates/mqtt-auth/Cargo.toml"));
    assert!(deps.contains(&"paho-mqtt".to_owned()), "parsed {deps:?}");
    let heat: Vec<_> = deps.iter().filter(|d| d.starts_with("heat-")).collect();
    assert!(
        heat.is_empty(),
        "mqtt-auth is reused by other services; it must not depend on {heat:?}"
    );
}

/// `cargo xtask` is what installs the system packages, so it must build before any of them is
/// there: no crate in its build may compile or link a C library (a `-sys` crate, or a C build
/// through `cc`), which would need headers such as OpenSSL's first.
#[test]
fn xtask_builds_without_c_libraries() {
    let out = cargo()
        .current_dir(project_root())
        .args([
            "tree",
            "-p",
            "xtask",
            "-e",
            "normal,build",
            "--prefix",
            "none",
        ])
        .args(["--format", "{p}", "--locked", "--offline"])
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let crates: Vec<&str> = tree.lines().filter_map(|l| l.split(' ').next()).collect();
    assert!(crates.contains(&"anyhow"), "parsed {crates:?}");
    let native: Vec<&&str> = crates
        .iter()
        .filter(|c| c.ends_with("-sys") || ["cc", "cmake", "pkg-config"].contains(c))
        .collect();
    assert!(
        native.is_empty(),
        "xtask must build before it has installed anything; it reaches {native:?}"
    );
}

/// Issue 13: the production loop carries no simulator. heat-controller's loop drives a
/// `heat_hw::Plant`; the physics, the fault schedule and the relay journal are heat-hw's
/// `SimulatedPlant` (docs/ARCHITECTURE.md: "The daemon's loop knows no simulator").
#[test]
fn the_control_loop_knows_no_simulator() {
    let driver = "bins/heat-controller/src/control.rs";
    let text = fs::read_to_string(project_root().join(driver)).unwrap_or_default();
    assert!(
        text.contains("&'a mut dyn Plant"),
        "{driver} must drive heat_hw::Plant"
    );
    for sim in [
        "sim::",
        "SimPlant",
        "SharedPlant",
        "sim_faults",
        "plant.sim",
    ] {
        assert!(!text.contains(sim), "{driver} knows the simulator: {sim}");
    }
}

/// Acceptance c of issue 13: the safety hold and the status throttle are defined once, in
/// heat-loop, and heat-sim and heat-controller both run heat-loop's machine (docs/ARCHITECTURE.md:
/// "heat-sim and heat-controller run the same loop").
#[test]
fn the_hold_and_the_throttle_have_one_definition_in_heat_loop() {
    // Split, so this file does not count as a definition.
    for def in [
        concat!("struct ", "SafeHold"),
        concat!("struct ", "Throttle"),
    ] {
        let defined: Vec<String> = rust_files()
            .into_iter()
            .filter(|p| {
                fs::read_to_string(p)
                    .unwrap_or_default()
                    .lines()
                    .any(|l| !l.trim_start().starts_with("//") && l.contains(def))
            })
            .map(|p| relative(&p))
            .collect();
        assert_eq!(
            defined,
            ["crates/heat-loop/src/machine.rs"],
            "`{def}` must be defined once, in heat-loop"
        );
    }
    // Both bins drive the one machine (and so its hold and throttle).
    for driver in [
        "bins/heat-sim/src/lib.rs",
        "bins/heat-controller/src/control.rs",
    ] {
        let text = fs::read_to_string(project_root().join(driver)).unwrap_or_default();
        assert!(
            text.contains("Machine::new(") && text.contains("heat_loop::"),
            "{driver} must run heat_loop::Machine"
        );
        // Neither keeps its own copy of the rules: no hold timer, no heartbeat comparison.
        for copy in ["off_since", ">= self.settings.heartbeat", "last_published"] {
            assert!(!text.contains(copy), "{driver} holds a copy: {copy}");
        }
    }
}
