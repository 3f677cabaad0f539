//! Tests of the bundle: its contents, the unit's sandbox score, and install.sh in a temp root.

use std::{
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Command,
};

use super::*;
use crate::system;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn parses_the_target_in_both_spellings_and_refuses_the_rest() {
    assert_eq!(DistOptions::parse(&[]).unwrap().target, None);
    for given in [
        args(&["--target", "aarch64-unknown-linux-gnu"]),
        args(&["--target=aarch64-unknown-linux-gnu"]),
    ] {
        assert_eq!(
            DistOptions::parse(&given).unwrap().target.as_deref(),
            Some("aarch64-unknown-linux-gnu")
        );
    }
    let missing = DistOptions::parse(&args(&["--target"])).unwrap_err();
    assert!(
        format!("{missing:#}").contains("needs a target triple"),
        "{missing:#}"
    );
    let odd = DistOptions::parse(&args(&["--target", "x; rm -rf /"])).unwrap_err();
    assert!(
        format!("{odd:#}").contains("not a target triple"),
        "{odd:#}"
    );
    let unknown = DistOptions::parse(&args(&["--release"])).unwrap_err();
    assert!(format!("{unknown:#}").contains("--release"), "{unknown:#}");
}

#[test]
fn reads_cargo_metadata_target_directory() {
    let json = r#"{"packages":[],"target_directory":"/work/tar\"get","version":1}"#;
    assert_eq!(
        json_string_field(json, "target_directory").as_deref(),
        Some("/work/tar\"get")
    );
    assert_eq!(json_string_field(json, "workspace_root"), None);
    assert_eq!(
        json_string_field(r#"{"target_directory":"/cut"#, "target_directory"),
        None
    );
}

/// Directive lines of the unit (comments and section headers left out).
fn directives() -> Vec<(String, String)> {
    UNIT.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn unit_passes_the_password_as_a_credential_and_never_in_the_environment() {
    let all = directives();
    let value = |key: &str| -> Vec<&str> {
        all.iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    assert_eq!(
        value("LoadCredential"),
        ["mqtt_password:/etc/heat-controller/mqtt_password"]
    );
    assert_eq!(value("EnvironmentFile"), ["/etc/heat-controller/heat.env"]);
    assert_eq!(
        value("Environment"),
        ["HEAT_CONFIG=/etc/heat-controller/heat.toml"],
        "the only Environment= line points at the shipped TOML"
    );
    assert!(
        !UNIT.to_lowercase().contains("password="),
        "no password value in the unit"
    );
    for (key, expected) in [
        ("User", "heat-controller"),
        ("Group", "heat-controller"),
        ("SupplementaryGroups", "gpio"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("DevicePolicy", "closed"),
        ("DeviceAllow", "char-gpiochip rw"),
        ("ProtectKernelTunables", "yes"),
        ("ReadOnlyPaths", "-/sys/bus/w1/devices"),
        (
            "ReadWritePaths",
            "-/sys/bus/w1/devices/w1_bus_master1/therm_bulk_read",
        ),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("SystemCallArchitectures", "native"),
        ("UMask", "0077"),
        ("CapabilityBoundingSet", ""),
        ("AmbientCapabilities", ""),
        ("PrivateUsers", "yes"),
        ("ProtectProc", "invisible"),
        ("ProcSubset", "pid"),
        ("PrivateNetwork", "no"),
        ("Restart", "on-failure"),
        ("RuntimeDirectory", "heat-controller"),
        ("StateDirectory", "heat-controller"),
        ("ExecStart", "/usr/bin/heat-controller"),
        ("ExecReload", "/bin/kill -HUP $MAINPID"),
        ("Type", "notify"),
        ("NotifyAccess", "main"),
        ("WatchdogSec", "90s"),
        ("RestartPreventExitStatus", "2"),
    ] {
        assert_eq!(value(key), [expected], "{key}=");
    }
    assert!(value("SystemCallFilter").contains(&"@system-service"));
}

#[test]
fn unit_does_not_wait_for_the_network_and_documents_the_man_page() {
    let all = directives();
    for (key, value) in &all {
        if ["Wants", "After", "Requires", "BindsTo"].contains(&key.as_str()) {
            assert!(
                !value.contains("network"),
                "{key}={value}: control must not wait for the network"
            );
        }
    }
    let docs: Vec<&str> = all
        .iter()
        .filter(|(k, _)| k == "Documentation")
        .flat_map(|(_, v)| v.split_whitespace())
        .collect();
    assert!(docs.contains(&"man:heat-controller(1)"), "{docs:?}");
    assert!(
        docs.contains(&"file:/usr/share/doc/heat-controller/README.board.md"),
        "{docs:?}"
    );
    // About three control periods of the shipped (default) 30 s.
    assert!(
        HEAT_TOML.contains("# period_secs = 30"),
        "the template's period changed"
    );
}

/// `systemd-analyze security --offline=true FILE` scores the unit; the score must stay at 2.0 or below.
#[test]
fn unit_scores_two_or_better_in_systemd_analyze_security() {
    system::ensure_packages(&[system::SYSTEMD_ANALYZE]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join(UNIT_NAME);
    fs::write(&unit, UNIT).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(&unit)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let score = exposure(&text).unwrap_or_else(|| panic!("no exposure line in:\n{text}"));
    eprintln!("systemd-analyze security exposure of {UNIT_NAME}: {score}");
    assert!(score <= 2.0, "exposure {score} > 2.0:\n{text}");
}

/// The number in `→ Overall exposure level for heat-controller.service: 1.3 OK 🙂`.
fn exposure(report: &str) -> Option<f64> {
    let line = report
        .lines()
        .find(|l| l.contains("Overall exposure level"))?;
    line.rsplit_once(": ")?
        .1
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[test]
fn exposure_is_read_from_the_summary_line() {
    let report = "✗ PrivateNetwork= ... 0.5\n\n→ Overall exposure level for x.service: 1.3 OK 🙂\n";
    assert_eq!(exposure(report), Some(1.3));
    assert_eq!(exposure("nothing here"), None);
}

fn fake_binary(dir: &Path, name: &str, version: &str) -> PathBuf {
    let path = dir.join(format!("{name}-{version}"));
    fs::write(&path, format!("#!/bin/sh\necho {name} {version}\n")).unwrap();
    path
}

fn bundle_with(out: &Path, version: &str) -> Bundle {
    let built = out.join("built");
    fs::create_dir_all(&built).unwrap();
    let binaries = [
        (
            "heat-controller",
            fake_binary(&built, "heat-controller", version),
        ),
        ("heat-diag", fake_binary(&built, "heat-diag", version)),
    ];
    assemble(out, &format!("heat-controller-{version}"), &binaries).unwrap()
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn bundle_holds_binaries_templates_and_an_archive_of_them() {
    let out = tempfile::tempdir().unwrap();
    let bundle = bundle_with(out.path(), "v1");
    assert_eq!(bundle.binaries, ["heat-controller", "heat-diag"]);
    for (file, want_mode) in [
        ("bin/heat-controller", 0o755),
        ("bin/heat-diag", 0o755),
        ("heat-controller.service", 0o644),
        ("install.sh", 0o755),
        (".env.example", 0o644),
        ("heat.env", 0o640),
        ("heat.toml", 0o644),
        ("README.board.md", 0o644),
        ("mosquitto/README", 0o644),
    ] {
        assert_eq!(mode(&bundle.dir.join(file)), want_mode, "{file}");
    }
    assert_eq!(
        fs::read_to_string(bundle.dir.join("bin/heat-controller")).unwrap(),
        "#!/bin/sh\necho heat-controller v1\n"
    );
    let listing = Command::new("tar")
        .arg("-tzvf")
        .arg(&bundle.archive)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    for file in [
        "bin/heat-controller",
        "install.sh",
        "mosquitto/README",
        ".env.example",
    ] {
        assert!(
            listing.contains(&format!("heat-controller-v1/{file}")),
            "{file} in {listing}"
        );
    }
    assert!(
        listing.lines().all(|l| l.contains(" root/root ")),
        "owned by root: {listing}"
    );

    // Rebuilding replaces the directory rather than mixing old files in.
    fs::write(bundle.dir.join("stale"), "x").unwrap();
    let again = bundle_with(out.path(), "v1");
    assert!(!again.dir.join("stale").exists());
}

#[test]
fn a_binary_the_build_did_not_produce_is_an_error_naming_it() {
    let out = tempfile::tempdir().unwrap();
    let err = assemble(
        out.path(),
        "b",
        &[("heat-controller", out.path().join("nope/heat-controller"))],
    )
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("bin/heat-controller"),
        "{err:#}"
    );
}

/// Runs the bundle's install.sh into `root` with a logging fake service manager.
fn install(bundle: &Bundle, root: &Path, command: &str) -> std::process::Output {
    let log = root.join("service-manager.log");
    let fake = root.join("fake-systemctl");
    if !fake.exists() {
        fs::write(
            &fake,
            format!("#!/bin/sh\necho \"$*\" >> '{}'\n", log.display()),
        )
        .unwrap();
        fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    }
    Command::new("sh")
        .arg(bundle.dir.join("install.sh"))
        .arg(command)
        .env("DESTDIR", root)
        .env("SERVICE_MANAGER", &fake)
        .output()
        .unwrap()
}

fn ok(out: std::process::Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "install.sh failed:\n{text}");
    text
}

#[test]
fn install_sh_is_idempotent_keeps_the_previous_binary_and_rolls_back() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    fs::create_dir(&root).unwrap();
    let v1 = bundle_with(&work.path().join("v1"), "v1");
    let v2 = bundle_with(&work.path().join("v2"), "v2");
    let bin = root.join("usr/local/bin");
    let conf = root.join("etc/heat-controller");
    let read = |p: PathBuf| fs::read_to_string(p).unwrap();

    ok(install(&v1, &root, "install"));
    assert!(read(bin.join("heat-controller")).contains("v1"));
    assert!(!bin.join("heat-controller.previous").exists());
    assert_eq!(mode(&bin.join("heat-controller")), 0o755);
    assert_eq!(mode(&conf), 0o750);
    let unit = read(root.join("etc/systemd/system/heat-controller.service"));
    assert_eq!(
        unit,
        UNIT.replace(
            "ExecStart=/usr/bin/heat-controller",
            "ExecStart=/usr/local/bin/heat-controller"
        )
        .replace(
            "Documentation=file:/usr/share/doc/",
            "Documentation=file:/usr/local/share/doc/"
        )
    );
    assert_eq!(read(conf.join("heat.toml")), HEAT_TOML);
    let env = read(conf.join("heat.env"));
    assert!(env.contains("\n# MQTT_PASSWORD=change-me"), "{env}");
    assert!(
        !env.lines().any(|l| l.starts_with("MQTT_PASSWORD=")),
        "{env}"
    );
    assert!(
        !conf.join("mqtt_password").exists(),
        "no password is invented"
    );

    // The operator configures the board; a re-run and an upgrade keep the three files.
    fs::write(conf.join("heat.env"), "MQTT_BROKER=broker.lan\n").unwrap();
    fs::write(conf.join("heat.toml"), "[hardware]\nbackend = \"w1\"\n").unwrap();
    fs::write(conf.join("mqtt_password"), "s3cret-from-the-operator\n").unwrap();
    let again = ok(install(&v1, &root, "install"));
    assert!(again.contains("already this version"), "{again}");
    assert!(
        !bin.join("heat-controller.previous").exists(),
        "same binary: nothing to keep"
    );

    ok(install(&v2, &root, "install"));
    assert!(read(bin.join("heat-controller")).contains("v2"));
    assert!(read(bin.join("heat-controller.previous")).contains("v1"));
    assert!(read(bin.join("heat-diag.previous")).contains("v1"));
    assert_eq!(read(conf.join("heat.env")), "MQTT_BROKER=broker.lan\n");
    assert_eq!(
        read(conf.join("heat.toml")),
        "[hardware]\nbackend = \"w1\"\n"
    );
    assert_eq!(
        read(conf.join("mqtt_password")),
        "s3cret-from-the-operator\n"
    );
    assert_eq!(
        read(root.join("service-manager.log")),
        "daemon-reload\nenable heat-controller.service\n".repeat(3)
    );

    ok(install(&v2, &root, "rollback"));
    assert!(read(bin.join("heat-controller")).contains("v1"));
    assert!(read(bin.join("heat-controller.failed")).contains("v2"));
    assert!(
        read(bin.join("heat-diag")).contains("v2"),
        "only the service rolls back"
    );
}

#[test]
fn install_sh_rollback_without_a_previous_binary_fails_clearly() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    fs::create_dir(&root).unwrap();
    let v1 = bundle_with(&work.path().join("v1"), "v1");
    let out = install(&v1, &root, "rollback");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("heat-controller.previous to roll back to"),
        "{err}"
    );
    let out = install(&v1, &root, "frobnicate");
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown command"));
}
