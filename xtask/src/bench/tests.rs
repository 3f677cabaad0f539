//! The pure half of `cargo xtask bench`: selection, cargo's JSON, the table and `bench.json`.

use bench_report::{Record, Recorder, Stats};

use super::report::{
    Meta, Run, bench_executables, machine_line, number, parse_loadavg, parse_mosquitto_version,
    parse_records, report_json, rfc3339_utc, select, table,
};

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn select_names_benches_or_packages_in_table_order() {
    let all: Vec<&str> = select(&[]).unwrap().iter().map(|t| t.bench).collect();
    assert_eq!(
        all,
        ["step", "sweep", "connect", "sim", "e2e", "relay", "outage"]
    );
    let some: Vec<&str> = select(&args(&["outage", "step"]))
        .unwrap()
        .iter()
        .map(|t| t.bench)
        .collect();
    assert_eq!(some, ["step", "outage"]);
    let package: Vec<&str> = select(&args(&["heat-controller"]))
        .unwrap()
        .iter()
        .map(|t| t.bench)
        .collect();
    assert_eq!(package, ["e2e", "relay", "outage"]);
    let err = select(&args(&["e2e", "nope"])).unwrap_err().to_string();
    assert!(err.contains("\"nope\"") && err.contains("outage"), "{err}");
}

#[test]
fn executables_come_from_bench_artifacts_only() {
    let cargo = r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"heat_core"},"executable":null}
{"reason":"compiler-artifact","target":{"kind":["bench"],"name":"step"},"executable":"/t/release/deps/step-1"}
{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"heat-controller"},"executable":"/t/release/heat-controller"}
not json
{"reason":"build-finished","success":true}"#;
    let map = bench_executables(cargo);
    assert_eq!(map.len(), 1);
    assert_eq!(map["step"], "/t/release/deps/step-1");
}

#[test]
fn numbers_get_decimals_by_size() {
    assert_eq!(number(8780.0, "kB"), "8780 kB");
    assert_eq!(number(53.61, "ns"), "53.6 ns");
    assert_eq!(number(4.5301, "ms"), "4.53 ms");
    assert_eq!(number(0.7482, "ms"), "0.748 ms");
    assert_eq!(number(12.0, ""), "12");
    assert_eq!(number(2.5, ""), "2.50");
    assert_eq!(number(f64::NAN, "ms"), "n/a");
}

fn records() -> Vec<Record> {
    let e2e = Recorder::to("e2e", None);
    let outage = Recorder::to("outage", None);
    vec![
        e2e.stats(
            "rtt",
            "broker round trip",
            "ms",
            Stats::of(vec![0.094, 0.2, 0.8]),
        ),
        e2e.stats(
            "echo",
            "command → state echo",
            "ms",
            Stats::of(vec![0.75, 4.5]),
        )
        .goal("p99 ≤ 1.44 ms", false),
        e2e.value("private", "private memory", "kB", 1264.0)
            .goal("≤ 1536 kB", true),
        outage.value("attempts", "attempts while down", "", 14.0),
    ]
}

#[test]
fn the_table_is_markdown_with_one_row_per_record() {
    let text = table(&records());
    let expected = "\
| bench  | measure              |      p50 |      p99 | max / value | goal          | verdict    |
|--------|----------------------|---------:|---------:|------------:|---------------|------------|
| e2e    | broker round trip    | 0.200 ms | 0.800 ms |    0.800 ms |               |            |
| e2e    | command → state echo |  4.50 ms |  4.50 ms |     4.50 ms | p99 ≤ 1.44 ms | **MISSED** |
| e2e    | private memory       |          |          |     1264 kB | ≤ 1536 kB     | met        |
| outage | attempts while down  |          |          |          14 |               |            |
";
    assert_eq!(text, expected, "\n{text}");
}

#[test]
fn records_read_back_from_their_lines() {
    let text: String = records()
        .iter()
        .map(|r| format!("{}\n\n", r.to_line().unwrap()))
        .collect();
    assert_eq!(parse_records(&text).unwrap(), records());
    assert!(parse_records("{\"bench\":1}\n").is_err());
}

fn meta() -> Meta {
    Meta {
        date: "2026-11-23T14:00:00Z".to_owned(),
        commit: "0123456789abcdef0123".to_owned(),
        dirty: true,
        nproc: 2,
        kernel: "6.1.0-28-amd64".to_owned(),
        mosquitto: "2.0.11".to_owned(),
        load_before: [0.4, 0.63, 0.5],
        load_after: [1.25, 1.0, 0.75],
        seconds: 754.44,
        runs: vec![Run {
            bench: "e2e".to_owned(),
            seconds: 91.26,
            ok: true,
            log: "target/bench/e2e.log".to_owned(),
        }],
    }
}

#[test]
fn bench_json_holds_the_machine_the_commit_and_every_record() {
    let json = report_json(&meta(), &records());
    assert_eq!(json["date"], "2026-11-23T14:00:00Z");
    assert_eq!(json["commit"], "0123456789abcdef0123");
    assert_eq!(json["dirty"], true);
    assert_eq!(json["machine"]["nproc"], 2);
    assert_eq!(json["machine"]["mosquitto"], "2.0.11");
    assert_eq!(json["machine"]["load_before"][1], 0.63);
    assert_eq!(json["seconds"], 754.4);
    assert_eq!(json["runs"][0]["seconds"], 91.3);
    assert_eq!(json["records"].as_array().unwrap().len(), 4);
    assert_eq!(json["records"][1]["id"], "echo");
    assert_eq!(json["records"][1]["p99"], 4.5);
    assert_eq!(json["records"][1]["met"], false);
    assert_eq!(json["records"][3]["value"], 14.0);
    assert!(json["records"][3].get("goal").is_none());
}

#[test]
fn the_machine_line_names_cores_load_and_commit() {
    assert_eq!(
        machine_line(&meta()),
        "2026-11-23T14:00:00Z · 2 cores, Linux 6.1.0-28-amd64, Mosquitto 2.0.11 · commit \
         0123456789ab (dirty) · load 0.40 0.63 0.50 → 1.25 1.00 0.75 · 754 s"
    );
}

#[test]
fn dates_are_utc_rfc3339() {
    assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(rfc3339_utc(1_795_000_000), "2026-11-18T11:06:40Z");
    assert_eq!(rfc3339_utc(4_102_444_799), "2099-12-31T23:59:59Z");
}

#[test]
fn loadavg_and_mosquitto_version_parse() {
    assert_eq!(
        parse_loadavg("0.40 0.63 0.50 1/123 4567\n"),
        Some([0.4, 0.63, 0.5])
    );
    assert_eq!(parse_loadavg("garbage"), None);
    assert_eq!(
        parse_mosquitto_version(
            "mosquitto version 2.0.11\n\nmosquitto is an MQTT v5.0/v3.1.1/v3.1 broker.\n"
        ),
        Some("2.0.11".to_owned())
    );
    assert_eq!(parse_mosquitto_version("hello"), None);
}
