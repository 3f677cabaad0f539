//! Command parsing and validation, pure: a topic and a hostile payload in, a
//! [`heat_core::Command`] or a [`CommandRejection`] with a precise reason out.
//!
//! Rules, in the order they are checked:
//! 1. the topic must be one of the command topics (`<prefix>/<name>/set`);
//! 2. the payload must be at most [`MAX_PAYLOAD`] bytes and valid UTF-8;
//! 3. leading and trailing ASCII whitespace (space, tab, CR, LF) is trimmed — a trailing newline
//!    from `mosquitto_pub -f` or `echo` is harmless — and nothing else is normalised;
//! 4. the words are exact and case-sensitive: `auto`, `eco`, `manual`, `off` for the mode, `ON`
//!    and `OFF` for pump and heater (Home Assistant's `payload_on`/`payload_off`);
//! 5. a parameter value is a plain decimal: an optional `-`, 1 to 6 digits, optionally `.` and 1 to
//!    6 digits. No `+`, exponent, hex, `nan`, `inf`, separators or empty value;
//! 6. it must lie in the parameter's range and on its step (heat-core's [`Limits`]; the controller
//!    checks again, and also checks the rules between parameters);
//! 7. the holiday's end is a date `YYYY-MM-DD` that exists (a calendar check by jiff), or an
//!    empty payload, which clears it (Home Assistant's `text` sends an emptied field so).
//!
//! [`RateLimiter`] is a per-topic token bucket with the time passed in, so floods are refused too.

use std::{fmt, time::Duration};

use heat_core::{Command, Limits, Mode, Parameter};

use crate::topics::CommandTopic;

/// Largest payload accepted, in bytes.
pub const MAX_PAYLOAD: usize = 64;
/// At most this many characters of a payload appear in a log line or a reason.
pub const RENDER_CHARS: usize = 32;
/// Tolerance of the step check, the same as heat-core's.
const STEP_TOLERANCE: f64 = 1e-9;
/// Most digits accepted on each side of the decimal point.
const MAX_DIGITS: usize = 6;

/// Why a command was refused before it reached the controller.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandRejection {
    /// Not one of the command topics.
    #[error("unknown command topic")]
    UnknownTopic,
    /// The payload is longer than [`MAX_PAYLOAD`].
    #[error("payload is {len} bytes; at most {MAX_PAYLOAD} are accepted")]
    TooLarge {
        /// Its length.
        len: usize,
    },
    /// The payload is not UTF-8.
    #[error("payload is not UTF-8 (invalid byte at offset {offset})")]
    NotUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// The payload is empty (after trimming whitespace).
    #[error("payload is empty; expected {expected}")]
    Empty {
        /// What is accepted.
        expected: &'static str,
    },
    /// A word outside the vocabulary of the topic.
    #[error("unknown value {got}; expected {expected} (case-sensitive)")]
    UnknownWord {
        /// The payload, rendered for display.
        got: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// Not a date `YYYY-MM-DD` that exists.
    #[error("{got} is not a date YYYY-MM-DD such as 2026-12-20 (or empty, to clear it)")]
    NotADate {
        /// The payload, rendered for display.
        got: String,
    },
    /// Not a plain decimal number.
    #[error("{got} is not a plain decimal number such as 8 or -2.5 (no exponent, hex, nan or inf)")]
    NotANumber {
        /// The payload, rendered for display.
        got: String,
    },
    /// Outside the parameter's range.
    #[error("{parameter} = {value} is outside {min}..={max} {unit}")]
    OutOfRange {
        /// Which parameter.
        parameter: Parameter,
        /// The value sent.
        value: f64,
        /// Smallest accepted value.
        min: f64,
        /// Largest accepted value.
        max: f64,
        /// Unit.
        unit: &'static str,
    },
    /// In range but not `min + k·step`.
    #[error("{parameter} = {value} is not on the step of {step} {unit} from {min}")]
    OffStep {
        /// Which parameter.
        parameter: Parameter,
        /// The value sent.
        value: f64,
        /// Step.
        step: f64,
        /// Where the steps count from.
        min: f64,
        /// Unit.
        unit: &'static str,
    },
    /// Too many commands on this topic in a short time.
    #[error("too many commands on this topic; at most {burst} at once, then one every {every:?}")]
    RateLimited {
        /// Bucket size.
        burst: u32,
        /// Refill interval.
        every: Duration,
    },
}

