//! Tests of deploy: argument parsing, the pure decisions (package fields, the board's answer,
//! what a failure falls back to), the dry run, and end-to-end deploys over a private sshd on
//! 127.0.0.1, watched on a real authenticated Mosquitto.
//!
//! The packages are real .debs built here with `dpkg-deb --build`, installed on the "board" by
//! a real dpkg into a temporary root (`--remote-root`: `dpkg --root=DIR`, with its own database
//! and log; `--force-not-root` so that it works unprivileged too). This machine's own dpkg
//! database is never touched. Their `/usr/bin/heat-controller` is a shell script: a good version
//! publishes a retained `online` with mosquitto_pub (credentials from its own
//! `$XDG_CONFIG_HOME/mosquitto_pub`, never argv), a bad one exits. The fake service manager
//! "starts" the installed script in the background.

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
use crate::system;

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
        "--deb",
        "/b/heat-controller_0.1.0-1_arm64.deb",
        "--dry-run",
        "--online-timeout",
        "10",
        "--mqtt-options",
        "/m",
        "--topic-prefix",
        "garage/heat",
        "--no-rollback",
        "--sudo",
        "doas",
        "--service-manager",
        "/bin/fake",
        "--dpkg",
        "dpkg --force-not-root",
        "--remote-root",
        "/tmp/r/",
    ]))
    .unwrap();
    assert_eq!(opts.host, "pi@board.lan");
    assert_eq!(opts.port, Some(2222));
    assert_eq!(opts.identity.as_deref(), Some(Path::new("/k")));
    assert_eq!(opts.ssh_options, ["StrictHostKeyChecking=accept-new"]);
    assert_eq!(
        opts.deb.as_deref(),
        Some(Path::new("/b/heat-controller_0.1.0-1_arm64.deb"))
    );
    assert_eq!(opts.target, None);
    assert!(opts.dry_run);
    assert!(opts.no_rollback);
    assert_eq!(opts.online_timeout, Duration::from_secs(10));
    assert_eq!(opts.topic_prefix, "garage/heat");
    assert_eq!(opts.sudo(), "doas");
    assert_eq!(opts.service_manager, "/bin/fake");
    assert_eq!(opts.dpkg, "dpkg --force-not-root");
    assert_eq!(opts.remote_root.as_deref(), Some("/tmp/r"));
    assert_eq!(opts.cache_dir(), "/tmp/r/var/cache/heat-controller");

    let built = DeployOptions::parse(&args(&[
        "--host",
        "pi@b",
        "--target",
        "aarch64-unknown-linux-gnu",
    ]))
    .unwrap();
    assert_eq!(built.target.as_deref(), Some("aarch64-unknown-linux-gnu"));
    assert_eq!(built.deb, None);
}

