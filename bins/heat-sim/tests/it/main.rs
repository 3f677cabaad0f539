//! Acceptance: the built binary runs 1000 simulated days with no safety violation, for one seed
//! and for three seeds in parallel (`--seeds`); the CLI rejects bad seed ranges.
//!
//! The simulator's crates are optimised in test builds (root Cargo.toml, `profile.dev.package`),
//! so 3 × 1000 days take about 10 s here instead of minutes.

use std::process::Command;

#[test]
fn a_thousand_days_without_a_safety_violation() {
    let out = Command::new(env!("CARGO_BIN_EXE_heat-sim"))
        .args(["--days", "1000", "--seed", "20240601", "--json"])
        .output()
        .expect("run heat-sim");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let summary: serde_json::Value = serde_json::from_str(&stdout).expect("JSON summary");
    assert_eq!(summary["days"], 1000);
    assert_eq!(summary["violation_count"], 0, "{stdout}");
    let solar = summary["solar_kwh"].as_f64().expect("solar_kwh");
    assert!(solar > 0.0, "no solar energy collected: {stdout}");
    // The run was adversarial, not a quiet one.
    assert!(
        summary["commands"].as_u64().expect("commands count") > 1000,
        "{stdout}"
    );
    assert!(
        summary["faults"].as_object().is_some_and(|f| !f.is_empty()),
        "{stdout}"
    );
    assert!(
        summary["interlocks"]["boil_stop"]
            .as_u64()
            .expect("interlocks.boil_stop count")
            > 0,
        "{stdout}"
    );
    // The 85 °C question: every injected power-on value caught, no real 85.000 taken for one,
    // and the run did cross 85 °C for real.
    let p = &summary["power_on"];
    let injected = p["injected_steps"].as_u64().expect("injected_steps");
    assert!(injected > 0, "no power-on value injected: {stdout}");
    assert_eq!(p["caught_steps"].as_u64(), Some(injected), "{stdout}");
    assert_eq!(p["false_faults"], 0, "{stdout}");
    assert!(
        p["real_85_used"].as_u64().expect("real_85_used is a count") > 0,
        "no real 85.000 °C reading: {stdout}"
    );
}

#[test]
fn help_and_text_summary() {
    let help = Command::new(env!("CARGO_BIN_EXE_heat-sim"))
        .arg("--help")
        .output()
        .expect("run heat-sim --help");
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("--days"));

    let out = Command::new(env!("CARGO_BIN_EXE_heat-sim"))
        .args(["--days", "3", "--seed", "7"])
        .output()
        .expect("run heat-sim");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for needle in [
        "solar collected",
        "operating states",
        "safety violations: 0",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }

    let bad = Command::new(env!("CARGO_BIN_EXE_heat-sim"))
        .args(["--days", "0"])
        .output()
        .expect("run heat-sim");
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn three_seeds_of_a_thousand_days_in_parallel_without_a_safety_violation() {
    let out = Command::new(env!("CARGO_BIN_EXE_heat-sim"))
        .args(["--days", "1000", "--seeds", "1..=3", "--json"])
        .output()
        .expect("run heat-sim");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let summary: serde_json::Value = serde_json::from_str(&stdout).expect("JSON summary");
    assert_eq!(summary["total_days"], 3000, "{stdout}");
    assert_eq!(summary["violation_count"], 0, "{stdout}");
    let seeds: Vec<u64> = summary["per_seed"]
        .as_array()
        .expect("per_seed")
        .iter()
        .map(|s| {
            assert_eq!(s["violation_count"], 0, "{s}");
            // Every seed met relay faults: the runs were adversarial.
            assert!(s["relay_errors"].as_u64().expect("relay_errors") > 0, "{s}");
            s["seed"].as_u64().expect("seed")
        })
        .collect();
    assert_eq!(seeds, [1, 2, 3]);
    assert!(
        summary["days_per_second"]
            .as_f64()
            .expect("days_per_second")
            > 0.0
    );
    // The progress line went to stderr and ended with every day done.
    assert!(stderr.contains("3000/3000 days"), "stderr:\n{stderr}");
}

#[test]
fn bad_seed_ranges_are_usage_errors() {
    for (args, needle) in [
        (&["--seeds", "5..5"][..], "holds no seed"),
        (&["--seeds", "1-4"][..], "write A..B"),
        (
            &["--seeds", "1..4", "--seed", "2"][..],
            "cannot be used with",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_heat-sim"))
            .args(["--days", "1"])
            .args(args)
            .output()
            .expect("run heat-sim");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(needle),
            "{args:?}: {needle:?} missing in {stderr}"
        );
    }
}
