//! `cargo xtask bench [NAME...]`: builds the selected benchmark targets (release), runs them, and
//! prints one table of their headline figures; writes `target/bench.json`.
//!
//! Each target keeps its detailed output, which goes to `target/bench/<name>.log`, and appends
//! its figures to `target/bench/<name>.jsonl` (the `bench-report` records, through
//! `BENCH_RECORDS`). The `outage` bench mostly waits out a broker outage (`BENCH_OUTAGE_SECS`,
//! 600 by default), so it starts first and the others run once its broker is down. Every target
//! runs in its own process group, so an interrupted run stops its brokers and controllers too.

mod report;
#[cfg(test)]
mod tests;

use std::{
    fs::{self, File},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, Result, bail};
use bench_report::{RECORDS_ENV, Record};

use self::report::{Meta, Run, Target};
use crate::system::{self, Requirement, cargo, project_root};

/// What the benchmarks need beyond the toolchain: cmake builds Paho C; a real Mosquitto and its
/// clients.
const PACKAGES: [Requirement; 5] = [
    system::CMAKE,
    system::PKG_CONFIG,
    system::LIBSSL_DEV,
    system::MOSQUITTO,
    system::MOSQUITTO_PUB,
];

/// What a background target prints once it is idle (`outage.rs`: the broker is about to stop).
const IDLE_MARKER: &str = "outage: broker down for";
/// How long a background target may take to get there.
const IDLE_WITHIN: Duration = Duration::from_secs(120);
const POLL: Duration = Duration::from_millis(100);

/// A running target, in its own process group; killed with its group when dropped unfinished.
struct Running {
    target: Target,
    child: Child,
    started: Instant,
    log: PathBuf,
}

impl Running {
    fn start(target: Target, exe: &Path, dir: &Path, out: &Path) -> Result<Self> {
        let log = out.join(format!("{}.log", target.bench));
        let records = out.join(format!("{}.jsonl", target.bench));
        for stale in [&log, &records] {
            if stale.exists() {
                fs::remove_file(stale)
                    .with_context(|| format!("cannot remove {}", stale.display()))?;
            }
        }
        let file =
            File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
        let child = Command::new(exe)
            .arg("--bench")
            .current_dir(dir)
            .env(RECORDS_ENV, &records)
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {}", exe.display()))?;
        Ok(Self {
            target,
            child,
            started: Instant::now(),
            log,
        })
    }

    /// Waits for the exit, polling `stop`; `None` when interrupted.
    fn wait(&mut self, stop: &AtomicBool) -> Result<Option<ExitStatus>> {
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(Some(status));
            }
            if stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
            thread::sleep(POLL);
        }
    }

    fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn run(&self, ok: bool) -> Run {
        Run {
            bench: self.target.bench.to_owned(),
            seconds: self.started.elapsed().as_secs_f64(),
            ok,
            log: self.log.display().to_string(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            // The whole group: the bench and the broker and controller it started.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .status();
            let _ = self.child.wait();
        }
    }
}

pub(crate) fn bench(args: &[String]) -> Result<()> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!(
            "cargo xtask bench [NAME...]  (names: step, sweep, connect, sim, e2e, relay, outage, or a package)\n\
             BENCH_OUTAGE_SECS=N shortens the outage bench's outage (600 s)"
        );
        return Ok(());
    }
    let targets = report::select(args)?;
    system::ensure_packages(&PACKAGES)?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    let root = project_root();
    let target_dir = crate::dist::target_dir(&root)?;
    let out = target_dir.join("bench");
    fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;

    let names: Vec<&str> = targets.iter().map(|t| t.bench).collect();
    println!("==> building {} (release)", names.join(", "));
    let exes = build(&root, &targets)?;
    if stop.load(Ordering::Relaxed) {
        bail!("interrupted");
    }
    let load_before = loadavg();
    let started = Instant::now();
    let mut runs = Vec::new();
    let mut failed = Vec::new();

    let mut background = Vec::new();
    for target in targets.iter().filter(|t| t.background) {
        let outage = std::env::var("BENCH_OUTAGE_SECS").unwrap_or_else(|_| "600".to_owned());
        println!(
            "==> {} in the background (broker down {outage} s; log {})",
            target.bench,
            out.join(format!("{}.log", target.bench)).display()
        );
        let running = Running::start(*target, &exes[target.bench], &package_dir(target), &out)?;
        wait_idle(&running, &stop)?;
        background.push(running);
    }
    for target in targets.iter().filter(|t| !t.background) {
        let mut running = Running::start(*target, &exes[target.bench], &package_dir(target), &out)?;
        println!("==> {} (log {})", target.bench, running.log.display());
        let Some(status) = running.wait(&stop)? else {
            bail!("interrupted");
        };
        report_exit(&running, status, &mut runs, &mut failed);
    }
    for mut running in background {
        println!(
            "==> waiting for {} (started {:.0} s ago)",
            running.target.bench,
            running.started.elapsed().as_secs_f64()
        );
        let Some(status) = running.wait(&stop)? else {
            bail!("interrupted");
        };
        report_exit(&running, status, &mut runs, &mut failed);
    }

    let mut records: Vec<Record> = Vec::new();
    for target in &targets {
        let path = out.join(format!("{}.jsonl", target.bench));
        let text = fs::read_to_string(&path).unwrap_or_default();
        records.extend(
            report::parse_records(&text).with_context(|| format!("in {}", path.display()))?,
        );
    }
    runs.sort_by_key(|r| names.iter().position(|n| *n == r.bench));
    let meta = meta(&root, load_before, started.elapsed().as_secs_f64(), runs);
    println!();
    println!("{}", report::machine_line(&meta));
    println!();
    print!("{}", report::table(&records));
    let json_path = target_dir.join("bench.json");
    let json = serde_json::to_string_pretty(&report::report_json(&meta, &records))?;
    fs::write(&json_path, json + "\n")
        .with_context(|| format!("cannot write {}", json_path.display()))?;
    println!("\nwritten: {}", json_path.display());
    if !failed.is_empty() {
        bail!("failed: {} (see their logs)", failed.join(", "));
    }
    Ok(())
}

