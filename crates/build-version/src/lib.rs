//! The version the workspace's binaries print with `--version` and publish as Home Assistant's
//! `sw_version`: the package version and the git commit they were built from, with `-dirty` when
//! tracked files differed from that commit: `0.1.0 (1a2b3c4d5e6f)`, `0.1.0 (1a2b3c4d5e6f-dirty)`,
//! or `0.1.0 (unknown commit)` when built without git (from a source tarball).
//!
//! The build script asks git again whenever HEAD moves (commit, checkout), the index changes
//! (`git add`) or a file under `crates/`, `bins/`, `Cargo.toml` or `Cargo.lock` changes, so the
//! commit and the dirty flag follow the tree. Edits elsewhere (docs, xtask) mark the tree dirty
//! for git but do not rebuild the binaries until one of those changes.

/// The commit, `1a2b3c4d5e6f`, `1a2b3c4d5e6f-dirty` or `unknown commit`.
pub const COMMIT: &str = env!("BUILD_COMMIT");

/// `<package version> (<COMMIT>)`, e.g. `0.1.0 (1a2b3c4d5e6f)`.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("BUILD_COMMIT"), ")");

/// The package version alone, the workspace's `[workspace.package] version`.
pub const PACKAGE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// 2026-01-01T00:00:00Z, when this code was written: the floor of [`built_after`] when the build
/// had no git (a source tarball).
pub const FLOOR_UNIX: u64 = 1_767_225_600;

/// A time the build is certainly not older than, in seconds since the Unix epoch: the commit's
/// time, or [`FLOOR_UNIX`] when that is unknown or earlier. A wall clock before it is not
/// plausible (a Raspberry Pi has no RTC and boots at an old time).
pub fn built_after() -> u64 {
    env!("BUILD_COMMIT_TIME")
        .parse::<u64>()
        .map_or(FLOOR_UNIX, |t| t.max(FLOOR_UNIX))
}

#[cfg(test)]
mod git;

#[cfg(test)]
mod tests;
