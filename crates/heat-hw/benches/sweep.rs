//! Sweep and simulation benchmark (`cargo bench -p heat-hw --bench sweep`), printing a table.
//!
//! Sensor sweeps run against the in-memory w1 fake with 750 ms conversions on a virtual clock,
//! so the "hardware time" column is exact and the wall column is this code's own overhead. With
//! `BENCH_RECORDS` set it also appends its headline figures for `cargo xtask bench` (see
//! `bench-report`).

use std::io::{self, Write};
use std::time::{Duration, Instant};

use bench_report::{Recorder, Stats};
use heat_hw::sim::{SimConfig, SimPlant};
use heat_hw::w1::{DEFAULT_ROOT, FakeW1, W1Bank, W1Config};
use heat_hw::{RelayOutputs, RelayRole, SensorBank, SensorRole, VirtualClock};

const CONVERSION: Duration = Duration::from_millis(750);
const SWEEPS: u32 = 2000;

fn bank(n: usize, bulk: bool, clock: &VirtualClock) -> W1Bank<FakeW1> {
    let mut fake = FakeW1::new(DEFAULT_ROOT, clock.clone(), CONVERSION, bulk);
    let mut sensors = Vec::new();
    for (i, role) in SensorRole::ALL.into_iter().cycle().take(n).enumerate() {
        let id = format!("28-{i:012x}");
        fake.set_sensor(&id, 20_000 + 500 * i as i64);
        sensors.push((role, id));
    }
    W1Bank::new(fake, W1Config::new(sensors))
}

/// (virtual time per sweep, conversions per sweep, wall time of each sweep)
fn measure_sweep(n: usize, bulk: bool) -> (Duration, f64, Vec<Duration>) {
    let clock = VirtualClock::new();
    let mut b = bank(n, bulk, &clock);
    let mut delay = clock.clone();
    let walls = (0..SWEEPS)
        .map(|_| {
            let wall = Instant::now();
            std::hint::black_box(b.sweep(&mut delay));
            wall.elapsed()
        })
        .collect();
    let conversions = b.fs_mut().conversions() as f64 / f64::from(SWEEPS);
    (clock.now() / SWEEPS, conversions, walls)
}

/// Simulated days per wall second with a controller reading and switching every 30 s.
fn measure_sim(days: u32, dt: Duration) -> (f64, Duration) {
    let mut plant = SimPlant::new(SimConfig::default());
    let mut delay = VirtualClock::new();
    let steps = days as u64 * 86_400 / dt.as_secs();
    let wall = Instant::now();
    let mut pump = false;
    for _ in 0..steps {
        let sweep = plant.sweep(&mut delay);
        if let (Ok(c), Ok(b)) = (
            sweep.get(SensorRole::Collector),
            sweep.get(SensorRole::TankBottom),
        ) {
            pump = if pump { c - b > 4.0 } else { c - b >= 8.0 };
        }
        // The sim's relays only fail when a fault is injected, and none is here.
        let _ = plant.set(RelayRole::Pump, pump);
        plant.step(dt);
    }
    let wall = wall.elapsed();
    std::hint::black_box(plant.ledger());
    (f64::from(days) / wall.as_secs_f64(), wall)
}

fn main() -> io::Result<()> {
    let rec = Recorder::from_env("sweep");
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "w1 sweep, 750 ms conversions on a virtual clock, {SWEEPS} sweeps each"
    )?;
    writeln!(
        out,
        "{:>7} | {:>9} | {:>14} | {:>11} | {:>12} | {:>12} | {:>12}",
        "sensors", "bulk read", "hw time/sweep", "conversions", "wall mean", "wall p50", "wall p99"
    )?;
    writeln!(out, "{}", "-".repeat(96))?;
    // Recorded after the bus times, so that those stay together in the table.
    let mut code_rows = Vec::new();
    for n in [1, 4, 8] {
        for bulk in [true, false] {
            let (virt, conv, walls) = measure_sweep(n, bulk);
            let mean = walls.iter().sum::<Duration>() / SWEEPS;
            let us = Stats::of(walls.iter().map(|d| d.as_secs_f64() * 1e6).collect());
            let mode = if bulk { "bulk read" } else { "one by one" };
            writeln!(
                out,
                "{n:>7} | {:>9} | {:>11.0} ms | {conv:>11.1} | {:>9.1} µs | {:>9.1} µs | {:>9.1} µs",
                if bulk { "yes" } else { "no" },
                virt.as_secs_f64() * 1e3,
                mean.as_secs_f64() * 1e6,
                us.p50,
                us.p99,
            )?;
            let id = format!("{n}-{}", if bulk { "bulk" } else { "serial" });
            // One sensor costs one conversion either way: one row.
            if n > 1 || bulk {
                let what = if n == 1 {
                    "1 sensor".to_owned()
                } else {
                    format!("{n} sensors, {mode}")
                };
                rec.write(rec.value(
                    &format!("bus-{id}"),
                    &format!("sensor sweep, {what}: time on the bus"),
                    "ms",
                    virt.as_secs_f64() * 1e3,
                ));
            }
            if n == 8 {
                code_rows.push(rec.stats(
                    &format!("cpu-{id}"),
                    &format!("sensor sweep, {n} sensors, {mode}: our code's time"),
                    "µs",
                    us,
                ));
            }
        }
    }
    for row in code_rows {
        rec.write(row);
    }
    writeln!(out)?;
    writeln!(
        out,
        "simulation speed (sweep + pump decision + step per 30 s, 10 s substeps)"
    )?;
    writeln!(out, "{:>6} | {:>10} | {:>14}", "days", "wall", "sim days/s")?;
    writeln!(out, "{}", "-".repeat(36))?;
    for days in [1, 30] {
        let (rate, wall) = measure_sim(days, Duration::from_secs(30));
        writeln!(
            out,
            "{days:>6} | {:>7.1} ms | {rate:>14.0}",
            wall.as_secs_f64() * 1e3
        )?;
        if days == 30 {
            rec.write(rec.value(
                "sim-day",
                "simulated plant day (sweep, pump decision, step every 30 s)",
                "ms",
                wall.as_secs_f64() * 1e3 / f64::from(days),
            ));
        }
    }
    Ok(())
}
