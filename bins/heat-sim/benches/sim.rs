//! The long run: heat-sim across seeds to at least 100 000 simulated days, in parallel on every
//! core, judged by the safety checker; reports days per second and the violations.
//!
//! Run with `cargo bench -p heat-sim` or `cargo xtask bench sim`. `BENCH_SIM_SEEDS` (50) and
//! `BENCH_SIM_DAYS` (2000 per seed) change the size; below 100 000 days in all the run is not a
//! long run and the bench fails. With `BENCH_RECORDS` set it appends its figures (`bench-report`).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Duration;

use bench_report::Recorder;
use heat_sim::Options;
use heat_sim::sweep::{Progress, run_seeds};

/// The floor for a long run.
const MIN_DAYS: u64 = 100_000;

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Err(_) => default,
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            panic!("{name}={v:?} is not a whole number; unset it or give e.g. {default}")
        }),
    }
}

fn main() {
    let seeds = env_u64("BENCH_SIM_SEEDS", 50).max(1);
    let days = u32::try_from(env_u64("BENCH_SIM_DAYS", 2000))
        .expect("BENCH_SIM_DAYS fits in 32 bits")
        .max(1);
    let total = seeds * u64::from(days);
    assert!(
        total >= MIN_DAYS,
        "{seeds} seeds × {days} days = {total} days, under the long run's {MIN_DAYS}: raise BENCH_SIM_SEEDS or BENCH_SIM_DAYS"
    );
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let progress = Progress::default();
    let summary = run_seeds(
        &Options {
            days,
            ..Options::default()
        },
        1..=seeds,
        threads,
        &progress,
        Duration::from_secs(10),
        &mut |p, elapsed| {
            eprintln!(
                "sim: {}/{total} days after {:.0} s",
                p.days_done(),
                elapsed.as_secs_f64()
            );
        },
    );
    print!("{}", summary.to_text());
    let rec = Recorder::from_env("sim");
    rec.write(rec.value(
        "days_per_second",
        &format!(
            "heat-sim, {seeds} seeds × {days} days on {threads} threads: simulated days per second"
        ),
        "days/s",
        summary.days_per_second,
    ));
    rec.write(
        rec.value(
            "violations",
            &format!("heat-sim, {total} simulated days: safety violations"),
            "",
            summary.violation_count as f64,
        )
        .goal("0 violations", summary.violation_count == 0),
    );
    assert_eq!(
        summary.violation_count, 0,
        "safety violations: rerun the seeds named above with `heat-sim --seed N --days {days}`"
    );
}
