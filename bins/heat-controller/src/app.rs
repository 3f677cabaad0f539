//! Startup and shutdown around the control loop.
//!
//! Order: validate the command line and load every setting (a configuration error ends here,
//! exit 2, before anything is touched); take the lock file; open the plant and put every relay
//! in its safe state; start the MQTT session; probe the broker in the background; restore the
//! state file (mode, parameters set over MQTT, counters; a bad file only warns, see
//! [`crate::persist`]); run the loop. On SIGTERM/SIGINT: relays to their safe state, the state
//! file written if it changed, `offline` published by the session's shutdown, lock released,
//! exit 0. On SIGHUP (`systemctl reload`): the MQTT credentials are read again from the same
//! sources and the session retries at once; control never stops. Under systemd: `READY=1` after the loop's first tick,
//! `WATCHDOG=1` from the loop, `STOPPING=1` when it ends (see [`crate::notify`]).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::{self, SyncSender};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::Duration;

use anyhow::Context;
use heat_config::{DEFAULT_LOCK_FILE, Settings, Sources};
use heat_core::Controller;
use heat_hw::{Plant, RelayLock, RelayOutputs};
use heat_loop::StopReason;
use heat_mqtt::{
    CredentialSource, Device, ReloadTrigger, Reloader, Session, SessionConfig, Topics,
};
use heat_persist::{Loaded, StateDir};
use log::{info, warn};
use mqtt_auth::probe::{self, Verdict};
use mqtt_auth::{BrokerSettings, Credentials, RetryPolicy};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::checks;
use crate::cli::Cli;
use crate::clock::{LoopClock, WallClock};
use crate::control::{ControlLoop, Input, Link, LoopSettings};
use crate::notify::{Notice, Notifier, Systemd};
use crate::persist::{self, Persistence, PersistingLink};
use crate::plant::{self, SimOptions};

/// Exit code of a usage or configuration error.
pub const EXIT_CONFIG: u8 = 2;
/// Capacity of the loop's input channel, which the MQTT session fills with commands directly.
const INPUT_CAPACITY: usize = 64;
/// How long shutdown waits for the session to publish `offline` and disconnect.
const SESSION_SHUTDOWN: Duration = Duration::from_millis(1500);
/// Real time between the loop's timing reports in the log.
const TIMING_REPORT: Duration = Duration::from_secs(600);

/// A usage or configuration error: the process exits with [`EXIT_CONFIG`], having touched
/// nothing.
///
/// It wraps the error that refused the setup as its [`source`](std::error::Error::source), so
/// `{:#}` prints `configuration error: <cause>: <its causes>…` and callers can still inspect the
/// cause; `anyhow::Error::is::<ConfigFailure>()` decides the exit code.
#[derive(Debug, thiserror::Error)]
#[error("configuration error")]
pub struct ConfigFailure {
    #[source]
    cause: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl ConfigFailure {
    /// A configuration failure caused by `cause`.
    pub fn new(cause: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self {
            cause: cause.into(),
        }
    }

    /// The error that refused the setup.
    pub fn cause(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.cause
    }
}

fn config_failure<E: std::error::Error + Send + Sync + 'static>(e: E) -> anyhow::Error {
    ConfigFailure::new(e).into()
}

/// Everything decided before any hardware is touched.
#[derive(Debug)]
struct Plan {
    settings: Settings,
    simulate: bool,
    time_scale: f64,
    topics: Topics,
    device: Device,
    lock_file: PathBuf,
}

/// The lock file: `controller.lock_file`, except that a simulation left at the default path
/// (which needs /run) uses one in the temp dir.
pub fn lock_path(configured: &Path, simulate: bool) -> PathBuf {
    if simulate && configured == Path::new(DEFAULT_LOCK_FILE) {
        std::env::temp_dir().join("heat-controller-simulate.lock")
    } else {
        configured.to_owned()
    }
}

