//! Layered, validated settings for the solar heating controller.
//!
//! Settings come in layers, each overriding the one before:
//!
//! 1. built-in defaults;
//! 2. a TOML file, named by `--config PATH` or `HEAT_CONFIG`;
//! 3. a `.env` file in the working directory (it never overrides a variable that is really set);
//! 4. the process environment.
//!
//! [`Settings::load_local`] reads only `[hardware]` and `[controller] lock_file`, for the
//! commands that touch local hardware and need no MQTT setting ([`LocalSettings`]).
//!
//! [`Settings::load`] reads them through a [`Sources`] value (never the process environment
//! directly, so tests need not touch it), validates everything and returns either settings that
//! are valid by construction or one [`ConfigError`] that says what is wrong, where the value came
//! from and how to fix it.
//!
//! | Variable | `[mqtt]` key | Default |
//! | --- | --- | --- |
//! | `MQTT_BROKER` | `broker` | `localhost` |
//! | `MQTT_PORT` | `port` | 1883, or 8883 with TLS |
//! | `MQTT_USERNAME` | `username` | none: required |
//! | `MQTT_PASSWORD` | (never in TOML) | see below |
//! | `MQTT_PASSWORD_FILE` | `password_file` | none |
//! | `MQTT_CLIENT_ID` | `client_id` | `solar-heating-controller` |
//! | `MQTT_VERSION` | `version` | `3.1.1` |
//! | `MQTT_CA_FILE` | `ca_file` | none (TLS on with verification when set) |
//! | `MQTT_TLS` | `tls` | `false` (`true`: the system trust store) |
//! | `MQTT_CERT_FILE`, `MQTT_KEY_FILE` | `cert_file`, `key_file` | none (both or neither) |
//! | `MQTT_TLS_INSECURE` | `tls_insecure` | `false` |
//! | `MQTT_TOPIC_PREFIX` | `topic_prefix` | `solar_heating` |
//! | | `keep_alive_secs` | 30 |
//! | `HEAT_CONTROL_PERIOD_SECS` | `[controller]` `period_secs` | 30 (1–3600) |
//! | `HEAT_DISCOVERY` | `[controller]` `discovery` | `true` |
//! | `STATE_DIRECTORY` (systemd's) | `[controller]` `state_dir` | none (nothing persisted) |
//!
//! [`VARIABLES`] lists every variable the loader reads: those above, `HEAT_CONFIG` and
//! `CREDENTIALS_DIRECTORY` (see below).
//!
//! The rest of `[controller]` ([`ControllerSettings`]), the control parameters `[control]`
//! (heat-core's `RawParams`, validated by `Params::try_from`) and the device mapping
//! `[hardware]` ([`HardwareSettings`]) are TOML-only; `dist/heat.toml` (installed as `/etc/heat-controller/heat.toml`) shows
//! every key, commented out at its default.
//! `[hardware]` is validated whenever it is present: unknown roles, malformed sensor ids, a
//! sensor or GPIO line used twice and a missing required role are errors.
//!
//! MQTT 3.1.1 stays the default, as in the system this replaces: every broker in the house speaks
//! it, and MQTT 5 is one variable away. Relative paths in the TOML file are relative to that
//! file's directory; elsewhere, to the working directory. An empty value is an error, never a
//! silent default.
//!
//! The MQTT password never comes from the TOML file: it is `MQTT_PASSWORD`, the file named by
//! `MQTT_PASSWORD_FILE`, or the systemd credential `$CREDENTIALS_DIRECTORY/mqtt_password`. It is
//! a [`secrecy::SecretString`] from the moment it is read and no `Debug`, `Display` or error
//! message of this crate ever shows it.

mod controller;
mod error;
mod hardware;
mod origin;
mod raw;
mod secret_file;
mod settings;
mod sources;

pub use controller::{
    ControllerSettings, DEFAULT_DEVICE_NAME, DEFAULT_DISCOVERY_PREFIX, DEFAULT_HEARTBEAT_SECS,
    DEFAULT_LOCK_FILE, DEFAULT_PERIOD_SECS, DEFAULT_PERSIST_INTERVAL_SECS,
};
pub use error::{ConfigError, Credential};
pub use hardware::{Backend, BusSettings, DEFAULT_CHIP, HardwareSettings, RelaySettings};
pub use origin::{Layer, Origin, PasswordSource};
pub use settings::{
    DEFAULT_CLIENT_ID, DEFAULT_TOPIC_PREFIX, Effective, LocalSettings, Settings, VARIABLES,
};
pub use sources::Sources;

#[cfg(test)]
mod tests;
