//! The control state machine: `step` turns readings and the time into relay commands, a state
//! and events; `command` changes mode, manual requests and parameters.

use std::fmt;
use std::time::Duration;

use serde::Serialize;
use thiserror::Error;

use crate::disinfection::{
    Disinfection, DisinfectionChange, DisinfectionStatus, Inputs as DisinfectionInputs,
};
use crate::fluid;
use crate::holiday::{Holiday, HolidayChange};
use crate::load::Load;
use crate::mode::{Alarm, Interlock, Mode, OperatingState};
use crate::params::{COLLECTOR_MIN_HYSTERESIS_K, ParamError, Parameter, Params, RawParams};
use crate::sensor::{Change, Readings, Sensor, SensorStatus, Track, Validation};
use crate::time::{LocalTime, Timestamp};

/// A request from the user or the service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Command {
    /// Switch mode.
    SetMode(Mode),
    /// Manual pump request (manual mode only).
    SetPump(bool),
    /// Manual heater request (manual mode only).
    SetHeater(bool),
    /// Change a settable parameter.
    SetParameter(Parameter, f64),
    /// Start a thermal disinfection now (auto and eco; holiday with `holiday_disinfection`).
    StartDisinfection,
    /// Set (or clear, `None`) the local day holiday mode ends on; any mode.
    SetHolidayEnd(Option<i64>),
}

/// How an accepted command took effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandOutcome {
    /// Accepted; it applies from the next step.
    Accepted,
    /// Accepted and stored, but an interlock currently decides the load.
    AcceptedButOverridden {
        /// The interlock that wins.
        reason: Interlock,
    },
}

/// A rejected command. The controller is unchanged.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum CommandError {
    /// Pump and heater commands are only accepted in manual mode.
    #[error("{load} commands need manual mode (mode is {mode})")]
    NotManual {
        /// Which load.
        load: Load,
        /// The current mode.
        mode: Mode,
    },
    /// The parameter value is invalid alone or together with the others.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// A disinfection runs the heater automatically, so only in auto or eco (or holiday, when
    /// `holiday_disinfection` is on).
    #[error(
        "a thermal disinfection needs mode auto or eco, or holiday with holiday_disinfection \
         on (mode is {mode})"
    )]
    NotAutomatic {
        /// The current mode.
        mode: Mode,
    },
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The operating state changed.
    StateChanged {
        /// Previous state.
        from: OperatingState,
        /// New state.
        to: OperatingState,
    },
    /// The pump relay switched.
    PumpSwitched {
        /// New relay state.
        on: bool,
    },
    /// The heater relay switched.
    HeaterSwitched {
        /// New relay state.
        on: bool,
    },
    /// An interlock became active.
    InterlockActivated(Interlock),
    /// An interlock was released.
    InterlockReleased(Interlock),
    /// The mode changed by command.
    ModeChanged {
        /// Previous mode.
        from: Mode,
        /// New mode.
        to: Mode,
    },
    /// A parameter changed by command.
    ParameterChanged {
        /// Which.
        parameter: Parameter,
        /// New value.
        value: f64,
    },
    /// A manual request changed by command.
    ManualRequest {
        /// Which load.
        load: Load,
        /// Requested relay state.
        on: bool,
    },
    /// A thermal disinfection started, completed, failed or was cancelled.
    Disinfection(DisinfectionChange),
    /// The holiday's end date was set, came or passed.
    Holiday(HolidayChange),
}

/// An event with a human-readable reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// Why, with the numbers involved.
    pub reason: String,
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// The result of one step.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// Pump relay.
    pub pump: bool,
    /// Heater relay.
    pub heater: bool,
    /// Named state after this step.
    pub state: OperatingState,
    /// The interlock that decided the pump this step, if any.
    pub pump_interlock: Option<Interlock>,
    /// The interlock that decided the heater this step, if any.
    pub heater_interlock: Option<Interlock>,
    /// Everything that changed since the previous step (including accepted commands).
    pub events: Vec<Event>,
}

/// Energy counters, in kWh, since the controller was created.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Energy {
    /// Heat moved into the tank by the solar loop.
    pub collected_kwh: f64,
    /// Electricity used by the heater.
    pub heater_kwh: f64,
}

/// The energy of the current and the previous local day, kWh. Days roll at local midnight
/// (as the loop's local time says); without a plausible clock the counting goes on into the day
/// it has, and a clock set back does not roll it.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct DailyEnergy {
    /// The local day `today` belongs to (days since 1970-01-01); `None` until a local time
    /// was seen.
    pub day: Option<i64>,
    /// Since local midnight.
    pub today: Energy,
    /// The whole previous local day (zero when the controller did not count that day).
    pub yesterday: Energy,
}

impl DailyEnergy {
    fn add(&mut self, collected_kwh: f64, heater_kwh: f64) {
        self.today.collected_kwh += collected_kwh;
        self.today.heater_kwh += heater_kwh;
    }

