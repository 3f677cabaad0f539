//! (b) A normal run: availability, state, discovery, commands, refusals, and the tank maximum
//! overriding a manual heater.

use heat_core::{Alarm, Mode};
use heat_state::{Answer, StateJson};
use serde_json::Value;

use crate::harness::{
    AVAILABILITY, Controller, ControllerWatch, RESULT, STATE, Spec, broker, retained, typed,
    wait_for, watch,
};

#[test]
fn a_normal_run_announces_itself_and_obeys_commands() {
    let broker = broker();
    let watcher = watch(broker.port(), "watch-b", "#");
    let ctl = Controller::start(&Spec::new(broker.port()));
    watcher.wait_on(STATE, |_| true);

    let online = retained(broker.port(), "watch-b2", AVAILABILITY).expect("retained availability");
    assert_eq!(online.text(), "online");
    let state = retained(broker.port(), "watch-b3", STATE).expect("retained state");
    // Every key, typed: the document is heat-state's StateJson.
    let s: StateJson = typed(&state);
    assert_eq!(s.mode, Mode::Auto, "{s:?}");
    assert_eq!(s.temperatures.len(), 3, "{s:?}");
    assert_eq!(s.link.connects, 1, "{s:?}");

    let discovery: Vec<_> = watcher
        .seen()
        .into_iter()
        .filter(|m| m.topic.starts_with("homeassistant/") && m.topic.ends_with("/config"))
        .collect();
    assert!(
        discovery.len() >= 10,
        "{} discovery configs",
        discovery.len()
    );
    for m in &discovery {
        assert!(m.retained || !m.payload.is_empty(), "{}", m.topic);
        let c: Value = serde_json::from_slice(&m.payload)
            .unwrap_or_else(|e| panic!("{}: not JSON: {e}", m.topic));
        for field in ["name", "unique_id", "availability_topic"] {
            assert!(c[field].is_string(), "{} lacks {field}: {c}", m.topic);
        }
        assert_eq!(c["device"]["identifiers"][0], "solar_heating", "{c}");
    }

    watcher.publish("solar_heating/mode/set", b"manual");
    let answer = watcher.wait_answer("solar_heating/mode/set");
    assert!(answer.accepted, "{answer:?}");
    watcher.wait_state(|s| s.mode == Mode::Manual);
    watcher.publish("solar_heating/pump/set", b"ON");
    let answer = watcher.wait_answer("solar_heating/pump/set");
    assert!(answer.accepted, "{answer:?}");
    watcher.wait_state(|s| s.pump.is_on() && s.manual_pump.is_on());
    wait_for("the pump ON in the relay journal", || {
        ctl.journal().contains("pump ON")
    });
}

#[test]
fn bad_commands_are_refused_on_the_result_topic_and_change_nothing() {
    let broker = broker();
    let watcher = watch(broker.port(), "watch-bad", "solar_heating/#");
    let ctl = Controller::start(&Spec::new(broker.port()));
    let before = watcher.wait_state(|_| true);

    let long = vec![b'a'; 65];
    let cases: [(&str, &[u8], &str); 7] = [
        ("solar_heating/mode/set", &long, "bytes"),
        ("solar_heating/mode/set", b"\xff\xfeauto", "UTF-8"),
        ("solar_heating/pump/set", b"on", "unknown value"),
        ("solar_heating/dt_start/set", b"100", "outside"),
        ("solar_heating/dt_start/set", b"NaN", "plain decimal"),
        ("solar_heating/dt_stop/set", b"9", "dt_stop"),
        ("solar_heating/bogus/set", b"1", "unknown command topic"),
    ];
    for (topic, payload, why) in cases {
        watcher.clear();
        watcher.publish(topic, payload);
        let answer = watcher.wait_answer(topic);
        assert!(!answer.accepted, "{topic}: {answer:?}");
        assert!(
            answer.reason.contains(why),
            "{topic}: {:?} should mention {why:?}",
            answer.reason
        );
    }
    // A flood: five at once pass, the sixth is refused (and later ones only counted).
    watcher.clear();
    for _ in 0..10 {
        watcher.publish("solar_heating/eco_dt_start/set", b"10");
    }
    watcher.wait_on(RESULT, |m| {
        let answer: Answer = typed(m);
        !answer.accepted && answer.reason.contains("too many commands")
    });

    watcher.clear();
    let after = watcher.wait_state(|_| true);
    assert_eq!(after.mode, before.mode);
    assert_eq!(after.parameters, before.parameters);
    assert!(!after.manual_pump.is_on());
    let out = ctl.output();
    assert!(out.contains("refused"), "refusals are logged: {out}");
    assert!(
        out.contains("\\u{ff}") || out.contains("\\xff") || out.contains("\u{fffd}"),
        "the non-UTF-8 payload is logged escaped: {out}"
    );
}

#[test]
fn a_manual_heater_at_the_tank_maximum_stays_off_with_the_reason() {
    let broker = broker();
    let watcher = watch(broker.port(), "watch-max", "solar_heating/#");
    let mut spec = Spec::new(broker.port());
    spec.args
        .extend(["--sim-initial-c".into(), "20,91,92".into()]);
    let ctl = Controller::start(&spec);
    watcher.wait_state(|s| s.has_alarm(Alarm::TankMax));
    watcher.publish("solar_heating/mode/set", b"manual");
    assert!(watcher.wait_answer("solar_heating/mode/set").accepted);
    watcher.publish("solar_heating/heater/set", b"ON");
    let answer = watcher.wait_answer("solar_heating/heater/set");
    assert!(answer.accepted, "{answer:?}");
    assert!(answer.reason.contains("tank maximum"), "{answer:?}");
    let s = watcher.wait_state(|s| s.manual_heater.is_on() && s.mode == Mode::Manual);
    assert!(!s.heater.is_on(), "{s:?}");
    // Several more ticks: still OFF, and never switched ON.
    let seen = watcher.on(STATE).len();
    wait_for("ten more states", || watcher.on(STATE).len() >= seen + 10);
    let last = watcher.states().pop().unwrap();
    assert!(!last.heater.is_on(), "{last:?}");
    assert!(!ctl.journal().contains("heater ON"), "{}", ctl.journal());
}
