//! `cargo xtask deploy --host USER@HOST`: install the controller's Debian package on the board
//! over ssh, restart the service, wait until the controller reports `online` on
//! `<prefix>/availability`, and reinstall the previous package version when it does not.
//!
//! The package is `--deb FILE` or the one `cargo xtask dist` builds. On the board, deploy asks
//! dpkg which version is installed, installs the new one with `dpkg -i`, and after it came
//! online keeps a copy in `/var/cache/heat-controller/`, named by version: the next deploy rolls
//! back to that copy with `dpkg -i` (a downgrade), so a rollback needs no network and no apt
//! repository.
//!
//! Only Debian's openssh-client, dpkg and mosquitto-clients are used, by shelling out: `ssh 'cat
//! > …'` copies, `mosquitto_sub` on this machine watches availability. The broker credentials
//! come from a mosquitto_sub options file (`--mqtt-options`, mode 0600), handed to mosquitto_sub
//! through `$XDG_CONFIG_HOME`, so no secret is ever on a command line.
//!
//! The watcher subscribes before anything on the board changes, and only a *live* `online`
//! (retain flag 0, published after the subscription) counts: the retained `online` of the old
//! process can never pass for the new one.

use std::{
    env,
    fs::{self, DirBuilder, File, OpenOptions},
    io::{BufRead, BufReader, Read, Write},
    os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
    process::{self, Child, Command, Stdio},
    sync::mpsc::{self, Receiver, RecvTimeoutError},
    thread,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, Result, bail};

use crate::{
    dist::{self, DistOptions},
    system::{self, Requirement},
};

pub(crate) const HELP: &str = "\
cargo xtask deploy --host USER@HOST [options]

Installs the heat-controller .deb on the board (dpkg -i), restarts heat-controller.service and
waits until the controller publishes a live `online` on <prefix>/availability. When it does not,
reinstalls the previously installed version from the board's /var/cache/heat-controller/,
restarts, prints `ROLLED BACK <new> -> <old>` and exits 1.

Options:
  --host USER@HOST        the board (required)
  --deb FILE              the package to install (default: build it with `cargo xtask dist`)
  --target TRIPLE         the target `cargo xtask dist` builds for (see docs/deploy.md)
  --port N                ssh port (default: ssh's own)
  --identity FILE         ssh private key
  --ssh-option OPT        extra `ssh -o OPT` (repeatable), e.g. StrictHostKeyChecking=accept-new
  --dry-run               print every step, change nothing
  --online-timeout SECS   how long to wait for `online` (default 60)
  --mqtt-options FILE     mosquitto_sub options, one per line (-h HOST, -p PORT, -u USER,
                          -P PASSWORD, --cafile ...), mode 0600; default: mosquitto_sub's own
                          ~/.config/mosquitto_sub
  --topic-prefix P        the controller's MQTT_TOPIC_PREFIX (default solar_heating)
  --no-rollback           deploy even when the board's installed version has no copy to roll
                          back to (installed by hand, not by deploy)
  --sudo CMD              remote privilege prefix (default `sudo -n`, none for root@; '' for none)
  --service-manager CMD   remote service manager (default systemctl)
  --dpkg CMD              remote dpkg (default dpkg), e.g. 'dpkg --force-not-root'
  --remote-root DIR       dpkg --root=DIR on the board, the cache under DIR (staging/tests)
";

const PACKAGE: &str = "heat-controller";
const SERVICE: &str = "heat-controller.service";
/// Where the board keeps every package deploy installed, for the next rollback.
const CACHE_DIR: &str = "/var/cache/heat-controller";
/// Marks mosquitto_sub's formatted message lines apart from its `-d` debug lines.
const MSG_MARK: &str = "heat-deploy-msg";
/// Marks the board step's answer lines apart from whatever a login shell prints.
const BOARD_MARK: &str = "heat-deploy-board";
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(15);
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// Reads a package's control fields on this machine.
const DPKG_DEB: Requirement = Requirement::new("dpkg-deb", "dpkg");

/// What `cargo xtask deploy` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeployOptions {
    pub(crate) host: String,
    pub(crate) port: Option<u16>,
    pub(crate) identity: Option<PathBuf>,
    pub(crate) ssh_options: Vec<String>,
    pub(crate) target: Option<String>,
    /// `None`: build it with `cargo xtask dist`.
    pub(crate) deb: Option<PathBuf>,
    pub(crate) dry_run: bool,
    pub(crate) online_timeout: Duration,
    pub(crate) mqtt_options: Option<PathBuf>,
    pub(crate) topic_prefix: String,
    pub(crate) no_rollback: bool,
    /// `None`: `sudo -n`, or nothing when logging in as root.
    pub(crate) sudo: Option<String>,
    pub(crate) service_manager: String,
    pub(crate) dpkg: String,
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
            deb: None,
            dry_run: false,
            online_timeout: Duration::from_secs(60),
            mqtt_options: None,
            topic_prefix: "solar_heating".to_owned(),
            no_rollback: false,
            sudo: None,
            service_manager: "systemctl".to_owned(),
            dpkg: "dpkg".to_owned(),
            remote_root: None,
        }
    }

    pub(crate) fn parse(args: &[String]) -> Result<Self> {
        let mut host = None;
        let mut opts = DeployOptions::new("");
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--dry-run" => {
                    opts.dry_run = true;
                    continue;
                }
                "--no-rollback" => {
                    opts.no_rollback = true;
                    continue;
                }
                _ => {}
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
                "--deb" => {
                    if !value.ends_with(".deb") {
                        bail!("--deb {value:?} is not a .deb file");
                    }
                    opts.deb = Some(value.into());
                }
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
                "--service-manager" | "--dpkg" => {
                    if value.trim().is_empty() {
                        bail!("{flag} must not be empty");
                    }
                    if flag == "--dpkg" {
                        opts.dpkg = value;
                    } else {
                        opts.service_manager = value;
                    }
                }
                "--remote-root" => {
                    if !value.starts_with('/') {
                        bail!("--remote-root {value:?} is not an absolute path");
                    }
                    opts.remote_root = Some(value.trim_end_matches('/').to_owned());
                }
                _ => bail!("`cargo xtask deploy` does not know {arg:?}\n\n{HELP}"),
            }
        }
        if opts.deb.is_some() && opts.target.is_some() {
            bail!("--deb and --target exclude each other: a given .deb is already built");
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

    /// The remote root prefix of board paths ("" for the board's own `/`).
    fn root(&self) -> &str {
        self.remote_root.as_deref().unwrap_or("")
    }

    fn cache_dir(&self) -> String {
        format!("{}{CACHE_DIR}", self.root())
    }
}

