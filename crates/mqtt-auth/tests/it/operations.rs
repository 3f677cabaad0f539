//! Blocking calls after a connect: none may wait past the client's operation timeout.

use std::{
    process::Command,
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use mqtt_auth::{
    Protocol, QoS,
    connect::{Identity, Publish, connect, create_client},
};
use test_mosquitto::BrokerBuilder;

use crate::{password, settings};

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .expect("cannot run kill");
    assert!(status.success(), "kill -{name} {pid}");
}

/// Paho keeps a publish it has queued but not yet written when the connection drops, to send it
/// after the next connect. A thread blocked in that publish is usually the one that would
/// reconnect; only the operation timeout gets it out.
///
/// Made deterministic with a frozen broker that allows one message in flight (MQTT 5 receive
/// maximum): the first publish is written and never acknowledged, the second waits in paho's
/// queue, then the broker dies.
#[test]
fn a_publish_stranded_in_the_queue_by_a_lost_connection_times_out() {
    let pw = password("stranded");
    let mut broker = BrokerBuilder::new()
        .user("sam", &pw)
        .config_line("max_inflight_messages 1")
        .start()
        .unwrap();
    let s = settings(broker.port(), Protocol::V5, "sam", &pw)
        .with_timing(Duration::from_secs(30), Duration::from_secs(1));
    let limit = s.operation_timeout();
    let client = std::sync::Arc::new(create_client(&s).unwrap());
    connect(&client, &s, Identity::Configured, None).unwrap();

    let pid = broker.pid().unwrap();
    signal(pid, "STOP");
    let (done_tx, done) = mpsc::channel();
    for which in ["written", "queued"] {
        let client = std::sync::Arc::clone(&client);
        let done_tx = done_tx.clone();
        thread::spawn(move || {
            let result =
                client.publish(&Publish::new("t/stranded", which, QoS::AtLeastOnce, false));
            let _ = done_tx.send((which, result));
        });
        // Let paho write the first before the second is queued behind it.
        thread::sleep(Duration::from_millis(300));
    }
    let lost = Instant::now();
    broker.stop();

    let mut outcomes = Vec::new();
    for _ in 0..2 {
        let (which, result) = done.recv_timeout(limit * 3).unwrap_or_else(|_| {
            panic!(
                "a publish was still blocked {:?} after the connection was lost \
                 (operation timeout {limit:?}); finished so far: {outcomes:?}",
                lost.elapsed()
            )
        });
        outcomes.push((which, result.map_err(|e| e.to_string())));
    }
    // The written one is failed by paho as the connection closes; the queued one only by the
    // timeout.
    outcomes.sort_by_key(|(which, _)| *which);
    let [(_, queued), (_, written)] = &outcomes[..] else {
        unreachable!("two outcomes were received")
    };
    assert!(
        written.is_err(),
        "acknowledged by a frozen broker? {outcomes:?}"
    );
    assert_eq!(queued, &Err(String::from("Timeout")), "{outcomes:?}");
}
