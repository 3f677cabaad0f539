//! An in-memory w1 sysfs tree on a [`VirtualClock`], modelling conversion time.
//!
//! Reading a sensor's `w1_slave` costs one conversion time on the clock, as the kernel's blocking
//! read does, unless a bulk conversion (`therm_bulk_read` ← `trigger`) already covered it.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::fs::W1Fs;
use super::parse::render_w1_slave;
use crate::clock::VirtualClock;

const MASTER: &str = "w1_bus_master1";

#[derive(Debug, Clone)]
struct FakeSensor {
    milli: i64,
    stuck: bool,
    /// Covered by the last bulk conversion and not read since.
    bulk_fresh: bool,
}

/// A fake `/sys/bus/w1/devices` for benchmarks and virtual-time tests.
#[derive(Debug)]
pub struct FakeW1 {
    root: PathBuf,
    clock: VirtualClock,
    conversion: Duration,
    bulk: bool,
    bulk_done_at: Option<Duration>,
    sensors: BTreeMap<String, FakeSensor>,
    conversions: usize,
}

impl FakeW1 {
    /// An empty bus under `root`; `bulk` offers `w1_bus_master1/therm_bulk_read`.
    pub fn new(
        root: impl Into<PathBuf>,
        clock: VirtualClock,
        conversion: Duration,
        bulk: bool,
    ) -> Self {
        Self {
            root: root.into(),
            clock,
            conversion,
            bulk,
            bulk_done_at: None,
            sensors: BTreeMap::new(),
            conversions: 0,
        }
    }

    /// Adds or updates a sensor (`id` like `28-000000000001`) reading `milli` m°C.
    pub fn set_sensor(&mut self, id: &str, milli: i64) {
        let sensor = self.sensors.entry(id.to_owned()).or_insert(FakeSensor {
            milli,
            stuck: false,
            bulk_fresh: false,
        });
        sensor.milli = milli;
    }

    /// Makes every read of the sensor block past any timeout.
    pub fn set_stuck(&mut self, id: &str, stuck: bool) {
        if let Some(sensor) = self.sensors.get_mut(id) {
            sensor.stuck = stuck;
        }
    }

    /// Temperature conversions performed so far (a bulk trigger counts once).
    pub fn conversions(&self) -> usize {
        self.conversions
    }

    fn split<'p>(&self, path: &'p Path) -> Option<Vec<&'p str>> {
        let rest = path.strip_prefix(&self.root).ok()?;
        rest.iter().map(|c| c.to_str()).collect()
    }
}

fn not_found() -> io::Error {
    io::Error::from(io::ErrorKind::NotFound)
}

impl W1Fs for FakeW1 {
    fn list_dir(&mut self, dir: &Path) -> io::Result<Vec<String>> {
        if dir != self.root {
            return Err(not_found());
        }
        let mut names: Vec<String> = self.sensors.keys().cloned().collect();
        names.push(MASTER.to_owned());
        Ok(names)
    }

    fn exists(&mut self, path: &Path) -> bool {
        match self.split(path).as_deref() {
            Some([]) | Some([MASTER]) => true,
            Some([MASTER, "therm_bulk_read"]) => self.bulk,
            Some([id]) | Some([id, "w1_slave"]) => self.sensors.contains_key(*id),
            _ => false,
        }
    }

    fn read(&mut self, path: &Path, timeout: Duration) -> io::Result<Vec<u8>> {
        let parts = self.split(path).ok_or_else(not_found)?;
        match parts.as_slice() {
            [MASTER, "therm_bulk_read"] if self.bulk => {
                let state = match self.bulk_done_at {
                    Some(done) if self.clock.now() < done => "-1",
                    Some(_) => "1",
                    None => "0",
                };
                Ok(format!("{state}\n").into_bytes())
            }
            [id, "w1_slave"] => {
                let conversion = self.conversion;
                let now = self.clock.now();
                let done_at = self.bulk_done_at;
                let sensor = self.sensors.get_mut(*id).ok_or_else(not_found)?;
                if sensor.stuck {
                    self.clock.advance(timeout);
                    return Err(io::Error::from(io::ErrorKind::TimedOut));
                }
                if sensor.bulk_fresh {
                    // The kernel waits out the rest of a running bulk conversion.
                    sensor.bulk_fresh = false;
                    if let Some(done) = done_at.filter(|d| *d > now) {
                        self.clock.advance(done - now);
                    }
                } else {
                    self.conversions += 1;
                    self.clock.advance(conversion);
                }
                Ok(render_w1_slave(sensor.milli, true).into_bytes())
            }
            _ => Err(not_found()),
        }
    }

    fn write(&mut self, path: &Path, contents: &str) -> io::Result<()> {
        let parts = self.split(path).ok_or_else(not_found)?;
        match parts.as_slice() {
            [MASTER, "therm_bulk_read"] if self.bulk => {
                if contents.trim() == "trigger" {
                    self.conversions += 1;
                    self.bulk_done_at = Some(self.clock.now() + self.conversion);
                    self.sensors.values_mut().for_each(|s| s.bulk_fresh = true);
                }
                Ok(())
            }
            _ => Err(io::Error::from(io::ErrorKind::PermissionDenied)),
        }
    }
}
