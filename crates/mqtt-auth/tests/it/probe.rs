//! The security probe against brokers that do and do not allow anonymous clients.

use mqtt_auth::probe::{ProbeOutcome, Verdict, probe};
use test_mosquitto::BrokerBuilder;

use crate::{logged_lines_with, password, settings};

#[test]
fn broker_refusing_anonymous_is_secure() {
    let pw = password("probe-secure");
    let broker = BrokerBuilder::new().user("erin", &pw).start().unwrap();
    for protocol in crate::PROTOCOLS {
        let report = probe(&settings(broker.port(), protocol, "erin", &pw));
        assert!(
            report.anonymous.is_refused(),
            "{protocol}: {}",
            report.anonymous
        );
        assert!(
            report.wrong_password.is_refused(),
            "{protocol}: {}",
            report.wrong_password
        );
        assert_eq!(report.verdict(), Verdict::Secure);
    }
}

#[test]
fn broker_allowing_anonymous_is_insecure() {
    let pw = password("probe-open");
    let broker = BrokerBuilder::new()
        .user("erin", &pw)
        .allow_anonymous(true)
        .start()
        .unwrap();
    let report = probe(&settings(
        broker.port(),
        mqtt_auth::Protocol::V5,
        "erin",
        &pw,
    ));
    assert!(
        matches!(report.anonymous, ProbeOutcome::Accepted),
        "{}",
        report.anonymous
    );
    // A known user with a wrong password is still refused when a password file exists.
    assert!(
        report.wrong_password.is_refused(),
        "{}",
        report.wrong_password
    );
    assert_eq!(report.verdict(), Verdict::Insecure);
}

#[test]
fn probe_uses_throwaway_client_ids_and_audits_each_attempt() {
    let pw = password("probe-ids");
    let broker = BrokerBuilder::new().user("frank", &pw).start().unwrap();
    let s = settings(broker.port(), mqtt_auth::Protocol::V311, "frank", &pw);
    probe(&s);
    let real_id = s.client_id().as_str();
    let anon = logged_lines_with(&format!("client_id={real_id}-diag-anon-"));
    let badpw = logged_lines_with(&format!("client_id={real_id}-diag-badpw-"));
    assert_eq!(anon.len(), 1, "{anon:?}");
    assert!(
        anon[0].contains("user=(anonymous)") && anon[0].contains("auth_rejected"),
        "{anon:?}"
    );
    assert_eq!(badpw.len(), 1, "{badpw:?}");
    assert!(
        badpw[0].contains("user=frank") && badpw[0].contains("auth_rejected"),
        "{badpw:?}"
    );
    assert!(
        logged_lines_with(&format!("client_id={real_id} ")).is_empty(),
        "the real id was used"
    );
    assert_eq!(broker.connection_attempts(), 2);
}
