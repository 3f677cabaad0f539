//! Tests of the loader: the configuration matrix, layer precedence, secret files and redaction.
//!
//! Every test builds its own [`Sources`] over a temporary directory; none touches the process
//! environment.

use std::{
    fs,
    path::{Path, PathBuf},
};

use mqtt_auth::{Protocol, TrustAnchor, Verification};
use proptest::prelude::*;
use secrecy::ExposeSecret;
use tempfile::TempDir;

use super::*;

const PASSWORD: &str = "a-long-enough-Password-42";

/// A temporary working directory.
fn tmp() -> TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Sources with valid credentials in the environment.
fn valid(dir: &TempDir) -> Sources {
    Sources::new(dir.path())
        .with_var("MQTT_USERNAME", "heat")
        .with_var("MQTT_PASSWORD", PASSWORD)
}

/// Writes `contents` to `dir/name` with `mode`, returning the path.
fn write(dir: &Path, name: &str, contents: &str, mode: u32) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&path, contents).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    path
}

/// Sources with valid credentials and `text` as the TOML file `dir/name`, given as `--config`.
/// The file is private, as one holding a password would be (the loader does not check).
fn with_toml(dir: &TempDir, name: &str, text: &str) -> Sources {
    valid(dir).with_config_path(write(dir.path(), name, text, 0o600))
}

fn load(sources: &Sources) -> Settings {
    match Settings::load(sources) {
        Ok(settings) => settings,
        Err(e) => panic!("expected settings, got: {e}"),
    }
}

fn fail(sources: &Sources) -> ConfigError {
    match Settings::load(sources) {
        Ok(settings) => panic!("expected an error, got {settings:?}"),
        Err(e) => e,
    }
}

/// Asserts that the message names every one of `needles`.
fn says(err: &ConfigError, needles: &[&str]) {
    let message = err.to_string();
    for needle in needles {
        assert!(
            message.contains(needle),
            "message {message:?} does not mention {needle:?}"
        );
    }
    assert!(!message.contains(PASSWORD), "password leaked: {message}");
}

/// Loads `sources` expecting an error: asserts that it matches `pattern` and that its message
/// names every one of `needles` (see [`says`]), and returns it. With `case: value`, a failed
/// assertion names the case too.
macro_rules! fails_with {
    ($sources:expr, $pattern:pat, $needles:expr $(,)?) => {{
        let err = fail(&$sources);
        assert!(matches!(err, $pattern), "{err:?}");
        says(&err, $needles);
        err
    }};
    ($sources:expr, $pattern:pat, $needles:expr, case: $case:expr $(,)?) => {{
        let case = $case;
        let err = match Settings::load(&$sources) {
            Ok(settings) => panic!("{case:?}: expected an error, got {settings:?}"),
            Err(err) => err,
        };
        assert!(matches!(err, $pattern), "{case:?}: {err:?}");
        says(&err, $needles);
        err
    }};
}

// --- Defaults and precedence -----------------------------------------------------------------

#[test]
fn defaults_fill_everything_but_the_credentials() {
    let dir = tmp();
    let s = load(&valid(&dir));
    let b = s.broker();
    assert_eq!(b.host(), "localhost");
    assert_eq!(b.port(), 1883);
    assert_eq!(b.protocol(), Protocol::V311);
    assert_eq!(b.client_id().as_str(), "solar-heating-controller");
    assert_eq!(b.credentials().username().as_str(), "heat");
    assert_eq!(b.credentials().password().expose_secret(), PASSWORD);
    assert!(b.tls().is_none());
    assert_eq!(b.keep_alive(), Duration::from_secs(30));
    assert_eq!(s.topic_prefix(), "solar_heating");
    assert!(s.warnings().is_empty(), "{:?}", s.warnings());
}

#[test]
fn layers_override_in_order_defaults_toml_dotenv_environment() {
    let dir = tmp();
    let toml = write(
        dir.path(),
        "conf/heat.toml",
        "[mqtt]\nbroker = \"toml-host\"\nport = 1000\nclient_id = \"toml-id\"\nversion = \"5\"\n",
        0o644,
    );
    write(
        dir.path(),
        ".env",
        "MQTT_PORT=2000\nMQTT_CLIENT_ID=dotenv-id\n",
        0o600,
    );
    let sources = valid(&dir)
        .with_config_path(&toml)
        .with_var("MQTT_CLIENT_ID", "env-id");
    let s = load(&sources);
    assert_eq!(s.broker().host(), "toml-host");
    assert_eq!(s.broker().port(), 2000);
    assert_eq!(s.broker().client_id().as_str(), "env-id");
    assert_eq!(s.broker().protocol(), Protocol::V5);
    assert_eq!(s.topic_prefix(), "solar_heating");

    let report = s.effective().to_string();
    assert!(report.contains(&format!(
        "toml-host (from mqtt.broker in {})",
        toml.display()
    )));
    assert!(report.contains(&format!(
        "2000 (from MQTT_PORT in {})",
        dir.path().join(".env").display()
    )));
    assert!(report.contains("env-id (from MQTT_CLIENT_ID in the environment)"));
    assert!(report.contains("solar_heating (default)"));
}

#[test]
fn dotenv_never_overrides_a_variable_that_is_set() {
    let dir = tmp();
    write(
        dir.path(),
        ".env",
        "MQTT_BROKER=from-dotenv\nMQTT_USERNAME=dotenv-user\n",
        0o600,
    );
    let s = load(&valid(&dir).with_var("MQTT_BROKER", "from-env"));
    assert_eq!(s.broker().host(), "from-env");
    assert_eq!(s.broker().credentials().username().as_str(), "heat");
}

#[test]
fn dotenv_fills_what_the_environment_lacks() {
    let dir = tmp();
    write(
        dir.path(),
        ".env",
        "MQTT_USERNAME=dotenv-user\nMQTT_PASSWORD='with $dollar and #hash 123'\n",
        0o600,
    );
    let s = load(&Sources::new(dir.path()));
    assert_eq!(s.broker().credentials().username().as_str(), "dotenv-user");
    assert_eq!(
        s.broker().credentials().password().expose_secret(),
        "with $dollar and #hash 123"
    );
}

