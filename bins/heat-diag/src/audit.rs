//! `heat-diag audit`: checks the configured broker's security, each check PASS / WARN / FAIL /
//! SKIP with the fix. The check ids and the JSON schema are documented in `docs/audit.md`.
//!
//! Exit code: 0 when nothing is WARN or FAIL (SKIP is fine), 1 otherwise.

use std::{
    net::IpAddr,
    path::{Path, PathBuf},
    process::ExitCode,
    time::{Duration, Instant},
};

use heat_config::Settings;
use mqtt_auth::{
    BrokerSettings, Protocol, QoS, TlsSettings, Verification,
    connect::{Identity, Incoming, Publish, connect, create_client, throwaway_client_id},
    probe::{ProbeOutcome, probe},
    tls::{PeerInfo, TlsProblem, inspect},
};
use paho_mqtt as paho;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::files;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Print the report as JSON (schema in docs/audit.md).
    #[arg(long)]
    json: bool,
}

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        }
    }
}

/// One check of the report.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Check {
    pub(crate) id: &'static str,
    pub(crate) status: Status,
    pub(crate) detail: String,
    pub(crate) fix: String,
}

fn check(
    id: &'static str,
    status: Status,
    detail: impl Into<String>,
    fix: impl Into<String>,
) -> Check {
    let fix = if status == Status::Pass || status == Status::Skip {
        String::new()
    } else {
        fix.into()
    };
    Check {
        id,
        status,
        detail: detail.into(),
        fix,
    }
}

#[derive(Debug, Serialize)]
struct BrokerInfo {
    address: String,
    transport: &'static str,
    protocol: String,
    username: String,
}

#[derive(Debug, Default, Serialize)]
struct Summary {
    pass: usize,
    warn: usize,
    fail: usize,
    skip: usize,
}

#[derive(Debug, Serialize)]
struct Report {
    schema: u32,
    broker: BrokerInfo,
    checks: Vec<Check>,
    summary: Summary,
}

/// Version of the JSON schema in docs/audit.md.
const SCHEMA: u32 = 1;
const FIX_ANONYMOUS: &str = "set `per_listener_settings true` and, in every listener, `allow_anonymous false` with a `password_file` (heat-diag provision writes such a config)";
const DISCOVERY_PREFIX: &str = "homeassistant";
const TLS_TIMEOUT: Duration = Duration::from_secs(5);
const SUBSCRIBE_WINDOW: Duration = Duration::from_secs(1);

pub(crate) fn run(settings: &Settings, args: &Args) -> ExitCode {
    let broker = settings.broker();
    let checks = run_checks(settings, &std::env::current_dir().unwrap_or_default());
    let mut summary = Summary::default();
    for c in &checks {
        match c.status {
            Status::Pass => summary.pass += 1,
            Status::Warn => summary.warn += 1,
            Status::Fail => summary.fail += 1,
            Status::Skip => summary.skip += 1,
        }
    }
    let clean = summary.warn == 0 && summary.fail == 0;
    let report = Report {
        schema: SCHEMA,
        broker: BrokerInfo {
            address: broker.broker_addr(),
            transport: if broker.tls().is_some() { "tls" } else { "tcp" },
            protocol: broker.protocol().to_string(),
            username: broker.credentials().username().as_str().to_owned(),
        },
        checks,
        summary,
    };
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => println!("{text}"),
            Err(err) => eprintln!("heat-diag: cannot serialise the report: {err}"),
        }
    } else {
        print_human(&report);
    }
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn print_human(report: &Report) {
    let b = &report.broker;
    println!(
        "audit of {} ({}, MQTT {}, user {})\n",
        b.address, b.transport, b.protocol, b.username
    );
    for c in &report.checks {
        println!("{}  {:<28} {}", c.status.label(), c.id, c.detail);
        if !c.fix.is_empty() {
            println!("      {:<28} fix: {}", "", c.fix);
        }
    }
    let s = &report.summary;
    println!(
        "\nsummary: {} pass, {} warn, {} fail, {} skip",
        s.pass, s.warn, s.fail, s.skip
    );
}

