//! The state JSON published on `<prefix>/state`, built from a [`heat_core::Status`], the link
//! info and a time the caller passes in, and the answer to a command on `<prefix>/result`.
//! Pure: no clock is read here. The schema is documented in `docs/mqtt.md`.

use std::{
    collections::BTreeMap,
    fmt,
    time::{SystemTime, UNIX_EPOCH},
};

use heat_core::{
    Alarm, CommandError, CommandOutcome, Load, Mode, OperatingState, Parameter, Pending, Sensor,
    SensorFault, SensorStatus, Status,
};
use serde::{Deserialize, Serialize};

use crate::link::LinkInfo;

/// A relay or request as Home Assistant's default switch and binary-sensor payloads: `"ON"` or
/// `"OFF"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OnOff {
    /// `"ON"`.
    #[serde(rename = "ON")]
    On,
    /// `"OFF"`.
    #[serde(rename = "OFF")]
    Off,
}

impl OnOff {
    /// Whether it is [`OnOff::On`].
    pub const fn is_on(self) -> bool {
        matches!(self, OnOff::On)
    }

    /// `"ON"` or `"OFF"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            OnOff::On => "ON",
            OnOff::Off => "OFF",
        }
    }
}

impl From<bool> for OnOff {
    fn from(on: bool) -> Self {
        if on { OnOff::On } else { OnOff::Off }
    }
}

impl fmt::Display for OnOff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One temperature: its value in °C (`null` when unusable) and its fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Temperature {
    /// °C, rounded to 0.01; `null` when the sensor has no usable value.
    pub value: Option<f64>,
    /// The sensor's fault (`missing`, `crc`, ...) or `null`.
    pub fault: Option<SensorFault>,
}

/// Energy counters in kWh, rounded to 0.001: the totals, and today's and yesterday's (local
/// days; a document without them reads them as 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnergyJson {
    /// Solar heat moved into the tank.
    pub collected_kwh: f64,
    /// Electricity used by the heater.
    pub heater_kwh: f64,
    /// Solar heat since local midnight.
    #[serde(default)]
    pub collected_today_kwh: f64,
    /// Heater electricity since local midnight.
    #[serde(default)]
    pub heater_today_kwh: f64,
    /// Solar heat of the previous local day.
    #[serde(default)]
    pub collected_yesterday_kwh: f64,
    /// Heater electricity of the previous local day.
    #[serde(default)]
    pub heater_yesterday_kwh: f64,
}

/// Operating hours (rounded to 0.001 h) and start counts of the loads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeJson {
    /// Hours the pump ran.
    pub pump_hours: f64,
    /// Times the pump started.
    pub pump_starts: u64,
    /// Hours the heater ran.
    pub heater_hours: f64,
    /// Times the heater started.
    pub heater_starts: u64,
}

/// The thermal disinfection: `{"running": false, "last_disinfection": "2026-11-28",
/// "next_due": "2026-12-05"}`; dates are local, `null` when unknown or the function is off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisinfectionJson {
    /// A run is heating or holding now.
    pub running: bool,
    /// The local date of the last completed disinfection, `YYYY-MM-DD`.
    pub last_disinfection: Option<String>,
    /// The local date the next one is due, `YYYY-MM-DD`.
    pub next_due: Option<String>,
}

/// Holiday mode: `{"end": "2026-12-20", "return_to": "eco"}`. `end` is the local date holiday
/// mode ends on (`null`: until changed; it may be set before holiday is selected);
/// `return_to` the mode it then returns to, `null` outside holiday mode. A document without it
/// reads as neither.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HolidayJson {
    /// The local end date, `YYYY-MM-DD`.
    pub end: Option<String>,
    /// The mode holiday returns to.
    pub return_to: Option<Mode>,
}

/// A local day number (days since 1970-01-01) as `YYYY-MM-DD` (heat-core's, named for the state
/// JSON's dates).
pub use heat_core::format_date as local_date;

/// A switch a minimum ON/OFF time holds back: `{"to": "ON", "in_s": 42}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingJson {
    /// The relay state the load will switch to.
    pub to: OnOff,
    /// Seconds left (rounded up) until the minimum time allows it.
    pub in_s: u64,
}

