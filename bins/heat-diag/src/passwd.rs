//! `heat-diag passwd <file> <user>`: adds or rotates one user's `$7$` line, leaving every other
//! line of the password file alone. The new password comes from stdin or is generated into a
//! 0600 file; it is never an argument.

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
    /// The Mosquitto password file (created with mode 0600 if missing).
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
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

fn fail(message: &str) -> anyhow::Result<ExitCode> {
    eprintln!("heat-diag: {message}");
    Ok(ExitCode::from(EXIT_CONFIG))
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if !mosquitto_setup::passwd::valid_username(&args.user) {
        return fail("the username is empty or holds ':', whitespace or control characters");
    }
    let existing = match std::fs::read_to_string(&args.file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return fail(&format!("cannot read {}: {e}", args.file.display())),
    };
    let password = match &args.generate {
        Some(_) => random_password()?,
        None => match read_stdin() {
            Ok(p) => p,
            Err(message) => return fail(&message),
        },
    };
    let line = PasswordLine::hash(&args.user, &password, args.iterations)?;
    if let Some(path) = &args.generate {
        let mut text = Zeroizing::new(password.expose_secret().to_owned());
        text.push('\n');
        if let Err(err) = files::write(path, text.as_bytes(), 0o600, args.force) {
            return fail(&err.to_string());
        }
    }
    let mut file = PasswdFile::parse(&existing);
    let change = file.set(&line);
    files::replace(&args.file, file.to_text().as_bytes(), 0o600)?;
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
            "generated_into": args.generate.as_ref().map(|p| p.display().to_string()),
        });
        println!("{value:#}");
    } else {
        println!(
            "{verb} {} in {} ($7$, {} iterations); other lines unchanged",
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
