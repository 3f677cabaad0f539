//! Control parameters: the settable ones (with limits for MQTT/Home Assistant `number`s), the
//! fixed configuration, and their validation against ranges and against each other.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::fluid::{self, Fluid};

/// A parameter that can be changed at run time (one MQTT `set` topic each). Ordered as
/// declared (the order of [`Parameter::ALL`]), so it can key a sorted map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Parameter {
    /// Solar differential: pump ON at collector − tank bottom ≥ this (K).
    DtStart,
    /// Solar differential: pump OFF at collector − tank bottom ≤ this (K).
    DtStop,
    /// Eco mode differential start (K).
    EcoDtStart,
    /// Eco mode differential stop (K).
    EcoDtStop,
    /// Collector cooling: pump ON at collector ≥ this (°C).
    CollectorCooling,
    /// Collector cooling ends below `collector_cooling` − this (K).
    CollectorCoolingHysteresis,
    /// Boil stop: pump OFF and latched at collector ≥ this (°C).
    BoilStop,
    /// Boil stop releases below `boil_stop` − this (K).
    BoilStopHysteresis,
    /// Tank maximum: pump and heater OFF at tank ≥ this (°C), never above 95.
    TankMax,
    /// Tank maximum releases below `tank_max` − this (K).
    TankMaxHysteresis,
    /// Heater setpoint for tank top in auto mode (°C).
    HeaterSetpoint,
    /// Heater setpoint for tank top in eco mode (°C).
    EcoHeaterSetpoint,
    /// Heater switches ON at tank top ≤ setpoint − this (K).
    HeaterHysteresis,
    /// Frost protection starts at collector ≤ this (°C).
    FrostOn,
    /// Frost protection ends at collector ≥ this (°C).
    FrostOff,
    /// Night cooling starts at tank bottom ≥ this (°C).
    NightCoolingTank,
    /// Night cooling ends below `night_cooling_tank` − this (K).
    NightCoolingHysteresis,
    /// Night cooling needs tank bottom − collector ≥ this (K).
    NightCoolingDt,
    /// Minimum collector temperature: the solar differential starts the pump only at collector
    /// ≥ this, and stops it below this − [`COLLECTOR_MIN_HYSTERESIS_K`] (°C). Frost protection,
    /// collector cooling and night cooling do not look at it.
    CollectorMin,
    /// Heater time window 1: comfort heating may start from this local time (hours, 0–24 in
    /// 15-minute steps). A window with start = end is off; start > end crosses midnight.
    #[serde(rename = "heater_window_1_start")]
    HeaterWindow1Start,
    /// Heater time window 1: comfort heating ends at this local time (hours).
    #[serde(rename = "heater_window_1_end")]
    HeaterWindow1End,
    /// Heater time window 2: comfort heating may start from this local time (hours, 0–24 in
    /// 15-minute steps). A window with start = end is off; start > end crosses midnight.
    #[serde(rename = "heater_window_2_start")]
    HeaterWindow2Start,
    /// Heater time window 2: comfort heating ends at this local time (hours).
    #[serde(rename = "heater_window_2_end")]
    HeaterWindow2End,
    /// Heater time window 3: comfort heating may start from this local time (hours, 0–24 in
    /// 15-minute steps). A window with start = end is off; start > end crosses midnight.
    #[serde(rename = "heater_window_3_start")]
    HeaterWindow3Start,
    /// Heater time window 3: comfort heating ends at this local time (hours).
    #[serde(rename = "heater_window_3_end")]
    HeaterWindow3End,
    /// Evacuated-tube function: kicks run from this local time (hours, 0–24 in 15-minute steps).
    TubeKickStart,
    /// Evacuated-tube function: kicks run until this local time (hours).
    TubeKickEnd,
    /// Evacuated-tube function: a kick starts after the pump has been OFF this long (min).
    TubeKickIdleMin,
    /// Evacuated-tube function: each kick runs the pump this long (s), at least its minimum ON
    /// time.
    TubeKickRunS,
    /// Thermal disinfection: days between disinfections, 0 = off (the default).
    DisinfectionIntervalDays,
    /// Thermal disinfection: the tank-top temperature to hold (°C).
    DisinfectionTarget,
    /// Thermal disinfection: how long the target must hold (min).
    DisinfectionHoldMin,
    /// Thermal disinfection: scheduled runs start from this local time (hours).
    DisinfectionStart,
    /// Thermal disinfection: scheduled runs start before this local time (hours); a run may
    /// heat for the window's length.
    DisinfectionEnd,
    /// Holiday mode: night cooling recools the tank bottom to this (°C); it starts at this +
    /// `night_cooling_hysteresis`.
    HolidayCoolingTank,
}

/// The fixed hysteresis of [`Parameter::CollectorMin`] (K), as at RESOL.
pub const COLLECTOR_MIN_HYSTERESIS_K: f64 = 5.0;

/// The range and step of a settable parameter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Limits {
    /// Smallest accepted value.
    pub min: f64,
    /// Largest accepted value.
    pub max: f64,
    /// Accepted values are `min + k * step`.
    pub step: f64,
    /// Unit: `"°C"` for temperatures, `"K"` for differences, `"h"` for local times of day.
    pub unit: &'static str,
}

const fn lim(min: f64, max: f64, step: f64, unit: &'static str) -> Limits {
    Limits {
        min,
        max,
        step,
        unit,
    }
}

