//! Rule 7, the thermal disinfection's schedule, judged on the truth: a disinfection at least
//! once per interval + 1 day whenever one can run.
//!
//! The checker counts disinfections itself, from the true tank top: at or above the target
//! (less the sensor margin) for the hold time without a break, once per local day (a tank
//! held hot for days counts each day, as heat-core counts it). A local day's start window is
//! *available* when, for the whole window, the mode lets a disinfection heat (the user's choice,
//! taken as given), the function is on with the same interval, window and target, the tank-top
//! sensor reads (no error, not stuck), the heater relay obeys, the tank is below its maximum
//! band (where the heater is interlocked), and the window is longer than the heater's minimum
//! OFF time plus ten minutes. An available window on a day at least interval + 1 days after the
//! last true disinfection (or the run's second day, with none yet) must see the heater ON or a
//! disinfection happen; otherwise that is a violation. Whether the heater then reaches the
//! target in time is physics (a 2 kW heater cannot heat a cold winter tank to 65 °C in four
//! hours); the controller's duty is to try, and to raise the alarm (heat-core's tests).
//! Windows across midnight are not judged.

use super::{Limits, Observation};

/// The disinfection settings a window is judged under (from the parameters in force).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct DisinfectionLimits {
    /// Days between disinfections, 0 = off.
    pub interval_days: u16,
    /// Tank-top target, °C.
    pub target_c: f64,
    /// How long the target must hold, ms.
    pub hold_ms: u64,
    /// The start window `[start, end)`, minutes after local midnight.
    pub window: (u16, u16),
}

impl DisinfectionLimits {
    /// From a parameter set.
    pub fn from_params(p: &heat_core::RawParams) -> Self {
        Self {
            // Validated whole days 0–28; `as` saturates on anything else.
            interval_days: p.disinfection_interval_days as u16,
            target_c: p.disinfection_target,
            hold_ms: (p.disinfection_hold_min * 60_000.0) as u64,
            window: (
                super::hours_to_minutes(p.disinfection_start),
                super::hours_to_minutes(p.disinfection_end),
            ),
        }
    }
}

/// One local day's start window, while it is open.
#[derive(Debug, Clone, Copy)]
struct Window {
    day: i64,
    limits: DisinfectionLimits,
    due: bool,
    available: bool,
    heated: bool,
}

/// Rule 7's memory, and the true disinfections for the summary.
#[derive(Debug, Clone, Default)]
pub struct DisinfectionCheck {
    above_since_ms: Option<u64>,
    counted: bool,
    count: u64,
    last_ms: u64,
    last_day: Option<i64>,
    longest_gap_ms: u64,
    first_day: Option<i64>,
    window: Option<Window>,
    judged_day: Option<i64>,
}

impl DisinfectionCheck {
    /// True disinfections so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The longest time without one, days (from the start, between them, and to `end_ms`).
    pub fn longest_gap_days(&self, end_ms: u64) -> f64 {
        self.longest_gap_ms.max(end_ms.saturating_sub(self.last_ms)) as f64 / 86_400_000.0
    }

    /// Feeds one step; `true` when a due, available window closed without heating.
    pub(super) fn observe(&mut self, o: &Observation, l: &Limits) -> bool {
        let d = l.disinfection;
        let day = o.local_day;
        self.first_day.get_or_insert(day);
        let completed = self.track(
            o.now_ms,
            day,
            o.tank_top_c,
            d.target_c - l.margin_k,
            d.hold_ms,
        );

        let (start, end) = d.window;
        let inside = start < end && (start..end).contains(&o.minute_of_day);
        let mut missed = false;
        if let Some(w) = self.window
            && (!inside || w.day != day)
        {
            missed = w.due && w.available && !w.heated;
            self.window = None;
        }
        if inside && self.window.is_none() && self.judged_day != Some(day) {
            self.judged_day = Some(day);
            let interval = i64::from(d.interval_days);
            let last = self
                .last_day
                .unwrap_or(self.first_day.unwrap_or(day) - interval);
            self.window = Some(Window {
                day,
                limits: d,
                due: interval > 0 && day - last > interval,
                available: true,
                heated: false,
            });
        }
        if let Some(w) = &mut self.window {
            let long_enough = u64::from(end.saturating_sub(start)) * 60_000
                >= l.heater_min_off_ms.saturating_add(600_000);
            let cool =
                o.tank_top_c.max(o.tank_bottom_c) < l.tank_max - l.tank_max_hysteresis - l.margin_k;
            w.available &= o.disinfection_allowed
                && w.limits == d
                && d.interval_days > 0
                && long_enough
                && cool
                && o.tank_top_reading.is_ok()
                && !o.blind.tank_top_stuck
                && !o.blind.heater_relay_failed;
            w.heated |= o.heater || completed;
        }
        missed
    }

    /// Counts a true disinfection; `true` on the step one completes.
    fn track(
        &mut self,
        now_ms: u64,
        day: i64,
        tank_top_c: f64,
        target_c: f64,
        hold_ms: u64,
    ) -> bool {
        if tank_top_c < target_c {
            self.above_since_ms = None;
            self.counted = false;
            return false;
        }
        // A tank held hot for days disinfects again each local day, as heat-core counts it.
        if self.counted && self.last_day != Some(day) {
            self.counted = false;
            self.above_since_ms = Some(now_ms);
        }
        let since = *self.above_since_ms.get_or_insert(now_ms);
        if self.counted || now_ms - since < hold_ms {
            return false;
        }
        self.counted = true;
        self.count += 1;
        self.longest_gap_ms = self.longest_gap_ms.max(now_ms - self.last_ms);
        self.last_ms = now_ms;
        self.last_day = Some(day);
        true
    }
}
