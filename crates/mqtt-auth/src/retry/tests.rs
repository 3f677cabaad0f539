//! Tests for the retry policy: sequences on a fake clock, bounds, and proptests for the jitter.

use proptest::prelude::*;
use rand::{RngCore, SeedableRng, rngs::StdRng};

use super::*;

/// A random source that always returns the same word: `Fixed(0)` draws 0.0, `Fixed(u64::MAX)`
/// draws just under 1.0.
#[derive(Debug)]
struct Fixed(u64);

impl RngCore for Fixed {
    fn next_u32(&mut self) -> u32 {
        (self.0 >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        dst.fill(0);
    }
}

const LOW: u64 = 0;
const HIGH: u64 = u64::MAX;
/// Draws exactly 0.5: the jitter factor is 1.0.
const MID: u64 = 1 << 63;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn sequence(class: Class, n: usize, word: u64) -> Vec<Duration> {
    let mut b = Backoff::new(RetryPolicy::default());
    let mut rng = Fixed(word);
    (0..n).map(|_| b.on_failure(class, &mut rng)).collect()
}

#[test]
fn default_policy() {
    let p = RetryPolicy::default();
    assert_eq!(p.transient_initial, secs(1));
    assert_eq!(p.transient_max, secs(60));
    assert_eq!(p.rejected_initial, secs(300));
    assert_eq!(p.rejected_max, secs(1800));
    assert!((p.jitter - 0.2).abs() < f64::EPSILON);
}

#[test]
fn transient_doubles_to_one_minute() {
    let expected: Vec<Duration> = [1, 2, 4, 8, 16, 32, 60, 60].map(secs).to_vec();
    assert_eq!(sequence(Class::Transient, 8, MID), expected);
    assert_eq!(sequence(Class::Unknown, 8, MID), expected);
    // Accepted is no failure; on_failure treats it as unknown instead of trusting it.
    assert_eq!(sequence(Class::Accepted, 8, MID), expected);
}

#[test]
fn rejections_double_from_five_to_thirty_minutes() {
    let expected: Vec<Duration> = [300, 600, 1200, 1800, 1800].map(secs).to_vec();
    assert_eq!(sequence(Class::AuthRejected, 5, MID), expected);
    assert_eq!(sequence(Class::Configuration, 5, MID), expected);
}

#[test]
fn jitter_extremes() {
    let low = sequence(Class::AuthRejected, 5, LOW);
    assert_eq!(low, [240, 480, 960, 1440, 1440].map(secs));
    let high = sequence(Class::AuthRejected, 5, HIGH);
    // +20 % but never above the cap.
    for (got, base) in high.iter().zip([300.0, 600.0, 1200.0]) {
        assert!((got.as_secs_f64() - base * 1.2).abs() < 1e-3, "{got:?}");
    }
    assert_eq!(high[3], secs(1800));
    assert_eq!(high[4], secs(1800));
    // The first transient delay never drops below one second.
    assert_eq!(sequence(Class::Transient, 1, LOW), [secs(1)]);
}

#[test]
fn success_resets_both_families() {
    let mut b = Backoff::new(RetryPolicy::default());
    let mut rng = Fixed(MID);
    for _ in 0..4 {
        b.on_failure(Class::Transient, &mut rng);
        b.on_failure(Class::AuthRejected, &mut rng);
    }
    assert_eq!(b.attempts(), 8);
    b.on_success();
    assert_eq!(b.attempts(), 0);
    assert_eq!(b.on_failure(Class::Transient, &mut rng), secs(1));
    assert_eq!(b.on_failure(Class::AuthRejected, &mut rng), secs(300));
    assert_eq!(b.attempts(), 2);
}

#[test]
fn families_count_separately() {
    let mut b = Backoff::new(RetryPolicy::default());
    let mut rng = Fixed(MID);
    assert_eq!(b.on_failure(Class::AuthRejected, &mut rng), secs(300));
    // A network failure after a rejection is retried fast: it did not reach the password check.
    assert_eq!(b.on_failure(Class::Transient, &mut rng), secs(1));
    // The next rejection keeps doubling.
    assert_eq!(b.on_failure(Class::AuthRejected, &mut rng), secs(600));
}

#[test]
fn degenerate_policies_never_panic_and_never_go_below_one_second() {
    let policies = [
        RetryPolicy {
            transient_initial: Duration::ZERO,
            transient_max: Duration::ZERO,
            rejected_initial: Duration::ZERO,
            rejected_max: Duration::ZERO,
            jitter: f64::NAN,
        },
        RetryPolicy {
            transient_initial: Duration::MAX,
            transient_max: Duration::MAX,
            rejected_initial: Duration::MAX,
            rejected_max: Duration::MAX,
            jitter: f64::INFINITY,
        },
        RetryPolicy {
            jitter: -3.0,
            ..RetryPolicy::default()
        },
    ];
    for policy in policies {
        let mut b = Backoff::new(policy);
        for word in [LOW, MID, HIGH] {
            for class in Class::ALL {
                for _ in 0..70 {
                    let d = b.on_failure(class, &mut Fixed(word));
                    assert!(d >= MIN_DELAY, "{policy:?} {class}: {d:?}");
                }
            }
        }
    }
}

#[test]
fn many_failures_saturate_instead_of_overflowing() {
    let mut b = Backoff::new(RetryPolicy::default());
    let mut rng = Fixed(HIGH);
    for _ in 0..10_000 {
        assert!(b.on_failure(Class::Transient, &mut rng) <= secs(60));
    }
    assert_eq!(b.attempts(), 10_000);
}

/// Runs a connection loop against a broker whose answer is `outcome(attempt_time)`, on a fake clock
/// ticking every 100 ms for `horizon`. Returns the times of all attempts.
fn simulate(
    horizon: Duration,
    rng: &mut dyn RngCore,
    mut outcome: impl FnMut(Duration) -> Result<(), Class>,
) -> Vec<Duration> {
    let mut schedule = RetrySchedule::new(RetryPolicy::default());
    let mut attempts = Vec::new();
    let mut connected = false;
    let tick = Duration::from_millis(100);
    let mut now = Duration::ZERO;
    while now < horizon {
        if !connected && schedule.is_due(now) {
            attempts.push(now);
            match outcome(now) {
                Ok(()) => {
                    schedule.on_success(now);
                    connected = true;
                }
                Err(class) => {
                    schedule.on_failure(now, class, rng);
                }
            }
        }
        now += tick;
    }
    attempts
}

fn attempts_within(attempts: &[Duration], from: Duration, window: Duration) -> usize {
    attempts
        .iter()
        .filter(|&&t| t >= from && t < from + window)
        .count()
}

#[test]
fn after_an_auth_rejection_at_most_two_attempts_in_the_next_20_s() {
    for seed in 0..20 {
        let mut rng = StdRng::seed_from_u64(seed);
        let attempts = simulate(secs(4 * 3600), &mut rng, |_| Err(Class::AuthRejected));
        for &t in &attempts {
            // The rejected attempt itself plus at most one more.
            assert!(
                attempts_within(&attempts, t, secs(20)) <= 2,
                "seed {seed}: {attempts:?}"
            );
        }
        // 4 h of refusals: 5, 10, 20, 30, 30, ... minutes apart, give or take the jitter.
        assert!(
            (8..=14).contains(&attempts.len()),
            "seed {seed}: {}",
            attempts.len()
        );
    }
}

#[test]
fn transient_failures_retry_fast_and_stay_capped() {
    let mut rng = StdRng::seed_from_u64(7);
    let attempts = simulate(secs(3600), &mut rng, |_| Err(Class::Transient));
    assert!(attempts_within(&attempts, Duration::ZERO, secs(20)) >= 4);
    for pair in attempts.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= MIN_DELAY && gap <= secs(61), "{pair:?}");
    }
    // One hour at a capped ~1 minute: about 60 attempts, never the 3600 of a 1 s loop.
    assert!((50..=75).contains(&attempts.len()), "{}", attempts.len());
}

