//! The MQTT topics of the controller, derived from one validated prefix.
//!
//! State and command topics live under `<prefix>/`; Home Assistant's discovery configs live under
//! a separate discovery prefix. [`Topics::new`] refuses a prefix inside the discovery prefix (the
//! original system's mistake) and anything that is not a plain topic path.

use heat_core::Parameter;

/// The default topic prefix.
pub const DEFAULT_PREFIX: &str = "solar_heating";
/// Home Assistant's default discovery prefix.
pub const DEFAULT_DISCOVERY_PREFIX: &str = "homeassistant";
/// Longest accepted prefix, in bytes.
pub const MAX_PREFIX_LEN: usize = 64;

/// `online`, the retained availability payload while the session is up.
pub const ONLINE: &str = "online";
/// `offline`, the retained availability payload (and last will) when it is not.
pub const OFFLINE: &str = "offline";

/// Why a topic prefix was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopicError {
    /// The prefix is empty.
    #[error("{what} is empty; use e.g. \"{DEFAULT_PREFIX}\"")]
    Empty {
        /// Which prefix.
        what: &'static str,
    },
    /// The prefix is longer than [`MAX_PREFIX_LEN`].
    #[error("{what} is {len} bytes long; use at most {MAX_PREFIX_LEN}")]
    TooLong {
        /// Which prefix.
        what: &'static str,
        /// Its length.
        len: usize,
    },
    /// A character outside `A-Z a-z 0-9 _ -` and the level separator `/`.
    #[error("{what} contains {bad:?}; use only letters, digits, '_', '-' and '/' between levels")]
    BadChar {
        /// Which prefix.
        what: &'static str,
        /// The offending character.
        bad: char,
    },
    /// An empty level: leading, trailing or doubled `/`.
    #[error("{what} has an empty level (leading, trailing or doubled '/')")]
    EmptyLevel {
        /// Which prefix.
        what: &'static str,
    },
    /// The state/command prefix lies inside the discovery prefix (or the other way round).
    #[error(
        "topic prefix {prefix:?} overlaps the discovery prefix {discovery:?}; keep state and \
         command topics outside Home Assistant's discovery prefix"
    )]
    InsideDiscovery {
        /// The state/command prefix.
        prefix: String,
        /// The discovery prefix.
        discovery: String,
    },
}

fn validate(what: &'static str, prefix: &str) -> Result<(), TopicError> {
    if prefix.is_empty() {
        return Err(TopicError::Empty { what });
    }
    if prefix.len() > MAX_PREFIX_LEN {
        return Err(TopicError::TooLong {
            what,
            len: prefix.len(),
        });
    }
    if let Some(bad) = prefix
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/')))
    {
        return Err(TopicError::BadChar { what, bad });
    }
    if prefix.split('/').any(str::is_empty) {
        return Err(TopicError::EmptyLevel { what });
    }
    Ok(())
}

fn overlaps(a: &str, b: &str) -> bool {
    let inside = |x: &str, y: &str| x == y || x.starts_with(&format!("{y}/"));
    inside(a, b) || inside(b, a)
}

/// Which command a command topic carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandTopic {
    /// `<prefix>/mode/set`.
    Mode,
    /// `<prefix>/pump/set`.
    Pump,
    /// `<prefix>/heater/set`.
    Heater,
    /// `<prefix>/<parameter>/set`.
    Parameter(Parameter),
    /// `<prefix>/disinfect/set`: start a thermal disinfection now (`PRESS`, Home Assistant's
    /// button payload).
    Disinfect,
    /// `<prefix>/holiday_end/set`: the local date holiday mode ends on (`YYYY-MM-DD`, empty to
    /// clear).
    HolidayEnd,
}

impl CommandTopic {
    /// Every command topic, in a stable order.
    pub fn all() -> impl Iterator<Item = CommandTopic> {
        [CommandTopic::Mode, CommandTopic::Pump, CommandTopic::Heater]
            .into_iter()
            .chain(Parameter::ALL.into_iter().map(CommandTopic::Parameter))
            .chain([CommandTopic::Disinfect, CommandTopic::HolidayEnd])
    }