#[test]
fn heat_config_names_the_file_and_config_flag_wins() {
    let dir = tmp();
    write(dir.path(), "a.toml", "[mqtt]\nbroker = \"host-a\"\n", 0o644);
    write(dir.path(), "b.toml", "[mqtt]\nbroker = \"host-b\"\n", 0o644);
    let from_env = valid(&dir).with_var("HEAT_CONFIG", "a.toml");
    assert_eq!(load(&from_env).broker().host(), "host-a");
    let flag = from_env.with_config_path("b.toml");
    assert_eq!(load(&flag).broker().host(), "host-b");

    write(dir.path(), ".env", "HEAT_CONFIG=b.toml\n", 0o600);
    assert_eq!(load(&valid(&dir)).broker().host(), "host-b");
}

#[test]
fn missing_config_file_names_who_named_it() {
    let dir = tmp();
    fails_with!(
        valid(&dir).with_config_path("nope.toml"),
        ConfigError::ConfigFileMissing { .. },
        &["nope.toml", "--config", "fix the path"]
    );

    fails_with!(
        valid(&dir).with_var("HEAT_CONFIG", "gone.toml"),
        ConfigError::ConfigFileMissing { .. },
        &["gone.toml", "HEAT_CONFIG (from the environment)"]
    );
}

#[test]
fn unreadable_config_file_is_its_own_error() {
    let dir = tmp();
    fs::create_dir(dir.path().join("dir.toml")).unwrap();
    fails_with!(
        valid(&dir).with_config_path("dir.toml"),
        ConfigError::ConfigFileUnreadable { .. },
        &["dir.toml", "cannot be read"]
    );
}

// --- TOML structure ------------------------------------------------------------------------

#[test]
fn unknown_keys_are_named() {
    let dir = tmp();
    fails_with!(
        with_toml(&dir, "heat.toml", "[mqtt]\nbrokr = \"x\"\n"),
        ConfigError::UnknownKey { .. },
        &["mqtt.brokr", "heat.toml", "check the spelling", "broker"]
    );

    fails_with!(
        with_toml(&dir, "heat2.toml", "[mqqt]\nbroker = \"x\"\n"),
        ConfigError::UnknownKey { .. },
        &["mqqt", "heat2.toml"]
    );
}

#[test]
fn password_in_toml_is_refused_with_the_alternatives() {
    let dir = tmp();
    fails_with!(
        with_toml(
            &dir,
            "heat.toml",
            &format!("[mqtt]\npassword = \"{PASSWORD}\"\n")
        ),
        ConfigError::PasswordInToml { .. },
        &["mqtt.password", "MQTT_PASSWORD_FILE", "systemd credential"]
    );
}

#[test]
fn broken_toml_never_quotes_its_lines() {
    let dir = tmp();
    fails_with!(
        with_toml(
            &dir,
            "heat.toml",
            &format!("[mqtt]\nbroker = \"{PASSWORD}\n")
        ),
        ConfigError::ConfigFileInvalid { .. },
        &["heat.toml", "line 2"]
    );
}

#[test]
fn toml_table_where_a_value_belongs_is_invalid() {
    let dir = tmp();
    fails_with!(
        with_toml(&dir, "heat.toml", "[mqtt.port]\nx = 1\n"),
        ConfigError::ConfigFileInvalid { .. },
        &["heat.toml"]
    );
}

#[test]
fn toml_paths_are_relative_to_the_toml_file() {
    let dir = tmp();
    write(
        dir.path(),
        "etc/secrets/pw",
        "from-toml-relative-file\n",
        0o600,
    );
    write(dir.path(), "etc/ca.pem", "pem", 0o644);
    let toml = write(
        dir.path(),
        "etc/heat.toml",
        "[mqtt]\npassword_file = \"secrets/pw\"\nca_file = \"ca.pem\"\nusername = \"toml-user\"\n",
        0o644,
    );
    let sources = Sources::new(dir.path()).with_config_path(&toml);
    let s = load(&sources);
    assert_eq!(
        s.broker().credentials().password().expose_secret(),
        "from-toml-relative-file"
    );
    assert_eq!(s.broker().credentials().username().as_str(), "toml-user");
    let tls = s.broker().tls().expect("tls on");
    assert_eq!(
        tls.trust,
        TrustAnchor::CaFile(dir.path().join("etc/ca.pem"))
    );
    let report = s.effective().to_string();
    assert!(report.contains(&format!(
        "[REDACTED] (from mqtt.password_file={} in {})",
        dir.path().join("etc/secrets/pw").display(),
        toml.display()
    )));
}

#[test]
fn keep_alive_comes_from_toml_and_is_checked() {
    let dir = tmp();
    let s = load(&with_toml(
        &dir,
        "heat.toml",
        "[mqtt]\nkeep_alive_secs = 60\n",
    ));
    assert_eq!(s.broker().keep_alive(), Duration::from_secs(60));

    fails_with!(
        with_toml(&dir, "bad.toml", "[mqtt]\nkeep_alive_secs = 0\n"),
        ConfigError::InvalidKeepAlive { .. },
        &["mqtt.keep_alive_secs in", "bad.toml", "1 to 65535"]
    );
}

// --- Credentials ---------------------------------------------------------------------------

#[test]
fn missing_username_says_where_to_set_it() {
    let dir = tmp();
    fails_with!(
        Sources::new(dir.path()).with_var("MQTT_PASSWORD", PASSWORD),
        ConfigError::MissingCredential {
            which: Credential::Username
        },
        &["MQTT_USERNAME", ".env"]
    );
}

#[test]
fn missing_password_lists_every_source() {
    let dir = tmp();
    fails_with!(
        Sources::new(dir.path()).with_var("MQTT_USERNAME", "heat"),
        ConfigError::MissingCredential {
            which: Credential::Password
        },
        &["MQTT_PASSWORD", "MQTT_PASSWORD_FILE", "mqtt_password"]
    );
}

#[test]
fn empty_username_and_password() {
    let dir = tmp();
    fails_with!(
        valid(&dir).with_var("MQTT_USERNAME", ""),
        ConfigError::EmptyCredential {
            which: Credential::Username,
            ..
        },
        &[
            "MQTT_USERNAME (from the environment) is empty",
            "set MQTT_USERNAME",
        ]
    );

    fails_with!(
        valid(&dir).with_var("MQTT_PASSWORD", ""),
        ConfigError::EmptyCredential {
            which: Credential::Password,
            ..
        },
        &[
            "MQTT_PASSWORD (from the environment) is empty: set it in the environment, in .env, \
         or put it in a file named by MQTT_PASSWORD_FILE",
        ]
    );
}

