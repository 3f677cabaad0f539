//! Connect-to-CONNACK time through mqtt-auth, plain and TLS, next to `mosquitto_pub`'s own time
//! measured against the same broker in the same run.
//!
//! `mosquitto_pub` is timed as a whole process (start, connect, publish one QoS 0 message,
//! disconnect, exit): the closest a stock client gets to "connect". Its credentials come from its
//! options file under `XDG_CONFIG_HOME`, never from its command line. With `BENCH_RECORDS` set it
//! also appends every row for `cargo xtask bench` (see `bench-report`).

#![allow(clippy::print_stdout)]

use std::{
    fs,
    hint::black_box,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use bench_report::{Recorder, Stats};
use mqtt_auth::{
    BrokerSettings, ClientId, Credentials, Protocol, TlsSettings, TrustAnchor, Username,
    connect::{Identity, connect, create_client},
};
use secrecy::SecretString;
use test_mosquitto::{BrokerBuilder, Pki, TlsListener, Validity, find_program, write_private};

const ROUNDS: usize = 200;
const USER: &str = "bench";

/// Prints a row and records it as `id`; a broker with Nagle on is named in the record.
fn summarize(rec: &Recorder, id: &str, name: &str, samples: &[Duration]) {
    let s = Stats::of_ms(samples);
    println!("{name:<44} {:>8.3} {:>8.3} {:>8.3}", s.p50, s.p99, s.max);
    let nagle = if std::env::var_os("BENCH_BROKER_NAGLE").is_some() {
        " (broker with Nagle)"
    } else {
        ""
    };
    rec.write(rec.stats(id, &format!("connect → CONNACK, {name}{nagle}"), "ms", s));
}

fn time_connects(settings: &BrokerSettings) -> Vec<Duration> {
    // One client, reconnected: destroying a paho client waits for its C threads to stop.
    let client = create_client(settings).expect("client");
    (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            black_box(connect(&client, settings, Identity::Configured, None).expect("connect"));
            let elapsed = start.elapsed();
            client.disconnect().expect("disconnect");
            elapsed
        })
        .collect()
}

fn time_mosquitto_pub(config_home: &std::path::Path, args: &[String]) -> Vec<Duration> {
    let program = find_program("mosquitto_pub").expect("mosquitto_pub");
    (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            let status = Command::new(&program)
                .args(args)
                .args(["-t", "bench/connect", "-m", "x", "-q", "0"])
                .env("XDG_CONFIG_HOME", config_home)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("mosquitto_pub runs");
            assert!(status.success(), "mosquitto_pub failed: {status}");
            start.elapsed()
        })
        .collect()
}

fn main() {
    let rec = Recorder::from_env("connect");
    let dir = tempfile::tempdir().expect("temp dir");
    let pki = Pki::new(dir.path(), "bench").expect("CA");
    let server = pki
        .server("server", &["localhost", "127.0.0.1"], Validity::Current)
        .expect("cert");
    let password = format!("bench-{:016x}", rand::random::<u64>());
    let nodelay = std::env::var_os("BENCH_BROKER_NAGLE").is_none();
    let broker = BrokerBuilder::new()
        .config_line(if nodelay {
            "set_tcp_nodelay true"
        } else {
            "set_tcp_nodelay false"
        })
        .user(USER, &password)
        .tls(TlsListener {
            ca_file: pki.ca_file().to_owned(),
            server,
            require_certificate: false,
        })
        .start()
        .expect("mosquitto");

    let credentials = Credentials::new(
        Username::new(USER).unwrap(),
        SecretString::from(password.clone()),
    )
    .unwrap();
    let plain = |protocol| {
        BrokerSettings::new(
            "127.0.0.1",
            broker.port(),
            protocol,
            ClientId::new("bench").unwrap(),
            credentials.clone(),
        )
    };
    let tls = |protocol| {
        BrokerSettings::new(
            "localhost",
            broker.tls_port(),
            protocol,
            ClientId::new("bench-tls").unwrap(),
            credentials.clone(),
        )
        .with_tls(Some(TlsSettings::verified(TrustAnchor::CaFile(
            pki.ca_file().to_owned(),
        ))))
    };

    // mosquitto_pub reads default options from $XDG_CONFIG_HOME/mosquitto_pub.
    let config_home = dir.path().join("config");
    fs::create_dir_all(&config_home).unwrap();
    write_private(
        &config_home.join("mosquitto_pub"),
        &format!("-u {USER}\n-P {password}\n"),
    )
    .unwrap();

    println!("broker set_tcp_nodelay {nodelay}");
    println!("connect to CONNACK, {ROUNDS} rounds each, loopback      p50 ms   p99 ms   max ms");
    summarize(
        &rec,
        "plain-v311",
        "mqtt-auth plain, MQTT 3.1.1",
        &time_connects(&plain(Protocol::V311)),
    );
    summarize(
        &rec,
        "plain-v5",
        "mqtt-auth plain, MQTT 5",
        &time_connects(&plain(Protocol::V5)),
    );
    summarize(
        &rec,
        "tls-v311",
        "mqtt-auth TLS (verified), MQTT 3.1.1",
        &time_connects(&tls(Protocol::V311)),
    );
    summarize(
        &rec,
        "tls-v5",
        "mqtt-auth TLS (verified), MQTT 5",
        &time_connects(&tls(Protocol::V5)),
    );
    let port = broker.port().to_string();
    let tls_port = broker.tls_port().to_string();
    let ca = pki.ca_file().display().to_string();
    let plain_args = ["-h", "127.0.0.1", "-p", &port, "-V", "mqttv5"]
        .map(String::from)
        .to_vec();
    let tls_args = [
        "-h",
        "localhost",
        "-p",
        &tls_port,
        "--cafile",
        &ca,
        "-V",
        "mqttv5",
    ]
    .map(String::from)
    .to_vec();
    summarize(
        &rec,
        "pub-plain",
        "mosquitto_pub plain, whole process",
        &time_mosquitto_pub(&config_home, &plain_args),
    );
    summarize(
        &rec,
        "pub-tls",
        "mosquitto_pub TLS, whole process",
        &time_mosquitto_pub(&config_home, &tls_args),
    );
}