fn plan(cli: &Cli) -> anyhow::Result<Plan> {
    cli.validate().map_err(config_failure)?;
    // The same checks as `heat-diag check-config`.
    let checked = checks::check(&Sources::from_process(cli.config.clone()), cli.simulate)?;
    for warning in &checked.warnings {
        warn!("{warning}");
    }
    let ctl = checked.settings.controller();
    let simulate = checked.simulate;
    let time_scale = if simulate {
        cli.time_scale.unwrap_or(ctl.time_scale())
    } else {
        1.0
    };
    let lock_file = lock_path(ctl.lock_file(), simulate);
    Ok(Plan {
        settings: checked.settings,
        simulate,
        time_scale,
        topics: checked.topics,
        device: checked.device,
        lock_file,
    })
}

/// Where the session's reload requests go once it runs.
type ReloadSlot = Arc<OnceLock<ReloadTrigger>>;

/// Forwards SIGTERM and SIGINT to the loop as [`Input::Stop`], and SIGHUP to the MQTT session
/// as a credential reload (never to the loop: SIGHUP does not stop control).
fn watch_signals(inputs: SyncSender<Input>, reload: ReloadSlot) -> anyhow::Result<()> {
    let mut signals =
        Signals::new([SIGTERM, SIGINT, SIGHUP]).context("cannot install the signal handlers")?;
    thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                if sig == SIGHUP {
                    match reload.get() {
                        Some(trigger) => {
                            info!("SIGHUP: reloading the MQTT credentials");
                            trigger.request();
                        }
                        None => warn!("SIGHUP before the MQTT session started: nothing to reload"),
                    }
                    continue;
                }
                let name = if sig == SIGTERM { "SIGTERM" } else { "SIGINT" };
                let _ = inputs.send(Input::Stop(StopReason::Signal(name)));
                break;
            }
        })
        .context("cannot start the signal thread")?;
    Ok(())
}

/// Reads the MQTT credentials again as at start: the process's environment, `.env`, the TOML
/// file, `MQTT_PASSWORD_FILE` or the systemd credential.
struct SettingsReloader {
    config: Option<PathBuf>,
    password_file: Option<PathBuf>,
}

impl CredentialSource for SettingsReloader {
    fn watched_file(&self) -> Option<PathBuf> {
        self.password_file.clone()
    }

    fn load(&self) -> Result<Credentials, String> {
        // ConfigError names the variable or file and the fix, never the password.
        Settings::load(&Sources::from_process(self.config.clone()))
            .map(|settings| settings.broker().credentials().clone())
            .map_err(|e| e.to_string())
    }
}

/// Checks once, in the background, that the broker refuses anonymous clients and wrong
/// passwords; never delays control.
fn spawn_probe(broker: BrokerSettings) {
    let spawned = thread::Builder::new()
        .name("broker-probe".into())
        .spawn(move || {
            let report = probe::probe(&broker);
            let (anon, wrong) = (&report.anonymous, &report.wrong_password);
            match report.verdict() {
                Verdict::Secure => {
                    info!("broker security probe: anonymous {anon}, wrong password {wrong}: good")
                }
                Verdict::Insecure => warn!(
                    "broker security probe: the broker ACCEPTS clients it should refuse \
                     (anonymous {anon}, wrong password {wrong}); set `allow_anonymous false` and \
                     a password_file in mosquitto.conf (heat-diag audit explains)"
                ),
                Verdict::Inconclusive => info!(
                    "broker security probe inconclusive: anonymous {anon}, wrong password {wrong}"
                ),
            }
        });
    if let Err(e) = spawned {
        warn!("broker security probe not started: {e}");
    }
}

