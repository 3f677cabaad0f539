//! The safety checker: judges every step from the plant's *true* state and the physical relay
//! positions, without asking heat-core anything, so a bug in heat-core cannot hide itself.
//!
//! Rules (each a [`Violation`]):
//!
//! 1. the heater is ON while the true tank top is at or above the tank maximum;
//! 2. the pump is ON while the boil stop should be latched (true collector reached the boil stop
//!    and has not since fallen below boil stop − hysteresis; at start-up a collector inside that
//!    band counts as latched, as in heat-core: docs/control.md);
//! 3. a relay switches ON sooner than its minimum OFF time after switching OFF (switching OFF is
//!    always allowed: a safety OFF is never delayed);
//! 4. the heater is ON while the tank-top sensor is faulted (a non-transient error, or transient
//!    errors for longer than the stale timeout);
//! 5. in a comfort mode (auto or eco) the heater switches ON outside its time windows, or stays
//!    ON outside them for longer than its minimum ON time plus one step. The mode is the user's
//!    choice (a command), not a control decision, so the checker takes it as given;
//! 6. the pump loads the tank (true collector above the true tank bottom) while the true tank
//!    (the hotter of top and bottom) is at or above the emergency level. Collector cooling may
//!    take the tank past `tank_max`, never past `tank_emergency`;
//! 7. a thermal disinfection's start window that could run one passes without heating although
//!    the last true disinfection lies more than its interval + 1 day back ([`disinfection`]).
//!
//! The restarts add consistency rules, judged by [`crate::restart`] and reported here with
//! [`SafetyChecker::report`]: the restored counters, the counters lost, damage detection.
//! A restart (the daemon stops, drives every relay OFF, and starts again) is told with
//! [`SafetyChecker::restarted`]. The minimum OFF times hold across it (rule 3): a resumed
//! controller counts its start as both loads' switch OFF (docs/control.md).
//!
//! Temperatures carry a [`Limits::margin_k`] in the controller's favour, because the controller
//! sees DS18B20 readings (noise and 1/16 °C steps), not the truth.
//!
//! A rule broken while the controller *could not know or could not act* is an [`Exposure`], not
//! a violation: a stuck sensor looks healthy, a failed relay write leaves the load where it was,
//! and a transient sensor fault lets the last good value stand for the stale timeout by design
//! (docs/control.md). The same holds after the blindness ends: a boil-stop crossing that happened
//! while the collector read stuck or held leaves the collector inside the hysteresis band with no
//! reading that could have latched the controller, so a pump ON there is an exposure too (found
//! by `heat-sim --days 17600 --seed 1`, day 17593.53). Exposures are counted and reported, never
//! hidden.

use std::collections::BTreeMap;

use heat_hw::SensorError;
use serde::Serialize;

pub mod disinfection;
#[cfg(test)]
mod tests;

use disinfection::{DisinfectionCheck, DisinfectionLimits};

/// The limits the checker judges against: the configured ones, tracked as commands change them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Limits {
    /// Tank maximum, °C.
    pub tank_max: f64,
    /// Tank maximum hysteresis, K.
    pub tank_max_hysteresis: f64,
    /// Tank emergency level, °C.
    pub tank_emergency: f64,
    /// Boil stop, °C.
    pub boil_stop: f64,
    /// Boil stop hysteresis, K.
    pub boil_stop_hysteresis: f64,
    /// Pump minimum OFF time, ms.
    pub pump_min_off_ms: u64,
    /// Heater minimum OFF time, ms.
    pub heater_min_off_ms: u64,
    /// Heater minimum ON time, ms.
    pub heater_min_on_ms: u64,
    /// Transient sensor faults may hold the last good value this long, ms.
    pub stale_ms: u64,
    /// The heater time windows, `[start, end)` in minutes after local midnight.
    pub heater_windows: [(u16, u16); 3],
    /// Allowance for sensor error, K (DS18B20: ±0.5 °C).
    pub margin_k: f64,
    /// The thermal disinfection's settings.
    pub disinfection: DisinfectionLimits,
}

