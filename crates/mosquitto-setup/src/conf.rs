//! A hardened `mosquitto.conf` and a least-privilege ACL, generated as text.
//!
//! The config uses `per_listener_settings true`, so every listener carries its own
//! `allow_anonymous false`, `password_file` and `acl_file`: a listener added later by hand does not
//! silently inherit an open default. Every path is absolute and every value is checked for line
//! breaks, so no value can smuggle in a directive.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
};

use crate::Error;

/// The TLS listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsListener {
    /// Port, usually 8883.
    pub port: u16,
    /// Address to bind; `None` binds every interface.
    pub bind: Option<String>,
    /// CA certificate that signed the client certificates (and the server's).
    pub cafile: PathBuf,
    /// Server certificate (PEM).
    pub certfile: PathBuf,
    /// Server private key (PEM).
    pub keyfile: PathBuf,
    /// Clients must present a certificate signed by `cafile`.
    pub require_certificate: bool,
}

/// An unencrypted listener, bound to 127.0.0.1 only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlainListener {
    /// Port, usually 1883.
    pub port: u16,
}

/// Everything the generated `mosquitto.conf` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerConfig {
    /// The `$7$` password file.
    pub password_file: PathBuf,
    /// The ACL file.
    pub acl_file: PathBuf,
    /// Directory of the persistence database.
    pub persistence_dir: PathBuf,
    /// The TLS listener.
    pub tls: TlsListener,
    /// An optional loopback-only plain listener.
    pub plain: Option<PlainListener>,
    /// Connections per listener.
    pub max_connections: u32,
    /// Largest MQTT packet accepted, in bytes.
    pub max_packet_size: u32,
    /// Log to this file; `None` logs to stderr (the service manager's journal).
    pub log_file: Option<PathBuf>,
    /// `user` to run as after binding; `None` keeps Mosquitto's default (`mosquitto`).
    pub run_as_user: Option<String>,
}

fn value(v: &str) -> Result<&str, Error> {
    if v.is_empty() || v.chars().any(|c| c.is_control()) || v.trim() != v {
        return Err(Error::Value(v.chars().take(64).collect()));
    }
    Ok(v)
}

fn path(p: &Path) -> Result<String, Error> {
    if !p.is_absolute() {
        return Err(Error::NotAbsolute(p.to_path_buf()));
    }
    let text = p
        .to_str()
        .ok_or_else(|| Error::Value(p.display().to_string()))?;
    value(text).map(str::to_owned)
}

fn auth_lines(out: &mut String, cfg: &BrokerConfig) -> Result<(), Error> {
    writeln!(out, "allow_anonymous false").ok();
    writeln!(out, "password_file {}", path(&cfg.password_file)?).ok();
    writeln!(out, "acl_file {}", path(&cfg.acl_file)?).ok();
    writeln!(out, "max_connections {}", cfg.max_connections).ok();
    Ok(())
}

