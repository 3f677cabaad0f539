//! `heat-diag provision` and `heat-diag passwd` against a real Mosquitto: the provisioned broker
//! accepts its users over TLS and refuses everyone else; `$7$` lines interoperate with
//! `mosquitto_passwd`; existing setups are never overwritten silently.

use std::{fs, os::unix::fs::PermissionsExt, process::Command};

use mqtt_auth::{
    BrokerSettings, ClientId, Protocol, TlsSettings, TrustAnchor,
    connect::{Identity, connect, create_client},
    probe::{Verdict, probe},
    settings::ClientCertificate,
};
use secrecy::SecretString;

use crate::{Provisioned, heat_diag, heat_diag_stdin, provisioned, text};

fn settings(p: &Provisioned, user: &str, password: &str, with_cert: bool) -> BrokerSettings {
    let certs = p.dir.join("certs");
    let tls = TlsSettings {
        client_cert: with_cert.then(|| ClientCertificate {
            cert_file: certs.join(format!("{user}.crt")),
            key_file: certs.join(format!("{user}.key")),
        }),
        ..TlsSettings::verified(TrustAnchor::CaFile(certs.join("ca.crt")))
    };
    BrokerSettings::new(
        "127.0.0.1",
        p.tls_port,
        Protocol::V5,
        ClientId::new(format!("it-{user}")).unwrap(),
        test_mqtt::credentials(user, password),
    )
    .with_tls(Some(tls))
}

fn connects(settings: &BrokerSettings) -> Result<(), String> {
    let client = create_client(settings).map_err(|e| e.to_string())?;
    let result = connect(&client, settings, Identity::Configured, None);
    if result.is_ok() {
        let _ = client.disconnect(None);
    }
    result.map(|_| ()).map_err(|e| e.to_string())
}

#[test]
fn provisioned_broker_takes_its_users_over_mutual_tls_and_refuses_the_rest() {
    let p = provisioned(&["--require-certificate"]);
    let controller = p.password("heat-controller");
    let ha = p.password("homeassistant");
    assert!(controller.len() >= 32, "24+ random bytes, encoded");
    connects(&settings(&p, "heat-controller", &controller, true)).unwrap();
    connects(&settings(&p, "homeassistant", &ha, true)).unwrap();
    assert!(
        connects(&settings(&p, "heat-controller", &controller, false)).is_err(),
        "require_certificate: no client certificate, no connection"
    );
    // The probe: anonymous and a wrong password, both refused.
    let report = probe(&settings(&p, "heat-controller", &controller, true));
    assert_eq!(report.verdict(), Verdict::Secure, "{report:?}");
    let log = p.broker.log();
    assert_eq!(
        log.matches("not authorised").count(),
        2,
        "both refusals logged:\n{log}"
    );
    // The plain listener is loopback-only and also closed to anonymous clients.
    let conf = fs::read_to_string(p.dir.join("mosquitto.conf")).unwrap();
    assert!(conf.contains(&format!("listener {} 127.0.0.1", p.plain_port)));
    assert_eq!(conf.matches("allow_anonymous false").count(), 2);
}

