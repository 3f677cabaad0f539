//! Mosquitto `$7$` password lines and password files.
//!
//! A line is `user:$7$<iterations>$<base64 12-byte salt>$<base64 64-byte hash>`, the hash being
//! PBKDF2-HMAC-SHA512 of the password. Mosquitto 2.0 silently drops a line whose salt is not 12
//! bytes or whose hash is not 64 bytes, so [`PasswordLine::parse`] refuses such lines instead of
//! letting a user vanish from the broker. `mosquitto_passwd` defaults to 101 iterations, which a
//! GPU tries billions of times a day; [`DEFAULT_ITERATIONS`] is a thousand times that.

use std::fmt;

use openssl::{base64, hash::MessageDigest, memcmp, pkcs5::pbkdf2_hmac, rand::rand_bytes};
use secrecy::{ExposeSecret, SecretString};

use crate::Error;

/// Salt length Mosquitto accepts.
pub const SALT_LEN: usize = 12;
/// Hash length Mosquitto accepts (SHA-512).
pub const HASH_LEN: usize = 64;
/// Default PBKDF2 iterations: 100 000, about 1000 times `mosquitto_passwd`'s 101.
///
/// The broker pays this once per CONNECT with a known username; at this count that is tens of
/// milliseconds on a small board, which a house with a few clients does not notice.
pub const DEFAULT_ITERATIONS: u32 = 100_000;
/// The largest iteration count this crate hashes or verifies (a line with more is refused rather
/// than letting one crafted line burn minutes of CPU).
pub const MAX_ITERATIONS: u32 = 10_000_000;

/// Why a password line was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// No `:` between username and hash.
    #[error("no ':' between username and hash")]
    NoSeparator,
    /// The username is empty or holds whitespace or control characters.
    #[error("invalid username")]
    Username,
    /// The hash is not of type `$7$` (PBKDF2-HMAC-SHA512); `$6$` lines are single-round SHA-512.
    #[error("hash type is not $7$ (PBKDF2-HMAC-SHA512); rehash the password with this tool")]
    HashType,
    /// The `$7$` hash does not have the four fields `$7$iterations$salt$hash`.
    #[error("malformed $7$ hash: expected $7$<iterations>$<salt>$<hash>")]
    Fields,
    /// The iteration count is not a number in `1..=MAX_ITERATIONS`.
    #[error("iteration count is not a number in 1..={MAX_ITERATIONS}")]
    Iterations,
    /// Salt or hash is not valid base64.
    #[error("{0} is not valid base64")]
    Base64(&'static str),
    /// The salt is not [`SALT_LEN`] bytes: Mosquitto would drop the line.
    #[error("salt is {0} bytes, Mosquitto only accepts {SALT_LEN}")]
    SaltLength(usize),
    /// The hash is not [`HASH_LEN`] bytes: Mosquitto would drop the line.
    #[error("hash is {0} bytes, Mosquitto only accepts {HASH_LEN}")]
    HashLength(usize),
}

/// One parsed `$7$` line. `Debug` shows the user and iterations, never salt or hash.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordLine {
    user: String,
    iterations: u32,
    salt: [u8; SALT_LEN],
    hash: [u8; HASH_LEN],
}

impl fmt::Debug for PasswordLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordLine")
            .field("user", &self.user)
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for PasswordLine {
    /// The line as Mosquitto reads it, without a newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:$7${}${}${}",
            self.user,
            self.iterations,
            base64::encode_block(&self.salt),
            base64::encode_block(&self.hash)
        )
    }
}

/// True for a name Mosquitto can store and `mosquitto_passwd` would accept.
pub fn valid_username(user: &str) -> bool {
    !user.is_empty()
        && user.len() <= 65_535
        && !user
            .chars()
            .any(|c| c == ':' || c.is_whitespace() || c.is_control())
}

