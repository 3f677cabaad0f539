//! The pure half of `cargo xtask bench`: which targets were asked for, where cargo put them, the one
//! table and `bench.json`. No IO here; `bench.rs` gathers the inputs.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use bench_report::{Figure, Record};
use serde_json::{Value, json};

/// A benchmark target of the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) package: &'static str,
    pub(crate) bench: &'static str,
    /// Mostly idle (waiting out an outage): started first, the others run meanwhile.
    pub(crate) background: bool,
}

/// Every target, in the order of the table.
pub(crate) const TARGETS: [Target; 7] = [
    Target {
        package: "heat-core",
        bench: "step",
        background: false,
    },
    Target {
        package: "heat-hw",
        bench: "sweep",
        background: false,
    },
    Target {
        package: "mqtt-auth",
        bench: "connect",
        background: false,
    },
    Target {
        package: "heat-sim",
        bench: "sim",
        background: false,
    },
    Target {
        package: "heat-controller",
        bench: "e2e",
        background: false,
    },
    Target {
        package: "heat-controller",
        bench: "relay",
        background: false,
    },
    Target {
        package: "heat-controller",
        bench: "outage",
        background: true,
    },
];

/// The targets named by `args` (a bench or a package name each), in table order; all of them
/// when `args` is empty.
pub(crate) fn select(args: &[String]) -> Result<Vec<Target>> {
    if let Some(unknown) = args
        .iter()
        .find(|a| !TARGETS.iter().any(|t| t.bench == *a || t.package == *a))
    {
        let names: Vec<&str> = TARGETS.iter().map(|t| t.bench).collect();
        bail!(
            "no benchmark {unknown:?}: name one of {} (or a package)",
            names.join(", ")
        );
    }
    Ok(TARGETS
        .into_iter()
        .filter(|t| args.is_empty() || args.iter().any(|a| a == t.bench || a == t.package))
        .collect())
}

/// Bench target name → executable, from the output of `cargo bench --no-run
/// --message-format=json`.
pub(crate) fn bench_executables(cargo_json: &str) -> BTreeMap<String, String> {
    cargo_json
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .filter(|m| {
            m["target"]["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bench"))
        })
        .filter_map(|m| {
            Some((
                m["target"]["name"].as_str()?.to_owned(),
                m["executable"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// Reads a records file: one [`Record`] per non-empty line.
pub(crate) fn parse_records(text: &str) -> Result<Vec<Record>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Record::from_line(l).map_err(|e| anyhow::anyhow!("bad record {l:?}: {e}")))
        .collect()
}

/// `value` with as many decimals as its size deserves: 8780, 53.6, 4.53, 0.748.
pub(crate) fn number(value: f64, unit: &str) -> String {
    if !value.is_finite() {
        return "n/a".to_owned();
    }
    let text = if unit.is_empty() && value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        let magnitude = value.abs();
        let decimals = if magnitude >= 100.0 {
            0
        } else if magnitude >= 10.0 {
            1
        } else if magnitude >= 1.0 {
            2
        } else {
            3
        };
        format!("{value:.decimals$}")
    };
    if unit.is_empty() {
        text
    } else {
        format!("{text} {unit}")
    }
}

/// The one table, in Markdown: bench | measure | p50 | p99 | max / value | goal | verdict.
pub(crate) fn table(records: &[Record]) -> String {
    let header = [
        "bench",
        "measure",
        "p50",
        "p99",
        "max / value",
        "goal",
        "verdict",
    ];
    let right = [false, false, true, true, true, false, false];
    let rows: Vec<[String; 7]> = records
        .iter()
        .map(|r| {
            let (p50, p99, last) = match r.figure {
                Figure::Stats(s) => (
                    number(s.p50, &r.unit),
                    number(s.p99, &r.unit),
                    number(s.max, &r.unit),
                ),
                Figure::Value { value } => (String::new(), String::new(), number(value, &r.unit)),
            };
            let verdict = match r.met {
                Some(true) => "met",
                Some(false) => "**MISSED**",
                None => "",
            };
            [
                r.bench.clone(),
                r.label.clone(),
                p50,
                p99,
                last,
                r.goal.clone().unwrap_or_default(),
                verdict.to_owned(),
            ]
        })
        .collect();
    let width = |i: usize| {
        rows.iter()
            .map(|row| row[i].chars().count())
            .chain([header[i].chars().count(), 3])
            .max()
            .unwrap_or(3)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = " ".repeat(widths[i] - c.chars().count());
                if right[i] {
                    format!("{pad}{c}")
                } else {
                    format!("{c}{pad}")
                }
            })
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let mut out = line(&header.map(str::to_owned));
    let rule: Vec<String> = (0..header.len())
        .map(|i| {
            let dashes = "-".repeat(widths[i] + 2);
            if right[i] {
                format!("{}:", &dashes[1..])
            } else {
                dashes
            }
        })
        .collect();
    out.push_str(&format!("|{}|\n", rule.join("|")));
    for row in &rows {
        out.push_str(&line(row));
    }
    out
}

/// How one target's run went.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Run {
    pub(crate) bench: String,
    pub(crate) seconds: f64,
    pub(crate) ok: bool,
    /// Where its own detailed output is.
    pub(crate) log: String,
}

