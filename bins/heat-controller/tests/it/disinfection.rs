//! The thermal disinfection over MQTT, against a real Mosquitto with `--simulate`: Home
//! Assistant's button starts a run at once in auto (the heater follows, the state says so), a
//! run ends when the mode leaves auto, and the button is refused in manual with the reason.

use crate::harness::{Controller, ControllerWatch, STATE, Spec, broker, watch};

#[test]
fn the_button_starts_a_run_that_heats_and_manual_mode_cancels_and_refuses_it() {
    let broker = broker();
    let watcher = watch(broker.port(), "watch-disinfection", "#");
    let mut spec = Spec::new(broker.port());
    spec.toml = "[controller]\nprobe_anonymous = false\n".to_owned();
    let _ctl = Controller::start(&spec);
    // Discovery announces the button on the command topic it obeys.
    let config = watcher.wait_on(
        "homeassistant/button/solar_heating/start_disinfection/config",
        |_| true,
    );
    assert!(
        config.text().contains("solar_heating/disinfect/set"),
        "{}",
        config.text()
    );
    watcher.wait_on(STATE, |_| true);

    watcher.publish("solar_heating/disinfect/set", b"PRESS");
    let answer = watcher.wait_answer("solar_heating/disinfect/set");
    assert!(answer.accepted, "{answer:?}");
    // The simulated tank starts cold: the run heats, outside the comfort logic's business.
    let state = watcher.wait_state(|s| s.disinfection.running && s.heater.is_on());
    assert_eq!(state.mode.as_str(), "auto", "{state:?}");

    watcher.clear();
    watcher.publish("solar_heating/mode/set", b"manual");
    assert!(watcher.wait_answer("solar_heating/mode/set").accepted);
    watcher.wait_state(|s| !s.disinfection.running);

    watcher.clear();
    watcher.publish("solar_heating/disinfect/set", b"PRESS");
    let answer = watcher.wait_answer("solar_heating/disinfect/set");
    assert!(!answer.accepted, "{answer:?}");
    assert!(answer.reason.contains("auto or eco"), "{answer:?}");
    // Anything but PRESS is not a button press.
    watcher.clear();
    watcher.publish("solar_heating/disinfect/set", b"ON");
    let answer = watcher.wait_answer("solar_heating/disinfect/set");
    assert!(
        !answer.accepted && answer.reason.contains("PRESS"),
        "{answer:?}"
    );
}
