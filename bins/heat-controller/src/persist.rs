//! The state file in the daemon (heat-persist): what is restored at startup, and a writer
//! thread that applies heat-persist's write policy, so that the control loop never waits on
//! the disk.
//!
//! The loop's [`Link`] is wrapped in a [`PersistingLink`]: every status the loop hands over is
//! also the latest state to persist, and every accepted command asks for a write at once. The
//! writer thread keeps the file's content (heat-persist's [`Snapshot`]: the mode, the
//! parameters set over MQTT, the counters), decides with [`WritePolicy`], writes with [`StateDir::write`], and keeps the
//! `state_file` problem flag: set by a bad file at startup or a failed write, cleared by the
//! next good write. While it is set, [`PersistingLink`] adds [`Alarm::StateFile`] to every
//! status it passes on, so Home Assistant's problem sensor shows it (within one heartbeat of a
//! change, since the loop's throttle does not see the flag).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use heat_core::{Alarm, Command, CommandError, CommandOutcome, Pending, Status, Timestamp};
use heat_mqtt::InboundCommand;
use heat_persist::{Decision, Loaded, Occasion, Snapshot, StateDir, StateFile, WritePolicy};
use log::{info, warn};

use crate::clock::LoopClock;
use crate::control::Link;

#[derive(Debug)]
struct Inbox {
    /// What the file would hold, as the loop last handed it over.
    latest: Snapshot,
    /// A status arrived since the writer last looked.
    fresh: bool,
    /// A command was accepted since the writer last looked.
    command: bool,
    stop: bool,
}

#[derive(Debug)]
struct Shared {
    inbox: Mutex<Inbox>,
    wake: Condvar,
    problem: AtomicBool,
}

impl Shared {
    fn inbox(&self) -> MutexGuard<'_, Inbox> {
        self.inbox.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The writer thread and what the loop shares with it. The loop's side only takes a mutex the
/// writer never holds during IO.
#[derive(Debug)]
pub struct Persistence {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Persistence {
    /// Starts the writer for `dir`, from what `loaded` restored; the first interval counts from
    /// now on `clock`.
    pub fn start(
        dir: StateDir,
        loaded: &Loaded,
        interval: Duration,
        clock: LoopClock,
    ) -> std::io::Result<Self> {
        let restored = &loaded.restored;
        let shared = Arc::new(Shared {
            inbox: Mutex::new(Inbox {
                latest: Snapshot::new(restored),
                fresh: false,
                command: false,
                stop: false,
            }),
            wake: Condvar::new(),
            problem: AtomicBool::new(loaded.problem.is_some()),
        });
        let policy = WritePolicy::new(interval, clock.now(), loaded.on_disk.clone());
        let writer = Writer {
            shared: Arc::clone(&shared),
            dir,
            policy,
            clock,
            warned: false,
        };
        let thread = thread::Builder::new()
            .name("state-file".into())
            .spawn(move || writer.run())?;
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// Whether the `state_file` alarm is active.
    pub fn problem(&self) -> bool {
        self.shared.problem.load(Ordering::Relaxed)
    }

    fn update(&self, status: &Status) {
        let mut inbox = self.shared.inbox();
        inbox.latest.update(status);
        inbox.fresh = true;
        drop(inbox);
        self.shared.wake.notify_one();
    }

    fn accepted(&self, command: &Command) {
        let mut inbox = self.shared.inbox();
        inbox.latest.accepted(command);
        inbox.command = true;
        drop(inbox);
        self.shared.wake.notify_one();
    }

    /// Hands over the final status, writes it if it changed, and ends the writer.
    pub fn finish(mut self, last: &Status) {
        self.update(last);
        self.stop();
    }

    fn stop(&mut self) {
        self.shared.inbox().stop = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            log::error!("the state file writer panicked; the last state may not be saved");
        }
    }
}

impl Drop for Persistence {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The writer thread's state.
struct Writer {
    shared: Arc<Shared>,
    dir: StateDir,
    policy: WritePolicy,
    clock: LoopClock,
    /// A failed write was warned about (once, until a write succeeds).
    warned: bool,
}

impl Writer {
    fn run(mut self) {
        let mut deadline: Option<Timestamp> = None;
        loop {
            let (occasion, current, stop) = self.next(deadline);
            let now = self.clock.now();
            deadline = match self.policy.decide(now, occasion, &current) {
                Decision::Write => {
                    self.write(now, &current);
                    // A failed write is retried after the interval even if nothing changes.
                    match self.policy.decide(now, Occasion::Update, &current) {
                        Decision::WaitUntil(at) => Some(at),
                        Decision::Write | Decision::Idle => None,
                    }
                }
                Decision::WaitUntil(at) => Some(at),
                Decision::Idle => None,
            };
            if stop {
                return;
            }
        }
    }

