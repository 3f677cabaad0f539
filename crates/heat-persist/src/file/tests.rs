//! Reading and writing in a temp dir: defaults, round trip, every bad file kept aside.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use heat_core::{Mode, Parameter, Params};

use super::*;
use crate::schema::{Counters, decode};

/// 2026-01-31T04:05:06Z.
fn when() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_769_832_306)
}

fn sample() -> StateFile {
    StateFile {
        mode: Mode::Eco,
        parameters: BTreeMap::from([(Parameter::DtStart, 9.5), (Parameter::HeaterSetpoint, 55.0)]),
        counters: Counters {
            collected_kwh: 3.5,
            heater_kwh: 0.25,
            ..Counters::default()
        },
        daily: heat_core::DailyEnergy::default(),
        last_disinfection_day: None,
        holiday: heat_core::Holiday::default(),
    }
}

#[test]
fn a_missing_file_or_directory_means_defaults_without_a_problem() {
    let tmp = tempfile::tempdir().unwrap();
    for dir in [tmp.path().to_path_buf(), tmp.path().join("not-yet")] {
        let loaded = StateDir::new(&dir).load(&Params::default(), when());
        assert_eq!(loaded.restored, Restored::defaults(&Params::default()));
        assert_eq!((loaded.on_disk, loaded.problem), (None, None));
    }
}

#[test]
fn a_written_file_loads_back_private_and_without_a_temp_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::new(tmp.path().join("state"));
    dir.write(&sample()).unwrap();
    dir.write(&sample()).unwrap(); // over an existing file too
    let mode = fs::metadata(dir.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let dir_mode = fs::metadata(dir.dir()).unwrap().permissions().mode();
    assert_eq!(dir_mode & 0o777, 0o700, "created private");
    assert!(!dir.dir().join(TEMP_NAME).exists());
    let loaded = dir.load(&Params::default(), when());
    assert_eq!(loaded.problem, None);
    assert_eq!(loaded.on_disk, Some(sample()));
    assert_eq!(loaded.restored.state(), sample());
    assert_eq!(loaded.restored.params.get(Parameter::DtStart), 9.5);
}

#[test]
fn a_stale_temp_file_from_a_kill_is_ignored_and_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::new(tmp.path());
    dir.write(&sample()).unwrap();
    fs::write(tmp.path().join(TEMP_NAME), "{\"schema\": 1, \"mo").unwrap();
    assert_eq!(dir.load(&Params::default(), when()).on_disk, Some(sample()));
    dir.write(&StateFile::default()).unwrap();
    assert!(!tmp.path().join(TEMP_NAME).exists());
}

#[test]
fn every_bad_file_is_kept_aside_and_the_defaults_used() {
    let good = encode(&sample()).unwrap();
    let cases: [(&str, String, &str); 4] = [
        ("truncated", good[..good.len() / 3].to_owned(), "corrupt"),
        (
            "garbage",
            "\u{7f}ELF\u{2}\u{1}\u{1} not json".to_owned(),
            "corrupt",
        ),
        ("empty", String::new(), "corrupt"),
        (
            "newer schema",
            good.replace("\"schema\": 1", "\"schema\": 9"),
            "newer_schema",
        ),
    ];
    for (name, text, kind) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let dir = StateDir::new(tmp.path());
        fs::write(dir.path(), &text).unwrap();
        let loaded = dir.load(&Params::default(), when());
        assert_eq!(
            loaded.restored,
            Restored::defaults(&Params::default()),
            "{name}"
        );
        assert_eq!(loaded.on_disk, None, "{name}");
        let problem = loaded.problem.expect(name);
        assert_eq!(problem.kind(), kind, "{name}: {problem}");
        let bad = tmp.path().join("state.json.bad-2026-01-31T04-05-06Z");
        assert_eq!(problem.kept(), Some(&Kept::As(bad.clone())), "{name}");
        assert_eq!(
            fs::read_to_string(&bad).unwrap(),
            text,
            "{name}: the copy is the file"
        );
        assert!(!dir.path().exists(), "{name}: moved, not copied");
        let warning = problem.to_string();
        assert!(
            warning.contains(&dir.path().display().to_string()),
            "{warning}"
        );
        assert!(warning.contains(&bad.display().to_string()), "{warning}");
        assert!(warning.contains("Fix: "), "{warning}");
    }
}

#[test]
fn an_unreadable_file_is_kept_aside_too() {
    // A directory where the file should be: reading fails whoever runs the test (root reads
    // a mode-000 file).
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::new(tmp.path());
    fs::create_dir(dir.path()).unwrap();
    let loaded = dir.load(&Params::default(), when());
    let problem = loaded.problem.unwrap();
    assert_eq!(problem.kind(), "unreadable", "{problem}");
    assert!(
        tmp.path()
            .join("state.json.bad-2026-01-31T04-05-06Z")
            .is_dir()
    );
    // And the next write works.
    dir.write(&sample()).unwrap();
    assert_eq!(dir.load(&Params::default(), when()).problem, None);
}

