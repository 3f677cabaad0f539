//! Startup refusals, the password never in the output, and shutdown on SIGTERM.

use std::fs::File;

use crate::harness::{
    AVAILABILITY, CTL_PASSWORD, Controller, ControllerWatch, STATE, Spec, broker, retained, watch,
};

/// (a) Without credentials: exit 2, the message names the variable, nothing touched: no lock
/// file, no relay journal (the simulated relays write one line per change and per safe state,
/// from the very first safe state at startup), no "relays safe" line.
#[test]
fn without_credentials_the_controller_exits_2_before_touching_anything() {
    let cases = [
        (None, None, "MQTT_USERNAME"),
        (Some("ctl"), None, "MQTT_PASSWORD"),
    ];
    for (username, password, names) in cases {
        let mut ctl = Controller::start(&Spec {
            username,
            password,
            ..Spec::new(1)
        });
        let (status, _) = ctl.wait_exit();
        let out = ctl.output();
        assert_eq!(status.code(), Some(2), "{out}");
        assert!(out.contains("configuration error"), "{out}");
        assert!(out.contains(names), "the message names {names}: {out}");
        assert!(!out.contains("relays safe"), "{out}");
        assert!(
            !ctl.journal.exists(),
            "a relay was written: {}",
            ctl.journal()
        );
        assert!(!ctl.lock_path().exists(), "the lock file was created");
    }
}

/// (f) SIGTERM: relays safe, `offline` retained, lock released, exit 0, quickly.
#[test]
fn sigterm_puts_relays_safe_publishes_offline_and_exits_0() {
    let broker = broker();
    let watcher = watch(broker.port(), "watch-f", "solar_heating/#");
    let mut ctl = Controller::start(&Spec::new(broker.port()));
    watcher.wait_on(AVAILABILITY, |m| m.text() == "online");
    watcher.wait_on(STATE, |_| true);
    // The cold simulated tank makes the thermostat switch the heater ON.
    crate::harness::wait_for("the heater ON in the relay journal", || {
        ctl.journal().contains("heater ON")
    });

    ctl.signal("TERM");
    let (status, took) = ctl.wait_exit();
    let out = ctl.output();
    println!("SIGTERM to exit: {:.0} ms", took.as_secs_f64() * 1e3);
    assert_eq!(status.code(), Some(0), "{out}");
    assert!(took.as_secs() < 10, "took {took:?}");
    let stop = out.find("SIGTERM received").expect("the signal is logged");
    assert!(
        out[stop..].contains("relays safe (every load OFF)"),
        "{out}"
    );
    let journal = ctl.journal();
    assert_eq!(
        journal.lines().last().map(|l| l.ends_with(" safe")),
        Some(true),
        "{journal}"
    );
    let offline = retained(broker.port(), "watch-f2", AVAILABILITY).expect("retained availability");
    assert_eq!(offline.text(), "offline");
    let lock = File::options().write(true).open(ctl.lock_path()).unwrap();
    lock.try_lock().expect("the lock is free again");
}

/// (e) At RUST_LOG=trace, through a connect, commands and a shutdown, the password never
/// appears in the output (paho's own debug output, which holds it, is capped).
#[test]
fn the_password_is_never_in_the_output_at_trace() {
    let broker = broker();
    let watcher = watch(broker.port(), "watch-e", "solar_heating/#");
    let mut ctl = Controller::start(&Spec {
        rust_log: "trace",
        ..Spec::new(broker.port())
    });
    watcher.wait_on(AVAILABILITY, |m| m.text() == "online");
    watcher.publish("solar_heating/mode/set", b"eco");
    watcher.wait_answer("solar_heating/mode/set");
    ctl.signal("TERM");
    let (status, _) = ctl.wait_exit();
    let out = ctl.output();
    assert_eq!(status.code(), Some(0));
    assert!(out.contains("TRACE"), "trace logging is on");
    assert!(out.contains("mqtt_auth::audit"), "the audit lines are in");
    assert!(!out.contains(CTL_PASSWORD), "the password leaked");
}
