//! Plain text from markdown source: backlink contexts and search bodies. A light, linear
//! scan over the source (links become their labels, markup is dropped), not a second render.

use std::sync::LazyLock;

use regex::Regex;

use crate::vault::{LinkKind, Note};

/// Most body text one note contributes to the search index.
pub const SEARCH_BODY_CHARS: usize = 3000;

/// Body text the whole search index may hold: the index is one file every reader downloads on
/// first search, so it must stay small however large the vault. Each note gets an equal share
/// (all of its text in small vaults, its opening lines in huge ones); titles, tags and headings
/// are always indexed in full.
pub const SEARCH_BODY_BUDGET: usize = 1_000_000;

/// The body characters each of `notes` notes may put in the search index.
pub fn search_body_chars(notes: usize) -> usize {
    (SEARCH_BODY_BUDGET / notes.max(1)).min(SEARCH_BODY_CHARS)
}

/// Longest backlink context shown, in characters.
const CONTEXT_CHARS: usize = 280;

static WIKILINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"!?\[\[([^\]|\n]*?)(?:\\?\|([^\]\n]*))?\]\]").expect("valid regex")
});
static MD_LINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"!?\[([^\]\n]*)\]\([^)\n]*\)").expect("valid regex"));
/// What a matched `[[target|label]]` reads as: the label, else the target.
fn link_text(c: &regex::Captures) -> String {
    c.get(2)
        .map(|l| l.as_str().trim())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| c[1].trim())
        .to_string()
}

/// Markdown source to readable text: `[[a|b]]` -> `b`, `[t](u)` -> `t`, markup removed,
/// whitespace collapsed.
pub fn strip_markdown(source: &str) -> String {
    let s = if source.contains("[[") {
        WIKILINK.replace_all(source, link_text)
    } else {
        std::borrow::Cow::Borrowed(source)
    };
    let s = if s.contains("](") {
        MD_LINK.replace_all(&s, "$1")
    } else {
        s
    };
    let mut out = String::with_capacity(s.len());
    for line in s.lines() {
        push_plain_line(&mut out, line);
        out.push(' ');
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One line without its block markup (heading `#`s, quote `>`, list and task markers, a
/// trailing `^block-id`), inline emphasis markers and HTML tags, appended to `out`.
fn push_plain_line(out: &mut String, line: &str) {
    let mut rest = line.trim_start();
    loop {
        let before = rest;
        rest = rest.trim_start_matches('>').trim_start();
        if let Some(r) = rest.strip_prefix('#') {
            let r = r.trim_start_matches('#');
            if r.starts_with(' ') || r.is_empty() {
                rest = r.trim_start();
            }
        }
        for marker in ["- ", "* ", "+ "] {
            if let Some(r) = rest.strip_prefix(marker) {
                rest = r.trim_start();
            }
        }
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && matches!(rest.as_bytes().get(digits), Some(b'.') | Some(b')')) {
            rest = rest[digits + 1..].trim_start();
        }
        for task in ["[ ] ", "[x] ", "[X] "] {
            if let Some(r) = rest.strip_prefix(task) {
                rest = r;
            }
        }
        if rest == before {
            break;
        }
    }
    // A trailing block id is an anchor, not text.
    if let Some(i) = rest.rfind(" ^") {
        let id = rest[i + 2..].trim_end();
        if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            rest = &rest[..i];
        }
    }
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '`' => {}
            '*' | '=' | '~' if chars.peek().map(|&(_, n)| n) == Some(c) => {
                chars.next();
            }
            '<' => {
                // Drop an HTML tag (`<b>`, `</span>`), keep a lone `<`.
                let tail = &rest[i + 1..];
                let is_tag = tail.starts_with(|n: char| n.is_ascii_alphabetic() || n == '/');
                match tail.find('>').filter(|_| is_tag) {
                    Some(end) => {
                        let stop = i + 1 + end;
                        while chars.peek().is_some_and(|&(j, _)| j <= stop) {
                            chars.next();
                        }
                        out.push(' ');
                    }
                    None => out.push(c),
                }
            }
            c => out.push(c),
        }
    }
}