/// The same broker and credentials over another protocol version.
fn with_protocol(broker: &BrokerSettings, protocol: Protocol) -> BrokerSettings {
    BrokerSettings::new(
        broker.host(),
        broker.port(),
        protocol,
        broker.client_id().clone(),
        broker.credentials().clone(),
    )
    .with_tls(broker.tls().cloned())
    .with_timing(broker.keep_alive(), broker.connect_timeout())
}

pub(crate) fn run_checks(settings: &Settings, working_dir: &Path) -> Vec<Check> {
    let broker = settings.broker();
    let mut checks = Vec::new();

    // Authentication.
    let v311 = probe(&with_protocol(broker, Protocol::V311));
    let v5 = probe(&with_protocol(broker, Protocol::V5));
    checks.push(outcome_check(
        "anonymous_refused_v311",
        "anonymous MQTT 3.1.1 client",
        &v311.anonymous,
        FIX_ANONYMOUS,
    ));
    checks.push(outcome_check(
        "anonymous_refused_v5",
        "anonymous MQTT 5 client",
        &v5.anonymous,
        FIX_ANONYMOUS,
    ));
    checks.push(wrong_password_check(
        &v311.wrong_password,
        &v5.wrong_password,
    ));
    let own = broker
        .clone()
        .with_client_id(throwaway_client_id(broker.client_id(), "audit"));
    let accepted = create_client(&own).and_then(|client| {
        let result = connect(&client, &own, Identity::Configured, None);
        if result.is_ok() {
            let _ = client.disconnect();
        }
        result
    });
    let credentials_ok = accepted.is_ok();
    checks.push(match accepted {
        Ok(_) => check(
            "credentials_accepted",
            Status::Pass,
            "the configured user connects",
            "",
        ),
        Err(err) => check(
            "credentials_accepted",
            Status::Fail,
            format!("the configured user was refused: {err}"),
            err.fix(),
        ),
    });

    // Transport.
    checks.push(transport_check(broker.host(), broker.tls()));
    checks.extend(tls_checks(broker));

    // Least privilege.
    checks.extend(acl_checks(broker, settings.topic_prefix(), credentials_ok));

    // Local files.
    checks.extend(file_checks(broker, working_dir));
    checks
}

fn outcome_check(id: &'static str, who: &str, outcome: &ProbeOutcome, fix: &str) -> Check {
    match outcome {
        ProbeOutcome::Refused(err) => check(id, Status::Pass, format!("{who} refused ({err})"), ""),
        ProbeOutcome::Accepted => check(id, Status::Fail, format!("{who} ACCEPTED"), fix),
        ProbeOutcome::Inconclusive(err) => check(
            id,
            Status::Warn,
            format!("{who}: inconclusive ({err})"),
            err.fix(),
        ),
    }
}

fn wrong_password_check(v311: &ProbeOutcome, v5: &ProbeOutcome) -> Check {
    const ID: &str = "wrong_password_refused";
    let fix = "set a password_file and `allow_anonymous false`; check that the user's line is a $7$ line (heat-diag passwd)";
    match (v311, v5) {
        (ProbeOutcome::Refused(_), ProbeOutcome::Refused(_)) => check(
            ID,
            Status::Pass,
            "a wrong password for the configured user is refused (MQTT 3.1.1 and 5)",
            "",
        ),
        (ProbeOutcome::Accepted, _) | (_, ProbeOutcome::Accepted) => check(
            ID,
            Status::Fail,
            "a wrong password for the configured user was ACCEPTED",
            fix,
        ),
        (ProbeOutcome::Inconclusive(err), _) | (_, ProbeOutcome::Inconclusive(err)) => {
            check(ID, Status::Warn, format!("inconclusive ({err})"), err.fix())
        }
    }
}

/// True for 127.0.0.0/8, ::1 and `localhost`.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

