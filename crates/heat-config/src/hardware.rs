//! The `[hardware]` table: which backend reads the sensors and drives the relays, and which
//! device plays which role. Validated whole, so a wrong id, a line used twice or a missing
//! required role is a configuration error before anything touches the hardware.

use std::path::{Path, PathBuf};

use heat_hw::onewire_gpio::{self, Resolution, RomAddress};
use heat_hw::relay::cdev::CdevRelayConfig;
use heat_hw::w1::{self, W1Config};
use heat_hw::{Polarity, RelayRole, SensorRole};

use crate::error::ConfigError;
use crate::origin::shown;
use crate::raw::RawHardware;

#[cfg(test)]
mod tests;

/// Chip used when a relay or the bus names none: the 40-pin header of a Raspberry Pi.
pub const DEFAULT_CHIP: &str = "gpiochip0";

/// Where sensors and relays live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// DS18B20s through the kernel w1 driver, relays on GPIO lines (the Raspberry Pi default).
    W1,
    /// DS18B20s bit-banged on one GPIO line, relays on GPIO lines.
    Gpio,
    /// The simulated plant: no hardware is touched.
    Sim,
}

impl Backend {
    /// `"w1"`, `"gpio"` or `"sim"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::W1 => "w1",
            Backend::Gpio => "gpio",
            Backend::Sim => "sim",
        }
    }
}

/// One relay's wiring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelaySettings {
    role: RelayRole,
    chip: PathBuf,
    line: u32,
    active_low: bool,
}

impl RelaySettings {
    /// The load it switches.
    pub fn role(&self) -> RelayRole {
        self.role
    }

    /// The GPIO chip device, e.g. `/dev/gpiochip0`.
    pub fn chip(&self) -> &Path {
        &self.chip
    }

    /// Line offset on the chip (the BCM number on a Raspberry Pi).
    pub fn line(&self) -> u32 {
        self.line
    }

    /// Whether a low line turns the load ON (the default, for the original normally-closed board).
    pub fn active_low(&self) -> bool {
        self.active_low
    }

    /// The level that turns the load ON.
    pub fn polarity(&self) -> Polarity {
        if self.active_low {
            Polarity::ActiveLow
        } else {
            Polarity::ActiveHigh
        }
    }

    /// heat-hw's configuration for `relay::cdev::open_relay`.
    pub fn to_cdev(&self) -> CdevRelayConfig {
        CdevRelayConfig {
            role: self.role,
            chip: self.chip.clone(),
            line: self.line,
            polarity: self.polarity(),
        }
    }
}

/// The bit-banged 1-Wire bus of the gpio backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusSettings {
    chip: PathBuf,
    line: u32,
    resolution: Resolution,
}

impl BusSettings {
    /// The GPIO chip device.
    pub fn chip(&self) -> &Path {
        &self.chip
    }

    /// The line the bus is on.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// Conversion resolution (default 12 bit).
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }
}

/// The validated `[hardware]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct HardwareSettings {
    backend: Backend,
    w1_root: PathBuf,
    bus: Option<BusSettings>,
    sensors: Vec<(SensorRole, String)>,
    relays: Vec<RelaySettings>,
}

impl HardwareSettings {
    /// The simulated plant with no devices, for `--simulate`.
    pub fn simulated() -> Self {
        Self {
            backend: Backend::Sim,
            w1_root: PathBuf::from(w1::DEFAULT_ROOT),
            bus: None,
            sensors: Vec::new(),
            relays: Vec::new(),
        }
    }

