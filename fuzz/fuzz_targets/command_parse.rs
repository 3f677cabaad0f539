//! Fuzz target: `heat_mqtt::command::parse` with an arbitrary topic suffix and payload bytes.
//!
//! Properties: it never panics; a payload it accepts is at most `MAX_PAYLOAD` bytes; an accepted
//! command matches its topic; a parameter value is finite, inside `Parameter::limits()` and on
//! the step. `render_payload` (used for every refusal) never panics and stays short.

#![no_main]

use arbitrary::Arbitrary;
use heat_core::Command;
use heat_mqtt::command::{MAX_PAYLOAD, RENDER_CHARS, parse, render_payload};
use heat_mqtt::topics::{CommandTopic, Topics};
use libfuzzer_sys::fuzz_target;

const PREFIX: &str = "solar_heating";

#[derive(Debug, Arbitrary)]
enum Topic {
    /// One of the real command topics, picked by index: reaches the payload rules quickly.
    Known(u8),
    /// `<prefix>/<suffix>`: anything after the prefix.
    Suffix(String),
    /// Any topic at all.
    Raw(String),
}

#[derive(Debug, Arbitrary)]
struct Input {
    topic: Topic,
    payload: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let commands: Vec<CommandTopic> = CommandTopic::all().collect();
    let topics = Topics::default();
    let topic = match &input.topic {
        Topic::Known(i) => topics.command(commands[usize::from(*i) % commands.len()]),
        Topic::Suffix(suffix) => format!("{PREFIX}/{suffix}"),
        Topic::Raw(raw) => raw.clone(),
    };
    let payload = input.payload.as_slice();

    let rendered = render_payload(payload);
    // `{:?}` escapes each character into at most 10 (`\u{10ffff}`), plus quotes and the length.
    assert!(
        rendered.chars().count() <= RENDER_CHARS * 10 + 24,
        "{rendered}"
    );
    assert!(!rendered.contains('\n'), "{rendered}");

    let Ok(command) = parse(PREFIX, &topic, payload) else {
        return;
    };
    assert!(
        payload.len() <= MAX_PAYLOAD,
        "accepted {} bytes",
        payload.len()
    );
    let which = CommandTopic::from_topic(PREFIX, &topic).expect("accepted on a command topic");
    match command {
        Command::SetMode(_) => assert_eq!(which, CommandTopic::Mode),
        Command::SetPump(_) => assert_eq!(which, CommandTopic::Pump),
        Command::SetHeater(_) => assert_eq!(which, CommandTopic::Heater),
        Command::SetParameter(p, v) => {
            assert_eq!(which, CommandTopic::Parameter(p));
            let l = p.limits();
            assert!(
                v.is_finite() && v >= l.min && v <= l.max,
                "{p} = {v} outside {l:?}"
            );
            let k = ((v - l.min) / l.step).round();
            assert!(
                (l.min + k * l.step - v).abs() <= 1e-9,
                "{p} = {v} off step {l:?}"
            );
        }
    }
});
