//! Requesting lines on the GPIO character device (`/dev/gpiochipN`), with one error that says
//! which chip and line were needed, what went wrong, and how to fix it: [`GpioError`].
//!
//! Each step is checked on its own so the error can be specific: the chip is opened first with
//! std (missing, permission denied), then checked to be a character device and a GPIO chip,
//! then the line's existence and current consumer, and only then requested. The error carries no
//! source chain, so `{:#}` prints the kernel's words once, not three times.

use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use linux_embedded_hal::gpio_cdev::{Chip, LineHandle, LineRequestFlags};

/// What stopped a GPIO line from being opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GpioFailure {
    /// The chip device does not exist (no GPIO on this machine, a wrong chip name, or a
    /// container or sandbox without the device).
    ChipMissing,
    /// The chip exists but this user may not open it.
    PermissionDenied,
    /// The path exists but is not a GPIO chip (a directory, a regular file, another device).
    NotAChip,
    /// The chip has no line with this offset; it has `lines` lines.
    NoSuchLine {
        /// How many lines the chip has (offsets 0 to `lines - 1`).
        lines: u32,
    },
    /// Another program holds the line.
    Busy {
        /// The consumer label the kernel shows for it, if any.
        consumer: Option<String>,
    },
    /// Anything else; the kernel's words are in the message.
    Other(String),
}

/// A GPIO line could not be opened: the chip, the line, what failed, and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct GpioError {
    chip: PathBuf,
    line: u32,
    failure: GpioFailure,
    kind: io::ErrorKind,
}

impl GpioError {
    /// An error for `line` on `chip`.
    pub fn new(chip: &Path, line: u32, failure: GpioFailure, kind: io::ErrorKind) -> Self {
        Self {
            chip: chip.to_owned(),
            line,
            failure,
            kind,
        }
    }

    /// Classifies a failure to open the chip file itself.
    pub fn opening(chip: &Path, line: u32, err: &io::Error) -> Self {
        let failure = match err.kind() {
            io::ErrorKind::NotFound => GpioFailure::ChipMissing,
            io::ErrorKind::PermissionDenied => GpioFailure::PermissionDenied,
            io::ErrorKind::NotADirectory => GpioFailure::NotAChip,
            _ => GpioFailure::Other(err.to_string()),
        };
        Self::new(chip, line, failure, err.kind())
    }

    /// The chip device that was needed.
    pub fn chip(&self) -> &Path {
        &self.chip
    }

    /// The line offset that was needed.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// What failed.
    pub fn failure(&self) -> &GpioFailure {
        &self.failure
    }

    /// The io error kind: `NotFound`, `PermissionDenied`, `InvalidInput` (not a chip, no such
    /// line), `ResourceBusy`, or what the kernel said.
    pub fn kind(&self) -> io::ErrorKind {
        self.kind
    }
}

impl fmt::Display for GpioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (chip, line) = (self.chip.display(), self.line);
        let list = "`ls -l /dev/gpiochip*` lists this machine's chips (a Raspberry Pi's 40-pin \
                    header is gpiochip0)";
        match &self.failure {
            GpioFailure::ChipMissing => write!(
                f,
                "GPIO line {line} needs {chip}, which does not exist: {list}; set `chip` in \
                 heat.toml's [hardware] section to one of them"
            ),
            GpioFailure::PermissionDenied => write!(
                f,
                "GPIO line {line} needs {chip}, which this user may not open: `ls -l {chip}` \
                 shows its group (gpio on Raspberry Pi OS); add the user to it \
                 (`usermod -aG gpio USER`, then log in again; the packaged unit has \
                 SupplementaryGroups=gpio)"
            ),
            GpioFailure::NotAChip => write!(
                f,
                "GPIO line {line} needs {chip}, which is not a GPIO chip device: {list}; set \
                 `chip` in heat.toml's [hardware] section to one of them"
            ),
            GpioFailure::NoSuchLine { lines } => write!(
                f,
                "{chip} has no line {line} (it has {lines}, 0 to {}): set `line` in heat.toml's \
                 [hardware] section to the BCM GPIO number, not the header pin number",
                lines.saturating_sub(1)
            ),
            GpioFailure::Busy { consumer } => write!(
                f,
                "GPIO line {line} on {chip} is in use by {}: stop that program or wire another \
                 line (`gpioinfo` from Debian's gpiod shows every line's user)",
                consumer
                    .as_deref()
                    .map_or("another program".to_owned(), |c| format!("{c:?}"))
            ),
            GpioFailure::Other(what) => write!(
                f,
                "GPIO line {line} on {chip}: {what} (check `chip` and `line` in heat.toml's \
                 [hardware] section; {list})"
            ),
        }
    }
}

/// Requests `line` on `chip` with `flags` and initial value `default` for `consumer`, checking
/// each step so that a failure says exactly what is wrong.
pub fn request_line(
    chip: &Path,
    line: u32,
    flags: LineRequestFlags,
    default: u8,
    consumer: &str,
) -> Result<LineHandle, GpioError> {
    let file = File::open(chip).map_err(|e| GpioError::opening(chip, line, &e))?;
    let is_char_device = file
        .metadata()
        .map_err(|e| GpioError::opening(chip, line, &e))?
        .file_type()
        .is_char_device();
    drop(file);
    let not_a_chip = || {
        GpioError::new(
            chip,
            line,
            GpioFailure::NotAChip,
            io::ErrorKind::InvalidInput,
        )
    };
    if !is_char_device {
        return Err(not_a_chip());
    }
    // The file opened, so what can still fail here is the chip-info ioctl: another device.
    let mut gpio = Chip::new(chip).map_err(|_| not_a_chip())?;
    let lines = gpio.num_lines();
    if line >= lines {
        return Err(GpioError::new(
            chip,
            line,
            GpioFailure::NoSuchLine { lines },
            io::ErrorKind::InvalidInput,
        ));
    }
    let other = |e: &dyn fmt::Display| {
        GpioError::new(
            chip,
            line,
            GpioFailure::Other(e.to_string()),
            io::ErrorKind::Other,
        )
    };
    let handle = gpio.get_line(line).map_err(|e| other(&e))?;
    if let Ok(info) = handle.info()
        && info.is_used()
    {
        return Err(GpioError::new(
            chip,
            line,
            GpioFailure::Busy {
                consumer: info.consumer().map(str::to_owned),
            },
            io::ErrorKind::ResourceBusy,
        ));
    }
    handle
        .request(flags, default, consumer)
        .map_err(|e| other(&e))
}

#[cfg(test)]
mod tests;