#[test]
fn whitespace_only_credentials() {
    let dir = tmp();
    fails_with!(
        valid(&dir).with_var("MQTT_USERNAME", " \t"),
        ConfigError::BlankCredential {
            which: Credential::Username,
            ..
        },
        &["MQTT_USERNAME", "only whitespace", "set MQTT_USERNAME"]
    );

    fails_with!(
        valid(&dir).with_var("MQTT_PASSWORD", "   "),
        ConfigError::BlankCredential {
            which: Credential::Password,
            ..
        },
        &["MQTT_PASSWORD", "only whitespace", "MQTT_PASSWORD_FILE"]
    );
}

#[test]
fn nul_bytes_in_credentials() {
    let dir = tmp();
    fails_with!(
        valid(&dir).with_var("MQTT_USERNAME", "he\0at"),
        ConfigError::NulInCredential {
            which: Credential::Username,
            ..
        },
        &["MQTT_USERNAME", "NUL"]
    );

    let err = fails_with!(
        valid(&dir).with_var("MQTT_PASSWORD", "long-enough\0password"),
        ConfigError::NulInCredential {
            which: Credential::Password,
            ..
        },
        &["MQTT_PASSWORD", "NUL", "MQTT_PASSWORD_FILE"]
    );
    assert!(!err.to_string().contains("long-enough"));
}

#[test]
fn an_unedited_copy_of_env_example_fails_fast() {
    let example = include_str!("../../../../.env.example");
    let dir = tmp();
    write(dir.path(), ".env", example, 0o600);
    fails_with!(
        Sources::new(dir.path()),
        ConfigError::PlaceholderCredential {
            which: Credential::Username,
            ..
        },
        &["MQTT_USERNAME", "placeholder", ".env.example"]
    );

    fails_with!(
        Sources::new(dir.path()).with_var("MQTT_USERNAME", "heat"),
        ConfigError::PlaceholderCredential {
            which: Credential::Password,
            ..
        },
        &[
            "MQTT_PASSWORD (from",
            ".env)",
            "placeholder",
            "MQTT_PASSWORD_FILE",
        ]
    );
}

#[test]
fn password_and_password_file_together_conflict() {
    let dir = tmp();
    let file = write(dir.path(), "pw", "another-long-password\n", 0o600);
    fails_with!(
        valid(&dir).with_var("MQTT_PASSWORD_FILE", file.to_str().unwrap()),
        ConfigError::PasswordConflict { .. },
        &[
            "MQTT_PASSWORD (from the environment)",
            "MQTT_PASSWORD_FILE",
            "exactly one",
        ]
    );

    // Also when the file is named by the TOML file.
    fails_with!(
        with_toml(&dir, "heat.toml", "[mqtt]\npassword_file = \"pw\"\n"),
        ConfigError::PasswordConflict { .. },
        &["mqtt.password_file in"]
    );
}

#[test]
fn password_file_loses_exactly_one_trailing_newline() {
    let cases = [
        ("secret-password-1\n", "secret-password-1"),
        ("secret-password-1\r\n", "secret-password-1"),
        ("secret-password-1", "secret-password-1"),
        ("secret-password-1\n\n", "secret-password-1\n"),
        ("secret-password-1 \n", "secret-password-1 "),
        ("  secret-password-1\n", "  secret-password-1"),
    ];
    for (contents, expected) in cases {
        let dir = tmp();
        let file = write(dir.path(), "pw", contents, 0o600);
        let sources = Sources::new(dir.path())
            .with_var("MQTT_USERNAME", "heat")
            .with_var("MQTT_PASSWORD_FILE", file.to_str().unwrap());
        let s = load(&sources);
        assert_eq!(
            s.broker().credentials().password().expose_secret(),
            expected,
            "contents {contents:?}"
        );
    }
}

