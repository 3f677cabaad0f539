//! Unit tests of the snippet generator: the files it writes are the documented list, and the
//! controller's block is exactly its own topics.

use clap::Parser;

use super::*;

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    args: Args,
}

fn args(extra: &[&str]) -> Args {
    let mut argv = vec![
        "provision",
        "/tmp/snippet",
        "--snippet",
        "--iterations",
        "10000",
    ];
    argv.extend_from_slice(extra);
    Cli::parse_from(argv).args
}

fn topics(args: &Args) -> Topics {
    Topics::new(&args.topic_prefix, &args.discovery_prefix).unwrap()
}

fn written(args: &Args, existing: Option<&str>) -> (Vec<Output>, Merged) {
    generate(args, &topics(args), Path::new("/tmp/snippet"), existing).unwrap()
}

fn text<'a>(outputs: &'a [Output], name: &str) -> &'a str {
    let o = outputs
        .iter()
        .find(|o| o.path == Path::new("/tmp/snippet").join(name))
        .unwrap_or_else(|| panic!("no {name}"));
    std::str::from_utf8(&o.contents).unwrap()
}

#[test]
fn each_target_writes_exactly_its_documented_files() {
    let debian = [
        ("conf.d/heat-controller.conf", 0o644),
        ("passwd.add", 0o600),
        ("acl", 0o644),
        ("heat-controller.password", 0o600),
        ("heat.env", 0o644),
    ];
    let addon = [
        ("acl.conf", 0o644),
        ("accesscontrollist", 0o644),
        ("heat-controller.password", 0o600),
        ("heat.env", 0o644),
    ];
    for (flag, expected) in [("debian", &debian[..]), ("ha-addon", &addon[..])] {
        let args = args(&["--for", flag]);
        let (outputs, _) = written(&args, None);
        let got: Vec<(String, u32)> = outputs
            .iter()
            .map(|o| {
                let rel = o.path.strip_prefix("/tmp/snippet").unwrap();
                (rel.display().to_string(), o.mode)
            })
            .collect();
        let expected: Vec<(String, u32)> = expected
            .iter()
            .map(|(n, m)| ((*n).to_owned(), *m))
            .collect();
        assert_eq!(got, expected, "{flag}");
    }
}

#[test]
fn the_controller_gets_its_prefix_its_discovery_and_ha_status_only() {
    let (outputs, _) = written(&args(&["--topic-prefix", "house/solar"]), None);
    let acl = text(&outputs, "acl");
    let block: Vec<&str> = acl
        .split("\nuser heat-controller\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with("topic "))
        .collect();
    assert_eq!(
        block,
        [
            "topic readwrite house/solar/#",
            "topic write homeassistant/+/house_solar/#",
            "topic read homeassistant/status",
        ]
    );
    // Home Assistant may read the controller and send it commands.
    assert!(acl.contains(
        "\nuser homeassistant\ntopic read house/solar/#\ntopic write house/solar/+/set\n"
    ));
    let env = text(&outputs, "heat.env");
    assert!(env.contains("MQTT_TOPIC_PREFIX=house/solar\n"), "{env}");
    assert!(!env.contains("PASSWORD="), "{env}");
}

#[test]
fn the_password_is_only_in_its_file_and_the_hash_verifies_it() {
    let (outputs, _) = written(&args(&[]), None);
    let password = text(&outputs, "heat-controller.password")
        .trim_end()
        .to_owned();
    assert!(password.len() >= 32);
    let line = text(&outputs, "passwd.add").trim_end();
    assert_eq!(
        mosquitto_setup::verify_line(line, &secrecy::SecretString::from(password.clone())),
        Ok(true)
    );
    for o in &outputs {
        if !o.path.ends_with("heat-controller.password") {
            let body = String::from_utf8_lossy(&o.contents);
            assert!(!body.contains(&password), "{}", o.path.display());
        }
    }
}

#[test]
fn the_addon_acl_keeps_its_reserved_users_and_the_conf_names_the_share() {
    let (outputs, _) = written(
        &args(&["--for", "ha-addon", "--addon-folder", "mqtt"]),
        None,
    );
    let acl = text(&outputs, "accesscontrollist");
    for user in ADDON_USERS {
        assert!(
            acl.contains(&format!("\nuser {user}\ntopic readwrite #\n")),
            "{acl}"
        );
    }
    assert!(acl.contains("\nuser heat-controller\ntopic readwrite solar_heating/#\n"));
    let conf = text(&outputs, "acl.conf");
    assert!(
        conf.ends_with("acl_file /share/mqtt/accesscontrollist\n"),
        "{conf}"
    );
}

#[test]
fn an_existing_acl_keeps_its_lines_and_a_hand_written_controller_block_is_refused() {
    let existing = "user zigbee2mqtt\ntopic readwrite zigbee2mqtt/#\n";
    let (outputs, merged) = written(&args(&[]), Some(existing));
    assert!(text(&outputs, "acl").starts_with(existing));
    assert_eq!(merged.other_users, ["zigbee2mqtt"]);
    let hand = "user heat-controller\ntopic readwrite #\n";
    let args = args(&[]);
    let Err(err) = generate(&args, &topics(&args), Path::new("/tmp/snippet"), Some(hand)) else {
        panic!("a hand-written block of the controller was merged");
    };
    assert!(format!("{err:#}").contains("line 1"), "{err:#}");
}

#[test]
fn options_of_a_new_broker_are_refused_with_a_snippet() {
    for extra in [
        ["--tls-port", "8884"],
        ["--plain-port", "1883"],
        ["--log-file", "/x"],
    ] {
        let mut argv = vec!["provision", "/tmp/snippet", "--snippet"];
        argv.extend_from_slice(&extra);
        assert!(Cli::try_parse_from(&argv).is_err(), "{argv:?}");
    }
    assert!(Cli::try_parse_from(["provision", "/tmp/x", "--for", "debian"]).is_err());
    assert!(Cli::try_parse_from(["provision", "/tmp/x", "--existing-acl", "/etc/acl"]).is_err());
}
