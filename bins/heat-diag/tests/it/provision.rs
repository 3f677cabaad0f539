//! `heat-diag provision` and `heat-diag passwd` against a real Mosquitto: the provisioned broker
//! accepts its users over TLS and refuses everyone else; `$7$` lines interoperate with
//! `mosquitto_passwd`; existing setups are never overwritten silently; a `--snippet` for an
//! existing broker narrows the controller to its own topics and leaves other users' rules alone;
//! dist/mosquitto/README lists exactly the files provision writes.

use std::{fs, os::unix::fs::PermissionsExt, process::Command, time::Duration};

use mqtt_auth::{
    BrokerSettings, ClientId, Protocol, TlsSettings, TrustAnchor,
    connect::{Identity, connect, create_client},
    probe::{Verdict, probe},
    settings::ClientCertificate,
};
use secrecy::SecretString;

use test_mosquitto::free_port;

use crate::{Mosquitto, Provisioned, heat_diag, heat_diag_stdin, provisioned, text};

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
        let _ = client.disconnect();
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
    let log = p.broker.log_once(
        |log| log.matches("not authorised").count() >= 2,
        Duration::from_secs(5),
    );
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
    std::thread::sleep(Duration::from_millis(500));
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
    assert!(
        text(&bad).contains("overlaps the discovery prefix"),
        "{}",
        text(&bad)
    );
    // The controller's own rule (heat_mqtt::Topics), not a looser copy: a space is refused.
    let spaced = heat_diag(
        tmp.path(),
        &["provision", "z", "--topic-prefix", "solar heating"],
        &[],
    );
    assert_eq!(spaced.status.code(), Some(2), "{}", text(&spaced));
    assert!(text(&spaced).contains("contains ' '"), "{}", text(&spaced));
    assert!(!tmp.path().join("z").exists(), "nothing written");
    let overlap = heat_diag(
        tmp.path(),
        &[
            "provision",
            "y",
            "--snippet",
            "--discovery-prefix",
            "ha",
            "--topic-prefix",
            "ha/solar",
        ],
        &[],
    );
    assert_eq!(overlap.status.code(), Some(2), "{}", text(&overlap));
    assert!(
        text(&overlap).contains("overlaps the discovery prefix"),
        "{}",
        text(&overlap)
    );
    assert!(!tmp.path().join("y").exists(), "nothing written");
}

// --- `--snippet`: an existing broker ----------------------------------------------------------

/// An existing broker's ACL: zigbee2mqtt and Tasmota with their own rules, Home Assistant with
/// its discovery prefix only, and an observer that may read everything.
const EXISTING_ACL: &str = "\
# the house broker
user zigbee2mqtt
topic readwrite zigbee2mqtt/#
topic readwrite homeassistant/#

user tasmota
topic readwrite tasmota/#
topic readwrite homeassistant/#

user homeassistant
topic readwrite homeassistant/#

user observer
topic read #
";

const Z2M_PASSWORD: &str = "z2m-pw-Lq4Rt8Wn2Xc6";
const TASMOTA_PASSWORD: &str = "tasmota-pw-Hj5Kd9Pv3Zb7";
const HA_PASSWORD: &str = "ha-pw-Mf2Qs6Yt8Vn4";
const OBSERVER_PASSWORD: &str = "observer-pw-Tg7Lc3Rx9Wk1";

fn plain(port: u16, user: &str, password: &str) -> BrokerSettings {
    test_mqtt::settings("127.0.0.1", port, user, password, &format!("it-{user}"))
}

/// What the controller's user may and may not do, seen by an observer that reads everything:
/// a denied publish (dropped silently on MQTT 3.1.1) never arrives, although the allowed ones
/// the same client sent after it did.
fn assert_controller_is_narrowed(port: u16, controller_password: &str) {
    let observer = test_mqtt::Watcher::new(&plain(port, "observer", OBSERVER_PASSWORD), "#");
    let ctl = test_mqtt::Watcher::new(
        &plain(port, "heat-controller", controller_password),
        "solar_heating/+/set",
    );
    let denied = [
        "homeassistant/sensor/other_device/temperature/config",
        "homeassistant/switch/solar_heating_x/relay/config",
        "zigbee2mqtt/bridge/request/permit_join",
        "tasmota/cmnd/power",
    ];
    for topic in denied {
        ctl.publish(topic, b"overwritten by the controller");
    }
    let allowed = [
        "homeassistant/sensor/solar_heating/collector_temperature/config",
        "homeassistant/number/solar_heating/dt_start/config",
        "solar_heating/availability",
        "solar_heating/state",
    ];
    for topic in allowed {
        ctl.publish(topic, b"{}");
    }
    for topic in allowed {
        observer.wait_on(topic, |_| true);
    }
    for topic in denied {
        assert!(observer.on(topic).is_empty(), "{topic} was delivered");
    }
}

