//! `cargo xtask demo`: the whole system on one machine, on loopback only.
//!
//! 1. `heat-diag provision` writes a private, hardened Mosquitto setup into a fresh
//!    `target/demo`: `$7$` password file, least-privilege ACL, private CA and certificates, a TLS
//!    listener on a random free port of 127.0.0.1, and the controller's `controller.env`.
//! 2. Mosquitto starts from that config (in its own process group, so Ctrl-C reaches only us).
//! 3. A watcher — `mosquitto_sub` as the Home Assistant user, over TLS, its options (password
//!    included) in `$XDG_CONFIG_HOME/mosquitto_sub`, never on a command line — records every
//!    message under the controller's prefix and checks every state JSON against [`check::RULES`].
//! 4. `heat-controller --simulate` runs a simulated plant at 3600× (a simulated hour per second;
//!    the simulated day starts at midnight with a warm tank, so the sun drives it into the tank
//!    maximum), with its MQTT settings from `controller.env` passed as environment variables.
//! 5. A few commands go out as Home Assistant would send them (`mosquitto_pub`, same options
//!    file): eco mode, a parameter change, a malformed value and one the controller refuses.
//! 6. Until Ctrl-C (or for `--duration SECONDS`, without a terminal UI) the status is shown;
//!    then the controller gets SIGTERM and is waited for, the retained state and availability are
//!    read back, the watcher and the broker are stopped, each by its process id.
//! 7. A summary with machine-checkable lines; exit non-zero when the controller never came online
//!    over TLS, a safety rule was broken, or a provisioned password appeared in any output.

pub(crate) mod check;
#[cfg(test)]
mod tests;

use std::{
    collections::{BTreeMap, VecDeque},
    env, fmt,
    fs::{self, DirBuilder, File, OpenOptions},
    io::{BufRead, BufReader, IsTerminal, Read, Write},
    os::unix::fs::{DirBuilderExt, OpenOptionsExt},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc::{self, Receiver},
    },
    thread,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use heat_core::Sensor;
use heat_state::{Answer, OnOff, StateJson};
use serde_json::Value;

use crate::system::{self, Requirement, cargo, project_root};

use self::check::{LogLine, Message};

const HELP: &str = "\
cargo xtask demo [--duration SECONDS] [--time-scale X] [--seed N]

A private, authenticated Mosquitto (TLS, passwords, ACL) under target/demo, the controller on a
simulated plant connected to it, and a live status until Ctrl-C.

  --duration SECONDS  run this long without the terminal UI, then print the summary
  --time-scale X      simulated seconds per real second (default 3600: an hour per second)
  --seed N            the simulated weather (default 1)
";

/// What the demo needs beyond the Rust toolchain: cmake, pkg-config and OpenSSL build Paho C and
/// openssl-sys for the controller and heat-diag; the broker and its clients run the demo.
const PACKAGES: [Requirement; 6] = [
    system::CMAKE,
    system::PKG_CONFIG,
    system::LIBSSL_DEV,
    system::MOSQUITTO,
    system::MOSQUITTO_SUB,
    system::MOSQUITTO_PUB,
];

/// The topic prefix `heat-diag provision` sets up.
pub(crate) const PREFIX: &str = "solar_heating";
/// The simulated plant at start: collector, tank bottom, tank top (°C). A warm tank, so that
/// one simulated day drives it into the tank maximum and the interlock shows.
const SIM_INITIAL_C: &str = "20,78,84";
/// What Home Assistant sends during the run: (command, payload, why).
const COMMANDS: [(&str, &str, &str); 4] = [
    ("mode", "eco", "eco mode"),
    ("eco_dt_start", "12", "a parameter change"),
    ("pump", "on", "malformed: the words are ON/OFF"),
    (
        "pump",
        "ON",
        "refused by the controller: not in manual mode",
    ),
];
/// When the commands go out, as fractions of the run (of 20 s when it runs until Ctrl-C).
const COMMAND_AT: [f64; 4] = [0.2, 0.35, 0.5, 0.65];
/// Real time a stopped controller gets to publish `offline` and exit.
const CONTROLLER_GRACE: Duration = Duration::from_secs(15);
const BROKER_GRACE: Duration = Duration::from_secs(5);
/// Lines of the controller's log shown in the event panel.
const EVENT_LINES: usize = 7;

/// How to run the demo.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// `Some`: run this long without a terminal UI; `None`: until Ctrl-C.
    pub(crate) duration: Option<Duration>,
    pub(crate) time_scale: f64,
    pub(crate) seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            duration: None,
            time_scale: 3600.0,
            seed: 1,
        }
    }
}

