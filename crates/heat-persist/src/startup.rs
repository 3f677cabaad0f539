//! Which generation of the file the controller starts from. Pure: the caller reads the files
//! (the daemon from its state directory, heat-sim from memory) and does what the answer asks
//! (keep an unusable `state.json` aside).
//!
//! Two generations are kept: `state.json`, the last write, and `state.json.prev`, the one before
//! it ([`crate::file`]). The start uses `state.json` when it decodes (values the configuration
//! refuses are dropped, as always). When it is unreadable, corrupt or of a newer schema, the
//! start falls back to `state.json.prev`, so that the counters go back by at most one write
//! rather than to zero; only when that is unusable too does it start from the defaults. A
//! missing `state.json` with a usable `state.json.prev` (a start that fell back, then stopped
//! before its first write) starts from `state.json.prev` as well: to start afresh, delete both.

use heat_core::Params;

use crate::problem::Dropped;
use crate::restore::{Restored, restore};
use crate::schema::{DecodeError, StateFile, decode};

/// One generation as the caller found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation<'a> {
    /// There is no such file.
    Missing,
    /// The file exists but reading it failed (the IO error).
    Unreadable(&'a str),
    /// The file's bytes.
    Bytes(&'a [u8]),
}

/// Why a generation could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    /// Reading it failed (the IO error).
    Unreadable(String),
    /// It is not a state file this version reads.
    Decode(DecodeError),
}

/// The generation a start uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `state.json`.
    Current,
    /// `state.json.prev`.
    Previous,
    /// Neither: the configuration's defaults.
    Defaults,
}

/// What the controller starts from, and what is wrong with the files.
#[derive(Debug, Clone, PartialEq)]
pub struct Start {
    /// What the controller starts from.
    pub restored: Restored,
    /// The generation it came from.
    pub source: Source,
    /// What `state.json` holds, when it decoded (the write policy's starting point).
    pub on_disk: Option<StateFile>,
    /// Why `state.json` was not used; the caller keeps it aside (the next write replaces it).
    pub current: Option<Unusable>,
    /// Why `state.json.prev` was not used, when the start needed it and it was there.
    pub previous: Option<Unusable>,
    /// The values of the generation used that were not restored.
    pub dropped: Vec<Dropped>,
}

/// Chooses the generation to start from under `config`.
pub fn start(config: &Params, current: Generation<'_>, previous: Generation<'_>) -> Start {
    let current_error = match usable(config, current) {
        Some(Ok(used)) => {
            return Start {
                restored: used.restored,
                source: Source::Current,
                on_disk: Some(used.state),
                current: None,
                previous: None,
                dropped: used.dropped,
            };
        }
        Some(Err(e)) => Some(e),
        None => None,
    };
    match usable(config, previous) {
        Some(Ok(used)) => Start {
            restored: used.restored,
            source: Source::Previous,
            on_disk: None,
            current: current_error,
            previous: None,
            dropped: used.dropped,
        },
        other => Start {
            restored: Restored::defaults(config),
            source: Source::Defaults,
            on_disk: None,
            current: current_error,
            previous: other.and_then(Result::err),
            dropped: Vec::new(),
        },
    }
}

/// A generation that decoded.
struct Used {
    restored: Restored,
    state: StateFile,
    dropped: Vec<Dropped>,
}

/// One generation restored under `config`, with its decoded content and every value dropped;
/// `None` when it is missing.
fn usable(config: &Params, generation: Generation<'_>) -> Option<Result<Used, Unusable>> {
    let bytes = match generation {
        Generation::Missing => return None,
        Generation::Unreadable(e) => return Some(Err(Unusable::Unreadable(e.to_owned()))),
        Generation::Bytes(bytes) => bytes,
    };
    let decoded = std::str::from_utf8(bytes)
        .map_err(|e| DecodeError::Syntax(format!("not UTF-8 text: {e}")))
        .and_then(decode);
    Some(match decoded {
        Ok(decoded) => {
            let mut restored = restore(config, &decoded.state);
            let mut dropped = decoded.dropped;
            dropped.append(&mut restored.dropped);
            Ok(Used {
                restored,
                state: decoded.state,
                dropped,
            })
        }
        Err(e) => Err(Unusable::Decode(e)),
    })
}

#[cfg(test)]
mod tests;
