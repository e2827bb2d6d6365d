//! Inline `#tags` (semantics file §5): letters of any script, digits, `_ - /` and symbols such
//! as emoji; at least one non-digit; preceded by the start of a line or whitespace.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use crate::source::Span;
use crate::vault::TagUse;

/// The characters of a tag name beyond ASCII: letters, numbers, marks and other symbols of any
/// script (the ASCII ones are `[A-Za-z0-9_/-]`, checked by hand).
static TAG_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\p{L}\p{N}\p{M}\p{So}_/\-]+").expect("valid regex"));

/// Tags written in the body, outside code, math, HTML and links: a `#` at the start of a line
/// or after whitespace, followed by a run of letters, numbers, marks, symbols, `_`, `/` or `-`.
pub fn inline_tags(text: &str, body_start: usize, opaque: &[Range<usize>]) -> Vec<TagUse> {
    let body = &text[body_start..];
    let bytes = body.as_bytes();
    let mut out = Vec::new();
    for at in memchr::memchr_iter(b'#', bytes) {
        if at > 0 && !after_whitespace(body, at) {
            continue;
        }
        let len = tag_run(&body[at + 1..]);
        if len == 0 {
            continue;
        }
        let hash = body_start + at;
        let span = hash..hash + 1 + len;
        let tag = body[at + 1..at + 1 + len].trim_end_matches(['/', '-']);
        let valid = !tag.is_empty() && !tag.chars().all(|c| c.is_ascii_digit() || c == '/');
        if valid && !super::overlaps(opaque, &span) && !is_heading_marker(text, hash) {
            out.push(TagUse {
                name: tag.to_string(),
                span: Span::new(hash..hash + 1 + tag.len()),
            });
        }
    }
    out
}

/// Whether the character before byte `at` of `text` is whitespace (Unicode `White_Space`, as
/// the regex class `\s`).
fn after_whitespace(text: &str, at: usize) -> bool {
    let prev = text.as_bytes()[at - 1];
    if prev.is_ascii() {
        return (prev as char).is_whitespace();
    }
    text[..at]
        .chars()
        .next_back()
        .is_some_and(char::is_whitespace)
}

/// Byte length of the tag name starting `rest` (0 when there is none).
fn tag_run(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    let ascii = bytes
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'/' | b'-'))
        .count();
    if bytes.get(ascii).is_some_and(|b| !b.is_ascii()) {
        // Letters of other scripts, emoji: let the Unicode classes decide.
        return TAG_RUN.find(rest).map_or(0, |m| m.end());
    }
    ascii
}

/// `#` characters that open an ATX heading are followed by a space, so they never match; but a
/// line like `#tag` at the start is a tag, not a heading (CommonMark needs the space too).
fn is_heading_marker(text: &str, hash: usize) -> bool {
    text[hash..].starts_with("# ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        inline_tags(text, 0, &[])
            .into_iter()
            .map(|t| t.name)
            .collect()
    }

    #[test]
    fn tag_rules() {
        assert_eq!(
            names("#a and #b/c, x#no #1984 #y1984"),
            vec!["a", "b/c", "y1984"]
        );
        assert_eq!(names("中文 #视觉 #emoji🚀"), vec!["视觉", "emoji🚀"]);
        assert_eq!(names("see https://x.y/#frag"), Vec::<String>::new());
    }

    #[test]
    fn opaque_ranges_hide_tags() {
        let text = "`#code` #real";
        let opaque = vec![std::ops::Range { start: 0, end: 7 }];
        let tags = inline_tags(text, 0, &opaque);
        assert_eq!(tags.len(), 1);
        assert_eq!(tags[0].name, "real");
        assert_eq!(&text[tags[0].span.range()], "#real");
    }
}
