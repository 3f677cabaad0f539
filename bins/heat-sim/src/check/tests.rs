//! The checker must be able to fail: deliberately bad sequences are counted, excused ones are
//! exposures, and a good sequence is clean.

use super::*;

fn limits() -> Limits {
    Limits::from_params(&heat_core::RawParams::default())
}

/// A calm step: everything OFF, plausible temperatures, good readings.
fn calm(now_s: u64) -> Observation {
    Observation {
        now_ms: now_s * 1000,
        collector_c: 40.0,
        tank_top_c: 50.0,
        tank_bottom_c: 40.0,
        pump: false,
        heater: false,
        collector_reading: Ok(40.0),
        tank_top_reading: Ok(50.0),
        tank_bottom_reading: Ok(40.0),
        blind: Blind::default(),
        heater_comfort_only: true,
        minute_of_day: 12 * 60,
        heater_away: false,
        local_day: 20_000,
        disinfection_allowed: true,
    }
}

#[test]
fn heater_on_above_the_tank_maximum_is_a_violation() {
    let mut c = SafetyChecker::new(limits());
    let o = Observation {
        heater: true,
        tank_top_c: 91.0,
        ..calm(0)
    };
    assert_eq!(c.observe(&o), [Violation::HeaterAboveTankMax]);
    // Within the sensor margin it is not.
    let o = Observation {
        heater: true,
        tank_top_c: 90.3,
        ..calm(30)
    };
    assert!(c.observe(&o).is_empty());
    assert_eq!(c.violation_count(), 1);
}

#[test]
fn pump_on_while_boil_stop_is_latched_is_a_violation_until_release() {
    let mut c = SafetyChecker::new(limits());
    assert!(
        c.observe(&Observation {
            collector_c: 151.0,
            ..calm(0)
        })
        .is_empty()
    );
    // Cooled to 145: still latched (release below 140).
    let bad = Observation {
        collector_c: 145.0,
        pump: true,
        ..calm(30)
    };
    assert_eq!(c.observe(&bad), [Violation::PumpDuringBoilStop]);
    // Below 140 + margin: released, the pump may run.
    let ok = Observation {
        collector_c: 139.0,
        pump: true,
        ..calm(60)
    };
    assert!(c.observe(&ok).is_empty());
}

#[test]
fn switching_on_too_soon_is_a_violation_but_switching_off_never() {
    let mut c = SafetyChecker::new(limits());
    let on = |t| Observation {
        pump: true,
        heater: true,
        ..calm(t)
    };
    assert!(c.observe(&on(0)).is_empty(), "the first switch is free");
    assert!(c.observe(&calm(10)).is_empty(), "OFF after 10 s is allowed");
    let found = c.observe(&on(40));
    assert_eq!(
        found,
        [Violation::PumpShortCycle, Violation::HeaterShortCycle]
    );
    assert!(c.observe(&calm(50)).is_empty());
    // Pump min OFF 60 s, heater 120 s.
    let found = c.observe(&on(110));
    assert_eq!(found, [Violation::HeaterShortCycle]);
}

#[test]
fn heater_with_a_faulted_tank_top_is_a_violation_after_the_allowed_hold() {
    let mut c = SafetyChecker::new(limits());
    assert!(c.observe(&calm(0)).is_empty());
    let missing = Observation {
        heater: true,
        tank_top_reading: Err(SensorError::Missing),
        ..calm(30)
    };
    assert_eq!(c.observe(&missing), [Violation::HeaterWithFaultedTankTop]);

    let mut c = SafetyChecker::new(limits());
    let crc = |t| Observation {
        heater: true,
        tank_top_reading: Err(SensorError::Crc),
        ..calm(t)
    };
    assert!(
        c.observe(&Observation {
            heater: true,
            ..calm(0)
        })
        .is_empty()
    );
    assert!(
        c.observe(&crc(90)).is_empty(),
        "a CRC glitch holds the value 90 s"
    );
    assert_eq!(c.observe(&crc(120)), [Violation::HeaterWithFaultedTankTop]);
}

