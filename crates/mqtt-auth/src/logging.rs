//! Keeps paho-mqtt's own debug output out of the log, whatever `RUST_LOG` says, and formats log
//! lines for the journal.
//!
//! paho-mqtt logs `Connect options: {:?}` at debug level, and that `Debug` includes the password
//! bytes; its C library traces through the `paho_mqtt_c` target and asks `log_enabled!` which
//! level to trace at. [`CappedLogger`] answers "no" for both targets above `Info`, so neither the
//! Rust nor the C side produces those records. A filter directive would not do: a longer
//! directive like `RUST_LOG=paho_mqtt::async_client=trace` would win over it.
//!
//! Under systemd with stderr going to the journal, [`stderr_is_journal`] is true and
//! [`write_journal_line`] starts every line with its syslog priority, `<3>` error, `<4>` warn,
//! `<6>` info, `<7>` debug and trace (sd-daemon(3)), so `journalctl -p warning` shows exactly the
//! warnings and errors. journald stamps the time itself, so the line carries none.

use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

use log::{Level, LevelFilter, Log, Metadata, Record, SetLoggerError};

/// The most verbose level let through for paho-mqtt's targets.
pub const PAHO_MAX_LEVEL: Level = Level::Info;

/// Environment variable that makes Paho C print its own trace, bypassing `log`.
pub const PAHO_C_TRACE_VAR: &str = "MQTT_C_CLIENT_TRACE";

/// True for a record paho-mqtt emits that may hold secrets.
pub fn is_capped(target: &str, level: Level) -> bool {
    target.starts_with("paho_mqtt") && level > PAHO_MAX_LEVEL
}

/// A logger that drops paho-mqtt's records above [`PAHO_MAX_LEVEL`] and passes the rest on.
#[derive(Debug)]
pub struct CappedLogger<L> {
    inner: L,
}

impl<L: Log> CappedLogger<L> {
    /// Wraps `inner`.
    pub fn new(inner: L) -> Self {
        Self { inner }
    }
}

impl<L: Log> Log for CappedLogger<L> {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        !is_capped(metadata.target(), metadata.level()) && self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            self.inner.log(record);
        }
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

/// Installs `inner`, capped, as the global logger with `max_level` (the level `inner` filters at,
/// e.g. `env_logger::Logger::filter()`).
pub fn install<L: Log + 'static>(inner: L, max_level: LevelFilter) -> Result<(), SetLoggerError> {
    log::set_boxed_logger(Box::new(CappedLogger::new(inner)))?;
    log::set_max_level(max_level);
    Ok(())
}

/// An error message when Paho C's own stdout trace is requested through [`PAHO_C_TRACE_VAR`],
/// which would bypass the cap; `None` when it is not set.
pub fn paho_c_trace_refusal() -> Option<String> {
    std::env::var_os(PAHO_C_TRACE_VAR).map(|_| {
        format!(
            "{PAHO_C_TRACE_VAR} is set: Paho C would print its own trace, bypassing the log filter \
             that keeps secrets out; unset it (use RUST_LOG for logs)"
        )
    })
}

/// The variable systemd sets to `<device>:<inode>` of the stream it connected to the journal
/// (systemd.exec(5)).
pub const JOURNAL_STREAM_VAR: &str = "JOURNAL_STREAM";

/// The syslog priority prefix journald reads at the start of a line: `<3>` error, `<4>` warn,
/// `<6>` info, `<7>` debug and trace.
pub fn journal_prefix(level: Level) -> &'static str {
    match level {
        Level::Error => "<3>",
        Level::Warn => "<4>",
        Level::Info => "<6>",
        Level::Debug | Level::Trace => "<7>",
    }
}

/// Whether a `JOURNAL_STREAM` value names the file with `dev` and `ino`. A value that does not
/// parse matches nothing.
pub fn journal_stream_matches(value: &str, dev: u64, ino: u64) -> bool {
    let Some((d, i)) = value.split_once(':') else {
        return false;
    };
    d.parse::<u64>().ok() == Some(dev) && i.parse::<u64>().ok() == Some(ino)
}

/// True when stderr is the stream systemd connected to the journal: `JOURNAL_STREAM` is set and
/// names stderr's device and inode, as sd-daemon(3) asks. A redirected stderr (a child's, a
/// pipe, a file) keeps the variable but not the match, so it gets plain lines.
pub fn stderr_is_journal() -> bool {
    let Some(value) = std::env::var_os(JOURNAL_STREAM_VAR) else {
        return false;
    };
    let Some(value) = value.to_str() else {
        return false;
    };
    // fstat(2) of fd 2 through a duplicate, which the `File` closes again.
    let Ok(fd) = io::stderr().as_fd().try_clone_to_owned() else {
        return false;
    };
    match std::fs::File::from(fd).metadata() {
        Ok(meta) => journal_stream_matches(value, meta.dev(), meta.ino()),
        Err(_) => false,
    }
}

/// Writes `record` as `<N>[LEVEL target] message`, every line of a multi-line message with the
/// prefix again (journald reads each line as its own entry).
pub fn write_journal_line(out: &mut dyn Write, record: &Record<'_>) -> io::Result<()> {
    let prefix = journal_prefix(record.level());
    let message = record.args().to_string();
    let mut lines = message.lines();
    let first = lines.next().unwrap_or("");
    writeln!(
        out,
        "{prefix}[{:<5} {}] {first}",
        record.level(),
        record.target()
    )?;
    for line in lines {
        writeln!(out, "{prefix}{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
