//! Plain text from markdown source: backlink contexts and search bodies. A light, linear
//! scan over the source (links become their labels, markup is dropped), not a second render.

use std::cell::RefCell;
use std::sync::LazyLock;

use regex::Regex;

use super::search_terms::{self, SearchLanguage};
use crate::vault::{LinkKind, Note};

/// Most body text one note contributes to the search index.
pub const SEARCH_BODY_CHARS: usize = 3000;

/// Body text the whole search index may hold: every reader downloads the index on first
/// search, so it must stay small however large the vault. Each shard gets an equal share and
/// each note an equal share of its shard's (all of its text in small vaults, its opening lines
/// in huge ones); titles, tags and headings are always indexed in full.
pub const SEARCH_BODY_BUDGET: usize = 1_000_000;

/// The body characters each of the `notes` notes of one of `shards` search shards may put in
/// the index. It depends only on the shard's own size, so adding a note to one shard leaves the
/// others' bytes (and their fingerprints) unchanged.
pub fn search_body_chars(shards: usize, notes: usize) -> usize {
    (SEARCH_BODY_BUDGET / shards.max(1) / notes.max(1)).min(SEARCH_BODY_CHARS)
}

/// Longest backlink context shown, in characters.
const CONTEXT_CHARS: usize = 280;

static WIKILINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"!?\[\[([^\]|\n]*?)(?:\\?\|([^\]\n]*))?\]\]").expect("valid regex")
});
/// What a matched `[[target|label]]` reads as: the label, else the target as the page shows
/// it (also for an embed whose "label" is its size, `![[a.png|300]]`).
fn link_text(c: &regex::Captures) -> String {
    let embed = c[0].starts_with('!');
    match c
        .get(2)
        .map(|l| l.as_str().trim())
        .filter(|l| !(l.is_empty() || embed && is_embed_size(l)))
    {
        Some(label) => label.to_string(),
        None => target_text(c[1].trim()).into_owned(),
    }
}

/// How the target of a wikilink without a label reads, as the page shows it
/// ([`super::html::label_for`]): `Note > Heading`, `Note > ^id`, `Note` for `Note.md`;
/// borrowed unless it has a fragment.
fn target_text(target: &str) -> std::borrow::Cow<'_, str> {
    let (path, fragment) = match target.split_once('#') {
        Some((path, fragment)) => (
            path.trim(),
            crate::parse::links::parse_fragment(path.trim(), fragment),
        ),
        None => (target, None),
    };
    super::html::label_for(path, fragment.as_ref())
}

/// `300` or `300x200`: the size an embed is shown at, not words to read.
fn is_embed_size(label: &str) -> bool {
    let mut parts = label.splitn(2, 'x');
    let digits =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let width = parts.next();
    digits(width) && parts.next().is_none_or(|h| digits(Some(h)))
}

/// Markdown source to readable text: `[[a|b]]` -> `b`, `[t](u)` -> `t`, markup removed,
/// whitespace collapsed.
pub fn strip_markdown(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    strip_markdown_into(&mut out, source, false, &mut LineBuffers::default());
    out
}

/// Per-line buffers [`strip_markdown_into`] reuses: the line with its wikilinks replaced, then
/// with its markdown links replaced (most lines need neither and are not copied).
#[derive(Default)]
struct LineBuffers {
    wiki: String,
    md: String,
}

/// [`strip_markdown`] of `source` appended to `out`; with `separate`, the text (when there is
/// any) is preceded by one space, as if joined to what `out` holds.
///
/// One pass per line, without regexes: links never span lines, so the text is the same as
/// replacing every wikilink ([`WIKILINK`]), then every markdown link (`!?\[([^\]\n]*)\]\([^)\n]*\)`
/// by its text), in the whole source before splitting it into lines.
fn strip_markdown_into(out: &mut String, source: &str, separate: bool, buffers: &mut LineBuffers) {
    let LineBuffers { wiki, md } = buffers;
    let mut sink = Collapse {
        out,
        space: separate,
        started: separate,
    };
    for piece in source.split_inclusive('\n') {
        let (body, newline) = match piece.strip_suffix('\n') {
            Some(b) => (b, true),
            None => (piece, false),
        };
        let line: &str = if replace_wikilinks(body, wiki) {
            wiki
        } else {
            body
        };
        let line: &str = if replace_md_links(line, md) { md } else { line };
        // `str::lines` drops the `\r` of a `\r\n` ending (not a final lone `\r`).
        let line = if newline {
            line.strip_suffix('\r').unwrap_or(line)
        } else {
            line
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
    /// Appends `word`: text without whitespace, or with single spaces between other
    /// characters (already collapsed).
    #[inline]
    fn push_word(&mut self, word: &str) {
        if self.space && self.started {
            self.out.push(' ');
        }
        self.space = false;
        self.started = true;
        self.out.push_str(word);
    }

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
/// way `WIKILINK.replace_all(line, link_text)` does (leftmost-first, lazy target), written to
/// `out` (cleared first). Returns false, leaving `out` alone, when the line has no wikilink.
fn replace_wikilinks(line: &str, out: &mut String) -> bool {
    let b = line.as_bytes();
    let mut replaced = false;
    let mut last = 0; // end of the previous match
    let mut pos = 0; // where to look for the next `[[`
    let mut close = NextOf::new(b']', b'\n');
    while let Some(found) = OPEN_WIKILINK.find(&b[pos..]) {
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
                if !replaced {
                    replaced = true;
                    out.clear();
                }
                out.push_str(&line[last..start]);
                let embed = start < p;
                let label = label
                    .map(|l| line[l].trim())
                    .filter(|l| !(l.is_empty() || embed && is_embed_size(l)));
                match label {
                    Some(label) => out.push_str(label),
                    None => out.push_str(&target_text(line[c..target_end].trim())),
                }
                last = end;
                pos = end;
            }
            // Every `[[` before `j` would stop at the same `]`, `|` or line end: skip them.
            None => pos = j.max(p + 1),
        }
    }
    if replaced {
        out.push_str(&line[last..]);
    }
    replaced
}

/// Finds `[[` (built once: building a finder per line showed in profiles).
static OPEN_WIKILINK: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new(b"[["));

