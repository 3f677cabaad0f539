//! Tests for the retry policy: sequences on a fake clock, bounds, and proptests for the jitter and
//! for the attempts a broker sees under continuous rejection.

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
    assert_eq!(p.rejected_steps, [30, 60, 120, 300].map(secs));
    assert_eq!(p.rejected_period, secs(300));
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

/// The schedule after an auth or configuration rejection, by draw: the jitter only
/// lengthens (0 → the schedule itself, 0.5 → +10 %, just under 1 → just under +20 %).
#[test]
fn rejections_follow_the_schedule_and_the_jitter_only_lengthens() {
    let schedule = [30.0, 60.0, 120.0, 300.0, 300.0, 300.0, 300.0];
    let table: [(u64, f64); 3] = [(LOW, 1.0), (MID, 1.1), (HIGH, 1.2)];
    for class in [Class::AuthRejected, Class::Configuration] {
        for (word, factor) in table {
            let got = sequence(class, schedule.len(), word);
            for (got, step) in got.iter().zip(schedule) {
                let want = step * factor;
                assert!(
                    (got.as_secs_f64() - want).abs() < 1e-3,
                    "{class} word {word:#x}: {got:?}, want {want} s"
                );
                assert!(got.as_secs_f64() >= step, "{class}: {got:?} below {step} s");
            }
        }
    }
    assert_eq!(
        sequence(Class::AuthRejected, 6, LOW),
        [30, 60, 120, 300, 300, 300].map(secs)
    );
}

#[test]
fn transient_jitter_extremes() {
    let low = sequence(Class::Transient, 8, LOW);
    // -20 %, but the first delay never drops below one second.
    for (got, want) in low.iter().zip([1.0, 1.6, 3.2, 6.4, 12.8, 25.6, 48.0, 48.0]) {
        assert!((got.as_secs_f64() - want).abs() < 1e-3, "{got:?}");
    }
    let high = sequence(Class::Transient, 8, HIGH);
    // +20 % but never above the cap.
    for (got, base) in high.iter().zip([1.0, 2.0, 4.0, 8.0, 16.0, 32.0]) {
        assert!((got.as_secs_f64() - base * 1.2).abs() < 1e-3, "{got:?}");
    }
    assert_eq!(high[6..], [secs(60), secs(60)]);
}

#[test]
fn rejected_steps_then_the_period() {
    let p = RetryPolicy::default();
    let steps: Vec<Duration> = [0, 1, 2, 3, 4, 5, 1000, u32::MAX]
        .map(|n| p.rejected_step(n))
        .to_vec();
    assert_eq!(steps, [30, 60, 120, 300, 300, 300, 300, 300].map(secs));
}

#[test]
fn the_rejection_schedule_scales_to_its_first_step() {
    let p = RetryPolicy::default().with_rejections_from(secs(3));
    assert_eq!(p.rejected_steps, [3, 6, 12, 30].map(secs));
    assert_eq!(p.rejected_period, secs(30));
    // The transient family and the jitter stay.
    assert_eq!(p.transient_initial, secs(1));
    assert_eq!(p.transient_max, secs(60));
    assert!((p.jitter - 0.2).abs() < f64::EPSILON);
    let zero = RetryPolicy {
        rejected_steps: [Duration::ZERO; REJECTED_STEPS],
        ..RetryPolicy::default()
    }
    .with_rejections_from(secs(7));
    assert_eq!(zero.rejected_steps, [secs(7); REJECTED_STEPS]);
    assert_eq!(zero.rejected_period, secs(7));
    let huge = RetryPolicy::default().with_rejections_from(Duration::MAX);
    assert_eq!(huge.rejected_period, Duration::MAX);
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
    assert_eq!(b.on_failure(Class::AuthRejected, &mut rng), secs(33));
    assert_eq!(b.attempts(), 2);
    assert_eq!(b.rejections(), 1);
}

