//! w1 backend tests on fake sysfs trees written to temp dirs, plus the virtual-clock fake.

use std::fs;
use std::path::Path;

use proptest::prelude::*;

use super::parse::{
    parse_temperature, parse_w1_slave, parse_w1_slave_with_provenance, render_scratchpad,
    render_w1_slave,
};
use super::*;
use crate::clock::VirtualClock;

const GOOD: &str = "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n";
/// The kernel's w1_slave for a sensor read before any conversion (the brief's example).
const POWER_ON_SLAVE: &str =
    "50 05 4b 46 7f ff 0c 10 1c : crc=1c YES\n50 05 4b 46 7f ff 0c 10 1c t=85000\n";
/// A genuine DS18B20 that really converted 85.000 °C: byte 6 is 0x10, not the power-on 0x0C.
const REAL_85_SLAVE: &str =
    "50 05 4b 46 7f ff 10 10 bd : crc=bd YES\n50 05 4b 46 7f ff 10 10 bd t=85000\n";
const BAD_CRC: &str =
    "72 01 4b 46 7f ff 0e 10 57 : crc=12 NO\n72 01 4b 46 7f ff 0e 10 57 t=23125\n";

fn write_sensor(root: &Path, id: &str, file: &str, contents: &[u8]) {
    let dir = root.join(id);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(file), contents).unwrap();
}

fn bank(root: &Path, sensors: &[(SensorRole, &str)]) -> W1Bank<StdFs> {
    let mut config = W1Config::new(
        sensors
            .iter()
            .map(|(r, id)| (*r, (*id).to_owned()))
            .collect(),
    );
    config.root = root.to_path_buf();
    config.read_timeout = Duration::from_millis(200);
    W1Bank::new(StdFs, config)
}

#[test]
fn w1_slave_parse_table() {
    let power_on = render_scratchpad(&crate::sensor::Scratchpad::power_on(), true);
    assert_eq!(power_on, POWER_ON_SLAVE);
    let negative = render_w1_slave(-10_125, true);
    let converted_85 = render_w1_slave(85_000, true);
    let cases: &[(&[u8], Result<f64, SensorError>)] = &[
        (GOOD.as_bytes(), Ok(23.125)),
        (BAD_CRC.as_bytes(), Err(SensorError::Crc)),
        (power_on.as_bytes(), Err(SensorError::PowerOnValue)),
        (REAL_85_SLAVE.as_bytes(), Ok(85.0)),
        (converted_85.as_bytes(), Ok(85.0)),
        (
            b"aa : crc=aa YES\naa t=-127000\n",
            Err(SensorError::Disconnected),
        ),
        (
            b"00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n",
            Err(SensorError::Disconnected),
        ),
        (negative.as_bytes(), Ok(-10.125)),
        (
            b"x YES\nx t=130000\n",
            Err(SensorError::OutOfRange(130_000)),
        ),
        (b"", Err(SensorError::Malformed("w1_slave is empty".into()))),
        (
            b"x YES\n",
            Err(SensorError::Malformed(
                "w1_slave has no temperature line".into(),
            )),
        ),
        (
            b"x MAYBE\nx t=1\n",
            Err(SensorError::Malformed(
                "w1_slave CRC line ends in neither YES nor NO".into(),
            )),
        ),
        (
            b"x YES\nx t=abc\n",
            Err(SensorError::Malformed(
                "temperature is not an integer".into(),
            )),
        ),
        (
            b"x YES\nx q=1\n",
            Err(SensorError::Malformed("w1_slave has no t= field".into())),
        ),
        (
            b"\xff\xfe YES\n",
            Err(SensorError::Malformed("w1_slave is not UTF-8".into())),
        ),
    ];
    for (raw, expected) in cases {
        assert_eq!(
            &parse_w1_slave(raw),
            expected,
            "{:?}",
            String::from_utf8_lossy(raw)
        );
    }
}

#[test]
fn temperature_parse_table() {
    assert_eq!(parse_temperature(b"23125\n"), Ok(23.125));
    assert_eq!(parse_temperature(b"-5500"), Ok(-5.5));
    // No scratchpad here: the value passes and heat-core's window judges it.
    assert_eq!(parse_temperature(b"85000\n"), Ok(85.0));
    assert_eq!(
        parse_temperature(b"-127000\n"),
        Err(SensorError::Disconnected)
    );
    assert_eq!(
        parse_temperature(b"  \n"),
        Err(SensorError::Malformed("temperature is empty".into()))
    );
    assert_eq!(
        parse_temperature(b"99999999999999999999999"),
        Err(SensorError::Malformed(
            "temperature is not an integer".into()
        ))
    );
}