/// One line with every `[text](url)` (or `![alt](url)`) replaced by its text, the way
/// `Regex::new(r"!?\[([^\]\n]*)\]\([^)\n]*\)").replace_all(line, "$1")` does, written to `out`
/// (cleared first). Returns false, leaving `out` alone, when the line has no such link.
fn replace_md_links(line: &str, out: &mut String) -> bool {
    let b = line.as_bytes();
    let mut replaced = false;
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
                if !replaced {
                    replaced = true;
                    out.clear();
                }
                out.push_str(&line[last..start]);
                out.push_str(&line[p + 1..e]);
                last = f + 1;
                pos = f + 1;
                continue;
            }
        }
        // Every `[` before `e` would stop at the same `]`: skip them.
        pos = e.max(p + 1);
    }
    if replaced {
        out.push_str(&line[last..]);
    }
    replaced
}

/// A line without its block markup: heading `#`s, quote `>`, list and task markers (nested
/// ones too) and a trailing `^block-id`.
fn strip_block_markup(line: &str) -> &str {
    let mut rest = line.trim_start();
    let mut listed = false;
    loop {
        let before = rest;
        rest = rest.trim_start_matches('>').trim_start();
        if rest.len() < before.len() {
            rest = strip_callout_marker(rest);
        }
        if let Some(r) = rest.strip_prefix('#') {
            let r = r.trim_start_matches('#');
            if r.starts_with(' ') || r.is_empty() {
                rest = r.trim_start();
            }
        }
        for marker in ["- ", "* ", "+ "] {
            if let Some(r) = rest.strip_prefix(marker) {
                rest = r.trim_start();
                listed = true;
            }
        }
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && matches!(rest.as_bytes().get(digits), Some(b'.') | Some(b')')) {
            rest = rest[digits + 1..].trim_start();
            listed = true;
        }
        for task in ["[ ] ", "[x] ", "[X] "] {
            if let Some(r) = rest.strip_prefix(task) {
                rest = r;
            }
        }
        if listed {
            rest = strip_task_status(rest);
        }
        if rest == before {
            break;
        }
    }
    // A trailing block id is an anchor, not text.
    if let Some(i) = rfind_block_marker(rest) {
        let id = rest[i + 2..].trim_end();
        if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            rest = &rest[..i];
        }
    }
    rest
}

/// A list item's text without a task's other status (`[/] `, `[-] `, `[>] `: any character
/// but a space or a bracket; Obsidian shows them all checked).
fn strip_task_status(item: &str) -> &str {
    let mut chars = item.chars();
    match (chars.next(), chars.next(), chars.next(), chars.next()) {
        (Some('['), Some(c), Some(']'), Some(' ' | '\t')) if !matches!(c, ' ' | '[' | ']') => {
            chars.as_str()
        }
        _ => item,
    }
}

/// A quote's text without a callout's `[!type]`, `[!type]-` or `[!type]+` at its start.
fn strip_callout_marker(quoted: &str) -> &str {
    match crate::parse::body::callout_marker(quoted) {
        Some((_, _, title)) => title.trim_start(),
        None => quoted,
    }
}

/// `line.rfind(" ^")`, without building a substring searcher for every line.
fn rfind_block_marker(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let mut end = b.len();
    while let Some(caret) = memchr::memrchr(b'^', &b[..end]) {
        if caret > 0 && b[caret - 1] == b' ' {
            return Some(caret - 1);
        }
        end = caret;
    }
    None
}

/// One line without its block markup (heading `#`s, quote `>`, list and task markers, a
/// trailing `^block-id`), inline emphasis markers and HTML tags, appended to `out`.
fn push_plain_line(out: &mut Collapse, line: &str) {
    let rest = strip_block_markup(line);
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Most text is words of printable ASCII kept as they are, separated by single spaces:
        // such a run is already collapsed and is appended whole.
        if PLAIN[bytes[i] as usize] {
            // The run ends before the first byte that is neither kept nor a space, before a
            // second space in a row, and without a space at its end: single spaces between
            // two kept bytes stay in it.
            let mut j = plain_or_space_end(bytes, i);
            if let Some(k) = memchr::memmem::find(&bytes[i..j], b"  ") {
                j = i + k;
            }
            while bytes[j - 1] == b' ' {
                j -= 1;
            }
            out.push_word(&rest[i..j]);
            i = j;
            continue;
        }
        if bytes[i] == b' ' {
            out.space = true;
            i += 1;
            continue;
        }
        let c = rest[i..].chars().next().expect("at a char boundary");
        let next = i + c.len_utf8();
        match c {
            '`' => i = next,
            '*' | '=' | '~' if rest[next..].starts_with(c) => i = next + c.len_utf8(),
            '*' if emphasis_star(rest[..i].chars().next_back(), rest[next..].chars().next()) => {
                i = next;
            }
            '<' => {
                // Drop an HTML tag (`<b>`, `</span>`), keep a lone `<`.
                let tail = &rest[next..];
                let is_tag = tail.starts_with(|n: char| n.is_ascii_alphabetic() || n == '/');
                match tail.find('>').filter(|_| is_tag) {
                    Some(end) => {
                        out.push(' ');
                        i = next + end + 1;
                    }
                    None => {
                        out.push(c);
                        i = next;
                    }
                }
            }
            c => {
                out.push(c);
                i = next;
            }
        }
    }
}

