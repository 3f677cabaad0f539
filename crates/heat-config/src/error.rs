//! [`ConfigError`]: every way loading the settings can fail, each with a message that says what is
//! wrong, where the value came from and how to fix it.
//!
//! No variant ever holds a password. Other bad values are shown truncated and escaped.

use std::{fmt, path::PathBuf};

use heat_core::ParamError;
use mqtt_auth::{CredentialError, settings::ClientIdError};

use crate::origin::{Origin, PasswordSource};

/// Which of the two credentials an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// `MQTT_USERNAME` / `mqtt.username`.
    Username,
    /// `MQTT_PASSWORD`, `MQTT_PASSWORD_FILE` or the systemd credential.
    Password,
}

impl Credential {
    fn fix(self) -> &'static str {
        match self {
            Credential::Username => {
                "set MQTT_USERNAME (or mqtt.username in the TOML file) to the user configured on the broker"
            }
            Credential::Password => {
                "set it in the environment, in .env, or put it in a file named by MQTT_PASSWORD_FILE"
            }
        }
    }
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Credential::Username => "MQTT username",
            Credential::Password => "MQTT password",
        })
    }
}

/// Why the settings could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The TOML file named by `--config` or `HEAT_CONFIG` does not exist.
    #[error(
        "the configuration file {} named by {named_by} does not exist: fix the path or stop setting {named_by}",
        path.display()
    )]
    ConfigFileMissing {
        /// The file.
        path: PathBuf,
        /// `--config` or `HEAT_CONFIG (from ...)`.
        named_by: String,
    },
    /// The TOML file exists but cannot be read.
    #[error(
        "the configuration file {} named by {named_by} cannot be read ({reason}): check its permissions",
        path.display()
    )]
    ConfigFileUnreadable {
        /// The file.
        path: PathBuf,
        /// `--config` or `HEAT_CONFIG (from ...)`.
        named_by: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The TOML file is not valid TOML, or a value has the wrong shape (a table where a value
    /// belongs).
    #[error("the configuration file {} is invalid: {message}", path.display())]
    ConfigFileInvalid {
        /// The file.
        path: PathBuf,
        /// What the parser said, without any quoted source line.
        message: String,
    },
    /// The TOML file has a key heat-config does not know.
    #[error(
        "unknown key {key} in {}: check the spelling (known: {known})",
        path.display()
    )]
    UnknownKey {
        /// The dotted key, e.g. `mqtt.brokr`.
        key: String,
        /// The file.
        path: PathBuf,
        /// The keys accepted at that level.
        known: String,
    },
    /// The TOML file holds `mqtt.password`: passwords must not live in a configuration file.
    #[error(
        "mqtt.password in {} is not allowed: a configuration file is no place for a password; \
         remove it and use MQTT_PASSWORD_FILE (or mqtt.password_file) or the systemd credential mqtt_password",
        path.display()
    )]
    PasswordInToml {
        /// The file.
        path: PathBuf,
    },
    /// The `.env` file exists but cannot be read.
    #[error("{} cannot be read ({reason}): check its permissions or remove it", path.display())]
    EnvFileUnreadable {
        /// The `.env` file.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// A line of the `.env` file cannot be parsed (the line itself is not shown: it may hold a
    /// password).
    #[error(
        "{} cannot be parsed{}: write each line as NAME=value (quote values with spaces, '$' or '#')",
        path.display(),
        line.map(|n| format!(" at line {n}")).unwrap_or_default()
    )]
    EnvFileInvalid {
        /// The `.env` file.
        path: PathBuf,
        /// The 1-based line, when it could be found.
        line: Option<usize>,
    },
    /// A `.env` value of a variable heat-config reads holds an unquoted `$`, which `.env`
    /// parsers substitute (`abc$def` would silently become `abc`).
    #[error(
        "{variable} in {} (line {line}) holds a '$', which a .env file substitutes with another \
         variable's value (usually nothing): put the value in single quotes, \
         {variable}='...$...', or write \\$ for a literal '$' (the value is not shown)",
        path.display()
    )]
    EnvFileDollar {
        /// The `.env` file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// The variable set on that line.
        variable: String,
    },
    /// The `.env` file holds the MQTT password and group or others can access it.
    #[error(
        "{} holds MQTT_PASSWORD and has mode {mode:03o}, so group or others can read the \
         password: run `chmod 600 {}` (or move the password to MQTT_PASSWORD_FILE)",
        path.display(),
        path.display()
    )]
    EnvFileTooOpen {
        /// The `.env` file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A variable heat-config reads is set to something that is not UTF-8.
    #[error("{variable} is not valid UTF-8: set it to a plain text value")]
    NotUnicode {
        /// The variable.
        variable: String,
    },
    /// A setting is present but empty.
    #[error("{origin} is empty: give it a value or remove it to use the default")]
    EmptyValue {
        /// Where the empty value is.
        origin: Origin,
    },
    /// No username or no password was given at all.
    #[error("the {which} is not set: {}", missing_fix(*.which))]
    MissingCredential {
        /// Username or password.
        which: Credential,
    },
    /// The username or password is the empty string.
    #[error("{location} is empty: {}", .which.fix())]
    EmptyCredential {
        /// Username or password.
        which: Credential,
        /// Where it came from (never its value).
        location: String,
    },
    /// The username or password is only whitespace.
    #[error("{location} is only whitespace: {}", .which.fix())]
    BlankCredential {
        /// Username or password.
        which: Credential,
        /// Where it came from (never its value).
        location: String,
    },
    /// The username or password is still a placeholder copied from `.env.example`.
    #[error("{location} is still the placeholder from .env.example: {}", .which.fix())]
    PlaceholderCredential {
        /// Username or password.
        which: Credential,
        /// Where it came from (never its value).
        location: String,
    },
    /// The username or password contains a NUL byte.
    #[error("{location} contains a NUL byte, which MQTT clients cannot send: {}", .which.fix())]
    NulInCredential {
        /// Username or password.
        which: Credential,
        /// Where it came from (never its value).
        location: String,
    },
    /// The username or password is longer than MQTT can carry.
    #[error(
        "{location} is longer than {} bytes, the MQTT limit: {}",
        mqtt_auth::credentials::MAX_FIELD_LEN,
        .which.fix()
    )]
    CredentialTooLong {
        /// Username or password.
        which: Credential,
        /// Where it came from (never its value).
        location: String,
    },
    /// mqtt-auth refused the username or password for a reason added after this crate was
    /// written.
    #[error("{location} {problem}: {}", .which.fix())]
    CredentialRejected {
        /// Username or password.
        which: Credential,
        /// Where it came from (never its value).
        location: String,
        /// mqtt-auth's reason (it never holds the value).
        problem: CredentialError,
    },
    /// Both `MQTT_PASSWORD` and a password file are set.
    #[error(
        "both {password} and {file} are set: keep exactly one \
         (prefer MQTT_PASSWORD_FILE, and remove MQTT_PASSWORD)"
    )]
    PasswordConflict {
        /// Where `MQTT_PASSWORD` was set.
        password: Origin,
        /// Where the password file was named.
        file: Origin,
    },
    /// The password file does not exist.
    #[error("{file} does not exist: create it (mode 600) or fix the path")]
    PasswordFileMissing {
        /// The file and who named it.
        file: PasswordSource,
    },
    /// The password file exists but cannot be read, or is not UTF-8 text.
    #[error(
        "{file} cannot be read ({reason}): make it a readable text file owned by the service user"
    )]
    PasswordFileUnreadable {
        /// The file and who named it.
        file: PasswordSource,
        /// Why.
        reason: String,
    },
    /// The password file can be read (or written) by group or others.
    #[error(
        "{file} has mode {mode:03o}, so group or others can access it: run `chmod 600 {}`",
        path.display()
    )]
    PasswordFileTooOpen {
        /// The file and who named it.
        file: PasswordSource,
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The client private key file does not exist.
    #[error("the key file {} named by {origin} does not exist: fix the path", path.display())]
    KeyFileMissing {
        /// Where the path came from.
        origin: Origin,
        /// The file.
        path: PathBuf,
    },
    /// The client private key file cannot be read.
    #[error(
        "the key file {} named by {origin} cannot be read ({reason}): make it readable by the service user",
        path.display()
    )]
    KeyFileUnreadable {
        /// Where the path came from.
        origin: Origin,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The client private key file can be read (or written) by group or others.
    #[error(
        "the key file {} named by {origin} has mode {mode:03o}, so group or others can access it: run `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    KeyFileTooOpen {
        /// Where the path came from.
        origin: Origin,
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The CA certificate file does not exist (or is not a file).
    #[error(
        "the CA file {} named by {origin} does not exist: fix the path, or use MQTT_TLS=true for the system trust store",
        path.display()
    )]
    CaFileMissing {
        /// Where the path came from.
        origin: Origin,
        /// The file.
        path: PathBuf,
    },
    /// The client certificate file does not exist (or is not a file).
    #[error("the certificate file {} named by {origin} does not exist: fix the path", path.display())]
    CertFileMissing {
        /// Where the path came from.
        origin: Origin,
        /// The file.
        path: PathBuf,
    },
    /// Only one of `MQTT_CERT_FILE` and `MQTT_KEY_FILE` is set.
    #[error(
        "{given} is set but {missing} is not: a client certificate needs both, set {missing} too or remove {given}"
    )]
    IncompleteClientCertificate {
        /// The one that is set.
        given: Origin,
        /// The variable that is missing.
        missing: &'static str,
    },
    /// A client certificate is given but TLS is off.
    #[error("{origin} is set but TLS is off: set MQTT_CA_FILE or MQTT_TLS=true")]
    ClientCertificateWithoutTls {
        /// Where the certificate was named.
        origin: Origin,
    },
    /// `MQTT_TLS_INSECURE=true` while TLS is off.
    #[error("{origin} is true but TLS is off: set MQTT_CA_FILE or MQTT_TLS=true, or remove it")]
    InsecureWithoutTls {
        /// Where the insecure flag was set.
        origin: Origin,
    },
    /// `MQTT_TLS=false` together with `MQTT_CA_FILE`.
    #[error("{tls} is false but {ca} is set: a CA file turns TLS on, so remove one of them")]
    TlsDisabledWithCaFile {
        /// Where TLS was turned off.
        tls: Origin,
        /// Where the CA file was named.
        ca: Origin,
    },
    /// A boolean that is not true/false/1/0/yes/no.
    #[error("{origin} is {value}, not a boolean: use true or false (1/0 and yes/no work too)")]
    InvalidBool {
        /// Where the value came from.
        origin: Origin,
        /// The value, truncated and escaped.
        value: String,
    },
    /// The port is not a whole number.
    #[error(
        "{origin} is {value}, not a port number: use a number from 1 to 65535 (1883 plain, 8883 TLS)"
    )]
    PortNotANumber {
        /// Where the value came from.
        origin: Origin,
        /// The value, truncated and escaped.
        value: String,
    },
    /// The port is 0 or above 65535.
    #[error("{origin} is {value}, out of range: use a port from 1 to 65535 (1883 plain, 8883 TLS)")]
    PortOutOfRange {
        /// Where the value came from.
        origin: Origin,
        /// The value, truncated and escaped.
        value: String,
    },
    /// The MQTT version is neither `3.1.1` nor `5`.
    #[error("{origin} is {value}, not a supported MQTT version: use 3.1.1 or 5")]
    InvalidVersion {
        /// Where the value came from.
        origin: Origin,
        /// The value, truncated and escaped.
        value: String,
    },
    /// The client id has characters (or a length) a broker may reject.
    #[error("{origin} {problem}")]
    InvalidClientId {
        /// Where the value came from.
        origin: Origin,
        /// mqtt-auth's reason, which says how to fix it.
        problem: ClientIdError,
    },
    /// The broker is not a bare host name or address.
    #[error(
        "{origin} is {value}, {reason}: give only a host name or IP address, e.g. localhost or 192.168.1.10"
    )]
    InvalidBroker {
        /// Where the value came from.
        origin: Origin,
        /// The value, truncated and escaped.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The keep-alive is not a whole number of seconds from 1 to 65535.
    #[error("{origin} is {value}: use a whole number of seconds from 1 to 65535 (default 30)")]
    InvalidKeepAlive {
        /// Where the value came from.
        origin: Origin,
        /// The value, truncated and escaped.
        value: String,
    },
    /// The topic prefix is empty (or only whitespace).
    #[error(
        "{origin} is empty: set a topic prefix such as solar_heating, or remove it for the default"
    )]
    TopicPrefixEmpty {
        /// Where the value came from.
        origin: Origin,
    },
    /// The topic prefix holds an MQTT wildcard (`+`, `#`) or a NUL.
    #[error(
        "{origin} is {value}, which contains {ch:?}: a topic prefix cannot hold the wildcards '+' and '#' or NUL"
    )]
    TopicPrefixBadChar {
        /// Where the value came from.
        origin: Origin,
        /// The value, truncated and escaped.
        value: String,
        /// The offending character.
        ch: char,
    },
    /// The topic prefix starts or ends with `/`.
    #[error(
        "{origin} is {value}: remove the leading or trailing '/' (e.g. solar_heating or home/solar_heating)"
    )]
    TopicPrefixSlash {
        /// Where the value came from.
        origin: Origin,
        /// The value, truncated and escaped.
        value: String,
    },
    /// The topic prefix is inside Home Assistant's discovery prefix.
    #[error(
        "{origin} is {value}, inside the Home Assistant discovery prefix {discovery_prefix}/: choose a prefix outside it, e.g. solar_heating"
    )]
    TopicPrefixInDiscovery {
        /// Where the value came from.
        origin: Origin,
        /// The value, truncated and escaped.
        value: String,
        /// The discovery prefix in force (`homeassistant` unless configured).
        discovery_prefix: String,
    },
    /// A `[control]` value is not finite, outside its range, off its step, or breaks a rule
    /// between two parameters (heat-core's validation decides).
    #[error("control.{key} in {}: {problem}: {}", path.display(), control_fix(problem))]
    InvalidControl {
        /// The `[control]` key at fault (the first field of a cross-field rule).
        key: &'static str,
        /// The TOML file.
        path: PathBuf,
        /// heat-core's reason, with the value and the allowed range.
        problem: ParamError,
    },
    /// A `[controller]` number is not a number or lies outside its range.
    #[error("{origin} is {value}: use {expected}")]
    InvalidNumber {
        /// Where the value came from.
        origin: Origin,
        /// The value, truncated and escaped.
        value: String,
        /// The accepted values and the default, e.g. `a whole number of seconds from 1 to 3600 (default 30)`.
        expected: &'static str,
    },
    /// The discovery prefix is not a single MQTT topic level.
    #[error(
        "{origin} is {value}, {reason}: use one topic level of letters, digits, '_' or '-', e.g. homeassistant"
    )]
    InvalidDiscoveryPrefix {
        /// Where the value came from.
        origin: Origin,
        /// The value, truncated and escaped.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The device name shown in Home Assistant is unusable.
    #[error("{origin} is {value}, {reason}: use a short name such as \"Solar heating\"")]
    InvalidDeviceName {
        /// Where the value came from.
        origin: Origin,
        /// The value, truncated and escaped.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The running daemon needs a `[hardware]` table and the file has none.
    #[error(
        "no [hardware] table in {}: fill in the commented [hardware] tables at the end of /etc/heat-controller/heat.toml (shipped as dist/heat.toml) with the ids `heat-diag sensors --watch` shows and your relay lines, or run with --simulate",
        path.as_ref().map_or_else(|| "the settings (no TOML file was given: use --config or HEAT_CONFIG)".to_owned(), |p| p.display().to_string())
    )]
    HardwareNotConfigured {
        /// The TOML file, if one was read.
        path: Option<PathBuf>,
    },
    /// `hardware.backend` is not one of the backends.
    #[error(
        "hardware.backend in {} is {value}: use \"w1\" (kernel 1-Wire driver, the Raspberry Pi default), \"gpio\" (bit-banged 1-Wire) or \"sim\" (simulated plant)",
        path.display()
    )]
    UnknownBackend {
        /// The value, truncated and escaped.
        value: String,
        /// The TOML file.
        path: PathBuf,
    },
    /// A key of `[hardware.sensors]` is not a sensor role.
    #[error(
        "hardware.sensors.{role} in {} is not a sensor role: use collector, tank_bottom, tank_top or ambient",
        path.display()
    )]
    UnknownSensorRole {
        /// The misspelt role, escaped.
        role: String,
        /// The TOML file.
        path: PathBuf,
    },
    /// A `[hardware.relays.<name>]` table names no relay.
    #[error("[hardware.relays.{role}] in {} is not a relay: use pump or heater", path.display())]
    UnknownRelayRole {
        /// The misspelt relay name, escaped.
        role: String,
        /// The TOML file.
        path: PathBuf,
    },
    /// A sensor id is not a DS18B20 kernel name.
    #[error(
        "hardware.sensors.{role} in {} is {value}, not a DS18B20 id: write 28- and 12 hex digits, e.g. 28-0316a2790aff (see ls /sys/bus/w1/devices)",
        path.display()
    )]
    InvalidSensorId {
        /// The role whose id is wrong.
        role: &'static str,
        /// The value, truncated and escaped.
        value: String,
        /// The TOML file.
        path: PathBuf,
    },
    /// Two roles name the same sensor.
    #[error(
        "hardware.sensors.{first} and hardware.sensors.{second} in {} both name {id}: a sensor sits in one place, fix one of the ids",
        path.display()
    )]
    DuplicateSensorId {
        /// The shared id.
        id: String,
        /// The first role naming it.
        first: &'static str,
        /// The second role naming it.
        second: &'static str,
        /// The TOML file.
        path: PathBuf,
    },
    /// A required sensor role has no id.
    #[error(
        "hardware.sensors.{role} is missing in {}: the {backend} backend needs collector, tank_bottom and tank_top (ambient is optional)",
        path.display()
    )]
    MissingSensor {
        /// The missing role.
        role: &'static str,
        /// The configured backend.
        backend: &'static str,
        /// The TOML file.
        path: PathBuf,
    },
    /// A relay is not configured.
    #[error(
        "[hardware.relays.{role}] is missing in {}: the {backend} backend drives both the pump and the heater, give each a line (and chip if not gpiochip0)",
        path.display()
    )]
    MissingRelay {
        /// The missing relay.
        role: &'static str,
        /// The configured backend.
        backend: &'static str,
        /// The TOML file.
        path: PathBuf,
    },
    /// A relay table has no `line`.
    #[error(
        "hardware.relays.{role}.line is missing in {}: give the line offset on the chip (the BCM GPIO number on a Raspberry Pi)",
        path.display()
    )]
    MissingRelayLine {
        /// The relay.
        role: &'static str,
        /// The TOML file.
        path: PathBuf,
    },
    /// The gpio backend has no `gpio_line` for the bit-banged bus.
    #[error(
        "hardware.gpio_line is missing in {}: the gpio backend bit-bangs the 1-Wire bus on one line; set it (the BCM GPIO number) or use backend = \"w1\"",
        path.display()
    )]
    MissingBusLine {
        /// The TOML file.
        path: PathBuf,
    },
    /// Two outputs (relays or the 1-Wire bus) are wired to the same GPIO line.
    #[error(
        "{first} and {second} in {} both use line {line} of {chip}: give each relay and the 1-Wire bus its own line",
        path.display()
    )]
    LineUsedTwice {
        /// The chip device, e.g. `/dev/gpiochip0`.
        chip: String,
        /// The line offset.
        line: u32,
        /// The first user, e.g. `hardware.relays.pump`.
        first: String,
        /// The second user.
        second: String,
        /// The TOML file.
        path: PathBuf,
    },
    /// A GPIO chip is neither `gpiochipN` nor a path.
    #[error(
        "{key} in {} is {value}, {reason}: use a chip name such as gpiochip0 or a path such as /dev/gpiochip0",
        path.display()
    )]
    InvalidChip {
        /// The dotted key, e.g. `hardware.relays.pump.chip`.
        key: String,
        /// The value, truncated and escaped.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
        /// The TOML file.
        path: PathBuf,
    },
    /// The bit-banged bus resolution is not 9–12 bits.
    #[error(
        "hardware.resolution in {} is {value}: use 9, 10, 11 or 12 bits (default 12; fewer bits convert faster)",
        path.display()
    )]
    InvalidResolution {
        /// The value.
        value: u8,
        /// The TOML file.
        path: PathBuf,
    },
    /// `hardware.w1_root` is empty.
    #[error(
        "hardware.w1_root in {} is empty: remove it for /sys/bus/w1/devices or give the directory holding the 28-* devices",
        path.display()
    )]
    EmptyW1Root {
        /// The TOML file.
        path: PathBuf,
    },
}

