//! Tests of the target table: names, the cross environment and the ELF header check.

use super::*;

const HOST: &str = "x86_64-unknown-linux-gnu";

#[test]
fn each_target_is_found_by_its_triple_and_an_unknown_one_lists_the_supported() {
    assert_eq!(
        Target::of("aarch64-unknown-linux-gnu").unwrap().deb_arch,
        "arm64"
    );
    assert_eq!(
        Target::of("armv7-unknown-linux-gnueabihf")
            .unwrap()
            .deb_arch,
        "armhf"
    );
    assert_eq!(Target::of(HOST).unwrap().deb_arch, "amd64");
    let err = Target::of("arm-unknown-linux-gnueabi")
        .unwrap_err()
        .to_string();
    assert!(err.contains("armv7-unknown-linux-gnueabihf"), "{err}");
    assert!(err.contains("arm-unknown-linux-gnueabi"), "{err}");
}

#[test]
fn a_cross_build_points_linker_c_compiler_and_pkg_config_at_the_target() {
    let env = AARCH64.build_env(HOST);
    let get = |key: &str| {
        env.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {key} in {env:?}"))
    };
    assert_eq!(
        get("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER"),
        "aarch64-linux-gnu-gcc"
    );
    assert_eq!(get("CC_aarch64_unknown_linux_gnu"), "aarch64-linux-gnu-gcc");
    assert_eq!(get("AR_aarch64_unknown_linux_gnu"), "aarch64-linux-gnu-ar");
    assert_eq!(get("PKG_CONFIG_ALLOW_CROSS"), "1");
    assert_eq!(
        get("PKG_CONFIG_LIBDIR"),
        "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig"
    );
    let armhf = ARMV7.build_env(HOST);
    assert!(armhf.contains(&(
        "CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER".to_owned(),
        "arm-linux-gnueabihf-gcc".to_owned()
    )));
    assert_eq!(
        ARMV7.qemu_command(Path::new("/x/heat-controller")),
        "qemu-arm-static -L / /x/heat-controller"
    );
}

#[test]
fn a_native_build_needs_no_cross_environment_and_nothing_extra() {
    assert!(X86_64.build_env(HOST).is_empty());
    assert!(X86_64.requirements(HOST).is_empty());
    // Building for the PC on a Pi is a cross build too.
    assert!(!X86_64.build_env("aarch64-unknown-linux-gnu").is_empty());
}

#[test]
fn a_cross_build_requires_the_target_its_gcc_and_its_openssl() {
    assert_eq!(
        ARMV7.requirements(HOST),
        [
            Requirement::RustTarget {
                triple: "armv7-unknown-linux-gnueabihf"
            },
            Requirement::new("arm-linux-gnueabihf-gcc", "gcc-arm-linux-gnueabihf"),
            Requirement::package("libssl-dev:armhf"),
        ]
    );
}

#[test]
fn the_elf_header_gives_class_and_machine_in_either_byte_order() {
    let mut header = vec![0u8; 64];
    header[..4].copy_from_slice(b"\x7fELF");
    header[4] = 2;
    header[5] = 1;
    header[18..20].copy_from_slice(&183u16.to_le_bytes());
    assert_eq!(elf_header(&header).unwrap(), (2, 183));
    header[4] = 1;
    header[5] = 2;
    header[18..20].copy_from_slice(&40u16.to_be_bytes());
    assert_eq!(elf_header(&header).unwrap(), (1, 40));
    assert!(elf_header(b"#!/bin/sh\necho not elf\n").is_err());
    assert!(elf_header(b"\x7fELF").is_err(), "too short");
    // This test binary itself is an ELF of the host.
    let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    let host = TARGETS
        .into_iter()
        .find(|t| t.triple.starts_with(std::env::consts::ARCH))
        .expect("the host is one of the targets");
    assert_eq!(elf_header(&me).unwrap(), (host.elf_class, host.elf_machine));
}