#[test]
fn password_file_problems() {
    let dir = tmp();
    let base = Sources::new(dir.path()).with_var("MQTT_USERNAME", "heat");
    let password_file = |name: &str| base.clone().with_var("MQTT_PASSWORD_FILE", name);

    fails_with!(
        password_file("missing"),
        ConfigError::PasswordFileMissing { .. },
        &[
            "MQTT_PASSWORD_FILE (from the environment)",
            "does not exist",
            "missing",
        ]
    );

    fs::create_dir(dir.path().join("adir")).unwrap();
    fails_with!(
        password_file("adir"),
        ConfigError::PasswordFileUnreadable { .. },
        &["MQTT_PASSWORD_FILE", "cannot be read"]
    );

    let open = write(dir.path(), "open", &format!("{PASSWORD}\n"), 0o644);
    fails_with!(
        password_file("open"),
        ConfigError::PasswordFileTooOpen { mode: 0o644, .. },
        &[
            "MQTT_PASSWORD_FILE",
            "644",
            &format!("chmod 600 {}", open.display()),
        ]
    );

    write(dir.path(), "group", &format!("{PASSWORD}\n"), 0o640);
    fails_with!(
        password_file("group"),
        ConfigError::PasswordFileTooOpen { .. },
        &[]
    );

    write(dir.path(), "empty", "\n", 0o600);
    fails_with!(
        password_file("empty"),
        ConfigError::EmptyCredential {
            which: Credential::Password,
            ..
        },
        &["MQTT_PASSWORD_FILE", "empty"]
    );

    fs::write(dir.path().join("binary"), [0xff, 0xfe, b'x']).unwrap();
    fs::set_permissions(
        dir.path().join("binary"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    fails_with!(
        password_file("binary"),
        ConfigError::PasswordFileUnreadable { .. },
        &["UTF-8"]
    );
}

#[test]
fn systemd_credential_is_used_when_no_variable_is_set() {
    let dir = tmp();
    let creds = dir.path().join("creds");
    write(&creds, "mqtt_password", "from-systemd-credential\n", 0o400);
    let sources = Sources::new(dir.path())
        .with_var("MQTT_USERNAME", "heat")
        .with_var("CREDENTIALS_DIRECTORY", creds.to_str().unwrap());
    let s = load(&sources);
    assert_eq!(
        s.broker().credentials().password().expose_secret(),
        "from-systemd-credential"
    );
    assert!(s.effective().to_string().contains("systemd credential"));
    assert_eq!(
        s.password_file(),
        Some(creds.join("mqtt_password").as_path())
    );

    // An explicit variable wins over the credential and does not conflict with it.
    let s = load(&sources.with_var("MQTT_PASSWORD", PASSWORD));
    assert_eq!(
        s.broker().credentials().password().expose_secret(),
        PASSWORD
    );
    assert_eq!(s.password_file(), None, "a variable is no file to watch");
}

#[test]
fn the_password_file_is_named_for_watching() {
    let dir = tmp();
    let file = write(dir.path(), "pw", &format!("{PASSWORD}\n"), 0o600);
    let sources = Sources::new(dir.path())
        .with_var("MQTT_USERNAME", "heat")
        .with_var("MQTT_PASSWORD_FILE", "pw");
    assert_eq!(load(&sources).password_file(), Some(file.as_path()));
}

#[test]
fn short_password_starts_with_a_warning() {
    let dir = tmp();
    let s = load(&valid(&dir).with_var("MQTT_PASSWORD", "short-pw"));
    assert_eq!(s.warnings().len(), 1, "{:?}", s.warnings());
    assert!(s.warnings()[0].contains("16"));
    assert!(!s.warnings()[0].contains("short-pw"));
}

// --- Broker, port, version, client id --------------------------------------------------------

#[test]
fn port_must_be_a_number_in_range() {
    let dir = tmp();
    fails_with!(
        valid(&dir).with_var("MQTT_PORT", "http"),
        ConfigError::PortNotANumber { .. },
        &["MQTT_PORT (from the environment)", "\"http\"", "1 to 65535"]
    );

    for bad in ["0", "65536", "-1", "99999999999999999999999"] {
        fails_with!(
            valid(&dir).with_var("MQTT_PORT", bad),
            ConfigError::PortOutOfRange { .. },
            &["MQTT_PORT", "out of range", "1 to 65535"],
            case: bad
        );
    }

    write(dir.path(), ".env", "MQTT_PORT=70000\n", 0o600);
    fails_with!(
        valid(&dir),
        ConfigError::PortOutOfRange { .. },
        &["MQTT_PORT (from", ".env)"]
    );

    let toml = write(dir.path(), "heat.toml", "[mqtt]\nport = 70000\n", 0o644);
    fails_with!(
        Sources::new(tmp().path()).with_config_path(&toml),
        ConfigError::PortOutOfRange { .. },
        &[&format!("mqtt.port in {}", toml.display())]
    );
}

#[test]
fn version_is_3_1_1_or_5() {
    let dir = tmp();
    let s = load(&valid(&dir).with_var("MQTT_VERSION", "5"));
    assert_eq!(s.broker().protocol(), Protocol::V5);
    fails_with!(
        valid(&dir).with_var("MQTT_VERSION", "3"),
        ConfigError::InvalidVersion { .. },
        &["MQTT_VERSION", "\"3\"", "3.1.1 or 5"]
    );
}

#[test]
fn client_id_with_characters_a_broker_rejects() {
    let dir = tmp();
    fails_with!(
        valid(&dir).with_var("MQTT_CLIENT_ID", "solar heating/1"),
        ConfigError::InvalidClientId { .. },
        &["MQTT_CLIENT_ID", "letters, digits"]
    );
}

#[test]
fn broker_must_be_a_bare_host() {
    let dir = tmp();
    for bad in ["mqtt://host", "host:1883", "ho st", "a/b"] {
        fails_with!(
            valid(&dir).with_var("MQTT_BROKER", bad),
            ConfigError::InvalidBroker { .. },
            &["MQTT_BROKER", "host name or IP address"],
            case: bad
        );
    }
    let s = load(&valid(&dir).with_var("MQTT_BROKER", "::1"));
    assert_eq!(s.broker().host(), "::1");
}

#[test]
fn empty_values_are_errors_naming_the_variable() {
    let dir = tmp();
    fails_with!(
        valid(&dir).with_var("MQTT_BROKER", ""),
        ConfigError::EmptyValue { .. },
        &["MQTT_BROKER (from the environment) is empty"]
    );
}

#[test]
fn remote_broker_without_tls_warns() {
    let dir = tmp();
    let s = load(&valid(&dir).with_var("MQTT_BROKER", "broker.lan"));
    assert!(
        s.warnings().iter().any(|w| w.contains("plain TCP")),
        "{:?}",
        s.warnings()
    );
}

#[test]
fn variables_that_are_not_unicode_are_errors() {
    let dir = tmp();
    fails_with!(
        valid(&dir).with_non_unicode_var("MQTT_PORT"),
        ConfigError::NotUnicode { .. },
        &["MQTT_PORT", "UTF-8"]
    );
}

/// The converse of the `debug_assert!` in `Loader::var`: no name in [`VARIABLES`] is stale.
#[test]
fn every_listed_variable_is_read() {
    let dir = tmp();
    for &var in VARIABLES {
        // The systemd credential is only looked for when no other password source is set.
        let sources = if var == CREDENTIALS_DIRECTORY {
            Sources::new(dir.path()).with_var("MQTT_USERNAME", "heat")
        } else {
            valid(&dir)
        };
        let err = fail(&sources.with_non_unicode_var(var));
        assert!(
            matches!(&err, ConfigError::NotUnicode { variable } if variable == var),
            "{var}: {err:?}"
        );
    }
}

#[test]
fn unparsable_dotenv_line_is_located_but_not_quoted() {
    let dir = tmp();
    write(
        dir.path(),
        ".env",
        &format!("MQTT_USERNAME=heat\n# comment\nMQTT_PASSWORD='{PASSWORD}\n"),
        0o600,
    );
    fails_with!(
        Sources::new(dir.path()),
        ConfigError::EnvFileInvalid { .. },
        &[".env", "NAME=value"]
    );
}

// --- TLS -------------------------------------------------------------------------------------

#[test]
fn ca_file_turns_tls_on_with_port_8883() {
    let dir = tmp();
    let ca = write(dir.path(), "ca.pem", "pem", 0o644);
    let s = load(&valid(&dir).with_var("MQTT_CA_FILE", "ca.pem"));
    assert_eq!(s.broker().port(), 8883);
    let tls = s.broker().tls().expect("tls");
    assert_eq!(tls.trust, TrustAnchor::CaFile(ca));
    assert_eq!(tls.verification, Verification::Full);
    assert!(tls.client_cert.is_none());
    assert!(
        s.effective()
            .to_string()
            .contains("8883 (default with TLS)")
    );

    let s = load(
        &valid(&dir)
            .with_var("MQTT_CA_FILE", "ca.pem")
            .with_var("MQTT_PORT", "1884"),
    );
    assert_eq!(s.broker().port(), 1884);
}

#[test]
fn missing_ca_file() {
    let dir = tmp();
    fails_with!(
        valid(&dir).with_var("MQTT_CA_FILE", "nope.pem"),
        ConfigError::CaFileMissing { .. },
        &["MQTT_CA_FILE", "nope.pem", "does not exist"]
    );
}

#[test]
fn tls_true_uses_the_system_store_and_booleans_are_lenient() {
    let dir = tmp();
    for yes in ["true", "1", "yes", "YES", "True"] {
        let s = load(&valid(&dir).with_var("MQTT_TLS", yes));
        let tls = s.broker().tls().expect("tls");
        assert_eq!(tls.trust, TrustAnchor::SystemStore, "{yes}");
        assert_eq!(s.broker().port(), 8883);
    }
    for no in ["false", "0", "no", "NO"] {
        assert!(
            load(&valid(&dir).with_var("MQTT_TLS", no))
                .broker()
                .tls()
                .is_none()
        );
    }
    fails_with!(
        valid(&dir).with_var("MQTT_TLS", "on"),
        ConfigError::InvalidBool { .. },
        &["MQTT_TLS (from the environment)", "\"on\"", "true or false"]
    );
}

#[test]
fn tls_false_with_a_ca_file_conflicts() {
    let dir = tmp();
    write(dir.path(), "ca.pem", "pem", 0o644);
    let sources = valid(&dir)
        .with_var("MQTT_CA_FILE", "ca.pem")
        .with_var("MQTT_TLS", "false");
    fails_with!(
        sources,
        ConfigError::TlsDisabledWithCaFile { .. },
        &["MQTT_TLS", "MQTT_CA_FILE"]
    );
}

#[test]
fn client_certificate_needs_both_files_and_tls() {
    let dir = tmp();
    write(dir.path(), "c.pem", "pem", 0o644);
    write(dir.path(), "k.pem", "key", 0o600);
    let tls = valid(&dir).with_var("MQTT_TLS", "true");

    fails_with!(
        tls.clone().with_var("MQTT_CERT_FILE", "c.pem"),
        ConfigError::IncompleteClientCertificate { .. },
        &["MQTT_CERT_FILE", "MQTT_KEY_FILE", "needs both"]
    );
    fails_with!(
        tls.clone().with_var("MQTT_KEY_FILE", "k.pem"),
        ConfigError::IncompleteClientCertificate { .. },
        &["MQTT_CERT_FILE", "MQTT_KEY_FILE"]
    );

    let both = |s: Sources| {
        s.with_var("MQTT_CERT_FILE", "c.pem")
            .with_var("MQTT_KEY_FILE", "k.pem")
    };
    fails_with!(
        both(valid(&dir)),
        ConfigError::ClientCertificateWithoutTls { .. },
        &["MQTT_CERT_FILE", "MQTT_CA_FILE or MQTT_TLS=true"]
    );

    let s = load(&both(tls.clone()));
    let cert = s
        .broker()
        .tls()
        .and_then(|t| t.client_cert.clone())
        .expect("cert");
    assert_eq!(cert.cert_file, dir.path().join("c.pem"));
    assert_eq!(cert.key_file, dir.path().join("k.pem"));
}

#[test]
fn client_certificate_file_problems() {
    let dir = tmp();
    write(dir.path(), "c.pem", "pem", 0o644);
    write(dir.path(), "k.pem", "key", 0o600);
    let open_key = write(dir.path(), "open.key", "key", 0o644);
    let tls = valid(&dir).with_var("MQTT_TLS", "true");
    let with = |cert: &str, key: &str| {
        tls.clone()
            .with_var("MQTT_CERT_FILE", cert)
            .with_var("MQTT_KEY_FILE", key)
    };

    fails_with!(
        with("nope.pem", "k.pem"),
        ConfigError::CertFileMissing { .. },
        &["MQTT_CERT_FILE", "nope.pem", "does not exist"]
    );

    fails_with!(
        with("c.pem", "nope.key"),
        ConfigError::KeyFileMissing { .. },
        &["MQTT_KEY_FILE", "nope.key", "does not exist"]
    );

    fails_with!(
        with("c.pem", "open.key"),
        ConfigError::KeyFileTooOpen { mode: 0o644, .. },
        &[
            "MQTT_KEY_FILE",
            &format!("chmod 600 {}", open_key.display()),
        ]
    );

    fs::create_dir(dir.path().join("kdir")).unwrap();
    fails_with!(
        with("c.pem", "kdir"),
        ConfigError::KeyFileUnreadable { .. },
        &["MQTT_KEY_FILE", "cannot be read"]
    );
}

#[test]
fn insecure_needs_tls_and_warns() {
    let dir = tmp();
    fails_with!(
        valid(&dir).with_var("MQTT_TLS_INSECURE", "true"),
        ConfigError::InsecureWithoutTls { .. },
        &["MQTT_TLS_INSECURE", "TLS is off", "MQTT_TLS=true"]
    );

    let s = load(
        &valid(&dir)
            .with_var("MQTT_TLS", "1")
            .with_var("MQTT_TLS_INSECURE", "yes"),
    );
    assert_eq!(
        s.broker().tls().map(|t| t.verification),
        Some(Verification::Insecure)
    );
    assert!(
        s.warnings().iter().any(|w| w.contains("NOT verified")),
        "{:?}",
        s.warnings()
    );
}

// --- Topic prefix ----------------------------------------------------------------------------

#[test]
fn topic_prefix_rules() {
    let dir = tmp();
    let prefix = |p: &str| valid(&dir).with_var("MQTT_TOPIC_PREFIX", p);
    assert_eq!(load(&prefix("home/solar")).topic_prefix(), "home/solar");
    load(&prefix("homeassistant_solar")); // beside the discovery prefix, not inside it

    fails_with!(
        prefix(""),
        ConfigError::TopicPrefixEmpty { .. },
        &["MQTT_TOPIC_PREFIX", "solar_heating"]
    );
    for bad in ["a/+/b", "#", "a\0b"] {
        fails_with!(
            prefix(bad),
            ConfigError::TopicPrefixBadChar { .. },
            &["MQTT_TOPIC_PREFIX", "wildcards"],
            case: bad
        );
    }
    for bad in ["/solar", "solar/"] {
        fails_with!(
            prefix(bad),
            ConfigError::TopicPrefixSlash { .. },
            &["MQTT_TOPIC_PREFIX", "'/'"],
            case: bad
        );
    }
    for bad in ["homeassistant", "homeassistant/solar"] {
        fails_with!(
            prefix(bad),
            ConfigError::TopicPrefixInDiscovery { .. },
            &["MQTT_TOPIC_PREFIX", "discovery prefix", "solar_heating"],
            case: bad
        );
    }
}

// --- Redaction -------------------------------------------------------------------------------

#[test]
fn nothing_prints_the_password() {
    let dir = tmp();
    let file = write(dir.path(), "pw", &format!("{PASSWORD}\n"), 0o600);
    let sources = Sources::new(dir.path())
        .with_var("MQTT_USERNAME", "heat")
        .with_var("MQTT_PASSWORD_FILE", file.to_str().unwrap());
    let s = load(&sources);
    let report = s.effective().to_string();
    assert!(report.contains(&format!(
        "[REDACTED] (from MQTT_PASSWORD_FILE={})",
        file.display()
    )));
    for shown in [format!("{s:?}"), report, format!("{sources:?}")] {
        assert!(!shown.contains(PASSWORD), "{shown}");
    }
    let env_sources = valid(&dir);
    assert!(!format!("{env_sources:?}").contains(PASSWORD));
    assert!(!format!("{:?}", load(&env_sources)).contains(PASSWORD));
}

/// Passwords distinctive enough that finding one in a message is a leak, not a coincidence,
/// but with blanks, NULs and newlines around them.
fn password_strategy() -> impl Strategy<Value = String> {
    "[ \t\n\0]{0,2}PW[A-Za-z0-9]{10,20}[ \t\r\n\0]{0,2}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_values_never_panic_nor_leak(
        password in password_strategy(),
        which in 0..VARIABLES.len(),
        value in any::<String>(),
        in_dotenv in any::<bool>(),
    ) {
        prop_assume!(!value.contains(password.trim_matches(|c: char| c.is_whitespace() || c == '\0')));
        let dir = tmp();
        let var = VARIABLES[which];
        let mut sources = Sources::new(dir.path())
            .with_var("MQTT_USERNAME", "heat")
            .with_var("MQTT_PASSWORD", password.clone());
        if in_dotenv {
            let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
            write(dir.path(), ".env", &format!("{var}=\"{escaped}\"\n"), 0o600);
        } else {
            sources = sources.with_var(var, value);
        }
        let core = password.trim_matches(|c: char| c.is_whitespace() || c == '\0');
        match Settings::load(&sources) {
            Ok(settings) => {
                let debug = format!("{settings:?}");
                prop_assert!(!debug.contains(core));
                prop_assert!(!settings.effective().to_string().contains(core));
                prop_assert!(!settings.warnings().iter().any(|w| w.contains(core)));
            }
            Err(err) => {
                prop_assert!(!err.to_string().contains(core), "{}", err);
                let debug = format!("{err:?}");
                prop_assert!(!debug.contains(core), "{}", debug);
            }
        }
        let debug = format!("{sources:?}");
        prop_assert!(!debug.contains(core));
    }

    #[test]
    fn arbitrary_toml_values_never_panic(key in 0..crate::raw::MQTT_KEYS.len(), value in any::<String>()) {
        let dir = tmp();
        let key = crate::raw::MQTT_KEYS[key];
        let literal = toml_string(&value);
        let toml = format!("[mqtt]\n{key} = {literal}\n");
        let result = Settings::load(&with_toml(&dir, "heat.toml", &toml));
        if let Err(err) = result {
            prop_assert!(!err.to_string().contains(PASSWORD));
            prop_assert!(!err.to_string().is_empty());
        }
    }
}

/// `value` as a TOML basic string.
fn toml_string(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// --- Whole layers at once (the fuzz target `settings_load` on stable) ------------------------

/// Every variable a whole-layer case may set (the password goes its own way).
fn layer_variables() -> Vec<&'static str> {
    VARIABLES
        .iter()
        .copied()
        .filter(|&var| var != "MQTT_PASSWORD")
        .collect()
}

/// A value that is sometimes right: small numbers, booleans, names and paths, or anything.
fn layer_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,6}",
        "(true|false|yes|no|1|0|3\\.1\\.1|5|localhost|heat|gpiochip0|w1|gpio|sim)",
        "[a-z/._-]{1,20}",
        any::<String>(),
    ]
}

