//! The raw stage: built-in defaults and the TOML file, merged by the `config` crate and
//! deserialised into plain structs that hold strings, not yet validated.
//!
//! Adding a section is one field in [`RawFile`], one name in [`SECTIONS`] and its key list, which
//! is checked here so that a misspelt key is an error that lists the accepted ones.

use std::{
    collections::{BTreeSet, HashMap},
    fmt, fs, io,
    path::{Path, PathBuf},
};

use config::{Config, FileFormat, Value};
use serde::{Deserialize, Deserializer, de};

use crate::{error::ConfigError, origin::Layer};

/// Top-level tables the TOML file may hold.
pub(crate) const SECTIONS: &[&str] = &["mqtt", "control", "controller", "hardware"];

/// Keys of the `[controller]` table.
pub(crate) const CONTROLLER_KEYS: &[&str] = &[
    "period_secs",
    "heartbeat_secs",
    "discovery",
    "discovery_prefix",
    "probe_anonymous",
    "device_name",
    "lock_file",
    "time_scale",
    "state_dir",
    "persist_interval_secs",
];

/// Keys of the `[control]` table: the fields of heat-core's `RawParams` (a unit test keeps the
/// two in step).
pub(crate) const CONTROL_KEYS: &[&str] = &[
    "dt_start",
    "dt_stop",
    "eco_dt_start",
    "eco_dt_stop",
    "collector_cooling",
    "collector_cooling_hysteresis",
    "boil_stop",
    "boil_stop_hysteresis",
    "tank_max",
    "tank_max_hysteresis",
    "heater_setpoint",
    "eco_heater_setpoint",
    "heater_hysteresis",
    "frost_on",
    "frost_off",
    "night_cooling_tank",
    "night_cooling_hysteresis",
    "night_cooling_dt",
    "collector_min",
    "heater_window_1_start",
    "heater_window_1_end",
    "heater_window_2_start",
    "heater_window_2_end",
    "heater_window_3_start",
    "heater_window_3_end",
    "tube_kick_start",
    "tube_kick_end",
    "tube_kick_idle_min",
    "tube_kick_run_s",
    "tube_kick_enabled",
    "disinfection_interval_days",
    "disinfection_target",
    "disinfection_hold_min",
    "disinfection_start",
    "disinfection_end",
    "holiday_cooling_tank",
    "holiday_disinfection",
    "night_cooling_enabled",
    "night_cooling_dt_stop",
    "frost_tank_min",
    "pump_min_on_s",
    "pump_min_off_s",
    "heater_min_on_s",
    "heater_min_off_s",
    "stale_timeout_s",
    "fault_clear_s",
    "flow_l_per_min",
    "fluid",
    "fluid_concentration_pct",
    "heater_power_w",
    "collector_min_c",
    "collector_max_c",
    "tank_sensor_min_c",
    "tank_sensor_max_c",
    "power_on_window_k",
    "tank_emergency",
];

/// Keys of the `[hardware]` table.
pub(crate) const HARDWARE_KEYS: &[&str] = &[
    "backend",
    "w1_root",
    "gpio_chip",
    "gpio_line",
    "resolution",
    "sensors",
    "relays",
];

/// Keys of each `[hardware.relays.<role>]` table.
pub(crate) const RELAY_KEYS: &[&str] = &["chip", "line", "active_low"];

/// Keys of the `[mqtt]` table (`password` is recognised only to be refused).
pub(crate) const MQTT_KEYS: &[&str] = &[
    "broker",
    "port",
    "username",
    "password_file",
    "client_id",
    "version",
    "ca_file",
    "tls",
    "cert_file",
    "key_file",
    "tls_insecure",
    "topic_prefix",
    "keep_alive_secs",
];

/// Built-in defaults, as `config` layers them under the file. The port has none here: it depends
/// on whether TLS is on.
const DEFAULTS: &[(&str, &str)] = &[
    ("mqtt.broker", "localhost"),
    ("mqtt.version", "3.1.1"),
    ("mqtt.client_id", crate::settings::DEFAULT_CLIENT_ID),
    ("mqtt.topic_prefix", crate::settings::DEFAULT_TOPIC_PREFIX),
    ("mqtt.keep_alive_secs", "30"),
    ("mqtt.tls", "false"),
    ("mqtt.tls_insecure", "false"),
    ("controller.period_secs", "30"),
    ("controller.heartbeat_secs", "60"),
    ("controller.discovery", "true"),
    ("controller.discovery_prefix", "homeassistant"),
    ("controller.probe_anonymous", "true"),
    ("controller.device_name", "Solar heating"),
    ("controller.lock_file", "/run/heat-controller/lock"),
    ("controller.time_scale", "1"),
    ("controller.persist_interval_secs", "600"),
];

