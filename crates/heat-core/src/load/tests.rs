//! Load names round-trip through `as_str`/`FromStr` and serde, and unknown names are errors.

use super::*;

#[test]
fn names_round_trip() {
    for load in Load::ALL {
        assert_eq!(load.as_str().parse::<Load>(), Ok(load));
        assert_eq!(load.to_string(), load.as_str());
        let json = serde_json::to_string(&load).unwrap();
        assert_eq!(json, format!("\"{}\"", load.as_str()));
        assert_eq!(serde_json::from_str::<Load>(&json).unwrap(), load);
    }
    assert_eq!(Load::Pump.as_str(), "pump");
    assert_eq!(Load::Heater.as_str(), "heater");
}

#[test]
fn unknown_names_are_errors_that_name_the_choices() {
    for bad in ["", "Pump", "PUMP", "fan", " heater"] {
        let err = bad.parse::<Load>().unwrap_err();
        assert_eq!(err, UnknownLoad(bad.to_owned()));
        assert!(err.to_string().contains("expected pump or heater"), "{err}");
    }
    assert!(serde_json::from_str::<Load>("\"fan\"").is_err());
}
