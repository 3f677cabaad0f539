//! The sweep runs every seed once, in seed order, and its totals are the sums of its seeds.

use super::*;

#[test]
fn every_seed_runs_once_and_the_totals_add_up() {
    let options = Options {
        days: 2,
        ..Options::default()
    };
    let progress = Progress::default();
    let mut ticks = 0;
    let sweep = run_seeds(
        &options,
        3..=7,
        3,
        &progress,
        Duration::from_millis(1),
        &mut |_, _| ticks += 1,
    );
    let seeds: Vec<u64> = sweep.per_seed.iter().map(|s| s.seed).collect();
    assert_eq!(seeds, [3, 4, 5, 6, 7]);
    assert_eq!(sweep.total_days, 10);
    assert_eq!(
        progress.days_done(),
        10,
        "one progress count per simulated day"
    );
    assert!(ticks >= 1, "the final progress line is always shown");
    assert_eq!(sweep.threads, 3);
    // Each seed is the same run as on its own.
    let alone = crate::run(&Options { seed: 5, ..options });
    let five = &sweep.per_seed[2];
    assert_eq!(five.violation_count, alone.violation_count);
    assert_eq!(five.relay_errors, alone.relay_errors);
}

#[test]
fn violations_are_summed_and_kept_with_their_seed() {
    let mut a = crate::run(&Options {
        days: 1,
        seed: 1,
        ..Options::default()
    });
    let mut b = a.clone();
    b.seed = 2;
    a.violations = BTreeMap::from([("pump_during_boil_stop".to_owned(), 2)]);
    a.first_violations = vec![(10.0, "pump_during_boil_stop".to_owned()); 2];
    b.violations = BTreeMap::from([
        ("pump_during_boil_stop".to_owned(), 1),
        ("heater_short_cycle".to_owned(), 1),
    ]);
    b.first_violations = vec![(20.0, "heater_short_cycle".to_owned())];
    a.violation_count = 2;
    b.violation_count = 2;
    let s = fold(1, &(1..=2), 2, Duration::from_secs(2), &[a, b]);
    assert_eq!(s.violation_count, 4);
    assert_eq!(s.violations["pump_during_boil_stop"], 3);
    assert_eq!(s.first_violations.len(), 3);
    assert_eq!(s.first_violations[2].seed, 2);
    assert_eq!(s.days_per_second, 1.0);
    assert!(s.to_text().contains("with --seed 2"), "{}", s.to_text());
}
