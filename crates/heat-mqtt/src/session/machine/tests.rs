//! Tables of events → actions for the pure session. Each row is (session time in ms, event,
//! the actions it must give), the actions written short (see [`short`]); the driver's own part
//! is tested against a real Mosquitto in `tests/it`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use heat_core::{Controller, Mode, Params, Readings, Timestamp};
use mqtt_auth::{Class, RetryPolicy, ReturnCode};

use super::*;
use crate::topics::CommandTopic;

/// No jitter: the waits in the tables are the schedule's own.
fn policy() -> RetryPolicy {
    RetryPolicy {
        jitter: 0.0,
        ..RetryPolicy::default()
    }
}

fn machine_with(watch_password_file: bool) -> SessionState {
    SessionState::new(
        MachineConfig {
            topics: Topics::default(),
            device: Device::default(),
            discovery: true,
            retry: policy(),
            rate_limit: RateLimit::default(),
            watch_password_file,
        },
        Peer {
            broker: "127.0.0.1:1883".into(),
            tls: false,
            client_id: "solar-heating".into(),
        },
        7,
    )
}

fn machine() -> SessionState {
    machine_with(false)
}

fn status() -> Status {
    let mut c = Controller::new(Params::default(), Timestamp::from_secs(0));
    c.step(
        Timestamp::from_secs(1),
        &Readings::celsius(30.0, 20.0, 40.0),
    );
    c.status()
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
}

fn message(topic: &str, payload: &str) -> Event {
    Event::Message(Inbound {
        topic: topic.into(),
        payload: payload.as_bytes().to_vec(),
        retained: false,
    })
}

fn refused(class: Class) -> Event {
    Event::ConnectFailed(Refusal {
        class,
        reason: "not authorised".into(),
        fix: "check the password".into(),
    })
}

/// An action written short: `publish <topic> <payload or summary> [r]`, `subscribe <filters>`,
/// `deliver <topic>`, `answer <topic> ok|refused: <reason start>`, `link <state>`,
/// `wake <ms>`, `report <kind>`, and the bare names of the rest. Discovery messages all read
/// `discovery`, states `state`, and runs of the same short form collapse to `<form> ×<n>`.
fn short(actions: &[Action]) -> Vec<String> {
    let one = |a: &Action| -> String {
        match a {
            Action::Connect => "connect".into(),
            Action::Publish(p) if p.topic.starts_with("homeassistant/") => "discovery".into(),
            Action::Publish(p) if p.topic == "solar_heating/state" => {
                format!("state{}", if p.retain { " r" } else { "" })
            }
            Action::Publish(p) => format!(
                "publish {} {}{}",
                p.topic,
                String::from_utf8_lossy(&p.payload),
                if p.retain { " r" } else { "" }
            ),
            Action::Subscribe(filters) => format!("subscribe {}", filters.join(" ")),
            Action::Deliver(c) => format!("deliver {}", c.topic),
            Action::Answer(a) if a.accepted => format!("answer {} ok", a.topic),
            Action::Answer(a) => format!(
                "answer {} refused: {}",
                a.topic,
                a.reason.chars().take(24).collect::<String>()
            ),
            Action::SetLink(LinkState::Connecting) => "link connecting".into(),
            Action::SetLink(LinkState::Connected) => "link connected".into(),
            Action::SetLink(LinkState::Rejected { .. }) => "link rejected".into(),
            Action::SetLink(LinkState::Down { reason }) => format!("link down: {reason}"),
            Action::SetLink(LinkState::Stopped) => "link stopped".into(),
            Action::WakeAt(t) => format!("wake {}", t.as_millis()),
            Action::Probe => "probe".into(),
            Action::CheckPasswordFile => "check password file".into(),
            Action::Disconnect => "disconnect".into(),
            Action::Report(e) => format!("report {}", e.kind()),
        }
    };
    let mut out: Vec<(String, usize)> = Vec::new();
    for a in actions {
        let s = one(a);
        match out.last_mut() {
            Some((last, n)) if *last == s => *n += 1,
            _ => out.push((s, 1)),
        }
    }
    out.into_iter()
        .map(|(s, n)| if n == 1 { s } else { format!("{s} ×{n}") })
        .collect()
}

