//! Every kind names the binary and its real options and subcommands.

use clap::{Arg, ArgAction, Command};

use super::{Kind, generate};

fn demo() -> Command {
    Command::new("demo-bin")
        .about("A demo binary.")
        .version("1.2.3")
        .arg(Arg::new("config").long("config").global(true))
        .arg(
            Arg::new("secret-flag")
                .long("secret-flag")
                .hide(true)
                .action(ArgAction::SetTrue),
        )
        .subcommand(
            Command::new("check-it")
                .about("Checks it.")
                .arg(Arg::new("deep").long("deep").action(ArgAction::SetTrue)),
        )
        .subcommand(Command::new("hidden-sub").hide(true))
}

fn render(kind: Kind) -> String {
    let mut out = Vec::new();
    generate(kind, demo(), &mut out).unwrap();
    // roff writes `-` as `\-`.
    String::from_utf8(out).unwrap().replace("\\-", "-")
}

#[test]
fn every_kind_names_the_binary_an_option_and_a_subcommand() {
    for kind in [
        Kind::Man,
        Kind::CompleteBash,
        Kind::CompleteZsh,
        Kind::CompleteFish,
    ] {
        let text = render(kind);
        for needle in ["demo-bin", "config", "check-it", "deep"] {
            assert!(text.contains(needle), "{kind:?} lacks {needle}:\n{text}");
        }
    }
}

#[test]
fn the_man_page_has_a_section_per_visible_subcommand() {
    let page = render(Kind::Man);
    assert!(page.contains("\n.TH demo-bin 1 "), "{page}");
    assert!(page.contains("\n.SH \"DEMO-BIN CHECK-IT\"\n"), "{page}");
    assert_eq!(page.matches(".ds Aq").count(), 2, "one preamble: {page}");
    assert!(
        !page.contains("demo-bin-check-it(1)"),
        "no page that is not installed: {page}"
    );
    let section = &page[page.find("CHECK-IT").unwrap()..];
    assert!(section.contains(".SS SYNOPSIS"), "{section}");
    assert!(section.contains(".SS OPTIONS"), "{section}");
    assert!(section.contains("Checks it."), "{section}");
    assert!(!page.contains("HIDDEN-SUB"), "{page}");
    assert!(!page.contains("secret-flag"), "a hidden flag: {page}");
    assert!(!page.contains("DEMO-BIN HELP"), "{page}");
}
