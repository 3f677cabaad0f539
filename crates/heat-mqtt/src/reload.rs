//! Credentials read again while the session runs: on SIGHUP ([`ReloadTrigger`]) and when the
//! password file changes ([`FileStamp`], compared at the session's wakes while it is refused;
//! a cheap `stat`, no inotify).
//!
//! The session does not know where credentials come from: the binary hands it a
//! [`CredentialSource`] that reads them the way it did at start. A failed reload keeps the old
//! credentials.

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, SystemTime},
};

use mqtt_auth::Credentials;

/// How often, at most, the password file is looked at while the broker refuses the session.
pub const FILE_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// Where the session gets fresh credentials.
pub trait CredentialSource: Send + Sync {
    /// The file the password was read from (`MQTT_PASSWORD_FILE` or the systemd credential),
    /// watched for changes; `None` when the password came from a variable.
    fn watched_file(&self) -> Option<PathBuf>;

    /// Reads the credentials again from the same sources as at start. The error is the whole
    /// line for the log: what failed, the file, and the fix. It never holds the password.
    fn load(&self) -> Result<Credentials, String>;
}

/// A [`CredentialSource`] shared with the session; `Debug` shows only the watched file.
#[derive(Clone)]
pub struct Reloader(pub(crate) Arc<dyn CredentialSource>);

impl Reloader {
    /// Wraps `source`.
    pub fn new(source: impl CredentialSource + 'static) -> Self {
        Self(Arc::new(source))
    }
}

impl fmt::Debug for Reloader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reloader")
            .field("watched_file", &self.0.watched_file())
            .finish()
    }
}

/// What asked for a reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// SIGHUP (`systemctl reload`).
    Signal,
    /// The watched password file changed.
    FileChanged,
}

impl Trigger {
    /// The name in [`heat_state::LinkEvent`]s: `sighup`, `file_changed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Trigger::Signal => "sighup",
            Trigger::FileChanged => "file_changed",
        }
    }
}

/// Asks a running session to reload its credentials; cheap, never waits, callable from a
/// signal thread.
#[derive(Debug, Clone)]
pub struct ReloadTrigger {
    pub(crate) flag: Arc<AtomicBool>,
    pub(crate) wake: crossbeam_channel::Sender<()>,
}

impl ReloadTrigger {
    /// The session reloads at its next wake, which this causes.
    pub fn request(&self) {
        self.flag.store(true, Ordering::SeqCst);
        let _ = self.wake.try_send(());
    }
}

/// What a `stat` of the password file tells apart: a rewrite (size, mtime), a replacement
/// (inode, as an atomic rename or systemd's new credential gives), or its absence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStamp {
    /// No such file, or it cannot be looked at.
    Absent,
    /// The file's identity and version.
    Present {
        /// Inode number (0 where the platform has none).
        inode: u64,
        /// Length in bytes.
        size: u64,
        /// Last modification.
        modified: Option<SystemTime>,
    },
}

impl FileStamp {
    /// Looks at `path` (metadata only, never its contents).
    pub fn of(path: &Path) -> Self {
        match std::fs::metadata(path) {
            Ok(meta) => FileStamp::Present {
                inode: inode(&meta),
                size: meta.len(),
                modified: meta.modified().ok(),
            },
            Err(_) => FileStamp::Absent,
        }
    }
}

#[cfg(unix)]
fn inode(meta: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(meta)
}

#[cfg(not(unix))]
fn inode(_meta: &std::fs::Metadata) -> u64 {
    0
}

#[cfg(test)]
mod tests;
