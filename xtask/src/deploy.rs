//! `cargo xtask deploy --host USER@HOST`: build the bundle (`cargo xtask dist`), copy it over
//! ssh, run its `install.sh` on the board, restart the service, wait until the controller
//! reports `online` on `<prefix>/availability`, and roll back to `heat-controller.previous` when
//! it does not.
//!
//! Only Debian's openssh-client and mosquitto-clients are used, by shelling out: `tar | ssh
//! 'tar x'` copies, `mosquitto_sub` on this machine watches availability. The broker credentials
//! come from a mosquitto_sub options file (`--mqtt-options`, mode 0600), handed to mosquitto_sub
//! through `$XDG_CONFIG_HOME`, so no secret is ever on a command line.
//!
//! The watcher subscribes before anything on the board changes, and only a *live* `online`
//! (retain flag 0, published after the subscription) counts: the retained `online` of the old
//! process can never pass for the new one.

use std::{
    env,
    fs::{self, DirBuilder, OpenOptions},
    io::{BufRead, BufReader, Read, Write},
    os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
    process::{self, Child, Command, Stdio},
    sync::mpsc::{self, Receiver, RecvTimeoutError},
    thread,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, Result, bail};

use crate::dist::{self, DistOptions};

pub(crate) const HELP: &str = "\
cargo xtask deploy --host USER@HOST [options]

Builds the bundle (as `cargo xtask dist`), copies it over ssh, runs its install.sh on the board,
restarts heat-controller.service and waits until the controller publishes a live `online` on
<prefix>/availability. When it does not, puts heat-controller.previous back, restarts, and
exits non-zero.

Options:
  --host USER@HOST        the board (required)
  --port N                ssh port (default: ssh's own)
  --identity FILE         ssh private key
  --ssh-option OPT        extra `ssh -o OPT` (repeatable), e.g. StrictHostKeyChecking=accept-new
  --target TRIPLE         cross-compile (see docs/deploy.md)
  --bundle DIR            deploy an existing bundle from `cargo xtask dist` instead of building
  --dry-run               print every step, do nothing
  --online-timeout SECS   how long to wait for `online` (default 60)
  --mqtt-options FILE     mosquitto_sub options, one per line (-h HOST, -p PORT, -u USER,
                          -P PASSWORD, --cafile ...), mode 0600; default: mosquitto_sub's own
                          ~/.config/mosquitto_sub
  --topic-prefix P        the controller's MQTT_TOPIC_PREFIX (default solar_heating)
  --sudo CMD              remote privilege prefix (default `sudo -n`, none for root@; '' for none)
  --service-manager CMD   remote service manager (default systemctl)
  --remote-root DIR       install under DIR on the board (install.sh DESTDIR; for staging/tests)
";

const SERVICE: &str = "heat-controller.service";
/// Marks mosquitto_sub's formatted message lines apart from its `-d` debug lines.
const MSG_MARK: &str = "heat-deploy-msg";
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(15);
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// What `cargo xtask deploy` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeployOptions {
    pub(crate) host: String,
    pub(crate) port: Option<u16>,
    pub(crate) identity: Option<PathBuf>,
    pub(crate) ssh_options: Vec<String>,
    pub(crate) target: Option<String>,
    pub(crate) bundle: Option<PathBuf>,
    pub(crate) dry_run: bool,
    pub(crate) online_timeout: Duration,
    pub(crate) mqtt_options: Option<PathBuf>,
    pub(crate) topic_prefix: String,
    /// `None`: `sudo -n`, or nothing when logging in as root.
    pub(crate) sudo: Option<String>,
    pub(crate) service_manager: String,
    pub(crate) remote_root: Option<String>,
}

impl DeployOptions {
    pub(crate) fn new(host: &str) -> Self {
        DeployOptions {
            host: host.to_owned(),
            port: None,
            identity: None,
            ssh_options: Vec::new(),
            target: None,
            bundle: None,
            dry_run: false,
            online_timeout: Duration::from_secs(60),
            mqtt_options: None,
            topic_prefix: "solar_heating".to_owned(),
            sudo: None,
            service_manager: "systemctl".to_owned(),
            remote_root: None,
        }
    }

