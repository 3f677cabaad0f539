//! Fault injection (issue 8, item 1): a real Mosquitto restarted, down at startup, frozen,
//! partitioned away, changing the password, serving an expired certificate; sensors and a relay
//! failing in the simulated plant. Every test checks the same four things:
//!
//! - the controller process is alive throughout;
//! - the plant stays safe: in every state seen, no heater ON while a tank reads at or above
//!   `tank_max`; after a relay write failure no load switches ON until the relays are confirmed
//!   OFF (relay journal, simulated time);
//! - it is back online when the fault ends, with its retained state (availability, state,
//!   discovery) present again on the broker (which runs without persistence, so whatever is
//!   retained after a restart was published again);
//! - the connection attempts the broker saw stay within the retry policy: never two within
//!   `MIN_DELAY` (1 s) of each other, so at most `1 + elapsed / 1 s` (more precise bounds where
//!   the fault allows one).
//!
//! `docs/reliability.md` records what each showed. `cargo xtask soak` runs the restart loop and
//! the plant faults for longer.

use std::{
    path::Path,
    process::Command,
    thread,
    time::{Duration, Instant},
};

use heat_core::{Mode, Parameter, Sensor, SensorFault};
use heat_loop::LoopEvent;
use heat_state::LinkEvent;
use heat_state::StateJson;
use test_mosquitto::{Broker, BrokerBuilder, Pki, TlsListener, Validity};

use crate::harness::{
    ACL, AVAILABILITY, CTL_PASSWORD, Controller, ControllerWatch, STATE, Spec, TESTER_PASSWORD,
    Watcher, broker, retained_at, typed, wait_for, watch, watch_at,
};

/// The controller's client id (set by the harness).
const CTL_ID: &str = "heat-ctl-under-test";
/// `[mqtt] keep_alive_secs` for the freeze and partition tests.
const KEEP_ALIVE_SECS: u64 = 5;
/// `--sim-rejected-backoff-secs` where a refusal is part of the fault.
const REJECTED_BACKOFF_SECS: u64 = 3;

/// Restarts of the broker in the CI test (`cargo xtask soak` does 100).
const CI_RESTARTS: usize = 20;

/// The policy's bound on attempts in `elapsed`: none closer than `MIN_DELAY` (1 s).
fn policy_bound(elapsed: Duration) -> usize {
    1 + elapsed.as_secs() as usize
}

/// Every state seen is safe: heater OFF whenever a tank reads at or above `tank_max`.
fn assert_states_safe(states: &[StateJson]) {
    for s in states {
        let max = s
            .parameter(Parameter::TankMax)
            .expect("tank_max in the state");
        let hot = [Sensor::TankTop, Sensor::TankBottom]
            .iter()
            .any(|t| s.temperature(*t).is_some_and(|v| v >= max));
        assert!(!(hot && s.heater.is_on()), "heater ON at tank max: {s:?}");
    }
}

fn states(w: &Watcher) -> Vec<StateJson> {
    w.states()
}

/// Online again with availability, state and discovery retained, seen by a newcomer.
fn assert_back_online(host: &str, port: u16, tag: &str) {
    wait_for("availability online retained", || {
        retained_at(host, port, &format!("{tag}-a"), AVAILABILITY)
            .is_some_and(|m| m.text() == "online")
    });
    let state = retained_at(host, port, &format!("{tag}-s"), STATE).expect("retained state");
    let _: StateJson = typed(&state);
    assert!(
        retained_at(
            host,
            port,
            &format!("{tag}-d"),
            "homeassistant/select/solar_heating/mode/config"
        )
        .is_some(),
        "discovery retained"
    );
}

fn assert_attempts(broker: &Broker, since: Instant, at_most: usize, what: &str) -> usize {
    let attempts = broker.connection_attempts_by(CTL_ID);
    let elapsed = since.elapsed();
    let bound = at_most.min(policy_bound(elapsed));
    eprintln!(
        "{what}: {attempts} connection attempts by the controller in {:.1} s (bound {bound})",
        elapsed.as_secs_f64()
    );
    assert!(
        attempts <= bound,
        "{what}: {attempts} > {bound}:\n{}",
        broker.log()
    );
    attempts
}

