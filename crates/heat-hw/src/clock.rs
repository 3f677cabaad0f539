//! A virtual clock: a [`DelayNs`] that records time instead of sleeping.
//!
//! Tests and the benchmark hand it to code that would otherwise sleep for conversions, so
//! "how long would this sweep take on hardware" becomes an exact, instant measurement.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use embedded_hal::delay::DelayNs;

/// Shared virtual time; clones observe and advance the same clock.
#[derive(Debug, Clone, Default)]
pub struct VirtualClock {
    nanos: Rc<Cell<u64>>,
}

impl VirtualClock {
    /// A clock at time zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Virtual time elapsed since creation.
    pub fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.get())
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.set(self.nanos.get().saturating_add(by));
    }
}

impl DelayNs for VirtualClock {
    fn delay_ns(&mut self, ns: u32) {
        self.nanos
            .set(self.nanos.get().saturating_add(u64::from(ns)));
    }
}
