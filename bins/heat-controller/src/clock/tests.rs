//! The scaled monotonic clock, on explicit instants.

use std::time::{Duration, Instant};

use super::LoopClock;

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