#[test]
fn a_debian_snippet_narrows_the_controller_and_keeps_the_other_users_working() {
    let tmp = tempfile::tempdir().unwrap();
    let etc = tmp.path().join("etc-mosquitto");
    fs::create_dir_all(etc.join("conf.d")).unwrap();
    let acl = etc.join("acl");
    fs::write(&acl, EXISTING_ACL).unwrap();
    let out = tmp.path().join("snippet");
    let run = heat_diag(
        tmp.path(),
        &[
            "provision",
            out.to_str().unwrap(),
            "--snippet",
            "--for",
            "debian",
            "--mosquitto-dir",
            etc.to_str().unwrap(),
            "--existing-acl",
            acl.to_str().unwrap(),
            "--iterations",
            "10000",
        ],
        &[],
    );
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    let password = fs::read_to_string(out.join("heat-controller.password")).unwrap();
    let password = password.trim_end();
    assert!(
        !text(&run).contains(password),
        "the password is never printed"
    );
    assert!(
        text(&run).contains("zigbee2mqtt, tasmota, homeassistant, observer"),
        "{}",
        text(&run)
    );

    // Install it the way the report says, into a Debian-like broker: main config with a
    // listener and include_dir, the existing users' password lines plus passwd.add.
    let mut passwd = String::new();
    for (user, pw) in [
        ("zigbee2mqtt", Z2M_PASSWORD),
        ("tasmota", TASMOTA_PASSWORD),
        ("homeassistant", HA_PASSWORD),
        ("observer", OBSERVER_PASSWORD),
    ] {
        passwd.push_str(&test_mosquitto::passwd::hash_line(user, pw, 10_000).unwrap());
        passwd.push('\n');
    }
    passwd.push_str(&fs::read_to_string(out.join("passwd.add")).unwrap());
    fs::write(etc.join("passwd"), passwd).unwrap();
    fs::copy(out.join("acl"), &acl).unwrap();
    fs::copy(
        out.join("conf.d/heat-controller.conf"),
        etc.join("conf.d/heat-controller.conf"),
    )
    .unwrap();
    let port = free_port().unwrap();
    let log = tmp.path().join("mosquitto.log");
    let conf = etc.join("mosquitto.conf");
    fs::write(
        &conf,
        format!(
            "persistence false\nlog_dest file {}\nlog_type all\nconnection_messages true\n\
             user root\nlistener {port} 127.0.0.1\ninclude_dir {}\n",
            log.display(),
            etc.join("conf.d").display()
        ),
    )
    .unwrap();
    let _broker = Mosquitto::start(&conf, &log);

    assert_controller_is_narrowed(port, password);

    // The other users' rules still work, and Home Assistant now reaches the controller.
    let observer = test_mqtt::Watcher::new(&plain(port, "observer", OBSERVER_PASSWORD), "#");
    let z2m = test_mqtt::Watcher::new(&plain(port, "zigbee2mqtt", Z2M_PASSWORD), "zigbee2mqtt/#");
    let tasmota = test_mqtt::Watcher::new(&plain(port, "tasmota", TASMOTA_PASSWORD), "tasmota/#");
    z2m.publish("homeassistant/sensor/0x00158d/temperature/config", b"{}");
    z2m.publish("zigbee2mqtt/bridge/state", b"online");
    tasmota.publish("tasmota/tele/plug/STATE", b"{}");
    observer.wait_on("homeassistant/sensor/0x00158d/temperature/config", |_| true);
    observer.wait_on("zigbee2mqtt/bridge/state", |_| true);
    observer.wait_on("tasmota/tele/plug/STATE", |_| true);
    let ctl = test_mqtt::Watcher::new(
        &plain(port, "heat-controller", password),
        "solar_heating/+/set",
    );
    let ha = test_mqtt::Watcher::new(
        &plain(port, "homeassistant", HA_PASSWORD),
        "solar_heating/#",
    );
    ha.publish("solar_heating/mode/set", b"eco");
    ctl.wait_on("solar_heating/mode/set", |m| m.payload == b"eco");
    ctl.publish("solar_heating/state", b"{\"mode\":\"eco\"}");
    ha.wait_on("solar_heating/state", |_| true);
    // The broker took the conf.d file without complaint.
    let log_text = fs::read_to_string(&log).unwrap();
    assert!(!log_text.contains("Error"), "{log_text}");
}