/// Runs `rows` through `m`, checking each row's actions.
fn run(m: &mut SessionState, rows: Vec<(u64, Event, Vec<&str>)>) {
    for (i, (ms, event, want)) in rows.into_iter().enumerate() {
        let shown = format!("{event:?}");
        let got = short(&m.handle(Duration::from_millis(ms), event));
        assert_eq!(
            got,
            want,
            "row {i} at {ms} ms: {}",
            shown.chars().take(120).collect::<String>()
        );
    }
}

/// How many discovery messages a connect publishes.
fn discovery_count() -> usize {
    discovery_messages(&Topics::default(), &Device::default()).len()
}

/// Connected at 0 ms, with no status handed over yet.
fn connected(m: &mut SessionState) {
    m.handle(Duration::ZERO, Event::Tick);
    m.handle(
        Duration::ZERO,
        Event::Connected {
            session_present: false,
        },
    );
}

#[test]
fn a_connect_announces_online_subscribes_and_sends_discovery_and_the_state() {
    let d = format!("discovery ×{}", discovery_count());
    let mut m = machine();
    run(
        &mut m,
        vec![
            (0, Event::Tick, vec!["link connecting", "connect"]),
            // The first state is kept for the connection, not published into the void.
            (5, Event::NewStatus(Box::new(status()), at(0)), vec![]),
            (
                10,
                Event::Connected {
                    session_present: false,
                },
                vec![
                    "publish solar_heating/availability online r",
                    "subscribe solar_heating/+/set homeassistant/status",
                    &d,
                    "state r",
                    "link connected",
                    "report connected",
                ],
            ),
            // Every state handed over while up goes out once.
            (
                20,
                Event::NewStatus(Box::new(status()), at(1)),
                vec!["state r"],
            ),
            (30, Event::Tick, vec![]),
        ],
    );
    assert_eq!(m.link_info().connects, 1);
}

#[test]
fn a_lost_connection_waits_the_minimum_then_probes_and_reconnects_at_once_when_the_port_accepts() {
    let mut m = machine();
    connected(&mut m);
    run(
        &mut m,
        vec![
            // Lost within the minimum delay: no probe may end the wait (the schedule's rule),
            // but the drop is checked for a takeover with one probe.
            (
                500,
                Event::Lost(Loss::Dropped),
                vec!["probe", "link down: connection lost", "report lost"],
            ),
            // A restarting broker refuses: not a takeover; wait for the 1 s minimum.
            (510, Event::Reachable(false), vec!["wake 1500"]),
            (1500, Event::Tick, vec!["link connecting", "connect"]),
            (
                1520,
                Event::ConnectFailed(Refusal {
                    class: Class::Transient,
                    reason: "connection refused".into(),
                    fix: "start the broker".into(),
                }),
                vec![
                    "link down: connection refused",
                    "report connect_failed",
                    "probe",
                ],
            ),
            // The next try is 2 s out; probes, at most one per 250 ms, may end the wait.
            (1530, Event::Reachable(false), vec!["wake 1770"]),
            (1770, Event::Tick, vec!["probe"]),
            (
                1780,
                Event::Reachable(true),
                vec!["link connecting", "connect"],
            ),
            (
                1790,
                Event::Connected {
                    session_present: false,
                },
                vec![
                    "publish solar_heating/availability online r",
                    "subscribe solar_heating/+/set homeassistant/status",
                    &format!("discovery ×{}", discovery_count()),
                    "link connected",
                    "report connected",
                ],
            ),
        ],
    );
    assert_eq!(m.link_info().connects, 2);
}

#[test]
fn a_failed_publish_disconnects_and_reconnects_on_the_schedule() {
    let mut m = machine();
    connected(&mut m);
    run(
        &mut m,
        vec![
            (
                5000,
                Event::Lost(Loss::Failed("publishing on x failed: timeout".into())),
                vec![
                    "disconnect",
                    "probe",
                    "link down: publishing on x failed: timeout",
                    "report lost",
                ],
            ),
            (
                5010,
                Event::Reachable(true),
                vec!["link connecting", "connect"],
            ),
        ],
    );
}

