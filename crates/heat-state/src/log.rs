//! The log line the controller's events travel in, and reading a log as types.
//!
//! The controller logs through env_logger, `[<time> <LEVEL> <target>] <message>`, or under
//! systemd `<N>[<LEVEL> <target>] <message>` (mqtt-auth's `logging`: the syslog priority first,
//! no time). Events are one JSON object per line on their own target ([`EVENT_TARGET`] for
//! heat-loop's `LoopEvent`, [`LINK_TARGET`] for [`crate::LinkEvent`]), so a tool reads a log with
//! [`records`] and counts typed values, never sentences meant for people.

use std::str::FromStr;

use serde::{Serialize, de::DeserializeOwned};

/// The log target of plant events (heat-loop's `LoopEvent`): one JSON object per line.
pub const EVENT_TARGET: &str = "heat::event";

/// The log target of the MQTT link's events ([`crate::LinkEvent`]): one JSON object per line.
pub const LINK_TARGET: &str = "heat::link";

/// The log target of the control loop's timing reports ([`crate::TimingJson`]).
pub const TIMING_TARGET: &str = "heat::timing";

/// One parsed log line: its level, target and message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLine<'a> {
    /// The record's level.
    pub level: log::Level,
    /// The record's target, e.g. `heat::event`.
    pub target: &'a str,
    /// Everything after the header.
    pub message: &'a str,
}

impl<'a> LogLine<'a> {
    /// The line's parts, or `None` for a line that is not a log record's first line (a
    /// continuation, another program's output).
    pub fn parse(line: &'a str) -> Option<Self> {
        let line = line.trim_end_matches(['\n', '\r']);
        // The journal's `<N>` priority, when present.
        let line = match line.strip_prefix('<') {
            Some(rest) => rest.split_once('>')?.1,
            None => line,
        };
        let (header, message) = line.strip_prefix('[')?.split_once("] ")?;
        let mut words = header.split_whitespace().rev();
        let target = words.next()?;
        let level = log::Level::from_str(words.next()?).ok()?;
        // At most a time before the level.
        if words.count() > 1 {
            return None;
        }
        Some(Self {
            level,
            target,
            message,
        })
    }

    /// Whether it is a warning or an error.
    pub fn is_warning(&self) -> bool {
        self.level <= log::Level::Warn
    }
}

/// Logs `record` as one JSON object on `target` at `level`: how the controller writes what
/// [`records`] reads. A record that cannot be serialised is an error line naming `what`, never
/// a line that a tool would misread.
pub fn emit<T: Serialize>(target: &str, level: log::Level, what: &str, record: &T) {
    match serde_json::to_string(record) {
        Ok(json) => log::log!(target: target, level, "{json}"),
        Err(e) => log::error!("{what} not serialised: {e}"),
    }
}

/// Every record on `target` in `log` whose message parses as a `T`. A line on `target` that
/// does not parse is skipped; [`records_strict`] says which.
pub fn records<'a, T: DeserializeOwned + 'a>(
    log: &'a str,
    target: &'a str,
) -> impl Iterator<Item = T> + 'a {
    records_strict(log, target).filter_map(Result::ok)
}

/// Every record on `target` in `log`, parsed as a `T`: an error names the line that is no `T`
/// (a tool behind the controller's types fails instead of counting nothing).
pub fn records_strict<'a, T: DeserializeOwned + 'a>(
    log: &'a str,
    target: &'a str,
) -> impl Iterator<Item = Result<T, String>> + 'a {
    log.lines()
        .filter_map(LogLine::parse)
        .filter(move |l| l.target == target)
        .map(|l| {
            serde_json::from_str(l.message).map_err(|e| {
                format!(
                    "a {} record is not the expected type ({e}): {}",
                    l.target, l.message
                )
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LinkEvent;

    #[test]
    fn both_formats_parse() {
        let plain = LogLine::parse(
            r#"[2026-01-02T03:04:05.678Z WARN  heat::event] {"kind":"hold_started"}"#,
        )
        .unwrap();
        assert_eq!(plain.level, log::Level::Warn);
        assert_eq!(plain.target, "heat::event");
        assert_eq!(plain.message, r#"{"kind":"hold_started"}"#);
        assert!(plain.is_warning());
        let journal = LogLine::parse("<6>[INFO  heat::link] x] y").unwrap();
        assert_eq!(journal.level, log::Level::Info);
        assert_eq!(journal.target, "heat::link");
        assert_eq!(journal.message, "x] y");
        assert!(!journal.is_warning());
    }

    #[test]
    fn other_lines_are_no_records() {
        for line in [
            "",
            "plain text",
            "[no close",
            "[2026 NOTALEVEL target] m",
            "[a b WARN target] m",
            "<4 [WARN t] m",
            "  continuation of a message",
        ] {
            assert_eq!(LogLine::parse(line), None, "{line:?}");
        }
    }

    #[test]
    fn records_read_one_target_as_types() {
        let log = "[t INFO  heat::link] {\"kind\":\"lost\",\"reason\":\"eof\"}\n\
                   [t INFO  heat::event] {\"kind\":\"lost\",\"reason\":\"other target\"}\n\
                   [t WARN  heat::link] not json\n\
                   [t INFO  heat_mqtt::session] {\"kind\":\"lost\",\"reason\":\"sentence\"}\n";
        let events: Vec<LinkEvent> = records(log, LINK_TARGET).collect();
        assert_eq!(
            events,
            [LinkEvent::Lost {
                reason: "eof".into()
            }]
        );
        let strict: Vec<Result<LinkEvent, String>> = records_strict(log, LINK_TARGET).collect();
        assert_eq!(strict.len(), 2);
        let error = strict[1].as_ref().unwrap_err();
        assert!(error.contains("not json"), "{error}");
    }
}
