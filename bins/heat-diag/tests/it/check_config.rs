//! `heat-diag check-config`: the configuration matrix, each case a distinct clear error, exit 2.

use crate::{heat_diag, text, write_file};

const PASSWORD: &str = "diag-secret-Kx7Wq2Lm9Pz4";

/// (what is wrong, the environment, words the message must contain)
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<&'a str>);

#[test]
fn valid_settings_print_redacted_and_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let out = heat_diag(
        dir.path(),
        &["check-config"],
        &[
            ("MQTT_USERNAME", "heat"),
            ("MQTT_PASSWORD", PASSWORD),
            ("RUST_LOG", "trace"),
        ],
    );
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("heat"), "{shown}");
    assert!(shown.contains("REDACTED"), "{shown}");
    assert!(!shown.contains(PASSWORD), "password printed: {shown}");
}

#[test]
fn every_bad_setting_is_a_distinct_error_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let loose = write_file(dir.path(), "loose-password", PASSWORD, 0o644);
    let tight = write_file(dir.path(), "password", &format!("{PASSWORD}\n"), 0o600);
    let user = ("MQTT_USERNAME", "heat");
    let pass = ("MQTT_PASSWORD", PASSWORD);
    let cases: Vec<Case<'_>> = vec![
        ("no username", vec![pass], vec!["MQTT_USERNAME"]),
        ("no password", vec![user], vec!["MQTT_PASSWORD"]),
        (
            "blank username",
            vec![("MQTT_USERNAME", "  "), pass],
            vec!["MQTT_USERNAME", "whitespace"],
        ),
        (
            "empty password",
            vec![user, ("MQTT_PASSWORD", "")],
            vec!["MQTT_PASSWORD", "empty"],
        ),
        (
            "placeholder",
            vec![user, ("MQTT_PASSWORD", "change-me")],
            vec!["MQTT_PASSWORD", "placeholder"],
        ),
        (
            "both password sources",
            vec![user, pass, ("MQTT_PASSWORD_FILE", &tight)],
            vec!["MQTT_PASSWORD_FILE"],
        ),
        (
            "loose password file",
            vec![user, ("MQTT_PASSWORD_FILE", &loose)],
            vec!["chmod 600"],
        ),
        (
            "missing password file",
            vec![user, ("MQTT_PASSWORD_FILE", "/nonexistent/pw")],
            vec!["MQTT_PASSWORD_FILE", "/nonexistent/pw"],
        ),
        (
            "port out of range",
            vec![user, pass, ("MQTT_PORT", "70000")],
            vec!["MQTT_PORT"],
        ),
        (
            "bad version",
            vec![user, pass, ("MQTT_VERSION", "4.0")],
            vec!["MQTT_VERSION"],
        ),
        (
            "bad client id",
            vec![user, pass, ("MQTT_CLIENT_ID", "a/b#")],
            vec!["MQTT_CLIENT_ID"],
        ),
        (
            "missing CA file",
            vec![user, pass, ("MQTT_CA_FILE", "/nonexistent/ca.pem")],
            vec!["MQTT_CA_FILE"],
        ),
        (
            "cert without key",
            vec![
                user,
                pass,
                ("MQTT_CA_FILE", &tight),
                ("MQTT_CERT_FILE", &tight),
            ],
            vec!["MQTT_KEY_FILE"],
        ),
    ];
    let mut messages = Vec::new();
    for (case, env, words) in &cases {
        let out = heat_diag(dir.path(), &["check-config"], env);
        let shown = text(&out);
        assert_eq!(out.status.code(), Some(2), "{case}: {shown}");
        for word in words {
            assert!(
                shown.contains(word),
                "{case}: message lacks {word:?}: {shown}"
            );
        }
        assert!(!shown.contains("panicked"), "{case}: {shown}");
        assert!(
            !shown.contains(PASSWORD),
            "{case}: password in output: {shown}"
        );
        messages.push(shown);
    }
    for (i, a) in messages.iter().enumerate() {
        for (j, b) in messages.iter().enumerate().skip(i + 1) {
            assert_ne!(
                a, b,
                "cases {:?} and {:?} give the same message",
                cases[i].0, cases[j].0
            );
        }
    }
}

#[test]
fn password_file_loses_one_trailing_newline() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "pw", &format!("{PASSWORD}\n"), 0o600);
    let out = heat_diag(
        dir.path(),
        &["check-config"],
        &[("MQTT_USERNAME", "heat"), ("MQTT_PASSWORD_FILE", &file)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn dotenv_file_never_overrides_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    write_file(
        dir.path(),
        ".env",
        &format!("MQTT_USERNAME=from-dotenv\nMQTT_PASSWORD={PASSWORD}\nMQTT_PORT=1999\n"),
        0o600,
    );
    let out = heat_diag(
        dir.path(),
        &["check-config"],
        &[("MQTT_USERNAME", "from-env")],
    );
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("from-env"), "{shown}");
    assert!(!shown.contains("from-dotenv"), "{shown}");
    assert!(
        shown.contains("1999"),
        ".env still fills what the environment lacks: {shown}"
    );
}
