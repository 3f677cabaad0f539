//! `heat-sim`: heat-core driving the simulated plant through heat-hw's adapter, for many days
//! of seeded random weather, injected faults and adversarial commands, as fast as the machine
//! allows (simulated time, no sleeping), judged by an independent [`check::SafetyChecker`].
//!
//! The loop is the daemon's loop without MQTT and without real time: the same heat-loop
//! [`Machine`] (hold after a relay error, commands acted on at once, events) on the same
//! heat-hw [`Plant`] the daemon runs under `--simulate` ([`SimulatedPlant`]), fed with its
//! sweeps through `Sweep::to_readings`, its relay commands executed on the plant's guarded
//! relays by heat-hw's [`heat_hw::drive`], its physics moved on by [`Plant::advance`]. The
//! random faults are injected into the physics directly, since they are drawn as the run goes.
//!
//! The daemon restarts too ([`restart`]): the sim keeps the daemon's state file in memory
//! (heat-persist's snapshot, write policy and encoding, two generations), and at random moments
//! ([`Options::mean_restart_interval`]) drops the controller and starts a new one from the file
//! as the daemon does, often after damaging the file; the safety checker runs on across the
//! restarts, and the restarts add their own rules (the counters).
//!
//! The wall clock is simulated too: the run starts at [`Options::start`] in
//! [`Options::time_zone`] (by default a POSIX TZ rule, so a run does not depend on the machine's
//! zone), and each step hands the loop the local time of day, so weeks and DST changes go by.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::tz::TimeZone;

use heat_core::{
    Command, CommandError, Controller, Interlock, LocalTime, Mode, ParamError, Parameter, Params,
    SensorFault, SensorStatus, Timestamp,
};
use heat_hw::sim::{PlantState, SimConfig, SimFault, SimulatedPlant, Weather};
use heat_hw::{Advance, Plant, RelayOutputs, RelayRole, SensorRole};
use heat_loop::{LoopEvent, Machine};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

pub mod check;
pub mod restart;
pub mod sweep;

use check::{Blind, Limits, Observation, SafetyChecker};
use restart::{Persistence, RestartKind};

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Simulated days.
    pub days: u32,
    /// Seed of weather, faults and commands.
    pub seed: u64,
    /// Control-loop period.
    pub period: Duration,
    /// Mean time between injected faults.
    pub mean_fault_interval: Duration,
    /// Mean duration of an injected fault.
    pub mean_fault_duration: Duration,
    /// Mean time between adversarial commands.
    pub mean_command_interval: Duration,
    /// The wall time at the start.
    pub start: jiff::Timestamp,
    /// The time zone the local time of day is in.
    pub time_zone: TimeZone,
    /// The parameters at the start (commands change them): the configuration every restart
    /// restores under.
    pub params: Params,
    /// The daemon's `persist_interval`: the state file is written after every accepted
    /// command, otherwise at most this often.
    pub persist_interval: Duration,
    /// Mean time between restarts of the daemon; `None`: it never restarts.
    pub mean_restart_interval: Option<Duration>,
}

/// 2026-03-22T00:00:00Z, a week before the spring DST change in Europe.
pub const DEFAULT_START: jiff::Timestamp = jiff::Timestamp::constant(1_774_137_600, 0);

/// Central European time, with its DST rule (last Sunday of March, 02:00 → 03:00; last Sunday
/// of October, 03:00 → 02:00).
pub const DEFAULT_TIME_ZONE: &str = "CET-1CEST,M3.5.0,M10.5.0/3";

impl Default for Options {
    fn default() -> Self {
        Self {
            days: 30,
            seed: 1,
            period: Duration::from_secs(30),
            mean_fault_interval: Duration::from_secs(12 * 3600),
            mean_fault_duration: Duration::from_secs(3600),
            mean_command_interval: Duration::from_secs(2 * 3600),
            start: DEFAULT_START,
            time_zone: default_time_zone(),
            params: default_params(),
            persist_interval: heat_persist::policy::DEFAULT_INTERVAL,
            mean_restart_interval: Some(DEFAULT_RESTART_INTERVAL),
        }
    }
}

