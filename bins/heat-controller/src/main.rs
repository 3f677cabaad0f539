//! `heat-controller`: the solar heating controller daemon. Glue only; see the library.
//!
//! Exit codes: 0 after SIGTERM/SIGINT, 1 a runtime failure, 2 a usage or configuration error.

#![allow(clippy::print_stderr)]

use std::{io::Write, process::ExitCode};

use clap::{CommandFactory, Parser};
use heat_controller::app::{self, ConfigFailure, EXIT_CONFIG};
use heat_controller::cli::Cli;

fn main() -> ExitCode {
    let journal = init_logging();
    let cli = Cli::parse();
    if let Some(kind) = cli.generate {
        return generate(kind);
    }
    if let Some(refusal) = mqtt_auth::logging::paho_c_trace_refusal() {
        print_error(journal, &format!("heat-controller: {refusal}"));
        return ExitCode::from(EXIT_CONFIG);
    }
    install_panic_hook();
    match app::run(&cli) {
        Ok(code) => code,
        Err(err) => {
            print_error(journal, &format!("heat-controller: {err:#}"));
            if err.is::<ConfigFailure>() {
                ExitCode::from(EXIT_CONFIG)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// What main prints itself is an error: in the journal, every line at priority 3.
fn print_error(journal: bool, text: &str) {
    if !journal {
        eprintln!("{text}");
        return;
    }
    let prefix = mqtt_auth::logging::journal_prefix(log::Level::Error);
    for line in text.lines() {
        eprintln!("{prefix}{line}");
    }
}

/// `--generate KIND`: the man page or a completion script on stdout.
fn generate(kind: cli_docs::Kind) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match cli_docs::generate(kind, Cli::command(), &mut stdout).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("heat-controller: --generate: {e}");
            ExitCode::FAILURE
        }
    }
}

/// env_logger, capped so that paho's debug output (which holds the password) never passes.
/// When stderr is the journal (`JOURNAL_STREAM` names it), every line starts with its syslog
/// priority and carries no time (journald stamps it). Returns whether it is.
fn init_logging() -> bool {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    let journal = mqtt_auth::logging::stderr_is_journal();
    if journal {
        builder.format(|out, record| mqtt_auth::logging::write_journal_line(out, record));
    } else {
        builder.format_timestamp_millis();
    }
    let logger = builder.build();
    let max = logger.filter();
    if let Err(e) = mqtt_auth::logging::install(logger, max) {
        eprintln!("heat-controller: logger not installed: {e}");
    }
    journal
}

/// Logs a panic as one line before the default report. The relays go OFF as the stack unwinds
/// (their guard's drop), whichever thread panicked.
fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current();
        log::error!(
            "panic in thread {}: {info}",
            thread.name().unwrap_or("unnamed")
        );
        default(info);
    }));
}