/// What a package says about itself (`dpkg-deb -f`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DebInfo {
    pub(crate) version: String,
    pub(crate) architecture: String,
}

impl DebInfo {
    fn read(path: &Path) -> Result<Self> {
        system::ensure_packages(&[DPKG_DEB])?;
        let out = Command::new("dpkg-deb")
            .arg("-f")
            .arg(path)
            .args(["Package", "Version", "Architecture"])
            .output()
            .context("cannot run dpkg-deb")?;
        if !out.status.success() {
            bail!(
                "{} is not a Debian package: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Self::parse(&String::from_utf8_lossy(&out.stdout))
            .with_context(|| format!("{} cannot be deployed", path.display()))
    }

    /// Parses `dpkg-deb -f FILE Package Version Architecture`.
    pub(crate) fn parse(fields: &str) -> Result<Self> {
        let field = |name: &str| {
            fields
                .lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .with_context(|| format!("its control file has no {name} field"))
        };
        let package = field("Package")?;
        if package != PACKAGE {
            bail!("it is the package {package:?}, not {PACKAGE}");
        }
        let version = field("Version")?;
        // Debian policy's version characters; also what makes it safe in a remote file name.
        if !version.starts_with(|c: char| c.is_ascii_digit())
            || !version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".+~:-".contains(c))
        {
            bail!("its Version {version:?} is not a Debian version");
        }
        let architecture = field("Architecture")?;
        if !architecture
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            bail!("its Architecture {architecture:?} is not a Debian architecture");
        }
        Ok(DebInfo {
            version,
            architecture,
        })
    }
}

/// The file name deploy gives `version` in the board's cache (apt's: the epoch colon as `%3a`).
pub(crate) fn cache_file_name(version: &str, architecture: &str) -> String {
    format!(
        "{PACKAGE}_{}_{architecture}.deb",
        version.replace(':', "%3a")
    )
}

/// The heat-controller package as the board's dpkg reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Installed {
    /// dpkg's status word: `installed`, `config-files`, `half-configured`, ...
    pub(crate) status: String,
    pub(crate) version: String,
    pub(crate) architecture: String,
}