#[test]
fn rendered_files_parse_back() {
    // Values on the 1/16 °C grid survive the register encoding exactly.
    for milli in [-55_000, -10_125, 0, 21_500, 84_875, 125_000] {
        let expected = milli as f64 / 1000.0;
        assert_eq!(
            parse_w1_slave(render_w1_slave(milli, true).as_bytes()),
            Ok(expected)
        );
    }
}

proptest! {
    #[test]
    fn parsers_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_w1_slave(&raw);
        let _ = parse_temperature(&raw);
    }

    #[test]
    fn parsers_never_panic_on_near_valid_text(
        head in "[0-9a-f ]{0,30}(YES|NO)?",
        milli in "-?[0-9]{0,25}",
        sep in "(\n|\r\n| )",
    ) {
        let text = format!("{head}{sep}x t={milli}");
        let result = parse_w1_slave(text.as_bytes());
        // Anything accepted is a real DS18B20 reading.
        if let Ok(c) = result {
            prop_assert!((-55.0..=125.0).contains(&c));
        }
        let _ = parse_temperature(milli.as_bytes());
    }
}

#[test]
fn discover_lists_only_ds18b20_devices() {
    let tmp = tempfile::tempdir().unwrap();
    write_sensor(tmp.path(), "28-000000000002", "w1_slave", GOOD.as_bytes());
    write_sensor(tmp.path(), "28-000000000001", "w1_slave", GOOD.as_bytes());
    write_sensor(tmp.path(), "10-000000000003", "w1_slave", GOOD.as_bytes());
    fs::create_dir(tmp.path().join("w1_bus_master1")).unwrap();
    let ids = discover(&mut StdFs, tmp.path()).unwrap();
    assert_eq!(ids, ["28-000000000001", "28-000000000002"]);
    assert_eq!(
        discover(&mut StdFs, &tmp.path().join("nope"))
            .unwrap_err()
            .kind(),
        io::ErrorKind::NotFound
    );
}

#[test]
fn sweep_on_a_tree_with_every_kind_of_file() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write_sensor(root, "28-a", "w1_slave", GOOD.as_bytes());
    write_sensor(root, "28-b", "temperature", b"41500\n");
    write_sensor(root, "28-c", "w1_slave", POWER_ON_SLAVE.as_bytes());
    write_sensor(root, "28-d", "temperature", b"-127000\n");
    write_sensor(root, "28-e", "w1_slave", b"garbage\x00\x01");
    write_sensor(root, "28-f", "temperature", b"");
    fs::create_dir_all(root.join("28-g")).unwrap(); // directory without attribute files
    let ids = [
        "28-a",
        "28-b",
        "28-c",
        "28-d",
        "28-e",
        "28-f",
        "28-g",
        "28-missing",
    ];
    let mut results = Vec::new();
    let mut b = bank(root, &[]);
    for id in ids {
        results.push(b.read_device(id));
    }
    assert_eq!(
        results,
        [
            Ok(23.125),
            Ok(41.5),
            Err(SensorError::PowerOnValue),
            Err(SensorError::Disconnected),
            Err(SensorError::Malformed(
                "w1_slave has no temperature line".into()
            )),
            Err(SensorError::Malformed("temperature is empty".into())),
            Err(SensorError::Missing),
            Err(SensorError::Missing),
        ]
    );
}

#[test]
fn sweep_reports_per_role_in_config_order() {
    let tmp = tempfile::tempdir().unwrap();
    write_sensor(tmp.path(), "28-a", "w1_slave", GOOD.as_bytes());
    write_sensor(tmp.path(), "28-b", "temperature", b"55000");
    let mut b = bank(
        tmp.path(),
        &[
            (SensorRole::Collector, "28-b"),
            (SensorRole::TankBottom, "28-a"),
            (SensorRole::TankTop, "28-gone"),
        ],
    );
    assert_eq!(
        b.roles(),
        [
            SensorRole::Collector,
            SensorRole::TankBottom,
            SensorRole::TankTop
        ]
    );
    let sweep = b.sweep(&mut VirtualClock::new());
    assert_eq!(sweep.get(SensorRole::Collector), Ok(55.0));
    assert_eq!(sweep.get(SensorRole::TankBottom), Ok(23.125));
    assert_eq!(sweep.get(SensorRole::TankTop), Err(SensorError::Missing));
}

/// Serves one scripted answer per read of a path, then delegates; counts reads.
#[derive(Debug)]
struct Scripted<F> {
    inner: F,
    answers: Vec<(String, io::Result<Vec<u8>>)>,
    reads: usize,
}

