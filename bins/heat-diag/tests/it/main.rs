//! End-to-end tests of the `heat-diag` binary: exit codes, output, and a real Mosquitto.
//!
//! The binary runs with a cleared environment in its own temp dir, so neither the developer's
//! variables nor a stray `.env` leak in.

mod audit;
mod check_config;
mod connect;
mod generate;
mod passwd;
mod provision;
mod relay;
mod secrets;
mod sensors;
mod version;

use std::{
    fs,
    io::Write,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    thread,
    time::{Duration, Instant},
};

use test_mosquitto::free_port;

/// Runs heat-diag with exactly `env`, in `dir`.
fn heat_diag(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_heat-diag"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("heat-diag runs")
}

/// Runs heat-diag with exactly `env`, in `dir`, feeding `stdin`.
fn heat_diag_stdin(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_heat-diag"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("heat-diag runs");
    // heat-diag may refuse before it reads stdin (a bad file, say) and exit: a broken pipe here is
    // its answer, not the test's failure.
    match child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.unwrap(),
    }
    child.wait_with_output().unwrap()
}

/// stdout and stderr together.
fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Writes `text` into `dir/name` with `mode`.
fn write_file(dir: &Path, name: &str, text: &str, mode: u32) -> String {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    path.display().to_string()
}

/// A Mosquitto started from a config file; killed when dropped.
struct Mosquitto {
    child: Child,
    log: PathBuf,
}

impl Mosquitto {
    /// Starts `mosquitto -c conf` and waits until `log` says it is running.
    fn start(conf: &Path, log: &Path) -> Self {
        let program = test_mosquitto::find_program("mosquitto").unwrap();
        let child = Command::new(program)
            .arg("-c")
            .arg(conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto starts");
        let mut broker = Self {
            child,
            log: log.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !broker.log().contains(" running") {
            if let Ok(Some(status)) = broker.child.try_wait() {
                panic!("mosquitto exited with {status}:\n{}", broker.log());
            }
            assert!(
                Instant::now() < deadline,
                "mosquitto did not start:\n{}",
                broker.log()
            );
            thread::sleep(Duration::from_millis(20));
        }
        broker
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The log once `holds` is true of it, or as it is after `within`. Mosquitto logs a refusal
    /// as it closes the socket, which can be after the client has read the CONNACK: a test that
    /// counts what the broker logged waits for it with this, then asserts.
    fn log_once(&self, holds: impl Fn(&str) -> bool, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let log = self.log();
            if holds(&log) || Instant::now() >= deadline {
                return log;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A provisioned directory with its broker running.
struct Provisioned {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    tls_port: u16,
    plain_port: u16,
    broker: Mosquitto,
    /// Output of `heat-diag provision`.
    output: Output,
}

impl Provisioned {
    /// The generated password of `user`.
    fn password(&self, user: &str) -> String {
        fs::read_to_string(self.dir.join(format!("secrets/{user}.password")))
            .unwrap()
            .trim_end()
            .to_owned()
    }

    /// Every generated password.
    fn passwords(&self) -> Vec<String> {
        fs::read_dir(self.dir.join("secrets"))
            .unwrap()
            .map(|e| {
                fs::read_to_string(e.unwrap().path())
                    .unwrap()
                    .trim_end()
                    .to_owned()
            })
            .collect()
    }
}

/// Provisions a temp dir (test-only additions: loopback binds, random ports, a log file and
/// `user root`, see FACTS.md) plus `extra` arguments, and starts its broker.
fn provisioned(extra: &[&str]) -> Provisioned {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mqtt");
    let (tls_port, plain_port) = (free_port().unwrap(), free_port().unwrap());
    let log = tmp.path().join("mosquitto.log");
    let (tls, plain) = (tls_port.to_string(), plain_port.to_string());
    let mut args = vec![
        "provision",
        dir.to_str().unwrap(),
        "--tls-port",
        &tls,
        "--tls-bind",
        "127.0.0.1",
        "--plain-port",
        &plain,
        "--broker-host",
        "127.0.0.1",
        "--run-as-user",
        "root",
        "--log-file",
        log.to_str().unwrap(),
        "--iterations",
        "10000",
    ];
    args.extend_from_slice(extra);
    let output = heat_diag(tmp.path(), &args, &[("RUST_LOG", "trace")]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let broker = Mosquitto::start(&dir.join("mosquitto.conf"), &log);
    Provisioned {
        _tmp: tmp,
        dir,
        tls_port,
        plain_port,
        broker,
        output,
    }
}

/// A working dir holding the provisioned controller.env as `.env` (mode 0600).
fn controller_workdir(p: &Provisioned) -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    let env = fs::read_to_string(p.dir.join("controller.env")).unwrap();
    write_file(work.path(), ".env", &env, 0o600);
    work
}
