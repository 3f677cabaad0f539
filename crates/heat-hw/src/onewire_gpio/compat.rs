//! Bridges embedded-hal 1.0 pins and delays into the 0.2 traits that `one-wire-bus` and
//! `ds18b20` 0.1.1 expect.

use std::cell::RefCell;

use embedded_hal::delay::DelayNs;
use embedded_hal::digital::{InputPin, OutputPin};
use embedded_hal_02::blocking::delay::{DelayMs, DelayUs};
use embedded_hal_02::digital::v2 as eh02;

/// An open-drain line (1.0 `InputPin + OutputPin`) seen as a 0.2 `InputPin + OutputPin`.
///
/// 0.2 reads pins through `&self` while 1.0 needs `&mut self`, hence the `RefCell`; every call
/// borrows for its own duration only and nothing re-enters, so a borrow never overlaps.
#[derive(Debug)]
pub struct Eh02Pin<P>(RefCell<P>);

impl<P> Eh02Pin<P> {
    /// Wraps a 1.0 pin.
    pub fn new(pin: P) -> Self {
        Self(RefCell::new(pin))
    }

    /// Unwraps the 1.0 pin.
    pub fn into_inner(self) -> P {
        self.0.into_inner()
    }
}

impl<P: OutputPin> eh02::OutputPin for Eh02Pin<P> {
    type Error = P::Error;

    fn set_low(&mut self) -> Result<(), Self::Error> {
        self.0.get_mut().set_low()
    }

    fn set_high(&mut self) -> Result<(), Self::Error> {
        self.0.get_mut().set_high()
    }
}

impl<P: InputPin> eh02::InputPin for Eh02Pin<P> {
    type Error = P::Error;

    fn is_high(&self) -> Result<bool, Self::Error> {
        self.0.borrow_mut().is_high()
    }

    fn is_low(&self) -> Result<bool, Self::Error> {
        self.0.borrow_mut().is_low()
    }
}

/// A borrowed 1.0 delay seen as 0.2 `DelayUs<u16> + DelayMs<u16>`.
#[derive(Debug)]
pub struct Eh02Delay<'a, D: ?Sized>(pub &'a mut D);

impl<D: DelayNs + ?Sized> DelayUs<u16> for Eh02Delay<'_, D> {
    fn delay_us(&mut self, us: u16) {
        self.0.delay_us(u32::from(us));
    }
}

impl<D: DelayNs + ?Sized> DelayMs<u16> for Eh02Delay<'_, D> {
    fn delay_ms(&mut self, ms: u16) {
        self.0.delay_ms(u32::from(ms));
    }
}
