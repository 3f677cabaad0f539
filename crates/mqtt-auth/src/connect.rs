//! One authenticated connection attempt with paho-mqtt: options from validated settings, the
//! attempt itself, its classification and its audit record.
//!
//! Paho's automatic reconnect is never turned on: it would keep retrying after an auth rejection.
//! Callers own the retry loop with [`crate::retry::Backoff`].

use std::{
    fmt,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, SystemTime},
};

use crossbeam_channel::Receiver;
use log::warn;
use paho_mqtt as paho;
use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use crate::{
    ReturnCode,
    audit::AuditRecord,
    failure::{ConnectError, classify},
    qos::QoS,
    settings::{BrokerSettings, Protocol, TlsSettings, TrustAnchor, Verification},
    tls,
};

/// A retained last-will message, published by the broker when the connection dies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastWill {
    /// Topic, e.g. `<prefix>/availability`.
    pub topic: String,
    /// Payload, e.g. `offline`.
    pub payload: Vec<u8>,
    /// Delivery level of the will.
    pub qos: QoS,
    /// Retained, so late subscribers see it.
    pub retained: bool,
}

/// Who the connection claims to be: the configured user, or nobody (the anonymous probe).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// Username and password from the settings.
    Configured,
    /// No username, no password.
    Anonymous,
}

/// What a successful connect returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    /// The broker kept a session for this client id.
    pub session_present: bool,
}

/// A message to publish, as a value (the session's actions carry it; paho's `Message` is built
/// only at the call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    /// The topic.
    pub topic: String,
    /// The payload.
    pub payload: Vec<u8>,
    /// The delivery level.
    pub qos: QoS,
    /// Retained by the broker for later subscribers.
    pub retain: bool,
}

impl Publish {
    /// A message of `payload` on `topic`.
    pub fn new(
        topic: impl Into<String>,
        payload: impl Into<Vec<u8>>,
        qos: QoS,
        retain: bool,
    ) -> Self {
        Self {
            topic: topic.into(),
            payload: payload.into(),
            qos,
            retain,
        }
    }

    fn paho(&self) -> paho::Message {
        if self.retain {
            paho::Message::new_retained(&self.topic, self.payload.as_slice(), self.qos.paho())
        } else {
            paho::Message::new(&self.topic, self.payload.as_slice(), self.qos.paho())
        }
    }
}

/// What reaches a client from its connection, in the order paho saw it: see
/// [`MqttClient::inbox`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A message on a subscribed topic.
    Message {
        /// Its topic.
        topic: String,
        /// Its payload.
        payload: Vec<u8>,
        /// Delivered from the broker's retained store (a subscription's first delivery).
        retained: bool,
    },
    /// The connection ended without a reason from the broker (paho's connection lost: a closed
    /// socket, a missed keep-alive, or any MQTT 3.1.1 server-side close).
    Lost,
    /// The broker closed the connection with an MQTT 5 DISCONNECT carrying this reason
    /// (0x8E: another client connected with this client id).
    Disconnected(ReturnCode),
}

/// A paho client owned by one thread: connect with [`connect`], then publish, subscribe,
/// disconnect and read [`Self::inbox`]. It exposes no more of paho than that.
///
/// It is dropped safely. paho-mqtt 0.14 hands a clone of the client to the callback of each
/// token. A token's waiter wakes while that callback is still running, so if our handle is
/// dropped right after a connect failed, the callback's clone can be the last one; paho then
/// destroys the client on its own thread while holding its own global mutex, and every paho
/// client in the process hangs (paho.mqtt.rust issue #239). Paho C runs token callbacks with that
/// mutex held, so dropping an `MqttClient` first takes the mutex once ([`settle`]): the callback
/// has returned, and the client is destroyed here, on the owner's thread.
pub struct MqttClient {
    inner: Option<paho::AsyncClient>,
    /// How long a blocking call waits for paho.
    timeout: Duration,
    inbox: Receiver<Incoming>,
}

impl MqttClient {
    fn paho(&self) -> &paho::AsyncClient {
        self.inner.as_ref().expect("only taken in drop")
    }

