//! The one place diagnostics are formatted: `human` (compiler style, snippets rendered by
//! annotate-snippets) and `json` (the schema documented in README.md).

use std::fmt::Write as _;
use std::ops::Range;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde::Serialize;

use crate::diag::{Diagnostic, Severity, Summary};
use crate::source::Span;
use crate::vault::Vault;

/// Where a diagnostic points, resolved to 1-based line and column (characters).
#[derive(Clone, Debug, Serialize)]
pub struct Located<'a> {
    /// Stable code.
    pub code: crate::diag::Code,
    /// Severity.
    pub severity: Severity,
    /// Vault-relative path.
    pub file: &'a str,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// 1-based line of the end of the span.
    pub end_line: u32,
    /// 1-based column of the end of the span (exclusive), in characters.
    pub end_column: u32,
    /// What is wrong.
    pub message: &'a str,
    /// The link target as written, if any.
    pub target: Option<&'a str>,
    /// Suggested fix in words.
    pub help: Option<&'a str>,
    /// Machine-applicable edit: byte range in the file and replacement.
    pub fix: Option<JsonFix<'a>>,
    /// Related names (ambiguous candidates, cycle members).
    pub related: &'a [String],
}

/// A fix in the JSON report.
#[derive(Clone, Debug, Serialize)]
pub struct JsonFix<'a> {
    /// File to edit.
    pub file: &'a str,
    /// Byte offset of the first byte to replace.
    pub start: u32,
    /// Byte offset one past the last byte to replace.
    pub end: u32,
    /// Replacement text.
    pub replacement: &'a str,
}

/// Computes line and column of a diagnostic from the note text it points into.
pub fn locate<'a>(d: &'a Diagnostic, vault: &'a Vault) -> Located<'a> {
    let ((line, column), (end_line, end_column)) = match vault.source_text(&d.file) {
        Some((text, lines)) => (
            lines.line_col(text, d.span.start),
            lines.line_col(text, d.span.end),
        ),
        None => ((1, 1), (1, 1)),
    };
    Located {
        code: d.code,
        severity: d.severity,
        file: d.file.as_str(),
        line,
        column,
        end_line,
        end_column,
        message: &d.message,
        target: d.target.as_deref(),
        help: d.help.as_deref(),
        fix: d.fix.as_ref().map(|f| JsonFix {
            file: d.file.as_str(),
            start: f.span.start,
            end: f.span.end,
            replacement: &f.replacement,
        }),
        related: &d.related,
    }
}

/// The JSON report: `{"diagnostics": [...], "summary": {...}}`.
pub fn json(diagnostics: &[Diagnostic], vault: &Vault, summary: Summary) -> String {
    report_json(diagnostics, vault, summary, true)
}

/// [`json`] on one line: what `check --watch` prints after each check, so that a program
/// reading the stream takes one report per line.
pub fn json_line(diagnostics: &[Diagnostic], vault: &Vault, summary: Summary) -> String {
    report_json(diagnostics, vault, summary, false)
}

fn report_json(
    diagnostics: &[Diagnostic],
    vault: &Vault,
    summary: Summary,
    pretty: bool,
) -> String {
    #[derive(Serialize)]
    struct Report<'a> {
        diagnostics: Vec<Located<'a>>,
        summary: Summary,
    }
    let report = Report {
        diagnostics: diagnostics.iter().map(|d| locate(d, vault)).collect(),
        summary,
    };
    let text = match pretty {
        true => serde_json::to_string_pretty(&report),
        false => serde_json::to_string(&report),
    };
    text.expect("the report is plain data") + "\n"
}

/// Human format: `path:line:col: error[code]: message`, the source line with the span
/// underlined, a help line; `color` adds ANSI colours. Diagnostics are formatted in parallel
/// (a vault can have thousands) and joined in their given order.
pub fn human(diagnostics: &[Diagnostic], vault: &Vault, color: bool) -> String {
    use rayon::prelude::*;
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let parts: Vec<String> = diagnostics
        .par_iter()
        .map(|d| human_one(d, vault, &renderer))
        .collect();
    let mut out = String::with_capacity(parts.iter().map(String::len).sum());
    for part in &parts {
        out.push_str(part);
    }
    out
}

