//! The loop measures its own timing: how late (or early) each tick ran against its plan
//! (period jitter), and how long each tick's work took. Reported as max and p99 over a window
//! of ticks and since start.

use std::fmt;
use std::time::Duration;

use heat_state::{TimingJson, log::TIMING_TARGET};

/// Samples kept per window; the window is reported and restarted when full.
pub const WINDOW: usize = 1024;

/// Jitter and work-time statistics of the control loop.
#[derive(Debug, Clone)]
pub struct LoopTiming {
    jitter: Vec<Duration>,
    work: Vec<Duration>,
    ticks: u64,
    overruns: u64,
    max_jitter: Duration,
    max_work: Duration,
}

/// One window's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimingReport {
    /// Ticks in the window.
    pub ticks: usize,
    /// p99 of |actual − planned| tick time.
    pub jitter_p99: Duration,
    /// Max of |actual − planned| tick time.
    pub jitter_max: Duration,
    /// p99 of the work done per tick (sweep, step, relays, publish).
    pub work_p99: Duration,
    /// Max of the work per tick.
    pub work_max: Duration,
    /// Ticks skipped since start because the loop fell a whole period behind.
    pub overruns: u64,
    /// Ticks since start.
    pub total_ticks: u64,
    /// Max jitter since start.
    pub jitter_max_total: Duration,
}

impl fmt::Display for TimingReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        write!(
            f,
            "loop timing over {} ticks: period jitter p99 {:.3} ms, max {:.3} ms; work p99 {:.3} ms, \
             max {:.3} ms; since start: {} ticks, jitter max {:.3} ms, {} skipped",
            self.ticks,
            ms(self.jitter_p99),
            ms(self.jitter_max),
            ms(self.work_p99),
            ms(self.work_max),
            self.total_ticks,
            ms(self.jitter_max_total),
            self.overruns
        )
    }
}

impl TimingReport {
    /// The report as the tools read it.
    pub fn to_json(&self) -> TimingJson {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        TimingJson {
            ticks: u64::try_from(self.ticks).unwrap_or(u64::MAX),
            jitter_p99_ms: ms(self.jitter_p99),
            jitter_max_ms: ms(self.jitter_max),
            work_p99_ms: ms(self.work_p99),
            work_max_ms: ms(self.work_max),
            total_ticks: self.total_ticks,
            jitter_max_total_ms: ms(self.jitter_max_total),
            skipped: self.overruns,
        }
    }

    /// Logs the report: the sentence for people, and the record on heat-state's
    /// [`TIMING_TARGET`] for tools.
    pub fn log(&self) {
        log::info!("{self}");
        heat_state::log::emit(
            TIMING_TARGET,
            log::Level::Info,
            "timing report",
            &self.to_json(),
        );
    }
}

impl Default for LoopTiming {
    fn default() -> Self {
        Self::new()
    }
}

/// The value at quantile `q` (0–1) of `samples`, nearest rank; zero when empty.
pub fn quantile(samples: &mut [Duration], q: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort_unstable();
    let rank = ((samples.len() as f64) * q.clamp(0.0, 1.0)).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

impl LoopTiming {
    /// No samples yet.
    pub fn new() -> Self {
        Self {
            jitter: Vec::with_capacity(WINDOW),
            work: Vec::with_capacity(WINDOW),
            ticks: 0,
            overruns: 0,
            max_jitter: Duration::ZERO,
            max_work: Duration::ZERO,
        }
    }

    /// Records one tick: its jitter (|actual − planned|) and its work time.
    pub fn record(&mut self, jitter: Duration, work: Duration) {
        self.ticks += 1;
        self.max_jitter = self.max_jitter.max(jitter);
        self.max_work = self.max_work.max(work);
        if self.jitter.len() < WINDOW {
            self.jitter.push(jitter);
            self.work.push(work);
        }
    }

    /// Counts ticks skipped because the loop fell behind.
    pub fn skipped(&mut self, n: u64) {
        self.overruns += n;
    }

    /// Samples in the current window.
    pub fn window_len(&self) -> usize {
        self.jitter.len()
    }

    /// Whether the window is full.
    pub fn window_full(&self) -> bool {
        self.jitter.len() >= WINDOW
    }

    /// The figures of the current window; starts a new window.
    pub fn take_report(&mut self) -> TimingReport {
        let report = TimingReport {
            ticks: self.jitter.len(),
            jitter_p99: quantile(&mut self.jitter, 0.99),
            jitter_max: self.jitter.iter().max().copied().unwrap_or_default(),
            work_p99: quantile(&mut self.work, 0.99),
            work_max: self.work.iter().max().copied().unwrap_or_default(),
            overruns: self.overruns,
            total_ticks: self.ticks,
            jitter_max_total: self.max_jitter,
        };
        self.jitter.clear();
        self.work.clear();
        report
    }
}

#[cfg(test)]
mod tests;
