//! The IO: reading the state file at startup and writing it atomically.
//!
//! Writing: `state.json.tmp` in the same directory, written and fsynced, renamed over
//! `state.json`, then the directory fsynced, so that after a power cut or a SIGKILL at any
//! moment `state.json` is either the previous complete file or the new complete one (rename is
//! atomic within a file system; the directory's fsync makes the rename itself durable).
//!
//! Reading: a missing file (or directory) means defaults, with no problem. A file that cannot
//! be read, does not decode or has a newer schema is moved aside as `state.json.bad-<time>`
//! and the defaults are used; one with values the current configuration refuses is restored
//! without them and copied aside. Either way a [`StateFileProblem`] says so.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use heat_core::Params;

use crate::FILE_NAME;
use crate::problem::{Kept, StateFileProblem};
use crate::restore::{Restored, restore};
use crate::schema::{DecodeError, SCHEMA, StateFile, decode, encode};

/// The temp file's name, next to the state file.
const TEMP_NAME: &str = "state.json.tmp";

/// The state directory (systemd's `StateDirectory=`, or `controller.state_dir`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDir {
    dir: PathBuf,
}

/// The result of reading the state file at startup.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// What the controller starts from (the defaults when the file was missing or bad).
    pub restored: Restored,
    /// What the file holds, when it decoded (the write policy's starting point).
    pub on_disk: Option<StateFile>,
    /// What went wrong, if anything: warn once and show the `state_file` alarm.
    pub problem: Option<StateFileProblem>,
}

impl StateDir {
    /// The state file in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<dir>/state.json`.
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// Reads the state file and restores it under `config`; `now` names a bad copy.
    pub fn load(&self, config: &Params, now: SystemTime) -> Loaded {
        let path = self.path();
        let defaults = |problem| Loaded {
            restored: Restored::defaults(config),
            on_disk: None,
            problem: Some(problem),
        };
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Loaded {
                    restored: Restored::defaults(config),
                    on_disk: None,
                    problem: None,
                };
            }
            Err(e) => {
                let kept = self.keep_aside(&path, now, Aside::Move);
                return defaults(StateFileProblem::Unreadable {
                    path,
                    error: e.to_string(),
                    kept,
                });
            }
        };
        let decoded = match decode(&text) {
            Ok(decoded) => decoded,
            Err(DecodeError::NewerSchema { found }) => {
                let kept = self.keep_aside(&path, now, Aside::Move);
                return defaults(StateFileProblem::NewerSchema {
                    path,
                    found,
                    supported: SCHEMA,
                    kept,
                });
            }
            Err(e) => {
                let kept = self.keep_aside(&path, now, Aside::Move);
                return defaults(StateFileProblem::Corrupt {
                    path,
                    error: e.to_string(),
                    kept,
                });
            }
        };
        let mut restored = restore(config, &decoded.state);
        let mut dropped = decoded.dropped;
        dropped.append(&mut restored.dropped);
        let problem = (!dropped.is_empty()).then(|| {
            // The file stays (its good values must survive a crash before the next write).
            let kept = self.keep_aside(&path, now, Aside::Copy);
            StateFileProblem::Dropped {
                path,
                dropped,
                kept,
            }
        });
        Loaded {
            restored,
            on_disk: Some(decoded.state),
            problem,
        }
    }

    /// Writes `state` atomically (see the module doc), creating the directory (mode 0700) if it
    /// is missing.
    pub fn write(&self, state: &StateFile) -> Result<(), StateFileProblem> {
        let failed = |error: String| StateFileProblem::WriteFailed {
            path: self.path(),
            dir: self.dir.clone(),
            error,
        };
        let text = encode(state).map_err(|e| failed(e.to_string()))?;
        self.write_text(&text).map_err(|e| failed(e.to_string()))
    }

    fn write_text(&self, text: &str) -> io::Result<()> {
        if !self.dir.is_dir() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&self.dir)?;
        }
        let temp = self.dir.join(TEMP_NAME);
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, self.path())?;
        File::open(&self.dir)?.sync_all()
    }

    /// Moves or copies the bad file to `state.json.bad-<time>` (with `-2`, `-3`, ... when that
    /// name is taken, so no earlier copy is overwritten).
    fn keep_aside(&self, path: &Path, now: SystemTime, how: Aside) -> Kept {
        let stamp = bad_stamp(now);
        let mut target = self.dir.join(format!("{FILE_NAME}.bad-{stamp}"));
        let mut n = 1;
        while target.exists() {
            n += 1;
            target = self.dir.join(format!("{FILE_NAME}.bad-{stamp}-{n}"));
        }
        let result = match how {
            Aside::Move => fs::rename(path, &target),
            Aside::Copy => fs::copy(path, &target).map(|_| ()),
        };
        match result {
            Ok(()) => Kept::As(target),
            Err(e) => Kept::Failed(e.to_string()),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Aside {
    Move,
    Copy,
}

/// `now` in UTC as `2026-01-31T04-05-06Z`: RFC 3339 with `-` for `:`, so that the name is
/// valid on every file system and sorts by time. humantime panics outside 1970..=9999, so the
/// time is clamped to that span first (a board without a clock may boot at the epoch).
pub fn bad_stamp(now: SystemTime) -> String {
    // 9999-12-31T23:59:59Z, humantime's last formattable second.
    let last = UNIX_EPOCH + Duration::from_secs(253_402_300_799);
    let now = now.clamp(UNIX_EPOCH, last);
    humantime::format_rfc3339_seconds(now)
        .to_string()
        .replace(':', "-")
}

#[cfg(test)]
mod tests;
