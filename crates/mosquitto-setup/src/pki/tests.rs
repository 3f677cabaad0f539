//! Unit tests of the CA: chains verify with OpenSSL, names and validity are as asked.

use openssl::{
    stack::Stack,
    x509::{X509, X509StoreContext, store::X509StoreBuilder},
};

use super::*;

fn verifies(ca: &Ca, cert_pem: &str) -> bool {
    let ca_cert = X509::from_pem(ca.cert_pem().as_bytes()).unwrap();
    let cert = X509::from_pem(cert_pem.as_bytes()).unwrap();
    let mut store = X509StoreBuilder::new().unwrap();
    store.add_cert(ca_cert).unwrap();
    let store = store.build();
    let chain = Stack::new().unwrap();
    let mut ctx = X509StoreContext::new().unwrap();
    ctx.init(&store, &cert, &chain, |c| c.verify_cert())
        .unwrap()
}

#[test]
fn issued_certificates_chain_to_the_ca() {
    let ca = Ca::new("test CA", Validity::Current).unwrap();
    let server = ca
        .server(&["localhost", "127.0.0.1"], Validity::Current)
        .unwrap();
    let client = ca.client("heat-controller", Validity::Current).unwrap();
    assert!(verifies(&ca, &server.cert_pem));
    assert!(verifies(&ca, &client.cert_pem));
    assert!(server.key_pem.contains("PRIVATE KEY"));
    let other = Ca::new("other CA", Validity::Current).unwrap();
    assert!(!verifies(&other, &server.cert_pem));
}

#[test]
fn server_names_become_subject_alt_names() {
    let ca = Ca::new("test CA", Validity::Current).unwrap();
    let server = ca
        .server(&["broker.lan", "192.168.1.5"], Validity::Current)
        .unwrap();
    let cert = X509::from_pem(server.cert_pem.as_bytes()).unwrap();
    let names = cert.subject_alt_names().unwrap();
    assert!(names.iter().any(|n| n.dnsname() == Some("broker.lan")));
    assert!(
        names
            .iter()
            .any(|n| n.ipaddress() == Some([192, 168, 1, 5].as_slice()))
    );
}

#[test]
fn expired_validity_is_in_the_past_and_debug_hides_keys() {
    let ca = Ca::new("test CA", Validity::Current).unwrap();
    let old = ca.server(&["localhost"], Validity::Expired).unwrap();
    let cert = X509::from_pem(old.cert_pem.as_bytes()).unwrap();
    let now = openssl::asn1::Asn1Time::days_from_now(0).unwrap();
    assert!(cert.not_after() < now);
    assert!(!format!("{old:?}").contains("PRIVATE"));
    assert!(!format!("{ca:?}").contains("PRIVATE"));
}
