//! Benchmark support: percentiles, and the records `cargo xtask bench` collects into its one table.
//!
//! A bench target keeps printing its own detailed output for people. When the environment variable
//! [`RECORDS_ENV`] names a file, it also appends every headline figure there as one JSON object per
//! line (a [`Record`]): a distribution (`p50`, `p99`, `max`, `n`) or a single `value`, in a stated
//! unit, with an optional goal and whether this run met it. Goals are judged by the bench itself,
//! often against a reference measured in the same run (the broker's own round trip); nothing here
//! or in any test asserts a wall-clock limit.
//!
//! ```json
//! {"bench":"e2e","id":"echo","label":"command → state echo","unit":"ms","p50":0.75,"p99":4.5,"max":6.0,"n":1000,"goal":"p99 ≤ 2 × broker p99 + 1 ms = 1.44 ms","met":false}
//! {"bench":"e2e","id":"rss","label":"resident memory (VmRSS)","unit":"kB","value":8780.0,"goal":"≤ 7168 kB","met":false}
//! ```

use std::{
    fs::OpenOptions,
    io::Write,
    path::{Path, PathBuf},
    time::Duration,
};

use serde::{Deserialize, Deserializer, Serialize};

pub mod proc;
pub mod trend;

/// The variable naming the file a bench appends its records to; unset, nothing is written.
pub const RECORDS_ENV: &str = "BENCH_RECORDS";

/// The sample at quantile `p` (0 to 1) of `sorted`, nearest rank; `NaN` when empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() - 1) as f64 * p.clamp(0.0, 1.0)).round() as usize;
    sorted[index]
}

/// `d` in milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// JSON has no NaN: serde_json writes it as `null`, read back here as NaN.
fn nan_if_null<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// A distribution's summary, in the unit of its samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Median.
    #[serde(deserialize_with = "nan_if_null")]
    pub p50: f64,
    /// 99th percentile (nearest rank: the maximum when there are fewer than 51 samples).
    #[serde(deserialize_with = "nan_if_null")]
    pub p99: f64,
    /// Largest sample.
    #[serde(deserialize_with = "nan_if_null")]
    pub max: f64,
    /// Number of samples.
    pub n: usize,
}

impl Stats {
    /// Summarises `samples` (any order). Empty input gives `NaN`s and `n = 0`.
    pub fn of(mut samples: Vec<f64>) -> Self {
        samples.sort_by(f64::total_cmp);
        Self {
            p50: percentile(&samples, 0.5),
            p99: percentile(&samples, 0.99),
            max: samples.last().copied().unwrap_or(f64::NAN),
            n: samples.len(),
        }
    }

    /// Summarises durations, in milliseconds.
    pub fn of_ms(samples: &[Duration]) -> Self {
        Self::of(samples.iter().copied().map(ms).collect())
    }
}

/// What a record measured: a distribution or one value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Figure {
    /// A distribution over `n` samples.
    Stats(Stats),
    /// A single figure (a count, a memory size, a rate).
    Value {
        /// The figure, in the record's unit.
        #[serde(deserialize_with = "nan_if_null")]
        value: f64,
    },
}

/// One headline figure of one bench: a line of the records file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The bench target (`e2e`, `connect`, ...).
    pub bench: String,
    /// Stable within the bench, for comparing runs (`echo`, `rss`).
    pub id: String,
    /// What was measured, for people.
    pub label: String,
    /// Unit of every number in the figure (`ms`, `kB`, `s/h`; empty for a count).
    pub unit: String,
    /// The figure.
    #[serde(flatten)]
    pub figure: Figure,
    /// The goal in words, with its threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<String>,
    /// Whether this run met the goal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met: Option<bool>,
}

impl Record {
    /// Adds a goal and whether it was met.
    pub fn goal(mut self, goal: impl Into<String>, met: bool) -> Self {
        self.goal = Some(goal.into());
        self.met = Some(met);
        self
    }

    /// The record as one line of JSON (no newline). NaN becomes null (and NaN again in
    /// [`Record::from_line`]). An error is serde_json's, returned rather than replaced by `{}`.
    pub fn to_line(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// Parses one line written by [`Record::to_line`].
    pub fn from_line(line: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(line)
    }
}

/// Makes a bench's records and appends them to the file named by [`RECORDS_ENV`], if any.
#[derive(Debug, Clone)]
pub struct Recorder {
    bench: String,
    path: Option<PathBuf>,
}

impl Recorder {
    /// Records of `bench`, to the file named by [`RECORDS_ENV`] (none when it is unset or empty).
    pub fn from_env(bench: &str) -> Self {
        let path = std::env::var_os(RECORDS_ENV)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        Self::to(bench, path)
    }

    /// Records of `bench`, appended to `path` (none when `None`).
    pub fn to(bench: &str, path: Option<PathBuf>) -> Self {
        Self {
            bench: bench.to_owned(),
            path,
        }
    }

    /// The file records go to, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// A distribution record.
    pub fn stats(&self, id: &str, label: &str, unit: &str, stats: Stats) -> Record {
        self.record(id, label, unit, Figure::Stats(stats))
    }

    /// A single-value record.
    pub fn value(&self, id: &str, label: &str, unit: &str, value: f64) -> Record {
        self.record(id, label, unit, Figure::Value { value })
    }

    fn record(&self, id: &str, label: &str, unit: &str, figure: Figure) -> Record {
        Record {
            bench: self.bench.clone(),
            id: id.to_owned(),
            label: label.to_owned(),
            unit: unit.to_owned(),
            figure,
            goal: None,
            met: None,
        }
    }

    /// Appends `record` as one line. A bench that cannot record its figures has failed, so this
    /// panics on an IO or serialisation error, naming the file and the record.
    pub fn write(&self, record: Record) {
        let Some(path) = &self.path else {
            return;
        };
        let mut line = record.to_line().unwrap_or_else(|e| {
            panic!(
                "bench record {}/{} cannot be written as JSON to {}: {e}",
                record.bench,
                record.id,
                path.display()
            )
        });
        line.push('\n');
        // One write of the whole line, in append mode.
        let result = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = result {
            panic!("cannot append a bench record to {}: {e}", path.display());
        }
    }
}

#[cfg(test)]
mod tests;
