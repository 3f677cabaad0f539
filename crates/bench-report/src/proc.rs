//! A process's memory as Linux reports it in `/proc`, for the benches, the soak and the load
//! test.

use std::fs;

/// A process's memory at one moment, kB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// Resident set (`VmRSS`): heap and stacks, plus the pages of the binary and libraries
    /// touched so far.
    pub vm_rss: u64,
    /// The anonymous part of it (`smaps_rollup` `Anonymous`: heap, stacks): where a leak shows.
    pub anonymous: u64,
}

impl Memory {
    /// Reads `/proc/<pid>/status` and `/proc/<pid>/smaps_rollup`; `None` when the process is
    /// gone or a field is missing.
    pub fn of(pid: u32) -> Option<Self> {
        let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let rollup = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
        Some(Self {
            vm_rss: kb_field(&status, "VmRSS")?,
            anonymous: kb_field(&rollup, "Anonymous")?,
        })
    }
}

/// Samples as CSV, one line per step (0 = the first), the first column named `step`:
/// `<step>,vm_rss_kb,anonymous_kb`.
pub fn memory_csv(step: &str, samples: &[Memory]) -> String {
    let mut csv = format!("{step},vm_rss_kb,anonymous_kb\n");
    for (i, m) in samples.iter().enumerate() {
        csv.push_str(&format!("{i},{},{}\n", m.vm_rss, m.anonymous));
    }
    csv
}

/// The value of a `Key:   1234 kB` line of a `/proc` file such as `status` or `smaps_rollup`.
pub fn kb_field(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::{Memory, kb_field, memory_csv};

    #[test]
    fn the_csv_has_one_line_per_sample() {
        let m = |vm_rss, anonymous| Memory { vm_rss, anonymous };
        assert_eq!(
            memory_csv("restart", &[m(8592, 1140), m(8600, 1144)]),
            "restart,vm_rss_kb,anonymous_kb\n0,8592,1140\n1,8600,1144\n"
        );
    }

    #[test]
    fn kb_fields_are_read_by_exact_key() {
        let rollup = "55d0-7ffe ---p 00000000 00:00 0   [rollup]\nRss:   14208 kB\n\
                      Pss_Anon:   1700 kB\nAnonymous:   1852 kB\n";
        assert_eq!(kb_field(rollup, "Anonymous"), Some(1852));
        assert_eq!(kb_field(rollup, "Rss"), Some(14208));
        assert_eq!(kb_field("VmRSS:\t   13816 kB\n", "VmRSS"), Some(13816));
        assert_eq!(kb_field(rollup, "Anon"), None);
        assert_eq!(kb_field("Anonymous: n/a\n", "Anonymous"), None);
    }

    #[test]
    fn a_missing_process_has_no_memory() {
        assert_eq!(super::Memory::of(u32::MAX), None);
    }
}
