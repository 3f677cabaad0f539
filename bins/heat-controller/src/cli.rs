//! The command line.

use std::path::PathBuf;

use clap::Parser;

use heat_hw::sim::FaultSchedule;

/// Runs the solar heating controller: sensors, control logic and relays on a fixed period, with
/// an authenticated MQTT session to Home Assistant.
///
/// Exit codes: 0 after SIGTERM/SIGINT, 1 a runtime failure (lock held, hardware), 2 a usage or
/// configuration error (nothing was touched).
///
/// The flags under "Simulation" are for tests, demos and fault injection: they run a simulated
/// plant and touch no hardware.
#[derive(Debug, Clone, Parser)]
#[command(version = build_version::VERSION, about)]
pub struct Cli {
    /// TOML settings file (default: $HEAT_CONFIG, if set).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Run on the simulated plant instead of sensors and relays; no hardware is touched.
    #[arg(long, help_heading = SIMULATION)]
    pub simulate: bool,

    /// Seed of the simulated plant's weather and sensor noise (with --simulate).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1,
        requires = "simulate",
        help_heading = SIMULATION
    )]
    pub seed: u64,

    /// Simulated seconds per real second, 1–100000; overrides controller.time_scale
    /// (with --simulate).
    #[arg(long, value_name = "X", requires = "simulate", help_heading = SIMULATION)]
    pub time_scale: Option<f64>,

    /// Initial collector, tank-bottom and tank-top temperatures of the simulated plant, °C
    /// (with --simulate), e.g. `15,25,30`.
    #[arg(
        long,
        value_name = "C,B,T",
        value_delimiter = ',',
        requires = "simulate",
        help_heading = SIMULATION
    )]
    pub sim_initial_c: Option<Vec<f64>>,

    /// Appends every write to a simulated relay to this file, one `<sim ms> <relay> ON|OFF`
    /// line each (with --simulate): evidence of what the plant did, for tests and demos.
    #[arg(long, value_name = "PATH", requires = "simulate", help_heading = SIMULATION)]
    pub relay_journal: Option<PathBuf>,

    /// Faults to inject into the simulated plant (with --simulate), comma-separated
    /// `FAULT@START+DURATION` in simulated seconds, e.g. `relay:heater@600+300,crc:tank_top@900+60`
    /// (see `docs/reliability.md`). For fault-injection tests and `cargo xtask soak`.
    #[arg(
        long,
        value_name = "SCHEDULE",
        requires = "simulate",
        help_heading = SIMULATION
    )]
    pub sim_faults: Option<FaultSchedule>,

    /// First reconnect delay after the broker refused the connection (auth, certificate), in real
    /// seconds, instead of 30 s (with --simulate; the rest of the schedule scales with it: 2, 4
    /// and 10 times this, then every 10 times this). Lets tests see the controller recover from a
    /// fixed password or certificate without waiting minutes.
    #[arg(
        long,
        value_name = "SECS",
        requires = "simulate",
        value_parser = clap::value_parser!(u64).range(1..=3600),
        help_heading = SIMULATION
    )]
    pub sim_rejected_backoff_secs: Option<u64>,

    /// Writes a man page or a shell completion script to stdout and exits, before any setting
    /// is loaded (for packaging).
    #[arg(long, value_name = "KIND", hide = true)]
    pub generate: Option<cli_docs::Kind>,
}

/// The `--help` heading of the simulation-only flags, apart from the operator's.
pub const SIMULATION: &str = "Simulation";

/// The lowest and highest `--time-scale`, as for `controller.time_scale`.
pub const TIME_SCALE_RANGE: (f64, f64) = (1.0, 100_000.0);

/// A command-line value that parsed but makes no sense.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UsageError {
    /// `--time-scale` outside 1–100000 or not a number.
    #[error("--time-scale {0} is outside 1–100000; pass simulated seconds per real second")]
    TimeScale(f64),
    /// `--sim-initial-c` without exactly three values.
    #[error("--sim-initial-c takes three temperatures, collector,tank_bottom,tank_top; got {0}")]
    InitialCount(usize),
    /// `--sim-initial-c` with a value that is not a plausible temperature.
    #[error("--sim-initial-c {0} is not a temperature between -50 and 150 °C")]
    InitialTemperature(f64),
}

impl Cli {
    /// Checks what clap cannot: ranges and finiteness.
    pub fn validate(&self) -> Result<(), UsageError> {
        if let Some(x) = self.time_scale
            && !(x.is_finite() && (TIME_SCALE_RANGE.0..=TIME_SCALE_RANGE.1).contains(&x))
        {
            return Err(UsageError::TimeScale(x));
        }
        if let Some(values) = &self.sim_initial_c
            && values.len() != 3
        {
            return Err(UsageError::InitialCount(values.len()));
        }
        for &c in self.sim_initial_c.iter().flatten() {
            if !(c.is_finite() && (-50.0..=150.0).contains(&c)) {
                return Err(UsageError::InitialTemperature(c));
            }
        }
        Ok(())
    }

    /// The simulated plant's initial temperatures, if given.
    pub fn initial_temperatures(&self) -> Option<(f64, f64, f64)> {
        match self.sim_initial_c.as_deref() {
            Some(&[c, b, t]) => Some((c, b, t)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