/// One diagnostic in the human format, with its trailing blank line.
fn human_one(d: &Diagnostic, vault: &Vault, renderer: &Renderer) -> String {
    let mut out = String::new();
    let at = locate(d, vault);
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let word = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let _ = writeln!(
        out,
        "{}:{}:{}: {word}[{}]: {}",
        at.file,
        at.line,
        at.column,
        d.code,
        shown(&d.message)
    );
    let mut group = Group::with_level(level.clone());
    if let Some((text, lines)) = vault.source_text(&d.file).filter(|(t, _)| !t.is_empty()) {
        let first = lines.line_range(text, at.line);
        let last = lines.line_range(text, at.end_line.min(at.line + 5));
        let mut snippet_range = first.start..last.end.max(first.end);
        if at.line == at.end_line {
            snippet_range = around_span(text, snippet_range, d.span);
        }
        let source = &text[snippet_range.clone()];
        let start = (d.span.start as usize).clamp(snippet_range.start, snippet_range.end)
            - snippet_range.start;
        let end = (d.span.end as usize).clamp(snippet_range.start, snippet_range.end)
            - snippet_range.start;
        let label = d.target.as_deref().map(|_| match d.code {
            crate::diag::Code::BrokenLink => "not found",
            _ => "",
        });
        let mut annotation = AnnotationKind::Primary.span(start..end.max(start));
        if let Some(label) = label.filter(|l| !l.is_empty()) {
            annotation = annotation.label(label);
        }
        group = group.element(
            Snippet::source(source)
                .line_start(at.line as usize)
                .annotation(annotation),
        );
    }
    if let Some(help) = &d.help {
        group = group.element(Level::HELP.message(shown(help)));
    }
    out.push_str(&renderer.render(&[group]));
    out.push_str("\n\n");
    out
}

/// The most bytes of a message or help line the human format shows: one that quotes a
/// pasted page (a link of megabytes, and the fix for it) is cut there and ends in `…`. The
/// renderer lays out every character of a help line, so a 3 MB one took a third of a second
/// and 100 MB. The JSON, GitHub and SARIF formats keep the whole text.
const SHOWN_TEXT_BYTES: usize = 1024;

/// `text`, or its first [`SHOWN_TEXT_BYTES`] (at a character boundary) and `…`.
fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= SHOWN_TEXT_BYTES {
        return std::borrow::Cow::Borrowed(text);
    }
    let end = crate::source::floor_char_boundary(text, SHOWN_TEXT_BYTES);
    std::borrow::Cow::Owned(format!("{}…", &text[..end]))
}

/// Characters of a long line kept on each side of the span (the renderer shows at most 140
/// columns of a line, centred on the span).
const CONTEXT_CHARS: usize = 1024;

/// The part of the one-line snippet `line` (a byte range of `text`) worth giving the snippet
/// renderer: the whole line, unless it is long, then [`CONTEXT_CHARS`] characters on each side
/// of `span`. The renderer works over the whole line it is given, for every diagnostic, so a
/// note with thousands of links on one long line made the human report quadratic (8,000
/// broken links on a 200 KB line: 8.8 s). What it shows is the same: it cuts such a line to
/// the columns around the span, which the kept part still holds on both sides.
fn around_span(text: &str, line: Range<usize>, span: Span) -> Range<usize> {
    if line.len() <= 4 * CONTEXT_CHARS {
        return line;
    }
    let start = (span.start as usize).clamp(line.start, line.end);
    let end = (span.end as usize).clamp(start, line.end);
    if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
        return line;
    }
    let from = text[line.start..start]
        .char_indices()
        .rev()
        .nth(CONTEXT_CHARS - 1)
        .map_or(line.start, |(i, _)| line.start + i);
    let to = text[end..line.end]
        .char_indices()
        .nth(CONTEXT_CHARS)
        .map_or(line.end, |(i, _)| end + i);
    from..to
}

