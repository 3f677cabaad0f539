//! Unit tests of the config and ACL generators.

use std::path::{Path, PathBuf};

use super::*;

fn config() -> BrokerConfig {
    BrokerConfig {
        password_file: "/etc/m/passwd".into(),
        acl_file: "/etc/m/acl".into(),
        persistence_dir: "/var/lib/m".into(),
        tls: TlsListener {
            port: 8883,
            bind: None,
            cafile: "/etc/m/ca.crt".into(),
            certfile: "/etc/m/server.crt".into(),
            keyfile: "/etc/m/server.key".into(),
            require_certificate: false,
        },
        plain: Some(PlainListener { port: 1883 }),
        max_connections: 32,
        max_packet_size: 65_536,
        log_file: None,
        run_as_user: None,
    }
}

#[test]
fn every_listener_is_closed_to_anonymous_clients() {
    let text = config_text(&config()).unwrap();
    assert!(text.contains("per_listener_settings true\n"), "{text}");
    assert_eq!(text.matches("\nlistener ").count(), 2, "{text}");
    assert_eq!(text.matches("allow_anonymous false\n").count(), 2);
    assert_eq!(text.matches("password_file /etc/m/passwd\n").count(), 2);
    assert_eq!(text.matches("acl_file /etc/m/acl\n").count(), 2);
    assert!(!text.contains("allow_anonymous true"));
    assert!(
        text.contains("listener 1883 127.0.0.1\n"),
        "plain is loopback only"
    );
    assert!(text.contains("listener 8883\n"));
    assert!(text.contains("tls_version tlsv1.2\n"));
    assert!(text.contains("require_certificate false\n"));
    assert!(text.contains("persistence_location /var/lib/m/\n"));
    assert!(text.contains("connection_messages true\n"));
    assert!(text.contains("set_tcp_nodelay true\n"));
    assert!(!text.contains("\nuser "), "no user line unless asked");
}

#[test]
fn options_show_up() {
    let mut cfg = config();
    cfg.plain = None;
    cfg.tls.require_certificate = true;
    cfg.tls.bind = Some("192.168.1.2".into());
    cfg.log_file = Some("/var/log/m.log".into());
    cfg.run_as_user = Some("mqtt".into());
    let text = config_text(&cfg).unwrap();
    assert_eq!(text.matches("\nlistener ").count(), 1, "{text}");
    assert!(text.contains("listener 8883 192.168.1.2\n"));
    assert!(text.contains("require_certificate true\n"));
    assert!(text.contains("log_dest file /var/log/m.log\n"));
    assert!(text.contains("\nuser mqtt\n"));
}

#[test]
fn relative_paths_and_line_breaks_are_refused() {
    let mut cfg = config();
    cfg.acl_file = PathBuf::from("acl");
    assert!(matches!(config_text(&cfg), Err(Error::NotAbsolute(_))));
    let mut cfg = config();
    cfg.acl_file = PathBuf::from("/etc/acl\nallow_anonymous true");
    assert!(matches!(config_text(&cfg), Err(Error::Value(_))));
    let mut cfg = config();
    cfg.run_as_user = Some("root\nallow_anonymous true".into());
    assert!(matches!(config_text(&cfg), Err(Error::Value(_))));
}

const TOPICS: ServiceTopics<'static> = ServiceTopics {
    prefix: "solar",
    discovery_prefix: "homeassistant",
    node_id: "solar",
};

#[test]
fn home_assistant_acl_grants_exactly_the_listed_topics() {
    let text =
        acl_text(&home_assistant_acl(&TOPICS, "ctl", "ha", Some("viewer")).unwrap()).unwrap();
    let expected = "# Least-privilege ACL (generated): anything not listed is denied.\n\
        \nuser ctl\ntopic readwrite solar/#\ntopic write homeassistant/+/solar/#\ntopic read homeassistant/status\n\
        \nuser ha\ntopic read solar/#\ntopic write solar/+/set\ntopic readwrite homeassistant/#\n\
        \nuser viewer\ntopic read solar/#\n";
    assert_eq!(text, expected);
    assert!(
        !acl_text(&home_assistant_acl(&TOPICS, "ctl", "ha", None).unwrap())
            .unwrap()
            .contains("viewer")
    );
}

#[test]
fn the_service_never_gets_a_wildcard_of_its_own_making() {
    for (prefix, discovery, node) in [
        ("solar/#", "homeassistant", "solar"),
        ("solar", "homeassistant", "+"),
        ("solar", "homeassistant", "a/b"),
        ("solar", "home+assistant", "solar"),
        ("", "homeassistant", "solar"),
        ("solar//x", "homeassistant", "solar"),
    ] {
        let topics = ServiceTopics {
            prefix,
            discovery_prefix: discovery,
            node_id: node,
        };
        assert!(
            matches!(topics.service_grants(), Err(Error::Topic(_))),
            "{topics:?}"
        );
    }
    let nested = ServiceTopics {
        prefix: "house/solar",
        discovery_prefix: "ha",
        node_id: "house_solar",
    };
    let grants = nested.service_grants().unwrap();
    assert_eq!(grants[1].topic, "ha/+/house_solar/#");
}

