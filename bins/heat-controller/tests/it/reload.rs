//! Credentials after a refusal (issue 15, acceptance c): the broker refuses the controller for a
//! while and then accepts it again, without anyone touching the controller; and a password file
//! fixed, then SIGHUP to the controller.
//!
//! The auth outage runs on the rejection schedule scaled by `--sim-rejected-backoff-secs 3`
//! (3, 6, 12, 30 s instead of 30 s, 1, 2, 5 min): every duration of the acceptance (a 90 s
//! refusal, back within 2.5 min of the fix) is scaled by the same 1/10, so the attempts fall at
//! the same points of the schedule and the count in the window is the one the full-length run
//! would see. Only the first reconnect after the drop (1 s, the transient step) is not scaled,
//! which only moves the refused attempts earlier. See `docs/reliability.md`.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use heat_state::LinkEvent;

use crate::faults::{set_password, signal};
use crate::harness::{CTL_PASSWORD, Controller, Spec, broker, wait_for};

/// The controller's client id (set by the harness).
const CTL_ID: &str = "heat-ctl-under-test";
/// First step of the scaled rejection schedule: 1/10 of the real 30 s.
const REJECTED_BACKOFF_SECS: u64 = 3;
/// The real schedule's first step, to scale the acceptance's durations.
const REAL_FIRST_STEP_SECS: f64 = 30.0;

fn scaled(real: Duration) -> Duration {
    real.mul_f64(REJECTED_BACKOFF_SECS as f64 / REAL_FIRST_STEP_SECS)
}

#[test]
fn an_auth_outage_of_90_s_ends_within_2_5_min_with_at_most_5_attempts() {
    let broker = broker();
    let mut spec = Spec::new(broker.port());
    spec.args.extend([
        "--sim-rejected-backoff-secs".into(),
        REJECTED_BACKOFF_SECS.to_string(),
    ]);
    let mut ctl = Controller::start(&spec);
    ctl.wait_connected(1);

    let outage = scaled(Duration::from_secs(90));
    let window = scaled(Duration::from_secs(150));
    let before = broker.connection_attempts_by(CTL_ID);
    set_password(&broker, "ctl", "not-the-controllers-password-Zq4");
    broker.reload().unwrap();
    let broke = Instant::now();
    ctl.wait_link("the connection lost", |e| {
        matches!(e, LinkEvent::Lost { .. })
    });
    ctl.wait_link(
        "a refusal",
        |e| matches!(e, LinkEvent::ConnectFailed { class, .. } if class == "auth_rejected"),
    );
    std::thread::sleep(outage.saturating_sub(broke.elapsed()));
    set_password(&broker, "ctl", CTL_PASSWORD);
    broker.reload().unwrap();
    let fixed = Instant::now();
    wait_for("connected again", || ctl.connections() >= 2);
    let back = fixed.elapsed();
    let attempts = broker.connection_attempts_by(CTL_ID) - before;
    let refused = ctl
        .records_on_link()
        .iter()
        .filter(|e| matches!(e, LinkEvent::ConnectFailed { class, .. } if class == "auth_rejected"))
        .count();
    eprintln!(
        "auth outage of {:.1} s (scaled from 90 s): back {:.2} s after the fix (scaled bound {:.1} s, \
         real {:.1} s); {attempts} attempts from the refusal to connected, {refused} refused",
        outage.as_secs_f64(),
        back.as_secs_f64(),
        window.as_secs_f64(),
        back.as_secs_f64() * REAL_FIRST_STEP_SECS / REJECTED_BACKOFF_SECS as f64,
    );
    assert!(
        back <= window,
        "back {back:?} after the fix, more than {window:?}"
    );
    assert!(attempts <= 5, "{attempts} attempts:\n{}", broker.log());
    assert!(refused >= 1);
    assert!(ctl.is_running(), "{}", ctl.output());
    assert!(!ctl.output().contains(CTL_PASSWORD));
}

fn write_password(path: &Path, password: &str) {
    test_mosquitto::write_private(path, &format!("{password}\n")).unwrap();
}

