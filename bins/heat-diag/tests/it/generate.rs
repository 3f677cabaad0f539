//! `--generate KIND`: one man page covering every subcommand, and completion scripts, written
//! before any setting is loaded.

use crate::{heat_diag, text};

/// Runs `heat-diag --generate KIND` with an empty environment (no credentials, no config).
fn generate(kind: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = heat_diag(dir.path(), &["--generate", kind], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "--generate {kind}: {}",
        text(&out)
    );
    assert!(out.stderr.is_empty(), "--generate {kind}: {}", text(&out));
    // roff writes `-` as `\-`.
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .replace("\\-", "-")
}

#[test]
fn every_kind_names_the_binary_its_subcommands_and_their_flags() {
    let cases = [
        ("man", ".TH heat-diag 1", "--config"),
        ("complete-bash", "heat-diag", "--config"),
        ("complete-zsh", "#compdef heat-diag", "--config"),
        ("complete-fish", "complete -c heat-diag", "-l config"),
    ];
    for (kind, names_binary, names_flag) in cases {
        let text = generate(kind);
        assert!(text.contains(names_binary), "{kind}: {text}");
        assert!(text.contains(names_flag), "{kind}: {text}");
        for sub in ["check-config", "sensors", "relay", "passwd", "provision"] {
            assert!(text.contains(sub), "{kind} lacks {sub}: {text}");
        }
        // connect's own flag: subcommands' options are covered, not only their names.
        assert!(text.contains("no-probe"), "{kind}: {text}");
    }
}

#[test]
fn the_man_page_has_a_section_per_subcommand() {
    let page = generate("man");
    for sub in [
        "CHECK-CONFIG",
        "CONNECT",
        "AUDIT",
        "PROVISION",
        "PASSWD",
        "SENSORS",
        "RELAY",
    ] {
        let heading = format!("\n.SH \"HEAT-DIAG {sub}\"\n");
        assert!(page.contains(&heading), "no {heading:?}: {page}");
    }
    // passwd has a --generate of its own; the top-level one is hidden.
    let top = &page[..page.find(".SH \"HEAT-DIAG").unwrap()];
    assert!(!top.contains("--generate"), "the hidden --generate: {top}");
}

#[test]
fn without_a_subcommand_it_is_a_usage_error_listing_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = heat_diag(dir.path(), &[], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("check-config, connect"),
        "{}",
        text(&out)
    );
}
