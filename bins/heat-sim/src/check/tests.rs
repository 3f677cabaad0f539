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
        pump: false,
        heater: false,
        collector_reading: Ok(40.0),
        tank_top_reading: Ok(50.0),
        blind: Blind::default(),
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
