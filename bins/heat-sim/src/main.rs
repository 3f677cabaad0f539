//! `heat-sim`: runs heat-core on the simulated plant for many days of random weather, faults
//! and adversarial commands, and prints a summary. `--seeds A..B` (or `A..=B`) runs many seeds
//! in parallel, one thread per core, with a progress line on stderr and a summary across seeds.
//!
//! Exit codes: 0 no safety violation, 1 at least one violation, 2 a usage error.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Write as _};
use std::ops::RangeInclusive;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use heat_sim::sweep::{Progress, run_seeds};
use heat_sim::{Options, run};

/// Simulates the solar heating plant under heat-core and checks safety independently.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Simulated days.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    days: u32,
    /// Seed of the weather, faults and commands (same seed, same run).
    #[arg(long, default_value_t = 1, conflicts_with = "seeds")]
    seed: u64,
    /// Run many seeds in parallel: `A..B` (B excluded) or `A..=B` (B included).
    #[arg(long, value_parser = parse_seeds, value_name = "A..B")]
    seeds: Option<RangeInclusive<u64>>,
    /// Worker threads for `--seeds` (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024), requires = "seeds")]
    threads: Option<u64>,
    /// Control-loop period in seconds.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    period_secs: u64,
    /// Print the summary (across seeds with `--seeds`) as JSON.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    match main_inner(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("heat-sim: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Parses `A..B` (B excluded, as in Rust) or `A..=B` into an inclusive range of seeds.
fn parse_seeds(s: &str) -> Result<RangeInclusive<u64>, String> {
    let bad =
        || format!("{s:?} is not a seed range: write A..B (B excluded) or A..=B, e.g. 1..=64");
    let (a, b, inclusive) = if let Some((a, b)) = s.split_once("..=") {
        (a, b, true)
    } else if let Some((a, b)) = s.split_once("..") {
        (a, b, false)
    } else {
        return Err(bad());
    };
    let a: u64 = a.trim().parse().map_err(|_| bad())?;
    let b: u64 = b.trim().parse().map_err(|_| bad())?;
    let last = if inclusive { Some(b) } else { b.checked_sub(1) };
    match last {
        Some(last) if last >= a => Ok(a..=last),
        _ => Err(format!(
            "{s:?} holds no seed: the end must be after the start"
        )),
    }
}

fn main_inner(cli: &Cli) -> anyhow::Result<ExitCode> {
    let options = Options {
        days: cli.days,
        seed: cli.seed,
        period: Duration::from_secs(cli.period_secs),
        ..Options::default()
    };
    if let Some(seeds) = cli.seeds.clone() {
        return sweep(cli, &options, seeds);
    }
    let started = Instant::now();
    let summary = run(&options);
    let elapsed = started.elapsed();
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", summary.to_text());
        println!("wall time: {:.2} s", elapsed.as_secs_f64());
    }
    Ok(if summary.violation_count == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn sweep(cli: &Cli, options: &Options, seeds: RangeInclusive<u64>) -> anyhow::Result<ExitCode> {
    let threads = match cli.threads {
        Some(n) => usize::try_from(n)?,
        None => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
    };
    let n_seeds = seeds.end() - seeds.start() + 1;
    let total = n_seeds.saturating_mul(u64::from(cli.days));
    let progress = Progress::default();
    let terminal = std::io::stderr().is_terminal();
    // A terminal gets one line rewritten each second; a log gets a line every 10 s.
    let every = Duration::from_secs(if terminal { 1 } else { 10 });
    let mut tick = |p: &Progress, elapsed: Duration| {
        let done = p.days_done();
        let rate = done as f64 / elapsed.as_secs_f64().max(1e-9);
        let end = if terminal { "\r" } else { "\n" };
        eprint!("heat-sim: {done}/{total} days, {rate:.0} days/s{end}");
        let _ = std::io::stderr().flush();
    };
    let summary = run_seeds(options, seeds, threads, &progress, every, &mut tick);
    if terminal {
        eprintln!();
    }
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", summary.to_text());
    }
    Ok(if summary.violation_count == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn init_logging() {
    let logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).build();
    let max = logger.filter();
    // The workspace's one way to install a logger (it caps paho's targets, unused here).
    if let Err(e) = mqtt_auth::logging::install(logger, max) {
        eprintln!("heat-sim: logging not installed: {e}");
    }
}