#[test]
fn broker_fixed_after_rejections_is_picked_up_and_resets() {
    let mut rng = Fixed(MID);
    let fixed_at = secs(20 * 60);
    let attempts = simulate(secs(3600), &mut rng, |now| {
        if now < fixed_at {
            Err(Class::AuthRejected)
        } else {
            Ok(())
        }
    });
    // 0, 5 min, 15 min (rejected), 35 min: accepted; then connected.
    assert_eq!(attempts, [0, 300, 900, 2100].map(secs));
}

#[test]
fn schedule_reports_due_times_and_resets_on_success() {
    let mut s = RetrySchedule::new(RetryPolicy::default());
    let mut rng = Fixed(MID);
    assert!(s.is_due(Duration::ZERO));
    assert_eq!(s.last_class(), None);
    let due = s.on_failure(secs(10), Class::AuthRejected, &mut rng);
    assert_eq!(due, secs(310));
    assert!(!s.is_due(secs(309)));
    assert!(s.is_due(secs(310)));
    assert_eq!(s.wait(secs(100)), secs(210));
    assert_eq!(s.wait(secs(400)), Duration::ZERO);
    assert_eq!(s.last_class(), Some(Class::AuthRejected));
    s.on_success(secs(310));
    assert_eq!(s.backoff().attempts(), 0);
    // A drop right after the success does not reconnect in the same instant.
    assert!(!s.is_due(secs(310)));
    assert!(s.is_due(secs(311)));
    assert_eq!(
        s.on_failure(secs(311), Class::AuthRejected, &mut rng),
        secs(611)
    );
}

