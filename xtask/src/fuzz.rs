//! `cargo xtask fuzz`: runs every cargo-fuzz target (or the named ones) on nightly for a time or
//! a number of runs, and prints the executions per target. Installs cargo-fuzz when missing.
//!
//! libFuzzer's output goes to `target/fuzz/<target>.log` while it runs; corpora stay in
//! `fuzz/corpus/` and crash inputs in `fuzz/artifacts/` (both ignored by git). See
//! docs/fuzzing.md.

use std::{
    fs,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};

use crate::system::{project_root, run};

#[cfg(test)]
mod tests;

/// The targets in `fuzz/Cargo.toml`, in the order they run.
pub(crate) const TARGETS: [&str; 2] = ["command_parse", "settings_load"];

/// The sanitizers `--sanitizer` accepts (cargo-fuzz's `--sanitizer`); the first is the default.
pub(crate) const SANITIZERS: [&str; 2] = ["address", "none"];

const USAGE: &str = "\
cargo xtask fuzz [--seconds N] [--runs N] [--sanitizer address|none] [TARGET...]

Runs each cargo-fuzz target (default: all) on the nightly toolchain.
  --seconds N      stop each target after N seconds (-max_total_time; default 60)
  --runs N         stop each target after N executions (-runs), whichever comes first
  --sanitizer S    address (AddressSanitizer, the default) or none (several times faster;
                   for long runs of targets that fuzz only safe Rust, see docs/fuzzing.md)
Targets: command_parse, settings_load
";

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) seconds: u64,
    pub(crate) runs: Option<u64>,
    pub(crate) sanitizer: &'static str,
    pub(crate) targets: Vec<&'static str>,
}

/// Parses the arguments after `fuzz`; `Ok(None)` for `--help`.
pub(crate) fn parse_args(args: &[String]) -> Result<Option<Options>> {
    let mut options = Options {
        seconds: 60,
        runs: None,
        sanitizer: SANITIZERS[0],
        targets: Vec::new(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut number = |flag: &str| -> Result<u64> {
            let value = args
                .next()
                .with_context(|| format!("{flag} needs a number\n\n{USAGE}"))?;
            match value.parse::<u64>() {
                Ok(n) if n > 0 => Ok(n),
                _ => bail!("{flag} {value:?}: expected a whole number above 0\n\n{USAGE}"),
            }
        };
        match arg.as_str() {
            "--seconds" => options.seconds = number("--seconds")?,
            "--runs" => options.runs = Some(number("--runs")?),
            "--sanitizer" => {
                let value = args
                    .next()
                    .with_context(|| format!("--sanitizer needs a name\n\n{USAGE}"))?;
                options.sanitizer =
                    SANITIZERS.iter().find(|s| **s == value).with_context(|| {
                        format!("--sanitizer {value:?}: expected address or none\n\n{USAGE}")
                    })?;
            }
            "-h" | "--help" => return Ok(None),
            name => match TARGETS.iter().find(|t| **t == name) {
                Some(target) => options.targets.push(target),
                None => bail!("unknown fuzz target or option {name:?}\n\n{USAGE}"),
            },
        }
    }
    if options.targets.is_empty() {
        options.targets = TARGETS.to_vec();
    }
    Ok(Some(options))
}

/// libFuzzer's final statistics (`-print_final_stats=1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stats {
    pub(crate) runs: u64,
    pub(crate) exec_per_sec: u64,
}

/// Reads `stat::number_of_executed_units` and `stat::average_exec_per_sec` from the output.
pub(crate) fn parse_stats(output: &str) -> Option<Stats> {
    let stat = |name: &str| {
        output.lines().find_map(|line| {
            line.trim()
                .strip_prefix(name)?
                .trim_start_matches(':')
                .trim()
                .parse::<u64>()
                .ok()
        })
    };
    Some(Stats {
        runs: stat("stat::number_of_executed_units")?,
        exec_per_sec: stat("stat::average_exec_per_sec")?,
    })
}