pub(crate) fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status();
    assert!(ok.is_ok_and(|s| s.success()), "kill -{sig} {pid}");
}

/// The controller kept controlling: the cold simulated tank had the heater switched ON.
fn assert_controlling(ctl: &mut Controller) {
    assert!(ctl.is_running(), "the controller exited:\n{}", ctl.output());
    wait_for("the heater ON in the relay journal", || {
        ctl.journal().contains("heater ON")
    });
}

#[test]
fn broker_restarted_in_a_loop() {
    let mut broker = broker();
    let port = broker.port();
    let since = Instant::now();
    let mut ctl = Controller::start(&Spec::new(port));
    ctl.wait_connected(1);
    let mut seen = Vec::new();
    for i in 0..CI_RESTARTS {
        let w = watch(port, &format!("watch-r{i}"), STATE);
        w.wait_on(STATE, |_| true);
        seen.extend(states(&w));
        drop(w);
        broker.restart().unwrap();
        ctl.wait_connected(i as u64 + 2);
        assert!(ctl.is_running(), "{}", ctl.output());
    }
    assert_back_online("127.0.0.1", port, "watch-r-end");
    let w = watch(port, "watch-r-last", STATE);
    seen.push(w.wait_state(|_| true));
    assert_states_safe(&seen);
    assert_controlling(&mut ctl);
    // One attempt per (re)connection; a failure would show only if the broker were up.
    let attempts = assert_attempts(&broker, since, 2 * (CI_RESTARTS + 1), "restart loop");
    assert!(
        attempts > CI_RESTARTS,
        "every restart was followed by a reconnect"
    );
    // A restarting broker refuses for a moment: never taken for another client with the id.
    assert!(
        !ctl.has_link(|e| matches!(e, LinkEvent::TakenOver { .. })),
        "a broker restart named a takeover: {:?}",
        ctl.records_on_link()
    );
}

#[test]
fn broker_down_for_30_s_at_startup() {
    let mut broker = broker();
    let port = broker.port();
    broker.stop();
    let since = Instant::now();
    let mut ctl = Controller::start(&Spec::new(port));
    ctl.wait_link("a failed connection attempt", |e| {
        matches!(e, LinkEvent::ConnectFailed { .. })
    });
    // The full 30 s of the issue; control goes on meanwhile.
    thread::sleep(Duration::from_secs(30));
    assert_controlling(&mut ctl);
    let failures = ctl.output().matches("MQTT connection to").count();
    // 1 s doubling ±20 %: attempts at ~0, 1, 3, 7, 15, 31 s: at most 6 in 30 s (7 with jitter
    // at its most eager: 0.8 × (1+2+4+8+16) = 24.8 s).
    eprintln!("broker down 30 s: {failures} failed attempts logged by the controller");
    assert!(
        (3..=7).contains(&failures),
        "{failures} attempts:\n{}",
        ctl.output()
    );
    let up = Instant::now();
    broker.restart().unwrap();
    // The attempt due after ~31 s may just miss the broker; the next comes 32 s ±20 % later.
    while ctl.connections() == 0 {
        assert!(
            up.elapsed() < Duration::from_secs(60),
            "not connected:\n{}",
            ctl.output()
        );
        thread::sleep(Duration::from_millis(50));
    }
    eprintln!(
        "broker up to connected: {:.1} s",
        up.elapsed().as_secs_f64()
    );
    assert_back_online("127.0.0.1", port, "watch-d");
    // The broker saw only the attempt after it came back.
    assert_attempts(&broker, since, 2, "down at startup");
    let w = watch(port, "watch-d2", STATE);
    assert_states_safe(&[w.wait_state(|_| true)]);
}