/// Whether a single `*` between `prev` and `next` opens or closes emphasis (`*word*`), and so
/// is markup rather than text: it touches a word on one side and a space, punctuation or the
/// line's end on the other (`2 * 3` and `a*b` keep theirs).
fn emphasis_star(prev: Option<char>, next: Option<char>) -> bool {
    let open = |c: Option<char>| c.is_none_or(|c| c.is_whitespace() || c.is_ascii_punctuation());
    let word = |c: Option<char>| c.is_some_and(|c| !c.is_whitespace());
    (open(prev) && word(next)) || (word(prev) && open(next))
}

/// The index of the first byte at or after `i` that is neither one [`PLAIN`] keeps nor a
/// space (`bytes.len()` when there is none), eight bytes at a time: runs of plain words are
/// most of a note's text.
#[inline]
fn plain_or_space_end(bytes: &[u8], mut i: usize) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    // A high bit in each byte that is zero; only the lowest flagged byte is sure, which is
    // the one wanted.
    let zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let control = x.wrapping_sub(LO * 0x20) & !x & HI;
        let high = (((x & !HI) + LO) | x) & HI;
        let markup = zero(x ^ (LO * u64::from(b'`')))
            | zero(x ^ (LO * u64::from(b'*')))
            | zero(x ^ (LO * u64::from(b'=')))
            | zero(x ^ (LO * u64::from(b'~')))
            | zero(x ^ (LO * u64::from(b'<')));
        let stop = control | high | markup;
        if stop != 0 {
            return i + (stop.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < bytes.len() && (PLAIN[bytes[i] as usize] || bytes[i] == b' ') {
        i += 1;
    }
    i
}

/// Printable ASCII bytes [`push_plain_line`] keeps as they are (not whitespace, not markup).
static PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0x21;
    while b < 0x7f {
        t[b] = !matches!(b as u8, b'`' | b'*' | b'=' | b'~' | b'<');
        b += 1;
    }
    t
};

/// The paragraph (or list item, or property) around link `index` of `note`, as plain text,
/// shortened around the link.
pub fn link_context(note: &Note, index: usize) -> String {
    thread_local! {
        static SCRATCH: RefCell<(String, LineBuffers)> = RefCell::default();
    }
    // One context per backlink: the text is built in a buffer reused by the thread, and only
    // the result is copied out.
    SCRATCH.with(|scratch| {
        let (out, buffers) = &mut *scratch.borrow_mut();
        out.clear();
        link_context_into(out, buffers, note, index);
        out.as_str().to_owned()
    })
}

/// The front-matter key whose value holds the property link at `at`: the key on its line
/// (`related: "[[A]]"`, `related: ["[[A]]", "[[B]]"]`), or, for an item of a block list
/// (`  - "[[A]]"`), the key the list is under.
fn property_key(note: &Note, at: u32) -> &str {
    let lines = note.lines();
    let mut line = lines.line(at);
    loop {
        let text = note.text[lines.line_range(&note.text, line)].trim();
        let item = text.starts_with("- ") || text == "-";
        if !(item || text.is_empty()) || line <= 1 {
            return text
                .split(':')
                .next()
                .unwrap_or("")
                .trim()
                .trim_start_matches("- ");
        }
        line -= 1;
    }
}

/// [`link_context`] written to the empty `out`.
fn link_context_into(out: &mut String, buffers: &mut LineBuffers, note: &Note, index: usize) {
    let link = &note.links[index];
    if link.kind == LinkKind::Property {
        out.push_str(property_key(note, link.span.start));
        out.push_str(": ");
        strip_markdown_into(out, note.slice(link.span), false, buffers);
        return;
    }
    let text = &note.text;
    let start = link.span.start as usize;
    let end = link.span.end as usize;
    // The block around the link: up to the blank lines (or list item starts) around it, but
    // no further than the window that is stripped below: a paragraph of thousands of lines
    // with a link on each is walked once per link only that far.
    let window = CONTEXT_CHARS * 4;
    let line_no = note.lines().line(start as u32);
    let mut first = line_no;
    while first > 1 {
        if note.lines().line_range(text, first).start <= start.saturating_sub(window) {
            break;
        }
        let prev = note.lines().line_range(text, first - 1);
        let prev_text = text[prev.clone()].trim();
        let this = text[note.lines().line_range(text, first)].trim_start();
        if prev_text.is_empty()
            || prev.start < note.body_start
            || starts_block(this)
            || is_atx_heading(prev_text)
        {
            break;
        }
        first -= 1;
    }
    let mut last = note.lines().line(end as u32);
    loop {
        if note.lines().line_range(text, last).end >= end + window {
            break;
        }
        let next = note.lines().line_range(text, last + 1);
        if next.start >= text.len()
            || text[next.clone()].trim().is_empty()
            || starts_block(text[next].trim_start())
        {
            break;
        }
        last += 1;
    }
    // Strip only a window around the link: a long paragraph shows at most CONTEXT_CHARS anyway.
    let block_start = note
        .lines()
        .line_range(text, first)
        .start
        .max(start.saturating_sub(window));
    let block_end = note.lines().line_range(text, last).end.min(end + window);
    // `start` and `end` are boundaries, so these stay outside the link.
    let block_start = crate::source::ceil_char_boundary(text, block_start);
    let block_end = crate::source::floor_char_boundary(text, block_end);
    let half = CONTEXT_CHARS / 2;
    // The text before the link, stripped; past `half` characters, only its last `half`
    // characters after their first space, behind an ellipsis.
    // What the page shows of the note: its comments are not in it.
    let comments = note.comments();
    let before = without_comments(text, block_start..start, comments);
    strip_markdown_into(out, &before, false, buffers);
    if out.len() > half {
        let chars = out.chars().count();
        if chars > half {
            let (tail, _) = out
                .char_indices()
                .nth_back(half - 1)
                .expect("more than `half` characters");
            let cut = out[tail..].find(' ').map_or(tail, |space| tail + space + 1);
            out.replace_range(..cut, "…");
        }
    }
    // Then the link's own text and the text after it, each joined by a space where the note
    // has one (`[[a]].` and `见[[链接]]。` stay without).
    let spaced = space_at_end(&before);
    let before_link = out.len();
    strip_markdown_into(out, &text[start..end], spaced && !out.is_empty(), buffers);
    let mark = out.len();
    let after = without_comments(text, end.min(block_end)..block_end, comments);
    let spaced_after = space_at_start(&after) || (mark == before_link && spaced);
    strip_markdown_into(out, &after, mark > 0 && spaced_after, buffers);
    // Past `half` characters, the text after the link is cut at the last space of its first
    // `half` characters and ends with an ellipsis.
    if out.len() > mark {
        let after = if out[mark..].starts_with(' ') {
            mark + 1
        } else {
            mark
        };
        if out.len() - after > half && out[after..].chars().count() > half {
            let (head_end, _) = out[after..]
                .char_indices()
                .nth(half)
                .expect("more than `half` characters");
            let head = &out[after..after + head_end];
            let keep = head.rfind(' ').unwrap_or(head.len());
            out.truncate(after + keep);
            out.push('…');
        }
    }
}

