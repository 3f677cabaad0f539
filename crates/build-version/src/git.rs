//! What git says about the tree, for the build script (which includes this file) and its tests.
//! Every failure (no git binary, not a repository, no commit yet) is "no commit", never an error.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// The commit checked out in the repository holding a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Commit {
    /// `git rev-parse --short=12 HEAD`.
    pub(crate) short: String,
    /// Tracked files differ from the commit (staged or not), as `git describe --dirty` means it.
    pub(crate) dirty: bool,
    /// The commit's committer time, seconds since the Unix epoch (`git log -1 --format=%ct`).
    pub(crate) time: Option<u64>,
    /// Files whose change means the answer may have changed: HEAD, the branch's ref, the index,
    /// and the workspace's sources.
    pub(crate) watch: Vec<PathBuf>,
}

/// `git -C dir ARGS`, trimmed stdout, or None when git fails or is missing.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    // --no-optional-locks: `status` must not rewrite the index it is watched by (a rebuild loop).
    let out = Command::new("git")
        .arg("--no-optional-locks")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

impl Commit {
    /// The commit of the repository around `dir`, or None (no git, no repository, no commit).
    pub(crate) fn of(dir: &Path) -> Option<Self> {
        let short = git(dir, &["rev-parse", "--short=12", "--verify", "HEAD"])?;
        let dirty = !git(dir, &["status", "--porcelain", "--untracked-files=no"])?.is_empty();
        let time = git(dir, &["log", "-1", "--format=%ct", "HEAD"]).and_then(|t| t.parse().ok());
        let git_dir = PathBuf::from(git(dir, &["rev-parse", "--absolute-git-dir"])?);
        // A worktree keeps its own HEAD and index but shares refs with the main repository.
        let common = git(
            dir,
            &["rev-parse", "--path-format=absolute", "--git-common-dir"],
        )
        .map_or_else(|| git_dir.clone(), PathBuf::from);
        let top = git(dir, &["rev-parse", "--show-toplevel"]).map(PathBuf::from);
        let mut watch = vec![git_dir.join("HEAD"), git_dir.join("index")];
        if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
            watch.push(common.join(branch));
        }
        watch.push(common.join("packed-refs"));
        if let Some(top) = top {
            for source in ["crates", "bins", "Cargo.toml", "Cargo.lock"] {
                watch.push(top.join(source));
            }
        }
        // cargo reruns a build script every time for a path that does not exist.
        watch.retain(|p| p.exists());
        Some(Self {
            short,
            dirty,
            time,
            watch,
        })
    }
}

/// `1a2b3c4d5e6f`, `1a2b3c4d5e6f-dirty` or `unknown commit`.
pub(crate) fn label(commit: Option<&Commit>) -> String {
    match commit {
        Some(c) if c.dirty => format!("{}-dirty", c.short),
        Some(c) => c.short.clone(),
        None => "unknown commit".to_owned(),
    }
}
