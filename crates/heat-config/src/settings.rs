//! [`Settings`]: the validated result of all layers, and the loader that produces it.
//!
//! Each setting is looked up in the environment, then `.env`, then the TOML file, then the
//! built-in defaults, and the first one found is validated with its [`Origin`] so that an error
//! names the exact variable or key.

use std::{
    collections::BTreeMap,
    fmt,
    net::Ipv6Addr,
    path::{Path, PathBuf},
    time::Duration,
};

use mqtt_auth::{
    BrokerSettings, ClientId, Credentials, Protocol, TlsSettings, TrustAnchor, Username,
    Verification,
    credentials::{password_warning, validate_password},
    settings::{ClientCertificate, DEFAULT_CONNECT_TIMEOUT},
};
use secrecy::SecretString;
use zeroize::Zeroizing;

use heat_core::{ParamError, Params};

use crate::{
    controller::{ControllerSettings, DEFAULT_DISCOVERY_PREFIX},
    error::{ConfigError, Credential, credential_error},
    hardware::HardwareSettings,
    origin::{Key, Layer, Origin, PasswordSource, shown},
    raw::{self, FileLayer},
    secret_file::{self, FileProblem},
    sources::Sources,
};

/// Client id used when none is configured: stable, so the broker keeps one session.
pub const DEFAULT_CLIENT_ID: &str = "solar-heating-controller";
/// Topic prefix used when none is configured.
pub const DEFAULT_TOPIC_PREFIX: &str = "solar_heating";
/// Default port without TLS.
const PLAIN_PORT: u16 = 1883;
/// Default port with TLS.
const TLS_PORT: u16 = 8883;
/// File name of the password among the systemd credentials.
const SYSTEMD_CREDENTIAL: &str = "mqtt_password";
/// Longest device name accepted (Home Assistant shows it in cards and lists).
const DEVICE_NAME_CHARS: usize = 64;
/// Names the TOML file when `--config` is not given.
const HEAT_CONFIG: &str = "HEAT_CONFIG";
/// `HEAT_CONFIG` as a setting (it has no TOML key).
const HEAT_CONFIG_KEY: Key = Key {
    var: Some(HEAT_CONFIG),
    section: "",
    toml: "",
};
/// Set by systemd when the unit has `LoadCredential=`/`SetCredential=`.
const CREDENTIALS_DIRECTORY: &str = "CREDENTIALS_DIRECTORY";

