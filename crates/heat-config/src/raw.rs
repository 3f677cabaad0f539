//! The raw stage: built-in defaults and the TOML file, merged by the `config` crate and
//! deserialised into plain structs that hold strings, not yet validated.
//!
//! Adding a section (`[control]`, `[hardware]`, ...) is one field in [`RawFile`] and one name in
//! [`SECTIONS`].

use std::{
    collections::{BTreeSet, HashMap},
    fmt, fs, io,
    path::{Path, PathBuf},
};

use config::{Config, FileFormat, Value};
use serde::{Deserialize, Deserializer, de};

use crate::{error::ConfigError, origin::Layer};

/// Top-level tables the TOML file may hold.
pub(crate) const SECTIONS: &[&str] = &["mqtt"];

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
];

/// The whole TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    #[serde(default)]
    pub(crate) mqtt: RawMqtt,
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
    from_file: BTreeSet<String>,
}

impl FileLayer {
    /// The `[mqtt]` value of `key` and its layer (the file, or the defaults).
    pub(crate) fn get(&self, key: &str) -> Option<(&str, Layer)> {
        let value = self.mqtt.get(key)?;
        let layer = match &self.path {
            Some(path) if self.from_file.contains(key) => Layer::Toml(path.clone()),
            _ => Layer::Default,
        };
        Some((value.0.as_str(), layer))
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
    if let Some(key) = first_unknown(table.keys(), MQTT_KEYS) {
        return Err(ConfigError::UnknownKey {
            key: format!("mqtt.{key}"),
            path: shown_path,
            known: MQTT_KEYS.join(", "),
        });
    }
    let from_file = table
        .iter()
        .filter(|(_, value)| value.origin().is_some())
        .map(|(key, _)| key.clone())
        .collect();
    let raw: RawFile = cfg.try_deserialize().map_err(invalid)?;
    if raw.mqtt.password.is_some() {
        return Err(ConfigError::PasswordInToml { path: shown_path });
    }
    Ok(FileLayer {
        path,
        mqtt: raw.mqtt,
        from_file,
    })
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
