//! `cargo xtask fresh-root [--dir DIR] [--keep]`: the README's two commands on a machine that
//! has nothing but what the README asks for.
//!
//! It builds a Debian 12 root with `debootstrap --variant=minbase bookworm`, adds only
//! `ca-certificates curl git build-essential` and rustup with the pinned toolchain (copied from
//! this machine, less any cross targets, since the workplace cannot download toolchains), clones
//! this repository's `HEAD` into it, and runs `cargo xtask demo --duration 20`, then
//! `cargo xtask test`, as root in a chroot, timing each. Everything else the two commands need,
//! they must install themselves. The chroot runs in a private mount namespace (`unshare -m`),
//! so its `/proc`, `/sys` and `/dev` mounts vanish with it whatever happens.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use anyhow::{Context, Result, bail};

use crate::{
    dist::target_dir,
    system::{self, Requirement, project_root, run},
};

const DEBOOTSTRAP: Requirement = Requirement::new("debootstrap", "debootstrap");
/// What the README says a fresh machine has besides the minimal base and rustup.
const BASE_PACKAGES: &str = "ca-certificates,curl,git,build-essential";
const SUITE: &str = "bookworm";
const MIRROR: &str = "http://deb.debian.org/debian";
/// Set in the root once debootstrap finished, so that a second run reuses it.
const READY: &str = ".fresh-root-ready";
/// The cross targets a developer machine may have added; the fresh root starts without them.
const CROSS_TARGETS: [&str; 2] = ["aarch64-unknown-linux-gnu", "armv7-unknown-linux-gnueabihf"];

#[derive(Debug, Clone, PartialEq, Eq)]
struct Options {
    dir: Option<PathBuf>,
    /// Reuse a root that debootstrap already made (the packages the commands installed stay).
    keep: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self> {
        let mut opts = Options {
            dir: None,
            keep: false,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--dir" => opts.dir = Some(args.next().context("--dir needs a path")?.into()),
                "--keep" => opts.keep = true,
                other => bail!(
                    "`cargo xtask fresh-root` does not know {other:?} (usage: fresh-root [--dir DIR] [--keep])"
                ),
            }
        }
        Ok(opts)
    }
}

pub(crate) fn fresh_root(args: &[String]) -> Result<()> {
    let opts = Options::parse(args)?;
    if !system::is_root() {
        bail!("fresh-root makes a chroot with debootstrap and mounts: run it as root");
    }
    system::ensure_packages(&[DEBOOTSTRAP])?;
    let root = project_root();
    let dir = match &opts.dir {
        Some(d) => d.clone(),
        None => target_dir(&root)?.join("fresh-root"),
    };
    if dir.exists() && !(opts.keep && dir.join(READY).is_file()) {
        println!("==> clearing {}", dir.display());
        fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    let mut times = Vec::new();
    if !dir.join(READY).is_file() {
        let t = Instant::now();
        println!(
            "==> debootstrap --variant=minbase {SUITE} {}",
            dir.display()
        );
        run(Command::new("debootstrap")
            .args(["--variant=minbase", &format!("--include={BASE_PACKAGES}")])
            .args([SUITE])
            .arg(&dir)
            .arg(MIRROR))?;
        // What the Debian installer writes and debootstrap does not: without it `localhost`
        // resolves nowhere in the root (no nss-myhostname, DNS does not answer for it).
        fs::write(
            dir.join("etc/hosts"),
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
        )?;
        trust_local_certificates(&dir)?;
        install_rustup(&dir)?;
        fs::write(dir.join(READY), "")?;
        times.push(("debootstrap + rustup", t.elapsed()));
    }
    let checkout = dir.join("root/project");
    if checkout.exists() {
        fs::remove_dir_all(&checkout)?;
    }
    println!("==> git clone (HEAD) into {}", checkout.display());
    run(Command::new("git")
        .args(["clone", "-q", "--no-hardlinks"])
        .arg(&root)
        .arg(&checkout))?;
    let drop_targets = format!(
        "rustup target remove {} 2>/dev/null || true",
        CROSS_TARGETS.join(" ")
    );
    in_root(&dir, &drop_targets)?;
    for (name, command) in [
        (
            "cargo xtask demo --duration 20",
            "cargo xtask demo --duration 20",
        ),
        ("cargo xtask test", "cargo xtask test"),
    ] {
        println!("==> in the fresh root: {command}");
        let t = Instant::now();
        in_root(&dir, &format!("cd /root/project && {command}"))
            .context("the fresh root fails the README's commands")?;
        times.push((name, t.elapsed()));
    }
    println!("\n| step in the fresh root | time |\n|---|---:|");
    for (name, took) in times {
        println!("| {name} | {:.0} s |", took.as_secs_f64());
    }
    Ok(())
}

/// The certificate authorities this machine added locally (`/usr/local/share/ca-certificates`,
/// where a network's TLS proxy puts its own): the root must reach crates.io and Debian as this
/// machine does. They belong to the network, not to the project, so they are no hidden install.
fn trust_local_certificates(dir: &Path) -> Result<()> {
    let local = Path::new("/usr/local/share/ca-certificates");
    let Ok(entries) = fs::read_dir(local) else {
        return Ok(());
    };
    let to = dir.join("usr/local/share/ca-certificates");
    fs::create_dir_all(&to)?;
    let mut copied = 0;
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "crt") {
            fs::copy(&path, to.join(path.file_name().expect("a file")))?;
            copied += 1;
        }
    }
    if copied > 0 {
        println!("==> trusting this machine's {copied} local CA certificate(s) in the root");
        in_root(dir, "update-ca-certificates >/dev/null")?;
    }
    Ok(())
}

