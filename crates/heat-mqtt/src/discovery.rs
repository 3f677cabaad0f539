//! Home Assistant MQTT discovery, pure: the retained config messages that make the controller's
//! entities appear, and the empty retained messages that remove them.
//!
//! Every config goes to `<discovery_prefix>/<component>/<node_id>/<object_id>/config` and carries
//! the device block, the origin (`o`), `unique_id` and availability on `<prefix>/availability`.
//! State and command topics stay under `<prefix>/`, outside the discovery prefix.

use heat_core::{Mode, Parameter};
use serde_json::{Map, Value, json};

use crate::session::QOS;
use crate::topics::{CommandTopic, OFFLINE, ONLINE, Topics};

/// The origin name.
pub const ORIGIN_NAME: &str = env!("CARGO_PKG_NAME");

/// Longest accepted node id.
pub const MAX_NODE_ID_LEN: usize = 64;

/// Why a discovery setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// The node id is empty, too long, or holds a character outside `[a-zA-Z0-9_-]`.
    #[error(
        "node id {0:?} is invalid; use 1 to {MAX_NODE_ID_LEN} letters, digits, '_' or '-' \
         (Home Assistant's id rule)"
    )]
    BadNodeId(String),
    /// A display text (device name, model, manufacturer) is empty or longer than 100 characters.
    #[error("{0} must be 1 to 100 characters")]
    BadText(&'static str),
}

/// True when `id` matches `[a-zA-Z0-9_-]+`.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The device as Home Assistant shows it, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    node_id: String,
    name: String,
    model: String,
    manufacturer: String,
    sw_version: SwVersion,
    support_url: Option<String>,
}

/// The software version Home Assistant shows as the device's firmware (`sw_version`) and the
/// origin's `sw`: the binary's own `--version` string, e.g. `0.1.0 (1a2b3c4d5e6f)`, so the two
/// always agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwVersion(String);

impl SwVersion {
    /// A version text of 1 to 100 characters.
    pub fn new(version: &str) -> Result<Self, DiscoveryError> {
        text("sw_version", version).map(Self)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn text(what: &'static str, value: &str) -> Result<String, DiscoveryError> {
    let n = value.chars().count();
    if value.trim().is_empty() || n > 100 {
        return Err(DiscoveryError::BadText(what));
    }
    Ok(value.to_owned())
}

impl Device {
    /// A device with `node_id` (also its identifier and the stem of every `unique_id`), running
    /// `sw_version`.
    pub fn new(
        node_id: &str,
        name: &str,
        model: &str,
        manufacturer: &str,
        sw_version: SwVersion,
    ) -> Result<Self, DiscoveryError> {
        if !is_valid_id(node_id) || node_id.len() > MAX_NODE_ID_LEN {
            return Err(DiscoveryError::BadNodeId(
                node_id.chars().take(MAX_NODE_ID_LEN).collect(),
            ));
        }
        Ok(Self {
            node_id: node_id.to_owned(),
            name: text("device name", name)?,
            model: text("model", model)?,
            manufacturer: text("manufacturer", manufacturer)?,
            sw_version,
            support_url: None,
        })
    }

    /// Adds the origin's support URL.
    pub fn with_support_url(mut self, url: Option<String>) -> Self {
        self.support_url = url;
        self
    }

    /// The node id.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// The software version published for the device and the origin.
    pub fn sw_version(&self) -> &SwVersion {
        &self.sw_version
    }
}

impl Default for Device {
    /// `solar_heating`, "Solar heating", model `heat-controller`, manufacturer "DIY", and this
    /// crate's package version (a binary passes its own `--version` string to [`Device::new`]).
    fn default() -> Self {
        Self {
            node_id: "solar_heating".to_owned(),
            name: "Solar heating".to_owned(),
            model: "heat-controller".to_owned(),
            manufacturer: "DIY".to_owned(),
            sw_version: SwVersion(env!("CARGO_PKG_VERSION").to_owned()),
            support_url: None,
        }
    }
}

/// One retained discovery message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryMessage {
    /// `<discovery_prefix>/<component>/<node_id>/<object_id>/config`.
    pub topic: String,
    /// The JSON config, or empty to remove the entity.
    pub payload: String,
}

struct Entity {
    component: &'static str,
    object_id: String,
    config: Map<String, Value>,
}

fn entity(component: &'static str, object_id: &str, name: &str, extra: Value) -> Entity {
    let mut config = Map::new();
    config.insert("name".into(), json!(name));
    if let Value::Object(extra) = extra {
        config.extend(extra);
    }
    Entity {
        component,
        object_id: object_id.to_owned(),
        config,
    }
}

fn title(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    for (i, word) in snake.split('_').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            if i == 0 {
                out.extend(first.to_uppercase());
            } else {
                out.push(first);
            }
            out.push_str(chars.as_str());
        }
    }
    out.replace("Dt", "ΔT").replace(" dt", " ΔT")
}

