//! `heat-diag passwd` against a broker run the Debian way (root, then `user mosquitto`): the
//! rewritten password file keeps its owner, group and mode, and after SIGHUP the new user and
//! the existing ones connect. Also its refusals: a short password and a file with a line the
//! broker would drop.

use std::{
    fs,
    os::unix::fs::{MetadataExt, PermissionsExt},
    path::Path,
};

use mqtt_auth::connect::{Identity, connect, create_client};
use test_mosquitto::BrokerBuilder;

use crate::{heat_diag_stdin, text};

/// Connects `user` with a real CONNACK check; the error is mqtt-auth's text.
fn connects(port: u16, user: &str, password: &str) -> Result<(), String> {
    let settings = test_mqtt::settings("127.0.0.1", port, user, password, &format!("it-{user}"));
    let client = create_client(&settings).map_err(|e| e.to_string())?;
    let result = connect(&client, &settings, Identity::Configured, None);
    if result.is_ok() {
        let _ = client.disconnect();
    }
    result.map(|_| ()).map_err(|e| e.to_string())
}

fn owner_group_mode(path: &Path) -> (u32, u32, u32) {
    let meta = fs::metadata(path).unwrap();
    (meta.uid(), meta.gid(), meta.mode() & 0o7777)
}

#[test]
fn passwd_on_a_broker_running_as_mosquitto_keeps_owner_group_mode_and_every_user_connects() {
    let (alice, bob) = ("alice-password-Jw28", "bob-password-Tq61Xz");
    let broker = BrokerBuilder::new()
        .user("alice", alice)
        .user("bob", bob)
        .as_mosquitto_user()
        .start()
        .unwrap();
    let (uid, gid) = test_mosquitto::mosquitto_user().unwrap();
    let passwd = broker.dir().join("passwd");
    assert_eq!(owner_group_mode(&passwd), (uid, gid, 0o600));
    connects(broker.port(), "alice", alice).unwrap();

    let carol = "carol-password-Hn50Rv";
    let out = heat_diag_stdin(
        broker.dir(),
        &[
            "passwd",
            passwd.to_str().unwrap(),
            "carol",
            "--iterations",
            "10000",
        ],
        &[],
        &format!("{carol}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("added carol"), "{}", text(&out));
    assert_eq!(
        owner_group_mode(&passwd),
        (uid, gid, 0o600),
        "owner, group and mode kept"
    );
    let leftovers: Vec<_> = fs::read_dir(broker.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");

    broker.reload().unwrap();
    // The broker re-read the file as `mosquitto`: every user, old and new, connects.
    test_mqtt::wait_for("carol to be accepted after SIGHUP", || {
        connects(broker.port(), "carol", carol).is_ok()
    });
    connects(broker.port(), "alice", alice).unwrap();
    connects(broker.port(), "bob", bob).unwrap();
    assert!(
        connects(broker.port(), "carol", "wrong-password-of-carol").is_err(),
        "a wrong password is still refused"
    );
    let log = broker.log();
    assert!(!log.contains("Unable to open pwfile"), "{log}");

    // A group-readable root:mosquitto 0640 file (the other Debian layout) stays that too.
    std::os::unix::fs::chown(&passwd, Some(0), Some(gid)).unwrap();
    fs::set_permissions(&passwd, fs::Permissions::from_mode(0o640)).unwrap();
    let out = heat_diag_stdin(
        broker.dir(),
        &[
            "passwd",
            passwd.to_str().unwrap(),
            "bob",
            "--iterations",
            "10000",
        ],
        &[],
        "bob-rotated-password-Lk93",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(owner_group_mode(&passwd), (0, gid, 0o640));
    broker.reload().unwrap();
    test_mqtt::wait_for("bob's new password after SIGHUP", || {
        connects(broker.port(), "bob", "bob-rotated-password-Lk93").is_ok()
    });
    connects(broker.port(), "carol", carol).unwrap();
    connects(broker.port(), "alice", alice).unwrap();
}

#[test]
fn passwd_refuses_a_short_password_unless_allow_weak() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("passwd");
    let args = [
        "passwd",
        file.to_str().unwrap(),
        "u",
        "--iterations",
        "10000",
    ];
    let out = heat_diag_stdin(dir.path(), &args, &[], "elevenchars\n");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("fewer than 12"), "{}", text(&out));
    assert!(text(&out).contains("--allow-weak"), "{}", text(&out));
    assert!(!text(&out).contains("elevenchars"), "{}", text(&out));
    assert!(!file.exists(), "nothing written");

    let out = heat_diag_stdin(dir.path(), &args, &[], "twelve-chars\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let weak = [&args[..], &["--allow-weak"]].concat();
    let out = heat_diag_stdin(dir.path(), &weak, &[], "short\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("rotated u"), "{}", text(&out));
    let line = fs::read_to_string(&file).unwrap();
    assert_eq!(
        mosquitto_setup::verify_line(
            line.trim_end(),
            &secrecy::SecretString::from("short".to_owned())
        ),
        Ok(true)
    );
}

#[test]
fn passwd_refuses_a_file_with_a_line_it_cannot_parse_and_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("passwd");
    let good = mosquitto_setup::hash_line(
        "alice",
        &secrecy::SecretString::from("alice-password-1".to_owned()),
        10_000,
    )
    .unwrap();
    let text_before = format!("# users\n{good}\n\nbob:$7$101$AAAA$BBBB\n");
    fs::write(&file, &text_before).unwrap();
    let out = heat_diag_stdin(
        dir.path(),
        &[
            "passwd",
            file.to_str().unwrap(),
            "carol",
            "--iterations",
            "10000",
        ],
        &[],
        "carol-password-9\n",
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("line 4: salt is 3 bytes"), "{said}");
    assert!(said.contains("nothing was changed"), "{said}");
    assert!(!said.contains(&good), "never prints a hash: {said}");
    assert_eq!(fs::read_to_string(&file).unwrap(), text_before, "untouched");
}
