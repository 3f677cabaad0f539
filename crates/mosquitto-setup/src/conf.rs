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

/// A `conf.d` file for an existing Mosquitto (Debian's package reads
/// `/etc/mosquitto/conf.d/*.conf`): authentication on, the password file and the ACL file.
/// Everything else, listeners included, stays as the owner set it; the comments say what to
/// delete when the broker already names a password or ACL file, because Mosquitto refuses a
/// second one.
pub fn conf_d_text(password_file: &Path, acl_file: &Path) -> Result<String, Error> {
    let (passwd, acl) = (path(password_file)?, path(acl_file)?);
    Ok(format!(
        "\
# For /etc/mosquitto/conf.d/ (generated by heat-diag provision --snippet --for debian).
# What the solar heating controller needs from this broker: no anonymous clients, its user in
# the password file, its block in the ACL file. Nothing else is changed: no listener, no TLS.
#
# Mosquitto takes password_file and acl_file once each; a second one anywhere in
# mosquitto.conf or conf.d stops it at startup (\"Duplicate ... value\"). Look first:
#   grep -rn 'password_file\\|acl_file\\|per_listener_settings\\|listener' /etc/mosquitto/
# - password_file already set: delete that line here and append passwd.add to your file.
# - acl_file already set: delete that line here and run provision again with
#   --existing-acl YOUR_FILE; the acl it writes is yours with the controller's block merged in.
# - per_listener_settings true: these lines only apply to the listener above them; copy them
#   under each of your listeners instead of installing this file.
# - No listener is set here. Without any, Mosquitto 2 listens on localhost:1883 only; a
#   controller or Home Assistant on another machine needs one in your config, e.g.
#   `listener 1883` or a TLS listener (docs/existing-broker.md).
# Once acl_file is set, every topic not granted there is denied to every user: the ACL must
# hold a block for each of your other clients (Home Assistant, zigbee2mqtt, Tasmota...).
allow_anonymous false
password_file {passwd}
acl_file {acl}
"
    ))
}

/// `acl.conf` for the Home Assistant Mosquitto add-on's `customize` folder: the add-on includes
/// every `*.conf` there, and this one names the ACL file.
pub fn addon_acl_conf_text(acl_file: &Path) -> Result<String, Error> {
    Ok(format!(
        "# For the Mosquitto add-on's customize folder (generated by heat-diag provision \
         --snippet --for ha-addon).\n\
         # Needs `customize: {{active: true, folder: mosquitto}}` in the add-on's configuration.\n\
         acl_file {}\n",
        path(acl_file)?
    ))
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

/// The topics of a service that reports to Home Assistant over MQTT discovery: what its ACL
/// block is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceTopics<'a> {
    /// The service's own state and command topics live under `<prefix>/`.
    pub prefix: &'a str,
    /// Home Assistant's discovery prefix, usually `homeassistant`.
    pub discovery_prefix: &'a str,
    /// The node id of the service's discovery topics
    /// (`<discovery_prefix>/<component>/<node_id>/<object_id>/config`).
    pub node_id: &'a str,
}

impl ServiceTopics<'_> {
    /// Checks that each part is a plain topic path (the node id a single level), so no grant
    /// built from them can hold a wildcard or reach past the service's own topics.
    fn check(&self) -> Result<(), Error> {
        let plain = |s: &str| {
            !s.is_empty()
                && s.split('/').all(|level| {
                    !level.is_empty()
                        && level
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                })
        };
        for topic in [self.prefix, self.discovery_prefix] {
            if !plain(topic) {
                return Err(Error::Topic(topic.chars().take(64).collect()));
            }
        }
        if !plain(self.node_id) || self.node_id.contains('/') {
            return Err(Error::Topic(self.node_id.chars().take(64).collect()));
        }
        Ok(())
    }

    /// The service's grants: read and write its prefix, write its own discovery configs only
    /// (`<discovery_prefix>/+/<node_id>/#`, never another device's), read Home Assistant's
    /// status.
    pub fn service_grants(&self) -> Result<Vec<Grant>, Error> {
        self.check()?;
        let d = self.discovery_prefix;
        Ok(vec![
            Grant::new(Access::ReadWrite, format!("{}/#", self.prefix)),
            Grant::new(Access::Write, format!("{d}/+/{}/#", self.node_id)),
            Grant::new(Access::Read, format!("{d}/status")),
        ])
    }
}

