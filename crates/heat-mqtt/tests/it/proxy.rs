//! A TCP relay between the session and the broker whose connections the test can cut, so the
//! broker sees the controller vanish (and publishes its last will) while staying up itself.

use std::{
    io,
    net::{Shutdown, TcpListener, TcpStream},
    sync::{Arc, Mutex},
    thread,
};

/// Relays every connection on its own port to `127.0.0.1:<upstream>`.
pub(crate) struct Proxy {
    port: u16,
    live: Arc<Mutex<Vec<TcpStream>>>,
}

fn pump(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

impl Proxy {
    pub(crate) fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let live = Arc::new(Mutex::new(Vec::new()));
        let conns = Arc::clone(&live);
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let (Ok(c2), Ok(s2), Ok(c3), Ok(s3)) = (
                    client.try_clone(),
                    server.try_clone(),
                    client.try_clone(),
                    server.try_clone(),
                ) else {
                    continue;
                };
                conns.lock().unwrap().extend([c3, s3]);
                thread::spawn(move || pump(client, server));
                thread::spawn(move || pump(s2, c2));
            }
        });
        Proxy { port, live }
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Cuts every relayed connection; new ones are still accepted.
    pub(crate) fn cut(&self) {
        for s in self.live.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}
