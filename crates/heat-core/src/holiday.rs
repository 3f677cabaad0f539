//! Holiday mode's memory: when it ends and what it returns to.
//!
//! The end date is a local day, set by command in any mode (so it can be set before or after
//! selecting holiday). At local midnight starting that day, seen on a plausible clock, holiday
//! mode returns to the mode it was entered from, so the tank is reheated for the day of
//! return. A clock set back never ends it; without a plausible clock it runs on. Leaving
//! holiday mode by command, or the date passing outside it, clears the date, so an old date
//! can never end a later holiday at once.

use serde::{Deserialize, Serialize};

use crate::mode::Mode;
use crate::time::{LocalTime, format_date};

/// The holiday's end date and the mode it returns to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Holiday {
    /// The local day holiday mode ends on (days since 1970-01-01); `None`: until the mode is
    /// changed.
    pub end_day: Option<i64>,
    /// The mode holiday returns to: the one it was entered from (auto before the first).
    pub return_to: Mode,
}

/// A change worth an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolidayChange {
    /// The end date was set, or cleared (`None`), by command.
    EndSet {
        /// The new end date, a local day.
        end_day: Option<i64>,
    },
    /// The end date came: the mode returned.
    Ended {
        /// The mode returned to.
        back_to: Mode,
    },
    /// The end date passed outside holiday mode and was cleared.
    Expired {
        /// The date that passed.
        end_day: i64,
    },
}

impl HolidayChange {
    /// The event's reason.
    pub fn reason(self) -> String {
        match self {
            HolidayChange::EndSet { end_day: Some(day) } => {
                format!("holiday end set to {} by command", format_date(day))
            }
            HolidayChange::EndSet { end_day: None } => "holiday end cleared by command".to_owned(),
            HolidayChange::Ended { back_to } => format!("holiday over: back to {back_to}"),
            HolidayChange::Expired { end_day } => format!(
                "holiday end {} passed outside holiday mode: cleared",
                format_date(end_day)
            ),
        }
    }
}

impl Holiday {
    /// The mode changes from `from` to `to` by command.
    pub(crate) fn mode_changed(&mut self, from: Mode, to: Mode) {
        if to == Mode::Holiday && from != Mode::Holiday {
            self.return_to = from;
        } else if from == Mode::Holiday && to != Mode::Holiday {
            self.end_day = None;
        }
    }

    /// One step in `mode` at `local`: the change the date makes, if any. `Ended` asks the
    /// caller to switch to `back_to`.
    pub(crate) fn step(&mut self, mode: Mode, local: Option<LocalTime>) -> Option<HolidayChange> {
        let today = local?.day();
        let end_day = self.end_day.filter(|&end| today >= end)?;
        self.end_day = None;
        Some(if mode == Mode::Holiday {
            HolidayChange::Ended {
                back_to: self.return_to,
            }
        } else {
            HolidayChange::Expired { end_day }
        })
    }
}