#[test]
fn acl_refuses_bad_names_and_topics() {
    let mut users = home_assistant_acl(&TOPICS, "ctl", "ha", None).unwrap();
    users[0].name = "a b".into();
    assert!(matches!(acl_text(&users), Err(Error::Username(_))));
    let mut users = home_assistant_acl(&TOPICS, "ctl", "ha", None).unwrap();
    users[1]
        .grants
        .push(Grant::new(Access::Read, "x\ntopic readwrite #"));
    assert!(matches!(acl_text(&users), Err(Error::Value(_))));
}

fn ctl() -> AclUser {
    AclUser {
        name: "ctl".into(),
        grants: TOPICS.service_grants().unwrap(),
    }
}

const EXISTING: &str = "\
# my broker
topic read $SYS/broker/uptime

user zigbee2mqtt
topic readwrite zigbee2mqtt/#
topic readwrite homeassistant/#
user tasmota
topic readwrite tasmota/#";

#[test]
fn merging_appends_the_block_and_keeps_every_other_line() {
    let merged = merge_acl(EXISTING, &ctl(), BlockRule::Sole).unwrap();
    assert!(!merged.replaced);
    assert!(
        merged.text.starts_with(&format!("{EXISTING}\n\n")),
        "{}",
        merged.text
    );
    assert!(
        merged.text.ends_with(
            "# BEGIN heat-diag block of user ctl\nuser ctl\ntopic readwrite solar/#\n\
             topic write homeassistant/+/solar/#\ntopic read homeassistant/status\n\
             # END heat-diag block of user ctl\n"
        ),
        "{}",
        merged.text
    );
    assert_eq!(merged.other_users, ["zigbee2mqtt", "tasmota"]);
    assert!(merged.patterns.is_empty());

    // Again, with other grants: replaced in place, the rest still byte for byte.
    let mut wider = ctl();
    wider.grants.push(Grant::new(Access::Read, "extra/topic"));
    let again = merge_acl(&merged.text, &wider, BlockRule::Sole).unwrap();
    assert!(again.replaced);
    assert_eq!(
        again.text.matches("\nuser ctl\n").count(),
        1,
        "{}",
        again.text
    );
    assert!(again.text.contains("topic read extra/topic\n# END"));
    assert!(again.text.starts_with(&format!("{EXISTING}\n\n")));
    // And back: the same text as the first merge.
    assert_eq!(
        merge_acl(&again.text, &ctl(), BlockRule::Sole)
            .unwrap()
            .text,
        merged.text
    );
    assert_eq!(
        merge_acl("", &ctl(), BlockRule::Sole).unwrap().text,
        acl_block(&ctl()).unwrap()
    );
}

#[test]
fn merging_reports_patterns_and_refuses_a_hand_written_block() {
    let with_pattern = format!("{EXISTING}\npattern readwrite devices/%u/#\n");
    let merged = merge_acl(&with_pattern, &ctl(), BlockRule::Sole).unwrap();
    assert_eq!(merged.patterns, ["pattern readwrite devices/%u/#"]);

    let hand = format!("{EXISTING}\n\nuser ctl\ntopic readwrite #\n");
    let err = merge_acl(&hand, &ctl(), BlockRule::Sole).unwrap_err();
    assert!(matches!(err, Error::AclConflict { line: 10, .. }), "{err}");
    assert!(err.to_string().contains("line 10"), "{err}");

    // Home Assistant's extra grants sit next to its own block.
    let ha = AclUser {
        name: "zigbee2mqtt".into(),
        grants: vec![Grant::new(Access::Read, "solar/#")],
    };
    let merged = merge_acl(EXISTING, &ha, BlockRule::Additional).unwrap();
    assert!(merged.text.starts_with(EXISTING));
    assert!(
        merged
            .text
            .contains("\nuser zigbee2mqtt\ntopic read solar/#\n# END")
    );
    assert_eq!(merged.other_users, ["zigbee2mqtt", "tasmota"]);

    let open = "# BEGIN heat-diag block of user ctl\nuser ctl\n";
    assert!(matches!(
        merge_acl(open, &ctl(), BlockRule::Sole),
        Err(Error::AclConflict { .. })
    ));
}

#[test]
fn snippets_name_absolute_files_and_nothing_else() {
    let conf = conf_d_text(
        Path::new("/etc/mosquitto/passwd"),
        Path::new("/etc/mosquitto/acl"),
    )
    .unwrap();
    let active: Vec<&str> = conf
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(
        active,
        [
            "allow_anonymous false",
            "password_file /etc/mosquitto/passwd",
            "acl_file /etc/mosquitto/acl"
        ]
    );
    assert!(matches!(
        conf_d_text(Path::new("passwd"), Path::new("/acl")),
        Err(Error::NotAbsolute(_))
    ));
    let addon = addon_acl_conf_text(Path::new("/share/mosquitto/accesscontrollist")).unwrap();
    let active: Vec<&str> = addon.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(active, ["acl_file /share/mosquitto/accesscontrollist"]);
}
