//! Why the state file could not be used or written: [`StateFileProblem`], the reason behind the
//! `state_file` alarm. Each `Display` names the file, what the controller does instead, and the
//! fix, so one log line is the whole warning.

use std::fmt;
use std::path::PathBuf;

use heat_core::{ParamError, Parameter};
use thiserror::Error;

/// A value from the file that was not restored.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum Dropped {
    /// A mode this version does not know (the controller starts in auto).
    #[error("mode {name:?} (not a mode of this version)")]
    Mode {
        /// The name in the file.
        name: String,
    },
    /// A parameter name this version does not know.
    #[error("{name} = {value} (not a parameter of this version)")]
    UnknownParameter {
        /// The name in the file.
        name: String,
        /// Its value.
        value: f64,
    },
    /// A parameter that heat-core's validation refuses under the current configuration (its
    /// range or step, or a rule against the other values).
    #[error("{parameter} = {value} ({error})")]
    Parameter {
        /// The parameter.
        parameter: Parameter,
        /// The refused value.
        value: f64,
        /// Why.
        error: ParamError,
    },
    /// A counter that is not a total (negative, or a count that is not whole); it starts
    /// again at zero.
    #[error("counter {name} = {value} is not a total (negative or not whole); it restarts at 0")]
    Counter {
        /// The counter.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// The last disinfection's day is not a day number; the next start window runs one.
    #[error(
        "last_disinfection_day = {value} is not a day number; the next start window disinfects"
    )]
    LastDisinfection {
        /// Its value.
        value: f64,
    },
    /// The holiday's end date is not a day number; holiday mode runs until changed.
    #[error("holiday end_day = {value} is not a day number; holiday mode runs until changed")]
    HolidayEnd {
        /// Its value.
        value: f64,
    },
}

/// Whether the bad file was kept aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// Moved or copied to this path.
    As(PathBuf),
    /// Keeping it failed (the error), so it will be overwritten by the next write.
    Failed(String),
}

impl fmt::Display for Kept {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kept::As(path) => write!(f, "kept as {}", path.display()),
            Kept::Failed(e) => write!(f, "could not be kept aside ({e})"),
        }
    }
}

/// What the controller starts from when `state.json` is unusable.
#[derive(Debug, Clone, PartialEq)]
pub enum Fallback {
    /// The previous generation, `state.json.prev`: one write older, so the counters lost are at
    /// most what one persist interval (or one command) added.
    Previous {
        /// The file used.
        path: PathBuf,
        /// Its values that were not restored.
        dropped: Vec<Dropped>,
    },
    /// The configured mode and parameters, with the counters at zero: `state.json.prev` is
    /// missing or unusable too.
    Defaults,
}

impl fmt::Display for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fallback::Previous { path, dropped } if dropped.is_empty() => write!(
                f,
                "The controller continues from the previous generation {} (one write older)",
                path.display()
            ),
            Fallback::Previous { path, dropped } => write!(
                f,
                "The controller continues from the previous generation {} (one write older), \
                 without {}",
                path.display(),
                list(dropped)
            ),
            Fallback::Defaults => write!(
                f,
                "The controller runs on the configured mode and parameters, with the counters \
                 at zero"
            ),
        }
    }
}

/// Why the state file could not be used or written. While one is active the service shows the
/// `state_file` alarm; the next good write clears it.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum StateFileProblem {
    /// The file exists but reading it failed (permissions, an IO error).
    #[error(
        "state file {} cannot be read ({error}); it was {kept}. {fallback}. Fix: check the \
         disk and that the state directory belongs to the service user; then check the mode \
         and parameters in Home Assistant and set them again where they differ",
        path.display()
    )]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The IO error.
        error: String,
        /// Where it went.
        kept: Kept,
        /// What the controller starts from instead (boxed: a problem is rare, its size is not).
        fallback: Box<Fallback>,
    },
    /// The file is not a state file: truncated, not JSON, or a field of the wrong type.
    #[error(
        "state file {} is corrupt ({error}); it was {kept}. {fallback}. Fix: check the mode \
         and parameters in Home Assistant and set them again where they differ (the next write \
         replaces the file)",
        path.display()
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column.
        error: String,
        /// Where it went.
        kept: Kept,
        /// What the controller starts from instead (boxed: a problem is rare, its size is not).
        fallback: Box<Fallback>,
    },
    /// Written by a later version of heat-controller.
    #[error(
        "state file {} has schema {found}, newer than {supported}, the newest this version of \
         heat-controller reads (it was written by a later version); it was {kept}. \
         {fallback}. Fix: upgrade heat-controller again, or check the mode and parameters in \
         Home Assistant and set them again where they differ",
        path.display()
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// Its schema.
        found: u32,
        /// This version's schema.
        supported: u32,
        /// Where it went.
        kept: Kept,
        /// What the controller starts from instead (boxed: a problem is rare, its size is not).
        fallback: Box<Fallback>,
    },
    /// The file was read, but some of its values were not restored.
    #[error(
        "state file {}: not restored: {}; a copy was {kept}. Everything else was restored. \
         Fix: set these again from Home Assistant within the ranges it shows, or change \
         [control] in heat.toml so that they fit",
        path.display(),
        list(dropped)
    )]
    Dropped {
        /// The file.
        path: PathBuf,
        /// The values left out.
        dropped: Vec<Dropped>,
        /// Where the copy went.
        kept: Kept,
    },
    /// Writing the file failed: what changed since the last good write will not survive a
    /// restart.
    #[error(
        "state file {} cannot be written ({error}); mode, parameters and counters changed \
         since the last good write will not survive a restart. Fix: check that {} exists, \
         belongs to the service user and has free space (the systemd unit creates it with \
         StateDirectory=)",
        path.display(),
        dir.display()
    )]
    WriteFailed {
        /// The file.
        path: PathBuf,
        /// Its directory.
        dir: PathBuf,
        /// The IO or encoding error.
        error: String,
    },
}

fn list(dropped: &[Dropped]) -> String {
    dropped
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl StateFileProblem {
    /// A stable name for the kind of problem (`unreadable`, `corrupt`, `newer_schema`,
    /// `dropped`, `write_failed`), for events and tests.
    pub const fn kind(&self) -> &'static str {
        match self {
            StateFileProblem::Unreadable { .. } => "unreadable",
            StateFileProblem::Corrupt { .. } => "corrupt",
            StateFileProblem::NewerSchema { .. } => "newer_schema",
            StateFileProblem::Dropped { .. } => "dropped",
            StateFileProblem::WriteFailed { .. } => "write_failed",
        }
    }

    /// What the controller started from instead of an unusable file (`None` for the other
    /// problems).
    pub fn fallback(&self) -> Option<&Fallback> {
        match self {
            StateFileProblem::Unreadable { fallback, .. }
            | StateFileProblem::Corrupt { fallback, .. }
            | StateFileProblem::NewerSchema { fallback, .. } => Some(fallback.as_ref()),
            StateFileProblem::Dropped { .. } | StateFileProblem::WriteFailed { .. } => None,
        }
    }

    /// Where the bad file went, for the problems found on reading.
    pub fn kept(&self) -> Option<&Kept> {
        match self {
            StateFileProblem::Unreadable { kept, .. }
            | StateFileProblem::Corrupt { kept, .. }
            | StateFileProblem::NewerSchema { kept, .. }
            | StateFileProblem::Dropped { kept, .. } => Some(kept),
            StateFileProblem::WriteFailed { .. } => None,
        }
    }
}
