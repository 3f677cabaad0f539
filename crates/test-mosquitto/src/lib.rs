//! Test support: a private Mosquitto on a random 127.0.0.1 port, with its own config, password
//! file, ACL and certificates in a temp dir.
//!
//! Tests that need a broker start a real one through [`BrokerBuilder`]. When `mosquitto` is not
//! installed, [`BrokerBuilder::start`] fails with a message that says how to install it: such a
//! test fails loudly, it never skips.

pub mod passwd;
pub mod pki;

use std::{
    fmt, fs,
    io::{self, Write},
    net::TcpListener,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

pub use crate::pki::{CertFiles, Pki, Validity};

/// How to install what this harness needs on Debian.
pub const INSTALL_HINT: &str = "install Mosquitto with `apt-get update && apt-get install -y mosquitto mosquitto-clients` \
     (as root), or run `cargo xtask test`, which installs it";

/// An error of the harness, with a message meant for the test log.
#[derive(Debug)]
pub struct HarnessError(String);

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HarnessError {}

impl From<io::Error> for HarnessError {
    fn from(err: io::Error) -> Self {
        HarnessError(err.to_string())
    }
}

/// Result type of the harness.
pub type Result<T, E = HarnessError> = std::result::Result<T, E>;

pub(crate) fn err(msg: impl Into<String>) -> HarnessError {
    HarnessError(msg.into())
}

/// Finds a program on `PATH` or in Debian's sbin directories (where `mosquitto` lives).
pub fn find_program(name: &str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| err(format!("`{name}` not found: {INSTALL_HINT}")))
}

/// A user in the broker's password file.
#[derive(Clone)]
pub struct User {
    name: String,
    password: String,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The TLS listener's certificate and client-certificate policy.
#[derive(Debug, Clone)]
pub struct TlsListener {
    /// CA file the broker uses to verify client certificates.
    pub ca_file: PathBuf,
    /// Server certificate and key.
    pub server: CertFiles,
    /// `require_certificate true`: clients must present a certificate signed by `ca_file`.
    pub require_certificate: bool,
}

/// Configures a broker before starting it.
#[derive(Debug)]
pub struct BrokerBuilder {
    allow_anonymous: bool,
    users: Vec<User>,
    acl: Option<String>,
    tls: Option<TlsListener>,
    plain: bool,
    extra: Vec<String>,
    address: String,
    wrapper: Vec<String>,
    debian_user: bool,
}

impl Default for BrokerBuilder {
    fn default() -> Self {
        Self {
            allow_anonymous: false,
            users: Vec::new(),
            acl: None,
            tls: None,
            plain: true,
            extra: Vec::new(),
            address: "127.0.0.1".to_owned(),
            wrapper: Vec::new(),
            debian_user: false,
        }
    }
}

impl BrokerBuilder {
    /// A broker that refuses anonymous clients, with a plain listener.
    pub fn new() -> Self {
        Self::default()
    }

    /// `allow_anonymous true|false`.
    pub fn allow_anonymous(mut self, allow: bool) -> Self {
        self.allow_anonymous = allow;
        self
    }

    /// Adds a user to the password file (hashed `$7$`, never passed on a command line).
    pub fn user(mut self, name: &str, password: &str) -> Self {
        self.users.push(User {
            name: name.to_owned(),
            password: password.to_owned(),
        });
        self
    }

    /// Uses `acl` as the ACL file's text.
    pub fn acl(mut self, acl: &str) -> Self {
        self.acl = Some(acl.to_owned());
        self
    }

    /// Adds a TLS listener.
    pub fn tls(mut self, tls: TlsListener) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Drops the plain listener (TLS only).
    pub fn without_plain(mut self) -> Self {
        self.plain = false;
        self
    }

    /// Appends a raw line to mosquitto.conf.
    pub fn config_line(mut self, line: &str) -> Self {
        self.extra.push(line.to_owned());
        self
    }

    /// Binds the listeners to `address` instead of 127.0.0.1 (e.g. an address inside a network
    /// namespace, with [`BrokerBuilder::wrapper`]).
    pub fn listen_address(mut self, address: &str) -> Self {
        self.address = address.to_owned();
        self
    }

    /// Starts `mosquitto` through this command prefix, e.g. `["ip", "netns", "exec", "ns1"]`.
    /// The prefix must exec the broker (keep its process id) for [`Broker::pid`] to be its.
    pub fn wrapper(mut self, prefix: &[&str]) -> Self {
        self.wrapper = prefix.iter().map(|&a| a.to_owned()).collect();
        self
    }

    /// Runs the broker the Debian way: started as root with `user mosquitto`, so it drops to
    /// that user and reads the password file (also on SIGHUP) and the ACL as `mosquitto`. The
    /// temp dir becomes traversable (0755), the password file and ACL are
    /// `mosquitto:mosquitto 0600` and the log is owned by `mosquitto`; the config stays
    /// `root 0600` (read before the drop). [`BrokerBuilder::start`] fails unless the process
    /// runs as root and the `mosquitto` user exists (Debian's package creates it).
    pub fn as_mosquitto_user(mut self) -> Self {
        self.debian_user = true;
        self
    }

