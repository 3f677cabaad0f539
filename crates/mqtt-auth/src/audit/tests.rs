//! Tests for the audit line: format, escaping, time clamping, log routing, and no password.

use std::sync::{Mutex, OnceLock};

use secrecy::SecretString;

use super::*;
use crate::{ClientId, Credentials, TlsSettings, TrustAnchor, Username};

const MARKER: &str = "PASSWORD-MARKER-7f3a9c-never-print";

fn settings(user: &str, protocol: Protocol) -> BrokerSettings {
    let creds = Credentials::new(
        Username::new(user).expect("valid username"),
        SecretString::from(MARKER.to_owned()),
    )
    .expect("valid password");
    BrokerSettings::new(
        "127.0.0.1",
        1883,
        protocol,
        ClientId::new("solar-heating").expect("valid client id"),
        creds,
    )
}

/// 2026-11-23T11:45:00.123Z
fn when() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(1_795_434_300_123)
}

#[test]
fn auth_rejection_line() {
    let s = settings("alice", Protocol::V5)
        .with_tls(Some(TlsSettings::verified(TrustAnchor::SystemStore)));
    let r = AuditRecord::new(
        &s,
        when(),
        &Err(ConnectError::Rejected(ReturnCode::v5(0x87))),
    );
    assert_eq!(
        r.to_string(),
        "mqtt connect time=2026-11-23T11:45:00.123Z broker=127.0.0.1:1883 tls=on protocol=5 \
         client_id=solar-heating user=alice result=auth_rejected code=0x87 reason=\"not authorized\""
    );
    assert_eq!(r.class(), Class::AuthRejected);
    assert_eq!(r.code(), Some(ReturnCode::v5(0x87)));
    assert_eq!(r.username(), "alice");
    assert_eq!(r.client_id(), "solar-heating");
    assert_eq!(r.broker(), "127.0.0.1:1883");
    assert!(r.tls());
    assert_eq!(r.protocol(), Protocol::V5);
    assert_eq!(r.time(), when());
    assert!(r.fix().is_some_and(|f| f.contains("MQTT_PASSWORD")));
}

#[test]
fn success_and_v311_lines() {
    let s = settings("alice", Protocol::V311);
    let r = AuditRecord::new(&s, when(), &Ok(()));
    assert_eq!(
        r.to_string(),
        "mqtt connect time=2026-11-23T11:45:00.123Z broker=127.0.0.1:1883 tls=off protocol=3.1.1 \
         client_id=solar-heating user=alice result=accepted code=0 reason=\"connection accepted\""
    );
    assert_eq!(r.fix(), None);
    let r = AuditRecord::new(
        &s,
        when(),
        &Err(ConnectError::Rejected(ReturnCode::v311(5))),
    );
    assert!(
        r.to_string()
            .ends_with("result=auth_rejected code=5 reason=\"not authorized\""),
        "{r}"
    );
}

#[test]
fn failures_without_connack_have_no_code() {
    let s = settings("alice", Protocol::V5);
    let r = AuditRecord::new(&s, when(), &Err(ConnectError::Timeout));
    assert!(
        r.to_string().ends_with(
            "result=transient code=- reason=\"no answer from the broker within the connect timeout\""
        ),
        "{r}"
    );
    let r = AuditRecord::new(
        &s,
        when(),
        &Err(ConnectError::Certificate {
            detail: "certificate verify failed".to_owned(),
        }),
    );
    assert_eq!(r.class(), Class::Configuration);
    assert_eq!(r.code(), None);
    assert!(
        r.to_string()
            .contains("result=configuration code=- reason=\"TLS")
    );
}

#[test]
fn values_are_quoted_and_escaped_onto_one_line() {
    let s = settings("bob result=accepted \"x\"\n\\ \u{2028}", Protocol::V5);
    let r = AuditRecord::new(
        &s,
        when(),
        &Err(ConnectError::Network {
            detail: "line1\nline2\t\"q\"".to_owned(),
        }),
    );
    let line = r.to_string();
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(
        line.contains(r#"user="bob result=accepted \"x\"\n\\ \u{2028}" result=transient"#),
        "{line}"
    );
    assert!(
        line.ends_with(r#"reason="network error: line1\nline2\t\"q\"""#),
        "{line}"
    );
    assert_eq!(line.matches("result=").count(), 2);
}

#[test]
fn plain_values_stay_bare() {
    assert_eq!(Value("alice").to_string(), "alice");
    assert_eq!(Value("[::1]:1883").to_string(), "[::1]:1883");
    assert_eq!(Value("").to_string(), "\"\"");
    assert_eq!(Value("a=b").to_string(), "\"a=b\"");
    assert_eq!(Value("é").to_string(), "é");
}

#[test]
fn times_outside_rfc3339_are_clamped_not_panicking() {
    let s = settings("alice", Protocol::V5);
    let before_epoch = UNIX_EPOCH - Duration::from_secs(10);
    let r = AuditRecord::new(&s, before_epoch, &Ok(()));
    assert!(
        r.to_string().contains("time=1970-01-01T00:00:00.000Z"),
        "{r}"
    );
    if let Some(far) = UNIX_EPOCH.checked_add(Duration::from_secs(LAST_RFC3339_SECOND * 4)) {
        let r = AuditRecord::new(&s, far, &Ok(()));
        assert!(
            r.to_string().contains("time=9999-12-31T23:59:59.999Z"),
            "{r}"
        );
    }
}

#[test]
fn never_contains_the_password() {
    let s = settings("alice", Protocol::V5);
    let results = [
        Ok(()),
        Err(ConnectError::Rejected(ReturnCode::v5(0x86))),
        Err(ConnectError::Timeout),
        Err(ConnectError::Other {
            detail: "x".to_owned(),
        }),
    ];
    for result in &results {
        let r = AuditRecord::new(&s, when(), result);
        assert!(!r.to_string().contains(MARKER));
        assert!(!format!("{r:?}").contains(MARKER));
        assert!(!format!("{r:#?}").contains(MARKER));
        assert!(!r.fix().unwrap_or_default().contains(MARKER));
    }
}

type Captured = Mutex<Vec<(String, log::Level, String)>>;

struct Capture(Captured);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        if let Ok(mut v) = self.0.lock() {
            v.push((
                record.target().to_owned(),
                record.level(),
                record.args().to_string(),
            ));
        }
    }
    fn flush(&self) {}
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        // Only this test module installs a logger in the unit-test binary.
        let _ = log::set_logger(capture);
        log::set_max_level(log::LevelFilter::Trace);
        capture
    })
}

#[test]
fn emit_logs_on_the_audit_target_with_the_right_level() {
    let capture = capture();
    let ok = AuditRecord::new(&settings("emit-ok", Protocol::V5), when(), &Ok(()));
    let bad = AuditRecord::new(
        &settings("emit-bad", Protocol::V5),
        when(),
        &Err(ConnectError::Rejected(ReturnCode::v5(0x87))),
    );
    ok.emit();
    bad.emit();
    let logged = capture.0.lock().map(|v| v.clone()).unwrap_or_default();
    let find = |user: &str| {
        logged
            .iter()
            .find(|(_, _, msg)| msg.contains(&format!("user={user} ")))
            .cloned()
    };
    assert_eq!(
        find("emit-ok"),
        Some((AUDIT_TARGET.to_owned(), log::Level::Info, ok.to_string()))
    );
    assert_eq!(
        find("emit-bad"),
        Some((AUDIT_TARGET.to_owned(), log::Level::Warn, bad.to_string()))
    );
}
