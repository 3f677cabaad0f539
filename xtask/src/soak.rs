//! `cargo xtask soak [--restarts N]`: installs what the soak needs, then runs it: the bench
//! `bins/heat-controller/benches/soak.rs` (broker restarted N times, default 100, under the
//! simulated controller with sensor and relay faults; memory per restart into
//! `target/soak/memory.csv`). The soak itself is a bench of heat-controller because it starts
//! a real broker through test-mosquitto, which needs OpenSSL: xtask stays buildable on a machine
//! that has installed nothing yet.

use anyhow::{Context, Result, bail};

use crate::{
    dist::target_dir,
    system::{self, cargo, project_root, run},
};

/// `SOAK_RESTARTS` for the bench: the count from `--restarts N`, or none for its default.
fn restarts(args: &[String]) -> Result<Option<usize>> {
    match args {
        [] => Ok(None),
        [flag, n] if flag == "--restarts" => n
            .parse()
            .map(Some)
            .with_context(|| format!("--restarts takes a number of restarts, not {n:?}")),
        _ => bail!("usage: cargo xtask soak [--restarts N]"),
    }
}

pub(crate) fn soak(args: &[String]) -> Result<()> {
    let restarts = restarts(args)?;
    system::ensure_packages(&system::TEST_PACKAGES)?;
    let root = project_root();
    let csv = target_dir(&root)?.join("soak/memory.csv");
    let mut bench = cargo();
    bench
        .current_dir(&root)
        .args([
            "bench",
            "--locked",
            "-p",
            "heat-controller",
            "--bench",
            "soak",
        ])
        .env("SOAK_CSV", &csv);
    if let Some(n) = restarts {
        bench.env("SOAK_RESTARTS", n.to_string());
    }
    println!("==> building and running the soak (release build of heat-controller)");
    run(&mut bench)
}

#[cfg(test)]
mod tests {
    use super::restarts;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn restarts_come_from_the_flag_or_the_bench_default() {
        assert_eq!(restarts(&[]).unwrap(), None);
        assert_eq!(
            restarts(&args(&["--restarts", "1000"])).unwrap(),
            Some(1000)
        );
        let odd = restarts(&args(&["--restarts", "many"])).unwrap_err();
        assert!(format!("{odd:#}").contains("\"many\""), "{odd:#}");
        let unknown = restarts(&args(&["--forever"])).unwrap_err();
        assert!(format!("{unknown:#}").contains("usage"), "{unknown:#}");
    }
}
