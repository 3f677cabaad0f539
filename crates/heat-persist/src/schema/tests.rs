//! The JSON form: round trip, the schema gate, and per-value drops.

use super::*;

fn sample() -> StateFile {
    StateFile {
        mode: Mode::Eco,
        parameters: BTreeMap::from([(Parameter::DtStart, 9.5), (Parameter::HeaterSetpoint, 55.0)]),
        counters: Counters {
            collected_kwh: 12.345,
            heater_kwh: 1.5,
            pump_hours: 310.25,
            pump_starts: 1204,
            heater_hours: 41.5,
            heater_starts: 380,
        },
        daily: DailyEnergy {
            day: Some(20_790),
            today: Energy {
                collected_kwh: 3.25,
                heater_kwh: 0.5,
            },
            yesterday: Energy {
                collected_kwh: 7.0,
                heater_kwh: 1.25,
            },
        },
        last_disinfection_day: None,
        holiday: Holiday {
            end_day: Some(20_807),
            return_to: Mode::Eco,
        },
    }
}

#[test]
fn a_file_reads_back_as_written() {
    let text = encode(&sample()).unwrap();
    assert!(text.ends_with('\n'));
    let decoded = decode(&text).unwrap();
    assert_eq!(decoded.state, sample());
    assert!(decoded.dropped.is_empty());
}

#[test]
fn the_written_form_is_the_documented_one() {
    let v: serde_json::Value = serde_json::from_str(&encode(&sample()).unwrap()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "schema": 1,
            "mode": "eco",
            "parameters": {"dt_start": 9.5, "heater_setpoint": 55.0},
            "counters": {
                "collected_kwh": 12.345, "heater_kwh": 1.5,
                "pump_hours": 310.25, "pump_starts": 1204,
                "heater_hours": 41.5, "heater_starts": 380
            },
            "daily": {
                "day": 20790,
                "collected_today_kwh": 3.25, "heater_today_kwh": 0.5,
                "collected_yesterday_kwh": 7.0, "heater_yesterday_kwh": 1.25
            },
            "last_disinfection_day": null,
            "holiday": {"end_day": 20807, "return_to": "eco"}
        })
    );
}

#[test]
fn bad_texts_are_refused_with_the_reason() {
    let full = encode(&sample()).unwrap();
    let truncated = &full[..full.len() / 2];
    let cases: [(&str, &str); 7] = [
        ("", "Syntax"),
        (truncated, "Syntax"),
        ("\u{0}\u{1}garbage", "Syntax"),
        ("{\"mode\": \"eco\"}", "Syntax"),
        ("{\"schema\": 1, \"mode\": 3}", "Syntax"),
        ("{\"schema\": 0, \"mode\": \"eco\"}", "SchemaZero"),
        (
            "{\"schema\": 2, \"mode\": \"holiday\", \"x\": [1]}",
            "NewerSchema",
        ),
    ];
    for (text, want) in cases {
        let got = decode(text).expect_err(text);
        let name = format!("{got:?}");
        assert!(name.starts_with(want), "{text:?}: {name}");
    }
    assert_eq!(
        decode("{\"schema\": 7}"),
        Err(DecodeError::NewerSchema { found: 7 })
    );
}

#[test]
fn unknown_names_and_negative_counters_drop_that_value_only() {
    let text = r#"{"schema": 1, "mode": "vacation",
        "parameters": {"dt_start": 9.5, "dt_wobble": 3.0},
        "counters": {"collected_kwh": -1.0, "heater_kwh": 2.0, "pump_hours": 5.0,
            "pump_starts": 2.5, "heater_starts": 7, "valve_hours": 1.0},
        "some_later_field": true}"#;
    let d = decode(text).unwrap();
    assert_eq!(d.state.mode, Mode::Auto);
    assert_eq!(
        d.state.parameters,
        BTreeMap::from([(Parameter::DtStart, 9.5)])
    );
    assert_eq!(
        d.state.counters,
        Counters {
            collected_kwh: 0.0,
            heater_kwh: 2.0,
            pump_hours: 5.0,
            pump_starts: 0,
            heater_hours: 0.0,
            heater_starts: 7,
        }
    );
    assert_eq!(
        d.dropped,
        vec![
            Dropped::Mode {
                name: "vacation".into()
            },
            Dropped::UnknownParameter {
                name: "dt_wobble".into(),
                value: 3.0
            },
            Dropped::Counter {
                name: "collected_kwh",
                value: -1.0
            },
            Dropped::Counter {
                name: "pump_starts",
                value: 2.5
            },
        ]
    );
}

