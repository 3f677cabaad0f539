//! The plant the control loop drives, built from the command line and the settings: heat-hw's
//! [`SimulatedPlant`] under `--simulate`, or a [`HardwarePlant`] opened from heat-config's
//! `[hardware]` (which heat-hw cannot see, so the opening is glue and lives here).
//!
//! Both guard their relays in heat-hw's `SafeRelays`, which switches every load OFF when the
//! plant is dropped: at shutdown, on an error return, and while a panic unwinds.

use std::thread;
use std::time::Duration;

use anyhow::Context;
use embedded_hal::delay::DelayNs;
use heat_config::{Backend, HardwareSettings};
use heat_hw::onewire_gpio::{self, Ds18b20Bus, GpioBank, SpinDelay};
use heat_hw::relay::{GpioRelays, cdev::open_relay};
use heat_hw::sim::{FaultSchedule, SimConfig, SimulatedPlant};
use heat_hw::w1::{StdFs, W1Bank};
use heat_hw::{HardwarePlant, SensorBank};

/// A [`DelayNs`] that sleeps: for the w1 driver's 750 ms conversions, where microsecond
/// precision does not matter.
#[derive(Debug, Default, Clone, Copy)]
pub struct SleepDelay;

impl DelayNs for SleepDelay {
    fn delay_ns(&mut self, ns: u32) {
        thread::sleep(Duration::from_nanos(u64::from(ns)));
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
    /// The longest the physics steps at once (the loop uses ten periods).
    pub max_advance: Option<Duration>,
}

/// The simulated plant (physics, schedule and journal in heat-hw's [`SimulatedPlant`]).
pub fn simulated(options: &SimOptions) -> anyhow::Result<SimulatedPlant> {
    let defaults = SimConfig::default();
    let config = SimConfig {
        seed: options.seed,
        initial_c: options.initial_c.unwrap_or(defaults.initial_c),
        ..defaults
    };
    let mut plant = match &options.journal {
        Some(path) => SimulatedPlant::journaled(config, path)
            .with_context(|| format!("cannot open the relay journal {}", path.display()))?,
        None => SimulatedPlant::new(config),
    };
    if let Some(schedule) = &options.faults {
        plant = plant.with_faults(schedule.clone());
    }
    if let Some(max) = options.max_advance {
        plant = plant.with_max_advance(max);
    }
    Ok(plant)
}

/// The real sensors and relays described by `[hardware]`. Each relay line is requested with its
/// OFF level, so no load glitches ON while starting.
pub fn hardware(hw: &HardwareSettings) -> anyhow::Result<HardwarePlant> {
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
    // An error below drops the relays, and each switches its load OFF on its own drop.
    let relays = Box::new(GpioRelays::new(relays));
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
    Ok(HardwarePlant::new(
        sensors,
        delay,
        relays,
        format!("{what}; relays on GPIO"),
    ))
}

#[cfg(test)]
mod tests;
