//! Sensors and relays for the control loop: the real ones from `[hardware]`, or heat-hw's
//! simulated plant under `--simulate`.
//!
//! Relays are always held in a [`SafeRelays`] guard that switches every load OFF when dropped:
//! at shutdown, on an error return, and while a panic unwinds (the release profile keeps
//! `panic = "unwind"` for this). The GPIO relay drivers also switch OFF on their own drop.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::thread;
use std::time::Duration;

use crate::sim_faults::FaultSchedule;
use anyhow::Context;
use embedded_hal::delay::DelayNs;
use heat_config::{Backend, HardwareSettings};
use heat_hw::onewire_gpio::{self, Ds18b20Bus, GpioBank, SpinDelay};
use heat_hw::relay::{GpioRelays, cdev::open_relay};
use heat_hw::sim::{SharedPlant, SimConfig, SimPlant};
use heat_hw::w1::{StdFs, W1Bank};
use heat_hw::{RelayError, RelayOutputs, RelayRole, SensorBank, VirtualClock};

/// A [`DelayNs`] that sleeps: for the w1 driver's 750 ms conversions, where microsecond
/// precision does not matter.
#[derive(Debug, Default, Clone, Copy)]
pub struct SleepDelay;

impl DelayNs for SleepDelay {
    fn delay_ns(&mut self, ns: u32) {
        thread::sleep(Duration::from_nanos(u64::from(ns)));
    }
}

/// Relays that go to their safe state (every load OFF) when dropped.
pub struct SafeRelays {
    inner: Box<dyn RelayOutputs>,
}

impl std::fmt::Debug for SafeRelays {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SafeRelays").finish_non_exhaustive()
    }
}

impl SafeRelays {
    /// Guards `inner`.
    pub fn new(inner: Box<dyn RelayOutputs>) -> Self {
        Self { inner }
    }
}

impl RelayOutputs for SafeRelays {
    fn set(&mut self, role: RelayRole, on: bool) -> Result<(), RelayError> {
        self.inner.set(role, on)
    }

    fn get(&self, role: RelayRole) -> Option<bool> {
        self.inner.get(role)
    }

    fn safe_state(&mut self) -> Result<(), RelayError> {
        self.inner.safe_state()
    }
}

impl Drop for SafeRelays {
    fn drop(&mut self) {
        if let Err(e) = self.inner.safe_state() {
            log::error!("relays: switching every load OFF at exit failed: {e}");
        }
    }
}

/// Simulated relays that append every change, and every switch to the safe state, to a file:
/// `<simulated ms> <relay> ON|OFF`, `<simulated ms> safe`. Evidence for tests and demos of what
/// the plant did, readable after the process ended.
pub struct JournalRelays {
    plant: SharedPlant,
    file: File,
}

impl std::fmt::Debug for JournalRelays {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalRelays").finish_non_exhaustive()
    }
}

impl JournalRelays {
    /// Journals writes to `plant`'s relays into `path` (appending).
    pub fn new(plant: SharedPlant, path: &Path) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self { plant, file })
    }

    fn note(&mut self, what: &str) {
        let ms = self.plant.with(|p| p.state().elapsed.as_millis());
        if let Err(e) = writeln!(self.file, "{ms} {what}") {
            log::warn!("relay journal: {e}");
        }
    }
}

impl RelayOutputs for JournalRelays {
    fn set(&mut self, role: RelayRole, on: bool) -> Result<(), RelayError> {
        let before = self.plant.get(role);
        let result = self.plant.set(role, on);
        match &result {
            Ok(()) if before != Some(on) => {
                self.note(&format!("{role} {}", if on { "ON" } else { "OFF" }));
            }
            Ok(()) => {}
            Err(e) => self.note(&format!("{role} error {e}")),
        }
        result
    }

    fn get(&self, role: RelayRole) -> Option<bool> {
        self.plant.get(role)
    }

    fn safe_state(&mut self) -> Result<(), RelayError> {
        let result = self.plant.safe_state();
        self.note(if result.is_ok() {
            "safe"
        } else {
            "safe failed"
        });
        result
    }
}

