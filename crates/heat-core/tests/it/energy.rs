//! Counters: collected heat from flow × ΔT × the fluid's heat capacity, heater energy from its
//! power, and the operating hours and starts of both loads.

use heat_core::fluid::volumetric_heat_capacity;
use heat_core::{Fluid, Mode, Readings};

use crate::{Rig, params};

#[test]
fn one_hour_of_pumping_at_10_k_and_heating() {
    // 4 L/min × 10 K × ρ·cp of propylene glycol 45 % (the default) at the mean 45 °C,
    // ≈ 3.78 kJ/(L·K): ≈ 2.52 kW; heater 3 kW.
    let heat_capacity = volumetric_heat_capacity(Fluid::PropyleneGlycol, 45.0, 45.0);
    assert!((3.75..3.80).contains(&heat_capacity), "{heat_capacity}");
    let mut rig = Rig::new(params(|_| {}), Mode::Auto);
    rig.temps(50.0, 40.0, 50.0); // pump and heater switch ON here
    for _ in 0..120 {
        rig.temps(50.0, 40.0, 50.0);
    }
    let e = rig.ctl.energy();
    assert!(
        (e.collected_kwh - 4.0 / 60.0 * 10.0 * heat_capacity).abs() < 1e-9,
        "{e:?}"
    );
    assert!((e.heater_kwh - 3.0).abs() < 1e-9, "{e:?}");
}

#[test]
fn the_fluid_its_concentration_and_the_mean_temperature_set_the_heat_capacity() {
    // One hour at collector 70 °C, tank bottom 50 °C (mean 60 °C), tank top hot enough that
    // the heater stays OFF.
    let collected = |fluid: Fluid, pct: f64| {
        let mut rig = Rig::new(
            params(|r| {
                r.fluid = fluid;
                r.fluid_concentration_pct = pct;
            }),
            Mode::Auto,
        );
        rig.temps(70.0, 50.0, 70.0);
        for _ in 0..120 {
            rig.temps(70.0, 50.0, 70.0);
        }
        rig.ctl.energy().collected_kwh
    };
    for (fluid, pct) in [
        (Fluid::Water, 0.0),
        // Water ignores the concentration.
        (Fluid::Water, 45.0),
        (Fluid::PropyleneGlycol, 30.0),
        (Fluid::PropyleneGlycol, 45.0),
        (Fluid::EthyleneGlycol, 45.0),
    ] {
        let expected = 4.0 / 60.0 * 20.0 * volumetric_heat_capacity(fluid, pct, 60.0);
        let got = collected(fluid, pct);
        assert!(
            (got - expected).abs() < 1e-9,
            "{fluid} {pct} %: {got} vs {expected}"
        );
    }
    // Glycol holds less heat than water, and more glycol less still.
    let water = collected(Fluid::Water, 0.0);
    let pg30 = collected(Fluid::PropyleneGlycol, 30.0);
    let pg45 = collected(Fluid::PropyleneGlycol, 45.0);
    assert!(water > pg30 && pg30 > pg45, "{water} {pg30} {pg45}");
}

#[test]
fn nothing_counts_while_loads_are_off_or_the_loop_loses_heat() {
    let mut rig = Rig::new(params(|_| {}), Mode::Off);
    for _ in 0..10 {
        rig.temps(50.0, 40.0, 50.0);
    }
    assert_eq!(rig.ctl.energy(), heat_core::Energy::default());
    // Frost protection pumps tank heat out: not counted as collected.
    let mut rig = Rig::new(params(|_| {}), Mode::Auto);
    for _ in 0..10 {
        assert!(rig.temps(2.0, 20.0, 58.0).pump);
    }
    assert_eq!(rig.ctl.energy().collected_kwh, 0.0);
}

#[test]
fn a_long_gap_is_capped_at_the_stale_timeout() {
    let mut rig = Rig::new(params(|_| {}), Mode::Auto);
    rig.temps(50.0, 58.0, 50.0); // heater ON, pump OFF
    rig.secs += 10 * 3600;
    rig.step(Readings::celsius(50.0, 58.0, 50.0));
    let e = rig.ctl.energy();
    // At most the 90 s stale timeout at 3 kW, not ten hours.
    assert!((e.heater_kwh - 3.0 * 90.0 / 3600.0).abs() < 1e-9, "{e:?}");
}

#[test]
fn a_resumed_controller_continues_the_counters_and_the_mode_with_loads_off() {
    use heat_core::{Controller, DailyEnergy, Energy, Memory, Runtime, Timestamp};
    let before = Energy {
        collected_kwh: 12.5,
        heater_kwh: 3.25,
    };
    let hours = Runtime {
        pump_hours: 100.5,
        pump_starts: 40,
        heater_hours: 7.25,
        heater_starts: 9,
    };
    let ctl = Controller::resume(
        params(|_| {}),
        Timestamp::from_secs(0),
        Memory {
            mode: Mode::Manual,
            energy: before,
            runtime: hours,
            daily: DailyEnergy::default(),
            last_disinfection_day: Some(20_400),
            holiday: heat_core::Holiday::default(),
        },
    );
    let s = ctl.status();
    assert_eq!((s.mode, s.energy, s.runtime), (Mode::Manual, before, hours));
    assert_eq!(s.disinfection.last_day, Some(20_400));
    assert!(
        !s.pump && !s.heater && !s.manual_pump && !s.manual_heater,
        "{s:?}"
    );
    // Counting continues from the persisted totals: one hour of heater at 3 kW adds 3 kWh.
    let mut rig = Rig {
        ctl: Controller::resume(
            params(|_| {}),
            Timestamp::from_secs(0),
            Memory {
                mode: Mode::Auto,
                energy: before,
                runtime: hours,
                ..Memory::default()
            },
        ),
        secs: 0,
    };
    rig.temps(50.0, 58.0, 50.0); // heater ON, pump OFF
    for _ in 0..120 {
        rig.temps(50.0, 58.0, 50.0);
    }
    let e = rig.ctl.energy();
    assert_eq!(e.collected_kwh, before.collected_kwh, "{e:?}");
    assert!(
        (e.heater_kwh - (before.heater_kwh + 3.0)).abs() < 1e-9,
        "{e:?}"
    );
}

