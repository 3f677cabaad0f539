//! Unit tests of the pure parts of the audit: loopback, expiry and protocol verdicts.

use super::*;

#[test]
fn loopback_hosts() {
    for host in [
        "127.0.0.1",
        "127.1.2.3",
        "::1",
        "[::1]",
        "localhost",
        "LOCALHOST",
    ] {
        assert!(is_loopback_host(host), "{host}");
    }
    for host in [
        "192.168.1.10",
        "10.0.0.1",
        "broker.lan",
        "::2",
        "localhost.evil.example",
    ] {
        assert!(!is_loopback_host(host), "{host}");
    }
}

#[test]
fn plain_tcp_warns_off_loopback_only() {
    assert_eq!(transport_check("127.0.0.1", None).status, Status::Pass);
    let off = transport_check("192.168.1.10", None);
    assert_eq!(off.status, Status::Warn);
    assert!(off.fix.contains("MQTT_CA_FILE"), "{}", off.fix);
    let tls = TlsSettings::verified(mqtt_auth::TrustAnchor::SystemStore);
    assert_eq!(
        transport_check("192.168.1.10", Some(&tls)).status,
        Status::Pass
    );
    let mut insecure = tls;
    insecure.verification = Verification::Insecure;
    assert_eq!(
        transport_check("127.0.0.1", Some(&insecure)).status,
        Status::Warn
    );
}

#[test]
fn expiry_thresholds() {
    let cases = [
        (-1, Status::Fail),
        (0, Status::Warn),
        (29, Status::Warn),
        (30, Status::Pass),
        (400, Status::Pass),
    ];
    for (days, status) in cases {
        let c = expiry_check("tls_certificate_expiry", days);
        assert_eq!(c.status, status, "{days}: {}", c.detail);
        assert_eq!(c.fix.is_empty(), status == Status::Pass);
    }
}

#[test]
fn protocol_below_tls_1_2_fails() {
    assert_eq!(protocol_check("p", "TLSv1.3").status, Status::Pass);
    assert_eq!(protocol_check("p", "TLSv1.2").status, Status::Pass);
    assert_eq!(protocol_check("p", "TLSv1.1").status, Status::Fail);
    assert_eq!(protocol_check("p", "TLSv1").status, Status::Fail);
}

#[test]
fn status_serialises_lowercase() {
    let c = check("x", Status::Warn, "d", "f");
    assert_eq!(
        serde_json::to_value(&c).unwrap(),
        serde_json::json!({"id": "x", "status": "warn", "detail": "d", "fix": "f"})
    );
}