/// The text of `mosquitto.conf` for `cfg`.
pub fn config_text(cfg: &BrokerConfig) -> Result<String, Error> {
    let mut out = String::new();
    let o = &mut out;
    writeln!(o, "# Hardened Mosquitto 2.0 configuration (generated).").ok();
    writeln!(
        o,
        "# Every listener refuses anonymous clients and applies the ACL."
    )
    .ok();
    writeln!(o, "per_listener_settings true").ok();
    writeln!(o).ok();
    if let Some(user) = &cfg.run_as_user {
        writeln!(o, "user {}", value(user)?).ok();
    }
    writeln!(o, "persistence true").ok();
    let mut dir = path(&cfg.persistence_dir)?;
    if !dir.ends_with('/') {
        dir.push('/');
    }
    writeln!(o, "persistence_location {dir}").ok();
    match &cfg.log_file {
        Some(file) => writeln!(o, "log_dest file {}", path(file)?).ok(),
        None => writeln!(o, "log_dest stderr").ok(),
    };
    for kind in ["error", "warning", "notice", "information"] {
        writeln!(o, "log_type {kind}").ok();
    }
    writeln!(o, "log_timestamp true").ok();
    writeln!(o, "connection_messages true").ok();
    // Without it Nagle's algorithm meets delayed ACKs in the TLS handshake: ~45 ms per connect
    // on loopback (docs/benchmarks.md).
    writeln!(o, "set_tcp_nodelay true").ok();
    // `max_packet_size` replaces the deprecated `message_size_limit` in Mosquitto 2.
    writeln!(o, "max_packet_size {}", cfg.max_packet_size).ok();
    writeln!(o).ok();

    let tls = &cfg.tls;
    writeln!(o, "# TLS listener (TLS 1.2 or newer).").ok();
    match &tls.bind {
        Some(bind) => writeln!(o, "listener {} {}", tls.port, value(bind)?).ok(),
        None => writeln!(o, "listener {}", tls.port).ok(),
    };
    writeln!(o, "protocol mqtt").ok();
    auth_lines(o, cfg)?;
    writeln!(o, "cafile {}", path(&tls.cafile)?).ok();
    writeln!(o, "certfile {}", path(&tls.certfile)?).ok();
    writeln!(o, "keyfile {}", path(&tls.keyfile)?).ok();
    writeln!(o, "tls_version tlsv1.2").ok();
    writeln!(o, "require_certificate {}", tls.require_certificate).ok();
    writeln!(o, "use_identity_as_username false").ok();

    if let Some(plain) = cfg.plain {
        writeln!(o).ok();
        writeln!(o, "# Plain listener, loopback only.").ok();
        writeln!(o, "listener {} 127.0.0.1", plain.port).ok();
        writeln!(o, "protocol mqtt").ok();
        auth_lines(o, cfg)?;
    }
    Ok(out)
}

/// Access a grant gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Subscribe and receive.
    Read,
    /// Publish.
    Write,
    /// Both.
    ReadWrite,
}

impl Access {
    fn keyword(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::ReadWrite => "readwrite",
        }
    }
}

/// One `topic <access> <filter>` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// What the user may do.
    pub access: Access,
    /// Topic filter (`+` and `#` allowed).
    pub topic: String,
}

impl Grant {
    /// A grant.
    pub fn new(access: Access, topic: impl Into<String>) -> Self {
        Self {
            access,
            topic: topic.into(),
        }
    }
}

/// A user's block of the ACL file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclUser {
    /// Username as in the password file.
    pub name: String,
    /// What the user may do; nothing else is allowed.
    pub grants: Vec<Grant>,
}

/// The ACL file's text: one block per user, nothing for anonymous clients or patterns.
pub fn acl_text(users: &[AclUser]) -> Result<String, Error> {
    let mut out =
        String::from("# Least-privilege ACL (generated): anything not listed is denied.\n");
    for user in users {
        if !crate::passwd::valid_username(&user.name) {
            return Err(Error::Username(user.name.chars().take(64).collect()));
        }
        writeln!(out, "\nuser {}", user.name).ok();
        for grant in &user.grants {
            writeln!(
                out,
                "topic {} {}",
                grant.access.keyword(),
                value(&grant.topic)?
            )
            .ok();
        }
    }
    Ok(out)
}

/// Users of a Home Assistant setup: the service that owns `prefix`, Home Assistant itself, and
/// an optional read-only observer.
pub fn home_assistant_acl(
    prefix: &str,
    service_user: &str,
    home_assistant_user: &str,
    readonly_user: Option<&str>,
) -> Vec<AclUser> {
    let mut users = vec![
        AclUser {
            name: service_user.to_owned(),
            grants: vec![
                Grant::new(Access::ReadWrite, format!("{prefix}/#")),
                Grant::new(Access::Write, "homeassistant/#"),
                Grant::new(Access::Read, "homeassistant/status"),
            ],
        },
        AclUser {
            name: home_assistant_user.to_owned(),
            grants: vec![
                Grant::new(Access::Read, format!("{prefix}/#")),
                Grant::new(Access::Write, format!("{prefix}/+/set")),
                Grant::new(Access::ReadWrite, "homeassistant/#"),
            ],
        },
    ];
    if let Some(name) = readonly_user {
        users.push(AclUser {
            name: name.to_owned(),
            grants: vec![Grant::new(Access::Read, format!("{prefix}/#"))],
        });
    }
    users
}

#[cfg(test)]
mod tests;