/// `None` for `--help`.
pub(crate) fn parse_args(args: &[String]) -> Result<Option<Options>> {
    let mut opts = Options::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .with_context(|| format!("{name} needs a value\n\n{HELP}"))
        };
        match arg.as_str() {
            "--duration" => {
                let v = value("--duration")?;
                let secs: u64 = v
                    .parse()
                    .ok()
                    .filter(|s| (1..=86_400).contains(s))
                    .with_context(|| format!("--duration {v:?}: give whole seconds, 1–86400"))?;
                opts.duration = Some(Duration::from_secs(secs));
            }
            "--time-scale" => {
                let v = value("--time-scale")?;
                opts.time_scale = v
                    .parse()
                    .ok()
                    .filter(|x: &f64| (1.0..=100_000.0).contains(x))
                    .with_context(|| format!("--time-scale {v:?}: give a number, 1–100000"))?;
            }
            "--seed" => {
                let v = value("--seed")?;
                opts.seed = v
                    .parse()
                    .with_context(|| format!("--seed {v:?}: give a whole number"))?;
            }
            "--help" | "-h" => return Ok(None),
            other => bail!("unknown argument {other:?}\n\n{HELP}"),
        }
    }
    Ok(Some(opts))
}

pub(crate) fn demo(args: &[String]) -> Result<()> {
    let Some(opts) = parse_args(args)? else {
        print!("{HELP}");
        return Ok(());
    };
    system::ensure_packages(&PACKAGES)?;
    println!("==> building heat-controller and heat-diag");
    let bins = build_binaries(None)?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second Ctrl-C while shutting down exits at once.
        signal_hook::flag::register_conditional_shutdown(sig, 1, Arc::clone(&stop))?;
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    let summary = run(&opts, &bins, &project_root().join("target/demo"), &stop)?;
    if !summary.ok() {
        let mut problems = Vec::new();
        if !summary.online_over_tls {
            problems.push("the controller never came online over TLS".to_owned());
        }
        if summary.violations > 0 {
            problems.push(format!("{} safety violations", summary.violations));
        }
        if summary.password_leaked {
            problems.push("a password appeared in the output".to_owned());
        }
        bail!("the demo failed: {}", problems.join("; "));
    }
    Ok(())
}

/// The binaries the demo runs.
#[derive(Debug, Clone)]
pub(crate) struct Bins {
    pub(crate) heat_controller: PathBuf,
    pub(crate) heat_diag: PathBuf,
}

/// Builds heat-controller and heat-diag (in `target_dir`, or cargo's default) and returns the
/// executables cargo reports.
pub(crate) fn build_binaries(target_dir: Option<&Path>) -> Result<Bins> {
    let mut cmd = cargo();
    cmd.current_dir(project_root()).args([
        "build",
        "--quiet",
        "--package",
        "heat-controller",
        "--package",
        "heat-diag",
        "--message-format=json-render-diagnostics",
    ]);
    if let Some(dir) = target_dir {
        cmd.arg("--target-dir").arg(dir);
    }
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run cargo build")?;
    if !out.status.success() {
        bail!("cargo build of heat-controller and heat-diag failed");
    }
    let found = |name: &str| -> Result<PathBuf> {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == name)
            .find_map(|v| v["executable"].as_str().map(PathBuf::from))
            .with_context(|| format!("cargo build did not report the {name} executable"))
    };
    Ok(Bins {
        heat_controller: found("heat-controller")?,
        heat_diag: found("heat-diag")?,
    })
}

/// What the demo printed, checked for passwords as it goes: a line that holds one is not
/// printed and marks the run as leaking.
struct Out {
    secrets: Vec<String>,
    leaked: bool,
    transcript: String,
}

impl Out {
    fn say(&mut self, text: impl fmt::Display) {
        let text = text.to_string();
        if check::leaks(&text, &self.secrets) {
            self.leaked = true;
            println!("[a line holding a password was not printed]");
            return;
        }
        println!("{text}");
        self.transcript.push_str(&text);
        self.transcript.push('\n');
    }

    /// One frame of the terminal UI: cursor home, each line cleared to its end, rest cleared.
    fn frame(&mut self, lines: &[String]) {
        let mut screen = String::from("\x1b[H");
        for line in lines {
            if check::leaks(line, &self.secrets) {
                self.leaked = true;
                continue;
            }
            screen.push_str(line);
            screen.push_str("\x1b[K\n");
        }
        screen.push_str("\x1b[J");
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(screen.as_bytes());
        let _ = stdout.flush();
    }
}

/// A process the demo started, in its own process group.
pub(crate) struct Proc {
    pub(crate) child: Child,
}