#[test]
fn a_second_bad_file_in_the_same_second_does_not_overwrite_the_first_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::new(tmp.path());
    for text in ["first", "second", "third"] {
        fs::write(dir.path(), text).unwrap();
        assert!(dir.load(&Params::default(), when()).problem.is_some());
    }
    let stem = "state.json.bad-2026-01-31T04-05-06Z";
    for (suffix, text) in [("", "first"), ("-2", "second"), ("-3", "third")] {
        let copy = tmp.path().join(format!("{stem}{suffix}"));
        assert_eq!(fs::read_to_string(copy).unwrap(), text);
    }
}

#[test]
fn a_refused_parameter_is_dropped_the_rest_restored_and_a_copy_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::new(tmp.path());
    let mut state = sample();
    state.parameters.insert(Parameter::BoilStop, 300.0);
    dir.write(&state).unwrap();
    let loaded = dir.load(&Params::default(), when());
    assert_eq!(loaded.restored.mode, Mode::Eco);
    assert_eq!(loaded.restored.state(), sample(), "all but boil_stop");
    assert_eq!(loaded.restored.params.get(Parameter::BoilStop), 150.0);
    assert_eq!(
        loaded.on_disk,
        Some(state),
        "the policy sees the difference"
    );
    let problem = loaded.problem.unwrap();
    assert_eq!(problem.kind(), "dropped");
    let warning = problem.to_string();
    assert!(warning.contains("boil_stop = 300"), "{warning}");
    assert!(warning.contains("Fix: "), "{warning}");
    assert!(dir.path().exists(), "the file stays until the next write");
    let copy = tmp.path().join("state.json.bad-2026-01-31T04-05-06Z");
    assert_eq!(fs::read(copy).unwrap(), fs::read(dir.path()).unwrap());
}

#[test]
fn a_write_that_cannot_happen_is_a_problem_naming_the_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("plain-file");
    fs::write(&blocker, "").unwrap();
    let dir = StateDir::new(&blocker);
    let problem = dir.write(&sample()).unwrap_err();
    assert_eq!(problem.kind(), "write_failed");
    let warning = problem.to_string();
    assert!(
        warning.contains(&blocker.display().to_string()),
        "{warning}"
    );
    assert!(warning.contains("Fix: "), "{warning}");
    let mut bad = sample();
    bad.counters.collected_kwh = f64::NAN;
    let problem = StateDir::new(tmp.path()).write(&bad).unwrap_err();
    assert!(problem.to_string().contains("collected_kwh"), "{problem}");
    assert!(!tmp.path().join(FILE_NAME).exists(), "nothing written");
}

#[test]
fn the_bad_copy_stamp_is_utc_and_never_panics() {
    assert_eq!(bad_stamp(when()), "2026-01-31T04-05-06Z");
    assert_eq!(
        bad_stamp(UNIX_EPOCH - Duration::from_secs(5)),
        "1970-01-01T00-00-00Z"
    );
    assert_eq!(
        bad_stamp(UNIX_EPOCH + Duration::from_secs(400_000_000_000)),
        "9999-12-31T23-59-59Z"
    );
}

fn with_kwh(kwh: f64) -> StateFile {
    let mut state = sample();
    state.counters.collected_kwh = kwh;
    state
}

fn kwh(loaded: &Loaded) -> f64 {
    loaded.restored.energy.collected_kwh
}

#[test]
fn each_write_keeps_the_one_before_as_the_previous_generation() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::new(tmp.path());
    dir.write(&with_kwh(1.0)).unwrap();
    assert!(
        !dir.previous_path().exists(),
        "nothing before the first write"
    );
    dir.write(&with_kwh(2.0)).unwrap();
    dir.write(&with_kwh(3.0)).unwrap();
    let read = |p: PathBuf| decode(&fs::read_to_string(p).unwrap()).unwrap().state;
    assert_eq!(read(dir.path()), with_kwh(3.0));
    assert_eq!(read(dir.previous_path()), with_kwh(2.0));
    assert!(!tmp.path().join(PREVIOUS_TEMP_NAME).exists());
    let loaded = dir.load(&Params::default(), when());
    assert_eq!((kwh(&loaded), loaded.from_previous), (3.0, false));
}

