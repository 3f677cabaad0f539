//! `heat-diag relay NAME on|off [--for SECONDS]`: switches one relay for a wiring check, then
//! back to the safe state (OFF). It reads only `[hardware]` and `[controller] lock_file`
//! (`heat_config::Settings::load_local`): no MQTT setting is needed.
//!
//! The controller holds an exclusive lock on `[controller] lock_file` while it runs; this command
//! refuses while the lock is held, and holds it itself for the duration so that the controller
//! cannot start meanwhile. SIGINT, SIGTERM and SIGHUP end the wait early; the relay is switched
//! OFF explicitly and once more when its driver is dropped. `--dry-run` opens no GPIO line and
//! prints the line levels the real run would write.
//!
//! Exit codes: 0 switched and back OFF (also when interrupted), 1 the line could not be opened
//! or written, 2 usage or configuration error, or the controller is running.

use std::{
    convert::Infallible,
    io::Write,
    path::PathBuf,
    process::ExitCode,
    sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError},
    thread,
    time::{Duration, Instant},
};

use embedded_hal::digital::{ErrorType, OutputPin};
use heat_config::{Backend, LocalSettings, RelaySettings};
use heat_hw::{
    Polarity, RelayLock, RelayRole,
    relay::{Relay, cdev::open_relay},
};

use crate::EXIT_CONFIG;

#[cfg(test)]
mod tests;

/// Parses a load name (`pump`, `heater`) into heat-core's one [`RelayRole`] type; clap lists the
/// names in `--help` and in the error for any other word.
fn load_parser() -> impl clap::builder::TypedValueParser<Value = RelayRole> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(RelayRole::ALL.map(RelayRole::as_str))
        .try_map(|name| name.parse::<RelayRole>())
}

/// The state to hold the load in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Switch {
    /// Load ON.
    On,
    /// Load OFF (checks the OFF level of the line).
    Off,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Which relay.
    #[arg(value_parser = load_parser())]
    name: RelayRole,
    /// The state to switch it to.
    #[arg(value_enum)]
    state: Switch,
    /// How long to hold it, in seconds (0–3600), before switching it back OFF.
    #[arg(
        long = "for",
        value_name = "SECONDS",
        default_value_t = 5,
        value_parser = clap::value_parser!(u64).range(0..=3600)
    )]
    hold: u64,
    /// Open no GPIO line: print the levels the real run would write (still takes the lock).
    #[arg(long)]
    dry_run: bool,
}

/// How the hold ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Finish {
    /// The full time passed.
    Elapsed,
    /// A signal ended it early (its number).
    Interrupted(i32),
}

