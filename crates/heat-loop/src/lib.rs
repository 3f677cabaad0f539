//! The control loop as a pure state machine, in the shape of rumqttc's `MqttState`: the
//! [`Machine`] decides everything, a thin driver (heat-controller's real-time loop, heat-sim's
//! simulated days, the benches) does the IO around it.
//!
//! Inputs: a sweep's [`heat_core::Readings`] ([`Machine::tick`]), commands
//! ([`Machine::command`]), relay read-backs ([`Machine::relays_done`]) and the time (a monotonic
//! [`heat_core::Timestamp`] passed into every call). Outputs: [`RelayCommand`]s (the safety hold
//! after a relay error included: [`SafeHold`]), the status to publish ([`Machine::status`], one
//! throttle: changed or heartbeat due) and typed [`LoopEvent`]s with stable kinds.
//!
//! Like heat-core it does no IO, reads no clock and starts no thread (a test checks its
//! dependency list and its source).
//!
//! - [`machine`]: [`Machine`], [`RelayCommand`], [`RelayReport`], [`SafeHold`], [`Throttle`];
//! - [`event`]: [`LoopEvent`] and its stable [`LoopEvent::kind`];
//! - [`StopReason`]: why a driver ended the loop.

pub mod event;
pub mod machine;

pub use event::LoopEvent;
pub use machine::{Machine, RelayCommand, RelayFailure, RelayReport, SafeHold, Throttle};

use std::fmt;

/// Why the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// A signal asked the process to stop (its name, e.g. `"SIGTERM"`).
    Signal(&'static str),
    /// Every sender of inputs is gone: nothing can command or stop the loop any more.
    InputsGone,
    /// The driver ran the number of ticks or the time it was asked to (heat-sim, benches).
    Finished,
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::Signal(name) => write!(f, "{name} received"),
            StopReason::InputsGone => f.write_str("every input is gone"),
            StopReason::Finished => f.write_str("the run is complete"),
        }
    }
}