/// A TOML scalar: sometimes a valid one, sometimes raw text.
fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        layer_value().prop_map(|v| toml_string(&v)),
        "-?[0-9]{1,5}(\\.[0-9]{1,3})?",
        "(true|false)",
        "[^\n]{0,12}",
    ]
}

/// TOML text made of table headers, known keys and raw lines, in any order.
fn toml_text() -> impl Strategy<Value = String> {
    let keys: Vec<&'static str> = [
        crate::raw::MQTT_KEYS,
        crate::raw::CONTROLLER_KEYS,
        crate::raw::CONTROL_KEYS,
        crate::raw::HARDWARE_KEYS,
        crate::raw::RELAY_KEYS,
        &["collector", "tank_bottom", "tank_top", "ambient"],
    ]
    .concat();
    let line = prop_oneof![
        proptest::sample::select(vec![
            "[mqtt]",
            "[controller]",
            "[control]",
            "[hardware]",
            "[hardware.sensors]",
            "[hardware.relays.pump]",
            "[hardware.relays.heater]",
        ])
        .prop_map(str::to_owned),
        (proptest::sample::select(keys), toml_value()).prop_map(|(k, v)| format!("{k} = {v}")),
        any::<String>(),
    ];
    proptest::collection::vec(line, 0..8).prop_map(|lines| lines.join("\n"))
}

