//! Tests of the requirement plan: what is missing, in which order it installs, and the commands
//! a person without root is told to run.

use super::*;

/// A machine described by lists.
#[derive(Default)]
struct Fake {
    programs: Vec<&'static str>,
    packages: Vec<&'static str>,
    architectures: Vec<&'static str>,
    rust_targets: Vec<&'static str>,
    cargo_deb: Option<&'static str>,
}

impl Inventory for Fake {
    fn has_program(&self, program: &str) -> bool {
        self.programs.contains(&program)
    }
    fn has_package(&self, package: &str) -> bool {
        self.packages.contains(&package)
    }
    fn architectures(&self) -> Vec<String> {
        self.architectures.iter().map(|s| (*s).to_owned()).collect()
    }
    fn rust_targets(&self) -> Vec<String> {
        self.rust_targets.iter().map(|s| (*s).to_owned()).collect()
    }
    fn cargo_tool_version(&self, subcommand: &str) -> Option<String> {
        assert_eq!(subcommand, "deb");
        self.cargo_deb.map(str::to_owned)
    }
}

const AARCH64: Requirement = Requirement::RustTarget {
    triple: "aarch64-unknown-linux-gnu",
};
const SSL_ARM64: Requirement = Requirement::package("libssl-dev:arm64");
const GCC_ARM64: Requirement = Requirement::new("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu");

#[test]
fn a_fresh_machine_gets_the_architecture_then_packages_then_target_then_tool() {
    let fresh = Fake {
        architectures: vec!["amd64"],
        rust_targets: vec!["x86_64-unknown-linux-gnu"],
        ..Fake::default()
    };
    let todo = plan(&[GCC_ARM64, SSL_ARM64, AARCH64, CARGO_DEB, CMAKE], &fresh);
    assert_eq!(todo.architectures, ["arm64"]);
    assert_eq!(
        todo.packages,
        ["gcc-aarch64-linux-gnu", "libssl-dev:arm64", "cmake"]
    );
    assert_eq!(todo.rust_targets, ["aarch64-unknown-linux-gnu"]);
    assert_eq!(todo.cargo_tools, ["cargo-deb@3.8.0"]);
    assert_eq!(
        todo.commands("sudo "),
        [
            "sudo dpkg --add-architecture arm64",
            "sudo apt-get update && sudo apt-get install -y gcc-aarch64-linux-gnu libssl-dev:arm64 cmake",
            "rustup target add aarch64-unknown-linux-gnu",
            "cargo install --locked cargo-deb@3.8.0",
        ]
    );
}

#[test]
fn nothing_is_planned_when_everything_is_there() {
    let ready = Fake {
        programs: vec!["aarch64-linux-gnu-gcc", "cmake"],
        packages: vec!["libssl-dev:arm64"],
        architectures: vec!["amd64", "arm64"],
        rust_targets: vec!["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"],
        cargo_deb: Some("cargo-deb 3.8.0"),
    };
    let todo = plan(&[GCC_ARM64, SSL_ARM64, AARCH64, CARGO_DEB, CMAKE], &ready);
    assert!(todo.is_empty(), "{todo:?}");
    assert!(todo.commands("sudo ").is_empty());
}

#[test]
fn a_package_of_an_enabled_architecture_needs_no_add_architecture() {
    let armhf_enabled = Fake {
        architectures: vec!["amd64", "armhf"],
        ..Fake::default()
    };
    let todo = plan(&[Requirement::package("libssl-dev:armhf")], &armhf_enabled);
    assert!(todo.architectures.is_empty());
    assert_eq!(todo.packages, ["libssl-dev:armhf"]);
    // A native package never asks for an architecture.
    let todo = plan(&[LIBSSL_DEV], &Fake::default());
    assert!(todo.architectures.is_empty());
    assert_eq!(todo.packages, ["libssl-dev"]);
}

#[test]
fn another_version_of_a_cargo_tool_is_replaced_by_the_pinned_one() {
    for installed in ["cargo-deb 2.0.0", "cargo-deb 3.8.01", "3.8.0-beta"] {
        let other = Fake {
            cargo_deb: Some(installed),
            ..Fake::default()
        };
        assert_eq!(
            plan(&[CARGO_DEB], &other).cargo_tools,
            ["cargo-deb@3.8.0"],
            "{installed}"
        );
    }
    let pinned = Fake {
        cargo_deb: Some("cargo-deb v3.8.0"),
        ..Fake::default()
    };
    assert!(plan(&[CARGO_DEB], &pinned).is_empty());
}

#[test]
fn a_package_wanted_twice_is_installed_once() {
    let todo = plan(
        &[MOSQUITTO_PUB, MOSQUITTO_SUB, MOSQUITTO, MOSQUITTO_PASSWD],
        &Fake::default(),
    );
    assert_eq!(todo.packages, ["mosquitto-clients", "mosquitto"]);
}

#[test]
fn the_test_list_holds_what_a_minimal_debian_root_lacks() {
    // Programs some test runs that `debootstrap --variant=minbase` + build-essential lacks.
    for (program, package) in [
        ("ip", "iproute2"),
        ("kill", "procps"),
        ("cmake", "cmake"),
        ("pkg-config", "pkg-config"),
        ("systemd-analyze", "systemd"),
        ("lintian", "lintian"),
        ("qemu-aarch64-static", "qemu-user-static"),
        ("sshd", "openssh-server"),
    ] {
        assert!(
            TEST_PACKAGES.contains(&Requirement::new(program, package)),
            "{program} ({package}) is not in TEST_PACKAGES"
        );
    }
    assert!(TEST_PACKAGES.contains(&LIBSSL_DEV));
    assert!(TEST_PACKAGES.contains(&CARGO_DEB));
    // The dist tests cross-build: everything either target requires on an x86_64 host.
    for target in [crate::cross::AARCH64, crate::cross::ARMV7] {
        for needed in target.requirements("x86_64-unknown-linux-gnu") {
            assert!(
                TEST_PACKAGES.contains(&needed),
                "{needed:?} is not in TEST_PACKAGES"
            );
        }
    }
}