/// How to fix a rejected `[control]` value.
fn control_fix(problem: &ParamError) -> String {
    match problem {
        ParamError::NotFinite { .. } => "write a plain number".to_owned(),
        ParamError::OutOfRange { min, max, .. } => {
            format!("use a value from {min} to {max}, or remove the key for the default")
        }
        ParamError::OffStep { min, step, .. } => {
            format!("use {min} plus a whole multiple of {step}")
        }
        ParamError::CrossField { rule, .. } => {
            let (left, right, _) = rule.fields();
            format!("change control.{left} or control.{right}")
        }
        _ => "see docs/control.md for the allowed values".to_owned(),
    }
}

fn missing_fix(which: Credential) -> &'static str {
    match which {
        Credential::Username => {
            "set MQTT_USERNAME in the environment or .env (or mqtt.username in the TOML file)"
        }
        Credential::Password => {
            "set MQTT_PASSWORD in the environment or .env, name a file with MQTT_PASSWORD_FILE, \
             or pass the systemd credential mqtt_password (LoadCredential=)"
        }
    }
}

/// Maps mqtt-auth's reason to this crate's variant for it.
pub(crate) fn credential_error(
    which: Credential,
    location: String,
    problem: CredentialError,
) -> ConfigError {
    match problem {
        CredentialError::Missing => ConfigError::MissingCredential { which },
        CredentialError::Empty => ConfigError::EmptyCredential { which, location },
        CredentialError::Blank => ConfigError::BlankCredential { which, location },
        CredentialError::Placeholder => ConfigError::PlaceholderCredential { which, location },
        CredentialError::Nul => ConfigError::NulInCredential { which, location },
        CredentialError::TooLong => ConfigError::CredentialTooLong { which, location },
        problem => ConfigError::CredentialRejected {
            which,
            location,
            problem,
        },
    }
}
