//! `heat-controller`: the solar heating controller daemon. Glue only; see the library.
//!
//! Exit codes: 0 after SIGTERM/SIGINT, 1 a runtime failure, 2 a usage or configuration error.

#![allow(clippy::print_stderr)]

use std::{io::Write, process::ExitCode};

use clap::{CommandFactory, Parser};
use heat_controller::app::{self, ConfigFailure, EXIT_CONFIG};
use heat_controller::cli::Cli;

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    if let Some(kind) = cli.generate {
        return generate(kind);
    }
    if let Some(refusal) = mqtt_auth::logging::paho_c_trace_refusal() {
        eprintln!("heat-controller: {refusal}");
        return ExitCode::from(EXIT_CONFIG);
    }
    install_panic_hook();
    match app::run(&cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("heat-controller: {err:#}");
            if err.is::<ConfigFailure>() {
                ExitCode::from(EXIT_CONFIG)
            } else {
                ExitCode::FAILURE
            }
        }
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
/// Under systemd (`JOURNAL_STREAM` set) journald stamps the time itself.
fn init_logging() {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        builder.format_timestamp(None);
    } else {
        builder.format_timestamp_millis();
    }
    let logger = builder.build();
    let max = logger.filter();
    if let Err(e) = mqtt_auth::logging::install(logger, max) {
        eprintln!("heat-controller: logger not installed: {e}");
    }
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