#[test]
fn breaks_the_controller_could_not_prevent_are_exposures() {
    let mut c = SafetyChecker::new(limits());
    let o = Observation {
        heater: true,
        tank_top_c: 95.0,
        blind: Blind {
            tank_top_stuck: true,
            ..Blind::default()
        },
        ..calm(0)
    };
    assert!(c.observe(&o).is_empty());
    assert_eq!(c.violation_count(), 0);
    assert_eq!(
        c.exposures().get(&Exposure {
            rule: Violation::HeaterAboveTankMax,
            cause: "tank-top sensor stuck"
        }),
        Some(&1)
    );
}

/// The limits of the day-17593 run (`heat-sim --days 17600 --seed 1`): boil stop 120 °C,
/// hysteresis 11 K (both set by earlier commands), so the band is 109..120 °C.
fn day_17593_limits() -> Limits {
    Limits {
        boil_stop: 120.0,
        boil_stop_hysteresis: 11.0,
        ..limits()
    }
}

/// The collector sensor reads a frozen 59.5625 °C while the truth climbs to 126.94 °C; the fault
/// clears at a true 119.36 °C, inside the band. The controller saw 59.5625 then 119.3125: nothing
/// it saw crossed 120, so it runs collector cooling. That is an exposure of the stuck sensor, not
/// a violation (the 2 violations of day 17593.53 were this).
#[test]
fn a_boil_stop_crossing_hidden_by_a_stuck_collector_is_an_exposure_after_it_clears() {
    let stuck = Blind {
        collector_stuck: true,
        ..Blind::default()
    };
    let step = |t: u64, truth: f64, pump: bool, blind: Blind| Observation {
        collector_c: truth,
        pump,
        collector_reading: Ok(if blind.collector_stuck {
            59.5625
        } else {
            truth
        }),
        blind,
        ..calm(t)
    };
    let run = |blind: Blind| {
        let mut c = SafetyChecker::new(day_17593_limits());
        // Seen below the band first, then the hidden climb and cooling.
        assert!(
            c.observe(&step(0, 60.0, false, Blind::default()))
                .is_empty()
        );
        for (i, truth) in [100.0, 118.0, 126.94, 123.04, 120.27]
            .into_iter()
            .enumerate()
        {
            assert!(
                c.observe(&step(30 * (i as u64 + 1), truth, false, blind))
                    .is_empty()
            );
        }
        // The fault clears (or never was); the pump starts: true 119.36, then 113.73, 108.69.
        let a = c.observe(&step(180, 119.36, true, Blind::default()));
        let b = c.observe(&step(210, 113.73, true, Blind::default()));
        let released = c.observe(&step(240, 108.69, true, Blind::default()));
        assert!(released.is_empty(), "below 109 + margin: released");
        (c, [a, b].concat())
    };

    let (c, found) = run(stuck);
    assert!(found.is_empty(), "{found:?}");
    assert_eq!(
        c.exposures().get(&Exposure {
            rule: Violation::PumpDuringBoilStop,
            cause: "boil-stop crossing hidden by a stuck or held collector value"
        }),
        Some(&2)
    );

    // The same temperatures with a sensor that saw the crossing: both steps are violations.
    let (c, found) = run(Blind::default());
    assert_eq!(
        found,
        [Violation::PumpDuringBoilStop, Violation::PumpDuringBoilStop]
    );
    assert!(c.exposures().is_empty());
}

/// A stuck sensor that clears while the truth is still above the boil stop hides nothing: the
/// controller sees that value and must latch.
#[test]
fn a_stuck_collector_clearing_above_the_boil_stop_is_still_judged() {
    let mut c = SafetyChecker::new(day_17593_limits());
    let stuck = Blind {
        collector_stuck: true,
        ..Blind::default()
    };
    assert!(c.observe(&calm(0)).is_empty());
    let hidden = Observation {
        collector_c: 126.0,
        blind: stuck,
        ..calm(30)
    };
    assert!(c.observe(&hidden).is_empty());
    let seen = Observation {
        collector_c: 125.0,
        collector_reading: Ok(125.0),
        ..calm(60)
    };
    assert!(c.observe(&seen).is_empty());
    let pump_in_band = Observation {
        collector_c: 115.0,
        collector_reading: Ok(115.0),
        pump: true,
        ..calm(90)
    };
    assert_eq!(c.observe(&pump_in_band), [Violation::PumpDuringBoilStop]);
}

