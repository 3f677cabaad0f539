//! Mosquitto `$7$` password-file lines (PBKDF2-HMAC-SHA512), written without `mosquitto_passwd`
//! so that no password ever appears on a command line.

use openssl::{hash::MessageDigest, pkcs5::pbkdf2_hmac, rand::rand_bytes};

use crate::{Result, err};

/// Iterations for test brokers: low on purpose, tests start many brokers.
pub const TEST_ITERATIONS: u32 = 1_000;

/// One line `user:$7$<iterations>$<salt b64>$<hash b64>` for `password`, with a random salt.
pub fn hash_line(user: &str, password: &str, iterations: u32) -> Result<String> {
    let mut salt = [0u8; 12];
    rand_bytes(&mut salt).map_err(|e| err(format!("no random salt: {e}")))?;
    let mut hash = [0u8; 64];
    pbkdf2_hmac(
        password.as_bytes(),
        &salt,
        iterations as usize,
        MessageDigest::sha512(),
        &mut hash,
    )
    .map_err(|e| err(format!("pbkdf2 failed: {e}")))?;
    Ok(format!(
        "{user}:$7${iterations}${}${}",
        openssl::base64::encode_block(&salt),
        openssl::base64::encode_block(&hash)
    ))
}
