//! Keeps paho-mqtt's own debug output out of the log, whatever `RUST_LOG` says.
//!
//! paho-mqtt logs `Connect options: {:?}` at debug level, and that `Debug` includes the password
//! bytes; its C library traces through the `paho_mqtt_c` target and asks `log_enabled!` which
//! level to trace at. [`CappedLogger`] answers "no" for both targets above `Info`, so neither the
//! Rust nor the C side produces those records. A filter directive would not do: a longer
//! directive like `RUST_LOG=paho_mqtt::async_client=trace` would win over it.

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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);

    impl Log for Recorder {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn log(&self, record: &Record<'_>) {
            self.0
                .lock()
                .unwrap()
                .push(format!("{} {}", record.target(), record.args()));
        }
        fn flush(&self) {}
    }

    #[test]
    fn paho_debug_and_trace_are_dropped_other_targets_pass() {
        let logger = CappedLogger::new(Recorder::default());
        let cases = [
            ("paho_mqtt::async_client", Level::Debug, false),
            ("paho_mqtt::async_client", Level::Trace, false),
            ("paho_mqtt_c", Level::Trace, false),
            ("paho_mqtt_c", Level::Debug, false),
            ("paho_mqtt", Level::Info, true),
            ("paho_mqtt_c", Level::Error, true),
            ("mqtt_auth::audit", Level::Trace, true),
            ("heat_controller", Level::Debug, true),
        ];
        for (target, level, passes) in cases {
            let meta = Metadata::builder().target(target).level(level).build();
            assert_eq!(logger.enabled(&meta), passes, "{target} at {level}");
            logger.log(
                &Record::builder()
                    .metadata(meta)
                    .args(format_args!("x"))
                    .build(),
            );
        }
        let seen = logger.inner.0.lock().unwrap().len();
        assert_eq!(seen, cases.iter().filter(|c| c.2).count());
    }
}
