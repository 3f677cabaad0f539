//! The demo's pure parts: the safety check of one state JSON, what the watcher's and the
//! controller's lines mean (read as heat-state's and heat-loop's types), counts from the
//! broker's log (Mosquitto's own lines, the one source of what the broker saw), and the password
//! scan. No IO.

use heat_core::{Alarm, Interlock, Parameter, Sensor};
use heat_loop::LoopEvent;
use heat_state::{
    Answer, LinkEvent, StateJson,
    log::{EVENT_TARGET, LINK_TARGET, LogLine as Record},
};

/// The safety rules checked on every state JSON the watcher sees, from the state's own
/// temperatures, alarms and parameters (docs/control.md, docs/mqtt.md). Temperatures in the JSON
/// are rounded to 0.01 °C, so a threshold counts as passed only when the rounded value lies
/// strictly above it: a true 89.996 °C shown as 90.00 is no violation, 90.006 °C shown as 90.01
/// is.
///
/// Not checked: pump ON at the tank maximum (frost protection and night cooling may run it
/// then, and the JSON does not say which rule decided), and the anti short-cycling times (the
/// watcher does not see every relay switch; the session publishes the latest state only).
pub(crate) const RULES: [&str; 6] = [
    "heater ON while tank top or tank bottom > tank_max",
    "heater ON while the tank_max alarm is active",
    "heater ON while the tank top sensor has no usable value",
    "pump ON while the boil_stop alarm is active or collector > boil_stop",
    "pump ON while the collector or tank bottom sensor has no usable value",
    "pump ON loading the tank (collector > tank bottom) while the tank_emergency alarm is active",
];

/// The rules (indexes into [`RULES`]) that `state` breaks; empty for a safe state.
pub(crate) fn violations(state: &StateJson) -> Vec<usize> {
    let above = |value: Option<f64>, limit: Option<f64>| matches!((value, limit), (Some(v), Some(l)) if v > l);
    let collector = state.temperature(Sensor::Collector);
    let bottom = state.temperature(Sensor::TankBottom);
    let top = state.temperature(Sensor::TankTop);
    let mut broken = Vec::new();
    if state.heater.is_on() {
        let tank_max = state.parameter(Parameter::TankMax);
        if above(top, tank_max) || above(bottom, tank_max) {
            broken.push(0);
        }
        if state.has_alarm(Alarm::TankMax) {
            broken.push(1);
        }
        if top.is_none() {
            broken.push(2);
        }
    }
    if state.pump.is_on() {
        if state.has_alarm(Alarm::BoilStop)
            || above(collector, state.parameter(Parameter::BoilStop))
        {
            broken.push(3);
        }
        if collector.is_none() || bottom.is_none() {
            broken.push(4);
        }
        if state.has_alarm(Alarm::TankEmergency) && above(collector, bottom) {
            broken.push(5);
        }
    }
    broken
}

/// One line of `mosquitto_sub -F '%r<TAB>%t<TAB>%p'`: retained flag, topic, payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Message {
    pub(crate) retained: bool,
    pub(crate) topic: String,
    pub(crate) payload: String,
}

/// The `-F` format that [`parse_message`] reads. Payloads of this system are one line (compact
/// JSON or a word); a tab separates the fields.
pub(crate) const SUB_FORMAT: &str = "%r\t%t\t%p";

pub(crate) fn parse_message(line: &str) -> Option<Message> {
    let mut fields = line.splitn(3, '\t');
    let retained = match fields.next()? {
        "0" => false,
        "1" => true,
        _ => return None,
    };
    let topic = fields.next()?.to_owned();
    let payload = fields.next().unwrap_or("").trim_end().to_owned();
    Some(Message {
        retained,
        topic,
        payload,
    })
}

/// An answer on `<prefix>/result`, `None` for a payload that is no answer.
pub(crate) fn parse_result(payload: &str) -> Option<Answer> {
    serde_json::from_str(payload).ok()
}

/// mqtt-auth's audit target: the security record of every connection attempt, shown in the
/// event panel (xtask cannot depend on mqtt-auth, which needs Paho C).
pub(crate) const AUDIT_TARGET: &str = "mqtt_auth::audit";

/// The session's target: its sentences are shown in the event panel.
pub(crate) const SESSION_TARGET: &str = "heat_mqtt::session";

/// What a line of the controller's log is, for the counts and the event panel. Counts come
/// from the typed records on heat-state's targets; the panel shows sentences for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogLine {
    /// A `connected` link event (heat-state's [`LinkEvent`]).
    Connected {
        /// Over TLS.
        tls: bool,
    },
    /// An `interlock_activated` plant event (heat-loop's [`LoopEvent`]).
    Interlock(Interlock),
    /// An audit record (shown).
    Audit,
    /// One of the session's sentences (shown).
    Session,
    /// Another warning or error (shown).
    Warning,
    /// Anything else, other events included.
    Other,
}

impl LogLine {
    /// Whether the event panel shows the line.
    pub(crate) fn shown(self) -> bool {
        matches!(self, LogLine::Audit | LogLine::Session | LogLine::Warning)
    }
}

pub(crate) fn classify(line: &str) -> LogLine {
    let Some(record) = Record::parse(line) else {
        return LogLine::Other;
    };
    match record.target {
        EVENT_TARGET => match serde_json::from_str(record.message) {
            Ok(LoopEvent::InterlockActivated { interlock, .. }) => LogLine::Interlock(interlock),
            _ => LogLine::Other,
        },
        LINK_TARGET => match serde_json::from_str(record.message) {
            Ok(LinkEvent::Connected { tls, .. }) => LogLine::Connected { tls },
            _ => LogLine::Other,
        },
        AUDIT_TARGET => LogLine::Audit,
        SESSION_TARGET => LogLine::Session,
        _ if record.is_warning() => LogLine::Warning,
        _ => LogLine::Other,
    }
}

/// The interlock's kind as heat-core serialises it: `boil_stop`, `tank_max`, `tank_emergency`,
/// `sensor_fault`, `frost_protection`.
pub(crate) fn interlock_kind(interlock: Interlock) -> &'static str {
    match interlock {
        Interlock::SensorFault(_) => "sensor_fault",
        Interlock::BoilStop => "boil_stop",
        Interlock::TankMax => "tank_max",
        Interlock::TankEmergency => "tank_emergency",
        Interlock::FrostProtection => "frost_protection",
    }
}

/// Connection attempts in a Mosquitto log (with `connection_messages true`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Connections {
    pub(crate) attempts: usize,
    pub(crate) accepted: usize,
    pub(crate) refused: usize,
}

pub(crate) fn broker_connections(log: &str) -> Connections {
    let count = |needle: &str| log.lines().filter(|l| l.contains(needle)).count();
    Connections {
        attempts: count("New connection from"),
        accepted: count("New client connected from"),
        refused: count("disconnected, not authorised"),
    }
}

/// Whether any of `secrets` appears in `text`. Empty secrets are ignored.
pub(crate) fn leaks(text: &str, secrets: &[String]) -> bool {
    secrets
        .iter()
        .any(|s| !s.is_empty() && text.contains(s.as_str()))
}
