//! Unit tests of the session's pure pieces: configuration, how a failed connection attempt is
//! logged, the answer to a retained command (the answers themselves are heat-state's). The
//! session itself is tested against a real Mosquitto in `tests/it`.

use super::*;

#[test]
fn config_clamps_degenerate_values() {
    let c = SessionConfig::new(Topics::default(), Device::default())
        .with_heartbeat(Duration::ZERO)
        .with_command_capacity(0);
    assert_eq!(c.heartbeat, Duration::from_secs(1));
    assert_eq!(c.command_capacity, 1);
    assert!(c.discovery);
    assert_eq!(c.topics().prefix(), "solar_heating");
}

/// (class, reason of the previous rejection in a row, this reason) → how it is logged.
#[test]
fn only_the_first_rejection_of_a_row_is_an_error() {
    use FailureNote::*;
    const AUTH: &str = "not authorised";
    const CERT: &str = "server certificate rejected: expired";
    let table: [(Class, Option<&str>, &str, FailureNote, log::Level); 10] = [
        (
            Class::AuthRejected,
            None,
            AUTH,
            FirstRejection,
            log::Level::Error,
        ),
        (
            Class::AuthRejected,
            Some(AUTH),
            AUTH,
            RepeatedRejection,
            log::Level::Warn,
        ),
        (
            Class::Configuration,
            None,
            CERT,
            FirstRejection,
            log::Level::Error,
        ),
        (
            Class::Configuration,
            Some(CERT),
            CERT,
            RepeatedRejection,
            log::Level::Warn,
        ),
        // A new reason has a new fix: an error again.
        (
            Class::Configuration,
            Some(AUTH),
            CERT,
            FirstRejection,
            log::Level::Error,
        ),
        (
            Class::AuthRejected,
            Some(CERT),
            AUTH,
            FirstRejection,
            log::Level::Error,
        ),
        // Network failures are warnings, and do not end a row of rejections.
        (Class::Transient, None, "refused", Failure, log::Level::Warn),
        (
            Class::Transient,
            Some(AUTH),
            "timeout",
            Failure,
            log::Level::Warn,
        ),
        (Class::Unknown, Some(AUTH), "?", Failure, log::Level::Warn),
        (Class::Accepted, None, "?", Failure, log::Level::Warn),
    ];
    for (class, last, reason, note, level) in table {
        let got = FailureNote::classify(class, last, reason);
        assert_eq!(
            (got, got.level()),
            (note, level),
            "{class} {last:?} {reason}"
        );
    }
}

#[test]
fn failure_lines_say_what_failed_when_it_is_retried_and_how_to_fix_a_rejection() {
    let wait = Duration::from_millis(33_240);
    let first = FailureNote::FirstRejection.line("b:1883", "not authorised", "set X", 1, wait);
    assert_eq!(
        first,
        "MQTT connection to b:1883 refused: not authorised; fix: set X. The plant keeps being \
         controlled without MQTT; next attempt in 33.2s"
    );
    let again = FailureNote::RepeatedRejection.line("b:1883", "not authorised", "set X", 3, wait);
    assert_eq!(
        again,
        "MQTT connection to b:1883 still refused (3 in a row): not authorised; next attempt in \
         33.2s; fix: set X"
    );
    let down = FailureNote::Failure.line("b:1883", "connection refused", "unused", 0, wait);
    assert_eq!(
        down,
        "MQTT connection to b:1883 failed: connection refused; next attempt in 33.2s"
    );
}

#[test]
fn a_retained_command_is_answered_with_how_to_clear_it() {
    let topics = Topics::default();
    let reason = RejectReason::Retained {
        topic: topics.command(CommandTopic::Mode),
    };
    assert_eq!(
        reason.to_string(),
        "retained commands are ignored; publish without the retain flag, and clear this one \
         with: mosquitto_pub -r -n -t 'solar_heating/mode/set' (plus your broker options)"
    );
}

#[test]
fn shell_quoting_survives_quotes() {
    assert_eq!(shell_quoted("a/b_c-1/set"), "'a/b_c-1/set'");
    assert_eq!(shell_quoted("it's"), r"'it'\''s'");
    assert_eq!(shell_quoted(""), "''");
}