    /// Moves to local day `day`.
    fn roll(&mut self, day: i64) {
        match self.day {
            None => self.day = Some(day),
            Some(d) if day <= d => {}
            Some(d) => {
                self.yesterday = if day == d + 1 {
                    self.today
                } else {
                    Energy::default()
                };
                self.today = Energy::default();
                self.day = Some(day);
            }
        }
    }
}

/// What a service keeps across restarts and hands back to [`Controller::resume`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Memory {
    /// The mode.
    pub mode: Mode,
    /// The energy totals.
    pub energy: Energy,
    /// Operating hours and starts.
    pub runtime: Runtime,
    /// Today's and yesterday's energy.
    pub daily: DailyEnergy,
    /// The local day of the last completed thermal disinfection.
    pub last_disinfection_day: Option<i64>,
    /// The holiday's end date and the mode it returns to.
    pub holiday: Holiday,
}

/// Operating hours and start counts of the loads, since the controller was created (the
/// service persists and restores them, like [`Energy`]). Hours count monotonic time, with the
/// relay as it was during each interval.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Runtime {
    /// Hours the pump relay was ON.
    pub pump_hours: f64,
    /// Times the pump relay switched ON.
    pub pump_starts: u64,
    /// Hours the heater relay was ON.
    pub heater_hours: f64,
    /// Times the heater relay switched ON.
    pub heater_starts: u64,
}

/// Everything the service publishes as its state JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    /// Current mode.
    pub mode: Mode,
    /// Current operating state.
    pub state: OperatingState,
    /// Pump relay.
    pub pump: bool,
    /// Heater relay.
    pub heater: bool,
    /// Manual pump request (used in manual mode).
    pub manual_pump: bool,
    /// Manual heater request (used in manual mode).
    pub manual_heater: bool,
    /// Collector sensor.
    pub collector: SensorStatus,
    /// Tank bottom sensor.
    pub tank_bottom: SensorStatus,
    /// Tank top sensor.
    pub tank_top: SensorStatus,
    /// Active alarms.
    pub alarms: Vec<Alarm>,
    /// Active interlocks.
    pub interlocks: Vec<Interlock>,
    /// Parameters and configuration in force.
    pub params: RawParams,
    /// Energy counters.
    pub energy: Energy,
    /// Operating hours and starts.
    pub runtime: Runtime,
    /// Today's and yesterday's energy.
    pub daily: DailyEnergy,
    /// Thermal disinfection.
    pub disinfection: DisinfectionStatus,
    /// Holiday mode's end date and the mode it returns to.
    pub holiday: Holiday,
    /// Loads that the rules want switched but a minimum ON/OFF time holds back.
    pub pending: Pending,
}

/// A switch the rules want but a minimum ON/OFF time (anti short-cycling) holds back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PendingSwitch {
    /// The relay state the load will switch to.
    pub to: bool,
    /// Time left until the minimum time allows it, from the last step.
    pub in_ms: u64,
}

/// Held-back switches per load; `None` where the relay is where the rules want it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Pending {
    /// The pump.
    pub pump: Option<PendingSwitch>,
    /// The heater.
    pub heater: Option<PendingSwitch>,
}

/// A relay with anti short-cycling.
#[derive(Debug, Clone, Copy, Default)]
struct Relay {
    on: bool,
    // None until the first switch, so the plant may start at once after boot.
    since: Option<Timestamp>,
    // What the last step wanted and the minimum time refused, with the time left (ms).
    held_back: Option<PendingSwitch>,
}

impl Relay {
    /// Switches towards `want` unless the minimum time forbids it; a safety OFF always passes.
    fn apply(
        &mut self,
        want: bool,
        safety_off: bool,
        now: Timestamp,
        min_on: u64,
        min_off: u64,
    ) -> bool {
        self.held_back = None;
        if want == self.on {
            return false;
        }
        let allowed = match self.since {
            None => true,
            Some(since) => {
                let held = u64::try_from(now.saturating_duration_since(since).as_millis())
                    .unwrap_or(u64::MAX);
                let min = if self.on { min_on } else { min_off };
                let allowed = (self.on && safety_off) || held >= min;
                if !allowed {
                    self.held_back = Some(PendingSwitch {
                        to: want,
                        in_ms: min - held,
                    });
                }
                allowed
            }
        };
        if allowed {
            self.on = want;
            self.since = Some(now);
        }
        allowed
    }
}

/// Hysteresis latches of the rules.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Latches {
    boil_stop: bool,
    // No trusted collector history: at start-up, or a fault since the last usable value. The
    // first value inside the boil-stop band then counts as latched.
    collector_lost: bool,
    tank_max: bool,
    tank_emergency: bool,
    collector_cooling: bool,
    differential: bool,
    frost: bool,
    night_cooling: bool,
    heater_thermostat: bool,
}

/// Sets `latch` at `on`, clears it at `off`, holds otherwise.
fn hysteresis(latch: &mut bool, on: bool, off: bool) {
    if on {
        *latch = true;
    } else if off {
        *latch = false;
    }
}