    /// Everything the connection delivers: messages, and how it ended. Filled from the moment
    /// the client is created, so nothing is missed before a subscription's first delivery;
    /// items from an earlier connection stay until read.
    pub fn inbox(&self) -> &Receiver<Incoming> {
        &self.inbox
    }

    /// Publishes `message` and waits until paho has handed it over (QoS 0) or the broker has
    /// acknowledged it (QoS 1 and 2), at most the operation timeout.
    pub fn publish(&self, message: &Publish) -> Result<(), paho::Error> {
        self.paho().publish(message.paho()).wait_for(self.timeout)
    }

    /// Subscribes to every filter in `filters` at `qos`, in one SUBSCRIBE, and waits for the
    /// SUBACK.
    pub fn subscribe(&self, filters: &[String], qos: QoS) -> Result<(), paho::Error> {
        let levels = vec![qos.paho(); filters.len()];
        self.paho()
            .subscribe_many(filters, &levels)
            .wait_for(self.timeout)
            .map(drop)
    }

    /// Disconnects cleanly (no last will), waiting at most the operation timeout.
    pub fn disconnect(&self) -> Result<(), paho::Error> {
        self.paho()
            .disconnect(None)
            .wait_for(self.timeout)
            .map(drop)
    }

    /// Whether paho considers the connection up.
    pub fn is_connected(&self) -> bool {
        self.paho().is_connected()
    }
}

impl fmt::Debug for MqttClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttClient").finish_non_exhaustive()
    }
}

impl Drop for MqttClient {
    fn drop(&mut self) {
        if let Some(client) = self.inner.take() {
            settle(&client);
            drop(client);
        }
    }
}

/// Waits until no paho callback of `client` is still running: paho C calls token callbacks with
/// its global mutex held, and `MQTTAsync_isConnected` takes that mutex. Call it before dropping
/// what may be the last handle of a client whose token just completed (see [`MqttClient`]).
pub fn settle(client: &paho::AsyncClient) {
    let _ = client.is_connected();
}

/// Creates a paho client for `settings`, with in-memory persistence and the stable client id.
/// Its blocking calls wait at most [`BrokerSettings::operation_timeout`].
pub fn create_client(settings: &BrokerSettings) -> Result<MqttClient, ConnectError> {
    leave_openssl_init_to_openssl();
    keep_paho_initialised();
    let opts = paho::CreateOptionsBuilder::new()
        .server_uri(settings.server_uri())
        .client_id(settings.client_id().as_str())
        .mqtt_version(settings.protocol().paho_version())
        .persistence(None)
        .finalize();
    let client = paho::AsyncClient::new(opts).map_err(|e| classify(settings.protocol(), &e))?;
    // Unbounded, as paho's own consumer is: a callback must never block paho's thread.
    let (tx, inbox) = crossbeam_channel::unbounded();
    {
        let tx = tx.clone();
        client.set_message_callback(move |_, message| {
            if let Some(m) = message {
                let _ = tx.send(Incoming::Message {
                    topic: m.topic().to_owned(),
                    payload: m.payload().to_vec(),
                    retained: m.retained(),
                });
            }
        });
    }
    {
        let tx = tx.clone();
        client.set_connection_lost_callback(move |_| {
            let _ = tx.send(Incoming::Lost);
        });
    }
    client.set_disconnected_callback(move |_, _, reason| {
        let _ = tx.send(Incoming::Disconnected(ReturnCode::v5(reason as u8)));
    });
    Ok(MqttClient {
        inner: Some(client),
        // Not paho's 5 min: a publish queued but unsent when the connection drops is kept for
        // the next connect, and the thread waiting on it is usually the one that would reconnect.
        timeout: settings.operation_timeout(),
        inbox,
    })
}