fn class() -> impl Strategy<Value = Class> {
    prop::sample::select(Class::ALL.to_vec())
}

proptest! {
    #[test]
    fn jitter_stays_within_bounds(
        seed in any::<u64>(),
        classes in prop::collection::vec(class(), 1..40),
        jitter in 0.0f64..=0.9,
        t_init_ms in 0u64..5_000,
        t_max_ms in 0u64..120_000,
        r_init_s in 0u64..3_600,
        r_max_s in 0u64..7_200,
    ) {
        let policy = RetryPolicy {
            transient_initial: Duration::from_millis(t_init_ms),
            transient_max: Duration::from_millis(t_max_ms),
            rejected_initial: secs(r_init_s),
            rejected_max: secs(r_max_s),
            jitter,
        };
        let mut b = Backoff::new(policy);
        let mut rng = StdRng::seed_from_u64(seed);
        let (mut transient, mut rejected) = (0u32, 0u32);
        for class in classes {
            let (n, init, max) = match class {
                Class::AuthRejected | Class::Configuration => {
                    rejected += 1;
                    (rejected - 1, policy.rejected_initial, policy.rejected_max)
                }
                _ => {
                    transient += 1;
                    (transient - 1, policy.transient_initial, policy.transient_max)
                }
            };
            let base = (init.as_secs_f64() * 2f64.powi(n as i32)).min(max.as_secs_f64());
            let lo = (base * (1.0 - jitter)).max(1.0);
            let hi = (base * (1.0 + jitter)).min(max.as_secs_f64()).max(1.0);
            let d = b.on_failure(class, &mut rng).as_secs_f64();
            prop_assert!(d >= lo - 1e-6 && d <= hi + 1e-6, "{class}: {d} not in [{lo}, {hi}]");
            prop_assert!(d <= max.as_secs_f64().max(1.0) + 1e-9);
        }
        prop_assert_eq!(b.attempts(), transient + rejected);
    }

    #[test]
    fn any_jitter_value_is_safe(jitter in any::<f64>(), seed in any::<u64>(), c in class()) {
        let mut b = Backoff::new(RetryPolicy { jitter, ..RetryPolicy::default() });
        let mut rng = StdRng::seed_from_u64(seed);
        for _ in 0..8 {
            let d = b.on_failure(c, &mut rng);
            prop_assert!(d >= MIN_DELAY);
            prop_assert!(d <= secs(1800));
        }
    }
}