    pub(crate) fn parse(args: &[String]) -> Result<Self> {
        let mut host = None;
        let mut opts = DeployOptions::new("");
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            if arg == "--dry-run" {
                opts.dry_run = true;
                continue;
            }
            let (flag, value) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag, value.to_owned()),
                _ => {
                    let value = args.next().with_context(|| format!("{arg} needs a value"));
                    (arg.as_str(), value?.clone())
                }
            };
            match flag {
                "--host" => host = Some(value),
                "--port" => {
                    opts.port = Some(
                        value
                            .parse()
                            .ok()
                            .filter(|p| *p > 0)
                            .with_context(|| format!("--port {value:?} is not a port"))?,
                    );
                }
                "--identity" => opts.identity = Some(value.into()),
                "--ssh-option" => opts.ssh_options.push(value),
                "--target" => {
                    opts.target = DistOptions::parse(&["--target".to_owned(), value])?.target;
                }
                "--bundle" => opts.bundle = Some(value.into()),
                "--online-timeout" => {
                    let secs: u64 = value.parse().ok().filter(|s| *s > 0).with_context(|| {
                        format!("--online-timeout {value:?} is not a number of seconds")
                    })?;
                    opts.online_timeout = Duration::from_secs(secs);
                }
                "--mqtt-options" => opts.mqtt_options = Some(value.into()),
                "--topic-prefix" => {
                    if value.is_empty()
                        || value.contains(['+', '#', '\''])
                        || value.starts_with('/')
                        || value.ends_with('/')
                    {
                        bail!("--topic-prefix {value:?} is not a topic prefix");
                    }
                    opts.topic_prefix = value;
                }
                "--sudo" => opts.sudo = Some(value),
                "--service-manager" => {
                    if value.trim().is_empty() {
                        bail!("--service-manager must not be empty");
                    }
                    opts.service_manager = value;
                }
                "--remote-root" => opts.remote_root = Some(value),
                _ => bail!("`cargo xtask deploy` does not know {arg:?}\n\n{HELP}"),
            }
        }
        let host = host.context("--host USER@HOST is required")?;
        if host.is_empty() || host.starts_with('-') || host.contains(char::is_whitespace) {
            bail!("--host {host:?} is not USER@HOST");
        }
        opts.host = host;
        Ok(opts)
    }

    fn sudo(&self) -> String {
        match &self.sudo {
            Some(s) => s.trim().to_owned(),
            None if self.host.starts_with("root@") => String::new(),
            None => "sudo -n".to_owned(),
        }
    }
}

/// How a deploy ended (errors aside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The new controller reported `online`.
    Online,
    /// Nothing was done (`--dry-run`).
    DryRun,
    /// The new controller failed; `heat-controller.previous` was put back and restarted.
    RolledBack {
        reason: String,
        previous_online: bool,
    },
}

/// `cargo xtask deploy ...`.
pub(crate) fn deploy_command(args: &[String]) -> Result<()> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{HELP}");
        return Ok(());
    }
    let opts = DeployOptions::parse(args)?;
    let mut transcript = Vec::new();
    match deploy(&opts, &mut transcript)? {
        Outcome::Online | Outcome::DryRun => Ok(()),
        Outcome::RolledBack {
            reason,
            previous_online,
        } => {
            let state = if previous_online {
                "the previous controller is online again"
            } else {
                "the previous controller did not come online either: see `journalctl -u heat-controller` on the board"
            };
            bail!("deploy FAILED: {reason}\nROLLED BACK to heat-controller.previous; {state}")
        }
    }
}

/// Quotes `s` for a POSIX shell.
pub(crate) fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

struct Deployer<'a> {
    opts: &'a DeployOptions,
    transcript: &'a mut Vec<String>,
}

