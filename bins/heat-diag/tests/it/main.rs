//! End-to-end tests of the `heat-diag` binary: exit codes, output, and a real Mosquitto.
//!
//! The binary runs with a cleared environment in its own temp dir, so neither the developer's
//! variables nor a stray `.env` leak in.

mod check_config;
mod connect;

use std::{
    fs,
    os::unix::fs::PermissionsExt,
    path::Path,
    process::{Command, Output},
};

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
