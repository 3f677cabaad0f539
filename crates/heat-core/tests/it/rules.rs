//! Every rule at its boundaries, with its hysteresis holding (numbers as in docs/control.md).

use heat_core::{
    Controller, Mode, OperatingState, Params, Reading, Readings, SensorFault, Timestamp,
};

use crate::{Rig, params, table};

// Tank top 58 °C sits inside the heater band (55..60) so the heater stays OFF in pump tables.
const TOP: f64 = 58.0;

#[test]
fn differential_auto_8_on_4_off() {
    table(
        "differential auto",
        params(|_| {}),
        Mode::Auto,
        &[
            (47.5, 40.0, TOP, false, false), // dT 7.5 < 8
            (48.0, 40.0, TOP, true, false),  // dT 8 ≥ 8: ON
            (45.0, 40.0, TOP, true, false),  // dT 5: holds
            (44.1, 40.0, TOP, true, false),  // dT 4.1 > 4: holds
            (44.0, 40.0, TOP, false, false), // dT 4 ≤ 4: OFF
            (47.0, 40.0, TOP, false, false), // dT 7: holds OFF
            (48.0, 40.0, TOP, true, false),
        ],
    );
}

#[test]
fn differential_eco_10_on_6_off() {
    table(
        "differential eco",
        params(|_| {}),
        Mode::Eco,
        &[
            (49.5, 40.0, 50.0, false, false), // dT 9.5 < 10
            (50.0, 40.0, 50.0, true, false),  // dT 10: ON
            (46.5, 40.0, 50.0, true, false),  // dT 6.5: holds
            (46.0, 40.0, 50.0, false, false), // dT 6: OFF
        ],
    );
}

#[test]
fn minimum_collector_temperature_10_gates_the_differential_until_below_5() {
    // Tank bottom below `frost_tank_min`, so frost protection stays out of it.
    table(
        "collector minimum",
        params(|_| {}),
        Mode::Auto,
        &[
            (9.5, 0.0, TOP, false, false),  // dT 9.5 ≥ 8, but collector 9.5 < 10
            (10.0, 0.0, TOP, true, false),  // collector 10 and dT 10: ON
            (6.0, -2.0, TOP, true, false),  // collector 6 ≥ 5, dT 8: holds
            (5.0, -2.0, TOP, true, false),  // collector 5 is not below 5: holds
            (4.5, -2.0, TOP, false, false), // collector 4.5 < 5: OFF
            (9.0, -2.0, TOP, false, false), // dT 11, collector 9 < 10: stays OFF
            (10.0, -2.0, TOP, true, false), // ON again
        ],
    );
    table(
        "collector minimum 30",
        params(|r| r.collector_min = 30.0),
        Mode::Eco,
        &[
            (29.0, 10.0, TOP, false, false), // dT 19, collector 29 < 30
            (30.0, 10.0, TOP, true, false),
            (25.0, 10.0, TOP, true, false),  // 25 is not below 30 − 5
            (24.5, 10.0, TOP, false, false), // below 25: OFF
        ],
    );
}

#[test]
fn collector_cooling_90_on_below_86_off() {
    // dT stays below 8, so only cooling can run the pump. Not 85 °C in the tank: that is the
    // DS18B20 power-on value, rejected without a plausible value before it.
    table(
        "collector cooling",
        params(|_| {}),
        Mode::Auto,
        &[
            (89.0, 84.0, 84.0, false, false),
            (90.0, 84.0, 84.0, true, false),  // ≥ 90: ON
            (86.0, 84.0, 84.0, true, false),  // 86 is not below 86: holds
            (85.9, 84.0, 84.0, false, false), // < 86: OFF
            (89.0, 84.0, 84.0, false, false), // holds OFF
        ],
    );
}

#[test]
fn boil_stop_150_latched_until_below_140() {
    table(
        "boil stop",
        params(|_| {}),
        Mode::Auto,
        &[
            (120.0, 60.0, TOP, true, false), // seen below the band first (start-up rule)
            (149.0, 60.0, TOP, true, false), // differential and cooling
            (150.0, 60.0, TOP, false, false), // ≥ 150: OFF, latched
            (141.0, 60.0, TOP, false, false), // latched
            (140.0, 60.0, TOP, false, false), // 140 is not below 140
            (139.9, 60.0, TOP, true, false), // released; cooling runs again
        ],
    );
}

