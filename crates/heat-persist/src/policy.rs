//! When to write the state file. Pure: the caller passes the time (its monotonic
//! [`Timestamp`]) and what the file would hold now.
//!
//! - Right after every accepted command, and at shutdown.
//! - Otherwise at most once per `persist_interval` (counted from the last attempt, so a failing
//!   disk is retried at that pace, not on every change).
//! - In every case only when the content differs from what was last written: a controller at
//!   rest (no command, loads OFF, counters still) does not write at all.
//!
//! Writes per day are therefore at most 86 400 s / `persist_interval` plus one per command:
//! 144 + commands at the default 10 min, fewer on a day the counters stand still
//! (`docs/reliability.md`).

use std::time::Duration;

use heat_core::Timestamp;

use crate::schema::StateFile;

/// Default `persist_interval`: what a power cut can lose of the counters.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(600);

/// Why the caller asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occasion {
    /// A command was accepted.
    Command,
    /// The service is stopping.
    Shutdown,
    /// The state changed (counters moved), or a wait ended.
    Update,
}

/// What to do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Write now.
    Write,
    /// The content differs from the file, but the interval has not passed: ask again at this
    /// time (or at the next command or shutdown).
    WaitUntil(Timestamp),
    /// The file holds exactly this: nothing to do until it changes.
    Idle,
}

/// The write policy's memory: the last attempt and what the file is known to hold.
#[derive(Debug, Clone, PartialEq)]
pub struct WritePolicy {
    interval: Duration,
    last_attempt: Timestamp,
    on_disk: Option<StateFile>,
}

impl WritePolicy {
    /// A policy starting at `now`, with the file holding `on_disk` (`None`: missing or bad, so
    /// any state differs from it). The first interval counts from `now`.
    pub fn new(interval: Duration, now: Timestamp, on_disk: Option<StateFile>) -> Self {
        Self {
            interval,
            last_attempt: now,
            on_disk,
        }
    }

    /// The interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// What to do at `now` for `occasion`, when a write now would hold `current`.
    pub fn decide(&self, now: Timestamp, occasion: Occasion, current: &StateFile) -> Decision {
        if self.on_disk.as_ref() == Some(current) {
            return Decision::Idle;
        }
        let due = self.last_attempt + self.interval;
        match occasion {
            Occasion::Command | Occasion::Shutdown => Decision::Write,
            Occasion::Update if now >= due => Decision::Write,
            Occasion::Update => Decision::WaitUntil(due),
        }
    }

    /// Records a write attempt of `written` at `now`: on success the file holds it; on failure
    /// what it holds is unknown, so every state differs from it.
    pub fn attempted(&mut self, now: Timestamp, written: &StateFile, ok: bool) {
        self.last_attempt = now;
        self.on_disk = ok.then(|| written.clone());
    }
}

#[cfg(test)]
mod tests;
