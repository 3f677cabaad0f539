//! Unit tests of parameter validation: defaults, limits, steps, cross-field rules, serde.

use super::*;

#[test]
fn defaults_are_valid_and_match_the_original_system() {
    let p = Params::try_from(RawParams::default()).expect("defaults valid");
    assert_eq!(p, Params::default());
    let expect = [
        (Parameter::DtStart, 8.0),
        (Parameter::DtStop, 4.0),
        (Parameter::EcoDtStart, 10.0),
        (Parameter::EcoDtStop, 6.0),
        (Parameter::CollectorCooling, 90.0),
        (Parameter::CollectorCoolingHysteresis, 4.0),
        (Parameter::BoilStop, 150.0),
        (Parameter::BoilStopHysteresis, 10.0),
        (Parameter::TankMax, 90.0),
        (Parameter::FrostOn, 3.0),
        (Parameter::FrostOff, 5.0),
        (Parameter::NightCoolingTank, 80.0),
        (Parameter::NightCoolingHysteresis, 5.0),
        (Parameter::NightCoolingDt, 5.0),
    ];
    for (param, value) in expect {
        assert_eq!(p.get(param), value, "{param}");
    }
    assert!(!p.night_cooling_enabled());
}

#[test]
fn names_are_unique_snake_case_and_parse_back() {
    let mut seen = std::collections::HashSet::new();
    for p in Parameter::ALL {
        assert!(seen.insert(p.name()), "duplicate {}", p.name());
        assert!(
            p.name()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{}",
            p.name()
        );
        assert_eq!(p.name().parse::<Parameter>(), Ok(p));
        // serde's name is the same (a key of the state JSON and of the state file).
        let json = serde_json::to_string(&p).expect("serialises");
        assert_eq!(json, format!("\"{}\"", p.name()));
        assert_eq!(serde_json::from_str::<Parameter>(&json).ok(), Some(p));
    }
    assert_eq!(
        "dT_start".parse::<Parameter>(),
        Err(UnknownParameter("dT_start".into()))
    );
}

#[test]
fn limits_are_sane_for_home_assistant_numbers() {
    for p in Parameter::ALL {
        let l = p.limits();
        assert!(l.min < l.max, "{p}");
        assert!(l.step >= 0.001, "{p}");
        assert!(["°C", "K", "h", "min", "s", "d"].contains(&l.unit), "{p}");
        assert!(check_parameter(p, l.min).is_ok(), "{p} min");
        assert!(check_parameter(p, l.max).is_ok(), "{p} max");
    }
    assert_eq!(
        Parameter::TankMax.limits().max,
        95.0,
        "tank max never above 95 °C"
    );
    let original = [
        (Parameter::DtStart, 3.0, 40.0),
        (Parameter::DtStop, 2.0, 20.0),
        (Parameter::HeaterSetpoint, 15.0, 90.0),
        (Parameter::CollectorCooling, 70.0, 120.0),
        (Parameter::BoilStop, 100.0, 200.0),
    ];
    for (p, min, max) in original {
        assert_eq!((p.limits().min, p.limits().max), (min, max), "{p}");
    }
    assert_eq!(Parameter::BoilStop.limits().step, 5.0);
}

#[test]
fn each_parameter_rejects_below_above_nan_and_off_step() {
    let p = Params::default();
    for param in Parameter::ALL {
        let l = param.limits();
        for bad in [l.min - l.step, l.max + l.step] {
            assert!(
                matches!(p.with(param, bad), Err(ParamError::OutOfRange { field, value, .. }) if field == param.name() && value == bad),
                "{param} = {bad}"
            );
        }
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(
                matches!(p.with(param, bad), Err(ParamError::NotFinite { .. })),
                "{param}"
            );
        }
        let off = l.min + l.step / 2.0;
        assert!(
            matches!(p.with(param, off), Err(ParamError::OffStep { .. })),
            "{param} = {off}"
        );
    }
    assert_eq!(p, Params::default(), "with() never changes self");
}