/// What the board step found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BoardState {
    /// `dpkg --print-architecture`.
    pub(crate) architecture: String,
    pub(crate) installed: Option<Installed>,
    /// The file names in the board's package cache.
    pub(crate) cached: Vec<String>,
}

impl BoardState {
    /// Parses the marked lines [`Deployer::board_script`] prints.
    pub(crate) fn parse(out: &str) -> Result<Self> {
        let mut architecture = None;
        let mut installed = None;
        let mut cached = Vec::new();
        for line in out.lines() {
            let Some(rest) = line.strip_prefix(BOARD_MARK) else {
                continue;
            };
            let mut words = rest.split_whitespace();
            match (words.next(), words.next(), words.next(), words.next()) {
                (Some("arch"), Some(arch), None, None) => architecture = Some(arch.to_owned()),
                // Unknown to dpkg, or known without a version (`not-installed`).
                (Some("installed"), Some(_), None, None) => installed = Some(None),
                (Some("installed"), Some(status), Some(version), Some(arch)) => {
                    installed = Some(Some(Installed {
                        status: status.to_owned(),
                        version: version.to_owned(),
                        architecture: arch.to_owned(),
                    }));
                }
                (Some("cached"), Some(file), None, None) => cached.push(file.to_owned()),
                _ => bail!("the board answered an unexpected line {line:?}"),
            }
        }
        Ok(BoardState {
            architecture: architecture.context("the board did not say its architecture")?,
            installed: installed.context("the board did not say what is installed")?,
            cached,
        })
    }
}

/// What a failed new version falls back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fallback {
    /// Reinstall `version` from the board's cached `file`.
    Reinstall { version: String, file: String },
    /// Nothing to reinstall, and why.
    Nothing(String),
}

/// Decides, before anything changes, what deploying `deb` on `board` can roll back to.
pub(crate) fn plan_fallback(
    board: &BoardState,
    deb: &DebInfo,
    cache_dir: &str,
    no_rollback: bool,
) -> Result<Fallback> {
    if deb.architecture != "all" && deb.architecture != board.architecture {
        bail!(
            "the package is for {} but the board is {}: build it with `--target` for the board \
             (arm64: aarch64-unknown-linux-gnu, armhf: armv7-unknown-linux-gnueabihf)",
            deb.architecture,
            board.architecture
        );
    }
    let installed = match &board.installed {
        None => return Ok(Fallback::Nothing(format!("{PACKAGE} was not installed"))),
        Some(i) if i.status != "installed" => {
            return Ok(Fallback::Nothing(format!(
                "{PACKAGE} {} was {} on the board, not a working install",
                i.version, i.status
            )));
        }
        Some(i) => i,
    };
    let file = cache_file_name(&installed.version, &installed.architecture);
    if board.cached.contains(&file) {
        return Ok(Fallback::Reinstall {
            version: installed.version.clone(),
            file,
        });
    }
    let why = format!(
        "{PACKAGE} {} is installed on the board but {cache_dir}/{file} is missing \
         (it was not installed by deploy)",
        installed.version
    );
    if no_rollback {
        Ok(Fallback::Nothing(why))
    } else {
        bail!(
            "{why}: copy that version's .deb there to make a rollback possible, \
             or run again with --no-rollback"
        )
    }
}

/// How a deploy ended (errors aside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The new controller reported `online`.
    Online { version: String },
    /// Nothing was done (`--dry-run`).
    DryRun,
    /// The new version failed; the previous one was reinstalled and restarted.
    RolledBack {
        new: String,
        old: String,
        reason: String,
        /// The version dpkg reports installed after the rollback.
        installed_now: String,
        previous_online: bool,
    },
    /// The new version failed and there was nothing to roll back to; the board is left as is.
    NotRolledBack {
        new: String,
        reason: String,
        why: String,
    },
}

