//! The loop's two clocks. [`LoopClock`]: heat-core's monotonic [`Timestamp`], milliseconds
//! since the loop started, multiplied by the time scale under `--simulate` (1 on real hardware);
//! minimum times and counters run on it. [`WallClock`]: the local time of day for the
//! clock-based functions, from the system time and time zone, and only while it is plausible.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use heat_core::{LocalTime, Timestamp};
use jiff::tz::TimeZone;
use log::{info, warn};

/// A monotonic clock for heat-core, optionally running faster than real time.
#[derive(Debug, Clone, Copy)]
pub struct LoopClock {
    start: Instant,
    scale: f64,
}

impl LoopClock {
    /// A clock at zero now, advancing `scale` simulated seconds per real second (at least 1).
    pub fn new(scale: f64) -> Self {
        Self::starting_at(Instant::now(), scale)
    }

    /// A clock at zero at `start`.
    pub fn starting_at(start: Instant, scale: f64) -> Self {
        let scale = if scale.is_finite() && scale >= 1.0 {
            scale
        } else {
            1.0
        };
        Self { start, scale }
    }

    /// The instant the clock reads zero.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// The scale.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The timestamp at `at` (zero before the start: the clock never goes backwards).
    pub fn at(&self, at: Instant) -> Timestamp {
        let real = at.saturating_duration_since(self.start);
        let millis = (real.as_secs_f64() * self.scale * 1000.0).floor();
        // `as` saturates at u64::MAX for huge values and maps NaN to 0; neither can panic.
        Timestamp::from_millis(millis as u64)
    }

    /// The timestamp now.
    pub fn now(&self) -> Timestamp {
        self.at(Instant::now())
    }

    /// Real time that corresponds to `simulated` time.
    pub fn real(&self, simulated: Duration) -> Duration {
        simulated.div_f64(self.scale)
    }
}

/// Where systemd-timesyncd says the clock has been synchronised (systemd ≥ 239).
pub const TIMESYNC_MARKER: &str = "/run/systemd/timesync/synchronized";

/// The local time of day, or `None` while the wall clock is not plausible.
///
/// A Raspberry Pi has no RTC: it boots at the last saved time (or 1970) and jumps when NTP
/// answers. Until then a window would open at the wrong hour, so the clock-based functions
/// wait: the time is plausible once it is at or after `plausible_after` (the build's commit
/// time), or once timesyncd reports a synchronisation.
#[derive(Debug)]
pub struct WallClock {
    zone: TimeZone,
    source: WallSource,
    plausible_after: jiff::Timestamp,
    synced_marker: Option<PathBuf>,
    /// The last plausibility seen, to log changes once.
    plausible: Option<bool>,
}

/// Where the wall time comes from.
#[derive(Debug, Clone, Copy)]
enum WallSource {
    /// The system clock (it may jump when NTP sets it; the loop reads it again each step).
    System,
    /// `--simulate` at a time scale above 1: the wall time at the loop's start, advancing
    /// `scale` seconds per real second, so that simulated days have their nights.
    Scaled {
        start: Instant,
        wall_start: jiff::Timestamp,
        scale: f64,
    },
}

impl WallClock {
    /// The system's clock and zone (`/etc/localtime`, or `TZ`), running as fast as `loop_clock`.
    pub fn system(loop_clock: &LoopClock) -> Self {
        let zone = TimeZone::try_system().unwrap_or_else(|e| {
            warn!("time zone: {e}; using UTC (set it with `timedatectl set-timezone ZONE`)");
            TimeZone::UTC
        });
        let source = if loop_clock.scale() > 1.0 {
            WallSource::Scaled {
                start: loop_clock.start(),
                wall_start: jiff::Timestamp::now(),
                scale: loop_clock.scale(),
            }
        } else {
            WallSource::System
        };
        let after = i64::try_from(build_version::built_after()).unwrap_or(i64::MAX);
        let plausible_after = jiff::Timestamp::from_second(after).unwrap_or(jiff::Timestamp::MAX);
        let clock = Self {
            zone,
            source,
            plausible_after,
            synced_marker: Some(PathBuf::from(TIMESYNC_MARKER)),
            plausible: None,
        };
        info!(
            "time zone {}; the clock counts as set from {} or once timesyncd has synchronised",
            clock.zone_name(),
            clock.plausible_after
        );
        clock
    }

    /// A clock in `zone` that starts at `wall_start` at `start` and advances `scale` seconds
    /// per real second, plausible from `plausible_after`; no timesync marker (for tests).
    pub fn scaled(
        zone: TimeZone,
        start: Instant,
        wall_start: jiff::Timestamp,
        scale: f64,
        plausible_after: jiff::Timestamp,
    ) -> Self {
        Self {
            zone,
            source: WallSource::Scaled {
                start,
                wall_start,
                scale,
            },
            plausible_after,
            synced_marker: None,
            plausible: None,
        }
    }

    /// The zone's IANA name, or its description when it has none.
    pub fn zone_name(&self) -> String {
        self.zone
            .iana_name()
            .map_or_else(|| format!("{:?}", self.zone), str::to_owned)
    }

    /// The wall time at `at`.
    pub fn wall(&self, at: Instant) -> jiff::Timestamp {
        match self.source {
            WallSource::System => jiff::Timestamp::now(),
            WallSource::Scaled {
                start,
                wall_start,
                scale,
            } => {
                let real = at.saturating_duration_since(start).as_secs_f64() * scale;
                jiff::SignedDuration::try_from_secs_f64(real)
                    .ok()
                    .and_then(|d| wall_start.checked_add(d).ok())
                    .unwrap_or(jiff::Timestamp::MAX)
            }
        }
    }

    /// The local time at `at`, or `None` while the wall clock is not plausible. Logs when that
    /// changes.
    pub fn local(&mut self, at: Instant) -> Option<LocalTime> {
        let wall = self.wall(at);
        let plausible =
            wall >= self.plausible_after || self.synced_marker.as_ref().is_some_and(|m| m.exists());
        if self.plausible != Some(plausible) {
            if plausible {
                info!(
                    "clock set: {} local; heater time windows in force",
                    wall.to_zoned(self.zone.clone())
                        .strftime("%Y-%m-%d %H:%M %Z")
                );
            } else {
                warn!(
                    "clock not set ({wall} is before {}, and timesyncd has not synchronised): \
                     the heater runs as if its time windows were 00:00-24:00 until it is",
                    self.plausible_after
                );
            }
            self.plausible = Some(plausible);
        }
        plausible
            .then(|| LocalTime::from_unix(wall.as_second(), self.zone.to_offset(wall).seconds()))
    }
}

#[cfg(test)]
mod tests;