/// Renders an untrusted payload for a log line or a reason: lossy UTF-8, at most
/// [`RENDER_CHARS`] characters, `{:?}`-escaped (quotes, control characters), with the total
/// length appended when truncated.
pub fn render_payload(payload: &[u8]) -> String {
    let text = String::from_utf8_lossy(payload);
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(RENDER_CHARS).collect();
    if chars.next().is_some() {
        format!("{head:?}… ({} bytes)", payload.len())
    } else {
        format!("{head:?}")
    }
}

const MODE_WORDS: &str = "auto, eco, manual, off or holiday";
const SWITCH_WORDS: &str = "ON or OFF";
const NUMBER_WORDS: &str = "a number";
const PRESS_WORDS: &str = "PRESS";
const DATE_WORDS: &str = "a date YYYY-MM-DD";

/// Parses and validates one command. Never panics, whatever the bytes.
pub fn parse(prefix: &str, topic: &str, payload: &[u8]) -> Result<Command, CommandRejection> {
    let which = CommandTopic::from_topic(prefix, topic).ok_or(CommandRejection::UnknownTopic)?;
    parse_for(which, payload)
}

/// [`parse`] for a topic already recognised.
pub fn parse_for(which: CommandTopic, payload: &[u8]) -> Result<Command, CommandRejection> {
    if payload.len() > MAX_PAYLOAD {
        return Err(CommandRejection::TooLarge { len: payload.len() });
    }
    let text = std::str::from_utf8(payload).map_err(|e| CommandRejection::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    let text = text.trim_matches([' ', '\t', '\r', '\n']);
    if which == CommandTopic::HolidayEnd {
        return holiday_end(text).map(Command::SetHolidayEnd);
    }
    let expected = match which {
        CommandTopic::Mode => MODE_WORDS,
        CommandTopic::Pump | CommandTopic::Heater => SWITCH_WORDS,
        CommandTopic::Parameter(_) => NUMBER_WORDS,
        CommandTopic::Disinfect => PRESS_WORDS,
        CommandTopic::HolidayEnd => DATE_WORDS,
    };
    if text.is_empty() {
        return Err(CommandRejection::Empty { expected });
    }
    let unknown = || CommandRejection::UnknownWord {
        got: render_payload(text.as_bytes()),
        expected,
    };
    match which {
        CommandTopic::Mode => text
            .parse::<Mode>()
            .map(Command::SetMode)
            .map_err(|_| unknown()),
        CommandTopic::Pump => switch(text).map(Command::SetPump).ok_or_else(unknown),
        CommandTopic::Heater => switch(text).map(Command::SetHeater).ok_or_else(unknown),
        CommandTopic::Disinfect => (text == "PRESS")
            .then_some(Command::StartDisinfection)
            .ok_or_else(unknown),
        CommandTopic::HolidayEnd => holiday_end(text).map(Command::SetHolidayEnd),
        CommandTopic::Parameter(p) => {
            let value = plain_decimal(text).ok_or_else(|| CommandRejection::NotANumber {
                got: render_payload(text.as_bytes()),
            })?;
            check_limits(p, value).map(|v| Command::SetParameter(p, v))
        }
    }
}

fn switch(text: &str) -> Option<bool> {
    match text {
        "ON" => Some(true),
        "OFF" => Some(false),
        _ => None,
    }
}

/// `YYYY-MM-DD` as a local day number (days since 1970-01-01, heat-core's `LocalTime::day`), or
/// `None` for an empty payload.
fn holiday_end(text: &str) -> Result<Option<i64>, CommandRejection> {
    if text.is_empty() {
        return Ok(None);
    }
    let not_a_date = || CommandRejection::NotADate {
        got: render_payload(text.as_bytes()),
    };
    // Exactly the ten characters; jiff alone would also take other ISO 8601 forms.
    let shape = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape {
        return Err(not_a_date());
    }
    let date: jiff::civil::Date = text.parse().map_err(|_| not_a_date())?;
    let epoch = jiff::civil::date(1970, 1, 1);
    let days = date
        .since((jiff::Unit::Day, epoch))
        .map_err(|_| not_a_date())?
        .get_days();
    Ok(Some(i64::from(days)))
}

/// `-?[0-9]{1,6}(\.[0-9]{1,6})?`, as an `f64`; `None` otherwise.
pub fn plain_decimal(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = match unsigned.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (unsigned, None),
    };
    let digits =
        |s: &str| !s.is_empty() && s.len() <= MAX_DIGITS && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !frac.is_none_or(digits) {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    // Digits only, so always finite; checked anyway.
    value
        .is_finite()
        .then_some(if value == 0.0 { 0.0 } else { value })
}

/// Checks `value` against the range and step of `p`.
pub fn check_limits(p: Parameter, value: f64) -> Result<f64, CommandRejection> {
    let Limits {
        min,
        max,
        step,
        unit,
    } = p.limits();
    if !value.is_finite() || value < min || value > max {
        return Err(CommandRejection::OutOfRange {
            parameter: p,
            value,
            min,
            max,
            unit,
        });
    }
    let k = ((value - min) / step).round();
    if (min + k * step - value).abs() > STEP_TOLERANCE {
        return Err(CommandRejection::OffStep {
            parameter: p,
            value,
            step,
            min,
            unit,
        });
    }
    Ok(value)
}

/// Token-bucket parameters of [`RateLimiter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Commands accepted at once on one topic.
    pub burst: u32,
    /// One more command is accepted per this interval.
    pub every: Duration,
}

