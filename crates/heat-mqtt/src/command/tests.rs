//! Tests of command parsing, rejection reasons, payload rendering and the rate limiter.

use proptest::prelude::*;

use super::*;

const P: &str = "solar_heating";

fn topic(name: &str) -> String {
    format!("{P}/{name}/set")
}

#[test]
fn valid_commands() {
    let cases: Vec<(&str, &[u8], Command)> = vec![
        ("mode", b"auto", Command::SetMode(Mode::Auto)),
        ("mode", b"eco", Command::SetMode(Mode::Eco)),
        ("mode", b"manual", Command::SetMode(Mode::Manual)),
        ("mode", b"off\n", Command::SetMode(Mode::Off)),
        ("pump", b"ON", Command::SetPump(true)),
        ("pump", b" OFF\r\n", Command::SetPump(false)),
        ("heater", b"ON", Command::SetHeater(true)),
        ("heater", b"OFF", Command::SetHeater(false)),
        (
            "dt_start",
            b"8",
            Command::SetParameter(Parameter::DtStart, 8.0),
        ),
        (
            "dt_start",
            b"8.5",
            Command::SetParameter(Parameter::DtStart, 8.5),
        ),
        (
            "dt_start",
            b"40.000",
            Command::SetParameter(Parameter::DtStart, 40.0),
        ),
        (
            "frost_on",
            b"-2.5",
            Command::SetParameter(Parameter::FrostOn, -2.5),
        ),
        (
            "frost_on",
            b"-0",
            Command::SetParameter(Parameter::FrostOn, 0.0),
        ),
        (
            "boil_stop",
            b"105",
            Command::SetParameter(Parameter::BoilStop, 105.0),
        ),
    ];
    for (name, payload, expected) in cases {
        assert_eq!(
            parse(P, &topic(name), payload),
            Ok(expected),
            "{name} {payload:?}"
        );
    }
}

#[test]
fn every_parameter_accepts_its_bounds() {
    for p in Parameter::ALL {
        let l = p.limits();
        for v in [l.min, l.max] {
            let payload = format!("{v}");
            assert_eq!(
                parse(P, &topic(p.name()), payload.as_bytes()),
                Ok(Command::SetParameter(p, v)),
                "{p} {payload}"
            );
        }
    }
}

#[test]
fn rejections_name_the_reason() {
    use CommandRejection as R;
    let long = vec![b'1'; MAX_PAYLOAD + 1];
    type Case<'a> = (String, &'a [u8], fn(&R) -> bool);
    let cases: Vec<Case<'_>> = vec![
        (topic("nope"), b"ON", |r| *r == R::UnknownTopic),
        ("other/pump/set".into(), b"ON", |r| *r == R::UnknownTopic),
        (topic("pump"), &long, |r| {
            matches!(r, R::TooLarge { len: 65 })
        }),
        (topic("pump"), b"O\xffN", |r| {
            matches!(r, R::NotUtf8 { offset: 1 })
        }),
        (topic("pump"), b"", |r| matches!(r, R::Empty { .. })),
        (topic("pump"), b"  \n", |r| matches!(r, R::Empty { .. })),
        (topic("pump"), b"on", |r| matches!(r, R::UnknownWord { .. })),
        (topic("pump"), b"On", |r| matches!(r, R::UnknownWord { .. })),
        (topic("pump"), b"1", |r| matches!(r, R::UnknownWord { .. })),
        (topic("heater"), b"true", |r| {
            matches!(r, R::UnknownWord { .. })
        }),
        (topic("mode"), b"AUTO", |r| {
            matches!(r, R::UnknownWord { .. })
        }),
        (topic("mode"), b"boost", |r| {
            matches!(r, R::UnknownWord { .. })
        }),
        (topic("mode"), b"auto\0", |r| {
            matches!(r, R::UnknownWord { .. })
        }),
        (topic("dt_start"), b"nan", |r| {
            matches!(r, R::NotANumber { .. })
        }),
        (topic("dt_start"), b"NaN", |r| {
            matches!(r, R::NotANumber { .. })
        }),
        (topic("dt_start"), b"inf", |r| {
            matches!(r, R::NotANumber { .. })
        }),
        (topic("dt_start"), b"-inf", |r| {
            matches!(r, R::NotANumber { .. })
        }),
        (topic("dt_start"), b"1e1", |r| {
            matches!(r, R::NotANumber { .. })
        }),
        (topic("dt_start"), b"0x10", |r| {
            matches!(r, R::NotANumber { .. })
        }),
        (topic("dt_start"), b"+8", |r| {
            matches!(r, R::NotANumber { .. })
        }),
        (topic("dt_start"), b".5", |r| {
            matches!(r, R::NotANumber { .. })
        }),
        (topic("dt_start"), b"8.", |r| {
            matches!(r, R::NotANumber { .. })
        }),
        (topic("dt_start"), b"8,5", |r| {
            matches!(r, R::NotANumber { .. })
        }),
        (topic("dt_start"), b"1 0", |r| {
            matches!(r, R::NotANumber { .. })
        }),
        (topic("dt_start"), b"--8", |r| {
            matches!(r, R::NotANumber { .. })
        }),
        (topic("dt_start"), b"0000008", |r| {
            matches!(r, R::NotANumber { .. })
        }),
        (topic("dt_start"), b"\xef\xbc\x98", |r| {
            matches!(r, R::NotANumber { .. })
        }),
        (
            topic("dt_start"),
            b"41",
            |r| matches!(r, R::OutOfRange { max, .. } if *max == 40.0),
        ),
        (topic("dt_start"), b"2.5", |r| {
            matches!(r, R::OutOfRange { .. })
        }),
        (topic("tank_max"), b"96", |r| {
            matches!(r, R::OutOfRange { .. })
        }),
        (topic("dt_start"), b"8.25", |r| {
            matches!(r, R::OffStep { .. })
        }),
        (
            topic("boil_stop"),
            b"152",
            |r| matches!(r, R::OffStep { step, .. } if *step == 5.0),
        ),
    ];
    for (t, payload, check) in cases {
        match parse(P, &t, payload) {
            Err(r) => {
                assert!(check(&r), "{t} {payload:?}: {r:?}");
                assert!(!r.to_string().is_empty());
            }
            Ok(c) => panic!("{t} {payload:?} was accepted as {c:?}"),
        }
    }
}