/// Why the pump is where it is (for the state name and event reasons).
#[derive(Debug, Clone, Copy, PartialEq)]
enum PumpCause {
    Frost,
    Manual,
    Cooling,
    Night,
    Differential,
    TubeKick,
    Idle,
}

impl PumpCause {
    const fn as_str(self) -> &'static str {
        match self {
            PumpCause::Frost => "frost protection",
            PumpCause::Manual => "manual request",
            PumpCause::Cooling => "collector cooling",
            PumpCause::Night => "night cooling",
            PumpCause::Differential => "solar differential",
            PumpCause::TubeKick => "evacuated-tube kick",
            PumpCause::Idle => "off mode",
        }
    }
}

/// The solar-heating controller. Pure: every call gets the time; nothing here reads a clock.
#[derive(Debug, Clone)]
pub struct Controller {
    params: Params,
    mode: Mode,
    manual_pump: bool,
    manual_heater: bool,
    sensors: [Track; 3],
    latches: Latches,
    pump: Relay,
    heater: Relay,
    pump_interlock: Option<Interlock>,
    heater_interlock: Option<Interlock>,
    state: OperatingState,
    last_step: Timestamp,
    // When the controller started: the pump counts as OFF since then until its first switch.
    started: Timestamp,
    // An evacuated-tube kick runs until then (monotonic).
    kick_until: Option<Timestamp>,
    disinfection: Disinfection,
    holiday: Holiday,
    energy: Energy,
    daily: DailyEnergy,
    runtime: Runtime,
    pending: Vec<Event>,
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "unknown".to_owned(), |v| format!("{v:.1} °C"))
}

impl Controller {
    /// A controller in auto mode with every load OFF.
    pub fn new(params: Params, now: Timestamp) -> Self {
        Self {
            params,
            mode: Mode::Auto,
            manual_pump: false,
            manual_heater: false,
            sensors: [Track::default(); 3],
            // Fail-safe at start-up: the collector may be inside the boil-stop band after a
            // restart during a stagnation day, and nothing says it has cooled from above.
            latches: Latches {
                collector_lost: true,
                ..Latches::default()
            },
            pump: Relay::default(),
            heater: Relay::default(),
            // Nothing is known before the first readings.
            pump_interlock: Some(Interlock::SensorFault(Sensor::Collector)),
            heater_interlock: Some(Interlock::SensorFault(Sensor::TankTop)),
            state: OperatingState::Starting,
            last_step: now,
            started: now,
            kick_until: None,
            disinfection: Disinfection::default(),
            holiday: Holiday::default(),
            energy: Energy::default(),
            daily: DailyEnergy::default(),
            runtime: Runtime::default(),
            pending: Vec::new(),
        }
    }

    /// A controller resuming what the service persisted across a restart ([`Memory`]: the
    /// mode, the energy counters, today's and yesterday's energy, the operating hours and
    /// starts, the last disinfection's local day, the holiday); everything else is as in
    /// [`Controller::new`] (every load OFF, manual requests OFF, the same fail-safe start), so a
    /// restored manual mode starts with both loads OFF. The start counts as both loads' switch
    /// OFF: the previous process may have switched them OFF a moment ago, so each waits its
    /// minimum OFF time, and a service in a restart loop cannot short-cycle a relay.
    pub fn resume(params: Params, now: Timestamp, memory: Memory) -> Self {
        let off = Relay {
            since: Some(now),
            ..Relay::default()
        };
        Self {
            pump: off,
            heater: off,
            mode: memory.mode,
            energy: memory.energy,
            daily: memory.daily,
            runtime: memory.runtime,
            disinfection: Disinfection::resume(memory.last_disinfection_day),
            holiday: Holiday {
                // Holiday never returns to itself, whatever a state file says.
                return_to: match memory.holiday.return_to {
                    Mode::Holiday => Mode::Auto,
                    mode => mode,
                },
                ..memory.holiday
            },
            ..Self::new(params, now)
        }
    }

    /// The parameters in force.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Replaces all parameters at once (e.g. after a config reload); already validated by type.
    pub fn set_params(&mut self, params: Params) {
        self.params = params;
    }

