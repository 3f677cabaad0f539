//! docs/control.md names every parameter with its default and range.

use std::path::Path;

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
            .find(|l| l.starts_with(&format!("| `{}` |", param.name())))
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
