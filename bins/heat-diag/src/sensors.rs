//! `heat-diag sensors`: lists every DS18B20 (`28-*`) on the bus, each with its configured role
//! (or "unassigned") and its reading or typed error, then the configured roles whose device was
//! not found. For wiring a new sensor and finding which probe is which.
//!
//! It needs no MQTT setting and no `[hardware]` table: without one it reads the kernel's w1
//! devices at `/sys/bus/w1/devices` and every sensor is unassigned. `--watch` reads again after
//! every conversion (at most once a second) and shows each reading's change since the previous
//! sweep, marking the one that changed most, until Ctrl-C: warm one probe in your hand and its
//! id is the one that climbs. `--json` prints the typed report (with `--watch`, one JSON object
//! per sweep and line).
//!
//! Exit code: 0 when the bus could be listed and every configured role has a valid reading, 1
//! otherwise (2, as everywhere, for a usage or configuration error). `--watch` ends with 0 on
//! Ctrl-C.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use heat_config::{Backend, HardwareSettings};
use heat_hw::{
    SensorError, SensorRole,
    onewire_gpio::{self, Ds18b20Bus, SpinDelay},
    w1::{self, StdFs, W1Bank, W1Config},
};
use serde::Serialize;

use crate::EXIT_CONFIG;

#[cfg(test)]
mod tests;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Print the report as JSON: schema, backend, bus, bus_error, devices (id, role or null,
    /// celsius or null, error {kind, message} or null), missing (role, id), failed_roles, ok.
    #[arg(long)]
    json: bool,
    /// Read the w1 devices under this directory instead of `[hardware] w1_root` (backend w1
    /// only), e.g. a copy of /sys/bus/w1/devices.
    #[arg(long, value_name = "PATH")]
    w1_root: Option<PathBuf>,
    /// Read again after every conversion and show each reading's change since the previous
    /// sweep, until Ctrl-C: warm one sensor by hand to see which id it is.
    #[arg(long)]
    watch: bool,
}

/// Shortest time between two `--watch` sweeps: a 12-bit conversion takes 750 ms, and a faster
/// loop over a fake or cached tree would only flood the terminal.
const MIN_SWEEP: Duration = Duration::from_secs(1);

/// A change smaller than this is noise (the DS18B20 resolves 1/16 °C), not a warmed probe.
const NOTICEABLE_C: f64 = 0.1;

/// What a bus gave: each device id with its reading, or why the bus could not be listed.
pub(crate) type Listing = Result<Vec<(String, Result<f64, SensorError>)>, String>;

/// Version of the JSON report.
const SCHEMA: u32 = 1;

/// One device found on the bus.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Device {
    /// Kernel w1 name, e.g. `28-0316a2790aff`.
    pub(crate) id: String,
    /// Configured role; `None` (JSON `null`, shown "unassigned") when no role names it.
    pub(crate) role: Option<&'static str>,
    /// The reading in °C, when valid.
    pub(crate) celsius: Option<f64>,
    /// Why there is no valid reading.
    pub(crate) error: Option<Problem>,
}

/// A typed sensor error: a stable kind and the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Problem {
    /// `missing`, `crc`, `power_on_value`, `disconnected`, `out_of_range`, `not_finite`,
    /// `timeout`, `malformed`, `io`.
    pub(crate) kind: &'static str,
    /// Human-readable text.
    pub(crate) message: String,
}

impl Problem {
    fn of(err: &SensorError) -> Self {
        Self {
            kind: kind(err),
            message: err.to_string(),
        }
    }
}

/// A configured role whose device is not on the bus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Missing {
    pub(crate) role: &'static str,
    pub(crate) id: String,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Report {
    pub(crate) schema: u32,
    /// `w1` or `gpio`.
    pub(crate) backend: &'static str,
    /// The w1 root directory, or the bus chip and line.
    pub(crate) bus: String,
    /// Why the bus could not be listed at all (no w1 driver, GPIO line busy, ...).
    pub(crate) bus_error: Option<String>,
    pub(crate) devices: Vec<Device>,
    pub(crate) missing: Vec<Missing>,
    /// Configured roles without a valid reading (errors and missing devices), in role order.
    pub(crate) failed_roles: Vec<&'static str>,
    /// True when every configured role has a valid reading.
    pub(crate) ok: bool,
}