    /// Applies a command, or rejects it and leaves everything untouched.
    pub fn command(
        &mut self,
        now: Timestamp,
        cmd: Command,
    ) -> Result<CommandOutcome, CommandError> {
        let _ = now; // Commands take effect at the next step; `now` keeps the API uniform.
        match cmd {
            Command::SetMode(mode) => {
                if mode != self.mode {
                    self.pending.push(Event {
                        kind: EventKind::ModeChanged {
                            from: self.mode,
                            to: mode,
                        },
                        reason: format!("mode changed from {} to {mode} by command", self.mode),
                    });
                    self.holiday.mode_changed(self.mode, mode);
                    self.switch_mode(mode);
                }
                Ok(CommandOutcome::Accepted)
            }
            Command::SetHolidayEnd(end_day) => {
                self.holiday.end_day = end_day;
                let change = HolidayChange::EndSet { end_day };
                self.pending.push(Event {
                    kind: EventKind::Holiday(change),
                    reason: change.reason(),
                });
                Ok(CommandOutcome::Accepted)
            }
            Command::SetPump(on) => {
                self.manual(Load::Pump, on)?;
                self.manual_pump = on;
                Ok(Self::overridden(on, self.pump_interlock))
            }
            Command::SetHeater(on) => {
                self.manual(Load::Heater, on)?;
                self.manual_heater = on;
                Ok(Self::overridden(on, self.heater_interlock))
            }
            Command::StartDisinfection => {
                if !self.disinfection_allowed() {
                    return Err(CommandError::NotAutomatic { mode: self.mode });
                }
                self.disinfection.request();
                Ok(CommandOutcome::Accepted)
            }
            Command::SetParameter(parameter, value) => {
                self.params = self.params.with(parameter, value)?;
                self.pending.push(Event {
                    kind: EventKind::ParameterChanged { parameter, value },
                    reason: format!("{parameter} set to {value} by command"),
                });
                Ok(CommandOutcome::Accepted)
            }
        }
    }

    fn switch_mode(&mut self, mode: Mode) {
        if mode == Mode::Manual && self.mode != Mode::Manual {
            // Bumpless: manual starts from what the loads are doing now.
            self.manual_pump = self.pump.on;
            self.manual_heater = self.heater.on;
        }
        self.mode = mode;
    }

    /// The mode lets a thermal disinfection run the heater.
    fn disinfection_allowed(&self) -> bool {
        self.mode
            .allows_disinfection(self.params.raw().holiday_disinfection)
    }

    fn manual(&mut self, load: Load, on: bool) -> Result<(), CommandError> {
        if self.mode != Mode::Manual {
            return Err(CommandError::NotManual {
                load,
                mode: self.mode,
            });
        }
        self.pending.push(Event {
            kind: EventKind::ManualRequest { load, on },
            reason: format!("manual {load} {} requested", if on { "ON" } else { "OFF" }),
        });
        Ok(())
    }

    fn overridden(on: bool, interlock: Option<Interlock>) -> CommandOutcome {
        match interlock {
            Some(reason) if reason.forces_off() == on => {
                CommandOutcome::AcceptedButOverridden { reason }
            }
            _ => CommandOutcome::Accepted,
        }
    }

    /// One control step on readings just taken, without a local time (as with a clock that is
    /// not plausible: the heater windows count as open all day).
    pub fn step(&mut self, now: Timestamp, readings: &Readings) -> Output {
        self.step_on(now, None, readings, now)
    }

