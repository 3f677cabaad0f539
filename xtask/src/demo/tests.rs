//! The demo's pure checks, and (acceptance) `cargo xtask demo --duration 20` end to end.
//!
//! The acceptance test calls [`run`] directly rather than `cargo xtask demo` (a cargo inside
//! cargo test). It builds heat-controller and heat-diag itself, into their own target directory
//! (`<target>/xtask-demo`): a `cargo build -p heat-controller -p heat-diag` resolves features
//! differently from the workspace's test build, so in the shared target directory it would relink
//! and replace `target/debug/heat-controller` while heat-controller's own tests (under nextest, at
//! the same time) are starting it. The first run pays for one more debug build of the two
//! binaries; after that the build is a no-op and the test takes about 25 s.

use std::{path::PathBuf, sync::atomic::AtomicBool, time::Duration};

use heat_core::{Interlock, Sensor};
use heat_state::{Answer, StateJson};
use serde_json::json;

use super::check::{self, LogLine};
use super::{Options, build_binaries, parse_args, run, short_log};

/// A whole state document (the demo reads [`StateJson`], so every key must be there).
fn state(pump: &str, heater: &str, c: Value3, alarms: serde_json::Value) -> StateJson {
    serde_json::from_value(json!({
        "time": "2026-01-01T00:00:00.000Z",
        "mode": "auto", "state": "heating", "pump": pump, "heater": heater,
        "manual_pump": "OFF", "manual_heater": "OFF", "problem": "OFF",
        "temperatures": {
            "collector": {"value": c.0, "fault": c.0.map_or(Some("disconnected"), |_| None)},
            "tank_bottom": {"value": c.1, "fault": null},
            "tank_top": {"value": c.2, "fault": c.2.map_or(Some("crc"), |_| None)},
        },
        "alarms": alarms,
        "interlocks": [],
        "parameters": {"tank_max": 90.0, "boil_stop": 150.0},
        "energy": {"collected_kwh": 1.0, "heater_kwh": 0.0},
        "runtime": {"pump_hours": 0.5, "pump_starts": 2, "heater_hours": 0.0, "heater_starts": 0},
        "disinfection": {"running": false, "last_disinfection": null, "next_due": null},
        "pending": {},
        "link": {"connects": 1, "commands_rejected": 0},
    }))
    .expect("the fixture is a whole state document")
}

type Value3 = (Option<f64>, Option<f64>, Option<f64>);

#[test]
fn safety_rules_flag_exactly_the_unsafe_states() {
    let ok = (Some(60.0), Some(40.0), Some(50.0));
    let none = json!([]);
    let cases: [(&str, StateJson, Vec<usize>); 11] = [
        (
            "all on, all normal",
            state("ON", "ON", ok, none.clone()),
            vec![],
        ),
        (
            "heater at exactly the (rounded) maximum",
            state(
                "OFF",
                "ON",
                (Some(60.0), Some(40.0), Some(90.0)),
                none.clone(),
            ),
            vec![],
        ),
        (
            "heater above the maximum (top)",
            state(
                "OFF",
                "ON",
                (Some(60.0), Some(40.0), Some(90.01)),
                none.clone(),
            ),
            vec![0],
        ),
        (
            "heater above the maximum (bottom)",
            state(
                "OFF",
                "ON",
                (Some(60.0), Some(91.0), Some(80.0)),
                none.clone(),
            ),
            vec![0],
        ),
        (
            "heater OFF above the maximum",
            state(
                "OFF",
                "OFF",
                (Some(60.0), Some(95.0), Some(95.0)),
                json!([{"alarm": "tank_max"}]),
            ),
            vec![],
        ),
        (
            "heater ON in the tank-max band",
            state(
                "OFF",
                "ON",
                (Some(60.0), Some(86.0), Some(87.0)),
                json!([{"alarm": "tank_max"}]),
            ),
            vec![1],
        ),
        (
            "heater ON without a tank top value",
            state("OFF", "ON", (Some(60.0), Some(40.0), None), none.clone()),
            vec![2],
        ),
        (
            "pump ON in the latched boil-stop band",
            state(
                "ON",
                "OFF",
                (Some(145.0), Some(40.0), Some(50.0)),
                json!([{"alarm": "boil_stop"}]),
            ),
            vec![3],
        ),
        (
            "pump ON above the boil stop",
            state(
                "ON",
                "OFF",
                (Some(150.5), Some(40.0), Some(50.0)),
                none.clone(),
            ),
            vec![3],
        ),
        (
            "pump ON without a collector value",
            state("ON", "OFF", (None, Some(40.0), Some(50.0)), none.clone()),
            vec![4],
        ),
        (
            "pump OFF with every alarm",
            state(
                "OFF",
                "OFF",
                (None, Some(99.0), None),
                json!([{"alarm": "boil_stop"}, {"alarm": "tank_max"}]),
            ),
            vec![],
        ),
    ];
    for (what, s, expected) in cases {
        assert_eq!(check::violations(&s), expected, "{what}: {s:?}");
    }
}

