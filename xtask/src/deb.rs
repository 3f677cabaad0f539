//! The Debian package: `target/dist/heat-controller_<version>_<arch>.deb`, made by cargo-deb
//! (pinned, [`system::CARGO_DEB`]) from `[package.metadata.deb]` in bins/heat-controller/Cargo.toml,
//! the maintainer scripts in `dist/debian/` and the files staged here:
//!
//! - man pages and bash/zsh/fish completions, from the host build of both binaries
//!   (`--generate man|complete-bash|complete-zsh|complete-fish`);
//! - `changelog.Debian.gz`, from CHANGELOG.md (Keep a Changelog);
//! - `heat.env`, from .env.example with the password line commented out (the password is the
//!   systemd credential `/etc/heat-controller/mqtt_password`).
//!
//! They are staged under `<profile dir>/deb/`, which the metadata names as `target/release/deb/`:
//! cargo-deb maps that prefix to the real directory of the build (`--target`, `CARGO_TARGET_DIR`).

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{Context, Result, bail};

use crate::{
    cross::Target,
    system::{self, cargo, project_root, run},
};

/// The package's name, also the package that carries the metadata.
pub(crate) const PACKAGE: &str = "heat-controller";
/// The Debian revision of every build: the packaging changes with the source.
pub(crate) const REVISION: &str = "1";
/// Who the changelog names; the same as `maintainer` in the metadata.
pub(crate) const MAINTAINER: &str =
    "Solar heating controller maintainers <heat-controller@example.org>";

const ENV_EXAMPLE: &str = include_str!("../../.env.example");

/// What the generator of a binary writes, and where the package puts it.
const GENERATED: [(&str, &str); 4] = [
    ("man", "man/{bin}.1"),
    ("complete-bash", "completions/bash/{bin}"),
    ("complete-zsh", "completions/zsh/_{bin}"),
    ("complete-fish", "completions/fish/{bin}.fish"),
];

/// `/etc/heat-controller/heat.env` as shipped: `.env.example` with `MQTT_PASSWORD=` commented
/// out, so that only the credential file can hold the password.
pub(crate) fn heat_env() -> String {
    let body: String = ENV_EXAMPLE
        .lines()
        .map(|line| match line.strip_prefix("MQTT_PASSWORD=") {
            Some(rest) => format!("# MQTT_PASSWORD={rest}\n"),
            None => format!("{line}\n"),
        })
        .collect();
    format!(
        "# /etc/heat-controller/heat.env: the service's environment (EnvironmentFile=), over\n\
         # /etc/heat-controller/heat.toml. No password here: write it to\n\
         # /etc/heat-controller/mqtt_password (root, mode 0600), the systemd credential.\n#\n{body}"
    )
}

/// The Debian version of workspace version `version`.
pub(crate) fn debian_version(version: &str) -> String {
    format!("{version}-{REVISION}")
}

/// `target/dist/heat-controller_<debian version>_<arch>.deb`.
pub(crate) fn deb_name(version: &str, target: &Target) -> String {
    format!(
        "{PACKAGE}_{}_{}.deb",
        debian_version(version),
        target.deb_arch
    )
}

/// A released section of CHANGELOG.md: `## [0.1.0] - 2026-12-01` and its `### Kind` lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Release {
    pub(crate) version: String,
    /// `YYYY-MM-DD`.
    pub(crate) date: (i64, u32, u32),
    /// `Added: ...` entries, one paragraph each.
    pub(crate) entries: Vec<String>,
}

/// The released sections of a Keep a Changelog file, newest first (`[Unreleased]` is left out).
pub(crate) fn releases(changelog: &str) -> Result<Vec<Release>> {
    let mut out: Vec<Release> = Vec::new();
    let mut kind = String::new();
    let mut in_release = false;
    for (number, line) in changelog.lines().enumerate() {
        let number = number + 1;
        if let Some(heading) = line.strip_prefix("## ") {
            kind.clear();
            let heading = heading.trim();
            if heading.to_ascii_lowercase().starts_with("[unreleased]") {
                in_release = false;
                continue;
            }
            let (version, date) = heading.split_once(" - ").with_context(|| {
                format!(
                    "CHANGELOG.md line {number}: `## {heading}` is not `## [X.Y.Z] - YYYY-MM-DD`"
                )
            })?;
            let version = version.trim().trim_start_matches('[').trim_end_matches(']');
            if version.is_empty()
                || !version
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".+~-".contains(c))
            {
                bail!("CHANGELOG.md line {number}: {version:?} is not a version");
            }
            let date = parse_date(date.trim()).with_context(|| {
                format!("CHANGELOG.md line {number}: the date of {version} is not YYYY-MM-DD")
            })?;
            out.push(Release {
                version: version.to_owned(),
                date,
                entries: Vec::new(),
            });
            in_release = true;
        } else if let Some(heading) = line.strip_prefix("### ") {
            kind = heading.trim().to_owned();
        } else if !in_release {
        } else if let Some(item) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
            let release = out.last_mut().expect("in_release implies a release");
            let item = item.trim();
            release.entries.push(if kind.is_empty() {
                item.to_owned()
            } else {
                format!("{kind}: {item}")
            });
        } else if line.starts_with("  ") && !line.trim().is_empty() {
            // The continuation of a list item.
            let release = out.last_mut().expect("in_release implies a release");
            if let Some(last) = release.entries.last_mut() {
                last.push(' ');
                last.push_str(line.trim());
            }
        }
    }
    Ok(out)
}