/// Creates, once, a paho client that is never connected and never dropped, so that paho C's
/// count of clients never falls to zero.
///
/// When the last client is destroyed, paho C stops its send and receive threads and frees its
/// socket tables (`MQTTAsync_terminate`). A client created and connected on another thread
/// meanwhile restarts threads the stop is still waiting for; after 10 s the stop gives up and
/// frees the tables under a receive thread that still polls them: a SIGSEGV in `isReady`
/// (Socket.c), seen with two threads each dropping refused clients at once. With one client
/// always alive the threads start once and stay, and nothing global is ever freed.
fn keep_paho_initialised() {
    static KEEPER: std::sync::OnceLock<Option<paho::AsyncClient>> = std::sync::OnceLock::new();
    KEEPER.get_or_init(|| {
        // Loopback port 1 and a fixed id: it is never connected, so neither is ever used.
        let opts = paho::CreateOptionsBuilder::new()
            .server_uri("tcp://127.0.0.1:1")
            .client_id("mqtt-auth-keeper")
            .persistence(None)
            .finalize();
        // If paho cannot create even this one, `create_client` reports the same error next.
        paho::AsyncClient::new(opts).ok()
    });
}

/// Tells Paho C, once and before its first client, not to initialise OpenSSL itself.
///
/// Paho's own initialisation is the pre-1.1 ritual: it loads every libcrypto and libssl error
/// string and registers every algorithm up front, about 1.5 MB of resident memory, even when no
/// connection uses TLS. OpenSSL 1.1 and later initialise themselves on first use (Paho's docs
/// say to turn this off when the application does), so a TLS connection still works and a
/// plain one never pays for it.
fn leave_openssl_init_to_openssl() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // `MQTTAsync_init_options_initializer` of MQTTAsync.h.
        let mut options = paho_mqtt_sys::MQTTAsync_init_options {
            struct_id: [b'M', b'Q', b'T', b'G'].map(|b| b as std::os::raw::c_char),
            struct_version: 0,
            do_openssl_init: 0,
        };
        // SAFETY: `options` is a valid, initialised struct of the version the call reads, and
        // lives across the call; Paho only copies `do_openssl_init` out of it.
        #[allow(unsafe_code)]
        unsafe {
            paho_mqtt_sys::MQTTAsync_global_init(&mut options);
        }
    });
}

fn ssl_options(tls: &TlsSettings) -> Result<paho::SslOptions, ConnectError> {
    let config = |e: paho::Error| ConnectError::Configuration {
        detail: e.to_string(),
    };
    let mut ssl = paho::SslOptionsBuilder::new();
    if let TrustAnchor::CaFile(path) = &tls.trust {
        ssl.trust_store(path).map_err(config)?;
    }
    if let Some(cert) = &tls.client_cert {
        ssl.key_store(&cert.cert_file).map_err(config)?;
        ssl.private_key(&cert.key_file).map_err(config)?;
    }
    // paho's `verify` (hostname check) defaults to false: turn both checks on explicitly.
    let verify = tls.verification == Verification::Full;
    ssl.enable_server_cert_auth(verify).verify(verify);
    Ok(ssl.finalize())
}

/// Connect options for `settings`. They hold a copy of the password: build them right before
/// the connect and drop them right after (see [`connect`]).
pub fn connect_options(
    settings: &BrokerSettings,
    identity: Identity,
    will: Option<&LastWill>,
) -> Result<paho::ConnectOptions, ConnectError> {
    let mut builder = match settings.protocol() {
        Protocol::V311 => {
            let mut b = paho::ConnectOptionsBuilder::new_v3();
            b.clean_session(true);
            b
        }
        Protocol::V5 => {
            let mut b = paho::ConnectOptionsBuilder::new_v5();
            b.clean_start(true);
            b
        }
    };
    builder
        .keep_alive_interval(settings.keep_alive())
        .connect_timeout(settings.connect_timeout());
    if identity == Identity::Configured {
        let credentials = settings.credentials();
        builder.user_name(credentials.username().as_str());
        // The builder takes the bytes by value; this copy moves into paho's own buffer.
        let password = Zeroizing::new(credentials.password().expose_secret().as_bytes().to_vec());
        builder.password(password.as_slice());
    }
    if let Some(will) = will {
        let message = if will.retained {
            paho::Message::new_retained(&will.topic, will.payload.clone(), will.qos.paho())
        } else {
            paho::Message::new(&will.topic, will.payload.clone(), will.qos.paho())
        };
        builder.will_message(message);
    }
    if let Some(tls) = settings.tls() {
        builder.ssl_options(ssl_options(tls)?);
    }
    Ok(builder.finalize())
}