const C: &str = "°C";
const K: &str = "K";
const H: &str = "h";
const MIN: &str = "min";
const S: &str = "s";
const D: &str = "d";

impl Parameter {
    /// Every settable parameter, in a stable order.
    pub const ALL: [Parameter; 35] = [
        Parameter::DtStart,
        Parameter::DtStop,
        Parameter::EcoDtStart,
        Parameter::EcoDtStop,
        Parameter::CollectorCooling,
        Parameter::CollectorCoolingHysteresis,
        Parameter::BoilStop,
        Parameter::BoilStopHysteresis,
        Parameter::TankMax,
        Parameter::TankMaxHysteresis,
        Parameter::HeaterSetpoint,
        Parameter::EcoHeaterSetpoint,
        Parameter::HeaterHysteresis,
        Parameter::FrostOn,
        Parameter::FrostOff,
        Parameter::NightCoolingTank,
        Parameter::NightCoolingHysteresis,
        Parameter::NightCoolingDt,
        Parameter::CollectorMin,
        Parameter::HeaterWindow1Start,
        Parameter::HeaterWindow1End,
        Parameter::HeaterWindow2Start,
        Parameter::HeaterWindow2End,
        Parameter::HeaterWindow3Start,
        Parameter::HeaterWindow3End,
        Parameter::TubeKickStart,
        Parameter::TubeKickEnd,
        Parameter::TubeKickIdleMin,
        Parameter::TubeKickRunS,
        Parameter::DisinfectionIntervalDays,
        Parameter::DisinfectionTarget,
        Parameter::DisinfectionHoldMin,
        Parameter::DisinfectionStart,
        Parameter::DisinfectionEnd,
        Parameter::HolidayCoolingTank,
    ];

    /// The parameter's position in [`Parameter::ALL`], for per-parameter tables (a test checks
    /// that `ALL` lists the variants in declaration order).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Snake-case name, also the field name in [`RawParams`], e.g. `"dt_start"`.
    pub const fn name(self) -> &'static str {
        match self {
            Parameter::DtStart => "dt_start",
            Parameter::DtStop => "dt_stop",
            Parameter::EcoDtStart => "eco_dt_start",
            Parameter::EcoDtStop => "eco_dt_stop",
            Parameter::CollectorCooling => "collector_cooling",
            Parameter::CollectorCoolingHysteresis => "collector_cooling_hysteresis",
            Parameter::BoilStop => "boil_stop",
            Parameter::BoilStopHysteresis => "boil_stop_hysteresis",
            Parameter::TankMax => "tank_max",
            Parameter::TankMaxHysteresis => "tank_max_hysteresis",
            Parameter::HeaterSetpoint => "heater_setpoint",
            Parameter::EcoHeaterSetpoint => "eco_heater_setpoint",
            Parameter::HeaterHysteresis => "heater_hysteresis",
            Parameter::FrostOn => "frost_on",
            Parameter::FrostOff => "frost_off",
            Parameter::NightCoolingTank => "night_cooling_tank",
            Parameter::NightCoolingHysteresis => "night_cooling_hysteresis",
            Parameter::NightCoolingDt => "night_cooling_dt",
            Parameter::CollectorMin => "collector_min",
            Parameter::HeaterWindow1Start => "heater_window_1_start",
            Parameter::HeaterWindow1End => "heater_window_1_end",
            Parameter::HeaterWindow2Start => "heater_window_2_start",
            Parameter::HeaterWindow2End => "heater_window_2_end",
            Parameter::HeaterWindow3Start => "heater_window_3_start",
            Parameter::HeaterWindow3End => "heater_window_3_end",
            Parameter::TubeKickStart => "tube_kick_start",
            Parameter::TubeKickEnd => "tube_kick_end",
            Parameter::TubeKickIdleMin => "tube_kick_idle_min",
            Parameter::TubeKickRunS => "tube_kick_run_s",
            Parameter::DisinfectionIntervalDays => "disinfection_interval_days",
            Parameter::DisinfectionTarget => "disinfection_target",
            Parameter::DisinfectionHoldMin => "disinfection_hold_min",
            Parameter::DisinfectionStart => "disinfection_start",
            Parameter::DisinfectionEnd => "disinfection_end",
            Parameter::HolidayCoolingTank => "holiday_cooling_tank",
        }
    }

    /// Accepted range and step. The original system's ranges are kept where it had one
    /// (dT start 3–40, dT stop 2–20, setpoint 15–90, cooling 70–120, boil stop 100–200 step 5).
    pub const fn limits(self) -> Limits {
        match self {
            Parameter::DtStart | Parameter::EcoDtStart => lim(3.0, 40.0, 0.5, K),
            Parameter::DtStop | Parameter::EcoDtStop => lim(2.0, 20.0, 0.5, K),
            Parameter::CollectorCooling => lim(70.0, 120.0, 1.0, C),
            Parameter::CollectorCoolingHysteresis => lim(1.0, 20.0, 0.5, K),
            Parameter::BoilStop => lim(100.0, 200.0, 5.0, C),
            Parameter::BoilStopHysteresis => lim(2.0, 30.0, 1.0, K),
            Parameter::TankMax => lim(40.0, 95.0, 1.0, C),
            Parameter::TankMaxHysteresis => lim(1.0, 15.0, 0.5, K),
            Parameter::HeaterSetpoint | Parameter::EcoHeaterSetpoint => lim(15.0, 90.0, 1.0, C),
            Parameter::HeaterHysteresis => lim(1.0, 20.0, 0.5, K),
            Parameter::FrostOn => lim(-10.0, 10.0, 0.5, C),
            Parameter::FrostOff => lim(-5.0, 15.0, 0.5, C),
            Parameter::NightCoolingTank => lim(50.0, 95.0, 1.0, C),
            Parameter::NightCoolingHysteresis => lim(1.0, 20.0, 0.5, K),
            Parameter::NightCoolingDt => lim(2.0, 30.0, 0.5, K),
            // RESOL's range (DeltaSol BS Plus, "CMN").
            Parameter::CollectorMin => lim(10.0, 90.0, 1.0, C),
            Parameter::HeaterWindow1Start
            | Parameter::HeaterWindow1End
            | Parameter::HeaterWindow2Start
            | Parameter::HeaterWindow2End
            | Parameter::HeaterWindow3Start
            | Parameter::HeaterWindow3End
            | Parameter::TubeKickStart
            | Parameter::TubeKickEnd
            | Parameter::DisinfectionStart
            | Parameter::DisinfectionEnd => lim(0.0, 24.0, 0.25, H),
            Parameter::DisinfectionIntervalDays => lim(0.0, 28.0, 1.0, D),
            Parameter::DisinfectionTarget => lim(60.0, 75.0, 1.0, C),
            Parameter::DisinfectionHoldMin => lim(10.0, 120.0, 1.0, MIN),
            Parameter::TubeKickIdleMin => lim(5.0, 60.0, 1.0, MIN),
            Parameter::TubeKickRunS => lim(5.0, 300.0, 1.0, S),
            Parameter::HolidayCoolingTank => lim(20.0, 80.0, 1.0, C),
        }
    }
}

