//! (d) systemd's `Type=notify` and watchdog against a notify-socket stub: a `UnixDatagram` bound
//! in a temp dir, passed as `NOTIFY_SOCKET`, with a 2 s `WATCHDOG_USEC`. The stub records every
//! datagram with its arrival time and, on `READY=1`, the relay journal as it was at that moment.
//! Nothing asserts an upper time bound; the only time comparison is a gap that must be at least
//! as long as a sleep the controller was told to make.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::harness::{AVAILABILITY, Controller, STATE, Spec, broker, wait_for, watch};

/// `WATCHDOG_USEC` for the tests: 2 s, a hundred control periods at 50× with a 1 s period.
const WATCHDOG: Duration = Duration::from_secs(2);

/// One datagram: when it came, its text, and the relay journal when it was `READY=1`.
#[derive(Debug, Clone)]
struct Datagram {
    at: Instant,
    text: String,
    journal: Option<String>,
}

/// The notify-socket stub.
struct NotifySocket {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    seen: Arc<Mutex<Vec<Datagram>>>,
    stop: Arc<AtomicBool>,
}

impl NotifySocket {
    fn bind(journal: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (sink, halt, journal) = (Arc::clone(&seen), Arc::clone(&stop), journal.to_owned());
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while !halt.load(Ordering::Relaxed) {
                let Ok(n) = socket.recv(&mut buf) else {
                    continue;
                };
                let at = Instant::now();
                let text = String::from_utf8_lossy(&buf[..n]).trim().to_owned();
                let journal = (text == "READY=1")
                    .then(|| std::fs::read_to_string(&journal).unwrap_or_default());
                sink.lock().unwrap().push(Datagram { at, text, journal });
            }
        });
        Self {
            _dir: dir,
            path,
            seen,
            stop,
        }
    }

    fn seen(&self) -> Vec<Datagram> {
        self.seen.lock().unwrap().clone()
    }

    fn count(&self, text: &str) -> usize {
        self.seen().iter().filter(|d| d.text == text).count()
    }
}

impl Drop for NotifySocket {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// `--sim-faults faults`, `WATCHDOG_USEC`, and `NOTIFY_SOCKET` when a stub is given.
fn spec_with_notify(port: u16, socket: Option<&NotifySocket>, faults: &str) -> Spec {
    let mut spec = Spec::new(port);
    spec.args
        .extend(["--sim-faults".to_owned(), faults.to_owned()]);
    spec.env
        .push(("WATCHDOG_USEC", WATCHDOG.as_micros().to_string()));
    if let Some(socket) = socket {
        spec.env
            .push(("NOTIFY_SOCKET", socket.path.display().to_string()));
    }
    spec
}

#[test]
fn ready_after_the_first_tick_pings_from_the_loop_and_none_while_a_sweep_hangs() {
    let journal_dir = tempfile::tempdir().unwrap();
    let journal = journal_dir.path().join("relays.journal");
    let socket = NotifySocket::bind(&journal);
    // The hang starts 50 simulated s (1 s real) in and lasts 200 s (4 s real, twice WATCHDOG_USEC).
    let mut spec = spec_with_notify(
        test_mosquitto::free_port().unwrap(),
        Some(&socket),
        "hang:sweep@50+200",
    );
    spec.journal = Some(journal);
    // A start counts as the heater's switch OFF; without a minimum OFF time the first tick
    // switches it ON, which the journal shows.
    spec.toml.push_str("[control]\nheater_min_off_s = 0\n");
    let mut ctl = Controller::start(&spec);

    wait_for("READY=1", || socket.count("READY=1") == 1);
    let ready = socket
        .seen()
        .into_iter()
        .find(|d| d.text == "READY=1")
        .unwrap();
    let at_ready = ready.journal.unwrap();
    assert!(
        at_ready.lines().any(|l| l.ends_with(" heater ON")),
        "READY=1 came before the first tick drove the relays; journal then:\n{at_ready}"
    );

    ctl.wait_sim_fault("hang:sweep", true);
    let hang_seen = Instant::now();
    ctl.wait_sim_fault("hang:sweep", false);
    wait_for("pings after the hang", || {
        socket
            .seen()
            .iter()
            .any(|d| d.text == "WATCHDOG=1" && d.at > hang_seen)
    });

    let seen = socket.seen();
    let first = seen.iter().position(|d| d.text == "READY=1").unwrap();
    assert!(
        seen[..first].iter().all(|d| d.text != "WATCHDOG=1"),
        "a ping before READY=1: {seen:?}"
    );
    let pings: Vec<Instant> = seen
        .iter()
        .filter(|d| d.text == "WATCHDOG=1")
        .map(|d| d.at)
        .collect();
    let before_hang = pings.iter().filter(|at| **at < hang_seen).count();
    assert!(
        before_hang >= 10,
        "WATCHDOG=1 keeps coming: {before_hang} before the hang"
    );
    // The gap around the moment the hang was seen: the last ping before, the first after.
    let last_before = pings.iter().filter(|at| **at < hang_seen).max().unwrap();
    let first_after = pings.iter().filter(|at| **at > hang_seen).min().unwrap();
    let gap = *first_after - *last_before;
    println!(
        "watchdog: {} pings, silent for {:.1} s during the hang",
        pings.len(),
        gap.as_secs_f64()
    );
    assert!(
        gap > WATCHDOG,
        "no WATCHDOG=1 for longer than WATCHDOG_USEC while the sweep hung; gap {gap:?}"
    );

    ctl.signal("TERM");
    let (status, _) = ctl.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", ctl.output());
    wait_for("STOPPING=1", || socket.count("STOPPING=1") == 1);
    let out = ctl.output();
    assert!(
        out.contains(
            "systemd: READY=1 after the first tick, WATCHDOG=1 from the loop at least every 1000 ms"
        ),
        "{out}"
    );
    assert!(!out.contains("systemd notify"), "no notify failure: {out}");
}

#[test]
fn without_notify_socket_the_controller_runs_as_before_and_says_nothing_of_systemd() {
    let broker = broker();
    let watcher = watch(broker.port(), "watch-wd", "solar_heating/#");
    // WATCHDOG_USEC alone (no socket) arms nothing.
    let mut ctl = Controller::start(&spec_with_notify(broker.port(), None, "crc:collector@10+5"));
    watcher.wait_on(AVAILABILITY, |m| m.text() == "online");
    watcher.wait_on(STATE, |_| true);
    wait_for("the heater ON in the relay journal", || {
        ctl.journal().contains("heater ON")
    });
    ctl.signal("TERM");
    let (status, _) = ctl.wait_exit();
    let out = ctl.output();
    assert_eq!(status.code(), Some(0), "{out}");
    assert!(!out.to_lowercase().contains("systemd"), "{out}");
    assert!(!out.contains("NOTIFY_SOCKET"), "{out}");
}
