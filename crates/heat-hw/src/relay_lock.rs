//! Who drives the relays: an exclusive `flock` ([`File::try_lock`]) on the controller's lock file
//! (`[controller] lock_file`), with the holder's pid written in the file for humans.
//!
//! heat-controller holds it while it runs; `heat-diag relay` refuses while it is held and holds
//! it itself while it switches a relay. Two processes thus never drive the same relays at once.
//! The kernel releases the lock when the process ends, however it ends.

use std::{
    fmt,
    fs::{self, File, OpenOptions, TryLockError},
    io::{self, Read, Seek, Write},
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
};

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum RelayLockError {
    /// Another process holds it.
    #[error(
        "{} is held by {}: heat-controller (or `heat-diag relay`) is driving the relays; stop it \
         first (systemctl stop heat-controller)",
        path.display(),
        Holder(*pid)
    )]
    Held {
        /// The lock file.
        path: PathBuf,
        /// The pid written in it, if it holds one.
        pid: Option<u32>,
    },
    /// The file could not be created, opened, locked or written.
    #[error(
        "cannot lock {}: {source}; create its directory with write access for this user \
         (systemd: RuntimeDirectory=heat-controller) or set controller.lock_file",
        path.display()
    )]
    Io {
        /// The lock file.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
}

struct Holder(Option<u32>);

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(pid) => write!(f, "pid {pid}"),
            None => f.write_str("another process (no pid in the file)"),
        }
    }
}

/// The held lock; released, and the pid cleared, when dropped.
#[derive(Debug)]
pub struct RelayLock {
    file: File,
    path: PathBuf,
}

impl RelayLock {
    /// Creates `path` (and its directory) if needed, takes the exclusive lock without waiting
    /// and writes this process's pid into it.
    pub fn acquire(path: &Path) -> Result<Self, RelayLockError> {
        let io_err = |source| RelayLockError::Io {
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
            .mode(0o644)
            .open(path)
            .map_err(io_err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(RelayLockError::Held {
                    path: path.to_owned(),
                    pid: read_pid(&mut file),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io_err(e)),
        }
        file.set_len(0).map_err(io_err)?;
        file.rewind().map_err(io_err)?;
        writeln!(file, "{}", std::process::id()).map_err(io_err)?;
        Ok(Self {
            file,
            path: path.to_owned(),
        })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Releases the lock now; dropping it does the same.
    pub fn release(self) {}
}

impl Drop for RelayLock {
    fn drop(&mut self) {
        // Best effort: a stale pid would only mislead a reader; the lock itself ends on close.
        let _ = self.file.set_len(0);
    }
}

/// The pid in a lock file's first line, if it is one.
pub fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.take(64).read_to_string(&mut text).ok()?;
    text.lines().next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests;