#[test]
fn a_bad_file_falls_back_to_the_previous_generation_is_kept_aside_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::new(tmp.path());
    dir.write(&with_kwh(1.0)).unwrap();
    dir.write(&with_kwh(2.0)).unwrap();
    let text = fs::read_to_string(dir.path()).unwrap();
    fs::write(dir.path(), &text[..text.len() / 2]).unwrap();
    let loaded = dir.load(&Params::default(), when());
    assert_eq!((kwh(&loaded), loaded.from_previous), (1.0, true));
    assert_eq!(loaded.restored.mode, Mode::Eco);
    assert_eq!(
        loaded.on_disk, None,
        "state.json is gone: the first write is due"
    );
    let problem = loaded.problem.unwrap();
    assert_eq!(problem.kind(), "corrupt");
    assert_eq!(
        problem.fallback(),
        Some(&Fallback::Previous {
            path: dir.previous_path(),
            dropped: Vec::new()
        })
    );
    let warning = problem.to_string();
    assert!(warning.contains("previous generation"), "{warning}");
    assert!(warning.contains("Fix: "), "{warning}");
    assert!(
        tmp.path()
            .join("state.json.bad-2026-01-31T04-05-06Z")
            .exists()
    );
    // A crash before the first write: the same start again, with nothing new to report.
    let again = dir.load(&Params::default(), when());
    assert_eq!((kwh(&again), again.from_previous), (1.0, true));
    assert_eq!(again.problem, None);
    // The first write does not make the bad file the previous generation.
    dir.write(&with_kwh(1.5)).unwrap();
    let read = |p: PathBuf| decode(&fs::read_to_string(p).unwrap()).unwrap().state;
    assert_eq!(read(dir.previous_path()), with_kwh(1.0));
    assert_eq!(kwh(&dir.load(&Params::default(), when())), 1.5);
}

#[test]
fn a_crash_between_the_steps_of_a_write_never_loses_both_generations() {
    // Each case is the directory as a crash at one step leaves it; the start must use the
    // newest complete generation.
    let good = |kwh: f64| encode(&with_kwh(kwh)).unwrap();
    type Case = (
        &'static str,
        Option<String>,
        Option<String>,
        Option<String>,
        f64,
    );
    let cases: [Case; 5] = [
        // (name, state.json, state.json.prev, state.json.prev.tmp, expected kWh)
        (
            "after the temp file",
            Some(good(2.0)),
            Some(good(1.0)),
            None,
            2.0,
        ),
        (
            "after the link",
            Some(good(2.0)),
            Some(good(1.0)),
            Some(good(2.0)),
            2.0,
        ),
        ("first write, before the rename", None, None, None, 0.0),
        (
            "previous missing (no hard links)",
            Some(good(2.0)),
            None,
            None,
            2.0,
        ),
        (
            "previous bad, current good",
            Some(good(2.0)),
            Some("{".into()),
            None,
            2.0,
        ),
    ];
    for (name, current, previous, link, expected) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let dir = StateDir::new(tmp.path());
        fs::write(tmp.path().join(TEMP_NAME), good(3.0)).unwrap();
        for (file, text) in [
            (dir.path(), current),
            (dir.previous_path(), previous),
            (tmp.path().join(PREVIOUS_TEMP_NAME), link),
        ] {
            if let Some(text) = text {
                fs::write(file, text).unwrap();
            }
        }
        let loaded = dir.load(&Params::default(), when());
        assert_eq!(kwh(&loaded), expected, "{name}");
        assert_eq!(loaded.problem, None, "{name}");
        // The next write completes, leaves no temp file and keeps the loaded one as previous.
        dir.write(&with_kwh(4.0)).unwrap();
        assert!(!tmp.path().join(TEMP_NAME).exists(), "{name}");
        assert!(!tmp.path().join(PREVIOUS_TEMP_NAME).exists(), "{name}");
        let after = dir.load(&Params::default(), when());
        assert_eq!(kwh(&after), 4.0, "{name}");
        if expected > 0.0 {
            let previous = decode(&fs::read_to_string(dir.previous_path()).unwrap()).unwrap();
            assert_eq!(previous.state.counters.collected_kwh, expected, "{name}");
        }
    }
}

#[test]
fn both_generations_bad_means_defaults_and_both_stay_inspectable() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = StateDir::new(tmp.path());
    fs::write(dir.path(), "{\"schema\": 1, \"mo").unwrap();
    fs::write(dir.previous_path(), "\u{0}\u{0}").unwrap();
    let loaded = dir.load(&Params::default(), when());
    assert_eq!(loaded.restored, Restored::defaults(&Params::default()));
    assert!(!loaded.from_previous);
    let problem = loaded.problem.unwrap();
    assert_eq!(problem.kind(), "corrupt");
    assert_eq!(problem.fallback(), Some(&Fallback::Defaults));
    assert!(
        problem.to_string().contains("counters at zero"),
        "{problem}"
    );
    assert!(
        tmp.path()
            .join("state.json.bad-2026-01-31T04-05-06Z")
            .exists()
    );
    // The bad previous generation is left for inspection until the second write replaces it.
    assert!(dir.previous_path().exists());
    dir.write(&with_kwh(1.0)).unwrap();
    assert_eq!(fs::read(dir.previous_path()).unwrap(), b"\0\0");
    dir.write(&with_kwh(2.0)).unwrap();
    let previous = decode(&fs::read_to_string(dir.previous_path()).unwrap()).unwrap();
    assert_eq!(previous.state, with_kwh(1.0));
}