#[test]
fn a_frozen_broker_is_noticed_by_keepalive() {
    let broker = broker();
    let port = broker.port();
    let since = Instant::now();
    let mut spec = Spec::new(port);
    spec.toml
        .push_str(&format!("[mqtt]\nkeep_alive_secs = {KEEP_ALIVE_SECS}\n"));
    let mut ctl = Controller::start(&spec);
    ctl.wait_connected(1);
    let pid = broker.pid().unwrap();
    signal(pid, "STOP");
    let frozen = Instant::now();
    // Keep-alive 5 s: paho sends PINGREQ after 5 s of silence and gives up when no PINGRESP
    // came 5 s later; 3 × keep-alive is the generous bound.
    let mut noticed = None;
    while frozen.elapsed() < Duration::from_secs(3 * KEEP_ALIVE_SECS) {
        if ctl.has_link(|e| matches!(e, LinkEvent::Lost { .. })) {
            noticed = Some(frozen.elapsed());
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
    // Frozen for > 1.5 × keep-alive in any case.
    thread::sleep(Duration::from_secs(8).saturating_sub(frozen.elapsed()));
    signal(pid, "CONT");
    let noticed = noticed.unwrap_or_else(|| panic!("no loss noticed:\n{}", ctl.output()));
    eprintln!(
        "broker frozen: loss noticed after {:.1} s (keep-alive {KEEP_ALIVE_SECS} s)",
        noticed.as_secs_f64()
    );
    wait_for("reconnected", || ctl.connections() >= 2);
    assert_back_online("127.0.0.1", port, "watch-z");
    assert_controlling(&mut ctl);
    let w = watch(port, "watch-z2", STATE);
    assert_states_safe(&[w.wait_state(|_| true)]);
    // Attempts made while frozen sat in the listen backlog and are logged once it thaws.
    assert_attempts(&broker, since, usize::MAX, "frozen broker");
}

/// A network namespace with one end of a veth pair; both ends are deleted on drop.
struct Netns {
    name: String,
    root_if: String,
}

const ROOT_ADDR: &str = "10.213.77.1";
const NS_ADDR: &str = "10.213.77.2";

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap_or_else(|e| {
        panic!(
            "cannot run `ip` ({e}): install iproute2 with `apt-get update && apt-get install -y iproute2`"
        )
    });
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Netns {
    fn new() -> Self {
        let uid = Command::new("id").arg("-u").output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&uid.stdout).trim(),
            "0",
            "the partition test creates a network namespace and a veth pair: run it as root \
             (CI does); it is never skipped"
        );
        let addrs = Command::new("ip")
            .args(["-o", "addr"])
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run `ip` ({e}): apt-get update && apt-get install -y iproute2")
            });
        assert!(
            !String::from_utf8_lossy(&addrs.stdout).contains("10.213.77."),
            "10.213.77.0/30 is already in use on this machine (a leftover namespace?)"
        );
        let tag = std::process::id() % 100_000;
        let ns = Self {
            name: format!("hcpart{tag}"),
            root_if: format!("hcp{tag}a"),
        };
        let ns_if = format!("hcp{tag}b");
        ip(&["netns", "add", &ns.name]);
        ip(&[
            "link",
            "add",
            &ns.root_if,
            "type",
            "veth",
            "peer",
            "name",
            &ns_if,
        ]);
        ip(&["link", "set", &ns_if, "netns", &ns.name]);
        ip(&[
            "addr",
            "add",
            &format!("{ROOT_ADDR}/30"),
            "dev",
            &ns.root_if,
        ]);
        ip(&["link", "set", &ns.root_if, "up"]);
        let exec = ["netns", "exec", &ns.name, "ip"];
        ip(&[
            &exec[..],
            &["addr", "add", &format!("{NS_ADDR}/30"), "dev", &ns_if],
        ]
        .concat());
        ip(&[&exec[..], &["link", "set", &ns_if, "up"]].concat());
        ip(&[&exec[..], &["link", "set", "lo", "up"]].concat());
        ns
    }

    fn link(&self, up: bool) {
        ip(&["link", "set", &self.root_if, if up { "up" } else { "down" }]);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.root_if])
            .status();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