/// A controller spec whose password comes from `MQTT_PASSWORD_FILE` in `dir`, which holds a
/// wrong password for now; the file's path with it.
fn with_wrong_password_file(port: u16, dir: &Path) -> (std::path::PathBuf, Spec) {
    let file = dir.join("mqtt_password");
    write_password(&file, "a-wrong-password-Hq8");
    let mut spec = Spec::new(port);
    spec.password = None;
    spec.env
        .push(("MQTT_PASSWORD_FILE", file.display().to_string()));
    (file, spec)
}

#[test]
fn sighup_after_the_password_file_is_fixed_connects_at_once() {
    let broker = broker();
    let secrets = tempfile::tempdir().unwrap();
    let (file, mut spec) = with_wrong_password_file(broker.port(), secrets.path());
    // At trace, so that no level of the reload's logging shows the password.
    spec.rust_log = "trace";
    let mut ctl = Controller::start(&spec);
    ctl.wait_link(
        "a refusal",
        |e| matches!(e, LinkEvent::ConnectFailed { class, .. } if class == "auth_rejected"),
    );

    write_password(&file, CTL_PASSWORD);
    let sent = Instant::now();
    signal(ctl.pid(), "HUP");
    ctl.wait_connected(1);
    let took = sent.elapsed();
    let events = ctl.records_on_link();
    let reloaded = events
        .iter()
        .position(|e| matches!(e, LinkEvent::CredentialsReloaded { .. }))
        .expect("a reload");
    let connected = events
        .iter()
        .position(|e| matches!(e, LinkEvent::Connected { .. }))
        .unwrap();
    eprintln!(
        "SIGHUP after the password file was fixed: connected {:.0} ms after the signal ({:?})",
        took.as_secs_f64() * 1000.0,
        events[reloaded]
    );
    assert!(reloaded < connected, "{events:?}");
    // The signal's own reload (the 5 s look at the file could come first, by a millisecond).
    assert!(
        events.iter().any(
            |e| matches!(e, LinkEvent::CredentialsReloaded { trigger } if trigger == "sighup")
        ),
        "{events:?}"
    );

    // A reload that fails keeps the credentials in use and the connection, and control goes on.
    write_password(&file, "");
    signal(ctl.pid(), "HUP");
    ctl.wait_link(
        "the failed reload",
        |e| matches!(e, LinkEvent::CredentialsReloadFailed { trigger } if trigger == "sighup"),
    );
    let out = ctl.output();
    assert!(
        out.lines()
            .any(|l| l.contains("ERROR") && l.contains(&file.display().to_string())),
        "an error line naming the file:\n{out}"
    );
    assert!(ctl.is_running(), "{out}");
    assert!(
        !ctl.has_link(|e| matches!(e, LinkEvent::Lost { .. })),
        "{out}"
    );
    assert!(!out.contains(CTL_PASSWORD));
}

#[test]
fn a_changed_password_file_is_noticed_while_refused() {
    let broker = broker();
    let secrets = tempfile::tempdir().unwrap();
    let (file, spec) = with_wrong_password_file(broker.port(), secrets.path());
    let ctl = Controller::start(&spec);
    ctl.wait_link(
        "a refusal",
        |e| matches!(e, LinkEvent::ConnectFailed { class, .. } if class == "auth_rejected"),
    );
    // Replaced as an editor or systemd would: a new file renamed over the old one.
    let fresh = secrets.path().join("new");
    write_password(&fresh, CTL_PASSWORD);
    std::fs::rename(&fresh, &file).unwrap();
    let changed = Instant::now();
    ctl.wait_connected(1);
    let events = ctl.records_on_link();
    let reloaded = events
        .iter()
        .position(|e| matches!(e, LinkEvent::CredentialsReloaded { trigger } if trigger == "file_changed"))
        .expect("a reload on the file change");
    let connected = events
        .iter()
        .position(|e| matches!(e, LinkEvent::Connected { .. }))
        .unwrap();
    assert!(reloaded < connected, "{events:?}");
    eprintln!(
        "password file replaced while refused: connected {:.2} s later (the first refusal's wait is 30 s)",
        changed.elapsed().as_secs_f64()
    );
}