/// Default [`Options::mean_restart_interval`]: three days, so that a 1000-day run restarts
/// about 330 times, every kind of damage among them.
pub const DEFAULT_RESTART_INTERVAL: Duration = Duration::from_secs(3 * 86_400);

/// Hours in one operating state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateTime {
    /// Hours.
    pub hours: f64,
    /// Share of the run, %.
    pub percent: f64,
}

/// The result of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Simulated days.
    pub days: u32,
    /// Seed.
    pub seed: u64,
    /// Control steps run.
    pub steps: u64,
    /// Solar heat the pump loop delivered into the tank (true, from the plant's ledger; steps
    /// that moved heat into the tank), kWh.
    pub solar_kwh: f64,
    /// Heat the pump loop took out of the tank (frost protection, night cooling), kWh.
    pub pumped_out_kwh: f64,
    /// Heater energy into the tank (true, from the plant's ledger), kWh.
    pub heater_kwh: f64,
    /// Heat-core's own estimate of the collected energy, kWh.
    pub controller_collected_kwh: f64,
    /// Heat-core's own heater-energy counter, kWh.
    pub controller_heater_kwh: f64,
    /// Interlock activations by kind.
    pub interlocks: BTreeMap<String, u64>,
    /// Time in each operating state.
    pub states: BTreeMap<String, StateTime>,
    /// Commands sent.
    pub commands: u64,
    /// Thermal disinfections that happened, judged on the true tank top (at or above the
    /// target in force for the hold time without a break).
    pub disinfections: u64,
    /// The longest time without one, days (from the start, between them, and to the end).
    pub longest_disinfection_gap_days: f64,
    /// Rejected commands by reason.
    pub rejected: BTreeMap<String, u64>,
    /// Faults injected, by kind.
    pub faults: BTreeMap<String, u64>,
    /// How the DS18B20 85 °C question was answered (docs/hardware.md).
    pub power_on: PowerOnCheck,
    /// Relay write errors that put the plant in its safe state (holds started).
    pub relay_errors: u64,
    /// Safety violations by rule (must be empty).
    pub violations: BTreeMap<String, u64>,
    /// Total safety violations.
    pub violation_count: u64,
    /// The first violations: (simulated seconds, rule).
    pub first_violations: Vec<(f64, String)>,
    /// Rules broken while the controller was blind or powerless, by "rule: cause".
    pub exposures: BTreeMap<String, u64>,
    /// Restarts of the daemon, by kind (the damage done to the file first).
    pub restarts: BTreeMap<String, u64>,
    /// What the restarts started from: `current` (state.json), `previous` (state.json.prev),
    /// `defaults`.
    pub restart_sources: BTreeMap<String, u64>,
    /// Parameters dropped on restoring (out of range).
    pub restart_dropped: u64,
    /// The most pump and heater hours one restart lost.
    pub max_lost_hours: (f64, f64),
    /// State file writes (simulated, in memory).
    pub state_writes: u64,
}

/// The 85 °C bookkeeping of a run: every injected power-on value must be caught, and no real
/// 85.000 °C reading may be taken for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct PowerOnCheck {
    /// Sensor-steps on which an injected power-on value was what the sensor reported.
    pub injected_steps: u64,
    /// Of those, the steps on which heat-core showed the `power_on_value` fault and used no value.
    pub caught_steps: u64,
    /// `power_on_value` faults raised with no power-on value injected (false alarms).
    pub false_faults: u64,
    /// Sensor-steps that read a real 85.000 °C and heat-core used it.
    pub real_85_used: u64,
}