impl Limits {
    /// The limits of a parameter set.
    pub fn from_params(p: &heat_core::RawParams) -> Self {
        Self {
            tank_max: p.tank_max,
            tank_max_hysteresis: p.tank_max_hysteresis,
            tank_emergency: p.tank_emergency,
            boil_stop: p.boil_stop,
            boil_stop_hysteresis: p.boil_stop_hysteresis,
            pump_min_off_ms: p.pump_min_off_s.saturating_mul(1000),
            heater_min_off_ms: p.heater_min_off_s.saturating_mul(1000),
            heater_min_on_ms: p.heater_min_on_s.saturating_mul(1000),
            stale_ms: p.stale_timeout_s.saturating_mul(1000),
            heater_windows: [
                (p.heater_window_1_start, p.heater_window_1_end),
                (p.heater_window_2_start, p.heater_window_2_end),
                (p.heater_window_3_start, p.heater_window_3_end),
            ]
            .map(|(start, end)| (hours_to_minutes(start), hours_to_minutes(end))),
            margin_k: 0.5,
            disinfection: DisinfectionLimits::from_params(p),
        }
    }
}

/// Hours (0–24, quarter hours) as minutes; the checker's own conversion.
fn hours_to_minutes(hours: f64) -> u16 {
    // `as` saturates: a nonsense value gives 0 or u16::MAX, never a panic.
    (hours * 60.0).round() as u16
}

impl Limits {
    /// Whether `minute` (after local midnight) is inside a heater window: `[start, end)`,
    /// across midnight when start > end, never when start = end.
    pub fn in_heater_window(&self, minute: u16) -> bool {
        self.heater_windows.iter().any(|&(start, end)| {
            if start < end {
                (start..end).contains(&minute)
            } else if start > end {
                minute >= start || minute < end
            } else {
                false
            }
        })
    }
}

/// What the controller could not see or could not act on at this step (from the injected
/// faults, which the checker knows and heat-core does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Blind {
    /// The collector sensor reports a frozen, healthy-looking value.
    pub collector_stuck: bool,
    /// The tank-top sensor reports a frozen, healthy-looking value.
    pub tank_top_stuck: bool,
    /// The tank-bottom sensor reports a frozen, healthy-looking value.
    pub tank_bottom_stuck: bool,
    /// Writes to the pump relay fail.
    pub pump_relay_failed: bool,
    /// Writes to the heater relay fail.
    pub heater_relay_failed: bool,
}

/// One step as the checker sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// Time of the step, ms.
    pub now_ms: u64,
    /// True collector temperature, °C.
    pub collector_c: f64,
    /// True tank-top temperature, °C.
    pub tank_top_c: f64,
    /// True tank-bottom temperature, °C.
    pub tank_bottom_c: f64,
    /// Physical pump relay position.
    pub pump: bool,
    /// Physical heater relay position.
    pub heater: bool,
    /// What the collector sensor delivered this step.
    pub collector_reading: Result<f64, SensorError>,
    /// What the tank-top sensor delivered this step.
    pub tank_top_reading: Result<f64, SensorError>,
    /// What the tank-bottom sensor delivered this step.
    pub tank_bottom_reading: Result<f64, SensorError>,
    /// Injected faults the controller cannot detect or overcome.
    pub blind: Blind,
    /// The mode is auto or eco: the heater runs only for comfort, so only in its windows.
    pub heater_comfort_only: bool,
    /// The local time, minutes after midnight.
    pub minute_of_day: u16,
    /// Holiday mode with no disinfection running: the heater may not run at all (rule 5, as
    /// if every window were shut).
    pub heater_away: bool,
    /// The local day (days since 1970-01-01).
    pub local_day: i64,
    /// The mode lets a thermal disinfection heat (auto, eco; holiday with
    /// `holiday_disinfection`): the user's choice, taken as given.
    pub disinfection_allowed: bool,
}