#[test]
fn defaults_are_sudo_dpkg_systemctl_and_the_board_s_own_root() {
    let pi = DeployOptions::parse(&args(&["--host", "pi@b"])).unwrap();
    assert_eq!(pi.sudo(), "sudo -n");
    assert_eq!(pi.online_timeout, Duration::from_secs(60));
    assert_eq!(pi.topic_prefix, "solar_heating");
    assert_eq!(pi.dpkg, "dpkg");
    assert_eq!(pi.service_manager, "systemctl");
    assert!(!pi.no_rollback);
    assert_eq!(pi.cache_dir(), "/var/cache/heat-controller");
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
            "--service-manager must not be empty",
        ),
        (
            vec!["--host", "a@b", "--dpkg", ""],
            "--dpkg must not be empty",
        ),
        (
            vec!["--host", "a@b", "--target", "a b"],
            "not a target triple",
        ),
        (
            vec!["--host", "a@b", "--deb", "heat-controller.tar.gz"],
            "is not a .deb file",
        ),
        (
            vec![
                "--host",
                "a@b",
                "--deb",
                "x.deb",
                "--target",
                "aarch64-unknown-linux-gnu",
            ],
            "--deb and --target exclude each other",
        ),
        (
            vec!["--host", "a@b", "--remote-root", "tmp/r"],
            "is not an absolute path",
        ),
        (
            vec!["--host", "a@b", "--bundle", "dir"],
            "does not know \"--bundle\"",
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
    let mut transcript = Vec::new();
    let d = Deployer {
        opts: &opts,
        transcript: &mut transcript,
    };
    assert_eq!(
        d.dpkg_install("/tmp/heat-deploy.x/heat-controller_1_all.deb"),
        r"sudo -n sh -c 'dpkg -i '\''/tmp/heat-deploy.x/heat-controller_1_all.deb'\'''"
    );
    assert_eq!(
        d.restart_command(),
        "sudo -n systemctl restart heat-controller.service"
    );
    opts.remote_root = Some("/tmp/r oot".to_owned());
    opts.sudo = Some(String::new());
    let d = Deployer {
        opts: &opts,
        transcript: &mut transcript,
    };
    assert_eq!(
        d.dpkg_install("/x.deb"),
        r"sh -c 'mkdir -p '\''/tmp/r oot/var/log'\'' && dpkg --root='\''/tmp/r oot'\'' --log='\''/tmp/r oot/var/log'\''/dpkg.log -i '\''/x.deb'\'''"
    );
    assert!(
        d.board_script()
            .contains("dpkg-query --root='/tmp/r oot' -W"),
        "{}",
        d.board_script()
    );
    assert!(
        d.board_script()
            .contains("for f in '/tmp/r oot/var/cache/heat-controller'/heat-controller_*.deb"),
        "{}",
        d.board_script()
    );
}

#[test]
fn reads_the_package_fields_and_refuses_what_it_cannot_deploy() {
    let info =
        DebInfo::parse("Package: heat-controller\nVersion: 1:0.1.0-1\nArchitecture: arm64\n")
            .unwrap();
    assert_eq!(info.version, "1:0.1.0-1");
    assert_eq!(info.architecture, "arm64");
    assert_eq!(
        cache_file_name(&info.version, &info.architecture),
        "heat-controller_1%3a0.1.0-1_arm64.deb"
    );
    for (fields, expected) in [
        (
            "Package: mosquitto\nVersion: 2.0.11\nArchitecture: amd64\n",
            "the package \"mosquitto\", not heat-controller",
        ),
        (
            "Package: heat-controller\nArchitecture: amd64\n",
            "no Version field",
        ),
        (
            "Package: heat-controller\nVersion: 1.0'; rm -rf /\nArchitecture: amd64\n",
            "is not a Debian version",
        ),
        (
            "Package: heat-controller\nVersion: 1.0\nArchitecture: ../x\n",
            "is not a Debian architecture",
        ),
    ] {
        let err = DebInfo::parse(fields).unwrap_err();
        assert!(format!("{err:#}").contains(expected), "{fields:?}: {err:#}");
    }
}

#[test]
fn parses_the_board_s_answer_and_ignores_what_a_login_shell_prints() {
    let board = BoardState::parse(
        "Welcome to Raspberry Pi OS\n\
         heat-deploy-board arch arm64\n\
         heat-deploy-board installed installed 0.1.0-1 arm64\n\
         heat-deploy-board cached heat-controller_0.1.0-1_arm64.deb\n\
         heat-deploy-board cached heat-controller_0.0.9-1_arm64.deb\n",
    )
    .unwrap();
    assert_eq!(board.architecture, "arm64");
    assert_eq!(
        board.installed,
        Some(Installed {
            status: "installed".to_owned(),
            version: "0.1.0-1".to_owned(),
            architecture: "arm64".to_owned(),
        })
    );
    assert_eq!(board.cached.len(), 2);
    let fresh =
        BoardState::parse("heat-deploy-board arch armhf\nheat-deploy-board installed none\n")
            .unwrap();
    assert_eq!(fresh.installed, None);
    assert!(fresh.cached.is_empty());
    let purged = BoardState::parse(
        "heat-deploy-board arch armhf\nheat-deploy-board installed not-installed\n",
    )
    .unwrap();
    assert_eq!(purged.installed, None);
    for (answer, expected) in [
        (
            "heat-deploy-board installed none\n",
            "did not say its architecture",
        ),
        (
            "heat-deploy-board arch arm64\n",
            "did not say what is installed",
        ),
        (
            "heat-deploy-board arch arm64\nheat-deploy-board installed installed 1.0\n",
            "unexpected line",
        ),
    ] {
        let err = BoardState::parse(answer).unwrap_err();
        assert!(format!("{err:#}").contains(expected), "{answer:?}: {err:#}");
    }
}