/// Inline markup a link can be wrapped in (`**[[a]]**`), which is not text around it.
const WRAPPING: [char; 5] = ['*', '_', '=', '~', '`'];

/// Whether `before` (the text up to a link) ends with white space, wrapping markup aside.
fn space_at_end(before: &str) -> bool {
    before
        .trim_end_matches(WRAPPING)
        .ends_with(char::is_whitespace)
}

/// Whether `after` (the text after a link) starts with white space, wrapping markup aside.
fn space_at_start(after: &str) -> bool {
    after
        .trim_start_matches(WRAPPING)
        .starts_with(char::is_whitespace)
}

/// `# Title` to `###### Title`: a heading, a block of its own line (`#tag` is not one).
fn is_atx_heading(line: &str) -> bool {
    let hashes = line.bytes().take_while(|&b| b == b'#').count();
    (1..=6).contains(&hashes) && matches!(line.as_bytes().get(hashes), None | Some(b' ' | b'\t'))
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
    let body = without_comments(
        &note.text,
        note.body_start..note.text.len(),
        note.comments(),
    );
    let cut = body
        .char_indices()
        .nth(max * 2)
        .map_or(body.len(), |(i, _)| i);
    strip_markdown(&body[..cut]).chars().take(max).collect()
}

/// The first `chars` characters of `plain` (the note's [`plain_text`]) past the headings it
/// opens with: a search result or a preview shows the note's title already, and its opening
/// words say more than its first heading (often the title again) does.
pub fn excerpt(note: &Note, plain: &str, chars: usize) -> String {
    let mut rest = plain;
    for heading in &note.headings {
        let words = strip_markdown(&heading.text);
        match rest.strip_prefix(words.as_str()) {
            Some(after) if !words.is_empty() && (after.is_empty() || after.starts_with(' ')) => {
                rest = after.trim_start();
            }
            _ => break,
        }
    }
    // A note that is nothing but headings still shows them.
    let shown = if rest.is_empty() { plain } else { rest };
    shown.chars().take(chars).collect()
}

/// `text[range]` without the parts inside `comments` (sorted byte ranges of `%% %%`, as
/// [`Note::comments`] gives them): what a reader of the page sees of it. Borrowed when no
/// comment reaches into the range, as in most notes.
pub(crate) fn without_comments<'t>(
    text: &'t str,
    range: std::ops::Range<usize>,
    comments: &[std::ops::Range<usize>],
) -> std::borrow::Cow<'t, str> {
    let first = comments.partition_point(|c| c.end <= range.start);
    let inside = &comments[first..];
    if inside.first().is_none_or(|c| c.start >= range.end) {
        return std::borrow::Cow::Borrowed(&text[range]);
    }
    let mut out = String::with_capacity(range.len());
    let mut pos = range.start;
    for c in inside.iter().take_while(|c| c.start < range.end) {
        if c.start > pos {
            out.push_str(&text[pos..c.start]);
        }
        pos = pos.max(c.end);
    }
    if pos < range.end {
        out.push_str(&text[pos..range.end]);
    }
    std::borrow::Cow::Owned(out)
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

/// The fields of the search index, in the order documents give them.
pub const SEARCH_FIELDS: [&str; 3] = ["title", "body", "tags"];

/// A field's tokens after elasticlunr's pipeline: how many there are, and each distinct
/// non-empty one with its count, sorted.
#[derive(Debug, Default)]
pub struct FieldTerms {
    len: usize,
    terms: Vec<(String, u32)>,
}

/// The search analysis of [`super::search_terms`] (a tokenizer that pairs CJK characters, a
/// Unicode trimmer, English stop words and stemming). The pipeline is not `Sync`: make one per
/// thread (`map_init`).
pub struct Analyzer {
    pipeline: elasticlunr::Pipeline,
}

impl Default for Analyzer {
    fn default() -> Self {
        use elasticlunr::Language as _;
        Analyzer {
            pipeline: SearchLanguage.make_pipeline(),
        }
    }
}

