//! Journald priorities: with `JOURNAL_STREAM` naming the controller's stderr (here a file, as
//! systemd would name its journal socket), every line starts with `<N>` for its level; with a
//! `JOURNAL_STREAM` that names another file (stderr was redirected), lines are plain.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::harness::{Controller, Spec, wait_for};

/// Starts the controller with stderr into `stderr` and `JOURNAL_STREAM=journal_stream`, against
/// a closed port (warnings: failed connection attempts), at trace, for a few hundred ticks
/// with a sensor fault (warnings) in between, then SIGTERM. Returns stderr.
fn run(stderr: &Path, journal_stream: String) -> String {
    let mut spec = Spec::new(test_mosquitto::free_port().unwrap());
    spec.rust_log = "trace";
    spec.stderr = Some(stderr.to_owned());
    spec.args
        .extend(["--sim-faults".to_owned(), "crc:collector@20+20".to_owned()]);
    spec.env.push(("JOURNAL_STREAM", journal_stream));
    let mut ctl = Controller::start(&spec);
    wait_for("the sensor fault cleared", || {
        std::fs::read_to_string(stderr)
            .unwrap_or_default()
            .contains("simulated fault cleared")
    });
    ctl.signal("TERM");
    let (status, _) = ctl.wait_exit();
    let text = std::fs::read_to_string(stderr).unwrap();
    assert_eq!(status.code(), Some(0), "{text}");
    text
}

fn dev_ino(path: &Path) -> String {
    std::fs::File::create(path).unwrap();
    let meta = std::fs::metadata(path).unwrap();
    format!("{}:{}", meta.dev(), meta.ino())
}

#[test]
fn with_journal_stream_on_stderr_every_line_carries_its_priority() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = dir.path().join("stderr");
    let text = run(&stderr, dev_ino(&stderr));
    let mut seen = Vec::new();
    for line in text.lines() {
        let level = [
            "<3>[ERROR ",
            "<4>[WARN  ",
            "<6>[INFO  ",
            "<7>[DEBUG ",
            "<7>[TRACE ",
        ]
        .into_iter()
        .find(|p| line.starts_with(p))
        .unwrap_or_else(|| panic!("a line without its matching priority: {line:?}\n{text}"));
        seen.push(&level[..3]);
    }
    for priority in ["<4>", "<6>", "<7>"] {
        assert!(seen.contains(&priority), "no {priority} line:\n{text}");
    }
    // journald stamps the time; the line carries none.
    assert!(!text.contains("Z INFO"), "{text}");
}

#[test]
fn with_journal_stream_naming_another_file_lines_are_plain() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = dir.path().join("stderr");
    let elsewhere = dir.path().join("journal");
    let text = run(&stderr, dev_ino(&elsewhere));
    assert!(text.lines().count() > 5, "{text}");
    for line in text.lines() {
        assert!(
            !line.starts_with('<'),
            "a prefix without the journal: {line:?}"
        );
        assert!(
            line.starts_with("[20"),
            "the timestamped plain format: {line:?}"
        );
    }
}
