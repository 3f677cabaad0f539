//! Property tests over arbitrary sequences of readings (faults, NaN, ±inf, jumps), commands and
//! time steps, checked against an independent model of what the controller may know.

use heat_core::{
    Command, Controller, DisinfectionChange, EventKind, HolidayChange, Interlock, LocalTime, Mode,
    OperatingState, Output, Parameter, Params, RawParams, Reading, Readings, SensorFault,
    Timestamp,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Step {
        dt_ms: u64,
        readings: Readings,
        /// The local time of day, `None` as with a clock that is not set.
        local: Option<LocalTime>,
    },
    Cmd(Command),
}

/// A local time, or none; the minute jumps about as a wall clock set by NTP may.
fn local() -> impl Strategy<Value = Option<LocalTime>> {
    prop::option::weighted(0.8, (0..3_000i64, 0..1_440u16))
        .prop_map(|t| t.and_then(|(day, minute)| LocalTime::new(day, minute)))
}

/// The test's own reading of a time window: `[start, end)` in hours, across midnight when
/// start > end, never when start = end.
fn in_hours(start: f64, end: f64, minute: u16) -> bool {
    let m = f64::from(minute) / 60.0;
    if start < end {
        start <= m && m < end
    } else {
        start > end && (m >= start || m < end)
    }
}

/// Whether `minute` is inside one of the heater windows.
fn in_window(p: &RawParams, minute: u16) -> bool {
    [
        (p.heater_window_1_start, p.heater_window_1_end),
        (p.heater_window_2_start, p.heater_window_2_end),
        (p.heater_window_3_start, p.heater_window_3_end),
    ]
    .into_iter()
    .any(|(start, end)| in_hours(start, end, minute))
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
        Just(Command::StartDisinfection),
        // End dates around the days local() gives, or none.
        prop::option::of(-10..3_010i64).prop_map(Command::SetHolidayEnd),
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
        4 => (prop_oneof![0..1_000u64, 0..120_000u64, Just(30_000u64)], reading(), reading(), reading(), local())
            .prop_map(|(dt_ms, collector, tank_bottom, tank_top, local)| Op::Step {
                dt_ms,
                readings: Readings { collector, tank_bottom, tank_top },
                local,
            }),
        1 => command().prop_map(Op::Cmd),
    ]
}