impl Outcome {
    /// The command's result: every failure, rolled back or not, is an error (exit 1).
    pub(crate) fn into_result(self) -> Result<()> {
        match self {
            Outcome::Online { .. } | Outcome::DryRun => Ok(()),
            Outcome::RolledBack {
                new,
                old,
                reason,
                installed_now,
                previous_online,
            } => {
                let state = if previous_online {
                    format!("{PACKAGE} {installed_now} is installed and online again")
                } else {
                    format!(
                        "{PACKAGE} {installed_now} is installed but did NOT come online either: \
                         see `journalctl -u {PACKAGE}` on the board"
                    )
                };
                bail!("deploy FAILED: {reason}\nROLLED BACK {new} -> {old}; {state}")
            }
            Outcome::NotRolledBack { new, reason, why } => bail!(
                "deploy FAILED: {reason}\nNOT rolled back: nothing to roll back to ({why}); \
                 {PACKAGE} {new} is left installed as it is: see `journalctl -u {PACKAGE}` on the board"
            ),
        }
    }
}

/// `cargo xtask deploy ...`.
pub(crate) fn deploy_command(args: &[String]) -> Result<()> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{HELP}");
        return Ok(());
    }
    let opts = DeployOptions::parse(args)?;
    let mut transcript = Vec::new();
    deploy(&opts, &mut transcript)?.into_result()
}

