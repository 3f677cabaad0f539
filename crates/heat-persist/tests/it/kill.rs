//! Acceptance b at the file's level: a writer process is killed with SIGKILL at 200 random
//! moments, most of them in the middle of a write (it writes in a tight loop). After every kill
//! the file loads without a problem, its counter never goes backwards, and it holds the last
//! write the writer completed or the one in flight, never an older one.
//!
//! The writer is this same test binary, started again with `HEAT_PERSIST_KILL_WRITER` naming
//! the directory: it then loads the file like a restarting controller, and writes forever,
//! printing each completed write.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use heat_core::{Mode, Parameter, Params};
use heat_persist::{Counters, StateDir, StateFile};
use rand::{Rng, SeedableRng, rngs::StdRng};

const WRITER: &str = "HEAT_PERSIST_KILL_WRITER";
const KILLS: usize = 200;
/// Kills land uniformly within this much of the writer's start (process start included).
const WINDOW_MS: u64 = 40;

/// The writer: continues the counter from the file and writes forever.
fn writer(dir: &Path) -> ! {
    let dir = StateDir::new(dir);
    let loaded = dir.load(&Params::default(), SystemTime::now());
    assert_eq!(loaded.problem, None, "the writer found a bad file");
    // One count = one write, as a counter in kWh (exact in f64).
    let mut n = loaded.restored.energy.collected_kwh;
    let mut out = std::io::stdout().lock();
    loop {
        n += 1.0;
        let state = StateFile {
            mode: Mode::Eco,
            parameters: BTreeMap::from([(Parameter::DtStart, 9.5)]),
            counters: Counters {
                collected_kwh: n,
                heater_kwh: n / 2.0,
                ..Counters::default()
            },
            daily: heat_core::DailyEnergy::default(),
            last_disinfection_day: None,
            holiday: heat_core::Holiday::default(),
        };
        dir.write(&state).expect("write");
        writeln!(out, "wrote {n}").expect("stdout");
        out.flush().expect("stdout");
    }
}

#[test]
fn sigkill_at_random_moments_never_leaves_a_bad_file_nor_loses_a_completed_write() {
    if let Some(dir) = std::env::var_os(WRITER) {
        writer(Path::new(&dir));
    }
    let tmp = tempfile::tempdir().unwrap();
    let seed: u64 = rand::rng().random();
    println!("seed {seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let exe = std::env::current_exe().unwrap();
    let name =
        "kill::sigkill_at_random_moments_never_leaves_a_bad_file_nor_loses_a_completed_write";
    let started = Instant::now();
    let (mut previous, mut mid_write, mut writes) = (0.0, 0, 0.0);
    for round in 0..KILLS {
        let mut child = Command::new(&exe)
            .args(["--exact", name, "--nocapture", "--test-threads", "1"])
            .env(WRITER, tmp.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let acked = Arc::new(Mutex::new(None::<f64>));
        let reader = {
            let acked = Arc::clone(&acked);
            let stdout = child.stdout.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Some(n) = line.strip_prefix("wrote ") {
                        *acked.lock().unwrap() = Some(n.parse().unwrap());
                    }
                }
            })
        };
        std::thread::sleep(Duration::from_micros(rng.random_range(0..WINDOW_MS * 1000)));
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        reader.join().unwrap();
        assert!(
            !status.success(),
            "round {round}: the writer ended by itself: {status}"
        );
        let acked = *acked.lock().unwrap();

        let loaded = StateDir::new(tmp.path()).load(&Params::default(), SystemTime::now());
        assert_eq!(loaded.problem, None, "round {round} (seed {seed})");
        let on_disk = loaded.on_disk.map_or(0.0, |s| s.counters.collected_kwh);
        assert!(
            on_disk >= previous,
            "round {round}: {on_disk} < {previous} (seed {seed})"
        );
        if let Some(acked) = acked {
            // The last acknowledged write, or the next one if it completed before the kill.
            assert!(
                on_disk == acked || on_disk == acked + 1.0,
                "round {round}: file {on_disk}, last completed write {acked} (seed {seed})"
            );
            if on_disk == acked + 1.0 {
                mid_write += 1;
            }
        }
        writes += on_disk - previous;
        previous = on_disk;
    }
    assert!(
        previous > 0.0,
        "no write completed in {KILLS} rounds: the test killed too early to test anything"
    );
    println!(
        "{KILLS} kills in {:.1} s: {writes} writes survived; {mid_write} kills after a write's \
         rename but before its acknowledgement",
        started.elapsed().as_secs_f64()
    );
}
