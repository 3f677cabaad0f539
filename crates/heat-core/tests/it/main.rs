//! Integration tests of heat-core: rule tables, priorities, commands, properties, the docs table.
//! Its purity (no IO, no clock, no thread) is a tidy check in xtask, shared with heat-loop.

mod commands;
mod docs;
mod energy;
mod holiday;
mod priority;
mod props;
mod rules;

use heat_core::{Command, Controller, Mode, Output, Params, RawParams, Readings, Timestamp};

/// Seconds between steps in table tests, as in the original loop.
const LOOP_S: u64 = 30;

/// Default params with anti short-cycling off, so tables test one rule at a time.
fn params(edit: impl FnOnce(&mut RawParams)) -> Params {
    let mut raw = RawParams {
        pump_min_on_s: 0,
        pump_min_off_s: 0,
        heater_min_on_s: 0,
        heater_min_off_s: 0,
        fault_clear_s: 0,
        ..RawParams::default()
    };
    edit(&mut raw);
    Params::try_from(raw).expect("test params valid")
}

/// A controller plus its clock.
struct Rig {
    ctl: Controller,
    secs: u64,
}

impl Rig {
    fn new(params: Params, mode: Mode) -> Self {
        let mut ctl = Controller::new(params, Timestamp::from_secs(0));
        ctl.command(Timestamp::from_secs(0), Command::SetMode(mode))
            .expect("mode accepted");
        Self { ctl, secs: 0 }
    }

    fn now(&self) -> Timestamp {
        Timestamp::from_secs(self.secs)
    }

    /// One loop later, with these readings.
    fn step(&mut self, readings: Readings) -> Output {
        self.secs += LOOP_S;
        self.ctl.step(self.now(), &readings)
    }

    fn temps(&mut self, c: f64, b: f64, t: f64) -> Output {
        self.step(Readings::celsius(c, b, t))
    }

    fn cmd(&mut self, cmd: Command) -> heat_core::CommandOutcome {
        self.ctl.command(self.now(), cmd).expect("command accepted")
    }
}

/// One row: collector, tank bottom, tank top → expected pump, heater.
type Row = (f64, f64, f64, bool, bool);

/// Runs `rows` in order on a fresh controller and checks every output.
fn table(name: &str, params: Params, mode: Mode, rows: &[Row]) {
    let mut rig = Rig::new(params, mode);
    for (i, &(c, b, t, pump, heater)) in rows.iter().enumerate() {
        let out = rig.temps(c, b, t);
        assert_eq!(
            (out.pump, out.heater),
            (pump, heater),
            "{name} row {i}: collector {c}, bottom {b}, top {t} → state {}, events {:?}",
            out.state,
            out.events
        );
    }
}
