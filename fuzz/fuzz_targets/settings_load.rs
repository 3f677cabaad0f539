//! Fuzz target: `heat_config::Settings::load` from an arbitrary environment map, `.env` text and
//! TOML text written to a temporary directory.
//!
//! Properties: it never panics, and the password (a distinctive `PW…` string given through the
//! environment, `.env` or a password file) never appears in an error's `Display` or `Debug`, in
//! the `Debug` of valid settings, their effective-settings report or their warnings. Inputs whose
//! other text contains the password itself are skipped: an error may rightly quote them.

#![no_main]

use std::{
    collections::HashMap,
    fs,
    io::Write,
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
    sync::{Mutex, OnceLock},
};

use arbitrary::Arbitrary;
use heat_config::{Settings, Sources, VARIABLES};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
enum Name {
    /// One of `heat_config::VARIABLES` (every variable the loader reads), so most names hit
    /// something.
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

/// The working directory of the whole run (a fresh one per input costs more than the load) and
/// what the previous input left in it.
struct Workdir {
    dir: PathBuf,
    /// The contents of each file the previous input wrote; a name that is missing has no file.
    files: HashMap<&'static str, Vec<u8>>,
}

impl Workdir {
    /// On tmpfs (`/dev/shm`) when there is one: the loader makes the same system calls there,
    /// and creating, truncating and removing files on a disk file system cost more than the load.
    fn get() -> &'static Mutex<Workdir> {
        static WORKDIR: OnceLock<Mutex<Workdir>> = OnceLock::new();
        WORKDIR.get_or_init(|| {
            let mut builder = tempfile::Builder::new();
            builder.prefix("heat-fuzz-settings");
            let shm = Path::new("/dev/shm");
            let dir = if shm.is_dir() {
                builder.tempdir_in(shm)
            } else {
                builder.tempdir()
            }
            .expect("temp dir");
            Mutex::new(Workdir {
                dir: dir.keep(),
                files: HashMap::new(),
            })
        })
    }

    /// Makes `name` hold `contents` with mode 0600, or not exist (`None`). Touches the file only
    /// when that differs from what the previous input left: the loader never writes.
    fn set(&mut self, name: &'static str, contents: Option<&[u8]>) {
        if self.files.get(name).map(Vec::as_slice) == contents {
            return;
        }
        let path = self.dir.join(name);
        match contents {
            Some(contents) => {
                write_private(&path, contents);
                self.files.insert(name, contents.to_vec());
            }
            None => {
                fs::remove_file(&path).expect("remove fuzz input");
                self.files.remove(name);
            }
        }
    }
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

/// Writes `contents` to `path`, whose mode is then 0600 (`chmod` only when the umask got in
/// the way).
fn write_private(path: &Path, contents: &[u8]) {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .expect("open fuzz input");
    file.write_all(contents).expect("write fuzz input");
    let mode = file
        .metadata()
        .expect("stat fuzz input")
        .permissions()
        .mode();
    if mode & 0o777 != 0o600 {
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .expect("chmod fuzz input");
    }
}

fuzz_target!(|input: Input| {
    let mut workdir = Workdir::get().lock().expect("workdir lock");
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

    let mut sources = Sources::new(&workdir.dir);
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
    let mut password_file = None;
    match input.via {
        PasswordVia::Env => sources = sources.with_var("MQTT_PASSWORD", secret.clone()),
        PasswordVia::DotEnv => {
            dotenv.extend_from_slice(format!("\nMQTT_PASSWORD={secret}\n").as_bytes());
        }
        PasswordVia::File => {
            password_file = Some(format!("{secret}\n").into_bytes());
            sources = sources.with_var("MQTT_PASSWORD_FILE", "password");
        }
    }
    workdir.set("password", password_file.as_deref());
    let dotenv_present = input.dotenv.is_some() || matches!(input.via, PasswordVia::DotEnv);
    workdir.set(".env", dotenv_present.then_some(dotenv.as_slice()));
    workdir.set("heat.toml", input.toml.as_ref().map(String::as_bytes));
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