    /// The level between the prefix and `/set`: `mode`, `pump`, `heater`, a parameter name,
    /// `disinfect` or `holiday_end`.
    pub fn name(self) -> &'static str {
        match self {
            CommandTopic::Mode => "mode",
            CommandTopic::Pump => "pump",
            CommandTopic::Heater => "heater",
            CommandTopic::Parameter(p) => p.name(),
            CommandTopic::Disinfect => "disinfect",
            CommandTopic::HolidayEnd => "holiday_end",
        }
    }

    /// A dense index `0..count()`, for per-topic tables.
    pub fn index(self) -> usize {
        match self {
            CommandTopic::Mode => 0,
            CommandTopic::Pump => 1,
            CommandTopic::Heater => 2,
            CommandTopic::Parameter(p) => 3 + p.index(),
            CommandTopic::Disinfect => 3 + Parameter::ALL.len(),
            CommandTopic::HolidayEnd => 4 + Parameter::ALL.len(),
        }
    }

    /// How many command topics exist.
    pub const fn count() -> usize {
        5 + Parameter::ALL.len()
    }

    /// Recognises `<prefix>/<name>/set`; `None` for any other topic.
    pub fn from_topic(prefix: &str, topic: &str) -> Option<CommandTopic> {
        let rest = topic.strip_prefix(prefix)?.strip_prefix('/')?;
        let name = rest.strip_suffix("/set")?;
        CommandTopic::all().find(|c| c.name() == name)
    }
}

/// Every topic of the session, from a validated prefix and discovery prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    prefix: String,
    discovery_prefix: String,
}

impl Topics {
    /// Validates both prefixes and that neither lies inside the other.
    pub fn new(prefix: &str, discovery_prefix: &str) -> Result<Self, TopicError> {
        validate("topic prefix", prefix)?;
        validate("discovery prefix", discovery_prefix)?;
        if overlaps(prefix, discovery_prefix) {
            return Err(TopicError::InsideDiscovery {
                prefix: prefix.to_owned(),
                discovery: discovery_prefix.to_owned(),
            });
        }
        Ok(Self {
            prefix: prefix.to_owned(),
            discovery_prefix: discovery_prefix.to_owned(),
        })
    }

    /// The state/command prefix, e.g. `solar_heating`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Home Assistant's node id for this controller: the prefix with `/` (not allowed in ids)
    /// as `_`. heat-diag's ACL grants exactly `<discovery_prefix>/+/<node_id>/#` from it.
    pub fn node_id(&self) -> String {
        self.prefix.replace('/', "_")
    }

    /// The discovery prefix, e.g. `homeassistant`.
    pub fn discovery_prefix(&self) -> &str {
        &self.discovery_prefix
    }

    /// `<prefix>/availability`: `online`/`offline`, retained, QoS 1; also the last will.
    pub fn availability(&self) -> String {
        format!("{}/availability", self.prefix)
    }

    /// `<prefix>/state`: the retained JSON snapshot, QoS 1.
    pub fn state(&self) -> String {
        format!("{}/state", self.prefix)
    }

    /// `<prefix>/result`: the answer to every command, not retained.
    pub fn result(&self) -> String {
        format!("{}/result", self.prefix)
    }

    /// `<prefix>/<name>/set` for one command topic.
    pub fn command(&self, which: CommandTopic) -> String {
        format!("{}/{}/set", self.prefix, which.name())
    }

    /// Every command topic, in [`CommandTopic::all`] order.
    pub fn commands(&self) -> Vec<String> {
        CommandTopic::all().map(|c| self.command(c)).collect()
    }

    /// `<prefix>/+/set`: the subscription that covers every command topic (and unknown ones,
    /// which are answered as such).
    pub fn command_filter(&self) -> String {
        format!("{}/+/set", self.prefix)
    }

    /// `<discovery_prefix>/status`: Home Assistant's own availability (`online` on its start).
    pub fn ha_status(&self) -> String {
        format!("{}/status", self.discovery_prefix)
    }
}

impl Default for Topics {
    fn default() -> Self {
        Self {
            prefix: DEFAULT_PREFIX.to_owned(),
            discovery_prefix: DEFAULT_DISCOVERY_PREFIX.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests;
