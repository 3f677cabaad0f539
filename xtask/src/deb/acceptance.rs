//! Acceptance tests of the packages (issue 12 a and b), run by `cargo xtask test` as root:
//!
//! - a. `cargo xtask dist --target aarch64-unknown-linux-gnu` (and armv7) writes a .deb whose
//!   controller is an ELF of that machine; it runs under qemu-user with the package's own
//!   heat.toml and `--simulate` against a provisioned TLS Mosquitto on 127.0.0.1: `online`, the
//!   retained state, an accepted command, then SIGTERM → `offline` retained and exit 0.
//! - b. the amd64 .deb's life cycle on this machine: install, verify, upgrade keeping an edited
//!   heat.toml, remove keeping the configuration, purge removing it, lintian without errors.

use std::{
    fs,
    os::unix::fs::{MetadataExt, PermissionsExt},
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::mpsc::{Receiver, RecvTimeoutError},
    thread,
    time::{Duration, Instant},
};

use heat_state::StateJson;

use crate::{
    cross::{self, Target},
    demo::{self, PREFIX, Proc, check},
    dist::{self, DistOptions},
    system::{self, is_root},
};

use super::PACKAGE;

/// Generous: a release build under load, a controller under qemu, a broker on a busy machine.
const WAIT: Duration = Duration::from_secs(180);

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `cmd`, panicking with its output when it fails; returns stdout and stderr.
fn ok(cmd: &mut Command) -> String {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    let all = text(&out);
    assert!(
        out.status.success(),
        "{shown} failed ({}):\n{all}",
        out.status
    );
    all
}

/// `cargo xtask dist [--target T]`, in-process; the .deb it wrote this time.
fn dist_deb(target: Option<&Target>) -> PathBuf {
    let opts = DistOptions {
        target: target.map(|t| t.triple.to_owned()),
    };
    let planned = dist::build(&opts, true).unwrap().deb.unwrap();
    // Proof that this run wrote it: no older one is left to find.
    let _ = fs::remove_file(&planned);
    let started = Instant::now();
    let bundle = dist::build(&opts, false).unwrap();
    eprintln!(
        "cargo xtask dist {}: {:.0} s",
        target.map_or("(host)", |t| t.triple),
        started.elapsed().as_secs_f64()
    );
    let deb = bundle.deb.expect("a build writes a .deb");
    assert_eq!(deb, planned);
    eprintln!(
        "{}: {} bytes",
        deb.display(),
        fs::metadata(&deb).unwrap().len()
    );
    deb
}

/// `dpkg-deb -f DEB FIELD`.
fn field(deb: &Path, name: &str) -> String {
    ok(Command::new("dpkg-deb").arg("-f").arg(deb).arg(name))
        .trim()
        .to_owned()
}

/// The package holds what issue 12 lists, with the modes it needs; returns the listing.
fn assert_contents(deb: &Path, target: &Target) -> String {
    assert_eq!(field(deb, "Package"), PACKAGE);
    assert_eq!(field(deb, "Architecture"), target.deb_arch);
    let depends = field(deb, "Depends");
    assert!(depends.contains("libssl3"), "Depends: {depends}");
    let listing = ok(Command::new("dpkg-deb").arg("-c").arg(deb));
    for (mode, path) in [
        ("-rwxr-xr-x", "./usr/bin/heat-controller"),
        ("-rwxr-xr-x", "./usr/bin/heat-diag"),
        ("-rw-r--r--", "./lib/systemd/system/heat-controller.service"),
        ("-rw-r--r--", "./usr/lib/sysusers.d/heat-controller.conf"),
        ("-rw-r--r--", "./etc/heat-controller/heat.toml"),
        ("-rw-r-----", "./etc/heat-controller/heat.env"),
        ("-rw-r--r--", "./usr/share/man/man1/heat-controller.1.gz"),
        ("-rw-r--r--", "./usr/share/man/man1/heat-diag.1.gz"),
        (
            "-rw-r--r--",
            "./usr/share/bash-completion/completions/heat-controller",
        ),
        (
            "-rw-r--r--",
            "./usr/share/bash-completion/completions/heat-diag",
        ),
        (
            "-rw-r--r--",
            "./usr/share/zsh/vendor-completions/_heat-controller",
        ),
        (
            "-rw-r--r--",
            "./usr/share/zsh/vendor-completions/_heat-diag",
        ),
        (
            "-rw-r--r--",
            "./usr/share/fish/vendor_completions.d/heat-controller.fish",
        ),
        (
            "-rw-r--r--",
            "./usr/share/fish/vendor_completions.d/heat-diag.fish",
        ),
        (
            "-rw-r--r--",
            "./usr/share/doc/heat-controller/changelog.Debian.gz",
        ),
        ("-rw-r--r--", "./usr/share/doc/heat-controller/copyright"),
        (
            "-rw-r--r--",
            "./usr/share/doc/heat-controller/README.board.md",
        ),
    ] {
        assert!(
            listing
                .lines()
                .any(|l| l.starts_with(mode) && l.ends_with(path)),
            "no {mode} {path} in\n{listing}"
        );
    }
    let control = ok(Command::new("dpkg-deb").arg("-I").arg(deb));
    for script in ["postinst", "prerm", "postrm", "conffiles"] {
        assert!(control.contains(script), "no {script} in\n{control}");
    }
    let conffiles = ok(Command::new("dpkg-deb").arg("-I").arg(deb).arg("conffiles"));
    assert_eq!(
        conffiles.lines().collect::<Vec<_>>(),
        [
            "/etc/heat-controller/heat.toml",
            "/etc/heat-controller/heat.env"
        ]
    );
    listing
}