/// The pinned toolchain and rustup, copied from this machine's `~/.rustup` and `~/.cargo/bin`
/// (the workplace reaches crates.io but not the toolchain server).
fn install_rustup(dir: &Path) -> Result<()> {
    let home = PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?);
    let rustup_home =
        std::env::var_os("RUSTUP_HOME").map_or_else(|| home.join(".rustup"), PathBuf::from);
    let cargo_home =
        std::env::var_os("CARGO_HOME").map_or_else(|| home.join(".cargo"), PathBuf::from);
    let to_rustup = dir.join("root/.rustup");
    let to_cargo_bin = dir.join("root/.cargo/bin");
    fs::create_dir_all(&to_rustup)?;
    fs::create_dir_all(&to_cargo_bin)?;
    println!(
        "==> rustup and the toolchains from {}",
        rustup_home.display()
    );
    run(Command::new("cp")
        .arg("-a")
        .arg(rustup_home.join("settings.toml"))
        .arg(rustup_home.join("toolchains"))
        .arg(&to_rustup))?;
    // rustup and its proxies (cargo, rustc, ... are links to it); not cargo-nextest or any
    // other tool installed on this machine.
    for entry in fs::read_dir(cargo_home.join("bin"))? {
        let entry = entry?;
        let is_proxy = entry.file_name() == "rustup"
            || fs::read_link(entry.path()).is_ok_and(|t| t == Path::new("rustup"));
        if is_proxy {
            run(Command::new("cp")
                .arg("-a")
                .arg(entry.path())
                .arg(&to_cargo_bin))?;
        }
    }
    Ok(())
}

/// Runs `script` with bash as root in the chroot, in a private mount namespace, with the
/// environment a login shell on a fresh machine has (PATH with ~/.cargo/bin, as rustup sets it).
fn in_root(dir: &Path, script: &str) -> Result<()> {
    let mounts = r#"set -eu
R=$1; shift
mount -t proc proc "$R/proc"
mount -t sysfs sysfs "$R/sys"
mount --rbind /dev "$R/dev"
mount -t tmpfs tmpfs "$R/run"
cp /etc/resolv.conf "$R/etc/resolv.conf"
exec chroot "$R" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb CI=true \
    PATH=/root/.cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/bash -c "$1"
"#;
    let status = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "--fork"])
        .args(["bash", "-c", mounts, "fresh-root"])
        .arg(dir)
        .arg(script)
        .status()
        .context("cannot start unshare (util-linux)")?;
    if !status.success() {
        bail!(
            "`{script}` in the chroot {} ended with {status}",
            dir.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Options;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn options_name_the_root_and_whether_to_keep_it() {
        assert_eq!(
            Options::parse(&[]).unwrap(),
            Options {
                dir: None,
                keep: false
            }
        );
        let given = Options::parse(&args(&["--dir", "/srv/root", "--keep"])).unwrap();
        assert_eq!(
            given.dir.as_deref(),
            Some(std::path::Path::new("/srv/root"))
        );
        assert!(given.keep);
        let missing = Options::parse(&args(&["--dir"])).unwrap_err();
        assert!(
            format!("{missing:#}").contains("needs a path"),
            "{missing:#}"
        );
        let unknown = Options::parse(&args(&["--fast"])).unwrap_err();
        assert!(format!("{unknown:#}").contains("--fast"), "{unknown:#}");
    }
}
