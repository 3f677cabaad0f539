//! Layered, validated settings for the solar heating controller.
//!
//! Settings come in layers, each overriding the one before:
//!
//! 1. built-in defaults;
//! 2. a TOML file, named by `--config PATH` or `HEAT_CONFIG`;
//! 3. a `.env` file in the working directory (it never overrides a variable that is really set);
//! 4. the process environment.
//!
//! [`Settings::load`] reads them through a [`Sources`] value (never the process environment
//! directly, so tests need not touch it), validates everything and returns either settings that
//! are valid by construction or one [`ConfigError`] that says what is wrong, where the value came
//! from and how to fix it.
//!
//! The MQTT password never comes from the TOML file: it is `MQTT_PASSWORD`, the file named by
//! `MQTT_PASSWORD_FILE`, or the systemd credential `$CREDENTIALS_DIRECTORY/mqtt_password`. It is
//! a [`secrecy::SecretString`] from the moment it is read and no `Debug`, `Display` or error
//! message of this crate ever shows it.

mod error;
mod origin;
mod raw;
mod secret_file;
mod settings;
mod sources;

pub use error::{ConfigError, Credential};
pub use origin::{Layer, Origin, PasswordSource};
pub use settings::{DEFAULT_CLIENT_ID, DEFAULT_TOPIC_PREFIX, Effective, Settings};
pub use sources::Sources;
