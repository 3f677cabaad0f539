//! The join between this crate and `heat-core`: sensor errors become [`SensorFault`]s, a
//! [`Sweep`] becomes [`Readings`], and an [`Output`] drives the [`RelayOutputs`].
//!
//! Kept in one small module so the mapping documented on [`SensorError`] lives next to the code
//! that implements it, and the control loop (daemon or simulator) stays glue.

use heat_core::{Output, Reading, Readings, SensorFault};

use crate::relay::{RelayError, RelayOutputs, RelayRole};
use crate::sensor::{Provenance, SensorError, SensorRole, Sweep};

#[cfg(test)]
mod tests;

impl From<&SensorError> for SensorFault {
    /// The table on [`SensorError`]. Timeouts and malformed text count as bus failures (`Io`):
    /// transient, so heat-core holds the last good value until it is stale.
    fn from(e: &SensorError) -> Self {
        match e {
            SensorError::Missing => SensorFault::Missing,
            SensorError::Crc => SensorFault::Crc,
            SensorError::PowerOnValue => SensorFault::PowerOnValue,
            SensorError::Disconnected => SensorFault::Disconnected,
            SensorError::OutOfRange(_) => SensorFault::OutOfRange,
            SensorError::NotFinite => SensorFault::NotFinite,
            SensorError::Timeout | SensorError::Malformed(_) | SensorError::Io(_) => {
                SensorFault::Io
            }
        }
    }
}

impl From<SensorError> for SensorFault {
    fn from(e: SensorError) -> Self {
        SensorFault::from(&e)
    }
}

/// A value checked against the scratchpad's power-on pattern becomes [`Reading::Converted`], so
/// heat-core takes a real 85.0 °C as it is; a bare value stays [`Reading::Value`], whose 85.0 °C
/// the plausibility window judges.
fn reading(sweep: &Sweep, role: SensorRole) -> Reading {
    match (sweep.get(role), sweep.provenance(role)) {
        (Ok(celsius), Provenance::Scratchpad) => Reading::Converted(celsius),
        (Ok(celsius), Provenance::ValueOnly) => Reading::Value(celsius),
        (Err(e), _) => Reading::Fault(SensorFault::from(&e)),
    }
}

impl Sweep {
    /// The three sensors heat-core controls with (collector, tank bottom, tank top). A role the
    /// sweep does not hold is [`SensorFault::Missing`]; optional roles (ambient) are not used.
    pub fn to_readings(&self) -> Readings {
        Readings {
            collector: reading(self, SensorRole::Collector),
            tank_bottom: reading(self, SensorRole::TankBottom),
            tank_top: reading(self, SensorRole::TankTop),
        }
    }
}

/// Switches the pump and heater to what `output` commands and returns every relay failure.
///
/// Both relays are always written, so a relay whose state became unknown after a failed write
/// is driven again at the next step. OFF writes go first: if the second write fails, the plant
/// is left with less switched on, not more. On any error the caller logs it and puts the plant
/// in its safe state ([`RelayOutputs::safe_state`]).
pub fn apply_output(relays: &mut dyn RelayOutputs, output: &Output) -> Vec<RelayError> {
    let mut wanted = [
        (RelayRole::Pump, output.pump),
        (RelayRole::Heater, output.heater),
    ];
    // Stable sort: false (OFF) before true (ON), pump before heater otherwise.
    wanted.sort_by_key(|(_, on)| *on);
    wanted
        .into_iter()
        .filter_map(|(role, on)| relays.set(role, on).err())
        .collect()
}