fn pbkdf2(
    password: &SecretString,
    salt: &[u8],
    iterations: u32,
) -> Result<zeroize::Zeroizing<[u8; HASH_LEN]>, Error> {
    let mut hash = zeroize::Zeroizing::new([0u8; HASH_LEN]);
    pbkdf2_hmac(
        password.expose_secret().as_bytes(),
        salt,
        iterations as usize,
        MessageDigest::sha512(),
        hash.as_mut_slice(),
    )?;
    Ok(hash)
}

impl PasswordLine {
    /// Hashes `password` for `user` with a fresh 12-byte salt from OpenSSL's random source.
    pub fn hash(user: &str, password: &SecretString, iterations: u32) -> Result<Self, Error> {
        if !valid_username(user) {
            return Err(Error::Username(user.chars().take(64).collect()));
        }
        if iterations == 0 || iterations > MAX_ITERATIONS {
            return Err(Error::Iterations(iterations));
        }
        let mut salt = [0u8; SALT_LEN];
        rand_bytes(&mut salt)?;
        let hash = pbkdf2(password, &salt, iterations)?;
        Ok(Self {
            user: user.to_owned(),
            iterations,
            salt,
            hash: *hash,
        })
    }

    /// Parses one line (a trailing newline or `\r` is ignored). Refuses anything Mosquitto
    /// would drop or that is not `$7$`.
    pub fn parse(line: &str) -> Result<Self, ParseError> {
        let line = line.trim_end_matches(['\n', '\r']);
        let (user, hash) = line.split_once(':').ok_or(ParseError::NoSeparator)?;
        if !valid_username(user) {
            return Err(ParseError::Username);
        }
        let rest = hash.strip_prefix("$7$").ok_or(ParseError::HashType)?;
        let fields: Vec<&str> = rest.split('$').collect();
        let [iterations, salt, hash] = fields.as_slice() else {
            return Err(ParseError::Fields);
        };
        let iterations: u32 = iterations.parse().map_err(|_| ParseError::Iterations)?;
        if iterations == 0 || iterations > MAX_ITERATIONS {
            return Err(ParseError::Iterations);
        }
        let salt = base64::decode_block(salt).map_err(|_| ParseError::Base64("salt"))?;
        let hash = base64::decode_block(hash).map_err(|_| ParseError::Base64("hash"))?;
        let salt: [u8; SALT_LEN] = salt
            .as_slice()
            .try_into()
            .map_err(|_| ParseError::SaltLength(salt.len()))?;
        let hash: [u8; HASH_LEN] = hash
            .as_slice()
            .try_into()
            .map_err(|_| ParseError::HashLength(hash.len()))?;
        Ok(Self {
            user: user.to_owned(),
            iterations,
            salt,
            hash,
        })
    }

    /// The username.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The PBKDF2 iteration count.
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// True when `password` matches; the comparison is constant-time.
    pub fn verify(&self, password: &SecretString) -> Result<bool, Error> {
        let computed = pbkdf2(password, &self.salt, self.iterations)?;
        Ok(memcmp::eq(computed.as_slice(), &self.hash))
    }
}

/// One line `user:$7$...` (no newline) for `password`, with a fresh random salt.
pub fn hash_line(user: &str, password: &SecretString, iterations: u32) -> Result<String, Error> {
    Ok(PasswordLine::hash(user, password, iterations)?.to_string())
}

/// Does `password` match the `$7$` line? `Err` when the line is not one Mosquitto would use.
pub fn verify_line(line: &str, password: &SecretString) -> Result<bool, ParseError> {
    let parsed = PasswordLine::parse(line)?;
    // PBKDF2 only fails for parameters `parse` already refused.
    Ok(parsed.verify(password).unwrap_or(false))
}

/// What [`PasswdFile::set`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The user was not in the file and was appended.
    Added,
    /// The user's line was replaced in place.
    Rotated,
}

/// Why a password file was refused: the 1-based line number and what is wrong with that line
/// (never the line's text, which holds a hash).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct FileError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub reason: ParseError,
}

