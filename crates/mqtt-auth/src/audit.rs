//! The audit record of one connection attempt: one logfmt-like line per attempt, on its own log
//! target so operators can route it.
//!
//! A record names the broker, the client id and the **username**; it is built from
//! [`BrokerSettings`] but never reads the password, so it cannot show it.

use std::{
    fmt,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use crate::{
    BrokerSettings, Protocol,
    codes::{Class, ReturnCode},
    failure::ConnectError,
};

/// The `log` target of audit records.
pub const AUDIT_TARGET: &str = "mqtt_auth::audit";

/// Seconds from the epoch to 9999-12-31T23:59:59Z, the last second RFC 3339 can write.
const LAST_RFC3339_SECOND: u64 = 253_402_300_799;

/// The outcome of one connection attempt, ready to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    time: SystemTime,
    broker: String,
    tls: bool,
    protocol: Protocol,
    client_id: String,
    username: String,
    class: Class,
    code: Option<ReturnCode>,
    reason: String,
    fix: Option<String>,
}

impl AuditRecord {
    /// The record of an attempt made at `time` with `settings` that ended in `result`.
    ///
    /// A success is recorded with the success code of the settings' protocol; a
    /// [`ConnectError::Rejected`] with its code and the code's reason; any other error with no
    /// code and the error's message as reason.
    pub fn new(
        settings: &BrokerSettings,
        time: SystemTime,
        result: &Result<(), ConnectError>,
    ) -> Self {
        let protocol = settings.protocol();
        let (class, code, reason, fix) = match result {
            Ok(()) => {
                let code = ReturnCode::new(protocol, 0);
                (Class::Accepted, Some(code), code.reason().to_owned(), None)
            }
            Err(err) => {
                let reason = match err {
                    ConnectError::Rejected(code) => code.reason().to_owned(),
                    other => other.to_string(),
                };
                (err.class(), err.code(), reason, Some(err.fix()))
            }
        };
        Self {
            time,
            broker: settings.broker_addr(),
            tls: settings.tls().is_some(),
            protocol,
            client_id: settings.client_id().as_str().to_owned(),
            username: settings.credentials().username().as_str().to_owned(),
            class,
            code,
            reason,
            fix,
        }
    }

    /// The same record naming `username` instead (the anonymous probe has none).
    pub fn with_username(mut self, username: &str) -> Self {
        self.username = username.to_owned();
        self
    }

    /// Logs the record on [`AUDIT_TARGET`]: `info` when accepted, `warn` otherwise.
    pub fn emit(&self) {
        let level = if self.class == Class::Accepted {
            log::Level::Info
        } else {
            log::Level::Warn
        };
        log::log!(target: AUDIT_TARGET, level, "{self}");
    }

    /// When the attempt was made.
    pub fn time(&self) -> SystemTime {
        self.time
    }
    /// The broker as `host:port`.
    pub fn broker(&self) -> &str {
        &self.broker
    }
    /// Whether TLS was used.
    pub fn tls(&self) -> bool {
        self.tls
    }
    /// Protocol version.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }
    /// Client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    /// Username (never the password).
    pub fn username(&self) -> &str {
        &self.username
    }
    /// Outcome class.
    pub fn class(&self) -> Class {
        self.class
    }
    /// CONNACK code, when the broker answered.
    pub fn code(&self) -> Option<ReturnCode> {
        self.code
    }
    /// Human reason.
    pub fn reason(&self) -> &str {
        &self.reason
    }
    /// What an operator should do, for failures. Not part of the logged line.
    pub fn fix(&self) -> Option<&str> {
        self.fix.as_deref()
    }
}

/// `time` as RFC 3339 with milliseconds, clamped to what RFC 3339 can write (humantime panics
/// before 1970 and fails after 9999).
fn rfc3339(time: SystemTime) -> impl fmt::Display {
    let since_epoch = time
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .min(Duration::new(LAST_RFC3339_SECOND, 999_999_999));
    humantime::format_rfc3339_millis(UNIX_EPOCH + since_epoch)
}

/// A logfmt value: bare when it is non-empty and has no space, quote, `=`, backslash or control
/// character; otherwise quoted (see [`write_quoted`]).
struct Value<'a>(&'a str);

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let needs_quotes = self.0.is_empty()
            || self
                .0
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '=' | '\\'));
        if needs_quotes {
            write_quoted(f, self.0)
        } else {
            f.write_str(self.0)
        }
    }
}

/// Writes `value` in double quotes with `"` and `\` escaped by a backslash and every whitespace
/// other than a space, and every control character, written as a Rust escape (`\n`, `\u{2028}`):
/// a record is always exactly one line.
fn write_quoted(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in value.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            ' ' => f.write_str(" ")?,
            c if c.is_whitespace() || c.is_control() => write!(f, "{}", c.escape_default())?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

impl fmt::Display for AuditRecord {
    /// One line: `mqtt connect time=2026-11-23T11:45:00.123Z broker=127.0.0.1:1883 tls=on
    /// protocol=5 client_id=solar-heating user=alice result=auth_rejected code=0x87
    /// reason="not authorized"`. `code=-` when the broker sent no CONNACK.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "mqtt connect time={} broker={} tls={} protocol={} client_id={} user={} result={} code=",
            rfc3339(self.time),
            Value(&self.broker),
            if self.tls { "on" } else { "off" },
            self.protocol,
            Value(&self.client_id),
            Value(&self.username),
            self.class,
        )?;
        match self.code {
            Some(code) => write!(f, "{}", code.number())?,
            None => f.write_str("-")?,
        }
        // The reason is always quoted, for a stable shape.
        f.write_str(" reason=")?;
        write_quoted(f, &self.reason)
    }
}

#[cfg(test)]
mod tests;