impl Deployer<'_> {
    fn say(&mut self, line: String) {
        println!("{line}");
        self.transcript.push(line);
    }

    fn ssh(&self, remote: &str) -> Command {
        let mut cmd = Command::new("ssh");
        cmd.args(["-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]);
        if let Some(port) = self.opts.port {
            cmd.arg("-p").arg(port.to_string());
        }
        if let Some(identity) = &self.opts.identity {
            cmd.arg("-i")
                .arg(identity)
                .args(["-o", "IdentitiesOnly=yes"]);
        }
        for option in &self.opts.ssh_options {
            cmd.arg("-o").arg(option);
        }
        cmd.arg("--").arg(&self.opts.host).arg(remote);
        cmd
    }

    /// Runs `remote` on the board with output shown; an error names `step`.
    fn remote(&mut self, step: &str, remote: &str) -> Result<()> {
        let cmd = self.ssh(remote);
        if self.opts.dry_run {
            self.say(format!("[dry-run] {step}: {cmd:?}"));
            return Ok(());
        }
        let shown = format!("{cmd:?}");
        let status = { cmd }
            .stdin(Stdio::null())
            .status()
            .with_context(|| format!("step '{step}': cannot start ssh ({shown})"))?;
        if !status.success() {
            bail!("step '{step}' failed: {shown} exited with {status}");
        }
        Ok(())
    }

    fn install_command(&self, dir: &str, action: &str) -> String {
        let mut env = format!("SERVICE_MANAGER={}", sh_quote(&self.opts.service_manager));
        if let Some(root) = &self.opts.remote_root {
            env.push_str(&format!(" DESTDIR={}", sh_quote(root)));
        }
        let sudo = self.opts.sudo();
        let sudo = if sudo.is_empty() {
            String::new()
        } else {
            format!("{sudo} ")
        };
        format!(
            "cd {} && {sudo}env {env} sh ./install.sh {action}",
            sh_quote(dir)
        )
    }

    fn restart_command(&self) -> String {
        let sudo = self.opts.sudo();
        let sudo = if sudo.is_empty() {
            String::new()
        } else {
            format!("{sudo} ")
        };
        format!("{sudo}{} restart {SERVICE}", self.opts.service_manager)
    }
}

/// Runs a deploy; progress goes to stdout and into `transcript`.
pub(crate) fn deploy(opts: &DeployOptions, transcript: &mut Vec<String>) -> Result<Outcome> {
    let mut d = Deployer { opts, transcript };
    let dry = opts.dry_run;

    // 1. The bundle.
    let (bundle_dir, has_controller) = match &opts.bundle {
        Some(dir) => {
            d.say(format!("==> [1/6 bundle] using {}", dir.display()));
            (dir.clone(), dir.join("bin/heat-controller").is_file())
        }
        None => {
            d.say("==> [1/6 build] cargo xtask dist".to_owned());
            let package = crate::system::project_root().join("bins/heat-controller/Cargo.toml");
            if !dry && !package.is_file() {
                bail!(
                    "step 'build' failed: bins/heat-controller is not in the workspace yet: nothing to deploy"
                );
            }
            let dist_opts = DistOptions {
                target: opts.target.clone(),
            };
            let bundle = dist::build(&dist_opts, dry).context("step 'build' failed")?;
            let has_controller = bundle.binaries.iter().any(|b| b == "heat-controller");
            (bundle.dir, has_controller)
        }
    };
    if dry {
        if !has_controller {
            d.say(format!(
                "warning: {} has no bin/heat-controller yet: a real deploy stops here",
                bundle_dir.display()
            ));
        }
    } else {
        for needed in ["install.sh", "bin/heat-controller"] {
            if !bundle_dir.join(needed).is_file() {
                bail!(
                    "step 'bundle' failed: {} has no {needed} (is bins/heat-controller in the workspace yet?)",
                    bundle_dir.display()
                );
            }
        }
    }
    let name = bundle_dir
        .file_name()
        .and_then(|n| n.to_str())
        .context("step 'bundle' failed: the bundle path has no usable directory name")?
        .to_owned();
    let parent = bundle_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));

    // 2. Watch availability before touching the board.
    let topic = format!("{}/availability", opts.topic_prefix);
    let mut watcher = if dry {
        d.say(format!(
            "[dry-run] watch: stdbuf -oL mosquitto_sub -d -t {topic} -F '{MSG_MARK} %r %p' (options from {})",
            opts.mqtt_options
                .as_ref()
                .map_or("~/.config/mosquitto_sub".to_owned(), |p| p
                    .display()
                    .to_string())
        ));
        None
    } else {
        d.say(format!("==> [2/6 watch] subscribing to {topic}"));
        Some(Watcher::start(opts.mqtt_options.as_deref(), &topic).context("step 'watch' failed")?)
    };

    // 3. Copy.
    let remote_dir = if dry {
        d.say(format!(
            "[dry-run] copy: tar -C {} -czf - {name} | {:?}",
            parent.display(),
            d.ssh(COPY_SCRIPT)
        ));
        "/tmp/heat-deploy.XXXXXX".to_owned()
    } else {
        d.say(format!(
            "==> [3/6 copy] {name} ({} kB) to {}",
            dir_size(&bundle_dir) / 1024,
            opts.host
        ));
        let started = Instant::now();
        let dir = copy(&d, &parent, &name).context("step 'copy' failed")?;
        d.say(format!(
            "    copied to {dir} in {:.1} s",
            started.elapsed().as_secs_f64()
        ));
        dir
    };
    let bundle_remote = format!("{remote_dir}/{name}");

    let outcome = install_and_check(&mut d, watcher.as_mut(), &bundle_remote);

    // Always clean the remote copy; a failure here is only a warning.
    let cleanup = format!("rm -rf {}", sh_quote(&remote_dir));
    if let Err(err) = d.remote("cleanup", &cleanup) {
        d.say(format!("warning: {err:#}"));
    }
    outcome
}