    /// One control step at `now` (monotonic) and `local` (the local time of day, `None` while
    /// the caller's wall clock is not plausible) on readings taken at `taken` (at or before
    /// `now`): a step again on the latest sweep, for a command acted on at once. The sensors'
    /// freshness and fault-clear times count from `taken`, so a repeated step never makes an
    /// old reading new; readings older than the stale timeout count as no reading.
    pub fn step_on(
        &mut self,
        now: Timestamp,
        local: Option<LocalTime>,
        readings: &Readings,
        taken: Timestamp,
    ) -> Output {
        let mut events = std::mem::take(&mut self.pending);
        let r = self.params.raw().clone();
        let elapsed_s = now.saturating_duration_since(self.last_step).as_secs_f64();
        self.last_step = self.last_step.max(now);

        // The holiday's end date, before anything this step depends on the mode.
        if let Some(change) = self.holiday.step(self.mode, local) {
            if let HolidayChange::Ended { back_to } = change {
                self.switch_mode(back_to);
            }
            events.push(Event {
                kind: EventKind::Holiday(change),
                reason: change.reason(),
            });
        }

        // Sensors.
        for (i, sensor) in Sensor::ALL.into_iter().enumerate() {
            let (min, max) = match sensor {
                Sensor::Collector => (r.collector_min_c, r.collector_max_c),
                Sensor::TankBottom | Sensor::TankTop => (r.tank_sensor_min_c, r.tank_sensor_max_c),
            };
            let v = Validation {
                min,
                max,
                stale_ms: Params::ms(r.stale_timeout_s),
                clear_ms: Params::ms(r.fault_clear_s),
                power_on_window: r.power_on_window_k,
            };
            match self.sensors[i].update(now, taken, readings.get(sensor), &v) {
                Some(Change::Faulted(fault)) => events.push(Event {
                    kind: EventKind::InterlockActivated(Interlock::SensorFault(sensor)),
                    reason: format!("{sensor} sensor faulted: {fault}"),
                }),
                Some(Change::Recovered) => events.push(Event {
                    kind: EventKind::InterlockReleased(Interlock::SensorFault(sensor)),
                    reason: format!("{sensor} sensor good for {} s again", r.fault_clear_s),
                }),
                None => {}
            }
        }
        let c = self.sensors[0].value();
        let b = self.sensors[1].value();
        let t = self.sensors[2].value();

        // Energy over the interval that just ended, with the relays as they were during it.
        // A long gap is capped so a hung caller cannot invent energy.
        let secs = elapsed_s.min(r.stale_timeout_s as f64);
        let hours = secs / 3600.0;
        // The fluid's heat capacity at the mean of the loop's hot and cold ends.
        let collected_kwh = match (self.pump.on, c, b) {
            (true, Some(c), Some(b)) => {
                let heat_capacity = fluid::volumetric_heat_capacity(
                    r.fluid,
                    r.fluid_concentration_pct,
                    (c + b) / 2.0,
                );
                r.flow_l_per_min / 60.0 * (c - b).max(0.0) * heat_capacity * hours
            }
            _ => 0.0,
        };
        let heater_kwh = if self.heater.on {
            r.heater_power_w / 1000.0 * hours
        } else {
            0.0
        };
        self.energy.collected_kwh += collected_kwh;
        self.energy.heater_kwh += heater_kwh;
        self.daily.add(collected_kwh, heater_kwh);
        if self.heater.on {
            self.runtime.heater_hours += hours;
        }
        if self.pump.on {
            self.runtime.pump_hours += hours;
        }
        // The interval that just ended counts to the day it (mostly) lay in; then the day rolls.
        if let Some(local) = local {
            self.daily.roll(local.day());
        }

        // Thermal disinfection: it may heat outside the comfort windows; the interlocks still
        // win. Stepped before the latches: holiday recooling waits while it heats.
        let elapsed_ms = (secs * 1000.0) as u64;
        if let Some(change) = self.disinfection.step(
            &self.params,
            DisinfectionInputs {
                now,
                local,
                tank_top: t,
                elapsed_ms,
                allowed: self.disinfection_allowed(),
            },
        ) {
            let target = r.disinfection_target;
            let reason = match change {
                DisinfectionChange::Started { requested: true } => {
                    format!("thermal disinfection started by command: tank top to {target} °C")
                }
                DisinfectionChange::Started { requested: false } => {
                    format!("thermal disinfection due: tank top to {target} °C")
                }
                DisinfectionChange::Completed { by_solar } => format!(
                    "thermal disinfection done: tank top held {target} °C for {} min{}",
                    r.disinfection_hold_min,
                    if by_solar { " by solar heat" } else { "" }
                ),
                DisinfectionChange::Failed => format!(
                    "thermal disinfection failed: tank top did not hold {target} °C in time \
                     (tank top {})",
                    fmt_opt(t)
                ),
                DisinfectionChange::Cancelled => {
                    format!(
                        "thermal disinfection cancelled: mode {} does not allow it",
                        self.mode
                    )
                }
            };
            events.push(Event {
                kind: EventKind::Disinfection(change),
                reason,
            });
        }
        let disinfecting = self.disinfection.wants_heater();

        // Rule latches.
        let before = self.latches;
        let l = &mut self.latches;
        if let Some(c) = c {
            if l.collector_lost {
                // First value at start-up or after a collector fault: the collector may have
                // passed the boil stop unseen, so a value inside the hysteresis band counts as
                // latched (found by heat-sim; docs/control.md).
                l.boil_stop = c >= r.boil_stop - r.boil_stop_hysteresis;
                l.collector_lost = false;
            } else {
                hysteresis(
                    &mut l.boil_stop,
                    c >= r.boil_stop,
                    c < r.boil_stop - r.boil_stop_hysteresis,
                );
            }
            hysteresis(
                &mut l.collector_cooling,
                c >= r.collector_cooling,
                c < r.collector_cooling - r.collector_cooling_hysteresis,
            );
        } else {
            // Boil stop stays latched while blind; the automatic functions reset.
            l.collector_cooling = false;
            // Still set from start-up if no value was ever seen; set again by a fault.
            l.collector_lost |= self.sensors[0].status().fault.is_some();
        }
        let tank_hot = match (b, t) {
            (Some(b), Some(t)) => Some(b.max(t)),
            (x, None) | (None, x) => x,
        };
        // Judged on the hotter of the readings there are: with one tank sensor faulted, the
        // other decides both levels (and collector cooling may not pass tank_max, below).
        if let Some(tank) = tank_hot {
            hysteresis(
                &mut l.tank_max,
                tank >= r.tank_max,
                tank < r.tank_max - r.tank_max_hysteresis,
            );
            hysteresis(
                &mut l.tank_emergency,
                tank >= r.tank_emergency,
                tank < r.tank_emergency - r.tank_max_hysteresis,
            );
        }
        let (dt_start, dt_stop) = if self.mode == Mode::Eco {
            (r.eco_dt_start, r.eco_dt_stop)
        } else {
            (r.dt_start, r.dt_stop)
        };
        if let (Some(c), Some(b)) = (c, b) {
            // The minimum collector temperature gates the differential alone (RESOL's "CMN").
            hysteresis(
                &mut l.differential,
                c - b >= dt_start && c >= r.collector_min,
                c - b <= dt_stop || c < r.collector_min - COLLECTOR_MIN_HYSTERESIS_K,
            );
            hysteresis(
                &mut l.frost,
                c <= r.frost_on && b >= r.frost_tank_min,
                c >= r.frost_off || b < r.frost_tank_min,
            );
            // Holiday mode recools the tank to its own level, always on, but not while a
            // disinfection heats it.
            let (enabled, start, stop) = if self.mode == Mode::Holiday {
                (
                    !disinfecting,
                    r.holiday_cooling_tank + r.night_cooling_hysteresis,
                    r.holiday_cooling_tank,
                )
            } else {
                (
                    r.night_cooling_enabled,
                    r.night_cooling_tank,
                    r.night_cooling_tank - r.night_cooling_hysteresis,
                )
            };
            hysteresis(
                &mut l.night_cooling,
                enabled && b >= start && b - c >= r.night_cooling_dt,
                !enabled || b < stop || b - c < r.night_cooling_dt_stop,
            );
        } else {
            l.differential = false;
            l.frost = false;
            l.night_cooling = false;
        }
        let setpoint = if self.mode == Mode::Eco {
            r.eco_heater_setpoint
        } else {
            r.heater_setpoint
        };
        match t {
            Some(t) => hysteresis(
                &mut l.heater_thermostat,
                t <= setpoint - r.heater_hysteresis,
                t >= setpoint,
            ),
            None => l.heater_thermostat = false,
        }
        let l = *l;
        Self::latch_events(&mut events, before, l, c, tank_hot, &r);

        // Evacuated-tube kick (docs/control.md): inside its local-time window, once the pump has
        // been OFF for the idle time, run it for the run time. Both times are monotonic, so a
        // clock jump can only move the window. Never in a boil stop, with a sensor fault, or
        // outside auto and eco; an interlock also ends a running kick at once.
        // Holiday runs the solar side as auto does.
        let automatic = matches!(self.mode, Mode::Auto | Mode::Eco | Mode::Holiday);
        let kick_allowed = r.tube_kick_enabled
            && automatic
            && !l.boil_stop
            && c.is_some()
            && b.is_some()
            && t.is_some();
        if !kick_allowed || self.kick_until.is_some_and(|until| now >= until) {
            self.kick_until = None;
        }
        if kick_allowed
            && self.kick_until.is_none()
            && !self.pump.on
            && !l.differential
            && local.is_some_and(|lt| self.params.tube_kick_window_open(lt.minute_of_day()))
        {
            let off_since = self.pump.since.unwrap_or(self.started);
            // Validated ranges (5–60 min, 5–300 s): the conversions cannot fail.
            let secs = |s: f64| Duration::try_from_secs_f64(s).unwrap_or(Duration::ZERO);
            if now.saturating_duration_since(off_since) >= secs(r.tube_kick_idle_min * 60.0) {
                self.kick_until = Some(now + secs(r.tube_kick_run_s));
            }
        }
        let kick = self.kick_until.is_some();

        // Pump, by priority (docs/control.md).
        let (want_pump, pump_interlock, cause) = if c.is_none() {
            (
                false,
                Some(Interlock::SensorFault(Sensor::Collector)),
                PumpCause::Idle,
            )
        } else if b.is_none() {
            (
                false,
                Some(Interlock::SensorFault(Sensor::TankBottom)),
                PumpCause::Idle,
            )
        } else if l.boil_stop {
            (false, Some(Interlock::BoilStop), PumpCause::Idle)
        } else if l.frost {
            (true, Some(Interlock::FrostProtection), PumpCause::Frost)
        } else if l.tank_emergency && !(automatic && l.night_cooling) {
            (false, Some(Interlock::TankEmergency), PumpCause::Idle)
        } else if t.is_none() && !(automatic && l.night_cooling) {
            // Loading the tank needs both tank sensors: with the top blind, the bottom alone
            // lets a stratified top pass the emergency level unseen (heat-sim: collector
            // cooling with the top faulted took it to 95.5 °C; after a heater relay stuck ON,
            // the differential loaded a top at 142 °C that read out of range).
            (
                false,
                Some(Interlock::SensorFault(Sensor::TankTop)),
                PumpCause::Idle,
            )
        } else if l.tank_max && !(automatic && (l.night_cooling || l.collector_cooling)) {
            // Collector cooling (system cooling) may take the tank past its comfort level.
            (false, Some(Interlock::TankMax), PumpCause::Idle)
        } else {
            match self.mode {
                Mode::Off => (false, None, PumpCause::Idle),
                Mode::Manual => (self.manual_pump, None, PumpCause::Manual),
                Mode::Auto | Mode::Eco | Mode::Holiday if l.collector_cooling => {
                    (true, None, PumpCause::Cooling)
                }
                Mode::Auto | Mode::Eco | Mode::Holiday if l.night_cooling => {
                    (true, None, PumpCause::Night)
                }
                Mode::Auto | Mode::Eco | Mode::Holiday if kick && !l.differential => {
                    (true, None, PumpCause::TubeKick)
                }
                Mode::Auto | Mode::Eco | Mode::Holiday => {
                    (l.differential, None, PumpCause::Differential)
                }
            }
        };

        // Heater, by priority. Without a plausible clock every time is inside a window, as
        // with the default window 00:00–24:00: hot water over savings.
        let window_open = local.is_none_or(|l| self.params.heater_window_open(l.minute_of_day()));
        let (want_heater, heater_interlock) = if t.is_none() {
            (false, Some(Interlock::SensorFault(Sensor::TankTop)))
        } else if l.tank_emergency {
            (false, Some(Interlock::TankEmergency))
        } else if l.tank_max {
            (false, Some(Interlock::TankMax))
        } else {
            match self.mode {
                Mode::Off => (false, None),
                Mode::Manual => (self.manual_heater, None),
                Mode::Auto | Mode::Eco => {
                    ((l.heater_thermostat && window_open) || disinfecting, None)
                }
                // No comfort heating while away; a disinfection only where allowed.
                Mode::Holiday => (disinfecting, None),
            }
        };
        self.pump_interlock = pump_interlock;
        self.heater_interlock = heater_interlock;

        let pump_safety = pump_interlock.is_some_and(Interlock::forces_off);
        if self.pump.apply(
            want_pump,
            pump_safety,
            now,
            Params::ms(r.pump_min_on_s),
            Params::ms(r.pump_min_off_s),
        ) {
            if self.pump.on {
                self.runtime.pump_starts = self.runtime.pump_starts.saturating_add(1);
            }
            let why = pump_interlock.map_or_else(|| cause.as_str().to_owned(), |i| i.to_string());
            events.push(Event {
                kind: EventKind::PumpSwitched { on: self.pump.on },
                reason: format!(
                    "pump {} ({why}; collector {}, tank bottom {})",
                    if self.pump.on { "ON" } else { "OFF" },
                    fmt_opt(c),
                    fmt_opt(b)
                ),
            });
        }
        let heater_safety = heater_interlock.is_some_and(Interlock::forces_off);
        if self.heater.apply(
            want_heater,
            heater_safety,
            now,
            Params::ms(r.heater_min_on_s),
            Params::ms(r.heater_min_off_s),
        ) {
            if self.heater.on {
                self.runtime.heater_starts = self.runtime.heater_starts.saturating_add(1);
            }
            let why = match (heater_interlock, self.mode) {
                (Some(i), _) => i.to_string(),
                (None, Mode::Manual) => "manual request".to_owned(),
                (None, Mode::Off) => "off mode".to_owned(),
                (None, _) if disinfecting => "thermal disinfection".to_owned(),
                (None, Mode::Holiday) => "holiday mode".to_owned(),
                (None, _) if !window_open => "outside the heater time windows".to_owned(),
                (None, mode) => format!("{mode} thermostat, setpoint {setpoint} °C"),
            };
            events.push(Event {
                kind: EventKind::HeaterSwitched { on: self.heater.on },
                reason: format!(
                    "heater {} ({why}; tank top {})",
                    if self.heater.on { "ON" } else { "OFF" },
                    fmt_opt(t)
                ),
            });
        }

        let state = self.derive_state(l, cause);
        if state != self.state {
            events.push(Event {
                kind: EventKind::StateChanged {
                    from: self.state,
                    to: state,
                },
                reason: format!("state {} -> {state}", self.state),
            });
            self.state = state;
        }

        Output {
            pump: self.pump.on,
            heater: self.heater.on,
            state,
            pump_interlock,
            heater_interlock,
            events,
        }
    }

