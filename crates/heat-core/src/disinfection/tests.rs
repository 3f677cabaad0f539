//! The disinfection state machine on its own: schedule, solar credit, the band, failure,
//! requests and clock jumps.

use super::*;
use crate::params::Parameter;

/// Weekly at 65 °C for 30 min, window 01:00–05:00.
fn weekly() -> Params {
    Params::default()
        .with(Parameter::DisinfectionIntervalDays, 7.0)
        .expect("valid")
}

fn at(day: i64, minute: u16) -> Option<LocalTime> {
    LocalTime::new(day, minute)
}

/// Steps `d` once a minute from `start_min` (monotonic minutes) for `minutes`, with the local
/// time `day`/`minute0 + i` and a tank top from `top(i)`; returns the changes and the minutes
/// the heater was wanted.
fn run(
    d: &mut Disinfection,
    params: &Params,
    start_min: u64,
    day: i64,
    minute0: u16,
    minutes: u16,
    top: impl Fn(u16) -> Option<f64>,
) -> (Vec<(u16, DisinfectionChange)>, u32) {
    let mut changes = Vec::new();
    let mut heating = 0;
    for i in 0..minutes {
        let change = d.step(
            params,
            Inputs {
                now: Timestamp::from_secs((start_min + u64::from(i)) * 60),
                local: at(day + i64::from((minute0 + i) / 1440), (minute0 + i) % 1440),
                tank_top: top(i),
                elapsed_ms: 60_000,
                allowed: true,
            },
        );
        if let Some(c) = change {
            changes.push((i, c));
        }
        heating += u32::from(d.wants_heater());
    }
    (changes, heating)
}

#[test]
fn off_by_default_and_never_scheduled() {
    let mut d = Disinfection::default();
    let (changes, heating) = run(&mut d, &Params::default(), 0, 100, 0, 1440, |_| Some(40.0));
    assert!(changes.is_empty());
    assert_eq!(heating, 0);
    assert_eq!(d.status(&Params::default()).next_due_day, None);
}

#[test]
fn a_due_run_starts_in_the_window_heats_and_completes_after_the_hold() {
    let p = weekly();
    let mut d = Disinfection::default();
    // From 00:00: nothing before 01:00; then heat while the top rises 1 K a minute from 55.
    let (changes, heating) = run(&mut d, &p, 0, 100, 0, 180, |i| {
        Some(if i < 60 {
            55.0
        } else {
            (55.0 + f64::from(i - 60)).min(66.5)
        })
    });
    // At 60 the run starts; the top reaches 65 at 70; 30 min held → completed at 100.
    assert_eq!(
        changes,
        [
            (60, DisinfectionChange::Started { requested: false }),
            (100, DisinfectionChange::Completed { by_solar: false }),
        ]
    );
    // The heater ran from the start until the top passed target + 2 (never: 66.5), so 40 min.
    assert_eq!(heating, 40);
    let s = d.status(&p);
    assert_eq!(
        (s.last_day, s.next_due_day, s.failed),
        (Some(100), Some(107), false)
    );
    // The next day nothing is due.
    let (changes, _) = run(&mut d, &p, 1440, 101, 0, 1440, |_| Some(40.0));
    assert!(changes.is_empty());
}

#[test]
fn the_heater_keeps_the_top_inside_a_band_above_the_target() {
    let p = weekly();
    let mut d = Disinfection::default();
    let inputs = |min: u64, top: f64| Inputs {
        now: Timestamp::from_secs(min * 60),
        local: at(5, 120),
        tank_top: Some(top),
        elapsed_ms: 60_000,
        allowed: true,
    };
    d.step(&p, inputs(0, 60.0));
    assert!(d.wants_heater());
    d.step(&p, inputs(1, 65.5));
    assert!(d.wants_heater(), "below target + 1 it heats");
    d.step(&p, inputs(2, 67.0));
    assert!(!d.wants_heater(), "at target + 2 it stops");
    d.step(&p, inputs(3, 66.2));
    assert!(!d.wants_heater(), "holds between");
    d.step(&p, inputs(4, 65.9));
    assert!(d.wants_heater());
}