/// Everything the loop drives.
pub struct Plant {
    /// The sensors.
    pub sensors: Box<dyn SensorBank>,
    /// The relays, OFF when dropped.
    pub relays: SafeRelays,
    /// The delay the sensors wait conversions with.
    pub delay: Box<dyn DelayNs>,
    /// The simulated plant, stepped by the loop, when simulating.
    pub sim: Option<SharedPlant>,
    /// Faults the loop injects into the simulated plant on schedule (`--sim-faults`).
    pub sim_faults: Option<FaultSchedule>,
    /// What it is, for the log.
    pub description: String,
}

impl std::fmt::Debug for Plant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plant")
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

/// How to build the simulated plant.
#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    /// Weather and noise seed.
    pub seed: u64,
    /// Initial collector, tank-bottom, tank-top temperatures, °C.
    pub initial_c: Option<(f64, f64, f64)>,
    /// Relay journal file.
    pub journal: Option<std::path::PathBuf>,
    /// Faults to inject on schedule.
    pub faults: Option<FaultSchedule>,
}

/// The simulated plant (sensors and relays share it).
pub fn simulated(options: &SimOptions) -> anyhow::Result<Plant> {
    let defaults = SimConfig::default();
    let shared = SimPlant::new(SimConfig {
        seed: options.seed,
        initial_c: options.initial_c.unwrap_or(defaults.initial_c),
        ..defaults
    })
    .into_shared();
    let relays: Box<dyn RelayOutputs> = match &options.journal {
        Some(path) => Box::new(
            JournalRelays::new(shared.clone(), path)
                .with_context(|| format!("cannot open the relay journal {}", path.display()))?,
        ),
        None => Box::new(shared.clone()),
    };
    Ok(Plant {
        sensors: Box::new(shared.clone()),
        relays: SafeRelays::new(relays),
        delay: Box::new(VirtualClock::new()),
        sim: Some(shared),
        sim_faults: options.faults.clone(),
        description: format!("simulated plant (seed {})", options.seed),
    })
}

/// The real sensors and relays described by `[hardware]`. Each relay line is requested with its
/// OFF level, so no load glitches ON while starting.
pub fn hardware(hw: &HardwareSettings) -> anyhow::Result<Plant> {
    let mut relays = Vec::new();
    for cfg in hw.relay_configs() {
        // The error names chip, line and the fix; the context names the heat.toml table.
        let relay = open_relay(&cfg).with_context(|| {
            format!(
                "cannot open the {} relay ([hardware.relays.{}]; on a machine without GPIO, \
                 use --simulate)",
                cfg.role, cfg.role
            )
        })?;
        relays.push((cfg.role, relay));
    }
    let relays = SafeRelays::new(Box::new(GpioRelays::new(relays)));
    let (sensors, delay, what): (Box<dyn SensorBank>, Box<dyn DelayNs>, String) = match hw.backend()
    {
        Backend::W1 => (
            Box::new(W1Bank::new(StdFs, hw.w1_config())),
            Box::new(SleepDelay),
            format!(
                "DS18B20 via the kernel w1 driver at {}",
                hw.w1_root().display()
            ),
        ),
        Backend::Gpio => {
            let bus = hw
                .bus()
                .context("[hardware] backend = \"gpio\" needs gpio_chip and gpio_line")?;
            let pin = onewire_gpio::open_line(bus.chip(), bus.line())
                .context("cannot open the 1-Wire bus ([hardware] gpio_chip and gpio_line)")?;
            let wire = Ds18b20Bus::new(pin)
                .map_err(|e| anyhow::anyhow!("cannot start the 1-Wire bus: {e}"))?;
            (
                Box::new(GpioBank::new(wire, hw.rom_addresses())),
                Box::new(SpinDelay),
                format!(
                    "DS18B20 bit-banged on {} line {}",
                    bus.chip().display(),
                    bus.line()
                ),
            )
        }
        Backend::Sim => anyhow::bail!(
            "[hardware] backend = \"sim\" drives no hardware; run with --simulate instead"
        ),
    };
    let description = format!("{what}; relays on GPIO");
    Ok(Plant {
        sensors,
        relays,
        delay,
        sim: None,
        sim_faults: None,
        description,
    })
}

#[cfg(test)]
mod tests;