    /// Waits for a status, a command, the stop, or `deadline`; returns the occasion and the
    /// content a write would have now.
    fn next(&self, deadline: Option<Timestamp>) -> (Occasion, StateFile, bool) {
        let mut inbox = self.shared.inbox();
        while !(inbox.stop || inbox.command || inbox.fresh) {
            match deadline {
                None => {
                    inbox = self
                        .shared
                        .wake
                        .wait(inbox)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                Some(at) => {
                    let left = at.saturating_duration_since(self.clock.now());
                    if left.is_zero() {
                        break;
                    }
                    // Rounded up so the wake is never before `at`.
                    let real = self.clock.real(left) + Duration::from_millis(1);
                    inbox = self
                        .shared
                        .wake
                        .wait_timeout(inbox, real)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        }
        let occasion = if inbox.stop {
            Occasion::Shutdown
        } else if inbox.command {
            Occasion::Command
        } else {
            Occasion::Update
        };
        inbox.command = false;
        inbox.fresh = false;
        (occasion, inbox.latest.state(), inbox.stop)
    }

    fn write(&mut self, now: Timestamp, state: &StateFile) {
        match self.dir.write(state) {
            Ok(()) => {
                log::debug!(
                    "state file {} written at {} ms",
                    self.dir.path().display(),
                    now.as_millis()
                );
                self.policy.attempted(now, state, true);
                self.warned = false;
                if self.shared.problem.swap(false, Ordering::Relaxed) {
                    info!(
                        "state file {} written: the state_file problem is cleared",
                        self.dir.path().display()
                    );
                }
            }
            Err(problem) => {
                self.policy.attempted(now, state, false);
                self.shared.problem.store(true, Ordering::Relaxed);
                if !self.warned {
                    warn!("{problem}");
                    self.warned = true;
                }
            }
        }
    }
}

/// The loop's [`Link`] with persistence: passes everything on to `inner`, feeds the writer, and
/// adds the `state_file` alarm while it is active.
pub struct PersistingLink<'a> {
    inner: &'a dyn Link,
    persistence: &'a Persistence,
}

impl<'a> PersistingLink<'a> {
    /// `inner`, persisting through `persistence`.
    pub fn new(inner: &'a dyn Link, persistence: &'a Persistence) -> Self {
        Self { inner, persistence }
    }
}

impl std::fmt::Debug for PersistingLink<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersistingLink")
            .field("problem", &self.persistence.problem())
            .finish_non_exhaustive()
    }
}

impl Link for PersistingLink<'_> {
    fn publish_state(&self, mut status: Status) {
        self.persistence.update(&status);
        if self.persistence.problem() && !status.alarms.contains(&Alarm::StateFile) {
            status.alarms.push(Alarm::StateFile);
        }
        self.inner.publish_state(status);
    }

    fn report(
        &self,
        command: &InboundCommand,
        result: &Result<CommandOutcome, CommandError>,
        pending: &Pending,
    ) {
        if result.is_ok() {
            self.persistence.accepted(&command.command);
        }
        self.inner.report(command, result, pending);
    }
}

/// The log line about what was restored.
pub fn restored_summary(dir: &StateDir, loaded: &Loaded) -> String {
    let r = &loaded.restored;
    if loaded.on_disk.is_none() && loaded.problem.is_none() && !loaded.from_previous {
        return format!(
            "state file {}: none yet; starting in {} with the configured parameters",
            dir.path().display(),
            r.mode
        );
    }
    let parameters: Vec<String> = r
        .parameters
        .iter()
        .map(|(p, v)| format!("{p} {v}"))
        .collect();
    let source = if loaded.from_previous {
        dir.previous_path()
    } else {
        dir.path()
    };
    format!(
        "state file {}: mode {}, parameters set over MQTT [{}], energy collected {:.3} kWh, \
         heater {:.3} kWh; pump {:.2} h and {} starts, heater {:.2} h and {} starts",
        source.display(),
        r.mode,
        parameters.join(", "),
        r.energy.collected_kwh,
        r.energy.heater_kwh,
        r.runtime.pump_hours,
        r.runtime.pump_starts,
        r.runtime.heater_hours,
        r.runtime.heater_starts
    )
}

#[cfg(test)]
mod tests;
