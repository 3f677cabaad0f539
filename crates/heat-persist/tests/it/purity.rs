//! Only `file.rs` does IO: the schema, the restore, the policy and the problems are pure.

use std::path::Path;

#[test]
fn only_the_file_module_touches_the_file_system_or_a_clock() {
    const FORBIDDEN: [&str; 7] = [
        "std::fs",
        "std::io",
        "std::env",
        "SystemTime",
        "Instant",
        "thread",
        "std::process",
    ];
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut checked = 0;
    for name in [
        "schema.rs",
        "restore.rs",
        "policy.rs",
        "problem.rs",
        "snapshot.rs",
        "lib.rs",
    ] {
        let text = std::fs::read_to_string(src.join(name)).unwrap();
        for word in FORBIDDEN {
            assert!(!text.contains(word), "{name} mentions {word}");
        }
        checked += 1;
    }
    assert_eq!(checked, 6);
}
