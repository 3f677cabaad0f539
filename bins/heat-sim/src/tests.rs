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

#[test]
fn frequent_restarts_from_damaged_files_keep_the_counters_and_break_no_rule() {
    let s = run(&Options {
        days: 60,
        seed: 5,
        mean_restart_interval: Some(Duration::from_secs(6 * 3600)),
        ..Options::default()
    });
    assert_eq!(s.violation_count, 0, "{}", s.to_text());
    for kind in crate::restart::RestartKind::ALL {
        let n = s.restarts.get(kind.as_str()).copied().unwrap_or(0);
        assert!(
            n >= 5,
            "{n} restarts of kind {}: {:?}",
            kind.as_str(),
            s.restarts
        );
    }
    // Damaged files fell back to the previous generation, not to zero.
    assert!(
        s.restart_sources.get("previous").copied().unwrap_or(0) >= 15,
        "{:?}",
        s.restart_sources
    );
    assert_eq!(
        s.restart_sources.get("defaults"),
        None,
        "{:?}",
        s.restart_sources
    );
    assert!(s.restart_dropped >= 5, "{}", s.restart_dropped);
    // At most two generations of one interval (plus two steps) each.
    let bound = 2.0 * (600.0 + 60.0) / 3600.0;
    assert!(
        s.max_lost_hours.0 <= bound && s.max_lost_hours.1 <= bound,
        "{:?}",
        s.max_lost_hours
    );
    assert!(
        s.max_lost_hours.0 > 0.0,
        "some pump time was lost at a crash"
    );
    // The writes follow the policy: about one per interval while counters move, never more
    // than one per step.
    assert!(s.state_writes > 60 * 24, "{} writes", s.state_writes);
    assert!(s.state_writes < s.steps, "{} writes", s.state_writes);
}

#[test]
fn without_restarts_a_seed_runs_as_before() {
    let with = run(&Options {
        days: 5,
        seed: 2,
        ..Options::default()
    });
    let without = run(&Options {
        days: 5,
        seed: 2,
        mean_restart_interval: None,
        ..Options::default()
    });
    assert_eq!(without.restarts, std::collections::BTreeMap::new());
    assert_eq!(
        without.faults, with.faults,
        "restarts draw from their own stream"
    );
    assert_eq!(without.commands, with.commands);
    assert_eq!(without.violation_count, 0);
}