#[test]
fn plans_the_rollback_before_anything_changes() {
    const CACHE: &str = "/var/cache/heat-controller";
    let deb = |arch: &str| DebInfo {
        version: "0.2.0-1".to_owned(),
        architecture: arch.to_owned(),
    };
    let board = |installed: Option<(&str, &str)>, cached: &[&str]| BoardState {
        architecture: "arm64".to_owned(),
        installed: installed.map(|(status, version)| Installed {
            status: status.to_owned(),
            version: version.to_owned(),
            architecture: "arm64".to_owned(),
        }),
        cached: cached.iter().map(|s| (*s).to_owned()).collect(),
    };
    let cached_v1 = ["heat-controller_0.1.0-1_arm64.deb"];

    let upgrade = plan_fallback(
        &board(Some(("installed", "0.1.0-1")), &cached_v1),
        &deb("arm64"),
        CACHE,
        false,
    )
    .unwrap();
    assert_eq!(
        upgrade,
        Fallback::Reinstall {
            version: "0.1.0-1".to_owned(),
            file: "heat-controller_0.1.0-1_arm64.deb".to_owned(),
        }
    );
    // Architecture-independent packages go anywhere.
    assert!(
        plan_fallback(
            &board(Some(("installed", "0.1.0-1")), &cached_v1),
            &deb("all"),
            CACHE,
            false
        )
        .is_ok()
    );
    let first = plan_fallback(&board(None, &[]), &deb("arm64"), CACHE, false).unwrap();
    assert_eq!(
        first,
        Fallback::Nothing("heat-controller was not installed".to_owned())
    );
    let Fallback::Nothing(removed) = plan_fallback(
        &board(Some(("config-files", "0.1.0-1")), &cached_v1),
        &deb("arm64"),
        CACHE,
        false,
    )
    .unwrap() else {
        panic!("a removed package is nothing to roll back to");
    };
    assert!(removed.contains("config-files"), "{removed}");

    let by_hand = board(Some(("installed", "0.1.0-1")), &[]);
    let err = plan_fallback(&by_hand, &deb("arm64"), CACHE, false).unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("/var/cache/heat-controller/heat-controller_0.1.0-1_arm64.deb is missing")
            && text.contains("--no-rollback"),
        "{text}"
    );
    assert!(matches!(
        plan_fallback(&by_hand, &deb("arm64"), CACHE, true).unwrap(),
        Fallback::Nothing(_)
    ));

    let err = plan_fallback(&board(None, &[]), &deb("amd64"), CACHE, false).unwrap_err();
    assert!(
        format!("{err}").contains("the package is for amd64 but the board is arm64"),
        "{err}"
    );
}

#[test]
fn every_failure_exits_non_zero_and_says_what_the_board_runs() {
    assert!(
        Outcome::Online {
            version: "2".to_owned()
        }
        .into_result()
        .is_ok()
    );
    assert!(Outcome::DryRun.into_result().is_ok());
    let rolled = Outcome::RolledBack {
        new: "3.0.0".to_owned(),
        old: "2.0.0".to_owned(),
        reason: "step 'online' failed".to_owned(),
        installed_now: "2.0.0 (installed)".to_owned(),
        previous_online: true,
    }
    .into_result()
    .unwrap_err();
    let text = format!("{rolled:#}");
    assert!(text.contains("ROLLED BACK 3.0.0 -> 2.0.0"), "{text}");
    assert!(text.contains("2.0.0 (installed) is installed and online again"));
    let first = Outcome::NotRolledBack {
        new: "3.0.0".to_owned(),
        reason: "step 'online' failed".to_owned(),
        why: "heat-controller was not installed".to_owned(),
    }
    .into_result()
    .unwrap_err();
    let text = format!("{first:#}");
    assert!(
        text.contains("nothing to roll back to") && text.contains("3.0.0 is left installed"),
        "{text}"
    );
}

