//! Relay outputs: the pump and heater loads, on GPIO lines or simulated.
//!
//! Safety rule: every load is OFF when a driver starts and when its owner drops it. Polarity is
//! configurable because the original board's relays are normally closed (line low = load ON).

use std::fmt;

use embedded_hal::digital::OutputPin;

pub mod cdev;

#[cfg(test)]
mod tests;

/// Which load a relay switches: heat-core's [`Load`](heat_core::Load), under the name the relay
/// code has always used, so heat-core, heat-hw and the tools share one definition of the names.
pub use heat_core::Load as RelayRole;

/// Which line level turns the load ON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polarity {
    /// Line high = load ON.
    ActiveHigh,
    /// Line low = load ON (the original normally-closed relay board).
    ActiveLow,
}

impl Polarity {
    /// The line level (true = high) that gives the load state `on`.
    pub fn level(self, on: bool) -> bool {
        match self {
            Self::ActiveHigh => on,
            Self::ActiveLow => !on,
        }
    }
}

/// A single relay driver failure, generic over the pin error.
#[derive(Debug, thiserror::Error)]
pub enum Error<E> {
    /// Writing the output line failed.
    #[error("output pin write failed: {0:?}")]
    Bus(E),
}

/// One relay on one output line. Owns the pin; drives the load OFF on creation and on drop.
#[derive(Debug)]
pub struct Relay<P: OutputPin> {
    // Option only so `release` can move the pin out of a type that implements Drop.
    pin: Option<P>,
    polarity: Polarity,
    state: Option<bool>,
}

impl<P: OutputPin> Relay<P> {
    /// Takes the pin and switches the load OFF. On failure the error is returned and the pin
    /// dropped, since a relay whose OFF state cannot be set must not be used.
    pub fn new(pin: P, polarity: Polarity) -> Result<Self, Error<P::Error>> {
        let mut relay = Self {
            pin: Some(pin),
            polarity,
            state: None,
        };
        if let Err(e) = relay.set(false) {
            // Skip Drop's OFF write: the caller already has the error for this very write.
            relay.pin = None;
            return Err(e);
        }
        Ok(relay)
    }

    /// Switches the load. On error the state becomes unknown ([`Relay::is_on`] is `None`).
    pub fn set(&mut self, on: bool) -> Result<(), Error<P::Error>> {
        let Some(pin) = self.pin.as_mut() else {
            return Ok(());
        };
        let result = if self.polarity.level(on) {
            pin.set_high()
        } else {
            pin.set_low()
        };
        match result {
            Ok(()) => {
                self.state = Some(on);
                Ok(())
            }
            Err(e) => {
                self.state = None;
                Err(Error::Bus(e))
            }
        }
    }

    /// The last successfully commanded state; `None` after a failed write.
    pub fn is_on(&self) -> Option<bool> {
        self.state
    }

    /// The configured polarity.
    pub fn polarity(&self) -> Polarity {
        self.polarity
    }

    /// Gives the pin back as it is, without switching it; the caller owns the load from now on.
    pub fn release(mut self) -> P {
        match self.pin.take() {
            Some(pin) => pin,
            // `pin` is only taken here, and `self` is consumed, so it is always present.
            None => unreachable!("relay pin taken twice"),
        }
    }
}

impl<P: OutputPin> Drop for Relay<P> {
    fn drop(&mut self) {
        if self.pin.is_some()
            && let Err(Error::Bus(e)) = self.set(false)
        {
            log::error!("relay: could not switch load OFF on drop: {e:?}");
        }
    }
}

/// A failure of the relay outputs, uniform across backends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// The role has no relay configured.
    #[error("no {0} relay configured")]
    NotConfigured(RelayRole),
    /// Writing the relay's output failed; its state is now unknown.
    #[error("switching the {role} relay failed: {message}")]
    Write {
        /// The relay that failed.
        role: RelayRole,
        /// The underlying error, formatted.
        message: String,
    },
}

/// The plant's switched loads.
pub trait RelayOutputs {
    /// Switches one load.
    fn set(&mut self, role: RelayRole, on: bool) -> Result<(), RelayError>;

    /// The last successfully commanded state; `None` if unconfigured or unknown after a failure.
    fn get(&self, role: RelayRole) -> Option<bool>;

    /// Switches every load OFF, trying all of them; returns the first failure.
    fn safe_state(&mut self) -> Result<(), RelayError>;
}

/// [`RelayOutputs`] over GPIO output pins of one type.
#[derive(Debug)]
pub struct GpioRelays<P: OutputPin> {
    relays: Vec<(RelayRole, Relay<P>)>,
}

impl<P: OutputPin> GpioRelays<P> {
    /// Takes ready relays (each already OFF from [`Relay::new`]).
    pub fn new(relays: Vec<(RelayRole, Relay<P>)>) -> Self {
        Self { relays }
    }

    /// Gives the relays back; dropping them switches their loads OFF.
    pub fn into_relays(self) -> Vec<(RelayRole, Relay<P>)> {
        self.relays
    }

    fn relay_mut(&mut self, role: RelayRole) -> Result<&mut Relay<P>, RelayError> {
        self.relays
            .iter_mut()
            .find(|(r, _)| *r == role)
            .map(|(_, relay)| relay)
            .ok_or(RelayError::NotConfigured(role))
    }
}

fn write_error<E: fmt::Debug>(role: RelayRole, e: Error<E>) -> RelayError {
    let Error::Bus(inner) = e;
    RelayError::Write {
        role,
        message: format!("{inner:?}"),
    }
}

impl<P: OutputPin> RelayOutputs for GpioRelays<P> {
    fn set(&mut self, role: RelayRole, on: bool) -> Result<(), RelayError> {
        self.relay_mut(role)?
            .set(on)
            .map_err(|e| write_error(role, e))
    }

    fn get(&self, role: RelayRole) -> Option<bool> {
        self.relays
            .iter()
            .find(|(r, _)| *r == role)
            .and_then(|(_, relay)| relay.is_on())
    }

    fn safe_state(&mut self) -> Result<(), RelayError> {
        let mut first = None;
        for (role, relay) in &mut self.relays {
            if let Err(e) = relay.set(false) {
                first.get_or_insert(write_error(*role, e));
            }
        }
        first.map_or(Ok(()), Err)
    }
}
