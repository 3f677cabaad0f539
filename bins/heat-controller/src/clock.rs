//! heat-core's [`Timestamp`] from the monotonic clock: milliseconds since the loop started,
//! multiplied by the time scale under `--simulate` (1 on real hardware).

use std::time::{Duration, Instant};

use heat_core::Timestamp;

/// A monotonic clock for heat-core, optionally running faster than real time.
#[derive(Debug, Clone, Copy)]
pub struct LoopClock {
    start: Instant,
    scale: f64,
}

impl LoopClock {
    /// A clock at zero now, advancing `scale` simulated seconds per real second (at least 1).
    pub fn new(scale: f64) -> Self {
        Self::starting_at(Instant::now(), scale)
    }

    /// A clock at zero at `start`.
    pub fn starting_at(start: Instant, scale: f64) -> Self {
        let scale = if scale.is_finite() && scale >= 1.0 {
            scale
        } else {
            1.0
        };
        Self { start, scale }
    }

    /// The scale.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The timestamp at `at` (zero before the start: the clock never goes backwards).
    pub fn at(&self, at: Instant) -> Timestamp {
        let real = at.saturating_duration_since(self.start);
        let millis = (real.as_secs_f64() * self.scale * 1000.0).floor();
        // `as` saturates at u64::MAX for huge values and maps NaN to 0; neither can panic.
        Timestamp::from_millis(millis as u64)
    }

    /// The timestamp now.
    pub fn now(&self) -> Timestamp {
        self.at(Instant::now())
    }

    /// Real time that corresponds to `simulated` time.
    pub fn real(&self, simulated: Duration) -> Duration {
        simulated.div_f64(self.scale)
    }
}

#[cfg(test)]
mod tests;