    /// Writes the config into a new temp dir and starts the broker; returns once it accepts TCP.
    pub fn start(self) -> Result<Broker> {
        let program = find_program("mosquitto")?;
        let dir = tempfile::Builder::new()
            .prefix("test-mosquitto-")
            .tempdir()?;
        let plain_port = if self.plain { Some(free_port()?) } else { None };
        let tls_port = if self.tls.is_some() {
            Some(free_port()?)
        } else {
            None
        };
        let owner = if self.debian_user {
            let owner = mosquitto_user()?;
            fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755))?;
            Some(owner)
        } else {
            None
        };
        let conf = self.write_files(dir.path(), plain_port, tls_port, owner)?;
        let mut broker = Broker {
            program,
            conf,
            log: dir.path().join("mosquitto.log"),
            dir,
            plain_port,
            tls_port,
            wrapper: self.wrapper.clone(),
            child: None,
        };
        broker.spawn()?;
        Ok(broker)
    }

    fn write_files(
        &self,
        dir: &Path,
        plain: Option<u16>,
        tls: Option<u16>,
        owner: Option<(u32, u32)>,
    ) -> Result<PathBuf> {
        let give = |path: &Path| -> Result<()> {
            if let Some((uid, gid)) = owner {
                std::os::unix::fs::chown(path, Some(uid), Some(gid))?;
            }
            Ok(())
        };
        let mut conf = String::new();
        let mut line = |l: &str| {
            conf.push_str(l);
            conf.push('\n');
        };
        line("per_listener_settings false");
        line(&format!("allow_anonymous {}", self.allow_anonymous));
        line("persistence false");
        line(&format!(
            "log_dest file {}",
            dir.join("mosquitto.log").display()
        ));
        line("log_type all");
        line("log_timestamp true");
        line("connection_messages true");
        if owner.is_some() {
            let log = dir.join("mosquitto.log");
            write_private(&log, "")?;
            give(&log)?;
            line("user mosquitto");
        } else {
            // Started as root, Mosquitto drops to user `mosquitto`, which cannot read a temp dir.
            line("user root");
        }
        if !self.users.is_empty() {
            let passwd = dir.join("passwd");
            let mut text = String::new();
            for user in &self.users {
                text.push_str(&passwd::hash_line(
                    &user.name,
                    &user.password,
                    passwd::TEST_ITERATIONS,
                )?);
                text.push('\n');
            }
            write_private(&passwd, &text)?;
            give(&passwd)?;
            line(&format!("password_file {}", passwd.display()));
        }
        if let Some(acl) = &self.acl {
            let path = dir.join("acl");
            write_private(&path, acl)?;
            give(&path)?;
            line(&format!("acl_file {}", path.display()));
        }
        for extra in &self.extra {
            line(extra);
        }
        if let Some(port) = plain {
            line(&format!("listener {port} {}", self.address));
        }
        if let (Some(port), Some(tls)) = (tls, &self.tls) {
            line(&format!("listener {port} {}", self.address));
            line(&format!("cafile {}", tls.ca_file.display()));
            line(&format!("certfile {}", tls.server.cert.display()));
            line(&format!("keyfile {}", tls.server.key.display()));
            line(&format!("require_certificate {}", tls.require_certificate));
        }
        let path = dir.join("mosquitto.conf");
        write_private(&path, &conf)?;
        Ok(path)
    }
}

/// The uid and gid of the `mosquitto` user, for [`BrokerBuilder::as_mosquitto_user`]; an error
/// unless this process is root and the user exists.
pub fn mosquitto_user() -> Result<(u32, u32)> {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the process's effective user.
    if fs::metadata("/proc/self")?.uid() != 0 {
        return Err(err(
            "a broker that drops to user `mosquitto` must be started as root (run the test as root, as CI does)",
        ));
    }
    let passwd = fs::read_to_string("/etc/passwd")?;
    passwd
        .lines()
        .filter_map(|l| {
            let mut fields = l.split(':');
            let name = fields.next()?;
            let uid = fields.nth(1)?.parse().ok()?;
            let gid = fields.next()?.parse().ok()?;
            (name == "mosquitto").then_some((uid, gid))
        })
        .next()
        .ok_or_else(|| {
            err(format!(
                "there is no `mosquitto` user; Debian's package creates it: {INSTALL_HINT}"
            ))
        })
}

