//! No subcommand prints a password, even at `RUST_LOG=trace`, and the broker log holds none.

use std::fs;

use crate::{controller_workdir, heat_diag, heat_diag_stdin, provisioned, text};

#[test]
fn no_subcommand_prints_a_password_at_trace() {
    let p = provisioned(&["--readonly-user", "viewer"]);
    let work = controller_workdir(&p);
    let trace = [("RUST_LOG", "trace")];
    let mut outputs = vec![text(&p.output)];
    for args in [
        &["check-config", "--simulate"][..],
        &["connect"],
        &["audit"],
        &["audit", "--json"],
        &["provision", "--help"],
    ] {
        let out = heat_diag(work.path(), args, &trace);
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{args:?}: {}",
            text(&out)
        );
        outputs.push(text(&out));
    }
    let stdin_password = "piped-in-secret-Vb63Hd9Qm1";
    let passwd = work.path().join("passwd");
    let out = heat_diag_stdin(
        work.path(),
        &[
            "passwd",
            passwd.to_str().unwrap(),
            "extra",
            "--iterations",
            "10000",
        ],
        &trace,
        stdin_password,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    outputs.push(text(&out));
    let generated = work.path().join("gen.password");
    let out = heat_diag(
        work.path(),
        &[
            "passwd",
            passwd.to_str().unwrap(),
            "gen",
            "--generate",
            generated.to_str().unwrap(),
            "--json",
        ],
        &trace,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    outputs.push(text(&out));

    let mut passwords = p.passwords();
    assert_eq!(passwords.len(), 3);
    passwords.push(stdin_password.to_owned());
    passwords.push(
        fs::read_to_string(&generated)
            .unwrap()
            .trim_end()
            .to_owned(),
    );
    let log = p.broker.log();
    assert!(
        log.contains("heat-controller"),
        "the broker saw the audit:\n{log}"
    );
    for password in &passwords {
        for output in &outputs {
            assert!(
                !output.contains(password.as_str()),
                "a password in:\n{output}"
            );
        }
        assert!(
            !log.contains(password.as_str()),
            "a password in the broker log"
        );
    }
}