/// Users of a Home Assistant setup: the service that owns `topics.prefix`, Home Assistant
/// itself, and an optional read-only observer.
pub fn home_assistant_acl(
    topics: &ServiceTopics<'_>,
    service_user: &str,
    home_assistant_user: &str,
    readonly_user: Option<&str>,
) -> Result<Vec<AclUser>, Error> {
    let prefix = topics.prefix;
    let mut users = vec![
        AclUser {
            name: service_user.to_owned(),
            grants: topics.service_grants()?,
        },
        AclUser {
            name: home_assistant_user.to_owned(),
            grants: vec![
                Grant::new(Access::Read, format!("{prefix}/#")),
                Grant::new(Access::Write, format!("{prefix}/+/set")),
                Grant::new(Access::ReadWrite, format!("{}/#", topics.discovery_prefix)),
            ],
        },
    ];
    if let Some(name) = readonly_user {
        users.push(AclUser {
            name: name.to_owned(),
            grants: vec![Grant::new(Access::Read, format!("{prefix}/#"))],
        });
    }
    Ok(users)
}

/// First line of a block that [`merge_acl`] manages; the user name follows.
const BEGIN: &str = "# BEGIN heat-diag block of user ";
/// Last line of such a block.
const END: &str = "# END heat-diag block of user ";

/// One user's block as [`merge_acl`] writes it: between two marker comments, so that running
/// the generator again replaces exactly this block.
pub fn acl_block(user: &AclUser) -> Result<String, Error> {
    let body = acl_text(std::slice::from_ref(user))?;
    // acl_text's own header and blank line are for a whole file.
    let body = body.split_once("\n\n").map_or(body.as_str(), |(_, b)| b);
    Ok(format!("{BEGIN}{}\n{body}{END}{}\n", user.name, user.name))
}

/// What [`merge_acl`] found in the existing file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The merged ACL file.
    pub text: String,
    /// True when an earlier block of the same user was replaced, false when it was appended.
    pub replaced: bool,
    /// `pattern` lines of the existing file: Mosquitto applies them to every user, this one
    /// included, so they may grant it more than its block.
    pub patterns: Vec<String>,
    /// The other users with a block, in file order.
    pub other_users: Vec<String>,
}

/// How a merged block relates to other blocks of the same user. Mosquitto adds up every block of
/// a user, wherever it is in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockRule {
    /// The block must be all the user gets (a service narrowed to its own topics): a
    /// hand-written block of the same user is refused.
    Sole,
    /// The block only adds grants to what the user already has (Home Assistant reading a new
    /// service's topics): hand-written blocks of the same user stay.
    Additional,
}

/// Merges `user`'s block into the text of an existing ACL file: an earlier block written by
/// this function is replaced in place, otherwise the block is appended. Every other line, other
/// users' blocks, anonymous rules and patterns included, is kept byte for byte.
///
/// With [`BlockRule::Sole`], refuses a `user` line for the same name outside the markers:
/// Mosquitto would add those grants to the block's, so they must be removed by hand first.
pub fn merge_acl(existing: &str, user: &AclUser, rule: BlockRule) -> Result<Merged, Error> {
    let block = acl_block(user)?;
    let begin = format!("{BEGIN}{}", user.name);
    let end = format!("{END}{}", user.name);
    let mut out = String::with_capacity(existing.len() + block.len());
    let mut replaced = false;
    let mut inside = false;
    let mut patterns = Vec::new();
    let mut other_users = Vec::new();
    for (i, line) in existing.lines().enumerate() {
        let trimmed = line.trim();
        if inside {
            if trimmed == end {
                inside = false;
            }
            continue;
        }
        if trimmed == begin {
            if replaced {
                return Err(Error::AclConflict {
                    line: i + 1,
                    reason: "a second heat-diag block of this user",
                });
            }
            inside = true;
            replaced = true;
            out.push_str(&block);
            continue;
        }
        let mut words = trimmed.split_whitespace();
        match (words.next(), words.next()) {
            (Some("user"), Some(name)) if name == user.name && rule == BlockRule::Sole => {
                return Err(Error::AclConflict {
                    line: i + 1,
                    reason: "a block of this user not written by heat-diag: remove it (or its grants) first",
                });
            }
            (Some("user"), Some(name)) if !other_users.iter().any(|u| u == name) => {
                other_users.push(name.to_owned());
            }
            (Some("pattern"), Some(_)) => patterns.push(trimmed.to_owned()),
            _ => {}
        }
        out.push_str(line);
        out.push('\n');
    }
    if inside {
        return Err(Error::AclConflict {
            line: existing.lines().count(),
            reason: "the heat-diag block of this user has no END line",
        });
    }
    if !replaced {
        if !out.is_empty() && !out.ends_with("\n\n") {
            out.push('\n');
        }
        out.push_str(&block);
    }
    Ok(Merged {
        text: out,
        replaced,
        patterns,
        other_users,
    })
}

#[cfg(test)]
mod tests;