fn config() -> impl Strategy<Value = Params> {
    // Quarter hours, 00:00 to 24:00.
    let hour = || (0..=96u8).prop_map(|q| f64::from(q) / 4.0);
    (
        (
            0..120u64,
            0..120u64,
            0..300u64,
            0..300u64,
            any::<bool>(),
            any::<bool>(),
            0..8u8,
            any::<bool>(),
        ),
        [(hour(), hour()), (hour(), hour()), (hour(), hour())],
    )
        .prop_map(
            |((pon, poff, hon, hoff, night, kick, days, holiday_dis), windows)| {
                let [(s1, e1), (s2, e2), (s3, e3)] = windows;
                Params::try_from(RawParams {
                    pump_min_on_s: pon,
                    pump_min_off_s: poff,
                    heater_min_on_s: hon,
                    heater_min_off_s: hoff,
                    night_cooling_enabled: night,
                    tube_kick_enabled: kick,
                    disinfection_interval_days: f64::from(days),
                    holiday_disinfection: holiday_dis,
                    heater_window_1_start: s1,
                    heater_window_1_end: e1,
                    heater_window_2_start: s2,
                    heater_window_2_end: e2,
                    heater_window_3_start: s3,
                    heater_window_3_end: e3,
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
    let (mut energy, mut runtime) = (ctl.energy(), ctl.runtime());
    // When the running disinfection started and how long it may run (monotonic ms).
    let mut run_started: Option<(u64, u64)> = None;
    for op in ops {
        match *op {
            Op::Cmd(cmd) => {
                let before = ctl.status();
                if ctl.command(Timestamp::from_millis(now), cmd).is_err() {
                    assert_eq!(ctl.status(), before, "rejected {cmd:?} changed the state");
                }
            }
            Op::Step {
                dt_ms,
                readings,
                local,
            } => {
                now += dt_ms;
                let at = Timestamp::from_millis(now);
                let before = ctl.status();
                let out = ctl.step_on(at, local, &readings, at);
                let p = ctl.params().raw().clone();
                clock_functions_follow_their_clocks(&before, &out, local, now, &mut run_started);
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
                // Nothing loads the tank at or above its emergency level: a pump running there
                // takes heat out (frost protection, night cooling: collector not above tank).
                // Judged on the values the controller uses: a sensor back from a fault is not
                // used until its clear time has passed, which this model does not track.
                let status = ctl.status();
                let (uc, ub, ut) = (
                    status.collector.value,
                    status.tank_bottom.value,
                    status.tank_top.value,
                );
                let tank = match (ub, ut) {
                    (Some(b), Some(t)) => Some(b.max(t)),
                    (x, None) | (None, x) => x,
                };
                if out.pump
                    && let (Some(tank), Some(c), Some(b)) = (tank, uc, ub)
                    && tank >= p.tank_emergency
                {
                    assert!(
                        c <= b,
                        "pump loading the tank at {tank} ≥ {} (collector {c}, bottom {b})",
                        p.tank_emergency
                    );
                }
                // The solar differential starts the pump only above the minimum collector
                // temperature (its latch holds down to the fixed 5 K below it). An evacuated-tube
                // kick also shows as `heating`, and may run at any collector temperature.
                let kick_possible = p.tube_kick_enabled
                    && local.is_some_and(|l| {
                        in_hours(p.tube_kick_start, p.tube_kick_end, l.minute_of_day())
                    });
                if out.pump && !pump && out.state == OperatingState::Heating && !kick_possible {
                    let c = c.expect("differential with collector unknown");
                    assert!(
                        c >= p.collector_min - 5.0,
                        "differential started the pump at collector {c} < {} − 5",
                        p.collector_min
                    );
                }
                // In auto and eco the heater starts only inside a time window, or with the clock
                // unknown (then every time counts as inside, like the default 00:00–24:00).
                let disinfecting = ctl.status().disinfection.running;
                if out.heater
                    && !heater
                    && matches!(ctl.mode(), Mode::Auto | Mode::Eco)
                    && !disinfecting
                    && let Some(local) = local
                {
                    let m = local.minute_of_day();
                    assert!(
                        in_window(&p, m),
                        "heater started at minute {m} outside {p:?}"
                    );
                }
                // Outside the windows it runs on only while its minimum ON time holds it.
                if out.heater
                    && heater
                    && matches!(ctl.mode(), Mode::Auto | Mode::Eco)
                    && !disinfecting
                    && local.is_some_and(|l| !in_window(&p, l.minute_of_day()))
                {
                    let since = heater_sw.expect("ON since a switch");
                    assert!(
                        now - since < p.heater_min_on_s * 1000,
                        "heater ON outside its windows {} ms after it started",
                        now - since
                    );
                }
                // Off and manual start the pump only for frost protection or the request (no
                // automatic function, the tube kick included, runs there).
                if out.pump && !pump {
                    match ctl.mode() {
                        Mode::Off => assert_eq!(
                            out.pump_interlock,
                            Some(Interlock::FrostProtection),
                            "pump started in off mode"
                        ),
                        Mode::Manual => assert!(
                            ctl.status().manual_pump
                                || out.pump_interlock == Some(Interlock::FrostProtection),
                            "pump started in manual mode without a request"
                        ),
                        Mode::Auto | Mode::Eco | Mode::Holiday => {}
                    }
                }
                // Away, the heater runs only for a disinfection, and only where allowed.
                if out.heater && !heater && ctl.mode() == Mode::Holiday {
                    assert!(
                        disinfecting && p.holiday_disinfection,
                        "heater started in holiday mode (disinfection running {disinfecting})"
                    );
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
                // The counters are finite and never go back.
                let e = ctl.energy();
                assert!(e.collected_kwh.is_finite() && e.collected_kwh >= energy.collected_kwh);
                assert!(e.heater_kwh.is_finite() && e.heater_kwh >= energy.heater_kwh);
                let r = ctl.runtime();
                assert!(r.pump_hours.is_finite() && r.pump_hours >= runtime.pump_hours);
                assert!(r.heater_hours.is_finite() && r.heater_hours >= runtime.heater_hours);
                assert!(r.pump_starts >= runtime.pump_starts);
                assert!(r.heater_starts >= runtime.heater_starts);
                (energy, runtime) = (e, r);
                outs.push(out);
            }
        }
    }
    outs
}

/// The clock-based functions start and end only when their clocks say so, however the local
/// time jumps: a scheduled disinfection starts inside its window once its interval has passed
/// since the last one; a run fails only after its time has passed on the monotonic clock; a
/// holiday ends only on or after its end date.
fn clock_functions_follow_their_clocks(
    before: &heat_core::Status,
    out: &Output,
    local: Option<LocalTime>,
    now: u64,
    run_started: &mut Option<(u64, u64)>,
) {
    let p = &before.params;
    for e in &out.events {
        match e.kind {
            EventKind::Disinfection(DisinfectionChange::Started { requested }) => {
                let limit = if requested {
                    heat_core::disinfection::REQUESTED_RUN_LIMIT_MS
                } else {
                    let local = local.expect("scheduled disinfection without a local time");
                    let (start, end) = (p.disinfection_start, p.disinfection_end);
                    let m = f64::from(local.minute_of_day()) / 60.0;
                    assert!(
                        in_hours(start, end, local.minute_of_day()),
                        "scheduled disinfection at {m} h outside {start}–{end}"
                    );
                    let interval = p.disinfection_interval_days as i64;
                    assert!(interval > 0, "scheduled disinfection with the function off");
                    if let Some(last) = before.disinfection.last_day {
                        assert!(
                            local.day() - last >= interval,
                            "disinfection on day {} after day {last}, interval {interval}",
                            local.day()
                        );
                    }
                    ((end - start).rem_euclid(24.0) * 3_600_000.0) as u64
                };
                *run_started = Some((now, limit));
            }
            EventKind::Disinfection(DisinfectionChange::Failed) => {
                let (at, limit) = run_started.expect("a failed run had started");
                assert!(
                    now - at >= limit,
                    "run failed after {} ms < {limit} ms",
                    now - at
                );
            }
            EventKind::Holiday(HolidayChange::Ended { .. }) => {
                let end = before
                    .holiday
                    .end_day
                    .expect("holiday ended without an end date");
                let today = local.expect("holiday ended without a local time").day();
                assert!(
                    today >= end,
                    "holiday ended on day {today} before its end {end}"
                );
                assert_eq!(before.mode, Mode::Holiday);
            }
            _ => {}
        }
    }
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

/// Steps after a start-up inside the boil-stop band: the collector stays in or above the band
/// (or faults), the tanks read anything, and any mode or manual request may arrive.
fn band_ops(band_low: f64) -> impl Strategy<Value = Vec<Op>> {
    let collector = prop_oneof![
        4 => (band_low..band_low + 60.0).prop_map(Reading::Value),
        1 => fault().prop_map(Reading::Fault),
    ];
    let step = (0..120_000u64, collector, reading(), reading(), local()).prop_map(
        |(dt_ms, collector, tank_bottom, tank_top, local)| Op::Step {
            dt_ms,
            readings: Readings {
                collector,
                tank_bottom,
                tank_top,
            },
            local,
        },
    );
    let cmd = prop_oneof![
        prop::sample::select(Mode::ALL.to_vec()).prop_map(Command::SetMode),
        any::<bool>().prop_map(Command::SetPump),
        any::<bool>().prop_map(Command::SetHeater),
    ]
    .prop_map(Op::Cmd);
    prop::collection::vec(prop_oneof![4 => step, 1 => cmd], 1..100)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Fail-safe at start-up (docs/control.md): a first collector value inside the boil-stop
    /// band counts as latched, so while the collector never reads below boil stop − hysteresis
    /// the pump never runs, whatever the mode, the requests and the tank readings.
    #[test]
    fn boot_inside_the_boil_stop_band_is_latched(
        (params, first, ops) in config().prop_flat_map(|p| {
            let low = p.raw().boil_stop - p.raw().boil_stop_hysteresis;
            (Just(p), low..low + 60.0, band_ops(low))
        }),
        bottom in 0.0..95.0f64,
        top in 0.0..95.0f64,
    ) {
        let mut ctl = Controller::new(params, Timestamp::from_millis(0));
        let out = ctl.step(Timestamp::from_millis(30_000), &Readings::celsius(first, bottom, top));
        prop_assert!(!out.pump, "pump ON at start-up with collector {first}");
        prop_assert!(ctl.boil_stop_latched(), "not latched at start-up with collector {first}");
        let mut now = 30_000;
        for op in ops {
            match op {
                Op::Cmd(cmd) => {
                    let _ = ctl.command(Timestamp::from_millis(now), cmd);
                }
                Op::Step {
                    dt_ms,
                    readings,
                    local,
                } => {
                    now += dt_ms;
                    let at = Timestamp::from_millis(now);
                    let out = ctl.step_on(at, local, &readings, at);
                    prop_assert!(!out.pump, "pump ON in the band after start-up: {readings:?}");
                }
            }
            // A command's answer may switch at once in the future loop: judge the state too.
            prop_assert!(ctl.boil_stop_latched());
        }
    }
}
