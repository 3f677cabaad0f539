//! QoS decoding is total: every byte and every paho integer is a level or an error naming it.

use super::*;

#[test]
fn every_byte_is_a_level_or_an_error() {
    let mut levels = Vec::new();
    for byte in 0..=u8::MAX {
        match QoS::try_from(byte) {
            Ok(qos) => {
                assert_eq!(qos.number(), byte);
                levels.push(qos);
            }
            Err(e) => {
                assert!(byte > 2, "{byte} rejected");
                assert_eq!(e, InvalidQos(i64::from(byte)));
                assert!(e.to_string().contains(&format!("QoS {byte} ")), "{e}");
            }
        }
    }
    assert_eq!(levels, QoS::ALL);
}

#[test]
fn paho_integers_round_trip_and_out_of_range_ones_are_errors() {
    for qos in QoS::ALL {
        assert_eq!(QoS::try_from(qos.paho()), Ok(qos));
        assert_eq!(i32::from(qos), i32::from(u8::from(qos)));
    }
    // 0x80 is a SUBACK failure code, not a level; negative values come from paho's C side.
    for bad in [-1, 3, 0x80, 256, i32::MIN, i32::MAX] {
        assert_eq!(QoS::try_from(bad), Err(InvalidQos(i64::from(bad))));
    }
}

#[test]
fn wire_numbers_and_display() {
    assert_eq!(QoS::AtMostOnce.number(), 0);
    assert_eq!(QoS::AtLeastOnce.number(), 1);
    assert_eq!(QoS::ExactlyOnce.number(), 2);
    assert_eq!(QoS::AtLeastOnce.to_string(), "QoS 1");
}