impl Analyzer {
    /// The terms `Index::add_doc` would index for `text` with [`SearchLanguage`].
    pub fn terms(&self, text: &str) -> FieldTerms {
        thread_local! {
            /// What the pipeline makes of each ASCII word this thread has seen: it runs on each
            /// token alone, and words repeat (stemming is most of indexing otherwise).
            static TERMS: std::cell::RefCell<crate::source::FastMap<Box<str>, Option<std::rc::Rc<str>>>> =
                std::cell::RefCell::default();
        }
        /// Distinct words a thread remembers before it starts over (memory stays bounded).
        const MAX_WORDS: usize = 1 << 18;
        let mut tokens: Vec<std::rc::Rc<str>> = TERMS.with(|cache| {
            let mut cache = cache.borrow_mut();
            if cache.len() > MAX_WORDS {
                cache.clear();
            }
            let mut tokens = Vec::new();
            for word in search_terms::words(text) {
                if !word.is_ascii() {
                    // Other scripts: a word may be several pieces (CJK pairs).
                    search_terms::pieces(&search_terms::folded(word), |piece| {
                        tokens.extend(
                            self.pipeline
                                .run(vec![piece.to_string()])
                                .pop()
                                .map(std::rc::Rc::<str>::from),
                        );
                    });
                    continue;
                }
                let term = match cache.get(word) {
                    Some(term) => term.clone(),
                    None => {
                        let term = self
                            .pipeline
                            .run(vec![word.to_ascii_lowercase()])
                            .pop()
                            .map(std::rc::Rc::<str>::from);
                        cache.insert(word.into(), term.clone());
                        term
                    }
                };
                tokens.extend(term);
            }
            tokens
        });
        debug_assert_eq!(tokens.iter().map(|t| t.to_string()).collect::<Vec<_>>(), {
            use elasticlunr::Language as _;
            self.pipeline.run(SearchLanguage.tokenize(text))
        });
        let len = tokens.len();
        tokens.sort_unstable();
        let mut terms: Vec<(String, u32)> = Vec::with_capacity(tokens.len());
        for t in tokens {
            match terms.last_mut() {
                Some((last, n)) if **last == *t => *n += 1,
                _ if t.is_empty() => {}
                _ => terms.push((t.to_string(), 1)),
            }
        }
        FieldTerms { len, terms }
    }
}

/// One document of the search index: its fields' text and terms, in [`SEARCH_FIELDS`] order.
pub struct IndexDoc<'a> {
    /// Field values (stored in the index's document store).
    pub fields: [&'a str; 3],
    /// Field terms, from [`Analyzer::terms`].
    pub terms: &'a [FieldTerms; 3],
}

/// Appends the JSON `elasticlunr::Index::to_json` gives for an index of [`SEARCH_FIELDS`]
/// after `add_doc(&n.to_string(), doc.fields)` for each document `n` in order, byte for byte,
/// but written directly: the terms are computed beforehand (in parallel), and no trie of
/// B-trees is built, serialized through serde and dropped.
pub fn elasticlunr_json(out: &mut String, docs: &[IndexDoc]) {
    use elasticlunr::Language as _;
    use std::fmt::Write as _;
    let keys: Vec<String> = (0..docs.len()).map(|n| n.to_string()).collect();
    // elasticlunr keys its maps by the ref string: "0" < "1" < "10" < "2".
    let mut order: Vec<usize> = (0..docs.len()).collect();
    order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
    // The fields as elasticlunr's B-tree maps order them.
    let mut sorted_fields: Vec<usize> = (0..SEARCH_FIELDS.len()).collect();
    sorted_fields.sort_by_key(|&f| SEARCH_FIELDS[f]);
    // Term frequencies are square roots of small counts: format each once.
    let most = docs
        .iter()
        .flat_map(|d| d.terms.iter())
        .flat_map(|t| t.terms.iter().map(|(_, n)| *n))
        .max()
        .unwrap_or(0);
    let tf: Vec<String> = (0..=most)
        .map(|n| serde_json::to_string(&f64::from(n).sqrt()).expect("finite float"))
        .collect();

    let lang = SearchLanguage;
    out.push_str("{\"fields\":");
    out.push_str(&serde_json::to_string(&SEARCH_FIELDS).expect("strings"));
    out.push_str(",\"pipeline\":");
    out.push_str(&serde_json::to_string(&lang.make_pipeline()).expect("names"));
    out.push_str(",\"ref\":\"id\",\"version\":");
    push_json_str(out, elasticlunr::ELASTICLUNR_VERSION);
    out.push_str(",\"index\":{");
    for (i, &f) in sorted_fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_str(out, SEARCH_FIELDS[f]);
        out.push_str(":{\"root\":");
        // Postings of the field: (term, document, count), by term, then by ref string. The
        // distinct terms are sorted once and postings by their rank (a stable sort keeps
        // the documents in ref order), not every posting by its string.
        let mut rank: crate::source::FastMap<&str, u32> = crate::source::FastMap::default();
        for d in docs {
            for (term, _) in &d.terms[f].terms {
                rank.entry(term.as_str()).or_insert(0);
            }
        }
        let mut vocabulary: Vec<&str> = rank.keys().copied().collect();
        vocabulary.sort_unstable();
        for (r, term) in vocabulary.iter().enumerate() {
            rank.insert(term, r as u32);
        }
        let mut postings: Vec<(u32, usize, u32)> = Vec::new();
        for &d in &order {
            for (term, count) in &docs[d].terms[f].terms {
                postings.push((rank[term.as_str()], d, *count));
            }
        }
        postings.sort_by_key(|p| p.0);
        let postings: Vec<(&str, usize, u32)> = postings
            .into_iter()
            .map(|(r, d, count)| (vocabulary[r as usize], d, count))
            .collect();
        // Depth-first over the trie of terms: `open` holds the characters of the nodes whose
        // children are still being written.
        out.push_str("{\"docs\":{},\"df\":0");
        let mut open: Vec<char> = Vec::new();
        let mut start = 0;
        while start < postings.len() {
            let term = postings[start].0;
            let end = start
                + postings[start..]
                    .iter()
                    .position(|p| p.0 != term)
                    .unwrap_or(postings.len() - start);
            let chars: Vec<char> = term.chars().collect();
            let common = open.iter().zip(&chars).take_while(|(a, b)| a == b).count();
            for _ in common..open.len() {
                out.push('}');
            }
            open.truncate(common);
            for (k, &c) in chars.iter().enumerate().skip(common) {
                out.push(',');
                let mut buf = [0u8; 4];
                push_json_str(out, c.encode_utf8(&mut buf));
                out.push_str(":{\"docs\":{");
                if k + 1 == chars.len() {
                    for (j, &(_, d, count)) in postings[start..end].iter().enumerate() {
                        if j > 0 {
                            out.push(',');
                        }
                        out.push('"');
                        out.push_str(&keys[d]);
                        out.push_str("\":{\"tf\":");
                        out.push_str(&tf[count as usize]);
                        out.push('}');
                    }
                    let _ = write!(out, "}},\"df\":{}", end - start);
                } else {
                    out.push_str("},\"df\":0");
                }
                open.push(c);
            }
            start = end;
        }
        for _ in 0..open.len() {
            out.push('}');
        }
        out.push_str("}}");
    }
    out.push_str("},\"documentStore\":{\"save\":true,\"docs\":{");
    // Each stored document: its fields and `id`, keys sorted.
    let mut stored: Vec<(&str, usize)> = SEARCH_FIELDS.iter().copied().zip(0..).collect();
    stored.push(("id", usize::MAX));
    stored.sort();
    for (i, &d) in order.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{}\":{{", keys[d]);
        for (j, &(name, f)) in stored.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            push_json_str(out, name);
            out.push(':');
            push_json_str(out, docs[d].fields.get(f).copied().unwrap_or(&keys[d]));
        }
        out.push('}');
    }
    out.push_str("},\"docInfo\":{");
    for (i, &d) in order.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{}\":{{", keys[d]);
        for (j, &f) in sorted_fields.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            push_json_str(out, SEARCH_FIELDS[f]);
            let _ = write!(out, ":{}", docs[d].terms[f].len);
        }
        out.push('}');
    }
    let _ = write!(out, "}},\"length\":{}}},\"lang\":", docs.len());
    push_json_str(out, &lang.name());
    out.push('}');
}