/// Defines a [`Key`] constant for each line `NAME: section.key, "VARIABLE";` (a TOML-only
/// setting has no variable), and [`VARIABLES`] from the same lines, so that the list cannot
/// miss a setting.
macro_rules! keys {
    (@var) => { None };
    (@var $var:literal) => { Some($var) };
    ($($(#[$attr:meta])* $name:ident: $section:ident.$toml:ident $(, $var:literal)?;)*) => {
        $(
            $(#[$attr])*
            const $name: Key = Key {
                var: keys!(@var $($var)?),
                section: stringify!($section),
                toml: stringify!($toml),
            };
        )*

        /// Every environment variable that [`Settings::load`] reads: the variable of each
        /// setting that has one, then `HEAT_CONFIG` and systemd's `CREDENTIALS_DIRECTORY`.
        /// All but the last are also looked up in `.env`.
        pub const VARIABLES: &[&str] = &[$($($var,)?)* HEAT_CONFIG, CREDENTIALS_DIRECTORY];
    };
}

keys! {
    BROKER:           mqtt.broker,                "MQTT_BROKER";
    PORT:             mqtt.port,                  "MQTT_PORT";
    USERNAME:         mqtt.username,              "MQTT_USERNAME";
    /// Only ever read from the environment and `.env`, never from the TOML file.
    PASSWORD:         mqtt.password,              "MQTT_PASSWORD";
    PASSWORD_FILE:    mqtt.password_file,         "MQTT_PASSWORD_FILE";
    CLIENT_ID:        mqtt.client_id,             "MQTT_CLIENT_ID";
    VERSION:          mqtt.version,               "MQTT_VERSION";
    CA_FILE:          mqtt.ca_file,               "MQTT_CA_FILE";
    TLS:              mqtt.tls,                   "MQTT_TLS";
    CERT_FILE:        mqtt.cert_file,             "MQTT_CERT_FILE";
    KEY_FILE:         mqtt.key_file,              "MQTT_KEY_FILE";
    TLS_INSECURE:     mqtt.tls_insecure,          "MQTT_TLS_INSECURE";
    TOPIC_PREFIX:     mqtt.topic_prefix,          "MQTT_TOPIC_PREFIX";
    KEEP_ALIVE:       mqtt.keep_alive_secs;
    PERIOD:           controller.period_secs,     "HEAT_CONTROL_PERIOD_SECS";
    HEARTBEAT:        controller.heartbeat_secs;
    DISCOVERY:        controller.discovery,       "HEAT_DISCOVERY";
    DISCOVERY_PREFIX: controller.discovery_prefix;
    PROBE_ANONYMOUS:  controller.probe_anonymous;
    DEVICE_NAME:      controller.device_name;
    LOCK_FILE:        controller.lock_file;
    TIME_SCALE:       controller.time_scale;
    /// systemd sets `STATE_DIRECTORY` from the unit's `StateDirectory=`.
    STATE_DIR:        controller.state_dir,           "STATE_DIRECTORY";
    PERSIST_INTERVAL: controller.persist_interval_secs;
}

/// Validated settings. Every value that exists is valid; `Debug` never shows the password.
#[derive(Debug, Clone)]
pub struct Settings {
    broker: BrokerSettings,
    topic_prefix: String,
    controller: ControllerSettings,
    control: Params,
    hardware: Option<HardwareSettings>,
    config_path: Option<PathBuf>,
    password_file: Option<PathBuf>,
    warnings: Vec<String>,
    report: Vec<ReportLine>,
}

/// One line of the effective-settings report.
#[derive(Debug, Clone)]
struct ReportLine {
    name: &'static str,
    value: String,
    from: String,
}

impl Settings {
    /// Loads defaults, the TOML file, `.env` and the environment from `sources`, and validates.
    pub fn load(sources: &Sources) -> Result<Self, ConfigError> {
        Loader::new(sources)?.load()
    }

    /// Everything needed to connect to the broker.
    pub fn broker(&self) -> &BrokerSettings {
        &self.broker
    }

    /// The file the password was read from: `MQTT_PASSWORD_FILE` (`mqtt.password_file`) or the
    /// systemd credential; `None` when it came from `MQTT_PASSWORD`. The controller watches it.
    pub fn password_file(&self) -> Option<&Path> {
        self.password_file.as_deref()
    }

    /// Prefix of the controller's own state and command topics (never inside `homeassistant/`).
    pub fn topic_prefix(&self) -> &str {
        &self.topic_prefix
    }

    /// The daemon's `[controller]` settings.
    pub fn controller(&self) -> &ControllerSettings {
        &self.controller
    }

    /// The control parameters from `[control]` (heat-core's defaults for keys not given).
    pub fn control_params(&self) -> &Params {
        &self.control
    }

    /// The `[hardware]` table, validated; `None` when the file has none (only a simulation can
    /// run then).
    pub fn hardware(&self) -> Option<&HardwareSettings> {
        self.hardware.as_ref()
    }

    /// The `[hardware]` table, or the error that tells the operator to add one: for a daemon
    /// about to drive real hardware.
    pub fn require_hardware(&self) -> Result<&HardwareSettings, ConfigError> {
        self.hardware
            .as_ref()
            .ok_or_else(|| ConfigError::HardwareNotConfigured {
                path: self.config_path.clone(),
            })
    }

    /// Things that are allowed but unwise (short password, no certificate verification, ...):
    /// the binary logs them at startup.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// A report of every effective value and the layer it came from, password redacted.
    pub fn effective(&self) -> Effective<'_> {
        Effective(self)
    }
}

/// What the commands that touch only local hardware need (`heat-diag sensors` and `relay`): the
/// `[hardware]` table and `[controller] lock_file`, read through the same layers as
/// [`Settings::load`] (`--config`, `HEAT_CONFIG` from the environment or `.env`) but without
/// any MQTT setting: no broker, username or password is needed or looked at.
#[derive(Debug, Clone)]
pub struct LocalSettings {
    hardware: Option<HardwareSettings>,
    lock_file: PathBuf,
    config_path: Option<PathBuf>,
    warnings: Vec<String>,
}

impl LocalSettings {
    /// The `[hardware]` table, validated; `None` when there is none.
    pub fn hardware(&self) -> Option<&HardwareSettings> {
        self.hardware.as_ref()
    }

    /// The `[hardware]` table, or [`HardwareSettings::unconfigured`] (w1 at
    /// `/sys/bus/w1/devices`, no roles) when there is none.
    pub fn hardware_or_unconfigured(&self) -> HardwareSettings {
        self.hardware
            .clone()
            .unwrap_or_else(HardwareSettings::unconfigured)
    }

    /// The `[hardware]` table, or the error that tells the operator to add one.
    pub fn require_hardware(&self) -> Result<&HardwareSettings, ConfigError> {
        self.hardware
            .as_ref()
            .ok_or_else(|| ConfigError::HardwareNotConfigured {
                path: self.config_path.clone(),
            })
    }

    /// `[controller] lock_file`: held by the controller while it drives the relays.
    pub fn lock_file(&self) -> &Path {
        &self.lock_file
    }

    /// The TOML file read, if any.
    pub fn config_path(&self) -> Option<&Path> {
        self.config_path.as_deref()
    }

    /// Values the backend ignores, and the like.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

impl Settings {
    /// Loads only what [`LocalSettings`] holds. A TOML file is still validated whole (unknown
    /// keys are errors), but no MQTT variable is read, and a `[hardware]` table that does not
    /// name every required sensor or relay yet is accepted with a warning (the wiring tools are
    /// how one finds the ids to fill in).
    pub fn load_local(sources: &Sources) -> Result<LocalSettings, ConfigError> {
        let mut loader = Loader::new(sources)?;
        let hardware = loader.hardware(true)?;
        let (lock_file, _) = loader.path(&LOCK_FILE)?.ok_or(ConfigError::EmptyValue {
            origin: Origin::new(&LOCK_FILE, Layer::Default),
        })?;
        Ok(LocalSettings {
            hardware,
            lock_file,
            config_path: loader.file.path().map(Path::to_path_buf),
            warnings: loader.warnings,
        })
    }
}

/// The effective settings as text: one `name = value (source)` line each, password redacted.
#[derive(Debug, Clone, Copy)]
pub struct Effective<'a>(&'a Settings);

impl fmt::Display for Effective<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .0
            .report
            .iter()
            .map(|l| l.name.len())
            // 0 is max's identity: no lines, no padding.
            .fold(0, usize::max);
        for line in &self.0.report {
            writeln!(
                f,
                "{:width$} = {} ({})",
                line.name,
                line.value,
                line.from,
                width = width
            )?;
        }
        Ok(())
    }
}

