//! The reachability probe: does the broker's port accept a TCP connection? No MQTT is spoken;
//! the connection is closed at once. A session waiting out a network backoff uses it to end the
//! wait the moment the broker is back ([`crate::RetrySchedule::on_reachable`]), so a restart
//! costs the broker's start-up, not the backoff's minimum.

use std::{
    net::{SocketAddr, TcpStream, ToSocketAddrs},
    time::Duration,
};

/// Probes no more often than this (at most 4 per second).
pub const PROBE_EVERY: Duration = Duration::from_millis(250);

/// How long one probe waits for the TCP handshake.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(200);

/// The broker's addresses, resolved once per outage by the caller (a resolver that hangs must
/// not make every probe hang). Empty when `host:port` does not resolve.
pub fn resolve(host: &str, port: u16) -> Vec<SocketAddr> {
    (host, port)
        .to_socket_addrs()
        .map(Iterator::collect)
        .unwrap_or_default()
}

/// Whether any of `addrs` accepts a TCP connection within `timeout` each (tried in order, so
/// at most `addrs.len() × timeout`).
pub fn port_accepts(addrs: &[SocketAddr], timeout: Duration) -> bool {
    addrs
        .iter()
        .any(|addr| TcpStream::connect_timeout(addr, timeout).is_ok())
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;

    #[test]
    fn an_open_port_accepts_and_a_closed_one_does_not() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let addrs = resolve("127.0.0.1", port);
        assert_eq!(addrs.len(), 1, "{addrs:?}");
        assert!(port_accepts(&addrs, PROBE_TIMEOUT));
        drop(listener);
        assert!(!port_accepts(&addrs, PROBE_TIMEOUT));
        assert!(!port_accepts(&[], PROBE_TIMEOUT), "nothing to try");
        assert!(resolve("name.invalid", 1883).is_empty());
    }
}