/// Start-up inside the band counts as latched (heat-core does the same: docs/control.md).
#[test]
fn start_up_inside_the_boil_stop_band_counts_as_latched() {
    let boot = |collector_c: f64| Observation {
        collector_c,
        collector_reading: Ok(collector_c),
        pump: true,
        ..calm(0)
    };
    let mut c = SafetyChecker::new(limits());
    assert_eq!(c.observe(&boot(149.0)), [Violation::PumpDuringBoilStop]);
    let mut c = SafetyChecker::new(limits());
    // 140 + margin is the checker's lower edge of the band.
    assert!(c.observe(&boot(140.4)).is_empty());
    // Once seen below the band, a climb back into it does not latch.
    assert!(c.observe(&boot(149.0)).is_empty());
}

/// Windows 05:00–08:00 and 22:00–02:00 (across midnight); the third off.
fn windowed() -> Limits {
    Limits {
        heater_windows: [(300, 480), (1320, 120), (600, 600)],
        heater_min_on_ms: 300_000,
        ..limits()
    }
}

#[test]
fn heater_windows_are_half_open_cross_midnight_and_off_when_empty() {
    let l = windowed();
    for (minute, open) in [
        (299, false),
        (300, true),
        (479, true),
        (480, false),
        (600, false),
        (1319, false),
        (1320, true),
        (0, true),
        (119, true),
        (120, false),
    ] {
        assert_eq!(l.in_heater_window(minute), open, "minute {minute}");
    }
    // The defaults: one window all day.
    assert!((0..1440).all(|m| limits().in_heater_window(m)));
}

#[test]
fn a_heater_start_outside_the_windows_in_a_comfort_mode_is_a_violation() {
    let mut c = SafetyChecker::new(windowed());
    let at = |s: u64, minute: u16, heater: bool, comfort: bool| Observation {
        heater,
        minute_of_day: minute,
        heater_comfort_only: comfort,
        ..calm(s)
    };
    assert!(c.observe(&at(0, 600, false, true)).is_empty());
    assert_eq!(
        c.observe(&at(30, 600, true, true)),
        [Violation::HeaterStartOutsideWindow]
    );
    // In manual (not a comfort mode) the user decides.
    let mut c = SafetyChecker::new(windowed());
    assert!(c.observe(&at(0, 600, false, false)).is_empty());
    assert!(c.observe(&at(30, 600, true, false)).is_empty());
    // Inside a window it is the thermostat's business.
    let mut c = SafetyChecker::new(windowed());
    assert!(c.observe(&at(0, 400, false, true)).is_empty());
    assert!(c.observe(&at(30, 400, true, true)).is_empty());
}

#[test]
fn a_heater_start_in_holiday_mode_without_a_disinfection_is_a_violation() {
    let mut c = SafetyChecker::new(windowed());
    let away = |s: u64, heater: bool| Observation {
        heater,
        // Inside a window: holiday shuts them all.
        minute_of_day: 400,
        heater_comfort_only: false,
        heater_away: true,
        ..calm(s)
    };
    assert!(c.observe(&away(0, false)).is_empty());
    assert_eq!(
        c.observe(&away(30, true)),
        [Violation::HeaterStartOutsideWindow]
    );
}

#[test]
fn the_heater_may_finish_its_minimum_on_time_after_a_window_closes_but_no_longer() {
    let mut c = SafetyChecker::new(windowed());
    // ON inside the window, which closes at 08:00 (minute 480); steps of 30 s.
    assert!(
        c.observe(&Observation {
            heater: true,
            minute_of_day: 479,
            ..calm(0)
        })
        .is_empty()
    );
    let mut found = Vec::new();
    for i in 1..=13 {
        found.extend(c.observe(&Observation {
            heater: true,
            minute_of_day: 480 + u16::try_from(i / 2).unwrap(),
            ..calm(i * 30)
        }));
        if i * 30 <= 360 {
            assert!(
                found.is_empty(),
                "still within min on + a step at {} s",
                i * 30
            );
        }
    }
    // Outside since 30 s: at 360 s that is 330 s, min on + a step; at 390 s it is more.
    assert_eq!(found, [Violation::HeaterOnOutsideWindow]);
}