/// The whole TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    #[serde(default)]
    pub(crate) mqtt: RawMqtt,
    #[serde(default)]
    pub(crate) controller: RawController,
    /// Deserialised by serde's defaults; validated by `Params::try_from`.
    pub(crate) control: Option<heat_core::RawParams>,
    pub(crate) hardware: Option<RawHardware>,
}

/// The `[controller]` table, every value as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawController {
    period_secs: Option<Scalar>,
    heartbeat_secs: Option<Scalar>,
    discovery: Option<Scalar>,
    discovery_prefix: Option<Scalar>,
    probe_anonymous: Option<Scalar>,
    device_name: Option<Scalar>,
    lock_file: Option<Scalar>,
    time_scale: Option<Scalar>,
    state_dir: Option<Scalar>,
    persist_interval_secs: Option<Scalar>,
}

impl RawController {
    fn get(&self, key: &str) -> Option<&Scalar> {
        match key {
            "period_secs" => self.period_secs.as_ref(),
            "heartbeat_secs" => self.heartbeat_secs.as_ref(),
            "discovery" => self.discovery.as_ref(),
            "discovery_prefix" => self.discovery_prefix.as_ref(),
            "probe_anonymous" => self.probe_anonymous.as_ref(),
            "device_name" => self.device_name.as_ref(),
            "lock_file" => self.lock_file.as_ref(),
            "time_scale" => self.time_scale.as_ref(),
            "state_dir" => self.state_dir.as_ref(),
            "persist_interval_secs" => self.persist_interval_secs.as_ref(),
            _ => None,
        }
    }
}

/// The `[hardware]` table as written; role names stay strings so that a misspelt one can be
/// reported with the list of valid roles.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHardware {
    pub(crate) backend: Option<String>,
    pub(crate) w1_root: Option<String>,
    pub(crate) gpio_chip: Option<String>,
    pub(crate) gpio_line: Option<u32>,
    pub(crate) resolution: Option<u8>,
    #[serde(default)]
    pub(crate) sensors: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) relays: std::collections::BTreeMap<String, RawRelay>,
}

/// One `[hardware.relays.<role>]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRelay {
    pub(crate) chip: Option<String>,
    pub(crate) line: Option<u32>,
    pub(crate) active_low: Option<bool>,
}

/// The `[mqtt]` table, every value as written (numbers and booleans turned into text).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMqtt {
    broker: Option<Scalar>,
    port: Option<Scalar>,
    username: Option<Scalar>,
    /// Present only so that it can be refused; its value is never kept.
    password: Option<de::IgnoredAny>,
    password_file: Option<Scalar>,
    client_id: Option<Scalar>,
    version: Option<Scalar>,
    ca_file: Option<Scalar>,
    tls: Option<Scalar>,
    cert_file: Option<Scalar>,
    key_file: Option<Scalar>,
    tls_insecure: Option<Scalar>,
    topic_prefix: Option<Scalar>,
    keep_alive_secs: Option<Scalar>,
}

impl RawMqtt {
    fn get(&self, key: &str) -> Option<&Scalar> {
        match key {
            "broker" => self.broker.as_ref(),
            "port" => self.port.as_ref(),
            "username" => self.username.as_ref(),
            "password_file" => self.password_file.as_ref(),
            "client_id" => self.client_id.as_ref(),
            "version" => self.version.as_ref(),
            "ca_file" => self.ca_file.as_ref(),
            "tls" => self.tls.as_ref(),
            "cert_file" => self.cert_file.as_ref(),
            "key_file" => self.key_file.as_ref(),
            "tls_insecure" => self.tls_insecure.as_ref(),
            "topic_prefix" => self.topic_prefix.as_ref(),
            "keep_alive_secs" => self.keep_alive_secs.as_ref(),
            _ => None,
        }
    }
}

