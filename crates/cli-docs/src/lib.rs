//! Man pages and shell completions from a binary's clap [`Command`], for its hidden
//! `--generate KIND` option (ripgrep's way): the package build runs the installed binary once per
//! [`Kind`] instead of keeping generated files in the repository, so they never go stale.
//!
//! A command with subcommands gets one man page: the top-level page, then one section per
//! subcommand (`HEAT-DIAG CHECK-CONFIG`) with its synopsis, description and options, so
//! `man heat-diag` documents every subcommand without a page per subcommand.

use std::io::{self, Write};

use clap::{Command, ValueEnum};
use clap_complete::{Generator, Shell};
use clap_mangen::Man;

/// What `--generate` writes to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// The man page (roff, section 1).
    Man,
    /// A bash completion script.
    CompleteBash,
    /// A zsh completion script (`_<binary>`).
    CompleteZsh,
    /// A fish completion script.
    CompleteFish,
}

/// Writes `kind` for `cmd` (named by its `name`) to `out`.
pub fn generate(kind: Kind, mut cmd: Command, out: &mut dyn Write) -> io::Result<()> {
    let name = cmd.get_name().to_owned();
    cmd.set_bin_name(&name);
    cmd.build();
    let shell = match kind {
        Kind::Man => return man(&cmd, out),
        Kind::CompleteBash => Shell::Bash,
        Kind::CompleteZsh => Shell::Zsh,
        Kind::CompleteFish => Shell::Fish,
    };
    shell
        .try_generate(&cmd, out)
        .map_err(|e| io::Error::other(format!("{name}: {shell} completions: {e}")))?;
    out.flush()
}

/// The top-level page with a section per visible subcommand (recursively) where clap_mangen
/// would list `heat-diag-check-config(1)` pages that are not installed.
fn man(cmd: &Command, out: &mut dyn Write) -> io::Result<()> {
    let page = Man::new(cmd.clone());
    let mut roff = Vec::new();
    page.render_title(&mut roff)?;
    page.render_name_section(&mut roff)?;
    page.render_synopsis_section(&mut roff)?;
    page.render_description_section(&mut roff)?;
    if has_visible_arguments(cmd) {
        page.render_options_section(&mut roff)?;
    }
    for sub in visible_subcommands(cmd) {
        subcommand_section(sub, &mut roff)?;
    }
    if cmd.get_after_long_help().is_some() || cmd.get_after_help().is_some() {
        page.render_extra_section(&mut roff)?;
    }
    if cmd.get_version().is_some() {
        page.render_version_section(&mut roff)?;
    }
    // Every render call repeats roff's two-line preamble (the `Aq` string); keep the first.
    const PREAMBLE: [&str; 2] = [".ie \\n(.g .ds Aq \\(aq", ".el .ds Aq '"];
    let mut seen = [false; 2];
    for line in String::from_utf8_lossy(&roff).lines() {
        if let Some(i) = PREAMBLE.iter().position(|p| *p == line)
            && std::mem::replace(&mut seen[i], true)
        {
            continue;
        }
        writeln!(out, "{line}")?;
    }
    out.flush()
}

fn has_visible_arguments(cmd: &Command) -> bool {
    cmd.get_arguments().any(|a| !a.is_hide_set())
}

fn visible_subcommands(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands()
        .filter(|sub| !sub.is_hide_set() && sub.get_name() != "help")
}

/// `.SH "HEAT-DIAG CHECK-CONFIG"` and the subcommand's own sections demoted to `.SS`.
fn subcommand_section(sub: &Command, out: &mut Vec<u8>) -> io::Result<()> {
    let title = sub.get_bin_name().unwrap_or_else(|| sub.get_name());
    writeln!(out, ".SH \"{}\"", title.to_uppercase())?;
    let page = Man::new(sub.clone());
    let mut body = Vec::new();
    page.render_synopsis_section(&mut body)?;
    page.render_description_section(&mut body)?;
    if has_visible_arguments(sub) {
        page.render_options_section(&mut body)?;
    }
    // roff escapes a leading dot in text, so a line that starts with `.SH ` is always a heading.
    for line in String::from_utf8_lossy(&body).lines() {
        match line.strip_prefix(".SH ") {
            Some(heading) => writeln!(out, ".SS {heading}")?,
            None => writeln!(out, "{line}")?,
        }
    }
    for nested in visible_subcommands(sub) {
        subcommand_section(nested, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
