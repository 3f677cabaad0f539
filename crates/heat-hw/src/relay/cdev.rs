//! Opening real relay lines through the GPIO character device (`/dev/gpiochipN`).

use std::path::{Path, PathBuf};

use linux_embedded_hal::CdevPin;
use linux_embedded_hal::gpio_cdev::LineRequestFlags;

use super::{Polarity, Relay, RelayRole};
use crate::gpio::{GpioError, GpioFailure, request_line};

/// Where one relay is wired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdevRelayConfig {
    /// The load it switches.
    pub role: RelayRole,
    /// GPIO chip device, e.g. `/dev/gpiochip0`.
    pub chip: PathBuf,
    /// Line offset on the chip (the BCM number on a Raspberry Pi).
    pub line: u32,
    /// Level that turns the load ON.
    pub polarity: Polarity,
}

/// Opening a relay line failed.
#[derive(Debug, thiserror::Error)]
pub enum CdevError {
    /// The chip or line could not be opened or requested: which, why, and the fix.
    #[error(transparent)]
    Open(#[from] GpioError),
    /// The line opened but could not be driven OFF.
    #[error("GPIO {chip} line {line}: could not switch OFF: {source}")]
    Off {
        /// The chip path.
        chip: String,
        /// The line offset.
        line: u32,
        /// What the kernel said.
        source: linux_embedded_hal::CdevPinError,
    },
}

/// Requests the line as an output whose initial level is already OFF, so the load never
/// glitches ON while the program starts.
pub fn open_relay(config: &CdevRelayConfig) -> Result<Relay<CdevPin>, CdevError> {
    let pin = request_output(&config.chip, config.line, config.polarity.level(false))?;
    Relay::new(pin, config.polarity).map_err(|super::Error::Bus(source)| CdevError::Off {
        chip: config.chip.display().to_string(),
        line: config.line,
        source,
    })
}

fn request_output(chip: &Path, line: u32, high: bool) -> Result<CdevPin, GpioError> {
    let handle = request_line(
        chip,
        line,
        LineRequestFlags::OUTPUT,
        u8::from(high),
        "heat-hw",
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