/// A value found in some layer.
#[derive(Debug)]
struct Found<'a> {
    value: &'a str,
    origin: Origin,
}

/// All layers, ready for lookups.
struct Loader<'a> {
    sources: &'a Sources,
    dotenv_path: PathBuf,
    dotenv: BTreeMap<String, Zeroizing<String>>,
    /// `.env` lines whose value holds an unquoted `$`: (variable, 1-based line).
    dotenv_dollars: Vec<(String, usize)>,
    file: FileLayer,
    /// Set by `password` when the password came from a file.
    password_file: Option<PathBuf>,
    warnings: Vec<String>,
    report: Vec<ReportLine>,
}

impl<'a> Loader<'a> {
    fn new(sources: &'a Sources) -> Result<Self, ConfigError> {
        let dotenv_path = sources.working_dir().join(".env");
        let dotenv = read_dotenv(&dotenv_path)?;
        let dotenv_dollars = if dotenv.is_empty() {
            Vec::new()
        } else {
            dollar_lines(&dotenv_path)
        };
        let mut loader = Self {
            sources,
            dotenv_path,
            dotenv,
            dotenv_dollars,
            file: raw::load(None)?,
            password_file: None,
            warnings: Vec::new(),
            report: Vec::new(),
        };
        loader.refuse_dollar(|name| name == HEAT_CONFIG)?;
        let config_file = match sources.config_path() {
            Some(path) => Some((sources.working_dir().join(path), "--config".to_owned())),
            None => match loader.var(HEAT_CONFIG)? {
                Some((value, layer)) => {
                    let origin = Origin::new(&HEAT_CONFIG_KEY, layer);
                    if value.is_empty() {
                        return Err(ConfigError::EmptyValue { origin });
                    }
                    Some((sources.working_dir().join(value), origin.to_string()))
                }
                None => None,
            },
        };
        if config_file.is_some() {
            loader.file = raw::load(config_file)?;
        }
        Ok(loader)
    }

    /// Refuses the first `.env` line with an unquoted `$` whose variable `reads` says is read.
    fn refuse_dollar(&self, reads: impl Fn(&str) -> bool) -> Result<(), ConfigError> {
        match self.dotenv_dollars.iter().find(|(name, _)| reads(name)) {
            Some((name, line)) => Err(ConfigError::EnvFileDollar {
                path: self.dotenv_path.clone(),
                line: *line,
                variable: name.clone(),
            }),
            None => Ok(()),
        }
    }

    /// `.env` holds a secret, so it is a secret file: refused when group or others can access
    /// it, like `MQTT_PASSWORD_FILE` and the key file.
    fn check_dotenv_private(&self) -> Result<(), ConfigError> {
        if !self.dotenv.contains_key(PASSWORD.var.unwrap_or_default()) {
            return Ok(());
        }
        match secret_file::check_private(&self.dotenv_path) {
            Ok(_) => Ok(()),
            Err(FileProblem::TooOpen(mode)) => Err(ConfigError::EnvFileTooOpen {
                path: self.dotenv_path.clone(),
                mode,
            }),
            Err(FileProblem::Missing) => Ok(()),
            Err(FileProblem::Unreadable(reason)) => Err(ConfigError::EnvFileUnreadable {
                path: self.dotenv_path.clone(),
                reason,
            }),
        }
    }

