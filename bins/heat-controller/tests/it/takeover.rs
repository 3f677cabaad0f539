//! A session takeover (issue 15, deliver 4): another client connects with the controller's
//! client id and credentials, the broker closes the controller's connection, and the controller
//! names it, with the fix, as a typed `heat::link` event. An MQTT 5 broker may say so in its
//! DISCONNECT (reason 0x8E, Mosquitto from 2.0.12 on; the table tests of heat-mqtt's
//! `SessionState` cover it). Without a reason, as over MQTT 3.1.1 and from Debian 12's Mosquitto
//! 2.0.11 over either version, the controller tells it from the broker's behaviour: the
//! connection dropped soon after it was made, twice in a row, while the broker kept accepting
//! connections (a restarting broker refuses; see `faults.rs`'s restart loop).

use heat_state::LinkEvent;
use mqtt_auth::{BrokerSettings, ClientId};
use mqtt_auth::{
    Protocol,
    connect::{Identity, MqttClient, connect, create_client},
};

use crate::harness::{CTL_PASSWORD, Controller, Spec, broker};

/// The controller's client id (set by the harness).
const CTL_ID: &str = "heat-ctl-under-test";

/// A second client with the controller's id and credentials, connected.
fn intruder(port: u16, protocol: Protocol) -> MqttClient {
    let s = BrokerSettings::new(
        "127.0.0.1",
        port,
        protocol,
        ClientId::new(CTL_ID).unwrap(),
        test_mqtt::credentials("ctl", CTL_PASSWORD),
    );
    let client = create_client(&s).unwrap();
    connect(&client, &s, Identity::Configured, None).unwrap();
    client
}

fn taken_over(ctl: &Controller) -> String {
    match ctl.wait_link("the takeover named", |e| {
        matches!(e, LinkEvent::TakenOver { .. })
    }) {
        LinkEvent::TakenOver {
            client_id,
            evidence,
        } => {
            assert_eq!(client_id, CTL_ID);
            evidence
        }
        other => unreachable!("{other:?}"),
    }
}

#[test]
fn mqtt5_a_takeover_is_named() {
    let broker = broker();
    let mut spec = Spec::new(broker.port());
    spec.env.push(("MQTT_VERSION", "5".to_owned()));
    let ctl = Controller::start(&spec);
    ctl.wait_connected(1);
    let first = intruder(broker.port(), Protocol::V5);
    // A broker that gives the reason names it at once; one that does not, at the second drop.
    if !ctl.has_link(|e| matches!(e, LinkEvent::TakenOver { .. })) {
        ctl.wait_connected(2);
        drop(first);
        let _second = intruder(broker.port(), Protocol::V5);
    }
    let evidence = taken_over(&ctl);
    assert!(
        ["disconnect_0x8e", "dropped_while_broker_accepts"].contains(&evidence.as_str()),
        "{evidence}"
    );
    let out = ctl.output();
    assert!(
        out.contains("two processes use one MQTT client id"),
        "the warning carries the fix: {out}"
    );
}

#[test]
fn mqtt311_a_takeover_is_named_from_the_brokers_behaviour() {
    let broker = broker();
    let ctl = Controller::start(&Spec::new(broker.port()));
    ctl.wait_connected(1);
    // The intruder takes the id; the controller reconnects and takes it back; again.
    let first = intruder(broker.port(), Protocol::V311);
    ctl.wait_connected(2);
    drop(first);
    let _second = intruder(broker.port(), Protocol::V311);
    assert_eq!(taken_over(&ctl), "dropped_while_broker_accepts");
}