/// Quotes `s` for a POSIX shell.
pub(crate) fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The .deb `cargo xtask dist` builds for `opts.target` (in a dry run, the name it would have).
fn dist_deb(opts: &DeployOptions) -> Result<PathBuf> {
    let dist_opts = DistOptions {
        target: opts.target.clone(),
    };
    let bundle = dist::build(&dist_opts, opts.dry_run)?;
    bundle.deb.with_context(|| {
        format!(
            "`cargo xtask dist` built no package next to {}: build one, then pass it with --deb FILE",
            bundle.dir.display()
        )
    })
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

    /// `script` run by `sh` with the remote privilege prefix.
    fn privileged(&self, script: &str) -> String {
        let sudo = self.opts.sudo();
        let sudo = if sudo.is_empty() {
            String::new()
        } else {
            format!("{sudo} ")
        };
        format!("{sudo}sh -c {}", sh_quote(script))
    }

    /// Asks the board's dpkg what is installed and lists the package cache; no privileges.
    fn board_script(&self) -> String {
        let root = match &self.opts.remote_root {
            Some(r) => format!(" --root={}", sh_quote(r)),
            None => String::new(),
        };
        let cache = sh_quote(&self.opts.cache_dir());
        // C locale: the "no packages found" message is matched.
        [
            "LC_ALL=C; export LC_ALL".to_owned(),
            "command -v dpkg-query >/dev/null 2>&1 || { echo 'the board has no dpkg-query: deploy needs a Debian-based system' >&2; exit 3; }".to_owned(),
            format!("echo \"{BOARD_MARK} arch $(dpkg --print-architecture)\""),
            format!(
                "if s=$(dpkg-query{root} -W -f='${{db:Status-Status}} ${{Version}} ${{Architecture}}' {PACKAGE} 2>&1); \
                 then echo \"{BOARD_MARK} installed $s\"; \
                 else case $s in *'no packages found'*) echo '{BOARD_MARK} installed none';; \
                 *) printf '%s\\n' \"$s\" >&2; exit 3;; esac; fi"
            ),
            format!(
                "for f in {cache}/{PACKAGE}_*.deb; do if [ -f \"$f\" ]; then echo \"{BOARD_MARK} cached ${{f##*/}}\"; fi; done"
            ),
        ]
        .join("\n")
    }

    /// `dpkg -i FILE` (downgrades allowed: dpkg's default), privileged.
    fn dpkg_install(&self, file: &str) -> String {
        let script = match &self.opts.remote_root {
            // A staging root is its own system: its own database and its own dpkg log.
            Some(r) => format!(
                "mkdir -p {log_dir} && {} --root={root} --log={log_dir}/dpkg.log -i {}",
                self.opts.dpkg,
                sh_quote(file),
                root = sh_quote(r),
                log_dir = sh_quote(&format!("{r}/var/log")),
            ),
            None => format!("{} -i {}", self.opts.dpkg, sh_quote(file)),
        };
        self.privileged(&script)
    }

    /// Keeps the installed package in the cache under its version's name, privileged.
    fn keep_script(&self, file: &str, name: &str) -> String {
        let cache = self.opts.cache_dir();
        let part = sh_quote(&format!("{cache}/.{name}.part"));
        self.privileged(&format!(
            "set -e; mkdir -p {c}; cp {} {part}; chmod 0644 {part}; mv -f {part} {}",
            sh_quote(file),
            sh_quote(&format!("{cache}/{name}")),
            c = sh_quote(&cache),
        ))
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

    /// Runs the board step and parses its answer.
    fn board(&mut self) -> Result<BoardState> {
        let out = self
            .ssh(&self.board_script())
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .context("cannot start ssh")?;
        if !out.status.success() {
            bail!(
                "ssh to {} exited with {} (see the message above)",
                self.opts.host,
                out.status
            );
        }
        BoardState::parse(&String::from_utf8_lossy(&out.stdout))
    }

    /// The version dpkg reports installed now, for the report after a rollback.
    fn installed_version(&mut self) -> String {
        match self.board() {
            Ok(BoardState {
                installed: Some(i), ..
            }) => format!("{} ({})", i.version, i.status),
            Ok(_) => "nothing".to_owned(),
            Err(err) => format!("unknown ({err:#})"),
        }
    }
}

/// Runs a deploy; progress goes to stdout and into `transcript`.
pub(crate) fn deploy(opts: &DeployOptions, transcript: &mut Vec<String>) -> Result<Outcome> {
    let mut d = Deployer { opts, transcript };
    let dry = opts.dry_run;

    // 1. The package.
    let deb = match &opts.deb {
        Some(deb) => deb.clone(),
        None => {
            d.say("==> [1/7 build] cargo xtask dist".to_owned());
            dist_deb(opts).context("step 'build' failed")?
        }
    };
    let info = if dry && !deb.is_file() {
        DebInfo {
            version: "VERSION".to_owned(),
            architecture: "ARCH".to_owned(),
        }
    } else {
        DebInfo::read(&deb).context("step 'package' failed")?
    };
    d.say(format!(
        "==> [1/7 package] {PACKAGE} {} ({}) from {}",
        info.version,
        info.architecture,
        deb.display()
    ));

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
        d.say(format!("==> [2/7 watch] subscribing to {topic}"));
        Some(Watcher::start(opts.mqtt_options.as_deref(), &topic).context("step 'watch' failed")?)
    };

    // 3. What the board has, and what a failure would fall back to.
    let fallback = if dry {
        d.say(format!("[dry-run] board: {:?}", d.ssh(&d.board_script())));
        Fallback::Nothing("dry run".to_owned())
    } else {
        d.say(format!("==> [3/7 board] asking dpkg on {}", opts.host));
        let board = d.board().context("step 'board' failed")?;
        let installed = match &board.installed {
            Some(i) => format!("{} {}", i.version, i.status),
            None => "not installed".to_owned(),
        };
        d.say(format!(
            "    {PACKAGE} on the board ({}): {installed}",
            board.architecture
        ));
        let fallback = plan_fallback(&board, &info, &opts.cache_dir(), opts.no_rollback)
            .context("step 'board' failed; nothing was changed")?;
        match &fallback {
            Fallback::Reinstall { version, file } => d.say(format!(
                "    rollback target: {version} ({}/{file})",
                opts.cache_dir()
            )),
            Fallback::Nothing(why) => {
                d.say(format!("    nothing to roll back to: {why}"));
            }
        }
        fallback
    };

    // 4. Copy.
    let name = cache_file_name(&info.version, &info.architecture);
    let remote_dir = if dry {
        d.say(format!(
            "[dry-run] copy: {:?} < {}",
            d.ssh(&copy_script(&name)),
            deb.display()
        ));
        "/tmp/heat-deploy.XXXXXX".to_owned()
    } else {
        let size = fs::metadata(&deb).map_or(0, |m| m.len());
        d.say(format!(
            "==> [4/7 copy] {name} ({} kB) to {}",
            size / 1024,
            opts.host
        ));
        let started = Instant::now();
        let dir = copy(&d, &deb, &name).context("step 'copy' failed")?;
        d.say(format!(
            "    copied to {dir} in {:.1} s",
            started.elapsed().as_secs_f64()
        ));
        dir
    };
    let remote_deb = format!("{remote_dir}/{name}");

    let outcome = install_and_check(&mut d, watcher.as_mut(), &info, &remote_deb, &fallback);

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
    info: &DebInfo,
    remote_deb: &str,
    fallback: &Fallback,
) -> Result<Outcome> {
    let opts = d.opts;
    let new = info.version.clone();
    // 5. Install.
    d.say(format!("==> [5/7 install] dpkg -i {remote_deb}"));
    let installed = d.remote("install", &d.dpkg_install(remote_deb));

    // 6. Restart. Whatever arrived so far came from the old process (or from a restart by the
    // package's own maintainer scripts, which the restart below repeats).
    let mut watcher = watcher;
    if let Some(watcher) = watcher.as_deref_mut() {
        watcher.drain(d);
    }
    let restart = d.restart_command();
    let restarted = installed.and_then(|()| {
        d.say(format!("==> [6/7 restart] {SERVICE}"));
        d.remote("restart", &restart)
    });

    // 7. Wait for online.
    let Some(watcher) = watcher else {
        d.say(format!(
            "[dry-run] wait up to {} s for a live `online`; if none: {}, then restart and wait again",
            opts.online_timeout.as_secs(),
            d.dpkg_install(&format!("{}/<installed version>.deb", opts.cache_dir()))
        ));
        return Ok(Outcome::DryRun);
    };
    let reason = match restarted {
        Err(err) => format!("{err:#}"),
        Ok(()) => {
            d.say(format!(
                "==> [7/7 online] waiting up to {} s for `online`",
                opts.online_timeout.as_secs()
            ));
            if watcher.wait_online(d, opts.online_timeout)? {
                let name = cache_file_name(&info.version, &info.architecture);
                if let Err(err) = d.remote("keep", &d.keep_script(remote_deb, &name)) {
                    d.say(format!(
                        "warning: {err:#}: the next deploy cannot roll back to {new}"
                    ));
                } else {
                    d.say(format!(
                        "    kept {}/{name} for rollbacks",
                        opts.cache_dir()
                    ));
                }
                d.say(format!("==> deployed: {PACKAGE} {new} is online"));
                return Ok(Outcome::Online { version: new });
            }
            format!(
                "step 'online' failed: no `online` on the availability topic within {} s",
                opts.online_timeout.as_secs()
            )
        }
    };

    d.say(format!("==> [rollback] {reason}"));
    let (old, file) = match fallback {
        Fallback::Nothing(why) => {
            d.say(format!(
                "==> NOT ROLLED BACK: nothing to roll back to ({why}); {PACKAGE} {new} is left as it is"
            ));
            return Ok(Outcome::NotRolledBack {
                new,
                reason,
                why: why.clone(),
            });
        }
        Fallback::Reinstall { version, file } => (version.clone(), file),
    };
    d.say(format!("==> [rollback] reinstalling {PACKAGE} {old}"));
    let cached = format!("{}/{file}", opts.cache_dir());
    d.remote("rollback", &d.dpkg_install(&cached))
        .with_context(|| format!("deploy failed ({reason}) and the rollback failed too"))?;
    d.say(format!("==> [rollback] restarting {SERVICE}"));
    let previous_online = match d.remote("rollback restart", &restart) {
        Err(err) => {
            d.say(format!("    {err:#}"));
            false
        }
        Ok(()) => watcher.wait_online(d, opts.online_timeout)?,
    };
    let installed_now = d.installed_version();
    d.say(format!("==> ROLLED BACK {new} -> {old}"));
    d.say(format!(
        "    dpkg: {PACKAGE} {installed_now}; the previous controller is {}",
        if previous_online {
            "online"
        } else {
            "NOT online"
        }
    ));
    Ok(Outcome::RolledBack {
        new,
        old,
        reason,
        installed_now,
        previous_online,
    })
}

/// Writes stdin to `name` in a fresh directory and prints that directory.
fn copy_script(name: &str) -> String {
    format!(
        "set -e; d=$(mktemp -d /tmp/heat-deploy.XXXXXX); cat > \"$d\"/{}; echo \"$d\"",
        sh_quote(name)
    )
}

fn copy(d: &Deployer<'_>, deb: &Path, name: &str) -> Result<String> {
    let file = File::open(deb).with_context(|| format!("cannot open {}", deb.display()))?;
    let out = d
        .ssh(&copy_script(name))
        .stdin(file)
        .stderr(Stdio::inherit())
        .output()
        .context("cannot start ssh")?;
    if !out.status.success() {
        bail!(
            "ssh to {} exited with {} (see ssh's message above)",
            d.opts.host,
            out.status
        );
    }
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !dir.starts_with("/tmp/heat-deploy.") || dir.contains(['\'', '\n']) {
        bail!("the board answered {dir:?} instead of the directory it copied to");
    }
    Ok(dir)
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
                     check it and roll back by hand with `sudo dpkg -i /var/cache/heat-controller/<previous>.deb` if needed",
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