    fn latch_events(
        events: &mut Vec<Event>,
        before: Latches,
        after: Latches,
        c: Option<f64>,
        tank: Option<f64>,
        r: &RawParams,
    ) {
        let mut edge = |was: bool, is: bool, interlock: Interlock, on: String, off: String| {
            if was != is {
                let kind = if is {
                    EventKind::InterlockActivated(interlock)
                } else {
                    EventKind::InterlockReleased(interlock)
                };
                events.push(Event {
                    kind,
                    reason: if is { on } else { off },
                });
            }
        };
        if before.boil_stop != after.boil_stop {
            edge(
                before.boil_stop,
                after.boil_stop,
                Interlock::BoilStop,
                format!("boil stop: collector {} >= {} °C", fmt_opt(c), r.boil_stop),
                format!(
                    "boil stop released: collector {} < {} °C",
                    fmt_opt(c),
                    r.boil_stop - r.boil_stop_hysteresis
                ),
            );
        }
        if before.tank_max != after.tank_max {
            edge(
                before.tank_max,
                after.tank_max,
                Interlock::TankMax,
                format!("tank maximum: tank {} >= {} °C", fmt_opt(tank), r.tank_max),
                format!(
                    "tank maximum released: tank {} < {} °C",
                    fmt_opt(tank),
                    r.tank_max - r.tank_max_hysteresis
                ),
            );
        }
        if before.tank_emergency != after.tank_emergency {
            edge(
                before.tank_emergency,
                after.tank_emergency,
                Interlock::TankEmergency,
                format!(
                    "tank emergency: tank {} >= {} °C",
                    fmt_opt(tank),
                    r.tank_emergency
                ),
                format!(
                    "tank emergency released: tank {} < {} °C",
                    fmt_opt(tank),
                    r.tank_emergency - r.tank_max_hysteresis
                ),
            );
        }
        if before.frost != after.frost {
            edge(
                before.frost,
                after.frost,
                Interlock::FrostProtection,
                format!(
                    "frost protection: collector {} <= {} °C",
                    fmt_opt(c),
                    r.frost_on
                ),
                format!("frost protection ended: collector {}", fmt_opt(c)),
            );
        }
    }

