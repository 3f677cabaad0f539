//! Command-line parsing and validation.

use clap::Parser;

use super::{Cli, UsageError};

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("heat-controller").chain(args.iter().copied()))
}

#[test]
fn defaults_run_on_hardware_with_seed_one() {
    let cli = parse(&[]).unwrap();
    assert!(!cli.simulate);
    assert_eq!(cli.seed, 1);
    assert_eq!(cli.time_scale, None);
    assert_eq!(cli.validate(), Ok(()));
}

#[test]
fn simulation_options_parse() {
    let cli = parse(&[
        "--simulate",
        "--seed",
        "7",
        "--time-scale",
        "50",
        "--sim-initial-c",
        "15,92,93",
        "--config",
        "x.toml",
    ])
    .unwrap();
    assert!(cli.simulate);
    assert_eq!(cli.seed, 7);
    assert_eq!(cli.time_scale, Some(50.0));
    assert_eq!(cli.initial_temperatures(), Some((15.0, 92.0, 93.0)));
    assert_eq!(cli.validate(), Ok(()));
}

#[test]
fn simulation_options_need_simulate() {
    for args in [
        &["--time-scale", "10"][..],
        &["--seed", "3"],
        &["--relay-journal", "j"],
    ] {
        assert!(parse(args).is_err(), "{args:?} without --simulate");
    }
}

#[test]
fn out_of_range_values_are_usage_errors() {
    let table = [
        (&["--simulate", "--time-scale", "0.5"][..], "time scale"),
        (&["--simulate", "--time-scale", "NaN"], "time scale"),
        (&["--simulate", "--time-scale", "1000001"], "time scale"),
        (&["--simulate", "--sim-initial-c", "1,2,inf"], "temperature"),
        (&["--simulate", "--sim-initial-c", "1,2,400"], "temperature"),
    ];
    for (args, what) in table {
        let cli = parse(args).unwrap();
        let err = cli.validate().unwrap_err();
        match (what, err) {
            ("time scale", UsageError::TimeScale(_))
            | ("temperature", UsageError::InitialTemperature(_)) => {}
            (_, other) => panic!("{args:?}: expected a {what} error, got {other}"),
        }
    }
}

#[test]
fn sim_initial_needs_three_values() {
    let two = parse(&["--simulate", "--sim-initial-c", "1,2"]).unwrap();
    assert_eq!(two.validate(), Err(UsageError::InitialCount(2)));
    assert!(parse(&["--simulate", "--sim-initial-c", "a,b,c"]).is_err());
}