    /// What a file without a `[hardware]` table means for the commands that only read the bus
    /// (`heat-diag sensors`): the w1 backend at the kernel's `/sys/bus/w1/devices`, no roles
    /// assigned and no relays.
    pub fn unconfigured() -> Self {
        Self {
            backend: Backend::W1,
            ..Self::simulated()
        }
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Where the kernel exposes the w1 devices (default `/sys/bus/w1/devices`).
    pub fn w1_root(&self) -> &Path {
        &self.w1_root
    }

    /// The bit-banged bus (gpio backend only).
    pub fn bus(&self) -> Option<&BusSettings> {
        self.bus.as_ref()
    }

    /// Role → w1 device id (`28-0123456789ab`), required roles first.
    pub fn sensors(&self) -> &[(SensorRole, String)] {
        &self.sensors
    }

    /// The device id of one role.
    pub fn sensor(&self, role: SensorRole) -> Option<&str> {
        self.sensors
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, id)| id.as_str())
    }

    /// The relays, pump first.
    pub fn relays(&self) -> &[RelaySettings] {
        &self.relays
    }

    /// One relay's wiring.
    pub fn relay(&self, role: RelayRole) -> Option<&RelaySettings> {
        self.relays.iter().find(|r| r.role == role)
    }

    /// heat-hw's configuration for `w1::W1Bank` (kernel driver defaults for the timing).
    pub fn w1_config(&self) -> W1Config {
        W1Config {
            root: self.w1_root.clone(),
            ..W1Config::new(self.sensors.clone())
        }
    }

    /// Role → ROM address for `onewire_gpio::GpioBank`: the same ids, converted.
    pub fn rom_addresses(&self) -> Vec<(SensorRole, RomAddress)> {
        self.sensors
            .iter()
            .filter_map(|(role, id)| onewire_gpio::address_from_w1_id(id).map(|a| (*role, a)))
            .collect()
    }

    /// heat-hw's configuration for every relay.
    pub fn relay_configs(&self) -> Vec<CdevRelayConfig> {
        self.relays.iter().map(RelaySettings::to_cdev).collect()
    }

    /// Validates the raw table read from `path`; `base` resolves relative paths. Returns the
    /// settings and any warnings (values that the chosen backend ignores).
    pub(crate) fn from_raw(
        raw: &RawHardware,
        path: &Path,
        base: &Path,
    ) -> Result<(Self, Vec<String>), ConfigError> {
        Self::validate(raw, path, base, false)
    }

    /// Like [`HardwareSettings::from_raw`], but a required sensor or relay that is not
    /// configured yet is a warning, not an error: for the wiring tools (`heat-diag sensors`
    /// finds the ids to fill in; `heat-diag relay` checks one relay). Everything that is given
    /// is still validated.
    pub(crate) fn from_raw_partial(
        raw: &RawHardware,
        path: &Path,
        base: &Path,
    ) -> Result<(Self, Vec<String>), ConfigError> {
        Self::validate(raw, path, base, true)
    }

    fn validate(
        raw: &RawHardware,
        path: &Path,
        base: &Path,
        partial: bool,
    ) -> Result<(Self, Vec<String>), ConfigError> {
        let path_buf = path.to_path_buf();
        let mut warnings = Vec::new();
        let backend = match raw.backend.as_deref().map(str::trim) {
            None | Some("w1") => Backend::W1,
            Some("gpio") => Backend::Gpio,
            Some("sim") => Backend::Sim,
            Some(other) => {
                return Err(ConfigError::UnknownBackend {
                    value: shown(other),
                    path: path_buf,
                });
            }
        };
        let w1_root = match raw.w1_root.as_deref() {
            None => PathBuf::from(w1::DEFAULT_ROOT),
            Some(root) if root.trim().is_empty() => {
                return Err(ConfigError::EmptyW1Root { path: path_buf });
            }
            Some(root) => base.join(root),
        };

        let mut sensors: Vec<(SensorRole, String)> = Vec::new();
        for role in SensorRole::ALL {
            let Some(id) = raw.sensors.get(role.as_str()) else {
                if role.is_required() && backend != Backend::Sim {
                    let missing = ConfigError::MissingSensor {
                        role: role.as_str(),
                        backend: backend.as_str(),
                        path: path_buf.clone(),
                    };
                    if !partial {
                        return Err(missing);
                    }
                    warnings.push(format!("heat-controller will refuse this: {missing}"));
                }
                continue;
            };
            let id = id.trim();
            if onewire_gpio::address_from_w1_id(id).is_none() {
                return Err(ConfigError::InvalidSensorId {
                    role: role.as_str(),
                    value: shown(id),
                    path: path_buf,
                });
            }
            // Ids are hex: compare them the way the kernel names them, in lower case.
            let id = id.to_ascii_lowercase();
            if let Some((first, _)) = sensors.iter().find(|(_, other)| *other == id) {
                return Err(ConfigError::DuplicateSensorId {
                    id,
                    first: first.as_str(),
                    second: role.as_str(),
                    path: path_buf,
                });
            }
            sensors.push((role, id));
        }

        let bus_line_given = raw.gpio_line.is_some();
        let resolution = match raw.resolution {
            None => Resolution::Bits12,
            Some(bits) => {
                Resolution::from_bits(bits).ok_or_else(|| ConfigError::InvalidResolution {
                    value: bits,
                    path: path_buf.clone(),
                })?
            }
        };
        let bus_chip = chip("hardware.gpio_chip", raw.gpio_chip.as_deref(), path, base)?;
        let bus = if backend == Backend::Gpio {
            let line = raw.gpio_line.ok_or_else(|| ConfigError::MissingBusLine {
                path: path_buf.clone(),
            })?;
            Some(BusSettings {
                chip: bus_chip,
                line,
                resolution,
            })
        } else {
            if bus_line_given || raw.gpio_chip.is_some() || raw.resolution.is_some() {
                warnings.push(format!(
                    "hardware.gpio_chip, gpio_line and resolution in {} are ignored: they only apply to backend = \"gpio\" (the backend is \"{}\")",
                    path.display(),
                    backend.as_str()
                ));
            }
            None
        };

        let mut relays = Vec::new();
        for role in RelayRole::ALL {
            let Some(relay) = raw.relays.get(role.as_str()) else {
                if backend != Backend::Sim {
                    let missing = ConfigError::MissingRelay {
                        role: role.as_str(),
                        backend: backend.as_str(),
                        path: path_buf.clone(),
                    };
                    if !partial {
                        return Err(missing);
                    }
                    warnings.push(format!("heat-controller will refuse this: {missing}"));
                }
                continue;
            };
            let key = format!("hardware.relays.{role}.chip");
            let chip = chip(&key, relay.chip.as_deref(), path, base)?;
            let line = relay.line.ok_or_else(|| ConfigError::MissingRelayLine {
                role: role.as_str(),
                path: path_buf.clone(),
            })?;
            relays.push(RelaySettings {
                role,
                chip,
                line,
                // The original board's relays are normally closed: a low line turns the load ON.
                active_low: relay.active_low.unwrap_or(true),
            });
        }

        // Every line in use, with who uses it: a relay and the bus (or two relays) on one line
        // would switch a load whenever the other is driven.
        let mut lines: Vec<(&Path, u32, String)> = relays
            .iter()
            .map(|r| (r.chip(), r.line, format!("hardware.relays.{}", r.role)))
            .collect();
        if let Some(bus) = &bus {
            lines.push((bus.chip(), bus.line, "hardware.gpio_line".to_owned()));
        }
        for (i, (chip, line, second)) in lines.iter().enumerate() {
            if let Some((_, _, first)) = lines[..i].iter().find(|(c, l, _)| c == chip && l == line)
            {
                return Err(ConfigError::LineUsedTwice {
                    chip: chip.display().to_string(),
                    line: *line,
                    first: first.clone(),
                    second: second.clone(),
                    path: path_buf,
                });
            }
        }

        Ok((
            Self {
                backend,
                w1_root,
                bus,
                sensors,
                relays,
            },
            warnings,
        ))
    }
}

/// A chip name (`gpiochip0`, meaning `/dev/gpiochip0`) or a path; absent means [`DEFAULT_CHIP`].
fn chip(key: &str, value: Option<&str>, path: &Path, base: &Path) -> Result<PathBuf, ConfigError> {
    let value = value.unwrap_or(DEFAULT_CHIP);
    let bad = |reason| ConfigError::InvalidChip {
        key: key.to_owned(),
        value: shown(value),
        reason,
        path: path.to_path_buf(),
    };
    if value.trim().is_empty() {
        return Err(bad("empty"));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("which contains whitespace or a control character"));
    }
    if value.contains('/') {
        return Ok(base.join(value));
    }
    let digits = value.strip_prefix("gpiochip").unwrap_or("");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("not gpiochip followed by a number"));
    }
    Ok(Path::new("/dev").join(value))
}
