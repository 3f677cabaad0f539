//! File access for the w1 backend, behind a trait so tests and benchmarks inject fakes.

use std::io;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// The few file operations the w1 backend needs.
pub trait W1Fs {
    /// Names of the entries of `dir`.
    fn list_dir(&mut self, dir: &Path) -> io::Result<Vec<String>>;
    /// Whether `path` exists.
    fn exists(&mut self, path: &Path) -> bool;
    /// Reads the whole file, giving up with [`io::ErrorKind::TimedOut`] after `timeout`.
    fn read(&mut self, path: &Path, timeout: Duration) -> io::Result<Vec<u8>>;
    /// Writes `contents` to an existing attribute file.
    fn write(&mut self, path: &Path, contents: &str) -> io::Result<()>;
}

/// The real filesystem.
///
/// Reads run on a helper thread so a read the kernel never completes (a wedged bus, a sysfs
/// attribute that blocks forever) becomes a timeout. Such a thread stays blocked in the kernel
/// until the read returns; that leak is the price of not hanging the control loop.
#[derive(Debug, Default, Clone, Copy)]
pub struct StdFs;

impl W1Fs for StdFs {
    fn list_dir(&mut self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    fn exists(&mut self, path: &Path) -> bool {
        path.exists()
    }

    fn read(&mut self, path: &Path, timeout: Duration) -> io::Result<Vec<u8>> {
        let (tx, rx) = mpsc::channel();
        let owned = path.to_path_buf();
        std::thread::Builder::new()
            .name("w1-read".into())
            .spawn(move || {
                // The receiver may have given up already; nothing to do then.
                let _ = tx.send(std::fs::read(owned));
            })?;
        match rx.recv_timeout(timeout) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("read of {} timed out after {timeout:?}", path.display()),
            )),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(io::Error::other("w1 read thread ended without a result"))
            }
        }
    }

    fn write(&mut self, path: &Path, contents: &str) -> io::Result<()> {
        // Attribute files exist already; never create one by accident.
        let mut file = std::fs::OpenOptions::new().write(true).open(path)?;
        io::Write::write_all(&mut file, contents.as_bytes())
    }
}