#[test]
fn families_count_separately() {
    let mut b = Backoff::new(RetryPolicy::default());
    let mut rng = Fixed(MID);
    assert_eq!(b.on_failure(Class::AuthRejected, &mut rng), secs(33));
    // A network failure after a rejection is retried fast: it did not reach the password check.
    assert_eq!(b.on_failure(Class::Transient, &mut rng), secs(1));
    // The next rejection takes the schedule's next step.
    assert_eq!(b.on_failure(Class::AuthRejected, &mut rng), secs(66));
    assert_eq!(b.rejections(), 2);
}

#[test]
fn degenerate_policies_never_panic_and_never_go_below_one_second() {
    let policies = [
        RetryPolicy {
            transient_initial: Duration::ZERO,
            transient_max: Duration::ZERO,
            rejected_steps: [Duration::ZERO; REJECTED_STEPS],
            rejected_period: Duration::ZERO,
            jitter: f64::NAN,
        },
        RetryPolicy {
            transient_initial: Duration::MAX,
            transient_max: Duration::MAX,
            rejected_steps: [Duration::MAX; REJECTED_STEPS],
            rejected_period: Duration::MAX,
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
        assert!(b.on_failure(Class::AuthRejected, &mut rng) <= secs(360));
    }
    assert_eq!(b.attempts(), 20_000);
    assert_eq!(b.rejections(), 10_000);
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
fn after_an_auth_rejection_no_two_attempts_within_30_s() {
    for seed in 0..20 {
        let mut rng = StdRng::seed_from_u64(seed);
        let attempts = simulate(secs(4 * 3600), &mut rng, |_| Err(Class::AuthRejected));
        for &t in &attempts {
            assert_eq!(
                attempts_within(&attempts, t, secs(30)),
                1,
                "seed {seed}: {attempts:?}"
            );
        }
        // 4 h of refusals: 5 attempts in the first 8.5 min, then one every 5 to 6 min.
        assert!(
            (43..=51).contains(&attempts.len()),
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
    let mut rng = Fixed(LOW);
    let fixed_at = secs(20 * 60);
    let attempts = simulate(secs(3600), &mut rng, |now| {
        if now < fixed_at {
            Err(Class::AuthRejected)
        } else {
            Ok(())
        }
    });
    // 0, 0:30, 1:30, 3:30, 8:30, 13:30, 18:30 (rejected), 23:30: accepted; then connected.
    assert_eq!(attempts, [0, 30, 90, 210, 510, 810, 1110, 1410].map(secs));
}

#[test]
fn schedule_reports_due_times_and_resets_on_success() {
    let mut s = RetrySchedule::new(RetryPolicy::default());
    let mut rng = Fixed(LOW);
    assert!(s.is_due(Duration::ZERO));
    assert_eq!(s.last_class(), None);
    let due = s.on_failure(secs(10), Class::AuthRejected, &mut rng);
    assert_eq!(due, secs(40));
    assert!(!s.is_due(secs(39)));
    assert!(s.is_due(secs(40)));
    assert_eq!(s.wait(secs(25)), secs(15));
    assert_eq!(s.wait(secs(400)), Duration::ZERO);
    assert_eq!(s.last_class(), Some(Class::AuthRejected));
    assert_eq!(
        s.on_failure(secs(40), Class::AuthRejected, &mut rng),
        secs(100)
    );
    s.on_success(secs(100));
    assert_eq!(s.backoff().attempts(), 0);
    // A drop right after the success does not reconnect in the same instant.
    assert!(!s.is_due(secs(100)));
    assert!(s.is_due(secs(101)));
    // The schedule starts again from its first step.
    assert_eq!(
        s.on_failure(secs(101), Class::AuthRejected, &mut rng),
        secs(131)
    );
}

#[test]
fn retry_now_cuts_the_wait_but_keeps_the_place_in_the_schedule() {
    let mut s = RetrySchedule::new(RetryPolicy::default());
    let mut rng = Fixed(LOW);
    // (time of the event, what happens, expected next due time)
    assert_eq!(
        s.on_failure(secs(0), Class::AuthRejected, &mut rng),
        secs(30)
    );
    assert_eq!(
        s.on_failure(secs(30), Class::AuthRejected, &mut rng),
        secs(90)
    );
    s.retry_now(secs(45));
    assert!(s.is_due(secs(45)));
    assert_eq!(s.wait(secs(45)), Duration::ZERO);
    assert_eq!(s.next_due(), secs(45));
    // Refused again: the third step (2 min), not the first.
    assert_eq!(s.backoff().rejections(), 2);
    assert_eq!(
        s.on_failure(secs(45), Class::AuthRejected, &mut rng),
        secs(165)
    );
    // A due time already past stays where it is.
    s.retry_now(secs(200));
    assert_eq!(s.next_due(), secs(165));
    // On a fresh schedule it is a no-op: the first attempt is already due.
    let mut fresh = RetrySchedule::new(RetryPolicy::default());
    fresh.retry_now(secs(5));
    assert_eq!(fresh.next_due(), Duration::ZERO);
}

/// A random source that replays `words` in a loop: proptest chooses every draw.
#[derive(Debug)]
struct Script {
    words: Vec<u64>,
    next: usize,
}

impl RngCore for Script {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        let word = self.words[self.next % self.words.len()];
        self.next += 1;
        word
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

/// The attempt times of a connection loop whose every attempt is refused with `class`, over
/// `horizon`, under the default policy: each attempt is made exactly when it is due.
fn refused_attempts(class: Class, horizon: Duration, rng: &mut dyn RngCore) -> Vec<Duration> {
    let mut schedule = RetrySchedule::new(RetryPolicy::default());
    let mut attempts = Vec::new();
    let mut now = Duration::ZERO;
    while now < horizon {
        attempts.push(now);
        now = schedule.on_failure(now, class, rng);
    }
    attempts
}

/// The most attempts in any hour-long window `[t, t + 1 h)` that starts at one of `attempts`
/// from index `from` on (a window holds the most when it starts at an attempt).
fn busiest_hour(attempts: &[Duration], from: usize) -> usize {
    attempts
        .iter()
        .skip(from)
        .map(|&t| attempts_within(attempts, t, secs(3600)))
        .max()
        .unwrap_or(0)
}

/// The bounds on attempts under continuous rejection.
const FIRST_HOUR_MAX: usize = 16;
const LATER_HOUR_MAX: usize = 12;

/// The worst case is a random source that always draws 0: every delay exactly the schedule's.
/// It reaches 15 attempts in the first hour and exactly 12 in every later hour; the largest
/// draw gives 13 and 10.
#[test]
fn rejected_attempts_per_hour_table() {
    let table: [(u64, usize, usize); 3] = [(LOW, 15, 12), (MID, 14, 11), (HIGH, 13, 10)];
    for class in [Class::AuthRejected, Class::Configuration] {
        for (word, first, later) in table {
            let attempts = refused_attempts(class, secs(6 * 3600), &mut Fixed(word));
            let got_first = attempts_within(&attempts, Duration::ZERO, secs(3600));
            let got_later = busiest_hour(&attempts, REJECTED_STEPS);
            assert_eq!(
                (got_first, got_later),
                (first, later),
                "{class} word {word:#x}"
            );
            assert!(got_first <= FIRST_HOUR_MAX && got_later <= LATER_HOUR_MAX);
        }
    }
    let worst = refused_attempts(Class::AuthRejected, secs(3600), &mut Fixed(LOW));
    let expected: Vec<Duration> = [0, 30, 90, 210]
        .into_iter()
        .chain((0..11).map(|k| 510 + 300 * k))
        .map(secs)
        .collect();
    assert_eq!(worst, expected);
}

fn class() -> impl Strategy<Value = Class> {
    prop::sample::select(Class::ALL.to_vec())
}

/// Draws, with the extremes (always 0, always just under 1) as likely as any other word.
fn words() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(prop_oneof![Just(LOW), Just(HIGH), any::<u64>()], 1..64)
}

proptest! {
    /// For any random source: at most 16 attempts in the first hour of continuous rejection, at
    /// most 12 in any hour after the schedule's steps (even one that starts in the first hour),
    /// never two closer than 30 s.
    #[test]
    fn continuous_rejection_stays_within_the_hourly_bounds(
        words in words(),
        auth in any::<bool>(),
    ) {
        let class = if auth { Class::AuthRejected } else { Class::Configuration };
        let mut rng = Script { words, next: 0 };
        let attempts = refused_attempts(class, secs(5 * 3600), &mut rng);
        let first = attempts_within(&attempts, Duration::ZERO, secs(3600));
        prop_assert!(first <= FIRST_HOUR_MAX, "{first} attempts in the first hour");
        prop_assert!(busiest_hour(&attempts, 0) <= FIRST_HOUR_MAX);
        let later = busiest_hour(&attempts, REJECTED_STEPS);
        prop_assert!(later <= LATER_HOUR_MAX, "{later} attempts in a later hour");
        let after_one_hour = attempts.iter().position(|&t| t >= secs(3600)).unwrap();
        prop_assert!(busiest_hour(&attempts, after_one_hour) <= LATER_HOUR_MAX);
        for pair in attempts.windows(2) {
            prop_assert!(pair[1] - pair[0] >= secs(30), "{pair:?}");
        }
    }

    #[test]
    fn jitter_stays_within_bounds(
        seed in any::<u64>(),
        classes in prop::collection::vec(class(), 1..40),
        jitter in 0.0f64..=0.9,
        t_init_ms in 0u64..5_000,
        t_max_ms in 0u64..120_000,
        r_steps_s in prop::array::uniform4(0u64..3_600),
        r_period_s in 0u64..7_200,
    ) {
        let policy = RetryPolicy {
            transient_initial: Duration::from_millis(t_init_ms),
            transient_max: Duration::from_millis(t_max_ms),
            rejected_steps: r_steps_s.map(secs),
            rejected_period: secs(r_period_s),
            jitter,
        };
        let mut b = Backoff::new(policy);
        let mut rng = StdRng::seed_from_u64(seed);
        let (mut transient, mut rejected) = (0u32, 0u32);
        for class in classes {
            let (lo, hi) = match class {
                Class::AuthRejected | Class::Configuration => {
                    rejected += 1;
                    let step = policy.rejected_step(rejected - 1).as_secs_f64();
                    (step.max(1.0), (step * (1.0 + jitter)).max(1.0))
                }
                _ => {
                    transient += 1;
                    let (init, max) = (policy.transient_initial, policy.transient_max);
                    let base = (init.as_secs_f64() * 2f64.powi(transient as i32 - 1))
                        .min(max.as_secs_f64());
                    let lo = (base * (1.0 - jitter)).max(1.0);
                    let hi = (base * (1.0 + jitter)).min(max.as_secs_f64()).max(1.0);
                    (lo, hi)
                }
            };
            let d = b.on_failure(class, &mut rng).as_secs_f64();
            prop_assert!(d >= lo - 1e-6 && d <= hi + 1e-6, "{class}: {d} not in [{lo}, {hi}]");
        }
        prop_assert_eq!(b.attempts(), transient + rejected);
        prop_assert_eq!(b.rejections(), rejected);
    }

    #[test]
    fn any_jitter_value_is_safe(jitter in any::<f64>(), seed in any::<u64>(), c in class()) {
        let mut b = Backoff::new(RetryPolicy { jitter, ..RetryPolicy::default() });
        let mut rng = StdRng::seed_from_u64(seed);
        for _ in 0..8 {
            let d = b.on_failure(c, &mut rng);
            prop_assert!(d >= MIN_DELAY);
            // The largest honoured jitter, 0.9, on the longest step, 5 min.
            prop_assert!(d <= Duration::from_secs(570));
        }
    }
}

fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

/// The reachability probe may end a wait after a lost connection or a network failure, once:
/// an attempt it brought forward that fails again waits its whole delay, a rejection is never cut
/// short, and a connection the broker dropped at once reconnects at the policy's pace.
#[test]
fn a_probe_ends_a_network_wait_once_and_never_a_rejection() {
    let mut rng = Fixed(MID);
    let mut s = RetrySchedule::new(RetryPolicy::default());
    assert!(!s.probe_may_end_wait(ms(0)), "nothing failed yet");
    s.on_success(ms(0));
    // Up for a minute, then lost (a broker restart): the probe may end the 1 s wait.
    s.on_failure(secs(60), Class::Transient, &mut rng);
    assert!(s.probe_may_end_wait(secs(60) + ms(250)));
    assert!(s.on_reachable(secs(60) + ms(250)));
    assert!(s.is_due(secs(60) + ms(250)));
    assert!(!s.on_reachable(secs(60) + ms(260)), "used once");
    // The brought-forward attempt fails too (the port accepts, MQTT does not): full delay.
    let due = s.on_failure(secs(60) + ms(300), Class::Transient, &mut rng);
    assert!(due >= secs(62), "{due:?}");
    assert!(!s.probe_may_end_wait(secs(61)));
    assert!(!s.on_reachable(secs(61)));
    // The next failure after a whole delay arms it again.
    s.on_failure(due, Class::Transient, &mut rng);
    assert!(s.probe_may_end_wait(due + ms(1)));

    // A rejection: the broker answered; the probe has nothing to add.
    let mut r = RetrySchedule::new(RetryPolicy::default());
    r.on_failure(secs(0), Class::AuthRejected, &mut rng);
    assert!(!r.probe_may_end_wait(secs(1)));
    assert!(!r.on_reachable(secs(1)));
    for class in [Class::Configuration, Class::Unknown] {
        let mut c = RetrySchedule::new(RetryPolicy::default());
        c.on_failure(secs(0), class, &mut rng);
        assert!(!c.probe_may_end_wait(ms(500)), "{class:?}");
    }

    // Dropped within the minimum delay of connecting (another client took the id): no probe.
    let mut d = RetrySchedule::new(RetryPolicy::default());
    d.on_success(secs(10));
    d.on_failure(secs(10) + ms(200), Class::Transient, &mut rng);
    assert!(!d.probe_may_end_wait(secs(10) + ms(400)));
}

proptest! {
    /// Whatever the probes report and whenever they run, a probe never brings forward the
    /// attempt after a failed probe-brought one: a port that accepts TCP but fails MQTT costs at
    /// most one extra attempt per backoff delay, so the attempts stay within twice the policy's.
    #[test]
    fn a_failed_probe_brought_attempt_is_never_followed_by_another(
        word in any::<u64>(),
        reachable in proptest::collection::vec(any::<bool>(), 1..400),
        connects in proptest::collection::vec(any::<bool>(), 1..400),
    ) {
        let mut rng = Fixed(word);
        let mut s = RetrySchedule::new(RetryPolicy::default());
        let mut now = Duration::ZERO;
        let (mut plain, mut brought, mut connected) = (0usize, 0usize, 0usize);
        let mut last_brought_failed = false;
        for (i, up) in reachable.iter().enumerate() {
            now += ms(250);
            let by_probe = *up && s.on_reachable(now);
            if !s.is_due(now) {
                continue;
            }
            prop_assert!(!(by_probe && last_brought_failed), "probe after a failed probe attempt");
            if by_probe { brought += 1 } else { plain += 1 }
            if connects[i % connects.len()] {
                connected += 1;
                s.on_success(now);
                // Up for 5 s, then lost.
                now += secs(5);
                s.on_failure(now, Class::Transient, &mut rng);
                last_brought_failed = false;
            } else {
                s.on_failure(now, Class::Transient, &mut rng);
                last_brought_failed = by_probe;
            }
        }
        // Each probe-brought attempt follows a plain failure or a connection that lived.
        prop_assert!(brought <= plain + connected, "{brought} > {plain} + {connected}");
    }
}