#[test]
fn watcher_lines_and_answers_parse() {
    let m = check::parse_message("1\tsolar_heating/availability\tonline").unwrap();
    assert!(m.retained);
    assert_eq!(m.topic, "solar_heating/availability");
    assert_eq!(m.payload, "online");
    let m = check::parse_message("0\tsolar_heating/result\t{\"a\": \"x\ty\"}").unwrap();
    assert!(!m.retained);
    assert_eq!(m.payload, "{\"a\": \"x\ty\"}", "a tab in the payload stays");
    assert_eq!(
        check::parse_message("Client null sending CONNECT"),
        None,
        "mosquitto_sub's -d lines are not messages"
    );
    assert_eq!(
        check::parse_result(
            r#"{"topic":"solar_heating/pump/set","accepted":false,"reason":"unknown value"}"#
        ),
        Some(Answer::new(
            "solar_heating/pump/set",
            false,
            "unknown value"
        ))
    );
    assert_eq!(check::parse_result("online"), None);
}

#[test]
fn controller_log_lines_are_classified() {
    let cases = [
        (
            r#"[2026-01-01T00:00:00.000Z INFO  heat::link] {"kind":"connected","broker":"localhost:1","tls":true,"connects":1}"#,
            LogLine::Connected { tls: true },
        ),
        (
            r#"<6>[INFO  heat::link] {"kind":"connected","broker":"localhost:1","tls":false,"connects":2}"#,
            LogLine::Connected { tls: false },
        ),
        (
            r#"[2026-01-01T00:00:00.000Z WARN  heat::link] {"kind":"lost","reason":"eof"}"#,
            LogLine::Other,
        ),
        (
            "[2026-01-01T00:00:00.000Z INFO  mqtt_auth::audit] mqtt connect time=x broker=localhost:1 tls=on protocol=5 client_id=c user=u result=accepted code=0x00",
            LogLine::Audit,
        ),
        (
            r#"[2026-01-01T00:00:00.000Z WARN  heat::event] {"kind":"interlock_activated","interlock":"tank_max","reason":"tank maximum: tank 90.0 °C >= 90 °C"}"#,
            LogLine::Interlock(Interlock::TankMax),
        ),
        (
            r#"[2026-01-01T00:00:00.000Z WARN  heat::event] {"kind":"interlock_activated","interlock":{"sensor_fault":"tank_top"},"reason":"r"}"#,
            LogLine::Interlock(Interlock::SensorFault(Sensor::TankTop)),
        ),
        (
            "[2026-01-01T00:00:00.000Z WARN  heat_controller::control] tank maximum: tank 90.0 °C >= 90 °C",
            LogLine::Warning,
        ),
        (
            r#"[2026-01-01T00:00:00.000Z WARN  heat::event] {"kind":"command_refused","command":"SetPump(true)","error":"x"}"#,
            LogLine::Other,
        ),
        (
            "[2026-01-01T00:00:00.000Z WARN  heat_mqtt::session] MQTT connection lost (x)",
            LogLine::Session,
        ),
        (
            "[2026-01-01T00:00:00.000Z INFO  heat_controller::control] state starting -> heating",
            LogLine::Other,
        ),
        ("a continuation line", LogLine::Other),
    ];
    for (line, kind) in cases {
        assert_eq!(check::classify(line), kind, "{line}");
    }
    assert_eq!(
        check::interlock_kind(Interlock::SensorFault(Sensor::TankTop)),
        "sensor_fault"
    );
    // The kind names are heat-core's serde names.
    for interlock in [
        Interlock::BoilStop,
        Interlock::TankMax,
        Interlock::FrostProtection,
    ] {
        assert_eq!(
            serde_json::to_value(interlock).unwrap(),
            check::interlock_kind(interlock)
        );
    }
}