impl PowerOnCheck {
    /// Feeds one sensor's step: whether the plant reported the power-on value, what it read,
    /// and heat-core's status before and after.
    fn observe(
        &mut self,
        injected: bool,
        reading: &Result<f64, heat_hw::SensorError>,
        before: SensorStatus,
        after: SensorStatus,
    ) {
        let power_on = Some(SensorFault::PowerOnValue);
        if injected {
            self.injected_steps += 1;
            if after.fault == power_on && after.value.is_none() {
                self.caught_steps += 1;
            }
        } else if after.fault == power_on && before.fault != power_on {
            self.false_faults += 1;
        }
        if !injected && *reading == Ok(85.0) && after.value == Some(85.0) {
            self.real_85_used += 1;
        }
    }
}

const SECONDS_PER_DAY: u64 = 86_400;

/// The weather of one day: a seasonal swing plus random variation.
fn weather(day: u32, rng: &mut StdRng) -> Weather {
    let season = (2.0 * std::f64::consts::PI * f64::from(day % 365) / 365.0).cos();
    // Day 0 is midwinter: cold and dim; day 182 midsummer.
    Weather {
        peak_irradiance_w_m2: (650.0 - 350.0 * season + rng.random_range(-150.0..150.0))
            .clamp(100.0, 1100.0),
        cloudiness: rng.random_range(0.0..0.9),
        ambient_c: (
            10.0 - 14.0 * season + rng.random_range(-6.0..6.0),
            rng.random_range(2.0..9.0),
        ),
    }
}

fn random_role(rng: &mut StdRng) -> SensorRole {
    SensorRole::ALL[rng.random_range(0..SensorRole::ALL.len())]
}

fn random_fault(rng: &mut StdRng, s: &PlantState) -> SimFault {
    let role = random_role(rng);
    match rng.random_range(0..6) {
        0 => {
            // Stuck at what it reads now: the classic frozen probe.
            let v = match role {
                SensorRole::Collector => s.collector_c,
                SensorRole::TankBottom => s.tank_bottom_c,
                SensorRole::TankTop => s.tank_top_c,
                SensorRole::Ambient => s.ambient_c,
            };
            SimFault::Stuck(role, (v * 16.0).round() / 16.0)
        }
        1 => SimFault::PowerOnValue(role),
        2 => SimFault::Crc(role),
        3 => SimFault::Missing(role),
        4 => SimFault::Disconnected(role),
        _ => SimFault::RelayWrite(RelayRole::ALL[rng.random_range(0..2)]),
    }
}

fn fault_kind(f: &SimFault) -> &'static str {
    match f {
        SimFault::Stuck(..) => "stuck",
        SimFault::PowerOnValue(_) => "power_on_85",
        SimFault::Disconnected(_) => "disconnected",
        SimFault::Crc(_) => "crc",
        SimFault::Missing(_) => "missing",
        SimFault::RelayWrite(_) => "relay_write",
    }
}

fn random_value(p: Parameter, rng: &mut StdRng) -> f64 {
    let l = p.limits();
    match rng.random_range(0..10) {
        0..=4 => {
            let steps = ((l.max - l.min) / l.step).round() as u32;
            l.min + f64::from(rng.random_range(0..=steps)) * l.step
        }
        5 => l.max + l.step * f64::from(rng.random_range(1..50)),
        6 => l.min - l.step * f64::from(rng.random_range(1..50)),
        7 => [f64::NAN, f64::INFINITY, f64::NEG_INFINITY][rng.random_range(0..3)],
        _ => l.min + l.step * (f64::from(rng.random_range(0..20)) + 0.37),
    }
}

