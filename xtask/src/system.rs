//! Running commands and installing the system packages the project needs.

use std::{
    env,
    fs::File,
    path::PathBuf,
    process::{Command, Stdio},
    sync::Mutex,
};

use anyhow::{Context, Result, bail};

/// Something the project needs from outside the workspace, how to tell it is there, and how to
/// get it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Requirement {
    /// A program on `PATH` (or in an sbin directory), from a Debian package.
    Program {
        program: &'static str,
        package: &'static str,
    },
    /// A Debian package that installs no program of its own (a library, headers), possibly of a
    /// foreign architecture (`libssl-dev:arm64`): checked with `dpkg-query`.
    Package { package: &'static str },
    /// A Rust target of the workspace's toolchain (`rustup target add`).
    RustTarget { triple: &'static str },
    /// A cargo subcommand from crates.io at a pinned version (`cargo install --locked`).
    CargoTool {
        /// `deb` for `cargo deb`.
        subcommand: &'static str,
        krate: &'static str,
        version: &'static str,
    },
}

impl Requirement {
    /// A program from a Debian package.
    pub(crate) const fn new(program: &'static str, package: &'static str) -> Self {
        Self::Program { program, package }
    }

    /// A Debian package without a program, `name` or `name:arch`.
    pub(crate) const fn package(package: &'static str) -> Self {
        Self::Package { package }
    }

    /// The foreign architecture a [`Requirement::Package`] needs enabled, if any.
    fn architecture(&self) -> Option<&'static str> {
        match self {
            Self::Package { package } => package.split_once(':').map(|(_, arch)| arch),
            _ => None,
        }
    }
}

/// Builds Paho C.
pub(crate) const CMAKE: Requirement = Requirement::new("cmake", "cmake");
/// openssl-sys finds OpenSSL through it (the host build, and the target's in a cross build).
pub(crate) const PKG_CONFIG: Requirement = Requirement::new("pkg-config", "pkg-config");
/// The host's OpenSSL headers and libraries, for openssl-sys and Paho C.
pub(crate) const LIBSSL_DEV: Requirement = Requirement::package("libssl-dev");
/// The broker itself.
pub(crate) const MOSQUITTO: Requirement = Requirement::new("mosquitto", "mosquitto");
pub(crate) const MOSQUITTO_PASSWD: Requirement = Requirement::new("mosquitto_passwd", "mosquitto");
pub(crate) const MOSQUITTO_PUB: Requirement =
    Requirement::new("mosquitto_pub", "mosquitto-clients");
pub(crate) const MOSQUITTO_SUB: Requirement =
    Requirement::new("mosquitto_sub", "mosquitto-clients");
/// Scores and verifies the systemd unit.
pub(crate) const SYSTEMD_ANALYZE: Requirement = Requirement::new("systemd-analyze", "systemd");
/// The network-partition test moves a broker behind a veth pair.
pub(crate) const IP: Requirement = Requirement::new("ip", "iproute2");
/// Tests stop processes by id (`/usr/bin/kill` is procps', not in a minimal root).
pub(crate) const KILL: Requirement = Requirement::new("kill", "procps");
/// Packs the .deb; pinned so that the package layout does not change under us.
pub(crate) const CARGO_DEB: Requirement = Requirement::CargoTool {
    subcommand: "deb",
    krate: "cargo-deb",
    version: "3.8.0",
};
/// Checks the .deb.
pub(crate) const LINTIAN: Requirement = Requirement::new("lintian", "lintian");
/// cargo-deb's `$auto` dependencies come from dpkg-shlibdeps.
pub(crate) const DPKG_SHLIBDEPS: Requirement = Requirement::new("dpkg-shlibdeps", "dpkg-dev");
/// Runs the cross-built binaries in the acceptance test.
pub(crate) const QEMU_AARCH64: Requirement =
    Requirement::new("qemu-aarch64-static", "qemu-user-static");
pub(crate) const QEMU_ARM: Requirement = Requirement::new("qemu-arm-static", "qemu-user-static");

