//! Fuzz target: `heat_config::Settings::load` from an arbitrary environment map, `.env` text and
//! TOML text written to a temporary directory.
//!
//! Properties: it never panics, and the password (a distinctive `PW…` string given through the
//! environment, `.env` or a password file) never appears in an error's `Display` or `Debug`, in
//! the `Debug` of valid settings, their effective-settings report or their warnings. Inputs whose
//! other text contains the password itself are skipped: an error may rightly quote them.

#![no_main]

use std::{
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    sync::OnceLock,
};

use arbitrary::Arbitrary;
use heat_config::{Settings, Sources};
use libfuzzer_sys::fuzz_target;

/// Every variable the loader reads, so most names hit something.
const VARIABLES: &[&str] = &[
    "MQTT_BROKER",
    "MQTT_PORT",
    "MQTT_USERNAME",
    "MQTT_PASSWORD",
    "MQTT_PASSWORD_FILE",
    "MQTT_CLIENT_ID",
    "MQTT_VERSION",
    "MQTT_CA_FILE",
    "MQTT_TLS",
    "MQTT_CERT_FILE",
    "MQTT_KEY_FILE",
    "MQTT_TLS_INSECURE",
    "MQTT_TOPIC_PREFIX",
    "HEAT_CONFIG",
    "HEAT_CONTROL_PERIOD_SECS",
    "HEAT_DISCOVERY",
    "CREDENTIALS_DIRECTORY",
];

#[derive(Debug, Arbitrary)]
enum Name {
    Known(u8),
    Other(String),
}

#[derive(Debug, Arbitrary)]
enum Value {
    Text(String),
    NotUnicode,
}

#[derive(Debug, Arbitrary)]
enum PasswordVia {
    Env,
    DotEnv,
    File,
}

#[derive(Debug, Arbitrary)]
struct Input {
    /// Made into `PW` + at least 10 alphanumerics, so finding it anywhere is a leak.
    password: Vec<u8>,
    via: PasswordVia,
    env: Vec<(Name, Value)>,
    dotenv: Option<Vec<u8>>,
    toml: Option<String>,
    /// Pass the TOML file as `--config` (else only `HEAT_CONFIG` from the map can name it).
    config_flag: bool,
}

/// One working directory for the whole run: a fresh one per input costs more than the load.
fn workdir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("heat-fuzz-settings")
            .tempdir()
            .expect("temp dir");
        dir.keep()
    })
}

fn password(bytes: &[u8]) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::from("PW");
    for b in bytes.iter().take(20) {
        out.push(char::from(ALNUM[usize::from(*b) % ALNUM.len()]));
    }
    while out.len() < 12 {
        out.push('x');
    }
    out
}

fn write(path: &Path, contents: &[u8], mode: u32) {
    fs::write(path, contents).expect("write fuzz input");
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod fuzz input");
}

fuzz_target!(|input: Input| {
    let dir = workdir();
    let secret = password(&input.password);

    // Skip inputs that carry the password elsewhere: an error may quote those values.
    let mut texts: Vec<&[u8]> = Vec::new();
    for (name, value) in &input.env {
        if let Name::Other(n) = name {
            texts.push(n.as_bytes());
        }
        if let Value::Text(v) = value {
            texts.push(v.as_bytes());
        }
    }
    if let Some(d) = &input.dotenv {
        texts.push(d);
    }
    if let Some(t) = &input.toml {
        texts.push(t.as_bytes());
    }
    if texts
        .iter()
        .any(|t| t.windows(secret.len()).any(|w| w == secret.as_bytes()))
    {
        return;
    }

    let mut sources = Sources::new(dir);
    for (name, value) in &input.env {
        let name = match name {
            Name::Known(i) => VARIABLES[usize::from(*i) % VARIABLES.len()].to_owned(),
            Name::Other(n) => n.clone(),
        };
        sources = match value {
            Value::Text(v) => sources.with_var(name, v.clone()),
            Value::NotUnicode => sources.with_non_unicode_var(name),
        };
    }

    let mut dotenv = input.dotenv.clone().unwrap_or_default();
    let password_file = dir.join("password");
    let _ = fs::remove_file(&password_file);
    match input.via {
        PasswordVia::Env => sources = sources.with_var("MQTT_PASSWORD", secret.clone()),
        PasswordVia::DotEnv => {
            dotenv.extend_from_slice(format!("\nMQTT_PASSWORD={secret}\n").as_bytes());
        }
        PasswordVia::File => {
            write(&password_file, format!("{secret}\n").as_bytes(), 0o600);
            sources = sources.with_var("MQTT_PASSWORD_FILE", "password");
        }
    }
    let dotenv_path = dir.join(".env");
    if input.dotenv.is_some() || matches!(input.via, PasswordVia::DotEnv) {
        write(&dotenv_path, &dotenv, 0o600);
    } else {
        let _ = fs::remove_file(&dotenv_path);
    }
    let toml_path = dir.join("heat.toml");
    match &input.toml {
        Some(toml) => write(&toml_path, toml.as_bytes(), 0o600),
        None => {
            let _ = fs::remove_file(&toml_path);
        }
    }
    if input.config_flag {
        sources = sources.with_config_path("heat.toml");
    }

    match Settings::load(&sources) {
        Ok(settings) => {
            assert!(!format!("{settings:?}").contains(&secret), "Debug leaks");
            assert!(
                !settings.effective().to_string().contains(&secret),
                "effective report leaks"
            );
            for warning in settings.warnings() {
                assert!(!warning.contains(&secret), "warning leaks: {warning}");
            }
        }
        Err(err) => {
            let shown = err.to_string();
            assert!(!shown.is_empty());
            assert!(!shown.contains(&secret), "error leaks: {shown}");
            assert!(!format!("{err:?}").contains(&secret), "error Debug leaks");
        }
    }
    assert!(
        !format!("{sources:?}").contains(&secret),
        "Sources Debug leaks"
    );
});
