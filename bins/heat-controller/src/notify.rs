//! Notifications to systemd's service manager (sd_notify(3)), for `Type=notify` with
//! `WatchdogSec=`: `READY=1` once the first control tick has driven the relays, `WATCHDOG=1` from
//! the control loop's own thread, `STOPPING=1` at shutdown.
//!
//! Not under systemd (no `NOTIFY_SOCKET`) every notice is a no-op: no error, no log line. The loop
//! only sees the [`Notifier`] trait, so its tests record the notices instead.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use log::{debug, warn};
use sd_notify::NotifyState;

/// What the loop tells the service manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// `READY=1`: startup is over, the relays are driven by the control logic.
    Ready,
    /// `WATCHDOG=1`: the control loop is alive.
    Watchdog,
    /// `STOPPING=1`: shutdown began.
    Stopping,
}

/// Where notices go: systemd, or a recorder in tests. Never blocks.
pub trait Notifier {
    /// Sends `notice`; failures are the notifier's to report.
    fn notify(&self, notice: Notice);
    /// How often the loop must send [`Notice::Watchdog`] (real time), or None when no watchdog
    /// is armed.
    fn watchdog_interval(&self) -> Option<Duration>;
}

/// Sends nothing: no service manager, no watchdog.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Notifier for Silent {
    fn notify(&self, _: Notice) {}

    fn watchdog_interval(&self) -> Option<Duration> {
        None
    }
}

/// systemd's notify socket from the environment (`NOTIFY_SOCKET`, `WATCHDOG_USEC`,
/// `WATCHDOG_PID`).
#[derive(Debug)]
pub struct Systemd {
    socket: bool,
    watchdog: Option<Duration>,
    failed_once: AtomicBool,
}

impl Systemd {
    /// Reads the environment once. The watchdog interval is half of `WATCHDOG_USEC`, as
    /// sd_watchdog_enabled(3) advises, and only when a socket exists to ping.
    pub fn from_env() -> Self {
        let socket = std::env::var_os("NOTIFY_SOCKET").is_some_and(|s| !s.is_empty());
        let watchdog = sd_notify::watchdog_enabled()
            .filter(|usec| socket && !usec.is_zero())
            .map(|usec| usec / 2);
        Self {
            socket,
            watchdog,
            failed_once: AtomicBool::new(false),
        }
    }

    /// Whether a notify socket was given.
    pub fn active(&self) -> bool {
        self.socket
    }
}

impl Notifier for Systemd {
    fn notify(&self, notice: Notice) {
        if !self.socket {
            return;
        }
        let state = match notice {
            Notice::Ready => NotifyState::Ready,
            Notice::Watchdog => NotifyState::Watchdog,
            Notice::Stopping => NotifyState::Stopping,
        };
        if let Err(e) = sd_notify::notify(&[state]) {
            // Once at warn: a broken socket must not fill the journal every tick.
            if self.failed_once.swap(true, Ordering::Relaxed) {
                debug!("systemd notify {notice:?}: {e}");
            } else {
                warn!(
                    "systemd notify {notice:?} failed: {e} (NOTIFY_SOCKET); further failures at debug"
                );
            }
        }
    }

    fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog
    }
}