    fn derive_state(&self, l: Latches, cause: PumpCause) -> OperatingState {
        let faulted = self.sensors.iter().any(|s| s.fault().is_some());
        if faulted {
            OperatingState::Fault
        } else if self.sensors.iter().any(|s| s.value().is_none()) {
            OperatingState::Starting
        } else if l.boil_stop
            || l.tank_emergency
            || (l.tank_max && !(self.pump.on && cause == PumpCause::Cooling))
        {
            OperatingState::Overheated
        } else if l.frost {
            OperatingState::FrostProtection
        } else if self.mode == Mode::Off {
            OperatingState::Off
        } else if self.mode == Mode::Manual {
            OperatingState::Manual
        } else if self.pump.on && cause == PumpCause::Cooling {
            OperatingState::CollectorCooling
        } else if self.pump.on && cause == PumpCause::Night {
            OperatingState::NightCooling
        } else if self.pump.on {
            OperatingState::Heating
        } else if self.heater.on {
            OperatingState::AuxHeating
        } else {
            OperatingState::Standby
        }
    }

    /// The current operating state.
    pub fn state(&self) -> OperatingState {
        self.state
    }

    /// Energy counters.
    pub fn energy(&self) -> Energy {
        self.energy
    }

    /// Today's and yesterday's energy.
    pub fn daily_energy(&self) -> DailyEnergy {
        self.daily
    }

