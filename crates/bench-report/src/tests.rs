//! Percentiles and the record line format.

use std::time::Duration;

use super::{Figure, Record, Recorder, Stats, percentile};

#[test]
fn percentiles_are_nearest_rank() {
    let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
    assert_eq!(percentile(&sorted, 0.5), 51.0);
    assert_eq!(percentile(&sorted, 0.99), 99.0);
    assert_eq!(percentile(&sorted, 1.0), 100.0);
    assert_eq!(percentile(&[7.0], 0.99), 7.0);
    assert!(percentile(&[], 0.5).is_nan());
}

#[test]
fn stats_sort_their_samples() {
    let s = Stats::of(vec![3.0, 1.0, 2.0]);
    assert_eq!((s.p50, s.p99, s.max, s.n), (2.0, 3.0, 3.0, 3));
    let s = Stats::of_ms(&[Duration::from_micros(1500), Duration::from_millis(1)]);
    assert_eq!((s.p50, s.max, s.n), (1.5, 1.5, 2));
    assert_eq!(Stats::of(Vec::new()).n, 0);
}

#[test]
fn a_record_is_one_line_of_json_and_reads_back() {
    let rec = Recorder::to("e2e", None);
    let stats = rec
        .stats(
            "echo",
            "command → state echo",
            "ms",
            Stats::of(vec![1.0, 2.0]),
        )
        .goal("p99 ≤ 1.44 ms", false);
    let line = stats.to_line().unwrap();
    assert!(!line.contains('\n'));
    assert_eq!(
        line,
        r#"{"bench":"e2e","id":"echo","label":"command → state echo","unit":"ms","p50":2.0,"p99":2.0,"max":2.0,"n":2,"goal":"p99 ≤ 1.44 ms","met":false}"#
    );
    assert_eq!(Record::from_line(&line).unwrap(), stats);

    let value = rec.value("rss", "VmRSS", "kB", 8780.0);
    let line = value.to_line().unwrap();
    assert_eq!(
        line,
        r#"{"bench":"e2e","id":"rss","label":"VmRSS","unit":"kB","value":8780.0}"#
    );
    let back = Record::from_line(&line).unwrap();
    assert_eq!(back.figure, Figure::Value { value: 8780.0 });
    assert_eq!((back.goal, back.met), (None, None));
}

#[test]
fn records_append_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.jsonl");
    let rec = Recorder::to("step", Some(path.clone()));
    rec.write(rec.value("a", "a", "ns", 1.0));
    rec.write(rec.value("b", "b", "ns", 2.0));
    let text = std::fs::read_to_string(&path).unwrap();
    let ids: Vec<String> = text
        .lines()
        .map(|l| Record::from_line(l).unwrap().id)
        .collect();
    assert_eq!(ids, ["a", "b"]);
}

#[test]
fn nothing_is_written_without_a_path() {
    let rec = Recorder::to("step", None);
    assert!(rec.path().is_none());
    rec.write(rec.value("a", "a", "ns", 1.0));
}

#[test]
fn nan_is_written_as_null_and_read_back_as_nan() {
    let rec = Recorder::to("e2e", None);
    let line = rec
        .stats("x", "x", "ms", Stats::of(Vec::new()))
        .to_line()
        .unwrap();
    assert!(line.contains(r#""p50":null"#), "{line}");
    let Figure::Stats(s) = Record::from_line(&line).unwrap().figure else {
        panic!("{line}")
    };
    assert!(s.p50.is_nan() && s.max.is_nan());
    assert_eq!(s.n, 0);
}