/// `.env` text: variable lines (quoted or not) and raw lines.
fn dotenv_text() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        (proptest::sample::select(layer_variables()), layer_value())
            .prop_map(|(k, v)| format!("{k}={v}")),
        (proptest::sample::select(layer_variables()), layer_value()).prop_map(|(k, v)| {
            let escaped = v.replace('\\', "\\\\").replace('"', "\\\"");
            format!("{k}=\"{escaped}\"")
        }),
        any::<String>(),
    ];
    proptest::collection::vec(line, 0..5).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary environment maps, `.env` text and TOML text together: never a panic, and the
    /// password (from the environment, `.env` or a password file) is in no message.
    #[test]
    fn arbitrary_layers_never_panic_nor_leak(
        password in "PW[A-Za-z0-9]{10,20}",
        via in 0..3u8,
        env in proptest::collection::vec(
            (proptest::sample::select(layer_variables()), layer_value(), any::<bool>()),
            0..6,
        ),
        dotenv in proptest::option::of(dotenv_text()),
        toml in proptest::option::of(toml_text()),
        config_flag in any::<bool>(),
    ) {
        let others = env.iter().map(|(_, v, _)| v.as_str())
            .chain(dotenv.as_deref())
            .chain(toml.as_deref());
        for text in others {
            prop_assume!(!text.contains(&password));
        }
        let dir = tmp();
        // A username by default, so that cases get past it; the map may replace it.
        let mut sources = Sources::new(dir.path()).with_var("MQTT_USERNAME", "heat");
        for (name, value, unicode) in &env {
            sources = if *unicode {
                sources.with_var(*name, value.clone())
            } else {
                sources.with_non_unicode_var(*name)
            };
        }
        let mut dotenv_text = dotenv.clone().unwrap_or_default();
        match via {
            0 => sources = sources.with_var("MQTT_PASSWORD", password.clone()),
            1 => dotenv_text.push_str(&format!("\nMQTT_PASSWORD={password}\n")),
            _ => {
                write(dir.path(), "pw", &format!("{password}\n"), 0o600);
                sources = sources.with_var("MQTT_PASSWORD_FILE", "pw");
            }
        }
        if dotenv.is_some() || via == 1 {
            write(dir.path(), ".env", &dotenv_text, 0o600);
        }
        if let Some(toml) = &toml {
            write(dir.path(), "heat.toml", toml, 0o600);
        }
        if config_flag {
            sources = sources.with_config_path("heat.toml");
        }
        match Settings::load(&sources) {
            Ok(settings) => {
                let debug = format!("{settings:?}");
                prop_assert!(!debug.contains(&password));
                prop_assert!(!settings.effective().to_string().contains(&password));
                prop_assert!(!settings.warnings().iter().any(|w| w.contains(&password)));
            }
            Err(err) => {
                let shown = err.to_string();
                prop_assert!(!shown.is_empty());
                prop_assert!(!shown.contains(&password), "{}", shown);
                let debug = format!("{err:?}");
                prop_assert!(!debug.contains(&password));
            }
        }
        let debug = format!("{sources:?}");
        prop_assert!(!debug.contains(&password));
    }
}

