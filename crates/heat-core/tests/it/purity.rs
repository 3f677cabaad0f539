//! heat-core does no IO and depends on no IO crate: its dependency list and its source are checked.

use std::path::Path;

/// The only crates heat-core may depend on (neither does IO).
const ALLOWED: [&str; 2] = ["serde", "thiserror"];

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
            "heat-core must not depend on {dep}"
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
    assert!(files.len() >= 5, "found {files:?}");
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

#[test]
fn every_source_file_opens_with_a_module_doc() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "tests", "benches"] {
        collect(&root.join(dir), &mut files);
    }
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        assert!(
            text.starts_with("//!"),
            "{} must start with //!",
            file.display()
        );
        assert!(
            !text.contains(concat!("#[", "ignore")),
            "{}",
            file.display()
        );
    }
}

#[test]
fn docs_name_every_parameter_with_its_default() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/control.md"),
    )
    .expect("docs/control.md exists");
    let p = heat_core::Params::default();
    for param in heat_core::Parameter::ALL {
        let row = doc
            .lines()
            .find(|l| l.contains(&format!("`{}`", param.name())))
            .unwrap_or_else(|| panic!("docs/control.md lacks {param}"));
        let l = param.limits();
        for n in [p.get(param), l.min, l.max] {
            assert!(
                row.contains(&format!("{n}")),
                "docs row for {param} lacks {n}: {row}"
            );
        }
    }
}