fn install_and_check(
    d: &mut Deployer<'_>,
    watcher: Option<&mut Watcher>,
    bundle_remote: &str,
) -> Result<Outcome> {
    let opts = d.opts;
    // 4. Install.
    d.say(format!("==> [4/6 install] install.sh on {}", opts.host));
    let install = d.install_command(bundle_remote, "install");
    d.remote("install", &install).context(
        "the service was not restarted; if install.sh got as far as the binaries, \
         `sudo sh install.sh rollback` on the board puts the previous one back",
    )?;

    // 5. Restart. Whatever arrived so far came from the old process.
    let mut watcher = watcher;
    if let Some(watcher) = watcher.as_deref_mut() {
        watcher.drain(d);
    }
    d.say(format!("==> [5/6 restart] {SERVICE}"));
    let restart = d.restart_command();
    let restarted = d.remote("restart", &restart);

    // 6. Wait for online.
    let Some(watcher) = watcher else {
        d.say(format!(
            "[dry-run] wait up to {} s for a live `online`; if none: {}, then restart and wait again",
            opts.online_timeout.as_secs(),
            d.install_command(bundle_remote, "rollback")
        ));
        return Ok(Outcome::DryRun);
    };
    let reason = match restarted {
        Err(err) => format!("{err:#}"),
        Ok(()) => {
            d.say(format!(
                "==> [6/6 online] waiting up to {} s for `online`",
                opts.online_timeout.as_secs()
            ));
            match watcher.wait_online(d, opts.online_timeout)? {
                true => {
                    d.say("==> deployed: heat-controller is online".to_owned());
                    return Ok(Outcome::Online);
                }
                false => format!(
                    "step 'online' failed: no `online` on the availability topic within {} s",
                    opts.online_timeout.as_secs()
                ),
            }
        }
    };

    d.say(format!("==> [rollback] {reason}"));
    d.say("==> [rollback] restoring heat-controller.previous".to_owned());
    let rollback = d.install_command(bundle_remote, "rollback");
    d.remote("rollback", &rollback)
        .with_context(|| format!("deploy failed ({reason}) and the rollback failed too"))?;
    d.say(format!("==> [rollback] restarting {SERVICE}"));
    let previous_online = match d.remote("rollback restart", &restart) {
        Err(err) => {
            d.say(format!("    {err:#}"));
            false
        }
        Ok(()) => watcher.wait_online(d, opts.online_timeout)?,
    };
    d.say(format!(
        "==> ROLLED BACK: the previous controller is {}",
        if previous_online {
            "online"
        } else {
            "NOT online"
        }
    ));
    Ok(Outcome::RolledBack {
        reason,
        previous_online,
    })
}

