//! `--generate KIND`: the man page and completion scripts, written before any setting is loaded.

use std::process::Command;

/// Runs `heat-controller --generate KIND` with an empty environment: no credentials, no config,
/// which would otherwise be exit 2.
fn generate(kind: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_heat-controller"))
        .args(["--generate", kind])
        .env_clear()
        .output()
        .expect("heat-controller runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "--generate {kind}: {stderr}");
    assert!(
        stderr.is_empty(),
        "--generate {kind} wrote to stderr: {stderr}"
    );
    // roff writes `-` as `\-`.
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .replace("\\-", "-")
}

#[test]
fn every_kind_names_the_binary_and_its_flags_without_settings() {
    let cases = [
        ("man", ".TH heat-controller 1", "--config"),
        ("complete-bash", "heat-controller", "--config"),
        ("complete-zsh", "#compdef heat-controller", "--config"),
        ("complete-fish", "complete -c heat-controller", "-l config"),
    ];
    for (kind, names_binary, names_flag) in cases {
        let text = generate(kind);
        assert!(text.contains(names_binary), "{kind}: {text}");
        assert!(text.contains(names_flag), "{kind}: {text}");
        assert!(text.contains("simulate"), "{kind}: {text}");
        // clap_complete also completes hidden flags; the man page, like --help, does not.
        if kind == "man" {
            assert!(
                !text.contains("--generate"),
                "the hidden --generate: {text}"
            );
        }
    }
}

#[test]
fn an_unknown_kind_is_a_usage_error_naming_the_kinds() {
    let out = Command::new(env!("CARGO_BIN_EXE_heat-controller"))
        .args(["--generate", "pdf"])
        .env_clear()
        .output()
        .expect("heat-controller runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("complete-fish"), "{stderr}");
    assert!(out.stdout.is_empty());
}