#[test]
fn a_run_that_cannot_hold_the_target_fails_after_the_window_length_and_raises_the_alarm() {
    let p = weekly();
    let mut d = Disinfection::default();
    let (changes, _) = run(&mut d, &p, 0, 100, 60, 300, |_| Some(58.0));
    assert_eq!(
        changes,
        [
            (0, DisinfectionChange::Started { requested: false }),
            (240, DisinfectionChange::Failed),
        ]
    );
    assert!(d.status(&p).failed);
    // Not again the same day, even though it is still due.
    let (changes, _) = run(&mut d, &p, 300, 100, 360, 600, |_| Some(58.0));
    assert!(changes.is_empty());
    // The next night it tries again; a success clears the alarm.
    let (changes, _) = run(&mut d, &p, 2000, 101, 60, 60, |_| Some(66.0));
    assert_eq!(
        changes,
        [
            (0, DisinfectionChange::Started { requested: false }),
            (30, DisinfectionChange::Completed { by_solar: false }),
        ]
    );
    assert!(!d.status(&p).failed);
}

#[test]
fn solar_heat_that_holds_the_target_counts_and_resets_the_interval() {
    let p = weekly();
    let mut d = Disinfection::resume(Some(90));
    // Day 95, 13:00: the sun holds 70 °C for 45 minutes; a break restarts the count.
    let (changes, heating) = run(&mut d, &p, 0, 95, 780, 90, |i| {
        Some(if i == 10 { 64.0 } else { 70.0 })
    });
    // Above again from 11; thirty whole minutes there by 41.
    assert_eq!(
        changes,
        [(41, DisinfectionChange::Completed { by_solar: true })]
    );
    assert_eq!(heating, 0);
    assert_eq!(d.status(&p).next_due_day, Some(102));
    // So day 97 night is not due (it would have been from day 97 on with last day 90).
    let (changes, _) = run(&mut d, &p, 5000, 97, 60, 60, |_| Some(50.0));
    assert!(changes.is_empty());
}

#[test]
fn a_request_runs_at_once_outside_the_window_and_fails_only_after_four_hours() {
    let p = Params::default();
    let mut d = Disinfection::default();
    d.request();
    let (changes, heating) = run(&mut d, &p, 0, 100, 720, 300, |_| Some(50.0));
    assert_eq!(
        changes,
        [
            (0, DisinfectionChange::Started { requested: true }),
            (240, DisinfectionChange::Failed),
        ]
    );
    assert_eq!(heating, 240);
}

#[test]
fn leaving_auto_cancels_a_run_and_a_pending_request() {
    let p = weekly();
    let mut d = Disinfection::default();
    let step = |d: &mut Disinfection, min: u64, allowed: bool| {
        d.step(
            &p,
            Inputs {
                now: Timestamp::from_secs(min * 60),
                local: at(3, 120),
                tank_top: Some(50.0),
                elapsed_ms: 60_000,
                allowed,
            },
        )
    };
    assert_eq!(
        step(&mut d, 0, true),
        Some(DisinfectionChange::Started { requested: false })
    );
    assert_eq!(step(&mut d, 1, false), Some(DisinfectionChange::Cancelled));
    assert!(!d.wants_heater());
    d.request();
    assert_eq!(
        step(&mut d, 2, false),
        None,
        "the request is dropped in manual"
    );
    assert_eq!(step(&mut d, 3, true), None, "and not started later");
}

#[test]
fn clock_jumps_neither_start_a_second_run_nor_end_one() {
    let p = weekly();
    let mut d = Disinfection::default();
    let step = |d: &mut Disinfection, min: u64, local: Option<LocalTime>| {
        d.step(
            &p,
            Inputs {
                now: Timestamp::from_secs(min * 60),
                local,
                tank_top: Some(50.0),
                elapsed_ms: 60_000,
                allowed: true,
            },
        )
    };
    assert_eq!(
        step(&mut d, 0, at(3, 60)),
        Some(DisinfectionChange::Started { requested: false })
    );
    // The clock jumps past the window's end: the run goes on (monotonic limit, 4 h).
    assert_eq!(step(&mut d, 1, at(3, 600)), None);
    assert!(d.wants_heater());
    // And the clock is lost: still going on.
    assert_eq!(step(&mut d, 2, None), None);
    assert_eq!(
        step(&mut d, 240, at(3, 61)),
        Some(DisinfectionChange::Failed)
    );
    // Set back into the window the same day: no second run.
    assert_eq!(step(&mut d, 241, at(3, 62)), None);
}