fn entities(topics: &Topics) -> Vec<Entity> {
    let state = topics.state();
    let mut out = Vec::new();
    for (sensor, name) in [
        ("collector", "Collector temperature"),
        ("tank_bottom", "Tank bottom temperature"),
        ("tank_top", "Tank top temperature"),
    ] {
        out.push(entity(
            "sensor",
            &format!("{sensor}_temperature"),
            name,
            json!({
                "state_topic": state,
                "value_template": format!("{{{{ value_json.temperatures.{sensor}.value }}}}"),
                "json_attributes_topic": state,
                "json_attributes_template":
                    format!("{{{{ value_json.temperatures.{sensor} | tojson }}}}"),
                "device_class": "temperature",
                "unit_of_measurement": "°C",
                "state_class": "measurement",
                "suggested_display_precision": 1,
            }),
        ));
    }
    out.push(entity(
        "sensor",
        "operating_state",
        "Operating state",
        json!({
            "state_topic": state,
            "value_template": "{{ value_json.state }}",
            "icon": "mdi:solar-power",
        }),
    ));
    for (field, name) in [
        ("collected_kwh", "Solar energy collected"),
        ("heater_kwh", "Heater energy"),
    ] {
        out.push(entity(
            "sensor",
            &field.replace("_kwh", "_energy"),
            name,
            json!({
                "state_topic": state,
                "value_template": format!("{{{{ value_json.energy.{field} }}}}"),
                "device_class": "energy",
                "unit_of_measurement": "kWh",
                "state_class": "total_increasing",
            }),
        ));
    }
    // Today's count resets at local midnight: `total_increasing` reads a drop as a new cycle.
    // Yesterday's is a fixed value for a day: no state class.
    for (field, name, class) in [
        (
            "collected_today_kwh",
            "Solar energy today",
            Some("total_increasing"),
        ),
        (
            "heater_today_kwh",
            "Heater energy today",
            Some("total_increasing"),
        ),
        ("collected_yesterday_kwh", "Solar energy yesterday", None),
        ("heater_yesterday_kwh", "Heater energy yesterday", None),
    ] {
        let mut config = json!({
            "state_topic": state,
            "value_template": format!("{{{{ value_json.energy.{field} }}}}"),
            "device_class": "energy",
            "unit_of_measurement": "kWh",
        });
        if let Some(class) = class {
            config["state_class"] = json!(class);
        }
        out.push(entity(
            "sensor",
            &field.replace("_kwh", "_energy"),
            name,
            config,
        ));
    }
    for (load, name) in [("pump", "Pump"), ("heater", "Heater")] {
        out.push(entity(
            "sensor",
            &format!("{load}_hours"),
            &format!("{name} operating hours"),
            json!({
                "state_topic": state,
                "value_template": format!("{{{{ value_json.runtime.{load}_hours }}}}"),
                "device_class": "duration",
                "unit_of_measurement": "h",
                "state_class": "total_increasing",
                "suggested_display_precision": 1,
                "entity_category": "diagnostic",
            }),
        ));
        out.push(entity(
            "sensor",
            &format!("{load}_starts"),
            &format!("{name} starts"),
            json!({
                "state_topic": state,
                "value_template": format!("{{{{ value_json.runtime.{load}_starts }}}}"),
                "state_class": "total_increasing",
                "icon": "mdi:counter",
                "entity_category": "diagnostic",
            }),
        ));
    }
    for (field, name) in [
        ("last_disinfection", "Last disinfection"),
        ("next_due", "Disinfection due"),
    ] {
        out.push(entity(
            "sensor",
            field,
            name,
            json!({
                "state_topic": state,
                "value_template": format!("{{{{ value_json.disinfection.{field} }}}}"),
                "device_class": "date",
                "icon": "mdi:bacteria-outline",
            }),
        ));
    }
    out.push(entity(
        "binary_sensor",
        "disinfection_running",
        "Disinfection running",
        json!({
            "state_topic": state,
            "value_template": "{{ 'ON' if value_json.disinfection.running else 'OFF' }}",
            "payload_on": "ON",
            "payload_off": "OFF",
            "device_class": "running",
        }),
    ));
    out.push(entity(
        "button",
        "start_disinfection",
        "Start disinfection",
        json!({
            "command_topic": topics.command(CommandTopic::Disinfect),
            "payload_press": "PRESS",
            "icon": "mdi:bacteria-outline",
            "qos": QOS.number(),
        }),
    ));
    // Home Assistant's MQTT integration has no `date` entity: a `text` held to the date's shape.
    out.push(entity(
        "text",
        "holiday_end",
        "Holiday end",
        json!({
            "command_topic": topics.command(CommandTopic::HolidayEnd),
            "state_topic": state,
            "value_template": "{{ value_json.holiday.end or '' }}",
            "pattern": "^([0-9]{4}-[0-9]{2}-[0-9]{2})?$",
            "min": 0,
            "max": 10,
            "icon": "mdi:calendar-end",
            "qos": QOS.number(),
        }),
    ));
    for (object, field, name, class) in [
        ("pump_running", "pump", "Pump", "running"),
        ("heater_on", "heater", "Heater", "running"),
        ("problem", "problem", "Problem", "problem"),
    ] {
        let mut e = entity(
            "binary_sensor",
            object,
            name,
            json!({
                "state_topic": state,
                "value_template": format!("{{{{ value_json.{field} }}}}"),
                "payload_on": "ON",
                "payload_off": "OFF",
                "device_class": class,
            }),
        );
        if field == "problem" {
            e.config
                .insert("json_attributes_topic".into(), json!(state));
            e.config.insert(
                "json_attributes_template".into(),
                json!("{{ {'alarms': value_json.alarms, 'interlocks': value_json.interlocks} | tojson }}"),
            );
        }
        out.push(e);
    }
    for (object, which, field, name) in [
        (
            "manual_pump",
            CommandTopic::Pump,
            "manual_pump",
            "Manual pump",
        ),
        (
            "manual_heater",
            CommandTopic::Heater,
            "manual_heater",
            "Manual heater",
        ),
    ] {
        out.push(entity(
            "switch",
            object,
            name,
            json!({
                "command_topic": topics.command(which),
                "state_topic": state,
                "value_template": format!("{{{{ value_json.{field} }}}}"),
                "payload_on": "ON",
                "payload_off": "OFF",
                "state_on": "ON",
                "state_off": "OFF",
                "qos": QOS.number(),
            }),
        ));
    }
    out.push(entity(
        "select",
        "mode",
        "Mode",
        json!({
            "command_topic": topics.command(CommandTopic::Mode),
            "state_topic": state,
            "value_template": "{{ value_json.mode }}",
            "options": Mode::ALL.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
            "qos": QOS.number(),
        }),
    ));
    for p in Parameter::ALL {
        let l = p.limits();
        out.push(entity(
            "number",
            p.name(),
            &title(p.name()),
            json!({
                "command_topic": topics.command(CommandTopic::Parameter(p)),
                "state_topic": state,
                "value_template": format!("{{{{ value_json.parameters.{} }}}}", p.name()),
                "min": l.min,
                "max": l.max,
                "step": l.step,
                "unit_of_measurement": l.unit,
                "mode": "box",
                "entity_category": "config",
                "qos": QOS.number(),
            }),
        ));
    }
    out
}

