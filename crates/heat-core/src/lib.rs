//! Pure control logic of the solar-heating plant (collector, tank, pump, auxiliary heater).
//!
//! Readings (a value or a fault per sensor) and the current time come in; relay commands, an
//! operating state and events come out. This crate does no IO, reads no clock, never sleeps or
//! spawns, and knows nothing of MQTT or GPIO; its only dependencies are `serde` and `thiserror`
//! (checked by a test). The rule priorities are documented in `docs/control.md`.
//!
//! - [`time`]: [`Timestamp`], the caller's monotonic time, and [`LocalTime`], its local time of
//!   day;
//! - [`sensor`]: [`Reading`], [`Readings`], [`SensorFault`] and validation;
//! - [`load`]: [`Load`], the pump and the heater;
//! - [`fluid`]: [`Fluid`], the collector-loop fluid, and its heat capacity for the heat meter;
//! - [`params`]: [`Parameter`], [`Limits`], [`RawParams`] → [`Params`], [`ParamError`];
//! - [`mode`]: [`Mode`], [`OperatingState`], [`Interlock`], [`Alarm`];
//! - [`disinfection`]: the thermal disinfection's schedule and runs;
//! - [`holiday`]: holiday mode's end date and the mode it returns to;
//! - [`controller`]: [`Controller`], [`Command`], [`Output`], [`Event`], [`Status`].

pub mod controller;
pub mod disinfection;
pub mod fluid;
pub mod holiday;
pub mod load;
pub mod mode;
pub mod params;
pub mod sensor;
pub mod time;

pub use controller::{
    Command, CommandError, CommandOutcome, Controller, DailyEnergy, Energy, Event, EventKind,
    Memory, Output, Pending, PendingSwitch, Runtime, Status,
};
pub use disinfection::{DisinfectionChange, DisinfectionStatus};
pub use fluid::{Fluid, UnknownFluid};
pub use holiday::{Holiday, HolidayChange};
pub use load::{Load, UnknownLoad};
pub use mode::{Alarm, Interlock, Mode, OperatingState, UnknownMode};
pub use params::{CrossRule, Limits, ParamError, Parameter, Params, RawParams, UnknownParameter};
pub use sensor::{Reading, Readings, Sensor, SensorFault, SensorStatus};
pub use std::time::Duration;
pub use time::{LocalTime, Timestamp, Weekday, civil_date, format_date};