#[test]
fn tank_max_90_off_until_below_85() {
    // Collector cooling out of the way (it may pass the tank maximum: the next test).
    table(
        "tank max",
        params(|r| r.collector_cooling = 120.0),
        Mode::Auto,
        &[
            (100.0, 80.0, 89.0, true, false),
            (100.0, 80.0, 90.0, false, false), // tank top ≥ 90: pump OFF
            (100.0, 80.0, 85.0, false, false), // holds until below 85
            (100.0, 80.0, 84.9, true, false),
            (100.0, 90.0, 80.0, false, false), // tank bottom counts too
        ],
    );
}

#[test]
fn collector_cooling_loads_the_tank_past_tank_max_up_to_the_emergency_level_95() {
    table(
        "tank emergency",
        params(|_| {}),
        Mode::Auto,
        &[
            (100.0, 80.0, 89.0, true, false),
            (100.0, 80.0, 91.0, true, false), // past tank max: collector cooling goes on
            (100.0, 80.0, 95.0, false, false), // the emergency level: nothing loads the tank
            (100.0, 80.0, 90.5, false, false), // holds until below 95 − 5
            (100.0, 80.0, 89.9, true, false), // released; tank max still latched, cooling runs
            (100.0, 95.0, 80.0, false, false), // the bottom counts too
        ],
    );
}

#[test]
fn nothing_loads_the_tank_while_the_tank_top_is_blind() {
    table(
        "tank top faulted",
        params(|_| {}),
        Mode::Auto,
        &[
            (100.0, 84.5, 88.0, true, false),
            (100.0, 80.0, f64::NAN, false, false), // collector cooling stops
            (60.0, 40.0, f64::NAN, false, false),  // and so does the differential
            (60.0, 40.0, 62.0, true, false),       // top back: loading again
        ],
    );
    let mut night = params(|r| r.night_cooling_enabled = true);
    night = night.with(heat_core::Parameter::TankMax, 94.0).unwrap();
    table(
        "tank top faulted, night cooling",
        night,
        Mode::Auto,
        &[
            (20.0, 82.0, f64::NAN, true, false), // taking heat out needs only the bottom
            (2.0, 30.0, f64::NAN, true, false),  // frost protection too
        ],
    );
}

#[test]
fn tank_max_switches_the_heater_off_even_below_its_setpoint() {
    let p = params(|r| {
        r.heater_setpoint = 89.0;
        r.tank_max = 90.0;
    });
    table(
        "tank max heater",
        p,
        Mode::Auto,
        &[
            (20.0, 80.0, 84.0, false, true),
            (20.0, 90.0, 84.0, false, false), // bottom reached max: heater OFF too
            (20.0, 84.0, 84.0, false, true),  // released below 85
        ],
    );
}

#[test]
fn frost_3_on_5_off_while_tank_has_heat() {
    table(
        "frost",
        params(|_| {}),
        Mode::Auto,
        &[
            (3.5, 20.0, 58.0, false, false),
            (3.0, 20.0, 58.0, true, false),  // ≤ 3: ON
            (4.9, 20.0, 58.0, true, false),  // holds
            (5.0, 20.0, 58.0, false, false), // ≥ 5: OFF
            (3.0, 9.9, 58.0, false, false),  // tank bottom below 10: no heat to give
            (3.0, 10.0, 58.0, true, false),
            (3.0, 9.9, 58.0, false, false), // tank ran out of heat: OFF
        ],
    );
}

#[test]
fn night_cooling_is_off_by_default() {
    table(
        "night default",
        params(|_| {}),
        Mode::Auto,
        &[(20.0, 85.0, 85.0, false, false)],
    );
}

#[test]
fn night_cooling_80_hysteresis_5_dt_5() {
    table(
        "night cooling",
        params(|r| r.night_cooling_enabled = true),
        Mode::Auto,
        &[
            (75.5, 80.0, 80.0, false, false), // tank − collector 4.5 < 5
            (75.0, 80.0, 80.0, true, false),  // tank ≥ 80 and difference ≥ 5: ON
            (60.0, 75.0, 80.0, true, false),  // 75 is not below 75: holds
            (60.0, 74.9, 80.0, false, false), // below 80 − 5: OFF
            (70.0, 80.0, 80.0, true, false),
            (78.5, 80.0, 80.0, false, false), // difference 1.5 < 2: OFF
        ],
    );
}

#[test]
fn heater_thermostat_auto_60_eco_45_hysteresis_5() {
    table(
        "heater auto",
        params(|_| {}),
        Mode::Auto,
        &[
            (20.0, 30.0, 55.1, false, false),
            (20.0, 30.0, 55.0, false, true),  // ≤ 55: ON
            (20.0, 30.0, 59.9, false, true),  // holds
            (20.0, 30.0, 60.0, false, false), // ≥ 60: OFF
            (20.0, 30.0, 56.0, false, false), // holds OFF
        ],
    );
    table(
        "heater eco",
        params(|_| {}),
        Mode::Eco,
        &[
            (20.0, 30.0, 40.1, false, false),
            (20.0, 30.0, 40.0, false, true),  // ≤ 40: ON
            (20.0, 30.0, 45.0, false, false), // ≥ 45: OFF
        ],
    );
}

