//! heat-loop does no IO and depends on no IO crate: its dependency list and its source are
//! checked, as heat-core's are.

use std::path::Path;

/// The only crates heat-loop may depend on (none does IO).
const ALLOWED: [&str; 2] = ["heat-core", "serde"];

#[test]
fn dependencies_are_only_the_allow_list() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("read Cargo.toml");
    let mut section = "";
    let mut deps = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
            continue;
        }
        // Build and target-specific dependencies would count as dependencies too.
        let is_dep = section == "[dependencies]"
            || section == "[build-dependencies]"
            || (section.starts_with("[target.") && section.ends_with("dependencies]"));
        if is_dep && !line.is_empty() && !line.starts_with('#') {
            let name = line.split(['=', '.']).next().unwrap_or_default().trim();
            deps.push(name.to_owned());
        }
        if section.starts_with("[dependencies.") {
            deps.push(
                section
                    .trim_start_matches("[dependencies.")
                    .trim_end_matches(']')
                    .to_owned(),
            );
        }
    }
    assert!(!deps.is_empty(), "parser found no dependencies at all");
    for dep in &deps {
        assert!(
            ALLOWED.contains(&dep.as_str()),
            "heat-loop must not depend on {dep}"
        );
    }
}

#[test]
fn source_uses_no_clock_io_threads_or_hardware_names() {
    const FORBIDDEN: [&str; 14] = [
        "Instant",
        "SystemTime",
        "thread",
        "sleep",
        "std::fs",
        "std::net",
        "std::io",
        "std::process",
        "std::env",
        "mqtt",
        "gpio",
        "rand",
        "println",
        "unsafe",
    ];
    let mut files = Vec::new();
    collect(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() >= 4, "found {files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        for (n, line) in text.lines().enumerate() {
            // Doc comments may say what the crate does not do.
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            let lower = code.to_lowercase();
            for word in FORBIDDEN {
                assert!(
                    !lower.contains(&word.to_lowercase()),
                    "{}:{}: {word}: {line}",
                    file.display(),
                    n + 1
                );
            }
        }
    }
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src").flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}
