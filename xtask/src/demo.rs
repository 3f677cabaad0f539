//! `cargo xtask demo`: a private, authenticated Mosquitto (password file and TLS) under
//! `target/demo`, and `heat-diag connect` against it over TLS and plain TCP.
//!
//! Later work grows this into the full demo with the controller on a simulated plant.

use std::{fs, io::Read, path::Path, process::Command};

use anyhow::{Context, Result, bail};
use test_mosquitto::{BrokerBuilder, Pki, TlsListener, Validity, write_private};

use crate::system::{self, cargo, project_root, run};

const USER: &str = "heat-controller";

fn random_password() -> Result<String> {
    let mut bytes = [0u8; 24];
    fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

pub(crate) fn demo(args: &[String]) -> Result<()> {
    if !args.is_empty() {
        bail!("`cargo xtask demo` takes no arguments yet (got {args:?})");
    }
    system::ensure_packages(&system::TEST_PACKAGES)?;
    let root = project_root();
    println!("==> building heat-diag");
    run(cargo()
        .current_dir(&root)
        .args(["build", "--quiet", "--package", "heat-diag"]))?;
    let heat_diag = root.join("target/debug/heat-diag");

    let demo = root.join("target/demo");
    if demo.exists() {
        fs::remove_dir_all(&demo).context("cannot clear target/demo")?;
    }
    fs::create_dir_all(&demo)?;
    let pki = Pki::new(&demo, "demo").context("cannot create the demo CA")?;
    let server = pki.server("broker", &["localhost", "127.0.0.1"], Validity::Current)?;
    let password = random_password()?;
    let password_file = demo.join("mqtt_password");
    write_private(&password_file, &password)?;

    println!("==> starting a private Mosquitto (no anonymous access, password file, TLS)");
    let broker = BrokerBuilder::new()
        .user(USER, &password)
        .tls(TlsListener {
            ca_file: pki.ca_file().to_owned(),
            server,
            require_certificate: false,
        })
        .start()
        .context("cannot start Mosquitto")?;
    println!(
        "    plain listener 127.0.0.1:{}, TLS listener localhost:{}",
        broker.port(),
        broker.tls_port()
    );

    let tls_port = broker.tls_port().to_string();
    let plain_port = broker.port().to_string();
    let ca = pki.ca_file().display().to_string();
    let pw = password_file.display().to_string();
    let runs: [(&str, Vec<(&str, &str)>); 2] = [
        (
            "TLS, MQTT 5",
            vec![
                ("MQTT_BROKER", "localhost"),
                ("MQTT_PORT", &tls_port),
                ("MQTT_CA_FILE", &ca),
                ("MQTT_VERSION", "5"),
            ],
        ),
        (
            "plain TCP on loopback, MQTT 3.1.1",
            vec![
                ("MQTT_BROKER", "127.0.0.1"),
                ("MQTT_PORT", &plain_port),
                ("MQTT_VERSION", "3.1.1"),
            ],
        ),
    ];
    for (what, env) in runs {
        println!("\n==> heat-diag connect ({what})");
        run_diag(&heat_diag, &demo, &env, &pw)?;
    }
    println!(
        "\n==> the broker saw {} connection attempts; stopping it",
        broker.connection_attempts()
    );
    drop(broker);
    Ok(())
}

fn run_diag(heat_diag: &Path, dir: &Path, env: &[(&str, &str)], password_file: &str) -> Result<()> {
    run(Command::new(heat_diag)
        .arg("connect")
        .current_dir(dir)
        .env("MQTT_USERNAME", USER)
        .env("MQTT_PASSWORD_FILE", password_file)
        .env("MQTT_CLIENT_ID", "solar-heating-demo")
        .env("RUST_LOG", "info")
        .envs(env.iter().copied()))
}
