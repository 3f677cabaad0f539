//! `heat-diag provision <dir>`: a hardened Mosquitto setup for this system — config, `$7$`
//! password file, least-privilege ACL, private CA and certificates, generated passwords and the
//! controller's `.env`. With `--snippet`, only what an existing broker needs (see [`snippet`]).
//!
//! Everything is generated in memory first and only then written, so a refusal (an existing
//! file without `--force`) leaves the directory as it was.

mod snippet;

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::Context;
use heat_mqtt::Topics;
use mosquitto_setup::{
    BrokerConfig, Ca, DEFAULT_ITERATIONS, PlainListener, ServiceTopics, TlsListener, Validity,
    acl_text, config_text, home_assistant_acl,
};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::{EXIT_CONFIG, files};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Directory to write into (created if missing).
    dir: PathBuf,
    /// Write only what an existing Mosquitto needs: the controller's user, its ACL block (merged
    /// into --existing-acl when given) and the broker config lines, for the broker of --for.
    #[arg(long, conflicts_with_all = [
        "tls_port", "tls_bind", "require_certificate", "plain_port", "server_names",
        "readonly_user", "run_as_user", "log_file", "max_connections",
        "max_packet_size",
    ])]
    snippet: bool,
    /// The broker the snippet is for.
    #[arg(long = "for", value_enum, default_value_t = snippet::Target::Debian, requires = "snippet")]
    target: snippet::Target,
    /// The broker's current ACL file: the snippet's ACL is this file with the controller's block
    /// merged in, every other user's rules kept as they are.
    #[arg(long, value_name = "FILE", requires = "snippet")]
    existing_acl: Option<PathBuf>,
    /// Debian target: Mosquitto's config directory, as named in the generated conf.d file.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "/etc/mosquitto",
        requires = "snippet"
    )]
    mosquitto_dir: PathBuf,
    /// Home Assistant add-on target: the `customize.folder` of the add-on, under /share.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "mosquitto",
        requires = "snippet"
    )]
    addon_folder: String,
    /// Home Assistant's discovery prefix ([controller] discovery_prefix).
    #[arg(long, default_value = heat_config::DEFAULT_DISCOVERY_PREFIX)]
    discovery_prefix: String,
    /// Port of the TLS listener.
    #[arg(long, default_value_t = 8883)]
    tls_port: u16,
    /// Address the TLS listener binds to (default: every interface).
    #[arg(long, value_name = "ADDR")]
    tls_bind: Option<String>,
    /// Clients must present a certificate from the private CA (mutual TLS).
    #[arg(long)]
    require_certificate: bool,
    /// Also open a plain listener on 127.0.0.1 at this port.
    #[arg(long, value_name = "PORT")]
    plain_port: Option<u16>,
    /// Name (DNS or IP) in the server certificate; repeat for several.
    #[arg(long = "server-name", value_name = "NAME", default_values_t = ["localhost".to_owned(), "127.0.0.1".to_owned()])]
    server_names: Vec<String>,
    /// Broker host written to the controller's .env (default: the first --server-name; with
    /// --snippet, localhost).
    #[arg(long, value_name = "HOST")]
    broker_host: Option<String>,
    /// The controller's username.
    #[arg(long, default_value = "heat-controller")]
    controller_user: String,
    /// Home Assistant's username.
    #[arg(long, default_value = "homeassistant")]
    homeassistant_user: String,
    /// An extra user that may only read the controller's topics.
    #[arg(long, value_name = "NAME")]
    readonly_user: Option<String>,
    /// The controller's topic prefix.
    #[arg(long, default_value = heat_config::DEFAULT_TOPIC_PREFIX)]
    topic_prefix: String,
    /// PBKDF2 iterations of the password hashes.
    #[arg(long, default_value_t = DEFAULT_ITERATIONS, value_parser = clap::value_parser!(u32).range(10_000..=10_000_000))]
    iterations: u32,
    /// `user` line of mosquitto.conf (default: none, Mosquitto drops to user `mosquitto`).
    #[arg(long, value_name = "USER")]
    run_as_user: Option<String>,
    /// Log to this file instead of stderr.
    #[arg(long, value_name = "PATH")]
    log_file: Option<PathBuf>,
    /// `max_connections` per listener.
    #[arg(long, default_value_t = 32)]
    max_connections: u32,
    /// Largest MQTT packet the broker accepts, in bytes.
    #[arg(long, default_value_t = 262_144)]
    max_packet_size: u32,
    /// Overwrite existing files.
    #[arg(long)]
    force: bool,
    /// Print what was written as JSON.
    #[arg(long)]
    json: bool,
}

/// One file to write.
struct Output {
    path: PathBuf,
    contents: Zeroizing<Vec<u8>>,
    mode: u32,
    what: String,
}

/// A strong random password: 32 bytes from OpenSSL's random source, base64url without padding.
pub(crate) fn random_password() -> anyhow::Result<SecretString> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    openssl::rand::rand_bytes(bytes.as_mut_slice()).context("no random bytes")?;
    let encoded = Zeroizing::new(openssl::base64::encode_block(bytes.as_slice()));
    let url: String = encoded
        .chars()
        .filter(|c| *c != '=')
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    Ok(SecretString::from(url))
}

