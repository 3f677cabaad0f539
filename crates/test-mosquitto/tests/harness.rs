//! The harness itself: a broker starts, listens on loopback only, restarts on the same port, and
//! its log counts connection attempts, and tells probes from them.

use std::net::TcpStream;

use test_mosquitto::BrokerBuilder;

#[test]
fn broker_starts_counts_attempts_and_restarts_on_the_same_port() {
    let mut broker = BrokerBuilder::new()
        .user("u", "a-long-test-password")
        .start()
        .unwrap();
    let conf = std::fs::read_to_string(broker.dir().join("mosquitto.conf")).unwrap();
    assert!(conf.contains("allow_anonymous false"), "{conf}");
    assert!(
        conf.contains(&format!("listener {} 127.0.0.1", broker.port())),
        "{conf}"
    );
    let passwd = std::fs::read_to_string(broker.dir().join("passwd")).unwrap();
    assert!(passwd.starts_with("u:$7$"), "{passwd}");
    assert!(!passwd.contains("a-long-test-password"));

    assert_eq!(broker.connection_attempts(), 0);
    // A TCP connection closed before CONNECT (what a reachability probe does) is a probe, no
    // MQTT attempt.
    drop(TcpStream::connect(("127.0.0.1", broker.port())).unwrap());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while broker.probes() == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(broker.probes(), 1, "{}", broker.log());
    assert_eq!(broker.connection_attempts(), 0, "{}", broker.log());
    // A CONNECT with a wrong password is one.
    let status = std::process::Command::new("mosquitto_pub")
        .args([
            "-p",
            &broker.port().to_string(),
            "-u",
            "u",
            "-P",
            "wrong-password-x",
        ])
        .args(["-t", "t", "-m", "m"])
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success());
    while broker.connection_attempts() == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(broker.connection_attempts(), 1, "{}", broker.log());

    let port = broker.port();
    let first = broker.pid();
    broker.restart().unwrap();
    assert_eq!(broker.port(), port);
    assert_ne!(broker.pid(), first);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
}