/// The stable name of a sensor error, as in the controller's state JSON where they overlap.
pub(crate) fn kind(err: &SensorError) -> &'static str {
    match err {
        SensorError::Missing => "missing",
        SensorError::Crc => "crc",
        SensorError::PowerOnValue => "power_on_value",
        SensorError::Disconnected => "disconnected",
        SensorError::OutOfRange(_) => "out_of_range",
        SensorError::NotFinite => "not_finite",
        SensorError::Timeout => "timeout",
        SensorError::Malformed(_) => "malformed",
        SensorError::Io(_) => "io",
        _ => "other",
    }
}

/// Joins what the bus gave (`listing`: each device with its reading, or why the bus could not
/// be listed) with the configured roles. Pure.
pub(crate) fn build_report(
    backend: &'static str,
    bus: String,
    listing: Listing,
    configured: &[(SensorRole, String)],
) -> Report {
    let (found, bus_error) = match listing {
        Ok(found) => (found, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let role_of = |id: &str| {
        configured
            .iter()
            .find(|(_, c)| c.eq_ignore_ascii_case(id))
            .map(|(r, _)| *r)
    };
    let devices: Vec<Device> = found
        .into_iter()
        .map(|(id, reading)| Device {
            role: role_of(&id).map(SensorRole::as_str),
            celsius: reading.as_ref().ok().copied(),
            error: reading.as_ref().err().map(Problem::of),
            id,
        })
        .collect();
    let mut missing = Vec::new();
    let mut failed_roles = Vec::new();
    for (role, id) in configured {
        match devices.iter().find(|d| d.id.eq_ignore_ascii_case(id)) {
            None => {
                missing.push(Missing {
                    role: role.as_str(),
                    id: id.clone(),
                });
                failed_roles.push(role.as_str());
            }
            Some(d) if d.celsius.is_none() => failed_roles.push(role.as_str()),
            Some(_) => {}
        }
    }
    Report {
        schema: SCHEMA,
        backend,
        bus,
        ok: failed_roles.is_empty() && bus_error.is_none(),
        bus_error,
        devices,
        missing,
        failed_roles,
    }
}

pub(crate) fn run(hardware: &HardwareSettings, args: &Args) -> ExitCode {
    if args.watch {
        return watch(hardware, args);
    }
    let report = match sweep(hardware, args) {
        Ok(report) => report,
        Err(code) => return code,
    };
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => println!("{text}"),
            Err(err) => {
                eprintln!("heat-diag: cannot serialise the report: {err}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{}", render(&report));
    }
    if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Reads the bus once; a usage or configuration problem is printed and returned as its exit
/// code.
fn sweep(hardware: &HardwareSettings, args: &Args) -> Result<Report, ExitCode> {
    let configured = hardware.sensors();
    match (hardware.backend(), &args.w1_root) {
        (Backend::W1, root) => {
            let root = root.as_deref().unwrap_or(hardware.w1_root());
            Ok(build_report(
                "w1",
                root.display().to_string(),
                read_w1(root),
                configured,
            ))
        }
        (Backend::Gpio, Some(_)) => {
            eprintln!(
                "heat-diag: --w1-root applies to backend = \"w1\"; the configured backend is \"gpio\""
            );
            Err(ExitCode::from(EXIT_CONFIG))
        }
        (Backend::Gpio, None) => {
            let Some(bus) = hardware.bus() else {
                eprintln!("heat-diag: backend \"gpio\" without a bus line");
                return Err(ExitCode::from(EXIT_CONFIG));
            };
            Ok(build_report(
                "gpio",
                format!("{} line {}", bus.chip().display(), bus.line()),
                read_gpio(bus),
                configured,
            ))
        }
        (Backend::Sim, _) => {
            eprintln!(
                "heat-diag: [hardware] backend = \"sim\" has no sensors to list; set backend = \"w1\" or \"gpio\""
            );
            Err(ExitCode::from(EXIT_CONFIG))
        }
    }
}

/// One device's change since the previous sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Change {
    pub(crate) id: String,
    /// °C since the previous sweep; `None` on the first sweep, for a new device, or when either
    /// reading is an error.
    pub(crate) change_c: Option<f64>,
}

/// One `--watch --json` line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct WatchSweep<'a> {
    /// 1 for the first sweep.
    pub(crate) sweep: u64,
    pub(crate) report: &'a Report,
    /// In the order of `report.devices`.
    pub(crate) changes: Vec<Change>,
    /// The id whose reading changed most (by at least 0.1 °C), if any.
    pub(crate) most_changed: Option<String>,
}

/// Each device's change from `previous` to `report`, and the one that changed most. Pure.
pub(crate) fn changes(previous: Option<&Report>, report: &Report) -> (Vec<Change>, Option<String>) {
    let before = |id: &str| {
        previous?
            .devices
            .iter()
            .find(|d| d.id == id)
            .and_then(|d| d.celsius)
    };
    let changes: Vec<Change> = report
        .devices
        .iter()
        .map(|d| Change {
            id: d.id.clone(),
            change_c: d.celsius.zip(before(&d.id)).map(|(now, then)| now - then),
        })
        .collect();
    let most = changes
        .iter()
        .filter_map(|c| c.change_c.map(|delta| (c, delta.abs())))
        .filter(|(_, delta)| *delta >= NOTICEABLE_C)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| c.id.clone());
    (changes, most)
}