/// Appends `s` as a JSON string, escaped exactly as serde_json escapes it.
pub fn push_json_str(out: &mut String, s: &str) {
    if s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(&serde_json::to_string(s).expect("a string"));
    } else {
        out.reserve(s.len() + 2);
        out.push('"');
        out.push_str(s);
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `strip_block_markup` as it was first written.
    fn reference_block_markup(line: &str) -> &str {
        let mut rest = line.trim_start();
        let mut listed = false;
        loop {
            let before = rest;
            rest = rest.trim_start_matches('>').trim_start();
            if rest.len() < before.len() {
                rest = strip_callout_marker(rest);
            }
            if let Some(r) = rest.strip_prefix('#') {
                let r = r.trim_start_matches('#');
                if r.starts_with(' ') || r.is_empty() {
                    rest = r.trim_start();
                }
            }
            for marker in ["- ", "* ", "+ "] {
                if let Some(r) = rest.strip_prefix(marker) {
                    rest = r.trim_start();
                    listed = true;
                }
            }
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 && matches!(rest.as_bytes().get(digits), Some(b'.') | Some(b')')) {
                rest = rest[digits + 1..].trim_start();
                listed = true;
            }
            for task in ["[ ] ", "[x] ", "[X] "] {
                if let Some(r) = rest.strip_prefix(task) {
                    rest = r;
                }
            }
            if listed {
                rest = strip_task_status(rest);
            }
            if rest == before {
                break;
            }
        }
        if let Some(i) = rest.rfind(" ^") {
            let id = rest[i + 2..].trim_end();
            if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                rest = &rest[..i];
            }
        }
        rest
    }

    /// `push_plain_line`'s inline pass as it was first written, char by char.
    fn reference_plain_line(out: &mut Collapse, line: &str) {
        let rest = reference_block_markup(line);
        let mut chars = rest.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '`' => {}
                '*' | '=' | '~' if chars.peek().map(|&(_, n)| n) == Some(c) => {
                    chars.next();
                }
                '*' if emphasis_star(
                    rest[..i].chars().next_back(),
                    chars.peek().map(|&(_, n)| n),
                ) => {}
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
            reference_plain_line(&mut sink, line);
            sink.push('\n');
        }
        raw
    }

    #[test]
    fn strip_markdown_matches_the_regex_definition() {
        let pieces = [
            "[[",
            "]]",
            "![[",
            "[",
            "]",
            "(",
            ")",
            "|",
            "\\|",
            "\\",
            "!",
            "\n",
            "\r\n",
            "\r",
            " ",
            "  ",
            "a",
            "Note",
            "é",
            "视觉",
            "#",
            "## ",
            "> ",
            "- ",
            "1. ",
            "[x] ",
            " ^id",
            "**",
            "*",
            "==",
            "`",
            "<b>",
            "</i>",
            "<",
            ">",
            "](",
            "](u)",
            "|l]]",
            "\u{a0}",
            "\t",
            "^",
            "^x ",
            "-",
            "word",
            "a b",
            "~",
            "~~",
            "*",
            "=",
            "\u{7f}",
            "\u{1}",
            "ten plain words in a longer run",
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
            "![[a.png|300]] ![[b|3x4]] ![[c| 5 ]] [[d|6]] ![[e|6x]] ![[f|x6]] !![[g|7]]",
            "[t](u) ![i](j) [a [b](c) d](e) [x]](y) [[p]](q) [r]((s))",
            "[[a|[b](c)]] [x [[y]]](z)",
        ] {
            assert_eq!(strip_markdown(input), reference_strip(input), "{input:?}");
        }
    }

    /// `link_context` as it was first written: three stripped Strings, cut and joined.
    fn reference_link_context(note: &Note, index: usize) -> String {
        let link = &note.links[index];
        if link.kind == LinkKind::Property {
            let key = super::property_key(note, link.span.start);
            return format!("{key}: {}", strip_markdown(note.slice(link.span)));
        }
        let text = &note.text;
        let start = link.span.start as usize;
        let end = link.span.end as usize;
        let line_no = note.lines().line(start as u32);
        let mut first = line_no;
        while first > 1 {
            let prev = note.lines().line_range(text, first - 1);
            let prev_text = text[prev.clone()].trim();
            let this = text[note.lines().line_range(text, first)].trim_start();
            if prev_text.is_empty()
                || prev.start < note.body_start
                || starts_block(this)
                || is_atx_heading(prev_text)
            {
                break;
            }
            first -= 1;
        }
        let mut last = note.lines().line(end as u32);
        loop {
            let next = note.lines().line_range(text, last + 1);
            if next.start >= text.len()
                || text[next.clone()].trim().is_empty()
                || starts_block(text[next].trim_start())
            {
                break;
            }
            last += 1;
        }
        let window = CONTEXT_CHARS * 4;
        let block_start = note
            .lines()
            .line_range(text, first)
            .start
            .max(start.saturating_sub(window));
        let block_end = note.lines().line_range(text, last).end.min(end + window);
        // `start` and `end` are boundaries, so these stay outside the link.
        let block_start = crate::source::ceil_char_boundary(text, block_start);
        let block_end = crate::source::floor_char_boundary(text, block_end);
        let comments = note.comments();
        let before_text = without_comments(text, block_start..start, comments);
        let after_text = without_comments(text, end.min(block_end)..block_end, comments);
        let before = strip_markdown(&before_text);
        let link_text = strip_markdown(&text[start..end]);
        let after = strip_markdown(&after_text);
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
        // Joined by a space where the note has one around the link.
        let spaced_before = space_at_end(&before_text);
        let spaced_after = space_at_start(&after_text);
        let mut out = before;
        if !link_text.is_empty() {
            if spaced_before && !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&link_text);
        }
        if !after.is_empty() {
            if !out.is_empty() && (spaced_after || (link_text.is_empty() && spaced_before)) {
                out.push(' ');
            }
            out.push_str(&after);
        }
        out
    }

    /// A backlink's context reads as the note does: no space where the note has none around
    /// the link (punctuation, Chinese), none of the heading above the paragraph, and no
    /// callout marker.
    #[test]
    fn link_context_keeps_the_notes_spacing_and_its_own_block() {
        let cases = [
            ("Back to [[Home]].", "Back to Home."),
            ("参见[[链接]]。然后", "参见链接。然后"),
            (
                "**[[Home]]**, then ==[[Home|home]]==: ok",
                "Home, then home: ok",
            ),
            ("a [[Home]] b", "a Home b"),
            ("## Risky part\nBack to [[Home]].", "Back to Home."),
            ("# Title\n\n### H3\nSee [[Home]]", "See Home"),
            ("> [!tip]- Folded with [[Home]]\n> body", "Folded with Home"),
            ("> [!note] [[Home]]", "Home"),
            ("x [[Home| ]]y", "x Homey"),
            ("- [/] Doing [[Home]]", "Doing Home"),
            ("1. [-] Dropped [[Home]]", "Dropped Home"),
            ("[a] is [[Home]]", "[a] is Home"),
            ("A %%secret%% [[Home]] %%more\nlines%% b %%open", "A Home b"),
            ("![[pic.png|300]] and [[Home]]", "pic.png and Home"),
            ("![[pic.png|30x20]] [[Home|300]]", "pic.png 300"),
        ];
        for (text, context) in cases {
            let (note, _) = crate::parse::note(crate::discover::SourceFile {
                path: crate::source::VaultPath::new("n.md").unwrap(),
                text: text.to_string(),
                is_template: false,
            });
            assert!(!note.links.is_empty(), "{text:?}");
            assert_eq!(link_context(&note, 0), context, "{text:?}");
            assert_eq!(reference_link_context(&note, 0), context, "{text:?}");
        }
    }

    #[test]
    fn link_context_matches_the_first_definition() {
        // Words, links and markup of every kind; long runs of words so that contexts are cut
        // (in ASCII and in multi-byte text), and line starts that begin or end blocks.
        let words = [
            "word",
            "two words",
            "视觉模型",
            "café",
            "a",
            " ",
            "  ",
            "\t",
            "**b**",
            "`c`",
            "<i>",
            "[[Note]]",
            "[[Other|label]]",
            "![[img.png]]",
            "[t](u.md)",
            "[[A#H]]",
            "[[B#^id]]",
            "[[ x |  ]]",
            "[[[C]]]",
            "[u](v",
            " ^blk",
            "#tag",
            "~~s~~",
            "é视",
            "[[D|lab el]]",
            "![[p.png|300]]",
            "![[p.png|3x40]]",
            "[[E|12]]",
        ];
        let starts = [
            "", "", "", "- ", "# ", "> ", "1. ", "* [ ] ", "| ", "```\n", "  ",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut links, mut cut_before, mut cut_after, mut properties) = (0, 0, 0, 0);
        for n in 0..150 {
            let mut text = String::new();
            if n % 3 == 0 {
                text.push_str(
                    "---\nrelated: \"[[Prop|the prop]]\"\nup:\n  - \"[[Up **x**]]\"\n---\n",
                );
            }
            for _ in 0..(next() % 12) {
                let mut line = starts[(next() % starts.len() as u64) as usize].to_string();
                // Some lines are far longer than a context.
                let len = if next() % 4 == 0 {
                    200 + next() % 400
                } else {
                    next() % 30
                };
                for _ in 0..len {
                    line.push_str(words[(next() % words.len() as u64) as usize]);
                    if next() % 3 > 0 {
                        line.push(' ');
                    }
                }
                text.push_str(&line);
                text.push_str(["\n", "\n\n", "\r\n", "\n  \n"][(next() % 4) as usize]);
            }
            let (note, _) = crate::parse::note(crate::discover::SourceFile {
                path: crate::source::VaultPath::new("n.md").unwrap(),
                text,
                is_template: false,
            });
            for i in 0..note.links.len() {
                let ours = link_context(&note, i);
                cut_before += usize::from(ours.starts_with('…'));
                cut_after += usize::from(ours.ends_with('…'));
                properties += usize::from(note.links[i].kind == LinkKind::Property);
                assert_eq!(
                    ours,
                    reference_link_context(&note, i),
                    "link {i} of {:?}",
                    note.text
                );
                links += 1;
            }
        }
        // The generator reaches what it is for.
        assert!(
            links > 10_000 && cut_before > 1_000 && cut_after > 1_000 && properties > 50,
            "{links} links, {cut_before} cut before, {cut_after} after, {properties} properties"
        );
    }

    #[test]
    fn elasticlunr_json_is_what_elasticlunr_writes() {
        let texts = [
            "",
            "The model",
            "a \"quoted\" word\tand\\slash \u{1}ctl",
            "running runs ran -- --- x",
            "视觉 模型 café CAFÉ",
            "1.5 2.0 v1.2.3 a_b",
            "the of and",
            "alpha beta alphabet alp",
        ];
        for n in [0, 1, 3, 12, 25] {
            let fields: Vec<[&str; 3]> = (0..n)
                .map(|i| {
                    [
                        texts[i % texts.len()],
                        texts[(i * 3 + 1) % texts.len()],
                        texts[(i * 5 + 2) % texts.len()],
                    ]
                })
                .collect();
            let analyzer = Analyzer::default();
            let terms: Vec<[FieldTerms; 3]> = fields
                .iter()
                .map(|f| f.map(|t| analyzer.terms(t)))
                .collect();
            let docs: Vec<IndexDoc> = fields
                .iter()
                .zip(&terms)
                .map(|(&fields, terms)| IndexDoc { fields, terms })
                .collect();
            let mut ours = String::new();
            elasticlunr_json(&mut ours, &docs);
            let mut index =
                elasticlunr::Index::with_language(Box::new(SearchLanguage), SEARCH_FIELDS);
            for (i, f) in fields.iter().enumerate() {
                index.add_doc(&i.to_string(), f);
            }
            assert_eq!(ours, index.to_json(), "{n} documents");
        }
    }

    #[test]
    fn strip_markdown_keeps_labels_and_words() {
        assert_eq!(
            strip_markdown("## See **[[CLIP|the CLIP model]]** and [docs](x.md) `code`"),
            "See the CLIP model and docs code"
        );
        assert_eq!(strip_markdown("- item [[Note#H]] ^blk"), "item Note > H");
        // A link without a label reads as the page shows it.
        assert_eq!(
            strip_markdown(
                "[[A#B#C]], [[A.md]], [[#Self]], [[A#^id]], [[doc.pdf#page=3]], ![[A#B|300]]"
            ),
            "A > B > C, A, Self, A > ^id, doc.pdf, A > B"
        );
    }

    /// A backlink from a property shows the key it is under, for a block list's items too.
    #[test]
    fn a_property_link_context_is_its_key_and_value() {
        let text = "---\ncategories:\n  - \"[[Places]]\"\n\n  - \"[[Cities|towns]]\"\nrelated: \"[[B]]\"\nalso: [\"[[C]]\", \"[[D]]\"]\n---\nBody [[E]].\n";
        let (note, _) = crate::parse::note(crate::discover::SourceFile {
            path: crate::source::VaultPath::new("n.md").unwrap(),
            text: text.to_string(),
            is_template: false,
        });
        let contexts: Vec<String> = (0..note.links.len())
            .map(|i| link_context(&note, i))
            .collect();
        assert_eq!(
            contexts,
            [
                "categories: Places",
                "categories: towns",
                "related: B",
                "also: C",
                "also: D",
                "Body E."
            ]
        );
    }

    #[test]
    fn property_values_show_link_names() {
        let v = serde_json::json!(["[[Contrastive Learning]]", "[[CLIP|the model]]", "plain"]);
        assert_eq!(display_value(&v), "Contrastive Learning, the model, plain");
        // As the page shows a link without a label.
        let v = serde_json::json!(["[[Note#Part]]", "[[Other.md]]"]);
        assert_eq!(display_value(&v), "Note > Part, Other");
    }

    #[test]
    fn an_excerpt_starts_after_the_headings_a_note_opens_with() {
        let parsed = |text: &str| {
            crate::parse::note(crate::discover::SourceFile {
                path: crate::source::VaultPath::new("n.md").unwrap(),
                text: text.to_string(),
                is_template: false,
            })
            .0
        };
        let note = parsed(
            "---\ntags: [a]\n---\n# My **Note**\n\n## Intro\n\nFirst words here. ## not a heading\n\n## Later\n\nMore.\n",
        );
        let plain = plain_text(&note, 200);
        assert!(plain.starts_with("My Note Intro First words"), "{plain}");
        assert_eq!(excerpt(&note, &plain, 17), "First words here.");
        assert_eq!(
            excerpt(&note, &plain, 200),
            "First words here. ## not a heading Later More."
        );
        // Only the headings the note opens with; a note of headings alone shows them.
        let only = parsed("# Alone\n");
        assert_eq!(excerpt(&only, &plain_text(&only, 50), 50), "Alone");
        let text = parsed("Text first.\n# H\n");
        assert_eq!(excerpt(&text, &plain_text(&text, 50), 50), "Text first. H");
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
        assert_eq!(
            strip_markdown("in *Sigmoid Loss* (2023), *one*. 2 * 3 and a*b"),
            "in Sigmoid Loss (2023), one. 2 * 3 and a*b"
        );
        assert_eq!(strip_markdown("- *item*\n*x* ***y***"), "item x y");
    }
}