#[test]
fn an_addon_snippet_keeps_the_reserved_users_and_narrows_the_controller() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("snippet");
    let run = heat_diag(
        tmp.path(),
        &[
            "provision",
            out.to_str().unwrap(),
            "--snippet",
            "--for",
            "ha-addon",
        ],
        &[],
    );
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    assert!(
        text(&run).contains("Settings > People > Users"),
        "{}",
        text(&run)
    );
    assert!(
        !out.join("passwd.add").exists(),
        "the add-on has no password file to edit"
    );
    let conf = fs::read_to_string(out.join("acl.conf")).unwrap();
    assert!(
        conf.contains("acl_file /share/mosquitto/accesscontrollist\n"),
        "{conf}"
    );
    let password = fs::read_to_string(out.join("heat-controller.password")).unwrap();
    let password = password.trim_end();
    // The add-on's users come from Home Assistant; here a password file stands in for them.
    let acl = format!(
        "{}\nuser observer\ntopic read #\n",
        fs::read_to_string(out.join("accesscontrollist")).unwrap()
    );
    let broker = test_mosquitto::BrokerBuilder::new()
        .user("heat-controller", password)
        .user("homeassistant", HA_PASSWORD)
        .user("observer", OBSERVER_PASSWORD)
        .acl(&acl)
        .start()
        .unwrap();
    assert_controller_is_narrowed(broker.port(), password);
    // `homeassistant` keeps the full access the add-on requires.
    let observer =
        test_mqtt::Watcher::new(&plain(broker.port(), "observer", OBSERVER_PASSWORD), "#");
    let ha = test_mqtt::Watcher::new(&plain(broker.port(), "homeassistant", HA_PASSWORD), "#");
    ha.publish("anything/at/all", b"x");
    observer.wait_on("anything/at/all", |_| true);
}

/// The `    <path>  <mode>  ...` lines of dist/mosquitto/README under the heading `heading`.
fn readme_files(heading: &str) -> Vec<(String, String)> {
    let readme = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../dist/mosquitto/README"
    ))
    .unwrap();
    let Some((_, rest)) = readme.split_once(heading) else {
        panic!("dist/mosquitto/README has no {heading:?}");
    };
    rest.lines()
        .skip_while(|l| !l.starts_with("    "))
        .take_while(|l| l.starts_with("    "))
        .map(|l| {
            let mut words = l.split_whitespace();
            let path = words.next().unwrap_or_default().to_owned();
            let mode = words.next().unwrap_or_default().to_owned();
            (path, mode)
        })
        .collect()
}

/// The files `heat-diag provision ... --json` reports, relative to its directory.
fn provisioned_files(tmp: &std::path::Path, extra: &[&str]) -> Vec<(String, String)> {
    let dir = tmp.join("out");
    let mut args = vec![
        "provision",
        dir.to_str().unwrap(),
        "--json",
        "--iterations",
        "10000",
    ];
    args.extend_from_slice(extra);
    let run = heat_diag(tmp, &args, &[]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let prefix = format!("{}/", dir.display());
    let mut files: Vec<(String, String)> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let path = f["path"].as_str().unwrap();
            (
                path.strip_prefix(&prefix).unwrap_or(path).to_owned(),
                f["mode"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    files.sort();
    fs::remove_dir_all(&dir).unwrap();
    files
}

#[test]
fn the_broker_readme_lists_exactly_what_provision_writes() {
    let tmp = tempfile::tempdir().unwrap();
    for (heading, extra) in [
        ("heat-diag provision DIR` writes", &[][..]),
        (
            "--snippet --for debian` writes",
            &["--snippet", "--for", "debian"][..],
        ),
        (
            "--snippet --for ha-addon` writes",
            &["--snippet", "--for", "ha-addon"][..],
        ),
    ] {
        let mut documented = readme_files(heading);
        documented.sort();
        assert_eq!(
            documented,
            provisioned_files(tmp.path(), extra),
            "{heading}"
        );
    }
}
