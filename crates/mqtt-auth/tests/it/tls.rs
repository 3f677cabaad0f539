//! TLS: verified by default (chain and hostname), certificate failures kept apart from auth,
//! client certificates, and the explicit insecure mode.

use mqtt_auth::{
    BrokerSettings, TlsSettings, TrustAnchor, Verification,
    codes::Class,
    connect::{Identity, connect, create_client},
    failure::ConnectError,
    settings::ClientCertificate,
};
use test_mosquitto::{Broker, BrokerBuilder, CertFiles, Pki, TlsListener, Validity};

use crate::{PROTOCOLS, logged_lines_with, password, settings};

struct Setup {
    _dir: tempfile::TempDir,
    good: Pki,
    other: Pki,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let good = Pki::new(dir.path(), "good").unwrap();
    let other = Pki::new(dir.path(), "other").unwrap();
    Setup {
        _dir: dir,
        good,
        other,
    }
}

fn tls_broker(pki: &Pki, server: CertFiles, require_certificate: bool, pw: &str) -> Broker {
    BrokerBuilder::new()
        .user("tls-user", pw)
        .tls(TlsListener {
            ca_file: pki.ca_file().to_owned(),
            server,
            require_certificate,
        })
        .without_plain()
        .start()
        .unwrap()
}

fn tls_settings(
    broker: &Broker,
    protocol: mqtt_auth::Protocol,
    pw: &str,
    tls: TlsSettings,
) -> BrokerSettings {
    settings(broker.tls_port(), protocol, "tls-user", pw).with_tls(Some(tls))
}

fn trusting(pki: &Pki) -> TlsSettings {
    TlsSettings::verified(TrustAnchor::CaFile(pki.ca_file().to_owned()))
}

fn attempt(s: &BrokerSettings) -> Result<(), ConnectError> {
    let client = create_client(s).unwrap();
    let result = connect(&client, s, Identity::Configured, None).map(|_| ());
    if result.is_ok() {
        client.disconnect().unwrap();
    }
    result
}

fn assert_certificate_error(result: Result<(), ConnectError>, what: &str) -> String {
    let err = result.expect_err(what);
    assert!(
        matches!(err, ConnectError::Certificate { .. }),
        "{what}: expected a certificate error, got {err:?}"
    );
    assert_ne!(err.class(), Class::AuthRejected, "{what}");
    err.to_string()
}

#[test]
fn valid_certificate_connects_on_both_protocols() {
    let s = setup();
    let pw = password("tls-ok");
    let server = s
        .good
        .server("server", &["localhost", "127.0.0.1"], Validity::Current)
        .unwrap();
    let broker = tls_broker(&s.good, server, false, &pw);
    for protocol in PROTOCOLS {
        let settings = tls_settings(&broker, protocol, &pw, trusting(&s.good));
        attempt(&settings).unwrap_or_else(|e| panic!("{protocol}: {e:?}"));
    }
    assert!(logged_lines_with(&pw).is_empty());
}

#[test]
fn wrong_ca_hostname_mismatch_and_expired_are_certificate_errors() {
    let s = setup();
    let pw = password("tls-bad");

    let server = s
        .good
        .server("server", &["localhost", "127.0.0.1"], Validity::Current)
        .unwrap();
    let broker = tls_broker(&s.good, server, false, &pw);
    let detail = assert_certificate_error(
        attempt(&tls_settings(
            &broker,
            mqtt_auth::Protocol::V5,
            &pw,
            trusting(&s.other),
        )),
        "wrong CA",
    );
    assert!(
        detail.contains("issuer") || detail.contains("certificate"),
        "{detail}"
    );

    let mismatched = s
        .good
        .server("mismatch", &["broker.invalid"], Validity::Current)
        .unwrap();
    let broker = tls_broker(&s.good, mismatched, false, &pw);
    let detail = assert_certificate_error(
        attempt(&tls_settings(
            &broker,
            mqtt_auth::Protocol::V311,
            &pw,
            trusting(&s.good),
        )),
        "hostname mismatch",
    );
    assert!(detail.to_lowercase().contains("mismatch"), "{detail}");

    let expired = s
        .good
        .server("expired", &["localhost", "127.0.0.1"], Validity::Expired)
        .unwrap();
    let broker = tls_broker(&s.good, expired, false, &pw);
    let detail = assert_certificate_error(
        attempt(&tls_settings(
            &broker,
            mqtt_auth::Protocol::V5,
            &pw,
            trusting(&s.good),
        )),
        "expired",
    );
    assert!(detail.contains("expired"), "{detail}");
}

#[test]
fn required_client_certificate_missing_is_refused_and_valid_one_accepted() {
    let s = setup();
    let pw = password("mtls");
    let server = s
        .good
        .server("server", &["localhost", "127.0.0.1"], Validity::Current)
        .unwrap();
    let broker = tls_broker(&s.good, server, true, &pw);

    let without = tls_settings(&broker, mqtt_auth::Protocol::V5, &pw, trusting(&s.good));
    let err = attempt(&without).expect_err("no client certificate");
    assert_ne!(err.class(), Class::AuthRejected, "{err:?}");
    assert!(matches!(err, ConnectError::Certificate { .. }), "{err:?}");

    let client = s.good.client("client", "tls-user").unwrap();
    let mut tls = trusting(&s.good);
    tls.client_cert = Some(ClientCertificate {
        cert_file: client.cert,
        key_file: client.key,
    });
    for protocol in PROTOCOLS {
        attempt(&tls_settings(&broker, protocol, &pw, tls.clone()))
            .unwrap_or_else(|e| panic!("{protocol} with client certificate: {e:?}"));
    }
}

#[test]
fn insecure_mode_connects_to_mismatched_host_only_when_set_and_warns_each_time() {
    let s = setup();
    let pw = password("insecure");
    let mismatched = s
        .good
        .server("mismatch", &["broker.invalid"], Validity::Current)
        .unwrap();
    let broker = tls_broker(&s.good, mismatched, false, &pw);

    let verified = tls_settings(&broker, mqtt_auth::Protocol::V5, &pw, trusting(&s.good));
    assert_certificate_error(attempt(&verified), "verified mismatch");

    let mut tls = trusting(&s.good);
    tls.verification = Verification::Insecure;
    let insecure = tls_settings(&broker, mqtt_auth::Protocol::V5, &pw, tls);
    let warning = format!("TLS verification is OFF for {}", insecure.broker_addr());
    let before = logged_lines_with(&warning).len();
    attempt(&insecure).unwrap();
    attempt(&insecure).unwrap();
    assert_eq!(
        logged_lines_with(&warning).len(),
        before + 2,
        "one warning per connect"
    );
}