/// Runs the controller until SIGTERM/SIGINT.
pub fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    let plan = plan(cli)?;
    let ctl = plan.settings.controller();
    let clock = LoopClock::new(plan.time_scale);

    let lock = RelayLock::acquire(&plan.lock_file)?;
    let (inputs_tx, inputs) = mpsc::sync_channel(INPUT_CAPACITY);
    let reload = ReloadSlot::default();
    watch_signals(inputs_tx.clone(), Arc::clone(&reload))?;

    let mut plant: Box<dyn Plant> = if plan.simulate {
        Box::new(plant::simulated(&SimOptions {
            seed: cli.seed,
            initial_c: cli.initial_temperatures(),
            journal: cli.relay_journal.clone(),
            faults: cli.sim_faults.clone(),
            // Never more than ten periods at once (after the process was stopped, say).
            max_advance: Some(ctl.period() * 10),
        })?)
    } else {
        Box::new(plant::hardware(
            plan.settings.require_hardware().map_err(config_failure)?,
        )?)
    };
    plant
        .relays()
        .safe_state()
        .context("cannot put the relays in their safe state")?;
    info!(
        "relays safe (every load OFF); {}; period {} s{}; lock {}",
        plant.description(),
        ctl.period().as_secs(),
        if plan.simulate {
            format!(", time scale {}", clock.scale())
        } else {
            String::new()
        },
        lock.path().display()
    );

    let mut session_config = SessionConfig::new(plan.topics.clone(), plan.device.clone())
        .with_discovery(ctl.discovery())
        .with_reloader(Reloader::new(SettingsReloader {
            config: cli.config.clone(),
            password_file: plan.settings.password_file().map(Path::to_path_buf),
        }));
    if let (true, Some(secs)) = (plan.simulate, cli.sim_rejected_backoff_secs) {
        let first = Duration::from_secs(secs);
        let policy = RetryPolicy::default().with_rejections_from(first);
        warn!(
            "simulation: reconnects after a refusal start at {secs} s instead of 30 s \
             (then every {} s instead of 5 min)",
            policy.rejected_period.as_secs()
        );
        session_config = session_config.with_retry(policy);
    }
    let session = Session::spawn_into(session_config, plan.settings.broker().clone(), inputs_tx)?;
    let _ = reload.set(session.reload_trigger());
    if ctl.probe_anonymous() {
        spawn_probe(plan.settings.broker().clone());
    }

    let config = plan.settings.control_params();
    let (loaded, persistence) = match ctl.state_dir() {
        Some(dir) => {
            let dir = StateDir::new(dir);
            let loaded = dir.load(config, std::time::SystemTime::now());
            if let Some(problem) = &loaded.problem {
                warn!("{problem}");
            }
            info!("{}", persist::restored_summary(&dir, &loaded));
            // Never a reason not to control: without its thread, nothing is persisted.
            let persistence = Persistence::start(dir, &loaded, ctl.persist_interval(), clock)
                .inspect_err(|e| {
                    log::error!(
                        "the state file writer did not start ({e}): nothing will be persisted"
                    );
                })
                .ok();
            (loaded, persistence)
        }
        None => {
            if !plan.simulate {
                warn!(
                    "no state directory (STATE_DIRECTORY or controller.state_dir): the mode,                      the parameters set over MQTT and the counters will not survive a restart"
                );
            }
            let loaded = Loaded {
                restored: heat_persist::Restored::defaults(config),
                on_disk: None,
                problem: None,
                from_previous: false,
            };
            (loaded, None)
        }
    };
    let r = loaded.restored;
    let controller = Controller::resume(r.params.clone(), clock.now(), r.memory());
    let settings = LoopSettings {
        period: ctl.period(),
        heartbeat: ctl.heartbeat(),
        timing_report: TIMING_REPORT,
    };
    let systemd = Systemd::from_env();
    if systemd.active() {
        match systemd.watchdog_interval() {
            Some(every) => info!(
                "systemd: READY=1 after the first tick, WATCHDOG=1 from the loop at least every {} ms",
                every.as_millis()
            ),
            None => {
                info!("systemd: READY=1 after the first tick; no watchdog (WATCHDOG_USEC unset)")
            }
        }
    }
    let persisting = persistence
        .as_ref()
        .map(|p| PersistingLink::new(&session, p));
    let link: &dyn Link = match &persisting {
        Some(link) => link,
        None => &session,
    };
    let mut control = ControlLoop::new(&mut *plant, controller, clock, settings, link)
        .with_wall_clock(WallClock::system(&clock))
        .with_notifier(&systemd);
    let end = control.run(&inputs);
    let last = control.controller().status();
    drop(control);

    systemd.notify(Notice::Stopping);
    info!("{}: stopping after {} ticks", end.reason, end.ticks);
    end.timing.log();
    match plant.relays().safe_state() {
        Ok(()) => info!("relays safe (every load OFF)"),
        Err(e) => log::error!("relays: switching every load OFF failed: {e}"),
    }
    if let Some(persistence) = persistence {
        persistence.finish(&last);
    }
    if let Err(e) = session.shutdown(SESSION_SHUTDOWN) {
        warn!("MQTT session: {e}");
    }
    lock.release();
    info!("stopped");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests;
