//! Tests for the return-code tables: every byte of both versions, and spot checks.

use super::*;

const PROTOCOLS: [Protocol; 2] = [Protocol::V311, Protocol::V5];

fn all_codes() -> impl Iterator<Item = ReturnCode> {
    PROTOCOLS
        .into_iter()
        .flat_map(|p| (0..=u8::MAX).map(move |b| ReturnCode::new(p, b)))
}

#[test]
fn every_byte_decodes_fully_for_both_versions() {
    let mut count = 0;
    for code in all_codes() {
        count += 1;
        assert!(!code.name().is_empty(), "{code:?}");
        assert!(!code.name().contains(' '), "{code:?}");
        assert!(!code.reason().is_empty(), "{code:?}");
        assert_eq!(
            code.byte() == 0,
            code.class() == Class::Accepted,
            "{code:?}"
        );
        assert_eq!(code.fix().is_none(), code.is_success(), "{code:?}");
        assert_eq!(
            code.severity() == Severity::Info,
            code.class() == Class::Accepted,
            "{code:?}"
        );
        let shown = code.to_string();
        assert!(shown.contains(code.name()), "{shown}");
        assert!(shown.contains(code.reason()), "{shown}");
        assert_eq!(
            code.protocol(),
            ReturnCode::new(code.protocol(), code.byte()).protocol()
        );
    }
    assert_eq!(count, 512);
}

#[test]
fn auth_rejected_set_is_exact() {
    let v3: Vec<u8> = (0..=u8::MAX)
        .filter(|&b| ReturnCode::v311(b).class() == Class::AuthRejected)
        .collect();
    assert_eq!(v3, [4, 5]);
    let v5: Vec<u8> = (0..=u8::MAX)
        .filter(|&b| ReturnCode::v5(b).class() == Class::AuthRejected)
        .collect();
    assert_eq!(v5, [0x86, 0x87, 0x8A, 0x8C]);
}

#[test]
fn v311_table() {
    use Class::*;
    let table = [
        (0, "Accepted", Accepted, Severity::Info),
        (
            1,
            "UnacceptableProtocolVersion",
            Configuration,
            Severity::Error,
        ),
        (2, "IdentifierRejected", Configuration, Severity::Error),
        (3, "ServerUnavailable", Transient, Severity::Warning),
        (4, "BadUserNameOrPassword", AuthRejected, Severity::Error),
        (5, "NotAuthorized", AuthRejected, Severity::Error),
    ];
    for (byte, name, class, severity) in table {
        let code = ReturnCode::v311(byte);
        assert_eq!(
            (code.name(), code.class(), code.severity()),
            (name, class, severity),
            "byte {byte}"
        );
    }
    for byte in 6..=u8::MAX {
        let code = ReturnCode::v311(byte);
        assert_eq!(code.name(), "Reserved");
        assert_eq!(code.class(), Unknown);
        assert_eq!(code.severity(), Severity::Error);
    }
}