#[test]
fn reasons_are_readable() {
    let r = parse(P, &topic("dt_start"), b"41").unwrap_err();
    assert_eq!(r.to_string(), "dt_start = 41 is outside 3..=40 K");
    let r = parse(P, &topic("pump"), b"on").unwrap_err();
    assert_eq!(
        r.to_string(),
        "unknown value \"on\"; expected ON or OFF (case-sensitive)"
    );
}

#[test]
fn render_payload_truncates_and_escapes() {
    assert_eq!(render_payload(b"ON"), "\"ON\"");
    assert_eq!(render_payload(b"a\"b\n\x1b"), "\"a\\\"b\\n\\u{1b}\"");
    assert_eq!(render_payload(b"\xff"), "\"\u{fffd}\"");
    let long = render_payload(&[b'x'; 1000]);
    assert!(
        long.starts_with(&format!("\"{}\"", "x".repeat(RENDER_CHARS))),
        "{long}"
    );
    assert!(long.ends_with("(1000 bytes)"), "{long}");
    assert!(long.chars().count() < 60, "{long}");
}

#[test]
fn rate_limiter_allows_a_burst_then_refills() {
    let limit = RateLimit {
        burst: 3,
        every: Duration::from_secs(1),
    };
    let mut r = RateLimiter::new(limit);
    let t = Duration::from_secs(100);
    let pump = CommandTopic::Pump;
    for _ in 0..3 {
        assert_eq!(r.check(pump, t), RateDecision::Allow);
    }
    assert_eq!(
        r.check(pump, t),
        RateDecision::Refuse {
            first: true,
            refused: 1
        }
    );
    assert_eq!(
        r.check(pump, t + Duration::from_millis(500)),
        RateDecision::Refuse {
            first: false,
            refused: 2
        }
    );
    // Another topic has its own bucket.
    assert_eq!(r.check(CommandTopic::Mode, t), RateDecision::Allow);
    // One token back after a second.
    assert_eq!(
        r.check(pump, t + Duration::from_secs(1)),
        RateDecision::Allow
    );
    assert!(matches!(
        r.check(pump, t + Duration::from_secs(1)),
        RateDecision::Refuse { first: true, .. }
    ));
    // Time going backwards gives nothing.
    assert!(matches!(r.check(pump, t), RateDecision::Refuse { .. }));
    // A long pause refills to the burst only.
    let later = t + Duration::from_secs(3600);
    for _ in 0..3 {
        assert_eq!(r.check(pump, later), RateDecision::Allow);
    }
    assert!(matches!(r.check(pump, later), RateDecision::Refuse { .. }));
}