/// A broken safety rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Violation {
    /// Rule 1: heater ON with the true tank top at or above the tank maximum.
    HeaterAboveTankMax,
    /// Rule 2: pump ON while the boil stop should be latched.
    PumpDuringBoilStop,
    /// Rule 3: the pump switched ON before its minimum OFF time.
    PumpShortCycle,
    /// Rule 3: the heater switched ON before its minimum OFF time.
    HeaterShortCycle,
    /// Rule 4: heater ON while the tank-top sensor is faulted.
    HeaterWithFaultedTankTop,
    /// Rule 5: the heater switched ON outside its time windows in a comfort mode, or at all in
    /// holiday mode without a disinfection.
    HeaterStartOutsideWindow,
    /// Rule 5: the heater stayed ON outside its windows longer than its minimum ON time.
    HeaterOnOutsideWindow,
    /// Rule 6: the pump loaded the tank at or above its emergency level.
    PumpLoadingAtTankEmergency,
    /// Rule 7: an available start window passed without heating, more than the interval + 1
    /// day after the last true disinfection.
    DisinfectionMissed,
    /// Restart: the counters restored differ from the generation that should be used.
    RestoredCountersDiffer,
    /// Restart: a counter restored is below the previous generation's.
    CountersBelowPreviousGeneration,
    /// Restart: more pump or heater hours lost than one persist interval per generation.
    CountersLostBeyondInterval,
    /// Restart: a damaged file was used as if it were good.
    DamageUndetected,
    /// A counter written is below the one written before it by the same controller.
    CounterDecreased,
}

impl Violation {
    /// Snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Violation::HeaterAboveTankMax => "heater_above_tank_max",
            Violation::PumpDuringBoilStop => "pump_during_boil_stop",
            Violation::PumpShortCycle => "pump_short_cycle",
            Violation::HeaterShortCycle => "heater_short_cycle",
            Violation::HeaterWithFaultedTankTop => "heater_with_faulted_tank_top",
            Violation::HeaterStartOutsideWindow => "heater_start_outside_window",
            Violation::HeaterOnOutsideWindow => "heater_on_outside_window",
            Violation::PumpLoadingAtTankEmergency => "pump_loading_at_tank_emergency",
            Violation::DisinfectionMissed => "disinfection_missed",
            Violation::RestoredCountersDiffer => "restored_counters_differ",
            Violation::CountersBelowPreviousGeneration => "counters_below_previous_generation",
            Violation::CountersLostBeyondInterval => "counters_lost_beyond_interval",
            Violation::DamageUndetected => "damage_undetected",
            Violation::CounterDecreased => "counter_decreased",
        }
    }
}

/// A rule broken while the controller was blind or powerless: which rule, and why excused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Exposure {
    /// The rule.
    pub rule: Violation,
    /// Why the controller could not prevent it.
    pub cause: &'static str,
}

/// Per-relay switch memory.
#[derive(Debug, Clone, Copy, Default)]
struct SwitchTrack {
    on: Option<bool>,
    off_since_ms: Option<u64>,
}

/// The checker. Feed it every step with [`SafetyChecker::observe`].
#[derive(Debug, Clone)]
pub struct SafetyChecker {
    limits: Limits,
    // None before the first step (the start-up rule decides it then).
    boil_latched: Option<bool>,
    // The latest boil-stop crossing happened while the controller could not see the collector.
    boil_unseen: bool,
    relays: [SwitchTrack; 2],
    collector_last_good_ms: Option<u64>,
    tank_top_last_good_ms: Option<u64>,
    tank_bottom_last_good_ms: Option<u64>,
    // Since when the heater has been ON outside its windows in a comfort mode.
    heater_outside_since_ms: Option<u64>,
    // The previous step's time (one step is rule 5's allowance).
    last_ms: Option<u64>,
    disinfection: DisinfectionCheck,
    violations: BTreeMap<Violation, u64>,
    exposures: BTreeMap<Exposure, u64>,
    first: Vec<(u64, Violation)>,
}

/// How many violations are kept with their time, for the report.
const FIRST_KEPT: usize = 10;

fn is_transient(e: &SensorError) -> bool {
    matches!(
        e,
        SensorError::Crc | SensorError::Io(_) | SensorError::Timeout | SensorError::Malformed(_)
    )
}

