//! Tests of the relay check against mocked output pins (polarity, safe state, interruption,
//! write failures). The lock file's own tests are heat-hw's (`relay_lock`).

use std::{
    io::ErrorKind,
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use embedded_hal_mock::eh1::MockError;
use embedded_hal_mock::eh1::digital::{
    Mock as PinMock,
    State::{self, High, Low},
    Transaction as T,
};
use heat_hw::{Polarity, RelayRole, relay::Relay};

use super::{Args, Finish, exercise};

const NO_HOLD: Duration = Duration::ZERO;

/// A pin that expects these levels to be written, in order, without errors.
fn pin(levels: &[State]) -> PinMock {
    PinMock::new(&levels.iter().map(|&l| T::set(l)).collect::<Vec<_>>())
}

/// [`check_with`] with no signal arriving.
fn check(
    pin: &PinMock,
    polarity: Polarity,
    on: bool,
    hold: Duration,
) -> (Result<Finish, String>, String) {
    let (_tx, rx) = mpsc::channel();
    check_with(pin, polarity, on, hold, &rx)
}

/// Runs `exercise` on a relay over `pin`, dropping the relay afterwards; returns the result and
/// the progress text.
fn check_with(
    pin: &PinMock,
    polarity: Polarity,
    on: bool,
    hold: Duration,
    stop: &mpsc::Receiver<i32>,
) -> (Result<Finish, String>, String) {
    let mut relay = Relay::new(pin.clone(), polarity).unwrap();
    let mut out = Vec::new();
    let result =
        exercise(&mut relay, RelayRole::Pump, on, hold, stop, &mut out).map_err(|e| e.to_string());
    drop(relay);
    (result, String::from_utf8(out).unwrap())
}

#[test]
fn active_low_on_is_low_then_back_high() {
    // OFF at open (high), ON (low), OFF (high), OFF again on drop.
    let mut pin = pin(&[High, Low, High, High]);
    let (result, out) = check(&pin, Polarity::ActiveLow, true, NO_HOLD);
    assert_eq!(result, Ok(Finish::Elapsed));
    assert!(out.contains("pump ON (line low)"), "{out}");
    assert!(
        out.contains("pump OFF (line high): back in the safe state"),
        "{out}"
    );
    pin.done();
}

#[test]
fn active_high_on_is_high_then_back_low() {
    let mut pin = pin(&[Low, High, Low, Low]);
    let (result, out) = check(&pin, Polarity::ActiveHigh, true, NO_HOLD);
    assert_eq!(result, Ok(Finish::Elapsed));
    assert!(out.contains("pump ON (line high)"), "{out}");
    pin.done();
}

#[test]
fn off_check_never_drives_the_on_level() {
    let mut pin = pin(&[High; 4]);
    let (result, out) = check(&pin, Polarity::ActiveLow, false, NO_HOLD);
    assert_eq!(result, Ok(Finish::Elapsed));
    assert!(out.contains("pump OFF (line high) for 0 s"), "{out}");
    pin.done();
}

#[test]
fn the_hold_lasts_its_time() {
    let mut pin = pin(&[Low, High, Low, Low]);
    let start = Instant::now();
    let (result, _) = check(&pin, Polarity::ActiveHigh, true, Duration::from_millis(300));
    assert_eq!(result, Ok(Finish::Elapsed));
    assert!(start.elapsed() >= Duration::from_millis(300));
    pin.done();
}

#[test]
fn a_signal_during_the_hold_ends_it_and_switches_off() {
    let mut pin = pin(&[Low, High, Low, Low]);
    let (tx, rx) = mpsc::channel();
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        tx.send(2).unwrap();
    });
    let start = Instant::now();
    let (result, out) = check_with(
        &pin,
        Polarity::ActiveHigh,
        true,
        Duration::from_secs(60),
        &rx,
    );
    sender.join().unwrap();
    assert_eq!(result, Ok(Finish::Interrupted(2)));
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(out.contains("back in the safe state"), "{out}");
    pin.done();
}

#[test]
fn a_signal_before_switching_leaves_the_load_off() {
    // Only the OFF of the open and the OFF of the drop: never ON.
    let mut pin = pin(&[Low, Low]);
    let (tx, rx) = mpsc::channel();
    tx.send(15).unwrap();
    let (result, out) = check_with(&pin, Polarity::ActiveHigh, true, NO_HOLD, &rx);
    assert_eq!(result, Ok(Finish::Interrupted(15)));
    assert!(out.is_empty(), "{out}");
    pin.done();
}

#[test]
fn without_a_signal_source_the_hold_is_waited_out() {
    let mut pin = pin(&[Low, High, Low, Low]);
    let (tx, rx) = mpsc::channel::<i32>();
    drop(tx);
    let start = Instant::now();
    let (result, _) = check_with(
        &pin,
        Polarity::ActiveHigh,
        true,
        Duration::from_millis(200),
        &rx,
    );
    assert_eq!(result, Ok(Finish::Elapsed));
    assert!(start.elapsed() >= Duration::from_millis(200));
    pin.done();
}

#[test]
fn a_failed_on_write_still_tries_off_and_reports() {
    let mut pin = PinMock::new(&[
        T::set(State::Low),
        T::set(State::High).with_error(MockError::Io(ErrorKind::BrokenPipe)),
        T::set(State::Low),
        T::set(State::Low),
    ]);
    let (result, out) = check(&pin, Polarity::ActiveHigh, true, NO_HOLD);
    let err = result.unwrap_err();
    assert!(err.contains("BrokenPipe"), "{err}");
    assert!(out.is_empty(), "{out}");
    pin.done();
}

#[test]
fn a_failed_off_write_is_an_error() {
    // The OFF after the hold fails; the drop tries once more.
    let mut pin = PinMock::new(&[
        T::set(State::High),
        T::set(State::Low),
        T::set(State::High).with_error(MockError::Io(ErrorKind::BrokenPipe)),
        T::set(State::High),
    ]);
    let (result, out) = check(&pin, Polarity::ActiveLow, true, NO_HOLD);
    assert!(result.is_err());
    assert!(!out.contains("safe state"), "{out}");
    pin.done();
}

/// `heat-diag relay <name> <state>` as clap parses it.
#[derive(Debug, clap::Parser)]
struct Cli {
    #[command(flatten)]
    args: Args,
}

#[test]
fn the_relay_name_is_heat_cores_load_and_other_names_are_refused_with_the_choices() {
    use clap::Parser as _;
    for role in RelayRole::ALL {
        let cli = Cli::try_parse_from(["relay", role.as_str(), "on"]).unwrap();
        assert_eq!(cli.args.name, role);
    }
    let err = Cli::try_parse_from(["relay", "fan", "on"]).unwrap_err();
    let shown = err.to_string();
    assert_eq!(err.kind(), clap::error::ErrorKind::InvalidValue, "{shown}");
    assert!(
        shown.contains("fan") && shown.contains("pump, heater"),
        "{shown}"
    );
}
