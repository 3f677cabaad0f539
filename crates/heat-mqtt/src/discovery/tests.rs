//! Tests of the discovery configs: valid JSON, required fields, ids, limits, topics.

use std::collections::HashSet;

use serde_json::Value;

use super::*;

fn configs() -> Vec<(String, Value)> {
    discovery_messages(&Topics::default(), &Device::default())
        .into_iter()
        .map(|m| {
            let v: Value = serde_json::from_str(&m.payload).unwrap();
            (m.topic, v)
        })
        .collect()
}

fn by_object(object: &str) -> Value {
    configs()
        .into_iter()
        .find(|(t, _)| t.ends_with(&format!("/{object}/config")))
        .unwrap_or_else(|| panic!("no config for {object}"))
        .1
}

#[test]
fn every_config_has_the_required_fields() {
    let all = configs();
    // 3 temperatures, state, 2 energy totals, 4 daily energy, 2 hours, 2 starts,
    // 2 disinfection dates, 4 binary, 2 switches, a button, select, the holiday end's text, and
    // a number per parameter.
    assert_eq!(all.len(), 25 + Parameter::ALL.len());
    let mut unique = HashSet::new();
    for (topic, v) in &all {
        let levels: Vec<&str> = topic.split('/').collect();
        assert_eq!(levels.len(), 5, "{topic}");
        assert_eq!(levels[0], "homeassistant");
        assert!(
            [
                "sensor",
                "binary_sensor",
                "switch",
                "select",
                "number",
                "button",
                "text"
            ]
            .contains(&levels[1]),
            "{topic}"
        );
        assert_eq!(levels[2], "solar_heating");
        assert!(is_valid_id(levels[3]), "{topic}");
        assert_eq!(levels[4], "config");
        let id = v["unique_id"].as_str().unwrap();
        assert!(is_valid_id(id), "{id}");
        assert!(unique.insert(id.to_owned()), "duplicate {id}");
        assert!(v["name"].as_str().is_some_and(|n| !n.is_empty()), "{topic}");
        assert_eq!(v["availability_topic"], "solar_heating/availability");
        assert_eq!(v["payload_available"], "online");
        assert_eq!(v["payload_not_available"], "offline");
        assert_eq!(v["device"]["identifiers"][0], "solar_heating");
        for key in ["name", "model", "manufacturer"] {
            assert!(v["device"][key].is_string(), "{topic} device.{key}");
        }
        assert_eq!(v["device"]["sw_version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(v["o"]["name"], "heat-mqtt");
        assert_eq!(v["o"]["sw"], env!("CARGO_PKG_VERSION"));
        if levels[1] == "button" {
            // Stateless: it only sends.
            assert!(v["command_topic"].is_string(), "{topic}");
            assert!(v.get("state_topic").is_none(), "{topic}");
        } else {
            assert_eq!(v["state_topic"], "solar_heating/state", "{topic}");
            assert!(
                v["value_template"]
                    .as_str()
                    .is_some_and(|t| t.contains("value_json"))
            );
        }
        for key in [
            "state_topic",
            "command_topic",
            "availability_topic",
            "json_attributes_topic",
        ] {
            if let Some(t) = v[key].as_str() {
                assert!(!t.starts_with("homeassistant/"), "{topic}: {key} {t}");
                assert!(t.starts_with("solar_heating/"), "{topic}: {key} {t}");
            }
        }
    }
}

#[test]
fn temperatures_energy_and_binary_sensors() {
    for sensor in ["collector", "tank_bottom", "tank_top"] {
        let v = by_object(&format!("{sensor}_temperature"));
        assert_eq!(v["device_class"], "temperature");
        assert_eq!(v["unit_of_measurement"], "°C");
        assert_eq!(v["state_class"], "measurement");
        assert_eq!(
            v["value_template"],
            format!("{{{{ value_json.temperatures.{sensor}.value }}}}")
        );
    }
    for object in ["collected_energy", "heater_energy"] {
        let v = by_object(object);
        assert_eq!(v["device_class"], "energy");
        assert_eq!(v["unit_of_measurement"], "kWh");
        assert_eq!(v["state_class"], "total_increasing");
    }
    assert_eq!(by_object("problem")["device_class"], "problem");
    assert_eq!(
        by_object("pump_running")["value_template"],
        "{{ value_json.pump }}"
    );
    assert_eq!(by_object("heater_on")["payload_on"], "ON");
}

#[test]
fn switches_select_and_numbers_command_the_right_topics() {
    let pump = by_object("manual_pump");
    assert_eq!(pump["command_topic"], "solar_heating/pump/set");
    assert_eq!(pump["payload_on"], "ON");
    assert_eq!(pump["payload_off"], "OFF");
    assert_eq!(
        by_object("manual_heater")["command_topic"],
        "solar_heating/heater/set"
    );
    let mode = by_object("mode");
    assert_eq!(mode["command_topic"], "solar_heating/mode/set");
    assert_eq!(
        mode["options"],
        serde_json::json!(["auto", "eco", "manual", "off", "holiday"])
    );
    for p in Parameter::ALL {
        let v = by_object(p.name());
        let l = p.limits();
        assert_eq!(
            v["command_topic"],
            format!("solar_heating/{}/set", p.name())
        );
        let (min, max, step) = (
            v["min"].as_f64().unwrap(),
            v["max"].as_f64().unwrap(),
            v["step"].as_f64().unwrap(),
        );
        assert!(min <= max, "{p}");
        assert!(step >= 0.001, "{p}");
        assert_eq!((min, max, step), (l.min, l.max, l.step), "{p}");
        assert_eq!(v["unit_of_measurement"], l.unit);
    }
}

#[test]
fn removal_messages_are_empty_on_the_same_topics() {
    let topics = Topics::default();
    let device = Device::default();
    let add: Vec<String> = discovery_messages(&topics, &device)
        .into_iter()
        .map(|m| m.topic)
        .collect();
    let remove = removal_messages(&topics, &device);
    assert_eq!(
        remove.iter().map(|m| m.topic.clone()).collect::<Vec<_>>(),
        add
    );
    assert!(remove.iter().all(|m| m.payload.is_empty()));
}

#[test]
fn custom_device_and_prefixes() {
    let topics = Topics::new("home/solar", "ha").unwrap();
    let version = SwVersion::new("0.1.0 (1a2b3c4d5e6f-dirty)").unwrap();
    let device = Device::new("roof-1", "Roof", "v2", "Me", version)
        .unwrap()
        .with_support_url(Some("https://example.org".into()));
    let all = discovery_messages(&topics, &device);
    assert!(
        all.iter()
            .all(|m| m.topic.starts_with("ha/") && m.topic.contains("/roof-1/"))
    );
    let v: Value = serde_json::from_str(&all[0].payload).unwrap();
    assert_eq!(v["o"]["url"], "https://example.org");
    // The version passed in, not this crate's, on every config.
    for m in &all {
        let v: Value = serde_json::from_str(&m.payload).unwrap();
        assert_eq!(
            v["device"]["sw_version"], "0.1.0 (1a2b3c4d5e6f-dirty)",
            "{}",
            m.topic
        );
        assert_eq!(v["o"]["sw"], "0.1.0 (1a2b3c4d5e6f-dirty)", "{}", m.topic);
    }
    assert_eq!(v["availability_topic"], "home/solar/availability");
    assert!(v["unique_id"].as_str().unwrap().starts_with("roof-1_"));
}

fn version() -> SwVersion {
    SwVersion::new("0.1.0 (unknown commit)").unwrap()
}

#[test]
fn bad_device_settings_are_refused() {
    for id in ["", "a b", "a/b", "a.b", "é", &"x".repeat(65)] {
        assert!(
            matches!(
                Device::new(id, "n", "m", "x", version()),
                Err(DiscoveryError::BadNodeId(_))
            ),
            "{id:?}"
        );
    }
    assert_eq!(
        Device::new("ok", " ", "m", "x", version()),
        Err(DiscoveryError::BadText("device name"))
    );
    for bad in ["", " ", &"9".repeat(101)] {
        assert_eq!(
            SwVersion::new(bad),
            Err(DiscoveryError::BadText("sw_version")),
            "{bad:?}"
        );
    }
}

#[test]
fn titles() {
    assert_eq!(title("dt_start"), "ΔT start");
    assert_eq!(title("eco_dt_stop"), "Eco ΔT stop");
    assert_eq!(title("heater_setpoint"), "Heater setpoint");
}

/// docs/home-assistant.md has a row `| <entity id> | <component> | `<object id>` | <name> |`
/// for every entity, and no row for an entity that does not exist.
#[test]
fn every_discovered_entity_is_documented() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/home-assistant.md"
    ))
    .unwrap();
    let mut documented = 0;
    for (topic, config) in configs() {
        let parts: Vec<&str> = topic.split('/').collect();
        let (component, object) = (parts[1], parts[3]);
        let name = config["name"].as_str().unwrap();
        let row = format!("| {component} | `{object}` | {name} |");
        assert!(doc.contains(&row), "docs/home-assistant.md lacks {row:?}");
        documented += 1;
    }
    let rows = doc
        .lines()
        .filter(|l| l.starts_with("| `") && l.contains("solar_heating_"))
        .count();
    assert_eq!(
        rows, documented,
        "a documented entity that is not discovered"
    );
}

