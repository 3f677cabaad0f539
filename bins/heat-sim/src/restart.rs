//! Restarts: the daemon's state file, kept in memory, and the daemon's restart from it.
//!
//! [`Persistence`] does what the daemon's writer does, without its thread and the disk:
//! heat-persist's [`Snapshot`] fed with every step's status and every accepted command, its
//! [`WritePolicy`] deciding when to write, [`encode`] writing into a byte buffer, and two
//! generations (`state.json` and `state.json.prev`), as [`heat_persist::StateDir::write`] keeps
//! them. [`Persistence::restart`] damages the file as the [`RestartKind`] says and starts again
//! as the daemon does: heat-persist's [`start`] under the starting configuration, an unusable
//! `state.json` moved aside, and a fresh write policy.
//!
//! It also judges each restart (rules counted as [`Violation`]s): the counters restored equal
//! those of the generation that should be used (`state.json` when undamaged, else
//! `state.json.prev`), no counter goes below the previous generation, the hours lost are at most
//! one persist interval's worth per generation gone back (plus two loop steps: one for a status
//! to show a change, one for the step grid), every damage is detected, and the counters written
//! never decrease while one controller runs.

use std::time::Duration;

use heat_core::{Command, Parameter, Params, Status, Timestamp};
use heat_persist::{
    Counters, Decision, Generation, Occasion, SCHEMA, Snapshot, Source, Start, StateFile,
    WritePolicy, encode, start,
};
use rand::Rng;
use rand::rngs::StdRng;

use crate::check::Violation;

/// How a restart happens, and what happened to the file before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RestartKind {
    /// `systemctl restart`: the final write, then the start.
    Stop,
    /// A crash, a SIGKILL or a power cut: no final write.
    Crash,
    /// A crash, and `state.json` cut short at a random byte.
    Truncated,
    /// A crash, and a random span of `state.json` overwritten with bytes JSON never holds.
    Garbage,
    /// A crash, and `state.json` with a newer schema (a downgrade).
    NewerSchema,
    /// A crash, and a parameter in `state.json` out of its range (a hand edit).
    OutOfRange,
}

impl RestartKind {
    /// Every kind, in the order they are drawn.
    pub const ALL: [RestartKind; 6] = [
        RestartKind::Stop,
        RestartKind::Crash,
        RestartKind::Truncated,
        RestartKind::Garbage,
        RestartKind::NewerSchema,
        RestartKind::OutOfRange,
    ];

    /// Snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RestartKind::Stop => "stop",
            RestartKind::Crash => "crash",
            RestartKind::Truncated => "truncated",
            RestartKind::Garbage => "garbage",
            RestartKind::NewerSchema => "newer_schema",
            RestartKind::OutOfRange => "out_of_range_parameter",
        }
    }

    /// The damage makes `state.json` unusable as a whole.
    fn unusable(self) -> bool {
        matches!(
            self,
            RestartKind::Truncated | RestartKind::Garbage | RestartKind::NewerSchema
        )
    }
}

/// One generation of the simulated file: its bytes and what was encoded into them.
#[derive(Debug, Clone)]
struct Written {
    bytes: Vec<u8>,
    state: StateFile,
}

/// What a restart found, for the summary.
#[derive(Debug, Clone)]
pub struct Restart {
    /// The kind that happened (a damage drawn with no file to damage is a crash).
    pub kind: RestartKind,
    /// What the controller starts from.
    pub start: Start,
    /// Hours lost: (pump, heater).
    pub lost_hours: (f64, f64),
    /// The rules it broke.
    pub violations: Vec<Violation>,
}

/// The daemon's persistence, in memory.
#[derive(Debug)]
pub struct Persistence {
    interval: Duration,
    snapshot: Snapshot,
    policy: WritePolicy,
    /// As in the daemon's writer: `None` until the content differs from the file, then when
    /// the policy allows the next write.
    deadline: Option<Timestamp>,
    current: Option<Written>,
    previous: Option<Written>,
    /// The counters last written by this controller (or restored for it).
    floor: Counters,
    writes: u64,
    failed_writes: u64,
    violations: Vec<Violation>,
}

fn counters(memory: heat_core::Memory) -> Counters {
    Counters::new(memory.energy, memory.runtime)
}

