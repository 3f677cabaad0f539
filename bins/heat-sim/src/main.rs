//! `heat-sim`: runs heat-core on the simulated plant for many days of random weather, faults
//! and adversarial commands, and prints a summary.
//!
//! Exit codes: 0 no safety violation, 1 at least one violation, 2 a usage error.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use heat_sim::{Options, run};

/// Simulates the solar heating plant under heat-core and checks safety independently.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Simulated days.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    days: u32,
    /// Seed of the weather, faults and commands (same seed, same run).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Control-loop period in seconds.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    period_secs: u64,
    /// Print the summary as JSON.
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

fn main_inner(cli: &Cli) -> anyhow::Result<ExitCode> {
    let options = Options {
        days: cli.days,
        seed: cli.seed,
        period: Duration::from_secs(cli.period_secs),
        ..Options::default()
    };
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

fn init_logging() {
    let logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).build();
    let max = logger.filter();
    // The workspace's one way to install a logger (it caps paho's targets, unused here).
    if let Err(e) = mqtt_auth::logging::install(logger, max) {
        eprintln!("heat-sim: logging not installed: {e}");
    }
}