/// The paragraph (or list item, or property) around link `index` of `note`, as plain text,
/// shortened around the link.
pub fn link_context(note: &Note, index: usize) -> String {
    let link = &note.links[index];
    if link.kind == LinkKind::Property {
        let line = note.lines.line(link.span.start);
        let range = note.lines.line_range(&note.text, line);
        let key = note.text[range]
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .trim_start_matches("- ");
        return format!("{key}: {}", strip_markdown(note.slice(link.span)));
    }
    let text = &note.text;
    let start = link.span.start as usize;
    let end = link.span.end as usize;
    // The block around the link: up to the blank lines (or list item starts) around it.
    let line_no = note.lines.line(start as u32);
    let mut first = line_no;
    while first > 1 {
        let prev = note.lines.line_range(text, first - 1);
        let prev_text = text[prev.clone()].trim();
        let this = text[note.lines.line_range(text, first)].trim_start();
        if prev_text.is_empty() || prev.start < note.body_start || starts_block(this) {
            break;
        }
        first -= 1;
    }
    let mut last = note.lines.line(end as u32);
    loop {
        let next = note.lines.line_range(text, last + 1);
        if next.start >= text.len()
            || text[next.clone()].trim().is_empty()
            || starts_block(text[next].trim_start())
        {
            break;
        }
        last += 1;
    }
    // Strip only a window around the link: a long paragraph shows at most CONTEXT_CHARS anyway.
    let window = CONTEXT_CHARS * 4;
    let block_start = note
        .lines
        .line_range(text, first)
        .start
        .max(start.saturating_sub(window));
    let block_end = note.lines.line_range(text, last).end.min(end + window);
    let block_start = (block_start..=start)
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(start);
    let block_end = (end..=block_end)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(end);
    let before = strip_markdown(&text[block_start..start]);
    let link_text = strip_markdown(&text[start..end]);
    let after = strip_markdown(&text[end.min(block_end)..block_end]);
    let half = CONTEXT_CHARS / 2;
    let before: String = if before.chars().count() > half {
        let skip = before.chars().count() - half;
        let tail: String = before.chars().skip(skip).collect();
        format!(
            "…{}",
            tail.split_once(' ').map_or(tail.as_str(), |(_, r)| r)
        )
    } else {
        before
    };
    let after: String = if after.chars().count() > half {
        let head: String = after.chars().take(half).collect();
        format!(
            "{}…",
            head.rsplit_once(' ').map_or(head.as_str(), |(l, _)| l)
        )
    } else {
        after
    };
    [before.as_str(), link_text.as_str(), after.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}

fn starts_block(line: &str) -> bool {
    line.starts_with('#')
        || line.starts_with("- ")
        || line.starts_with("* ")
        || line.starts_with("+ ")
        || line.starts_with('>')
        || line.starts_with('|')
        || line.starts_with("```")
        || line
            .split_once(". ")
            .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// The note's visible text (comments and front matter removed), at most `max` characters.
pub fn plain_text(note: &Note, max: usize) -> String {
    let body = &note.text[note.body_start..];
    let cut = body
        .char_indices()
        .nth(max * 2)
        .map_or(body.len(), |(i, _)| i);
    strip_markdown(&body[..cut]).chars().take(max).collect()
}

/// A front-matter value as display text: lists joined with commas.
pub fn display_value(value: &serde_json::Value) -> String {
    match value {
        // `"[[Note|Label]]"` reads as `Label`, `"[[Note]]"` as `Note`.
        serde_json::Value::String(s) if s.contains("[[") => {
            WIKILINK.replace_all(s, link_text).into_owned()
        }
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items
            .iter()
            .map(display_value)
            .collect::<Vec<_>>()
            .join(", "),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_markdown_keeps_labels_and_words() {
        assert_eq!(
            strip_markdown("## See **[[CLIP|the CLIP model]]** and [docs](x.md) `code`"),
            "See the CLIP model and docs code"
        );
        assert_eq!(strip_markdown("- item [[Note#H]] ^blk"), "item Note#H");
    }

    #[test]
    fn property_values_show_link_names() {
        let v = serde_json::json!(["[[Contrastive Learning]]", "[[CLIP|the model]]", "plain"]);
        assert_eq!(display_value(&v), "Contrastive Learning, the model, plain");
    }

    #[test]
    fn strip_markdown_block_markers_emphasis_and_tags() {
        assert_eq!(
            strip_markdown("> - [x] **done** ==now== ~~old~~"),
            "done now old"
        );
        assert_eq!(
            strip_markdown("12. step <b>bold</b> a < b"),
            "step bold a < b"
        );
        assert_eq!(strip_markdown("### Title\n#tag stays"), "Title #tag stays");
        assert_eq!(strip_markdown("2*3 and a_b_c"), "2*3 and a_b_c");
    }
}
