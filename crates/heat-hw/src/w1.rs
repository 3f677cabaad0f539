//! DS18B20 sensors through the Linux kernel w1 driver (`w1-gpio` + `w1_therm`).
//!
//! Each sensor is a directory `<root>/28-xxxxxxxxxxxx/` with `w1_slave` (older kernels, carries the
//! CRC verdict) or only `temperature`. When a bus master offers `therm_bulk_read`, one `trigger`
//! starts a conversion on every sensor at once, so a sweep costs one conversion time, not N.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use embedded_hal::delay::DelayNs;

pub mod fake;
pub mod fs;
pub mod parse;

#[cfg(test)]
mod tests;

pub use fake::FakeW1;
pub use fs::{StdFs, W1Fs};

use crate::sensor::{Provenance, SensorBank, SensorError, SensorRole, Sweep};

/// Where the kernel exposes 1-Wire devices.
pub const DEFAULT_ROOT: &str = "/sys/bus/w1/devices";
/// DS18B20 family code prefix of the device directory names.
pub const FAMILY_PREFIX: &str = "28-";
const BULK_POLL: Duration = Duration::from_millis(10);

/// Settings of a [`W1Bank`].
#[derive(Debug, Clone, PartialEq)]
pub struct W1Config {
    /// Directory holding the `28-*` devices (default [`DEFAULT_ROOT`]).
    pub root: PathBuf,
    /// Role → device directory name (e.g. `28-0316a2790aff`).
    pub sensors: Vec<(SensorRole, String)>,
    /// Worst-case conversion time (750 ms at 12 bit).
    pub conversion_time: Duration,
    /// Longest a single file read, or the wait for a bulk conversion, may take.
    pub read_timeout: Duration,
}

impl W1Config {
    /// Defaults: kernel root, 750 ms conversions, 2 s read timeout.
    pub fn new(sensors: Vec<(SensorRole, String)>) -> Self {
        Self {
            root: PathBuf::from(DEFAULT_ROOT),
            sensors,
            conversion_time: Duration::from_millis(750),
            read_timeout: Duration::from_secs(2),
        }
    }
}

/// Lists the DS18B20 device directories (`28-*`) under `root`, sorted.
pub fn discover(fs: &mut impl W1Fs, root: &Path) -> io::Result<Vec<String>> {
    let mut ids: Vec<String> = fs
        .list_dir(root)?
        .into_iter()
        .filter(|n| n.starts_with(FAMILY_PREFIX))
        .collect();
    ids.sort();
    Ok(ids)
}

/// A [`SensorBank`] over the kernel w1 sysfs tree.
#[derive(Debug)]
pub struct W1Bank<F> {
    fs: F,
    config: W1Config,
}

impl<F: W1Fs> W1Bank<F> {
    /// A bank reading `config.sensors` through `fs`.
    pub fn new(fs: F, config: W1Config) -> Self {
        Self { fs, config }
    }

    /// Gives back the file access.
    pub fn release(self) -> F {
        self.fs
    }

    /// The file access, e.g. to inspect a fake.
    pub fn fs_mut(&mut self) -> &mut F {
        &mut self.fs
    }

    /// Reads one device, retrying once on a CRC failure.
    pub fn read_device(&mut self, id: &str) -> Result<f64, SensorError> {
        self.read_device_with_provenance(id).0
    }

    /// [`W1Bank::read_device`], plus whether the scratchpad settled the 85.000 °C question:
    /// `w1_slave` carries the scratchpad, the newer `temperature` file only the value.
    pub fn read_device_with_provenance(
        &mut self,
        id: &str,
    ) -> (Result<f64, SensorError>, Provenance) {
        match self.read_once(id) {
            (Err(SensorError::Crc), _) => {
                log::debug!("w1 {id}: CRC mismatch, retrying once");
                self.read_once(id)
            }
            other => other,
        }
    }

    fn read_once(&mut self, id: &str) -> (Result<f64, SensorError>, Provenance) {
        let dir = self.config.root.join(id);
        if !self.fs.exists(&dir) {
            return (Err(SensorError::Missing), Provenance::ValueOnly);
        }
        let timeout = self.config.read_timeout;
        // w1_slave first: its scratchpad bytes tell a real 85.000 °C from the power-on value.
        let slave = dir.join("w1_slave");
        if self.fs.exists(&slave) {
            return match self.fs.read(&slave, timeout) {
                Ok(raw) => parse::parse_w1_slave_with_provenance(&raw),
                Err(e) => (Err(io_to_sensor(e)), Provenance::ValueOnly),
            };
        }
        let temperature = dir.join("temperature");
        if self.fs.exists(&temperature) {
            let reading = self
                .fs
                .read(&temperature, timeout)
                .map_err(io_to_sensor)
                .and_then(|raw| parse::parse_temperature(&raw));
            return (reading, Provenance::ValueOnly);
        }
        (Err(SensorError::Missing), Provenance::ValueOnly)
    }

    /// Triggers a bulk conversion on every master offering it; returns the attribute paths used.
    fn trigger_bulk(&mut self) -> Vec<PathBuf> {
        let masters = match self.fs.list_dir(&self.config.root) {
            Ok(names) => names,
            Err(e) => {
                log::warn!("w1: cannot list {}: {e}", self.config.root.display());
                return Vec::new();
            }
        };
        let mut triggered = Vec::new();
        for name in masters.iter().filter(|n| n.starts_with("w1_bus_master")) {
            let path = self.config.root.join(name).join("therm_bulk_read");
            if !self.fs.exists(&path) {
                continue;
            }
            // Exactly "trigger\n": w1_therm rejects any write whose length is not 8 bytes.
            match self.fs.write(&path, "trigger\n") {
                Ok(()) => triggered.push(path),
                // Fall back to per-sensor conversions, which the kernel does on read anyway.
                Err(e) => log::warn!("w1: bulk trigger on {} failed: {e}", path.display()),
            }
        }
        triggered
    }

    fn wait_bulk(&mut self, masters: &[PathBuf], delay: &mut dyn DelayNs) {
        delay.delay_ms(duration_ms(self.config.conversion_time));
        let mut waited = Duration::ZERO;
        for path in masters {
            loop {
                let busy = self
                    .fs
                    .read(path, self.config.read_timeout)
                    .is_ok_and(|raw| parse::bulk_in_progress(&raw));
                if !busy || waited >= self.config.read_timeout {
                    break;
                }
                delay.delay_ms(duration_ms(BULK_POLL));
                waited += BULK_POLL;
            }
        }
    }
}

fn duration_ms(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

fn io_to_sensor(e: io::Error) -> SensorError {
    match e.kind() {
        io::ErrorKind::NotFound => SensorError::Missing,
        io::ErrorKind::TimedOut => SensorError::Timeout,
        _ => SensorError::Io(e.to_string()),
    }
}

impl<F: W1Fs> SensorBank for W1Bank<F> {
    fn roles(&self) -> Vec<SensorRole> {
        self.config.sensors.iter().map(|(r, _)| *r).collect()
    }

    fn sweep(&mut self, delay: &mut dyn DelayNs) -> Sweep {
        let masters = self.trigger_bulk();
        if !masters.is_empty() {
            self.wait_bulk(&masters, delay);
        }
        let mut sweep = Sweep::new();
        let sensors = self.config.sensors.clone();
        for (role, id) in &sensors {
            let (reading, provenance) = self.read_device_with_provenance(id);
            if let Err(e) = &reading {
                log::debug!("w1 {role} ({id}): {e}");
            }
            sweep.insert_from(*role, reading, provenance);
        }
        sweep
    }
}