impl Default for RateLimit {
    /// 5 at once, then one per second, per topic.
    fn default() -> Self {
        Self {
            burst: 5,
            every: Duration::from_secs(1),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Accumulated credit as of `at`: one token per `every`, at most `burst` tokens.
    credit: Duration,
    at: Duration,
    /// Commands refused since the bucket last had a token.
    refused: u32,
}

/// What [`RateLimiter::check`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Go ahead.
    Allow,
    /// Refused; `first` is true for the first refusal of a flood (answer that one, count the
    /// rest), and `refused` counts the refusals of this flood so far.
    Refuse {
        /// The first refusal since the topic last had a token.
        first: bool,
        /// Refusals of this flood so far, this one included.
        refused: u32,
    },
}

/// A per-topic token bucket; pure, the time is passed in as a [`Duration`] since any fixed start.
/// A time earlier than the previous one counts as no time passing.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    limit: RateLimit,
    buckets: Vec<Option<Bucket>>,
}

impl RateLimiter {
    /// Full buckets for every command topic.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: vec![None; CommandTopic::count()],
        }
    }

    /// The parameters in use.
    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Takes a token for `which` at `now`, or refuses.
    pub fn check(&mut self, which: CommandTopic, now: Duration) -> RateDecision {
        let every = self.limit.every;
        let full = every.saturating_mul(self.limit.burst);
        let Some(slot) = self.buckets.get_mut(which.index()) else {
            return RateDecision::Allow;
        };
        let bucket = slot.get_or_insert(Bucket {
            credit: full,
            at: now,
            refused: 0,
        });
        let elapsed = now.saturating_sub(bucket.at);
        bucket.at = bucket.at.max(now);
        bucket.credit = bucket.credit.saturating_add(elapsed).min(full);
        // A zero interval means no limit; a zero burst refuses everything.
        if every.is_zero() && self.limit.burst > 0 {
            return RateDecision::Allow;
        }
        if !every.is_zero() && bucket.credit >= every {
            bucket.credit -= every;
            bucket.refused = 0;
            RateDecision::Allow
        } else {
            bucket.refused = bucket.refused.saturating_add(1);
            RateDecision::Refuse {
                first: bucket.refused == 1,
                refused: bucket.refused,
            }
        }
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at once, then one every {:?}", self.burst, self.every)
    }
}

#[cfg(test)]
mod tests;