/// The held-back switches by load (`pump`, `heater`); empty when none.
pub fn pending_json(pending: &Pending) -> BTreeMap<Load, PendingJson> {
    [(Load::Pump, pending.pump), (Load::Heater, pending.heater)]
        .into_iter()
        .filter_map(|(load, p)| {
            p.map(|p| {
                let json = PendingJson {
                    to: p.to.into(),
                    in_s: p.in_ms.div_ceil(1000),
                };
                (load, json)
            })
        })
        .collect()
}

/// The state document. Field order is the serialised order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateJson {
    /// Snapshot time, RFC 3339 UTC with milliseconds.
    pub time: String,
    /// `auto`, `eco`, `manual`, `off` or `holiday`.
    pub mode: Mode,
    /// The operating state, e.g. `heating`.
    pub state: OperatingState,
    /// Pump relay.
    pub pump: OnOff,
    /// Heater relay.
    pub heater: OnOff,
    /// Manual pump request.
    pub manual_pump: OnOff,
    /// Manual heater request.
    pub manual_heater: OnOff,
    /// `ON` when any alarm is active.
    pub problem: OnOff,
    /// `collector`, `tank_bottom`, `tank_top`.
    pub temperatures: BTreeMap<Sensor, Temperature>,
    /// Active alarms: `{"alarm": "sensor", "sensor": ..., "fault": ...}`, `{"alarm":
    /// "boil_stop"}`, ... (heat-core's [`Alarm`] is the shape).
    pub alarms: Vec<Alarm>,
    /// Active interlocks, human-readable (`boil stop`, `collector sensor fault`, ...).
    pub interlocks: Vec<String>,
    /// Every settable parameter by name.
    pub parameters: BTreeMap<Parameter, f64>,
    /// Energy counters.
    pub energy: EnergyJson,
    /// Operating hours and starts.
    pub runtime: RuntimeJson,
    /// Thermal disinfection.
    pub disinfection: DisinfectionJson,
    /// Holiday mode's end date and return mode.
    #[serde(default)]
    pub holiday: HolidayJson,
    /// Switches the rules want but a minimum ON/OFF time holds back, by load.
    pub pending: BTreeMap<Load, PendingJson>,
    /// The MQTT link.
    pub link: LinkInfo,
}

fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    let r = (value * scale).round() / scale;
    // serde_json writes NaN/inf as null; keep them out so the field stays a number.
    if r.is_finite() { r } else { 0.0 }
}

fn temperature(s: &SensorStatus) -> Temperature {
    Temperature {
        value: s.value.filter(|v| v.is_finite()).map(|v| round(v, 2)),
        fault: s.fault,
    }
}

impl StateJson {
    /// The document for `status` at `time`.
    pub fn new(status: &Status, link: LinkInfo, time: SystemTime) -> Self {
        Self {
            time: rfc3339(time),
            mode: status.mode,
            state: status.state,
            pump: status.pump.into(),
            heater: status.heater.into(),
            manual_pump: status.manual_pump.into(),
            manual_heater: status.manual_heater.into(),
            problem: (!status.alarms.is_empty()).into(),
            temperatures: BTreeMap::from([
                (Sensor::Collector, temperature(&status.collector)),
                (Sensor::TankBottom, temperature(&status.tank_bottom)),
                (Sensor::TankTop, temperature(&status.tank_top)),
            ]),
            alarms: status.alarms.clone(),
            interlocks: status.interlocks.iter().map(ToString::to_string).collect(),
            parameters: Parameter::ALL
                .iter()
                .map(|p| (*p, round(status.params.get(*p), 3)))
                .collect(),
            energy: EnergyJson {
                collected_kwh: round(status.energy.collected_kwh, 3),
                heater_kwh: round(status.energy.heater_kwh, 3),
                collected_today_kwh: round(status.daily.today.collected_kwh, 3),
                heater_today_kwh: round(status.daily.today.heater_kwh, 3),
                collected_yesterday_kwh: round(status.daily.yesterday.collected_kwh, 3),
                heater_yesterday_kwh: round(status.daily.yesterday.heater_kwh, 3),
            },
            runtime: RuntimeJson {
                pump_hours: round(status.runtime.pump_hours, 3),
                pump_starts: status.runtime.pump_starts,
                heater_hours: round(status.runtime.heater_hours, 3),
                heater_starts: status.runtime.heater_starts,
            },
            disinfection: DisinfectionJson {
                running: status.disinfection.running,
                last_disinfection: status.disinfection.last_day.map(local_date),
                next_due: status.disinfection.next_due_day.map(local_date),
            },
            holiday: HolidayJson {
                end: status.holiday.end_day.map(local_date),
                return_to: (status.mode == Mode::Holiday).then_some(status.holiday.return_to),
            },
            pending: pending_json(&status.pending),
            link,
        }
    }

