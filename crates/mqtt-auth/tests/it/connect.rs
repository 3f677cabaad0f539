//! Plain connections: valid credentials accepted, every kind of bad credential refused as auth.

use mqtt_auth::{
    codes::Class,
    connect::{Identity, connect, connect_with_record, create_client},
    failure::ConnectError,
};
use test_mosquitto::BrokerBuilder;

use crate::{PROTOCOLS, logged_lines_with, password, settings};

#[test]
fn valid_credentials_connect_on_both_protocols() {
    let pw = password("valid");
    let broker = BrokerBuilder::new().user("alice", &pw).start().unwrap();
    for protocol in PROTOCOLS {
        let s = settings(broker.port(), protocol, "alice", &pw);
        let client = create_client(&s).unwrap();
        let (result, record) = connect_with_record(&client, &s, Identity::Configured, None);
        assert!(result.is_ok(), "{protocol}: {result:?}");
        assert_eq!(record.class(), Class::Accepted);
        assert!(record.to_string().contains("user=alice"), "{record}");
        client.disconnect().unwrap();
    }
    assert!(logged_lines_with(&pw).is_empty());
    assert!(!broker.log().contains(&pw));
}

#[test]
fn bad_credentials_are_refused_as_auth_with_one_audit_line_each() {
    let pw = password("refused");
    let broker = BrokerBuilder::new().user("bob", &pw).start().unwrap();
    let wrong = password("wrong");
    for protocol in PROTOCOLS {
        // (what, username, password, identity)
        let cases = [
            (
                "wrong password",
                "bob",
                wrong.as_str(),
                Identity::Configured,
            ),
            ("unknown user", "mallory", pw.as_str(), Identity::Configured),
            ("anonymous", "bob", pw.as_str(), Identity::Anonymous),
        ];
        for (what, user, pass, identity) in cases {
            let s = settings(broker.port(), protocol, user, pass);
            let client = create_client(&s).unwrap();
            let (result, record) = connect_with_record(&client, &s, identity, None);
            let err = result.expect_err(what);
            assert_eq!(
                err.class(),
                Class::AuthRejected,
                "{protocol} {what}: {err:?}"
            );
            assert!(matches!(err, ConnectError::Rejected(_)), "{what}: {err:?}");
            let expected_user = if identity == Identity::Anonymous {
                "(anonymous)"
            } else {
                user
            };
            assert!(record.to_string().contains(expected_user), "{record}");
            assert!(record.to_string().contains("auth_rejected"), "{record}");
        }
    }
    // One audit line per attempt: two protocols each, named by client id and user.
    for (client_id, user) in [
        ("it-bob", "bob"),
        ("it-mallory", "mallory"),
        ("it-bob", "(anonymous)"),
    ] {
        let lines = logged_lines_with(&format!(
            "client_id={client_id} user={user} result=auth_rejected"
        ));
        assert_eq!(lines.len(), 2, "audit lines for {user}: {lines:#?}");
        assert!(
            lines.iter().all(|l| l.contains("mqtt_auth::audit")),
            "{lines:#?}"
        );
    }
    for secret in [&pw, &wrong] {
        assert!(logged_lines_with(secret).is_empty(), "password in the log");
        assert!(
            !broker.log().contains(secret.as_str()),
            "password in the broker log"
        );
    }
}

/// An empty password never leaves this crate (validation refuses it first); sent on the wire
/// anyway, with paho directly, the broker refuses it and we classify that as auth.
#[test]
fn empty_password_is_refused_by_validation_and_by_the_broker() {
    let empty = secrecy::SecretString::from(String::new());
    assert!(mqtt_auth::credentials::validate_password(&empty).is_err());

    let broker = BrokerBuilder::new()
        .user("dave", &password("empty"))
        .start()
        .unwrap();
    for protocol in PROTOCOLS {
        let s = settings(broker.port(), protocol, "dave", &password("empty"));
        // paho's own client: the point is a CONNECT mqtt-auth would never build.
        let client = paho_mqtt::AsyncClient::new(
            paho_mqtt::CreateOptionsBuilder::new()
                .server_uri(s.server_uri())
                .client_id(s.client_id().as_str())
                .mqtt_version(protocol.paho_version())
                .persistence(None)
                .finalize(),
        )
        .unwrap();
        let mut options = match protocol {
            mqtt_auth::Protocol::V311 => paho_mqtt::ConnectOptionsBuilder::new_v3(),
            mqtt_auth::Protocol::V5 => paho_mqtt::ConnectOptionsBuilder::new_v5(),
        };
        options.user_name("dave").password("");
        let err = client
            .connect(options.finalize())
            .wait_for(std::time::Duration::from_secs(30))
            .unwrap_err();
        // Before `client` drops: the failure callback must have let go of its clone.
        mqtt_auth::connect::settle(&client);
        let classified = mqtt_auth::failure::classify(protocol, &err);
        assert_eq!(
            classified.class(),
            Class::AuthRejected,
            "{protocol}: {classified:?}"
        );
    }
}

#[test]
fn broker_down_is_transient_not_auth() {
    let mut broker = BrokerBuilder::new()
        .user("carol", &password("down"))
        .start()
        .unwrap();
    let port = broker.port();
    broker.stop();
    let s = settings(port, mqtt_auth::Protocol::V5, "carol", &password("down"));
    let client = create_client(&s).unwrap();
    let err = connect(&client, &s, Identity::Configured, None).unwrap_err();
    assert_eq!(err.class(), Class::Transient, "{err:?}");
}

/// paho-mqtt 0.14 can destroy a client on its own thread, under its global mutex, when the last
/// handle is dropped right after a failed connect; every paho client in the process then hangs.
/// `MqttClient`'s drop waits for the callback first: many refused connects, each client dropped
/// at once, on two threads, all finish.
#[test]
fn refused_connects_dropped_at_once_never_hang() {
    let pw = password("drop");
    let broker = BrokerBuilder::new().user("erin", &pw).start().unwrap();
    let wrong = password("drop-wrong");
    let port = broker.port();
    let threads: Vec<_> = PROTOCOLS
        .into_iter()
        .map(|protocol| {
            let s = settings(port, protocol, "erin", &wrong);
            std::thread::spawn(move || {
                for _ in 0..150 {
                    let client = create_client(&s).unwrap();
                    let err = connect(&client, &s, Identity::Configured, None).unwrap_err();
                    assert_eq!(err.class(), Class::AuthRejected, "{protocol}: {err:?}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}
