//! `cargo xtask dist [--target TRIPLE]`: a release build (cross-compiled for an arm board, see
//! [`crate::cross`]), the Debian package `target/dist/heat-controller_<version>_<arch>.deb`
//! ([`crate::deb`]), and the plain bundle for boards without dpkg in
//! `target/dist/heat-controller-<triple>/` and `target/dist/heat-controller-<triple>.tar.gz`.
//!
//! The bundle: `bin/heat-controller`, `bin/heat-diag`, the hardened systemd unit, `install.sh`,
//! `heat.toml`, `heat.env`, `.env.example`, `README.board.md` and `mosquitto/README`. The
//! templates live in `dist/` at the workspace root and are compiled in, so the bundle always
//! matches this xtask.

use std::{
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::{
    cross::{self, Target},
    deb, demo,
    system::{self, cargo, project_root, run},
};

/// The systemd unit shipped in every bundle.
pub(crate) const UNIT: &str = include_str!("../../dist/heat-controller.service");
/// The unit's file name.
pub(crate) const UNIT_NAME: &str = "heat-controller.service";
const INSTALL_SH: &str = include_str!("../../dist/install.sh");
/// `/etc/heat-controller/heat.toml` as shipped.
pub(crate) const HEAT_TOML: &str = include_str!("../../dist/heat.toml");
const README_BOARD: &str = include_str!("../../dist/README.board.md");
const MOSQUITTO_README: &str = include_str!("../../dist/mosquitto/README");
const ENV_EXAMPLE: &str = include_str!("../../.env.example");

/// The binaries a bundle carries, in the order they are built.
pub(crate) const BINARIES: [&str; 2] = ["heat-controller", "heat-diag"];

/// What `cargo xtask dist` was asked for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct DistOptions {
    /// Target triple passed to cargo; `None` builds for this machine.
    pub(crate) target: Option<String>,
}

impl DistOptions {
    pub(crate) fn parse(args: &[String]) -> Result<Self> {
        let mut opts = DistOptions::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.split_once('=') {
                Some(("--target", value)) => opts.target = Some(value.to_owned()),
                _ if arg == "--target" => {
                    let value = args.next().context("--target needs a target triple")?;
                    opts.target = Some(value.clone());
                }
                _ => bail!(
                    "`cargo xtask dist` does not know {arg:?} (usage: dist [--target TRIPLE])"
                ),
            }
        }
        if let Some(target) = &opts.target
            && (target.is_empty()
                || !target
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
        {
            bail!("--target {target:?} is not a target triple (e.g. aarch64-unknown-linux-gnu)");
        }
        Ok(opts)
    }
}

/// A finished (or, in a dry run, planned) bundle.
#[derive(Debug, Clone)]
pub(crate) struct Bundle {
    /// `.../dist/heat-controller-<triple>`.
    pub(crate) dir: PathBuf,
    /// `.../dist/heat-controller-<triple>.tar.gz`.
    pub(crate) archive: PathBuf,
    /// The binaries in `bin/`.
    pub(crate) binaries: Vec<String>,
    /// `.../dist/heat-controller_<version>_<arch>.deb`; `None` for a bundle assembled alone.
    pub(crate) deb: Option<PathBuf>,
}

/// `cargo xtask dist`.
pub(crate) fn dist(args: &[String]) -> Result<()> {
    let opts = DistOptions::parse(args)?;
    let bundle = build(&opts, false)?;
    println!(
        "==> ready: {}\n    bundle:   {}\n    archive:  {}\n    binaries: {}",
        bundle
            .deb
            .as_deref()
            .unwrap_or(Path::new("(no package)"))
            .display(),
        bundle.dir.display(),
        bundle.archive.display(),
        bundle.binaries.join(", ")
    );
    Ok(())
}

/// The workspace packages among [`BINARIES`]; a missing one is warned about and left out.
fn available_binaries(root: &Path) -> Vec<&'static str> {
    BINARIES
        .into_iter()
        .filter(|name| {
            let present = root.join("bins").join(name).join("Cargo.toml").is_file();
            if !present {
                eprintln!(
                    "xtask: warning: bins/{name} is not in the workspace yet; the bundle goes without bin/{name}"
                );
            }
            present
        })
        .collect()
}

