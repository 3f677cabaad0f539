//! The IO: reading the state file at startup and writing it atomically, keeping the previous
//! generation.
//!
//! Writing: `state.json.tmp` in the same directory, written and fsynced; the current
//! `state.json` hard-linked as `state.json.prev` (a temp link renamed over it: metadata only, no
//! data written twice, which spares an SD card); `state.json.tmp` renamed over `state.json`; then
//! the directory fsynced. So after a power cut or a SIGKILL at any moment `state.json` is either
//! the previous complete file or the new complete one (rename is atomic within a file system;
//! the directory's fsync makes the rename itself durable), and `state.json.prev`, once it
//! exists, is a complete earlier generation (each one was fsynced when it was written).
//!
//! Reading ([`crate::startup`] decides, this module does the IO): a missing file (or directory)
//! means defaults, with no problem. A file that cannot be read, does not decode or has a newer
//! schema is moved aside as `state.json.bad-<time>`, and the controller starts from
//! `state.json.prev` when that one is good, else from the defaults; one with values the current
//! configuration refuses is restored without them and copied aside. Either way a
//! [`StateFileProblem`] says so, and what the controller started from.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use heat_core::Params;

use crate::FILE_NAME;
use crate::problem::{Fallback, Kept, StateFileProblem};
use crate::restore::Restored;
use crate::schema::{DecodeError, SCHEMA, StateFile, encode};
use crate::startup::{Generation, Source, Unusable, start};

/// The temp file's name, next to the state file.
const TEMP_NAME: &str = "state.json.tmp";

/// The previous generation's name.
pub const PREVIOUS_NAME: &str = "state.json.prev";

/// The previous generation's temp link, renamed over [`PREVIOUS_NAME`].
const PREVIOUS_TEMP_NAME: &str = "state.json.prev.tmp";

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
    /// The controller starts from the previous generation, `state.json.prev`.
    pub from_previous: bool,
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

    /// `<dir>/state.json.prev`, the previous generation.
    pub fn previous_path(&self) -> PathBuf {
        self.dir.join(PREVIOUS_NAME)
    }

    /// Reads the state file and restores it under `config`, falling back to the previous
    /// generation when it is unusable ([`crate::startup`]); `now` names a bad copy.
    pub fn load(&self, config: &Params, now: SystemTime) -> Loaded {
        let path = self.path();
        let (current, previous) = (read(&path), read(&self.previous_path()));
        let s = start(config, current.generation(), previous.generation());
        let fallback = || {
            Box::new(match s.source {
                Source::Previous => Fallback::Previous {
                    path: self.previous_path(),
                    dropped: s.dropped.clone(),
                },
                Source::Current | Source::Defaults => Fallback::Defaults,
            })
        };
        let problem = match &s.current {
            Some(unusable) => {
                // Moved, so that the next write does not make it the previous generation.
                let kept = self.keep_aside(&path, now, Aside::Move);
                Some(match unusable {
                    Unusable::Unreadable(error) => StateFileProblem::Unreadable {
                        path,
                        error: error.clone(),
                        kept,
                        fallback: fallback(),
                    },
                    Unusable::Decode(DecodeError::NewerSchema { found }) => {
                        StateFileProblem::NewerSchema {
                            path,
                            found: *found,
                            supported: SCHEMA,
                            kept,
                            fallback: fallback(),
                        }
                    }
                    Unusable::Decode(e) => StateFileProblem::Corrupt {
                        path,
                        error: e.to_string(),
                        kept,
                        fallback: fallback(),
                    },
                })
            }
            None if s.source == Source::Current && !s.dropped.is_empty() => {
                // The file stays (its good values must survive a crash before the next write).
                let kept = self.keep_aside(&path, now, Aside::Copy);
                Some(StateFileProblem::Dropped {
                    path,
                    dropped: s.dropped.clone(),
                    kept,
                })
            }
            None => None,
        };
        Loaded {
            from_previous: s.source == Source::Previous,
            restored: s.restored,
            on_disk: s.on_disk,
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
        self.keep_previous();
        fs::rename(&temp, self.path())?;
        File::open(&self.dir)?.sync_all()
    }

    /// Makes the current `state.json` the previous generation: a hard link under a temp name,
    /// renamed over `state.json.prev`. Metadata only (no data is written), and best effort: a
    /// file system without hard links keeps no previous generation, and the write goes on.
    /// `state.json.prev` is never missing once it exists (the rename replaces it atomically);
    /// a crash between the link and the rename leaves the temp link, removed here next time.
    fn keep_previous(&self) {
        let link = self.dir.join(PREVIOUS_TEMP_NAME);
        match fs::remove_file(&link) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(_) => return,
        }
        // No state.json (the first write, or after an unusable one was moved aside): the
        // previous generation stays what it is.
        if fs::hard_link(self.path(), &link).is_ok()
            && fs::rename(&link, self.previous_path()).is_err()
        {
            let _ = fs::remove_file(&link);
        }
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

/// A file as read: its bytes, missing, or the IO error.
enum Read {
    Missing,
    Failed(String),
    Bytes(Vec<u8>),
}

impl Read {
    fn generation(&self) -> Generation<'_> {
        match self {
            Read::Missing => Generation::Missing,
            Read::Failed(e) => Generation::Unreadable(e),
            Read::Bytes(b) => Generation::Bytes(b),
        }
    }
}

fn read(path: &Path) -> Read {
    match fs::read(path) {
        Ok(bytes) => Read::Bytes(bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Read::Missing,
        Err(e) => Read::Failed(e.to_string()),
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