#[test]
fn panel_lines_are_shortened() {
    assert_eq!(
        short_log("[2026-01-01T12:34:56.789Z INFO  heat_mqtt::session] connected"),
        "12:34:56.789 INFO  heat_mqtt::session] connected"
    );
    assert_eq!(
        short_log(
            "[2026-01-01T12:34:56.789Z INFO  mqtt_auth::audit] mqtt connect time=2026-01-01T12:34:56.789Z \
             broker=localhost:8883 tls=on protocol=5 client_id=c user=u result=accepted code=0x00"
        ),
        "12:34:56.789 INFO  mqtt_auth::audit] mqtt connect tls=on client_id=c user=u result=accepted code=0x00"
    );
}

#[test]
fn broker_log_counts_and_password_scan() {
    let log = "\
1: mosquitto version 2.0.11 running
2: New connection from 127.0.0.1:1 on port 8883.
2: Client <unknown> disconnected, not authorised.
3: New connection from 127.0.0.1:2 on port 8883.
3: New client connected from 127.0.0.1:2 as c (p5, c1, k30, u'heat-controller').
";
    assert_eq!(
        check::broker_connections(log),
        check::Connections {
            attempts: 2,
            accepted: 1,
            refused: 1
        }
    );
    let secrets = vec!["s3cr3t-Pw".to_owned(), String::new()];
    assert!(check::leaks("x s3cr3t-Pw y", &secrets));
    assert!(
        !check::leaks("nothing here", &secrets),
        "an empty secret matches nothing"
    );
}

#[test]
fn arguments() {
    let args = |a: &[&str]| parse_args(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let o = args(&["--duration", "20", "--time-scale", "600", "--seed", "7"])
        .unwrap()
        .unwrap();
    assert_eq!(o.duration, Some(Duration::from_secs(20)));
    assert_eq!(o.time_scale, 600.0);
    assert_eq!(o.seed, 7);
    assert!(args(&["--help"]).unwrap().is_none());
    for bad in [
        &["--duration"][..],
        &["--duration", "0"],
        &["--duration", "1.5"],
        &["--time-scale", "0.5"],
        &["--time-scale", "NaN"],
        &["--bogus"],
    ] {
        assert!(args(bad).is_err(), "{bad:?}");
    }
}

/// `<target>` from this test binary's path, `<target>/debug/deps/xtask-<hash>`.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors()
        .nth(3)
        .filter(|t| t.join("debug").is_dir())
        .map_or_else(
            || crate::system::project_root().join("target"),
            PathBuf::from,
        )
}

/// Acceptance: `cargo xtask demo --duration 20` — the controller comes online over TLS, collects
/// energy on the simulated plant, breaks no safety rule, answers the commands, and no password
/// reaches any output.
#[test]
fn demo_for_20_seconds_ends_with_a_clean_summary() {
    crate::system::ensure_packages(&super::PACKAGES).unwrap();
    let bins = build_binaries(Some(&target_dir().join("xtask-demo"))).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let opts = Options {
        duration: Some(Duration::from_secs(20)),
        ..Options::default()
    };
    let stop = AtomicBool::new(false);
    let summary = run(&opts, &bins, &tmp.path().join("demo"), &stop).unwrap();
    let text = &summary.text;

    assert!(text.contains("controller online over TLS: yes"), "{text}");
    assert!(summary.online_over_tls, "{text}");
    let energy = summary.energy_kwh.expect("energy in the retained state");
    assert!(energy > 0.0, "{text}");
    assert!(
        text.contains(&format!("energy collected: {energy:.3} kWh")),
        "{text}"
    );
    assert!(text.contains("safety violations: 0 "), "{text}");
    assert_eq!(summary.violations, 0, "{text}");
    assert!(
        summary.states_checked >= 20,
        "only {} states: {text}",
        summary.states_checked
    );
    assert!(text.contains("password in output: no"), "{text}");
    assert!(!summary.password_leaked, "{text}");
    assert_eq!(summary.commands_sent, super::COMMANDS.len(), "{text}");
    assert_eq!(summary.commands_answered, summary.commands_sent, "{text}");
    assert!(
        text.contains("commands handled: 4 of 4 sent (2 accepted, 2 refused)"),
        "{text}"
    );
    assert!(
        summary.connections.refused >= 2,
        "the controller's security probe is refused: {text}"
    );
    assert_eq!(
        summary.availability_after_stop.as_deref(),
        Some("offline"),
        "{text}"
    );
    assert!(summary.ok());
    // The demo's files: the controller's log shows the TLS audit line, and no password.
    let log = std::fs::read_to_string(tmp.path().join("demo/controller.log")).unwrap();
    assert!(
        log.contains("tls=on") && log.contains("result=accepted"),
        "{log}"
    );
    assert!(
        log.contains("stopped"),
        "the controller shut down cleanly: {log}"
    );
}