impl Proc {
    pub(crate) fn spawn(name: &'static str, cmd: &mut Command) -> Result<Self> {
        let child = cmd
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {name} ({cmd:?})"))?;
        Ok(Self { child })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGTERM, then waits up to `grace`; SIGKILL after that. Returns the exit status and
    /// whether it had to be killed.
    pub(crate) fn terminate(&mut self, grace: Duration) -> (Option<ExitStatus>, bool) {
        if let Some(status) = self.exited() {
            return (Some(status), false);
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let since = Instant::now();
        while since.elapsed() < grace {
            if let Some(status) = self.exited() {
                return (Some(status), false);
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        (self.child.wait().ok(), true)
    }
}

/// Everything still running; dropping it stops the controller first, then the watcher and the
/// broker (on an error path; the normal path stops them one by one).
#[derive(Default)]
struct Running {
    controller: Option<Proc>,
    watcher: Option<Proc>,
    broker: Option<Proc>,
    publishers: Vec<(Child, usize)>,
}

impl Drop for Running {
    fn drop(&mut self) {
        for (mut child, _) in self.publishers.drain(..) {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(mut p) = self.controller.take() {
            p.terminate(CONTROLLER_GRACE);
        }
        if let Some(mut p) = self.watcher.take() {
            p.terminate(Duration::from_secs(2));
        }
        if let Some(mut p) = self.broker.take() {
            p.terminate(BROKER_GRACE);
        }
    }
}

/// What the watcher and the controller's log showed during the run.
#[derive(Debug, Default)]
struct Observed {
    availability: Option<String>,
    online_at: Option<Duration>,
    last_state: Option<StateJson>,
    /// State messages that are no [`StateJson`]: the controller and the demo disagree.
    unreadable_states: usize,
    states: usize,
    violations: usize,
    violation_notes: Vec<String>,
    answers: Vec<Answer>,
    connected_tls: usize,
    interlocks: usize,
    interlock_kinds: BTreeMap<&'static str, usize>,
    events: VecDeque<String>,
}

impl Observed {
    fn message(&mut self, m: &Message, at: Duration) {
        let rest = m.topic.strip_prefix(PREFIX).unwrap_or("");
        match rest {
            "/availability" => {
                if m.payload == "online" && self.online_at.is_none() {
                    self.online_at = Some(at);
                }
                self.availability = Some(m.payload.clone());
            }
            "/state" => {
                let Ok(state) = serde_json::from_str::<StateJson>(&m.payload) else {
                    self.unreadable_states += 1;
                    if self.violation_notes.len() < 5 {
                        self.violation_notes
                            .push(format!("a state that is no StateJson: {}", m.payload));
                    }
                    return;
                };
                self.states += 1;
                let broken = check::violations(&state);
                if !broken.is_empty() {
                    self.violations += 1;
                    if self.violation_notes.len() < 5 {
                        let rules: Vec<_> = broken.iter().map(|&i| check::RULES[i]).collect();
                        self.violation_notes
                            .push(format!("{}: {}", rules.join("; "), m.payload));
                    }
                }
                self.last_state = Some(state);
            }
            "/result" => {
                if let Some(answer) = check::parse_result(&m.payload) {
                    self.answers.push(answer);
                }
            }
            _ => {}
        }
    }

    fn log_line(&mut self, line: &str) {
        let kind = check::classify(line);
        match kind {
            LogLine::Connected { tls: true } => self.connected_tls += 1,
            LogLine::Interlock(interlock) => {
                self.interlocks += 1;
                *self
                    .interlock_kinds
                    .entry(check::interlock_kind(interlock))
                    .or_default() += 1;
            }
            _ => {}
        }
        if kind.shown() {
            if self.events.len() == EVENT_LINES {
                self.events.pop_front();
            }
            self.events.push_back(short_log(line));
        }
    }
}

/// `[2026-01-02T03:04:05.678Z WARN  target] text` → `03:04:05.678 WARN  target] text`, without
/// the audit line's `time=`, `broker=` and `protocol=` fields (the panel has room for the user
/// and the result), cut to 140 characters.
fn short_log(line: &str) -> String {
    let short = match (line.get(..1), line.get(12..24), line.get(26..)) {
        (Some("["), Some(time), Some(rest)) if line.get(11..12) == Some("T") => {
            format!("{time} {rest}")
        }
        _ => line.to_owned(),
    };
    let audit =
        heat_state::log::LogLine::parse(line).is_some_and(|l| l.target == check::AUDIT_TARGET);
    let short = if audit {
        short
            .split(' ')
            .filter(|w| {
                !["time=", "broker=", "protocol="]
                    .iter()
                    .any(|p| w.starts_with(p))
            })
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        short
    };
    short.chars().take(140).collect()
}

/// The run's result; `text` holds the printed summary lines. Fields beyond those [`Self::ok`]
/// reads are for the acceptance test.
#[derive(Debug, Clone)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Summary {
    pub(crate) online_over_tls: bool,
    pub(crate) energy_kwh: Option<f64>,
    pub(crate) violations: usize,
    pub(crate) unreadable_states: usize,
    pub(crate) states_checked: usize,
    pub(crate) connections: check::Connections,
    pub(crate) commands_sent: usize,
    pub(crate) commands_answered: usize,
    pub(crate) availability_after_stop: Option<String>,
    pub(crate) password_leaked: bool,
    pub(crate) text: String,
}

impl Summary {
    /// No reason to exit non-zero.
    pub(crate) fn ok(&self) -> bool {
        self.online_over_tls
            && self.violations == 0
            && self.unreadable_states == 0
            && !self.password_leaked
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// A file only its owner may read, created new.
fn write_private(path: &Path, text: &str) -> Result<()> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// `KEY=VALUE` lines of an env file (comments and blank lines skipped).
pub(crate) fn env_file(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// Reads `stream` line by line on a thread: each line into `log` (if any) and down the channel.
pub(crate) fn lines_of(
    stream: impl Read + Send + 'static,
    mut log: Option<File>,
) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        loop {
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    // Said, not a silent end of the output.
                    eprintln!("demo: reading a child's output failed: {e}");
                    break;
                }
            }
            if let Some(f) = log.as_mut() {
                let _ = f.write_all(&buf);
            }
            let line = String::from_utf8_lossy(&buf).trim_end().to_owned();
            buf.clear();
            if tx.send(line).is_err() {
                // Nobody listens any more; keep the log complete.
                continue;
            }
        }
    });
    rx
}

/// The Home Assistant user's client options (mosquitto_sub and mosquitto_pub read
/// `$XDG_CONFIG_HOME/<program>`), in a directory only we may enter.
pub(crate) fn client_options(
    dir: &Path,
    port: u16,
    user: &str,
    password: &str,
    ca: &Path,
) -> Result<PathBuf> {
    let home = dir.join("homeassistant-client");
    DirBuilder::new()
        .mode(0o700)
        .create(&home)
        .with_context(|| format!("cannot create {}", home.display()))?;
    let options = format!(
        "-h localhost\n-p {port}\n-u {user}\n-P {password}\n--cafile {}\n",
        ca.display()
    );
    for program in ["mosquitto_sub", "mosquitto_pub"] {
        write_private(&home.join(program), &options)?;
    }
    Ok(home)
}

/// Runs the demo in `dir` (cleared first) and prints and returns the summary.
pub(crate) fn run(opts: &Options, bins: &Bins, dir: &Path, stop: &AtomicBool) -> Result<Summary> {
    let mut out = Out {
        secrets: Vec::new(),
        leaked: false,
        transcript: String::new(),
    };
    if dir.exists() {
        fs::remove_dir_all(dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let dir = &fs::canonicalize(dir)?;

    // 1. Provision.
    // Bind port 0 and let go: test-mosquitto's free_port, which xtask cannot depend on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .context("no free port on 127.0.0.1")?
        .port();
    out.say(format!(
        "==> heat-diag provision {} (TLS on 127.0.0.1:{port}, passwords, ACL)",
        dir.display()
    ));
    let mut provision = Command::new(&bins.heat_diag);
    provision
        .arg("provision")
        .arg(dir)
        .args(["--tls-port", &port.to_string(), "--tls-bind", "127.0.0.1"])
        .arg("--log-file")
        .arg(dir.join("broker.log"))
        .arg("--force")
        .env_remove("HEAT_CONFIG");
    if system::is_root() {
        // Mosquitto started as root drops to user `mosquitto`, which could not read the files.
        provision.args(["--run-as-user", "root"]);
    }
    let provisioned = provision
        .output()
        .context("cannot run heat-diag provision")?;
    if !provisioned.status.success() {
        bail!(
            "heat-diag provision failed: {}",
            String::from_utf8_lossy(&provisioned.stderr).trim()
        );
    }
    let secrets = dir.join("secrets");
    for entry in fs::read_dir(&secrets).context("provision wrote no secrets/")? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "password") {
            out.secrets
                .push(fs::read_to_string(&path)?.trim().to_owned());
        }
    }
    if out.secrets.len() < 2 {
        bail!(
            "provision wrote {} passwords, expected 2",
            out.secrets.len()
        );
    }
    for line in String::from_utf8_lossy(&provisioned.stdout)
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
    {
        out.say(format!("  {line}"));
    }
    let ha_password = fs::read_to_string(secrets.join("homeassistant.password"))?;
    let ca = dir.join("certs/ca.crt");
    let ha_home = client_options(dir, port, "homeassistant", ha_password.trim(), &ca)?;
    drop(ha_password);

    let mut running = Running::default();

    // 2. The broker.
    let broker_log = dir.join("broker.log");
    running.broker = Some(Proc::spawn(
        "mosquitto",
        Command::new(system::find_program("mosquitto").context("mosquitto is not installed")?)
            .arg("-c")
            .arg(dir.join("mosquitto.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(dir.join("broker.stderr"))?),
    )?);
    let since = Instant::now();
    loop {
        if fs::read_to_string(&broker_log).is_ok_and(|l| l.contains(" running")) {
            break;
        }
        if let Some(status) = running.broker.as_mut().and_then(Proc::exited) {
            bail!(
                "mosquitto exited with {status}: {}{}",
                fs::read_to_string(&broker_log).unwrap_or_default(),
                fs::read_to_string(dir.join("broker.stderr")).unwrap_or_default()
            );
        }
        if since.elapsed() > Duration::from_secs(10) {
            bail!(
                "mosquitto did not start within 10 s; see {}",
                broker_log.display()
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
    let broker_pid = running.broker.as_ref().map_or(0, Proc::pid);
    out.say(format!(
        "==> mosquitto (pid {broker_pid}) on 127.0.0.1:{port}, TLS only, no anonymous access"
    ));

    // 3. The watcher, as Home Assistant.
    let mut watcher_cmd = Command::new("stdbuf");
    watcher_cmd
        .args(["-oL", "mosquitto_sub", "-d", "-q", "1", "-t"])
        .arg(format!("{PREFIX}/#"))
        .args(["-F", check::SUB_FORMAT])
        .env("XDG_CONFIG_HOME", &ha_home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(File::create(dir.join("watcher.stderr"))?);
    let mut watcher = Proc::spawn("mosquitto_sub", &mut watcher_cmd)?;
    let watched = lines_of(
        watcher
            .child
            .stdout
            .take()
            .context("mosquitto_sub has no stdout")?,
        None,
    );
    running.watcher = Some(watcher);
    let since = Instant::now();
    loop {
        match watched.recv_timeout(Duration::from_millis(100)) {
            Ok(line) if line.contains("received SUBACK") => break,
            Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => bail!(
                "the watcher (mosquitto_sub) stopped: {}",
                fs::read_to_string(dir.join("watcher.stderr")).unwrap_or_default()
            ),
        }
        if since.elapsed() > Duration::from_secs(10) {
            bail!("the watcher (mosquitto_sub) did not subscribe within 10 s");
        }
    }
    out.say(format!(
        "==> watcher: mosquitto_sub as homeassistant over TLS on {PREFIX}/# (options in {})",
        ha_home.join("mosquitto_sub").display()
    ));

    // 4. The controller.
    let toml = dir.join("heat.toml");
    fs::write(
        &toml,
        format!(
            "[controller]\nperiod_secs = 30\nheartbeat_secs = 60\ndevice_name = \"Solar heating (demo)\"\n\
             lock_file = \"{}\"\n",
            dir.join("controller.lock").display()
        ),
    )?;
    let settings = env_file(&fs::read_to_string(dir.join("controller.env"))?);
    let mut ctl_cmd = Command::new(&bins.heat_controller);
    ctl_cmd
        .env_clear()
        .env("PATH", env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .envs(settings.iter().map(|(k, v)| (k, v)))
        .current_dir(dir)
        .arg("--config")
        .arg(&toml)
        .arg("--simulate")
        .args(["--time-scale", &opts.time_scale.to_string()])
        .args(["--seed", &opts.seed.to_string()])
        .args(["--sim-initial-c", SIM_INITIAL_C])
        .arg("--relay-journal")
        .arg(dir.join("relays.journal"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut controller = Proc::spawn("heat-controller", &mut ctl_cmd)?;
    let started = Instant::now();
    let ctl_log_path = dir.join("controller.log");
    let ctl_log = File::create(&ctl_log_path)?;
    let ctl_stderr = lines_of(
        controller.child.stderr.take().context("no stderr")?,
        Some(ctl_log.try_clone()?),
    );
    let ctl_stdout = lines_of(
        controller.child.stdout.take().context("no stdout")?,
        Some(ctl_log),
    );
    let ctl_pid = controller.pid();
    running.controller = Some(controller);
    out.say(format!(
        "==> heat-controller (pid {ctl_pid}) --simulate --time-scale {} --seed {} --sim-initial-c {SIM_INITIAL_C}\n    \
         MQTT settings from controller.env as environment variables; log in {}",
        opts.time_scale,
        opts.seed,
        ctl_log_path.display()
    ));

    // 5 and 6. Watch, send commands, show.
    let interactive = opts.duration.is_none() && std::io::stdout().is_terminal();
    let span = opts.duration.unwrap_or(Duration::from_secs(20));
    match opts.duration {
        Some(d) => out.say(format!("==> running for {} s", d.as_secs())),
        None => out.say("==> running until Ctrl-C"),
    }
    if interactive {
        print!("\x1b[2J");
    }
    let mut seen = Observed::default();
    let mut sent = 0;
    let mut next_frame = Instant::now();
    let mut next_line = Instant::now() + Duration::from_secs(5);
    let mut ended_early = None;
    loop {
        let now = started.elapsed();
        if stop.load(Ordering::Relaxed) || opts.duration.is_some_and(|d| now >= d) {
            break;
        }
        if let Some(status) = running.controller.as_mut().and_then(Proc::exited) {
            ended_early = Some(status);
            break;
        }
        for line in ctl_stderr.try_iter().chain(ctl_stdout.try_iter()) {
            seen.log_line(&line);
        }
        for line in watched.try_iter() {
            if let Some(m) = check::parse_message(&line) {
                let before = seen.answers.len();
                seen.message(&m, now);
                if !interactive && seen.answers.len() > before {
                    let a = &seen.answers[before];
                    out.say(format!(
                        "    answer on {PREFIX}/result: {} {} ({})",
                        a.topic,
                        if a.accepted { "accepted" } else { "refused" },
                        a.reason
                    ));
                }
            }
        }
        if let Some(online) = seen.online_at
            && sent < COMMANDS.len()
            && now >= online + span.mul_f64(COMMAND_AT[sent])
        {
            let (name, payload, why) = COMMANDS[sent];
            let topic = format!("{PREFIX}/{name}/set");
            if !interactive {
                out.say(format!(
                    "==> as homeassistant: mosquitto_pub -t {topic} -m {payload}   ({why})"
                ));
            }
            let child = Command::new("mosquitto_pub")
                .args(["-q", "1", "-t", &topic, "-m", payload])
                .env("XDG_CONFIG_HOME", &ha_home)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .context("cannot start mosquitto_pub")?;
            running.publishers.push((child, sent));
            sent += 1;
        }
        running
            .publishers
            .retain_mut(|(child, _)| !matches!(child.try_wait(), Ok(Some(_))));
        if interactive && Instant::now() >= next_frame {
            let frame = screen(opts, &seen, sent, now, port, broker_pid, ctl_pid, dir);
            out.frame(&frame);
            next_frame = Instant::now() + Duration::from_millis(250);
        } else if !interactive && Instant::now() >= next_line {
            out.say(format!("    {}", status_line(opts, &seen, now)));
            next_line += Duration::from_secs(5);
        }
        thread::sleep(Duration::from_millis(40));
    }
    let ran_for = started.elapsed();
    if interactive {
        println!();
    }

    // 7. Stop the controller, read back what it left, stop the rest.
    for (mut child, _) in running.publishers.drain(..) {
        let _ = child.kill();
        let _ = child.wait();
    }
    if let Some(status) = ended_early {
        out.say(format!(
            "==> heat-controller exited on its own with {status}"
        ));
    } else {
        out.say(format!(
            "==> stopping heat-controller (SIGTERM to pid {ctl_pid})"
        ));
    }
    if let Some(mut ctl) = running.controller.take() {
        let (status, killed) = ctl.terminate(CONTROLLER_GRACE);
        let status = status.map_or("unknown".to_owned(), |s| s.to_string());
        if killed {
            out.say(format!(
                "    it did not stop within {} s: killed ({status})",
                CONTROLLER_GRACE.as_secs()
            ));
        } else {
            out.say(format!("    stopped: {status}"));
        }
    }
    let end = started.elapsed();
    // Let the last lines and the watcher's `offline` arrive.
    thread::sleep(Duration::from_millis(500));
    for line in ctl_stderr.try_iter().chain(ctl_stdout.try_iter()) {
        seen.log_line(&line);
    }
    for line in watched.try_iter() {
        if let Some(m) = check::parse_message(&line) {
            seen.message(&m, end);
        }
    }
    let retained = read_retained(&ha_home);
    if let Some(mut w) = running.watcher.take() {
        w.terminate(Duration::from_secs(2));
    }
    out.say(format!(
        "==> stopping mosquitto (SIGTERM to pid {broker_pid})"
    ));
    if let Some(mut b) = running.broker.take() {
        b.terminate(BROKER_GRACE);
    }

    let broker_text = fs::read_to_string(&broker_log).unwrap_or_default();
    let connections = check::broker_connections(&broker_text);
    let retained_state = retained
        .iter()
        .find(|m| m.topic == format!("{PREFIX}/state"))
        .and_then(|m| serde_json::from_str::<StateJson>(&m.payload).ok());
    let availability_after_stop = retained
        .iter()
        .find(|m| m.topic == format!("{PREFIX}/availability"))
        .map(|m| m.payload.clone());
    let (energy_state, energy_from) = match &retained_state {
        Some(s) => (Some(s), "the retained state"),
        None => (
            seen.last_state.as_ref(),
            "the last state seen; none was retained",
        ),
    };
    let energy_kwh = energy_state.map(|s| s.energy.collected_kwh);
    let heater_kwh = energy_state.map(|s| s.energy.heater_kwh);

    let mut leaked = out.leaked;
    for file in [
        "controller.log",
        "broker.log",
        "broker.stderr",
        "watcher.stderr",
    ] {
        let text = fs::read_to_string(dir.join(file)).unwrap_or_default();
        if check::leaks(&text, &out.secrets) {
            out.say(format!("!!! a password appears in {file}"));
            leaked = true;
        }
    }
    leaked |= check::leaks(&out.transcript, &out.secrets);

    let online_over_tls = seen.online_at.is_some() && seen.connected_tls > 0;
    let accepted = seen.answers.iter().filter(|a| a.accepted).count();
    let fmt_kwh = |x: Option<f64>| x.map_or("unknown".to_owned(), |x| format!("{x:.3}"));
    let mut lines = vec![
        format!(
            "controller online over TLS: {}{}",
            yes_no(online_over_tls),
            seen.online_at.map_or(String::new(), |t| format!(
                " (availability `online` after {:.1} s; {} TLS connection(s) in its heat::link events)",
                t.as_secs_f64(),
                seen.connected_tls
            ))
        ),
        format!(
            "energy collected: {} kWh (from {energy_from}; heater {} kWh; {:.1} simulated hours)",
            fmt_kwh(energy_kwh),
            fmt_kwh(heater_kwh),
            ran_for.as_secs_f64() * opts.time_scale / 3600.0
        ),
        format!(
            "interlock events: {} (controller log{})",
            seen.interlocks,
            if seen.interlock_kinds.is_empty() {
                String::new()
            } else {
                let kinds: Vec<_> = seen
                    .interlock_kinds
                    .iter()
                    .map(|(kind, n)| format!("{n} {kind}"))
                    .collect();
                format!(": {}", kinds.join(", "))
            }
        ),
        format!(
            "safety violations: {} (of {} state messages checked; {} unreadable)",
            seen.violations, seen.states, seen.unreadable_states
        ),
        format!(
            "connection attempts: {} (broker log: {} accepted, {} refused as not authorised)",
            connections.attempts, connections.accepted, connections.refused
        ),
        format!(
            "commands handled: {} of {sent} sent ({accepted} accepted, {} refused)",
            seen.answers.len(),
            seen.answers.len() - accepted
        ),
        format!(
            "availability after stop: {} (retained)",
            availability_after_stop.as_deref().unwrap_or("none")
        ),
        format!("password in output: {}", yes_no(leaked)),
    ];
    for note in &seen.violation_notes {
        lines.push(format!("  violation: {note}"));
    }
    out.say("==> summary");
    for line in &lines {
        out.say(line);
    }
    Ok(Summary {
        online_over_tls,
        energy_kwh,
        violations: seen.violations,
        unreadable_states: seen.unreadable_states,
        states_checked: seen.states,
        connections,
        commands_sent: sent,
        commands_answered: seen.answers.len(),
        availability_after_stop,
        password_leaked: leaked,
        text: lines.join("\n"),
    })
}

/// The retained state and availability, as a newcomer (Home Assistant restarting) sees them.
pub(crate) fn read_retained(ha_home: &Path) -> Vec<Message> {
    let output = Command::new("mosquitto_sub")
        .args([
            "-C",
            "2",
            "-W",
            "5",
            "--retained-only",
            "-F",
            check::SUB_FORMAT,
        ])
        .args(["-t", &format!("{PREFIX}/state")])
        .args(["-t", &format!("{PREFIX}/availability")])
        .env("XDG_CONFIG_HOME", ha_home)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    output
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(check::parse_message)
                .filter(|m| m.retained)
                .collect()
        })
        .unwrap_or_default()
}

fn temp(state: &StateJson, sensor: Sensor) -> String {
    match state.temperatures.get(&sensor) {
        Some(t) => match (t.value, t.fault) {
            (Some(v), _) => format!("{v:6.2} °C"),
            (None, Some(fault)) => format!("fault: {fault}"),
            (None, None) => "—".to_owned(),
        },
        None => "—".to_owned(),
    }
}

/// Simulated time of day: the plant starts at midnight when the controller starts.
fn sim_clock(opts: &Options, elapsed: Duration) -> String {
    let secs = (elapsed.as_secs_f64() * opts.time_scale) as u64;
    format!(
        "day {} {:02}:{:02}",
        secs / 86_400 + 1,
        secs / 3600 % 24,
        secs / 60 % 60
    )
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

fn status_line(opts: &Options, seen: &Observed, elapsed: Duration) -> String {
    let Some(s) = &seen.last_state else {
        return format!("{}: no state yet", sim_clock(opts, elapsed));
    };
    format!(
        "{}: mode {} state {} pump {} heater {} collector {} tank {} / {} collected {} kWh",
        sim_clock(opts, elapsed),
        s.mode,
        s.state,
        s.pump,
        s.heater,
        temp(s, Sensor::Collector).trim(),
        temp(s, Sensor::TankBottom).trim(),
        temp(s, Sensor::TankTop).trim(),
        s.energy.collected_kwh
    )
}

#[allow(clippy::too_many_arguments)]
fn screen(
    opts: &Options,
    seen: &Observed,
    sent: usize,
    elapsed: Duration,
    port: u16,
    broker_pid: u32,
    ctl_pid: u32,
    dir: &Path,
) -> Vec<String> {
    const BOLD: &str = "\x1b[1m";
    const RESET: &str = "\x1b[0m";
    let s = seen.last_state.as_ref();
    // A field of the latest state, `?` before the first one.
    let word = |field: fn(&StateJson) -> String| s.map_or_else(|| "?".to_owned(), field);
    let on = |relay: fn(&StateJson) -> OnOff| match s.map(relay) {
        Some(OnOff::On) => format!("\x1b[32mON{RESET}"),
        Some(OnOff::Off) => "OFF".to_owned(),
        None => "?".to_owned(),
    };
    let link = match seen.availability.as_deref() {
        Some("online") => "\x1b[32monline\x1b[0m".to_owned(),
        Some(other) => format!("\x1b[31m{other}{RESET}"),
        None => "connecting…".to_owned(),
    };
    let mut lines = vec![
        format!(
            "{BOLD}solar-heating demo{RESET} — Ctrl-C to stop      {}",
            dir.display()
        ),
        String::new(),
        format!(
            "broker      mosquitto pid {broker_pid}, TLS 127.0.0.1:{port}, passwords + ACL, no anonymous"
        ),
        format!(
            "controller  heat-controller pid {ctl_pid}, simulated plant ×{} (seed {})   {}",
            opts.time_scale,
            opts.seed,
            sim_clock(opts, elapsed)
        ),
        format!(
            "MQTT link   {link} (as seen by Home Assistant over TLS)   connects {}   commands rejected by the session {}",
            word(|s| s.link.connects.to_string()),
            word(|s| s.link.commands_rejected.to_string())
        ),
        String::new(),
        format!(
            "mode {BOLD}{}{RESET}   state {BOLD}{}{RESET}   pump {}   heater {}   problem {}",
            word(|s| s.mode.to_string()),
            word(|s| s.state.to_string()),
            on(|s| s.pump),
            on(|s| s.heater),
            word(|s| s.problem.to_string())
        ),
        format!(
            "collector {}   tank bottom {}   tank top {}",
            word(|s| temp(s, Sensor::Collector)),
            word(|s| temp(s, Sensor::TankBottom)),
            word(|s| temp(s, Sensor::TankTop))
        ),
        format!("interlocks  {}", word(|s| list(&s.interlocks))),
        format!(
            "energy      collected {} kWh   heater {} kWh",
            word(|s| s.energy.collected_kwh.to_string()),
            word(|s| s.energy.heater_kwh.to_string())
        ),
        format!(
            "checked     {} states, {} safety violations   interlock events {}",
            seen.states, seen.violations, seen.interlocks
        ),
        String::new(),
        format!("commands from Home Assistant ({sent} sent):"),
    ];
    for a in seen.answers.iter().rev().take(4).rev() {
        lines.push(format!(
            "  {}: {} ({})",
            a.topic,
            if a.accepted { "accepted" } else { "refused" },
            a.reason
        ));
    }
    lines.push(String::new());
    lines.push("controller log (audit, warnings, session):".to_owned());
    for e in &seen.events {
        lines.push(format!("  {e}"));
    }
    lines.push(String::new());
    lines.push(format!(
        "try: XDG_CONFIG_HOME={} mosquitto_pub -t {PREFIX}/mode/set -m manual",
        dir.join("homeassistant-client").display()
    ));
    lines
}
