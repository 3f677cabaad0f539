//! `heat-diag passwd <file> <user>`: adds or rotates one user's `$7$` line, leaving every other
//! line of the password file alone. The new password comes from stdin or is generated into a
//! 0600 file; it is never an argument, and one shorter than [`MIN_PASSWORD_CHARS`] is refused
//! unless `--allow-weak`.
//!
//! The file is replaced atomically with its owner, group and mode kept (see [`files::replace`]):
//! Debian's Mosquitto re-reads it on SIGHUP as user `mosquitto`, so a file rewritten as
//! `root:root 0600` would lock every client out. A file that does not exist yet is created
//! `0600`, owned by the caller. A file with a line the broker would drop (neither blank, a `#`
//! comment, nor a valid `$7$`/`$6$` line) is refused, naming the line, and left untouched.

use std::{
    io::{BufRead, IsTerminal},
    path::PathBuf,
    process::ExitCode,
};

use mosquitto_setup::{Change, DEFAULT_ITERATIONS, PasswdFile, PasswordLine};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::{EXIT_CONFIG, files, provision::random_password};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The Mosquitto password file. An existing one keeps its owner, group and mode; a missing
    /// one is created with mode 0600, owned by you.
    file: PathBuf,
    /// The user to add or rotate.
    user: String,
    /// Generate a strong password and write it to this file (mode 0600) instead of reading stdin.
    #[arg(long, value_name = "SECRET_FILE")]
    generate: Option<PathBuf>,
    /// Overwrite the --generate file if it exists.
    #[arg(long)]
    force: bool,
    /// PBKDF2 iterations.
    #[arg(long, default_value_t = DEFAULT_ITERATIONS, value_parser = clap::value_parser!(u32).range(10_000..=10_000_000))]
    iterations: u32,
    /// Accept a password shorter than 12 characters.
    #[arg(long)]
    allow_weak: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// Shortest password accepted without `--allow-weak`.
pub(crate) const MIN_PASSWORD_CHARS: usize = 12;

fn fail(message: &str) -> anyhow::Result<ExitCode> {
    eprintln!("heat-diag: {message}");
    Ok(ExitCode::from(EXIT_CONFIG))
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if !mosquitto_setup::passwd::valid_username(&args.user) {
        return fail("the username is empty or holds ':', whitespace or control characters");
    }
    let (existing, existed) = match std::fs::read_to_string(&args.file) {
        Ok(text) => (text, true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (String::new(), false),
        Err(e) => return fail(&format!("cannot read {}: {e}", args.file.display())),
    };
    // Parsed before a password is read or hashed: a file we would refuse costs nothing.
    let mut file = match PasswdFile::parse(&existing) {
        Ok(file) => file,
        Err(err) => {
            return fail(&format!(
                "refusing to edit {}: {err}; Mosquitto would drop that line: fix or remove it, \
                 then run this again (nothing was changed)",
                args.file.display()
            ));
        }
    };
    let password = match &args.generate {
        Some(_) => random_password()?,
        None => match read_stdin() {
            Ok(p) => p,
            Err(message) => return fail(&message),
        },
    };
    let chars = password.expose_secret().chars().count();
    if chars < MIN_PASSWORD_CHARS && !args.allow_weak {
        return fail(&format!(
            "the password has {chars} characters, fewer than {MIN_PASSWORD_CHARS}: use a longer \
             one, or --generate FILE, or pass --allow-weak to accept it anyway"
        ));
    }
    let line = PasswordLine::hash(&args.user, &password, args.iterations)?;
    if let Some(path) = &args.generate {
        let mut text = Zeroizing::new(password.expose_secret().to_owned());
        text.push('\n');
        if let Err(err) = files::write(path, text.as_bytes(), 0o600, args.force) {
            return fail(&err.to_string());
        }
    }
    let change = file.set(&line);
    let mode = match files::replace(&args.file, file.to_text().as_bytes(), 0o600) {
        Ok(mode) => mode,
        Err(err) => return Err(anyhow::anyhow!("{err} (the file was not changed)")),
    };
    let verb = match change {
        Change::Added => "added",
        Change::Rotated => "rotated",
    };
    if args.json {
        let value = serde_json::json!({
            "file": args.file.display().to_string(),
            "user": args.user,
            "change": verb,
            "iterations": args.iterations,
            "mode": format!("{mode:04o}"),
            "generated_into": args.generate.as_ref().map(|p| p.display().to_string()),
        });
        println!("{value:#}");
    } else {
        let kept = if existed {
            format!("other lines, owner, group and mode ({mode:04o}) unchanged")
        } else {
            format!("new file, mode {mode:04o}, owned by you")
        };
        println!(
            "{verb} {} in {} ($7$, {} iterations); {kept}",
            args.user,
            args.file.display(),
            args.iterations
        );
        if let Some(path) = &args.generate {
            println!("the new password is in {} (mode 0600)", path.display());
        }
        println!(
            "reload the broker to apply: kill -HUP <mosquitto pid> (or systemctl reload mosquitto)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads the password from stdin: the first line, without its line ending.
fn read_stdin() -> Result<SecretString, String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("new password (input is shown; prefer piping it in), then Enter:");
    }
    let mut line = Zeroizing::new(String::new());
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err("no password on stdin (pipe one in, or use --generate FILE)".to_owned());
    }
    if password.contains('\0') {
        return Err("the password holds a NUL byte".to_owned());
    }
    Ok(SecretString::from(password.to_owned()))
}
