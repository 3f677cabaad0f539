//! Tests of the report: joining what the bus gave with the configured roles.

use heat_hw::{SensorError, SensorRole};

use super::*;

fn configured() -> Vec<(SensorRole, String)> {
    vec![
        (SensorRole::Collector, "28-0000000000c1".to_owned()),
        (SensorRole::TankBottom, "28-0000000000b1".to_owned()),
        (SensorRole::TankTop, "28-0000000000a1".to_owned()),
    ]
}

fn device(id: &str, reading: Result<f64, SensorError>) -> (String, Result<f64, SensorError>) {
    (id.to_owned(), reading)
}

#[test]
fn every_role_valid_is_ok_and_unknown_devices_are_unassigned() {
    let report = build_report(
        "w1",
        "/sys".into(),
        Ok(vec![
            device("28-0000000000a1", Ok(55.5)),
            device("28-0000000000b1", Ok(30.0)),
            device("28-0000000000C1", Ok(70.125)),
            device("28-0000000000ff", Err(SensorError::Crc)),
        ]),
        &configured(),
    );
    assert!(report.ok);
    assert!(report.missing.is_empty() && report.failed_roles.is_empty());
    let roles: Vec<_> = report.devices.iter().map(|d| d.role).collect();
    // Kernel names are compared without regard to case.
    assert_eq!(
        roles,
        [
            Some("tank_top"),
            Some("tank_bottom"),
            Some("collector"),
            None
        ]
    );
    let text = render(&report);
    assert!(
        text.contains("unassigned   ERROR CRC mismatch [crc]"),
        "{text}"
    );
    assert!(text.contains("70.125 °C"), "{text}");
    assert!(text.contains("ok: all 3 configured roles"), "{text}");
}

#[test]
fn errors_and_missing_devices_fail_the_roles_in_order() {
    let report = build_report(
        "w1",
        "/sys".into(),
        Ok(vec![
            device("28-0000000000a1", Err(SensorError::PowerOnValue)),
            device("28-0000000000c1", Ok(20.0)),
        ]),
        &configured(),
    );
    assert!(!report.ok);
    assert_eq!(report.failed_roles, ["tank_bottom", "tank_top"]);
    assert_eq!(
        report.missing,
        [Missing {
            role: "tank_bottom",
            id: "28-0000000000b1".into()
        }]
    );
    let top = &report.devices[0];
    assert_eq!(top.error.as_ref().map(|p| p.kind), Some("power_on_value"));
    let text = render(&report);
    assert!(
        text.contains("tank_bottom  MISSING: configured as 28-0000000000b1"),
        "{text}"
    );
    assert!(text.contains("FAIL: 2 of 3 configured roles"), "{text}");
}

#[test]
fn an_unlistable_bus_fails_every_configured_role() {
    let report = build_report(
        "w1",
        "/nowhere".into(),
        Err("cannot list /nowhere".into()),
        &configured(),
    );
    assert!(!report.ok);
    assert_eq!(report.missing.len(), 3);
    assert!(render(&report).contains("bus error        cannot list /nowhere"));
}

#[test]
fn nothing_configured_is_ok_whatever_is_found() {
    let report = build_report(
        "w1",
        "/sys".into(),
        Ok(vec![device("28-0000000000ff", Err(SensorError::Timeout))]),
        &[],
    );
    assert!(report.ok);
    assert!(render(&report).contains("no roles configured: put these ids into [hardware.sensors]"));
}

#[test]
fn an_unlistable_bus_fails_even_with_nothing_configured() {
    let report = build_report("w1", "/nowhere".into(), Err("cannot list".into()), &[]);
    assert!(!report.ok);
    assert!(render(&report).contains("FAIL: the bus could not be listed"));
}

#[test]
fn changes_since_the_previous_sweep_and_the_one_that_changed_most() {
    let sweep = |readings: Vec<(&str, Result<f64, SensorError>)>| {
        let listing = readings.into_iter().map(|(id, r)| device(id, r)).collect();
        build_report("w1", "/sys".into(), Ok(listing), &[])
    };
    let first = sweep(vec![
        ("28-a", Ok(20.0)),
        ("28-b", Ok(21.0)),
        ("28-c", Ok(5.0)),
    ]);
    let (none, most) = changes(None, &first);
    assert!(none.iter().all(|c| c.change_c.is_none()));
    assert_eq!(most, None);

    let second = sweep(vec![
        ("28-a", Ok(20.0625)),
        ("28-b", Ok(19.0)),
        ("28-c", Err(SensorError::Crc)),
        ("28-d", Ok(30.0)),
    ]);
    let (deltas, most) = changes(Some(&first), &second);
    let by_id: Vec<(&str, Option<f64>)> =
        deltas.iter().map(|c| (c.id.as_str(), c.change_c)).collect();
    assert_eq!(
        by_id,
        vec![
            ("28-a", Some(0.0625)),
            ("28-b", Some(-2.0)),
            ("28-c", None),
            ("28-d", None)
        ]
    );
    assert_eq!(most.as_deref(), Some("28-b"), "a cooling probe counts too");

    let third = sweep(vec![("28-a", Ok(20.0)), ("28-b", Ok(19.0))]);
    let (_, most) = changes(Some(&second), &third);
    assert_eq!(most, None, "1/16 °C is noise, not a warmed probe");
}

#[test]
fn every_error_has_a_distinct_kind() {
    let errors = [
        SensorError::Missing,
        SensorError::Crc,
        SensorError::PowerOnValue,
        SensorError::Disconnected,
        SensorError::OutOfRange(130_000),
        SensorError::NotFinite,
        SensorError::Timeout,
        SensorError::Malformed("x".into()),
        SensorError::Io("x".into()),
    ];
    let mut kinds: Vec<_> = errors.iter().map(kind).collect();
    assert!(!kinds.contains(&"other"));
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(kinds.len(), errors.len());
}

#[test]
fn json_schema_fields() {
    let report = build_report(
        "w1",
        "/sys".into(),
        Ok(vec![device(
            "28-0000000000a1",
            Err(SensorError::Disconnected),
        )]),
        &configured()[2..],
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["schema"], 1);
    assert_eq!(json["ok"], false);
    assert_eq!(json["devices"][0]["role"], "tank_top");
    assert_eq!(json["devices"][0]["celsius"], serde_json::Value::Null);
    assert_eq!(json["devices"][0]["error"]["kind"], "disconnected");
    assert_eq!(json["failed_roles"][0], "tank_top");
}