#[test]
fn rate_limiter_degenerate_limits() {
    let mut none = RateLimiter::new(RateLimit {
        burst: 0,
        every: Duration::from_secs(1),
    });
    assert!(matches!(
        none.check(CommandTopic::Pump, Duration::from_secs(50)),
        RateDecision::Refuse { .. }
    ));
    let mut unlimited = RateLimiter::new(RateLimit {
        burst: 1,
        every: Duration::ZERO,
    });
    for _ in 0..100 {
        assert_eq!(
            unlimited.check(CommandTopic::Pump, Duration::ZERO),
            RateDecision::Allow
        );
    }
}

fn topic_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::sample::select(Topics::default().commands()),
        "solar_heating/[a-z_]{0,30}/set",
    ]
}

use crate::topics::Topics;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_input_never_panics_nor_leaves_limits(
        topic in topic_strategy(),
        payload in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..100),
            "-?[0-9]{0,7}(\\.[0-9]{0,7})?".prop_map(String::into_bytes),
            "[ -~]{0,20}".prop_map(String::into_bytes),
        ],
    ) {
        let _ = render_payload(&payload);
        if let Ok(cmd) = parse(P, &topic, &payload) {
            prop_assert!(payload.len() <= MAX_PAYLOAD);
            if let Command::SetParameter(p, v) = cmd {
                let l = p.limits();
                prop_assert!(v.is_finite() && v >= l.min && v <= l.max, "{p} {v}");
                let k = ((v - l.min) / l.step).round();
                prop_assert!((l.min + k * l.step - v).abs() <= 1e-9);
            }
        }
    }

    #[test]
    fn rendered_payload_is_short(payload in proptest::collection::vec(any::<u8>(), 0..400)) {
        let r = render_payload(&payload);
        prop_assert!(r.chars().count() <= RENDER_CHARS * 10 + 24);
        prop_assert!(!r.contains('\n'));
    }
}

/// Any suffix after the prefix, a real command topic, or any topic at all (the fuzz target
/// `command_parse` draws topics the same way).
fn suffix_topic_strategy() -> impl Strategy<Value = (String, Option<CommandTopic>)> {
    let known: Vec<CommandTopic> = CommandTopic::all().collect();
    prop_oneof![
        any::<String>().prop_map(|s| (format!("{P}/{s}"), None)),
        proptest::sample::select(known).prop_map(|c| (Topics::default().command(c), Some(c))),
        any::<String>().prop_map(|s| (s, None)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// An accepted command is the one its topic carries, and a parameter is in its limits.
    #[test]
    fn accepted_commands_match_their_topic(
        (topic, known) in suffix_topic_strategy(),
        payload in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..80),
            "[ \t\r\n]{0,2}(auto|eco|manual|off|ON|OFF|-?[0-9]{1,4}(\\.[05]{1,2})?)[ \t\r\n]{0,2}"
                .prop_map(String::into_bytes),
        ],
    ) {
        let Ok(cmd) = parse(P, &topic, &payload) else {
            return Ok(());
        };
        prop_assert!(payload.len() <= MAX_PAYLOAD);
        let which = CommandTopic::from_topic(P, &topic);
        prop_assert!(which.is_some(), "accepted on {topic:?}");
        if let Some(known) = known {
            prop_assert_eq!(which, Some(known));
        }
        let matches = match cmd {
            Command::SetMode(_) => which == Some(CommandTopic::Mode),
            Command::SetPump(_) => which == Some(CommandTopic::Pump),
            Command::SetHeater(_) => which == Some(CommandTopic::Heater),
            Command::StartDisinfection => which == Some(CommandTopic::Disinfect),
            Command::SetHolidayEnd(_) => which == Some(CommandTopic::HolidayEnd),
            Command::SetParameter(p, v) => {
                let l = p.limits();
                let k = ((v - l.min) / l.step).round();
                which == Some(CommandTopic::Parameter(p))
                    && v.is_finite()
                    && v >= l.min
                    && v <= l.max
                    && (l.min + k * l.step - v).abs() <= 1e-9
            }
        };
        prop_assert!(matches, "{cmd:?} from {topic:?}");
    }
}
