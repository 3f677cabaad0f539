//! [`Sources`]: everything the loader reads from outside, gathered in one value.
//!
//! Tests build one by hand (an env map and a temporary working directory); the binary calls
//! [`Sources::from_process`]. The loader never reads the process environment itself.

use std::{
    collections::{BTreeMap, BTreeSet},
    env, fmt,
    path::{Path, PathBuf},
};

use zeroize::Zeroizing;

/// The inputs of [`crate::Settings::load`]: environment variables, the working directory (where
/// `.env` is looked for and relative paths start) and the `--config` path, if any.
///
/// Values are wiped from memory when the `Sources` is dropped, since one of them may be the
/// password. `Debug` shows variable names only.
#[derive(Clone)]
pub struct Sources {
    env: BTreeMap<String, Zeroizing<String>>,
    not_unicode: BTreeSet<String>,
    working_dir: PathBuf,
    config_path: Option<PathBuf>,
}

impl Sources {
    /// No variables, the given working directory, no `--config`.
    pub fn new(working_dir: impl Into<PathBuf>) -> Self {
        Self {
            env: BTreeMap::new(),
            not_unicode: BTreeSet::new(),
            working_dir: working_dir.into(),
            config_path: None,
        }
    }

    /// The real process: its environment, its current directory and `config_path` (the value of
    /// `--config`, if given).
    ///
    /// A variable whose name or value is not UTF-8 is remembered by name only, so that reading
    /// it is an error rather than a silent absence.
    pub fn from_process(config_path: Option<PathBuf>) -> Self {
        let working_dir = env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let mut sources = Self::new(working_dir);
        sources.config_path = config_path;
        for (name, value) in env::vars_os() {
            let Some(name) = name.to_str().map(str::to_owned) else {
                continue;
            };
            match value.into_string() {
                Ok(value) => {
                    sources.env.insert(name, Zeroizing::new(value));
                }
                Err(_) => {
                    sources.not_unicode.insert(name);
                }
            }
        }
        sources
    }

    /// Sets one variable, as if it were in the process environment.
    pub fn with_var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.not_unicode.remove(&name);
        self.env.insert(name, Zeroizing::new(value.into()));
        self
    }

    /// Marks a variable as set to a value that is not UTF-8.
    pub fn with_non_unicode_var(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.env.remove(&name);
        self.not_unicode.insert(name);
        self
    }

    /// Sets the `--config` path.
    pub fn with_config_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.config_path = Some(path.into());
        self
    }

    /// The working directory.
    pub fn working_dir(&self) -> &Path {
        &self.working_dir
    }

    /// The `--config` path, if any.
    pub fn config_path(&self) -> Option<&Path> {
        self.config_path.as_deref()
    }

    /// The name of every variable set, UTF-8 or not.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.env
            .keys()
            .chain(self.not_unicode.iter())
            .map(String::as_str)
    }

    /// A variable: `Ok(None)` when unset, `Err(())` when set but not UTF-8.
    pub(crate) fn var(&self, name: &str) -> Result<Option<&str>, ()> {
        if self.not_unicode.contains(name) {
            return Err(());
        }
        Ok(self.env.get(name).map(|v| v.as_str()))
    }
}

impl fmt::Debug for Sources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sources")
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("not_unicode", &self.not_unicode)
            .field("working_dir", &self.working_dir)
            .field("config_path", &self.config_path)
            .finish()
    }
}
