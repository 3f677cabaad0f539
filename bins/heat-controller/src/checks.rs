//! The configuration checks that decide whether the daemon may start: every setting loaded and
//! validated ([`heat_config::Settings::load`]), then what only the daemon requires (a
//! `[hardware]` table unless simulating, topics and a Home Assistant device it can build).
//!
//! `heat-diag check-config` calls [`check`] too, so the two can never disagree: a setup the
//! controller refuses is refused by check-config with the same message.

use heat_config::{Backend, Settings, Sources};
use heat_mqtt::{Device, SwVersion, Topics};

use crate::app::ConfigFailure;

/// Model shown in Home Assistant.
pub(crate) const MODEL: &str = "heat-controller";
/// Manufacturer shown in Home Assistant.
pub(crate) const MANUFACTURER: &str = "DIY";

/// What [`check`] accepted.
#[derive(Debug)]
pub struct Checked {
    /// The validated settings.
    pub settings: Settings,
    /// Whether the plant is simulated: `--simulate`, or `[hardware] backend = "sim"`.
    pub simulate: bool,
    /// The state, command and discovery topics.
    pub topics: Topics,
    /// The Home Assistant device.
    pub device: Device,
    /// Allowed but unwise choices, for the log: the settings' own warnings and the daemon's.
    pub warnings: Vec<String>,
}

/// Loads the settings from `sources` and checks them as the daemon does before touching
/// anything; `simulate` is the `--simulate` flag.
pub fn check(sources: &Sources, simulate: bool) -> Result<Checked, ConfigFailure> {
    let settings = Settings::load(sources).map_err(ConfigFailure::new)?;
    let mut warnings = settings.warnings().to_vec();
    let ctl = settings.controller();
    let simulate = simulate || settings.hardware().map(|h| h.backend()) == Some(Backend::Sim);
    if !simulate {
        settings.require_hardware().map_err(ConfigFailure::new)?;
        if ctl.time_scale() != 1.0 {
            warnings.push(
                "controller.time_scale only applies with --simulate; running in real time"
                    .to_owned(),
            );
        }
    }
    let topics =
        Topics::new(settings.topic_prefix(), ctl.discovery_prefix()).map_err(ConfigFailure::new)?;
    let device = Device::new(
        &topics.node_id(),
        ctl.device_name(),
        MODEL,
        MANUFACTURER,
        SwVersion::new(build_version::VERSION).map_err(ConfigFailure::new)?,
    )
    .map_err(ConfigFailure::new)?;
    Ok(Checked {
        settings,
        simulate,
        topics,
        device,
        warnings,
    })
}
