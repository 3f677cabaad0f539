//! Where a value came from: the layer and the name it had there.
//!
//! Errors and the effective-settings report use these so that an operator can find the line to
//! change: `MQTT_PORT (from /etc/heat-controller/.env)` or `mqtt.port in /etc/heat-controller/heat.toml`.

use std::{fmt, path::PathBuf};

/// One layer of the settings, lowest precedence first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layer {
    /// Built into heat-config.
    Default,
    /// The TOML file at this path.
    Toml(PathBuf),
    /// The `.env` file at this path.
    DotEnv(PathBuf),
    /// The process environment (or the env map given to [`crate::Sources`]).
    Env,
}

/// A setting: its environment variable (if any), its TOML table and its key there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    pub(crate) var: Option<&'static str>,
    pub(crate) section: &'static str,
    pub(crate) toml: &'static str,
}

/// One setting and the layer its value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    setting: &'static Key,
    layer: Layer,
}

impl Origin {
    pub(crate) fn new(setting: &'static Key, layer: Layer) -> Self {
        Self { setting, layer }
    }

    /// The environment variable of the setting, if it has one.
    pub fn variable(&self) -> Option<&'static str> {
        self.setting.var
    }

    /// The key of the setting in its table of the TOML file (see [`Origin::section`]).
    pub fn key(&self) -> &'static str {
        self.setting.toml
    }

    /// The TOML table of the setting: `mqtt` or `controller`.
    pub fn section(&self) -> &'static str {
        self.setting.section
    }

    /// `section.key`, e.g. `mqtt.port`.
    pub(crate) fn dotted(&self) -> String {
        format!("{}.{}", self.setting.section, self.setting.toml)
    }

    /// The layer the value came from.
    pub fn layer(&self) -> &Layer {
        &self.layer
    }

    /// The name an operator would edit: the variable, or `<section>.<key>` for TOML-only
    /// settings.
    pub(crate) fn name(&self) -> String {
        match (&self.layer, self.setting.var) {
            (Layer::Env | Layer::DotEnv(_), Some(var)) => var.to_owned(),
            (Layer::Default, Some(var)) => var.to_owned(),
            _ => self.dotted(),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.layer {
            Layer::Env => write!(f, "{} (from the environment)", self.name()),
            Layer::DotEnv(path) => write!(f, "{} (from {})", self.name(), path.display()),
            Layer::Toml(path) => write!(f, "{} in {}", self.dotted(), path.display()),
            Layer::Default => write!(f, "the default {}", self.name()),
        }
    }
}

/// Where the MQTT password was read from. Shows paths and variable names, never the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// `MQTT_PASSWORD`, from the environment or `.env`.
    Variable(Origin),
    /// A file named by `MQTT_PASSWORD_FILE` or `mqtt.password_file`.
    File {
        /// Where the file name came from.
        named_by: Origin,
        /// The file, made absolute.
        path: PathBuf,
    },
    /// The systemd credential `$CREDENTIALS_DIRECTORY/mqtt_password`.
    SystemdCredential(PathBuf),
}

impl fmt::Display for PasswordSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordSource::Variable(origin) => origin.fmt(f),
            PasswordSource::File { named_by, path } => {
                write!(f, "the file {} named by {named_by}", path.display())
            }
            PasswordSource::SystemdCredential(path) => {
                write!(f, "the systemd credential {}", path.display())
            }
        }
    }
}

/// Longest part of a bad value that an error message shows.
const SHOWN_CHARS: usize = 40;

/// A non-secret bad value for an error message: truncated, escaped and quoted.
pub(crate) fn shown(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars().take(SHOWN_CHARS) {
        out.extend(c.escape_debug());
    }
    if value.chars().count() > SHOWN_CHARS {
        out.push('…');
    }
    out.push('"');
    out
}
