//! A simulated plant behind the same traits as the hardware: [`SensorBank`] and [`RelayOutputs`]
//! for the physics ([`SimPlant`]), and [`crate::Plant`] for the whole bundle
//! ([`SimulatedPlant`]: the physics, the fault schedule of [`schedule`], the relay journal of
//! [`journal`]).
//!
//! Lumped thermal model, advanced by an explicit `dt` (no sleeping, no wall clock):
//!
//! - collector node: absorbs `η₀·A·G(t)` (a day curve of irradiance times a seeded cloud
//!   process), loses `U·(T_c − T_amb)` to ambient;
//! - with the pump ON, water leaves the tank bottom, is heated in the collector, loses heat in
//!   the supply pipe (exponential approach to ambient) and enters the tank top; the top node
//!   passes its water down to the bottom node (plug flow, two-node stratified tank);
//! - the heater adds its power to the top node; both tank nodes lose heat to the room; a
//!   warmer bottom node mixes with the top (buoyancy);
//! - sensors read the node temperatures with seeded Gaussian noise, quantised to 1/16 °C;
//!   faults are injected with [`SimPlant::inject`].
//!
//! Every heat flow is integrated into an [`EnergyLedger`] from the same fluxes that move the
//! temperatures, so `tank gain = collector gain − collector loss − pipe loss − tank loss +
//! heater − collector storage change` holds to rounding and can be checked by tests.

use std::cell::RefCell;
use std::f64::consts::PI;
use std::rc::Rc;
use std::time::Duration;

use embedded_hal::delay::DelayNs;

pub mod journal;
pub mod schedule;
mod simulated;

#[cfg(test)]
mod tests;

pub use journal::JournalRelays;
pub use schedule::{FaultSchedule, ScheduleError};
pub use simulated::SimulatedPlant;

use crate::relay::{RelayError, RelayOutputs, RelayRole};
use crate::sensor::{
    Provenance, Scratchpad, SensorBank, SensorError, SensorRole, Sweep, classify_celsius,
    classify_scratchpad,
};

/// Specific heat of water, J/(kg·K).
const CP_WATER: f64 = 4186.0;
const SECONDS_PER_DAY: f64 = 86_400.0;
/// How often the cloud process picks a new target, seconds of simulated time.
const CLOUD_PERIOD_S: f64 = 300.0;

/// Parameters of the simulated plant. [`SimConfig::default`] is a 4 m² collector on a 300 l tank.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Seed of the weather and sensor-noise generators.
    pub seed: u64,
    /// Simulated time of day at start, seconds after midnight.
    pub start_s: f64,
    /// Collector aperture area, m².
    pub collector_area_m2: f64,
    /// Optical efficiency η₀.
    pub optical_efficiency: f64,
    /// Collector heat-loss coefficient U·A, W/K.
    pub collector_loss_w_k: f64,
    /// Collector heat capacity (absorber plus fluid), J/K.
    pub collector_capacity_j_k: f64,
    /// Clear-sky irradiance at solar noon, W/m².
    pub peak_irradiance_w_m2: f64,
    /// Sunrise and sunset, hours after midnight.
    pub daylight_h: (f64, f64),
    /// Fraction of cloud periods with a cloud, 0–1.
    pub cloudiness: f64,
    /// Mean and half-swing of the ambient temperature, °C (minimum at 03:00).
    pub ambient_c: (f64, f64),
    /// Temperature around the tank, °C.
    pub room_c: f64,
    /// Tank volume, litres (split evenly into bottom and top nodes).
    pub tank_litres: f64,
    /// Tank heat-loss coefficient U·A per node, W/K.
    pub tank_loss_w_k: f64,
    /// Conduction between the tank nodes, W/K.
    pub tank_conduction_w_k: f64,
    /// Pump mass flow, kg/s.
    pub flow_kg_s: f64,
    /// Supply-pipe heat-loss coefficient U·A, W/K.
    pub pipe_loss_w_k: f64,
    /// Heater power, W.
    pub heater_w: f64,
    /// Initial collector, tank-bottom and tank-top temperatures, °C.
    pub initial_c: (f64, f64, f64),
    /// Standard deviation of sensor noise, °C.
    pub noise_c: f64,
    /// Longest internal integration step; longer `dt`s are subdivided for stability.
    pub max_substep: Duration,
    /// Sensors the bank reports.
    pub roles: Vec<SensorRole>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            start_s: 0.0,
            collector_area_m2: 4.0,
            optical_efficiency: 0.75,
            collector_loss_w_k: 16.0,
            collector_capacity_j_k: 40_000.0,
            peak_irradiance_w_m2: 900.0,
            daylight_h: (6.0, 20.0),
            cloudiness: 0.3,
            ambient_c: (15.0, 6.0),
            room_c: 18.0,
            tank_litres: 300.0,
            tank_loss_w_k: 1.0,
            tank_conduction_w_k: 0.5,
            flow_kg_s: 0.03,
            pipe_loss_w_k: 3.0,
            heater_w: 2000.0,
            initial_c: (15.0, 25.0, 30.0),
            noise_c: 0.05,
            max_substep: Duration::from_secs(10),
            roles: SensorRole::ALL.to_vec(),
        }
    }
}