pub(crate) fn transport_check(host: &str, tls: Option<&TlsSettings>) -> Check {
    const ID: &str = "transport_encrypted";
    match tls {
        Some(tls) if tls.verification == Verification::Insecure => check(
            ID,
            Status::Warn,
            "TLS without certificate verification (MQTT_TLS_INSECURE=true)",
            "set MQTT_CA_FILE to the broker's CA and remove MQTT_TLS_INSECURE",
        ),
        Some(_) => check(
            ID,
            Status::Pass,
            "TLS with chain and hostname verification",
            "",
        ),
        None if is_loopback_host(host) => check(
            ID,
            Status::Pass,
            format!("plain TCP, but {host} is loopback"),
            "",
        ),
        None => check(
            ID,
            Status::Warn,
            format!("plain TCP to {host}: the password crosses the network in clear text"),
            "use the broker's TLS listener: set MQTT_CA_FILE and MQTT_PORT=8883 (heat-diag provision writes one)",
        ),
    }
}

const X509_V_ERR_CERT_NOT_YET_VALID: i32 = 9;
const X509_V_ERR_CERT_HAS_EXPIRED: i32 = 10;
const X509_V_ERR_HOSTNAME_MISMATCH: i32 = 62;
const X509_V_ERR_IP_ADDRESS_MISMATCH: i32 = 64;

fn tls_checks(broker: &BrokerSettings) -> Vec<Check> {
    let ids = [
        "tls_chain_valid",
        "tls_hostname_matches",
        "tls_certificate_expiry",
        "tls_protocol_version",
    ];
    let Some(tls) = broker.tls() else {
        return ids
            .iter()
            .map(|id| check(id, Status::Skip, "no TLS configured", ""))
            .collect();
    };
    let verified = inspect(broker, TLS_TIMEOUT);
    // An unverified handshake still shows the protocol and the expiry date.
    let unverified = match &verified {
        Ok(info) => Ok(info.clone()),
        Err(_) => {
            let mut loose = tls.clone();
            loose.verification = Verification::Insecure;
            inspect(&broker.clone().with_tls(Some(loose)), TLS_TIMEOUT)
        }
    };
    let (chain, hostname) = match &verified {
        Ok(_) => (
            check(
                ids[0],
                Status::Pass,
                "the chain verifies against the configured trust anchor",
                "",
            ),
            check(
                ids[1],
                Status::Pass,
                format!("the certificate names {}", broker.host()),
                "",
            ),
        ),
        Err(problem @ TlsProblem::Certificate { code, reason }) => match *code {
            X509_V_ERR_CERT_HAS_EXPIRED | X509_V_ERR_CERT_NOT_YET_VALID => (
                check(
                    ids[0],
                    Status::Pass,
                    "the chain leads to the trusted CA (but see the expiry)",
                    "",
                ),
                check(
                    ids[1],
                    Status::Pass,
                    format!("the certificate names {}", broker.host()),
                    "",
                ),
            ),
            X509_V_ERR_HOSTNAME_MISMATCH | X509_V_ERR_IP_ADDRESS_MISMATCH => (
                check(
                    ids[0],
                    Status::Pass,
                    "the chain leads to the trusted CA",
                    "",
                ),
                check(
                    ids[1],
                    Status::Fail,
                    format!("{reason}: the certificate does not name {}", broker.host()),
                    problem.fix(),
                ),
            ),
            _ => (
                check(ids[0], Status::Fail, reason.clone(), problem.fix()),
                check(
                    ids[1],
                    Status::Skip,
                    "not checked: the chain failed first",
                    "",
                ),
            ),
        },
        Err(problem) => (
            check(ids[0], Status::Fail, problem.to_string(), problem.fix()),
            check(ids[1], Status::Skip, "not checked: no handshake", ""),
        ),
    };
    let (expiry, protocol) = match unverified {
        Ok(PeerInfo {
            protocol,
            days_left,
            ..
        }) => (
            expiry_check(ids[2], days_left),
            protocol_check(ids[3], &protocol),
        ),
        Err(problem) => (
            check(ids[2], Status::Skip, format!("not checked: {problem}"), ""),
            check(ids[3], Status::Skip, format!("not checked: {problem}"), ""),
        ),
    };
    vec![chain, hostname, expiry, protocol]
}

