//! `--version` prints the package version and the git commit, without any setting.

use crate::{heat_diag, text};

#[test]
fn version_prints_0_1_0_and_a_commit() {
    let dir = tempfile::tempdir().unwrap();
    let out = heat_diag(dir.path(), &["--version"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let line = String::from_utf8(out.stdout).unwrap();
    let commit = line
        .trim()
        .strip_prefix("heat-diag 0.1.0 (")
        .and_then(|c| c.strip_suffix(')'))
        .unwrap_or_else(|| panic!("not `heat-diag 0.1.0 (<commit>)`: {line}"));
    let hex = commit.strip_suffix("-dirty").unwrap_or(commit);
    assert!(
        commit == "unknown commit"
            || (hex.len() == 12 && hex.chars().all(|c| c.is_ascii_hexdigit())),
        "{line}"
    );
}