/// Builds the release binaries and assembles the bundle and the .deb; with `dry_run`, only
/// says what it would do.
pub(crate) fn build(opts: &DistOptions, dry_run: bool) -> Result<Bundle> {
    let root = project_root();
    let packages = available_binaries(&root);
    if packages.is_empty() {
        bail!("none of {BINARIES:?} is in the workspace: nothing to bundle");
    }
    let host = host_triple()?;
    let triple = opts.target.clone().unwrap_or_else(|| host.clone());
    let target = Target::of(&triple)?;
    let native = triple == host;
    let mut build = cargo();
    build
        .current_dir(&root)
        .args(["build", "--release", "--locked"])
        .envs(target.build_env(&host));
    for package in &packages {
        build.args(["-p", package]);
    }
    // A native build without --target keeps cargo's usual target/release.
    if opts.target.is_some() {
        build.args(["--target", &triple]);
    }
    let target_dir = target_dir(&root)?;
    let release = match &opts.target {
        Some(t) => target_dir.join(t).join("release"),
        None => target_dir.join("release"),
    };
    let out = target_dir.join("dist");
    let name = format!("heat-controller-{triple}");
    let version = workspace_version(&root)?;
    let deb_path = out.join(deb::deb_name(&version, &target));
    let mut required = cross::HOST_BUILD.to_vec();
    required.extend(target.requirements(&host));
    required.extend([system::CARGO_DEB, system::DPKG_SHLIBDEPS]);
    if dry_run {
        let todo = system::plan(&required, &system::Machine);
        for command in todo.commands("") {
            println!("[dry-run] install: {command}");
        }
        println!("[dry-run] build: {build:?}");
        println!(
            "[dry-run] assemble {} and its .tar.gz, and {}",
            out.join(&name).display(),
            deb_path.display()
        );
        return Ok(Bundle {
            dir: out.join(&name),
            archive: out.join(format!("{name}.tar.gz")),
            binaries: packages.iter().map(|s| (*s).to_owned()).collect(),
            deb: Some(deb_path),
        });
    }
    system::ensure_packages(&required).context("step 'install build requirements' failed")?;
    println!(
        "==> building {} (release, {triple}); the first build takes a few minutes",
        packages.join(", ")
    );
    let started = Instant::now();
    run(&mut build).with_context(|| {
        format!("step 'build' failed: the release build for {triple} did not succeed")
    })?;
    println!(
        "==> release build for {triple}: {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let binaries: Vec<(&str, PathBuf)> = packages.iter().map(|p| (*p, release.join(p))).collect();
    for (binary, path) in &binaries {
        check_elf(path, &target).with_context(|| format!("step 'build' failed: bin/{binary}"))?;
    }
    // Man pages and completions come from running the binaries: the host's own build.
    let host_bins = if native {
        binaries.clone()
    } else {
        println!(
            "==> building the host's heat-controller and heat-diag (debug) for man pages and completions"
        );
        let bins = demo::build_binaries(None).context("step 'host build' failed")?;
        vec![
            ("heat-controller", bins.heat_controller),
            ("heat-diag", bins.heat_diag),
        ]
    };
    println!("==> assembling {}", out.join(&name).display());
    deb::stage(&release.join("deb"), &host_bins, &version)
        .context("step 'stage package files' failed")?;
    let mut bundle = assemble(&out, &name, &binaries).context("step 'assemble bundle' failed")?;
    println!("==> packaging {}", deb_path.display());
    let started = Instant::now();
    bundle.deb = Some(
        deb::package(&target, opts.target.is_none(), &version, &out)
            .context("step 'package' failed")?,
    );
    println!("==> cargo deb: {:.0} s", started.elapsed().as_secs_f64());
    if !native {
        println!(
            "    try it here: {} --version",
            target.qemu_command(&release.join("heat-controller"))
        );
    }
    Ok(bundle)
}

/// The built file is an executable of `target`: a wrong linker would make one of the host.
fn check_elf(path: &Path, target: &Target) -> Result<()> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (class, machine) = cross::elf_header(&bytes)
        .with_context(|| format!("{} is not an executable", path.display()))?;
    if (class, machine) != (target.elf_class, target.elf_machine) {
        bail!(
            "{} is an ELF for machine {machine} (class {class}), not {} ({})",
            path.display(),
            target.triple,
            target.elf_machine
        );
    }
    Ok(())
}