#[test]
fn manual_follows_commands() {
    let mut rig = Rig::new(params(|_| {}), Mode::Manual);
    assert_eq!(rig.temps(20.0, 40.0, 50.0).state, OperatingState::Manual);
    rig.cmd(heat_core::Command::SetPump(true));
    rig.cmd(heat_core::Command::SetHeater(true));
    let out = rig.temps(20.0, 40.0, 50.0);
    assert!(out.pump && out.heater, "manual ON although dT is negative");
    rig.cmd(heat_core::Command::SetHeater(false));
    let out = rig.temps(60.0, 40.0, 50.0);
    assert!(
        out.pump && !out.heater,
        "manual OFF although the thermostat would heat"
    );
}

#[test]
fn minimum_on_and_off_times_hold_unless_safety() {
    let mut rig = Rig::new(
        params(|r| {
            r.pump_min_on_s = 60;
            r.pump_min_off_s = 90;
        }),
        Mode::Auto,
    );
    assert!(
        rig.temps(50.0, 40.0, TOP).pump,
        "t=30 ON, first switch is free"
    );
    assert!(
        rig.temps(42.0, 40.0, TOP).pump,
        "t=60: wants OFF, only 30 s on"
    );
    assert!(!rig.temps(42.0, 40.0, TOP).pump, "t=90: 60 s on, OFF");
    assert!(
        !rig.temps(50.0, 40.0, TOP).pump,
        "t=120: wants ON, 30 s off"
    );
    assert!(!rig.temps(50.0, 40.0, TOP).pump, "t=150: 60 s off");
    assert!(rig.temps(50.0, 40.0, TOP).pump, "t=180: 90 s off, ON");
    let out = rig.temps(155.0, 40.0, TOP);
    assert!(
        !out.pump,
        "boil stop switches OFF 30 s after ON: a safety OFF is never delayed"
    );
}

#[test]
fn operating_states_are_named() {
    let cases: &[(f64, f64, f64, OperatingState)] = &[
        (48.0, 40.0, TOP, OperatingState::Heating),
        (40.0, 40.0, TOP, OperatingState::Standby),
        (40.0, 40.0, 50.0, OperatingState::AuxHeating),
        (95.0, 88.0, 88.0, OperatingState::CollectorCooling),
        (150.0, 60.0, TOP, OperatingState::Overheated),
        (2.0, 20.0, TOP, OperatingState::FrostProtection),
        (f64::NAN, 20.0, TOP, OperatingState::Fault),
    ];
    for &(c, b, t, state) in cases {
        let mut rig = Rig::new(params(|_| {}), Mode::Auto);
        assert_eq!(rig.temps(c, b, t).state, state, "{c} {b} {t}");
        assert_eq!(state.as_str(), rig.ctl.status().state.as_str());
    }
    let mut rig = Rig::new(params(|r| r.night_cooling_enabled = true), Mode::Auto);
    assert_eq!(
        rig.temps(60.0, 82.0, 82.0).state,
        OperatingState::NightCooling
    );
    let mut rig = Rig::new(params(|_| {}), Mode::Off);
    assert_eq!(rig.temps(60.0, 40.0, 40.0).state, OperatingState::Off);
}

#[test]
fn sensor_faults_drive_safe_outputs() {
    use heat_core::{Reading, Readings, SensorFault};
    let faults = [
        Reading::Value(f64::NAN),
        Reading::Value(f64::INFINITY),
        Reading::Value(-127.0),
        Reading::Value(85.0),
        Reading::Fault(SensorFault::Missing),
        Reading::Fault(SensorFault::Disconnected),
    ];
    for bad in faults {
        // Collector faulted: pump OFF although it ran.
        let mut rig = Rig::new(params(|_| {}), Mode::Auto);
        assert!(rig.temps(60.0, 40.0, 50.0).pump);
        let out = rig.step(Readings {
            collector: bad,
            ..Readings::celsius(60.0, 40.0, 50.0)
        });
        assert!(!out.pump && out.heater, "{bad:?} on collector");
        assert_eq!(out.state, OperatingState::Fault);
        // Tank bottom faulted: pump OFF.
        let out = rig.step(Readings {
            tank_bottom: bad,
            ..Readings::celsius(60.0, 40.0, 50.0)
        });
        assert!(!out.pump, "{bad:?} on tank bottom");
        // Tank top faulted: heater OFF, and the pump too (loading needs both tank sensors).
        let mut rig = Rig::new(params(|_| {}), Mode::Auto);
        assert!(rig.temps(60.0, 40.0, 50.0).heater);
        let out = rig.step(Readings {
            tank_top: bad,
            ..Readings::celsius(60.0, 40.0, 50.0)
        });
        assert!(!out.heater && !out.pump, "{bad:?} on tank top");
        assert!(!rig.ctl.status().alarms.is_empty());
    }
}

