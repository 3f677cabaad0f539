//! Tests of `[controller]` (defaults, ranges, environment overrides) and `[control]` (heat-core's
//! validation, with errors naming the key, the file and the range).

use std::time::Duration;

use heat_core::{Fluid, Parameter, RawParams};
use tempfile::TempDir;

use crate::raw::CONTROL_KEYS;
use crate::{ConfigError, ControllerSettings, Settings, Sources};

const PASSWORD: &str = "a-long-enough-Password-42";

fn sources(dir: &TempDir, toml: &str) -> Sources {
    let path = dir.path().join("heat.toml");
    std::fs::write(&path, toml).expect("write toml");
    Sources::new(dir.path())
        .with_var("MQTT_USERNAME", "heat")
        .with_var("MQTT_PASSWORD", PASSWORD)
        .with_config_path(path)
}

fn load(s: &Sources) -> Settings {
    Settings::load(s).unwrap_or_else(|e| panic!("expected settings, got: {e}"))
}

fn fail(s: &Sources, needles: &[&str]) -> ConfigError {
    let e = match Settings::load(s) {
        Ok(s) => panic!("expected an error, got {s:?}"),
        Err(e) => e,
    };
    let message = e.to_string();
    for needle in needles {
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    }
    e
}

#[test]
fn control_keys_are_exactly_the_fields_of_raw_params() {
    let value = serde_json::to_value(RawParams::default()).expect("serialise");
    let mut fields: Vec<&str> = value
        .as_object()
        .expect("a struct")
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    let mut keys = CONTROL_KEYS.to_vec();
    keys.sort_unstable();
    assert_eq!(fields, keys);
}

#[test]
fn without_a_file_the_controller_and_control_take_their_defaults() {
    let dir = tempfile::tempdir().expect("dir");
    let s = load(
        &Sources::new(dir.path())
            .with_var("MQTT_USERNAME", "heat")
            .with_var("MQTT_PASSWORD", PASSWORD),
    );
    let c = s.controller();
    assert_eq!(c, &ControllerSettings::default());
    assert_eq!(c.period(), Duration::from_secs(30));
    assert_eq!(c.heartbeat(), Duration::from_secs(60));
    assert!(c.discovery() && c.probe_anonymous());
    assert_eq!(c.discovery_prefix(), "homeassistant");
    assert_eq!(c.device_name(), "Solar heating");
    assert_eq!(
        c.lock_file(),
        std::path::Path::new("/run/heat-controller/lock")
    );
    assert!((c.time_scale() - 1.0).abs() < f64::EPSILON);
    assert_eq!(s.control_params(), &heat_core::Params::default());
}

#[test]
fn controller_values_from_the_file_and_environment_overrides() {
    let dir = tempfile::tempdir().expect("dir");
    let toml = "[controller]\nperiod_secs = 10\nheartbeat_secs = 300\ndiscovery = false\n\
                discovery_prefix = \"ha\"\nprobe_anonymous = false\ndevice_name = \"Roof\"\n\
                lock_file = \"run/lock\"\ntime_scale = 600\n";
    let s = load(&sources(&dir, toml));
    let c = s.controller();
    assert_eq!(c.period(), Duration::from_secs(10));
    assert_eq!(c.heartbeat(), Duration::from_secs(300));
    assert!(!c.discovery() && !c.probe_anonymous());
    assert_eq!((c.discovery_prefix(), c.device_name()), ("ha", "Roof"));
    assert_eq!(c.lock_file(), dir.path().join("run/lock"));
    assert!((c.time_scale() - 600.0).abs() < f64::EPSILON);
    assert!(
        s.effective()
            .to_string()
            .contains("controller.period_secs in")
    );

    let s = load(
        &sources(&dir, toml)
            .with_var("HEAT_CONTROL_PERIOD_SECS", "5")
            .with_var("HEAT_DISCOVERY", "true"),
    );
    assert_eq!(s.controller().period(), Duration::from_secs(5));
    assert!(s.controller().discovery());
    assert!(
        s.effective()
            .to_string()
            .contains("HEAT_CONTROL_PERIOD_SECS in the environment")
    );
}

#[test]
fn controller_values_out_of_range_name_the_key_and_the_range() {
    let dir = tempfile::tempdir().expect("dir");
    let cases: &[(&str, &[&str])] = &[
        (
            "period_secs = 0",
            &["controller.period_secs in", "1 to 3600"],
        ),
        (
            "period_secs = 3601",
            &["controller.period_secs", "1 to 3600"],
        ),
        (
            "period_secs = 2.5",
            &["controller.period_secs", "whole number"],
        ),
        (
            "heartbeat_secs = 4",
            &["controller.heartbeat_secs", "5 to 3600"],
        ),
        (
            "time_scale = 0.5",
            &["controller.time_scale", "1 to 100000"],
        ),
        (
            "time_scale = \"NaN\"",
            &["controller.time_scale", "1 to 100000"],
        ),
        (
            "discovery = \"maybe\"",
            &["controller.discovery", "not a boolean"],
        ),
        (
            "discovery_prefix = \"home/assistant\"",
            &["controller.discovery_prefix", "'/'"],
        ),
        (
            "discovery_prefix = \"ha#\"",
            &["controller.discovery_prefix", "letters, digits"],
        ),
        (
            "discovery_prefix = \"\"",
            &["controller.discovery_prefix", "empty"],
        ),
        (
            "device_name = \"a\\nb\"",
            &["controller.device_name", "control character"],
        ),
        ("lock_file = \"\"", &["controller.lock_file", "empty"]),
        ("perod_secs = 3", &["controller.perod_secs", "period_secs"]),
    ];
    for (line, needles) in cases {
        fail(&sources(&dir, &format!("[controller]\n{line}\n")), needles);
    }
    fail(
        &sources(&dir, "").with_var("HEAT_CONTROL_PERIOD_SECS", "0"),
        &["HEAT_CONTROL_PERIOD_SECS", "1 to 3600"],
    );
    fail(
        &sources(&dir, "").with_var("HEAT_DISCOVERY", "sometimes"),
        &["HEAT_DISCOVERY", "not a boolean"],
    );
}

