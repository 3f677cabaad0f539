//! Time as plain data: the caller owns the clocks and passes them into every call. [`Timestamp`]
//! is monotonic (minimum times, counters, freshness); [`LocalTime`] is the local civil time of
//! day, for the clock-based functions, and only when the caller's wall clock is plausible.

use std::ops::Add;
use std::time::Duration;

use serde::Serialize;

/// A monotonic instant, in milliseconds since an arbitrary origin chosen by the caller.
///
/// heat-core never reads a clock; tests and the service pass timestamps explicitly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The instant `millis` milliseconds after the origin.
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// The instant `secs` seconds after the origin (saturating).
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs.saturating_mul(1000))
    }

    /// Milliseconds since the origin.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Time elapsed from `earlier` to `self`, or zero if `earlier` is later
    /// (a clock that went backwards must not make anything switch early).
    pub fn saturating_duration_since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Timestamp {
    type Output = Timestamp;

    /// Saturates at `u64::MAX` milliseconds instead of overflowing.
    fn add(self, rhs: Duration) -> Timestamp {
        let ms = u64::try_from(rhs.as_millis()).unwrap_or(u64::MAX);
        Timestamp(self.0.saturating_add(ms))
    }
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

/// Local civil time: the local date as a day number and the minute since local midnight, in
/// the service's time zone. Like `now`, an input: heat-core never reads a wall clock or a time
/// zone. Across a DST change the minute of the day jumps (02:00 → 03:00 in spring, 03:00 →
/// 02:00 in autumn), as a wall clock does; the caller passes what the wall clock says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct LocalTime {
    day: i64,
    minute: u16,
}

impl LocalTime {
    /// Minutes in a day.
    pub const MINUTES_PER_DAY: u16 = 1440;

    /// `day` days after 1970-01-01 (the local date), `minute_of_day` minutes after local
    /// midnight; `None` when the minute is not below [`LocalTime::MINUTES_PER_DAY`].
    pub const fn new(day: i64, minute_of_day: u16) -> Option<Self> {
        if minute_of_day < Self::MINUTES_PER_DAY {
            Some(Self {
                day,
                minute: minute_of_day,
            })
        } else {
            None
        }
    }

    /// The local time `local_seconds` seconds after 1970-01-01 00:00 local time (a Unix time
    /// plus the zone's UTC offset at that instant).
    pub const fn from_local_seconds(local_seconds: i64) -> Self {
        let minute = local_seconds.rem_euclid(86_400) / 60;
        Self {
            day: local_seconds.div_euclid(86_400),
            // Below 1440 by the line above.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            minute: minute as u16,
        }
    }

    /// The local time at `unix_seconds` in a zone whose UTC offset is then `utc_offset_seconds`
    /// (east positive: +3600 for CET, +7200 for CEST).
    pub const fn from_unix(unix_seconds: i64, utc_offset_seconds: i32) -> Self {
        Self::from_local_seconds(unix_seconds.saturating_add(utc_offset_seconds as i64))
    }

    /// Days since 1970-01-01, the local date.
    pub const fn day(self) -> i64 {
        self.day
    }

    /// Minutes since local midnight, `0..1440`.
    pub const fn minute_of_day(self) -> u16 {
        self.minute
    }

    /// The day of the week (1970-01-01 was a Thursday).
    pub const fn weekday(self) -> Weekday {
        match (self.day + 3).rem_euclid(7) {
            0 => Weekday::Monday,
            1 => Weekday::Tuesday,
            2 => Weekday::Wednesday,
            3 => Weekday::Thursday,
            4 => Weekday::Friday,
            5 => Weekday::Saturday,
            _ => Weekday::Sunday,
        }
    }
}

/// A local day (days since 1970-01-01) as (year, month 1–12, day 1–31): Howard Hinnant's
/// `civil_from_days`.
pub const fn civil_date(day: i64) -> (i64, u32, u32) {
    // Saturating: a day number from a state file may be anything.
    let z = day.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    // d is in 1..=31 and m in 1..=12 by construction.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    (y, m as u32, d as u32)
}

/// A local day as `YYYY-MM-DD`.
pub fn format_date(day: i64) -> String {
    let (y, m, d) = civil_date(day);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests;