#[test]
fn rejections_follow_the_long_schedule_and_a_reload_retries_at_once() {
    let mut m = machine_with(true);
    run(
        &mut m,
        vec![
            (0, Event::Tick, vec!["link connecting", "connect"]),
            // Refused: 30 s, never probed; the password file is looked at every 5 s.
            (
                10,
                refused(Class::AuthRejected),
                vec![
                    "link rejected",
                    "report connect_failed",
                    "check password file",
                    "wake 5010",
                ],
            ),
            (5010, Event::Tick, vec!["check password file", "wake 10010"]),
            (
                10010,
                Event::Tick,
                vec!["check password file", "wake 15010"],
            ),
            (
                12000,
                Event::CredentialsReloaded(Trigger::Signal),
                vec!["report credentials_reloaded", "link connecting", "connect"],
            ),
            // Refused again: the next look at the file comes first.
            (
                12010,
                refused(Class::AuthRejected),
                vec!["link rejected", "report connect_failed", "wake 15010"],
            ),
        ],
    );
    let mut m = machine();
    m.handle(Duration::ZERO, Event::Tick);
    // Without a watched file: 30 s, then the schedule's second step (1 min), never probed.
    run(
        &mut m,
        vec![
            (
                10,
                refused(Class::AuthRejected),
                vec!["link rejected", "report connect_failed", "wake 30010"],
            ),
            (30_010, Event::Tick, vec!["link connecting", "connect"]),
            (
                30_020,
                refused(Class::AuthRejected),
                vec!["link rejected", "report connect_failed", "wake 90020"],
            ),
        ],
    );
}

#[test]
fn a_message_flood_is_answered_once_and_counted() {
    let mut m = machine();
    connected(&mut m);
    let pump = "solar_heating/pump/set";
    let mut rows: Vec<(u64, Event, Vec<&str>)> = (0..5)
        .map(|i| {
            (
                100 + i,
                message(pump, "ON"),
                vec!["deliver solar_heating/pump/set"],
            )
        })
        .collect();
    rows.push((
        110,
        message(pump, "ON"),
        vec!["answer solar_heating/pump/set refused: too many commands on thi"],
    ));
    for i in 0..50 {
        rows.push((111 + i, message(pump, "ON"), vec![]));
    }
    // Another topic has its own bucket.
    rows.push((
        200,
        message("solar_heating/mode/set", "manual"),
        vec!["deliver solar_heating/mode/set"],
    ));
    // A second later the bucket has one again.
    rows.push((
        1200,
        message(pump, "OFF"),
        vec!["deliver solar_heating/pump/set"],
    ));
    run(&mut m, rows);
    assert_eq!(m.link_info().commands_rejected, 51);
}

#[test]
fn a_retained_command_is_refused_with_how_to_clear_it() {
    let mut m = machine();
    connected(&mut m);
    let a = m.handle(
        Duration::from_millis(100),
        Event::Message(Inbound {
            topic: "solar_heating/mode/set".into(),
            payload: b"eco".to_vec(),
            retained: true,
        }),
    );
    let [Action::Answer(answer)] = a.as_slice() else {
        panic!("one answer expected: {a:?}");
    };
    assert!(!answer.accepted);
    assert!(
        answer
            .reason
            .contains("mosquitto_pub -r -n -t 'solar_heating/mode/set'"),
        "{answer:?}"
    );
}

#[test]
fn answers_go_out_in_the_order_they_come_and_only_while_connected() {
    let mut m = machine();
    connected(&mut m);
    let ok = |t: &str| Event::Answer(Answer::new(t, true, "accepted"));
    run(
        &mut m,
        vec![
            (
                10,
                message("solar_heating/mode/set", "manual"),
                vec!["deliver solar_heating/mode/set"],
            ),
            (
                11,
                message("solar_heating/pump/set", "maybe"),
                vec!["answer solar_heating/pump/set refused: unknown value \"maybe\"; e"],
            ),
            (
                12,
                message("solar_heating/nope/set", "1"),
                vec!["answer solar_heating/nope/set refused: unknown command topic"],
            ),
            (
                13,
                ok("solar_heating/mode/set"),
                vec!["answer solar_heating/mode/set ok"],
            ),
            (
                14,
                Event::Undelivered {
                    topic: "solar_heating/heater/set".into(),
                    why: Undelivered::Busy,
                },
                vec!["answer solar_heating/heater/set refused: controller busy: too man"],
            ),
            // Lost within the minimum delay: no probe, the policy's pace.
            (
                15,
                Event::Lost(Loss::Disconnected(ReturnCode::v5(0x8B))),
                vec![
                    "link down: the broker disconnected with reason ServerShuttingDown (0x8B)",
                    "report lost",
                    "wake 1015",
                ],
            ),
            // Down: an answer is dropped (the state after the reconnect shows the outcome), and
            // so is a message still queued from the old connection.
            (16, Event::Tick, vec!["wake 1015"]),
            (17, ok("solar_heating/pump/set"), vec!["wake 1015"]),
            (
                18,
                message("solar_heating/pump/set", "ON"),
                vec!["wake 1015"],
            ),
        ],
    );
}