impl<F: W1Fs> W1Fs for Scripted<F> {
    fn list_dir(&mut self, dir: &Path) -> io::Result<Vec<String>> {
        self.inner.list_dir(dir)
    }
    fn exists(&mut self, path: &Path) -> bool {
        self.inner.exists(path)
    }
    fn read(&mut self, path: &Path, timeout: Duration) -> io::Result<Vec<u8>> {
        self.reads += 1;
        let key = path.to_string_lossy();
        if let Some(i) = self
            .answers
            .iter()
            .position(|(p, _)| key.ends_with(p.as_str()))
        {
            return self.answers.remove(i).1;
        }
        self.inner.read(path, timeout)
    }
    fn write(&mut self, path: &Path, contents: &str) -> io::Result<()> {
        self.inner.write(path, contents)
    }
}

fn scripted(root: &Path, answers: Vec<(&str, io::Result<Vec<u8>>)>) -> W1Bank<Scripted<StdFs>> {
    let fs = Scripted {
        inner: StdFs,
        answers: answers
            .into_iter()
            .map(|(p, a)| (p.to_owned(), a))
            .collect(),
        reads: 0,
    };
    let mut config = W1Config::new(vec![(SensorRole::Collector, "28-a".into())]);
    config.root = root.to_path_buf();
    W1Bank::new(fs, config)
}

#[test]
fn crc_failure_is_retried_once_then_reported() {
    let tmp = tempfile::tempdir().unwrap();
    write_sensor(tmp.path(), "28-a", "w1_slave", BAD_CRC.as_bytes());
    // Persistent NO: two reads, then the error.
    let mut b = scripted(tmp.path(), vec![]);
    assert_eq!(b.read_device("28-a"), Err(SensorError::Crc));
    assert_eq!(b.fs_mut().reads, 2);
    // One NO followed by a good read: the retry recovers.
    let mut b = scripted(
        tmp.path(),
        vec![
            ("28-a/w1_slave", Ok(BAD_CRC.into())),
            ("28-a/w1_slave", Ok(GOOD.into())),
        ],
    );
    assert_eq!(b.read_device("28-a"), Ok(23.125));
    assert_eq!(b.fs_mut().reads, 2);
}

#[test]
fn permission_denied_and_io_errors_are_typed() {
    // Tests run as root, where mode 000 still reads; inject the errno the kernel would give.
    let tmp = tempfile::tempdir().unwrap();
    write_sensor(tmp.path(), "28-a", "w1_slave", GOOD.as_bytes());
    let denied = io::Error::from(io::ErrorKind::PermissionDenied);
    let mut b = scripted(tmp.path(), vec![("28-a/w1_slave", Err(denied))]);
    let err = b.read_device("28-a").unwrap_err();
    assert!(
        matches!(&err, SensorError::Io(m) if m.contains("permission denied")),
        "{err:?}"
    );
    let mut b = scripted(
        tmp.path(),
        vec![("28-a/w1_slave", Err(io::Error::from_raw_os_error(5)))],
    );
    assert!(matches!(b.read_device("28-a"), Err(SensorError::Io(_))));
    let mut b = scripted(
        tmp.path(),
        vec![(
            "28-a/w1_slave",
            Err(io::Error::from(io::ErrorKind::NotFound)),
        )],
    );
    assert_eq!(b.read_device("28-a"), Err(SensorError::Missing));
}

#[test]
fn a_read_that_never_completes_times_out() {
    // A FIFO with no writer blocks open(2) forever: a real stuck read on a real file.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("28-a");
    fs::create_dir(&dir).unwrap();
    let fifo = dir.join("w1_slave");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let mut b = bank(tmp.path(), &[(SensorRole::Collector, "28-a")]);
    let started = std::time::Instant::now();
    assert_eq!(b.read_device("28-a"), Err(SensorError::Timeout));
    assert!(started.elapsed() < Duration::from_secs(2));
    // Unblock the helper thread so it does not outlive the test in the kernel.
    drop(fs::OpenOptions::new().write(true).open(&fifo).unwrap());
}

#[test]
fn bulk_read_present_triggers_once_and_waits_one_conversion() {
    let tmp = tempfile::tempdir().unwrap();
    write_sensor(tmp.path(), "28-a", "w1_slave", GOOD.as_bytes());
    fs::create_dir(tmp.path().join("w1_bus_master1")).unwrap();
    let bulk = tmp.path().join("w1_bus_master1/therm_bulk_read");
    fs::write(&bulk, "0\n").unwrap();
    let mut b = bank(tmp.path(), &[(SensorRole::Collector, "28-a")]);
    let clock = VirtualClock::new();
    let sweep = b.sweep(&mut clock.clone());
    assert_eq!(sweep.get(SensorRole::Collector), Ok(23.125));
    assert_eq!(fs::read_to_string(&bulk).unwrap(), "trigger\n");
    assert_eq!(clock.now(), Duration::from_millis(750));
}