/// What `cargo xtask test` needs beyond the Rust toolchain on a fresh Debian 12 (minbase plus
/// ca-certificates, curl, git, build-essential and rustup): cmake, pkg-config and OpenSSL build
/// Paho C; the integration tests start a real Mosquitto, compare against its own clients and cut
/// the network with `ip`; xtask's own tests score the systemd unit, deploy over ssh to a private
/// sshd on 127.0.0.1, and build the Debian packages for the host, arm64 and armhf (cross
/// toolchains, cargo-deb), check them with lintian and run the arm ones under qemu.
pub(crate) const TEST_PACKAGES: [Requirement; 23] = [
    CMAKE,
    PKG_CONFIG,
    LIBSSL_DEV,
    MOSQUITTO,
    MOSQUITTO_PUB,
    MOSQUITTO_PASSWD,
    SYSTEMD_ANALYZE,
    IP,
    KILL,
    Requirement::new("sshd", "openssh-server"),
    Requirement::new("ssh", "openssh-client"),
    Requirement::new("ssh-keygen", "openssh-client"),
    CARGO_DEB,
    LINTIAN,
    DPKG_SHLIBDEPS,
    QEMU_AARCH64,
    QEMU_ARM,
    crate::cross::AARCH64.rust_target,
    crate::cross::AARCH64.cross_gcc,
    crate::cross::AARCH64.libssl_dev,
    crate::cross::ARMV7.rust_target,
    crate::cross::ARMV7.cross_gcc,
    crate::cross::ARMV7.libssl_dev,
];

/// What is there: the questions [`plan`] asks, answered by the machine ([`Machine`]) or a test.
pub(crate) trait Inventory {
    fn has_program(&self, program: &str) -> bool;
    /// `dpkg-query` says `install ok installed` for `package` (`name` or `name:arch`).
    fn has_package(&self, package: &str) -> bool;
    /// The architectures dpkg installs packages for: the native one and the foreign ones.
    fn architectures(&self) -> Vec<String>;
    fn rust_targets(&self) -> Vec<String>;
    /// What `cargo <subcommand> --version` prints, if it runs.
    fn cargo_tool_version(&self, subcommand: &str) -> Option<String>;
}

/// The machine xtask runs on.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Machine;

impl Inventory for Machine {
    fn has_program(&self, program: &str) -> bool {
        has_program(program)
    }

    fn has_package(&self, package: &str) -> bool {
        // Without `:arch`, dpkg-query lists every installed architecture of the package (with
        // multiarch, `libssl-dev` may be there for arm64 only): the native one or `all` counts.
        let native = self.architectures().into_iter().next().unwrap_or_default();
        let wanted = if package.contains(':') {
            None
        } else {
            Some(native)
        };
        Command::new("dpkg-query")
            .args(["-W", "-f=${Architecture} ${Status}\n", package])
            .stderr(Stdio::null())
            .output()
            .is_ok_and(|out| {
                String::from_utf8_lossy(&out.stdout).lines().any(|line| {
                    line.split_once(' ').is_some_and(|(arch, status)| {
                        status == "install ok installed"
                            && wanted
                                .as_deref()
                                .is_none_or(|native| arch == native || arch == "all")
                    })
                })
            })
    }

    fn architectures(&self) -> Vec<String> {
        let mut all = Vec::new();
        for args in [
            &["--print-architecture"][..],
            &["--print-foreign-architectures"],
        ] {
            if let Ok(out) = Command::new("dpkg").args(args).output() {
                all.extend(
                    String::from_utf8_lossy(&out.stdout)
                        .split_whitespace()
                        .map(str::to_owned),
                );
            }
        }
        all
    }

