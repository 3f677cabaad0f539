//! Retry policy for connection attempts: pure, with an injected random source and time passed in as
//! [`Duration`]s since an arbitrary start (callers own the clock).
//!
//! Transient and unknown failures back off quickly (1 s doubling to 60 s). Authentication and
//! configuration failures back off slowly (5 min doubling to 30 min): retrying a refused password
//! every second only fills the broker's log and can get the client banned, but retrying at all
//! means a fix on the broker side is picked up without a restart. Every delay is jittered (±20 %
//! by default), never exceeds its cap and is never shorter than [`MIN_DELAY`].

use std::time::Duration;

use crate::codes::Class;

/// No delay is ever shorter than this, whatever the policy says.
pub const MIN_DELAY: Duration = Duration::from_secs(1);

/// Largest jitter fraction honoured; larger values are clamped to it.
pub const MAX_JITTER: f64 = 0.9;

/// Backoff parameters. Out-of-range values are tolerated: see [`Backoff::on_failure`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// First delay after a transient or unknown failure.
    pub transient_initial: Duration,
    /// Cap for transient and unknown failures.
    pub transient_max: Duration,
    /// First delay after an authentication or configuration failure.
    pub rejected_initial: Duration,
    /// Cap for authentication and configuration failures.
    pub rejected_max: Duration,
    /// Relative jitter: each delay is multiplied by a factor drawn uniformly from
    /// `[1 - jitter, 1 + jitter]`. Clamped to `0..=`[`MAX_JITTER`]; NaN counts as 0.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    /// 1 s doubling to 60 s for transient failures, 5 min doubling to 30 min for rejections, ±20 %.
    fn default() -> Self {
        Self {
            transient_initial: Duration::from_secs(1),
            transient_max: Duration::from_secs(60),
            rejected_initial: Duration::from_secs(5 * 60),
            rejected_max: Duration::from_secs(30 * 60),
            jitter: 0.2,
        }
    }
}

impl RetryPolicy {
    fn jitter(&self) -> f64 {
        if self.jitter.is_nan() {
            0.0
        } else {
            self.jitter.clamp(0.0, MAX_JITTER)
        }
    }
}

/// Consecutive-failure state: how long to wait before the next attempt.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: RetryPolicy,
    transient_failures: u32,
    rejected_failures: u32,
}

/// `initial × 2^doublings`, saturating, capped at `max`.
fn exponential(initial: Duration, max: Duration, doublings: u32) -> Duration {
    let factor = 1u32.checked_shl(doublings.min(31)).unwrap_or(u32::MAX);
    initial.saturating_mul(factor).min(max)
}

impl Backoff {
    /// No failures yet.
    pub fn new(policy: RetryPolicy) -> Self {
        Self {
            policy,
            transient_failures: 0,
            rejected_failures: 0,
        }
    }

    /// The policy in use.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Records a failed attempt of class `class` and returns how long to wait before the next one.
    ///
    /// [`Class::Transient`] and [`Class::Unknown`] (and [`Class::Accepted`], which is no failure
    /// and is treated as unknown rather than trusted) double from `transient_initial` up to
    /// `transient_max`; [`Class::AuthRejected`] and [`Class::Configuration`] double from
    /// `rejected_initial` up to `rejected_max`. Each family counts its own consecutive failures.
    /// The delay is then jittered, capped at its family's maximum and raised to at least
    /// [`MIN_DELAY`], so the result lies in `[max(MIN_DELAY, base × (1 - jitter)), max(MIN_DELAY,
    /// min(cap, base × (1 + jitter)))]`.
    pub fn on_failure<R: rand::Rng + ?Sized>(&mut self, class: Class, rng: &mut R) -> Duration {
        let (count, initial, max) = match class {
            Class::AuthRejected | Class::Configuration => (
                &mut self.rejected_failures,
                self.policy.rejected_initial,
                self.policy.rejected_max,
            ),
            Class::Transient | Class::Unknown | Class::Accepted => (
                &mut self.transient_failures,
                self.policy.transient_initial,
                self.policy.transient_max,
            ),
        };
        let base = exponential(initial, max, *count);
        *count = count.saturating_add(1);

        let jitter = self.policy.jitter();
        let unit: f64 = rng.random(); // [0, 1)
        let factor = 1.0 - jitter + 2.0 * jitter * unit;
        let jittered = Duration::try_from_secs_f64(base.as_secs_f64() * factor).unwrap_or(max);
        jittered.min(max).max(MIN_DELAY)
    }

    /// Records a successful connection: both failure counts start again from zero.
    pub fn on_success(&mut self) {
        self.transient_failures = 0;
        self.rejected_failures = 0;
    }

    /// Consecutive failures since the last success (both families).
    pub fn attempts(&self) -> u32 {
        self.transient_failures
            .saturating_add(self.rejected_failures)
    }
}

/// When the next connection attempt is due, on the caller's clock (a [`Duration`] since any fixed
/// start). A small driver around [`Backoff`] for connection loops and tests.
///
/// The first attempt is due at once. After a failure the next is due `now + delay`. After a
/// success, a reconnect (when the connection later drops) is due no earlier than
/// `transient_initial` after the success, so a connection that the broker drops at once cannot turn
/// into a tight loop.
#[derive(Debug, Clone)]
pub struct RetrySchedule {
    backoff: Backoff,
    next_due: Duration,
    last_class: Option<Class>,
}

impl RetrySchedule {
    /// A schedule whose first attempt is due immediately.
    pub fn new(policy: RetryPolicy) -> Self {
        Self {
            backoff: Backoff::new(policy),
            next_due: Duration::ZERO,
            last_class: None,
        }
    }

    /// True when an attempt may be made at `now`.
    pub fn is_due(&self, now: Duration) -> bool {
        now >= self.next_due
    }

    /// When the next attempt is due.
    pub fn next_due(&self) -> Duration {
        self.next_due
    }

    /// How long to wait from `now` until the next attempt (zero when it is due).
    pub fn wait(&self, now: Duration) -> Duration {
        self.next_due.saturating_sub(now)
    }

    /// Records a failed attempt made at `now`; returns when the next one is due.
    pub fn on_failure<R: rand::Rng + ?Sized>(
        &mut self,
        now: Duration,
        class: Class,
        rng: &mut R,
    ) -> Duration {
        let delay = self.backoff.on_failure(class, rng);
        self.last_class = Some(class);
        self.next_due = now.saturating_add(delay);
        self.next_due
    }

    /// Records a successful attempt made at `now`.
    pub fn on_success(&mut self, now: Duration) {
        self.backoff.on_success();
        self.last_class = Some(Class::Accepted);
        self.next_due = now.saturating_add(self.backoff.policy.transient_initial.max(MIN_DELAY));
    }

    /// The class of the last recorded outcome, if any.
    pub fn last_class(&self) -> Option<Class> {
        self.last_class
    }

    /// The underlying backoff state.
    pub fn backoff(&self) -> &Backoff {
        &self.backoff
    }
}

#[cfg(test)]
mod tests;