/// One sweep as text, with each change and a mark on the one that changed most.
pub(crate) fn render_sweep(sweep: &WatchSweep<'_>, elapsed: Duration) -> String {
    let report = sweep.report;
    let mut out = format!(
        "sweep {} (+{:.1} s) on {} ({})\n",
        sweep.sweep,
        elapsed.as_secs_f64(),
        report.bus,
        report.backend
    );
    if let Some(err) = &report.bus_error {
        out.push_str(&format!("bus error        {err}\n"));
    }
    if report.devices.is_empty() && report.bus_error.is_none() {
        out.push_str("no DS18B20 (28-*) device found\n");
    }
    for (d, change) in report.devices.iter().zip(&sweep.changes) {
        let role = d.role.unwrap_or("unassigned");
        let reading = match (&d.celsius, &d.error) {
            (Some(c), _) => format!("{c:.3} °C"),
            (None, Some(p)) => format!("ERROR {} [{}]", p.message, p.kind),
            (None, None) => "no reading".to_owned(),
        };
        let delta = match change.change_c {
            Some(delta) => format!("{delta:+.3}"),
            None => "-".to_owned(),
        };
        let mark = if sweep.most_changed.as_deref() == Some(d.id.as_str()) {
            "  <- changed most"
        } else {
            ""
        };
        out.push_str(&format!(
            "{:<16} {role:<12} {reading:<12} {delta}{mark}\n",
            d.id
        ));
    }
    out.push('\n');
    out
}

/// `--watch`: sweeps until SIGINT/SIGTERM, at most one per [`MIN_SWEEP`].
fn watch(hardware: &HardwareSettings, args: &Args) -> ExitCode {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(err) = signal_hook::flag::register(signal, Arc::clone(&stop)) {
            eprintln!("heat-diag: cannot install the signal handlers: {err}");
            return ExitCode::FAILURE;
        }
    }
    if !args.json {
        println!("watching; warm one sensor by hand to see which id changes; Ctrl-C ends\n");
    }
    let start = Instant::now();
    let mut previous: Option<Report> = None;
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let began = Instant::now();
        let report = match sweep(hardware, args) {
            Ok(report) => report,
            Err(code) => return code,
        };
        n += 1;
        let (changes, most_changed) = changes(previous.as_ref(), &report);
        let line = WatchSweep {
            sweep: n,
            report: &report,
            changes,
            most_changed,
        };
        if args.json {
            match serde_json::to_string(&line) {
                Ok(text) => println!("{text}"),
                Err(err) => {
                    eprintln!("heat-diag: cannot serialise the report: {err}");
                    return ExitCode::FAILURE;
                }
            }
        } else {
            print!("{}", render_sweep(&line, start.elapsed()));
        }
        previous = Some(report);
        while began.elapsed() < MIN_SWEEP && !stop.load(Ordering::Relaxed) {
            thread::sleep(Duration::from_millis(20));
        }
    }
    if !args.json {
        println!("stopped after {n} sweeps");
    }
    ExitCode::SUCCESS
}

