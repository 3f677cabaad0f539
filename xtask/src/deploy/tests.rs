//! Tests of deploy: argument parsing, the dry run, and an end-to-end deploy over a private sshd
//! on 127.0.0.1 into a temporary root, watched on a real authenticated Mosquitto.
//!
//! The fake service manager "starts" the installed heat-controller, which here is a shell script:
//! a good version publishes a retained `online` with mosquitto_pub (credentials from its own
//! `$XDG_CONFIG_HOME/mosquitto_pub`, never argv), a bad one never does.

use std::{
    fs,
    net::TcpStream,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use test_mosquitto::{Broker, BrokerBuilder, free_port};

use super::*;
use crate::{dist, system};

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn parses_every_option() {
    let opts = DeployOptions::parse(&args(&[
        "--host",
        "pi@board.lan",
        "--port=2222",
        "--identity",
        "/k",
        "--ssh-option",
        "StrictHostKeyChecking=accept-new",
        "--target",
        "aarch64-unknown-linux-gnu",
        "--bundle",
        "/b/heat-controller-x",
        "--dry-run",
        "--online-timeout",
        "10",
        "--mqtt-options",
        "/m",
        "--topic-prefix",
        "garage/heat",
        "--sudo",
        "doas",
        "--service-manager",
        "/bin/fake",
        "--remote-root",
        "/tmp/r",
    ]))
    .unwrap();
    assert_eq!(opts.host, "pi@board.lan");
    assert_eq!(opts.port, Some(2222));
    assert_eq!(opts.identity.as_deref(), Some(Path::new("/k")));
    assert_eq!(opts.ssh_options, ["StrictHostKeyChecking=accept-new"]);
    assert_eq!(opts.target.as_deref(), Some("aarch64-unknown-linux-gnu"));
    assert!(opts.dry_run);
    assert_eq!(opts.online_timeout, Duration::from_secs(10));
    assert_eq!(opts.topic_prefix, "garage/heat");
    assert_eq!(opts.sudo(), "doas");
    assert_eq!(opts.service_manager, "/bin/fake");
    assert_eq!(opts.remote_root.as_deref(), Some("/tmp/r"));
}

#[test]
fn sudo_defaults_to_non_interactive_sudo_except_for_root() {
    let pi = DeployOptions::parse(&args(&["--host", "pi@b"])).unwrap();
    assert_eq!(pi.sudo(), "sudo -n");
    assert_eq!(pi.online_timeout, Duration::from_secs(60));
    assert_eq!(pi.topic_prefix, "solar_heating");
    let root = DeployOptions::parse(&args(&["--host", "root@b"])).unwrap();
    assert_eq!(root.sudo(), "");
    let none = DeployOptions::parse(&args(&["--host", "pi@b", "--sudo", ""])).unwrap();
    assert_eq!(none.sudo(), "");
}

#[test]
fn refuses_bad_arguments_with_the_reason() {
    for (given, expected) in [
        (vec![], "--host USER@HOST is required"),
        (vec!["--host", "-oProxyCommand=x"], "is not USER@HOST"),
        (vec!["--host"], "--host needs a value"),
        (vec!["--host", "a@b", "--port", "0"], "is not a port"),
        (
            vec!["--host", "a@b", "--online-timeout", "soon"],
            "is not a number of seconds",
        ),
        (
            vec!["--host", "a@b", "--topic-prefix", "a/#"],
            "is not a topic prefix",
        ),
        (
            vec!["--host", "a@b", "--service-manager", " "],
            "must not be empty",
        ),
        (
            vec!["--host", "a@b", "--target", "a b"],
            "not a target triple",
        ),
        (
            vec!["--host", "a@b", "--frobnicate", "1"],
            "does not know \"--frobnicate\"",
        ),
    ] {
        let err = DeployOptions::parse(&args(&given)).unwrap_err();
        assert!(format!("{err:#}").contains(expected), "{given:?}: {err:#}");
    }
}

#[test]
fn quotes_for_the_remote_shell() {
    assert_eq!(sh_quote("/tmp/a b"), "'/tmp/a b'");
    assert_eq!(sh_quote("it's"), r"'it'\''s'");
    let mut opts = DeployOptions::new("pi@b");
    opts.remote_root = Some("/tmp/r oot".to_owned());
    let mut transcript = Vec::new();
    let d = Deployer {
        opts: &opts,
        transcript: &mut transcript,
    };
    assert_eq!(
        d.install_command("/tmp/heat-deploy.x/b", "rollback"),
        "cd '/tmp/heat-deploy.x/b' && sudo -n env SERVICE_MANAGER='systemctl' \
         DESTDIR='/tmp/r oot' sh ./install.sh rollback"
    );
    assert_eq!(
        d.restart_command(),
        "sudo -n systemctl restart heat-controller.service"
    );
}

fn write_exe(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// A bundle whose heat-controller is the shell script `controller`.
fn bundle(work: &Path, version: &str, controller: &str) -> PathBuf {
    let built = work.join(format!("built-{version}"));
    fs::create_dir_all(&built).unwrap();
    write_exe(&built.join("heat-controller"), controller);
    write_exe(
        &built.join("heat-diag"),
        &format!("#!/bin/sh\necho heat-diag {version}\n"),
    );
    let binaries = [
        ("heat-controller", built.join("heat-controller")),
        ("heat-diag", built.join("heat-diag")),
    ];
    dist::assemble(
        &work.join(format!("out-{version}")),
        "heat-controller-test",
        &binaries,
    )
    .unwrap()
    .dir
}

#[test]
fn dry_run_prints_every_step_and_contacts_nobody() {
    let work = tempfile::tempdir().unwrap();
    let dir = bundle(work.path(), "v1", "#!/bin/sh\n");
    let mut opts = DeployOptions::new("pi@127.0.0.1");
    // Port 1 on loopback: nothing listens, so any real connection would fail the test.
    opts.port = Some(1);
    opts.bundle = Some(dir);
    opts.dry_run = true;
    let mut transcript = Vec::new();
    let outcome = deploy(&opts, &mut transcript).unwrap();
    assert_eq!(outcome, Outcome::DryRun);
    let text = transcript.join("\n");
    for step in [
        "[dry-run] watch: stdbuf -oL mosquitto_sub -d -t solar_heating/availability",
        "[dry-run] copy: tar -C",
        "[dry-run] install:",
        "sh ./install.sh install",
        "[dry-run] restart:",
        "sudo -n systemctl restart heat-controller.service",
        "sh ./install.sh rollback",
        "[dry-run] cleanup:",
    ] {
        assert!(text.contains(step), "{step:?} missing from:\n{text}");
    }
}

#[test]
fn dry_run_without_a_bundle_plans_the_release_build() {
    let mut opts = DeployOptions::new("pi@127.0.0.1");
    opts.port = Some(1);
    opts.dry_run = true;
    let mut transcript = Vec::new();
    assert_eq!(deploy(&opts, &mut transcript).unwrap(), Outcome::DryRun);
    assert!(transcript[0].contains("[1/6 build]"), "{transcript:?}");
}

#[test]
fn mqtt_options_readable_by_others_are_refused() {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("opts");
    fs::write(&file, "-u heat\n-P secret\n").unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    let err = private_options(&file).unwrap_err();
    assert!(format!("{err:#}").contains("chmod 600"), "{err:#}");
    fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    let dir = private_options(&file).unwrap();
    let copy = dir.0.join("mosquitto_sub");
    assert_eq!(fs::read_to_string(&copy).unwrap(), "-u heat\n-P secret\n");
    assert_eq!(
        fs::metadata(&copy).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        fs::metadata(&dir.0).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let path = dir.0.clone();
    drop(dir);
    assert!(!path.exists(), "removed when dropped");
}

fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A private sshd on 127.0.0.1 accepting one test key; killed when dropped.
struct TestSshd {
    child: Child,
    port: u16,
    key: PathBuf,
}

impl TestSshd {
    fn start(dir: &Path) -> TestSshd {
        let keygen = |path: &Path| {
            let status = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(path)
                .status()
                .unwrap();
            assert!(status.success(), "ssh-keygen failed");
        };
        let host_key = dir.join("host_ed25519");
        let key = dir.join("client_ed25519");
        keygen(&host_key);
        keygen(&key);
        fs::copy(dir.join("client_ed25519.pub"), dir.join("authorized_keys")).unwrap();
        let config = dir.join("sshd_config");
        fs::write(
            &config,
            format!(
                "ListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\nPidFile {}\n\
                 StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 PubkeyAuthentication yes\nPermitRootLogin prohibit-password\n",
                host_key.display(),
                dir.join("authorized_keys").display(),
                dir.join("sshd.pid").display()
            ),
        )
        .unwrap();
        // sshd started as root insists on its privilege separation directory.
        let _ = fs::create_dir_all("/run/sshd");
        let sshd = system::find_program("sshd").expect("sshd is installed by ensure_packages");
        let port = free_port().unwrap();
        let log = dir.join("sshd.log");
        let mut child = Command::new(sshd)
            .args(["-D", "-f"])
            .arg(&config)
            .arg("-p")
            .arg(port.to_string())
            .arg("-E")
            .arg(&log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "sshd exited with {status}: {}",
                    fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "sshd did not listen on {port}");
            thread::sleep(Duration::from_millis(50));
        }
        TestSshd { child, port, key }
    }
}

impl Drop for TestSshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const PASSWORD: &str = "deploy-test-password-0123456789";

/// A mosquitto client options file for `broker` (`-u`/`-P` inside, mode 0600).
fn client_options(path: &Path, broker: &Broker) {
    test_mosquitto::write_private(
        path,
        &format!(
            "-h 127.0.0.1\n-p {}\n-u heat-controller\n-P {PASSWORD}\n",
            broker.port()
        ),
    )
    .unwrap();
}

struct Rig {
    broker: Broker,
    sshd: TestSshd,
    work: tempfile::TempDir,
    mqtt_options: PathBuf,
    fake_systemctl: PathBuf,
    /// Last: the lock is released (closed) after the broker and sshd are gone.
    _one_at_a_time: fs::File,
}

/// A broker with the controller's user; a start that missed its readiness line is retried.
fn start_broker() -> Broker {
    let mut last = None;
    for _ in 0..3 {
        match BrokerBuilder::new()
            .user("heat-controller", PASSWORD)
            .start()
        {
            Ok(broker) => return broker,
            Err(err) => last = Some(err),
        }
    }
    panic!(
        "cannot start Mosquitto: {}",
        last.map(|e| e.to_string()).unwrap_or_default()
    );
}

impl Rig {
    fn start() -> Rig {
        // One rig at a time: each starts a broker and an sshd, and with several starting at once
        // test-mosquitto's readiness check can miss the "running" line (it counts the log's
        // lines only after spawning), which costs a 10 s timeout and a retry.
        // A file lock, so that it holds across nextest's test processes too.
        let guard = fs::File::create(std::env::temp_dir().join("xtask-deploy-tests.lock")).unwrap();
        guard.lock().unwrap();
        system::ensure_packages(&system::TEST_PACKAGES).unwrap();
        let work = tempfile::tempdir().unwrap();
        let broker = start_broker();
        let sshd = TestSshd::start(work.path());
        let mqtt_options = work.path().join("deploy-mqtt-options");
        client_options(&mqtt_options, &broker);
        // The "controller" publishes with mosquitto_pub, which reads $XDG_CONFIG_HOME/mosquitto_pub.
        let pub_conf = work.path().join("pubconf");
        fs::create_dir(&pub_conf).unwrap();
        client_options(&pub_conf.join("mosquitto_pub"), &broker);
        let fake_systemctl = work.path().join("fake-systemctl");
        write_exe(
            &fake_systemctl,
            &format!(
                "#!/bin/sh\n\
                 # Logs its calls; `restart` runs the installed controller in the background\n\
                 # (DESTDIR comes from the remote root the test deploys into).\n\
                 echo \"$*\" >> '{log}'\n\
                 if [ \"$1\" = restart ]; then\n\
                 XDG_CONFIG_HOME='{conf}' nohup \"$HEAT_ROOT/usr/local/bin/heat-controller\" \
                 </dev/null >>'{out}' 2>&1 &\n\
                 fi\n",
                log = work.path().join("systemctl.log").display(),
                conf = pub_conf.display(),
                out = work.path().join("service.log").display(),
            ),
        );
        Rig {
            broker,
            sshd,
            work,
            mqtt_options,
            fake_systemctl,
            _one_at_a_time: guard,
        }
    }

    fn options(&self, root: &Path, bundle: PathBuf) -> DeployOptions {
        let mut opts = DeployOptions::new(&format!("{}@127.0.0.1", current_user()));
        opts.port = Some(self.sshd.port);
        opts.identity = Some(self.sshd.key.clone());
        opts.ssh_options = [
            "StrictHostKeyChecking=no",
            "UserKnownHostsFile=/dev/null",
            "LogLevel=ERROR",
        ]
        .map(str::to_owned)
        .to_vec();
        opts.bundle = Some(bundle);
        opts.online_timeout = Duration::from_secs(4);
        opts.mqtt_options = Some(self.mqtt_options.clone());
        opts.sudo = Some(String::new());
        // The fake needs the root too: pass it through the service manager command line.
        opts.service_manager = format!(
            "env HEAT_ROOT={} {}",
            root.display(),
            self.fake_systemctl.display()
        );
        opts.remote_root = Some(root.display().to_string());
        opts
    }

    fn restarts(&self) -> usize {
        fs::read_to_string(self.work.path().join("systemctl.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| *l == "restart heat-controller.service")
            .count()
    }
}

fn good(version: &str) -> String {
    format!(
        "#!/bin/sh\n# heat-controller {version}\nsleep 0.3\n\
         exec mosquitto_pub -q 1 -r -t solar_heating/availability -m online\n"
    )
}

const BAD: &str = "#!/bin/sh\n# heat-controller v3: crashes before it connects\nexit 1\n";

#[test]
fn deploys_over_ssh_waits_for_online_and_rolls_back_a_controller_that_stays_offline() {
    let rig = Rig::start();
    let work = rig.work.path();
    let root = work.join("root");
    fs::create_dir(&root).unwrap();
    let bin = root.join("usr/local/bin");
    let read = |name: &str| fs::read_to_string(bin.join(name)).unwrap();

    // First install: nothing to keep.
    let mut transcript = Vec::new();
    let v1 = rig.options(&root, bundle(work, "v1", &good("v1")));
    assert_eq!(
        deploy(&v1, &mut transcript).unwrap(),
        Outcome::Online,
        "{transcript:#?}"
    );
    assert_eq!(read("heat-controller"), good("v1"));
    assert_eq!(
        fs::metadata(root.join("etc/heat-controller"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o750
    );
    assert!(
        root.join("etc/systemd/system/heat-controller.service")
            .is_file()
    );

    // Upgrade: the retained `online` of v1 must not count for v2.
    let mut transcript = Vec::new();
    let v2 = rig.options(&root, bundle(work, "v2", &good("v2")));
    assert_eq!(
        deploy(&v2, &mut transcript).unwrap(),
        Outcome::Online,
        "{transcript:#?}"
    );
    assert!(
        transcript
            .iter()
            .any(|l| l.contains("ignored the retained `online`")),
        "{transcript:#?}"
    );
    assert_eq!(read("heat-controller"), good("v2"));
    assert_eq!(read("heat-controller.previous"), good("v1"));
    assert_eq!(rig.restarts(), 2);

    // A controller that never comes online is rolled back to v2, which comes online again.
    let mut transcript = Vec::new();
    let started = Instant::now();
    let v3 = rig.options(&root, bundle(work, "v3", BAD));
    let outcome = deploy(&v3, &mut transcript).unwrap();
    let Outcome::RolledBack {
        reason,
        previous_online,
    } = outcome
    else {
        panic!("expected a rollback, got {outcome:?}: {transcript:#?}");
    };
    assert!(
        reason.contains("no `online`") && reason.contains("within 4 s"),
        "{reason}"
    );
    assert!(previous_online, "{transcript:#?}");
    assert_eq!(
        read("heat-controller"),
        good("v2"),
        "the previous binary is back"
    );
    assert_eq!(read("heat-controller.failed"), BAD);
    assert_eq!(rig.restarts(), 4, "v3, then v2 again");
    assert!(started.elapsed() >= Duration::from_secs(4));
    assert!(transcript.iter().any(|l| l.contains("ROLLED BACK")));

    // No secret in what deploy printed; the remote copies are cleaned up.
    for line in &transcript {
        assert!(!line.contains(PASSWORD), "password in {line:?}");
    }
    let copied = transcript
        .iter()
        .find_map(|l| l.trim().strip_prefix("copied to "))
        .and_then(|l| l.split_once(" in "))
        .map(|(dir, _)| PathBuf::from(dir))
        .unwrap_or_else(|| panic!("no copy line in {transcript:#?}"));
    assert!(copied.starts_with("/tmp"), "{copied:?}");
    assert!(
        !copied.exists(),
        "the remote copy {copied:?} was not cleaned up"
    );
}

#[test]
fn a_failed_first_install_has_nothing_to_roll_back_to_and_says_so() {
    let rig = Rig::start();
    let root = rig.work.path().join("root");
    fs::create_dir(&root).unwrap();
    let mut opts = rig.options(&root, bundle(rig.work.path(), "v3", BAD));
    opts.online_timeout = Duration::from_secs(1);
    let mut transcript = Vec::new();
    let err = deploy(&opts, &mut transcript).unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("rollback failed too"), "{text}");
    assert!(text.contains("step 'rollback' failed"), "{text}");
}

#[test]
fn an_unreachable_board_fails_at_the_copy_step_before_anything_changes() {
    let rig = Rig::start();
    let root = rig.work.path().join("root");
    fs::create_dir(&root).unwrap();
    let mut opts = rig.options(&root, bundle(rig.work.path(), "v1", &good("v1")));
    opts.port = Some(free_port().unwrap());
    let mut transcript = Vec::new();
    let err = deploy(&opts, &mut transcript).unwrap_err();
    assert!(format!("{err:#}").contains("step 'copy' failed"), "{err:#}");
    assert!(!root.join("usr").exists());
}

#[test]
fn wrong_broker_credentials_fail_at_the_watch_step_before_anything_changes() {
    let rig = Rig::start();
    let root = rig.work.path().join("root");
    fs::create_dir(&root).unwrap();
    let mut opts = rig.options(&root, bundle(rig.work.path(), "v1", &good("v1")));
    let wrong = rig.work.path().join("wrong-options");
    test_mosquitto::write_private(
        &wrong,
        &format!(
            "-h 127.0.0.1\n-p {}\n-u heat-controller\n-P nope\n",
            rig.broker.port()
        ),
    )
    .unwrap();
    opts.mqtt_options = Some(wrong);
    let mut transcript = Vec::new();
    let err = deploy(&opts, &mut transcript).unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("step 'watch' failed"), "{text}");
    assert!(text.contains("not authorised"), "{text}");
    assert!(!text.contains("nope"), "{text}");
    assert!(!root.join("usr").exists());
}
