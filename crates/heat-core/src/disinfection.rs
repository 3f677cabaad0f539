//! Thermal disinfection (anti-legionella): every `disinfection_interval_days` the tank top is
//! held at `disinfection_target` for `disinfection_hold_min`, by the heater inside the start
//! window if the sun has not done it. Solar heat that holds the target for the hold time counts
//! as a disinfection and resets the interval.
//!
//! Dates are local days ([`LocalTime::day`]); run times are monotonic, so a clock jump can
//! neither end a run early nor stretch it. A scheduled run starts at most once per local day.

use serde::{Deserialize, Serialize};

use crate::params::{Params, window_contains};
use crate::time::{LocalTime, Timestamp};

/// A run the user asks for (a command) may heat this long before it counts as failed.
pub const REQUESTED_RUN_LIMIT_MS: u64 = 4 * 3600 * 1000;

/// During a run the heater switches ON below target + this (K) ...
const BAND_ON_K: f64 = 1.0;
/// ... and OFF at target + this (K), so the tank top stays above the target while it holds.
const BAND_OFF_K: f64 = 2.0;

/// What the status shows of the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct DisinfectionStatus {
    /// A run is heating (or holding) now.
    pub running: bool,
    /// The local day of the last completed disinfection (days since 1970-01-01).
    pub last_day: Option<i64>,
    /// The local day the next one is due; `None` when the function is off or none has been
    /// recorded yet (then the next start window runs one).
    pub next_due_day: Option<i64>,
    /// The last run missed the target within its time (an alarm until the next success).
    pub failed: bool,
}

/// A change worth an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisinfectionChange {
    /// A run started: by the schedule, or asked for by a command.
    Started {
        /// Asked for by a command.
        requested: bool,
    },
    /// The target was held for the hold time.
    Completed {
        /// With no run heating: the sun did it.
        by_solar: bool,
    },
    /// A run ended without holding the target for the hold time.
    Failed,
    /// A run ended because the mode left auto/eco.
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    started: Timestamp,
    limit_ms: u64,
}

/// The function's memory. Pure: every call gets the times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Disinfection {
    last_day: Option<i64>,
    // The local day a scheduled run last started (or the target was last held), so that a
    // clock set back into the window cannot start a second one that day.
    attempted_day: Option<i64>,
    run: Option<Run>,
    requested: bool,
    // How long the tank top has been at or above the target without a break; only intervals
    // that start and end there count.
    held_ms: u64,
    above: bool,
    heating: bool,
    failed: bool,
}

/// One step's inputs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Inputs {
    pub(crate) now: Timestamp,
    pub(crate) local: Option<LocalTime>,
    pub(crate) tank_top: Option<f64>,
    /// Time since the previous step, capped as the counters cap it.
    pub(crate) elapsed_ms: u64,
    /// The mode lets the heater run for it (auto or eco).
    pub(crate) allowed: bool,
}

impl Disinfection {
    /// Resumes with the last disinfection's local day (from the state file).
    pub(crate) fn resume(last_day: Option<i64>) -> Self {
        Self {
            last_day,
            ..Self::default()
        }
    }

    /// A command asked for a run now (the caller checked the mode).
    pub(crate) fn request(&mut self) {
        self.requested = true;
    }

    /// Whether the heater should run for the disinfection (interlocks still decide).
    pub(crate) fn wants_heater(&self) -> bool {
        self.run.is_some() && self.heating
    }

    /// The status, with `params`' interval.
    pub(crate) fn status(&self, params: &Params) -> DisinfectionStatus {
        let interval = params.disinfection_interval_days();
        DisinfectionStatus {
            running: self.run.is_some(),
            last_day: self.last_day,
            next_due_day: match interval {
                0 => None,
                days => self.last_day.map(|d| d.saturating_add(i64::from(days))),
            },
            failed: self.failed,
        }
    }

    /// One step. Returns what changed, if anything.
    pub(crate) fn step(&mut self, params: &Params, i: Inputs) -> Option<DisinfectionChange> {
        let r = params.raw();
        let hold_ms = (r.disinfection_hold_min * 60_000.0) as u64;
        match i.tank_top {
            Some(t) if t >= r.disinfection_target => {
                if self.above {
                    self.held_ms = self.held_ms.saturating_add(i.elapsed_ms);
                }
                self.above = true;
            }
            _ => {
                self.held_ms = 0;
                self.above = false;
            }
        }
        if self.held_ms >= hold_ms {
            self.held_ms = 0;
            let was_running = self.run.take().is_some();
            self.heating = false;
            self.failed = false;
            let day = i.local.map(LocalTime::day);
            let new_day = day.is_some() && day != self.last_day;
            if let Some(day) = day {
                self.last_day = Some(day);
                self.attempted_day = Some(day);
            }
            return (was_running || new_day).then_some(DisinfectionChange::Completed {
                by_solar: !was_running,
            });
        }
        if let Some(run) = self.run {
            if !i.allowed {
                self.run = None;
                self.heating = false;
                return Some(DisinfectionChange::Cancelled);
            }
            let ran = u64::try_from(i.now.saturating_duration_since(run.started).as_millis())
                .unwrap_or(u64::MAX);
            if ran >= run.limit_ms {
                self.run = None;
                self.heating = false;
                self.failed = true;
                return Some(DisinfectionChange::Failed);
            }
        }
        if !i.allowed {
            self.requested = false;
        }
        let mut started = None;
        if self.run.is_none() && i.allowed {
            if self.requested {
                self.requested = false;
                self.run = Some(Run {
                    started: i.now,
                    limit_ms: REQUESTED_RUN_LIMIT_MS,
                });
                started = Some(DisinfectionChange::Started { requested: true });
            } else if let Some(local) = i.local
                && self.due(params, local)
            {
                self.attempted_day = Some(local.day());
                let (start, end) = params.disinfection_window();
                let minutes = (i64::from(end) - i64::from(start)).rem_euclid(1440);
                self.run = Some(Run {
                    started: i.now,
                    limit_ms: u64::try_from(minutes).unwrap_or(0) * 60_000,
                });
                started = Some(DisinfectionChange::Started { requested: false });
            }
        }
        if self.run.is_some() {
            match i.tank_top {
                Some(t) => {
                    if t < r.disinfection_target + BAND_ON_K {
                        self.heating = true;
                    } else if t >= r.disinfection_target + BAND_OFF_K {
                        self.heating = false;
                    }
                }
                None => self.heating = false,
            }
        }
        started
    }

    /// A scheduled run is due at `local`: the function is on, the window is open, the interval
    /// has passed since the last disinfection (or none is known), and none started today.
    fn due(&self, params: &Params, local: LocalTime) -> bool {
        let interval = params.disinfection_interval_days();
        let (start, end) = params.disinfection_window();
        interval > 0
            && window_contains(start, end, local.minute_of_day())
            && self
                .last_day
                .is_none_or(|d| local.day().saturating_sub(d) >= i64::from(interval))
            && self.attempted_day != Some(local.day())
    }
}

#[cfg(test)]
mod tests;