/// The topics of the controller's ACL block.
fn service_topics<'a>(topics: &'a Topics, node_id: &'a str) -> ServiceTopics<'a> {
    ServiceTopics {
        prefix: topics.prefix(),
        discovery_prefix: topics.discovery_prefix(),
        node_id,
    }
}

/// Creates `dirs` (each with its mode), then writes `outputs`, refusing to overwrite a file that
/// exists unless `force`. `Ok(Some(code))` when it refused (the message is printed; nothing is
/// written); `what` names the whole (`setup`, `snippet`) in that message.
fn write_outputs(
    dirs: &[(PathBuf, u32)],
    outputs: &[Output],
    force: bool,
    what: &str,
) -> anyhow::Result<Option<ExitCode>> {
    if !force && let Some(existing) = outputs.iter().find(|o| o.path.exists()) {
        eprintln!(
            "heat-diag: refusing to overwrite {}: it exists; pass --force to replace the {what}",
            existing.path.display()
        );
        return Ok(Some(ExitCode::from(EXIT_CONFIG)));
    }
    for (dir, mode) in dirs {
        files::dir(dir, *mode)?;
    }
    for output in outputs {
        match files::write(&output.path, &output.contents, output.mode, force) {
            Ok(()) => {}
            // Created between the check and the write: still refused, never replaced.
            Err(err @ files::WriteError::Exists(_)) => {
                eprintln!("heat-diag: {err}");
                return Ok(Some(ExitCode::from(EXIT_CONFIG)));
            }
            Err(err) => return Err(err.into()),
        }
    }
    Ok(None)
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    // The controller's own validation, so the ACL never grants topics it would refuse.
    let topics = match Topics::new(&args.topic_prefix, &args.discovery_prefix) {
        Ok(topics) => topics,
        Err(e) => {
            eprintln!("heat-diag: --topic-prefix / --discovery-prefix: {e}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    };
    if args.snippet {
        return snippet::run(args, &topics);
    }
    let mut users = vec![
        args.controller_user.clone(),
        args.homeassistant_user.clone(),
    ];
    users.extend(args.readonly_user.clone());
    for (i, user) in users.iter().enumerate() {
        if !mosquitto_setup::passwd::valid_username(user) || users[..i].contains(user) {
            eprintln!("heat-diag: username {user:?} is invalid or given twice");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    }
    let Some(first_name) = args.server_names.first() else {
        eprintln!("heat-diag: give at least one --server-name");
        return Ok(ExitCode::from(EXIT_CONFIG));
    };
    let dir = std::path::absolute(&args.dir).context("cannot resolve the directory")?;
    let outputs = match generate(args, &topics, &dir, &users, first_name) {
        Ok(outputs) => outputs,
        Err(err) => {
            eprintln!("heat-diag: {err:#}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    };
    let dirs = [
        (dir.clone(), 0o755),
        (dir.join("certs"), 0o755),
        (dir.join("secrets"), 0o700),
        (dir.join("data"), 0o700),
    ];
    if let Some(refused) = write_outputs(&dirs, &outputs, args.force, "setup")? {
        return Ok(refused);
    }
    report(args, &dir, &users, &outputs);
    Ok(ExitCode::SUCCESS)
}

fn generate(
    args: &Args,
    topics: &Topics,
    dir: &Path,
    users: &[String],
    first_name: &str,
) -> anyhow::Result<Vec<Output>> {
    let certs = dir.join("certs");
    let secrets = dir.join("secrets");
    let mut out = Vec::new();
    let mut add = |path: PathBuf, contents: &[u8], mode: u32, what: String| {
        out.push(Output {
            path,
            contents: Zeroizing::new(contents.to_vec()),
            mode,
            what,
        });
    };

    // Certificates.
    let ca = Ca::new("heat-diag MQTT CA", Validity::ExpiresInDays(3650))?;
    let names: Vec<&str> = args.server_names.iter().map(String::as_str).collect();
    let server = ca.server(&names, Validity::ExpiresInDays(825))?;
    add(
        certs.join("ca.crt"),
        ca.cert_pem().as_bytes(),
        0o644,
        "CA certificate".into(),
    );
    add(
        certs.join("ca.key"),
        ca.key_pem().as_bytes(),
        0o600,
        "CA private key (keep offline)".into(),
    );
    add(
        certs.join("server.crt"),
        server.cert_pem.as_bytes(),
        0o644,
        format!("server certificate for {}", names.join(", ")),
    );
    add(
        certs.join("server.key"),
        server.key_pem.as_bytes(),
        0o600,
        "server private key".into(),
    );
    for user in [&args.controller_user, &args.homeassistant_user] {
        let client = ca.client(user, Validity::ExpiresInDays(825))?;
        add(
            certs.join(format!("{user}.crt")),
            client.cert_pem.as_bytes(),
            0o644,
            format!("client certificate of {user}"),
        );
        add(
            certs.join(format!("{user}.key")),
            client.key_pem.as_bytes(),
            0o600,
            format!("client private key of {user}"),
        );
    }

    // Passwords and the password file.
    let mut passwd = mosquitto_setup::PasswdFile::new();
    for user in users {
        let password = random_password()?;
        passwd.set(&mosquitto_setup::PasswordLine::hash(
            user,
            &password,
            args.iterations,
        )?);
        let mut text = Zeroizing::new(password.expose_secret().to_owned());
        text.push('\n');
        add(
            secrets.join(format!("{user}.password")),
            text.as_bytes(),
            0o600,
            format!("password of {user}"),
        );
    }
    let passwd_path = dir.join("passwd");
    add(
        passwd_path.clone(),
        passwd.to_text().as_bytes(),
        0o600,
        format!(
            "{} users, $7$ with {} iterations",
            users.len(),
            args.iterations
        ),
    );

    // ACL and config.
    let node_id = topics.node_id();
    let acl = acl_text(&home_assistant_acl(
        &service_topics(topics, &node_id),
        &args.controller_user,
        &args.homeassistant_user,
        args.readonly_user.as_deref(),
    )?)?;
    let acl_path = dir.join("acl");
    add(
        acl_path.clone(),
        acl.as_bytes(),
        0o644,
        "least-privilege ACL".into(),
    );
    let config = BrokerConfig {
        password_file: passwd_path,
        acl_file: acl_path,
        persistence_dir: dir.join("data"),
        tls: TlsListener {
            port: args.tls_port,
            bind: args.tls_bind.clone(),
            cafile: certs.join("ca.crt"),
            certfile: certs.join("server.crt"),
            keyfile: certs.join("server.key"),
            require_certificate: args.require_certificate,
        },
        plain: args.plain_port.map(|port| PlainListener { port }),
        max_connections: args.max_connections,
        max_packet_size: args.max_packet_size,
        log_file: args
            .log_file
            .as_deref()
            .map(std::path::absolute)
            .transpose()?,
        run_as_user: args.run_as_user.clone(),
    };
    let listeners = match args.plain_port {
        Some(port) => format!("TLS :{}, plain 127.0.0.1:{port}", args.tls_port),
        None => format!("TLS :{}", args.tls_port),
    };
    add(
        dir.join("mosquitto.conf"),
        config_text(&config)?.as_bytes(),
        0o644,
        format!("broker config ({listeners})"),
    );

    // The controller's .env.
    let user = &args.controller_user;
    let env = format!(
        "# The controller's MQTT settings (generated by heat-diag provision).\n\
         MQTT_BROKER={}\nMQTT_PORT={}\nMQTT_USERNAME={user}\nMQTT_PASSWORD_FILE={}\n\
         MQTT_CA_FILE={}\nMQTT_CERT_FILE={}\nMQTT_KEY_FILE={}\nMQTT_VERSION=5\nMQTT_TOPIC_PREFIX={}\n",
        args.broker_host.as_deref().unwrap_or(first_name),
        args.tls_port,
        secrets.join(format!("{user}.password")).display(),
        certs.join("ca.crt").display(),
        certs.join(format!("{user}.crt")).display(),
        certs.join(format!("{user}.key")).display(),
        args.topic_prefix,
    );
    add(
        dir.join("controller.env"),
        env.as_bytes(),
        0o600,
        "the controller's .env".into(),
    );
    Ok(out)
}

fn report(args: &Args, dir: &Path, users: &[String], outputs: &[Output]) {
    if args.json {
        let files: Vec<_> = outputs
            .iter()
            .map(|o| {
                serde_json::json!({
                    "path": o.path.display().to_string(),
                    "mode": format!("{:04o}", o.mode),
                    "what": o.what,
                })
            })
            .collect();
        let value =
            serde_json::json!({ "dir": dir.display().to_string(), "users": users, "files": files });
        println!("{value:#}");
        return;
    }
    println!("provisioned {}", dir.display());
    for o in outputs {
        let name = o.path.strip_prefix(dir).unwrap_or(&o.path);
        println!("  {:<32} {:04o}  {}", name.display(), o.mode, o.what);
    }
    println!(
        "\nnext steps:\n  \
         - move certs/ca.key off this machine; it is only needed to issue new certificates\n  \
         - run `mosquitto -c {conf}`; without `user` in the config Mosquitto runs as user `mosquitto`, \
         which must own passwd and certs/server.key: `chown mosquitto: {dir}/passwd {dir}/certs/server.key {dir}/data`\n  \
         - on the controller: install secrets/{ctl}.password as /etc/heat-controller/mqtt_password \
         (root, 0600) and certs/ca.crt as /etc/heat-controller/ca.crt, and put the lines of \
         controller.env in /etc/heat-controller/heat.env with MQTT_CA_FILE=/etc/heat-controller/ca.crt \
         and without MQTT_PASSWORD_FILE (dist/mosquitto/README)\n  \
         - give Home Assistant secrets/{ha}.password and certs/ca.crt (and its client certificate)",
        conf = dir.join("mosquitto.conf").display(),
        dir = dir.display(),
        ha = args.homeassistant_user,
        ctl = args.controller_user,
    );
}