fn write_exe(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// A real package heat-controller `version` for `arch` whose `/usr/bin/heat-controller` is the
/// shell script `controller`, built with `dpkg-deb --build`.
fn deb(work: &Path, version: &str, arch: &str, controller: &str) -> PathBuf {
    deb_with_postinst(work, version, arch, controller, None)
}

/// [`deb`] with a `postinst` maintainer script.
fn deb_with_postinst(
    work: &Path,
    version: &str,
    arch: &str,
    controller: &str,
    postinst: Option<&str>,
) -> PathBuf {
    system::ensure_packages(&[DPKG_DEB]).unwrap();
    let tree = work.join(format!("pkg-{version}-{arch}"));
    fs::create_dir_all(tree.join("DEBIAN")).unwrap();
    fs::create_dir_all(tree.join("usr/bin")).unwrap();
    fs::write(
        tree.join("DEBIAN/control"),
        format!(
            "Package: heat-controller\nVersion: {version}\nArchitecture: {arch}\n\
             Maintainer: deploy tests <deploy-tests@example.invalid>\n\
             Description: deploy test package {version}\n"
        ),
    )
    .unwrap();
    write_exe(&tree.join("usr/bin/heat-controller"), controller);
    if let Some(script) = postinst {
        write_exe(&tree.join("DEBIAN/postinst"), script);
    }
    let out = work.join(cache_file_name(version, arch));
    let status = Command::new("dpkg-deb")
        .args(["--build", "--root-owner-group"])
        .arg(&tree)
        .arg(&out)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "dpkg-deb --build {}", tree.display());
    out
}

/// `<version> <status>` as the dpkg database in `root` has heat-controller, "" if unknown.
fn installed_in(root: &Path) -> String {
    let out = Command::new("dpkg-query")
        .arg(format!("--root={}", root.display()))
        .args(["-W", "-f=${Version} ${db:Status-Status}", "heat-controller"])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// The test's dpkg for the board: works as root and unprivileged (no sbin on PATH then), and
/// runs maintainer scripts without a chroot into the root (which has no shell).
const TEST_DPKG: &str = "dpkg --force-not-root --force-bad-path --force-script-chrootless";

#[test]
fn dry_run_prints_every_step_and_contacts_nobody() {
    let work = tempfile::tempdir().unwrap();
    let mut opts = DeployOptions::new("pi@127.0.0.1");
    // Port 1 on loopback: nothing listens, so any real connection would fail the test.
    opts.port = Some(1);
    opts.deb = Some(deb(work.path(), "1.0.0", "all", "#!/bin/sh\n"));
    opts.dry_run = true;
    let mut transcript = Vec::new();
    let outcome = deploy(&opts, &mut transcript).unwrap();
    assert_eq!(outcome, Outcome::DryRun);
    let text = transcript.join("\n");
    for step in [
        "[1/7 package] heat-controller 1.0.0 (all)",
        "[dry-run] watch: stdbuf -oL mosquitto_sub -d -t solar_heating/availability",
        "[dry-run] board:",
        "dpkg-query -W",
        "[dry-run] copy:",
        "[dry-run] install:",
        "dpkg -i",
        "[dry-run] restart:",
        "sudo -n systemctl restart heat-controller.service",
        "/var/cache/heat-controller/<installed version>.deb",
        "[dry-run] cleanup:",
    ] {
        assert!(text.contains(step), "{step:?} missing from:\n{text}");
    }
}

#[test]
fn dry_run_without_a_deb_plans_the_release_build() {
    let mut opts = DeployOptions::new("pi@127.0.0.1");
    opts.port = Some(1);
    opts.dry_run = true;
    let mut transcript = Vec::new();
    assert_eq!(deploy(&opts, &mut transcript).unwrap(), Outcome::DryRun);
    assert!(transcript[0].contains("[1/7 build]"), "{transcript:?}");
    // The package dist would write, named by dist itself: version, revision, architecture.
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        transcript[1].contains(&format!("/dist/heat-controller_{version}-1_"))
            && transcript[1].ends_with(".deb"),
        "{transcript:?}"
    );
}

