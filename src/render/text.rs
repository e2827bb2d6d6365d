//! Plain text from markdown source: backlink contexts and search bodies. A light, linear
//! scan over the source (links become their labels, markup is dropped), not a second render.

use std::borrow::Cow;
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
    let mut out = String::with_capacity(source.len());
    strip_markdown_into(&mut out, source);
    out
}

/// [`strip_markdown`] appended to the empty `out`.
///
/// One pass per line, without regexes: links never span lines, so the text is the same as
/// replacing every wikilink ([`WIKILINK`]), then every markdown link (`!?\[([^\]\n]*)\]\([^)\n]*\)`
/// by its text), in the whole source before splitting it into lines.
fn strip_markdown_into(out: &mut String, source: &str) {
    let mut sink = Collapse {
        out,
        space: false,
        started: false,
    };
    for piece in source.split_inclusive('\n') {
        let (body, newline) = match piece.strip_suffix('\n') {
            Some(b) => (b, true),
            None => (piece, false),
        };
        let wiki = replace_wikilinks(body);
        let md = replace_md_links(&wiki);
        // `str::lines` drops the `\r` of a `\r\n` ending (not a final lone `\r`).
        let line = if newline {
            md.strip_suffix('\r').unwrap_or(&md)
        } else {
            &md
        };
        push_plain_line(&mut sink, line);
        sink.space = true;
    }
}

/// Appends text with runs of whitespace collapsed to one space, none leading or trailing (the
/// same as `split_whitespace` joined with spaces).
struct Collapse<'a> {
    out: &'a mut String,
    /// Whitespace seen since the last character written.
    space: bool,
    /// Whether anything was written.
    started: bool,
}

impl Collapse<'_> {
    #[inline]
    fn push(&mut self, c: char) {
        if c.is_whitespace() {
            self.space = true;
        } else {
            if self.space && self.started {
                self.out.push(' ');
            }
            self.space = false;
            self.started = true;
            self.out.push(c);
        }
    }
}

/// Index of the first byte at or after `from` that is `a` or `b` (`len` when none), with the
/// last answer kept: callers ask with positions that never decrease, so a line is scanned
/// once however many unclosed links it has.
struct NextOf {
    a: u8,
    b: u8,
    from: usize,
    at: usize,
}

impl NextOf {
    fn new(a: u8, b: u8) -> NextOf {
        NextOf {
            a,
            b,
            from: usize::MAX,
            at: 0,
        }
    }

    fn find(&mut self, bytes: &[u8], from: usize) -> usize {
        if !(self.from <= from && from <= self.at) {
            self.from = from;
            self.at = from
                + memchr::memchr2(self.a, self.b, &bytes[from.min(bytes.len())..])
                    .unwrap_or(bytes.len().saturating_sub(from));
        }
        self.at
    }
}

/// One line with every `[[target|label]]` (or `![[...]]`) replaced by what it reads as, the
/// way `WIKILINK.replace_all(line, link_text)` does (leftmost-first, lazy target).
fn replace_wikilinks(line: &str) -> Cow<'_, str> {
    let b = line.as_bytes();
    let mut out: Option<String> = None;
    let mut last = 0; // end of the previous match
    let mut pos = 0; // where to look for the next `[[`
    let mut close = NextOf::new(b']', b'\n');
    while let Some(found) = memchr::memmem::find(&b[pos..], b"[[") {
        let p = pos + found;
        let c = p + 2;
        let mut j = c;
        let matched = loop {
            // `\|label]]` or `|label]]` after the target...
            let k = match b.get(j) {
                Some(b'\\') if b.get(j + 1) == Some(&b'|') => Some(j + 2),
                Some(b'|') => Some(j + 1),
                _ => None,
            };
            if let Some(k) = k {
                let e = close.find(b, k);
                if b[e..].starts_with(b"]]") {
                    break Some((j, Some(k..e), e + 2));
                }
            }
            // ...or `]]` right after it...
            if b[j..].starts_with(b"]]") {
                break Some((j, None, j + 2));
            }
            // ...or a longer target.
            match b.get(j) {
                None | Some(b']' | b'|' | b'\n') => break None,
                _ => j += 1,
            }
        };
        match matched {
            Some((target_end, label, end)) => {
                let start = if p > last && b[p - 1] == b'!' {
                    p - 1
                } else {
                    p
                };
                let o = out.get_or_insert_with(|| String::with_capacity(line.len()));
                o.push_str(&line[last..start]);
                let label = label.map(|l| line[l].trim()).filter(|l| !l.is_empty());
                o.push_str(label.unwrap_or_else(|| line[c..target_end].trim()));
                last = end;
                pos = end;
            }
            // Every `[[` before `j` would stop at the same `]`, `|` or line end: skip them.
            None => pos = j.max(p + 1),
        }
    }
    match out {
        Some(mut o) => {
            o.push_str(&line[last..]);
            Cow::Owned(o)
        }
        None => Cow::Borrowed(line),
    }
}

