//! Every priority conflict from docs/control.md: which rule wins over which.

use heat_core::{Command, CommandOutcome, Interlock, Mode, Readings, Sensor};

use crate::{Rig, params};

const NAN: f64 = f64::NAN;

/// A conflict: the setup, the readings, and who must win.
struct Conflict {
    name: &'static str,
    mode: Mode,
    night_cooling: bool,
    manual_pump: bool,
    manual_heater: bool,
    temps: (f64, f64, f64),
    pump: bool,
    heater: bool,
    pump_interlock: Option<Interlock>,
    heater_interlock: Option<Interlock>,
}

const fn row(
    name: &'static str,
    mode: Mode,
    temps: (f64, f64, f64),
    pump: bool,
    heater: bool,
) -> Conflict {
    Conflict {
        name,
        mode,
        night_cooling: false,
        manual_pump: false,
        manual_heater: false,
        temps,
        pump,
        heater,
        pump_interlock: None,
        heater_interlock: None,
    }
}

fn conflicts() -> Vec<Conflict> {
    use Interlock::*;
    use Mode::*;
    vec![
        Conflict {
            manual_pump: true,
            pump_interlock: Some(BoilStop),
            ..row(
                "boil stop beats manual pump ON",
                Manual,
                (150.0, 60.0, 58.0),
                false,
                false,
            )
        },
        Conflict {
            pump_interlock: Some(BoilStop),
            ..row(
                "boil stop beats collector cooling and differential",
                Auto,
                (150.0, 60.0, 58.0),
                false,
                false,
            )
        },
        Conflict {
            heater_interlock: Some(TankMax),
            ..row(
                "collector cooling passes tank max",
                Auto,
                (100.0, 80.0, 90.0),
                true,
                false,
            )
        },
        Conflict {
            pump_interlock: Some(TankEmergency),
            heater_interlock: Some(TankEmergency),
            ..row(
                "tank emergency beats collector cooling",
                Auto,
                (100.0, 80.0, 95.0),
                false,
                false,
            )
        },
        Conflict {
            pump_interlock: Some(SensorFault(Sensor::TankTop)),
            heater_interlock: Some(SensorFault(Sensor::TankTop)),
            ..row(
                "tank top fault beats collector cooling",
                Auto,
                (100.0, 90.0, NAN),
                false,
                false,
            )
        },
        Conflict {
            manual_pump: true,
            manual_heater: true,
            pump_interlock: Some(TankMax),
            heater_interlock: Some(TankMax),
            ..row(
                "tank max beats manual pump and heater ON",
                Manual,
                (100.0, 80.0, 90.0),
                false,
                false,
            )
        },
        Conflict {
            pump_interlock: Some(FrostProtection),
            ..row("frost beats off mode", Off, (2.0, 20.0, 50.0), true, false)
        },
        Conflict {
            pump_interlock: Some(FrostProtection),
            ..row(
                "frost beats manual pump OFF",
                Manual,
                (2.0, 20.0, 50.0),
                true,
                false,
            )
        },
        Conflict {
            pump_interlock: Some(FrostProtection),
            heater_interlock: Some(TankMax),
            ..row(
                "frost beats tank max: it moves heat out of the tank",
                Auto,
                (2.0, 20.0, 92.0),
                true,
                false,
            )
        },
        Conflict {
            pump_interlock: Some(SensorFault(Sensor::Collector)),
            ..row(
                "collector fault beats frost",
                Off,
                (NAN, 20.0, 50.0),
                false,
                false,
            )
        },
        Conflict {
            manual_pump: true,
            manual_heater: true,
            pump_interlock: Some(SensorFault(Sensor::TankTop)),
            heater_interlock: Some(SensorFault(Sensor::TankTop)),
            ..row(
                "tank top fault beats manual heater and pump ON",
                Manual,
                (60.0, 40.0, NAN),
                false,
                false,
            )
        },
        Conflict {
            manual_pump: true,
            manual_heater: true,
            pump_interlock: Some(SensorFault(Sensor::TankBottom)),
            ..row(
                "tank bottom fault beats manual pump ON",
                Manual,
                (60.0, NAN, 50.0),
                false,
                true,
            )
        },
        Conflict {
            night_cooling: true,
            heater_interlock: Some(TankMax),
            ..row(
                "night cooling runs at tank max: it moves heat out",
                Auto,
                (60.0, 91.0, 91.0),
                true,
                false,
            )
        },
        Conflict {
            night_cooling: true,
            pump_interlock: Some(TankMax),
            heater_interlock: Some(TankMax),
            ..row(
                "tank max beats night cooling outside auto/eco",
                Off,
                (60.0, 91.0, 91.0),
                false,
                false,
            )
        },
        row(
            "off mode beats collector cooling",
            Off,
            (95.0, 84.0, 84.0),
            false,
            false,
        ),
        row(
            "off mode beats differential and thermostat",
            Off,
            (60.0, 40.0, 40.0),
            false,
            false,
        ),
        row(
            "manual pump OFF beats collector cooling",
            Manual,
            (95.0, 84.0, 84.0),
            false,
            false,
        ),
        row(
            "manual heater OFF beats thermostat",
            Manual,
            (20.0, 30.0, 40.0),
            false,
            false,
        ),
        Conflict {
            pump_interlock: Some(FrostProtection),
            ..row(
                "frost runs below the minimum collector temperature",
                Auto,
                (2.0, 20.0, 58.0),
                true,
                false,
            )
        },
        row(
            "collector cooling beats differential stop",
            Auto,
            (91.0, 89.0, 89.0),
            true,
            false,
        ),
    ]
}

