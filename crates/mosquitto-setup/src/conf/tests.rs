//! Unit tests of the config and ACL generators.

use std::path::PathBuf;

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

#[test]
fn home_assistant_acl_grants_exactly_the_listed_topics() {
    let text = acl_text(&home_assistant_acl("solar", "ctl", "ha", Some("viewer"))).unwrap();
    let expected = "# Least-privilege ACL (generated): anything not listed is denied.\n\
        \nuser ctl\ntopic readwrite solar/#\ntopic write homeassistant/#\ntopic read homeassistant/status\n\
        \nuser ha\ntopic read solar/#\ntopic write solar/+/set\ntopic readwrite homeassistant/#\n\
        \nuser viewer\ntopic read solar/#\n";
    assert_eq!(text, expected);
    assert!(
        !acl_text(&home_assistant_acl("solar", "ctl", "ha", None))
            .unwrap()
            .contains("viewer")
    );
}

#[test]
fn acl_refuses_bad_names_and_topics() {
    let mut users = home_assistant_acl("p", "ctl", "ha", None);
    users[0].name = "a b".into();
    assert!(matches!(acl_text(&users), Err(Error::Username(_))));
    let mut users = home_assistant_acl("p", "ctl", "ha", None);
    users[1]
        .grants
        .push(Grant::new(Access::Read, "x\ntopic readwrite #"));
    assert!(matches!(acl_text(&users), Err(Error::Value(_))));
}
