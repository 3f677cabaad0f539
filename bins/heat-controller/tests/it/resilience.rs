//! (c) The broker dies and comes back; the controller is killed; (d) the broker refuses the
//! credentials. Control never depends on MQTT.

use std::{thread, time::Duration};

use heat_core::Mode;
use heat_state::LinkEvent;

use crate::harness::{
    AVAILABILITY, CTL_PASSWORD, Controller, ControllerWatch, STATE, Spec, broker, retained,
    wait_for, watch,
};

#[test]
fn control_goes_on_through_a_broker_restart_and_everything_is_announced_again() {
    let mut broker = broker();
    let port = broker.port();
    let ctl = Controller::start(&Spec::new(port));
    let before = {
        let w = watch(port, "watch-c1", "solar_heating/#");
        w.wait_state(|s| s.heater.is_on())
    };

    broker.stop();
    ctl.wait_link("the connection lost", |e| {
        matches!(e, LinkEvent::Lost { .. })
    });
    // Observation window with the broker down; nothing is asserted about its length.
    thread::sleep(Duration::from_secs(2));
    broker.restart().unwrap();

    // No persistence: whatever is retained now was published again after the restart.
    let watcher = watch(port, "watch-c2", "#");
    let online = retained(port, "watch-c3", AVAILABILITY);
    wait_for("online again", || {
        online.as_ref().is_some_and(|m| m.text() == "online")
            || retained(port, "watch-c4", AVAILABILITY).is_some_and(|m| m.text() == "online")
    });
    let after = watcher.wait_state(|_| true);
    assert!(after.time > before.time, "{before:?} / {after:?}");
    assert!(
        after.energy.heater_kwh > before.energy.heater_kwh,
        "the heater kept running: {before:?} / {after:?}"
    );
    wait_for("discovery again", || {
        retained(
            port,
            "watch-c5",
            "homeassistant/select/solar_heating/mode/config",
        )
        .is_some()
    });
    watcher.publish("solar_heating/mode/set", b"eco");
    assert!(watcher.wait_answer("solar_heating/mode/set").accepted);
    watcher.wait_state(|s| s.mode == Mode::Eco);
    assert!(
        ctl.has_link(|e| matches!(e, LinkEvent::Connected { connects: 2, .. })),
        "{}",
        ctl.output()
    );
}

#[test]
fn a_killed_controller_leaves_offline_through_its_will() {
    let broker = broker();
    let mut ctl = Controller::start(&Spec::new(broker.port()));
    let watcher = watch(broker.port(), "watch-c6", "solar_heating/#");
    watcher.wait_on(AVAILABILITY, |m| m.text() == "online");
    ctl.signal("KILL");
    let (status, _) = ctl.wait_exit();
    assert_eq!(status.code(), None, "killed by a signal");
    wait_for("offline retained", || {
        retained(broker.port(), "watch-c7", AVAILABILITY).is_some_and(|m| m.text() == "offline")
    });
    assert!(
        watcher
            .on(STATE)
            .iter()
            .all(|m| m.retained || !m.payload.is_empty())
    );
}

#[test]
fn rejected_credentials_leave_the_plant_controlled_and_the_broker_quiet() {
    const WRONG: &str = "wrong-password-Zx81Qv";
    let broker = broker();
    let mut ctl = Controller::start(&Spec {
        password: Some(WRONG),
        rust_log: "trace",
        ..Spec::new(broker.port())
    });
    ctl.wait_link(
        "the refusal",
        |e| matches!(e, LinkEvent::ConnectFailed { class, .. } if class == "auth_rejected"),
    );
    // Control goes on without MQTT: the thermostat switches the simulated heater.
    wait_for("the heater ON in the relay journal", || {
        ctl.journal().contains("heater ON")
    });
    // An observation window for retries (the policy waits minutes after a rejection).
    thread::sleep(Duration::from_secs(6));
    let attempts = broker.connection_attempts();
    println!("connection attempts in the first ~6 s: {attempts}");
    assert!(
        (1..=2).contains(&attempts),
        "{attempts} attempts:\n{}",
        broker.log()
    );
    ctl.signal("TERM");
    let (status, _) = ctl.wait_exit();
    assert_eq!(status.code(), Some(0));
    let out = ctl.output();
    let line = out
        .lines()
        .find(|l| l.contains("refused") && l.contains("fix:"))
        .unwrap_or_else(|| panic!("no refusal with its fix in:\n{out}"));
    assert!(line.contains("ERROR"), "{line}");
    assert!(
        !out.contains(WRONG) && !out.contains(CTL_PASSWORD),
        "a password leaked"
    );
}
