//! Commands: every out-of-range or cross-field-breaking change is rejected with a typed error and
//! leaves the controller untouched.

use heat_core::{
    Command, CommandError, Controller, CrossRule, Load, Mode, ParamError, Parameter, Params,
    Readings, Timestamp,
};

/// A controller in the middle of something: pump running, heater on, counters moving.
fn busy() -> Controller {
    let mut c = Controller::new(Params::default(), Timestamp::from_secs(0));
    c.step(
        Timestamp::from_secs(30),
        &Readings::celsius(60.0, 40.0, 50.0),
    );
    c.step(
        Timestamp::from_secs(60),
        &Readings::celsius(61.0, 40.0, 50.0),
    );
    c
}

/// Applies `cmd`, expects a rejection, and checks nothing changed, now or in later steps.
fn rejected(cmd: Command) -> CommandError {
    let mut c = busy();
    let twin = c.clone();
    let err = c
        .command(Timestamp::from_secs(70), cmd)
        .expect_err("must be rejected");
    assert_eq!(c.status(), twin.status(), "{cmd:?} changed the status");
    let mut twin = twin;
    for s in [90, 120, 150] {
        let r = Readings::celsius(45.0, 40.0, 62.0);
        assert_eq!(
            c.step(Timestamp::from_secs(s), &r),
            twin.step(Timestamp::from_secs(s), &r),
            "{cmd:?}"
        );
    }
    err
}

#[test]
fn every_parameter_outside_its_range_is_rejected() {
    for p in Parameter::ALL {
        let l = p.limits();
        for v in [
            l.min - l.step,
            l.max + l.step,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            let err = rejected(Command::SetParameter(p, v));
            assert!(
                matches!(err, CommandError::Param(ParamError::OutOfRange { field, .. } | ParamError::NotFinite { field, .. }) if field == p.name()),
                "{p} = {v}: {err}"
            );
        }
        let err = rejected(Command::SetParameter(p, l.min + l.step / 2.0));
        assert!(
            matches!(err, CommandError::Param(ParamError::OffStep { .. })),
            "{p}"
        );
    }
}

#[test]
fn tank_max_is_never_settable_above_95() {
    let err = rejected(Command::SetParameter(Parameter::TankMax, 96.0));
    assert_eq!(err.to_string(), "tank_max = 96 is outside 40..=95");
}

#[test]
fn cross_field_violations_are_rejected() {
    use CrossRule as R;
    let cases = [
        (Parameter::DtStop, 8.0, R::DtStopBelowStart),
        (Parameter::DtStart, 3.5, R::DtStopBelowStart),
        (Parameter::EcoDtStart, 6.0, R::EcoDtStopBelowStart),
        (
            Parameter::HeaterSetpoint,
            90.0,
            R::HeaterSetpointBelowTankMax,
        ),
        (Parameter::TankMax, 55.0, R::HeaterSetpointBelowTankMax),
        (
            Parameter::EcoHeaterSetpoint,
            70.0,
            R::EcoHeaterNotAboveHeater,
        ),
        (Parameter::FrostOff, 2.0, R::FrostOnBelowOff),
    ];
    for (p, v, rule) in cases {
        let err = rejected(Command::SetParameter(p, v));
        assert!(
            matches!(err, CommandError::Param(ParamError::CrossField { rule: r, .. }) if r == rule),
            "{p} = {v}: {err}"
        );
    }
}

#[test]
fn manual_commands_outside_manual_mode_are_rejected() {
    for (cmd, expected) in [
        (Command::SetPump(true), Load::Pump),
        (Command::SetPump(false), Load::Pump),
        (Command::SetHeater(true), Load::Heater),
    ] {
        let err = rejected(cmd);
        assert_eq!(
            err,
            CommandError::NotManual {
                load: expected,
                mode: Mode::Auto,
            },
            "{err}"
        );
    }
}

#[test]
fn accepted_parameter_changes_take_effect_and_emit_an_event() {
    let mut c = busy();
    c.command(
        Timestamp::from_secs(70),
        Command::SetParameter(Parameter::DtStart, 12.0),
    )
    .unwrap();
    c.command(
        Timestamp::from_secs(70),
        Command::SetParameter(Parameter::DtStop, 10.0),
    )
    .unwrap();
    assert_eq!(c.params().get(Parameter::DtStart), 12.0);
    let out = c.step(
        Timestamp::from_secs(90),
        &Readings::celsius(50.0, 40.0, 58.0),
    );
    assert!(!out.pump, "dT 10 ≤ new dT stop 10");
    assert_eq!(
        out.events
            .iter()
            .filter(|e| matches!(e.kind, heat_core::EventKind::ParameterChanged { .. }))
            .count(),
        2
    );
}

#[test]
fn modes_parse_and_print() {
    for m in Mode::ALL {
        assert_eq!(m.as_str().parse::<Mode>(), Ok(m));
        assert_eq!(m.to_string(), m.as_str());
    }
    assert!("Auto".parse::<Mode>().is_err());
    assert_eq!(
        ["auto", "eco", "manual", "off", "holiday"],
        Mode::ALL.map(Mode::as_str),
    );
}

#[test]
fn status_serialises_for_the_state_json() {
    let c = busy();
    let json = serde_json::to_value(c.status()).unwrap();
    assert_eq!(json["mode"], "auto");
    assert_eq!(json["state"], "heating");
    assert_eq!(json["pump"], true);
    assert_eq!(json["collector"]["value"], 61.0);
    assert_eq!(json["tank_top"]["fault"], serde_json::Value::Null);
    assert_eq!(json["params"]["tank_max"], 90.0);
    assert!(json["energy"]["collected_kwh"].as_f64().unwrap() > 0.0);
}
