//! DS18B20 sensors bit-banged on one GPIO line, using `one-wire-bus` and `ds18b20` (embedded-hal
//! 0.2) over embedded-hal 1.0 pins through [`compat`].
//!
//! A sweep sends one skip-ROM CONVERT T to every device, waits one conversion time for the
//! configured resolution, then reads each scratchpad by ROM address.
//!
//! Timing caveat: 1-Wire slots are 6–70 µs. A sleeping delay (linux-embedded-hal's `Delay`)
//! overshoots those by far; use [`SpinDelay`], and prefer the kernel w1 driver ([`crate::w1`]).

use std::path::Path;
use std::time::{Duration, Instant};

use embedded_hal::delay::DelayNs;
use embedded_hal::digital::{InputPin, OutputPin};
use linux_embedded_hal::CdevPin;
use linux_embedded_hal::gpio_cdev::LineRequestFlags;
use one_wire_bus::{Address, OneWire, OneWireError};

pub mod compat;

#[cfg(test)]
mod tests;

use compat::{Eh02Delay, Eh02Pin};

use crate::gpio::{GpioError, GpioFailure, request_line};
use crate::sensor::{
    Provenance, Scratchpad, SensorBank, SensorError, SensorRole, Sweep, classify_scratchpad,
};

pub use one_wire_bus::Address as RomAddress;

const WRITE_SCRATCHPAD: u8 = ds18b20::commands::WRITE_SCRATCHPAD;
const READ_SCRATCHPAD: u8 = ds18b20::commands::READ_SCRATCHPAD;
const CONVERT_TEMP: u8 = ds18b20::commands::CONVERT_TEMP;

/// The ROM address of the sensor the kernel w1 driver names `id` (`28-0123456789ab`), so one
/// configuration names a sensor the same way for both backends; `None` if `id` is not `28-`
/// and 12 hex digits.
///
/// The kernel prints the 48-bit serial as a number, while the ROM sends it least significant
/// byte first after the family code, followed by the Dallas CRC-8 of those seven bytes;
/// `Address` holds the eight ROM bytes little-endian.
pub fn address_from_w1_id(id: &str) -> Option<Address> {
    let hex = id.strip_prefix(crate::w1::FAMILY_PREFIX)?;
    if hex.len() != 12 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let serial = u64::from_str_radix(hex, 16).ok()?;
    let mut rom = [0u8; 8];
    rom[0] = 0x28;
    rom[1..7].copy_from_slice(&serial.to_le_bytes()[..6]);
    rom[7] = one_wire_bus::crc::crc8(&rom[..7]);
    Some(Address(u64::from_le_bytes(rom)))
}

/// The kernel w1 name of a ROM address (`28-0123456789ab`): the inverse of
/// [`address_from_w1_id`] for DS18B20 addresses.
pub fn w1_id(address: Address) -> String {
    let bytes = address.0.to_le_bytes();
    let mut serial = [0u8; 8];
    serial[..6].copy_from_slice(&bytes[1..7]);
    format!("{:02x}-{:012x}", bytes[0], u64::from_le_bytes(serial))
}

/// Conversion resolution; fewer bits convert faster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// 0.5 °C, 93.75 ms.
    Bits9,
    /// 0.25 °C, 187.5 ms.
    Bits10,
    /// 0.125 °C, 375 ms.
    Bits11,
    /// 0.0625 °C, 750 ms.
    Bits12,
}

impl Resolution {
    /// From a bit count 9–12; anything else is `None`.
    pub fn from_bits(bits: u8) -> Option<Self> {
        match bits {
            9 => Some(Self::Bits9),
            10 => Some(Self::Bits10),
            11 => Some(Self::Bits11),
            12 => Some(Self::Bits12),
            _ => None,
        }
    }

    fn driver(self) -> ds18b20::Resolution {
        match self {
            Self::Bits9 => ds18b20::Resolution::Bits9,
            Self::Bits10 => ds18b20::Resolution::Bits10,
            Self::Bits11 => ds18b20::Resolution::Bits11,
            Self::Bits12 => ds18b20::Resolution::Bits12,
        }
    }

    /// The configuration-register byte.
    pub fn config_byte(self) -> u8 {
        self.driver() as u8
    }

    /// Worst-case conversion time (datasheet, rounded up to whole ms).
    pub fn conversion_time(self) -> Duration {
        Duration::from_millis(u64::from(self.driver().max_measurement_time_millis()))
    }

    /// Low bits of the temperature register that are undefined at this resolution.
    fn undefined_bits(self) -> i16 {
        match self {
            Self::Bits9 => 0b111,
            Self::Bits10 => 0b11,
            Self::Bits11 => 0b1,
            Self::Bits12 => 0,
        }
    }
}

