//! The targets `cargo xtask dist` builds for, and what a Debian 12 host needs to cross-build
//! for each: the Rust target, Debian's cross gcc, the target's OpenSSL through multiarch, and the
//! environment that points cargo, cc-rs, cmake (Paho C) and pkg-config (openssl-sys) at them.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::system::{self, Requirement};

/// A target triple with its Debian names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) triple: &'static str,
    /// dpkg's name for it: the .deb's architecture.
    pub(crate) deb_arch: &'static str,
    /// The GNU triplet: the cross gcc's prefix and the multiarch directory name.
    pub(crate) gnu: &'static str,
    /// `e_machine` of its ELF executables.
    pub(crate) elf_machine: u16,
    /// `e_ident[EI_CLASS]`: 1 for 32-bit, 2 for 64-bit.
    pub(crate) elf_class: u8,
    /// Runs its binaries on another architecture (`qemu-user-static`).
    pub(crate) qemu: Requirement,
    pub(crate) cross_gcc: Requirement,
    pub(crate) libssl_dev: Requirement,
    pub(crate) rust_target: Requirement,
}

/// Raspberry Pi OS 64-bit (Pi 3, 4, 5, Zero 2).
pub(crate) const AARCH64: Target = Target {
    triple: "aarch64-unknown-linux-gnu",
    deb_arch: "arm64",
    gnu: "aarch64-linux-gnu",
    elf_machine: 183, // EM_AARCH64
    elf_class: 2,
    qemu: system::QEMU_AARCH64,
    cross_gcc: Requirement::new("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"),
    libssl_dev: Requirement::package("libssl-dev:arm64"),
    rust_target: Requirement::RustTarget {
        triple: "aarch64-unknown-linux-gnu",
    },
};

/// Raspberry Pi OS 32-bit (armhf; ARMv7: Pi 2, 3, 4, Zero 2).
pub(crate) const ARMV7: Target = Target {
    triple: "armv7-unknown-linux-gnueabihf",
    deb_arch: "armhf",
    gnu: "arm-linux-gnueabihf",
    elf_machine: 40, // EM_ARM
    elf_class: 1,
    qemu: system::QEMU_ARM,
    cross_gcc: Requirement::new("arm-linux-gnueabihf-gcc", "gcc-arm-linux-gnueabihf"),
    libssl_dev: Requirement::package("libssl-dev:armhf"),
    rust_target: Requirement::RustTarget {
        triple: "armv7-unknown-linux-gnueabihf",
    },
};

/// A PC or a VM, and the CI machine.
pub(crate) const X86_64: Target = Target {
    triple: "x86_64-unknown-linux-gnu",
    deb_arch: "amd64",
    gnu: "x86_64-linux-gnu",
    elf_machine: 62, // EM_X86_64
    elf_class: 2,
    qemu: Requirement::new("qemu-x86_64-static", "qemu-user-static"),
    cross_gcc: Requirement::new("x86_64-linux-gnu-gcc", "gcc-x86-64-linux-gnu"),
    libssl_dev: Requirement::package("libssl-dev:amd64"),
    rust_target: Requirement::RustTarget {
        triple: "x86_64-unknown-linux-gnu",
    },
};

pub(crate) const TARGETS: [Target; 3] = [AARCH64, ARMV7, X86_64];

impl Target {
    /// The supported target of `triple`, or an error listing them.
    pub(crate) fn of(triple: &str) -> Result<Target> {
        match TARGETS.into_iter().find(|t| t.triple == triple) {
            Some(t) => Ok(t),
            None => bail!(
                "`cargo xtask dist` builds for {} (the Debian architectures {}), not {triple:?}",
                TARGETS.map(|t| t.triple).join(", "),
                TARGETS.map(|t| t.deb_arch).join(", "),
            ),
        }
    }