/// Integrated heat flows since the start, joules. Losses are signed: a negative loss is a gain
/// from the surroundings (a collector colder than the air).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EnergyLedger {
    /// Solar energy absorbed by the collector.
    pub collector_gain_j: f64,
    /// Collector loss to ambient.
    pub collector_loss_j: f64,
    /// Supply-pipe loss to ambient while pumping.
    pub pipe_loss_j: f64,
    /// Heat delivered into the tank by the pump loop.
    pub delivered_to_tank_j: f64,
    /// Tank loss to the room.
    pub tank_loss_j: f64,
    /// Heater energy into the tank.
    pub heater_j: f64,
}

/// A snapshot of the true (noise-free) plant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlantState {
    /// Simulated time since start.
    pub elapsed: Duration,
    /// Irradiance on the collector, W/m².
    pub irradiance_w_m2: f64,
    /// Ambient, collector, tank-bottom and tank-top temperatures, °C.
    pub ambient_c: f64,
    /// Collector temperature, °C.
    pub collector_c: f64,
    /// Tank bottom, °C.
    pub tank_bottom_c: f64,
    /// Tank top, °C.
    pub tank_top_c: f64,
    /// Pump running.
    pub pump: bool,
    /// Heater on.
    pub heater: bool,
}

/// The weather part of [`SimConfig`], changeable while the plant runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weather {
    /// Clear-sky irradiance at solar noon, W/m².
    pub peak_irradiance_w_m2: f64,
    /// Fraction of cloud periods with a cloud, 0–1.
    pub cloudiness: f64,
    /// Mean and half-swing of the ambient temperature, °C (minimum at 03:00).
    pub ambient_c: (f64, f64),
}

/// A fault to inject into the simulated hardware.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SimFault {
    /// The sensor keeps reporting this value (looks healthy; staleness is for the caller).
    Stuck(SensorRole, f64),
    /// The sensor reports 85.000 °C, the power-on value.
    PowerOnValue(SensorRole),
    /// The sensor reports −127 °C.
    Disconnected(SensorRole),
    /// Every read of the sensor fails its CRC.
    Crc(SensorRole),
    /// The sensor is gone from the bus.
    Missing(SensorRole),
    /// Writes to the relay fail; the load stays as it was.
    RelayWrite(RelayRole),
}

impl SimFault {
    /// The sensor this fault affects; `None` for a relay fault.
    pub fn sensor(&self) -> Option<SensorRole> {
        match *self {
            Self::Stuck(r, _)
            | Self::PowerOnValue(r)
            | Self::Disconnected(r)
            | Self::Crc(r)
            | Self::Missing(r) => Some(r),
            Self::RelayWrite(_) => None,
        }
    }
}

/// SplitMix64: tiny, seedable, identical on every platform and dependency version.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Approximately standard normal (Irwin–Hall with 4 terms, rescaled).
    fn next_gauss(&mut self) -> f64 {
        let sum: f64 = (0..4).map(|_| self.next_f64() - 0.5).sum();
        sum * 3f64.sqrt()
    }
}

