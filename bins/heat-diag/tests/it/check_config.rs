//! `heat-diag check-config`: the configuration matrix, each case a distinct clear error, exit 2;
//! the controller's own checks with its own message; `.env` rules (privacy, `$`, unknown names).

use std::path::Path;

use heat_config::Sources;

use crate::{heat_diag, text, write_file};

const PASSWORD: &str = "diag-secret-Kx7Wq2Lm9Pz4";

/// (what is wrong, the environment, words the message must contain)
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<&'a str>);

#[test]
fn valid_settings_print_redacted_and_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let out = heat_diag(
        dir.path(),
        &["check-config", "--simulate"],
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
        &["check-config", "--simulate"],
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
        &["check-config", "--simulate"],
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

/// The message heat-controller itself gives for `env` in `dir` (its main prints
/// `heat-controller: <this>` and exits 2), through the checks it runs at startup.
fn controllers_refusal(dir: &Path, env: &[(&str, &str)], simulate: bool) -> String {
    let sources = env
        .iter()
        .fold(Sources::new(dir), |s, (k, v)| s.with_var(*k, *v));
    match heat_controller::checks::check(&sources, simulate) {
        Ok(checked) => panic!("the controller accepts it: {checked:?}"),
        // As both binaries print it: the failure and its source chain.
        Err(failure) => format!("{:#}", anyhow::Error::new(failure)),
    }
}

#[test]
fn a_setup_the_controller_refuses_is_refused_with_its_message_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let user = ("MQTT_USERNAME", "heat");
    let pass = ("MQTT_PASSWORD", PASSWORD);
    // No [hardware] table: the controller would drive nothing.
    let no_hardware = vec![user, pass];
    // Valid for heat-config, but no Home Assistant node id can be made from it.
    let spaced = vec![user, pass, ("MQTT_TOPIC_PREFIX", "solar heating")];
    for (case, env, simulate, words) in [
        ("no [hardware]", &no_hardware, false, vec!["[hardware]"]),
        (
            "prefix with a space",
            &spaced,
            true,
            vec!["topic prefix", "' '"],
        ),
    ] {
        let mut args = vec!["check-config"];
        if simulate {
            args.push("--simulate");
        }
        let out = heat_diag(dir.path(), &args, env);
        let shown = text(&out);
        assert_eq!(out.status.code(), Some(2), "{case}: {shown}");
        let expected = format!(
            "heat-diag: {}\n",
            controllers_refusal(dir.path(), env, simulate)
        );
        assert!(
            expected.starts_with("heat-diag: configuration error: "),
            "{expected}"
        );
        assert_eq!(String::from_utf8_lossy(&out.stderr), expected, "{case}");
        for word in words {
            assert!(shown.contains(word), "{case}: {word:?} not in {shown}");
        }
    }
    // The same setup without hardware is fine for a simulation, as `heat-controller --simulate`.
    let out = heat_diag(dir.path(), &["check-config", "--simulate"], &no_hardware);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("settings are valid for heat-controller --simulate"),
        "{shown}"
    );
    // backend = "sim" in the file counts as simulating, for both.
    let toml = write_file(
        dir.path(),
        "heat.toml",
        "[hardware]\nbackend = \"sim\"\n",
        0o644,
    );
    let out = heat_diag(
        dir.path(),
        &["--config", &toml, "check-config"],
        &no_hardware,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn a_dotenv_holding_the_password_is_refused_when_others_can_read_it() {
    let dir = tempfile::tempdir().unwrap();
    let env_file = write_file(
        dir.path(),
        ".env",
        &format!("MQTT_USERNAME=heat\nMQTT_PASSWORD={PASSWORD}\n"),
        0o644,
    );
    let out = heat_diag(dir.path(), &["check-config", "--simulate"], &[]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    assert!(shown.contains(&format!("chmod 600 {env_file}")), "{shown}");
    assert!(shown.contains("mode 644"), "{shown}");
    assert!(!shown.contains(PASSWORD), "{shown}");
    std::fs::set_permissions(
        &env_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let out = heat_diag(dir.path(), &["check-config", "--simulate"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn a_dollar_in_a_dotenv_value_is_an_error_naming_the_variable_and_single_quotes_work() {
    let dir = tempfile::tempdir().unwrap();
    write_file(
        dir.path(),
        ".env",
        "MQTT_USERNAME=heat\nMQTT_PASSWORD=abc$def-Kx7Wq2Lm9\n",
        0o600,
    );
    let out = heat_diag(dir.path(), &["check-config", "--simulate"], &[]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    assert!(shown.contains("MQTT_PASSWORD in "), "{shown}");
    assert!(shown.contains("(line 2)"), "{shown}");
    assert!(shown.contains("single quotes"), "{shown}");
    assert!(!shown.contains("Kx7Wq2Lm9"), "{shown}");

    write_file(
        dir.path(),
        ".env",
        "MQTT_USERNAME=heat\nMQTT_PASSWORD='abc$def-Kx7Wq2Lm9'\n",
        0o600,
    );
    let out = heat_diag(dir.path(), &["check-config", "--simulate"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn unknown_mqtt_and_heat_variables_get_a_did_you_mean_warning() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), ".env", "HEAT_CONTROL_PERIOD=10\n", 0o600);
    let out = heat_diag(
        dir.path(),
        &["check-config", "--simulate"],
        &[
            ("MQTT_USERNAME", "heat"),
            ("MQTT_PASSWORD", PASSWORD),
            ("MQTT_BROKR", "broker.lan"),
            ("MQTT_C_CLIENT_TRACE_LEVEL", "ERROR"),
        ],
    );
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("MQTT_BROKR in the environment is not a variable heat-controller reads (ignored); did you mean MQTT_BROKER?"),
        "{shown}"
    );
    assert!(
        shown.contains("HEAT_CONTROL_PERIOD in ")
            && shown.contains("did you mean HEAT_CONTROL_PERIOD_SECS?"),
        "{shown}"
    );
    assert!(!shown.contains("MQTT_C_CLIENT_TRACE_LEVEL in"), "{shown}");
}
