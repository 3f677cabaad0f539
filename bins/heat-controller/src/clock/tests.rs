//! The scaled monotonic clock, on explicit instants.

use std::time::{Duration, Instant};

use heat_core::{Controller, Parameter, Params, Readings, Timestamp, Weekday};
use jiff::tz::TimeZone;

use super::{LoopClock, WallClock};

#[test]
fn real_time_at_scale_one() {
    let start = Instant::now();
    let clock = LoopClock::starting_at(start, 1.0);
    assert_eq!(clock.at(start).as_millis(), 0);
    assert_eq!(
        clock.at(start + Duration::from_millis(1500)).as_millis(),
        1500
    );
}

#[test]
fn scaled_time_runs_faster_and_real_periods_shrink() {
    let start = Instant::now();
    let clock = LoopClock::starting_at(start, 100.0);
    assert_eq!(
        clock.at(start + Duration::from_millis(10)).as_millis(),
        1000
    );
    assert_eq!(
        clock.real(Duration::from_secs(30)),
        Duration::from_millis(300)
    );
}

#[test]
fn nonsense_scales_fall_back_to_real_time() {
    for bad in [0.0, 0.5, -3.0, f64::NAN, f64::INFINITY] {
        assert_eq!(LoopClock::new(bad).scale(), 1.0, "{bad}");
    }
}

#[test]
fn instants_before_the_start_read_zero() {
    let start = Instant::now() + Duration::from_secs(5);
    let clock = LoopClock::starting_at(start, 10.0);
    assert_eq!(clock.at(Instant::now()).as_millis(), 0);
}

/// Central European time with its EU DST rule.
fn cet() -> TimeZone {
    TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").expect("a valid POSIX TZ rule")
}

fn ts(rfc3339: &str) -> jiff::Timestamp {
    rfc3339.parse().expect("a valid timestamp")
}

/// A real-time clock in CET from `wall_start`, plausible from long before.
fn cet_clock(start: Instant, wall_start: &str) -> WallClock {
    WallClock::scaled(
        cet(),
        start,
        ts(wall_start),
        1.0,
        ts("2026-01-01T00:00:00Z"),
    )
}

/// Minutes of each real minute from `wall_start` for `minutes`: (local minute of day, heater).
/// The heater has one window, 02:00–03:00, and a cold tank, so it runs whenever the window is
/// open; the controller gets the clock's local time as the loop hands it over.
fn heater_by_minute(wall_start: &str, minutes: u32) -> Vec<(u16, bool)> {
    let start = Instant::now();
    let mut wall = cet_clock(start, wall_start);
    let params = [
        (Parameter::HeaterWindow1Start, 2.0),
        (Parameter::HeaterWindow1End, 3.0),
    ]
    .into_iter()
    .try_fold(Params::default(), |p, (param, value)| p.with(param, value))
    .expect("valid parameters");
    let mut controller = Controller::new(params, Timestamp::from_millis(0));
    let cold = Readings::celsius(20.0, 20.0, 20.0);
    (0..minutes)
        .map(|m| {
            let at = start + Duration::from_secs(u64::from(m) * 60);
            let local = wall.local(at).expect("a plausible clock");
            let now = Timestamp::from_secs(u64::from(m) * 60);
            let out = controller.step_on(now, Some(local), &cold, now);
            (local.minute_of_day(), out.heater)
        })
        .collect()
}

#[test]
fn a_window_inside_the_skipped_spring_hour_does_not_open_that_night() {
    // 2026-03-29: 01:59 CET is followed by 03:00 CEST.
    let minutes = heater_by_minute("2026-03-29T00:00:00Z", 180);
    let local: Vec<u16> = minutes.iter().map(|(m, _)| *m).collect();
    assert_eq!(local[0], 60, "01:00 CET");
    assert_eq!(local[59], 119, "01:59 CET");
    assert_eq!(local[60], 180, "03:00 CEST");
    assert!(
        minutes.iter().all(|(_, heater)| !heater),
        "02:00–03:00 never happens on this day, so the heater never runs: {minutes:?}"
    );
    // The next night it opens again, for one hour.
    let next = heater_by_minute("2026-03-29T23:00:00Z", 180);
    assert_eq!(next.iter().filter(|(_, h)| *h).count(), 60);
}

#[test]
fn a_window_inside_the_repeated_autumn_hour_is_open_through_both() {
    // 2026-10-25: 02:59 CEST is followed by 02:00 CET, so 02:00–03:00 lasts two real hours.
    let minutes = heater_by_minute("2026-10-24T23:00:00Z", 240);
    let local: Vec<u16> = minutes.iter().map(|(m, _)| *m).collect();
    assert_eq!(local[0], 60, "01:00 CEST");
    assert_eq!(local[119], 179, "02:59 CEST");
    assert_eq!(local[120], 120, "02:00 CET");
    assert_eq!(local[180], 180, "03:00 CET");
    let on: Vec<usize> = (0..minutes.len()).filter(|&i| minutes[i].1).collect();
    // On from the first 02:00 to the second 02:59: one run, no restart at the fold.
    assert_eq!(on.first(), Some(&60));
    assert_eq!(on.last(), Some(&179));
    assert_eq!(on.len(), 120, "{minutes:?}");
}

#[test]
fn the_local_time_is_withheld_until_the_clock_is_plausible() {
    let start = Instant::now();
    let mut wall = WallClock::scaled(
        cet(),
        start,
        ts("2026-05-31T23:59:50Z"),
        1.0,
        ts("2026-06-01T00:00:00Z"),
    );
    assert_eq!(wall.local(start), None, "ten seconds before the build");
    let set = wall
        .local(start + Duration::from_secs(10))
        .expect("at the build time the clock is plausible");
    assert_eq!(set.minute_of_day(), 2 * 60, "00:00 UTC is 02:00 CEST");
    assert_eq!(set.weekday(), Weekday::Monday);
}

#[test]
fn a_scaled_wall_clock_runs_as_fast_as_the_loop_clock() {
    let start = Instant::now();
    let wall = WallClock::scaled(
        cet(),
        start,
        ts("2026-07-01T00:00:00Z"),
        60.0,
        ts("2026-01-01T00:00:00Z"),
    );
    assert_eq!(
        wall.wall(start + Duration::from_secs(60)),
        ts("2026-07-01T01:00:00Z")
    );
    assert_eq!(wall.wall(start), ts("2026-07-01T00:00:00Z"));
}