#[test]
fn a_file_that_is_not_our_package_is_refused_before_anything_starts() {
    let work = tempfile::tempdir().unwrap();
    let not_a_deb = work.path().join("heat-controller_1_all.deb");
    fs::write(&not_a_deb, "not an archive").unwrap();
    let mut opts = DeployOptions::new("pi@127.0.0.1");
    opts.port = Some(1);
    opts.deb = Some(not_a_deb);
    let err = deploy(&opts, &mut Vec::new()).unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("step 'package' failed") && text.contains("is not a Debian package"),
        "{text}"
    );
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
    /// The board's root: its own dpkg database, /usr/bin and package cache.
    root: PathBuf,
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
        system::ensure_packages(&[DPKG_DEB]).unwrap();
        let work = tempfile::tempdir().unwrap();
        let root = work.path().join("root");
        fs::create_dir(&root).unwrap();
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
                 # Logs its calls; `restart` runs the controller dpkg installed in the board's root.\n\
                 echo \"$*\" >> '{log}'\n\
                 if [ \"$1\" = restart ]; then\n\
                 XDG_CONFIG_HOME='{conf}' nohup '{root}/usr/bin/heat-controller' \
                 </dev/null >>'{out}' 2>&1 &\n\
                 fi\n",
                log = work.path().join("systemctl.log").display(),
                conf = pub_conf.display(),
                root = root.display(),
                out = work.path().join("service.log").display(),
            ),
        );
        Rig {
            broker,
            sshd,
            work,
            root,
            mqtt_options,
            fake_systemctl,
            _one_at_a_time: guard,
        }
    }

    fn options(&self, deb: PathBuf) -> DeployOptions {
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
        opts.deb = Some(deb);
        opts.online_timeout = Duration::from_secs(4);
        opts.mqtt_options = Some(self.mqtt_options.clone());
        opts.sudo = Some(String::new());
        opts.service_manager = self.fake_systemctl.display().to_string();
        opts.dpkg = TEST_DPKG.to_owned();
        opts.remote_root = Some(self.root.display().to_string());
        opts
    }

    fn deb(&self, version: &str, controller: &str) -> PathBuf {
        deb(self.work.path(), version, "all", controller)
    }

    fn restarts(&self) -> usize {
        fs::read_to_string(self.work.path().join("systemctl.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| *l == "restart heat-controller.service")
            .count()
    }

    /// The file names in the board's package cache, sorted.
    fn cached(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.root.join("var/cache/heat-controller"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn installed(&self) -> String {
        installed_in(&self.root)
    }
}

fn good(version: &str) -> String {
    format!(
        "#!/bin/sh\n# heat-controller {version}\nsleep 0.3\n\
         exec mosquitto_pub -q 1 -r -t solar_heating/availability -m online\n"
    )
}

const BAD: &str = "#!/bin/sh\n# heat-controller 3.0.0: crashes before it connects\nexit 1\n";

#[test]
fn deploys_the_deb_over_ssh_and_rolls_back_a_version_that_stays_offline() {
    let rig = Rig::start();

    // First install: nothing to roll back to, and none needed.
    let mut transcript = Vec::new();
    let v1 = rig.options(rig.deb("1.0.0", &good("1.0.0")));
    assert_eq!(
        deploy(&v1, &mut transcript).unwrap(),
        Outcome::Online {
            version: "1.0.0".to_owned()
        },
        "{transcript:#?}"
    );
    assert_eq!(rig.installed(), "1.0.0 installed");
    assert_eq!(
        fs::read_to_string(rig.root.join("usr/bin/heat-controller")).unwrap(),
        good("1.0.0")
    );
    assert_eq!(rig.cached(), ["heat-controller_1.0.0_all.deb"]);
    assert!(
        rig.root.join("var/log/dpkg.log").is_file(),
        "the root's dpkg logs into the root"
    );

    // Upgrade: the retained `online` of 1.0.0 must not count for 2.0.0.
    let mut transcript = Vec::new();
    let v2 = rig.options(rig.deb("2.0.0", &good("2.0.0")));
    assert_eq!(
        deploy(&v2, &mut transcript).unwrap(),
        Outcome::Online {
            version: "2.0.0".to_owned()
        },
        "{transcript:#?}"
    );
    assert!(
        transcript
            .iter()
            .any(|l| l.contains("ignored the retained `online`")),
        "{transcript:#?}"
    );
    assert!(
        transcript
            .iter()
            .any(|l| l.contains("rollback target: 1.0.0")),
        "{transcript:#?}"
    );
    assert_eq!(rig.installed(), "2.0.0 installed");
    assert_eq!(rig.restarts(), 2);

    // A version that never comes online: 2.0.0 is reinstalled from the board's cache.
    let mut transcript = Vec::new();
    let v3 = rig.options(rig.deb("3.0.0", BAD));
    let outcome = deploy(&v3, &mut transcript).unwrap();
    let Outcome::RolledBack {
        ref new,
        ref old,
        ref reason,
        ref installed_now,
        previous_online,
    } = outcome
    else {
        panic!("expected a rollback, got {outcome:?}: {transcript:#?}");
    };
    assert_eq!((new.as_str(), old.as_str()), ("3.0.0", "2.0.0"));
    assert!(
        reason.contains("no `online`") && reason.contains("within 4 s"),
        "{reason}"
    );
    assert!(previous_online, "{transcript:#?}");
    assert_eq!(installed_now, "2.0.0 (installed)");
    assert_eq!(rig.installed(), "2.0.0 installed", "dpkg has 2.0.0 again");
    assert_eq!(
        fs::read_to_string(rig.root.join("usr/bin/heat-controller")).unwrap(),
        good("2.0.0")
    );
    assert_eq!(rig.restarts(), 4, "3.0.0, then 2.0.0 again");
    assert_eq!(
        rig.cached(),
        [
            "heat-controller_1.0.0_all.deb",
            "heat-controller_2.0.0_all.deb"
        ],
        "only versions that came online are kept"
    );
    assert!(
        transcript
            .iter()
            .any(|l| l.contains("ROLLED BACK 3.0.0 -> 2.0.0")),
        "{transcript:#?}"
    );
    let err = format!("{:#}", outcome.into_result().unwrap_err());
    assert!(err.contains("ROLLED BACK 3.0.0 -> 2.0.0"), "{err}");

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
fn a_package_that_fails_to_install_is_rolled_back_without_a_restart_of_it() {
    let rig = Rig::start();
    let v1 = rig.options(rig.deb("1.0.0", &good("1.0.0")));
    let mut transcript = Vec::new();
    assert!(
        matches!(
            deploy(&v1, &mut transcript).unwrap(),
            Outcome::Online { .. }
        ),
        "{transcript:#?}"
    );
    let broken = deb_with_postinst(
        rig.work.path(),
        "2.0.0",
        "all",
        &good("2.0.0"),
        Some("#!/bin/sh\necho 'postinst: cannot configure' >&2\nexit 1\n"),
    );
    let mut transcript = Vec::new();
    let outcome = deploy(&rig.options(broken), &mut transcript).unwrap();
    let Outcome::RolledBack {
        new, old, reason, ..
    } = &outcome
    else {
        panic!("expected a rollback, got {outcome:?}: {transcript:#?}");
    };
    assert_eq!((new.as_str(), old.as_str()), ("2.0.0", "1.0.0"));
    assert!(reason.contains("step 'install' failed"), "{reason}");
    assert_eq!(rig.installed(), "1.0.0 installed");
    assert_eq!(rig.restarts(), 2, "1.0.0, then 1.0.0 again; never 2.0.0");
    assert_eq!(rig.cached(), ["heat-controller_1.0.0_all.deb"]);
}

#[test]
fn a_failed_first_install_has_nothing_to_roll_back_to_and_is_left_as_it_is() {
    let rig = Rig::start();
    let mut opts = rig.options(rig.deb("3.0.0", BAD));
    opts.online_timeout = Duration::from_secs(1);
    let mut transcript = Vec::new();
    let outcome = deploy(&opts, &mut transcript).unwrap();
    assert!(
        matches!(&outcome, Outcome::NotRolledBack { new, why, .. }
            if new == "3.0.0" && why.contains("was not installed")),
        "{outcome:?}: {transcript:#?}"
    );
    assert!(
        transcript
            .iter()
            .any(|l| l.contains("NOT ROLLED BACK: nothing to roll back to")),
        "{transcript:#?}"
    );
    assert_eq!(rig.installed(), "3.0.0 installed", "left as it is");
    assert_eq!(rig.restarts(), 1);
    assert!(rig.cached().is_empty(), "{:?}", rig.cached());
    let err = format!("{:#}", outcome.into_result().unwrap_err());
    assert!(err.contains("nothing to roll back to"), "{err}");
}

#[test]
fn a_version_installed_by_hand_is_only_replaced_with_no_rollback() {
    let rig = Rig::start();
    // Installed without deploy (e.g. `apt install ./heat-controller_….deb`): no cached copy.
    let v1 = rig.deb("1.0.0", &good("1.0.0"));
    let by_hand = rig.options(v1.clone());
    let mut unused = Vec::new();
    let d = Deployer {
        opts: &by_hand,
        transcript: &mut unused,
    };
    let status = Command::new("sh")
        .arg("-c")
        .arg(d.dpkg_install(&v1.display().to_string()))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(rig.installed(), "1.0.0 installed");

    let mut opts = rig.options(rig.deb("2.0.0", &good("2.0.0")));
    let err = deploy(&opts, &mut Vec::new()).unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("step 'board' failed; nothing was changed")
            && text.contains("heat-controller_1.0.0_all.deb is missing")
            && text.contains("--no-rollback"),
        "{text}"
    );
    assert_eq!(rig.installed(), "1.0.0 installed");
    assert_eq!(rig.restarts(), 0);

    opts.no_rollback = true;
    let mut transcript = Vec::new();
    assert_eq!(
        deploy(&opts, &mut transcript).unwrap(),
        Outcome::Online {
            version: "2.0.0".to_owned()
        },
        "{transcript:#?}"
    );
    assert_eq!(rig.installed(), "2.0.0 installed");
    assert_eq!(rig.cached(), ["heat-controller_2.0.0_all.deb"]);
}

#[test]
fn a_package_for_another_architecture_is_refused_before_anything_changes() {
    let rig = Rig::start();
    let host = Command::new("dpkg")
        .arg("--print-architecture")
        .output()
        .unwrap();
    let other = if String::from_utf8_lossy(&host.stdout).trim() == "arm64" {
        "armhf"
    } else {
        "arm64"
    };
    let foreign = deb(rig.work.path(), "1.0.0", other, &good("1.0.0"));
    let err = deploy(&rig.options(foreign), &mut Vec::new()).unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("step 'board' failed")
            && text.contains(&format!("the package is for {other}")),
        "{text}"
    );
    assert_eq!(rig.installed(), "");
}

#[test]
fn an_unreachable_board_fails_at_the_board_step_before_anything_changes() {
    let rig = Rig::start();
    let mut opts = rig.options(rig.deb("1.0.0", &good("1.0.0")));
    opts.port = Some(free_port().unwrap());
    let mut transcript = Vec::new();
    let err = deploy(&opts, &mut transcript).unwrap_err();
    assert!(
        format!("{err:#}").contains("step 'board' failed"),
        "{err:#}"
    );
    assert_eq!(rig.installed(), "");
    assert!(!rig.root.join("var").exists());
}

#[test]
fn wrong_broker_credentials_fail_at_the_watch_step_before_anything_changes() {
    let rig = Rig::start();
    let mut opts = rig.options(rig.deb("1.0.0", &good("1.0.0")));
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
    assert!(!rig.root.join("var").exists());
}