/// `lintian` finds no error in `deb`; its warnings are printed for the report.
fn assert_lintian_clean(deb: &Path) {
    system::ensure_packages(&[system::LINTIAN]).unwrap();
    let out = Command::new("lintian")
        .args(["--fail-on", "error", "--tag-display-limit", "0"])
        .arg(deb)
        .output()
        .unwrap();
    let report = text(&out);
    eprintln!("lintian {}:\n{report}", deb.display());
    assert!(
        out.status.success() && !report.lines().any(|l| l.starts_with("E: ")),
        "lintian reports errors:\n{report}"
    );
}

/// Waits for a line of `lines` that `wanted` accepts.
fn wait_for(lines: &Receiver<String>, what: &str, mut wanted: impl FnMut(&str) -> bool) -> String {
    let since = Instant::now();
    loop {
        match lines.recv_timeout(Duration::from_millis(200)) {
            Ok(line) if wanted(&line) => return line,
            Ok(_) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => panic!("the stream ended before {what}"),
        }
        assert!(since.elapsed() < WAIT, "no {what} within {WAIT:?}");
    }
}

/// Stops its process on drop, also when an assertion fails half-way.
struct Stopped(Proc);

impl Drop for Stopped {
    fn drop(&mut self) {
        self.0.terminate(Duration::from_secs(5));
    }
}

