//! The snapshot: the restored start, then the controller's statuses and accepted commands.

use std::collections::BTreeMap;

use heat_core::{Command, Controller, Energy, Mode, Parameter, Params, Runtime, Timestamp};

use super::*;
use crate::restore::restore;

fn restored() -> Restored {
    let state = StateFile {
        mode: Mode::Eco,
        parameters: BTreeMap::from([(Parameter::DtStart, 9.5)]),
        counters: Counters {
            collected_kwh: 12.5,
            pump_hours: 3.25,
            pump_starts: 7,
            ..Counters::default()
        },
        daily: heat_core::DailyEnergy::default(),
        last_disinfection_day: Some(20_790),
        holiday: heat_core::Holiday {
            end_day: Some(20_807),
            return_to: Mode::Auto,
        },
    };
    restore(&Params::default(), &state)
}

#[test]
fn at_startup_it_holds_what_was_restored() {
    let r = restored();
    assert_eq!(Snapshot::new(&r).state(), r.state());
    assert_eq!(Snapshot::new(&r).memory(), r.memory());
}

#[test]
fn a_status_gives_the_counters_and_mode_and_only_parameters_set_over_mqtt_are_kept() {
    let r = restored();
    let mut snapshot = Snapshot::new(&r);
    let mut controller =
        Controller::resume(r.params.clone(), Timestamp::from_millis(0), r.memory());
    let now = Timestamp::from_millis(1000);
    controller
        .command(now, Command::SetParameter(Parameter::DtStop, 3.5))
        .unwrap();
    controller
        .command(now, Command::SetMode(Mode::Off))
        .unwrap();
    let mut status = controller.status();
    status.energy = Energy {
        collected_kwh: 13.0,
        heater_kwh: 0.5,
    };
    status.runtime = Runtime {
        pump_hours: 4.0,
        ..status.runtime
    };
    snapshot.update(&status);
    // dt_stop is in force but was not reported as accepted yet.
    assert_eq!(
        snapshot.state().parameters,
        BTreeMap::from([(Parameter::DtStart, 9.5)])
    );
    snapshot.accepted(&Command::SetParameter(Parameter::DtStop, 3.5));
    snapshot.accepted(&Command::SetMode(Mode::Off));
    let state = snapshot.state();
    assert_eq!(
        state.parameters,
        BTreeMap::from([(Parameter::DtStart, 9.5), (Parameter::DtStop, 3.5)])
    );
    assert_eq!(state.mode, Mode::Off);
    assert_eq!(state.counters.collected_kwh, 13.0);
    assert_eq!(state.counters.pump_hours, 4.0);
    assert_eq!(state.counters.pump_starts, 7);
    assert_eq!(state.last_disinfection_day, Some(20_790));
}

#[test]
fn parts_give_the_same_as_a_status() {
    let r = restored();
    let controller = Controller::resume(r.params.clone(), Timestamp::from_millis(0), r.memory());
    let status = controller.status();
    let (mut a, mut b) = (Snapshot::new(&r), Snapshot::new(&r));
    a.update(&status);
    b.set(controller.params().raw(), r.memory());
    assert_eq!(a, b);
}
