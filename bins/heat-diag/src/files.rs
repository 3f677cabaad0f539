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

/// Replaces `path` atomically (temp file in the same directory, then rename), mode `mode`.
pub(crate) fn replace(path: &Path, contents: &[u8], mode: u32) -> Result<(), WriteError> {
    let io = |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{:08x}", rand::random::<u32>()));
    write(&tmp, contents, mode, false)?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io(e)
    })
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
