//! The control loop's own timing report, as the tools read it: logged on
//! [`crate::log::TIMING_TARGET`] beside the sentence for people, at every report and at the end.

use serde::{Deserialize, Serialize};

/// One timing window, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimingJson {
    /// Ticks in the window.
    pub ticks: u64,
    /// p99 of |actual − planned| tick time.
    pub jitter_p99_ms: f64,
    /// Max of |actual − planned| tick time.
    pub jitter_max_ms: f64,
    /// p99 of the work per tick (sweep, step, relays, publish).
    pub work_p99_ms: f64,
    /// Max of the work per tick.
    pub work_max_ms: f64,
    /// Ticks since start.
    pub total_ticks: u64,
    /// Max jitter since start.
    pub jitter_max_total_ms: f64,
    /// Ticks skipped since start because the loop fell a whole period behind.
    pub skipped: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_reads_back() {
        let t = TimingJson {
            ticks: 10,
            jitter_p99_ms: 0.5,
            jitter_max_ms: 1.25,
            work_p99_ms: 0.1,
            work_max_ms: 0.2,
            total_ticks: 100,
            jitter_max_total_ms: 3.0,
            skipped: 1,
        };
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<TimingJson>(&json).unwrap(), t);
    }
}