#[test]
fn cross_field_rules_are_enforced() {
    use CrossRule as R;
    let cases: &[(Parameter, f64, R)] = &[
        (Parameter::DtStop, 8.0, R::DtStopBelowStart),
        (Parameter::DtStart, 4.0, R::DtStopBelowStart),
        (Parameter::EcoDtStop, 10.0, R::EcoDtStopBelowStart),
        (
            Parameter::HeaterSetpoint,
            90.0,
            R::HeaterSetpointBelowTankMax,
        ),
        (Parameter::TankMax, 60.0, R::HeaterSetpointBelowTankMax),
        (
            Parameter::EcoHeaterSetpoint,
            61.0,
            R::EcoHeaterNotAboveHeater,
        ),
        (Parameter::FrostOn, 5.0, R::FrostOnBelowOff),
        (Parameter::FrostOff, 3.0, R::FrostOnBelowOff),
        (Parameter::CollectorMin, 90.0, R::CollectorMinBelowCooling),
    ];
    for &(param, value, rule) in cases {
        let got = Params::default().with(param, value);
        assert!(
            matches!(got, Err(ParamError::CrossField { rule: r, .. }) if r == rule),
            "{param} = {value}: {got:?}"
        );
    }
    let hot = Params::default()
        .with(Parameter::CollectorCooling, 110.0)
        .unwrap();
    assert!(matches!(
        hot.with(Parameter::BoilStop, 110.0),
        Err(ParamError::CrossField {
            rule: R::CoolingBelowBoilStop,
            left: 110.0,
            right: 110.0
        })
    ));
    let low = Params::default()
        .with(Parameter::EcoHeaterSetpoint, 15.0)
        .unwrap();
    assert!(matches!(
        low.with(Parameter::HeaterHysteresis, 15.0),
        Err(ParamError::CrossField {
            rule: R::HeaterHysteresisBelowSetpoint,
            ..
        })
    ));
    // Equality is allowed only where the rule says "not above".
    assert!(
        Params::default()
            .with(Parameter::EcoHeaterSetpoint, 60.0)
            .is_ok()
    );
}

/// Default raw params with one edit, validated.
fn edited(edit: impl FnOnce(&mut RawParams)) -> Result<Params, ParamError> {
    let mut raw = RawParams::default();
    edit(&mut raw);
    Params::try_from(raw)
}

#[test]
fn cross_field_rules_on_configuration() {
    use CrossRule as R;
    let rule = |e: Result<Params, ParamError>| match e {
        Err(ParamError::CrossField { rule, .. }) => Some(rule),
        _ => None,
    };
    assert_eq!(
        rule(edited(|r| r.frost_tank_min = 5.0)),
        Some(R::FrostOffBelowTankMin)
    );
    assert_eq!(
        rule(edited(|r| r.night_cooling_dt_stop = 5.0)),
        Some(R::NightCoolingDtStopBelowStart)
    );
    assert_eq!(
        rule(edited(|r| r.collector_max_c = 140.0)),
        Some(R::BoilStopWithinCollectorRange)
    );
    assert!(matches!(
        edited(|r| r.pump_min_on_s = 3601),
        Err(ParamError::OutOfRange {
            field: "pump_min_on_s",
            ..
        })
    ));
    assert!(matches!(
        edited(|r| r.flow_l_per_min = f64::NAN),
        Err(ParamError::NotFinite {
            field: "flow_l_per_min",
            ..
        })
    ));
}

#[test]
fn the_fluid_defaults_to_propylene_glycol_45_and_its_concentration_is_checked() {
    let p = Params::default();
    assert_eq!(p.raw().fluid, Fluid::PropyleneGlycol);
    assert_eq!(p.raw().fluid_concentration_pct, 45.0);
    for pct in [0.0, 30.0, 42.5, 60.0] {
        assert!(edited(|r| r.fluid_concentration_pct = pct).is_ok(), "{pct}");
    }
    for pct in [-1.0, 60.5, 100.0] {
        let e = edited(|r| r.fluid_concentration_pct = pct).unwrap_err();
        assert_eq!(
            e,
            ParamError::OutOfRange {
                field: "fluid_concentration_pct",
                value: pct,
                min: 0.0,
                max: 60.0,
            }
        );
    }
    let e = edited(|r| r.fluid_concentration_pct = 70.0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "fluid_concentration_pct = 70 is outside 0..=60"
    );
    // Water ignores the concentration, but a value outside the tables is still a typo.
    let water = |pct: f64| {
        edited(|r| {
            r.fluid = Fluid::Water;
            r.fluid_concentration_pct = pct;
        })
    };
    assert!(water(45.0).is_ok());
    assert!(water(75.0).is_err());
    assert!(matches!(
        edited(|r| r.fluid_concentration_pct = f64::NAN),
        Err(ParamError::NotFinite {
            field: "fluid_concentration_pct",
            ..
        })
    ));
}

