//! Retry policy for connection attempts: pure, with an injected random source and time passed in as
//! [`Duration`]s since an arbitrary start (callers own the clock).
//!
//! Transient and unknown failures back off quickly: 1 s doubling to 60 s, each delay jittered
//! ±20 %. Authentication and configuration rejections follow a fixed schedule instead: 30 s,
//! 1 min, 2 min, 5 min, then every 5 min, each delay lengthened by 0–20 % of jitter. Retrying a
//! refused password every second only fills the broker's log and can get the client banned; not
//! retrying at all would leave the heating unavailable until someone restarts the controller,
//! although the usual cause (the Home Assistant Mosquitto add-on refusing logins for a while
//! around a restart, a password fixed on the broker) goes away on its own.
//!
//! The rejection jitter only ever lengthens a delay, so the schedule is a lower bound on every
//! gap and the attempts the broker sees are bounded for any random source: at most 15 in the first
//! hour of continuous rejection (at 0, 0:30, 1:30, 3:30, 8:30, then every 5 min up to 58:30),
//! and at most 12 in any hour once the schedule has reached its period (13 attempts would need 12
//! gaps of at least 5 min). A symmetric ±20 % would allow 4-minute gaps, 15 attempts an hour.
//! Every delay is at least [`MIN_DELAY`].

use std::time::Duration;

use crate::codes::Class;

/// No delay is ever shorter than this, whatever the policy says.
pub const MIN_DELAY: Duration = Duration::from_secs(1);

/// Largest jitter fraction honoured; larger values are clamped to it.
pub const MAX_JITTER: f64 = 0.9;

/// How many delays the rejection schedule lists before its steady period takes over.
pub const REJECTED_STEPS: usize = 4;