#[test]
fn a_network_partition_through_a_veth_pair() {
    let ns = Netns::new();
    let broker = BrokerBuilder::new()
        .user("ctl", CTL_PASSWORD)
        .user("tester", TESTER_PASSWORD)
        .acl(ACL)
        .listen_address(NS_ADDR)
        .wrapper(&["ip", "netns", "exec", &ns.name])
        .start()
        .unwrap();
    let port = broker.port();
    let since = Instant::now();
    let mut spec = Spec::new(port);
    spec.host = NS_ADDR.to_owned();
    spec.toml
        .push_str(&format!("[mqtt]\nkeep_alive_secs = {KEEP_ALIVE_SECS}\n"));
    let mut ctl = Controller::start(&spec);
    ctl.wait_connected(1);
    let w = watch_at(NS_ADDR, port, "watch-p", STATE);
    let before = w.wait_state(|_| true);
    drop(w);
    ns.link(false);
    let cut = Instant::now();
    ctl.wait_link("the partition noticed", |e| {
        matches!(e, LinkEvent::Lost { .. })
    });
    eprintln!(
        "partition: loss noticed after {:.1} s",
        cut.elapsed().as_secs_f64()
    );
    thread::sleep(Duration::from_secs(15).saturating_sub(cut.elapsed()));
    assert_controlling(&mut ctl);
    ns.link(true);
    let healed = Instant::now();
    wait_for("reconnected after the partition", || ctl.connections() >= 2);
    eprintln!(
        "partition healed to connected: {:.1} s",
        healed.elapsed().as_secs_f64()
    );
    assert_back_online(NS_ADDR, port, "watch-p2");
    let w = watch_at(NS_ADDR, port, "watch-p3", STATE);
    let after = w.wait_state(|_| true);
    assert!(after.time > before.time, "{after:?} after {before:?}");
    assert_states_safe(&[before, after]);
    assert_attempts(&broker, since, usize::MAX, "partition");
}

/// Replaces `user`'s line in the broker's password file.
pub(crate) fn set_password(broker: &Broker, user: &str, password: &str) {
    let path = broker.dir().join("passwd");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with(&format!("{user}:")))
        .map(str::to_owned)
        .collect();
    lines.push(test_mosquitto::passwd::hash_line(user, password, 1000).unwrap());
    test_mosquitto::write_private(&path, &(lines.join("\n") + "\n")).unwrap();
}

/// Attempts the controller itself audited (`mqtt connect ... result=`), with the refused ones.
fn audited_attempts(ctl: &Controller) -> (usize, usize) {
    let out = ctl.output();
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("mqtt connect time="))
        .collect();
    let refused = lines
        .iter()
        .filter(|l| !l.contains("result=accepted"))
        .count();
    (lines.len(), refused)
}

