//! The lock file: an exclusive `flock`-style lock ([`File::try_lock`]) held for the life of the
//! process, with the pid written into the file for humans. Two controllers, or heat-diag's
//! relay command, never drive the same relays at once. The kernel releases the lock when the
//! process ends, however it ends.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Taking the lock failed.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it.
    #[error(
        "{} is locked by another process{}: another heat-controller (or heat-diag relay) is \
         driving the relays; stop it first",
        path.display(),
        pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
    )]
    Held {
        /// The lock file.
        path: PathBuf,
        /// The pid written in the file, if readable.
        pid: Option<u32>,
    },
    /// The file could not be created, opened, locked or written.
    #[error(
        "cannot take the lock file {}: {source}; create its directory with write access for \
         this user (systemd: RuntimeDirectory=heat-controller) or set controller.lock_file",
        path.display()
    )]
    Io {
        /// The lock file.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
}

/// The held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct LockFile {
    file: File,
    path: PathBuf,
}

impl LockFile {
    /// Creates `path` (and its directory) if needed and takes the exclusive lock without waiting.
    pub fn acquire(path: &Path) -> Result<Self, LockError> {
        let io_err = |source| LockError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io_err)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io_err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Held {
                    path: path.to_owned(),
                    pid: read_pid(&mut file),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io_err(e)),
        }
        file.set_len(0).map_err(io_err)?;
        file.seek(SeekFrom::Start(0)).map_err(io_err)?;
        writeln!(file, "{}", std::process::id()).map_err(io_err)?;
        file.flush().map_err(io_err)?;
        Ok(Self {
            file,
            path: path.to_owned(),
        })
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Releases the lock now (dropping does the same).
    pub fn release(self) {
        if let Err(e) = self.file.unlock() {
            log::debug!("unlocking {}: {e}", self.path.display());
        }
    }
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests;