#[test]
fn a_minimal_file_takes_the_defaults_for_what_it_lacks() {
    let d = decode(r#"{"schema": 1, "mode": "off"}"#).unwrap();
    assert_eq!(
        d.state,
        StateFile {
            mode: Mode::Off,
            ..StateFile::default()
        }
    );
}

#[test]
fn a_non_finite_value_is_not_written() {
    let mut s = sample();
    s.counters.heater_kwh = f64::NAN;
    assert!(matches!(
        encode(&s),
        Err(EncodeError::NotFinite { field, .. }) if field == "heater_kwh"
    ));
    let mut s = sample();
    s.parameters.insert(Parameter::DtStop, f64::INFINITY);
    assert!(matches!(
        encode(&s),
        Err(EncodeError::NotFinite { field, .. }) if field == "dt_stop"
    ));
}

#[test]
fn every_mode_and_parameter_round_trips() {
    for mode in Mode::ALL {
        let s = StateFile {
            mode,
            parameters: Parameter::ALL
                .iter()
                .map(|p| (*p, p.limits().min))
                .collect(),
            ..StateFile::default()
        };
        assert_eq!(decode(&encode(&s).unwrap()).unwrap().state, s, "{mode}");
    }
}

#[test]
fn the_last_disinfection_day_round_trips_and_a_bad_one_is_dropped_alone() {
    let state = StateFile {
        last_disinfection_day: Some(20_790),
        ..sample()
    };
    let back = decode(&encode(&state).unwrap()).unwrap();
    assert_eq!(back.state, state);
    assert!(back.dropped.is_empty());
    // A file from before (the reserved, always-null field) reads as none.
    let old = r#"{"schema": 1, "mode": "auto", "last_disinfection": null}"#;
    assert_eq!(decode(old).unwrap().state.last_disinfection_day, None);
    for bad in ["20790.5", "1e12"] {
        let text = format!(r#"{{"schema": 1, "mode": "eco", "last_disinfection_day": {bad}}}"#);
        let d = decode(&text).unwrap();
        assert_eq!(d.state.last_disinfection_day, None, "{bad}");
        assert_eq!(d.state.mode, Mode::Eco, "the rest stays: {bad}");
        assert!(
            matches!(d.dropped.as_slice(), [Dropped::LastDisinfection { .. }]),
            "{bad}: {:?}",
            d.dropped
        );
    }
}

#[test]
fn the_holiday_round_trips_and_bad_values_are_dropped_alone() {
    let d = decode(
        r#"{"schema": 1, "mode": "holiday", "holiday": {"end_day": 20807, "return_to": "manual"}}"#,
    )
    .unwrap();
    assert_eq!(d.state.mode, Mode::Holiday);
    assert_eq!(
        d.state.holiday,
        Holiday {
            end_day: Some(20_807),
            return_to: Mode::Manual
        }
    );
    // A file from before holiday mode has none.
    let old = decode(r#"{"schema": 1, "mode": "eco"}"#).unwrap();
    assert_eq!(old.state.holiday, Holiday::default());
    let d = decode(
        r#"{"schema": 1, "mode": "holiday", "holiday": {"end_day": 1.5, "return_to": "party"}}"#,
    )
    .unwrap();
    assert_eq!(
        (d.state.mode, d.state.holiday),
        (Mode::Holiday, Holiday::default())
    );
    assert!(
        matches!(
            d.dropped.as_slice(),
            [Dropped::HolidayEnd { .. }, Dropped::Mode { name }] if name == "party"
        ),
        "{:?}",
        d.dropped
    );
}