#[test]
fn the_topic_prefix_stays_outside_a_configured_discovery_prefix() {
    let dir = tempfile::tempdir().expect("dir");
    let e = fail(
        &sources(
            &dir,
            "[mqtt]\ntopic_prefix = \"ha/solar\"\n[controller]\ndiscovery_prefix = \"ha\"\n",
        ),
        &["ha/solar", "discovery prefix ha/"],
    );
    assert!(matches!(e, ConfigError::TopicPrefixInDiscovery { .. }));
}

#[test]
fn control_values_go_through_heat_core_validation() {
    let dir = tempfile::tempdir().expect("dir");
    let s = load(&sources(
        &dir,
        "[control]\ndt_start = 10\ndt_stop = 5.5\nnight_cooling_enabled = true\npump_min_on_s = 120\n",
    ));
    let p = s.control_params();
    assert_eq!(p.get(Parameter::DtStart), 10.0);
    assert_eq!(p.get(Parameter::DtStop), 5.5);
    assert!(p.night_cooling_enabled());
    assert_eq!(p.raw().pump_min_on_s, 120);
    // Keys not given keep heat-core's defaults.
    assert_eq!(p.get(Parameter::BoilStop), 150.0);

    let file = dir.path().join("heat.toml").display().to_string();
    let cases: &[(&str, &[&str])] = &[
        ("dt_start = 50", &["control.dt_start in", "3 to 40", "50"]),
        ("tank_max = 96", &["control.tank_max", "40 to 95"]),
        ("dt_start = 8.3", &["control.dt_start", "multiple of 0.5"]),
        (
            "dt_start = nan",
            &["control.dt_start", "not a finite number"],
        ),
        (
            "boil_stop = inf",
            &["control.boil_stop", "not a finite number"],
        ),
        (
            "dt_stop = 9",
            &[
                "control.dt_stop",
                "must be below dt_start",
                "control.dt_start",
            ],
        ),
        (
            "pump_min_on_s = 4000",
            &["control.pump_min_on_s", "0 to 3600"],
        ),
        ("dt_strat = 8", &["control.dt_strat", "dt_start"]),
    ];
    for (line, needles) in cases {
        let e = fail(&sources(&dir, &format!("[control]\n{line}\n")), needles);
        assert!(e.to_string().contains(&file), "{e} does not name {file}");
    }
    // A wrong type is a file error, not a panic.
    fail(
        &sources(&dir, "[control]\ndt_start = \"warm\"\n"),
        &["dt_start"],
    );
}

#[test]
fn the_fluid_is_named_in_control_and_an_unknown_one_lists_the_valid_names() {
    let dir = tempfile::tempdir().expect("dir");
    let p = load(&sources(&dir, "")).control_params().clone();
    assert_eq!(p.raw().fluid, Fluid::PropyleneGlycol);
    assert_eq!(p.raw().fluid_concentration_pct, 45.0);
    for (text, fluid, pct) in [
        ("fluid = \"water\"\n", Fluid::Water, 45.0),
        (
            "fluid = \"ethylene_glycol\"\nfluid_concentration_pct = 30\n",
            Fluid::EthyleneGlycol,
            30.0,
        ),
        (
            "fluid = \"propylene_glycol\"\nfluid_concentration_pct = 42.5\n",
            Fluid::PropyleneGlycol,
            42.5,
        ),
    ] {
        let s = load(&sources(&dir, &format!("[control]\n{text}")));
        let raw = s.control_params().raw();
        assert_eq!(
            (raw.fluid, raw.fluid_concentration_pct),
            (fluid, pct),
            "{text}"
        );
    }
    let e = fail(
        &sources(&dir, "[control]\nfluid = \"glycol\"\n"),
        &[
            "control.fluid",
            "heat.toml",
            "unknown fluid \"glycol\"",
            "expected water, propylene_glycol or ethylene_glycol",
        ],
    );
    assert!(matches!(e, ConfigError::ConfigFileInvalid { .. }), "{e:?}");
    // Names are exact: no other case, no spaces.
    for bad in ["\"Water\"", "\"propylene glycol\"", "3", "true"] {
        fail(
            &sources(&dir, &format!("[control]\nfluid = {bad}\n")),
            &["control.fluid", "propylene_glycol"],
        );
    }
    let e = fail(
        &sources(&dir, "[control]\nfluid_concentration_pct = 70\n"),
        &[
            "control.fluid_concentration_pct in",
            "70 is outside 0..=60",
            "use a value from 0 to 60",
        ],
    );
    assert!(matches!(e, ConfigError::InvalidControl { .. }), "{e:?}");
    // The key it replaces is unknown now; the error lists the new ones.
    fail(
        &sources(&dir, "[control]\nheat_capacity_kj_per_l_k = 3.8\n"),
        &[
            "control.heat_capacity_kj_per_l_k",
            "fluid, fluid_concentration_pct",
        ],
    );
}