fn parse_date(text: &str) -> Option<(i64, u32, u32)> {
    let mut parts = text.splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.get(..2)?.parse().ok()?;
    ((1970..=9999).contains(&year) && (1..=12).contains(&month) && (1..=31).contains(&day))
        .then_some((year, month, day))
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `Tue, 01 Dec 2026 00:00:00 +0000`, as debian/changelog wants it.
pub(crate) fn rfc2822((year, month, day): (i64, u32, u32)) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let weekday = DAYS[days_from_civil(year, month, day).rem_euclid(7) as usize];
    format!(
        "{weekday}, {day:02} {} {year} 00:00:00 +0000",
        MONTHS[month as usize - 1]
    )
}

/// Words of `text` in lines of at most `width` characters (a longer word stands alone).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("never empty");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_owned());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

/// debian/changelog from CHANGELOG.md; its first entry must be `version`, the package's.
pub(crate) fn debian_changelog(changelog_md: &str, version: &str) -> Result<String> {
    let releases = releases(changelog_md)?;
    match releases.first() {
        Some(newest) if newest.version == version => {}
        Some(newest) => bail!(
            "CHANGELOG.md's newest release is {}, but the package is {version}: add a \
             `## [{version}] - YYYY-MM-DD` section",
            newest.version
        ),
        None => bail!(
            "CHANGELOG.md has no released section: add `## [{version}] - YYYY-MM-DD` with its changes"
        ),
    }
    let mut out = String::new();
    for release in &releases {
        out.push_str(&format!(
            "{PACKAGE} ({}) unstable; urgency=medium\n\n",
            debian_version(&release.version)
        ));
        if release.entries.is_empty() {
            out.push_str(&format!("  * Release {}.\n", release.version));
        }
        for entry in &release.entries {
            for (i, line) in wrap(entry, 74).iter().enumerate() {
                out.push_str(if i == 0 { "  * " } else { "    " });
                out.push_str(line);
                out.push('\n');
            }
        }
        out.push_str(&format!(
            "\n -- {MAINTAINER}  {}\n\n",
            rfc2822(release.date)
        ));
    }
    out.pop();
    Ok(out)
}

/// `gzip -9n` of `data` into `path` (no name, no time stamp: the same bytes every build).
fn write_gzip(path: &Path, data: &[u8]) -> Result<()> {
    let file =
        fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut gzip = Command::new("gzip")
        .args(["-9", "-n", "-c"])
        .stdin(Stdio::piped())
        .stdout(file)
        .spawn()
        .context("cannot run gzip")?;
    gzip.stdin
        .take()
        .context("gzip has no stdin")?
        .write_all(data)
        .context("cannot write to gzip")?;
    let status = gzip.wait()?;
    if !status.success() {
        bail!("gzip of {} failed with {status}", path.display());
    }
    Ok(())
}

/// Runs `binary --generate KIND` for every kind and writes the output into `staging` (man pages
/// gzipped). `binary` must run on this machine: the host build.
pub(crate) fn generate(staging: &Path, name: &str, binary: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (kind, relative) in GENERATED {
        let out = Command::new(binary)
            .args(["--generate", kind])
            .env_clear()
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("cannot run {} --generate {kind}", binary.display()))?;
        if !out.status.success() || out.stdout.is_empty() {
            bail!(
                "`{} --generate {kind}` failed ({}): {}",
                binary.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let path = staging.join(relative.replace("{bin}", name));
        fs::create_dir_all(path.parent().expect("a relative path with a directory"))?;
        if kind == "man" {
            let gz = path.with_extension("1.gz");
            write_gzip(&gz, &out.stdout)?;
            written.push(gz);
        } else {
            fs::write(&path, &out.stdout)
                .with_context(|| format!("cannot write {}", path.display()))?;
            written.push(path);
        }
    }
    Ok(written)
}

/// Stages the generated files into `staging` (cleared first): man pages and completions of the
/// host binaries `host_bins` (name, path), the changelog, heat.env.
pub(crate) fn stage(staging: &Path, host_bins: &[(&str, PathBuf)], version: &str) -> Result<()> {
    if staging.exists() {
        fs::remove_dir_all(staging)
            .with_context(|| format!("cannot clear {}", staging.display()))?;
    }
    fs::create_dir_all(staging).with_context(|| format!("cannot create {}", staging.display()))?;
    for (name, binary) in host_bins {
        generate(staging, name, binary)?;
    }
    let changelog_md = fs::read_to_string(project_root().join("CHANGELOG.md"))
        .context("cannot read CHANGELOG.md (the package's changelog comes from it)")?;
    write_gzip(
        &staging.join("changelog.Debian.gz"),
        debian_changelog(&changelog_md, version)?.as_bytes(),
    )?;
    fs::write(staging.join("heat.env"), heat_env())?;
    Ok(())
}

/// Runs cargo-deb on the binaries already built for `target` (`--no-build`, `--no-strip`: the
/// release profile strips) and returns the package in `out`.
pub(crate) fn package(target: &Target, native: bool, version: &str, out: &Path) -> Result<PathBuf> {
    system::ensure_packages(&[system::CARGO_DEB, system::DPKG_SHLIBDEPS])?;
    fs::create_dir_all(out)?;
    let deb = out.join(deb_name(version, target));
    let mut cmd = cargo();
    cmd.current_dir(project_root())
        .args(["deb", "--locked", "--no-build", "--no-strip", "-p", PACKAGE])
        .args(["--deb-revision", REVISION])
        .arg("--output")
        .arg(&deb);
    if !native {
        cmd.args(["--target", target.triple]);
    }
    run(&mut cmd).context("cargo deb failed")?;
    if !deb.is_file() {
        bail!("cargo deb did not write {}", deb.display());
    }
    Ok(deb)
}

#[cfg(test)]
mod acceptance;
#[cfg(test)]
mod tests;
