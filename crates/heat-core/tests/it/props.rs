//! Property tests over arbitrary sequences of readings (faults, NaN, ±inf, jumps), commands and
//! time steps, checked against an independent model of what the controller may know.

use heat_core::{
    Command, Controller, Interlock, Mode, Output, Parameter, Params, RawParams, Reading, Readings,
    SensorFault, Timestamp,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Step { dt_ms: u64, readings: Readings },
    Cmd(Command),
}

fn fault() -> impl Strategy<Value = SensorFault> {
    prop::sample::select(vec![
        SensorFault::Missing,
        SensorFault::Crc,
        SensorFault::PowerOnValue,
        SensorFault::Disconnected,
        SensorFault::OutOfRange,
        SensorFault::NotFinite,
        SensorFault::Stale,
        SensorFault::Io,
    ])
}

fn reading() -> impl Strategy<Value = Reading> {
    prop_oneof![
        6 => (-60.0..260.0f64).prop_map(Reading::Value),
        // Values at the thresholds, where hysteresis bugs live.
        4 => prop::sample::select(vec![
            -127.0, 2.5, 3.0, 5.0, 10.0, 55.0, 60.0, 84.9, 85.0, 86.0, 89.9, 90.0, 95.0, 139.9, 140.0,
            150.0, 151.0,
        ]).prop_map(Reading::Value),
        1 => prop::sample::select(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY]).prop_map(Reading::Value),
        // Scratchpad-checked values, 85.0 among them.
        2 => prop::sample::select(vec![20.0, 84.9375, 85.0, 85.0625, 150.0]).prop_map(Reading::Converted),
        2 => fault().prop_map(Reading::Fault),
    ]
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        prop::sample::select(Mode::ALL.to_vec()).prop_map(Command::SetMode),
        any::<bool>().prop_map(Command::SetPump),
        any::<bool>().prop_map(Command::SetHeater),
        (
            prop::sample::select(Parameter::ALL.to_vec()),
            prop_oneof![
                -50.0..250.0f64,
                (-20i32..200).prop_map(f64::from),
                Just(f64::NAN)
            ],
        )
            .prop_map(|(p, v)| Command::SetParameter(p, v)),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (prop_oneof![0..1_000u64, 0..120_000u64, Just(30_000u64)], reading(), reading(), reading())
            .prop_map(|(dt_ms, collector, tank_bottom, tank_top)| Op::Step {
                dt_ms,
                readings: Readings { collector, tank_bottom, tank_top },
            }),
        1 => command().prop_map(Op::Cmd),
    ]
}

fn config() -> impl Strategy<Value = Params> {
    (0..120u64, 0..120u64, 0..300u64, 0..300u64, any::<bool>()).prop_map(
        |(pon, poff, hon, hoff, night)| {
            Params::try_from(RawParams {
                pump_min_on_s: pon,
                pump_min_off_s: poff,
                heater_min_on_s: hon,
                heater_min_off_s: hoff,
                night_cooling_enabled: night,
                ..RawParams::default()
            })
            .expect("valid")
        },
    )
}

/// What the model knows of one sensor: its last finite, in-range raw value and when.
#[derive(Debug, Clone, Copy, Default)]
struct Known {
    last: Option<(f64, u64)>,
}

impl Known {
    /// Feeds a reading; returns the only value the controller can be using, if any.
    fn feed(&mut self, r: Reading, now: u64, min: f64, max: f64, stale_ms: u64) -> Option<f64> {
        match r {
            Reading::Value(v) | Reading::Converted(v)
                if v.is_finite() && (min..=max).contains(&v) =>
            {
                self.last = Some((v, now));
                Some(v)
            }
            Reading::Fault(f) if f.is_transient() => self
                .last
                .filter(|&(_, at)| now - at <= stale_ms)
                .map(|(v, _)| v),
            _ => None,
        }
    }
}

fn run(params: &Params, ops: &[Op]) -> Vec<Output> {
    let mut ctl = Controller::new(params.clone(), Timestamp::from_millis(0));
    let mut now = 0u64;
    let mut outs = Vec::new();
    let raw = params.raw().clone();
    let stale = raw.stale_timeout_s * 1000;
    let (mut kc, mut kb, mut kt) = (Known::default(), Known::default(), Known::default());
    // (on, last switch) per relay; None until the first switch.
    let mut pump_sw: Option<u64> = None;
    let mut heater_sw: Option<u64> = None;
    let (mut pump, mut heater) = (false, false);
    for op in ops {
        match *op {
            Op::Cmd(cmd) => {
                let before = ctl.status();
                if ctl.command(Timestamp::from_millis(now), cmd).is_err() {
                    assert_eq!(ctl.status(), before, "rejected {cmd:?} changed the state");
                }
            }
            Op::Step { dt_ms, readings } => {
                now += dt_ms;
                let out = ctl.step(Timestamp::from_millis(now), &readings);
                let p = ctl.params().raw().clone();
                let c = kc.feed(
                    readings.collector,
                    now,
                    raw.collector_min_c,
                    raw.collector_max_c,
                    stale,
                );
                let b = kb.feed(
                    readings.tank_bottom,
                    now,
                    raw.tank_sensor_min_c,
                    raw.tank_sensor_max_c,
                    stale,
                );
                let t = kt.feed(
                    readings.tank_top,
                    now,
                    raw.tank_sensor_min_c,
                    raw.tank_sensor_max_c,
                    stale,
                );

                // The heater is never ON while tank top ≥ tank max or unknown.
                if out.heater {
                    let t = t.expect("heater ON with tank top unknown");
                    assert!(t < p.tank_max, "heater ON at tank top {t} ≥ {}", p.tank_max);
                }
                // The pump is never ON while boil stop is latched, or without its sensors.
                if out.pump {
                    assert!(!ctl.boil_stop_latched(), "pump ON with boil stop latched");
                    let c = c.expect("pump ON with collector unknown");
                    assert!(c < p.boil_stop, "pump ON at collector {c}");
                    b.expect("pump ON with tank bottom unknown");
                }
                // No relay switches faster than its minimum time, except to go safe.
                for (on, was, sw, min_on, min_off, interlock) in [
                    (
                        out.pump,
                        &mut pump,
                        &mut pump_sw,
                        p.pump_min_on_s,
                        p.pump_min_off_s,
                        out.pump_interlock,
                    ),
                    (
                        out.heater,
                        &mut heater,
                        &mut heater_sw,
                        p.heater_min_on_s,
                        p.heater_min_off_s,
                        out.heater_interlock,
                    ),
                ] {
                    if on != *was {
                        if let Some(at) = *sw {
                            let held = now - at;
                            let min = if *was { min_on } else { min_off } * 1000;
                            if held < min {
                                assert!(!on, "switched ON after {held} ms < {min} ms");
                                assert!(
                                    interlock.is_some_and(Interlock::forces_off),
                                    "early OFF without interlock"
                                );
                            }
                        }
                        *was = on;
                        *sw = Some(now);
                    }
                }
                let e = ctl.energy();
                assert!(e.collected_kwh.is_finite() && e.collected_kwh >= 0.0);
                assert!(e.heater_kwh.is_finite() && e.heater_kwh >= 0.0);
                outs.push(out);
            }
        }
    }
    outs
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn safety_invariants_hold(params in config(), ops in prop::collection::vec(op(), 1..200)) {
        run(&params, &ops);
    }

    #[test]
    fn same_inputs_give_same_outputs(params in config(), ops in prop::collection::vec(op(), 1..100)) {
        prop_assert_eq!(run(&params, &ops), run(&params, &ops));
    }
}
