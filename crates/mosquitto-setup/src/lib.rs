//! Mosquitto setup, reusable by any service (no `heat-*` dependency).
//!
//! - [`passwd`]: Mosquitto `$7$` password lines (PBKDF2-HMAC-SHA512) — hash, parse, verify — and a
//!   password-file editor that refuses lines the broker would drop, adds or rotates one user and
//!   leaves every other line alone;
//! - [`conf`]: a hardened `mosquitto.conf` and a least-privilege ACL, as text;
//! - [`pki`]: a private CA that issues server and client certificates (PEM in memory).
//!
//! Nothing here does file IO: callers decide where text goes and with which mode.

pub mod conf;
pub mod passwd;
pub mod pki;

pub use conf::{
    Access, AclUser, BlockRule, BrokerConfig, Grant, Merged, PlainListener, ServiceTopics,
    TlsListener, acl_block, acl_text, addon_acl_conf_text, conf_d_text, config_text,
    home_assistant_acl, merge_acl,
};
pub use passwd::{
    Change, DEFAULT_ITERATIONS, FileError, HASH_LEN, MAX_ITERATIONS, ParseError, PasswdFile,
    PasswordLine, SALT_LEN, hash_line, verify_line,
};
pub use pki::{Ca, Issued, Validity};

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A password line could not be parsed (see [`passwd::ParseError`]).
    #[error(transparent)]
    Parse(#[from] passwd::ParseError),
    /// A username Mosquitto cannot store in a password file (empty, `:`, whitespace, control).
    #[error(
        "invalid username {0:?}: use a non-empty name without ':', whitespace or control characters"
    )]
    Username(String),
    /// Iterations below 1 or above what PBKDF2 accepts here.
    #[error("invalid iteration count {0}: use 1 ..= 10000000 (at least 10000 in production)")]
    Iterations(u32),
    /// OpenSSL failed (random source, PBKDF2).
    #[error("OpenSSL failed: {0}")]
    OpenSsl(#[from] openssl::error::ErrorStack),
    /// A config path is relative; Mosquitto resolves relative paths against its working dir.
    #[error("path {0:?} is not absolute")]
    NotAbsolute(std::path::PathBuf),
    /// A config value is empty, has surrounding spaces, or holds a line break or control character.
    #[error("value {0:?} is empty or holds spaces at its ends or control characters")]
    Value(String),
    /// A topic prefix or node id that is not a plain topic path (letters, digits, `_`, `-`,
    /// and `/` between levels of a prefix), so a grant built from it could reach other topics.
    #[error(
        "topic part {0:?} is not a plain topic path: use letters, digits, '_' and '-' (and '/' between the levels of a prefix)"
    )]
    Topic(String),
    /// An existing ACL file cannot be merged with a user's block.
    #[error("the existing ACL has, on line {line}, {reason}")]
    AclConflict {
        /// 1-based line number in the existing file.
        line: usize,
        /// What is wrong there.
        reason: &'static str,
    },
    /// Certificate generation failed.
    #[error("certificate generation failed: {0}")]
    Certificate(#[from] rcgen::Error),
}
