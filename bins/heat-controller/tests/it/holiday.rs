//! Holiday mode over MQTT, against a real Mosquitto with `--simulate` and a state directory:
//! Home Assistant's select and date text set it, the heater stays off on a cold tank, and a
//! restart keeps the mode, the end date and the mode it returns to.

use heat_core::{Mode, Sensor};

use crate::harness::{Controller, ControllerWatch, STATE, Spec, broker, watch};

#[test]
fn holiday_and_its_end_date_are_set_from_home_assistant_and_survive_a_restart() {
    let broker = broker();
    let dir = tempfile::tempdir().unwrap();
    let watcher = watch(broker.port(), "watch-holiday", "#");
    let spec = || {
        let mut spec = Spec::new(broker.port());
        spec.env
            .push(("STATE_DIRECTORY", dir.path().display().to_string()));
        // A cold tank: auto would heat it at once.
        spec.args
            .extend(["--sim-initial-c".into(), "20,20,20".into()]);
        spec
    };
    let mut ctl = Controller::start(&spec());
    let config = watcher.wait_on(
        "homeassistant/text/solar_heating/holiday_end/config",
        |_| true,
    );
    assert!(
        config.text().contains("solar_heating/holiday_end/set"),
        "{}",
        config.text()
    );
    watcher.wait_state(|s| s.heater.is_on());

    watcher.clear();
    watcher.publish("solar_heating/mode/set", b"eco");
    assert!(watcher.wait_answer("solar_heating/mode/set").accepted);
    watcher.publish("solar_heating/mode/set", b"holiday");
    assert!(watcher.wait_answer("solar_heating/mode/set").accepted);
    watcher.publish("solar_heating/holiday_end/set", b"2099-12-20");
    assert!(
        watcher
            .wait_answer("solar_heating/holiday_end/set")
            .accepted
    );
    let away = watcher
        .wait_state(|s| s.mode == Mode::Holiday && s.holiday.end.is_some() && !s.heater.is_on());
    assert_eq!(away.holiday.end.as_deref(), Some("2099-12-20"), "{away:?}");
    assert_eq!(away.holiday.return_to, Some(Mode::Eco), "{away:?}");
    // A date that does not exist is refused with the shape expected.
    watcher.clear();
    watcher.publish("solar_heating/holiday_end/set", b"2099-02-30");
    let answer = watcher.wait_answer("solar_heating/holiday_end/set");
    assert!(
        !answer.accepted && answer.reason.contains("YYYY-MM-DD"),
        "{answer:?}"
    );

    ctl.signal("TERM");
    let (status, _) = ctl.wait_exit();
    assert!(status.success(), "{status}\n{}", ctl.output());
    watcher.publish_retained(STATE, b"");
    watcher.clear();
    let _ctl = Controller::start(&spec());
    let back = watcher.wait_state(|_| true);
    assert_eq!(back.mode, Mode::Holiday, "{back:?}");
    assert_eq!(back.holiday.end.as_deref(), Some("2099-12-20"), "{back:?}");
    assert_eq!(back.holiday.return_to, Some(Mode::Eco), "{back:?}");
    // Still away after the restart: the cold tank is not heated.
    watcher.clear();
    let later = watcher.wait_state(|s| s.temperature(Sensor::TankTop).is_some());
    assert!(!later.heater.is_on(), "{later:?}");
}
