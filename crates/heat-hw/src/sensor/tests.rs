//! Tests for role names, classification and sweeps.

use super::*;

#[test]
fn roles_round_trip_through_names() {
    for role in SensorRole::ALL {
        assert_eq!(role.as_str().parse::<SensorRole>(), Ok(role));
    }
    assert_eq!(
        "tank_middle".parse::<SensorRole>(),
        Err(UnknownRole("tank_middle".into()))
    );
    assert!(SensorRole::TankTop.is_required());
    assert!(!SensorRole::Ambient.is_required());
    assert_eq!(
        SensorRole::missing_required(&[SensorRole::TankTop, SensorRole::Ambient]),
        [SensorRole::Collector, SensorRole::TankBottom]
    );
    assert!(SensorRole::missing_required(&SensorRole::ALL).is_empty());
}

#[test]
fn classify_table() {
    let cases: &[(i64, Result<f64, SensorError>)] = &[
        (23_125, Ok(23.125)),
        (-10_062, Ok(-10.062)),
        (0, Ok(0.0)),
        // A bare 85.000 passes: only a scratchpad (or heat-core's window) can judge it.
        (85_000, Ok(85.0)),
        (84_937, Ok(84.937)),
        (-127_000, Err(SensorError::Disconnected)),
        (125_000, Ok(125.0)),
        (125_063, Err(SensorError::OutOfRange(125_063))),
        (-55_063, Err(SensorError::OutOfRange(-55_063))),
    ];
    for (milli, expected) in cases {
        assert_eq!(&classify_milli(*milli), expected, "{milli}");
    }
}

#[test]
fn classify_celsius_rejects_non_finite_and_sentinels() {
    assert_eq!(classify_celsius(f64::NAN), Err(SensorError::NotFinite));
    assert_eq!(classify_celsius(f64::INFINITY), Err(SensorError::NotFinite));
    assert_eq!(classify_celsius(85.0), Ok(85.0));
    assert_eq!(classify_celsius(-127.0), Err(SensorError::Disconnected));
    assert_eq!(classify_celsius(21.5), Ok(21.5));
    assert_eq!(classify_celsius(25.0625), Ok(25.0625));
    assert_eq!(
        classify_celsius(1e300),
        Err(SensorError::OutOfRange(i64::MAX))
    );
}

/// The Maxim DS18B20's power-on scratchpad, as cpetrich/counterfeit_DS18B20 documents it
/// ("Initial Scratchpad" of family A1), CRC included.
const POWER_ON: [u8; 9] = [0x50, 0x05, 0x4b, 0x46, 0x7f, 0xff, 0x0c, 0x10, 0x1c];

#[test]
fn power_on_scratchpad_is_the_documented_one() {
    let pad = Scratchpad::power_on();
    assert_eq!(pad.0, POWER_ON);
    assert!(pad.crc_ok());
    assert!(pad.is_power_on());
    assert_eq!(classify_scratchpad(&pad, 0), Err(SensorError::PowerOnValue));
}

#[test]
fn scratchpad_classification_table() {
    let with = |f: &dyn Fn(&mut [u8; 9])| {
        let mut p = POWER_ON;
        f(&mut p);
        Scratchpad(p)
    };
    let cases: &[(Scratchpad, Result<f64, SensorError>, &str)] = &[
        (
            Scratchpad(POWER_ON),
            Err(SensorError::PowerOnValue),
            "power-on",
        ),
        // Genuine part after a real conversion to 85.000: byte 6 = 0x10 - (0x50 & 0x0f) = 0x10.
        (
            Scratchpad::after_conversion(0x0550, 0x7f),
            Ok(85.0),
            "converted 85.000",
        ),
        (with(&|p| p[6] = 0x10), Ok(85.0), "byte 6 changed"),
        // TH/TL/configuration come from the EEPROM at power-on: a user-set resolution or alarm
        // does not hide the power-on value.
        (
            with(&|p| p[4] = 0x1f),
            Err(SensorError::PowerOnValue),
            "9-bit EEPROM",
        ),
        (
            with(&|p| {
                p[2] = 0;
                p[3] = 0
            }),
            Err(SensorError::PowerOnValue),
            "alarms zero",
        ),
        // 0x0C in byte 6 is normal for other values (genuine: LSB nibble 4).
        (
            Scratchpad::after_conversion(0x0554, 0x7f),
            Ok(85.25),
            "85.25 has byte 6 0x0C",
        ),
        (
            with(&|p| p[0] = 0x51),
            Ok(85.0625),
            "85.0625 with byte 6 0x0C",
        ),
        (
            Scratchpad::after_conversion(-2032, 0x7f),
            Err(SensorError::Disconnected),
            "-127",
        ),
        (
            Scratchpad::after_conversion(0x07ff, 0x7f),
            Err(SensorError::OutOfRange(127_938)),
            "127.94",
        ),
        (
            Scratchpad::after_conversion(-161, 0x7f),
            Ok(-10.0625),
            "negative",
        ),
    ];
    for (pad, expected, what) in cases {
        assert_eq!(&classify_scratchpad(pad, 0), expected, "{what}");
    }
    // Undefined low bits at 9 bit are masked before the value is read.
    assert_eq!(
        classify_scratchpad(&Scratchpad::after_conversion(0x0557, 0x1f), 0b111),
        Ok(85.0)
    );
}

#[test]
fn after_conversion_follows_the_genuine_byte6_rule() {
    for raw in -880i16..=2000 {
        let pad = Scratchpad::after_conversion(raw, 0x7f);
        assert!(pad.crc_ok(), "{raw}");
        assert_eq!((pad.0[0].wrapping_add(pad.0[6])) & 0x0f, 0, "{raw}");
        assert!(pad.0[6] > 0 && pad.0[6] <= 0x10, "{raw}");
        // No real conversion produces the power-on pattern on a genuine part.
        assert!(!pad.is_power_on(), "{raw}");
        assert_eq!(
            classify_scratchpad(&pad, 0),
            classify_celsius(f64::from(raw) / 16.0)
        );
    }
}

#[test]
fn sweep_keeps_provenance_per_role() {
    let mut sweep = Sweep::new();
    sweep.insert(SensorRole::Collector, Ok(85.0));
    sweep.insert_from(SensorRole::TankTop, Ok(85.0), Provenance::Scratchpad);
    assert_eq!(
        sweep.provenance(SensorRole::Collector),
        Provenance::ValueOnly
    );
    assert_eq!(
        sweep.provenance(SensorRole::TankTop),
        Provenance::Scratchpad
    );
    assert_eq!(sweep.provenance(SensorRole::Ambient), Provenance::ValueOnly);
    sweep.insert(SensorRole::TankTop, Ok(84.0));
    assert_eq!(sweep.provenance(SensorRole::TankTop), Provenance::ValueOnly);
}

#[test]
fn sweep_reports_unconfigured_role_as_missing_and_replaces() {
    let mut sweep = Sweep::new();
    sweep.insert(SensorRole::Collector, Ok(40.0));
    sweep.insert(SensorRole::Collector, Err(SensorError::Crc));
    assert_eq!(sweep.len(), 1);
    assert_eq!(sweep.get(SensorRole::Collector), Err(SensorError::Crc));
    assert_eq!(sweep.get(SensorRole::Ambient), Err(SensorError::Missing));
}