    /// A warning for each `MQTT_*` / `HEAT_*` name in the environment or `.env` that no setting
    /// reads, naming the closest one that does (a typo such as `MQTT_PASWORD` would otherwise
    /// be ignored in silence). Paho C's own `MQTT_C_CLIENT_*` variables are not ours to judge.
    fn unknown_variable_warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        let env: Vec<&str> = self.sources.names().collect();
        let named = env
            .iter()
            .map(|n| (*n, "the environment".to_owned()))
            .chain(
                self.dotenv
                    .keys()
                    .map(|n| (n.as_str(), self.dotenv_path.display().to_string())),
            );
        for (name, place) in named {
            if is_unknown_variable(name) {
                warnings.push(format!(
                    "{name} in {place} is not a variable heat-controller reads (ignored); \
                     did you mean {}?",
                    closest_variable(name)
                ));
            }
        }
        warnings
    }

    /// An environment variable, from the environment or else from `.env`.
    fn var(&self, name: &'static str) -> Result<Option<(&str, Layer)>, ConfigError> {
        debug_assert!(
            VARIABLES.contains(&name),
            "{name} is missing from VARIABLES"
        );
        match self.sources.var(name) {
            Err(()) => Err(ConfigError::NotUnicode {
                variable: name.to_owned(),
            }),
            Ok(Some(value)) => Ok(Some((value, Layer::Env))),
            Ok(None) => Ok(self
                .dotenv
                .get(name)
                .map(|v| (v.as_str(), Layer::DotEnv(self.dotenv_path.clone())))),
        }
    }

    /// A setting from the first layer that has it; empty values are returned as they are.
    fn lookup(&self, key: &'static Key) -> Result<Option<Found<'_>>, ConfigError> {
        if let Some(var) = key.var
            && let Some((value, layer)) = self.var(var)?
        {
            return Ok(Some(Found {
                value,
                origin: Origin::new(key, layer),
            }));
        }
        Ok(self
            .file
            .get(key.section, key.toml)
            .map(|(value, layer)| Found {
                value,
                origin: Origin::new(key, layer),
            }))
    }

    /// A setting that, when present, must not be empty.
    fn non_empty(&self, key: &'static Key) -> Result<Option<Found<'_>>, ConfigError> {
        match self.lookup(key)? {
            Some(found) if found.value.trim().is_empty() => Err(ConfigError::EmptyValue {
                origin: found.origin,
            }),
            other => Ok(other),
        }
    }

    /// A setting that has a built-in default, so it is always found.
    fn defaulted(&self, key: &'static Key) -> Result<Found<'_>, ConfigError> {
        self.non_empty(key)?.ok_or(ConfigError::EmptyValue {
            origin: Origin::new(key, Layer::Default),
        })
    }

    fn boolean(&self, key: &'static Key) -> Result<(bool, Origin), ConfigError> {
        let found = self.defaulted(key)?;
        let value = match found.value.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => {
                return Err(ConfigError::InvalidBool {
                    value: shown(found.value),
                    origin: found.origin,
                });
            }
        };
        Ok((value, found.origin))
    }

    /// A path setting, made absolute: TOML paths against the TOML file's directory, others
    /// against the working directory.
    fn path(&self, key: &'static Key) -> Result<Option<(PathBuf, Origin)>, ConfigError> {
        let Some(found) = self.non_empty(key)? else {
            return Ok(None);
        };
        let base = match found.origin.layer() {
            Layer::Toml(file) => file.parent().unwrap_or(Path::new("/")).to_path_buf(),
            _ => self.sources.working_dir().to_path_buf(),
        };
        Ok(Some((base.join(found.value), found.origin)))
    }

    fn report(&mut self, name: &'static str, value: impl fmt::Display, from: String) {
        self.report.push(ReportLine {
            name,
            value: value.to_string(),
            from,
        });
    }

    fn load(mut self) -> Result<Settings, ConfigError> {
        self.refuse_dollar(|name| VARIABLES.contains(&name))?;
        self.check_dotenv_private()?;
        let unknown = self.unknown_variable_warnings();
        self.warnings.extend(unknown);
        let host = self.broker_host()?;
        let protocol = self.protocol()?;
        let tls = self.tls()?;
        let port = self.port(tls.is_some())?;
        let username = self.username()?;
        let password = self.password()?;
        let credentials = Credentials::new(username, password)
            .map_err(|e| credential_error(Credential::Password, "the MQTT password".into(), e))?;
        let client_id = self.client_id()?;
        let keep_alive = self.keep_alive()?;
        let controller = self.controller()?;
        let topic_prefix = self.topic_prefix(&controller.discovery_prefix)?;
        let control = self.control()?;
        let hardware = self.hardware(false)?;

        if tls.is_none() && !is_loopback(&host) {
            self.warnings.push(format!(
                "the MQTT password goes to {host} over plain TCP: set MQTT_CA_FILE or MQTT_TLS=true"
            ));
        }
        let broker = BrokerSettings::new(host, port, protocol, client_id, credentials)
            .with_tls(tls)
            .with_timing(keep_alive, DEFAULT_CONNECT_TIMEOUT);
        Ok(Settings {
            broker,
            topic_prefix,
            controller,
            control,
            hardware,
            config_path: self.file.path().map(Path::to_path_buf),
            password_file: self.password_file,
            warnings: self.warnings,
            report: self.report,
        })
    }

    fn broker_host(&mut self) -> Result<String, ConfigError> {
        let found = self.defaulted(&BROKER)?;
        let value = found.value;
        let bad = |reason| ConfigError::InvalidBroker {
            origin: found.origin.clone(),
            value: shown(value),
            reason,
        };
        if value.contains("://") {
            return Err(bad("a URL"));
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("which contains whitespace or a control character"));
        }
        if value.contains('/') {
            return Err(bad("which contains '/'"));
        }
        let bare = value.trim_start_matches('[').trim_end_matches(']');
        if value.contains(':') && bare.parse::<Ipv6Addr>().is_err() {
            return Err(bad("which includes a port (set MQTT_PORT instead)"));
        }
        let host = bare.to_owned();
        let from = report_from(&found.origin);
        self.report("broker", &host, from);
        Ok(host)
    }

    fn protocol(&mut self) -> Result<Protocol, ConfigError> {
        let found = self.defaulted(&VERSION)?;
        let protocol =
            found
                .value
                .parse::<Protocol>()
                .map_err(|_| ConfigError::InvalidVersion {
                    value: shown(found.value),
                    origin: found.origin.clone(),
                })?;
        let from = report_from(&found.origin);
        self.report("version", protocol, from);
        Ok(protocol)
    }

    fn port(&mut self, tls: bool) -> Result<u16, ConfigError> {
        let Some(found) = self.non_empty(&PORT)? else {
            let port = if tls { TLS_PORT } else { PLAIN_PORT };
            let from = if tls { "default with TLS" } else { "default" };
            self.report("port", port, from.to_owned());
            return Ok(port);
        };
        let text = found.value.trim();
        let number: i128 = text.parse().map_err(|_| ConfigError::PortNotANumber {
            value: shown(found.value),
            origin: found.origin.clone(),
        })?;
        let port = u16::try_from(number)
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| ConfigError::PortOutOfRange {
                value: shown(found.value),
                origin: found.origin.clone(),
            })?;
        let from = report_from(&found.origin);
        self.report("port", port, from);
        Ok(port)
    }

    fn username(&mut self) -> Result<Username, ConfigError> {
        let found = self
            .lookup(&USERNAME)?
            .ok_or(ConfigError::MissingCredential {
                which: Credential::Username,
            })?;
        let username = Username::new(found.value)
            .map_err(|e| credential_error(Credential::Username, found.origin.to_string(), e))?;
        let from = report_from(&found.origin);
        self.report("username", &username, from);
        Ok(username)
    }

    fn password(&mut self) -> Result<SecretString, ConfigError> {
        let variable = self.var(PASSWORD.var.unwrap_or_default())?;
        let file = self.path(&PASSWORD_FILE)?;
        let (password, source) = match (variable, file) {
            (Some((_, var_layer)), Some((_, file_origin))) => {
                return Err(ConfigError::PasswordConflict {
                    password: Origin::new(&PASSWORD, var_layer),
                    file: file_origin,
                });
            }
            (Some((value, layer)), None) => {
                let origin = Origin::new(&PASSWORD, layer);
                (SecretString::from(value), PasswordSource::Variable(origin))
            }
            (None, Some((path, named_by))) => {
                let source = PasswordSource::File {
                    named_by,
                    path: path.clone(),
                };
                let password = secret_file::read_password(&path, true)
                    .map_err(|p| password_file_error(p, source.clone(), &path))?;
                self.password_file = Some(path);
                (password, source)
            }
            (None, None) => {
                let (password, source) = self.systemd_password()?;
                if let PasswordSource::SystemdCredential(path) = &source {
                    self.password_file = Some(path.clone());
                }
                (password, source)
            }
        };
        validate_password(&password)
            .map_err(|e| credential_error(Credential::Password, source.to_string(), e))?;
        if let Some(warning) = password_warning(&password) {
            self.warnings.push(warning);
        }
        self.report("password", "[REDACTED]", password_from(&source));
        Ok(password)
    }

    /// `$CREDENTIALS_DIRECTORY/mqtt_password`, when neither variable is set. systemd makes the
    /// directory and file private itself, so their mode is not checked.
    fn systemd_password(&self) -> Result<(SecretString, PasswordSource), ConfigError> {
        let missing = ConfigError::MissingCredential {
            which: Credential::Password,
        };
        let dir = match self.sources.var(CREDENTIALS_DIRECTORY) {
            Ok(Some(dir)) if !dir.is_empty() => PathBuf::from(dir),
            Ok(_) => return Err(missing),
            Err(()) => {
                return Err(ConfigError::NotUnicode {
                    variable: CREDENTIALS_DIRECTORY.to_owned(),
                });
            }
        };
        let path = dir.join(SYSTEMD_CREDENTIAL);
        let source = PasswordSource::SystemdCredential(path.clone());
        match secret_file::read_password(&path, false) {
            Ok(password) => Ok((password, source)),
            Err(FileProblem::Missing) => Err(missing),
            Err(problem) => Err(password_file_error(problem, source, &path)),
        }
    }

    fn client_id(&mut self) -> Result<ClientId, ConfigError> {
        let found = self.lookup(&CLIENT_ID)?.ok_or(ConfigError::EmptyValue {
            origin: Origin::new(&CLIENT_ID, Layer::Default),
        })?;
        let id = ClientId::new(found.value).map_err(|problem| ConfigError::InvalidClientId {
            origin: found.origin.clone(),
            problem,
        })?;
        let from = report_from(&found.origin);
        self.report("client_id", &id, from);
        Ok(id)
    }

    fn keep_alive(&mut self) -> Result<Duration, ConfigError> {
        let found = self.defaulted(&KEEP_ALIVE)?;
        let secs = found
            .value
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|s| *s > 0)
            .ok_or_else(|| ConfigError::InvalidKeepAlive {
                value: shown(found.value),
                origin: found.origin.clone(),
            })?;
        let from = report_from(&found.origin);
        self.report("keep_alive_secs", secs, from);
        Ok(Duration::from_secs(u64::from(secs)))
    }

    /// A whole number in `min..=max`; `expected` says so, with the default, in the error.
    fn number(
        &mut self,
        key: &'static Key,
        min: u64,
        max: u64,
        expected: &'static str,
    ) -> Result<u64, ConfigError> {
        let found = self.defaulted(key)?;
        let n = found
            .value
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| ConfigError::InvalidNumber {
                origin: found.origin.clone(),
                value: shown(found.value),
                expected,
            })?;
        let from = report_from(&found.origin);
        self.report(key.toml, n, from);
        Ok(n)
    }

    fn flag(&mut self, key: &'static Key) -> Result<bool, ConfigError> {
        let (value, origin) = self.boolean(key)?;
        self.report(key.toml, value, report_from(&origin));
        Ok(value)
    }

    fn controller(&mut self) -> Result<ControllerSettings, ConfigError> {
        let period = self.number(
            &PERIOD,
            1,
            3600,
            "a whole number of seconds from 1 to 3600 (default 30)",
        )?;
        let heartbeat = self.number(
            &HEARTBEAT,
            5,
            3600,
            "a whole number of seconds from 5 to 3600 (default 60)",
        )?;
        let discovery = self.flag(&DISCOVERY)?;
        let discovery_prefix = self.discovery_prefix()?;
        let probe_anonymous = self.flag(&PROBE_ANONYMOUS)?;
        let device_name = self.device_name()?;
        let (lock_file, origin) = self.path(&LOCK_FILE)?.ok_or(ConfigError::EmptyValue {
            origin: Origin::new(&LOCK_FILE, Layer::Default),
        })?;
        self.report("lock_file", lock_file.display(), report_from(&origin));
        let time_scale = self.time_scale()?;
        let state_dir = self.path(&STATE_DIR)?;
        match &state_dir {
            Some((dir, origin)) => self.report("state_dir", dir.display(), report_from(origin)),
            None => self.report("state_dir", "not set", "default".to_owned()),
        }
        let persist_interval = self.number(
            &PERSIST_INTERVAL,
            1,
            86_400,
            "a whole number of seconds from 1 to 86400 (default 600)",
        )?;
        Ok(ControllerSettings {
            period: Duration::from_secs(period),
            heartbeat: Duration::from_secs(heartbeat),
            discovery,
            discovery_prefix,
            probe_anonymous,
            device_name,
            lock_file,
            time_scale,
            state_dir: state_dir.map(|(dir, _)| dir),
            persist_interval: Duration::from_secs(persist_interval),
        })
    }

    fn discovery_prefix(&mut self) -> Result<String, ConfigError> {
        let found = self.defaulted(&DISCOVERY_PREFIX)?;
        let value = found.value;
        let reason = if value.contains('/') {
            Some("which contains '/'")
        } else if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            Some("which contains a character other than letters, digits, '_' and '-'")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(ConfigError::InvalidDiscoveryPrefix {
                origin: found.origin,
                value: shown(value),
                reason,
            });
        }
        let prefix = value.to_owned();
        let from = report_from(&found.origin);
        self.report("discovery_prefix", &prefix, from);
        Ok(prefix)
    }

    fn device_name(&mut self) -> Result<String, ConfigError> {
        let found = self.defaulted(&DEVICE_NAME)?;
        let value = found.value;
        let reason = if value.chars().any(char::is_control) {
            Some("which contains a control character")
        } else if value.chars().count() > DEVICE_NAME_CHARS {
            Some("longer than 64 characters")
        } else if value.trim() != value {
            Some("which starts or ends with whitespace")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(ConfigError::InvalidDeviceName {
                origin: found.origin,
                value: shown(value),
                reason,
            });
        }
        let name = value.to_owned();
        let from = report_from(&found.origin);
        self.report("device_name", &name, from);
        Ok(name)
    }

    fn time_scale(&mut self) -> Result<f64, ConfigError> {
        let found = self.defaulted(&TIME_SCALE)?;
        let scale = found
            .value
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| (1.0..=100_000.0).contains(s))
            .ok_or_else(|| ConfigError::InvalidNumber {
                origin: found.origin.clone(),
                value: shown(found.value),
                expected: "a number from 1 to 100000 (simulated seconds per real second, default 1)",
            })?;
        let from = report_from(&found.origin);
        self.report("time_scale", scale, from);
        Ok(scale)
    }

    /// `[control]` through heat-core's own validation; the error names the key and the file.
    fn control(&mut self) -> Result<Params, ConfigError> {
        let (Some(raw), Some(path)) = (self.file.control(), self.file.path()) else {
            self.report("control", "heat-core defaults", "default".to_owned());
            return Ok(Params::default());
        };
        let params = Params::try_from(raw.clone()).map_err(|problem| {
            let key = match &problem {
                ParamError::NotFinite { field, .. }
                | ParamError::OutOfRange { field, .. }
                | ParamError::OffStep { field, .. } => *field,
                ParamError::CrossField { rule, .. } => rule.fields().0,
                _ => "?",
            };
            ConfigError::InvalidControl {
                key,
                path: path.to_path_buf(),
                problem,
            }
        })?;
        let from = format!("from [control] in {}", path.display());
        self.report("control", "validated", from);
        Ok(params)
    }

    /// `[hardware]`, always validated when present; with `partial`, a required role not
    /// configured yet is a warning (see [`HardwareSettings::from_raw_partial`]).
    fn hardware(&mut self, partial: bool) -> Result<Option<HardwareSettings>, ConfigError> {
        let (Some(raw), Some(path)) = (self.file.hardware(), self.file.path()) else {
            self.report(
                "hardware",
                "not configured",
                "no [hardware] table".to_owned(),
            );
            return Ok(None);
        };
        let base = path.parent().unwrap_or(Path::new("/"));
        let (hardware, warnings) = if partial {
            HardwareSettings::from_raw_partial(raw, path, base)?
        } else {
            HardwareSettings::from_raw(raw, path, base)?
        };
        let summary = format!(
            "{}: {} sensors, {} relays",
            hardware.backend().as_str(),
            hardware.sensors().len(),
            hardware.relays().len()
        );
        let from = format!("from [hardware] in {}", path.display());
        self.warnings.extend(warnings);
        self.report("hardware", summary, from);
        Ok(Some(hardware))
    }

    fn topic_prefix(&mut self, discovery_prefix: &str) -> Result<String, ConfigError> {
        let found = self
            .lookup(&TOPIC_PREFIX)?
            .ok_or(ConfigError::TopicPrefixEmpty {
                origin: Origin::new(&TOPIC_PREFIX, Layer::Default),
            })?;
        let value = found.value;
        let origin = found.origin.clone();
        if value.trim().is_empty() {
            return Err(ConfigError::TopicPrefixEmpty { origin });
        }
        if let Some(ch) = value.chars().find(|c| matches!(c, '+' | '#' | '\0')) {
            return Err(ConfigError::TopicPrefixBadChar {
                origin,
                value: shown(value),
                ch,
            });
        }
        if value.starts_with('/') || value.ends_with('/') {
            return Err(ConfigError::TopicPrefixSlash {
                origin,
                value: shown(value),
            });
        }
        // The default prefix is always kept clear too: Home Assistant may be switched back to it.
        for discovery in [discovery_prefix, DEFAULT_DISCOVERY_PREFIX] {
            if value == discovery || value.starts_with(&format!("{discovery}/")) {
                return Err(ConfigError::TopicPrefixInDiscovery {
                    origin,
                    value: shown(value),
                    discovery_prefix: discovery.to_owned(),
                });
            }
        }
        let prefix = value.to_owned();
        self.report("topic_prefix", &prefix, report_from(&origin));
        Ok(prefix)
    }

    fn tls(&mut self) -> Result<Option<TlsSettings>, ConfigError> {
        let ca = self.path(&CA_FILE)?;
        let (tls_flag, tls_origin) = self.boolean(&TLS)?;
        let (insecure, insecure_origin) = self.boolean(&TLS_INSECURE)?;
        let cert = self.path(&CERT_FILE)?;
        let key = self.path(&KEY_FILE)?;

        if let Some((_, ca_origin)) = &ca
            && !tls_flag
            && *tls_origin.layer() != Layer::Default
        {
            return Err(ConfigError::TlsDisabledWithCaFile {
                tls: tls_origin,
                ca: ca_origin.clone(),
            });
        }
        let tls_on = ca.is_some() || tls_flag;
        let client_cert = match (cert, key) {
            (None, None) => None,
            (Some((_, given)), None) => {
                return Err(ConfigError::IncompleteClientCertificate {
                    given,
                    missing: "MQTT_KEY_FILE",
                });
            }
            (None, Some((_, given))) => {
                return Err(ConfigError::IncompleteClientCertificate {
                    given,
                    missing: "MQTT_CERT_FILE",
                });
            }
            (Some(cert), Some(key)) => Some((cert, key)),
        };
        if let Some(((_, origin), _)) = &client_cert
            && !tls_on
        {
            return Err(ConfigError::ClientCertificateWithoutTls {
                origin: origin.clone(),
            });
        }
        if insecure && !tls_on {
            return Err(ConfigError::InsecureWithoutTls {
                origin: insecure_origin,
            });
        }
        if !tls_on {
            self.report("tls", "off", report_from(&tls_origin));
            return Ok(None);
        }

        let trust = match ca {
            Some((path, origin)) => {
                if !path.is_file() {
                    return Err(ConfigError::CaFileMissing { origin, path });
                }
                self.report("tls", "on, verified against ca_file", report_from(&origin));
                self.report("ca_file", path.display(), report_from(&origin));
                TrustAnchor::CaFile(path)
            }
            None => {
                self.report("tls", "on, system trust store", report_from(&tls_origin));
                TrustAnchor::SystemStore
            }
        };
        let client_cert = match client_cert {
            None => None,
            Some(((cert_file, cert_origin), (key_file, key_origin))) => {
                if !cert_file.is_file() {
                    return Err(ConfigError::CertFileMissing {
                        origin: cert_origin,
                        path: cert_file,
                    });
                }
                secret_file::check_private(&key_file).map_err(|problem| {
                    key_file_error(problem, key_origin.clone(), key_file.clone())
                })?;
                self.report("cert_file", cert_file.display(), report_from(&cert_origin));
                self.report("key_file", key_file.display(), report_from(&key_origin));
                Some(ClientCertificate {
                    cert_file,
                    key_file,
                })
            }
        };
        let verification = if insecure {
            self.warnings.push(
                "MQTT_TLS_INSECURE is on: the broker's certificate and host name are NOT verified, \
                 so anyone on the network path can pose as the broker and learn the password"
                    .to_owned(),
            );
            self.report(
                "tls_insecure",
                "true (NOT verified)",
                report_from(&insecure_origin),
            );
            Verification::Insecure
        } else {
            self.report("tls_insecure", "false", report_from(&insecure_origin));
            Verification::Full
        };
        Ok(Some(TlsSettings {
            trust,
            client_cert,
            verification,
        }))
    }
}