impl fmt::Display for Parameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A parameter name that is not one of [`Parameter::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown parameter {0:?}")]
pub struct UnknownParameter(pub String);

impl FromStr for Parameter {
    type Err = UnknownParameter;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Parameter::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| UnknownParameter(s.to_owned()))
    }
}

/// A cross-field rule between two parameters: `left` must be below (or not above) `right`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CrossRule {
    /// `dt_stop` < `dt_start`.
    DtStopBelowStart,
    /// `eco_dt_stop` < `eco_dt_start`.
    EcoDtStopBelowStart,
    /// `collector_cooling_hysteresis` < `collector_cooling`.
    CoolingHysteresisBelowThreshold,
    /// `boil_stop_hysteresis` < `boil_stop`.
    BoilStopHysteresisBelowThreshold,
    /// `tank_max_hysteresis` < `tank_max`.
    TankMaxHysteresisBelowThreshold,
    /// `heater_hysteresis` < `eco_heater_setpoint` (and so below `heater_setpoint`).
    HeaterHysteresisBelowSetpoint,
    /// `night_cooling_hysteresis` < `night_cooling_tank`.
    NightCoolingHysteresisBelowThreshold,
    /// `collector_cooling` < `boil_stop`.
    CoolingBelowBoilStop,
    /// `heater_setpoint` < `tank_max`.
    HeaterSetpointBelowTankMax,
    /// `eco_heater_setpoint` ≤ `heater_setpoint`.
    EcoHeaterNotAboveHeater,
    /// `frost_on` < `frost_off`.
    FrostOnBelowOff,
    /// `frost_off` < `frost_tank_min`: the tank must be warmer than "safe" to give heat.
    FrostOffBelowTankMin,
    /// `night_cooling_dt_stop` < `night_cooling_dt`.
    NightCoolingDtStopBelowStart,
    /// `boil_stop` ≤ `collector_max_c`: the sensor must be able to see the boil stop.
    BoilStopWithinCollectorRange,
    /// `tank_max` ≤ `tank_sensor_max_c`: the sensor must be able to see the tank maximum.
    TankMaxWithinTankRange,
    /// `collector_min_c` < `frost_on`: the sensor must be able to see frost.
    FrostWithinCollectorRange,
    /// `collector_min` < `collector_cooling`: collector cooling must not be needed before the
    /// differential may start.
    CollectorMinBelowCooling,
    /// `tank_max` < `tank_emergency`: the comfort level lies below the emergency level.
    TankMaxBelowEmergency,
    /// `disinfection_target` < `tank_max` while disinfection is on: the heater stops at the
    /// tank maximum, so a target at or above it could never be held.
    DisinfectionTargetBelowTankMax,
    /// `holiday_cooling_tank` < `tank_max`: holiday recooling aims below the level the tank
    /// may reach.
    HolidayCoolingBelowTankMax,
}

impl CrossRule {
    /// The two fields compared and whether equality is allowed.
    pub const fn fields(self) -> (&'static str, &'static str, bool) {
        match self {
            CrossRule::DtStopBelowStart => ("dt_stop", "dt_start", false),
            CrossRule::EcoDtStopBelowStart => ("eco_dt_stop", "eco_dt_start", false),
            CrossRule::CoolingHysteresisBelowThreshold => {
                ("collector_cooling_hysteresis", "collector_cooling", false)
            }
            CrossRule::BoilStopHysteresisBelowThreshold => {
                ("boil_stop_hysteresis", "boil_stop", false)
            }
            CrossRule::TankMaxHysteresisBelowThreshold => {
                ("tank_max_hysteresis", "tank_max", false)
            }
            CrossRule::HeaterHysteresisBelowSetpoint => {
                ("heater_hysteresis", "eco_heater_setpoint", false)
            }
            CrossRule::NightCoolingHysteresisBelowThreshold => {
                ("night_cooling_hysteresis", "night_cooling_tank", false)
            }
            CrossRule::CoolingBelowBoilStop => ("collector_cooling", "boil_stop", false),
            CrossRule::HeaterSetpointBelowTankMax => ("heater_setpoint", "tank_max", false),
            CrossRule::EcoHeaterNotAboveHeater => ("eco_heater_setpoint", "heater_setpoint", true),
            CrossRule::FrostOnBelowOff => ("frost_on", "frost_off", false),
            CrossRule::FrostOffBelowTankMin => ("frost_off", "frost_tank_min", false),
            CrossRule::NightCoolingDtStopBelowStart => {
                ("night_cooling_dt_stop", "night_cooling_dt", false)
            }
            CrossRule::BoilStopWithinCollectorRange => ("boil_stop", "collector_max_c", true),
            CrossRule::TankMaxWithinTankRange => ("tank_max", "tank_sensor_max_c", true),
            CrossRule::FrostWithinCollectorRange => ("collector_min_c", "frost_on", false),
            CrossRule::CollectorMinBelowCooling => ("collector_min", "collector_cooling", false),
            CrossRule::TankMaxBelowEmergency => ("tank_max", "tank_emergency", false),
            CrossRule::DisinfectionTargetBelowTankMax => ("disinfection_target", "tank_max", false),
            CrossRule::HolidayCoolingBelowTankMax => ("holiday_cooling_tank", "tank_max", false),
        }
    }
}

impl fmt::Display for CrossRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (left, right, eq) = self.fields();
        let rel = if eq {
            "must not be above"
        } else {
            "must be below"
        };
        write!(f, "{left} {rel} {right}")
    }
}

/// A parameter or configuration value was rejected. The params stay unchanged.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ParamError {
    /// The value is NaN or infinite.
    #[error("{field} = {value} is not a finite number")]
    NotFinite {
        /// Field name.
        field: &'static str,
        /// Rejected value.
        value: f64,
    },
    /// The value lies outside the field's range.
    #[error("{field} = {value} is outside {min}..={max}")]
    OutOfRange {
        /// Field name.
        field: &'static str,
        /// Rejected value.
        value: f64,
        /// Smallest accepted value.
        min: f64,
        /// Largest accepted value.
        max: f64,
    },
    /// The value is not `min + k * step`.
    #[error("{field} = {value} is not a multiple of {step} from {min}")]
    OffStep {
        /// Field name.
        field: &'static str,
        /// Rejected value.
        value: f64,
        /// Range start the steps count from.
        min: f64,
        /// Step size.
        step: f64,
    },
    /// Two fields break a cross-field rule.
    #[error("{rule}: {left} vs {right}")]
    CrossField {
        /// The violated rule (names both fields).
        rule: CrossRule,
        /// Value of the first field of the rule.
        left: f64,
        /// Value of the second field of the rule.
        right: f64,
    },
}

/// Every parameter and configuration value, unvalidated: the serde form for config files.
///
/// Turn it into [`Params`] with `Params::try_from(raw)`. Missing fields take the defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawParams {
    /// See [`Parameter::DtStart`].
    pub dt_start: f64,
    /// See [`Parameter::DtStop`].
    pub dt_stop: f64,
    /// See [`Parameter::EcoDtStart`].
    pub eco_dt_start: f64,
    /// See [`Parameter::EcoDtStop`].
    pub eco_dt_stop: f64,
    /// See [`Parameter::CollectorCooling`].
    pub collector_cooling: f64,
    /// See [`Parameter::CollectorCoolingHysteresis`].
    pub collector_cooling_hysteresis: f64,
    /// See [`Parameter::BoilStop`].
    pub boil_stop: f64,
    /// See [`Parameter::BoilStopHysteresis`].
    pub boil_stop_hysteresis: f64,
    /// See [`Parameter::TankMax`].
    pub tank_max: f64,
    /// See [`Parameter::TankMaxHysteresis`].
    pub tank_max_hysteresis: f64,
    /// See [`Parameter::HeaterSetpoint`].
    pub heater_setpoint: f64,
    /// See [`Parameter::EcoHeaterSetpoint`].
    pub eco_heater_setpoint: f64,
    /// See [`Parameter::HeaterHysteresis`].
    pub heater_hysteresis: f64,
    /// See [`Parameter::FrostOn`].
    pub frost_on: f64,
    /// See [`Parameter::FrostOff`].
    pub frost_off: f64,
    /// See [`Parameter::NightCoolingTank`].
    pub night_cooling_tank: f64,
    /// See [`Parameter::NightCoolingHysteresis`].
    pub night_cooling_hysteresis: f64,
    /// See [`Parameter::NightCoolingDt`].
    pub night_cooling_dt: f64,
    /// See [`Parameter::CollectorMin`].
    pub collector_min: f64,
    /// See [`Parameter::HeaterWindow1Start`].
    pub heater_window_1_start: f64,
    /// See [`Parameter::HeaterWindow1End`].
    pub heater_window_1_end: f64,
    /// See [`Parameter::HeaterWindow2Start`].
    pub heater_window_2_start: f64,
    /// See [`Parameter::HeaterWindow2End`].
    pub heater_window_2_end: f64,
    /// See [`Parameter::HeaterWindow3Start`].
    pub heater_window_3_start: f64,
    /// See [`Parameter::HeaterWindow3End`].
    pub heater_window_3_end: f64,
    /// See [`Parameter::TubeKickStart`].
    pub tube_kick_start: f64,
    /// See [`Parameter::TubeKickEnd`].
    pub tube_kick_end: f64,
    /// See [`Parameter::TubeKickIdleMin`].
    pub tube_kick_idle_min: f64,
    /// See [`Parameter::TubeKickRunS`].
    pub tube_kick_run_s: f64,
    /// See [`Parameter::DisinfectionIntervalDays`].
    pub disinfection_interval_days: f64,
    /// See [`Parameter::DisinfectionTarget`].
    pub disinfection_target: f64,
    /// See [`Parameter::DisinfectionHoldMin`].
    pub disinfection_hold_min: f64,
    /// See [`Parameter::DisinfectionStart`].
    pub disinfection_start: f64,
    /// See [`Parameter::DisinfectionEnd`].
    pub disinfection_end: f64,
    /// See [`Parameter::HolidayCoolingTank`].
    pub holiday_cooling_tank: f64,
    /// In holiday mode the thermal disinfection still runs (its schedule and the button), the
    /// only time the heater may run then. On by default: a tank kept at 40 °C for weeks is
    /// where legionella grow.
    pub holiday_disinfection: bool,
    /// The evacuated-tube function runs at all (off by default: flat-plate collectors need
    /// no kicks, and each one costs pump energy).
    pub tube_kick_enabled: bool,

    /// The tank's emergency level (°C), config only, at most 95 (RESOL and Prozeda use 95):
    /// collector cooling may load the tank above `tank_max` up to here to protect the collector;
    /// nothing loads it at or above this. Releases below this − `tank_max_hysteresis`.
    pub tank_emergency: f64,
    /// Night cooling runs at all (off by default, as in the original).
    pub night_cooling_enabled: bool,
    /// Night cooling ends at tank bottom − collector < this (K).
    pub night_cooling_dt_stop: f64,
    /// Frost protection only runs while tank bottom ≥ this (°C): the tank has heat to give.
    pub frost_tank_min: f64,
    /// Pump minimum ON time (s).
    pub pump_min_on_s: u64,
    /// Pump minimum OFF time (s).
    pub pump_min_off_s: u64,
    /// Heater minimum ON time (s).
    pub heater_min_on_s: u64,
    /// Heater minimum OFF time (s).
    pub heater_min_off_s: u64,
    /// A transient fault (CRC, IO) holds the last good value at most this long (s).
    pub stale_timeout_s: u64,
    /// A faulted sensor must read good this long before it is used again (s).
    pub fault_clear_s: u64,
    /// Collector loop flow rate (L/min), for the collected-energy counter: fixed, as set on
    /// the loop's flow setter (no flow meter is read).
    pub flow_l_per_min: f64,
    /// The collector-loop fluid, for the collected-energy counter: its heat capacity comes from
    /// a property table at the mean of collector and tank bottom (see [`crate::fluid`]).
    pub fluid: Fluid,
    /// Glycol concentration of the loop fluid (% by mass, 0–60, the range of the property
    /// tables); validated but ignored for water.
    pub fluid_concentration_pct: f64,
    /// Electric heater power (W), for the heater-energy counter.
    pub heater_power_w: f64,
    /// Lowest physically plausible collector reading (°C).
    pub collector_min_c: f64,
    /// Highest physically plausible collector reading (°C).
    pub collector_max_c: f64,
    /// Lowest physically plausible tank reading (°C).
    pub tank_sensor_min_c: f64,
    /// Highest physically plausible tank reading (°C).
    pub tank_sensor_max_c: f64,
    /// 85.0 °C is accepted only if the previous good value was within this many K of it.
    pub power_on_window_k: f64,
}

impl Default for RawParams {
    fn default() -> Self {
        Self {
            dt_start: 8.0,
            dt_stop: 4.0,
            eco_dt_start: 10.0,
            eco_dt_stop: 6.0,
            collector_cooling: 90.0,
            collector_cooling_hysteresis: 4.0,
            boil_stop: 150.0,
            boil_stop_hysteresis: 10.0,
            tank_max: 90.0,
            tank_max_hysteresis: 5.0,
            heater_setpoint: 60.0,
            eco_heater_setpoint: 45.0,
            heater_hysteresis: 5.0,
            frost_on: 3.0,
            frost_off: 5.0,
            night_cooling_tank: 80.0,
            night_cooling_hysteresis: 5.0,
            night_cooling_dt: 5.0,
            collector_min: 10.0,
            // One window all day: today's behaviour.
            heater_window_1_start: 0.0,
            heater_window_1_end: 24.0,
            heater_window_2_start: 0.0,
            heater_window_2_end: 0.0,
            heater_window_3_start: 0.0,
            heater_window_3_end: 0.0,
            tube_kick_start: 7.0,
            tube_kick_end: 19.0,
            tube_kick_idle_min: 30.0,
            tube_kick_run_s: 30.0,
            tube_kick_enabled: false,
            disinfection_interval_days: 0.0,
            disinfection_target: 65.0,
            disinfection_hold_min: 30.0,
            disinfection_start: 1.0,
            disinfection_end: 5.0,
            holiday_cooling_tank: 40.0,
            holiday_disinfection: true,
            night_cooling_enabled: false,
            night_cooling_dt_stop: 2.0,
            frost_tank_min: 10.0,
            pump_min_on_s: 60,
            pump_min_off_s: 60,
            heater_min_on_s: 120,
            heater_min_off_s: 120,
            stale_timeout_s: 90,
            fault_clear_s: 60,
            flow_l_per_min: 4.0,
            // RESOL's default: propylene glycol 45 %.
            fluid: Fluid::PropyleneGlycol,
            fluid_concentration_pct: 45.0,
            heater_power_w: 3000.0,
            collector_min_c: -40.0,
            collector_max_c: 250.0,
            tank_sensor_min_c: -20.0,
            tank_sensor_max_c: 125.0,
            power_on_window_k: 5.0,
            tank_emergency: 95.0,
        }
    }
}

impl RawParams {
    /// The value of a settable parameter.
    pub fn get(&self, p: Parameter) -> f64 {
        *self.slot_ref(p)
    }

    fn slot_ref(&self, p: Parameter) -> &f64 {
        match p {
            Parameter::DtStart => &self.dt_start,
            Parameter::DtStop => &self.dt_stop,
            Parameter::EcoDtStart => &self.eco_dt_start,
            Parameter::EcoDtStop => &self.eco_dt_stop,
            Parameter::CollectorCooling => &self.collector_cooling,
            Parameter::CollectorCoolingHysteresis => &self.collector_cooling_hysteresis,
            Parameter::BoilStop => &self.boil_stop,
            Parameter::BoilStopHysteresis => &self.boil_stop_hysteresis,
            Parameter::TankMax => &self.tank_max,
            Parameter::TankMaxHysteresis => &self.tank_max_hysteresis,
            Parameter::HeaterSetpoint => &self.heater_setpoint,
            Parameter::EcoHeaterSetpoint => &self.eco_heater_setpoint,
            Parameter::HeaterHysteresis => &self.heater_hysteresis,
            Parameter::FrostOn => &self.frost_on,
            Parameter::FrostOff => &self.frost_off,
            Parameter::NightCoolingTank => &self.night_cooling_tank,
            Parameter::NightCoolingHysteresis => &self.night_cooling_hysteresis,
            Parameter::NightCoolingDt => &self.night_cooling_dt,
            Parameter::CollectorMin => &self.collector_min,
            Parameter::HeaterWindow1Start => &self.heater_window_1_start,
            Parameter::HeaterWindow1End => &self.heater_window_1_end,
            Parameter::HeaterWindow2Start => &self.heater_window_2_start,
            Parameter::HeaterWindow2End => &self.heater_window_2_end,
            Parameter::HeaterWindow3Start => &self.heater_window_3_start,
            Parameter::HeaterWindow3End => &self.heater_window_3_end,
            Parameter::TubeKickStart => &self.tube_kick_start,
            Parameter::TubeKickEnd => &self.tube_kick_end,
            Parameter::TubeKickIdleMin => &self.tube_kick_idle_min,
            Parameter::TubeKickRunS => &self.tube_kick_run_s,
            Parameter::DisinfectionIntervalDays => &self.disinfection_interval_days,
            Parameter::DisinfectionTarget => &self.disinfection_target,
            Parameter::DisinfectionHoldMin => &self.disinfection_hold_min,
            Parameter::DisinfectionStart => &self.disinfection_start,
            Parameter::DisinfectionEnd => &self.disinfection_end,
            Parameter::HolidayCoolingTank => &self.holiday_cooling_tank,
        }
    }

    /// Sets a settable parameter (unvalidated; validate with `Params::try_from`).
    pub fn set(&mut self, p: Parameter, value: f64) {
        let slot = match p {
            Parameter::DtStart => &mut self.dt_start,
            Parameter::DtStop => &mut self.dt_stop,
            Parameter::EcoDtStart => &mut self.eco_dt_start,
            Parameter::EcoDtStop => &mut self.eco_dt_stop,
            Parameter::CollectorCooling => &mut self.collector_cooling,
            Parameter::CollectorCoolingHysteresis => &mut self.collector_cooling_hysteresis,
            Parameter::BoilStop => &mut self.boil_stop,
            Parameter::BoilStopHysteresis => &mut self.boil_stop_hysteresis,
            Parameter::TankMax => &mut self.tank_max,
            Parameter::TankMaxHysteresis => &mut self.tank_max_hysteresis,
            Parameter::HeaterSetpoint => &mut self.heater_setpoint,
            Parameter::EcoHeaterSetpoint => &mut self.eco_heater_setpoint,
            Parameter::HeaterHysteresis => &mut self.heater_hysteresis,
            Parameter::FrostOn => &mut self.frost_on,
            Parameter::FrostOff => &mut self.frost_off,
            Parameter::NightCoolingTank => &mut self.night_cooling_tank,
            Parameter::NightCoolingHysteresis => &mut self.night_cooling_hysteresis,
            Parameter::NightCoolingDt => &mut self.night_cooling_dt,
            Parameter::CollectorMin => &mut self.collector_min,
            Parameter::HeaterWindow1Start => &mut self.heater_window_1_start,
            Parameter::HeaterWindow1End => &mut self.heater_window_1_end,
            Parameter::HeaterWindow2Start => &mut self.heater_window_2_start,
            Parameter::HeaterWindow2End => &mut self.heater_window_2_end,
            Parameter::HeaterWindow3Start => &mut self.heater_window_3_start,
            Parameter::HeaterWindow3End => &mut self.heater_window_3_end,
            Parameter::TubeKickStart => &mut self.tube_kick_start,
            Parameter::TubeKickEnd => &mut self.tube_kick_end,
            Parameter::TubeKickIdleMin => &mut self.tube_kick_idle_min,
            Parameter::TubeKickRunS => &mut self.tube_kick_run_s,
            Parameter::DisinfectionIntervalDays => &mut self.disinfection_interval_days,
            Parameter::DisinfectionTarget => &mut self.disinfection_target,
            Parameter::DisinfectionHoldMin => &mut self.disinfection_hold_min,
            Parameter::DisinfectionStart => &mut self.disinfection_start,
            Parameter::DisinfectionEnd => &mut self.disinfection_end,
            Parameter::HolidayCoolingTank => &mut self.holiday_cooling_tank,
        };
        *slot = value;
    }
}

/// Validated parameters and configuration: a `Params` that exists is a valid one.
///
/// Deserialising goes through [`RawParams`] and the same validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "RawParams", try_from = "RawParams")]
pub struct Params {
    raw: RawParams,
}

impl Default for Params {
    /// The defaults (checked valid by a unit test).
    fn default() -> Self {
        Self {
            raw: RawParams::default(),
        }
    }
}

fn finite(field: &'static str, value: f64) -> Result<f64, ParamError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(ParamError::NotFinite { field, value })
    }
}

fn range(field: &'static str, value: f64, min: f64, max: f64) -> Result<(), ParamError> {
    finite(field, value)?;
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ParamError::OutOfRange {
            field,
            value,
            min,
            max,
        })
    }
}

fn secs(field: &'static str, value: u64, max: u64) -> Result<(), ParamError> {
    if value <= max {
        Ok(())
    } else {
        // u64 seconds up to an hour convert to f64 exactly; larger ones only lose precision in
        // the error message.
        #[allow(clippy::cast_precision_loss)]
        let v = value as f64;
        Err(ParamError::OutOfRange {
            field,
            value: v,
            min: 0.0,
            max: max as f64,
        })
    }
}

fn check_parameter(p: Parameter, value: f64) -> Result<(), ParamError> {
    let l = p.limits();
    range(p.name(), value, l.min, l.max)?;
    let k = ((value - l.min) / l.step).round();
    if (l.min + k * l.step - value).abs() > 1e-9 {
        return Err(ParamError::OffStep {
            field: p.name(),
            value,
            min: l.min,
            step: l.step,
        });
    }
    Ok(())
}

fn rule(rule: CrossRule, left: f64, right: f64) -> Result<(), ParamError> {
    let ok = if rule.fields().2 {
        left <= right
    } else {
        left < right
    };
    if ok {
        Ok(())
    } else {
        Err(ParamError::CrossField { rule, left, right })
    }
}

fn validate(r: &RawParams) -> Result<(), ParamError> {
    for p in Parameter::ALL {
        check_parameter(p, r.get(p))?;
    }
    range("night_cooling_dt_stop", r.night_cooling_dt_stop, 0.0, 20.0)?;
    range("frost_tank_min", r.frost_tank_min, 0.0, 40.0)?;
    secs("pump_min_on_s", r.pump_min_on_s, 3600)?;
    secs("pump_min_off_s", r.pump_min_off_s, 3600)?;
    secs("heater_min_on_s", r.heater_min_on_s, 3600)?;
    secs("heater_min_off_s", r.heater_min_off_s, 3600)?;
    secs("stale_timeout_s", r.stale_timeout_s, 3600)?;
    secs("fault_clear_s", r.fault_clear_s, 3600)?;
    range("flow_l_per_min", r.flow_l_per_min, 0.0, 100.0)?;
    // Checked for water too, where it is ignored: a value out of range is a typo either way.
    range(
        "fluid_concentration_pct",
        r.fluid_concentration_pct,
        fluid::MIN_CONCENTRATION_PCT,
        fluid::MAX_CONCENTRATION_PCT,
    )?;
    range("heater_power_w", r.heater_power_w, 0.0, 20_000.0)?;
    range("collector_min_c", r.collector_min_c, -100.0, -10.0)?;
    range("collector_max_c", r.collector_max_c, 100.0, 300.0)?;
    range("tank_sensor_min_c", r.tank_sensor_min_c, -50.0, 0.0)?;
    range("tank_sensor_max_c", r.tank_sensor_max_c, 95.0, 150.0)?;
    range("power_on_window_k", r.power_on_window_k, 0.0, 20.0)?;
    range("tank_emergency", r.tank_emergency, 60.0, 95.0)?;

    use CrossRule as R;
    rule(R::DtStopBelowStart, r.dt_stop, r.dt_start)?;
    rule(R::EcoDtStopBelowStart, r.eco_dt_stop, r.eco_dt_start)?;
    rule(
        R::CoolingHysteresisBelowThreshold,
        r.collector_cooling_hysteresis,
        r.collector_cooling,
    )?;
    rule(
        R::BoilStopHysteresisBelowThreshold,
        r.boil_stop_hysteresis,
        r.boil_stop,
    )?;
    rule(
        R::TankMaxHysteresisBelowThreshold,
        r.tank_max_hysteresis,
        r.tank_max,
    )?;
    rule(
        R::HeaterHysteresisBelowSetpoint,
        r.heater_hysteresis,
        r.eco_heater_setpoint,
    )?;
    rule(
        R::NightCoolingHysteresisBelowThreshold,
        r.night_cooling_hysteresis,
        r.night_cooling_tank,
    )?;
    rule(R::CoolingBelowBoilStop, r.collector_cooling, r.boil_stop)?;
    rule(R::HeaterSetpointBelowTankMax, r.heater_setpoint, r.tank_max)?;
    rule(
        R::EcoHeaterNotAboveHeater,
        r.eco_heater_setpoint,
        r.heater_setpoint,
    )?;
    rule(R::FrostOnBelowOff, r.frost_on, r.frost_off)?;
    rule(R::FrostOffBelowTankMin, r.frost_off, r.frost_tank_min)?;
    rule(
        R::NightCoolingDtStopBelowStart,
        r.night_cooling_dt_stop,
        r.night_cooling_dt,
    )?;
    rule(
        R::BoilStopWithinCollectorRange,
        r.boil_stop,
        r.collector_max_c,
    )?;
    rule(R::TankMaxWithinTankRange, r.tank_max, r.tank_sensor_max_c)?;
    rule(R::FrostWithinCollectorRange, r.collector_min_c, r.frost_on)?;
    rule(
        R::CollectorMinBelowCooling,
        r.collector_min,
        r.collector_cooling,
    )?;
    rule(R::TankMaxBelowEmergency, r.tank_max, r.tank_emergency)?;
    if r.disinfection_interval_days > 0.0 {
        rule(
            R::DisinfectionTargetBelowTankMax,
            r.disinfection_target,
            r.tank_max,
        )?;
    }
    rule(
        R::HolidayCoolingBelowTankMax,
        r.holiday_cooling_tank,
        r.tank_max,
    )?;
    Ok(())
}

impl TryFrom<RawParams> for Params {
    type Error = ParamError;

    fn try_from(raw: RawParams) -> Result<Self, ParamError> {
        validate(&raw)?;
        Ok(Self { raw })
    }
}

impl From<Params> for RawParams {
    fn from(p: Params) -> Self {
        p.raw
    }
}

impl Params {
    /// All values, read-only.
    pub fn raw(&self) -> &RawParams {
        &self.raw
    }

    /// The value of a settable parameter.
    pub fn get(&self, p: Parameter) -> f64 {
        self.raw.get(p)
    }

    /// A copy with `p` set to `value`, or the error; `self` is never changed.
    pub fn with(&self, p: Parameter, value: f64) -> Result<Params, ParamError> {
        let mut raw = self.raw.clone();
        raw.set(p, value);
        Params::try_from(raw)
    }

    /// Night cooling runs at all.
    pub fn night_cooling_enabled(&self) -> bool {
        self.raw.night_cooling_enabled
    }

    /// The heater time windows, as `[start, end)` in minutes after local midnight.
    pub fn heater_windows(&self) -> [(u16, u16); 3] {
        let r = &self.raw;
        [
            (r.heater_window_1_start, r.heater_window_1_end),
            (r.heater_window_2_start, r.heater_window_2_end),
            (r.heater_window_3_start, r.heater_window_3_end),
        ]
        .map(|(start, end)| (minutes(start), minutes(end)))
    }

    /// Days between disinfections, 0 when the function is off.
    pub fn disinfection_interval_days(&self) -> u16 {
        // Validated: a whole number 0–28.
        self.raw.disinfection_interval_days as u16
    }

    /// The disinfection start window `[start, end)`, in minutes after local midnight.
    pub fn disinfection_window(&self) -> (u16, u16) {
        (
            minutes(self.raw.disinfection_start),
            minutes(self.raw.disinfection_end),
        )
    }

    /// Whether the evacuated-tube function may kick at `minute` after local midnight (its
    /// window `[tube_kick_start, tube_kick_end)`, read as the heater windows are).
    pub fn tube_kick_window_open(&self, minute: u16) -> bool {
        let r = &self.raw;
        window_contains(minutes(r.tube_kick_start), minutes(r.tube_kick_end), minute)
    }

    /// Whether comfort heating may run at `minute` after local midnight: inside a window
    /// `[start, end)`, one with start > end crossing midnight, one with start = end off.
    pub fn heater_window_open(&self, minute: u16) -> bool {
        self.heater_windows()
            .into_iter()
            .any(|(start, end)| window_contains(start, end, minute))
    }

    pub(crate) fn ms(secs: u64) -> u64 {
        secs.saturating_mul(1000)
    }
}

/// Hours 0–24 (validated) as minutes 0–1440.
fn minutes(hours: f64) -> u16 {
    // Validated to 0..=24 on a 0.25 step, so the product is a whole number up to 1440.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let m = (hours * 60.0).round().clamp(0.0, 1440.0) as u16;
    m
}

/// Whether `[start, end)` (minutes; crossing midnight when start > end) holds `minute`.
pub const fn window_contains(start: u16, end: u16, minute: u16) -> bool {
    if start <= end {
        start <= minute && minute < end
    } else {
        minute >= start || minute < end
    }
}

#[cfg(test)]
mod tests;