/// Days before expiry that warn.
const EXPIRY_WARN_DAYS: i64 = 30;

pub(crate) fn expiry_check(id: &'static str, days_left: i64) -> Check {
    let fix = "renew the server certificate (heat-diag provision --force writes a new CA and certificates)";
    if days_left < 0 {
        check(
            id,
            Status::Fail,
            format!("the server certificate EXPIRED {} days ago", -days_left),
            fix,
        )
    } else if days_left < EXPIRY_WARN_DAYS {
        check(
            id,
            Status::Warn,
            format!("the server certificate expires in {days_left} days"),
            fix,
        )
    } else {
        check(
            id,
            Status::Pass,
            format!("the server certificate is valid for {days_left} more days"),
            "",
        )
    }
}

pub(crate) fn protocol_check(id: &'static str, protocol: &str) -> Check {
    match protocol {
        "TLSv1.2" | "TLSv1.3" => check(id, Status::Pass, format!("negotiated {protocol}"), ""),
        other => check(
            id,
            Status::Fail,
            format!("negotiated {other}, older than TLS 1.2"),
            "set `tls_version tlsv1.2` on the broker's TLS listener",
        ),
    }
}

fn acl_checks(broker: &BrokerSettings, prefix: &str, credentials_ok: bool) -> Vec<Check> {
    const PUBLISH: &str = "acl_publish_outside_prefix";
    const SUBSCRIBE: &str = "acl_subscribe_all";
    if !credentials_ok {
        return vec![
            check(
                PUBLISH,
                Status::Skip,
                "not checked: the configured user cannot connect",
                "",
            ),
            check(
                SUBSCRIBE,
                Status::Skip,
                "not checked: the configured user cannot connect",
                "",
            ),
        ];
    }
    let v5 = with_protocol(broker, Protocol::V5)
        .with_client_id(throwaway_client_id(broker.client_id(), "acl"));
    let client = match create_client(&v5) {
        Ok(client) => client,
        Err(err) => {
            return vec![
                check(
                    PUBLISH,
                    Status::Warn,
                    format!("not checked: {err}"),
                    err.fix(),
                ),
                check(
                    SUBSCRIBE,
                    Status::Warn,
                    format!("not checked: {err}"),
                    err.fix(),
                ),
            ];
        }
    };
    if let Err(err) = connect(&client, &v5, Identity::Configured, None) {
        return vec![
            check(
                PUBLISH,
                Status::Warn,
                format!("not checked: MQTT 5 connect failed: {err}"),
                err.fix(),
            ),
            check(
                SUBSCRIBE,
                Status::Warn,
                format!("not checked: MQTT 5 connect failed: {err}"),
                err.fix(),
            ),
        ];
    }
    let fix_acl = format!(
        "give the user an acl_file block with only `topic readwrite {prefix}/#`, `topic write {DISCOVERY_PREFIX}/#` and `topic read {DISCOVERY_PREFIX}/status` (heat-diag provision writes one)"
    );
    let received = client.inbox();
    let subscribed = client.subscribe(&["#".to_owned()], QoS::AtMostOnce);

    // Non-retained on purpose: a probe must leave nothing behind on the broker.
    let topic = format!("heat-diag-audit/{:016x}", rand::random::<u64>());
    let publish = client.publish(&Publish::new(
        &topic,
        "heat-diag audit probe",
        // QoS 1, so that MQTT 5 answers a denied publish with PUBACK 0x87.
        QoS::AtLeastOnce,
        false,
    ));
    let publish_check = match publish {
        Err(paho::Error::ReasonCode(code, _)) if code as u8 == 0x87 => check(
            PUBLISH,
            Status::Pass,
            format!("QoS 1 publish to {topic} denied (PUBACK 0x87 not authorised)"),
            "",
        ),
        Ok(()) => check(
            PUBLISH,
            Status::Warn,
            format!("QoS 1 publish to {topic} was accepted: the user may write outside {prefix}/"),
            fix_acl.clone(),
        ),
        Err(err) => check(
            PUBLISH,
            Status::Warn,
            format!("QoS 1 publish to {topic} failed unexpectedly: {err}"),
            fix_acl.clone(),
        ),
    };

    let subscribe_check = match subscribed {
        Err(err) => check(
            SUBSCRIBE,
            Status::Pass,
            format!("subscription to # refused: {err}"),
            "",
        ),
        Ok(_) => {
            let mut foreign: Vec<String> = Vec::new();
            let deadline = Instant::now() + SUBSCRIBE_WINDOW;
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                match received.recv_timeout(left) {
                    Ok(Incoming::Message { topic: t, .. }) => {
                        let t = t.as_str();
                        let own = t.starts_with(&format!("{prefix}/"))
                            || t.starts_with(&format!("{DISCOVERY_PREFIX}/"));
                        if !own && !foreign.iter().any(|f| f == t) {
                            foreign.push(t.to_owned());
                        }
                    }
                    Ok(Incoming::Lost | Incoming::Disconnected(_)) | Err(_) => break,
                }
            }
            if foreign.is_empty() {
                check(
                    SUBSCRIBE,
                    Status::Pass,
                    format!(
                        "a subscription to # delivered nothing outside {prefix}/ and {DISCOVERY_PREFIX}/ within 1 s"
                    ),
                    "",
                )
            } else {
                foreign.truncate(5);
                check(
                    SUBSCRIBE,
                    Status::Warn,
                    format!(
                        "a subscription to # delivered topics outside {prefix}/ and {DISCOVERY_PREFIX}/: {}",
                        foreign.join(", ")
                    ),
                    format!("limit the user's `read` grants: {fix_acl}"),
                )
            }
        }
    };
    let _ = client.disconnect();
    vec![publish_check, subscribe_check]
}

