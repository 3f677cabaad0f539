//! Files that hold secrets: the password file and the client private key.
//!
//! Like ssh, refuse a secret file that group or others can access. The check uses the
//! permission bits, so it holds even for root, who could read anything anyway.

use std::{fs, io::Read, path::Path};

use secrecy::SecretString;
use zeroize::Zeroizing;

/// Largest password file read: the MQTT limit plus a trailing `\r\n`.
const MAX_PASSWORD_FILE_LEN: u64 = mqtt_auth::credentials::MAX_FIELD_LEN as u64 + 2;

/// Why a secret file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileProblem {
    /// No such file.
    Missing,
    /// Exists but cannot be used; the reason never holds the contents.
    Unreadable(String),
    /// Group or others have some access; the permission bits.
    TooOpen(u32),
}

/// Opens `path` and checks it is a private regular file, without reading it.
pub(crate) fn check_private(path: &Path) -> Result<fs::File, FileProblem> {
    let file = fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => FileProblem::Missing,
        _ => FileProblem::Unreadable(e.to_string()),
    })?;
    let meta = file
        .metadata()
        .map_err(|e| FileProblem::Unreadable(e.to_string()))?;
    if !meta.is_file() {
        return Err(FileProblem::Unreadable(
            "it is not a regular file".to_owned(),
        ));
    }
    check_mode(&meta)?;
    Ok(file)
}

#[cfg(unix)]
fn check_mode(meta: &fs::Metadata) -> Result<(), FileProblem> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(FileProblem::TooOpen(mode));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_meta: &fs::Metadata) -> Result<(), FileProblem> {
    Ok(())
}

/// Reads a password file: private, UTF-8, at most one trailing `\n` or `\r\n` removed and nothing
/// else. The read buffer is wiped once the secret holds its own copy.
pub(crate) fn read_password(
    path: &Path,
    require_private: bool,
) -> Result<SecretString, FileProblem> {
    let mut file = if require_private {
        check_private(path)?
    } else {
        fs::File::open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => FileProblem::Missing,
            _ => FileProblem::Unreadable(e.to_string()),
        })?
    };
    let len = file
        .metadata()
        .map_err(|e| FileProblem::Unreadable(e.to_string()))?
        .len();
    if len > MAX_PASSWORD_FILE_LEN {
        return Err(FileProblem::Unreadable(format!(
            "it has {len} bytes, more than an MQTT password can hold"
        )));
    }
    // Room for the whole file up front, so the buffer is never reallocated (which would leave
    // an unwiped copy behind).
    let len = usize::try_from(len).map_err(|_| {
        FileProblem::Unreadable(format!(
            "it has {len} bytes, more than this machine can address"
        ))
    })?;
    let mut buf = Zeroizing::new(Vec::with_capacity(len.saturating_add(64)));
    (&mut file)
        .take(MAX_PASSWORD_FILE_LEN)
        .read_to_end(&mut buf)
        .map_err(|e| FileProblem::Unreadable(e.to_string()))?;
    password_from_bytes(&buf)
}

/// The password in `bytes`, without one trailing `\n` or `\r\n`.
pub(crate) fn password_from_bytes(bytes: &[u8]) -> Result<SecretString, FileProblem> {
    let body = bytes
        .strip_suffix(b"\r\n")
        .or_else(|| bytes.strip_suffix(b"\n"))
        .unwrap_or(bytes);
    let text = std::str::from_utf8(body)
        .map_err(|_| FileProblem::Unreadable("it is not UTF-8 text".to_owned()))?;
    Ok(SecretString::from(text))
}
