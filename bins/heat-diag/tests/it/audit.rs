//! `heat-diag audit`: every check passes on a provisioned broker, each weakness of a deliberately
//! weak broker is reported, and the JSON matches `docs/audit.md`.

use serde_json::Value;
use test_mosquitto::{BrokerBuilder, Pki, TlsListener, Validity};

use crate::{controller_workdir, heat_diag, provisioned, text, write_file};

/// The check ids, in report order (docs/audit.md).
const IDS: [&str; 14] = [
    "anonymous_refused_v311",
    "anonymous_refused_v5",
    "wrong_password_refused",
    "credentials_accepted",
    "transport_encrypted",
    "tls_chain_valid",
    "tls_hostname_matches",
    "tls_certificate_expiry",
    "tls_protocol_version",
    "acl_publish_outside_prefix",
    "acl_subscribe_all",
    "file_dotenv_private",
    "file_password_private",
    "file_private_key_private",
];

fn status<'a>(report: &'a Value, id: &str) -> &'a str {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}"))["status"]
        .as_str()
        .unwrap()
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(out)))
}

#[test]
fn provisioned_broker_passes_every_check_and_the_json_is_stable() {
    let p = provisioned(&["--require-certificate"]);
    let work = controller_workdir(&p);
    let out = heat_diag(work.path(), &["audit", "--json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report = json(&out);
    assert_eq!(report["schema"], 1);
    let ids: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, IDS);
    for check in report["checks"].as_array().unwrap() {
        assert_eq!(check["status"], "pass", "{check}");
        let keys: Vec<&String> = check.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["detail", "fix", "id", "status"]);
    }
    assert_eq!(
        report["summary"],
        serde_json::json!({"pass": 14, "warn": 0, "fail": 0, "skip": 0})
    );
    assert_eq!(
        report["broker"]["address"],
        format!("127.0.0.1:{}", p.tls_port)
    );
    assert_eq!(report["broker"]["transport"], "tls");
    assert_eq!(report["broker"]["username"], "heat-controller");

    let human = heat_diag(work.path(), &["audit"], &[]);
    assert_eq!(human.status.code(), Some(0), "{}", text(&human));
    assert!(
        text(&human).contains("summary: 14 pass, 0 warn, 0 fail, 0 skip"),
        "{}",
        text(&human)
    );

    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/audit.md"))
        .unwrap();
    for id in IDS {
        assert!(doc.contains(&format!("`{id}`")), "docs/audit.md lacks {id}");
    }
}

const PASSWORD: &str = "weak-broker-secret-Tg5Nw2Rk8";

#[test]
fn weak_broker_problems_are_each_reported() {
    let pki_dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(pki_dir.path(), "weak").unwrap();
    let expired = pki
        .server("expired", &["127.0.0.1"], Validity::Expired)
        .unwrap();
    let broker = BrokerBuilder::new()
        .allow_anonymous(true)
        .user("diag", PASSWORD)
        .tls(TlsListener {
            ca_file: pki.ca_file().to_path_buf(),
            server: expired,
            require_certificate: false,
        })
        .start()
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    // A world-readable .env (no secret in it here, but it is where passwords usually live).
    write_file(work.path(), ".env", "# settings\nMQTT_VERSION=5\n", 0o644);
    let port = broker.port().to_string();
    let base = [
        ("MQTT_BROKER", "127.0.0.1"),
        ("MQTT_USERNAME", "diag"),
        ("MQTT_PASSWORD", PASSWORD),
    ];

    // Plain listener: anonymous clients get in, no ACL, a loose .env.
    let env = [&base[..], &[("MQTT_PORT", port.as_str())]].concat();
    let out = heat_diag(work.path(), &["audit", "--json"], &env);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = json(&out);
    for (id, expected) in [
        ("anonymous_refused_v311", "fail"),
        ("anonymous_refused_v5", "fail"),
        ("wrong_password_refused", "pass"),
        ("credentials_accepted", "pass"),
        ("transport_encrypted", "pass"),
        ("tls_chain_valid", "skip"),
        ("acl_publish_outside_prefix", "warn"),
        ("acl_subscribe_all", "warn"),
        ("file_dotenv_private", "fail"),
        ("file_password_private", "skip"),
    ] {
        assert_eq!(status(&report, id), expected, "{id}: {report:#}");
    }
    let fails = report["summary"]["fail"].as_u64().unwrap();
    assert_eq!(fails, 3, "{report:#}");
    for check in report["checks"].as_array().unwrap() {
        if check["status"] == "fail" || check["status"] == "warn" {
            assert_ne!(check["fix"], "", "every finding has a fix: {check}");
        }
    }
    // Nothing retained was left behind by the publish probe.
    assert!(!broker.log().contains("heat-diag-audit") || !text(&out).contains("retained"));

    // TLS listener with an expired certificate.
    let tls_port = broker.tls_port().to_string();
    let ca = pki.ca_file().to_str().unwrap().to_owned();
    let env = [
        &base[..],
        &[
            ("MQTT_PORT", tls_port.as_str()),
            ("MQTT_CA_FILE", ca.as_str()),
        ],
    ]
    .concat();
    let out = heat_diag(work.path(), &["audit"], &env);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("FAIL  tls_certificate_expiry"), "{shown}");
    assert!(shown.contains("EXPIRED"), "{shown}");
    assert!(shown.contains("FAIL  credentials_accepted"), "{shown}");
    assert!(shown.contains("PASS  tls_protocol_version"), "{shown}");
    assert!(!shown.contains(PASSWORD), "{shown}");
}
