//! The simulated wall clock and the default heater windows.

use std::time::Duration;

use heat_core::{Parameter, Params};

use crate::{DEFAULT_START, Options, default_params, default_time_zone, run};

#[test]
fn the_default_zone_is_central_european_time_with_its_dst_rule() {
    let zone = default_time_zone();
    let offset = |at: &str| zone.to_offset(at.parse().expect("a timestamp")).seconds();
    assert_eq!(offset("2026-01-15T12:00:00Z"), 3600);
    assert_eq!(offset("2026-07-15T12:00:00Z"), 7200);
    // The spring change is a week after the default start.
    assert_eq!(offset("2026-03-29T00:59:59Z"), 3600);
    assert_eq!(offset("2026-03-29T01:00:00Z"), 7200);
    assert_eq!(DEFAULT_START, "2026-03-22T00:00:00Z".parse().unwrap());
}

#[test]
fn the_default_windows_are_mornings_and_evenings() {
    let p = default_params();
    assert_eq!(p.heater_windows(), [(300, 480), (1020, 1320), (0, 0)]);
    assert_eq!(p.get(Parameter::HeaterWindow3End), 0.0);
    assert!(p.raw().tube_kick_enabled);
}

#[test]
fn heater_windows_cut_the_heater_energy_of_a_quiet_run() {
    // No commands, so the windows stay as set; faults as usual.
    let quiet = Options {
        days: 20,
        seed: 3,
        mean_command_interval: Duration::from_secs(1_000_000_000),
        ..Options::default()
    };
    let windowed = run(&quiet);
    let all_day = run(&Options {
        params: Params::try_from(heat_core::RawParams {
            tube_kick_enabled: true,
            ..heat_core::RawParams::default()
        })
        .unwrap(),
        ..quiet.clone()
    });
    assert_eq!(windowed.violation_count, 0, "{windowed:?}");
    assert_eq!(all_day.violation_count, 0, "{all_day:?}");
    assert!(
        windowed.heater_kwh < all_day.heater_kwh,
        "windows 05–08 and 17–22 heated {} kWh, all day {} kWh",
        windowed.heater_kwh,
        all_day.heater_kwh
    );
}

#[test]
fn a_quiet_run_disinfects_at_least_once_per_interval_plus_a_day() {
    // No commands and no faults: the heater is always available, the interval stays 7 days.
    let quiet = Options {
        days: 60,
        seed: 4,
        mean_command_interval: Duration::from_secs(1_000_000_000),
        mean_fault_interval: Duration::from_secs(1_000_000_000),
        ..Options::default()
    };
    let s = run(&quiet);
    assert_eq!(s.violation_count, 0, "{s:?}");
    assert!(
        s.disinfections >= 60 / 7,
        "{} disinfections",
        s.disinfections
    );
    assert!(
        s.longest_disinfection_gap_days <= 8.0,
        "longest gap {:.2} days",
        s.longest_disinfection_gap_days
    );
}