#[test]
fn mosquitto_passwd_lines_verify_and_passwd_rotates_one_user() {
    let p = provisioned(&[]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("passwd");
    fs::write(&file, "").unwrap();
    // `-b` puts the password on the command line: unavoidable for this compatibility check,
    // so the password is a throwaway used nowhere else.
    let throwaway = "throwaway-compat-Zq81";
    let status = Command::new("mosquitto_passwd")
        .arg("-b")
        .arg(&file)
        .arg("compat")
        .arg(throwaway)
        .status()
        .expect("mosquitto_passwd runs (apt-get install -y mosquitto-clients)");
    assert!(status.success());
    let theirs = fs::read_to_string(&file).unwrap();
    let their_mode = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    let line = theirs.lines().next().unwrap();
    let secret = |s: &str| SecretString::from(s.to_owned());
    assert_eq!(
        mosquitto_setup::verify_line(line, &secret(throwaway)),
        Ok(true)
    );
    assert_eq!(
        mosquitto_setup::verify_line(line, &secret("other")),
        Ok(false)
    );

    // Our editor adds a user next to theirs without touching their line.
    let new = "added-by-stdin-Lm39Qx7Tw2";
    let out = heat_diag_stdin(
        dir.path(),
        &[
            "passwd",
            file.to_str().unwrap(),
            "second",
            "--iterations",
            "10000",
        ],
        &[("RUST_LOG", "trace")],
        &format!("{new}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("added second"), "{}", text(&out));
    let after = fs::read_to_string(&file).unwrap();
    assert!(after.starts_with(&theirs), "{after}");
    assert_eq!(
        fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        their_mode,
        "the file keeps the mode it had"
    );

    // Rotating Home Assistant's password on the live broker: the new one works after SIGHUP.
    let rotated = "rotated-home-assistant-Pw47Ks";
    let passwd = p.dir.join("passwd");
    let before = fs::read_to_string(&passwd).unwrap();
    let out = heat_diag_stdin(
        dir.path(),
        &[
            "passwd",
            passwd.to_str().unwrap(),
            "homeassistant",
            "--iterations",
            "10000",
        ],
        &[],
        rotated,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("rotated homeassistant"));
    let after = fs::read_to_string(&passwd).unwrap();
    let controller_line = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("heat-controller:"))
            .unwrap()
            .to_owned()
    };
    assert_eq!(controller_line(&before), controller_line(&after));
    let hup = Command::new("kill")
        .arg("-HUP")
        .arg(p.broker.pid().to_string())
        .status()
        .unwrap();
    assert!(hup.success());
    std::thread::sleep(std::time::Duration::from_millis(500));
    connects(&settings(&p, "homeassistant", rotated, false)).unwrap();
    assert!(
        connects(&settings(
            &p,
            "homeassistant",
            &p.password("homeassistant"),
            false
        ))
        .is_err()
    );
}

#[test]
fn passwd_refuses_an_empty_stdin_and_generate_writes_a_private_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("passwd");
    let out = heat_diag_stdin(
        dir.path(),
        &["passwd", file.to_str().unwrap(), "u"],
        &[],
        "",
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!file.exists());
    let secret_file = dir.path().join("u.password");
    let out = heat_diag(
        dir.path(),
        &[
            "passwd",
            file.to_str().unwrap(),
            "u",
            "--generate",
            secret_file.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let password = fs::read_to_string(&secret_file).unwrap();
    assert!(!text(&out).contains(password.trim_end()));
    assert_eq!(
        fs::metadata(&secret_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let line = fs::read_to_string(&file).unwrap();
    assert_eq!(
        mosquitto_setup::verify_line(
            line.trim_end(),
            &SecretString::from(password.trim_end().to_owned())
        ),
        Ok(true)
    );
}

#[test]
fn provisioning_again_is_refused_without_force_and_secrets_are_private() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("setup");
    let args = [
        "provision",
        dir.to_str().unwrap(),
        "--readonly-user",
        "viewer",
    ];
    let first = heat_diag(tmp.path(), &args, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let conf = fs::read_to_string(dir.join("mosquitto.conf")).unwrap();

    let second = heat_diag(tmp.path(), &args, &[]);
    assert_eq!(second.status.code(), Some(2), "{}", text(&second));
    assert!(
        text(&second).contains("refusing to overwrite"),
        "{}",
        text(&second)
    );
    assert!(
        text(&second).contains(dir.to_str().unwrap()),
        "names the file"
    );
    assert_eq!(
        fs::read_to_string(dir.join("mosquitto.conf")).unwrap(),
        conf,
        "untouched"
    );

    let mode = |rel: &str| fs::metadata(dir.join(rel)).unwrap().permissions().mode() & 0o777;
    for secret in [
        "passwd",
        "controller.env",
        "secrets/heat-controller.password",
        "secrets/homeassistant.password",
        "secrets/viewer.password",
        "certs/ca.key",
        "certs/server.key",
        "certs/heat-controller.key",
        "certs/homeassistant.key",
    ] {
        assert_eq!(mode(secret), 0o600, "{secret}");
    }
    assert_eq!(mode("secrets"), 0o700);
    assert_eq!(mode("data"), 0o700);
    let env = fs::read_to_string(dir.join("controller.env")).unwrap();
    for var in [
        "MQTT_BROKER=localhost",
        "MQTT_PORT=8883",
        "MQTT_USERNAME=heat-controller",
        "MQTT_PASSWORD_FILE=/",
        "MQTT_CA_FILE=/",
        "MQTT_CERT_FILE=/",
        "MQTT_KEY_FILE=/",
        "MQTT_VERSION=5",
        "MQTT_TOPIC_PREFIX=solar_heating",
    ] {
        assert!(env.contains(var), "{var} missing:\n{env}");
    }
    let acl = fs::read_to_string(dir.join("acl")).unwrap();
    assert!(
        acl.contains("user viewer\ntopic read solar_heating/#\n"),
        "{acl}"
    );

    let forced = heat_diag(tmp.path(), &[&args[..], &["--force"]].concat(), &[]);
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));
    assert_ne!(
        fs::read_to_string(dir.join("passwd")).unwrap(),
        "",
        "rewritten"
    );

    let bad = heat_diag(
        tmp.path(),
        &["provision", "x", "--topic-prefix", "homeassistant/x"],
        &[],
    );
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
}
