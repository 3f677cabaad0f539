//! Plant hardware for the solar-heating controller, behind small traits.
//!
//! - [`SensorBank`]: one sweep reads every configured temperature sensor, each a value or a
//!   typed [`SensorError`]. Backends: the Linux kernel w1 driver ([`w1`]), a bit-banged 1-Wire
//!   bus on a GPIO line ([`onewire_gpio`]) and the simulated plant ([`sim`]).
//! - [`RelayOutputs`]: set and read back the pump and heater relays; the safe state is every
//!   load OFF. Backends: GPIO lines ([`relay`]) and the simulated plant.
//!
//! - [`Plant`]: what a control loop drives, sensors, relays and [`Plant::advance`]; every plant
//!   guards its relays in [`SafeRelays`] (every load OFF on drop). [`HardwarePlant`] for real
//!   devices (its `advance` does nothing), [`sim::SimulatedPlant`] for the physics, the fault
//!   schedule and the relay journal.
//! - [`RelayLock`]: the lock file that makes one process at a time the relays' driver.
//! - [`adapter`]: the join with `heat-core` (`SensorError` → `SensorFault`,
//!   [`Sweep::to_readings`], [`apply_output`]). heat-core stays pure; this crate depends on it,
//!   never the other way round.

pub mod adapter;
pub mod clock;
pub mod gpio;
pub mod onewire_gpio;
pub mod plant;
pub mod relay;
pub mod relay_lock;
pub mod sensor;
pub mod sim;
pub mod w1;

pub use adapter::{apply_output, drive, execute};
pub use clock::VirtualClock;
pub use gpio::{GpioError, GpioFailure};
pub use plant::{Advance, HardwarePlant, Plant, SafeRelays};
pub use relay::{Polarity, RelayError, RelayOutputs, RelayRole};
pub use relay_lock::{RelayLock, RelayLockError};

pub use sensor::{SensorBank, SensorError, SensorRole, Sweep};