/// Observed with Mosquitto 2.0.11: on SIGHUP it re-checks every live client against the
/// reloaded password file and disconnects those whose password no longer matches ("Reloading
/// config." then "Client ... disconnected."); clients whose line is unchanged stay. So the
/// controller is dropped at the reload, its reconnect is refused (auth), and once the password is
/// fixed and reloaded it is back within the (shortened) rejection backoff.
#[test]
fn the_password_changed_on_the_broker_then_fixed() {
    let broker = broker();
    let port = broker.port();
    let mut spec = Spec::new(port);
    spec.args.extend([
        "--sim-rejected-backoff-secs".into(),
        REJECTED_BACKOFF_SECS.to_string(),
    ]);
    let mut ctl = Controller::start(&spec);
    ctl.wait_connected(1);
    let w = watch(port, "watch-pw", "solar_heating/#");
    w.publish("solar_heating/mode/set", b"eco");
    assert!(w.wait_answer("solar_heating/mode/set").accepted);

    let changed = Instant::now();
    set_password(&broker, "ctl", "a-new-password-Kq2");
    signal(broker.pid().unwrap(), "HUP");
    ctl.wait_link("the connection lost", |e| {
        matches!(e, LinkEvent::Lost { .. })
    });
    wait_for("the refusal", || ctl.output().contains("refused"));
    thread::sleep(Duration::from_secs(8));
    assert_controlling(&mut ctl);
    let out = ctl.output();
    let refusal = out.lines().find(|l| l.contains("refused")).unwrap();
    assert!(
        refusal.contains("ERROR") && refusal.contains("fix:"),
        "{refusal}"
    );
    assert!(
        refusal.contains("NotAuthorized"),
        "an auth refusal: {refusal}"
    );
    let (_, refused) = audited_attempts(&ctl);
    // Rejection schedule from 3 s (3, 6, 12, 30 s, each +0–20 %): at most 3 refusals in ~9 s.
    eprintln!(
        "password changed: {refused} attempts refused in {:.1} s (rejection schedule from {REJECTED_BACKOFF_SECS} s)",
        changed.elapsed().as_secs_f64()
    );
    assert!((1..=3).contains(&refused), "{refused}:\n{out}");
    // Only the first refusal of the row is an error; the repeats (the first one 3–3.6 s later,
    // well within the 8 s watched) are warnings, still with the fix.
    let errors = out
        .lines()
        .filter(|l| l.contains("refused") && l.contains("ERROR"))
        .count();
    assert_eq!(errors, 1, "{out}");
    let repeats: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("still refused"))
        .collect();
    assert!(!repeats.is_empty(), "{out}");
    assert!(
        repeats
            .iter()
            .all(|l| l.contains("WARN") && l.contains("fix:")),
        "{repeats:?}"
    );
    let mut seen = states(&w);
    drop(w);

    set_password(&broker, "ctl", CTL_PASSWORD);
    signal(broker.pid().unwrap(), "HUP");
    wait_for("reconnected with the fixed password", || {
        ctl.connections() >= 2
    });
    assert_back_online("127.0.0.1", port, "watch-pw2");
    let w = watch(port, "watch-pw3", STATE);
    let s = w.wait_state(|_| true);
    assert_eq!(
        s.mode,
        Mode::Eco,
        "the command from before the fault still holds: {s:?}"
    );
    seen.push(s);
    assert_states_safe(&seen);
    let (total, refused) = audited_attempts(&ctl);
    eprintln!(
        "password fault: {total} attempts in {:.1} s, {refused} refused",
        changed.elapsed().as_secs_f64()
    );
    assert!(total <= policy_bound(changed.elapsed()) + 1, "{total}");
    assert!(!ctl.output().contains(CTL_PASSWORD));
}

fn copy_cert(from: &test_mosquitto::CertFiles, to: &test_mosquitto::CertFiles) {
    std::fs::copy(&from.cert, &to.cert).unwrap();
    std::fs::copy(&from.key, &to.key).unwrap();
}

#[test]
fn an_expired_broker_certificate_is_a_certificate_error_then_recovers() {
    let certs = tempfile::tempdir().unwrap();
    let pki = Pki::new(certs.path(), "faults").unwrap();
    let names = ["127.0.0.1", "localhost"];
    let good = pki.server("good", &names, Validity::Current).unwrap();
    let expired = pki.server("expired", &names, Validity::Expired).unwrap();
    let served = pki.server("served", &names, Validity::Current).unwrap();
    let mut broker = BrokerBuilder::new()
        .user("ctl", CTL_PASSWORD)
        .user("tester", TESTER_PASSWORD)
        .acl(ACL)
        .tls(TlsListener {
            ca_file: pki.ca_file().to_owned(),
            server: served.clone(),
            require_certificate: false,
        })
        .start()
        .unwrap();
    let mut spec = Spec::new(broker.tls_port());
    spec.toml.push_str(&format!(
        "[mqtt]\nca_file = \"{}\"\n",
        Path::new(pki.ca_file()).display()
    ));
    spec.args.extend([
        "--sim-rejected-backoff-secs".into(),
        REJECTED_BACKOFF_SECS.to_string(),
    ]);
    let mut ctl = Controller::start(&spec);
    ctl.wait_connected(1);

    copy_cert(&expired, &served);
    broker.restart().unwrap();
    wait_for("the refusal", || ctl.output().contains("refused"));
    thread::sleep(Duration::from_secs(4));
    assert_controlling(&mut ctl);
    let out = ctl.output();
    let refusal = out.lines().find(|l| l.contains("refused")).unwrap();
    eprintln!("expired certificate: {refusal}");
    assert!(
        refusal.contains("certificate"),
        "a certificate error: {refusal}"
    );
    assert!(
        !refusal.contains("NotAuthorized"),
        "not an auth error: {refusal}"
    );

    copy_cert(&good, &served);
    broker.restart().unwrap();
    wait_for("reconnected with the valid certificate", || {
        ctl.connections() >= 2
    });
    assert_back_online("127.0.0.1", broker.port(), "watch-t");
    let w = watch(broker.port(), "watch-t2", STATE);
    assert_states_safe(&[w.wait_state(|_| true)]);
}