/// Writes a file readable by its owner only.
pub fn write_private(path: &Path, text: &str) -> Result<()> {
    let mut file = fs::File::create(path)?;
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

/// A port on 127.0.0.1 that was free a moment ago (the OS picks it; the listener is closed
/// again, so another process may take it before the caller binds it).
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A running Mosquitto; killed when dropped.
#[derive(Debug)]
pub struct Broker {
    program: PathBuf,
    conf: PathBuf,
    log: PathBuf,
    dir: tempfile::TempDir,
    plain_port: Option<u16>,
    tls_port: Option<u16>,
    wrapper: Vec<String>,
    child: Option<Child>,
}

impl Broker {
    /// The port of the plain listener.
    pub fn port(&self) -> u16 {
        self.plain_port
            .expect("this broker was built without_plain()")
    }

    /// The port of the TLS listener.
    pub fn tls_port(&self) -> u16 {
        self.tls_port.expect("this broker was built without tls()")
    }

    /// The broker's temp dir (config, password file, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The process id while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The broker's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// MQTT connection attempts the broker has seen: each TCP connection is logged once, less
    /// those closed before any CONNECT (reachability probes, see [`probes`]).
    pub fn connection_attempts(&self) -> usize {
        let log = self.log();
        let connections = log
            .lines()
            .filter(|l| l.contains("New connection from"))
            .count();
        connections.saturating_sub(probes(&log))
    }

    /// TCP connections closed before any CONNECT (see [`probes`]).
    pub fn probes(&self) -> usize {
        probes(&self.log())
    }

    /// Connection attempts by `client_id` (see [`attempts_by`]).
    pub fn connection_attempts_by(&self, client_id: &str) -> usize {
        attempts_by(&self.log(), client_id)
    }

    /// The config file (tests may edit it, then [`Broker::restart`]).
    pub fn conf(&self) -> &Path {
        &self.conf
    }

    /// Stops the broker (SIGKILL) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGHUP (Mosquitto re-reads its password file and ACL) and waits until the log shows
    /// the reload.
    pub fn reload(&self) -> Result<()> {
        let pid = self.pid().ok_or_else(|| err("the broker is not running"))?;
        let before = self.log().matches("Reloading config").count();
        let status = Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .map_err(|e| err(format!("cannot run kill: {e}")))?;
        if !status.success() {
            return Err(err(format!("kill -HUP {pid} failed: {status}")));
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.log().matches("Reloading config").count() <= before {
            if Instant::now() > deadline {
                return Err(err(format!(
                    "mosquitto logged no reload within 10 s; its log:\n{}",
                    self.log()
                )));
            }
            thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }

    /// Starts the broker again on the same ports.
    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        self.spawn()
    }

    fn spawn(&mut self) -> Result<()> {
        // Counted before the start: the new "running" line may be written before we look.
        let runs_before = self.log().matches(" running").count();
        let mut command = match self.wrapper.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(&self.program);
                c
            }
            None => Command::new(&self.program),
        };
        let child = command
            .arg("-c")
            .arg(&self.conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                err(format!(
                    "cannot start {}: {e}; {INSTALL_HINT}",
                    self.program.display()
                ))
            })?;
        self.child = Some(child);
        self.wait_ready(runs_before)
    }

    fn wait_ready(&mut self, runs_before: usize) -> Result<()> {
        // Wait for the log to say "running" once more than before: probing the port with TCP
        // would add connections to the log that tests count.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                return Err(err(format!(
                    "mosquitto exited with {status}; its log:\n{}",
                    self.log()
                )));
            }
            if self.log().matches(" running").count() > runs_before {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(err(format!(
                    "mosquitto did not start within 10 s; its log:\n{}",
                    self.log()
                )));
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The line Mosquitto logs for a connection closed before it sent CONNECT: what a TCP
/// reachability probe (mqtt-auth's `reach`) leaves, which is no MQTT attempt. A refused CONNECT
/// logs `disconnected, not authorised` instead, and counts.
pub const CLOSED_BEFORE_CONNECT: &str = "Client <unknown> closed its connection.";

/// TCP connections in a Mosquitto log that closed before any CONNECT (probes).
pub fn probes(log: &str) -> usize {
    log.lines()
        .filter(|l| l.contains(CLOSED_BEFORE_CONNECT))
        .count()
}

/// MQTT connection attempts by `client_id` in a Mosquitto log: every "New connection from A"
/// except those whose address A then logged in as another client id, less the connections
/// closed before any CONNECT ([`probes`], counted as the controller's: only it probes in these
/// tests). A refused attempt logs no client id, so it is counted: an upper bound when other
/// clients are refused too.
pub fn attempts_by(log: &str, client_id: &str) -> usize {
    let others: Vec<&str> = log
        .lines()
        .filter_map(|l| {
            l.split_once("New client connected from ")?
                .1
                .split_once(" as ")
        })
        .filter(|(_, rest)| !rest.starts_with(client_id))
        .map(|(addr, _)| addr)
        .collect();
    log.lines()
        .filter_map(|l| l.split_once("New connection from ").map(|(_, r)| r))
        .filter_map(|r| r.split(' ').next())
        .filter(|addr| !others.contains(addr))
        .count()
        .saturating_sub(probes(log))
}
