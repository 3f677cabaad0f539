//! Relay tests against mocked output pins: polarity, safe state, failures.

use std::io::ErrorKind;

use embedded_hal_mock::eh1::MockError;
use embedded_hal_mock::eh1::digital::{Mock as PinMock, State, Transaction as T};

use super::*;

fn fail(state: State) -> T {
    T::set(state).with_error(MockError::Io(ErrorKind::BrokenPipe))
}

#[test]
fn active_high_drives_high_for_on() {
    let mut pin = PinMock::new(&[
        T::set(State::Low),
        T::set(State::High),
        T::set(State::Low),
        T::set(State::Low),
    ]);
    {
        let mut relay = Relay::new(pin.clone(), Polarity::ActiveHigh).unwrap();
        assert_eq!(relay.is_on(), Some(false));
        relay.set(true).unwrap();
        assert_eq!(relay.is_on(), Some(true));
        relay.set(false).unwrap();
    } // drop: OFF once more
    pin.done();
}

#[test]
fn active_low_drives_low_for_on_and_high_for_off() {
    // Normally-closed board: OFF at start is high, ON is low, drop ends high.
    let mut pin = PinMock::new(&[T::set(State::High), T::set(State::Low), T::set(State::High)]);
    {
        let mut relay = Relay::new(pin.clone(), Polarity::ActiveLow).unwrap();
        relay.set(true).unwrap();
        assert_eq!(relay.is_on(), Some(true));
        assert_eq!(relay.polarity(), Polarity::ActiveLow);
    }
    pin.done();
}

#[test]
fn drop_switches_load_off_even_while_on() {
    let mut pin = PinMock::new(&[T::set(State::Low), T::set(State::High), T::set(State::Low)]);
    let mut relay = Relay::new(pin.clone(), Polarity::ActiveHigh).unwrap();
    relay.set(true).unwrap();
    drop(relay);
    pin.done();
}

#[test]
fn release_returns_the_pin_untouched() {
    let pin = PinMock::new(&[T::set(State::Low), T::set(State::High)]);
    let mut relay = Relay::new(pin, Polarity::ActiveHigh).unwrap();
    relay.set(true).unwrap();
    let mut pin = relay.release();
    // No OFF write on release: the transaction list is complete as is.
    pin.done();
}

#[test]
fn failed_write_is_reported_and_state_becomes_unknown() {
    let mut pin = PinMock::new(&[T::set(State::Low), fail(State::High), T::set(State::Low)]);
    {
        let mut relay = Relay::new(pin.clone(), Polarity::ActiveHigh).unwrap();
        let err = relay.set(true).unwrap_err();
        assert!(matches!(
            err,
            Error::Bus(MockError::Io(ErrorKind::BrokenPipe))
        ));
        assert_eq!(relay.is_on(), None);
    }
    pin.done();
}

#[test]
fn failed_initial_off_is_an_error() {
    let mut pin = PinMock::new(&[fail(State::High)]);
    assert!(Relay::new(pin.clone(), Polarity::ActiveLow).is_err());
    pin.done();
}

#[test]
fn gpio_relays_route_by_role_and_safe_state_tries_every_load() {
    let mut pump = PinMock::new(&[
        T::set(State::High), // new: OFF (active low)
        T::set(State::Low),  // pump ON
        fail(State::High),   // safe_state fails on the pump...
        T::set(State::High), // drop: OFF
    ]);
    let mut heater = PinMock::new(&[
        T::set(State::Low),  // new: OFF (active high)
        T::set(State::High), // heater ON
        T::set(State::Low),  // ...and still reaches the heater
        T::set(State::Low),  // drop: OFF
    ]);
    {
        let mut relays = GpioRelays::new(vec![
            (
                RelayRole::Pump,
                Relay::new(pump.clone(), Polarity::ActiveLow).unwrap(),
            ),
            (
                RelayRole::Heater,
                Relay::new(heater.clone(), Polarity::ActiveHigh).unwrap(),
            ),
        ]);
        assert_eq!(relays.get(RelayRole::Pump), Some(false));
        relays.set(RelayRole::Pump, true).unwrap();
        relays.set(RelayRole::Heater, true).unwrap();
        assert_eq!(relays.get(RelayRole::Heater), Some(true));
        let err = relays.safe_state().unwrap_err();
        assert!(
            matches!(
                err,
                RelayError::Write {
                    role: RelayRole::Pump,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(relays.get(RelayRole::Pump), None);
        assert_eq!(relays.get(RelayRole::Heater), Some(false));
    }
    pump.done();
    heater.done();
}

#[test]
fn unconfigured_role_is_an_error_not_a_panic() {
    let mut relays: GpioRelays<PinMock> = GpioRelays::new(Vec::new());
    assert_eq!(
        relays.set(RelayRole::Heater, true),
        Err(RelayError::NotConfigured(RelayRole::Heater))
    );
    assert_eq!(relays.get(RelayRole::Heater), None);
    assert_eq!(relays.safe_state(), Ok(()));
}

#[test]
fn polarity_levels() {
    assert!(Polarity::ActiveHigh.level(true));
    assert!(!Polarity::ActiveHigh.level(false));
    assert!(!Polarity::ActiveLow.level(true));
    assert!(Polarity::ActiveLow.level(false));
    assert_eq!(RelayRole::Pump.to_string(), "pump");
}
