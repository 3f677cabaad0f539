//! Many seeds at once: [`run_seeds`] runs one [`crate::run`] per seed on a pool of scoped threads
//! (one per core by default) and folds the results into a [`SweepSummary`], while a shared
//! counter of finished days feeds a progress line.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::{Options, Summary, run_with_progress};

#[cfg(test)]
mod tests;

/// One seed's result in a sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedResult {
    /// Seed.
    pub seed: u64,
    /// Safety violations of this seed.
    pub violation_count: u64,
    /// Violations by rule.
    pub violations: BTreeMap<String, u64>,
    /// Exposures (rules broken while the controller was blind or powerless), total.
    pub exposure_count: u64,
    /// Steps with a relay write error.
    pub relay_errors: u64,
}

/// A violation with the seed that found it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeededViolation {
    /// Seed (rerun it with `--seed`).
    pub seed: u64,
    /// Simulated seconds since the start.
    pub seconds: f64,
    /// Rule.
    pub rule: String,
}

/// The result of a sweep across seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepSummary {
    /// Simulated days per seed.
    pub days_per_seed: u32,
    /// First and last seed (inclusive).
    pub seeds: (u64, u64),
    /// Worker threads.
    pub threads: usize,
    /// Simulated days across seeds.
    pub total_days: u64,
    /// Wall time, s.
    pub wall_s: f64,
    /// Simulated days per wall-clock second.
    pub days_per_second: f64,
    /// Total safety violations.
    pub violation_count: u64,
    /// Violations by rule across seeds.
    pub violations: BTreeMap<String, u64>,
    /// Exposures across seeds by "rule: cause".
    pub exposures: BTreeMap<String, u64>,
    /// Daemon restarts across seeds, by kind (the damage done to the file first).
    pub restarts: BTreeMap<String, u64>,
    /// What the restarts started from (`current`, `previous`, `defaults`), across seeds.
    pub restart_sources: BTreeMap<String, u64>,
    /// True thermal disinfections across seeds.
    pub disinfections: u64,
    /// The longest time without one in any seed, days.
    pub longest_disinfection_gap_days: f64,
    /// Each seed's result, by seed.
    pub per_seed: Vec<SeedResult>,
    /// The first violations, by seed then time.
    pub first_violations: Vec<SeededViolation>,
}

/// How many seeded violations the summary keeps.
const FIRST_KEPT: usize = 10;

/// Progress of a running sweep, shared with the threads.
#[derive(Debug, Default)]
pub struct Progress {
    days_done: AtomicU64,
}

impl Progress {
    /// Simulated days finished so far, across seeds.
    pub fn days_done(&self) -> u64 {
        self.days_done.load(Ordering::Relaxed)
    }
}

/// Runs `options` once per seed in `seeds` on `threads` workers (at least one). `progress` is
/// updated after each simulated day; `tick` is called about every `every` from the calling
/// thread while the workers run (for a progress line).
pub fn run_seeds(
    options: &Options,
    seeds: RangeInclusive<u64>,
    threads: usize,
    progress: &Progress,
    every: Duration,
    tick: &mut dyn FnMut(&Progress, Duration),
) -> SweepSummary {
    let started = Instant::now();
    let list: Vec<u64> = seeds.clone().collect();
    let threads = threads.clamp(1, list.len().max(1));
    let next = AtomicU64::new(0);
    let results: Mutex<Vec<Summary>> = Mutex::new(Vec::with_capacity(list.len()));
    let running = AtomicU64::new(threads as u64);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let day_done = || {
                    progress.days_done.fetch_add(1, Ordering::Relaxed);
                };
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&seed) = usize::try_from(i).ok().and_then(|i| list.get(i)) else {
                        break;
                    };
                    let summary = run_with_progress(
                        &Options {
                            seed,
                            ..options.clone()
                        },
                        &day_done,
                    );
                    // A poisoned lock only means another worker panicked; keep its results.
                    results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(summary);
                }
                running.fetch_sub(1, Ordering::Release);
            });
        }
        let mut last_tick = Instant::now();
        while running.load(Ordering::Acquire) > 0 {
            std::thread::sleep(every.min(Duration::from_millis(100)));
            if last_tick.elapsed() >= every {
                last_tick = Instant::now();
                tick(progress, started.elapsed());
            }
        }
    });
    tick(progress, started.elapsed());
    let mut results = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    results.sort_by_key(|s| s.seed);
    fold(options.days, &seeds, threads, started.elapsed(), &results)
}

