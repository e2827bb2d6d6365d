//! `vaultc explain CODE`: one page of explanation per diagnostic code, like `rustc --explain`.
//!
//! The pages live in `docs/codes/<code>.md` and are compiled into the binary with
//! `include_str!`. [`explanation`] matches on every [`Code`] without a wildcard, so adding a code
//! to the `codes!` table without writing its page fails to compile.

use std::fmt::Write as _;

use crate::diag::{Code, Level};

/// The explanation page of `code`: plain markdown meant to be read in a terminal.
pub fn explanation(code: Code) -> &'static str {
    match code {
        Code::BrokenLink => include_str!("../../docs/codes/broken-link.md"),
        Code::BrokenFragment => include_str!("../../docs/codes/broken-fragment.md"),
        Code::AmbiguousLink => include_str!("../../docs/codes/ambiguous-link.md"),
        Code::MissingAttachment => include_str!("../../docs/codes/missing-attachment.md"),
        Code::AliasLink => include_str!("../../docs/codes/alias-link.md"),
        Code::CaseMismatch => include_str!("../../docs/codes/case-mismatch.md"),
        Code::EscapedWikilink => include_str!("../../docs/codes/escaped-wikilink.md"),
        Code::EmptyLink => include_str!("../../docs/codes/empty-link.md"),
        Code::SelfEmbed => include_str!("../../docs/codes/self-embed.md"),
        Code::EmbedCycle => include_str!("../../docs/codes/embed-cycle.md"),
        Code::DuplicateBlockId => include_str!("../../docs/codes/duplicate-block-id.md"),
        Code::DuplicateHeadingAnchor => {
            include_str!("../../docs/codes/duplicate-heading-anchor.md")
        }
        Code::SlugCollision => include_str!("../../docs/codes/slug-collision.md"),
        Code::OrphanNote => include_str!("../../docs/codes/orphan-note.md"),
        Code::InvalidFrontMatter => include_str!("../../docs/codes/invalid-front-matter.md"),
        Code::DeprecatedProperty => include_str!("../../docs/codes/deprecated-property.md"),
        Code::UnreadableFile => include_str!("../../docs/codes/unreadable-file.md"),
        Code::IgnoredSymlink => include_str!("../../docs/codes/ignored-symlink.md"),
        Code::InvalidSettings => include_str!("../../docs/codes/invalid-settings.md"),
        Code::InvalidBase => include_str!("../../docs/codes/invalid-base.md"),
        Code::InvalidCanvas => include_str!("../../docs/codes/invalid-canvas.md"),
        Code::UnusedAttachment => include_str!("../../docs/codes/unused-attachment.md"),
    }
}

/// The name of a level as written in `vaultc.toml`.
fn level_name(level: Level) -> &'static str {
    match level {
        Level::Allow => "allow",
        Level::Warn => "warn",
        Level::Deny => "deny",
    }
}

/// A table of every code with its default level and summary (`vaultc explain --list`).
pub fn list() -> String {
    let width = Code::ALL
        .iter()
        .map(|c| c.as_str().len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    let _ = writeln!(out, "{:<width$}  {:<7}  summary", "code", "default");
    for code in Code::ALL {
        let _ = writeln!(
            out,
            "{:<width$}  {:<7}  {}",
            code.as_str(),
            level_name(code.default_level()),
            code.summary()
        );
    }
    out.push_str("\nRun `vaultc explain CODE` for the page of one code.\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_starts_with_its_code_and_default_level() {
        for &code in Code::ALL {
            let page = explanation(code);
            let first = page.lines().next().unwrap_or_default();
            let by_default = match code.default_level() {
                Level::Allow => "allowed by default",
                Level::Warn => "warning by default",
                Level::Deny => "error by default",
            };
            assert_eq!(
                first,
                format!("# {code} ({by_default})"),
                "first line of {code}.md"
            );
        }
    }

    #[test]
    fn every_page_has_an_example_block_with_the_diagnostic() {
        for &code in Code::ALL {
            let page = explanation(code);
            assert!(
                page.matches("```").count() >= 4,
                "{code}.md needs fenced examples"
            );
            assert!(
                page.contains(&format!("[{code}]: ")),
                "{code}.md should show the diagnostic vaultc prints"
            );
        }
    }

    #[test]
    fn every_page_says_how_to_configure_it() {
        for &code in Code::ALL {
            let page = explanation(code);
            for needle in [
                "vaultc.toml".to_string(),
                "[lints]".to_string(),
                format!("{code} = \""),
                format!("-A {code}"),
                "allow: [".to_string(),
            ] {
                assert!(
                    page.contains(&needle),
                    "{code}.md does not mention `{needle}`"
                );
            }
        }
    }

    #[test]
    fn every_page_says_whether_fix_applies() {
        for &code in Code::ALL {
            let page = explanation(code);
            assert!(
                page.contains("--fix"),
                "{code}.md should say whether --fix fixes it"
            );
        }
        assert!(explanation(Code::CaseMismatch).contains("--fix-case"));
    }

    #[test]
    fn pages_are_terminal_friendly() {
        for &code in Code::ALL {
            let page = explanation(code);
            let lines = page.lines().count();
            assert!((20..=80).contains(&lines), "{code}.md has {lines} lines");
            // Prose fits a terminal; quoted compiler output may be as long as vaultc prints it.
            let mut in_fence = false;
            for (i, line) in page.lines().enumerate() {
                if line.starts_with("```") {
                    in_fence = !in_fence;
                }
                assert!(
                    in_fence || line.chars().count() <= 96,
                    "{code}.md:{} is too long",
                    i + 1
                );
                assert_eq!(
                    line.trim_end(),
                    line,
                    "{code}.md:{} has trailing spaces",
                    i + 1
                );
            }
            assert!(!in_fence, "{code}.md has an unclosed fence");
        }
    }

    #[test]
    fn list_names_every_code_with_its_level() {
        let list = list();
        for &code in Code::ALL {
            let row = list
                .lines()
                .find(|l| l.split_whitespace().next() == Some(code.as_str()))
                .unwrap_or_else(|| panic!("{code} missing from the list"));
            assert!(row.contains(level_name(code.default_level())), "{row}");
            assert!(row.contains(code.summary()), "{row}");
        }
    }
}
