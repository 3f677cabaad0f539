//! Unit tests of the controller internals: relay anti short-cycling and hysteresis latches.

use super::*;

#[test]
fn relay_respects_minimum_times_except_for_safety_off() {
    let t = Timestamp::from_secs;
    let mut r = Relay::default();
    assert!(
        r.apply(true, false, t(0), 60_000, 60_000),
        "first switch is free"
    );
    assert!(
        !r.apply(false, false, t(59), 60_000, 60_000),
        "min on holds"
    );
    assert!(r.on);
    assert!(
        r.apply(false, true, t(1), 60_000, 60_000),
        "safety off is immediate"
    );
    assert!(
        !r.apply(true, false, t(60), 60_000, 60_000),
        "min off holds"
    );
    assert!(r.apply(true, false, t(61), 60_000, 60_000));
    assert!(
        !r.apply(true, false, t(62), 60_000, 60_000),
        "no change, no switch"
    );
}

#[test]
fn relay_treats_time_going_backwards_as_no_time() {
    let mut r = Relay::default();
    r.apply(true, false, Timestamp::from_secs(100), 60_000, 60_000);
    assert!(!r.apply(false, false, Timestamp::from_secs(10), 60_000, 60_000));
}

#[test]
fn hysteresis_sets_clears_and_holds() {
    let rows = [
        (false, true, false, true),
        (true, false, false, true),
        (true, false, true, false),
        (false, false, false, false),
    ];
    for (start, on, off, expect) in rows {
        let mut latch = start;
        hysteresis(&mut latch, on, off);
        assert_eq!(latch, expect, "{start} {on} {off}");
    }
}

#[test]
fn new_controller_starts_with_everything_off() {
    let c = Controller::new(Params::default(), Timestamp::from_millis(5));
    let s = c.status();
    assert!(!s.pump && !s.heater);
    assert_eq!(s.state, OperatingState::Starting);
    assert_eq!(s.mode, Mode::Auto);
    assert_eq!(s.energy, Energy::default());
}
