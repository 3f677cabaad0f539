//! Tests of topic derivation and prefix validation.

use super::*;

#[test]
fn default_topics() {
    let t = Topics::default();
    assert_eq!(t.availability(), "solar_heating/availability");
    assert_eq!(t.state(), "solar_heating/state");
    assert_eq!(t.result(), "solar_heating/result");
    assert_eq!(t.command(CommandTopic::Mode), "solar_heating/mode/set");
    assert_eq!(
        t.command(CommandTopic::Parameter(Parameter::DtStart)),
        "solar_heating/dt_start/set"
    );
    assert_eq!(t.ha_status(), "homeassistant/status");
    assert_eq!(t.command_filter(), "solar_heating/+/set");
    assert_eq!(t.commands().len(), CommandTopic::count());
    assert_eq!(Topics::new("solar_heating", "homeassistant"), Ok(t));
}

#[test]
fn command_topic_round_trip_and_dense_index() {
    let mut seen = vec![false; CommandTopic::count()];
    for c in CommandTopic::all() {
        let topic = Topics::default().command(c);
        assert_eq!(CommandTopic::from_topic("solar_heating", &topic), Some(c));
        assert!(!seen[c.index()], "index {} twice", c.index());
        seen[c.index()] = true;
    }
    assert!(seen.iter().all(|s| *s));
}

#[test]
fn unknown_topics_are_not_commands() {
    for topic in [
        "solar_heating/state",
        "solar_heating/mode",
        "solar_heating/mode/set/x",
        "solar_heatingX/mode/set",
        "other/mode/set",
        "solar_heating//set",
        "solar_heating/unknown/set",
        "",
    ] {
        assert_eq!(
            CommandTopic::from_topic("solar_heating", topic),
            None,
            "{topic}"
        );
    }
}

#[test]
fn bad_prefixes_are_refused() {
    let cases: [(&str, &str); 8] = [
        ("", "homeassistant"),
        ("a/+", "homeassistant"),
        ("a/#", "homeassistant"),
        ("/a", "homeassistant"),
        ("a//b", "homeassistant"),
        ("homeassistant/solar", "homeassistant"),
        ("homeassistant", "homeassistant"),
        ("solar", "solar/ha"),
    ];
    for (prefix, discovery) in cases {
        assert!(
            Topics::new(prefix, discovery).is_err(),
            "{prefix} {discovery}"
        );
    }
    assert!(Topics::new(&"a".repeat(65), "homeassistant").is_err());
    assert!(Topics::new("home/solar-1", "homeassistant").is_ok());
    assert!(Topics::new("homeassistant2", "homeassistant").is_ok());
}

#[test]
fn node_ids_have_no_slashes() {
    let node = |prefix| Topics::new(prefix, "homeassistant").unwrap().node_id();
    assert_eq!(node("solar_heating"), "solar_heating");
    assert_eq!(node("house/solar"), "house_solar");
}