#[test]
fn operating_hours_count_the_relay_on_time_and_starts_count_off_to_on() {
    let mut rig = Rig::new(params(|_| {}), Mode::Auto);
    rig.temps(50.0, 40.0, 50.0); // pump and heater switch ON here: one start each
    for _ in 0..120 {
        rig.temps(50.0, 40.0, 50.0); // one hour at 30 s a step
    }
    let r = rig.ctl.runtime();
    assert!((r.pump_hours - 1.0).abs() < 1e-9, "{r:?}");
    assert!((r.heater_hours - 1.0).abs() < 1e-9, "{r:?}");
    assert_eq!((r.pump_starts, r.heater_starts), (1, 1), "{r:?}");
    // Both OFF (tank hot enough, no differential) for an hour: the hours stand still.
    for _ in 0..120 {
        rig.temps(50.0, 49.0, 61.0);
    }
    let off = rig.ctl.runtime();
    assert!(
        (off.pump_hours - r.pump_hours - 30.0 / 3600.0).abs() < 1e-9,
        "{off:?}"
    );
    assert_eq!((off.pump_starts, off.heater_starts), (1, 1), "{off:?}");
    // And ON again: one more start each.
    rig.temps(50.0, 40.0, 50.0);
    let again = rig.ctl.runtime();
    assert_eq!(
        (again.pump_starts, again.heater_starts),
        (2, 2),
        "{again:?}"
    );
    assert_eq!(rig.ctl.status().runtime, again);
}

#[test]
fn a_long_gap_adds_at_most_the_stale_timeout_of_hours() {
    let mut rig = Rig::new(params(|_| {}), Mode::Auto);
    rig.temps(50.0, 58.0, 50.0); // heater ON, pump OFF
    rig.secs += 10 * 3600;
    rig.step(Readings::celsius(50.0, 58.0, 50.0));
    let r = rig.ctl.runtime();
    assert!((r.heater_hours - 90.0 / 3600.0).abs() < 1e-9, "{r:?}");
    assert_eq!(r.pump_hours, 0.0, "{r:?}");
}

#[test]
fn today_and_yesterday_roll_at_local_midnight_and_a_clock_set_back_does_not_roll() {
    use heat_core::{Controller, LocalTime, Timestamp};
    let mut ctl = Controller::new(params(|_| {}), Timestamp::from_secs(0));
    // The heater runs (cold tank top) at 3 kW: 0.025 kWh per 30 s step.
    let mut t = 0;
    let mut step = |ctl: &mut Controller, local: Option<LocalTime>| {
        t += 30;
        let now = Timestamp::from_secs(t);
        ctl.step_on(now, local, &Readings::celsius(20.0, 20.0, 30.0), now);
    };
    let at = |day, minute| LocalTime::new(day, minute);
    // Day 100, 23:50 to 23:59: 20 steps; the first interval is only the first switch.
    for i in 0..20u16 {
        step(&mut ctl, at(100, 1430 + i / 2));
    }
    let d = ctl.daily_energy();
    assert_eq!(d.day, Some(100));
    let today = d.today.heater_kwh;
    assert!((today - 19.0 * 0.025).abs() < 1e-9, "{today}");
    // Midnight: the day rolls; yesterday holds day 100 (with the interval across midnight).
    step(&mut ctl, at(101, 0));
    let d = ctl.daily_energy();
    assert_eq!(d.day, Some(101));
    assert!(
        (d.yesterday.heater_kwh - 20.0 * 0.025).abs() < 1e-9,
        "{d:?}"
    );
    assert_eq!(d.today.heater_kwh, 0.0);
    // The clock set back to day 100: no roll, counting goes on into day 101.
    step(&mut ctl, at(100, 1439));
    step(&mut ctl, None);
    let d = ctl.daily_energy();
    assert_eq!(d.day, Some(101));
    assert!((d.today.heater_kwh - 2.0 * 0.025).abs() < 1e-9, "{d:?}");
    // A jump over days: yesterday was not counted, so it is zero.
    step(&mut ctl, at(105, 600));
    let d = ctl.daily_energy();
    assert_eq!((d.day, d.yesterday.heater_kwh), (Some(105), 0.0));
    // The totals never care.
    assert!((ctl.energy().heater_kwh - 23.0 * 0.025).abs() < 1e-9);
}

#[test]
fn a_resumed_controller_waits_each_load_s_minimum_off_time() {
    // Defaults: heater minimum OFF 120 s. A cold tank top wants the heater at once.
    let p = heat_core::Params::default();
    use heat_core::{Controller, Memory, Timestamp};
    let mut ctl = Controller::resume(p, Timestamp::from_secs(1000), Memory::default());
    let cold = heat_core::Readings::celsius(20.0, 20.0, 20.0);
    let out = ctl.step(Timestamp::from_secs(1030), &cold);
    assert!(!out.heater, "{:?}", out.events);
    let pending = ctl.status().pending.heater.expect("held back");
    assert_eq!((pending.to, pending.in_ms), (true, 90_000));
    assert!(ctl.step(Timestamp::from_secs(1120), &cold).heater);
}