    fn rust_targets(&self) -> Vec<String> {
        // In the workspace root, so that rust-toolchain.toml picks the toolchain.
        Command::new("rustup")
            .current_dir(project_root())
            .args(["target", "list", "--installed"])
            .stderr(Stdio::null())
            .output()
            .map(|out| {
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .map(|l| l.trim().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn cargo_tool_version(&self, subcommand: &str) -> Option<String> {
        let out = cargo()
            .args([subcommand, "--version"])
            .stderr(Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }
}

/// What to install, in the order it must happen: foreign architectures (then `apt-get update`),
/// Debian packages, Rust targets, cargo tools.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) architectures: Vec<&'static str>,
    pub(crate) packages: Vec<&'static str>,
    pub(crate) rust_targets: Vec<&'static str>,
    /// `crate@version`.
    pub(crate) cargo_tools: Vec<String>,
}

impl Plan {
    pub(crate) fn is_empty(&self) -> bool {
        self == &Plan::default()
    }

    /// The commands that carry the plan out, as a person would type them (`sudo` for apt).
    pub(crate) fn commands(&self, sudo: &str) -> Vec<String> {
        let mut commands: Vec<String> = self
            .architectures
            .iter()
            .map(|arch| format!("{sudo}dpkg --add-architecture {arch}"))
            .collect();
        if !self.packages.is_empty() {
            commands.push(format!(
                "{sudo}apt-get update && {sudo}apt-get install -y {}",
                self.packages.join(" ")
            ));
        }
        if !self.rust_targets.is_empty() {
            commands.push(format!("rustup target add {}", self.rust_targets.join(" ")));
        }
        for tool in &self.cargo_tools {
            commands.push(format!("cargo install --locked {tool}"));
        }
        commands
    }
}

fn push_new<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// What of `required` is missing on `have`, and so must be installed.
pub(crate) fn plan(required: &[Requirement], have: &impl Inventory) -> Plan {
    let mut plan = Plan::default();
    let architectures = have.architectures();
    let rust_targets = have.rust_targets();
    for requirement in required {
        if let Some(arch) = requirement.architecture()
            && !architectures.iter().any(|a| a == arch)
        {
            push_new(&mut plan.architectures, arch);
        }
        match *requirement {
            Requirement::Program { program, package } => {
                if !have.has_program(program) {
                    push_new(&mut plan.packages, package);
                }
            }
            Requirement::Package { package } => {
                if !have.has_package(package) {
                    push_new(&mut plan.packages, package);
                }
            }
            Requirement::RustTarget { triple } => {
                if !rust_targets.iter().any(|t| t == triple) {
                    push_new(&mut plan.rust_targets, triple);
                }
            }
            Requirement::CargoTool {
                subcommand,
                krate,
                version,
            } => {
                // `cargo-deb 3.8.0`: the pinned version must be a word of the output.
                let pinned = have.cargo_tool_version(subcommand).is_some_and(|v| {
                    v.split_whitespace()
                        .any(|word| word.trim_start_matches('v') == version)
                });
                if !pinned {
                    push_new(&mut plan.cargo_tools, format!("{krate}@{version}"));
                }
            }
        }
    }
    plan
}

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

/// Installs what of `required` is missing when root: foreign architectures and Debian packages
/// with apt-get, Rust targets with rustup, cargo tools with `cargo install --locked`. Otherwise
/// stops with the exact commands to run.
pub(crate) fn ensure_packages(required: &[Requirement]) -> Result<()> {
    if plan(required, &Machine).is_empty() {
        return Ok(());
    }
    // Tests run in parallel threads and, under nextest, processes: one installer at a time.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _in_process = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let lock_path = env::temp_dir().join("heat-xtask-install.lock");
    let lock = File::create(&lock_path)
        .with_context(|| format!("cannot create the lock file {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("cannot lock {}", lock_path.display()))?;
    // Someone else may have installed it while we waited.
    let todo = plan(required, &Machine);
    if todo.is_empty() {
        return Ok(());
    }
    if !is_root() {
        bail!(
            "missing system requirements; as root, `cargo xtask` installs them itself, or run:\n    {}",
            todo.commands("sudo ").join("\n    ")
        );
    }
    for arch in &todo.architectures {
        println!("==> dpkg --add-architecture {arch}");
        run(Command::new("dpkg").args(["--add-architecture", arch]))?;
    }
    if !todo.packages.is_empty() {
        let packages = todo.packages.join(" ");
        println!("==> installing {packages} (apt-get)");
        run(Command::new("apt-get")
            .args(["update", "-q"])
            .args(["-o", "DPkg::Lock::Timeout=300"]))?;
        run(Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(["-o", "DPkg::Lock::Timeout=300"])
            .args(&todo.packages)
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }
    if !todo.rust_targets.is_empty() {
        println!("==> rustup target add {}", todo.rust_targets.join(" "));
        run(Command::new("rustup")
            .current_dir(project_root())
            .args(["target", "add"])
            .args(&todo.rust_targets))?;
    }
    for tool in &todo.cargo_tools {
        println!("==> cargo install --locked {tool} (builds from source, a few minutes)");
        run(cargo().args(["install", "--locked", tool]))?;
    }
    let still = plan(required, &Machine);
    if !still.is_empty() {
        bail!(
            "still missing after installing: {}",
            still.commands("").join("; ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests;
