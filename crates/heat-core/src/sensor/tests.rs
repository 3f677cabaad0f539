//! Unit tests of sensor validation: range, NaN, power-on value, hold, stale, fault clearing.

use super::*;

const V: Validation = Validation {
    min: -20.0,
    max: 125.0,
    stale_ms: 90_000,
    clear_ms: 60_000,
    power_on_window: 5.0,
};

fn at(s: u64) -> Timestamp {
    Timestamp::from_secs(s)
}

#[test]
fn bad_values_fault_immediately() {
    let cases = [
        (Reading::Value(f64::NAN), SensorFault::NotFinite),
        (Reading::Value(f64::INFINITY), SensorFault::NotFinite),
        (Reading::Value(f64::NEG_INFINITY), SensorFault::NotFinite),
        (Reading::Value(-127.0), SensorFault::OutOfRange),
        (Reading::Value(125.1), SensorFault::OutOfRange),
        (Reading::Value(85.0), SensorFault::PowerOnValue),
        (
            Reading::Fault(SensorFault::Disconnected),
            SensorFault::Disconnected,
        ),
        (Reading::Fault(SensorFault::Missing), SensorFault::Missing),
        // A transient fault with nothing to hold is a fault too.
        (Reading::Fault(SensorFault::Crc), SensorFault::Crc),
    ];
    for (reading, fault) in cases {
        let mut t = Track::default();
        assert_eq!(
            t.update(at(0), at(0), reading, &V),
            Some(Change::Faulted(fault)),
            "{reading:?}"
        );
        assert_eq!(t.value(), None);
        assert_eq!(t.fault(), Some(fault));
    }
}

#[test]
fn range_limits_are_inclusive() {
    for x in [-20.0, 125.0] {
        let mut t = Track::default();
        assert_eq!(t.update(at(0), at(0), Reading::Value(x), &V), None);
        assert_eq!(t.value(), Some(x));
    }
}

#[test]
fn power_on_value_is_accepted_only_after_a_plausible_value() {
    let mut t = Track::default();
    t.update(at(0), at(0), Reading::Value(80.0), &V);
    assert_eq!(t.update(at(30), at(30), Reading::Value(85.0), &V), None);
    assert_eq!(t.value(), Some(85.0));

    let mut t = Track::default();
    t.update(at(0), at(0), Reading::Value(79.9), &V);
    assert_eq!(
        t.update(at(30), at(30), Reading::Value(85.0), &V),
        Some(Change::Faulted(SensorFault::PowerOnValue))
    );

    // A plausible value that is older than the stale timeout does not count.
    let mut t = Track::default();
    t.update(at(0), at(0), Reading::Value(84.0), &V);
    assert_eq!(
        t.update(at(91), at(91), Reading::Value(85.0), &V),
        Some(Change::Faulted(SensorFault::PowerOnValue))
    );
}

/// A tank cooling through 85 °C in DS18B20 steps (1/16 K), one reading every 30 s, dwelling on
/// each step for `dwell` readings; returns every change the track reported.
fn cross_85(make: fn(f64) -> Reading, dwell: usize) -> Vec<Change> {
    let mut t = Track::default();
    let mut changes = Vec::new();
    let mut now = 0;
    // 86.0 down to 84.0: 32 steps of 0.0625 K, 85.000 among them.
    for step in 0..=32 {
        let x = 86.0 - f64::from(step) * 0.0625;
        for _ in 0..dwell {
            changes.extend(t.update(at(now), at(now), make(x), &V));
            assert_eq!(t.value(), Some(x), "{x} at {now}s: {:?}", t.fault());
            now += 30;
        }
    }
    changes
}

#[test]
fn a_slow_crossing_through_85_raises_no_fault() {
    // With scratchpad evidence and without it (the window: the previous step is 0.0625 K away).
    assert_eq!(cross_85(Reading::Converted, 10), []);
    assert_eq!(cross_85(Reading::Value, 10), []);
}

#[test]
fn scratchpad_evidence_wins_over_the_window() {
    // Converted: a real 85.0 is taken even as the very first reading or after a jump.
    let mut t = Track::default();
    assert_eq!(t.update(at(0), at(0), Reading::Converted(85.0), &V), None);
    assert_eq!(t.value(), Some(85.0));
    let mut t = Track::default();
    t.update(at(0), at(0), Reading::Converted(20.0), &V);
    assert_eq!(t.update(at(30), at(30), Reading::Converted(85.0), &V), None);

    // The power-on scratchpad is a fault even right after a plausible 84.9375.
    let mut t = Track::default();
    t.update(at(0), at(0), Reading::Converted(84.9375), &V);
    assert_eq!(
        t.update(
            at(30),
            at(30),
            Reading::Fault(SensorFault::PowerOnValue),
            &V
        ),
        Some(Change::Faulted(SensorFault::PowerOnValue))
    );
    assert_eq!(t.value(), None);

    // Converted values still get the range and finiteness checks.
    let mut t = Track::default();
    assert_eq!(
        t.update(at(0), at(0), Reading::Converted(f64::NAN), &V),
        Some(Change::Faulted(SensorFault::NotFinite))
    );
    let mut t = Track::default();
    assert_eq!(
        t.update(at(0), at(0), Reading::Converted(125.5), &V),
        Some(Change::Faulted(SensorFault::OutOfRange))
    );
}