fn topic(topics: &Topics, device: &Device, e: &Entity) -> String {
    format!(
        "{}/{}/{}/{}/config",
        topics.discovery_prefix(),
        e.component,
        device.node_id,
        e.object_id
    )
}

/// Every discovery config, retained.
pub fn discovery_messages(topics: &Topics, device: &Device) -> Vec<DiscoveryMessage> {
    let mut device_block = json!({
        "identifiers": [device.node_id],
        "name": device.name,
        "model": device.model,
        "manufacturer": device.manufacturer,
        "sw_version": device.sw_version.as_str(),
    });
    let mut origin = json!({ "name": ORIGIN_NAME, "sw": device.sw_version.as_str() });
    if let (Some(url), Value::Object(o)) = (&device.support_url, &mut origin) {
        o.insert("url".into(), json!(url));
    }
    if let Value::Object(d) = &mut device_block {
        d.retain(|_, v| !v.is_null());
    }
    entities(topics)
        .into_iter()
        .map(|mut e| {
            let common = json!({
                "unique_id": format!("{}_{}", device.node_id, e.object_id),
                "availability_topic": topics.availability(),
                "payload_available": ONLINE,
                "payload_not_available": OFFLINE,
                "device": device_block,
                "o": origin,
            });
            if let Value::Object(common) = common {
                e.config.extend(common);
            }
            DiscoveryMessage {
                topic: topic(topics, device, &e),
                payload: Value::Object(e.config).to_string(),
            }
        })
        .collect()
}

/// The removal message of every entity: the same topics with empty retained payloads.
pub fn removal_messages(topics: &Topics, device: &Device) -> Vec<DiscoveryMessage> {
    entities(topics)
        .iter()
        .map(|e| DiscoveryMessage {
            topic: topic(topics, device, e),
            payload: String::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests;