/// One line with every `[text](url)` (or `![alt](url)`) replaced by its text, the way
/// `Regex::new(r"!?\[([^\]\n]*)\]\([^)\n]*\)").replace_all(line, "$1")` does.
fn replace_md_links(line: &str) -> Cow<'_, str> {
    let b = line.as_bytes();
    let mut out: Option<String> = None;
    let mut last = 0;
    let mut pos = 0;
    let mut close = NextOf::new(b']', b'\n');
    let mut paren = NextOf::new(b')', b'\n');
    while let Some(found) = memchr::memchr(b'[', &b[pos..]) {
        let p = pos + found;
        let e = close.find(b, p + 1);
        if b.get(e) == Some(&b']') && b.get(e + 1) == Some(&b'(') {
            let f = paren.find(b, e + 2);
            if b.get(f) == Some(&b')') {
                let start = if p > last && b[p - 1] == b'!' {
                    p - 1
                } else {
                    p
                };
                let o = out.get_or_insert_with(|| String::with_capacity(line.len()));
                o.push_str(&line[last..start]);
                o.push_str(&line[p + 1..e]);
                last = f + 1;
                pos = f + 1;
                continue;
            }
        }
        // Every `[` before `e` would stop at the same `]`: skip them.
        pos = e.max(p + 1);
    }
    match out {
        Some(mut o) => {
            o.push_str(&line[last..]);
            Cow::Owned(o)
        }
        None => Cow::Borrowed(line),
    }
}

/// One line without its block markup (heading `#`s, quote `>`, list and task markers, a
/// trailing `^block-id`), inline emphasis markers and HTML tags, appended to `out`.
fn push_plain_line(out: &mut Collapse, line: &str) {
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

    /// `strip_markdown` as it was first written: two regex passes over the whole source,
    /// then lines, then whitespace collapsed. The scanner must agree with it exactly.
    fn reference_strip(source: &str) -> String {
        let md_link = Regex::new(r"!?\[([^\]\n]*)\]\([^)\n]*\)").unwrap();
        let s = WIKILINK.replace_all(source, link_text);
        let s = md_link.replace_all(&s, "$1");
        let mut raw = String::new();
        let mut sink = Collapse {
            out: &mut raw,
            space: false,
            started: false,
        };
        for line in s.lines() {
            push_plain_line(&mut sink, line);
            sink.push('\n');
        }
        raw
    }

    #[test]
    fn strip_markdown_matches_the_regex_definition() {
        let pieces = [
            "[[", "]]", "![[", "[", "]", "(", ")", "|", "\\|", "\\", "!", "\n", "\r\n", "\r", " ",
            "  ", "a", "Note", "é", "视觉", "#", "## ", "> ", "- ", "1. ", "[x] ", " ^id", "**",
            "==", "`", "<b>", "</i>", "<", ">", "](", "](u)", "|l]]", "\u{a0}", "\t",
        ];
        // A small deterministic generator: every input is a string of pieces.
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let len = (next() % 24) as usize;
            let input: String = (0..len)
                .map(|_| pieces[(next() % pieces.len() as u64) as usize])
                .collect();
            assert_eq!(strip_markdown(&input), reference_strip(&input), "{input:?}");
        }
        for input in [
            "[[a|b]] [[c\\|d]] ![[e]] [[f|]] [[|g]] [[h\\|]]x]]",
            "[[[a]]] [[a|b|c]] [[a\\]] [[a\\b|c]] [[a]b]] [[a|b]c]]",
            "[t](u) ![i](j) [a [b](c) d](e) [x]](y) [[p]](q) [r]((s))",
            "[[a|[b](c)]] [x [[y]]](z)",
        ] {
            assert_eq!(strip_markdown(input), reference_strip(input), "{input:?}");
        }
    }

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