/// Unpacks the bundle from stdin into a fresh directory and prints that directory.
const COPY_SCRIPT: &str =
    "set -e; d=$(mktemp -d /tmp/heat-deploy.XXXXXX); tar -xzf - -C \"$d\"; echo \"$d\"";

fn copy(d: &Deployer<'_>, parent: &Path, name: &str) -> Result<String> {
    let mut tar = Command::new("tar")
        .arg("-C")
        .arg(parent)
        .args(["-czf", "-"])
        .arg(name)
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start tar")?;
    let stdout = tar.stdout.take().context("tar has no stdout")?;
    let out = d
        .ssh(COPY_SCRIPT)
        .stdin(stdout)
        .stderr(Stdio::inherit())
        .output()
        .context("cannot start ssh")?;
    let tar_status = tar.wait().context("tar did not finish")?;
    if !tar_status.success() {
        bail!(
            "tar of {} exited with {tar_status}",
            parent.join(name).display()
        );
    }
    if !out.status.success() {
        bail!(
            "ssh to {} exited with {} (see ssh's message above)",
            d.opts.host,
            out.status
        );
    }
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !dir.starts_with("/tmp/heat-deploy.") || dir.contains(['\'', '\n']) {
        bail!("the board answered {dir:?} instead of the unpacked directory");
    }
    Ok(dir)
}