#[test]
fn every_priority_conflict_resolves_as_documented() {
    for c in conflicts() {
        let mut rig = Rig::new(
            params(|r| r.night_cooling_enabled = c.night_cooling),
            Mode::Manual,
        );
        rig.cmd(Command::SetPump(c.manual_pump));
        rig.cmd(Command::SetHeater(c.manual_heater));
        rig.cmd(Command::SetMode(c.mode));
        let (col, bot, top) = c.temps;
        let out = rig.temps(col, bot, top);
        let got = (
            out.pump,
            out.heater,
            out.pump_interlock,
            out.heater_interlock,
        );
        assert_eq!(
            got,
            (c.pump, c.heater, c.pump_interlock, c.heater_interlock),
            "{}",
            c.name
        );
    }
}

#[test]
fn an_overridden_manual_request_is_reported_with_its_reason() {
    let mut rig = Rig::new(params(|_| {}), Mode::Manual);
    rig.temps(150.0, 60.0, NAN);
    assert_eq!(
        rig.cmd(Command::SetPump(true)),
        CommandOutcome::AcceptedButOverridden {
            reason: Interlock::BoilStop
        }
    );
    assert_eq!(
        rig.cmd(Command::SetHeater(true)),
        CommandOutcome::AcceptedButOverridden {
            reason: Interlock::SensorFault(Sensor::TankTop)
        }
    );
    assert_eq!(
        rig.cmd(Command::SetPump(false)),
        CommandOutcome::Accepted,
        "OFF agrees with the interlock"
    );
    rig.temps(2.0, 20.0, 50.0);
    assert_eq!(
        rig.cmd(Command::SetPump(false)),
        CommandOutcome::AcceptedButOverridden {
            reason: Interlock::FrostProtection
        }
    );
    // The stored request takes over once the interlock is gone.
    rig.cmd(Command::SetPump(true));
    rig.cmd(Command::SetHeater(true));
    let out = rig.step(Readings::celsius(20.0, 20.0, 50.0));
    assert!(out.pump && out.heater);
}

#[test]
fn interlock_activations_are_events_with_reasons() {
    use heat_core::EventKind;
    let mut rig = Rig::new(params(|_| {}), Mode::Auto);
    let out = rig.temps(60.0, 40.0, 55.0);
    let reasons: Vec<&str> = out.events.iter().map(|e| e.reason.as_str()).collect();
    assert!(
        reasons.contains(&"pump ON (solar differential; collector 60.0 °C, tank bottom 40.0 °C)"),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&"heater ON (auto thermostat, setpoint 60 °C; tank top 55.0 °C)"),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&"state starting -> heating"),
        "{reasons:?}"
    );
    let out = rig.temps(150.0, 40.0, 58.0);
    let ev = out
        .events
        .iter()
        .find(|e| e.kind == EventKind::InterlockActivated(Interlock::BoilStop))
        .expect("boil stop event");
    assert_eq!(ev.reason, "boil stop: collector 150.0 °C >= 150 °C");
    assert!(
        out.events
            .iter()
            .any(|e| e.kind == EventKind::PumpSwitched { on: false })
    );
    assert!(
        out.events
            .iter()
            .any(|e| matches!(e.kind, EventKind::StateChanged { .. }))
    );
    let out = rig.temps(139.0, 40.0, 58.0);
    assert!(
        out.events
            .iter()
            .any(|e| e.kind == EventKind::InterlockReleased(Interlock::BoilStop))
    );
    assert!(
        rig.temps(139.0, 40.0, 58.0).events.is_empty(),
        "nothing changed, no event"
    );
}