/// A password file being edited. Every line other than the edited user's is kept byte for byte.
///
/// Only lines Mosquitto 2.0 reads the same way are accepted: blank lines, comments (`#` in the
/// first column, as Mosquitto skips them), `$7$` lines that [`PasswordLine::parse`] accepts and
/// well-formed `$6$` lines (salted SHA-512, which older `mosquitto_passwd` wrote and the broker
/// still accepts; rotating such a user writes `$7$`). Anything else is refused by
/// [`PasswdFile::parse`] rather than kept: the broker would drop it, and with it a user.
#[derive(Clone, Default)]
pub struct PasswdFile {
    lines: Vec<String>,
}

impl fmt::Debug for PasswdFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswdFile")
            .field("users", &self.users())
            .finish()
    }
}

/// True for a line Mosquitto skips: empty, only whitespace, or `#` in the first column.
fn is_skipped(line: &str) -> bool {
    line.trim().is_empty() || line.starts_with('#')
}

fn line_user(line: &str) -> Option<&str> {
    if is_skipped(line) {
        return None;
    }
    let user = line.split_once(':').map_or(line, |(u, _)| u);
    let user = user.trim_end_matches(['\n', '\r']);
    (!user.is_empty()).then_some(user)
}

/// Checks one line the way the broker will read it.
fn check_line(line: &str) -> Result<(), ParseError> {
    if is_skipped(line) {
        return Ok(());
    }
    match PasswordLine::parse(line) {
        Err(ParseError::HashType) if is_sha512_line(line) => Ok(()),
        other => other.map(|_| ()),
    }
}

/// `user:$6$<base64 salt>$<base64 64-byte hash>`.
fn is_sha512_line(line: &str) -> bool {
    let line = line.trim_end_matches(['\n', '\r']);
    let Some((user, hash)) = line.split_once(':') else {
        return false;
    };
    let Some(rest) = hash.strip_prefix("$6$") else {
        return false;
    };
    let Some((salt, hash)) = rest.split_once('$') else {
        return false;
    };
    valid_username(user)
        && base64::decode_block(salt).is_ok_and(|s| !s.is_empty())
        && base64::decode_block(hash).is_ok_and(|h| h.len() == HASH_LEN)
}

impl PasswdFile {
    /// An empty file.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads a file's text. Refuses the first line that is neither blank, a comment, nor a
    /// password line Mosquitto would use, naming its number and why.
    pub fn parse(text: &str) -> Result<Self, FileError> {
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        for (i, line) in lines.iter().enumerate() {
            check_line(line).map_err(|reason| FileError {
                line: i + 1,
                reason,
            })?;
        }
        Ok(Self { lines })
    }

    /// Users named in the file, in order.
    pub fn users(&self) -> Vec<&str> {
        self.lines.iter().filter_map(|l| line_user(l)).collect()
    }

    /// The line of `user`, parsed (`None` when absent, `Some(Err)` when unusable).
    pub fn get(&self, user: &str) -> Option<Result<PasswordLine, ParseError>> {
        self.lines
            .iter()
            .find(|l| line_user(l) == Some(user))
            .map(|l| PasswordLine::parse(l))
    }

    /// Adds `line`'s user or replaces its line where it stands; later duplicates of that user
    /// are removed. Other lines are untouched.
    pub fn set(&mut self, line: &PasswordLine) -> Change {
        let text = line.to_string();
        let mut change = Change::Added;
        let mut kept = Vec::with_capacity(self.lines.len() + 1);
        for existing in self.lines.drain(..) {
            if line_user(&existing) == Some(line.user()) {
                if change == Change::Added {
                    kept.push(text.clone());
                    change = Change::Rotated;
                }
            } else {
                kept.push(existing);
            }
        }
        if change == Change::Added {
            kept.push(text);
        }
        self.lines = kept;
        change
    }

    /// Removes `user`; true when it was there.
    pub fn remove(&mut self, user: &str) -> bool {
        let before = self.lines.len();
        self.lines.retain(|l| line_user(l) != Some(user));
        self.lines.len() != before
    }

    /// The file's text, one line each, ending with a newline.
    pub fn to_text(&self) -> String {
        let mut text = self.lines.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        text
    }
}

#[cfg(test)]
mod tests;
