//! Restoring under the current configuration: valid values applied, refused ones dropped.

use std::collections::BTreeMap;

use heat_core::{CrossRule, Energy, Mode, ParamError, Parameter, Params, RawParams};

use super::*;
use crate::schema::Counters;

fn file(parameters: &[(Parameter, f64)]) -> StateFile {
    StateFile {
        mode: Mode::Eco,
        parameters: parameters.iter().copied().collect(),
        counters: Counters {
            collected_kwh: 4.0,
            heater_kwh: 1.0,
            ..Counters::default()
        },
        daily: heat_core::DailyEnergy::default(),
        last_disinfection_day: None,
        holiday: heat_core::Holiday::default(),
    }
}

fn config(edit: impl FnOnce(&mut RawParams)) -> Params {
    let mut raw = RawParams::default();
    edit(&mut raw);
    Params::try_from(raw).unwrap()
}

#[test]
fn valid_values_are_applied_with_the_mode_and_the_counters() {
    let r = restore(
        &Params::default(),
        &file(&[(Parameter::DtStart, 9.5), (Parameter::HeaterSetpoint, 55.0)]),
    );
    assert_eq!(r.mode, Mode::Eco);
    assert_eq!(
        r.energy,
        Energy {
            collected_kwh: 4.0,
            heater_kwh: 1.0
        }
    );
    assert_eq!(r.params.get(Parameter::DtStart), 9.5);
    assert_eq!(r.params.get(Parameter::HeaterSetpoint), 55.0);
    assert_eq!(r.params.get(Parameter::DtStop), 4.0, "untouched");
    assert_eq!(r.parameters.len(), 2);
    assert!(r.dropped.is_empty());
}

/// (persisted values, configuration edit, expected kept, expected dropped names).
type Row = (
    &'static [(Parameter, f64)],
    fn(&mut RawParams),
    &'static [Parameter],
    &'static [Parameter],
);

#[test]
fn refused_values_are_dropped_and_the_rest_applied() {
    use Parameter as P;
    let rows: &[Row] = &[
        // Out of range, off step: dropped alone.
        (
            &[(P::DtStart, 99.0), (P::DtStop, 3.0)],
            |_| {},
            &[P::DtStop],
            &[P::DtStart],
        ),
        (&[(P::BoilStop, 152.0)], |_| {}, &[], &[P::BoilStop]),
        // Both raised: valid together.
        (
            &[(P::DtStart, 20.0), (P::DtStop, 15.0)],
            |_| {},
            &[P::DtStart, P::DtStop],
            &[],
        ),
        // One at a time (the boil stop is off step): tank_max 60 alone is refused while the
        // heater setpoint is still 60, so it goes in on the second pass, after the setpoint.
        (
            &[
                (P::TankMax, 60.0),
                (P::HeaterSetpoint, 50.0),
                (P::BoilStop, 152.0),
            ],
            |_| {},
            &[P::TankMax, P::HeaterSetpoint],
            &[P::BoilStop],
        ),
        // Allowed by the configuration's tank sensor range (and below its emergency level).
        (
            &[(P::TankMax, 94.0)],
            |r| r.tank_sensor_max_c = 95.0,
            &[P::TankMax],
            &[],
        ),
        // Refused against the configuration's tank maximum.
        (
            &[(P::HeaterSetpoint, 80.0)],
            |r| r.tank_max = 70.0,
            &[],
            &[P::HeaterSetpoint],
        ),
        // Valid only together with a value that is itself refused.
        (
            &[(P::HeaterSetpoint, 80.0), (P::TankMax, 96.0)],
            |r| r.tank_max = 70.0,
            &[],
            &[P::TankMax, P::HeaterSetpoint],
        ),
    ];
    for (i, (persisted, edit, kept, dropped)) in rows.iter().enumerate() {
        let config = config(*edit);
        let r = restore(&config, &file(persisted));
        let kept_names: Vec<Parameter> = r.parameters.keys().copied().collect();
        assert_eq!(&kept_names, kept, "row {i}: kept");
        let dropped_names: Vec<Parameter> = r
            .dropped
            .iter()
            .map(|d| match d {
                Dropped::Parameter { parameter, .. } => *parameter,
                other => panic!("row {i}: unexpected {other:?}"),
            })
            .collect();
        assert_eq!(&dropped_names, dropped, "row {i}: dropped");
        for p in *kept {
            let want = persisted.iter().find(|(q, _)| q == p).unwrap().1;
            assert_eq!(r.params.get(*p), want, "row {i}: {p} applied");
        }
        for p in *dropped {
            assert_eq!(
                r.params.get(*p),
                config.get(*p),
                "row {i}: {p} stays configured"
            );
        }
        // Whatever came in, what goes out is valid (a `Params` is) and was re-validated.
        assert!(Params::try_from(r.params.raw().clone()).is_ok(), "row {i}");
    }
}

#[test]
fn a_dropped_value_carries_heat_cores_reason() {
    let r = restore(
        &config(|r| r.tank_max = 70.0),
        &file(&[(Parameter::HeaterSetpoint, 80.0)]),
    );
    assert_eq!(
        r.dropped,
        vec![Dropped::Parameter {
            parameter: Parameter::HeaterSetpoint,
            value: 80.0,
            error: ParamError::CrossField {
                rule: CrossRule::HeaterSetpointBelowTankMax,
                left: 80.0,
                right: 70.0
            },
        }]
    );
    assert_eq!(r.state().parameters, BTreeMap::new(), "not written again");
}

#[test]
fn defaults_are_the_configuration_in_auto_with_zero_counters() {
    let c = config(|r| r.dt_start = 12.0);
    let r = Restored::defaults(&c);
    assert_eq!(r.state(), StateFile::default());
    assert_eq!(
        (r.params, r.mode, r.energy),
        (c, Mode::Auto, Energy::default())
    );
}
