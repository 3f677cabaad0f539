//! Mosquitto `$7$` password-file lines, hashed by `mosquitto-setup` so that no password ever
//! appears on a command line.

use secrecy::SecretString;

use crate::{Result, err};

/// Iterations for test brokers: low on purpose, tests start many brokers.
pub const TEST_ITERATIONS: u32 = 1_000;

/// One line `user:$7$<iterations>$<salt b64>$<hash b64>` for `password`, with a random salt.
pub fn hash_line(user: &str, password: &str, iterations: u32) -> Result<String> {
    let password = SecretString::from(password.to_owned());
    mosquitto_setup::hash_line(user, &password, iterations)
        .map_err(|e| err(format!("cannot hash the password of {user:?}: {e}")))
}