impl SafetyChecker {
    /// A checker with nothing seen yet.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            boil_latched: None,
            boil_unseen: false,
            relays: [SwitchTrack::default(); 2],
            collector_last_good_ms: None,
            tank_top_last_good_ms: None,
            tank_bottom_last_good_ms: None,
            heater_outside_since_ms: None,
            last_ms: None,
            disinfection: DisinfectionCheck::default(),
            violations: BTreeMap::new(),
            exposures: BTreeMap::new(),
            first: Vec::new(),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Changes the limits (a parameter command was accepted).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Violations by rule.
    pub fn violations(&self) -> &BTreeMap<Violation, u64> {
        &self.violations
    }

    /// Total violations.
    pub fn violation_count(&self) -> u64 {
        self.violations.values().sum()
    }

    /// Exposures by rule and cause.
    pub fn exposures(&self) -> &BTreeMap<Exposure, u64> {
        &self.exposures
    }

    /// The true disinfections (rule 7's count).
    pub fn disinfections(&self) -> &DisinfectionCheck {
        &self.disinfection
    }

    /// The first few violations with their time (ms).
    pub fn first_violations(&self) -> &[(u64, Violation)] {
        &self.first
    }

    /// Counts a broken rule found elsewhere (the restart rules) at `now_ms`.
    pub fn report(&mut self, now_ms: u64, rule: Violation) {
        *self.violations.entry(rule).or_default() += 1;
        if self.first.len() < FIRST_KEPT {
            self.first.push((now_ms, rule));
        }
    }

    /// The daemon restarted at `now_ms`, leaving the relays at `pump` and `heater` (OFF unless
    /// a relay write failed).
    pub fn restarted(&mut self, now_ms: u64, pump: bool, heater: bool) {
        for (track, on) in self.relays.iter_mut().zip([pump, heater]) {
            if track.on == Some(true) && !on {
                track.off_since_ms = Some(now_ms);
            }
            track.on = Some(on);
        }
        if !heater {
            self.heater_outside_since_ms = None;
        }
    }

    /// Judges one step; returns the violations it found (exposures are only counted).
    pub fn observe(&mut self, o: &Observation) -> Vec<Violation> {
        let l = self.limits;
        let mut found = Vec::new();
        let mut report =
            |this: &mut Self, rule: Violation, excuse: Option<&'static str>| match excuse {
                Some(cause) => *this.exposures.entry(Exposure { rule, cause }).or_default() += 1,
                None => {
                    *this.violations.entry(rule).or_default() += 1;
                    if this.first.len() < FIRST_KEPT {
                        this.first.push((o.now_ms, rule));
                    }
                    found.push(rule);
                }
            };

        // How old the controller's information may be, by design, for each sensor.
        let held = |last_good: Option<u64>, reading: &Result<f64, SensorError>| match reading {
            Err(e) if is_transient(e) => {
                last_good.is_some_and(|t| o.now_ms.saturating_sub(t) <= l.stale_ms)
            }
            _ => false,
        };
        let collector_held = held(self.collector_last_good_ms, &o.collector_reading);
        let tank_top_held = held(self.tank_top_last_good_ms, &o.tank_top_reading);
        let tank_bottom_held = held(self.tank_bottom_last_good_ms, &o.tank_bottom_reading);
        if o.tank_bottom_reading.is_ok() {
            self.tank_bottom_last_good_ms = Some(o.now_ms);
        }
        if o.collector_reading.is_ok() {
            self.collector_last_good_ms = Some(o.now_ms);
        }
        if o.tank_top_reading.is_ok() {
            self.tank_top_last_good_ms = Some(o.now_ms);
        }

        // Rule 1.
        if o.heater && o.tank_top_c >= l.tank_max + l.margin_k {
            let excuse = if o.blind.heater_relay_failed {
                Some("heater relay write failure")
            } else if o.blind.tank_top_stuck {
                Some("tank-top sensor stuck")
            } else if tank_top_held {
                Some("tank-top value held through a transient fault")
            } else {
                None
            };
            report(self, Violation::HeaterAboveTankMax, excuse);
        }