/// Every `value_json.<path>` a template reads exists in a real state document, so a renamed
/// state field cannot silently leave a Home Assistant entity `unknown`.
#[test]
fn every_template_path_exists_in_the_state_json() {
    use heat_core::{Controller, Params, Timestamp};
    use heat_state::{LinkInfo, StateJson};
    let status = Controller::new(Params::default(), Timestamp::from_millis(0)).status();
    let link = LinkInfo {
        connects: 1,
        commands_rejected: 0,
    };
    let doc = StateJson::new(&status, link, std::time::SystemTime::UNIX_EPOCH);
    let state: Value = serde_json::from_str(&doc.to_json().unwrap()).unwrap();
    let mut paths = 0;
    for (topic, config) in configs() {
        for key in ["value_template", "json_attributes_template"] {
            let Some(template) = config[key].as_str() else {
                continue;
            };
            for (i, _) in template.match_indices("value_json.") {
                let path: String = template[i + "value_json.".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
                    .collect();
                let mut v = &state;
                for field in path.split('.') {
                    v = v.get(field).unwrap_or_else(|| {
                        panic!("{topic}: {key} reads value_json.{path}; the state has no {field:?}")
                    });
                }
                paths += 1;
            }
        }
    }
    assert!(paths > 20, "only {paths} template paths found");
}