/// Folds per-seed summaries into the sweep's summary.
fn fold(
    days: u32,
    seeds: &RangeInclusive<u64>,
    threads: usize,
    wall: Duration,
    results: &[Summary],
) -> SweepSummary {
    let mut violations: BTreeMap<String, u64> = BTreeMap::new();
    let mut exposures: BTreeMap<String, u64> = BTreeMap::new();
    let mut restarts: BTreeMap<String, u64> = BTreeMap::new();
    let mut restart_sources: BTreeMap<String, u64> = BTreeMap::new();
    let (mut disinfections, mut longest_gap) = (0, 0.0f64);
    let mut first = Vec::new();
    let mut per_seed = Vec::with_capacity(results.len());
    for s in results {
        for (rule, n) in &s.violations {
            *violations.entry(rule.clone()).or_default() += n;
        }
        for (totals, of_seed) in [
            (&mut exposures, &s.exposures),
            (&mut restarts, &s.restarts),
            (&mut restart_sources, &s.restart_sources),
        ] {
            for (what, n) in of_seed {
                *totals.entry(what.clone()).or_default() += n;
            }
        }
        disinfections += s.disinfections;
        longest_gap = longest_gap.max(s.longest_disinfection_gap_days);
        for (seconds, rule) in &s.first_violations {
            if first.len() < FIRST_KEPT {
                first.push(SeededViolation {
                    seed: s.seed,
                    seconds: *seconds,
                    rule: rule.clone(),
                });
            }
        }
        per_seed.push(SeedResult {
            seed: s.seed,
            violation_count: s.violation_count,
            violations: s.violations.clone(),
            exposure_count: s.exposures.values().sum(),
            relay_errors: s.relay_errors,
        });
    }
    let total_days = u64::from(days) * results.len() as u64;
    let wall_s = wall.as_secs_f64();
    SweepSummary {
        days_per_seed: days,
        seeds: (*seeds.start(), *seeds.end()),
        threads,
        total_days,
        wall_s,
        days_per_second: total_days as f64 / wall_s.max(1e-9),
        violation_count: violations.values().sum(),
        violations,
        exposures,
        restarts,
        restart_sources,
        disinfections,
        longest_disinfection_gap_days: longest_gap,
        per_seed,
        first_violations: first,
    }
}

impl SweepSummary {
    /// The human-readable report.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut t = String::new();
        let _ = writeln!(
            t,
            "heat-sim: seeds {}..={} ({} seeds × {} days = {} days) on {} threads: {:.1} s, {:.0} days/s",
            self.seeds.0,
            self.seeds.1,
            self.per_seed.len(),
            self.days_per_seed,
            self.total_days,
            self.threads,
            self.wall_s,
            self.days_per_second
        );
        let _ = writeln!(t, "violations per seed:");
        for s in &self.per_seed {
            let _ = writeln!(
                t,
                "  seed {:6}: {} violations, {} exposures, {} relay write errors",
                s.seed, s.violation_count, s.exposure_count, s.relay_errors
            );
        }
        let _ = writeln!(
            t,
            "restarts across seeds: {} {:?}, started from {:?}",
            self.restarts.values().sum::<u64>(),
            self.restarts,
            self.restart_sources
        );
        let _ = writeln!(
            t,
            "thermal disinfections (true tank top): {}, longest gap in a seed {:.1} days",
            self.disinfections, self.longest_disinfection_gap_days
        );
        let _ = writeln!(t, "exposures across seeds:");
        for (what, n) in &self.exposures {
            let _ = writeln!(t, "  {what}: {n}");
        }
        let _ = writeln!(t, "safety violations: {}", self.violation_count);
        for (rule, n) in &self.violations {
            let _ = writeln!(t, "  {rule:28} {n}");
        }
        for v in &self.first_violations {
            let _ = writeln!(
                t,
                "  first: {} at {:.0} s (day {:.2}) with --seed {}",
                v.rule,
                v.seconds,
                v.seconds / 86_400.0,
                v.seed
            );
        }
        t
    }
}