/// Every counter of `a` at or below the same of `b`.
fn at_most(a: &Counters, b: &Counters) -> bool {
    a.collected_kwh <= b.collected_kwh
        && a.heater_kwh <= b.heater_kwh
        && a.pump_hours <= b.pump_hours
        && a.pump_starts <= b.pump_starts
        && a.heater_hours <= b.heater_hours
        && a.heater_starts <= b.heater_starts
}

impl Persistence {
    /// No file yet: the controller starts from `config`.
    pub fn new(config: &Params, interval: Duration, now: Timestamp) -> Self {
        let s = start(config, Generation::Missing, Generation::Missing);
        Self {
            interval,
            snapshot: Snapshot::new(&s.restored),
            policy: WritePolicy::new(interval, now, None),
            // The first status asks, as in the daemon.
            deadline: Some(now),
            current: None,
            previous: None,
            floor: Counters::default(),
            writes: 0,
            failed_writes: 0,
            violations: Vec::new(),
        }
    }

    /// Writes so far.
    pub fn writes(&self) -> u64 {
        self.writes
    }

    /// Writes that failed (a state that does not encode).
    pub fn failed_writes(&self) -> u64 {
        self.failed_writes
    }

    /// The rules broken since the last call.
    pub fn take_violations(&mut self) -> Vec<Violation> {
        std::mem::take(&mut self.violations)
    }

    /// A status the loop published (every step).
    pub fn update(&mut self, now: Timestamp, status: &Status) {
        let before = self.snapshot.memory();
        self.snapshot.update(status);
        let ask = match self.deadline {
            // The daemon's writer asks on every status; asking only when the counters changed
            // gives the same answers (an unchanged state is as idle as before; the mode and
            // the parameters change only by commands, which always ask).
            None => self.snapshot.memory() != before,
            Some(at) => now >= at,
        };
        if ask {
            self.decide(now, Occasion::Update);
        }
    }

    /// A command was accepted; `status` is the controller's after it.
    pub fn accepted(&mut self, now: Timestamp, command: &Command, status: &Status) {
        self.snapshot.accepted(command);
        self.snapshot.update(status);
        self.decide(now, Occasion::Command);
    }

    fn decide(&mut self, now: Timestamp, occasion: Occasion) {
        let current = self.snapshot.state();
        self.deadline = match self.policy.decide(now, occasion, &current) {
            Decision::Write => {
                self.write(now, current.clone());
                // As the daemon: a failed write is retried after the interval.
                match self.policy.decide(now, Occasion::Update, &current) {
                    Decision::WaitUntil(at) => Some(at),
                    Decision::Write | Decision::Idle => None,
                }
            }
            Decision::WaitUntil(at) => Some(at),
            Decision::Idle => None,
        };
    }

    fn write(&mut self, now: Timestamp, state: StateFile) {
        let Ok(text) = encode(&state) else {
            self.failed_writes += 1;
            self.policy.attempted(now, &state, false);
            return;
        };
        if !at_most(&self.floor, &state.counters) {
            self.violations.push(Violation::CounterDecreased);
        }
        self.floor = state.counters;
        self.policy.attempted(now, &state, true);
        self.writes += 1;
        // As StateDir::write: the current file becomes the previous generation, if there is one.
        let written = Written {
            bytes: text.into_bytes(),
            state,
        };
        if let Some(old) = self.current.replace(written) {
            self.previous = Some(old);
        }
    }

