//! Tests for [`classify`] on constructed paho-mqtt errors and for [`ConnectError`]'s accessors.

use std::io;

use paho_mqtt::{ConnectReturnCode, Error as E, Properties, ReasonCode};

use super::*;

/// Paho C's `MQTTASYNC_FAILURE` and `MQTTASYNC_BAD_PROTOCOL` (paho-mqtt keeps its `ffi` private).
const MQTTASYNC_FAILURE: i32 = -1;
const MQTTASYNC_BAD_PROTOCOL: i32 = -14;

fn v5_rejection(rc: ReasonCode) -> E {
    E::ReasonCode(rc, Properties::new())
}

#[test]
fn v311_connect_return_is_a_v311_rejection() {
    let err = classify(
        Protocol::V311,
        &E::ConnectReturn(ConnectReturnCode::NotAuthorized),
    );
    assert!(matches!(err, ConnectError::Rejected(c) if c == ReturnCode::v311(5)));
    assert_eq!(err.class(), Class::AuthRejected);
    assert_eq!(err.code(), Some(ReturnCode::v311(5)));
    assert!(err.fix().contains("MQTT_PASSWORD"));
    assert_eq!(
        err.to_string(),
        "broker refused the connection: 5 NotAuthorized (not authorized)"
    );
}

#[test]
fn v5_reason_code_is_a_v5_rejection() {
    let err = classify(Protocol::V5, &v5_rejection(ReasonCode::NotAuthorized));
    assert_eq!(err.code(), Some(ReturnCode::v5(0x87)));
    assert_eq!(err.class(), Class::AuthRejected);
    assert_eq!(
        err.to_string(),
        "broker refused the connection: 0x87 NotAuthorized (not authorized)"
    );
}

#[test]
fn every_connack_code_keeps_its_class() {
    use ConnectReturnCode::*;
    let table = [
        (UnacceptableProtocolVersion, Class::Configuration),
        (IdentifierRejected, Class::Configuration),
        (ServerUnavailable, Class::Transient),
        (BadUserNameOrPassword, Class::AuthRejected),
        (NotAuthorized, Class::AuthRejected),
        // A "rejection" with the success code is nonsense, not success.
        (Accepted, Class::Unknown),
    ];
    for (code, class) in table {
        assert_eq!(
            classify(Protocol::V311, &E::ConnectReturn(code)).class(),
            class,
            "{code:?}"
        );
    }
    let v5 = [
        (ReasonCode::BadUserNameOrPassword, Class::AuthRejected),
        (ReasonCode::Banned, Class::AuthRejected),
        (ReasonCode::BadAuthenticationMethod, Class::AuthRejected),
        (ReasonCode::ServerBusy, Class::Transient),
        (ReasonCode::UnspecifiedError, Class::Transient),
        (ReasonCode::ClientIdentifierNotValid, Class::Configuration),
        (ReasonCode::ServerShuttingDown, Class::Unknown),
        (ReasonCode::MqttppV3Code, Class::Unknown),
    ];
    for (code, class) in v5 {
        assert_eq!(
            classify(Protocol::V5, &v5_rejection(code)).class(),
            class,
            "{code:?}"
        );
    }
}

#[test]
fn the_variant_not_the_protocol_argument_picks_the_table() {
    let err = classify(
        Protocol::V5,
        &E::ConnectReturn(ConnectReturnCode::NotAuthorized),
    );
    assert_eq!(err.code(), Some(ReturnCode::v311(5)));
    let err = classify(Protocol::V311, &v5_rejection(ReasonCode::Banned));
    assert_eq!(err.code(), Some(ReturnCode::v5(0x8A)));
}

#[test]
fn timeouts() {
    for e in [
        E::Timeout,
        E::TcpConnectTimeout,
        E::Io(io::Error::new(io::ErrorKind::TimedOut, "slow")),
    ] {
        let err = classify(Protocol::V5, &e);
        assert!(matches!(err, ConnectError::Timeout), "{e:?}");
        assert_eq!(err.class(), Class::Transient);
        assert_eq!(err.code(), None);
    }
}

#[test]
fn network_failures_keep_paho_text() {
    let err = classify(Protocol::V311, &E::TcpTlsConnectFailure);
    assert!(
        matches!(&err, ConnectError::Network { detail } if detail == "TCP/TLS connect failure"),
        "{err:?}"
    );
    assert_eq!(err.class(), Class::Transient);
    // Built the way paho builds it from Paho C's (rc, message).
    let from_c = E::from((MQTTASYNC_FAILURE, "TCP/TLS connect failure"));
    assert!(matches!(
        classify(Protocol::V5, &from_c),
        ConnectError::Network { .. }
    ));
    let err = classify(Protocol::V5, &E::SocketError(-1));
    assert!(matches!(&err, ConnectError::Network { detail } if detail.contains("-1")));
    for e in [
        E::TcpConnectCompletionFailure,
        E::Disconnected,
        E::Io(io::Error::new(io::ErrorKind::ConnectionRefused, "refused")),
    ] {
        assert!(
            matches!(classify(Protocol::V5, &e), ConnectError::Network { .. }),
            "{e:?}"
        );
    }
}

#[test]
fn local_mistakes_are_configuration() {
    for e in [
        E::NullParameter,
        E::BadProtocol,
        E::BadMqttOption,
        E::WrongMqttVersion,
        E::SslNotSupported,
        E::MissingSslOptions,
        E::BadUtf8String,
        E::Io(io::Error::new(io::ErrorKind::NotFound, "ca.pem")),
    ] {
        let err = classify(Protocol::V311, &e);
        assert!(
            matches!(err, ConnectError::Configuration { .. }),
            "{e:?} -> {err:?}"
        );
        assert_eq!(err.class(), Class::Configuration);
    }
}

#[test]
fn failure_codes_from_paho_c() {
    // Paho C failure codes as paho-mqtt converts them.
    let bad_protocol = E::from(MQTTASYNC_BAD_PROTOCOL);
    assert_eq!(
        classify(Protocol::V5, &bad_protocol).class(),
        Class::Configuration
    );
    let err = classify(Protocol::V5, &E::from(MQTTASYNC_FAILURE));
    assert!(matches!(err, ConnectError::Other { .. }));
    assert_eq!(err.class(), Class::Unknown);
    assert!(!err.fix().is_empty());
    let err = classify(Protocol::V5, &E::CommandIgnored);
    assert_eq!(err.class(), Class::Unknown);
}

#[test]
fn received_disconnect_decodes_the_v5_reason() {
    let err = classify(Protocol::V5, &E::ReceivedDisconnect(0x8B));
    assert!(
        matches!(&err, ConnectError::Other { detail } if detail.contains("ServerShuttingDown")),
        "{err:?}"
    );
    let err = classify(Protocol::V311, &E::ReceivedDisconnect(-3));
    assert!(matches!(&err, ConnectError::Other { detail } if detail.contains("-3")));
    let err = classify(Protocol::V5, &E::ReceivedDisconnect(4096));
    assert_eq!(err.class(), Class::Unknown);
}

#[test]
fn certificate_failures_are_never_auth() {
    let err = ConnectError::Certificate {
        detail: "certificate verify failed".to_owned(),
    };
    assert_eq!(err.class(), Class::Configuration);
    assert_eq!(err.code(), None);
    assert!(err.fix().contains("CA"));
}