/// A command; `today` is the local day, for holiday end dates around it.
fn random_command(rng: &mut StdRng, today: i64) -> Command {
    match rng.random_range(0..22) {
        // Mostly back to auto, so the plant also spends time doing its job.
        0..=4 => Command::SetMode(Mode::Auto),
        5 => Command::SetMode(Mode::Eco),
        6 | 7 => Command::SetMode(Mode::Manual),
        8 => Command::SetMode(Mode::Off),
        9..=11 => Command::SetPump(rng.random_bool(0.5)),
        12..=14 => Command::SetHeater(rng.random_bool(0.5)),
        15 => Command::StartDisinfection,
        16 => Command::SetMode(Mode::Holiday),
        // From yesterday (ends a holiday at once) to three weeks away, or none.
        17 => Command::SetHolidayEnd(
            rng.random_bool(0.8)
                .then(|| today + rng.random_range(-1..21)),
        ),
        _ => {
            let p = Parameter::ALL[rng.random_range(0..Parameter::ALL.len())];
            Command::SetParameter(p, random_value(p, rng))
        }
    }
}

fn rejection(e: &CommandError) -> &'static str {
    match e {
        CommandError::NotManual { .. } => "not_manual",
        CommandError::NotAutomatic { .. } => "not_automatic",
        CommandError::Param(ParamError::NotFinite { .. }) => "not_finite",
        CommandError::Param(ParamError::OutOfRange { .. }) => "out_of_range",
        CommandError::Param(ParamError::OffStep { .. }) => "off_step",
        CommandError::Param(ParamError::CrossField { .. }) => "cross_field",
        _ => "other",
    }
}

fn interlock_name(i: Interlock) -> String {
    match i {
        Interlock::SensorFault(s) => format!("sensor_fault_{s}"),
        Interlock::BoilStop => "boil_stop".to_owned(),
        Interlock::TankMax => "tank_max".to_owned(),
        Interlock::TankEmergency => "tank_emergency".to_owned(),
        Interlock::FrostProtection => "frost_protection".to_owned(),
    }
}

/// Probability per step of an event with the given mean interval.
fn per_step(period: Duration, mean: Duration) -> f64 {
    (period.as_secs_f64() / mean.as_secs_f64().max(1e-9)).min(1.0)
}

/// The default zone: [`DEFAULT_TIME_ZONE`].
pub fn default_time_zone() -> TimeZone {
    // A constant rule, checked by a test; UTC would only lose the DST changes.
    TimeZone::posix(DEFAULT_TIME_ZONE).unwrap_or(TimeZone::UTC)
}

/// The default parameters with the heater windows 05:00–08:00 and 17:00–22:00, as a user
/// saving on the heater would set them, the evacuated-tube kick on and a weekly disinfection.
pub fn default_params() -> Params {
    let windows = [
        (Parameter::HeaterWindow1Start, 5.0),
        (Parameter::HeaterWindow1End, 8.0),
        (Parameter::HeaterWindow2Start, 17.0),
        (Parameter::HeaterWindow2End, 22.0),
    ];
    let raw = heat_core::RawParams {
        tube_kick_enabled: true,
        disinfection_interval_days: 7.0,
        ..heat_core::RawParams::default()
    };
    Params::try_from(raw)
        .and_then(|p| {
            windows
                .into_iter()
                .try_fold(p, |p, (param, value)| p.with(param, value))
        })
        // Valid values, checked by a test; the defaults are a fine run too.
        .unwrap_or_default()
}

/// Runs the simulation and returns its summary.
pub fn run(options: &Options) -> Summary {
    run_with_progress(options, &|| {})
}

