//! The security probe against brokers that do and do not allow anonymous clients.

use mqtt_auth::probe::{ProbeOutcome, Verdict, probe};
use test_mosquitto::BrokerBuilder;

use crate::{password, settings};

#[test]
fn broker_refusing_anonymous_is_secure() {
    let pw = password("probe-secure");
    let broker = BrokerBuilder::new().user("erin", &pw).start().unwrap();
    for protocol in crate::PROTOCOLS {
        let report = probe(&settings(broker.port(), protocol, "erin", &pw));
        assert!(report.anonymous.is_refused(), "{protocol}: {}", report.anonymous);
        assert!(report.wrong_password.is_refused(), "{protocol}: {}", report.wrong_password);
        assert_eq!(report.verdict(), Verdict::Secure);
    }
}

#[test]
fn broker_allowing_anonymous_is_insecure() {
    let pw = password("probe-open");
    let broker = BrokerBuilder::new().user("erin", &pw).allow_anonymous(true).start().unwrap();
    let report = probe(&settings(broker.port(), mqtt_auth::Protocol::V5, "erin", &pw));
    assert!(matches!(report.anonymous, ProbeOutcome::Accepted), "{}", report.anonymous);
    // A known user with a wrong password is still refused when a password file exists.
    assert!(report.wrong_password.is_refused(), "{}", report.wrong_password);
    assert_eq!(report.verdict(), Verdict::Insecure);
}

#[test]
fn probe_uses_throwaway_client_ids() {
    let pw = password("probe-ids");
    let broker = BrokerBuilder::new().user("erin", &pw).start().unwrap();
    let s = settings(broker.port(), mqtt_auth::Protocol::V311, "erin", &pw);
    probe(&s);
    let log = broker.log();
    let real_id = s.client_id().as_str();
    assert!(log.contains(&format!("{real_id}-anon-")), "{log}");
    assert!(log.contains(&format!("{real_id}-badpw-")), "{log}");
    assert!(!log.contains(&format!("as {real_id} ")), "the real id was used: {log}");
}
