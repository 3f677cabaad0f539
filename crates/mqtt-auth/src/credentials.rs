//! Username and password validation, shared by every service that loads MQTT credentials.
//!
//! The checks are deliberately strict: a credential that is empty, blank, a placeholder copied from
//! an example file, or that holds a NUL byte (which paho-mqtt turns into a panic) is refused before
//! any connection is attempted.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// Shortest password that starts without a warning.
pub const MIN_RECOMMENDED_PASSWORD_LEN: usize = 16;

/// Longest username or password MQTT can carry (a two-byte length prefix).
pub const MAX_FIELD_LEN: usize = 65_535;

/// Values that example files ship and that must never reach a broker.
///
/// Compared case-insensitively after trimming; anything written as `<...>` counts too.
pub const PLACEHOLDERS: &[&str] = &[
    "change-me",
    "change_me",
    "changeme",
    "change-me-please",
    "password",
    "passwd",
    "secret",
    "your-password",
    "your_password",
    "yourpassword",
    "your-username",
    "your_username",
    "username",
    "user",
    "example",
    "placeholder",
    "xxx",
    "xxxx",
    "todo",
];

/// Why a username or password was refused. The value itself is never part of the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// Nothing was given at all.
    #[error("is missing")]
    Missing,
    /// Given, but the empty string.
    #[error("is empty")]
    Empty,
    /// Given, but only spaces, tabs or newlines.
    #[error("is only whitespace")]
    Blank,
    /// Still the placeholder from an example file.
    #[error("is still a placeholder from an example file; set the real value")]
    Placeholder,
    /// Contains a NUL byte, which MQTT client libraries cannot carry.
    #[error("contains a NUL byte")]
    Nul,
    /// Longer than MQTT's 65 535-byte limit.
    #[error("is longer than {MAX_FIELD_LEN} bytes")]
    TooLong,
}

fn check_field(value: &str) -> Result<(), CredentialError> {
    if value.is_empty() {
        return Err(CredentialError::Empty);
    }
    if value.trim().is_empty() {
        return Err(CredentialError::Blank);
    }
    if value.contains('\0') {
        return Err(CredentialError::Nul);
    }
    if value.len() > MAX_FIELD_LEN {
        return Err(CredentialError::TooLong);
    }
    if is_placeholder(value) {
        return Err(CredentialError::Placeholder);
    }
    Ok(())
}

/// True when `value` is one of [`PLACEHOLDERS`] or is written as `<something>`.
pub fn is_placeholder(value: &str) -> bool {
    let value = value.trim();
    let bracketed = value.len() >= 2 && value.starts_with('<') && value.ends_with('>');
    bracketed || PLACEHOLDERS.iter().any(|p| p.eq_ignore_ascii_case(value))
}

/// A validated MQTT username: not empty, not blank, no NUL, not a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Validates `value` as a username.
    pub fn new(value: impl Into<String>) -> Result<Self, CredentialError> {
        let value = value.into();
        check_field(&value)?;
        Ok(Self(value))
    }

    /// The username as sent to the broker.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Usernames are not secret: the audit log names them on purpose.
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Validates a password without ever copying it out of its [`SecretString`].
pub fn validate_password(password: &SecretString) -> Result<(), CredentialError> {
    check_field(password.expose_secret())
}

/// A warning to log at startup when a valid password is weak, or `None`.
pub fn password_warning(password: &SecretString) -> Option<String> {
    let len = password.expose_secret().chars().count();
    (len < MIN_RECOMMENDED_PASSWORD_LEN).then(|| {
        format!(
            "the MQTT password has {len} characters; use at least {MIN_RECOMMENDED_PASSWORD_LEN} \
             (for example `openssl rand -base64 24`)"
        )
    })
}

/// A username with its password. `Debug` shows the username and redacts the password.
#[derive(Clone)]
pub struct Credentials {
    username: Username,
    password: SecretString,
}

impl Credentials {
    /// Pairs a validated username with a password, validating the password.
    pub fn new(username: Username, password: SecretString) -> Result<Self, CredentialError> {
        validate_password(&password)?;
        Ok(Self { username, password })
    }

    /// The username.
    pub fn username(&self) -> &Username {
        &self.username
    }

    /// The password, still wrapped: expose it only where it is handed to the client library.
    pub fn password(&self) -> &SecretString {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .finish()
    }
}

#[cfg(test)]
mod tests;