#[test]
fn bulk_read_absent_writes_nothing_and_waits_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    write_sensor(tmp.path(), "28-a", "w1_slave", GOOD.as_bytes());
    fs::create_dir(tmp.path().join("w1_bus_master1")).unwrap();
    let mut b = bank(tmp.path(), &[(SensorRole::Collector, "28-a")]);
    let clock = VirtualClock::new();
    assert_eq!(
        b.sweep(&mut clock.clone()).get(SensorRole::Collector),
        Ok(23.125)
    );
    // The kernel's blocking read does the waiting; we add none.
    assert_eq!(clock.now(), Duration::ZERO);
    assert!(!tmp.path().join("w1_bus_master1/therm_bulk_read").exists());
}

fn fake_bank(n: usize, bulk: bool) -> (W1Bank<FakeW1>, VirtualClock) {
    let clock = VirtualClock::new();
    let mut fake = FakeW1::new(
        DEFAULT_ROOT,
        clock.clone(),
        Duration::from_millis(750),
        bulk,
    );
    let mut sensors = Vec::new();
    for (i, role) in SensorRole::ALL.into_iter().cycle().take(n).enumerate() {
        let id = format!("28-{i:012}");
        fake.set_sensor(&id, 20_000 + i as i64 * 1000);
        sensors.push((role, id));
    }
    (W1Bank::new(fake, W1Config::new(sensors)), clock)
}

#[test]
fn virtual_clock_sweep_costs_one_conversion_with_bulk_and_n_without() {
    for n in [1, 4] {
        let (mut with, clock) = fake_bank(n, true);
        with.sweep(&mut clock.clone());
        assert_eq!(clock.now(), Duration::from_millis(750), "bulk, n={n}");
        assert_eq!(with.fs_mut().conversions(), 1);

        let (mut without, clock) = fake_bank(n, false);
        let sweep = without.sweep(&mut clock.clone());
        assert_eq!(
            clock.now(),
            Duration::from_millis(750) * n as u32,
            "no bulk, n={n}"
        );
        assert_eq!(without.fs_mut().conversions(), n);
        assert_eq!(sweep.get(SensorRole::Collector), Ok(20.0));
    }
}

#[test]
fn stuck_fake_read_times_out_in_virtual_time() {
    let (mut b, clock) = fake_bank(2, false);
    b.fs_mut().set_stuck("28-000000000000", true);
    let sweep = b.sweep(&mut clock.clone());
    assert_eq!(sweep.get(SensorRole::Collector), Err(SensorError::Timeout));
    assert_eq!(sweep.get(SensorRole::TankBottom), Ok(21.0));
    assert_eq!(
        clock.now(),
        Duration::from_secs(2) + Duration::from_millis(750)
    );
}

#[test]
fn provenance_says_whether_the_scratchpad_was_read() {
    let cases: &[(&str, Result<f64, SensorError>, Provenance)] = &[
        (
            POWER_ON_SLAVE,
            Err(SensorError::PowerOnValue),
            Provenance::Scratchpad,
        ),
        (REAL_85_SLAVE, Ok(85.0), Provenance::Scratchpad),
        (GOOD, Ok(23.125), Provenance::Scratchpad),
        // Fewer than nine bytes: only t= is known.
        (
            "aa : crc=aa YES\naa t=85000\n",
            Ok(85.0),
            Provenance::ValueOnly,
        ),
    ];
    for (raw, value, provenance) in cases {
        assert_eq!(
            parse_w1_slave_with_provenance(raw.as_bytes()),
            (value.clone(), *provenance),
            "{raw:?}"
        );
    }
}

#[test]
fn a_real_85_through_the_bank_reaches_heat_core_as_converted() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write_sensor(root, "28-real", "w1_slave", REAL_85_SLAVE.as_bytes());
    write_sensor(root, "28-boot", "w1_slave", POWER_ON_SLAVE.as_bytes());
    write_sensor(root, "28-bare", "temperature", b"85000\n");
    let mut b = bank(
        root,
        &[
            (SensorRole::Collector, "28-real"),
            (SensorRole::TankBottom, "28-boot"),
            (SensorRole::TankTop, "28-bare"),
        ],
    );
    let readings = b.sweep(&mut VirtualClock::new()).to_readings();
    assert_eq!(readings.collector, heat_core::Reading::Converted(85.0));
    assert_eq!(
        readings.tank_bottom,
        heat_core::Reading::Fault(heat_core::SensorFault::PowerOnValue)
    );
    assert_eq!(readings.tank_top, heat_core::Reading::Value(85.0));
}