fn dir_size(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// A directory only this user can enter, removed when dropped.
#[derive(Debug)]
struct PrivateDir(PathBuf);

impl PrivateDir {
    fn new(prefix: &str) -> Result<Self> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        for attempt in 0..100 {
            let path =
                env::temp_dir().join(format!("{prefix}-{}-{nanos}-{attempt}", process::id()));
            match DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => return Ok(PrivateDir(path)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot create {}", path.display()));
                }
            }
        }
        bail!("cannot find a free temporary directory name for {prefix}")
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[derive(Debug)]
enum Event {
    Subscribed,
    Message { retained: bool, payload: String },
    Closed,
}

/// `mosquitto_sub` on the availability topic, read line by line on a thread.
#[derive(Debug)]
struct Watcher {
    child: Child,
    events: Receiver<Event>,
    stderr: Receiver<String>,
    _config: Option<PrivateDir>,
}

impl Watcher {
    fn start(options: Option<&Path>, topic: &str) -> Result<Self> {
        crate::system::ensure_packages(&[crate::system::MOSQUITTO_SUB])?;
        // mosquitto_sub's `-d` lines go through stdio: line-buffer them, or the SUBACK line
        // sits in a pipe buffer until mosquitto_sub exits.
        let mut cmd = Command::new("stdbuf");
        cmd.args(["-oL", "mosquitto_sub", "-d", "-t", topic, "-F"])
            .arg(format!("{MSG_MARK} %r %p"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let config = match options {
            Some(file) => {
                let dir = private_options(file)?;
                cmd.env("XDG_CONFIG_HOME", &dir.0);
                Some(dir)
            }
            None => None,
        };
        let mut child = cmd
            .spawn()
            .context("cannot start `stdbuf -oL mosquitto_sub` (coreutils, mosquitto-clients)")?;
        let stdout = child.stdout.take().context("mosquitto_sub has no stdout")?;
        let mut err_pipe = child.stderr.take().context("mosquitto_sub has no stderr")?;
        let (tx, events) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let event = if let Some(rest) = line.strip_prefix(MSG_MARK) {
                    let rest = rest.trim_start();
                    let (flag, payload) = rest.split_once(' ').unwrap_or((rest, ""));
                    Event::Message {
                        retained: flag != "0",
                        payload: payload.trim().to_owned(),
                    }
                } else if line.contains("received SUBACK") {
                    Event::Subscribed
                } else {
                    continue;
                };
                if tx.send(event).is_err() {
                    return;
                }
            }
            let _ = tx.send(Event::Closed);
        });
        let (err_tx, stderr) = mpsc::channel();
        thread::spawn(move || {
            let mut text = String::new();
            let _ = err_pipe.read_to_string(&mut text);
            let _ = err_tx.send(text);
        });
        let mut watcher = Watcher {
            child,
            events,
            stderr,
            _config: config,
        };
        match watcher.events.recv_timeout(SUBSCRIBE_TIMEOUT) {
            Ok(Event::Subscribed) => Ok(watcher),
            Ok(_) | Err(RecvTimeoutError::Disconnected) => {
                bail!(
                    "mosquitto_sub could not subscribe to {topic}: {}",
                    watcher.error_text()
                )
            }
            Err(RecvTimeoutError::Timeout) => bail!(
                "mosquitto_sub did not subscribe to {topic} within {} s (broker unreachable?)",
                SUBSCRIBE_TIMEOUT.as_secs()
            ),
        }
    }

    fn error_text(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let text = self
            .stderr
            .recv_timeout(Duration::from_secs(2))
            .unwrap_or_default();
        let text = text.trim();
        if text.is_empty() {
            "mosquitto_sub exited without a message".to_owned()
        } else {
            text.to_owned()
        }
    }

    /// Reports and forgets what arrived so far (it came from the old process).
    fn drain(&mut self, d: &mut Deployer<'_>) {
        while let Ok(event) = self.events.try_recv() {
            if let Event::Message { retained, payload } = event {
                let kind = if retained { "retained" } else { "live" };
                d.say(format!(
                    "    (ignored the {kind} `{payload}` of the old process)"
                ));
            }
        }
    }

    /// True once a live `online` arrives; false when `timeout` passes first.
    fn wait_online(&mut self, d: &mut Deployer<'_>, timeout: Duration) -> Result<bool> {
        let start = Instant::now();
        let mut next_progress = PROGRESS_EVERY;
        loop {
            let elapsed = start.elapsed();
            if elapsed >= timeout {
                return Ok(false);
            }
            let wait = (timeout - elapsed).min(next_progress.saturating_sub(elapsed));
            match self.events.recv_timeout(wait.max(Duration::from_millis(1))) {
                Ok(Event::Message { retained, payload }) => {
                    if retained {
                        d.say(format!(
                            "    (ignored the retained `{payload}` of the old process)"
                        ));
                    } else if payload == "online" {
                        d.say(format!(
                            "    online after {:.1} s",
                            start.elapsed().as_secs_f64()
                        ));
                        return Ok(true);
                    } else {
                        d.say(format!("    availability: {payload}"));
                    }
                }
                Ok(Event::Subscribed) => {}
                Ok(Event::Closed) | Err(RecvTimeoutError::Disconnected) => bail!(
                    "step 'online' failed: lost the MQTT subscription ({}); the board was NOT rolled back, \
                     check it and roll back by hand with `sudo sh install.sh rollback` if needed",
                    self.error_text()
                ),
                Err(RecvTimeoutError::Timeout) => {
                    if start.elapsed() >= next_progress {
                        d.say(format!(
                            "    still waiting ({} s of {} s)",
                            next_progress.as_secs(),
                            timeout.as_secs()
                        ));
                        next_progress += PROGRESS_EVERY;
                    }
                }
            }
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies the mosquitto_sub options file into a private `$XDG_CONFIG_HOME`.
fn private_options(file: &Path) -> Result<PrivateDir> {
    let meta = fs::metadata(file)
        .with_context(|| format!("--mqtt-options {}: cannot read it", file.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        bail!(
            "--mqtt-options {} holds the broker password but others can read it: chmod 600 {}",
            file.display(),
            file.display()
        );
    }
    let text = fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let dir = PrivateDir::new("heat-deploy-mqtt")?;
    let mut out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dir.0.join("mosquitto_sub"))
        .context("cannot write the private mosquitto_sub options")?;
    out.write_all(&text)?;
    Ok(dir)
}

#[cfg(test)]
mod tests;
