//! Jitter statistics on known samples.

use std::time::Duration;

use super::{LoopTiming, WINDOW, quantile};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn quantiles_by_nearest_rank() {
    let mut samples: Vec<Duration> = (1..=100).map(ms).collect();
    samples.reverse();
    assert_eq!(quantile(&mut samples, 0.99), ms(99));
    assert_eq!(quantile(&mut samples, 0.5), ms(50));
    assert_eq!(quantile(&mut samples, 1.0), ms(100));
    assert_eq!(quantile(&mut samples, 0.0), ms(1));
    assert_eq!(quantile(&mut [], 0.99), Duration::ZERO);
}

#[test]
fn a_report_covers_its_window_and_the_totals_carry_on() {
    let mut t = LoopTiming::new();
    for i in 0..200 {
        t.record(ms(i % 10), ms(1));
    }
    t.record(ms(250), ms(3));
    t.skipped(2);
    let r = t.take_report();
    assert_eq!(r.ticks, 201);
    assert_eq!(r.jitter_max, ms(250));
    assert_eq!(r.jitter_p99, ms(9));
    assert_eq!(r.work_max, ms(3));
    assert_eq!(r.overruns, 2);
    assert_eq!(t.window_len(), 0);
    t.record(ms(1), ms(1));
    let r = t.take_report();
    assert_eq!((r.ticks, r.total_ticks), (1, 202));
    assert_eq!(r.jitter_max, ms(1));
    assert_eq!(r.jitter_max_total, ms(250));
    assert!(r.to_string().contains("jitter p99 1.000 ms"), "{r}");
}

#[test]
fn the_window_is_bounded() {
    let mut t = LoopTiming::new();
    for _ in 0..(WINDOW + 10) {
        t.record(ms(1), ms(1));
    }
    assert!(t.window_full());
    assert_eq!(t.window_len(), WINDOW);
    assert_eq!(t.take_report().total_ticks, (WINDOW + 10) as u64);
}
