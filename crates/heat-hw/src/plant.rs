//! The plant a control loop drives: [`Plant`] covers the sensors, the relays and
//! [`Plant::advance`], so heat-controller's real-time loop and heat-sim drive the hardware and
//! the simulation through one interface and neither knows which it has.
//!
//! - [`HardwarePlant`]: real sensors and relays; its `advance` does nothing (the world moves on
//!   by itself).
//! - [`crate::sim::SimulatedPlant`]: the physics, the fault schedule and the relay journal; its
//!   `advance` steps the physics to `now` and applies the faults due.
//!
//! Every plant holds its relays in a [`SafeRelays`], which switches every load OFF when
//! dropped: at shutdown, on an error return, and while a panic unwinds (the release profile
//! keeps `panic = "unwind"` for this). The GPIO relay drivers also switch OFF on their own drop.

use std::time::Duration;

use embedded_hal::delay::DelayNs;
use heat_core::Timestamp;
use heat_loop::LoopEvent;

use crate::relay::{RelayError, RelayOutputs, RelayRole};
use crate::sensor::{SensorBank, Sweep};

#[cfg(test)]
mod tests;

/// Sensors, relays and the passing of time, as one control loop sees them.
pub trait Plant {
    /// What it is, for the log (backend, bus, seed).
    fn description(&self) -> &str;

    /// Reads every sensor once, waiting out the conversions with the plant's own delay.
    fn sweep(&mut self) -> Sweep;

    /// The relays, behind the guard that switches every load OFF when the plant is dropped.
    fn relays(&mut self) -> &mut SafeRelays;

    /// Brings the plant up to `now` (the loop's clock, before each sweep) and says what
    /// happened meanwhile. Real hardware needs nothing: it returns [`Advance::default`].
    fn advance(&mut self, now: Timestamp) -> Advance;
}

/// What happened in the plant up to the `now` of [`Plant::advance`], for the loop to act on.
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use = "the events belong in the machine, and a hang must block the sweep"]
pub struct Advance {
    /// Events for the machine's stream ([`heat_loop::Machine::note`]): simulated faults
    /// injected or cleared.
    pub events: Vec<LoopEvent>,
    /// The next sweep blocks this long first, in the loop's (simulated) time, as on a wedged
    /// 1-Wire bus (`hang:sweep`). The driver does the waiting, since only it knows how its
    /// time maps to real time.
    pub sweep_hang: Option<Duration>,
}

/// Relays that go to their safe state (every load OFF) when dropped.
pub struct SafeRelays {
    inner: Box<dyn RelayOutputs>,
}

impl std::fmt::Debug for SafeRelays {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SafeRelays").finish_non_exhaustive()
    }
}

impl SafeRelays {
    /// Guards `inner`.
    pub fn new(inner: Box<dyn RelayOutputs>) -> Self {
        Self { inner }
    }
}

impl RelayOutputs for SafeRelays {
    fn set(&mut self, role: RelayRole, on: bool) -> Result<(), RelayError> {
        self.inner.set(role, on)
    }

    fn get(&self, role: RelayRole) -> Option<bool> {
        self.inner.get(role)
    }

    fn safe_state(&mut self) -> Result<(), RelayError> {
        self.inner.safe_state()
    }
}

impl Drop for SafeRelays {
    fn drop(&mut self) {
        if let Err(e) = self.inner.safe_state() {
            log::error!("relays: switching every load OFF at exit failed: {e}");
        }
    }
}

/// Real sensors and relays: a sensor bank with the delay its conversions wait with, and the
/// relays, guarded. Opening the devices is the caller's (heat-controller builds one from
/// heat-config's `[hardware]`, which this crate cannot see).
pub struct HardwarePlant {
    sensors: Box<dyn SensorBank>,
    delay: Box<dyn DelayNs>,
    relays: SafeRelays,
    description: String,
}

impl std::fmt::Debug for HardwarePlant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HardwarePlant")
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

impl HardwarePlant {
    /// A plant of `sensors` (swept with `delay`) and `relays`, which it guards from now on.
    pub fn new(
        sensors: Box<dyn SensorBank>,
        delay: Box<dyn DelayNs>,
        relays: Box<dyn RelayOutputs>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            sensors,
            delay,
            relays: SafeRelays::new(relays),
            description: description.into(),
        }
    }
}

impl Plant for HardwarePlant {
    fn description(&self) -> &str {
        &self.description
    }

    fn sweep(&mut self) -> Sweep {
        self.sensors.sweep(&mut *self.delay)
    }

    fn relays(&mut self) -> &mut SafeRelays {
        &mut self.relays
    }

    /// Nothing: real temperatures change by themselves and real faults need no schedule.
    fn advance(&mut self, _now: Timestamp) -> Advance {
        Advance::default()
    }
}
