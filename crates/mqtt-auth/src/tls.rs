//! Our own TLS handshake with the broker, to say *why* TLS failed.
//!
//! Paho reports every TLS failure as a generic "TCP/TLS connect failure". When a connect fails
//! over TLS, [`inspect`] repeats the handshake with OpenSSL, the same trust anchor and the same
//! client certificate, and reads the verification result: expired, hostname mismatch, unknown CA.
//! That keeps certificate problems apart from authentication problems.

use std::{
    net::{TcpStream, ToSocketAddrs},
    time::Duration,
};

use openssl::{
    asn1::Asn1Time,
    ssl::{
        ErrorCode, HandshakeError, SslConnector, SslFiletype, SslMethod, SslStream, SslVerifyMode,
    },
    x509::X509VerifyResult,
};

use crate::settings::{BrokerSettings, TrustAnchor, Verification};

/// What a successful handshake showed about the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// Negotiated protocol, e.g. `TLSv1.3`.
    pub protocol: String,
    /// Subject of the server certificate.
    pub subject: String,
    /// Whole days until the server certificate expires (negative once expired).
    pub days_left: i64,
}

/// Why our handshake failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsProblem {
    /// The certificate chain did not verify; `reason` is OpenSSL's verification result
    /// (e.g. "certificate has expired", "hostname mismatch").
    #[error("server certificate rejected: {reason}")]
    Certificate {
        /// OpenSSL's verification result.
        reason: String,
        /// OpenSSL's X509_V_ERR code.
        code: i32,
    },
    /// The handshake failed for a reason other than verification (protocol, client certificate).
    #[error("TLS handshake failed: {0}")]
    Handshake(String),
    /// Our local TLS setup failed (unreadable CA, certificate or key).
    #[error("local TLS setup failed: {0}")]
    Setup(String),
    /// No TCP connection.
    #[error("cannot reach {0}")]
    Unreachable(String),
}

impl TlsProblem {
    /// A fix for the operator.
    pub fn fix(&self) -> &'static str {
        match self {
            TlsProblem::Certificate { code, .. } => match *code {
                X509_V_ERR_CERT_HAS_EXPIRED | X509_V_ERR_CERT_NOT_YET_VALID => {
                    "renew the broker's server certificate (or fix the clock of this machine)"
                }
                X509_V_ERR_HOSTNAME_MISMATCH | X509_V_ERR_IP_ADDRESS_MISMATCH => {
                    "connect with a name the certificate lists in its subjectAltName (MQTT_BROKER), \
                     or reissue the certificate with that name"
                }
                _ => "set MQTT_CA_FILE to the CA that signed the broker's certificate",
            },
            TlsProblem::Handshake(_) => {
                "check the broker's TLS listener; if it has `require_certificate true`, set \
                 MQTT_CERT_FILE and MQTT_KEY_FILE"
            }
            TlsProblem::Setup(_) => "check MQTT_CA_FILE, MQTT_CERT_FILE and MQTT_KEY_FILE",
            TlsProblem::Unreachable(_) => {
                "check MQTT_BROKER and MQTT_PORT and that the broker runs"
            }
        }
    }
}

/// With TLS 1.3 the server checks the client certificate after the client has finished its
/// handshake, so a refusal ("certificate required") arrives as an alert on the first read. An
/// MQTT broker sends nothing before CONNECT, so a read that times out means "not refused".
fn refused_after_handshake(ssl: &mut SslStream<TcpStream>) -> Result<(), TlsProblem> {
    ssl.get_ref()
        .set_read_timeout(Some(POST_HANDSHAKE_WAIT))
        .ok();
    let mut byte = [0u8; 1];
    match ssl.ssl_read(&mut byte) {
        Err(e) if e.code() == ErrorCode::SSL => Err(TlsProblem::Handshake(
            e.ssl_error()
                .map_or_else(|| e.to_string(), ToString::to_string),
        )),
        Err(e) if e.code() == ErrorCode::ZERO_RETURN => Err(TlsProblem::Handshake(
            "the broker closed the connection after the handshake".to_owned(),
        )),
        _ => Ok(()),
    }
}

