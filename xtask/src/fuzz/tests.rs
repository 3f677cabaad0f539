//! Tests of `cargo xtask fuzz`'s argument parsing, the `cargo fuzz run` arguments, statistics and
//! table, and that the target list matches fuzz/Cargo.toml.

use std::{fs, time::Duration};

use super::*;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn defaults_run_every_target_for_a_minute() {
    let options = parse_args(&[]).unwrap().unwrap();
    assert_eq!(
        options,
        Options {
            seconds: 60,
            runs: None,
            sanitizer: "address",
            targets: TARGETS.to_vec()
        }
    );
}

#[test]
fn seconds_runs_and_targets_are_read() {
    let options = parse_args(&args(&[
        "--seconds",
        "10",
        "settings_load",
        "--runs",
        "500",
    ]))
    .unwrap()
    .unwrap();
    assert_eq!(options.seconds, 10);
    assert_eq!(options.runs, Some(500));
    assert_eq!(options.targets, ["settings_load"]);
    assert_eq!(options.sanitizer, "address");
    assert_eq!(parse_args(&args(&["--help"])).unwrap(), None);
}

#[test]
fn sanitizer_is_read() {
    let options = parse_args(&args(&["--sanitizer", "none", "command_parse"]))
        .unwrap()
        .unwrap();
    assert_eq!(options.sanitizer, "none");
    assert_eq!(options.targets, ["command_parse"]);
    let options = parse_args(&args(&["--sanitizer", "address"]))
        .unwrap()
        .unwrap();
    assert_eq!(options.sanitizer, "address");
}

#[test]
fn run_arguments_carry_the_sanitizer_and_limits() {
    let options = parse_args(&args(&["--sanitizer", "none", "--runs", "10000000"]))
        .unwrap()
        .unwrap();
    assert_eq!(
        run_args("settings_load", &options),
        [
            "fuzz",
            "run",
            "--sanitizer",
            "none",
            "settings_load",
            "--",
            "-max_total_time=60",
            "-print_final_stats=1",
            "-runs=10000000"
        ]
    );
    let options = parse_args(&[]).unwrap().unwrap();
    let defaults = run_args("command_parse", &options);
    assert_eq!(defaults[2..5], ["--sanitizer", "address", "command_parse"]);
    assert!(
        !defaults.iter().any(|a| a.starts_with("-runs")),
        "{defaults:?}"
    );
}

#[test]
fn bad_arguments_are_errors_with_the_usage() {
    for bad in [
        &["--seconds"][..],
        &["--seconds", "0"],
        &["--seconds", "ten"],
        &["--runs", "-1"],
        &["--sanitizer"],
        &["--sanitizer", "memory"],
        &["--sanitizer", "NONE"],
        &["no_such_target"],
    ] {
        let err = parse_args(&args(bad)).unwrap_err().to_string();
        assert!(
            err.contains("cargo xtask fuzz [--seconds N]"),
            "{bad:?}: {err}"
        );
    }
}

#[test]
fn final_stats_are_parsed() {
    let output = "#10000000\tDONE   cov: 486 ft: 987 corp: 291/8844b exec/s: 42553 rss: 565Mb\n\
                  Done 10000000 runs in 235 second(s)\n\
                  stat::number_of_executed_units: 10000000\n\
                  stat::average_exec_per_sec:     42553\n\
                  stat::new_units_added:          1065\n";
    assert_eq!(
        parse_stats(output),
        Some(Stats {
            runs: 10_000_000,
            exec_per_sec: 42_553
        })
    );
    assert_eq!(parse_stats("crashed before the end"), None);
}

#[test]
fn table_has_one_line_per_target() {
    let stats = Stats {
        runs: 1234,
        exec_per_sec: 99,
    };
    let text = table(&[
        ("command_parse", stats, Duration::from_millis(12_500)),
        ("settings_load", stats, Duration::from_secs(3)),
    ]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[1].starts_with("command_parse") && lines[1].contains("12.5"));
    assert!(lines[2].contains("1234") && lines[2].ends_with("99"));
}

#[test]
fn targets_match_the_fuzz_manifest() {
    let manifest = fs::read_to_string(project_root().join("fuzz/Cargo.toml")).unwrap();
    let mut bins: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.trim().strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|n| *n != "heat-fuzz")
        .collect();
    bins.sort_unstable();
    assert_eq!(bins, TARGETS);
    for target in TARGETS {
        let source = project_root().join(format!("fuzz/fuzz_targets/{target}.rs"));
        assert!(source.is_file(), "{} missing", source.display());
    }
}