// --- The local-hardware load path ------------------------------------------------------------

#[test]
fn load_local_needs_no_mqtt_setting_and_defaults_without_a_hardware_table() {
    let dir = tmp();
    let bare = Sources::new(dir.path());
    assert!(
        Settings::load(&bare).is_err(),
        "the full load wants a username"
    );
    let local = Settings::load_local(&bare).unwrap();
    assert!(local.hardware().is_none());
    assert_eq!(
        local.hardware_or_unconfigured(),
        HardwareSettings::unconfigured()
    );
    assert_eq!(
        local.hardware_or_unconfigured().backend(),
        crate::Backend::W1
    );
    assert_eq!(
        local.hardware_or_unconfigured().w1_root(),
        Path::new("/sys/bus/w1/devices")
    );
    assert_eq!(local.lock_file(), Path::new(crate::DEFAULT_LOCK_FILE));
    assert!(matches!(
        local.require_hardware(),
        Err(ConfigError::HardwareNotConfigured { .. })
    ));

    // HEAT_CONFIG from .env names the TOML; [hardware] and the lock file come from it, and a
    // broken [hardware] is still refused.
    let toml = "[controller]\nlock_file = \"run/lock\"\n[hardware]\nbackend = \"sim\"\n";
    write(dir.path(), "heat.toml", toml, 0o644);
    write(dir.path(), ".env", "HEAT_CONFIG=heat.toml\n", 0o644);
    let local = Settings::load_local(&bare).unwrap();
    assert_eq!(local.hardware().unwrap().backend(), crate::Backend::Sim);
    assert_eq!(local.lock_file(), dir.path().join("run/lock"));
    write(
        dir.path(),
        "heat.toml",
        "[hardware]\nbackend = \"x\"\n",
        0o644,
    );
    assert!(matches!(
        Settings::load_local(&bare),
        Err(ConfigError::UnknownBackend { .. })
    ));

    // Being wired up: relays given, no sensor ids yet. The wiring tools accept it with a
    // warning; the full load (the controller) refuses it.
    let bad_id =
        "[hardware]\n[hardware.relays.pump]\nline = 17\n[hardware.sensors]\ncollector = \"bad\"\n";
    write(dir.path(), "heat.toml", bad_id, 0o644);
    assert!(
        matches!(
            Settings::load_local(&bare),
            Err(ConfigError::InvalidSensorId { .. })
        ),
        "what is given is still validated"
    );
    let toml = "[hardware]\n[hardware.relays.pump]\nline = 17\n";
    write(dir.path(), "heat.toml", toml, 0o644);
    let local = Settings::load_local(&bare).unwrap();
    let hardware = local.hardware().unwrap();
    assert!(hardware.sensors().is_empty());
    assert_eq!(hardware.relays().len(), 1);
    let warnings = local.warnings().join("\n");
    for role in ["collector", "tank_bottom", "tank_top", "heater"] {
        assert!(warnings.contains(role), "{role}: {warnings}");
    }
    assert!(
        warnings.contains("heat-controller will refuse this"),
        "{warnings}"
    );
    let full = bare
        .clone()
        .with_var("MQTT_USERNAME", "heat")
        .with_var("MQTT_PASSWORD", PASSWORD);
    assert!(matches!(
        Settings::load(&full),
        Err(ConfigError::MissingSensor { .. })
    ));
}

// --- .env: `$`, privacy and unknown names ----------------------------------------------------

