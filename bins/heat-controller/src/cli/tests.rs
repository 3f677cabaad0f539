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

/// The help text's sections: heading → the flags listed under it.
fn sections(help: &str) -> Vec<(String, Vec<String>)> {
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    for line in help.lines() {
        if let Some(heading) = line.strip_suffix(':').filter(|l| !l.starts_with(' ')) {
            sections.push((heading.to_owned(), Vec::new()));
        } else if line.starts_with("  ") && line.trim_start().starts_with('-') {
            // A flag line (`  -h, --help  Print help`), not a description line below one.
            let flag = line.split([' ', ',']).find(|w| w.starts_with("--"));
            if let (Some(flag), Some((_, flags))) = (flag, sections.last_mut()) {
                flags.push(flag.to_owned());
            }
        }
    }
    sections
}

#[test]
fn help_lists_the_simulation_flags_under_their_own_heading() {
    use clap::CommandFactory;
    let simulation = [
        "--simulate",
        "--seed",
        "--time-scale",
        "--sim-initial-c",
        "--relay-journal",
        "--sim-faults",
        "--sim-rejected-backoff-secs",
    ];
    for help in [
        Cli::command().render_help().to_string(),
        Cli::command().render_long_help().to_string(),
    ] {
        let sections = sections(&help);
        let flags_of = |heading: &str| {
            sections
                .iter()
                .find(|(h, _)| h == heading)
                .map(|(_, f)| f.clone())
                .unwrap_or_else(|| panic!("no {heading:?} section:\n{help}"))
        };
        assert_eq!(
            flags_of("Options"),
            ["--config", "--help", "--version"],
            "{help}"
        );
        assert_eq!(flags_of(super::SIMULATION), simulation, "{help}");
        assert!(!help.contains("--generate"), "hidden: {help}");
    }
}
