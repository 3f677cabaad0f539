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
        (85_000, Err(SensorError::PowerOnValue)),
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
    assert_eq!(classify_celsius(85.0), Err(SensorError::PowerOnValue));
    assert_eq!(classify_celsius(-127.0), Err(SensorError::Disconnected));
    assert_eq!(classify_celsius(21.5), Ok(21.5));
    assert_eq!(classify_celsius(25.0625), Ok(25.0625));
    assert_eq!(
        classify_celsius(1e300),
        Err(SensorError::OutOfRange(i64::MAX))
    );
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
