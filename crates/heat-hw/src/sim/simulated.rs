//! The simulated plant as a [`Plant`]: the physics ([`SimPlant`], shared between the sensor
//! and the relay side), the fault schedule ([`FaultSchedule`]) and, optionally, the relay
//! journal ([`JournalRelays`]). [`Plant::advance`] steps the physics to `now` and applies the
//! faults due, so the loop that drives it is the one that drives the hardware.

use std::path::Path;
use std::time::Duration;

use heat_core::Timestamp;

use super::{FaultSchedule, JournalRelays, SharedPlant, SimConfig, SimPlant};
use crate::clock::VirtualClock;
use crate::plant::{Advance, Plant, SafeRelays};
use crate::relay::RelayOutputs;
use crate::sensor::{SensorBank, Sweep};

#[cfg(test)]
mod tests;

/// The physics, the fault schedule and the relay journal behind one [`Plant`].
///
/// Time zero of the physics is time zero of the loop's clock: the first
/// [`advance`](Plant::advance) steps from there.
#[derive(Debug)]
pub struct SimulatedPlant {
    physics: SharedPlant,
    relays: SafeRelays,
    // The sweep is instant; the clock only absorbs the delay calls.
    delay: VirtualClock,
    faults: Option<FaultSchedule>,
    stepped_to: Timestamp,
    max_advance: Option<Duration>,
    description: String,
}

impl SimulatedPlant {
    /// The plant of `config`, its relays unjournaled, with no fault schedule.
    pub fn new(config: SimConfig) -> Self {
        let physics = SimPlant::new(config).into_shared();
        Self::around(physics.clone(), Box::new(physics))
    }

    /// [`SimulatedPlant::new`] with every relay write journaled into `journal` (appending).
    pub fn journaled(config: SimConfig, journal: &Path) -> std::io::Result<Self> {
        let physics = SimPlant::new(config).into_shared();
        let relays = JournalRelays::new(physics.clone(), journal)?;
        Ok(Self::around(physics, Box::new(relays)))
    }

    fn around(physics: SharedPlant, relays: Box<dyn RelayOutputs>) -> Self {
        let description = physics.with(|p| format!("simulated plant (seed {})", p.config().seed));
        Self {
            physics,
            relays: SafeRelays::new(relays),
            delay: VirtualClock::new(),
            faults: None,
            stepped_to: Timestamp::from_millis(0),
            max_advance: None,
            description,
        }
    }

    /// Applies `schedule` on every advance (times since the loop's start).
    pub fn with_faults(mut self, schedule: FaultSchedule) -> Self {
        self.faults = Some(schedule);
        self
    }

    /// Steps the physics by at most `max` per advance, so a loop that was stopped (SIGSTOP, a
    /// suspended machine) does not come back to a plant hours ahead. Unlimited by default.
    pub fn with_max_advance(mut self, max: Duration) -> Self {
        self.max_advance = Some(max);
        self
    }

    /// The physics, to read the true state and the ledger or to inject faults directly.
    pub fn physics(&self) -> &SharedPlant {
        &self.physics
    }
}

impl Plant for SimulatedPlant {
    fn description(&self) -> &str {
        &self.description
    }

    fn sweep(&mut self) -> Sweep {
        self.physics.sweep(&mut self.delay)
    }

    fn relays(&mut self) -> &mut SafeRelays {
        &mut self.relays
    }

    /// Steps the physics from the last advance to `now` (at most the maximum advance), then
    /// injects and clears the scheduled faults due at `now`.
    fn advance(&mut self, now: Timestamp) -> Advance {
        let mut dt = now.saturating_duration_since(self.stepped_to);
        if let Some(max) = self.max_advance {
            dt = dt.min(max);
        }
        self.physics.with(|p| p.step(dt));
        self.stepped_to = self.stepped_to.max(now);
        let Some(schedule) = self.faults.as_mut() else {
            return Advance::default();
        };
        let (sweep_hang, events) = self.physics.with(|p| schedule.apply(now, p));
        Advance { events, sweep_hang }
    }
}
