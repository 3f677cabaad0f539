//! A schedule of faults for the simulated plant (heat-controller's `--sim-faults`, with
//! `--simulate` only): what the fault-injection tests and `cargo xtask soak` use to break sensors
//! and relays mid-run without touching the process. [`super::SimulatedPlant`] applies it on
//! every [`crate::Plant::advance`].
//!
//! Syntax: comma-separated `FAULT@START+DURATION`, times in simulated seconds since the loop
//! started, e.g. `relay:heater@600+300,disconnected:tank_top@1200+120`. Faults: `relay:ROLE`
//! (writes to the relay fail, the load stays as it was), `disconnected:SENSOR` (−127 °C),
//! `crc:SENSOR`, `missing:SENSOR`, `power_on:SENSOR` (85 °C), and `hang:sweep` (the loop's next
//! sensor sweep blocks until `START + DURATION`, as a wedged 1-Wire bus would: the loop stops
//! ticking and stops pinging systemd's watchdog). Each is injected at `START` and cleared at
//! `START + DURATION`; both are logged.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use heat_core::Timestamp;
use heat_loop::LoopEvent;

use super::{SimFault, SimPlant};
use crate::relay::RelayRole;
use crate::sensor::SensorRole;

/// What a schedule entry breaks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// A fault of the simulated plant's sensors or relays.
    Plant(SimFault),
    /// `hang:sweep`: the sensor sweep blocks (in real time) until the entry's end.
    HangSweep,
}

/// One scheduled fault.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scheduled {
    /// The fault.
    pub fault: Fault,
    /// Injected at this simulated time since the start.
    pub start: Duration,
    /// Cleared after this long.
    pub duration: Duration,
    active: bool,
    done: bool,
}

/// The whole schedule.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultSchedule {
    entries: Vec<Scheduled>,
}

/// A schedule entry that does not parse (clap names the flag it came from).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "fault schedule entry {0:?}: expected FAULT@START+DURATION (simulated seconds), FAULT one of \
     relay:pump|heater, disconnected|crc|missing|power_on:collector|tank_bottom|tank_top|ambient, \
     hang:sweep"
)]
pub struct ScheduleError(pub String);

fn parse_fault(text: &str) -> Option<Fault> {
    let (kind, role) = text.split_once(':')?;
    if (kind, role) == ("hang", "sweep") {
        return Some(Fault::HangSweep);
    }
    if kind == "relay" {
        let role = RelayRole::ALL.into_iter().find(|r| r.as_str() == role)?;
        return Some(Fault::Plant(SimFault::RelayWrite(role)));
    }
    let sensor = SensorRole::from_str(role).ok()?;
    Some(Fault::Plant(match kind {
        "disconnected" => SimFault::Disconnected(sensor),
        "crc" => SimFault::Crc(sensor),
        "missing" => SimFault::Missing(sensor),
        "power_on" => SimFault::PowerOnValue(sensor),
        _ => return None,
    }))
}

fn parse_entry(text: &str) -> Option<Scheduled> {
    let (fault, when) = text.trim().split_once('@')?;
    let (start, duration) = when.split_once('+')?;
    let secs = |s: &str| s.parse::<u64>().ok().map(Duration::from_secs);
    Some(Scheduled {
        fault: parse_fault(fault)?,
        start: secs(start)?,
        duration: secs(duration)?,
        active: false,
        done: false,
    })
}

impl FromStr for FaultSchedule {
    type Err = ScheduleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let entries = s
            .split(',')
            .filter(|e| !e.trim().is_empty())
            .map(|e| parse_entry(e).ok_or_else(|| ScheduleError(e.to_owned())))
            .collect::<Result<_, _>>()?;
        Ok(Self { entries })
    }
}

struct FaultName(Fault);

impl fmt::Display for FaultName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Fault::Plant(fault) = self.0 else {
            return write!(f, "hang:sweep");
        };
        match fault {
            SimFault::RelayWrite(r) => write!(f, "relay:{r}"),
            SimFault::Disconnected(s) => write!(f, "disconnected:{s}"),
            SimFault::Crc(s) => write!(f, "crc:{s}"),
            SimFault::Missing(s) => write!(f, "missing:{s}"),
            SimFault::PowerOnValue(s) => write!(f, "power_on:{s}"),
            SimFault::Stuck(s, c) => write!(f, "stuck:{s}={c}"),
        }
    }
}

impl FaultSchedule {
    /// The entries.
    pub fn entries(&self) -> &[Scheduled] {
        &self.entries
    }

    /// Injects the faults due at `now` (time since the loop's start) and clears the expired.
    /// Returns how much longer (simulated time) the sweep must block when a `hang:sweep` is
    /// active, and the events of what was injected and cleared.
    pub fn apply(
        &mut self,
        now: Timestamp,
        plant: &mut SimPlant,
    ) -> (Option<Duration>, Vec<LoopEvent>) {
        let now = Duration::from_millis(now.as_millis());
        let mut hang = None;
        let mut events = Vec::new();
        for e in &mut self.entries {
            let end = e.start.saturating_add(e.duration);
            if !e.active && !e.done && now >= e.start {
                if let Fault::Plant(fault) = e.fault {
                    plant.inject(fault);
                }
                e.active = true;
                events.push(LoopEvent::SimFaultInjected {
                    fault: FaultName(e.fault).to_string(),
                });
            }
            if e.active && now >= end {
                if let Fault::Plant(fault) = e.fault {
                    plant.clear_fault(fault);
                }
                e.active = false;
                e.done = true;
                events.push(LoopEvent::SimFaultCleared {
                    fault: FaultName(e.fault).to_string(),
                });
            }
            if e.active && e.fault == Fault::HangSweep {
                hang = hang.max(Some(end - now));
            }
        }
        (hang, events)
    }
}

#[cfg(test)]
mod tests;