#[test]
fn a_failed_heater_relay_outside_the_windows_is_an_exposure() {
    let mut c = SafetyChecker::new(windowed());
    let failed = Blind {
        heater_relay_failed: true,
        ..Blind::default()
    };
    for s in 0..20 {
        let o = Observation {
            heater: true,
            minute_of_day: 600,
            blind: failed,
            ..calm(s * 30)
        };
        assert!(c.observe(&o).is_empty());
    }
    assert_eq!(c.violation_count(), 0);
    assert!(!c.exposures().is_empty());
}

#[test]
fn the_pump_loading_the_tank_at_its_emergency_level_is_a_violation() {
    let mut c = SafetyChecker::new(limits());
    let hot = |s: u64, collector_c: f64| Observation {
        pump: true,
        collector_c,
        tank_top_c: 95.6,
        tank_bottom_c: 93.0,
        collector_reading: Ok(collector_c),
        tank_top_reading: Ok(95.6),
        tank_bottom_reading: Ok(93.0),
        ..calm(s)
    };
    assert_eq!(
        c.observe(&hot(0, 110.0)),
        [Violation::PumpLoadingAtTankEmergency]
    );
    // Taking heat out (night cooling, frost) is allowed there.
    assert!(c.observe(&hot(30, 60.0)).is_empty());
    // Above tank_max but below the emergency level collector cooling may load it.
    let cooling = Observation {
        tank_top_c: 93.0,
        tank_bottom_c: 91.0,
        ..hot(60, 110.0)
    };
    assert!(c.observe(&cooling).is_empty());
    // A stuck tank sensor excuses it.
    let blind = Observation {
        blind: Blind {
            tank_top_stuck: true,
            ..Blind::default()
        },
        ..hot(90, 110.0)
    };
    assert!(c.observe(&blind).is_empty());
    assert_eq!(c.violation_count(), 1);
}

/// Weekly disinfection, start window 01:00–05:00.
fn weekly() -> Limits {
    Limits::from_params(&heat_core::RawParams {
        disinfection_interval_days: 7.0,
        ..heat_core::RawParams::default()
    })
}

/// Steps of 10 min over `days` local days from day 20 000; `heater` and `top` decide each step
/// from (day, minute). Returns the rule 7 violations by local day.
fn disinfection_days(
    limits: Limits,
    days: i64,
    allowed: bool,
    step: impl Fn(i64, u16) -> (bool, f64),
) -> Vec<i64> {
    let mut c = SafetyChecker::new(limits);
    let mut missed = Vec::new();
    for i in 0..days * 144 {
        let (day, minute) = (20_000 + i / 144, u16::try_from(i % 144 * 10).unwrap());
        let (heater, top) = step(day, minute);
        let found = c.observe(&Observation {
            heater,
            tank_top_c: top,
            tank_top_reading: Ok(top),
            minute_of_day: minute,
            local_day: day,
            disinfection_allowed: allowed,
            // Comfort windows are rule 5's business.
            heater_comfort_only: false,
            ..calm(u64::try_from(i).unwrap() * 600)
        });
        if found.contains(&Violation::DisinfectionMissed) {
            missed.push(day);
        }
    }
    missed
}

#[test]
fn a_due_window_without_heating_is_a_violation_from_the_second_night() {
    // Never heated, never hot: the first night may pass (none recorded yet), not the second.
    let missed = disinfection_days(weekly(), 4, true, |_, _| (false, 50.0));
    assert_eq!(missed, [20_001, 20_002, 20_003]);
    // The user's mode did not allow one: nothing is missed.
    assert!(disinfection_days(weekly(), 4, false, |_, _| (false, 50.0)).is_empty());
}

#[test]
fn a_held_target_resets_the_interval_and_heating_in_the_window_counts_as_trying() {
    // Held at 66 °C from 02:00 to 03:00 on the first night: the next is due after 7 + 1 days.
    let held = |day: i64, minute: u16| {
        let top = if day == 20_000 && (120..180).contains(&minute) {
            66.0
        } else {
            50.0
        };
        (false, top)
    };
    assert_eq!(
        disinfection_days(weekly(), 12, true, held),
        [20_008, 20_009, 20_010, 20_011]
    );
    // Heating in every window, even where it cannot reach the target, is trying.
    let trying = |_: i64, minute: u16| ((60..70).contains(&minute), 50.0);
    assert!(disinfection_days(weekly(), 12, true, trying).is_empty());
}