    /// Cargo's and cc-rs's spelling in environment variable names:
    /// `aarch64_unknown_linux_gnu`.
    fn env_suffix(&self) -> String {
        self.triple.replace(['-', '.'], "_")
    }

    /// What building for this target needs on `host` (the triple of this machine), beyond what
    /// any build needs ([`HOST_BUILD`]).
    pub(crate) fn requirements(&self, host: &str) -> Vec<Requirement> {
        if self.triple == host {
            Vec::new()
        } else {
            vec![self.rust_target, self.cross_gcc, self.libssl_dev]
        }
    }

    /// The environment of a cross build from `host`; empty for a native one.
    ///
    /// - cargo links with the cross gcc;
    /// - cc-rs (and the cmake crate, which asks cc-rs for the compiler) build C with it: Paho C's
    ///   cmake build then runs in cross mode for this target;
    /// - openssl-sys asks pkg-config, here restricted to the target's multiarch `.pc` files;
    ///   Paho C gets the same OpenSSL through openssl-sys (`DEP_OPENSSL_INCLUDE`), and the cross
    ///   gcc finds the target's libssl in `/usr/lib/<gnu>` by itself.
    pub(crate) fn build_env(&self, host: &str) -> Vec<(String, String)> {
        if self.triple == host {
            return Vec::new();
        }
        let suffix = self.env_suffix();
        let gcc = format!("{}-gcc", self.gnu);
        vec![
            (
                format!("CARGO_TARGET_{}_LINKER", suffix.to_uppercase()),
                gcc.clone(),
            ),
            (format!("CC_{suffix}"), gcc),
            (format!("AR_{suffix}"), format!("{}-ar", self.gnu)),
            ("PKG_CONFIG_ALLOW_CROSS".to_owned(), "1".to_owned()),
            (
                "PKG_CONFIG_LIBDIR".to_owned(),
                format!("/usr/lib/{}/pkgconfig:/usr/share/pkgconfig", self.gnu),
            ),
        ]
    }

    /// How to run `binary` of this target here: `qemu-aarch64-static -L / BIN`.
    pub(crate) fn qemu_command(&self, binary: &Path) -> String {
        let program = match self.qemu {
            Requirement::Program { program, .. } => program,
            _ => "qemu-user-static",
        };
        format!(
            "{program} -L {} {}",
            self.qemu_root().display(),
            binary.display()
        )
    }

    /// qemu-user's `-L`: the host's root, whose multiarch `libc6:<arch>` (pulled in by
    /// `libssl3:<arch>`) provides ld.so and libc together, as on the board. Not the cross gcc's
    /// `/usr/<gnu>`: its ld.so (2.36-8cross1 on Debian 12) then loads the multiarch libc.so.6
    /// (2.36-9+deb12u…) from `/lib/<gnu>`, and the mismatched pair hangs at the first thread.
    pub(crate) fn qemu_root(&self) -> PathBuf {
        PathBuf::from("/")
    }
}

/// What every build of the binaries needs: Paho C is built with cmake and links OpenSSL, which
/// openssl-sys finds through pkg-config (the host's, for the host build and for build scripts).
pub(crate) const HOST_BUILD: [Requirement; 3] =
    [system::CMAKE, system::PKG_CONFIG, system::LIBSSL_DEV];

/// An ELF file's class and machine, read from its header (not from `file`'s description).
pub(crate) fn elf_header(bytes: &[u8]) -> Result<(u8, u16)> {
    if bytes.len() < 20 || &bytes[..4] != b"\x7fELF" {
        bail!("not an ELF file (no \\x7fELF magic)");
    }
    let class = bytes[4];
    let machine = match bytes[5] {
        1 => u16::from_le_bytes([bytes[18], bytes[19]]),
        2 => u16::from_be_bytes([bytes[18], bytes[19]]),
        other => bail!("ELF data encoding {other} is neither little- nor big-endian"),
    };
    Ok((class, machine))
}

#[cfg(test)]
mod tests;
