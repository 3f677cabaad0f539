//! Running commands and installing the system packages the project needs.

use std::{
    env,
    path::PathBuf,
    process::{Command, Stdio},
    sync::Mutex,
};

use anyhow::{Context, Result, bail};

/// A program the project needs, and the Debian package that provides it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Requirement {
    pub(crate) program: &'static str,
    pub(crate) package: &'static str,
}

impl Requirement {
    pub(crate) const fn new(program: &'static str, package: &'static str) -> Self {
        Self { program, package }
    }
}

/// Builds Paho C.
pub(crate) const CMAKE: Requirement = Requirement::new("cmake", "cmake");
/// The broker itself.
pub(crate) const MOSQUITTO: Requirement = Requirement::new("mosquitto", "mosquitto");
pub(crate) const MOSQUITTO_PASSWD: Requirement = Requirement::new("mosquitto_passwd", "mosquitto");
pub(crate) const MOSQUITTO_PUB: Requirement =
    Requirement::new("mosquitto_pub", "mosquitto-clients");
pub(crate) const MOSQUITTO_SUB: Requirement =
    Requirement::new("mosquitto_sub", "mosquitto-clients");
/// Scores the systemd unit.
pub(crate) const SYSTEMD_ANALYZE: Requirement = Requirement::new("systemd-analyze", "systemd");

/// What `cargo xtask test` needs beyond the Rust toolchain: cmake builds Paho C, the
/// integration tests start a real Mosquitto and compare against its own clients; xtask's own
/// tests score the systemd unit and deploy over ssh to a private sshd on 127.0.0.1.
pub(crate) const TEST_PACKAGES: [Requirement; 8] = [
    CMAKE,
    MOSQUITTO,
    MOSQUITTO_PUB,
    MOSQUITTO_PASSWD,
    SYSTEMD_ANALYZE,
    Requirement::new("sshd", "openssh-server"),
    Requirement::new("ssh", "openssh-client"),
    Requirement::new("ssh-keygen", "openssh-client"),
];

pub(crate) fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

pub(crate) fn cargo() -> Command {
    Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs `cmd` with inherited output; an unsuccessful exit is an error naming the command.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

/// True when `program` is found on `PATH` (or in the sbin directories Debian uses for daemons).
pub(crate) fn has_program(program: &str) -> bool {
    find_program(program).is_some()
}

pub(crate) fn find_program(program: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH").unwrap_or_default();
    env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

pub(crate) fn has_nextest() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Installs the Debian packages behind missing programs when root; otherwise stops with the
/// exact command to run.
pub(crate) fn ensure_packages(required: &[Requirement]) -> Result<()> {
    let mut missing: Vec<&str> = required
        .iter()
        .filter(|r| !has_program(r.program))
        .map(|r| r.package)
        .collect();
    missing.sort_unstable();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    // Tests run in parallel threads (or processes under nextest): one apt-get at a time.
    static APT: Mutex<()> = Mutex::new(());
    let _one_at_a_time = APT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    missing.retain(|package| {
        required
            .iter()
            .any(|r| r.package == *package && !has_program(r.program))
    });
    if missing.is_empty() {
        return Ok(());
    }
    let packages = missing.join(" ");
    if !is_root() {
        bail!(
            "missing system packages: {packages}\n\
             install them with:\n    sudo apt-get update && sudo apt-get install -y {packages}"
        );
    }
    println!("==> installing {packages} (apt-get)");
    run(Command::new("apt-get").args(["update", "-q"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(["-o", "DPkg::Lock::Timeout=300"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    if let Some(still) = required.iter().find(|r| !has_program(r.program)) {
        bail!(
            "{} is still missing after installing {}",
            still.program,
            still.package
        );
    }
    Ok(())
}