/// Reads `.env` as name/value pairs without touching the process environment. No file is fine.
fn read_dotenv(path: &Path) -> Result<BTreeMap<String, Zeroizing<String>>, ConfigError> {
    let mut pairs = BTreeMap::new();
    let iter = match dotenvy::from_path_iter(path) {
        Ok(iter) => iter,
        Err(dotenvy::Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(pairs);
        }
        Err(e) => {
            return Err(ConfigError::EnvFileUnreadable {
                path: path.to_owned(),
                reason: io_reason(&e),
            });
        }
    };
    for item in iter {
        match item {
            Ok((name, value)) => {
                pairs.insert(name, Zeroizing::new(value));
            }
            Err(dotenvy::Error::LineParse(line, _)) => {
                let line = Zeroizing::new(line);
                return Err(ConfigError::EnvFileInvalid {
                    path: path.to_owned(),
                    line: find_line(path, &line),
                });
            }
            Err(e) => {
                return Err(ConfigError::EnvFileUnreadable {
                    path: path.to_owned(),
                    reason: io_reason(&e),
                });
            }
        }
    }
    Ok(pairs)
}

/// Prefixes of the variables heat-config owns; an unknown name with one of them is a typo.
const OWN_PREFIXES: [&str; 2] = ["MQTT_", "HEAT_"];
/// Paho C's trace switches (`MQTT_C_CLIENT_TRACE`, `..._LEVEL`): another tool's, not a typo.
const FOREIGN_PREFIX: &str = "MQTT_C_CLIENT_";