pub(crate) fn run(settings: &LocalSettings, args: &Args) -> ExitCode {
    let role = args.name;
    let hardware = match settings.require_hardware() {
        Ok(hardware) => hardware,
        Err(err) => {
            eprintln!("heat-diag: configuration error: {err}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let Some(wiring) = hardware.relay(role) else {
        let why = if hardware.backend() == Backend::Sim {
            " (backend = \"sim\" drives no relays)"
        } else {
            ""
        };
        eprintln!("heat-diag: no [hardware.relays.{role}] is configured{why}");
        return ExitCode::from(EXIT_CONFIG);
    };
    // Signals first: from here on Ctrl-C can no longer kill the process between ON and OFF.
    let stop = match stop_on_signals() {
        Ok(stop) => stop,
        Err(err) => {
            eprintln!("heat-diag: cannot install the signal handlers: {err}");
            return ExitCode::FAILURE;
        }
    };
    let lock_path = settings.lock_file();
    let _lock = match RelayLock::acquire(lock_path) {
        Ok(lock) => lock,
        Err(err) => {
            eprintln!("heat-diag: refusing to switch the {role} relay: {err}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    println!(
        "{role} relay: {} line {}, {}; holding the lock {}",
        wiring.chip().display(),
        wiring.line(),
        polarity_text(wiring.polarity()),
        lock_path.display()
    );
    let on = args.state == Switch::On;
    let hold = Duration::from_secs(args.hold);
    let mut out = std::io::stdout();
    let result = if args.dry_run {
        match Relay::new(DryRunPin::new(wiring), wiring.polarity()) {
            Ok(mut relay) => {
                exercise(&mut relay, role, on, hold, &stop, &mut out).map_err(|e| e.to_string())
            }
            Err(err) => Err(err.to_string()),
        }
    } else {
        match open_relay(&wiring.to_cdev()) {
            Ok(mut relay) => {
                exercise(&mut relay, role, on, hold, &stop, &mut out).map_err(|e| e.to_string())
            }
            Err(err) => Err(format!(
                "{err} (is this a board with {}? run as a user in the gpio group)",
                wiring.chip().display()
            )),
        }
    };
    // The relay is dropped by now: its driver wrote OFF once more.
    match result {
        Ok(Finish::Elapsed) => ExitCode::SUCCESS,
        Ok(Finish::Interrupted(signal)) => {
            println!("interrupted by signal {signal}; the {role} relay is OFF");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("heat-diag: {role} relay: {err}; its state is unknown, check the load");
            ExitCode::FAILURE
        }
    }
}

/// Switches `relay` to `on`, holds for `hold` or until `stop` delivers a signal, then switches
/// it OFF. A failed ON write still attempts OFF before returning the error. Progress goes to
/// `out` (a write error there is ignored: the relay matters more than the message).
pub(crate) fn exercise<P: OutputPin>(
    relay: &mut Relay<P>,
    role: RelayRole,
    on: bool,
    hold: Duration,
    stop: &Receiver<i32>,
    out: &mut impl Write,
) -> Result<Finish, heat_hw::relay::Error<P::Error>> {
    match stop.try_recv() {
        Ok(signal) => return Ok(Finish::Interrupted(signal)),
        Err(TryRecvError::Empty | TryRecvError::Disconnected) => {}
    }
    let state = if on { "ON" } else { "OFF" };
    let polarity = relay.polarity();
    if let Err(err) = relay.set(on) {
        let _ = relay.set(false);
        return Err(err);
    }
    let _ = writeln!(
        out,
        "{role} {state} (line {}) for {} s; Ctrl-C ends early",
        level(polarity, on),
        hold.as_secs()
    );
    let finish = wait(stop, hold);
    relay.set(false)?;
    let _ = writeln!(
        out,
        "{role} OFF (line {}): back in the safe state",
        level(polarity, false)
    );
    Ok(finish)
}

/// Waits `hold`, or less if a signal arrives.
fn wait(stop: &Receiver<i32>, hold: Duration) -> Finish {
    let start = Instant::now();
    match stop.recv_timeout(hold) {
        Ok(signal) => Finish::Interrupted(signal),
        Err(RecvTimeoutError::Timeout) => Finish::Elapsed,
        // No sender left, so no signal can come: wait out the rest.
        Err(RecvTimeoutError::Disconnected) => {
            thread::sleep(hold.saturating_sub(start.elapsed()));
            Finish::Elapsed
        }
    }
}

/// A channel that receives SIGINT, SIGTERM and SIGHUP; their default action (ending the
/// process without running destructors) no longer applies.
fn stop_on_signals() -> std::io::Result<Receiver<i32>> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    let (tx, rx) = mpsc::channel();
    thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if tx.send(signal).is_err() {
                    break;
                }
            }
        })?;
    Ok(rx)
}

fn level(polarity: Polarity, on: bool) -> &'static str {
    if polarity.level(on) { "high" } else { "low" }
}

fn polarity_text(polarity: Polarity) -> &'static str {
    match polarity {
        Polarity::ActiveLow => "active low (low = ON)",
        Polarity::ActiveHigh => "active high (high = ON)",
    }
}

/// An output "pin" that prints each level written instead of driving a line.
#[derive(Debug)]
pub(crate) struct DryRunPin {
    chip: PathBuf,
    line: u32,
}

impl DryRunPin {
    fn new(wiring: &RelaySettings) -> Self {
        Self {
            chip: wiring.chip().to_path_buf(),
            line: wiring.line(),
        }
    }

    fn write(&self, level: &str) {
        println!(
            "dry run: {} line {} <- {level}",
            self.chip.display(),
            self.line
        );
    }
}

impl ErrorType for DryRunPin {
    type Error = Infallible;
}

impl OutputPin for DryRunPin {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.write("low");
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        self.write("high");
        Ok(())
    }
}
