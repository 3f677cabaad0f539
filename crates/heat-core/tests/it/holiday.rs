//! Holiday mode: the heater stays off, solar runs, the tank is recooled at night, and the end
//! date returns the mode it was entered from (docs/control.md, "Holiday mode").

use heat_core::{
    Command, CommandError, Controller, EventKind, Holiday, HolidayChange, LocalTime, Memory, Mode,
    OperatingState, Output, Readings, Timestamp,
};

use crate::{Rig, params, table};

/// 2026-12-20 as a local day.
const END: i64 = 20_807;

fn at(day: i64, minute: u16) -> Option<LocalTime> {
    LocalTime::new(day, minute)
}

fn step_at(rig: &mut Rig, local: Option<LocalTime>, c: f64, b: f64, t: f64) -> Output {
    rig.secs += 30;
    let now = rig.now();
    rig.ctl
        .step_on(now, local, &Readings::celsius(c, b, t), now)
}

fn holiday_changes(out: &Output) -> Vec<HolidayChange> {
    out.events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Holiday(change) => Some(change),
            _ => None,
        })
        .collect()
}

#[test]
fn the_heater_stays_off_and_solar_runs() {
    table(
        "holiday",
        params(|_| {}),
        Mode::Holiday,
        &[
            (20.0, 20.0, 30.0, false, false), // tank top 30 °C: auto would heat
            (48.0, 40.0, 30.0, true, false),  // dT 8: the differential runs as in auto
            (44.0, 40.0, 30.0, false, false), // dT 4: OFF
            (92.0, 80.0, 84.0, true, false),  // collector cooling as in auto
        ],
    );
}

#[test]
fn night_recooling_takes_the_tank_from_45_down_to_40() {
    // Night cooling off in the config: holiday recools anyway.
    table(
        "holiday recooling",
        params(|r| r.night_cooling_enabled = false),
        Mode::Holiday,
        &[
            (20.0, 44.5, 50.0, false, false), // bottom 44.5 < 45
            (20.0, 45.0, 50.0, true, false),  // 45 and 25 K colder collector: ON
            (20.0, 40.5, 50.0, true, false),  // holds down to 40
            (20.0, 39.5, 50.0, false, false), // below 40: OFF
            (20.0, 44.0, 50.0, false, false), // holds OFF below 45
        ],
    );
    // The same tank in auto stays as it is.
    table(
        "auto keeps it",
        params(|r| r.night_cooling_enabled = false),
        Mode::Auto,
        &[(20.0, 50.0, 70.0, false, false)],
    );
}

#[test]
fn the_end_date_returns_the_mode_it_was_entered_from_at_local_midnight() {
    let mut rig = Rig::new(params(|_| {}), Mode::Eco);
    rig.cmd(Command::SetMode(Mode::Holiday));
    rig.cmd(Command::SetHolidayEnd(Some(END)));
    assert_eq!(
        rig.ctl.status().holiday,
        Holiday {
            end_day: Some(END),
            return_to: Mode::Eco
        }
    );
    // The commands' events.
    step_at(&mut rig, at(END - 2, 0), 20.0, 20.0, 30.0);
    // The evening before, no plausible clock, a clock set back: still away.
    for local in [at(END - 1, 1439), None, at(END - 30, 600)] {
        let out = step_at(&mut rig, local, 20.0, 20.0, 30.0);
        assert_eq!(rig.ctl.mode(), Mode::Holiday, "{local:?}");
        assert!(holiday_changes(&out).is_empty(), "{:?}", out.events);
        assert!(!out.heater);
    }
    let out = step_at(&mut rig, at(END, 0), 20.0, 20.0, 30.0);
    assert_eq!(
        holiday_changes(&out),
        [HolidayChange::Ended { back_to: Mode::Eco }]
    );
    assert_eq!(rig.ctl.mode(), Mode::Eco);
    assert_eq!(rig.ctl.status().holiday.end_day, None);
    // Back in eco the thermostat heats the 30 °C tank in the same step.
    assert!(out.heater, "{:?}", out.events);
}

#[test]
fn a_holiday_returning_to_manual_starts_with_the_loads_as_they_are() {
    let mut rig = Rig::new(params(|_| {}), Mode::Manual);
    rig.cmd(Command::SetMode(Mode::Holiday));
    rig.cmd(Command::SetHolidayEnd(Some(END)));
    assert!(step_at(&mut rig, at(END - 1, 720), 48.0, 40.0, 30.0).pump);
    let out = step_at(&mut rig, at(END, 1), 48.0, 40.0, 30.0);
    assert_eq!(rig.ctl.mode(), Mode::Manual);
    // Bumpless, as a manual mode set by command: the running pump keeps running.
    assert!(out.pump && rig.ctl.status().manual_pump && !out.heater);
}

#[test]
fn leaving_holiday_clears_the_date_and_a_date_passed_outside_it_expires() {
    let mut rig = Rig::new(params(|_| {}), Mode::Holiday);
    rig.cmd(Command::SetHolidayEnd(Some(END)));
    rig.cmd(Command::SetMode(Mode::Auto));
    assert_eq!(rig.ctl.status().holiday.end_day, None);

    // A date set outside holiday mode waits for it ...
    rig.cmd(Command::SetHolidayEnd(Some(END)));
    step_at(&mut rig, at(END - 1, 0), 20.0, 20.0, 50.0);
    assert_eq!(rig.ctl.status().holiday.end_day, Some(END));
    // ... and once it has passed it cannot end a later holiday at once.
    let out = step_at(&mut rig, at(END, 0), 20.0, 20.0, 50.0);
    assert_eq!(
        holiday_changes(&out),
        [HolidayChange::Expired { end_day: END }]
    );
    rig.cmd(Command::SetMode(Mode::Holiday));
    step_at(&mut rig, at(END + 1, 0), 20.0, 20.0, 50.0);
    assert_eq!(rig.ctl.mode(), Mode::Holiday);
}

#[test]
fn disinfection_while_away_is_a_setting() {
    let mut off = Rig::new(params(|r| r.holiday_disinfection = false), Mode::Holiday);
    let err = off
        .ctl
        .command(off.now(), Command::StartDisinfection)
        .expect_err("refused");
    assert_eq!(
        err,
        CommandError::NotAutomatic {
            mode: Mode::Holiday
        }
    );

    let mut on = Rig::new(
        params(|r| r.disinfection_interval_days = 7.0),
        Mode::Holiday,
    );
    on.cmd(Command::StartDisinfection);
    // A disinfection heats at once; recooling waits while it does (tank bottom 50 °C, cold
    // collector: recooling would otherwise run).
    let out = step_at(&mut on, at(END, 120), 20.0, 50.0, 50.0);
    assert!(out.heater && !out.pump, "{:?}", out.events);
    assert!(on.ctl.disinfection().running);
}

#[test]
fn a_state_file_cannot_make_holiday_return_to_itself() {
    let ctl = Controller::resume(
        params(|_| {}),
        Timestamp::from_secs(0),
        Memory {
            mode: Mode::Holiday,
            holiday: Holiday {
                end_day: Some(END),
                return_to: Mode::Holiday,
            },
            ..Memory::default()
        },
    );
    assert_eq!(ctl.mode(), Mode::Holiday);
    assert_eq!(ctl.status().holiday.return_to, Mode::Auto);
    assert_eq!(ctl.state(), OperatingState::Starting);
}
