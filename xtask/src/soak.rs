//! `cargo xtask soak [--restarts N]`: the fault-injection restart loop for longer than CI runs
//! it. A private Mosquitto is restarted N times (default 100) under the controller (debug build,
//! `--simulate` at 50×, with sensor and relay faults scheduled all along); after every restart
//! it waits for the reconnect and samples the controller's VmRSS, then prints a table: RSS
//! min/max/last, reconnects, broker-side connection attempts against the retry policy's bound,
//! faults injected and cleared. Fails when the controller dies, does not reconnect within 60 s,
//! or exceeds the bound. `docs/reliability.md` records a run.

use std::{
    fs,
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail, ensure};
use test_mosquitto::BrokerBuilder;

use crate::system::{self, cargo, project_root, run};

const CTL_PASSWORD: &str = "soak-ctl-pw-Vr8Jq3Nw";
const ACL: &str = "user ctl\ntopic readwrite solar_heating/#\ntopic write homeassistant/#\n\
                   topic read homeassistant/status\n";
/// Sensor and relay faults, repeated every this many simulated seconds.
const FAULT_CYCLE_S: u64 = 900;

/// Faults for `cycles` cycles of [`FAULT_CYCLE_S`]: tank top disconnected, heater relay
/// failing, collector CRC errors, tank bottom missing.
fn fault_schedule(cycles: u64) -> String {
    (0..cycles)
        .map(|c| {
            let t = c * FAULT_CYCLE_S;
            format!(
                "disconnected:tank_top@{}+120,relay:heater@{}+200,crc:collector@{}+60,\
                 missing:tank_bottom@{}+90",
                t + 60,
                t + 250,
                t + 500,
                t + 700
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn rss_kb(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn soak(args: &[String]) -> Result<()> {
    let restarts: usize = match args {
        [] => 100,
        [flag, n] if flag == "--restarts" => n.parse().context("--restarts takes a number")?,
        _ => bail!("usage: cargo xtask soak [--restarts N]"),
    };
    system::ensure_packages(&system::TEST_PACKAGES)?;
    println!("==> building heat-controller");
    run(cargo().current_dir(project_root()).args([
        "build",
        "--quiet",
        "--locked",
        "--package",
        "heat-controller",
    ]))?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| project_root().join("target"));
    let binary = target.join("debug/heat-controller");

    let mut broker = BrokerBuilder::new()
        .user("ctl", CTL_PASSWORD)
        .acl(ACL)
        .start()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let dir = broker.dir().to_owned();
    let config = dir.join("heat.toml");
    fs::write(
        &config,
        format!(
            "[controller]\nperiod_secs = 1\nheartbeat_secs = 5\nprobe_anonymous = false\n\
             lock_file = \"{}\"\n",
            dir.join("lock").display()
        ),
    )?;
    let log_path = dir.join("controller.log");
    let journal = dir.join("relays.journal");
    // ~1.5 s per restart at 50×: generous schedule length.
    let cycles = (restarts as u64 * 3 * 50) / FAULT_CYCLE_S + 2;
    let started = Instant::now();
    let child = Command::new(&binary)
        .env_clear()
        .env("RUST_LOG", "info")
        .env("MQTT_BROKER", "127.0.0.1")
        .env("MQTT_PORT", broker.port().to_string())
        .env("MQTT_USERNAME", "ctl")
        .env("MQTT_PASSWORD", CTL_PASSWORD)
        .arg("--config")
        .arg(&config)
        .args(["--simulate", "--time-scale", "50", "--relay-journal"])
        .arg(&journal)
        .arg("--sim-faults")
        .arg(fault_schedule(cycles))
        .stdin(Stdio::null())
        .stdout(fs::File::create(&log_path)?)
        .stderr(fs::File::create(dir.join("controller.stderr"))?)
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let mut ctl = Killed(child);
    let pid = ctl.0.id();
    let log = || {
        let mut text = fs::read_to_string(&log_path).unwrap_or_default();
        text.push_str(&fs::read_to_string(dir.join("controller.stderr")).unwrap_or_default());
        text
    };
    let wait_connections = |n: usize, ctl: &mut Killed| -> Result<()> {
        let since = Instant::now();
        while log().matches("MQTT session connected").count() < n {
            ensure!(
                ctl.0.try_wait()?.is_none(),
                "the controller exited:\n{}",
                log()
            );
            ensure!(
                since.elapsed() < Duration::from_secs(60),
                "no reconnect #{n} within 60 s"
            );
            thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    };
    wait_connections(1, &mut ctl)?;
    let mut samples = vec![rss_kb(pid).unwrap_or(0)];
    println!("==> {restarts} broker restarts");
    for i in 0..restarts {
        broker.restart().map_err(|e| anyhow::anyhow!("{e}"))?;
        wait_connections(i + 2, &mut ctl)?;
        samples.push(rss_kb(pid).unwrap_or(0));
        if (i + 1) % 10 == 0 {
            println!(
                "    {:>4} restarts, VmRSS {} kB",
                i + 1,
                samples[samples.len() - 1]
            );
        }
    }
    let elapsed = started.elapsed();
    let attempts = broker.connection_attempts();
    let bound = 1 + elapsed.as_secs() as usize;
    let out = log();
    let injected = out.matches("simulated fault injected").count();
    let cleared = out.matches("simulated fault cleared").count();
    let relay_failures = out.matches("relay write failed").count();
    let resumed = out.matches("control resumes").count();
    let journal_text = fs::read_to_string(&journal).unwrap_or_default();

    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()?;
    let status = ctl.0.wait()?;

    let min = samples.iter().min().copied().unwrap_or(0);
    let max = samples.iter().max().copied().unwrap_or(0);
    let last = samples.last().copied().unwrap_or(0);
    println!("\n| soak figure                         | value |");
    println!("|-------------------------------------|------:|");
    println!("| broker restarts                     | {restarts} |");
    println!(
        "| duration, s                         | {:.0} |",
        elapsed.as_secs_f64()
    );
    println!(
        "| reconnects (connection #)           | {} |",
        out.matches("MQTT session connected").count()
    );
    println!("| attempts seen by the broker         | {attempts} |");
    println!("| policy bound (1 + elapsed / 1 s)    | {bound} |");
    println!("| VmRSS min / max / last, kB          | {min} / {max} / {last} |");
    println!(
        "| VmRSS first → last sample, kB       | {} → {last} |",
        samples[0]
    );
    println!("| sim faults injected / cleared       | {injected} / {cleared} |");
    println!("| relay failures / control resumed    | {relay_failures} / {resumed} |");
    println!(
        "| relay journal lines                 | {} |",
        journal_text.lines().count()
    );
    println!("| exit after SIGTERM                  | {status} |");
    ensure!(attempts <= bound, "{attempts} attempts > bound {bound}");
    ensure!(status.success(), "the controller exited with {status}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::fault_schedule;

    #[test]
    fn the_fault_schedule_repeats_every_cycle() {
        let s = fault_schedule(2);
        assert_eq!(s.split(',').count(), 8);
        assert!(s.starts_with("disconnected:tank_top@60+120,"));
        assert!(s.contains("relay:heater@1150+200"));
    }
}