    /// Operating hours and starts.
    pub fn runtime(&self) -> Runtime {
        self.runtime
    }

    /// The thermal disinfection's status (its last local day is what a restart keeps).
    pub fn disinfection(&self) -> DisinfectionStatus {
        self.disinfection.status(&self.params)
    }

    /// Active interlocks.
    pub fn interlocks(&self) -> Vec<Interlock> {
        let mut v = Vec::new();
        for i in [self.pump_interlock, self.heater_interlock]
            .into_iter()
            .flatten()
        {
            if !v.contains(&i) {
                v.push(i);
            }
        }
        if self.latches.boil_stop && !v.contains(&Interlock::BoilStop) {
            v.push(Interlock::BoilStop);
        }
        v
    }

    /// Whether the boil stop is latched.
    pub fn boil_stop_latched(&self) -> bool {
        self.latches.boil_stop
    }

    /// Whether the tank maximum is active.
    pub fn tank_max_active(&self) -> bool {
        self.latches.tank_max
    }

    /// Snapshot for the state JSON.
    pub fn status(&self) -> Status {
        let mut alarms = Vec::new();
        for (i, sensor) in Sensor::ALL.into_iter().enumerate() {
            if let Some(fault) = self.sensors[i].fault() {
                alarms.push(Alarm::Sensor { sensor, fault });
            }
        }
        if self.latches.boil_stop {
            alarms.push(Alarm::BoilStop);
        }
        if self.latches.tank_max {
            alarms.push(Alarm::TankMax);
        }
        if self.latches.tank_emergency {
            alarms.push(Alarm::TankEmergency);
        }
        let disinfection = self.disinfection.status(&self.params);
        if disinfection.failed {
            alarms.push(Alarm::DisinfectionFailed);
        }
        Status {
            mode: self.mode,
            state: self.state,
            pump: self.pump.on,
            heater: self.heater.on,
            manual_pump: self.manual_pump,
            manual_heater: self.manual_heater,
            collector: self.sensors[0].status(),
            tank_bottom: self.sensors[1].status(),
            tank_top: self.sensors[2].status(),
            alarms,
            interlocks: self.interlocks(),
            params: self.params.raw().clone(),
            energy: self.energy,
            runtime: self.runtime,
            daily: self.daily,
            disinfection,
            holiday: self.holiday,
            pending: Pending {
                pump: self.pump.held_back,
                heater: self.heater.held_back,
            },
        }
    }
}

#[cfg(test)]
mod tests;