/// The simulated plant.
#[derive(Debug, Clone)]
pub struct SimPlant {
    cfg: SimConfig,
    elapsed_s: f64,
    collector_c: f64,
    bottom_c: f64,
    top_c: f64,
    cloud: f64,
    cloud_target: f64,
    next_cloud_s: f64,
    weather_rng: SplitMix64,
    noise_rng: SplitMix64,
    // Physical relay positions, and what a caller may assume (None after a failed write).
    pump: bool,
    heater: bool,
    known: [Option<bool>; 2],
    faults: Vec<SimFault>,
    ledger: EnergyLedger,
}

impl SimPlant {
    /// A plant at `cfg.start_s` with both loads OFF.
    pub fn new(cfg: SimConfig) -> Self {
        let (collector_c, bottom_c, top_c) = cfg.initial_c;
        Self {
            weather_rng: SplitMix64(cfg.seed),
            // A separate stream, so reading sensors more or less often never changes the weather.
            noise_rng: SplitMix64(cfg.seed ^ 0xA5A5_5A5A_DEAD_BEEF),
            collector_c,
            bottom_c,
            top_c,
            elapsed_s: 0.0,
            cloud: 1.0,
            cloud_target: 1.0,
            next_cloud_s: 0.0,
            pump: false,
            heater: false,
            known: [Some(false), Some(false)],
            faults: Vec::new(),
            ledger: EnergyLedger::default(),
            cfg,
        }
    }

