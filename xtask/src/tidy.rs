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

/// Every dependency `manifest` declares that ends up in the crate's build: `[dependencies]`,
/// `[build-dependencies]`, target-specific ones and `[dependencies.NAME]` tables (not
/// dev-dependencies, which only tests see).
fn dependencies(manifest: &Path) -> Vec<String> {
    let text = fs::read_to_string(manifest)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", manifest.display()));
    let mut section = String::new();
    let mut deps = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_owned();
            if let Some(name) = section
                .strip_prefix("[dependencies.")
                .or_else(|| section.strip_prefix("[build-dependencies."))
            {
                deps.push(name.trim_end_matches(']').to_owned());
            }
            continue;
        }
        let is_dep_table = section == "[dependencies]"
            || section == "[build-dependencies]"
            || (section.starts_with("[target.")
                && (section.ends_with(".dependencies]")
                    || section.ends_with(".build-dependencies]")));
        if is_dep_table
            && !line.starts_with('#')
            && let Some((name, _)) = line.split_once('=')
        {
            let name = name.trim().split('.').next().unwrap_or_default();
            if !name.is_empty() {
                deps.push(name.to_owned());
            }
        }
    }
    deps
}

#[test]
fn mqtt_auth_depends_on_no_heat_crate() {
    let deps = dependencies(&project_root().join("crates/mqtt-auth/Cargo.toml"));
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

/// Acceptance d of issue 13: the tools that count what the controller did read its log through
/// heat-state's typed records (`heat_state::log::records`) and its state as `StateJson`, never by
/// matching its sentences. The only text they match is what has no typed form: Mosquitto's own
/// log and mosquitto_sub's debug output.
#[test]
fn the_tools_match_no_controller_log_text() {
    const TOOLS: [&str; 4] = [
        "xtask/src/demo.rs",
        "xtask/src/demo/check.rs",
        "bins/heat-controller/benches/soak.rs",
        "bins/heat-controller/tests/it/harness.rs",
    ];
    // Mosquitto's `running` line and mosquitto_sub's `-d` SUBACK line.
    const EXTERNAL: [&str; 2] = [" running", "received SUBACK"];
    let mut offenders = Vec::new();
    for tool in TOOLS {
        let text = fs::read_to_string(project_root().join(tool)).unwrap_or_default();
        assert!(
            text.contains("heat_state"),
            "{tool} must read the controller through heat-state's types"
        );
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for call in [
                "contains(\"",
                "matches(\"",
                "find(\"",
                "starts_with(\"",
                "split_once(\"",
            ] {
                for (at, _) in line.match_indices(call) {
                    let literal = line[at + call.len()..].split('"').next().unwrap_or("");
                    if !EXTERNAL.contains(&literal) {
                        offenders.push(format!("{tool}:{}: {literal:?}", n + 1));
                    }
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "tools match log text; read heat_state::log records or StateJson instead: {offenders:#?}"
    );
}

/// The pure crates, each with the only crates it may depend on (none of which does IO).
const PURE_CRATES: [(&str, &[&str]); 2] = [
    ("heat-core", &["serde", "thiserror"]),
    ("heat-loop", &["heat-core", "serde"]),
];

/// Words that mean a clock, IO, a thread, hardware or the network in a pure crate's code.
const IMPURE_WORDS: [&str; 14] = [
    "Instant",
    "SystemTime",
    "thread",
    "sleep",
    "std::fs",
    "std::net",
    "std::io",
    "std::process",
    "std::env",
    "mqtt",
    "gpio",
    "rand",
    "println",
    "unsafe",
];

/// docs/ARCHITECTURE.md's invariant: heat-core and heat-loop do no IO, read no clock and start no
/// thread. Checked on both the dependency list and the source (comments may say what the crate
/// does not do).
#[test]
fn pure_crates_do_no_io_and_depend_on_no_io_crate() {
    for (krate, allowed) in PURE_CRATES {
        let dir = project_root().join("crates").join(krate);
        let deps = dependencies(&dir.join("Cargo.toml"));
        assert!(!deps.is_empty(), "{krate}: parsed no dependency at all");
        let extra: Vec<&String> = deps
            .iter()
            .filter(|d| !allowed.contains(&d.as_str()))
            .collect();
        assert!(
            extra.is_empty(),
            "{krate} is pure and may depend only on {allowed:?}, not {extra:?}"
        );
        let mut files = Vec::new();
        files_with_extension(&dir.join("src"), "rs", &mut files);
        assert!(files.len() >= 3, "{krate}: found only {files:?}");
        let mut offenders = Vec::new();
        for file in &files {
            let text = fs::read_to_string(file).unwrap_or_default();
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                let lower = code.to_lowercase();
                for word in IMPURE_WORDS {
                    if lower.contains(&word.to_lowercase()) {
                        offenders.push(format!("{}:{}: {word}: {code}", relative(file), n + 1));
                    }
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "{krate} must stay pure: {offenders:#?}"
        );
    }
}