/// The closing line: `N errors, M warnings in K notes (L links)`.
pub fn summary_line(summary: &Summary) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {} in {} ({})",
        plural(summary.errors, "error"),
        plural(summary.warnings, "warning"),
        plural(summary.notes, "note"),
        plural(summary.links, "link"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Code;

    /// A diagnostic on a long line reads as it would if the renderer were given the whole
    /// line: at its start, in its middle (between wide and zero-width characters), and at its
    /// end.
    #[test]
    fn spans_on_long_lines_show_as_the_whole_line_would() {
        let unit = "word [[a]] 链接 e\u{301} ";
        let line = unit.repeat(2000);
        let text = format!("# Long\n\n{line}\n");
        let note = crate::parse::note(crate::discover::SourceFile {
            path: crate::source::VaultPath::new("Long.md").unwrap(),
            text: text.clone(),
            is_template: false,
        })
        .0;
        let vault = Vault {
            notes: vec![note],
            attachments: Vec::new(),
            other_sources: Vec::new(),
        };
        let line_start = text.find("word").unwrap();
        let links: Vec<usize> = text.match_indices("[[a]]").map(|(i, _)| i).collect();
        let renderer = Renderer::plain();
        for at in [links[0], links[links.len() / 2], links[links.len() - 1]] {
            let span = Span::new(at..at + 5);
            let d = Diagnostic::new(
                Code::BrokenFragment,
                vault.notes[0].path.clone(),
                span,
                "a message",
            );
            let cut = around_span(&text, line_start..line_start + line.len(), span);
            assert!(cut.len() < line.len() / 4, "{cut:?}");
            let column = text[line_start..at].chars().count() + 1;
            let whole = renderer.render(&[Group::with_level(Level::WARNING).element(
                Snippet::source(line.as_str())
                    .line_start(3)
                    .annotation(AnnotationKind::Primary.span(at - line_start..at - line_start + 5)),
            )]);
            assert_eq!(
                human(&[d], &vault, false),
                format!("Long.md:3:{column}: warning[broken-fragment]: a message\n{whole}\n\n"),
                "span at byte {at}"
            );
        }
    }

    /// A message or help line quoting a pasted page is cut in the human format (at a character
    /// boundary, ending in `…`); a short one is shown whole, and JSON keeps the whole text.
    #[test]
    fn long_messages_and_help_lines_are_cut_in_the_human_format() {
        let text = "x\n".to_string();
        let note = crate::parse::note(crate::discover::SourceFile {
            path: crate::source::VaultPath::new("a.md").unwrap(),
            text,
            is_template: false,
        })
        .0;
        let vault = Vault {
            notes: vec![note],
            attachments: Vec::new(),
            other_sources: Vec::new(),
        };
        let long = "链接 ".repeat(1000);
        let d = Diagnostic::new(
            Code::BrokenLink,
            vault.notes[0].path.clone(),
            Span::new(0..1),
            &long,
        )
        .with_help(format!("did you mean \"{long}\"?"));
        let out = human(std::slice::from_ref(&d), &vault, false);
        for line in out.lines() {
            assert!(line.len() <= SHOWN_TEXT_BYTES + 64, "{} bytes", line.len());
        }
        let header = out.lines().next().unwrap();
        assert!(header.starts_with("a.md:1:1: error[broken-link]: 链接 链接"));
        assert!(header.ends_with('…'), "{header}");
        assert!(out.contains("= help: did you mean \"链接 链接"));
        assert!(json(std::slice::from_ref(&d), &vault, Summary::default()).contains(&long));
        let short = Diagnostic::new(
            Code::BrokenLink,
            vault.notes[0].path.clone(),
            Span::new(0..1),
            "short",
        )
        .with_help("a help");
        let out = human(&[short], &vault, false);
        assert!(
            out.starts_with("a.md:1:1: error[broken-link]: short\n")
                && out.contains("= help: a help\n")
        );
        assert_eq!(
            shown(&"a".repeat(SHOWN_TEXT_BYTES)),
            "a".repeat(SHOWN_TEXT_BYTES)
        );
        assert_eq!(
            shown(&"é".repeat(SHOWN_TEXT_BYTES)),
            format!("{}…", "é".repeat(SHOWN_TEXT_BYTES / 2))
        );
    }
}