/// A bit-banged bus failure, generic over the pin error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error<E> {
    /// The pin itself failed.
    #[error("pin error: {0:?}")]
    Bus(E),
    /// The line never went high: missing pull-up or a short to ground.
    #[error("bus held low")]
    BusNotHigh,
    /// No device answered the reset pulse.
    #[error("no presence pulse")]
    NoPresence,
    /// The scratchpad CRC did not match.
    #[error("scratchpad CRC mismatch")]
    Crc,
    /// The bus answered inconsistently (device added or removed during a search).
    #[error("unexpected response")]
    UnexpectedResponse,
    /// An operation did not finish in time.
    #[error("timed out")]
    Timeout,
    /// The device answered, but with a sensor-level fault: the power-on scratchpad, −127 °C, a
    /// value out of range.
    #[error("{0}")]
    Reading(SensorError),
    /// The ROM address is not a DS18B20 (family code 0x28).
    #[error("not a DS18B20 address: {0:#018x}")]
    NotDs18b20(u64),
}

impl<E> From<OneWireError<E>> for Error<E> {
    fn from(e: OneWireError<E>) -> Self {
        match e {
            OneWireError::PinError(e) => Self::Bus(e),
            OneWireError::BusNotHigh => Self::BusNotHigh,
            OneWireError::UnexpectedResponse => Self::UnexpectedResponse,
            OneWireError::CrcMismatch => Self::Crc,
            OneWireError::Timeout => Self::Timeout,
            // Only produced by `ds18b20::Ds18b20::new`, which this driver does not call.
            OneWireError::FamilyCodeMismatch => Self::UnexpectedResponse,
        }
    }
}

impl<E: std::fmt::Debug> Error<E> {
    /// The uniform sensor error for a bank sweep.
    pub fn to_sensor_error(&self) -> SensorError {
        match self {
            Self::NoPresence => SensorError::Missing,
            Self::Crc => SensorError::Crc,
            Self::Timeout => SensorError::Timeout,
            Self::Reading(e) => e.clone(),
            other => SensorError::Io(other.to_string()),
        }
    }
}

/// DS18B20 devices on one open-drain GPIO line. Owns the pin.
pub struct Ds18b20Bus<P> {
    wire: OneWire<Eh02Pin<P>>,
    resolution: Resolution,
}

// `OneWire` has no Debug impl, so show what matters.
impl<P> std::fmt::Debug for Ds18b20Bus<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ds18b20Bus")
            .field("resolution", &self.resolution)
            .finish_non_exhaustive()
    }
}

impl<P, E> Ds18b20Bus<P>
where
    P: InputPin<Error = E> + OutputPin<Error = E>,
    E: std::fmt::Debug,
{
    /// Takes the pin and releases the bus (line high). Assumes devices are at 12 bit (the
    /// factory default) until [`Ds18b20Bus::set_resolution`] says otherwise.
    pub fn new(pin: P) -> Result<Self, Error<E>> {
        Ok(Self {
            wire: OneWire::new(Eh02Pin::new(pin))?,
            resolution: Resolution::Bits12,
        })
    }

    /// Gives the pin back.
    pub fn release(self) -> P {
        self.wire.into_inner().into_inner()
    }

    /// The resolution the conversion wait is sized for.
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }

    /// Lists the DS18B20 ROM addresses on the bus.
    pub fn search(&mut self, delay: &mut impl DelayNs) -> Result<Vec<Address>, Error<E>> {
        let mut delay = Eh02Delay(delay);
        let mut found = Vec::new();
        for address in self.wire.devices(false, &mut delay) {
            let address = address?;
            if address.family_code() == ds18b20::FAMILY_CODE {
                found.push(address);
            }
        }
        Ok(found)
    }

    /// Writes the resolution to every device's scratchpad at once (skip ROM); alarm registers
    /// are left at 0. Not saved to EEPROM, so call it after every power-up.
    pub fn set_resolution(
        &mut self,
        resolution: Resolution,
        delay: &mut impl DelayNs,
    ) -> Result<(), Error<E>> {
        let mut delay = Eh02Delay(delay);
        self.reset(&mut delay)?;
        self.wire.skip_address(&mut delay)?;
        self.wire.write_bytes(
            &[WRITE_SCRATCHPAD, 0, 0, resolution.config_byte()],
            &mut delay,
        )?;
        self.resolution = resolution;
        Ok(())
    }

    /// Starts a conversion on every device at once (skip ROM + CONVERT T). Does not wait.
    pub fn start_conversion(&mut self, delay: &mut impl DelayNs) -> Result<(), Error<E>> {
        let mut delay = Eh02Delay(delay);
        self.reset(&mut delay)?;
        self.wire.skip_address(&mut delay)?;
        self.wire.write_byte(CONVERT_TEMP, &mut delay)?;
        Ok(())
    }

    /// Reads one device's scratchpad and decodes the temperature in °C.
    ///
    /// Decodes the register itself: `ds18b20` 0.1.1's `read_data` converts it as `u16`, which
    /// turns every negative temperature into about +4000 °C. A power-on scratchpad
    /// ([`Scratchpad::is_power_on`]) is `Error::Reading(SensorError::PowerOnValue)`; any other
    /// 85.000 °C is a real reading.
    pub fn read_temperature(
        &mut self,
        address: &Address,
        delay: &mut impl DelayNs,
    ) -> Result<f64, Error<E>> {
        if address.family_code() != ds18b20::FAMILY_CODE {
            return Err(Error::NotDs18b20(address.0));
        }
        let mut delay = Eh02Delay(delay);
        self.reset(&mut delay)?;
        self.wire.match_address(address, &mut delay)?;
        self.wire.write_byte(READ_SCRATCHPAD, &mut delay)?;
        let mut pad = [0u8; 9];
        self.wire.read_bytes(&mut pad, &mut delay)?;
        one_wire_bus::crc::check_crc8::<E>(&pad)?;
        classify_scratchpad(&Scratchpad(pad), self.resolution.undefined_bits())
            .map_err(Error::Reading)
    }

    /// One conversion for all devices, one wait, then each address read in turn (one retry on a
    /// CRC mismatch). The outer error is a failed conversion start, which affects every device.
    #[allow(clippy::type_complexity)] // a per-device result inside a per-bus result, no simpler
    pub fn sweep(
        &mut self,
        addresses: &[Address],
        delay: &mut impl DelayNs,
    ) -> Result<Vec<Result<f64, Error<E>>>, Error<E>> {
        self.start_conversion(delay)?;
        delay.delay_ms(duration_ms(self.resolution.conversion_time()));
        Ok(addresses
            .iter()
            .map(|a| match self.read_temperature(a, delay) {
                Err(Error::Crc) => self.read_temperature(a, delay),
                other => other,
            })
            .collect())
    }

    fn reset(&mut self, delay: &mut Eh02Delay<'_, impl DelayNs + ?Sized>) -> Result<(), Error<E>> {
        if self.wire.reset(delay)? {
            Ok(())
        } else {
            Err(Error::NoPresence)
        }
    }
}

