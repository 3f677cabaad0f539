//! Writing files with a fixed mode, refusing to overwrite unless asked, and checking modes.

use std::{
    fs::{self, OpenOptions},
    io::{self, Write},
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
};

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WriteError {
    /// The file exists and overwriting was not allowed.
    #[error("refusing to overwrite {0}: it exists; pass --force to replace it")]
    Exists(PathBuf),
    /// Any other IO failure.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: io::Error,
    },
}

/// Writes `contents` to `path` with `mode` (also when the file existed with a looser mode).
pub(crate) fn write(
    path: &Path,
    contents: &[u8],
    mode: u32,
    force: bool,
) -> Result<(), WriteError> {
    let io = |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut options = OpenOptions::new();
    options.write(true).mode(mode);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            WriteError::Exists(path.to_path_buf())
        } else {
            io(e)
        }
    })?;
    file.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(io)?;
    file.write_all(contents).map_err(io)?;
    file.sync_all().map_err(io)
}

/// Replaces `path` atomically and durably, keeping its owner, group and mode.
///
/// A temp file in the same directory gets the original's owner and group (`fchown`) and mode
/// (`fchmod`) before any content is written, then the content, `fsync`, `rename` over the
/// original and an `fsync` of the directory. A reader (Mosquitto on SIGHUP, running as its own
/// user) sees the old file or the new one, never a partial one or one it may not open. A file
/// that does not exist yet is created with `new_mode`, owned by the caller. A symbolic link is
/// followed: its target is replaced. Returns the mode the file now has.
pub(crate) fn replace(path: &Path, contents: &[u8], new_mode: u32) -> Result<u32, WriteError> {
    use std::os::unix::fs::MetadataExt;
    let io = |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    };
    let (target, keep) = match fs::canonicalize(path) {
        Ok(target) => {
            let meta = fs::metadata(&target).map_err(io)?;
            if !meta.is_file() {
                return Err(io(io::Error::other("it is not a regular file")));
            }
            (target, Some((meta.uid(), meta.gid(), meta.mode() & 0o7777)))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => (path.to_path_buf(), None),
        Err(e) => return Err(io(e)),
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = target.with_file_name(format!(".{name}.tmp-{:08x}", rand::random::<u32>()));
    let written = (|| -> io::Result<u32> {
        // Private until its owner and mode are those of the original.
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        let mode = match keep {
            Some((uid, gid, mode)) => {
                std::os::unix::fs::fchown(&file, Some(uid), Some(gid))?;
                mode
            }
            None => new_mode,
        };
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, &target)?;
        Ok(mode)
    })();
    let mode = written.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io(e)
    })?;
    // The rename is only durable once the directory entry is.
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty());
    fs::File::open(dir.unwrap_or(Path::new(".")))
        .and_then(|d| d.sync_all())
        .map_err(io)?;
    Ok(mode)
}

/// Creates `dir` (and parents) and sets its mode.
pub(crate) fn dir(dir: &Path, mode: u32) -> Result<(), WriteError> {
    let io = |source| WriteError::Io {
        path: dir.to_path_buf(),
        source,
    };
    fs::create_dir_all(dir).map_err(io)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(mode)).map_err(io)
}

/// The permission bits group and others have on `path` (`Ok(0)` is private).
pub(crate) fn loose_bits(path: &Path) -> io::Result<u32> {
    Ok(fs::metadata(path)?.permissions().mode() & 0o077)
}

#[cfg(test)]
mod tests;