/// Builds the targets in one cargo call; bench name → executable.
fn build(root: &Path, targets: &[Target]) -> Result<std::collections::BTreeMap<String, PathBuf>> {
    let mut cmd = cargo();
    cmd.current_dir(root).args([
        "bench",
        "--no-run",
        "--quiet",
        "--locked",
        "--message-format=json-render-diagnostics",
    ]);
    for t in targets {
        cmd.args(["--package", t.package, "--bench", t.bench]);
    }
    let output = cmd
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run cargo bench --no-run")?;
    if !output.status.success() {
        bail!("building the benchmarks failed ({})", output.status);
    }
    let exes = report::bench_executables(&String::from_utf8_lossy(&output.stdout));
    targets
        .iter()
        .map(|t| {
            let exe = exes
                .get(t.bench)
                .with_context(|| format!("cargo named no executable for bench {}", t.bench))?;
            Ok((t.bench.to_owned(), PathBuf::from(exe)))
        })
        .collect()
}

/// Where cargo would run the target: its package's directory.
fn package_dir(target: &Target) -> PathBuf {
    let root = project_root();
    ["crates", "bins"]
        .iter()
        .map(|top| root.join(top).join(target.package))
        .find(|dir| dir.is_dir())
        .unwrap_or(root)
}

/// Waits until a background target says it is idle, so the others do not disturb its active part.
fn wait_idle(running: &Running, stop: &AtomicBool) -> Result<()> {
    let since = Instant::now();
    while !running.log_text().contains(IDLE_MARKER) {
        if stop.load(Ordering::Relaxed) {
            bail!("interrupted");
        }
        if since.elapsed() > IDLE_WITHIN {
            bail!(
                "{} did not reach {IDLE_MARKER:?} within {IDLE_WITHIN:?}; its log:\n{}",
                running.target.bench,
                running.log_text()
            );
        }
        thread::sleep(POLL);
    }
    Ok(())
}

fn report_exit(
    running: &Running,
    status: ExitStatus,
    runs: &mut Vec<Run>,
    failed: &mut Vec<String>,
) {
    let run = running.run(status.success());
    println!("    {} {status} after {:.1} s", run.bench, run.seconds);
    if !status.success() {
        let text = running.log_text();
        let tail: Vec<&str> = text.lines().rev().take(15).collect();
        for line in tail.iter().rev() {
            println!("    | {line}");
        }
        failed.push(run.bench.clone());
    }
    runs.push(run);
}

fn loadavg() -> [f64; 3] {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| report::parse_loadavg(&t))
        .unwrap_or([f64::NAN; 3])
}

fn command_stdout(program: &str, args: &[&str], dir: &Path) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn meta(root: &Path, load_before: [f64; 3], seconds: f64, runs: Vec<Run>) -> Meta {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    // `mosquitto -h` prints its version and exits with status 3.
    let mosquitto = system::find_program("mosquitto")
        .and_then(|p| Command::new(p).arg("-h").output().ok())
        .and_then(|o| report::parse_mosquitto_version(&String::from_utf8_lossy(&o.stdout)))
        .unwrap_or_else(|| "unknown".to_owned());
    Meta {
        date: report::rfc3339_utc(now),
        commit: command_stdout("git", &["rev-parse", "HEAD"], root)
            .unwrap_or_else(|| "unknown".to_owned()),
        dirty: command_stdout("git", &["status", "--porcelain"], root)
            .is_some_and(|s| !s.is_empty()),
        nproc: thread::available_parallelism().map_or(0, usize::from),
        kernel: fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| "unknown".to_owned()),
        mosquitto,
        load_before,
        load_after: loadavg(),
        seconds,
        runs,
    }
}