/// Makes one connection attempt with `client` (from [`create_client`]), emits its audit record
/// and classifies a failure. With TLS, a failure is re-examined with our own handshake so that a
/// certificate problem is reported as such, never as an auth failure.
pub fn connect(
    client: &MqttClient,
    settings: &BrokerSettings,
    identity: Identity,
    will: Option<&LastWill>,
) -> Result<Connected, ConnectError> {
    connect_with_record(client, settings, identity, will).0
}

/// [`connect`], also returning the audit record it emitted (for tools that show it).
pub fn connect_with_record(
    client: &MqttClient,
    settings: &BrokerSettings,
    identity: Identity,
    will: Option<&LastWill>,
) -> (Result<Connected, ConnectError>, AuditRecord) {
    let result = attempt(client, settings, identity, will);
    let outcome = result.as_ref().map(|_| ()).map_err(Clone::clone);
    let mut record = AuditRecord::new(settings, SystemTime::now(), &outcome);
    if identity == Identity::Anonymous {
        record = record.with_username(ANONYMOUS_USER);
    }
    record.emit();
    (result, record)
}

fn attempt(
    client: &MqttClient,
    settings: &BrokerSettings,
    identity: Identity,
    will: Option<&LastWill>,
) -> Result<Connected, ConnectError> {
    if let Some(tls) = settings.tls()
        && tls.verification == Verification::Insecure
    {
        warn!(
            "TLS verification is OFF for {} (MQTT_TLS_INSECURE=true): the broker's identity is not \
             checked and the password can be captured by anyone in the middle",
            settings.broker_addr()
        );
    }
    let response = {
        let options = connect_options(settings, identity, will)?;
        client.paho().connect(options).wait_for(client.timeout)
        // `options`, and paho-rs's copy of the password with it, is dropped here.
    };
    match response {
        Ok(response) => Ok(Connected {
            session_present: response
                .connect_response()
                .is_some_and(|r| r.session_present),
        }),
        Err(err) => {
            let classified = classify(settings.protocol(), &err);
            Err(refine_tls_failure(settings, classified))
        }
    }
}

fn refine_tls_failure(settings: &BrokerSettings, err: ConnectError) -> ConnectError {
    if settings.tls().is_none() {
        return err;
    }
    if !matches!(
        err,
        ConnectError::Network { .. } | ConnectError::Other { .. }
    ) {
        return err;
    }
    let timeout = settings.connect_timeout().min(Duration::from_secs(5));
    match tls::inspect(settings, timeout) {
        Err(problem @ tls::TlsProblem::Certificate { .. }) => ConnectError::Certificate {
            detail: format!("{problem}; fix: {}", problem.fix()),
        },
        Err(problem @ tls::TlsProblem::Handshake(_)) => ConnectError::Certificate {
            detail: format!("{problem}; fix: {}", problem.fix()),
        },
        Err(problem @ tls::TlsProblem::Setup(_)) => ConnectError::Configuration {
            detail: format!("{problem}; fix: {}", problem.fix()),
        },
        // Our handshake worked (or could not reach the broker either): paho's error stands.
        Ok(_) | Err(tls::TlsProblem::Unreachable(_)) => err,
    }
}

/// How the audit log names a connection without credentials.
pub const ANONYMOUS_USER: &str = "(anonymous)";

static PROBE_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A client id for a throwaway (diagnostic) connection: `<base>-diag-<purpose>-<random>`,
/// derived from `base` but never equal to it. A broker closes the older of two connections with
/// one client id, so a probe or `heat-diag connect` with the real id would kick the running
/// service off the broker. `base` is cut to 24 characters and `purpose` should be a short word
/// of letters.
pub fn throwaway_client_id(base: &crate::ClientId, purpose: &str) -> crate::ClientId {
    let n = PROBE_COUNTER.fetch_add(1, Ordering::Relaxed);
    let nonce: u32 = rand::random();
    let stem: String = base.as_str().chars().take(24).collect();
    let purpose: String = purpose.chars().take(12).collect();
    crate::ClientId::new(format!("{stem}-diag-{purpose}-{nonce:08x}{n}"))
        .expect("letters, digits and '-' only, under the length limit")
}