/// A TOML string, number or boolean, kept as text so that TOML and environment values go
/// through the same validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scalar(pub(crate) String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar(v))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Defaults and TOML file merged: the raw values and which keys the file set.
#[derive(Debug)]
pub(crate) struct FileLayer {
    path: Option<PathBuf>,
    mqtt: RawMqtt,
    controller: RawController,
    control: Option<heat_core::RawParams>,
    hardware: Option<RawHardware>,
    /// `section.key` of every value the file set.
    from_file: BTreeSet<String>,
}

impl FileLayer {
    /// The value of `section.key` (`mqtt` or `controller`) and its layer (the file, or the
    /// defaults).
    pub(crate) fn get(&self, section: &str, key: &str) -> Option<(&str, Layer)> {
        let value = match section {
            "mqtt" => self.mqtt.get(key)?,
            "controller" => self.controller.get(key)?,
            _ => return None,
        };
        let layer = match &self.path {
            Some(path) if self.from_file.contains(&format!("{section}.{key}")) => {
                Layer::Toml(path.clone())
            }
            _ => Layer::Default,
        };
        Some((value.0.as_str(), layer))
    }

    /// The TOML file, if one was read.
    pub(crate) fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The `[control]` table, if the file has one.
    pub(crate) fn control(&self) -> Option<&heat_core::RawParams> {
        self.control.as_ref()
    }

    /// The `[hardware]` table, if the file has one.
    pub(crate) fn hardware(&self) -> Option<&RawHardware> {
        self.hardware.as_ref()
    }
}

/// Reads the defaults and, when given, the TOML file at `path` (absolute), named by `named_by`.
pub(crate) fn load(file: Option<(PathBuf, String)>) -> Result<FileLayer, ConfigError> {
    let mut builder = Config::builder();
    for (key, value) in DEFAULTS {
        builder =
            builder
                .set_default(*key, *value)
                .map_err(|e| ConfigError::ConfigFileInvalid {
                    path: PathBuf::from("<built-in defaults>"),
                    message: clean(&e.to_string()),
                })?;
    }
    let path = match file {
        None => None,
        Some((path, named_by)) => {
            check_readable(&path, named_by)?;
            builder = builder.add_source(
                config::File::from(path.as_path())
                    .format(FileFormat::Toml)
                    .required(true),
            );
            Some(path)
        }
    };
    let shown_path = path.clone().unwrap_or_default();
    let invalid = |e: config::ConfigError| ConfigError::ConfigFileInvalid {
        path: shown_path.clone(),
        message: without_location(&clean(&e.to_string()), &shown_path),
    };
    let cfg = builder.build().map_err(invalid)?;

    let top: HashMap<String, Value> = cfg.clone().try_deserialize().map_err(invalid)?;
    if let Some(key) = first_unknown(top.keys(), SECTIONS) {
        return Err(ConfigError::UnknownKey {
            key,
            path: shown_path,
            known: SECTIONS.join(", "),
        });
    }
    let table = cfg.get_table("mqtt").map_err(invalid)?;
    if table.contains_key("password") {
        return Err(ConfigError::PasswordInToml { path: shown_path });
    }
    let unknown = |prefix: &str, table: &HashMap<String, Value>, known: &[&str]| {
        first_unknown(table.keys(), known).map(|key| ConfigError::UnknownKey {
            key: format!("{prefix}.{key}"),
            path: shown_path.clone(),
            known: known.join(", "),
        })
    };
    let mut from_file = BTreeSet::new();
    for (section, known) in [("mqtt", MQTT_KEYS), ("controller", CONTROLLER_KEYS)] {
        let table = cfg.get_table(section).map_err(invalid)?;
        if let Some(e) = unknown(section, &table, known) {
            return Err(e);
        }
        from_file.extend(
            table
                .iter()
                .filter(|(_, value)| value.origin().is_some())
                .map(|(key, _)| format!("{section}.{key}")),
        );
    }
    if let Some(control) = top.get("control") {
        let table = control.clone().into_table().map_err(invalid)?;
        if let Some(e) = unknown("control", &table, CONTROL_KEYS) {
            return Err(e);
        }
    }
    if let Some(hardware) = top.get("hardware") {
        check_hardware_keys(hardware, &shown_path, &invalid, &unknown)?;
    }
    let raw: RawFile = cfg.try_deserialize().map_err(invalid)?;
    if raw.mqtt.password.is_some() {
        return Err(ConfigError::PasswordInToml { path: shown_path });
    }
    Ok(FileLayer {
        path,
        mqtt: raw.mqtt,
        controller: raw.controller,
        control: raw.control,
        hardware: raw.hardware,
        from_file,
    })
}