/// Backoff parameters. Out-of-range values are tolerated: see [`Backoff::on_failure`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// First delay after a transient or unknown failure.
    pub transient_initial: Duration,
    /// Cap for transient and unknown failures.
    pub transient_max: Duration,
    /// Delays after the first, second, … consecutive authentication or configuration rejection,
    /// before [`rejected_period`](Self::rejected_period) takes over.
    pub rejected_steps: [Duration; REJECTED_STEPS],
    /// Delay after every later consecutive rejection.
    pub rejected_period: Duration,
    /// Relative jitter. A transient delay is multiplied by a factor drawn uniformly from
    /// `[1 - jitter, 1 + jitter]`, a rejection delay by one from `[1, 1 + jitter]` (never
    /// shorter than the schedule). Clamped to `0..=`[`MAX_JITTER`]; NaN counts as 0.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    /// 1 s doubling to 60 s for transient failures; 30 s, 1 min, 2 min, 5 min, then every 5 min
    /// for rejections; 20 % jitter.
    fn default() -> Self {
        Self {
            transient_initial: Duration::from_secs(1),
            transient_max: Duration::from_secs(60),
            rejected_steps: [30, 60, 120, 300].map(Duration::from_secs),
            rejected_period: Duration::from_secs(5 * 60),
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

    /// This policy with its rejection schedule (steps and period) scaled so that the first step
    /// is `first`, keeping its shape: the default becomes `first`, 2, 4 and 10 × `first`, then
    /// every 10 × `first`. For simulations and tests that cannot wait minutes. When the first
    /// step is zero every step and the period become `first`.
    pub fn with_rejections_from(mut self, first: Duration) -> Self {
        let from = self.rejected_steps[0].as_secs_f64();
        let scale = |d: Duration| {
            if from > 0.0 {
                Duration::try_from_secs_f64(d.as_secs_f64() * first.as_secs_f64() / from)
                    .unwrap_or(Duration::MAX)
            } else {
                first
            }
        };
        self.rejected_steps = self.rejected_steps.map(scale);
        self.rejected_period = scale(self.rejected_period);
        self
    }

    /// The unjittered delay after `n` earlier consecutive rejections (`n = 0`: the first).
    pub fn rejected_step(&self, n: u32) -> Duration {
        usize::try_from(n)
            .ok()
            .and_then(|n| self.rejected_steps.get(n))
            .copied()
            .unwrap_or(self.rejected_period)
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
    /// `transient_max`, jittered both ways and capped: the result lies in
    /// `[max(MIN_DELAY, base × (1 - jitter)), max(MIN_DELAY, min(cap, base × (1 + jitter)))]`.
    /// [`Class::AuthRejected`] and [`Class::Configuration`] take the next delay of the rejection
    /// schedule ([`RetryPolicy::rejected_step`]) and lengthen it by the jitter only: the result
    /// lies in `[max(MIN_DELAY, step), max(MIN_DELAY, step × (1 + jitter))]`. Each family counts
    /// its own consecutive failures.
    pub fn on_failure<R: rand::Rng + ?Sized>(&mut self, class: Class, rng: &mut R) -> Duration {
        let jitter = self.policy.jitter();
        let unit: f64 = rng.random(); // [0, 1)
        match class {
            Class::AuthRejected | Class::Configuration => {
                let step = self.policy.rejected_step(self.rejected_failures);
                self.rejected_failures = self.rejected_failures.saturating_add(1);
                let factor = 1.0 + jitter * unit;
                let jittered =
                    Duration::try_from_secs_f64(step.as_secs_f64() * factor).unwrap_or(step);
                jittered.max(step).max(MIN_DELAY)
            }
            Class::Transient | Class::Unknown | Class::Accepted => {
                let (initial, max) = (self.policy.transient_initial, self.policy.transient_max);
                let base = exponential(initial, max, self.transient_failures);
                self.transient_failures = self.transient_failures.saturating_add(1);
                let factor = 1.0 - jitter + 2.0 * jitter * unit;
                let jittered =
                    Duration::try_from_secs_f64(base.as_secs_f64() * factor).unwrap_or(max);
                jittered.min(max).max(MIN_DELAY)
            }
        }
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

    /// Consecutive authentication or configuration rejections since the last success.
    pub fn rejections(&self) -> u32 {
        self.rejected_failures
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
    /// A reachability probe may end the current wait (see [`RetrySchedule::on_reachable`]).
    probe_armed: bool,
    /// The last attempt was one a probe brought forward.
    brought_forward: bool,
    /// When the current connection was made, if one is up.
    connected_at: Option<Duration>,
}

impl RetrySchedule {
    /// A schedule whose first attempt is due immediately.
    pub fn new(policy: RetryPolicy) -> Self {
        Self {
            backoff: Backoff::new(policy),
            next_due: Duration::ZERO,
            last_class: None,
            probe_armed: false,
            brought_forward: false,
            connected_at: None,
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
        // Only a network failure may be cut short by a probe, and not twice in a row: an attempt
        // a probe brought forward that fails again waits its whole delay, so a port that accepts
        // TCP but fails MQTT costs at most one extra attempt per delay.
        // Nor after a connection the broker dropped within the minimum delay (another client
        // taking the id, say): that reconnects at the policy's pace, never in a tight loop.
        let lived = self
            .connected_at
            .is_none_or(|at| now.saturating_sub(at) >= self.min_reconnect());
        self.probe_armed = class == Class::Transient && !self.brought_forward && lived;
        self.brought_forward = false;
        self.connected_at = None;
        self.next_due
    }

    /// Whether a reachability probe (a plain TCP connect to the broker) may end the current
    /// wait: after a transient failure or a lost connection, unless the attempt that failed was
    /// itself brought forward by a probe. Never after a rejection: the broker answered then.
    pub fn probe_may_end_wait(&self, now: Duration) -> bool {
        self.probe_armed && !self.is_due(now)
    }

    /// A probe found the broker's port accepting at `now`: when [`Self::probe_may_end_wait`],
    /// the next attempt is due at once (true). The attempt itself then counts as usual.
    pub fn on_reachable(&mut self, now: Duration) -> bool {
        if !self.probe_may_end_wait(now) {
            return false;
        }
        self.next_due = now;
        self.probe_armed = false;
        self.brought_forward = true;
        true
    }

    /// Records a successful attempt made at `now`.
    pub fn on_success(&mut self, now: Duration) {
        self.backoff.on_success();
        self.last_class = Some(Class::Accepted);
        self.next_due = now.saturating_add(self.min_reconnect());
        self.brought_forward = false;
        self.connected_at = Some(now);
    }

    /// The shortest wait before a reconnect without a probe: `transient_initial`, at least
    /// [`MIN_DELAY`].
    fn min_reconnect(&self) -> Duration {
        self.backoff.policy.transient_initial.max(MIN_DELAY)
    }

    /// Makes the next attempt due at `now` (or keeps an earlier due time): for a change the
    /// caller knows of, such as credentials reloaded on SIGHUP or a changed password file. Only
    /// the wait is cut short; the consecutive-failure counts stay, so a retry that is refused
    /// again waits the schedule's next step, never its first one again.
    pub fn retry_now(&mut self, now: Duration) {
        self.next_due = self.next_due.min(now);
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