#[test]
fn sensor_alarm_clears_with_hysteresis() {
    use heat_core::{Alarm, EventKind, Interlock, Readings, Sensor, SensorFault};
    let mut rig = Rig::new(params(|r| r.fault_clear_s = 60), Mode::Auto);
    let out = rig.step(Readings {
        tank_top: f64::NAN.into(),
        ..Readings::celsius(20.0, 30.0, 50.0)
    });
    assert!(
        out.events
            .iter()
            .any(|e| e.kind
                == EventKind::InterlockActivated(Interlock::SensorFault(Sensor::TankTop)))
    );
    assert_eq!(
        rig.ctl.status().alarms,
        vec![Alarm::Sensor {
            sensor: Sensor::TankTop,
            fault: SensorFault::NotFinite
        }]
    );
    assert!(!rig.temps(20.0, 30.0, 50.0).heater, "0 s good");
    assert!(!rig.temps(20.0, 30.0, 50.0).heater, "30 s good");
    let out = rig.temps(20.0, 30.0, 50.0);
    assert!(out.heater, "60 s good: alarm cleared, heater back");
    assert!(
        out.events.iter().any(
            |e| e.kind == EventKind::InterlockReleased(Interlock::SensorFault(Sensor::TankTop))
        )
    );
    assert!(rig.ctl.status().alarms.is_empty());
}

#[test]
fn a_crc_glitch_holds_the_last_value_instead_of_stopping_the_pump() {
    use heat_core::{Readings, SensorFault};
    let mut rig = Rig::new(params(|_| {}), Mode::Auto);
    assert!(rig.temps(60.0, 40.0, 58.0).pump);
    let glitch = Readings {
        collector: SensorFault::Crc.into(),
        ..Readings::celsius(60.0, 40.0, 58.0)
    };
    assert!(rig.step(glitch).pump, "30 s old value held");
    assert!(rig.step(glitch).pump, "60 s");
    assert!(rig.step(glitch).pump, "90 s = stale timeout, still held");
    let out = rig.step(glitch);
    assert!(!out.pump, "120 s: stale, pump OFF");
    assert_eq!(rig.ctl.status().collector.fault, Some(SensorFault::Stale));
}

/// Found by heat-sim: while the collector sensor was faulted, the collector passed the boil stop
/// unseen; when it reads again inside the hysteresis band the boil stop must count as latched.
#[test]
fn boil_stop_band_is_latched_after_a_collector_fault() {
    let mut c = Controller::new(Params::default(), Timestamp::from_secs(0));
    let mut t = 0;
    let mut step = |c: &mut Controller, collector: Reading| {
        t += 30;
        let r = Readings {
            collector,
            tank_bottom: Reading::Value(60.0),
            tank_top: Reading::Value(TOP),
        };
        c.step(Timestamp::from_secs(t), &r)
    };
    for _ in 0..4 {
        assert!(
            step(&mut c, Reading::Value(120.0)).pump,
            "cooling runs at 120"
        );
    }
    assert!(!step(&mut c, Reading::Fault(SensorFault::Missing)).pump);
    // Back, good for the clear time, at 145 °C: inside 140..150, so still OFF and latched.
    for _ in 0..4 {
        let out = step(&mut c, Reading::Value(145.0));
        assert!(!out.pump, "{out:?}");
    }
    assert!(c.boil_stop_latched());
    // Released below 140 as usual.
    assert!(step(&mut c, Reading::Value(139.0)).pump);
}