fn is_unknown_variable(name: &str) -> bool {
    OWN_PREFIXES.iter().any(|p| name.starts_with(p))
        && !name.starts_with(FOREIGN_PREFIX)
        && !VARIABLES.contains(&name)
}

/// The known variable nearest to `name` (Damerau-Levenshtein distance; ties: the first listed).
fn closest_variable(name: &str) -> &'static str {
    VARIABLES
        .iter()
        .filter(|v| **v != CREDENTIALS_DIRECTORY)
        .min_by_key(|v| strsim::damerau_levenshtein(name, v))
        .copied()
        .unwrap_or(HEAT_CONFIG)
}

/// The `.env` lines (variable, 1-based number) whose value holds a `$` that a `.env` parser
/// substitutes: not inside single quotes, not escaped as `\$`, not in a trailing comment.
/// Values are scanned, never kept or shown. An unreadable file yields nothing here (reading it
/// already succeeded once; a later failure is not this check's to report).
fn dollar_lines(path: &Path) -> Vec<(String, usize)> {
    let Ok(text) = std::fs::read_to_string(path).map(Zeroizing::new) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        if value_substitutes(value.trim_start()) {
            found.push((name.trim().to_owned(), i + 1));
        }
    }
    found
}

/// True when `value` (as written after `=`) holds a `$` that dotenvy 0.15 would substitute:
/// one outside single quotes and not escaped as `\$`. Mirrors dotenvy's own quoting rules
/// (quotes may open and close anywhere in a value; an unquoted blank ends it, and `#` after it
/// starts a comment).
fn value_substitutes(value: &str) -> bool {
    let (mut strong, mut weak, mut escaped) = (false, false, false);
    for c in value.chars() {
        if escaped {
            escaped = false;
        } else if strong {
            strong = c != '\'';
        } else if c == '$' {
            return true;
        } else if c == '\\' {
            escaped = true;
        } else if weak {
            weak = c != '"';
        } else if c == '\'' {
            strong = true;
        } else if c == '"' {
            weak = true;
        } else if c == ' ' || c == '\t' {
            // The value ends here; only blanks or a comment may follow.
            return false;
        }
    }
    false
}