/// [`run`], calling `day_done` after each simulated day (for a progress line across threads).
pub fn run_with_progress(options: &Options, day_done: &(dyn Fn() + Sync)) -> Summary {
    let start = options.start;
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut plant = SimulatedPlant::new(SimConfig {
        seed: options.seed,
        ..SimConfig::default()
    });
    let physics = plant.physics().clone();
    let period_ms = u64::try_from(options.period.as_millis())
        .unwrap_or(u64::MAX)
        .max(1);
    let steps_per_day = (SECONDS_PER_DAY * 1000).div_ceil(period_ms);
    let total_steps = steps_per_day * u64::from(options.days);
    let controller = Controller::new(options.params.clone(), Timestamp::from_millis(0));
    let mut checker = SafetyChecker::new(Limits::from_params(controller.params().raw()));
    // The status throttle is unused here (nothing publishes); any heartbeat does.
    let mut machine = Machine::new(controller, Duration::from_secs(60));
    let p_fault = per_step(options.period, options.mean_fault_interval);
    let p_clear = per_step(options.period, options.mean_fault_duration);
    let p_command = per_step(options.period, options.mean_command_interval);
    let p_restart = options
        .mean_restart_interval
        .map(|mean| per_step(options.period, mean));
    // Restarts draw from their own stream, so that turning them on or off leaves the weather,
    // faults and commands of a seed as they were.
    let mut restart_rng = StdRng::seed_from_u64(options.seed ^ 0x5245_5354_4152_5421);
    let mut persistence = Persistence::new(
        &options.params,
        options.persist_interval,
        Timestamp::from_millis(0),
    );
    let mut restarts: BTreeMap<String, u64> = BTreeMap::new();
    let mut restart_sources: BTreeMap<String, u64> = BTreeMap::new();
    let mut restart_dropped = 0;
    let mut max_lost_hours: (f64, f64) = (0.0, 0.0);

    let mut interlocks: BTreeMap<String, u64> = BTreeMap::new();
    let mut state_ms: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut rejected: BTreeMap<String, u64> = BTreeMap::new();
    let mut faults: BTreeMap<String, u64> = BTreeMap::new();
    let mut commands = 0;
    let mut relay_errors = 0;
    let mut power_on = PowerOnCheck::default();
    let (mut into_tank_j, mut out_of_tank_j) = (0.0, 0.0);

    for step in 0..total_steps {
        let now_ms = step * period_ms;
        let now = Timestamp::from_millis(now_ms);
        let wall = start
            .checked_add(jiff::SignedDuration::from_millis(
                i64::try_from(now_ms).unwrap_or(i64::MAX),
            ))
            .unwrap_or(jiff::Timestamp::MAX);
        let local = LocalTime::from_unix(
            wall.as_second(),
            options.time_zone.to_offset(wall).seconds(),
        );
        if step % steps_per_day == 0 {
            if step > 0 {
                day_done();
            }
            let day = u32::try_from(step / steps_per_day).unwrap_or(u32::MAX);
            let weather = weather(day, &mut rng);
            physics.with(|p| p.set_weather(weather));
        }

        // The daemon restarts: the old process is gone between two steps, the new one starts
        // from the file, drives every relay OFF, and runs this step.
        if let Some(p) = p_restart
            && step > 0
            && restart_rng.random_bool(p)
        {
            let kind = RestartKind::ALL[restart_rng.random_range(0..RestartKind::ALL.len())];
            let last = machine.controller().status();
            let r = persistence.restart(
                now,
                kind,
                &last,
                &options.params,
                options.period,
                &mut restart_rng,
            );
            *restarts.entry(r.kind.as_str().to_owned()).or_default() += 1;
            let source = match r.start.source {
                heat_persist::Source::Current => "current",
                heat_persist::Source::Previous => "previous",
                heat_persist::Source::Defaults => "defaults",
            };
            *restart_sources.entry(source.to_owned()).or_default() += 1;
            restart_dropped += r.start.dropped.len() as u64;
            max_lost_hours.0 = max_lost_hours.0.max(r.lost_hours.0);
            max_lost_hours.1 = max_lost_hours.1.max(r.lost_hours.1);
            for v in r.violations {
                log::warn!(
                    "day {:.3}: {} at a {} restart (from {source}): lost {:?} h",
                    now_ms as f64 / 86_400_000.0,
                    v.as_str(),
                    r.kind.as_str(),
                    r.lost_hours
                );
                checker.report(now_ms, v);
            }
            // As the daemon's start: every load OFF before anything else (a failed relay
            // write leaves its load as it was, as on the board).
            if let Err(e) = plant.relays().safe_state() {
                log::debug!("step {step}: restart: safe state incomplete: {e}");
            }
            let relays = physics.with(|p| p.state());
            checker.restarted(now_ms, relays.pump, relays.heater);
            let restored = &r.start.restored;
            let controller = Controller::resume(restored.params.clone(), now, restored.memory());
            machine = Machine::new(controller, Duration::from_secs(60));
            checker.set_limits(Limits {
                margin_k: checker.limits().margin_k,
                ..Limits::from_params(machine.controller().params().raw())
            });
        }

        // Faults come and go.
        physics.with(|p| {
            for f in p.faults().to_vec() {
                if rng.random_bool(p_clear) {
                    p.clear_fault(f);
                }
            }
            if rng.random_bool(p_fault) {
                let f = random_fault(&mut rng, &p.state());
                *faults.entry(fault_kind(&f).to_owned()).or_default() += 1;
                p.inject(f);
            }
        });

        // Adversarial commands.
        if rng.random_bool(p_command) {
            commands += 1;
            let cmd = random_command(&mut rng, local.day());
            // Acted on at once, as in the daemon: a step on the last sweep, relays driven.
            let (result, relays) = machine.command(now, Some(local), cmd);
            if let Some(relays) = relays {
                heat_hw::drive(&mut machine, plant.relays(), now, relays);
            }
            match result {
                Ok(_) => {
                    persistence.accepted(now, &cmd, &machine.controller().status());
                    if let Command::SetParameter(..) = cmd {
                        checker.set_limits(Limits {
                            margin_k: checker.limits().margin_k,
                            ..Limits::from_params(machine.controller().params().raw())
                        });
                    }
                }
                Err(e) => *rejected.entry(rejection(&e).to_owned()).or_default() += 1,
            }
        }

        // The daemon's loop.
        let sweep = plant.sweep();
        let before = machine.controller().status();
        let relays = machine.tick(now, Some(local), sweep.to_readings());
        let after = machine.controller().status();
        heat_hw::drive(&mut machine, plant.relays(), now, relays);
        persistence.update(now, &after);
        for v in persistence.take_violations() {
            checker.report(now_ms, v);
        }
        for e in machine.take_events() {
            match e {
                LoopEvent::InterlockActivated { interlock, .. } => {
                    *interlocks.entry(interlock_name(interlock)).or_default() += 1;
                }
                LoopEvent::HoldStarted => {
                    relay_errors += 1;
                    log::debug!("step {step}: relay write error; going safe");
                }
                _ => {}
            }
        }
        let controller = machine.controller();

        // The truth after the relays moved, what the plant's faults did (they change only
        // between steps) and the ledger before the physics moves on: one borrow of the physics.
        let (truth, blind, power_on_injected, tank_j_before) = physics.with(|p| {
            let active = p.faults();
            let has = |f: SimFault| active.contains(&f);
            let stuck = |role: SensorRole| {
                active
                    .iter()
                    .any(|f| matches!(f, SimFault::Stuck(r, _) if *r == role))
            };
            // The plant reports the first fault injected on a sensor.
            let power_on = |role: SensorRole| {
                matches!(
                    active.iter().find(|f| f.sensor() == Some(role)),
                    Some(SimFault::PowerOnValue(_))
                )
            };
            let blind = Blind {
                collector_stuck: stuck(SensorRole::Collector),
                tank_top_stuck: stuck(SensorRole::TankTop),
                tank_bottom_stuck: stuck(SensorRole::TankBottom),
                pump_relay_failed: has(SimFault::RelayWrite(RelayRole::Pump)),
                heater_relay_failed: has(SimFault::RelayWrite(RelayRole::Heater)),
            };
            let injected = [
                power_on(SensorRole::Collector),
                power_on(SensorRole::TankBottom),
                power_on(SensorRole::TankTop),
            ];
            (p.state(), blind, injected, p.ledger().delivered_to_tank_j)
        });
        for ((role, was, is), injected) in [
            (SensorRole::Collector, before.collector, after.collector),
            (
                SensorRole::TankBottom,
                before.tank_bottom,
                after.tank_bottom,
            ),
            (SensorRole::TankTop, before.tank_top, after.tank_top),
        ]
        .into_iter()
        .zip(power_on_injected)
        {
            power_on.observe(injected, &sweep.get(role), was, is);
        }

        let raw = controller.params().raw();

        // Judge the step on the truth.
        let found = checker.observe(&Observation {
            now_ms,
            collector_c: truth.collector_c,
            tank_top_c: truth.tank_top_c,
            tank_bottom_c: truth.tank_bottom_c,
            pump: truth.pump,
            heater: truth.heater,
            collector_reading: sweep.get(SensorRole::Collector),
            tank_top_reading: sweep.get(SensorRole::TankTop),
            tank_bottom_reading: sweep.get(SensorRole::TankBottom),
            blind,
            // A running disinfection may heat outside the windows (docs/control.md).
            heater_comfort_only: matches!(controller.mode(), Mode::Auto | Mode::Eco)
                && !controller.disinfection().running,
            minute_of_day: local.minute_of_day(),
            heater_away: controller.mode() == Mode::Holiday && !controller.disinfection().running,
            local_day: local.day(),
            disinfection_allowed: controller
                .mode()
                .allows_disinfection(raw.holiday_disinfection),
        });
        for v in found {
            log::warn!(
                "day {:.3}: {} — truth collector {:.2} °C, tank top {:.2} °C, pump {}, heater {}; \
                 readings {:?}; controller: mode {}, boil stop latched {}, last step {:?}; \
                 faults {:?}; hold {:?}",
                now_ms as f64 / 86_400_000.0,
                v.as_str(),
                truth.collector_c,
                truth.tank_top_c,
                truth.pump,
                truth.heater,
                sweep.to_readings(),
                controller.mode(),
                controller.boil_stop_latched(),
                machine.last_output(),
                physics.with(|p| p.faults().to_vec()),
                machine.hold(),
            );
        }
        *state_ms.entry(controller.state().as_str()).or_default() += period_ms;
        // Up to the next step's time; no fault schedule here, so nothing comes back.
        let Advance {
            events,
            sweep_hang: _,
        } = plant.advance(Timestamp::from_millis(now_ms + period_ms));
        for e in events {
            machine.note(e);
        }
        let moved = physics.with(|p| p.ledger().delivered_to_tank_j) - tank_j_before;
        if moved >= 0.0 {
            into_tank_j += moved;
        } else {
            out_of_tank_j -= moved;
        }
    }

    if total_steps > 0 {
        day_done();
    }
    let total_ms = (total_steps * period_ms).max(1) as f64;
    let ledger = physics.with(|p| *p.ledger());
    let energy = machine.controller().energy();
    Summary {
        days: options.days,
        seed: options.seed,
        steps: total_steps,
        solar_kwh: into_tank_j / 3.6e6,
        pumped_out_kwh: out_of_tank_j / 3.6e6,
        heater_kwh: ledger.heater_j / 3.6e6,
        controller_collected_kwh: energy.collected_kwh,
        controller_heater_kwh: energy.heater_kwh,
        interlocks,
        states: state_ms
            .into_iter()
            .map(|(s, ms)| {
                let t = StateTime {
                    hours: ms as f64 / 3.6e6,
                    percent: 100.0 * ms as f64 / total_ms,
                };
                (s.to_owned(), t)
            })
            .collect(),
        commands,
        disinfections: checker.disinfections().count(),
        longest_disinfection_gap_days: checker
            .disinfections()
            .longest_gap_days(total_steps * period_ms),
        rejected,
        faults,
        power_on,
        relay_errors,
        violations: checker
            .violations()
            .iter()
            .map(|(v, n)| (v.as_str().to_owned(), *n))
            .collect(),
        violation_count: checker.violation_count(),
        first_violations: checker
            .first_violations()
            .iter()
            .map(|(ms, v)| (*ms as f64 / 1000.0, v.as_str().to_owned()))
            .collect(),
        exposures: checker
            .exposures()
            .iter()
            .map(|(e, n)| (format!("{}: {}", e.rule.as_str(), e.cause), *n))
            .collect(),
        restarts,
        restart_sources,
        restart_dropped,
        max_lost_hours,
        state_writes: persistence.writes(),
    }
}

