//! The demo's pure parts: the safety check of one state JSON, what the watcher's and the
//! controller's lines mean, counts from the broker's log, and the password scan. No IO.

use serde_json::Value;

/// The safety rules checked on every state JSON the watcher sees, from the state's own
/// temperatures, alarms and parameters (docs/control.md, docs/mqtt.md). Temperatures in the JSON
/// are rounded to 0.01 °C, so a threshold counts as passed only when the rounded value lies
/// strictly above it: a true 89.996 °C shown as 90.00 is no violation, 90.006 °C shown as 90.01
/// is.
///
/// Not checked: pump ON at the tank maximum (frost protection and night cooling may run it
/// then, and the JSON does not say which rule decided), and the anti short-cycling times (the
/// watcher does not see every relay switch; the session publishes the latest state only).
pub(crate) const RULES: [&str; 5] = [
    "heater ON while tank top or tank bottom > tank_max",
    "heater ON while the tank_max alarm is active",
    "heater ON while the tank top sensor has no usable value",
    "pump ON while the boil_stop alarm is active or collector > boil_stop",
    "pump ON while the collector or tank bottom sensor has no usable value",
];

/// The rules (indexes into [`RULES`]) that `state` breaks; empty for a safe state.
pub(crate) fn violations(state: &Value) -> Vec<usize> {
    let on = |key: &str| state[key] == "ON";
    let temp = |sensor: &str| state["temperatures"][sensor]["value"].as_f64();
    let param = |name: &str| state["parameters"][name].as_f64();
    let alarm = |name: &str| {
        state["alarms"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["alarm"] == name))
    };
    let above = |value: Option<f64>, limit: Option<f64>| matches!((value, limit), (Some(v), Some(l)) if v > l);
    let (collector, bottom, top) = (temp("collector"), temp("tank_bottom"), temp("tank_top"));
    let mut broken = Vec::new();
    if on("heater") {
        let tank_max = param("tank_max");
        if above(top, tank_max) || above(bottom, tank_max) {
            broken.push(0);
        }
        if alarm("tank_max") {
            broken.push(1);
        }
        if top.is_none() {
            broken.push(2);
        }
    }
    if on("pump") {
        if alarm("boil_stop") || above(collector, param("boil_stop")) {
            broken.push(3);
        }
        if collector.is_none() || bottom.is_none() {
            broken.push(4);
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

/// An answer on `<prefix>/result`: (command topic, accepted, reason).
pub(crate) fn parse_result(payload: &str) -> Option<(String, bool, String)> {
    let v: Value = serde_json::from_str(payload).ok()?;
    Some((
        v["topic"].as_str()?.to_owned(),
        v["accepted"].as_bool()?,
        v["reason"].as_str().unwrap_or("").to_owned(),
    ))
}

/// What a line of the controller's log is, for the counts and the event panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogLine {
    /// `mqtt_auth::audit`: a connection attempt, accepted, over TLS.
    AuditAcceptedTls,
    /// Any other `mqtt_auth::audit` line (a refusal, the security probe, plain TCP).
    Audit,
    /// An `interlock_activated` event on the controller's `heat::event` target.
    Interlock,
    /// Another warning or error.
    Warning,
    /// Anything else.
    Other,
}

pub(crate) fn classify(line: &str) -> LogLine {
    if line.contains("mqtt_auth::audit]") {
        if line.contains(" result=accepted") && line.contains(" tls=on") {
            LogLine::AuditAcceptedTls
        } else {
            LogLine::Audit
        }
    } else if let Some(event) = event(line) {
        match event["kind"].as_str() {
            Some("interlock_activated") => LogLine::Interlock,
            _ if line.contains(" WARN ") || line.contains(" ERROR ") => LogLine::Warning,
            _ => LogLine::Other,
        }
    } else if line.contains("heat_controller::control]") {
        // The sentence for people beside each heat::event line: counted there, not twice.
        LogLine::Other
    } else if line.contains(" WARN ") || line.contains(" ERROR ") {
        LogLine::Warning
    } else {
        LogLine::Other
    }
}

/// The controller's log target of plant events (heat-controller's `control::EVENT_TARGET`;
/// xtask cannot depend on heat-controller; its test
/// `the_event_lines_have_the_shape_the_demo_parses` pins the target and the JSON shapes).
pub(crate) const EVENT_TARGET: &str = "heat::event";

/// The plant event a log line carries: the JSON object after `[... LEVEL heat::event] `.
pub(crate) fn event(line: &str) -> Option<Value> {
    let (_, json) = line.split_once(&format!("{EVENT_TARGET}] "))?;
    serde_json::from_str(json).ok()
}

/// The interlock of an `interlock_activated` event, e.g. `boil_stop`, `tank_max`,
/// `sensor_fault` (heat-core's `Interlock` as serialised), or `unknown`.
pub(crate) fn interlock_kind(line: &str) -> String {
    let interlock = event(line).map(|e| e["interlock"].clone());
    match interlock {
        Some(Value::String(name)) => name,
        Some(Value::Object(map)) => map.keys().next().cloned().unwrap_or_default(),
        _ => "unknown".to_owned(),
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
