//! The paho cap, and the journald priority prefixes.

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

#[test]
fn levels_map_to_journald_priorities() {
    let table = [
        (Level::Error, "<3>"),
        (Level::Warn, "<4>"),
        (Level::Info, "<6>"),
        (Level::Debug, "<7>"),
        (Level::Trace, "<7>"),
    ];
    for (level, prefix) in table {
        assert_eq!(journal_prefix(level), prefix, "{level}");
    }
}

#[test]
fn journal_stream_matches_only_its_own_device_and_inode() {
    // (value, dev, ino, matches)
    let table = [
        ("64769:1234", 64769, 1234, true),
        ("64769:1234\n", 64769, 1234, false),
        ("64769:1234", 64769, 1235, false),
        ("64768:1234", 64769, 1234, false),
        ("64769", 64769, 1234, false),
        ("", 0, 0, false),
        (":", 0, 0, false),
        ("a:b", 0, 0, false),
        ("1:2:3", 1, 2, false),
        ("-1:2", 1, 2, false),
    ];
    for (value, dev, ino, matches) in table {
        assert_eq!(
            journal_stream_matches(value, dev, ino),
            matches,
            "{value:?} vs {dev}:{ino}"
        );
    }
}

#[test]
fn every_line_of_a_record_carries_its_priority() {
    let mut out = Vec::new();
    let cases = [
        (Level::Error, "relay write failed"),
        (Level::Warn, "first\nsecond"),
        (Level::Info, "relays safe"),
        (Level::Trace, "tick 1"),
    ];
    for (level, message) in cases {
        write_journal_line(
            &mut out,
            &Record::builder()
                .level(level)
                .target("heat_controller::control")
                .args(format_args!("{message}"))
                .build(),
        )
        .unwrap();
    }
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "<3>[ERROR heat_controller::control] relay write failed\n\
         <4>[WARN  heat_controller::control] first\n\
         <4>second\n\
         <6>[INFO  heat_controller::control] relays safe\n\
         <7>[TRACE heat_controller::control] tick 1\n"
    );
}