#[test]
fn a_power_on_value_without_evidence_is_still_caught() {
    // A bare 85.0 right after boot or after a jump from far away is the power-on value.
    let mut t = Track::default();
    assert_eq!(
        t.update(at(0), at(0), Reading::Value(85.0), &V),
        Some(Change::Faulted(SensorFault::PowerOnValue))
    );
    let mut t = Track::default();
    t.update(at(0), at(0), Reading::Converted(40.0), &V);
    assert_eq!(
        t.update(at(30), at(30), Reading::Value(85.0), &V),
        Some(Change::Faulted(SensorFault::PowerOnValue))
    );
}

#[test]
fn transient_faults_hold_the_last_value_until_stale() {
    let mut t = Track::default();
    t.update(at(0), at(0), Reading::Value(40.0), &V);
    assert_eq!(
        t.update(at(30), at(30), Reading::Fault(SensorFault::Crc), &V),
        None
    );
    assert_eq!(t.value(), Some(40.0));
    assert_eq!(
        t.update(at(90), at(90), Reading::Fault(SensorFault::Io), &V),
        None
    );
    assert_eq!(t.value(), Some(40.0));
    assert_eq!(
        t.update(at(91), at(91), Reading::Fault(SensorFault::Crc), &V),
        Some(Change::Faulted(SensorFault::Stale))
    );
    assert_eq!(t.value(), None);
}

#[test]
fn faults_clear_only_after_good_readings_for_the_clear_time() {
    let mut t = Track::default();
    t.update(at(0), at(0), Reading::Value(f64::NAN), &V);
    assert_eq!(t.update(at(30), at(30), Reading::Value(40.0), &V), None);
    assert_eq!(t.value(), None, "first good reading starts the clear timer");
    assert_eq!(t.update(at(60), at(60), Reading::Value(40.0), &V), None);
    // A hiccup restarts the timer.
    t.update(at(70), at(70), Reading::Value(f64::NAN), &V);
    assert_eq!(t.update(at(80), at(80), Reading::Value(41.0), &V), None);
    assert_eq!(t.update(at(139), at(139), Reading::Value(41.0), &V), None);
    assert_eq!(t.fault(), Some(SensorFault::NotFinite));
    assert_eq!(
        t.update(at(140), at(140), Reading::Value(42.0), &V),
        Some(Change::Recovered)
    );
    assert_eq!(t.value(), Some(42.0));
    assert_eq!(
        t.status(),
        SensorStatus {
            value: Some(42.0),
            fault: None
        }
    );
}

#[test]
fn names_are_snake_case() {
    assert_eq!(Sensor::TankTop.as_str(), "tank_top");
    assert_eq!(SensorFault::PowerOnValue.to_string(), "power_on_value");
    assert!(SensorFault::Crc.is_transient() && !SensorFault::Missing.is_transient());
}

/// heat-sim seed 9, day 1029.93: a good sweep at 0, a command that stepped again on it at 29 s,
/// then CRC errors. The hold must end 90 s after the reading was *taken*, not after the repeat.
#[test]
fn stepping_again_on_an_old_sweep_does_not_make_it_new() {
    let mut t = Track::default();
    t.update(at(0), at(0), Reading::Value(58.0), &V);
    t.update(at(29), at(0), Reading::Value(58.0), &V);
    let crc = Reading::Fault(SensorFault::Crc);
    t.update(at(30), at(30), crc, &V);
    assert_eq!(t.value(), Some(58.0), "held within the stale time");
    assert_eq!(
        t.update(at(91), at(91), crc, &V),
        Some(Change::Faulted(SensorFault::Stale)),
        "91 s after the reading was taken it is stale, whatever stepped again on it"
    );
    assert_eq!(t.value(), None);
}

#[test]
fn a_sweep_older_than_the_stale_time_is_no_reading() {
    let mut t = Track::default();
    assert_eq!(
        t.update(at(100), at(0), Reading::Value(40.0), &V),
        Some(Change::Faulted(SensorFault::Stale))
    );
    assert_eq!(t.value(), None);
}

#[test]
fn only_new_sweeps_count_toward_the_clear_time() {
    let mut t = Track::default();
    t.update(at(0), at(0), Reading::Fault(SensorFault::Missing), &V);
    t.update(at(30), at(30), Reading::Value(40.0), &V);
    // Steps again on the 30 s sweep, 61 s later: no new evidence, the fault stays.
    assert_eq!(t.update(at(91), at(30), Reading::Value(40.0), &V), None);
    assert!(t.fault().is_some(), "cleared on repeats of one sweep");
    assert_eq!(
        t.update(at(91), at(91), Reading::Value(40.0), &V),
        Some(Change::Recovered)
    );
}
