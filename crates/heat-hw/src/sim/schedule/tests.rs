//! Parsing and applying `--sim-faults` schedules.

use std::time::Duration;

use heat_core::Timestamp;

use super::{Fault, FaultSchedule};
use crate::relay::RelayRole;
use crate::sensor::SensorRole;
use crate::sim::{SimConfig, SimFault, SimPlant};

#[test]
fn a_schedule_parses_and_bad_entries_are_named() {
    let s: FaultSchedule = "relay:heater@600+300, disconnected:tank_top@10+5,"
        .parse()
        .unwrap();
    let e = s.entries();
    assert_eq!(e.len(), 2);
    assert_eq!(
        e[0].fault,
        Fault::Plant(SimFault::RelayWrite(RelayRole::Heater))
    );
    assert_eq!(
        (e[0].start, e[0].duration),
        (Duration::from_secs(600), Duration::from_secs(300))
    );
    assert_eq!(
        e[1].fault,
        Fault::Plant(SimFault::Disconnected(SensorRole::TankTop))
    );
    for bad in [
        "relay:valve@1+1",
        "crc:tank@1+1",
        "crc:tank_top@1",
        "x@1+1",
        "crc:collector@-1+2",
        "hang:relay@1+1",
        "hang@1+1",
    ] {
        let err = bad.parse::<FaultSchedule>().unwrap_err();
        assert!(err.to_string().contains(bad), "{err}");
    }
}

#[test]
fn faults_are_injected_at_their_start_and_cleared_after_their_duration() {
    let mut plant = SimPlant::new(SimConfig::default());
    let mut s: FaultSchedule = "crc:collector@10+5".parse().unwrap();
    let at = |secs: u64| Timestamp::from_millis(secs * 1000);
    s.apply(at(9), &mut plant);
    assert!(plant.faults().is_empty());
    s.apply(at(10), &mut plant);
    assert_eq!(plant.faults(), &[SimFault::Crc(SensorRole::Collector)]);
    s.apply(at(15), &mut plant);
    assert!(plant.faults().is_empty());
    s.apply(at(20), &mut plant);
    assert!(plant.faults().is_empty(), "never injected again");
}

#[test]
fn a_hang_blocks_the_sweep_until_its_end_and_touches_no_plant_fault() {
    let mut plant = SimPlant::new(SimConfig::default());
    let mut s: FaultSchedule = "hang:sweep@100+60".parse().unwrap();
    assert_eq!(s.entries()[0].fault, Fault::HangSweep);
    let at = |secs: u64| Timestamp::from_millis(secs * 1000);
    // (now, how long the sweep still blocks)
    let table = [
        (99, None),
        (100, Some(60)),
        (130, Some(30)),
        (160, None),
        (200, None),
    ];
    for (now, blocks) in table {
        assert_eq!(
            s.apply(at(now), &mut plant).0,
            blocks.map(Duration::from_secs),
            "at {now} s"
        );
        assert!(plant.faults().is_empty(), "at {now} s");
    }
}