    /// Stops the controller (whose last status is `last`) as `kind` says, damages the file, and
    /// starts again from it under `config` at `now`, `period` being the loop's. The caller
    /// builds the new controller from [`Restart::start`].
    pub fn restart(
        &mut self,
        now: Timestamp,
        kind: RestartKind,
        last: &Status,
        config: &Params,
        period: Duration,
        rng: &mut StdRng,
    ) -> Restart {
        self.snapshot.update(last);
        if kind == RestartKind::Stop {
            // As Persistence::finish in the daemon.
            self.decide(now, Occasion::Shutdown);
        }
        let live = counters(self.snapshot.memory());
        let kind = match (&mut self.current, kind) {
            (None, k) if k != RestartKind::Stop => RestartKind::Crash,
            (Some(file), k) => {
                damage(file, k, rng);
                k
            }
            (None, k) => k,
        };
        let s = start(
            config,
            generation(&self.current),
            generation(&self.previous),
        );
        let mut violations = Vec::new();

        // Every damage is seen: an unusable file as such, a refused parameter dropped.
        let damaged =
            self.current.is_some() && kind != RestartKind::Stop && kind != RestartKind::Crash;
        let detected = if kind.unusable() {
            s.current.is_some()
        } else {
            !s.dropped.is_empty()
        };
        if damaged && !detected {
            violations.push(Violation::DamageUndetected);
        }

        // The generation the start should use, and the counters it holds.
        let expected = if kind.unusable() {
            self.previous.as_ref()
        } else {
            self.current.as_ref().or(self.previous.as_ref())
        };
        let restored = counters(s.restored.memory());
        let expected_counters = expected.map_or(Counters::default(), |w| w.state.counters);
        if restored != expected_counters {
            violations.push(Violation::RestoredCountersDiffer);
        }
        if let Some(previous) = &self.previous
            && !at_most(&previous.state.counters, &restored)
        {
            violations.push(Violation::CountersBelowPreviousGeneration);
        }
        let lost = (
            live.pump_hours - restored.pump_hours,
            live.heater_hours - restored.heater_hours,
        );
        let generations_back = match (s.source, kind) {
            (Source::Current, RestartKind::Stop) => Some(0.0),
            (Source::Current, _) => Some(1.0),
            (Source::Previous, _) => Some(2.0),
            (Source::Defaults, _) => None,
        };
        if let Some(n) = generations_back {
            let bound_h = n * (self.interval + 2 * period).as_secs_f64() / 3600.0;
            // The same f64 sums on both sides; a nanosecond of slack for the comparison.
            if lost.0 > bound_h + 1e-12 || lost.1 > bound_h + 1e-12 {
                violations.push(Violation::CountersLostBeyondInterval);
            }
        }

        // As StateDir::load: an unusable state.json is moved aside.
        if s.current.is_some() {
            self.current = None;
        }
        self.snapshot = Snapshot::new(&s.restored);
        self.policy = WritePolicy::new(self.interval, now, s.on_disk.clone());
        self.deadline = Some(now);
        self.floor = restored;
        Restart {
            kind,
            start: s,
            lost_hours: lost,
            violations,
        }
    }
}

fn generation(w: &Option<Written>) -> Generation<'_> {
    match w {
        Some(w) => Generation::Bytes(&w.bytes),
        None => Generation::Missing,
    }
}

/// Damages `file` as `kind` says (nothing for a stop or a crash).
fn damage(file: &mut Written, kind: RestartKind, rng: &mut StdRng) {
    let bytes = &mut file.bytes;
    match kind {
        RestartKind::Stop | RestartKind::Crash => {}
        RestartKind::Truncated => {
            // Before the closing brace, so that what is left is never a whole object.
            let end = bytes.iter().rposition(|&b| b == b'}').unwrap_or(0);
            bytes.truncate(rng.random_range(0..=end));
        }
        RestartKind::Garbage => {
            // Control bytes and 0xff: valid nowhere in JSON, so never a different good file
            // (a flipped digit would be one; only a checksum could tell).
            let at = rng.random_range(0..bytes.len().max(1));
            let len = rng.random_range(1..=64);
            for i in at..(at + len).min(bytes.len()) {
                bytes[i] = [0x00, 0x01, 0x07, 0x08, 0xff][rng.random_range(0..5)];
            }
        }
        RestartKind::NewerSchema => {
            let text = String::from_utf8_lossy(bytes).replace(
                &format!("\"schema\": {SCHEMA}"),
                &format!("\"schema\": {}", SCHEMA + rng.random_range(1..10)),
            );
            *bytes = text.into_bytes();
        }
        RestartKind::OutOfRange => {
            let p = Parameter::ALL[rng.random_range(0..Parameter::ALL.len())];
            let l = p.limits();
            let value = l.max + l.step * f64::from(rng.random_range(1..50));
            let mut state = file.state.clone();
            state.parameters.insert(p, value);
            if let Ok(text) = encode(&state) {
                *bytes = text.into_bytes();
            }
        }
    }
}