#[test]
fn home_assistant_online_brings_discovery_and_the_state_again() {
    let d = format!("discovery ×{}", discovery_count());
    let mut m = machine();
    connected(&mut m);
    m.handle(
        Duration::from_millis(1),
        Event::NewStatus(Box::new(status()), at(0)),
    );
    run(
        &mut m,
        vec![
            (
                100,
                message("homeassistant/status", "online"),
                vec![&d, "state r"],
            ),
            (200, message("homeassistant/status", "offline"), vec![]),
        ],
    );
}

#[test]
fn mqtt5_session_taken_over_is_named_with_the_fix() {
    let mut m = machine_with(false);
    connected(&mut m);
    run(
        &mut m,
        vec![(
            90_000,
            Event::Lost(Loss::Disconnected(ReturnCode::v5(0x8E))),
            vec![
                "report taken_over",
                "link down: session taken over by another client with the same client id",
                "report lost",
                "probe",
            ],
        )],
    );
}

#[test]
fn two_quick_drops_while_the_broker_accepts_are_named_a_takeover() {
    let mut m = machine();
    connected(&mut m);
    run(
        &mut m,
        vec![
            (
                3000,
                Event::Lost(Loss::Dropped),
                vec!["probe", "link down: connection lost", "report lost"],
            ),
            // Lived 3 s: the probe may also end the wait.
            (
                3010,
                Event::Reachable(true),
                vec!["link connecting", "connect"],
            ),
            (
                3020,
                Event::Connected {
                    session_present: false,
                },
                vec![
                    "publish solar_heating/availability online r",
                    "subscribe solar_heating/+/set homeassistant/status",
                    &format!("discovery ×{}", discovery_count()),
                    "link connected",
                    "report connected",
                ],
            ),
            (
                3500,
                Event::Lost(Loss::Dropped),
                vec!["probe", "link down: connection lost", "report lost"],
            ),
            (
                3510,
                Event::Reachable(true),
                vec!["report taken_over", "wake 4500"],
            ),
        ],
    );
    let event = m.handle(Duration::from_millis(4500), Event::Tick);
    assert_eq!(short(&event), ["link connecting", "connect"]);
}

#[test]
fn drops_with_the_broker_gone_are_no_takeover() {
    let mut m = machine();
    connected(&mut m);
    for round in 0..5u64 {
        let t = 10_000 * (round + 1);
        m.handle(Duration::from_millis(t), Event::Lost(Loss::Dropped));
        let a = m.handle(Duration::from_millis(t + 5), Event::Reachable(false));
        assert!(
            !short(&a).contains(&"report taken_over".to_owned()),
            "{a:?}"
        );
        m.handle(Duration::from_millis(t + 5000), Event::Tick);
        m.handle(
            Duration::from_millis(t + 5010),
            Event::Connected {
                session_present: false,
            },
        );
    }
    // A connection that lived longer than the window resets the count too.
    let mut m = machine();
    connected(&mut m);
    m.handle(Duration::from_millis(1000), Event::Lost(Loss::Dropped));
    m.handle(Duration::from_millis(1001), Event::Reachable(true));
    m.handle(
        Duration::from_millis(1002),
        Event::Connected {
            session_present: false,
        },
    );
    let a = m.handle(TAKEOVER_WINDOW * 2, Event::Lost(Loss::Dropped));
    assert_eq!(
        short(&a),
        ["link down: connection lost", "report lost", "probe"]
    );
}