fn mode_check(id: &'static str, what: &str, path: Option<PathBuf>) -> Check {
    let Some(path) = path else {
        return check(id, Status::Skip, format!("no {what} configured"), "");
    };
    match files::loose_bits(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => check(
            id,
            Status::Skip,
            format!("{} does not exist", path.display()),
            "",
        ),
        Err(e) => check(
            id,
            Status::Warn,
            format!("cannot read the mode of {}: {e}", path.display()),
            "check the path and its directory",
        ),
        Ok(0) => check(
            id,
            Status::Pass,
            format!("{} is private to its owner", path.display()),
            "",
        ),
        Ok(bits) => check(
            id,
            Status::Fail,
            format!(
                "{} ({what}) is open to group or others (mode bits {bits:03o})",
                path.display()
            ),
            format!("chmod 600 {}", path.display()),
        ),
    }
}

/// `MQTT_PASSWORD_FILE` from the environment, else from `.env` (relative to the working dir).
fn password_file(working_dir: &Path) -> Option<PathBuf> {
    let value = std::env::var("MQTT_PASSWORD_FILE").ok().or_else(|| {
        let text = Zeroizing::new(std::fs::read_to_string(working_dir.join(".env")).ok()?);
        text.lines().find_map(|line| {
            let value = line.trim().strip_prefix("MQTT_PASSWORD_FILE=")?;
            Some(value.trim().trim_matches(['"', '\'']).to_owned())
        })
    })?;
    (!value.is_empty()).then(|| working_dir.join(value))
}

fn file_checks(broker: &BrokerSettings, working_dir: &Path) -> Vec<Check> {
    let key = broker
        .tls()
        .and_then(|t| t.client_cert.as_ref())
        .map(|c| c.key_file.clone());
    vec![
        mode_check(
            "file_dotenv_private",
            ".env",
            Some(working_dir.join(".env")),
        ),
        mode_check(
            "file_password_private",
            "MQTT_PASSWORD_FILE",
            password_file(working_dir),
        ),
        mode_check("file_private_key_private", "MQTT_KEY_FILE", key),
    ]
}

#[cfg(test)]
mod tests;