pub(crate) fn fuzz(args: &[String]) -> Result<()> {
    let Some(options) = parse_args(args)? else {
        print!("{USAGE}");
        return Ok(());
    };
    ensure_cargo_fuzz()?;
    let root = project_root();
    let logs = root.join("target/fuzz");
    fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;
    let mut results = Vec::new();
    for target in &options.targets {
        let log = logs.join(format!("{target}.log"));
        println!(
            "==> fuzz {target}, sanitizer {} (log: {})",
            options.sanitizer,
            log.display()
        );
        let file =
            fs::File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
        let file_too = file
            .try_clone()
            .with_context(|| format!("cannot reopen {}", log.display()))?;
        let started = Instant::now();
        let status = nightly_cargo()
            .current_dir(root.join("fuzz"))
            .args(run_args(target, &options))
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(file_too)
            .status()
            .with_context(|| format!("cannot start cargo +nightly fuzz run {target}"))?;
        let elapsed = started.elapsed();
        let text = fs::read(&log).with_context(|| format!("cannot read {}", log.display()))?;
        let text = String::from_utf8_lossy(&text);
        if !status.success() {
            let tail: Vec<&str> = text.lines().rev().take(30).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            bail!(
                "fuzz target {target} failed ({status}); crash inputs are in fuzz/artifacts/{target}/, \
                 reproduce with `cd fuzz && cargo +nightly fuzz run --sanitizer {} {target} <file>`\n{}",
                options.sanitizer,
                tail.join("\n")
            );
        }
        let stats = parse_stats(&text)
            .with_context(|| format!("no final statistics in {}", log.display()))?;
        results.push((*target, stats, elapsed));
    }
    println!("\n{}", table(&results));
    Ok(())
}

/// The arguments of `cargo +nightly` for one target: `fuzz run`, the sanitizer, then libFuzzer's
/// flags.
pub(crate) fn run_args(target: &str, options: &Options) -> Vec<String> {
    let mut args: Vec<String> = [
        "fuzz",
        "run",
        "--sanitizer",
        options.sanitizer,
        target,
        "--",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.push(format!("-max_total_time={}", options.seconds));
    args.push("-print_final_stats=1".to_owned());
    if let Some(runs) = options.runs {
        args.push(format!("-runs={runs}"));
    }
    args
}

/// The summary table: one line per target.
pub(crate) fn table(results: &[(&str, Stats, Duration)]) -> String {
    let mut out = format!(
        "{:<16} {:>12} {:>10} {:>10}\n",
        "target", "executions", "seconds", "exec/s"
    );
    for (target, stats, elapsed) in results {
        out.push_str(&format!(
            "{target:<16} {:>12} {:>10.1} {:>10}\n",
            stats.runs,
            elapsed.as_secs_f64(),
            stats.exec_per_sec
        ));
    }
    out
}

/// `cargo +nightly` through rustup, without the pinned toolchain `cargo xtask` runs under.
fn nightly_cargo() -> Command {
    let mut cmd = Command::new("cargo");
    cmd.arg("+nightly")
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO")
        .env_remove("RUSTC");
    cmd
}

/// Checks for the nightly toolchain and installs cargo-fuzz when it is missing.
fn ensure_cargo_fuzz() -> Result<()> {
    let quiet = |cmd: &mut Command| {
        cmd.stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !quiet(nightly_cargo().arg("--version")) {
        bail!(
            "the nightly toolchain is missing (cargo-fuzz needs it): rustup toolchain install nightly"
        );
    }
    if quiet(nightly_cargo().args(["fuzz", "--version"])) {
        return Ok(());
    }
    println!("==> installing cargo-fuzz (cargo install cargo-fuzz --locked)");
    run(Command::new("cargo").env_remove("RUSTUP_TOOLCHAIN").args([
        "install",
        "cargo-fuzz",
        "--locked",
    ]))
}