/// Journal lines `<sim ms> <what>`.
fn journal(ctl: &Controller) -> Vec<(u64, String)> {
    ctl.journal()
        .lines()
        .filter_map(|l| {
            let (ms, what) = l.split_once(' ')?;
            Some((ms.parse().ok()?, what.to_owned()))
        })
        .collect()
}

#[test]
fn sensor_faults_and_a_relay_write_failure_mid_run() {
    // Simulated seconds: tank top disconnected 100–300, heater relay failing 400–700,
    // collector CRC errors 800–900. 1 s period at 50×.
    const RELAY_FROM_MS: u64 = 400_000;
    const RELAY_UNTIL_MS: u64 = 700_000;
    const HEATER_MIN_OFF_MS: u64 = 120_000;
    let broker = broker();
    let port = broker.port();
    let w = watch(port, "watch-f", "solar_heating/#");
    let mut spec = Spec::new(port);
    spec.args.extend([
        "--sim-faults".into(),
        "disconnected:tank_top@100+200,relay:heater@400+300,crc:collector@800+100".into(),
    ]);
    let mut ctl = Controller::start(&spec);
    let during =
        w.wait_state(|s| s.temperatures[&Sensor::TankTop].fault == Some(SensorFault::Disconnected));
    assert!(during.problem.is_on(), "{during:?}");
    ctl.wait_event("a relay write failure", |e| {
        matches!(e, LoopEvent::RelayWriteFailed { .. })
    });
    ctl.wait_sim_fault("relay:heater", false);
    ctl.wait_event("the end of the safety hold", |e| {
        matches!(e, LoopEvent::HoldEnded { .. })
    });
    ctl.wait_sim_fault("crc:collector", false);
    w.clear();
    let end =
        w.wait_state(|s| !s.problem.is_on() && s.temperatures.values().all(|t| t.fault.is_none()));
    assert_controlling(&mut ctl);
    assert_states_safe(&states(&w));

    let j = journal(&ctl);
    let first_error = j
        .iter()
        .find(|(_, w)| w.starts_with("heater error"))
        .map(|(ms, _)| *ms)
        .unwrap_or_else(|| panic!("no relay error journalled:\n{}", ctl.journal()));
    assert!(first_error >= RELAY_FROM_MS);
    // Nothing switched ON from the failure until the relays read back OFF for the minimum
    // OFF time after the fault was cleared (one 1 s tick of slack).
    let early_on = j.iter().find(|(ms, w)| {
        *ms >= first_error && *ms < RELAY_UNTIL_MS + HEATER_MIN_OFF_MS - 1000 && w.ends_with(" ON")
    });
    assert!(
        early_on.is_none(),
        "{early_on:?} during the hold:\n{}",
        ctl.journal()
    );
    eprintln!(
        "relay fault: first error at {} s, heater back ON at {:?} s (sim)",
        first_error / 1000,
        j.iter()
            .find(|(ms, w)| *ms > first_error && w == "heater ON")
            .map(|(ms, _)| ms / 1000)
    );
    assert!(end.energy.heater_kwh > 0.0, "{end:?}");
    assert_back_online("127.0.0.1", port, "watch-f2");
    let attempts = broker.connection_attempts_by(CTL_ID);
    assert_eq!(attempts, 1, "plant faults never touch the MQTT link");
}