    /// Wraps the plant for sharing between a sensor consumer and a relay consumer.
    pub fn into_shared(self) -> SharedPlant {
        SharedPlant(Rc::new(RefCell::new(self)))
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// The heat flows so far.
    pub fn ledger(&self) -> &EnergyLedger {
        &self.ledger
    }

    /// Heat stored in the tank relative to 0 °C, J.
    pub fn tank_energy_j(&self) -> f64 {
        self.node_capacity() * (self.bottom_c + self.top_c)
    }

    /// Heat stored in the collector relative to 0 °C, J.
    pub fn collector_energy_j(&self) -> f64 {
        self.cfg.collector_capacity_j_k * self.collector_c
    }

    /// The true state, without noise or faults.
    pub fn state(&self) -> PlantState {
        let t = self.cfg.start_s + self.elapsed_s;
        PlantState {
            elapsed: Duration::from_secs_f64(self.elapsed_s),
            irradiance_w_m2: self.irradiance(t),
            ambient_c: self.ambient(t),
            collector_c: self.collector_c,
            tank_bottom_c: self.bottom_c,
            tank_top_c: self.top_c,
            pump: self.pump,
            heater: self.heater,
        }
    }

    /// Adds a fault (a second fault on the same sensor replaces the first).
    pub fn inject(&mut self, fault: SimFault) {
        if let Some(role) = fault.sensor() {
            self.faults.retain(|f| f.sensor() != Some(role));
        }
        self.faults.retain(|f| *f != fault);
        self.faults.push(fault);
    }

    /// Removes every fault.
    pub fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// The active faults.
    pub fn faults(&self) -> &[SimFault] {
        &self.faults
    }

    /// Removes one fault, if active.
    pub fn clear_fault(&mut self, fault: SimFault) {
        self.faults.retain(|f| *f != fault);
    }

    /// Changes the weather from now on (e.g. a new day of a long run); the thermal state, the
    /// ledger and the random streams carry on.
    pub fn set_weather(&mut self, weather: Weather) {
        self.cfg.peak_irradiance_w_m2 = weather.peak_irradiance_w_m2;
        self.cfg.cloudiness = weather.cloudiness;
        self.cfg.ambient_c = weather.ambient_c;
    }

    fn node_capacity(&self) -> f64 {
        self.cfg.tank_litres / 2.0 * CP_WATER
    }

    /// Clear-sky half-sine between sunrise and sunset, times the cloud factor.
    fn irradiance(&self, t: f64) -> f64 {
        let hour = (t % SECONDS_PER_DAY) / 3600.0;
        let (rise, set) = self.cfg.daylight_h;
        let x = (hour - rise) / (set - rise);
        if (0.0..=1.0).contains(&x) {
            self.cfg.peak_irradiance_w_m2 * (PI * x).sin() * self.cloud
        } else {
            0.0
        }
    }

    fn ambient(&self, t: f64) -> f64 {
        let hour = (t % SECONDS_PER_DAY) / 3600.0;
        let (mean, swing) = self.cfg.ambient_c;
        // Minimum at 03:00, maximum at 15:00.
        mean - swing * (2.0 * PI * (hour - 3.0) / 24.0).cos()
    }

    /// Advances the plant by `dt` of simulated time.
    pub fn step(&mut self, dt: Duration) {
        let max = self.cfg.max_substep.as_secs_f64().max(1e-3);
        let total = dt.as_secs_f64();
        let n = (total / max).ceil().max(1.0);
        let h = total / n;
        for _ in 0..n as u64 {
            self.substep(h);
        }
    }

    fn update_clouds(&mut self, h: f64) {
        while self.elapsed_s >= self.next_cloud_s {
            self.next_cloud_s += CLOUD_PERIOD_S;
            let cloudy = self.weather_rng.next_f64() < self.cfg.cloudiness;
            let depth = self.weather_rng.next_f64();
            self.cloud_target = if cloudy { 0.1 + 0.5 * depth } else { 1.0 };
        }
        // Clouds drift in and out over a couple of minutes rather than switching.
        self.cloud += (self.cloud_target - self.cloud) * (h / 120.0).min(1.0);
    }

    fn substep(&mut self, h: f64) {
        self.update_clouds(h);
        let cfg = &self.cfg;
        let t = cfg.start_s + self.elapsed_s;
        let ambient = self.ambient(t);
        let c_node = self.node_capacity();

        let gain = cfg.optical_efficiency * cfg.collector_area_m2 * self.irradiance(t);
        let collector_loss = cfg.collector_loss_w_k * (self.collector_c - ambient);
        let (to_loop, pipe_loss, q_top, q_bottom) = if self.pump && cfg.flow_kg_s > 0.0 {
            let mcp = cfg.flow_kg_s * CP_WATER;
            let supply = ambient + (self.collector_c - ambient) * (-cfg.pipe_loss_w_k / mcp).exp();
            (
                mcp * (self.collector_c - self.bottom_c),
                mcp * (self.collector_c - supply),
                mcp * (supply - self.top_c),
                mcp * (self.top_c - self.bottom_c),
            )
        } else {
            (0.0, 0.0, 0.0, 0.0)
        };
        let heater = if self.heater { cfg.heater_w } else { 0.0 };
        let loss_top = cfg.tank_loss_w_k * (self.top_c - cfg.room_c);
        let loss_bottom = cfg.tank_loss_w_k * (self.bottom_c - cfg.room_c);
        let conduction = cfg.tank_conduction_w_k * (self.top_c - self.bottom_c);

        self.collector_c += h * (gain - collector_loss - to_loop) / cfg.collector_capacity_j_k;
        self.top_c += h * (q_top + heater - loss_top - conduction) / c_node;
        self.bottom_c += h * (q_bottom - loss_bottom + conduction) / c_node;
        if self.bottom_c > self.top_c {
            // Buoyancy: equal capacities, so the mean conserves the energy.
            let mean = (self.bottom_c + self.top_c) / 2.0;
            self.bottom_c = mean;
            self.top_c = mean;
        }

        let l = &mut self.ledger;
        l.collector_gain_j += h * gain;
        l.collector_loss_j += h * collector_loss;
        l.pipe_loss_j += h * pipe_loss;
        l.delivered_to_tank_j += h * (q_top + q_bottom);
        l.tank_loss_j += h * (loss_top + loss_bottom);
        l.heater_j += h * heater;
        self.elapsed_s += h;
    }

    fn true_value(&self, role: SensorRole) -> f64 {
        match role {
            SensorRole::Collector => self.collector_c,
            SensorRole::TankBottom => self.bottom_c,
            SensorRole::TankTop => self.top_c,
            SensorRole::Ambient => self.ambient(self.cfg.start_s + self.elapsed_s),
        }
    }

    fn read(&mut self, role: SensorRole) -> Result<f64, SensorError> {
        let fault = self
            .faults
            .iter()
            .find(|f| f.sensor() == Some(role))
            .copied();
        let noisy = self.true_value(role) + self.cfg.noise_c * self.noise_rng.next_gauss();
        match fault {
            Some(SimFault::Stuck(_, v)) => classify_celsius(v),
            // The emulated DS18B20 goes through the same scratchpad rule as the real drivers.
            Some(SimFault::PowerOnValue(_)) => classify_scratchpad(&Scratchpad::power_on(), 0),
            Some(SimFault::Disconnected(_)) => classify_celsius(-127.0),
            Some(SimFault::Crc(_)) => Err(SensorError::Crc),
            Some(SimFault::Missing(_)) => Err(SensorError::Missing),
            _ => convert(noisy),
        }
    }

    fn relay_index(role: RelayRole) -> usize {
        match role {
            RelayRole::Pump => 0,
            RelayRole::Heater => 1,
        }
    }
}

impl SensorBank for SimPlant {
    fn roles(&self) -> Vec<SensorRole> {
        self.cfg.roles.clone()
    }