const POST_HANDSHAKE_WAIT: Duration = Duration::from_millis(300);

const X509_V_ERR_CERT_NOT_YET_VALID: i32 = 9;
const X509_V_ERR_CERT_HAS_EXPIRED: i32 = 10;
const X509_V_ERR_HOSTNAME_MISMATCH: i32 = 62;
const X509_V_ERR_IP_ADDRESS_MISMATCH: i32 = 64;

/// Handshakes with the broker as configured and reports what it saw. Settings without TLS, or
/// with [`Verification::Insecure`], are still inspected but nothing is verified for the latter.
pub fn inspect(settings: &BrokerSettings, timeout: Duration) -> Result<PeerInfo, TlsProblem> {
    let tls = settings.tls();
    let mut builder = SslConnector::builder(SslMethod::tls_client())
        .map_err(|e| TlsProblem::Setup(e.to_string()))?;
    match tls.map(|t| &t.trust) {
        Some(TrustAnchor::CaFile(path)) => builder
            .set_ca_file(path)
            .map_err(|e| TlsProblem::Setup(format!("CA file {}: {e}", path.display())))?,
        Some(TrustAnchor::SystemStore) | None => {}
    }
    if let Some(cert) = tls.and_then(|t| t.client_cert.as_ref()) {
        builder
            .set_certificate_chain_file(&cert.cert_file)
            .map_err(|e| {
                TlsProblem::Setup(format!("certificate {}: {e}", cert.cert_file.display()))
            })?;
        builder
            .set_private_key_file(&cert.key_file, SslFiletype::PEM)
            .map_err(|e| TlsProblem::Setup(format!("key {}: {e}", cert.key_file.display())))?;
    }
    let insecure = tls.is_some_and(|t| t.verification == Verification::Insecure);
    if insecure {
        builder.set_verify(SslVerifyMode::NONE);
    }
    let connector = builder.build();

    let addr = settings.broker_addr();
    let stream = (settings.host(), settings.port())
        .to_socket_addrs()
        .map_err(|e| TlsProblem::Unreachable(format!("{addr}: {e}")))?
        .find_map(|a| TcpStream::connect_timeout(&a, timeout).ok())
        .ok_or_else(|| TlsProblem::Unreachable(addr.clone()))?;
    stream.set_read_timeout(Some(timeout)).ok();
    stream.set_write_timeout(Some(timeout)).ok();

    let mut config = connector
        .configure()
        .map_err(|e| TlsProblem::Setup(e.to_string()))?;
    if insecure {
        config = config.verify_hostname(false);
    }
    match config.connect(settings.host(), stream) {
        Ok(mut ssl) => {
            refused_after_handshake(&mut ssl)?;
            let session = ssl.ssl();
            let cert = session.peer_certificate();
            let days_left = cert
                .as_ref()
                .and_then(|c| {
                    Asn1Time::days_from_now(0)
                        .ok()
                        .and_then(|now| now.diff(c.not_after()).ok())
                })
                .map_or(0, |d| i64::from(d.days));
            let subject = cert
                .as_ref()
                .map(|c| {
                    c.subject_name()
                        .entries()
                        .filter_map(|e| e.data().to_string().ok())
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            Ok(PeerInfo {
                protocol: session.version_str().to_owned(),
                subject,
                days_left,
            })
        }
        Err(HandshakeError::Failure(mid)) => {
            let verify = mid.ssl().verify_result();
            if verify == X509VerifyResult::OK {
                Err(TlsProblem::Handshake(mid.error().to_string()))
            } else {
                Err(TlsProblem::Certificate {
                    reason: verify.error_string().to_owned(),
                    code: verify.as_raw(),
                })
            }
        }
        Err(HandshakeError::SetupFailure(e)) => Err(TlsProblem::Setup(e.to_string())),
        Err(HandshakeError::WouldBlock(_)) => Err(TlsProblem::Handshake("timed out".to_owned())),
    }
}
