//! The write policy as tables of (time, occasion, content) → decision.

use std::collections::BTreeMap;

use heat_core::{Mode, Parameter};

use super::*;
use crate::schema::Counters;

const MIN: u64 = 60;

fn at(secs: u64) -> Timestamp {
    Timestamp::from_secs(secs)
}

fn state(mode: Mode, kwh: f64) -> StateFile {
    StateFile {
        mode,
        parameters: BTreeMap::from([(Parameter::DtStart, 9.0)]),
        counters: Counters {
            collected_kwh: kwh,
            heater_kwh: 0.0,
            ..Counters::default()
        },
        daily: heat_core::DailyEnergy::default(),
        last_disinfection_day: None,
        holiday: heat_core::Holiday::default(),
    }
}

/// One step: at (s), occasion, content, expected decision; the step's write (if `Write`)
/// succeeds or fails as `ok` says.
type Step = (u64, Occasion, StateFile, Decision, bool);

fn run(name: &str, policy: &mut WritePolicy, steps: &[Step]) {
    for (i, (secs, occasion, content, want, ok)) in steps.iter().enumerate() {
        let got = policy.decide(at(*secs), *occasion, content);
        assert_eq!(got, *want, "{name} step {i} at {secs} s ({occasion:?})");
        if got == Decision::Write {
            policy.attempted(at(*secs), content, *ok);
        }
    }
}

#[test]
fn commands_and_shutdown_write_at_once_when_something_changed() {
    use Decision::{Idle, Write};
    use Occasion::{Command, Shutdown};
    let a = state(Mode::Auto, 1.0);
    let e = state(Mode::Eco, 1.0);
    let mut p = WritePolicy::new(DEFAULT_INTERVAL, at(0), Some(a.clone()));
    run(
        "commands",
        &mut p,
        &[
            (1, Command, a.clone(), Idle, true), // accepted, but nothing changed
            (2, Command, e.clone(), Write, true),
            (3, Command, a.clone(), Write, true), // right after the last write: still at once
            (4, Shutdown, a.clone(), Idle, true),
            (5, Shutdown, e.clone(), Write, true),
        ],
    );
}

#[test]
fn changes_alone_are_written_at_most_once_per_interval() {
    use Decision::{Idle, WaitUntil, Write};
    use Occasion::Update;
    let s = |kwh| state(Mode::Auto, kwh);
    let mut p = WritePolicy::new(Duration::from_secs(10 * MIN), at(0), Some(s(1.0)));
    run(
        "updates",
        &mut p,
        &[
            (30, Update, s(1.0), Idle, true),
            (60, Update, s(1.1), WaitUntil(at(600)), true),
            (599, Update, s(1.2), WaitUntil(at(600)), true),
            (600, Update, s(1.3), Write, true),
            (630, Update, s(1.3), Idle, true),
            (660, Update, s(1.4), WaitUntil(at(1200)), true),
            // Long at rest: no write, however much time passes.
            (5000, Update, s(1.4), Write, true),
            (90_000, Update, s(1.4), Idle, true),
            // A command resets nothing but the content: the next interval counts from it.
            (90_010, Occasion::Command, s(1.5), Write, true),
            (90_020, Update, s(1.6), WaitUntil(at(90_610)), true),
        ],
    );
}

#[test]
fn a_missing_or_bad_file_is_written_after_the_first_interval() {
    use Decision::{WaitUntil, Write};
    use Occasion::Update;
    let d = StateFile::default();
    let mut p = WritePolicy::new(Duration::from_secs(10 * MIN), at(0), None);
    run(
        "bad file",
        &mut p,
        &[
            (30, Update, d.clone(), WaitUntil(at(600)), true),
            (600, Update, d.clone(), Write, true),
            (630, Update, d.clone(), Decision::Idle, true),
        ],
    );
}

#[test]
fn a_failed_write_is_retried_once_per_interval_even_unchanged() {
    use Decision::{Idle, WaitUntil, Write};
    use Occasion::{Command, Update};
    let a = state(Mode::Auto, 1.0);
    let e = state(Mode::Eco, 1.0);
    let mut p = WritePolicy::new(Duration::from_secs(10 * MIN), at(0), Some(a.clone()));
    run(
        "failing disk",
        &mut p,
        &[
            (10, Command, e.clone(), Write, false),
            (20, Update, e.clone(), WaitUntil(at(610)), true),
            (610, Update, e.clone(), Write, false),
            (620, Command, e.clone(), Write, true), // a command retries at once
            (630, Update, e.clone(), Idle, true),
        ],
    );
}

#[test]
fn writes_per_day_are_bounded_by_the_interval() {
    // Counters that change every 30 s loop for a whole day, no command.
    for interval_min in [1_u64, 10, 60] {
        let mut p = WritePolicy::new(Duration::from_secs(interval_min * MIN), at(0), None);
        let mut writes = 0;
        for tick in 0..(86_400 / 30) {
            #[allow(clippy::cast_precision_loss)]
            let content = state(Mode::Auto, tick as f64);
            let now = at(tick * 30);
            if p.decide(now, Occasion::Update, &content) == Decision::Write {
                p.attempted(now, &content, true);
                writes += 1;
            }
        }
        assert_eq!(
            writes,
            86_400 / (interval_min * MIN) - 1,
            "{interval_min} min"
        );
    }
}