/// Every `28-*` device under `root`, each read once (with the kernel's CRC verdict and one
/// retry, and the bank's read timeout).
fn read_w1(root: &Path) -> Listing {
    let ids = w1::discover(&mut StdFs, root).map_err(|e| {
        format!(
            "cannot list {}: {e} (is the w1 driver loaded? dtoverlay=w1-gpio in config.txt)",
            root.display()
        )
    })?;
    let mut bank = W1Bank::new(
        StdFs,
        W1Config {
            root: root.to_path_buf(),
            ..W1Config::new(Vec::new())
        },
    );
    Ok(ids
        .into_iter()
        .map(|id| {
            let reading = bank.read_device(&id);
            (id, reading)
        })
        .collect())
}

/// Searches the bit-banged bus, then converts once and reads every device found.
fn read_gpio(bus: &heat_config::BusSettings) -> Listing {
    let where_ = format!("{} line {}", bus.chip().display(), bus.line());
    let pin = onewire_gpio::open_line(bus.chip(), bus.line())
        .map_err(|e| format!("cannot open the 1-Wire line {where_}: {e}"))?;
    let mut delay = SpinDelay;
    let mut wire = Ds18b20Bus::new(pin).map_err(|e| format!("1-Wire bus on {where_}: {e}"))?;
    wire.set_resolution(bus.resolution(), &mut delay)
        .map_err(|e| format!("1-Wire bus on {where_}: setting the resolution failed: {e}"))?;
    let addresses = wire
        .search(&mut delay)
        .map_err(|e| format!("1-Wire search on {where_} failed: {e}"))?;
    let readings = wire
        .sweep(&addresses, &mut delay)
        .map_err(|e| format!("1-Wire conversion on {where_} failed: {e}"))?;
    Ok(addresses
        .into_iter()
        .zip(readings)
        .map(|(address, reading)| {
            let reading = reading.map_err(|e| e.to_sensor_error());
            (onewire_gpio::w1_id(address), reading)
        })
        .collect())
}

/// The human-readable report.
pub(crate) fn render(report: &Report) -> String {
    let mut out = format!("sensors on {} ({})\n\n", report.bus, report.backend);
    if let Some(err) = &report.bus_error {
        out.push_str(&format!("bus error        {err}\n"));
    }
    if report.devices.is_empty() && report.bus_error.is_none() {
        out.push_str("no DS18B20 (28-*) device found\n");
    }
    for d in &report.devices {
        let role = d.role.unwrap_or("unassigned");
        let reading = match (&d.celsius, &d.error) {
            (Some(c), _) => format!("{c:.3} °C"),
            (None, Some(p)) => format!("ERROR {} [{}]", p.message, p.kind),
            (None, None) => "no reading".to_owned(),
        };
        out.push_str(&format!("{:<16} {role:<12} {reading}\n", d.id));
    }
    for m in &report.missing {
        out.push_str(&format!(
            "{:<16} {:<12} MISSING: configured as {}, not found on the bus\n",
            "-", m.role, m.id
        ));
    }
    let configured =
        report.devices.iter().filter(|d| d.role.is_some()).count() + report.missing.len();
    out.push('\n');
    if report.bus_error.is_some() && report.failed_roles.is_empty() {
        out.push_str("FAIL: the bus could not be listed\n");
    } else if configured == 0 {
        out.push_str(
            "no roles configured: put these ids into [hardware.sensors] (see /etc/heat-controller/heat.toml, template dist/heat.toml)\n",
        );
    } else if report.ok {
        out.push_str(&format!(
            "ok: all {configured} configured roles read valid temperatures\n"
        ));
    } else {
        out.push_str(&format!(
            "FAIL: {} of {configured} configured roles without a valid reading: {}\n",
            report.failed_roles.len(),
            report.failed_roles.join(", ")
        ));
    }
    out
}