impl Summary {
    /// The human-readable report.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut t = String::new();
        let _ = writeln!(
            t,
            "heat-sim: {} days, seed {}, {} steps",
            self.days, self.seed, self.steps
        );
        let _ = writeln!(
            t,
            "energy: solar collected {:.1} kWh, heater {:.1} kWh, pumped out of the tank {:.1} kWh (controller's estimate: collected {:.1}, heater {:.1} kWh)",
            self.solar_kwh,
            self.heater_kwh,
            self.pumped_out_kwh,
            self.controller_collected_kwh,
            self.controller_heater_kwh
        );
        let _ = writeln!(t, "operating states:");
        for (state, st) in &self.states {
            let _ = writeln!(t, "  {state:18} {:10.1} h {:6.2} %", st.hours, st.percent);
        }
        let _ = writeln!(t, "interlock activations:");
        for (kind, n) in &self.interlocks {
            let _ = writeln!(t, "  {kind:28} {n}");
        }
        let _ = writeln!(
            t,
            "thermal disinfections (true tank top): {}, longest gap {:.1} days",
            self.disinfections, self.longest_disinfection_gap_days
        );
        let rejected: u64 = self.rejected.values().sum();
        let _ = writeln!(t, "commands: {} sent, {rejected} rejected", self.commands);
        for (why, n) in &self.rejected {
            let _ = writeln!(t, "  {why:28} {n}");
        }
        let _ = writeln!(t, "faults injected:");
        for (kind, n) in &self.faults {
            let _ = writeln!(t, "  {kind:28} {n}");
        }
        let p = &self.power_on;
        let _ = writeln!(
            t,
            "power-on value (85 °C): {} of {} injected sensor-steps caught, {} false faults, \
             {} real 85.000 °C readings used",
            p.caught_steps, p.injected_steps, p.false_faults, p.real_85_used
        );
        let _ = writeln!(
            t,
            "relay write errors (plant went safe): {}",
            self.relay_errors
        );
        let _ = writeln!(
            t,
            "exposures (rule broken while the controller was blind or powerless):"
        );
        for (what, n) in &self.exposures {
            let _ = writeln!(t, "  {what}: {n}");
        }
        let restarts: u64 = self.restarts.values().sum();
        let _ = writeln!(
            t,
            "restarts: {restarts} ({} state file writes); started from {}; {} parameters dropped; \
             most hours lost by one restart: pump {:.3} h, heater {:.3} h",
            self.state_writes,
            self.restart_sources
                .iter()
                .map(|(s, n)| format!("{s} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
            self.restart_dropped,
            self.max_lost_hours.0,
            self.max_lost_hours.1
        );
        for (kind, n) in &self.restarts {
            let _ = writeln!(t, "  {kind:28} {n}");
        }
        let _ = writeln!(t, "safety violations: {}", self.violation_count);
        for (rule, n) in &self.violations {
            let _ = writeln!(t, "  {rule:28} {n}");
        }
        for (secs, rule) in &self.first_violations {
            let _ = writeln!(
                t,
                "  first: {rule} at {:.0} s (day {:.2})",
                secs,
                secs / 86_400.0
            );
        }
        t
    }
}

#[cfg(test)]
mod tests;