        // Rule 2, with the margin in the controller's favour at both ends.
        let band_low = l.boil_stop - l.boil_stop_hysteresis + l.margin_k;
        let collector_blind = o.blind.collector_stuck || collector_held;
        let latched = if o.collector_c >= l.boil_stop + l.margin_k {
            self.boil_unseen = collector_blind;
            true
        } else if o.collector_c < band_low {
            self.boil_unseen = false;
            false
        } else {
            // Inside the band: hold; at start-up the band counts as latched.
            self.boil_latched.unwrap_or(true)
        };
        self.boil_latched = Some(latched);
        if o.pump && latched {
            let excuse = if o.blind.pump_relay_failed {
                Some("pump relay write failure")
            } else if o.blind.collector_stuck {
                Some("collector sensor stuck")
            } else if collector_held {
                Some("collector value held through a transient fault")
            } else if self.boil_unseen {
                Some("boil-stop crossing hidden by a stuck or held collector value")
            } else {
                None
            };
            report(self, Violation::PumpDuringBoilStop, excuse);
        }

        // Rule 6.
        let tank_c = o.tank_top_c.max(o.tank_bottom_c);
        if o.pump
            && o.collector_c > o.tank_bottom_c + l.margin_k
            && tank_c >= l.tank_emergency + l.margin_k
        {
            let excuse = if o.blind.pump_relay_failed {
                Some("pump relay write failure")
            } else if o.blind.tank_top_stuck || o.blind.tank_bottom_stuck {
                Some("tank sensor stuck")
            } else if tank_top_held || tank_bottom_held {
                Some("tank value held through a transient fault")
            } else if o.blind.collector_stuck || collector_held {
                // A collector reading frozen below the tank hides that the pump now loads it
                // (frost protection or night cooling started on it).
                Some("collector sensor stuck or held")
            } else {
                None
            };
            report(self, Violation::PumpLoadingAtTankEmergency, excuse);
        }

        // Rule 5 (before rule 3 updates the relay memory).
        let outside =
            (o.heater_comfort_only && !l.in_heater_window(o.minute_of_day)) || o.heater_away;
        if o.heater && outside {
            let excuse = o
                .blind
                .heater_relay_failed
                .then_some("heater relay write failure");
            if self.relays[1].on == Some(false) {
                report(self, Violation::HeaterStartOutsideWindow, excuse);
            }
            let since = *self.heater_outside_since_ms.get_or_insert(o.now_ms);
            let step = self.last_ms.map_or(0, |t| o.now_ms.saturating_sub(t));
            if o.now_ms.saturating_sub(since) > l.heater_min_on_ms.saturating_add(step) {
                report(self, Violation::HeaterOnOutsideWindow, excuse);
            }
        } else {
            self.heater_outside_since_ms = None;
        }
        self.last_ms = Some(o.now_ms);

        // Rule 7: judged when a window closes; nothing the controller could not see.
        if self.disinfection.observe(o, &l) {
            report(self, Violation::DisinfectionMissed, None);
        }

        // Rule 3, on the physical relay positions.
        for (i, (on, min_off, rule)) in [
            (o.pump, l.pump_min_off_ms, Violation::PumpShortCycle),
            (o.heater, l.heater_min_off_ms, Violation::HeaterShortCycle),
        ]
        .into_iter()
        .enumerate()
        {
            let track = &mut self.relays[i];
            match (track.on, on) {
                (Some(true), false) => {
                    track.off_since_ms = Some(o.now_ms);
                }
                (Some(false), true) => {
                    let too_soon = track
                        .off_since_ms
                        .is_some_and(|since| o.now_ms.saturating_sub(since) < min_off);
                    if too_soon {
                        report(self, rule, None);
                    }
                }
                _ => {}
            }
            self.relays[i].on = Some(on);
        }

        // Rule 4.
        if o.heater {
            let faulted = match &o.tank_top_reading {
                Ok(_) => false,
                Err(e) if is_transient(e) => !tank_top_held,
                Err(_) => true,
            };
            if faulted {
                let excuse = o
                    .blind
                    .heater_relay_failed
                    .then_some("heater relay write failure");
                report(self, Violation::HeaterWithFaultedTankTop, excuse);
            }
        }
        found
    }
}
