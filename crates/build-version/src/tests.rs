//! The commit and dirty flag from a real git repository in a temp dir, and the fallback outside
//! one. These tests need `git` (`apt-get install -y git`).

use std::{fs, path::Path, process::Command};

use super::git::{Commit, label};
use super::{COMMIT, FLOOR_UNIX, PACKAGE_VERSION, VERSION, built_after};

fn run_git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs; install it with `apt-get install -y git`");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn repo_with_one_commit() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_git(d, &["init", "-q"]);
    fs::write(d.join("Cargo.toml"), "[workspace]\n").unwrap();
    run_git(d, &["add", "Cargo.toml"]);
    run_git(
        d,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.org",
            "commit",
            "-q",
            "-m",
            "one",
        ],
    );
    dir
}

#[test]
fn a_clean_checkout_gives_the_short_commit() {
    let repo = repo_with_one_commit();
    let head = run_git(repo.path(), &["rev-parse", "--short=12", "HEAD"]);
    let commit = Commit::of(repo.path()).expect("a commit");
    assert_eq!(commit.short, head);
    assert!(!commit.dirty);
    let time: u64 = run_git(repo.path(), &["log", "-1", "--format=%ct"])
        .parse()
        .unwrap();
    assert_eq!(commit.time, Some(time));
    assert_eq!(label(Some(&commit)), head);
    // HEAD, the index, the branch's ref and the sources are watched, and all exist.
    let watched: Vec<_> = commit
        .watch
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    for end in ["/HEAD", "/index", "/Cargo.toml"] {
        assert!(
            watched.iter().any(|p| p.ends_with(end)),
            "{end} not in {watched:?}"
        );
    }
    assert!(
        watched.iter().any(|p| p.contains("refs/heads/")),
        "{watched:?}"
    );
    assert!(commit.watch.iter().all(|p| p.exists()), "{watched:?}");
}

#[test]
fn a_changed_tracked_file_is_dirty_and_an_untracked_one_is_not() {
    let repo = repo_with_one_commit();
    fs::write(repo.path().join("new.txt"), "untracked").unwrap();
    assert!(
        !Commit::of(repo.path()).unwrap().dirty,
        "untracked files are not dirt"
    );
    fs::write(repo.path().join("Cargo.toml"), "[workspace]\n# edited\n").unwrap();
    let commit = Commit::of(repo.path()).unwrap();
    assert!(commit.dirty);
    assert_eq!(label(Some(&commit)), format!("{}-dirty", commit.short));
}

#[test]
fn outside_a_repository_the_commit_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    // A temp dir could sit inside a repository only if TMPDIR did; make sure it does not.
    assert!(
        Command::new("git")
            .arg("-C")
            .arg(dir.path())
            .args(["rev-parse", "--git-dir"])
            .output()
            .is_ok_and(|o| !o.status.success())
    );
    assert_eq!(Commit::of(dir.path()), None);
    assert_eq!(label(None), "unknown commit");
}

#[test]
fn the_version_is_the_package_version_and_the_commit() {
    assert_eq!(VERSION, format!("{PACKAGE_VERSION} ({COMMIT})"));
    assert!(!COMMIT.is_empty());
    // Built from this repository's commits, all made after the floor.
    assert!(built_after() >= FLOOR_UNIX);
    if COMMIT != "unknown commit" {
        assert!(built_after() > FLOOR_UNIX, "{}", built_after());
    }
}