    /// Instant: the simulation has no conversion time of its own.
    fn sweep(&mut self, _delay: &mut dyn DelayNs) -> Sweep {
        let mut sweep = Sweep::new();
        // By index, not over a clone of the roles: heat-sim sweeps millions of times.
        for i in 0..self.cfg.roles.len() {
            let role = self.cfg.roles[i];
            let reading = self.read(role);
            // Like the bit-banged driver, every emulated reading comes from a scratchpad.
            sweep.insert_from(role, reading, Provenance::Scratchpad);
        }
        sweep
    }
}

impl RelayOutputs for SimPlant {
    fn set(&mut self, role: RelayRole, on: bool) -> Result<(), RelayError> {
        let i = Self::relay_index(role);
        if self.faults.contains(&SimFault::RelayWrite(role)) {
            self.known[i] = None;
            return Err(RelayError::Write {
                role,
                message: "injected write failure".into(),
            });
        }
        match role {
            RelayRole::Pump => self.pump = on,
            RelayRole::Heater => self.heater = on,
        }
        self.known[i] = Some(on);
        Ok(())
    }

    fn get(&self, role: RelayRole) -> Option<bool> {
        self.known[Self::relay_index(role)]
    }

    fn safe_state(&mut self) -> Result<(), RelayError> {
        let mut first = None;
        for role in RelayRole::ALL {
            if let Err(e) = self.set(role, false) {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

/// A [`SimPlant`] shared by handles, so one part of a program can own the sensors and another
/// the relays, as with real hardware. Single-threaded, like the control loop.
#[derive(Debug, Clone)]
pub struct SharedPlant(Rc<RefCell<SimPlant>>);

impl SharedPlant {
    /// Runs `f` on the plant (to step it, inject faults, read the ledger).
    pub fn with<R>(&self, f: impl FnOnce(&mut SimPlant) -> R) -> R {
        f(&mut self.0.borrow_mut())
    }
}

impl SensorBank for SharedPlant {
    fn roles(&self) -> Vec<SensorRole> {
        self.0.borrow().roles()
    }

    fn sweep(&mut self, delay: &mut dyn DelayNs) -> Sweep {
        self.0.borrow_mut().sweep(delay)
    }
}

impl RelayOutputs for SharedPlant {
    fn set(&mut self, role: RelayRole, on: bool) -> Result<(), RelayError> {
        self.0.borrow_mut().set(role, on)
    }

    fn get(&self, role: RelayRole) -> Option<bool> {
        self.0.borrow().get(role)
    }

    fn safe_state(&mut self) -> Result<(), RelayError> {
        self.0.borrow_mut().safe_state()
    }
}

/// An emulated DS18B20 conversion of `celsius`: the 12-bit register (whole 1/16 °C steps) in a
/// genuine part's scratchpad ([`Scratchpad::after_conversion`]), decoded by the drivers' rule. So a
/// real 85.000 °C reads as 85.0 and only the `PowerOnValue` fault shows the power-on pattern.
fn convert(celsius: f64) -> Result<f64, SensorError> {
    if !celsius.is_finite() {
        return Err(SensorError::NotFinite);
    }
    // Saturate outside the register's range; the range check then names the value.
    let raw = (celsius * 16.0)
        .round()
        .clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16;
    classify_scratchpad(&Scratchpad::after_conversion(raw, 0x7f), 0)
}
