//! Every event's `kind()` is its JSON `kind` key, and the kinds are unique.

use heat_core::{Interlock, Mode, OperatingState, Parameter};

use super::*;

fn one_of_each() -> Vec<LoopEvent> {
    let s = String::new;
    vec![
        LoopEvent::StateChanged {
            from: OperatingState::Starting,
            to: OperatingState::Standby,
        },
        LoopEvent::PumpSwitched {
            on: true,
            reason: s(),
        },
        LoopEvent::HeaterSwitched {
            on: true,
            reason: s(),
        },
        LoopEvent::InterlockActivated {
            interlock: Interlock::BoilStop,
            reason: s(),
        },
        LoopEvent::InterlockReleased {
            interlock: Interlock::TankMax,
            reason: s(),
        },
        LoopEvent::ModeChanged {
            from: Mode::Auto,
            to: Mode::Manual,
        },
        LoopEvent::ParameterChanged {
            parameter: Parameter::ALL[0],
            value: 1.0,
        },
        LoopEvent::ManualRequest {
            load: heat_core::Load::Pump,
            on: true,
        },
        LoopEvent::CommandAccepted {
            command: s(),
            overridden_by: None,
        },
        LoopEvent::CommandRefused {
            command: s(),
            error: s(),
        },
        LoopEvent::RelayWriteFailed { error: s() },
        LoopEvent::HoldStarted,
        LoopEvent::HoldEnded {
            min_off_s: 1,
            pump: false,
            heater: false,
        },
        LoopEvent::SimFaultInjected { fault: s() },
        LoopEvent::SimFaultCleared { fault: s() },
        LoopEvent::Disinfection {
            change: heat_core::DisinfectionChange::Failed,
            reason: s(),
        },
        LoopEvent::Holiday {
            change: heat_core::HolidayChange::Ended {
                back_to: heat_core::Mode::Eco,
            },
            reason: s(),
        },
    ]
}

#[test]
fn kind_is_the_json_kind_and_every_kind_is_listed_once() {
    let events = one_of_each();
    assert_eq!(events.len(), LoopEvent::KINDS.len());
    for (event, listed) in events.iter().zip(LoopEvent::KINDS) {
        let json = serde_json::to_value(event).expect("serialises");
        assert_eq!(json["kind"], event.kind(), "{json}");
        assert_eq!(event.kind(), listed);
    }
    let mut unique = LoopEvent::KINDS.to_vec();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), LoopEvent::KINDS.len());
}

/// Tools (the demo, the soak, the tests) deserialise the lines the controller logs: every
/// event reads back as itself.
#[test]
fn every_event_reads_back_from_its_json() {
    for event in one_of_each() {
        let json = serde_json::to_string(&event).expect("serialises");
        let back: LoopEvent = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, event, "{json}");
    }
}
