//! What happened in the plant, as typed events with stable kinds: heat-core's events (switches,
//! interlocks, mode and parameter changes), command verdicts, relay failures, the safety hold
//! and simulated faults. A driver logs each as one JSON object per line on one log target
//! (heat-controller uses `heat::event`), so tools count them by [`LoopEvent::kind`] instead of
//! matching log text.

use heat_core::{EventKind, Interlock, Mode, OperatingState, Parameter};
use serde::{Deserialize, Serialize};

/// One plant event. Serialises as `{"kind": "<kind>", ...fields}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LoopEvent {
    /// The operating state changed.
    StateChanged {
        /// Previous state.
        from: OperatingState,
        /// New state.
        to: OperatingState,
    },
    /// The pump relay was commanded to switch.
    PumpSwitched {
        /// New relay state.
        on: bool,
        /// Why, with the numbers involved.
        reason: String,
    },
    /// The heater relay was commanded to switch.
    HeaterSwitched {
        /// New relay state.
        on: bool,
        /// Why, with the numbers involved.
        reason: String,
    },
    /// An interlock became active.
    InterlockActivated {
        /// Which.
        interlock: Interlock,
        /// Why, with the numbers involved.
        reason: String,
    },
    /// An interlock was released.
    InterlockReleased {
        /// Which.
        interlock: Interlock,
        /// Why, with the numbers involved.
        reason: String,
    },
    /// The mode changed by command.
    ModeChanged {
        /// Previous mode.
        from: Mode,
        /// New mode.
        to: Mode,
    },
    /// A parameter changed by command.
    ParameterChanged {
        /// Which.
        parameter: Parameter,
        /// New value.
        value: f64,
    },
    /// A manual request changed by command.
    ManualRequest {
        /// The load (serialised as `"pump"` or `"heater"`).
        load: heat_core::Load,
        /// Requested relay state.
        on: bool,
    },
    /// The controller accepted a command.
    CommandAccepted {
        /// The command, as the controller saw it.
        command: String,
        /// The interlock that decides the load for now, if any.
        overridden_by: Option<Interlock>,
    },
    /// The controller refused a command (it is unchanged).
    CommandRefused {
        /// The command, as the controller saw it.
        command: String,
        /// Why.
        error: String,
    },
    /// A relay write failed: every load goes OFF and is held OFF.
    RelayWriteFailed {
        /// The relay driver's error.
        error: String,
    },
    /// The safety hold began (after a relay write failure).
    HoldStarted,
    /// Every relay read back OFF for the longest minimum OFF time: control resumes.
    HoldEnded {
        /// The minimum OFF time the relays were held for, seconds.
        min_off_s: u64,
        /// What the controller wants the pump to be now.
        pump: bool,
        /// What the controller wants the heater to be now.
        heater: bool,
    },
    /// A simulated fault was injected (`--sim-faults`).
    SimFaultInjected {
        /// The fault, in `--sim-faults` syntax.
        fault: String,
    },
    /// A simulated fault was cleared.
    SimFaultCleared {
        /// The fault, in `--sim-faults` syntax.
        fault: String,
    },
    /// A thermal disinfection started, completed, failed or was cancelled.
    Disinfection {
        /// What happened.
        change: heat_core::DisinfectionChange,
        /// With the numbers involved.
        reason: String,
    },
    /// The holiday's end date was set, came (the mode returned) or passed.
    Holiday {
        /// What happened.
        change: heat_core::HolidayChange,
        /// In words, with the date.
        reason: String,
    },
}

impl LoopEvent {
    /// Every kind, in declaration order (for tools and tests).
    pub const KINDS: [&'static str; 17] = [
        "state_changed",
        "pump_switched",
        "heater_switched",
        "interlock_activated",
        "interlock_released",
        "mode_changed",
        "parameter_changed",
        "manual_request",
        "command_accepted",
        "command_refused",
        "relay_write_failed",
        "hold_started",
        "hold_ended",
        "sim_fault_injected",
        "sim_fault_cleared",
        "disinfection",
        "holiday",
    ];

    /// The stable snake_case name of the event's kind (the `kind` key of its JSON).
    pub fn kind(&self) -> &'static str {
        let i = match self {
            LoopEvent::StateChanged { .. } => 0,
            LoopEvent::PumpSwitched { .. } => 1,
            LoopEvent::HeaterSwitched { .. } => 2,
            LoopEvent::InterlockActivated { .. } => 3,
            LoopEvent::InterlockReleased { .. } => 4,
            LoopEvent::ModeChanged { .. } => 5,
            LoopEvent::ParameterChanged { .. } => 6,
            LoopEvent::ManualRequest { .. } => 7,
            LoopEvent::CommandAccepted { .. } => 8,
            LoopEvent::CommandRefused { .. } => 9,
            LoopEvent::RelayWriteFailed { .. } => 10,
            LoopEvent::HoldStarted => 11,
            LoopEvent::HoldEnded { .. } => 12,
            LoopEvent::SimFaultInjected { .. } => 13,
            LoopEvent::SimFaultCleared { .. } => 14,
            LoopEvent::Disinfection { .. } => 15,
            LoopEvent::Holiday { .. } => 16,
        };
        Self::KINDS[i]
    }

    /// Whether an operator should look at it (a driver logs these at warn).
    pub fn is_warning(&self) -> bool {
        matches!(
            self,
            LoopEvent::InterlockActivated { .. }
                | LoopEvent::CommandRefused { .. }
                | LoopEvent::RelayWriteFailed { .. }
                | LoopEvent::HoldStarted
                | LoopEvent::SimFaultInjected { .. }
                | LoopEvent::SimFaultCleared { .. }
                | LoopEvent::Disinfection {
                    change: heat_core::DisinfectionChange::Failed,
                    ..
                }
        )
    }

    /// heat-core's event as a loop event.
    pub fn from_core(event: &heat_core::Event) -> Self {
        let reason = event.reason.clone();
        match event.kind {
            EventKind::StateChanged { from, to } => LoopEvent::StateChanged { from, to },
            EventKind::PumpSwitched { on } => LoopEvent::PumpSwitched { on, reason },
            EventKind::HeaterSwitched { on } => LoopEvent::HeaterSwitched { on, reason },
            EventKind::InterlockActivated(interlock) => {
                LoopEvent::InterlockActivated { interlock, reason }
            }
            EventKind::InterlockReleased(interlock) => {
                LoopEvent::InterlockReleased { interlock, reason }
            }
            EventKind::ModeChanged { from, to } => LoopEvent::ModeChanged { from, to },
            EventKind::ParameterChanged { parameter, value } => {
                LoopEvent::ParameterChanged { parameter, value }
            }
            EventKind::ManualRequest { load, on } => LoopEvent::ManualRequest { load, on },
            EventKind::Disinfection(change) => LoopEvent::Disinfection { change, reason },
            EventKind::Holiday(change) => LoopEvent::Holiday { change, reason },
        }
    }
}

#[cfg(test)]
mod tests;