/// The reason of a dotenvy error that carries no line content.
fn io_reason(e: &dotenvy::Error) -> String {
    match e {
        dotenvy::Error::Io(io) => io.to_string(),
        dotenvy::Error::LineParse(..) => "a line cannot be parsed".to_owned(),
        _ => "it cannot be read".to_owned(),
    }
}

/// The 1-based number of the line that starts with `bad`, without ever printing it.
fn find_line(path: &Path, bad: &str) -> Option<usize> {
    let text = Zeroizing::new(std::fs::read_to_string(path).ok()?);
    let first = bad.lines().next()?;
    text.lines().position(|l| l == first).map(|i| i + 1)
}

fn password_file_error(problem: FileProblem, file: PasswordSource, path: &Path) -> ConfigError {
    match problem {
        FileProblem::Missing => ConfigError::PasswordFileMissing { file },
        FileProblem::Unreadable(reason) => ConfigError::PasswordFileUnreadable { file, reason },
        FileProblem::TooOpen(mode) => ConfigError::PasswordFileTooOpen {
            file,
            path: path.to_owned(),
            mode,
        },
    }
}

fn key_file_error(problem: FileProblem, origin: Origin, path: PathBuf) -> ConfigError {
    match problem {
        FileProblem::Missing => ConfigError::KeyFileMissing { origin, path },
        FileProblem::Unreadable(reason) => ConfigError::KeyFileUnreadable {
            origin,
            path,
            reason,
        },
        FileProblem::TooOpen(mode) => ConfigError::KeyFileTooOpen { origin, path, mode },
    }
}

/// `default`, `from MQTT_PORT in the environment`, `from mqtt.port in /etc/heat-controller/heat.toml`, ...
fn report_from(origin: &Origin) -> String {
    match origin.layer() {
        Layer::Default => "default".to_owned(),
        Layer::Env => format!("from {} in the environment", origin.name()),
        Layer::DotEnv(path) => format!("from {} in {}", origin.name(), path.display()),
        Layer::Toml(path) => format!("from {} in {}", origin.dotted(), path.display()),
    }
}

/// `from MQTT_PASSWORD_FILE=/path`, `from MQTT_PASSWORD in the environment`, ...
fn password_from(source: &PasswordSource) -> String {
    match source {
        PasswordSource::Variable(origin) => report_from(origin),
        PasswordSource::File { named_by, path } => match named_by.layer() {
            Layer::Toml(toml) => format!(
                "from mqtt.password_file={} in {}",
                path.display(),
                toml.display()
            ),
            Layer::DotEnv(env) => format!(
                "from {}={} in {}",
                named_by.name(),
                path.display(),
                env.display()
            ),
            _ => format!("from {}={}", named_by.name(), path.display()),
        },
        PasswordSource::SystemdCredential(path) => {
            format!("from the systemd credential {}", path.display())
        }
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests;