#[test]
fn dollar_detection_mirrors_dotenvy_quoting() {
    for (value, substitutes) in [
        ("abc$def", true),
        ("\"abc$def\"", true),
        ("abc$", true),
        ("pa$$word", true),
        ("'abc$def'", false),
        ("abc\\$def", false),
        ("\"abc\\$def\"", false),
        ("ab'$'cd", false),
        ("plain # a $comment", false),
        ("plain", false),
        ("'it''s$'", false),
    ] {
        assert_eq!(value_substitutes(value), substitutes, "{value:?}");
    }
}

#[test]
fn a_dollar_in_a_dotenv_value_is_refused_with_the_fix_and_single_quotes_keep_it() {
    let dir = tmp();
    let bare = Sources::new(dir.path());
    let secret = "abc$def-long-enough-42";
    write(
        dir.path(),
        ".env",
        &format!("# comment\nMQTT_USERNAME=heat\nMQTT_PASSWORD={secret}\n"),
        0o600,
    );
    let err = fail(&bare);
    assert!(
        matches!(&err, ConfigError::EnvFileDollar { line: 3, variable, .. } if variable == "MQTT_PASSWORD"),
        "{err:?}"
    );
    says(&err, &["MQTT_PASSWORD", "line 3", "single quotes", "\\$"]);
    assert!(!err.to_string().contains("def-long"), "{err}");

    // Single quotes: the value is taken literally, as documented in .env.example.
    write(
        dir.path(),
        ".env",
        &format!("MQTT_USERNAME=heat\nMQTT_PASSWORD='{secret}'\nOTHER_TOOL=$HOME\n"),
        0o600,
    );
    let settings = load(&bare);
    assert_eq!(
        settings.broker().credentials().password().expose_secret(),
        secret
    );
    // `\$` works too.
    write(
        dir.path(),
        ".env",
        "MQTT_USERNAME=heat\nMQTT_PASSWORD=abc\\$def-long-enough-42\n",
        0o600,
    );
    assert_eq!(
        load(&bare)
            .broker()
            .credentials()
            .password()
            .expose_secret(),
        secret
    );
}

#[test]
fn a_dotenv_holding_the_password_must_be_private_like_every_secret_file() {
    let dir = tmp();
    let bare = Sources::new(dir.path());
    let text = format!("MQTT_USERNAME=heat\nMQTT_PASSWORD={PASSWORD}\n");
    for mode in [0o644, 0o640, 0o604] {
        write(dir.path(), ".env", &text, mode);
        let err = fail(&bare);
        assert!(
            matches!(err, ConfigError::EnvFileTooOpen { mode: m, .. } if m == mode),
            "{mode:o}: {err:?}"
        );
        says(&err, &[".env", &format!("{mode:03o}"), "chmod 600"]);
    }
    write(dir.path(), ".env", &text, 0o600);
    load(&bare);
    // Without the password, .env holds no secret: its mode is the owner's business.
    write(dir.path(), ".env", "MQTT_USERNAME=heat\n", 0o644);
    load(&bare.clone().with_var("MQTT_PASSWORD", PASSWORD));
}

#[test]
fn unknown_mqtt_and_heat_names_warn_with_the_closest_known_variable() {
    let dir = tmp();
    write(dir.path(), ".env", "HEAT_DISCOVRY=false\nOTHER=1\n", 0o600);
    let sources = valid(&dir)
        .with_var("MQTT_PASWORD", "x")
        .with_var("MQTT_C_CLIENT_TRACE_LEVEL", "ERROR")
        .with_var("PATH", "/usr/bin")
        .with_var("HEATING", "1");
    let settings = load(&sources);
    let warnings = settings.warnings().join("\n");
    assert!(
        warnings.contains(
            "MQTT_PASWORD in the environment is not a variable heat-controller reads (ignored); did you mean MQTT_PASSWORD?"
        ),
        "{warnings}"
    );
    assert!(
        warnings.contains("HEAT_DISCOVRY in ") && warnings.contains("did you mean HEAT_DISCOVERY?"),
        "{warnings}"
    );
    for quiet in ["MQTT_C_CLIENT", "PATH", "OTHER", "HEATING", "MQTT_USERNAME"] {
        assert!(!warnings.contains(quiet), "{quiet}: {warnings}");
    }
    assert_eq!(settings.warnings().len(), 2, "{warnings}");
}

#[test]
fn the_state_directory_comes_from_systemd_or_the_toml_file() {
    let dir = tmp();
    // Neither: nothing persisted.
    assert_eq!(load(&valid(&dir)).controller().state_dir(), None);
    // The TOML key, relative to the file's directory.
    let toml = "[controller]\nstate_dir = \"state\"\n";
    let s = load(&with_toml(&dir, "etc/heat.toml", toml));
    assert_eq!(
        s.controller().state_dir(),
        Some(dir.path().join("etc/state").as_path())
    );
    // systemd's STATE_DIRECTORY wins over the file, as every variable does.
    let s = load(&with_toml(&dir, "etc/heat.toml", toml).with_var("STATE_DIRECTORY", "/var/lib/x"));
    assert_eq!(s.controller().state_dir(), Some(Path::new("/var/lib/x")));
    let effective = s.effective().to_string();
    assert!(
        effective
            .lines()
            .any(|l| l.starts_with("state_dir") && l.contains("/var/lib/x")),
        "{effective}"
    );
    // An empty value is an error, never a silent "not set".
    fails_with!(
        valid(&dir).with_var("STATE_DIRECTORY", ""),
        ConfigError::EmptyValue { .. },
        &["STATE_DIRECTORY"]
    );
}

#[test]
fn the_persist_interval_is_whole_seconds_from_1_to_86400() {
    let dir = tmp();
    assert_eq!(
        load(&valid(&dir)).controller().persist_interval(),
        Duration::from_secs(600)
    );
    let toml = "[controller]\npersist_interval_secs = 1\n";
    let s = load(&with_toml(&dir, "heat.toml", toml));
    assert_eq!(s.controller().persist_interval(), Duration::from_secs(1));
    for bad in ["0", "86401", "1.5", "\"ten\""] {
        let toml = format!("[controller]\npersist_interval_secs = {bad}\n");
        fails_with!(
            with_toml(&dir, "heat.toml", &toml),
            ConfigError::InvalidNumber { .. },
            &["persist_interval_secs", "1 to 86400", "default 600"],
        );
    }
}