#[test]
fn a_stop_says_offline_and_disconnects_and_then_nothing_happens() {
    let mut m = machine();
    connected(&mut m);
    run(
        &mut m,
        vec![
            (
                50,
                Event::Stop,
                vec![
                    "publish solar_heating/availability offline r",
                    "disconnect",
                    "link stopped",
                ],
            ),
            (60, message("solar_heating/mode/set", "eco"), vec![]),
            (70, Event::Tick, vec![]),
        ],
    );
    // Stopped while down: nothing to say.
    let mut m = machine();
    m.handle(Duration::ZERO, Event::Tick);
    assert_eq!(
        short(&m.handle(Duration::ZERO, Event::Stop)),
        ["link stopped"]
    );
}

#[test]
fn a_delivered_command_is_the_parsed_command() {
    let mut m = machine();
    connected(&mut m);
    let a = m.handle(
        Duration::from_millis(5),
        message("solar_heating/mode/set", "eco"),
    );
    assert_eq!(
        a,
        [Action::Deliver(InboundCommand {
            topic: "solar_heating/mode/set".into(),
            command: heat_core::Command::SetMode(Mode::Eco),
        })]
    );
    assert_eq!(
        CommandTopic::from_topic("solar_heating", "solar_heating/mode/set"),
        Some(CommandTopic::Mode)
    );
}

/// (class, reason of the previous rejection in a row, this reason) → how it is logged.
#[test]
fn only_the_first_rejection_of_a_row_is_an_error() {
    use FailureNote::*;
    const AUTH: &str = "not authorised";
    const CERT: &str = "server certificate rejected: expired";
    let table: [(Class, Option<&str>, &str, FailureNote, log::Level); 10] = [
        (
            Class::AuthRejected,
            None,
            AUTH,
            FirstRejection,
            log::Level::Error,
        ),
        (
            Class::AuthRejected,
            Some(AUTH),
            AUTH,
            RepeatedRejection,
            log::Level::Warn,
        ),
        (
            Class::Configuration,
            None,
            CERT,
            FirstRejection,
            log::Level::Error,
        ),
        (
            Class::Configuration,
            Some(CERT),
            CERT,
            RepeatedRejection,
            log::Level::Warn,
        ),
        // A new reason has a new fix: an error again.
        (
            Class::Configuration,
            Some(AUTH),
            CERT,
            FirstRejection,
            log::Level::Error,
        ),
        (
            Class::AuthRejected,
            Some(CERT),
            AUTH,
            FirstRejection,
            log::Level::Error,
        ),
        // Network failures are warnings, and do not end a row of rejections.
        (Class::Transient, None, "refused", Failure, log::Level::Warn),
        (
            Class::Transient,
            Some(AUTH),
            "timeout",
            Failure,
            log::Level::Warn,
        ),
        (Class::Unknown, Some(AUTH), "?", Failure, log::Level::Warn),
        (Class::Accepted, None, "?", Failure, log::Level::Warn),
    ];
    for (class, last, reason, note, level) in table {
        let got = FailureNote::classify(class, last, reason);
        assert_eq!(
            (got, got.level()),
            (note, level),
            "{class} {last:?} {reason}"
        );
    }
}

#[test]
fn failure_lines_say_what_failed_when_it_is_retried_and_how_to_fix_a_rejection() {
    let wait = Duration::from_millis(33_240);
    let first = FailureNote::FirstRejection.line("b:1883", "not authorised", "set X", 1, wait);
    assert_eq!(
        first,
        "MQTT connection to b:1883 refused: not authorised; fix: set X. The plant keeps being \
         controlled without MQTT; next attempt in 33.2s"
    );
    let again = FailureNote::RepeatedRejection.line("b:1883", "not authorised", "set X", 3, wait);
    assert_eq!(
        again,
        "MQTT connection to b:1883 still refused (3 in a row): not authorised; next attempt in \
         33.2s; fix: set X"
    );
    let down = FailureNote::Failure.line("b:1883", "connection refused", "unused", 0, wait);
    assert_eq!(
        down,
        "MQTT connection to b:1883 failed: connection refused; next attempt in 33.2s"
    );
}

#[test]
fn shell_quoting_survives_quotes() {
    assert_eq!(shell_quoted("a/b_c-1/set"), "'a/b_c-1/set'");
    assert_eq!(shell_quoted("it's"), r"'it'\''s'");
    assert_eq!(shell_quoted(""), "''");
}