/// Where and when the figures were measured.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Meta {
    /// RFC 3339, UTC.
    pub(crate) date: String,
    pub(crate) commit: String,
    /// Uncommitted changes in the worktree.
    pub(crate) dirty: bool,
    pub(crate) nproc: usize,
    pub(crate) kernel: String,
    pub(crate) mosquitto: String,
    /// 1, 5 and 15 minute load averages when the run started and when it ended.
    pub(crate) load_before: [f64; 3],
    pub(crate) load_after: [f64; 3],
    pub(crate) seconds: f64,
    pub(crate) runs: Vec<Run>,
}

/// The machine line printed above the table.
pub(crate) fn machine_line(meta: &Meta) -> String {
    let load = |l: [f64; 3]| format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2]);
    format!(
        "{} · {} cores, Linux {}, Mosquitto {} · commit {}{} · load {} → {} · {:.0} s",
        meta.date,
        meta.nproc,
        meta.kernel,
        meta.mosquitto,
        meta.commit.get(..12).unwrap_or(&meta.commit),
        if meta.dirty { " (dirty)" } else { "" },
        load(meta.load_before),
        load(meta.load_after),
        meta.seconds,
    )
}

/// `bench.json`: the run's metadata and every record.
pub(crate) fn report_json(meta: &Meta, records: &[Record]) -> Value {
    json!({
        "date": meta.date,
        "commit": meta.commit,
        "dirty": meta.dirty,
        "machine": {
            "nproc": meta.nproc,
            "kernel": meta.kernel,
            "mosquitto": meta.mosquitto,
            "load_before": meta.load_before,
            "load_after": meta.load_after,
        },
        "seconds": (meta.seconds * 10.0).round() / 10.0,
        "runs": meta.runs.iter().map(|r| json!({
            "bench": r.bench,
            "seconds": (r.seconds * 10.0).round() / 10.0,
            "ok": r.ok,
            "log": r.log,
        })).collect::<Vec<_>>(),
        "records": records,
    })
}

/// `secs` after the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub(crate) fn rfc3339_utc(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 (non-negative here).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The three load averages of `/proc/loadavg`.
pub(crate) fn parse_loadavg(text: &str) -> Option<[f64; 3]> {
    let mut fields = text.split_whitespace().map(str::parse::<f64>);
    Some([
        fields.next()?.ok()?,
        fields.next()?.ok()?,
        fields.next()?.ok()?,
    ])
}

/// The version in `mosquitto -h`'s first line, `mosquitto version 2.0.11`.
pub(crate) fn parse_mosquitto_version(help: &str) -> Option<String> {
    help.lines()
        .find_map(|l| l.trim().strip_prefix("mosquitto version "))
        .map(|v| v.trim().to_owned())
}