#[test]
fn v5_table() {
    use Class::*;
    let table = [
        (0x00, "Success", Accepted),
        (0x01, "GrantedQos1", Unknown),
        (0x04, "DisconnectWithWillMessage", Unknown),
        (0x80, "UnspecifiedError", Transient),
        (0x81, "MalformedPacket", Configuration),
        (0x82, "ProtocolError", Configuration),
        (0x83, "ImplementationSpecificError", Unknown),
        (0x84, "UnsupportedProtocolVersion", Configuration),
        (0x85, "ClientIdentifierNotValid", Configuration),
        (0x86, "BadUserNameOrPassword", AuthRejected),
        (0x87, "NotAuthorized", AuthRejected),
        (0x88, "ServerUnavailable", Transient),
        (0x89, "ServerBusy", Transient),
        (0x8A, "Banned", AuthRejected),
        (0x8B, "ServerShuttingDown", Unknown),
        (0x8C, "BadAuthenticationMethod", AuthRejected),
        (0x8D, "KeepAliveTimeout", Unknown),
        (0x8E, "SessionTakenOver", Unknown),
        (0x90, "TopicNameInvalid", Configuration),
        (0x95, "PacketTooLarge", Configuration),
        (0x96, "MessageRateTooHigh", Unknown),
        (0x97, "QuotaExceeded", Transient),
        (0x99, "PayloadFormatInvalid", Configuration),
        (0x9A, "RetainNotSupported", Configuration),
        (0x9B, "QosNotSupported", Configuration),
        (0x9C, "UseAnotherServer", Transient),
        (0x9D, "ServerMoved", Configuration),
        (0x9F, "ConnectionRateExceeded", Transient),
        (0xA2, "WildcardSubscriptionsNotSupported", Unknown),
        (0x03, "Reserved", Unknown),
        (0x7F, "Reserved", Unknown),
        (0xA3, "Reserved", Unknown),
        (0xFF, "Reserved", Unknown),
    ];
    for (byte, name, class) in table {
        let code = ReturnCode::v5(byte);
        assert_eq!(
            (code.name(), code.class()),
            (name, class),
            "byte {byte:#04x}"
        );
    }
}

#[test]
fn v5_names_agree_with_paho_where_paho_knows_the_code() {
    for byte in 0..=u8::MAX {
        let paho = paho_mqtt::ReasonCode::from(u32::from(byte));
        if paho == paho_mqtt::ReasonCode::MqttppV3Code {
            continue;
        }
        let ours = ReturnCode::v5(byte);
        // paho says "NoSubscriptionFound" where the MQTT 5 specification says "No subscription existed".
        if byte == 0x11 {
            assert_eq!(ours.name(), "NoSubscriptionExisted");
            continue;
        }
        assert_eq!(ours.name(), format!("{paho:?}"), "byte {byte:#04x}");
        assert_eq!(ReturnCode::from(paho), ours);
    }
}

#[test]
fn paho_v3_codes_convert() {
    use paho_mqtt::ConnectReturnCode as P;
    assert_eq!(ReturnCode::from(P::NotAuthorized), ReturnCode::v311(5));
    assert_eq!(
        ReturnCode::from(P::BadUserNameOrPassword).name(),
        "BadUserNameOrPassword"
    );
    assert_eq!(ReturnCode::from(P::Accepted).class(), Class::Accepted);
}

#[test]
fn display_is_decimal_for_v311_and_hex_for_v5() {
    assert_eq!(
        ReturnCode::v5(0x87).to_string(),
        "0x87 NotAuthorized (not authorized)"
    );
    assert_eq!(ReturnCode::v5(0x8A).to_string(), "0x8A Banned (banned)");
    assert_eq!(
        ReturnCode::v311(5).to_string(),
        "5 NotAuthorized (not authorized)"
    );
    assert_eq!(ReturnCode::v311(200).number().to_string(), "200");
    assert_eq!(ReturnCode::v5(0).number().to_string(), "0x00");
}

#[test]
fn auth_fixes_point_at_credentials() {
    for code in all_codes().filter(|c| c.class() == Class::AuthRejected) {
        let fix = code.fix().unwrap_or_default();
        assert!(
            fix.contains("MQTT_USERNAME") || fix.contains("authentication method"),
            "{code}: {fix}"
        );
    }
    assert!(
        ReturnCode::v5(0x87)
            .fix()
            .unwrap_or_default()
            .contains("MQTT_PASSWORD")
    );
}

#[test]
fn class_names_and_retryability() {
    let names: Vec<String> = Class::ALL.iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        [
            "accepted",
            "auth_rejected",
            "transient",
            "configuration",
            "unknown"
        ]
    );
    let retryable: Vec<Class> = Class::ALL
        .into_iter()
        .filter(|c| c.is_retryable())
        .collect();
    assert_eq!(retryable, [Class::Transient, Class::Unknown]);
    assert_eq!(Severity::Warning.log_level(), log::Level::Warn);
}