/// Reports the first key of a table that is not among the known ones, under a dotted prefix.
type UnknownCheck<'a> = dyn Fn(&str, &HashMap<String, Value>, &[&str]) -> Option<ConfigError> + 'a;

/// Unknown keys of `[hardware]` and of each relay table are `UnknownKey`; unknown role names
/// get their own errors listing the roles.
fn check_hardware_keys(
    hardware: &Value,
    path: &Path,
    invalid: &dyn Fn(config::ConfigError) -> ConfigError,
    unknown: &UnknownCheck<'_>,
) -> Result<(), ConfigError> {
    let table = hardware.clone().into_table().map_err(invalid)?;
    if let Some(e) = unknown("hardware", &table, HARDWARE_KEYS) {
        return Err(e);
    }
    if let Some(sensors) = table.get("sensors") {
        let sensors = sensors.clone().into_table().map_err(invalid)?;
        let roles: Vec<&str> = heat_hw::SensorRole::ALL.map(|r| r.as_str()).to_vec();
        if let Some(role) = first_unknown(sensors.keys(), &roles) {
            return Err(ConfigError::UnknownSensorRole {
                role,
                path: path.to_owned(),
            });
        }
    }
    if let Some(relays) = table.get("relays") {
        let relays = relays.clone().into_table().map_err(invalid)?;
        let roles: Vec<&str> = heat_hw::RelayRole::ALL.map(|r| r.as_str()).to_vec();
        if let Some(role) = first_unknown(relays.keys(), &roles) {
            return Err(ConfigError::UnknownRelayRole {
                role,
                path: path.to_owned(),
            });
        }
        for (role, relay) in relays {
            let relay = relay.into_table().map_err(invalid)?;
            if let Some(e) = unknown(&format!("hardware.relays.{role}"), &relay, RELAY_KEYS) {
                return Err(e);
            }
        }
    }
    Ok(())
}

fn first_unknown<'a>(keys: impl Iterator<Item = &'a String>, known: &[&str]) -> Option<String> {
    let mut unknown: Vec<&String> = keys.filter(|k| !known.contains(&k.as_str())).collect();
    unknown.sort();
    unknown
        .first()
        .map(|k| k.chars().take(40).flat_map(char::escape_debug).collect())
}

fn check_readable(path: &Path, named_by: String) -> Result<(), ConfigError> {
    match fs::File::open(path) {
        Ok(_) if path.is_dir() => Err(ConfigError::ConfigFileUnreadable {
            path: path.to_owned(),
            named_by,
            reason: "it is a directory".to_owned(),
        }),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(ConfigError::ConfigFileMissing {
            path: path.to_owned(),
            named_by,
        }),
        Err(e) => Err(ConfigError::ConfigFileUnreadable {
            path: path.to_owned(),
            named_by,
            reason: e.to_string(),
        }),
    }
}

/// Drops the ` in <path>` that `config` appends (often as a confusing relative path): the error
/// names the file itself.
fn without_location(message: &str, path: &Path) -> String {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return message.to_owned();
    };
    match message.rfind(" in ") {
        Some(at) if message.ends_with(name) => message[..at].trim_end_matches(';').to_owned(),
        _ => message.to_owned(),
    }
}

/// Longest parser message kept in an error.
const MESSAGE_CHARS: usize = 300;

/// Drops the source lines the TOML parser quotes (`3 | password = "..."`): they may hold a secret
/// written in the wrong place. Keeps line/column and the description.
fn clean(message: &str) -> String {
    let kept: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains('|'))
        .collect();
    let joined = kept.join("; ");
    let mut out: String = joined.chars().take(MESSAGE_CHARS).collect();
    if joined.chars().count() > MESSAGE_CHARS {
        out.push('…');
    }
    out
}
