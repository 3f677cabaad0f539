//! Project automation, run as `cargo xtask <command>`.
//!
//! Kept to `std` and `anyhow` so it builds in seconds on a fresh machine.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod cross;
mod deb;
mod demo;
mod deploy;
mod dist;
mod fresh;
mod fuzz;
mod soak;
mod system;
mod tidy;

use std::{env, process::ExitCode};

use anyhow::{Context, Result, bail};

use crate::system::{cargo, project_root, run};

const HELP: &str = "\
cargo xtask <command>

Commands:
  test     install missing system packages, then fmt check, clippy and the whole test suite
  demo     a provisioned TLS Mosquitto, the controller on a simulated plant, a live status
           until Ctrl-C ([--duration SECONDS] for a summary instead; `demo --help`)
  bench    [NAME...] run the benchmarks (step, sweep, connect, sim, e2e, relay, outage; ~12 min),
           print one table and write target/bench.json (docs/benchmarks.md)
  soak     [--restarts N] restart the broker N times (100) under the simulated controller
           (release build) with sensor and relay faults; VmRSS and Anonymous memory with their
           slope per restart, reconnects and attempts vs. the retry policy
  dist     [--target TRIPLE] release build, the .deb and the board bundle in target/dist/
           (aarch64-unknown-linux-gnu, armv7-unknown-linux-gnueabihf or the host; installs
           the cross toolchain when missing)
  deploy   dist, copy over ssh, install, restart, wait for `online`, roll back if it is not
           (--host USER@HOST; `cargo xtask deploy --help` for the options)
  fresh-root  [--dir DIR] [--keep] the README's two commands (demo, then test) in a new
           `debootstrap --variant=minbase bookworm` chroot with only build-essential, git, curl
           and rustup added (root; ~30 min; docs/deploy.md)
  fuzz     [--seconds N] [--runs N] [--sanitizer address|none] [TARGET...] run the cargo-fuzz
           targets on nightly and print executions per target (installs cargo-fuzz when missing)
";

fn main() -> ExitCode {
    match run_xtask() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_xtask() -> Result<()> {
    let args: Vec<String> = env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        print!("{HELP}");
        return Ok(());
    };
    match command.as_str() {
        "test" => test(rest),
        "demo" => demo::demo(rest),
        "bench" => bench::bench(rest),
        "soak" => soak::soak(rest),
        "dist" => dist::dist(rest),
        "deploy" => deploy::deploy_command(rest),
        "fuzz" => fuzz::fuzz(rest),
        "fresh-root" => fresh::fresh_root(rest),
        "help" | "--help" | "-h" => {
            print!("{HELP}");
            Ok(())
        }
        other => bail!("unknown command {other:?}\n\n{HELP}"),
    }
}

/// The README's test command: what CI runs too.
fn test(args: &[String]) -> Result<()> {
    if !args.is_empty() {
        bail!("`cargo xtask test` takes no arguments (got {args:?})");
    }
    system::ensure_packages(&system::TEST_PACKAGES)?;
    let root = project_root();
    println!("==> cargo fmt --check");
    run(cargo().current_dir(&root).args(["fmt", "--all", "--check"]))
        .context("formatting differs: run `cargo fmt --all`")?;
    println!("==> cargo clippy");
    run(cargo().current_dir(&root).args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))?;
    println!("==> tests");
    if system::has_nextest() {
        // Doc tests first: nextest's summary must be the run's closing line.
        run(cargo().current_dir(&root).args([
            "test",
            "--workspace",
            "--doc",
            "--locked",
            "--quiet",
        ]))?;
        run(cargo().current_dir(&root).args([
            "nextest",
            "run",
            "--workspace",
            "--locked",
            "--no-fail-fast",
        ]))?;
    } else {
        run(cargo().current_dir(&root).args([
            "test",
            "--workspace",
            "--locked",
            "--no-fail-fast",
        ]))?;
    }
    Ok(())
}
