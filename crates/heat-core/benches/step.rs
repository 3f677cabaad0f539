//! Cost of one control step over realistic, random-ish reading sequences.
//!
//! Run with `cargo bench -p heat-core`; prints ns per step. A deterministic LCG drives slowly
//! drifting temperatures with occasional jumps and sensor faults, so hysteresis, interlocks,
//! events and anti short-cycling all get exercised. With `BENCH_RECORDS` set it also appends its
//! figure for `cargo xtask bench` (see `bench-report`).
#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::time::Instant;

use bench_report::{Recorder, Stats};
use heat_core::{Controller, Mode, Params, Reading, Readings, SensorFault, Timestamp};

/// Numerical Recipes LCG: deterministic, no dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f64 {
        (self.next() % 2_000_001) as f64 / 1_000_000.0 - 1.0
    }
}

fn readings(n: usize) -> Vec<Readings> {
    let mut rng = Lcg(0x5eed);
    let (mut c, mut b, mut t) = (20.0f64, 30.0f64, 50.0f64);
    (0..n)
        .map(|_| {
            c = (c + rng.unit() * 3.0).clamp(-10.0, 170.0);
            b = (b + rng.unit() * 0.5).clamp(5.0, 95.0);
            t = (t + rng.unit() * 0.5).clamp(5.0, 95.0);
            if rng.next().is_multiple_of(500) {
                c = 30.0 + rng.unit() * 30.0; // a cloud, or the sun coming out
            }
            let fault = match rng.next() % 400 {
                0 => Some(Reading::Fault(SensorFault::Crc)),
                1 => Some(Reading::Value(f64::NAN)),
                2 => Some(Reading::Value(85.0)),
                _ => None,
            };
            let mut r = Readings::celsius(c, b, t);
            if let Some(f) = fault {
                match rng.next() % 3 {
                    0 => r.collector = f,
                    1 => r.tank_bottom = f,
                    _ => r.tank_top = f,
                }
            }
            r
        })
        .collect()
}

fn main() {
    const STEPS: usize = 1 << 16;
    const ROUNDS: usize = 30;
    let input = readings(STEPS);
    let mut rounds = Vec::with_capacity(ROUNDS);
    let mut switches = 0u64;
    for round in 0..ROUNDS {
        let mut ctl = Controller::new(Params::default(), Timestamp::from_secs(0));
        if round % 2 == 1 {
            ctl.command(
                Timestamp::from_secs(0),
                heat_core::Command::SetMode(Mode::Eco),
            )
            .expect("eco");
        }
        let mut pump = false;
        let start = Instant::now();
        for (i, r) in input.iter().enumerate() {
            let now = Timestamp::from_secs(30 * (i as u64 + 1));
            let out = ctl.step(black_box(now), black_box(r));
            switches += u64::from(out.pump != pump);
            pump = out.pump;
            black_box(&out);
        }
        rounds.push(start.elapsed().as_nanos() as f64 / STEPS as f64);
    }
    let best = rounds.iter().copied().fold(f64::MAX, f64::min);
    let stats = Stats::of(rounds);
    println!(
        "heat-core step: {best:.1} ns/step (best of {ROUNDS} rounds of {STEPS} steps; median {:.1}, \
         worst {:.1}; {} pump switches/round)",
        stats.p50,
        stats.max,
        switches / ROUNDS as u64
    );
    let rec = Recorder::from_env("step");
    rec.write(
        rec.stats(
            "step",
            &format!("control step ({ROUNDS} rounds, mean of {STEPS} steps each)"),
            "ns",
            stats,
        )
        .goal("p99 ≤ 1000 ns", stats.p99 <= 1000.0),
    );
}