    /// Serialised as compact JSON. An error is serde_json's, returned so that the caller logs
    /// it and publishes nothing, rather than a `{}` that Home Assistant would read as no state.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// The temperature of `sensor`, `None` when it has no usable value.
    pub fn temperature(&self, sensor: Sensor) -> Option<f64> {
        self.temperatures.get(&sensor).and_then(|t| t.value)
    }

    /// The value of `parameter`, `None` when the document lacks it.
    pub fn parameter(&self, parameter: Parameter) -> Option<f64> {
        self.parameters.get(&parameter).copied()
    }

    /// Whether an alarm of `alarm`'s kind is active (for a sensor alarm: that sensor, any
    /// fault).
    pub fn has_alarm(&self, alarm: Alarm) -> bool {
        self.alarms.iter().any(|a| match (a, alarm) {
            (Alarm::Sensor { sensor: a, .. }, Alarm::Sensor { sensor: b, .. }) => *a == b,
            (a, b) => *a == b,
        })
    }

    /// The relay state of `load`.
    pub fn relay(&self, load: Load) -> OnOff {
        match load {
            Load::Pump => self.pump,
            Load::Heater => self.heater,
        }
    }
}

/// The state JSON for `status` at `time`.
pub fn state_json(
    status: &Status,
    link: LinkInfo,
    time: SystemTime,
) -> Result<String, serde_json::Error> {
    StateJson::new(status, link, time).to_json()
}

/// Longest topic echoed in an answer.
pub const MAX_ANSWER_TOPIC: usize = 128;

/// The answer published on `<prefix>/result`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// The command topic, cut to [`MAX_ANSWER_TOPIC`] characters.
    pub topic: String,
    /// Whether the command was accepted.
    pub accepted: bool,
    /// Why, in words.
    pub reason: String,
    /// Switches a minimum ON/OFF time holds back after the command, by load, as in the state.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending: BTreeMap<Load, PendingJson>,
}

impl Answer {
    /// The answer for `topic` (cut to [`MAX_ANSWER_TOPIC`] characters).
    pub fn new(topic: &str, accepted: bool, reason: impl Into<String>) -> Self {
        Self {
            topic: topic.chars().take(MAX_ANSWER_TOPIC).collect(),
            accepted,
            reason: reason.into(),
            pending: BTreeMap::new(),
        }
    }

    /// The answer with the switches still held back after the command (an accepted command's
    /// effect that a minimum ON/OFF time delays), also said in words.
    pub fn with_pending(mut self, pending: &Pending) -> Self {
        self.pending = pending_json(pending);
        for (load, p) in &self.pending {
            self.reason
                .push_str(&format!("; {load} switches {} in {} s", p.to, p.in_s));
        }
        self
    }

    /// The answer to a command the controller applied or refused.
    pub fn from_outcome(topic: &str, result: &Result<CommandOutcome, CommandError>) -> Self {
        match result {
            Ok(CommandOutcome::Accepted) => Self::new(topic, true, "accepted"),
            Ok(CommandOutcome::AcceptedButOverridden { reason }) => Self::new(
                topic,
                true,
                format!("accepted, but {reason} decides the load for now"),
            ),
            Err(e) => Self::new(topic, false, e.to_string()),
        }
    }

    /// Serialised as compact JSON (serde_json's error returned, never a silent `{}`).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}

/// `time` as RFC 3339 in UTC with milliseconds, e.g. `2024-05-01T12:00:00.000Z`. Times before
/// 1970 are written as the epoch.
pub fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rem = secs % 86_400;
    let (y, m, d) = heat_core::civil_date(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests;