#[test]
fn the_fluid_deserialises_by_its_snake_case_name_and_only_a_known_one() {
    let raw: RawParams =
        serde_json::from_str(r#"{"fluid": "ethylene_glycol", "fluid_concentration_pct": 30}"#)
            .unwrap();
    assert_eq!(raw.fluid, Fluid::EthyleneGlycol);
    assert_eq!(raw.fluid_concentration_pct, 30.0);
    let json = serde_json::to_value(Params::default()).unwrap();
    assert_eq!(json["fluid"], "propylene_glycol");
    let e = serde_json::from_str::<RawParams>(r#"{"fluid": "glycol"}"#).unwrap_err();
    let message = e.to_string();
    for name in ["glycol", "water", "propylene_glycol", "ethylene_glycol"] {
        assert!(message.contains(name), "{message}");
    }
    assert!(serde_json::from_str::<RawParams>(r#"{"heat_capacity_kj_per_l_k": 3.8}"#).is_err());
}

#[test]
fn error_messages_name_field_value_and_range() {
    let e = Params::default()
        .with(Parameter::DtStart, 41.0)
        .unwrap_err();
    assert_eq!(e.to_string(), "dt_start = 41 is outside 3..=40");
    let e = Params::default().with(Parameter::DtStop, 9.0).unwrap_err();
    assert_eq!(e.to_string(), "dt_stop must be below dt_start: 9 vs 8");
    let e = Params::default()
        .with(Parameter::BoilStop, 147.0)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "boil_stop = 147 is not a multiple of 5 from 100"
    );
}

#[test]
fn raw_params_deserialise_with_defaults_and_reject_unknown_fields() {
    let raw: RawParams =
        serde_json::from_str(r#"{"dt_start": 10, "night_cooling_enabled": true}"#).unwrap();
    let p = Params::try_from(raw).unwrap();
    assert_eq!(p.get(Parameter::DtStart), 10.0);
    assert_eq!(p.get(Parameter::DtStop), 4.0);
    assert!(p.night_cooling_enabled());
    assert!(serde_json::from_str::<RawParams>(r#"{"dt_strat": 10}"#).is_err());
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["dt_start"], 10.0);
}

#[test]
fn params_deserialise_only_when_valid() {
    let p: Params = serde_json::from_str(r#"{"tank_max": 80}"#).unwrap();
    assert_eq!(p.get(Parameter::TankMax), 80.0);
    let err = serde_json::from_str::<Params>(r#"{"tank_max": 96}"#).unwrap_err();
    assert!(
        err.to_string().contains("tank_max = 96 is outside 40..=95"),
        "{err}"
    );
    let back: Params = serde_json::from_value(serde_json::to_value(&p).unwrap()).unwrap();
    assert_eq!(back, p);
}

#[test]
fn index_is_the_position_in_all() {
    for (i, p) in Parameter::ALL.into_iter().enumerate() {
        assert_eq!(p.index(), i, "{p}");
        assert_eq!(Parameter::ALL[p.index()], p);
    }
}

#[test]
fn heater_windows_are_half_open_cross_midnight_and_off_when_empty() {
    let p = |w: [(f64, f64); 3]| {
        [
            (Parameter::HeaterWindow1Start, w[0].0),
            (Parameter::HeaterWindow1End, w[0].1),
            (Parameter::HeaterWindow2Start, w[1].0),
            (Parameter::HeaterWindow2End, w[1].1),
            (Parameter::HeaterWindow3Start, w[2].0),
            (Parameter::HeaterWindow3End, w[2].1),
        ]
        .into_iter()
        .try_fold(Params::default(), |p, (param, v)| p.with(param, v))
        .expect("valid windows")
    };
    // The default: one window all day.
    assert!((0..1440).all(|m| Params::default().heater_window_open(m)));
    let morning_and_night = p([(5.0, 8.0), (22.0, 1.5), (12.0, 12.0)]);
    for (minute, open) in [
        (299, false),
        (300, true),
        (479, true),
        (480, false),
        (720, false),
        (1319, false),
        (1320, true),
        (1439, true),
        (0, true),
        (89, true),
        (90, false),
    ] {
        assert_eq!(
            morning_and_night.heater_window_open(minute),
            open,
            "minute {minute}"
        );
    }
    // All three off: the heater never runs for comfort.
    let never = p([(0.0, 0.0), (6.0, 6.0), (24.0, 24.0)]);
    assert!((0..1440).all(|m| !never.heater_window_open(m)));
    // Quarter hours only.
    assert!(matches!(
        Params::default().with(Parameter::HeaterWindow1Start, 5.1),
        Err(ParamError::OffStep { .. })
    ));
    assert!(matches!(
        Params::default().with(Parameter::HeaterWindow2End, 24.25),
        Err(ParamError::OutOfRange { .. })
    ));
}
