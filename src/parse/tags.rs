//! Inline `#tags` (semantics file §5): letters of any script, digits, `_ - /` and symbols such
//! as emoji; at least one non-digit; preceded by the start of a line or whitespace.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use crate::source::Span;
use crate::vault::TagUse;

static TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)(?:^|[\s])#([\p{L}\p{N}\p{M}\p{So}_/\-]+)").expect("valid regex")
});

/// Tags written in the body, outside code, math, HTML and links.
pub fn inline_tags(text: &str, body_start: usize, opaque: &[Range<usize>]) -> Vec<TagUse> {
    let body = &text[body_start..];
    if !body.contains('#') {
        return Vec::new();
    }
    TAG.captures_iter(body)
        .filter_map(|caps| {
            let name = caps.get(1)?;
            let hash = body_start + name.start() - 1;
            let span = hash..body_start + name.end();
            let tag = name.as_str().trim_end_matches(['/', '-']);
            let valid = !tag.is_empty() && !tag.chars().all(|c| c.is_ascii_digit() || c == '/');
            (valid && !super::overlaps(opaque, &span) && !is_heading_marker(text, hash)).then(
                || TagUse {
                    name: tag.to_string(),
                    span: Span::new(hash..hash + 1 + tag.len()),
                },
            )
        })
        .collect()
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