/// The version of the heat-controller package (the workspace's), from `cargo metadata`.
pub(crate) fn workspace_version(root: &Path) -> Result<String> {
    let metadata: Value = serde_json::from_slice(&cargo_metadata(root)?)
        .context("`cargo metadata` printed no JSON")?;
    metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == deb::PACKAGE)
        .and_then(|p| p["version"].as_str())
        .map(str::to_owned)
        .with_context(|| format!("`cargo metadata` lists no {} package", deb::PACKAGE))
}

fn host_triple() -> Result<String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .context("cannot run `rustc -vV` to learn the host triple")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .context("`rustc -vV` printed no `host:` line")
}

/// Cargo's target directory (honours `CARGO_TARGET_DIR` and `build.target-dir`).
pub(crate) fn target_dir(root: &Path) -> Result<PathBuf> {
    json_string_field(
        &String::from_utf8_lossy(&cargo_metadata(root)?),
        "target_directory",
    )
    .map(PathBuf::from)
    .context("`cargo metadata` printed no target_directory")
}

/// What `cargo metadata --no-deps` prints for the workspace at `root` (its JSON).
fn cargo_metadata(root: &Path) -> Result<Vec<u8>> {
    let out = cargo()
        .current_dir(root)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .output()
        .context("cannot run `cargo metadata`")?;
    if !out.status.success() {
        bail!(
            "`cargo metadata` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

/// The value of the first `"field":"..."` in `json` (enough for cargo's plain path strings).
pub(crate) fn json_string_field(json: &str, field: &str) -> Option<String> {
    let key = format!("\"{field}\":\"");
    let start = json.find(&key)? + key.len();
    let mut value = String::new();
    let mut chars = json[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => match chars.next()? {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
    None
}

fn write_file(path: &Path, text: &str, mode: u32) -> Result<()> {
    fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", path.display()))
}

/// Writes the bundle `out/name/` from the templates and `binaries` (name, built file), then
/// `out/name.tar.gz`. A binary whose file does not exist is an error naming it.
pub(crate) fn assemble(out: &Path, name: &str, binaries: &[(&str, PathBuf)]) -> Result<Bundle> {
    let dir = out.join(name);
    if dir.exists() {
        fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    fs::create_dir_all(dir.join("bin"))
        .and_then(|()| fs::create_dir_all(dir.join("mosquitto")))
        .with_context(|| format!("cannot create {}", dir.display()))?;
    for (binary, built) in binaries {
        if !built.is_file() {
            bail!(
                "the build did not produce {} (bin/{binary})",
                built.display()
            );
        }
        let to = dir.join("bin").join(binary);
        fs::copy(built, &to)
            .with_context(|| format!("cannot copy {} to {}", built.display(), to.display()))?;
        fs::set_permissions(&to, fs::Permissions::from_mode(0o755))?;
    }
    write_file(&dir.join(UNIT_NAME), UNIT, 0o644)?;
    write_file(&dir.join("install.sh"), INSTALL_SH, 0o755)?;
    write_file(&dir.join("README.board.md"), README_BOARD, 0o644)?;
    write_file(&dir.join(".env.example"), ENV_EXAMPLE, 0o644)?;
    write_file(&dir.join("heat.env"), &deb::heat_env(), 0o640)?;
    write_file(&dir.join("heat.toml"), HEAT_TOML, 0o644)?;
    write_file(&dir.join("mosquitto/README"), MOSQUITTO_README, 0o644)?;

    let archive = out.join(format!("{name}.tar.gz"));
    run(Command::new("tar")
        .arg("-C")
        .arg(out)
        .args(["--owner=0", "--group=0", "-czf"])
        .arg(&archive)
        .arg(name))
    .context("cannot pack the bundle with tar")?;
    Ok(Bundle {
        dir,
        archive,
        binaries: binaries.iter().map(|(b, _)| (*b).to_owned()).collect(),
        deb: None,
    })
}

#[cfg(test)]
mod tests;
