//! `heat-diag`: checks settings, connects to the broker, audits its security, provisions a
//! hardened Mosquitto setup, lists the sensors and switches a relay for a wiring check.
//!
//! Exit codes: 0 all good, 1 a failure or finding, 2 a usage or configuration error.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod audit;
mod connect;
mod files;
mod passwd;
mod provision;
mod relay;
mod sensors;

use std::{io::Write, path::PathBuf, process::ExitCode};

use clap::{CommandFactory, Parser, Subcommand};
use heat_config::{Settings, Sources};

/// Diagnostics for the solar heating controller.
#[derive(Debug, Parser)]
#[command(version = build_version::VERSION, about)]
struct Cli {
    /// TOML settings file (default: $HEAT_CONFIG, if set).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Writes a man page (every subcommand in one page) or a shell completion script to stdout
    /// and exits, before any setting is loaded (for packaging).
    #[arg(long, value_name = "KIND", hide = true)]
    generate: Option<cli_docs::Kind>,
    /// Optional only for `--generate`; every other use names a subcommand.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate the settings exactly as heat-controller does before it starts (the same
    /// checks: [hardware] required unless simulating, topics, device) and print the effective
    /// values, secrets redacted. Exit 2, with the controller's message, for a setup it refuses.
    CheckConfig(CheckConfigArgs),
    /// Connect with the configured settings, print the interpreted CONNACK and the audit line,
    /// then probe whether the broker refuses anonymous clients and wrong passwords.
    Connect(connect::Args),
    /// Audit the configured broker: authentication, transport, TLS, least privilege and the
    /// modes of local secret files. Exit 1 on any WARN or FAIL.
    Audit(audit::Args),
    /// Write a hardened Mosquitto setup into a directory: config, password file, ACL, private
    /// CA and certificates, generated passwords and the controller's .env.
    Provision(Box<provision::Args>),
    /// Add or rotate one user in a Mosquitto password file; the password comes from stdin
    /// or is generated into a file, never from the command line.
    Passwd(passwd::Args),
    /// List every DS18B20 (28-*) on the bus with its role, reading or error, and the configured
    /// roles that are missing; needs no MQTT settings and no [hardware] table (default: w1 at
    /// /sys/bus/w1/devices). --watch shows each change until Ctrl-C. Exit 1 when the bus cannot
    /// be listed or a configured role has no valid reading.
    Sensors(sensors::Args),
    /// Switch one relay (pump or heater) for a wiring check, then back OFF; needs [hardware]
    /// but no MQTT settings. Refuses while the controller runs (it holds [controller]
    /// lock_file).
    Relay(relay::Args),
}

#[derive(Debug, clap::Args)]
struct CheckConfigArgs {
    /// Check for `heat-controller --simulate`: no [hardware] table is needed.
    #[arg(long)]
    simulate: bool,
}

/// Exit code for a usage or configuration error.
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    if let Some(kind) = cli.generate {
        return generate(kind);
    }
    let Some(command) = cli.command else {
        let mut cmd = Cli::command();
        let names: Vec<_> = cmd
            .get_subcommands()
            .map(|sub| sub.get_name().to_owned())
            .collect();
        let message = format!("name a subcommand: {}", names.join(", "));
        cmd.error(clap::error::ErrorKind::MissingSubcommand, message)
            .exit()
    };
    if let Some(refusal) = mqtt_auth::logging::paho_c_trace_refusal() {
        eprintln!("heat-diag: {refusal}");
        return ExitCode::from(EXIT_CONFIG);
    }
    let outcome = match &command {
        Command::Provision(args) => Some(provision::run(args)),
        Command::Passwd(args) => Some(passwd::run(args)),
        _ => None,
    };
    if let Some(outcome) = outcome {
        return outcome.unwrap_or_else(|err| {
            eprintln!("heat-diag: {err:#}");
            ExitCode::FAILURE
        });
    }
    let sources = Sources::from_process(cli.config.clone());
    // Local hardware only: no MQTT setting is read, so none is needed.
    match &command {
        Command::Sensors(args) => {
            return match load_local(&sources) {
                Ok(local) => sensors::run(&local.hardware_or_unconfigured(), args),
                Err(code) => code,
            };
        }
        Command::Relay(args) => {
            return match load_local(&sources) {
                Ok(local) => relay::run(&local, args),
                Err(code) => code,
            };
        }
        Command::CheckConfig(args) => return check_config(&sources, args),
        _ => {}
    }
    let settings = match Settings::load(&sources) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("heat-diag: configuration error: {err}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    for warning in settings.warnings() {
        log::warn!("{warning}");
    }
    match command {
        Command::Connect(args) => connect::run(&settings, &args),
        Command::Audit(args) => audit::run(&settings, &args),
        Command::CheckConfig(_)
        | Command::Provision(_)
        | Command::Passwd(_)
        | Command::Sensors(_)
        | Command::Relay(_) => ExitCode::SUCCESS,
    }
}

/// `--generate KIND`: the man page or a completion script on stdout.
fn generate(kind: cli_docs::Kind) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match cli_docs::generate(kind, Cli::command(), &mut stdout).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("heat-diag: --generate: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `check-config`: heat-controller's own startup checks, its refusal word for word.
fn check_config(sources: &Sources, args: &CheckConfigArgs) -> ExitCode {
    match heat_controller::checks::check(sources, args.simulate) {
        Ok(checked) => {
            for warning in &checked.warnings {
                log::warn!("{warning}");
            }
            let mode = if checked.simulate {
                "heat-controller --simulate (simulated plant)"
            } else {
                "heat-controller"
            };
            println!(
                "settings are valid for {mode}\n\n{}",
                checked.settings.effective()
            );
            ExitCode::SUCCESS
        }
        Err(failure) => {
            // The controller prints `heat-controller: <failure and its causes>` and exits 2 too.
            eprintln!("heat-diag: {:#}", anyhow::Error::new(failure));
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

/// [`Settings::load_local`], its warnings logged; a configuration error is printed and becomes
/// the exit code.
fn load_local(sources: &Sources) -> Result<heat_config::LocalSettings, ExitCode> {
    let local = Settings::load_local(sources).map_err(|err| {
        eprintln!("heat-diag: configuration error: {err}");
        ExitCode::from(EXIT_CONFIG)
    })?;
    for warning in local.warnings() {
        log::warn!("{warning}");
    }
    Ok(local)
}

/// env_logger, capped: paho-mqtt's debug output carries the password. When stderr is the
/// journal (run under systemd), every line starts with its syslog priority.
fn init_logging() {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    if mqtt_auth::logging::stderr_is_journal() {
        builder.format(|out, record| mqtt_auth::logging::write_journal_line(out, record));
    } else {
        builder.format_timestamp_millis();
    }
    let logger = builder.build();
    let max = logger.filter();
    mqtt_auth::logging::install(logger, max).expect("the logger is installed once, first thing");
}
