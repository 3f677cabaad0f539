//! The state JSON published on `<prefix>/state`, built from a [`heat_core::Status`], the link
//! info and a time the caller passes in. Pure: no clock is read here. The schema is documented in
//! `docs/mqtt.md`.

use std::{
    collections::BTreeMap,
    time::{SystemTime, UNIX_EPOCH},
};

use heat_core::{Alarm, Parameter, Pending, SensorStatus, Status};
use serde::Serialize;

/// `"ON"` or `"OFF"`, Home Assistant's default switch and binary-sensor payloads.
pub const fn on_off(on: bool) -> &'static str {
    if on { "ON" } else { "OFF" }
}

/// What the session adds about its own connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct LinkInfo {
    /// Successful connections since the session started (1 on the first, then +1 per reconnect).
    pub connects: u64,
    /// Commands refused by validation or rate limiting since the session started.
    pub commands_rejected: u64,
}

/// One temperature: its value in °C (`null` when unusable) and its fault.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Temperature {
    /// °C, rounded to 0.01; `null` when the sensor has no usable value.
    pub value: Option<f64>,
    /// The sensor's fault name (`missing`, `crc`, ...) or `null`.
    pub fault: Option<&'static str>,
}

/// One active alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlarmJson {
    /// `sensor`, `boil_stop`, `tank_max` or `state_file`.
    pub alarm: &'static str,
    /// The sensor, for a sensor alarm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensor: Option<&'static str>,
    /// The fault, for a sensor alarm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<&'static str>,
}

/// Energy counters in kWh, rounded to 0.001.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnergyJson {
    /// Solar heat moved into the tank.
    pub collected_kwh: f64,
    /// Electricity used by the heater.
    pub heater_kwh: f64,
}

/// A switch a minimum ON/OFF time holds back: `{"to": "ON", "in_s": 42}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingJson {
    /// The relay state the load will switch to, `ON`/`OFF`.
    pub to: &'static str,
    /// Seconds left (rounded up) until the minimum time allows it.
    pub in_s: u64,
}

/// The held-back switches by load (`pump`, `heater`); empty when none.
pub fn pending_json(pending: &Pending) -> BTreeMap<&'static str, PendingJson> {
    [("pump", pending.pump), ("heater", pending.heater)]
        .into_iter()
        .filter_map(|(load, p)| {
            p.map(|p| {
                let json = PendingJson {
                    to: on_off(p.to),
                    in_s: p.in_ms.div_ceil(1000),
                };
                (load, json)
            })
        })
        .collect()
}

/// The state document. Field order is the serialised order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateJson {
    /// Snapshot time, RFC 3339 UTC with milliseconds.
    pub time: String,
    /// `auto`, `eco`, `manual` or `off`.
    pub mode: &'static str,
    /// The operating state, e.g. `heating`.
    pub state: &'static str,
    /// Pump relay, `ON`/`OFF`.
    pub pump: &'static str,
    /// Heater relay, `ON`/`OFF`.
    pub heater: &'static str,
    /// Manual pump request, `ON`/`OFF`.
    pub manual_pump: &'static str,
    /// Manual heater request, `ON`/`OFF`.
    pub manual_heater: &'static str,
    /// `ON` when any alarm is active.
    pub problem: &'static str,
    /// `collector`, `tank_bottom`, `tank_top`.
    pub temperatures: BTreeMap<&'static str, Temperature>,
    /// Active alarms.
    pub alarms: Vec<AlarmJson>,
    /// Active interlocks, human-readable (`boil stop`, `collector sensor fault`, ...).
    pub interlocks: Vec<String>,
    /// Every settable parameter by name.
    pub parameters: BTreeMap<&'static str, f64>,
    /// Energy counters.
    pub energy: EnergyJson,
    /// Switches the rules want but a minimum ON/OFF time holds back, by load.
    pub pending: BTreeMap<&'static str, PendingJson>,
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
        fault: s.fault.map(|f| f.as_str()),
    }
}

fn alarm(a: &Alarm) -> AlarmJson {
    match a {
        Alarm::Sensor { sensor, fault } => AlarmJson {
            alarm: "sensor",
            sensor: Some(sensor.as_str()),
            fault: Some(fault.as_str()),
        },
        Alarm::BoilStop => AlarmJson {
            alarm: "boil_stop",
            sensor: None,
            fault: None,
        },
        Alarm::TankMax => AlarmJson {
            alarm: "tank_max",
            sensor: None,
            fault: None,
        },
        Alarm::StateFile => AlarmJson {
            alarm: "state_file",
            sensor: None,
            fault: None,
        },
    }
}

impl StateJson {
    /// The document for `status` at `time`.
    pub fn new(status: &Status, link: LinkInfo, time: SystemTime) -> Self {
        Self {
            time: rfc3339(time),
            mode: status.mode.as_str(),
            state: status.state.as_str(),
            pump: on_off(status.pump),
            heater: on_off(status.heater),
            manual_pump: on_off(status.manual_pump),
            manual_heater: on_off(status.manual_heater),
            problem: on_off(!status.alarms.is_empty()),
            temperatures: BTreeMap::from([
                ("collector", temperature(&status.collector)),
                ("tank_bottom", temperature(&status.tank_bottom)),
                ("tank_top", temperature(&status.tank_top)),
            ]),
            alarms: status.alarms.iter().map(alarm).collect(),
            interlocks: status.interlocks.iter().map(ToString::to_string).collect(),
            parameters: Parameter::ALL
                .iter()
                .map(|p| (p.name(), round(status.params.get(*p), 3)))
                .collect(),
            energy: EnergyJson {
                collected_kwh: round(status.energy.collected_kwh, 3),
                heater_kwh: round(status.energy.heater_kwh, 3),
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
}

/// The state JSON for `status` at `time`.
pub fn state_json(
    status: &Status,
    link: LinkInfo,
    time: SystemTime,
) -> Result<String, serde_json::Error> {
    StateJson::new(status, link, time).to_json()
}

/// `time` as RFC 3339 in UTC with milliseconds, e.g. `2024-05-01T12:00:00.000Z`. Times before
/// 1970 are written as the epoch.
pub fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    // d is in 1..=31 and m in 1..=12 by construction.
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests;