/// The acceptance run of one cross package (a).
fn runs_under_qemu(target: &Target) {
    system::ensure_packages(&[
        target.qemu,
        system::MOSQUITTO,
        system::MOSQUITTO_SUB,
        system::MOSQUITTO_PUB,
    ])
    .unwrap();
    let deb = dist_deb(Some(target));
    assert_contents(&deb, target);

    let work = tempfile::tempdir().unwrap();
    let work = &fs::canonicalize(work.path()).unwrap();
    let root = work.join("root");
    ok(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
    let controller = root.join("usr/bin/heat-controller");
    let header = cross::elf_header(&fs::read(&controller).unwrap()).unwrap();
    assert_eq!(
        header,
        (target.elf_class, target.elf_machine),
        "/usr/bin/heat-controller of {} is not an ELF for {}",
        deb.display(),
        target.triple
    );
    eprintln!(
        "{} /usr/bin/heat-controller: {} bytes",
        target.triple,
        fs::metadata(&controller).unwrap().len()
    );

    // The broker, provisioned by the host's heat-diag as `cargo xtask demo` does it.
    let host = demo::build_binaries(None).unwrap();
    let broker_dir = work.join("broker");
    fs::create_dir(&broker_dir).unwrap();
    let port = free_port();
    let mut provision = Command::new(&host.heat_diag);
    provision
        .arg("provision")
        .arg(&broker_dir)
        .args(["--tls-port", &port.to_string(), "--tls-bind", "127.0.0.1"])
        .arg("--log-file")
        .arg(broker_dir.join("broker.log"))
        .arg("--force")
        .env_remove("HEAT_CONFIG");
    if is_root() {
        // Mosquitto started as root drops to user `mosquitto`, which could not read the files.
        provision.args(["--run-as-user", "root"]);
    }
    ok(&mut provision);
    let ha_password =
        fs::read_to_string(broker_dir.join("secrets/homeassistant.password")).unwrap();
    let ha_home = demo::client_options(
        &broker_dir,
        port,
        "homeassistant",
        ha_password.trim(),
        &broker_dir.join("certs/ca.crt"),
    )
    .unwrap();
    let mut broker = Stopped(
        Proc::spawn(
            "mosquitto",
            Command::new(system::find_program("mosquitto").unwrap())
                .arg("-c")
                .arg(broker_dir.join("mosquitto.conf"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )
        .unwrap(),
    );
    let since = Instant::now();
    while !fs::read_to_string(broker_dir.join("broker.log")).is_ok_and(|l| l.contains(" running")) {
        assert!(broker.0.exited().is_none(), "mosquitto exited");
        assert!(since.elapsed() < WAIT, "mosquitto did not start");
        thread::sleep(Duration::from_millis(50));
    }

    // Home Assistant's view: everything under the prefix.
    let mut watcher = Stopped(
        Proc::spawn(
            "mosquitto_sub",
            Command::new("stdbuf")
                .args(["-oL", "mosquitto_sub", "-d", "-q", "1", "-t"])
                .arg(format!("{PREFIX}/#"))
                .args(["-F", check::SUB_FORMAT])
                .env("XDG_CONFIG_HOME", &ha_home)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        )
        .unwrap(),
    );
    let watched = demo::lines_of(watcher.0.child.stdout.take().unwrap(), None);
    // `-d` reports the SUBACK: from then on nothing the controller publishes is missed.
    wait_for(&watched, "the watcher's SUBACK", |line| {
        line.contains("received SUBACK")
    });

    // The package's controller under qemu, with the package's heat.toml.
    let settings = demo::env_file(&fs::read_to_string(broker_dir.join("controller.env")).unwrap());
    let log_path = work.join("controller.log");
    let started = Instant::now();
    let mut ctl = Stopped(
        Proc::spawn(
            "heat-controller under qemu",
            Command::new(system::find_program(qemu_program(target)).unwrap())
                .arg("-L")
                .arg(target.qemu_root())
                .arg(&controller)
                .arg("--config")
                .arg(root.join("etc/heat-controller/heat.toml"))
                .arg("--simulate")
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("RUST_LOG", "info")
                // The simulation's lock file goes to the temp directory.
                .env("TMPDIR", work)
                .envs(settings.iter().map(|(k, v)| (k, v)))
                .current_dir(&broker_dir)
                .stdin(Stdio::null())
                .stdout(fs::File::create(&log_path).unwrap())
                .stderr(fs::File::create(work.join("controller.stderr")).unwrap()),
        )
        .unwrap(),
    );
    let log = || {
        format!(
            "{}{}",
            fs::read_to_string(&log_path).unwrap_or_default(),
            fs::read_to_string(work.join("controller.stderr")).unwrap_or_default()
        )
    };
    let message = |line: &str| check::parse_message(line);
    let mut state_seen = false;
    wait_for(&watched, "`online` on the availability topic", |line| {
        assert!(
            ctl.0.exited().is_none(),
            "the controller exited:\n{}",
            log()
        );
        matches!(message(line), Some(m) if m.topic == format!("{PREFIX}/availability") && m.payload == "online")
    });
    let online_after = started.elapsed();
    wait_for(&watched, "a state message", |line| {
        state_seen = matches!(message(line), Some(m) if m.topic == format!("{PREFIX}/state")
            && serde_json::from_str::<StateJson>(&m.payload).is_ok());
        state_seen
    });
    let retained = demo::read_retained(&ha_home);
    let state = retained
        .iter()
        .find(|m| m.topic == format!("{PREFIX}/state"))
        .unwrap_or_else(|| panic!("no retained state: {retained:?}"));
    // The installed package's controller writes what this version's tools read.
    if let Err(e) = serde_json::from_str::<StateJson>(&state.payload) {
        panic!(
            "the retained state is no StateJson ({e}): {}",
            state.payload
        );
    }

    // One command, as Home Assistant sends it, and its answer.
    ok(Command::new("mosquitto_pub")
        .args(["-q", "1", "-t", &format!("{PREFIX}/mode/set"), "-m", "eco"])
        .env("XDG_CONFIG_HOME", &ha_home));
    let answer = wait_for(
        &watched,
        "the answer to mode eco",
        |line| matches!(message(line), Some(m) if m.topic == format!("{PREFIX}/result")),
    );
    let answer = check::parse_result(&message(&answer).unwrap().payload).unwrap();
    assert!(answer.topic.contains("mode"), "{answer:?}");
    assert!(answer.accepted, "mode eco refused: {}", answer.reason);

    // SIGTERM: `offline`, retained, and exit 0.
    let (status, killed) = ctl.0.terminate(Duration::from_secs(60));
    assert!(
        !killed,
        "the controller did not stop on SIGTERM:\n{}",
        log()
    );
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", log());
    let retained = demo::read_retained(&ha_home);
    let availability = retained
        .iter()
        .find(|m| m.topic == format!("{PREFIX}/availability"))
        .map(|m| m.payload.as_str());
    assert_eq!(availability, Some("offline"), "{retained:?}");
    eprintln!(
        "qemu smoke test of {}: online after {:.1} s, done after {:.1} s",
        target.triple,
        online_after.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    drop((watcher, broker));
}

fn qemu_program(target: &Target) -> &'static str {
    match target.qemu {
        system::Requirement::Program { program, .. } => program,
        other => unreachable!("qemu is a program, not {other:?}"),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

#[test]
fn the_arm64_package_runs_under_qemu_against_a_tls_broker() {
    runs_under_qemu(&cross::AARCH64);
}

#[test]
fn the_armhf_package_runs_under_qemu_against_a_tls_broker() {
    runs_under_qemu(&cross::ARMV7);
}

/// Purges the package on drop, so that a failed assertion leaves the machine as it was.
struct Purge;

impl Drop for Purge {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").args(["--purge", PACKAGE]).output();
        let _ = fs::remove_dir_all("/var/lib/heat-controller");
    }
}

fn dpkg(args: &[&str], deb: Option<&Path>) -> String {
    let mut cmd = Command::new("dpkg");
    cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
    if let Some(deb) = deb {
        cmd.arg(deb);
    }
    ok(&mut cmd)
}

fn installed_version() -> Option<String> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Status} ${Version}", PACKAGE])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.strip_prefix("install ok installed ")
        .map(str::to_owned)
}

/// `deb` again with Debian version `version`: what a rebuilt package of the next release is to
/// dpkg.
fn repack(deb: &Path, version: &str, dir: &Path) -> PathBuf {
    let tree = dir.join("tree");
    ok(Command::new("dpkg-deb").arg("-R").arg(deb).arg(&tree));
    let control = tree.join("DEBIAN/control");
    let text = fs::read_to_string(&control).unwrap();
    let old = text
        .lines()
        .find(|l| l.starts_with("Version: "))
        .unwrap()
        .to_owned();
    fs::write(&control, text.replace(&old, &format!("Version: {version}"))).unwrap();
    let out = dir.join(format!("{PACKAGE}_{version}.deb"));
    ok(Command::new("dpkg-deb")
        .args(["--root-owner-group", "-b"])
        .arg(&tree)
        .arg(&out));
    out
}

const CONF: &str = "/etc/heat-controller";
const WANTS: &str = "/etc/systemd/system/multi-user.target.wants/heat-controller.service";

/// A configuration the controller accepts: broker and user in heat.env, the password as the
/// credential, and a hardware mapping.
fn complete_configuration() {
    let env = fs::read_to_string(format!("{CONF}/heat.env")).unwrap();
    fs::write(
        format!("{CONF}/heat.env"),
        env.replace(
            "MQTT_USERNAME=your_username",
            "MQTT_USERNAME=heat-controller",
        ),
    )
    .unwrap();
    let toml = fs::read_to_string(format!("{CONF}/heat.toml")).unwrap();
    fs::write(
        format!("{CONF}/heat.toml"),
        format!(
            "{toml}\n# Filled in by the test.\n[hardware]\nbackend = \"w1\"\n\n[hardware.sensors]\n\
             collector = \"28-0316a2790aff\"\ntank_bottom = \"28-0316a27951ff\"\ntank_top = \"28-0417c1b2e3ff\"\n\n\
             [hardware.relays.pump]\nline = 17\n\n[hardware.relays.heater]\nline = 27\n"
        ),
    )
    .unwrap();
    fs::write(
        format!("{CONF}/mqtt_password"),
        "a-long-test-password-1234\n",
    )
    .unwrap();
    fs::set_permissions(
        format!("{CONF}/mqtt_password"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
}

#[test]
fn the_amd64_package_installs_upgrades_keeps_its_configuration_and_purges() {
    assert!(
        is_root(),
        "this test installs the package with dpkg: run it as root (CI does), e.g. \
         `sudo -E cargo nextest run -p xtask the_amd64_package`"
    );
    assert!(
        installed_version().is_none(),
        "{PACKAGE} is installed on this machine; the test would purge it. Remove it first \
         (`dpkg --purge {PACKAGE}`) or run the test elsewhere"
    );
    system::ensure_packages(&[system::SYSTEMD_ANALYZE]).unwrap();
    let deb = dist_deb(None);
    assert_contents(&deb, &cross::X86_64);
    assert_lintian_clean(&deb);
    let version = field(&deb, "Version");
    let _purge = Purge;

    // Install: user, group, directories; not started while the configuration is incomplete.
    let installed = dpkg(&["--install"], Some(&deb));
    assert!(
        installed.contains("not started") && installed.contains("heat-diag sensors --watch"),
        "postinst printed no next step:\n{installed}"
    );
    assert_eq!(installed_version().as_deref(), Some(version.as_str()));
    assert!(
        !Path::new(WANTS).exists(),
        "enabled although the configuration is incomplete"
    );
    let passwd = ok(Command::new("getent").args(["passwd", PACKAGE]));
    assert!(
        passwd.contains(":/nonexistent:/usr/sbin/nologin"),
        "{passwd}"
    );
    let groups = ok(Command::new("id").args(["-nG", PACKAGE]));
    assert!(
        groups.split_whitespace().any(|g| g == "gpio"),
        "{PACKAGE} is not in gpio: {groups}"
    );
    let conf = fs::metadata(CONF).unwrap();
    assert_eq!(conf.mode() & 0o7777, 0o750);
    let group_id = ok(Command::new("getent").args(["group", PACKAGE]));
    let gid: u32 = group_id.split(':').nth(2).unwrap().parse().unwrap();
    assert_eq!(
        (conf.uid(), conf.gid()),
        (0, gid),
        "{CONF} is root:{PACKAGE}"
    );
    for file in ["heat.toml", "heat.env"] {
        assert!(Path::new(CONF).join(file).is_file(), "no {CONF}/{file}");
    }
    let version_line = ok(Command::new("/usr/bin/heat-controller").arg("--version"));
    assert!(version_line.contains("heat-controller"), "{version_line}");
    for page in ["heat-controller", "heat-diag"] {
        let roff = ok(Command::new("gzip")
            .arg("-dc")
            .arg(format!("/usr/share/man/man1/{page}.1.gz")));
        assert!(roff.contains(".TH"), "{page}.1 is no man page:\n{roff}");
    }

    // systemd accepts the installed unit.
    let verify = Command::new("systemd-analyze")
        .args(["verify", "/lib/systemd/system/heat-controller.service"])
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "systemd-analyze verify:\n{}",
        text(&verify)
    );

    // The operator edits heat.toml and completes the configuration; an upgrade keeps it all and,
    // the configuration now being valid, enables the service (systemd does not run here, so it is
    // not started).
    complete_configuration();
    let edited = fs::read_to_string(format!("{CONF}/heat.toml")).unwrap();
    fs::create_dir_all("/var/lib/heat-controller").unwrap();
    fs::write("/var/lib/heat-controller/state", "kept until purge").unwrap();
    let work = tempfile::tempdir().unwrap();
    let next = repack(&deb, &format!("{version}+upgrade1"), work.path());
    let upgraded = dpkg(&["--install"], Some(&next));
    assert_eq!(
        installed_version(),
        Some(format!("{version}+upgrade1")),
        "{upgraded}"
    );
    assert_eq!(
        fs::read_to_string(format!("{CONF}/heat.toml")).unwrap(),
        edited,
        "the upgrade replaced the edited heat.toml"
    );
    assert!(
        upgraded.contains("enabled heat-controller.service"),
        "a valid configuration was not enabled:\n{upgraded}"
    );
    assert!(Path::new(WANTS).exists(), "{upgraded}");

    // Remove: the binaries go, the configuration stays.
    dpkg(&["--remove", PACKAGE], None);
    assert!(!Path::new("/usr/bin/heat-controller").exists());
    assert_eq!(
        fs::read_to_string(format!("{CONF}/heat.toml")).unwrap(),
        edited
    );
    assert!(Path::new(CONF).join("heat.env").is_file());
    assert!(Path::new(CONF).join("mqtt_password").is_file());
    assert!(Path::new("/var/lib/heat-controller/state").is_file());

    // Purge: everything of the package goes.
    dpkg(&["--purge", PACKAGE], None);
    assert!(installed_version().is_none());
    assert!(!Path::new(CONF).exists(), "{CONF} survived the purge");
    assert!(!Path::new("/var/lib/heat-controller").exists());
    assert!(!Path::new(WANTS).exists());
}