fn duration_ms(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

/// A [`SensorBank`] over a [`Ds18b20Bus`] with a role per ROM address.
#[derive(Debug)]
pub struct GpioBank<P> {
    bus: Ds18b20Bus<P>,
    sensors: Vec<(SensorRole, Address)>,
}

impl<P, E> GpioBank<P>
where
    P: InputPin<Error = E> + OutputPin<Error = E>,
    E: std::fmt::Debug,
{
    /// A bank reading `sensors` on `bus`.
    pub fn new(bus: Ds18b20Bus<P>, sensors: Vec<(SensorRole, Address)>) -> Self {
        Self { bus, sensors }
    }

    /// Gives the bus back.
    pub fn release(self) -> Ds18b20Bus<P> {
        self.bus
    }
}

impl<P, E> SensorBank for GpioBank<P>
where
    P: InputPin<Error = E> + OutputPin<Error = E>,
    E: std::fmt::Debug,
{
    fn roles(&self) -> Vec<SensorRole> {
        self.sensors.iter().map(|(r, _)| *r).collect()
    }

    fn sweep(&mut self, mut delay: &mut dyn DelayNs) -> Sweep {
        let addresses: Vec<Address> = self.sensors.iter().map(|(_, a)| *a).collect();
        let mut sweep = Sweep::new();
        match self.bus.sweep(&addresses, &mut delay) {
            Ok(results) => {
                for ((role, _), result) in self.sensors.iter().zip(results) {
                    let reading = result.map_err(|e| e.to_sensor_error());
                    // Every value here was checked against the scratchpad's power-on pattern.
                    sweep.insert_from(*role, reading, Provenance::Scratchpad);
                }
            }
            Err(e) => {
                log::debug!("1-Wire conversion start failed: {e}");
                let error = e.to_sensor_error();
                for (role, _) in &self.sensors {
                    sweep.insert(*role, Err(error.clone()));
                }
            }
        }
        sweep
    }
}

/// Opens a GPIO character-device line as an open-drain output, released (high) from the start,
/// ready for [`Ds18b20Bus::new`]. The line needs the usual 4.7 kΩ pull-up to 3.3 V; reading an
/// open-drain output returns the real bus level on the Raspberry Pi's controller.
/// A failure names the chip, the line and the fix ([`GpioError`]).
pub fn open_line(chip: &Path, line: u32) -> Result<CdevPin, GpioError> {
    let handle = request_line(
        chip,
        line,
        LineRequestFlags::OUTPUT | LineRequestFlags::OPEN_DRAIN,
        1,
        "heat-hw-1wire",
    )?;
    CdevPin::new(handle).map_err(|e| {
        GpioError::new(
            chip,
            line,
            GpioFailure::Other(e.to_string()),
            std::io::ErrorKind::Other,
        )
    })
}

/// A busy-waiting [`DelayNs`]: microsecond slots need it, since a sleeping thread wakes far too
/// late for 1-Wire timing.
#[derive(Debug, Default, Clone, Copy)]
pub struct SpinDelay;

impl DelayNs for SpinDelay {
    fn delay_ns(&mut self, ns: u32) {
        let until = Instant::now() + Duration::from_nanos(u64::from(ns));
        while Instant::now() < until {
            std::hint::spin_loop();
        }
    }
}