/// Fail-safe at start-up: a collector first read inside the boil-stop band (≥ 140 °C) may be
/// cooling from above 150 °C, so it counts as latched until it reads below 140 °C.
#[test]
fn boil_stop_band_is_latched_at_start_up() {
    table(
        "boil stop at start-up",
        params(|_| {}),
        Mode::Auto,
        &[
            (149.0, 60.0, TOP, false, false), // first value, inside 140..150: latched
            (145.0, 60.0, TOP, false, false), // still latched
            (140.0, 60.0, TOP, false, false), // 140 is not below 140
            (139.9, 60.0, TOP, true, false),  // released; cooling runs
            (149.0, 60.0, TOP, true, false),  // history known now: below 150 runs
        ],
    );
    // Below the band at start-up nothing is latched.
    table(
        "boil stop below the band at start-up",
        params(|_| {}),
        Mode::Auto,
        &[(139.9, 60.0, TOP, true, false)],
    );
    // A collector fault at start-up, then a first value in the band: latched as well.
    let mut rig = Rig::new(params(|_| {}), Mode::Auto);
    let fault = Readings {
        collector: Reading::Fault(SensorFault::Missing),
        tank_bottom: Reading::Value(60.0),
        tank_top: Reading::Value(TOP),
    };
    assert!(!rig.step(fault).pump);
    let out = rig.temps(141.0, 60.0, TOP);
    assert!(!out.pump, "{out:?}");
    assert!(rig.ctl.boil_stop_latched());
}

/// The evacuated-tube function: minute by minute from 06:00 with a collector that reads no
/// warmer than the tank (flat, or tubes whose heat has not reached the sensor).
fn kick_minutes(
    edit: impl FnOnce(&mut heat_core::RawParams),
    mode: Mode,
    minutes: u64,
) -> Vec<bool> {
    use heat_core::{LocalTime, Timestamp};
    let mut ctl = heat_core::Controller::new(
        params(|r| {
            r.tube_kick_enabled = true;
            edit(r);
        }),
        Timestamp::from_secs(0),
    );
    ctl.command(Timestamp::from_secs(0), heat_core::Command::SetMode(mode))
        .expect("mode accepted");
    (0..minutes)
        .map(|m| {
            let now = Timestamp::from_secs(m * 60);
            let local = LocalTime::new(20_000, 6 * 60 + u16::try_from(m).unwrap());
            ctl.step_on(now, local, &Readings::celsius(30.0, 30.0, 40.0), now)
                .pump
        })
        .collect()
}

#[test]
fn the_tube_kick_runs_the_pump_briefly_after_idling_inside_its_window() {
    // Defaults: 07:00–19:00, after 30 min OFF, for 30 s (steps of a minute: one step ON).
    let pump = kick_minutes(|_| {}, Mode::Auto, 180);
    let on: Vec<usize> = (0..pump.len()).filter(|&m| pump[m]).collect();
    // 06:00–06:59 is outside the window; the first kick is at 07:00 (idle since 06:00), then
    // every 31 min: 30 min OFF, one minute ON.
    assert_eq!(on, [60, 91, 122, 153], "{pump:?}");
    // Off by default.
    let pump = kick_minutes(|r| r.tube_kick_enabled = false, Mode::Auto, 180);
    assert!(pump.iter().all(|on| !on));
    // Never in off or manual mode.
    for mode in [Mode::Off, Mode::Manual] {
        assert!(
            kick_minutes(|_| {}, mode, 180).iter().all(|on| !on),
            "{mode}"
        );
    }
    // Eco kicks too; a longer run time holds the pump ON for it.
    let pump = kick_minutes(|r| r.tube_kick_run_s = 150.0, Mode::Eco, 95);
    let on: Vec<usize> = (0..pump.len()).filter(|&m| pump[m]).collect();
    assert_eq!(on, [60, 61, 62, 93, 94], "{pump:?}");
}

#[test]
fn no_tube_kick_during_a_boil_stop_or_a_sensor_fault() {
    use heat_core::{LocalTime, Timestamp};
    let mut ctl = heat_core::Controller::new(
        params(|r| r.tube_kick_enabled = true),
        Timestamp::from_secs(0),
    );
    let noon = |m: u64| LocalTime::new(20_000, 12 * 60 + u16::try_from(m % 600).unwrap());
    for m in 0..120 {
        let now = Timestamp::from_secs(m * 60);
        // Boil stop: a collector at 160 °C with a tank too hot for the differential.
        let out = ctl.step_on(now, noon(m), &Readings::celsius(160.0, 30.0, 40.0), now);
        assert!(!out.pump, "minute {m}: pump ON in a boil stop");
    }
    let mut ctl = heat_core::Controller::new(
        params(|r| r.tube_kick_enabled = true),
        Timestamp::from_secs(0),
    );
    for m in 0..120 {
        let now = Timestamp::from_secs(m * 60);
        let out = ctl.step_on(now, noon(m), &Readings::celsius(30.0, 30.0, f64::NAN), now);
        assert!(!out.pump, "minute {m}: pump ON with the tank top faulted");
    }
}
