//! Stage 2, parse: one note's text into a [`Note`] (links, headings, blocks, tags, title).
//!
//! Parsing never fails: `note()` returns the note and its diagnostics. [`markdown_options`] is
//! the one place pulldown-cmark is configured, so "parse for links" and "parse for HTML" (in
//! `render`) can never disagree about what is a link. pulldown-cmark tells us *where* links are
//! (it already excludes code, math and HTML); target, fragment and label are split from the raw
//! source by [`links`], which applies the semantics file's fixes (`\|`, trimming, empty label).

pub mod body;
pub mod frontmatter;
pub mod links;
pub mod math;
pub mod raw_html;
mod tags;

use std::collections::HashSet;
use std::ops::Range;
use std::sync::LazyLock;

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};
use regex::Regex;

use crate::diag::{Code, Diagnostic, Fix};
use crate::discover::SourceFile;
use crate::slug;
use crate::source::{LineIndex, Span};
use crate::vault::{Block, Heading, Link, LinkKind, Note};

/// The pulldown-cmark options used for every parse of note text.
pub fn markdown_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_MATH
        | Options::ENABLE_WIKILINKS
        | Options::ENABLE_GFM
}

/// The one event stream of a note's text: pulldown-cmark with [`markdown_options`], offsets
/// shifted by `base`, and `%% comments %%` removed (events inside a comment are dropped, text
/// that straddles one is cut). Parsing and rendering both read notes through this.
pub fn events<'a>(
    slice: &'a str,
    base: usize,
    comments: &'a [Range<usize>],
) -> impl Iterator<Item = (Event<'a>, Range<usize>)> + 'a {
    Events {
        inner: Parser::new_ext(slice, markdown_options()).into_offset_iter(),
        slice,
        base,
        comments,
        skip: 0,
        pending: Vec::new(),
    }
}

/// The iterator behind [`events`]: no allocation per event (only the pieces of a text event
/// cut by a comment are buffered, in reverse order).
struct Events<'a> {
    inner: pulldown_cmark::OffsetIter<'a, pulldown_cmark::DefaultBrokenLinkCallback>,
    slice: &'a str,
    base: usize,
    comments: &'a [Range<usize>],
    skip: usize,
    pending: Vec<(Event<'a>, Range<usize>)>,
}

impl<'a> Iterator for Events<'a> {
    type Item = (Event<'a>, Range<usize>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        // Most notes have no comment: then the events are pulldown-cmark's, shifted. This path
        // is inlined into the loops that read events; the other is not (events are large, and
        // moving them through a call cost a tenth of parsing).
        if self.comments.is_empty() {
            let (event, r) = self.inner.next()?;
            return Some((event, r.start + self.base..r.end + self.base));
        }
        self.next_outside_comments()
    }
}

impl<'a> Events<'a> {
    /// The next event outside the comments (see [`events`]).
    fn next_outside_comments(&mut self) -> Option<(Event<'a>, Range<usize>)> {
        if let Some(item) = self.pending.pop() {
            return Some(item);
        }
        let (slice, base, comments) = (self.slice, self.base, self.comments);
        loop {
            let (event, r) = self.inner.next()?;
            let r = r.start + base..r.end + base;
            if self.skip > 0 {
                match event {
                    Event::Start(_) => self.skip += 1,
                    Event::End(_) => self.skip -= 1,
                    _ => {}
                }
                continue;
            }
            let inside = comments
                .iter()
                .any(|c| c.start <= r.start && r.end <= c.end && r.start < c.end);
            if inside {
                if matches!(event, Event::Start(_)) {
                    self.skip = 1;
                }
                continue;
            }
            match event {
                Event::Text(t)
                    if overlaps(comments, &r)
                        && slice.get(r.start - base..r.end - base) == Some(&*t) =>
                {
                    // Keep the parts of the text outside comments.
                    let mut pieces = Vec::new();
                    let mut pos = r.start;
                    for c in comments
                        .iter()
                        .filter(|c| c.start < r.end && r.start < c.end)
                    {
                        if c.start > pos {
                            let piece = &slice[pos - base..c.start - base];
                            pieces.push((Event::Text(CowStr::Borrowed(piece)), pos..c.start));
                        }
                        pos = pos.max(c.end);
                    }
                    if pos < r.end {
                        pieces.push((
                            Event::Text(CowStr::Borrowed(&slice[pos - base..r.end - base])),
                            pos..r.end,
                        ));
                    }
                    pieces.reverse();
                    self.pending = pieces;
                    if let Some(item) = self.pending.pop() {
                        return Some(item);
                    }
                }
                event => return Some((event, r)),
            }
        }
    }
}

/// Byte ranges of `%% ... %%` comments outside code (an unclosed `%%` runs to the end).
pub fn comment_ranges(text: &str, body_start: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    if !text[body_start..].contains("%%") {
        return out;
    }
    let bytes = text.as_bytes();
    let mut fence: Option<(u8, usize)> = None;
    let mut comment_start: Option<usize> = None;
    let mut line_start = body_start;
    while line_start < text.len() {
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i);
        let line = &text[line_start..line_end];
        if comment_start.is_none() {
            let trimmed = line.trim_start_matches(' ');
            let indent = line.len() - trimmed.len();
            let run = |c: u8| trimmed.bytes().take_while(|&b| b == c).count();
            if let Some((c, n)) = fence {
                if indent < 4 && run(c) >= n && trimmed[run(c)..].trim().is_empty() {
                    fence = None;
                }
                line_start = line_end + 1;
                continue;
            }
            if indent < 4 {
                for c in [b'`', b'~'] {
                    if run(c) >= 3 {
                        fence = Some((c, run(c)));
                    }
                }
                if fence.is_some() {
                    line_start = line_end + 1;
                    continue;
                }
            }
        }
        let mut i = line_start;
        while i < line_end {
            match comment_start {
                Some(start) => {
                    if bytes[i..line_end].starts_with(b"%%") {
                        out.push(start..i + 2);
                        comment_start = None;
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
                None => {
                    if bytes[i] == b'`' {
                        // Skip a code span: a run of n backticks up to the next run of exactly n.
                        let run = |at: usize| {
                            bytes[at..line_end]
                                .iter()
                                .take_while(|&&b| b == b'`')
                                .count()
                        };
                        let n = run(i);
                        let mut j = i + n;
                        let mut closed = None;
                        while j < line_end {
                            if bytes[j] == b'`' {
                                let m = run(j);
                                if m == n {
                                    closed = Some(j + n);
                                    break;
                                }
                                j += m;
                            } else {
                                j += 1;
                            }
                        }
                        i = closed.unwrap_or(i + n);
                    } else if bytes[i..line_end].starts_with(b"%%") {
                        comment_start = Some(i);
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
            }
        }
        line_start = line_end + 1;
    }
    if let Some(start) = comment_start {
        out.push(start..text.len());
    }
    out
}

/// Parses one note. Never fails; problems come back as diagnostics.
pub fn note(file: SourceFile) -> (Note, Vec<Diagnostic>) {
    note_with(file, false)
}

/// [`note`], and with `body` the note's body template too ([`Note::body`]), from the same
/// events: what `build` parses with, so that rendering does not parse the note again.
pub fn note_with(file: SourceFile, body: bool) -> (Note, Vec<Diagnostic>) {
    let SourceFile {
        path,
        text,
        is_template,
    } = file;
    let (fm, body_start) = match frontmatter::split(&text) {
        Some((yaml, body_start)) => (
            frontmatter::parse(&path, &text, yaml, is_template),
            body_start,
        ),
        None => (
            frontmatter::Parsed {
                front_matter: crate::vault::FrontMatter {
                    publish: true,
                    ..Default::default()
                },
                ..Default::default()
            },
            0,
        ),
    };
    let mut diagnostics = fm.diagnostics;
    // A note with `publish: false` never gets a page (an embed of it renders its own range).
    let with_body = body && fm.front_matter.publish;
    let masked = text.as_str();
    let comments = comment_ranges(&text, body_start);
    let body_events = &text[body_start..];
    let mut kept_events = Vec::new();
    let mut scan = BodyScan::default();
    if with_body {
        // Kept for the template, which needs the headings, blocks and tags first.
        kept_events.reserve(body_events.len() / 16 + 8);
        kept_events.extend(events(body_events, body_start, &comments));
        for (event, range) in &kept_events {
            scan.visit(&text, event, range);
        }
    } else {
        for (event, range) in events(body_events, body_start, &comments) {
            scan.visit(&text, &event, &range);
        }
    }
    let mut body = scan.finish();
    // Comments hide tags, block ids and escaped links too.
    if !comments.is_empty() {
        body.opaque.extend(comments.iter().cloned());
        body.opaque = merge_ranges(std::mem::take(&mut body.opaque));
    }

    let mut links = fm.links;
    links.extend(body.links);
    let mut tags = fm.tags;
    tags.extend(tags::inline_tags(masked, body_start, &body.opaque));

    // Every escaped wikilink contains `\[\[`; most notes have none.
    let escaped = memchr::memmem::find(&masked.as_bytes()[body_start..], b"\\[\\[").is_some();
    let escaped =
        escaped.then(|| find_outside(&ESCAPED_WIKILINK, masked, body_start, &body.opaque));
    for r in escaped.into_iter().flatten() {
        let raw = &masked[r.clone()];
        let fixed = raw
            .replace("\\[", "[")
            .replace("\\]", "]")
            .replace("\\|", "|");
        let mut d = Diagnostic::new(
            Code::EscapedWikilink,
            path.clone(),
            Span::new(r),
            "escaped wikilink: `\\[\\[` shows brackets instead of making a link",
        )
        .with_help(format!("remove the backslashes: `{fixed}`"));
        d.fix = Some(Fix {
            span: d.span,
            replacement: fixed,
        });
        diagnostics.push(d);
    }
    for r in find_outside(&EMPTY_WIKILINK, masked, body_start, &body.opaque) {
        diagnostics.push(
            Diagnostic::new(
                Code::EmptyLink,
                path.clone(),
                Span::new(r),
                "empty link: `[[]]` points nowhere",
            )
            .with_help("write a note name between the brackets, or remove them"),
        );
    }

    let mut anchors = slug::UniqueNames::default();
    let text_src = text.as_str();
    let headings: Vec<Heading> = body
        .headings
        .into_iter()
        .map(|(level, text, span)| {
            let base = slug::slugify(&text);
            let base = if base.is_empty() {
                "section".to_string()
            } else {
                base
            };
            let raw = crate::resolve::fragments::raw_heading_text(&text_src[span.range()]);
            let key = crate::resolve::fragments::normalize_heading(&text);
            // Most headings are plain text, whose source is the text itself.
            let raw_key = if raw == text {
                key.clone()
            } else {
                crate::resolve::fragments::normalize_heading(raw)
            };
            Heading {
                level,
                anchor: anchors.unique(base),
                keys: [key, raw_key],
                text,
                span,
            }
        })
        .collect();
    let (blocks, duplicate_blocks) = if text[body_start..].contains('^') {
        find_blocks(
            masked,
            body_start,
            &body.opaque,
            &body.containers,
            &body.top_level,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    for (id, marker) in duplicate_blocks {
        diagnostics.push(
            Diagnostic::new(
                Code::DuplicateBlockId,
                path.clone(),
                marker,
                format!("block id \"^{id}\" is already used earlier in this note; links reach only the first"),
            )
            .with_help("give this block a different id"),
        );
    }
    let mut seen_headings: crate::source::FastMap<&str, usize> =
        crate::source::FastMap::with_capacity_and_hasher(headings.len(), Default::default());
    // Made only for a repeated heading's message, then kept as the note's line index.
    let lines = std::sync::OnceLock::new();
    for (i, h) in headings.iter().enumerate() {
        let key = h.keys[0].as_str();
        if let Some(&first) = seen_headings.get(key) {
            diagnostics.push(
                Diagnostic::new(
                    Code::DuplicateHeadingAnchor,
                    path.clone(),
                    h.span,
                    format!(
                        "heading \"{}\" repeats the one on line {}; [[{}#{}]] reaches only the first",
                        h.text,
                        lines
                            .get_or_init(|| LineIndex::new(&text))
                            .line(headings[first].span.start),
                        path.stem(),
                        h.text
                    ),
                )
                .with_help("link with a heading chain ([[note#Parent#Heading]]) or rename one heading"),
            );
        } else {
            seen_headings.insert(key, i);
        }
    }

    let title = fm
        .front_matter
        .title
        .clone()
        .or_else(|| {
            headings
                .iter()
                .find(|h| h.level == 1)
                .map(|h| body::without_highlights(&h.text).into_owned())
        })
        .unwrap_or_else(|| path.stem().to_string());
    links.sort_by_key(|l| l.span.start);
    let template = with_body.then(|| {
        let source = body::BodySource {
            text: &text,
            links: &links,
            blocks: &blocks,
            headings: &headings,
            tags: &tags,
        };
        body::template(
            &source,
            kept_events.into_iter(),
            body::Ids::Page,
            text.len() - body_start,
        )
        .exact_size()
    });
    let note = Note {
        path,
        body_start,
        title,
        front_matter: fm.front_matter,
        headings,
        blocks,
        links,
        tags,
        lines,
        fragments: Default::default(),
        near: Default::default(),
        comments: comments.into(),
        diagrams: body.diagrams,
        bases: body.bases,
        text,
        body: template,
    };
    (note, diagnostics)
}

static ESCAPED_WIKILINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"!?\\\[\\\[[^\[\]\n]+?\\?\]\\?\]").expect("valid regex"));
static EMPTY_WIKILINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"!?\[\[[ \t]*(\|[^\]\n]*)?\]\]").expect("valid regex"));
static BLOCK_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)(?:^|[ \t]|\]\])\^([A-Za-z0-9-]+)[ \t]*\r?$").expect("valid regex")
});

/// Matches of `re` in the body that do not overlap code, math, HTML or links.
fn find_outside<'a>(
    re: &'a Regex,
    text: &'a str,
    body_start: usize,
    opaque: &'a [Range<usize>],
) -> impl Iterator<Item = Range<usize>> + 'a {
    re.find_iter(&text[body_start..])
        .map(move |m| body_start + m.start()..body_start + m.end())
        .filter(move |r| !overlaps(opaque, r))
}

/// Whether `r` overlaps any range of the sorted, non-nested-overlap list `ranges`.
pub(crate) fn overlaps(ranges: &[Range<usize>], r: &Range<usize>) -> bool {
    let i = ranges.partition_point(|o| o.end <= r.start);
    ranges.get(i).is_some_and(|o| o.start < r.end)
}

/// What one pass over the events found.
#[derive(Default)]
struct BodyScan {
    links: Vec<Link>,
    headings: Vec<(u8, String, Span)>,
    /// Code, math, HTML and link ranges, sorted and merged: no tag or block id lives there.
    opaque: Vec<Range<usize>>,
    /// Paragraph and list-item ranges (for block ids).
    containers: Vec<Range<usize>>,
    /// Top-level block ranges in order.
    top_level: Vec<Range<usize>>,
    /// Block nesting depth.
    depth: usize,
    /// The heading being read: level, text so far, range.
    heading: Option<(u8, String, Range<usize>)>,
    /// A ` ```mermaid ` block was seen.
    diagrams: bool,
    /// The text of each ` ```base ` block, and the one being read.
    bases: Vec<Span>,
    base: Option<Option<Range<usize>>>,
}

impl BodyScan {
    /// Takes one event of the body's events (ranges are absolute offsets into `text`).
    fn visit(&mut self, text: &str, event: &Event, range: &Range<usize>) {
        let out = self;
        match event {
            Event::Start(tag) => {
                let block = is_block(tag);
                match tag {
                    Tag::Heading { level, .. } => {
                        out.heading = Some((*level as u8, String::new(), range.clone()))
                    }
                    Tag::Paragraph | Tag::Item => out.containers.push(range.clone()),
                    Tag::CodeBlock(kind) => {
                        if let pulldown_cmark::CodeBlockKind::Fenced(info) = kind {
                            out.diagrams |= body::is_diagram(info);
                            if body::is_base(info) {
                                out.base = Some(None);
                            }
                        }
                        out.opaque.push(range.clone())
                    }
                    Tag::HtmlBlock | Tag::MetadataBlock(_) => out.opaque.push(range.clone()),
                    Tag::Link {
                        link_type,
                        dest_url,
                        ..
                    }
                    | Tag::Image {
                        link_type,
                        dest_url,
                        ..
                    } => {
                        let embed = matches!(tag, Tag::Image { .. });
                        let link = link_at(text, range.clone(), *link_type, dest_url, embed);
                        // A wikilink that is not a link (`[[ ]]`, a newline) stays visible to lints.
                        if link.is_some() || !matches!(link_type, LinkType::WikiLink { .. }) {
                            out.opaque.push(range.clone());
                        }
                        out.links.extend(link);
                    }
                    _ => {}
                }
                if block {
                    out.depth += 1;
                }
            }
            Event::End(tag_end) => {
                if let (TagEnd::CodeBlock, Some(base)) = (tag_end, out.base.take()) {
                    // As the body's template reads it (`parse::body`), empty at the end.
                    let text = base.unwrap_or(range.start..range.start);
                    out.bases.push(Span::new(text));
                }
                if let TagEnd::Heading(_) = tag_end {
                    if let Some((level, text, r)) = out.heading.take() {
                        let trimmed = text.trim();
                        let text = if trimmed.len() == text.len() {
                            text
                        } else {
                            trimmed.to_string()
                        };
                        out.headings.push((level, text, Span::new(r)));
                    }
                }
                if is_block_end(tag_end) {
                    out.depth = out.depth.saturating_sub(1);
                    if out.depth == 0 {
                        out.top_level.push(range.clone());
                    }
                }
            }
            Event::Text(t) => {
                if let Some((_, h, _)) = out.heading.as_mut() {
                    h.push_str(t);
                }
                if let Some(base) = out.base.as_mut() {
                    let start = base.as_ref().map_or(range.start, |b| b.start);
                    *base = Some(start..range.end);
                }
            }
            Event::Code(t) => {
                out.opaque.push(range.clone());
                if let Some((_, h, _)) = out.heading.as_mut() {
                    h.push_str(t);
                }
            }
            Event::InlineMath(_)
            | Event::DisplayMath(_)
            | Event::Html(_)
            | Event::InlineHtml(_) => out.opaque.push(range.clone()),
            _ => {}
        }
    }

    /// The scan, with its opaque ranges sorted and merged.
    fn finish(mut self) -> BodyScan {
        self.opaque = merge_ranges(std::mem::take(&mut self.opaque));
        self
    }
}

/// Sorts ranges and merges overlapping ones, so [`overlaps`] can binary-search them.
fn merge_ranges(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    merged
}

fn is_block(tag: &Tag) -> bool {
    matches!(
        tag,
        Tag::Paragraph
            | Tag::Heading { .. }
            | Tag::BlockQuote(_)
            | Tag::CodeBlock(_)
            | Tag::HtmlBlock
            | Tag::List(_)
            | Tag::FootnoteDefinition(_)
            | Tag::Table(_)
            | Tag::MetadataBlock(_)
            | Tag::DefinitionList
    )
}

fn is_block_end(tag: &TagEnd) -> bool {
    matches!(
        tag,
        TagEnd::Paragraph
            | TagEnd::Heading(_)
            | TagEnd::BlockQuote(_)
            | TagEnd::CodeBlock
            | TagEnd::HtmlBlock
            | TagEnd::List(_)
            | TagEnd::FootnoteDefinition
            | TagEnd::Table
            | TagEnd::MetadataBlock(_)
            | TagEnd::DefinitionList
    )
}

/// Builds the [`Link`] for a link or image event, or `None` if it is external or not a link.
fn link_at(
    text: &str,
    range: Range<usize>,
    link_type: LinkType,
    dest: &str,
    embed: bool,
) -> Option<Link> {
    let parts = match link_type {
        LinkType::WikiLink { .. } => {
            let raw = &text[range.clone()];
            let inner = raw
                .trim_start_matches('!')
                .strip_prefix("[[")?
                .strip_suffix("]]")?;
            links::split_wikilink(inner)?
        }
        LinkType::Autolink | LinkType::Email => return None,
        _ => links::split_markdown_dest(dest)?,
    };
    if parts.target.is_empty() && parts.fragment.is_none() {
        return None;
    }
    let kind = match (embed, link_type) {
        (true, _) => LinkKind::Embed,
        (false, LinkType::WikiLink { .. }) => LinkKind::Wiki,
        (false, _) => LinkKind::Markdown,
    };
    Some(Link {
        kind,
        target: parts.target,
        fragment: parts.fragment,
        label: parts.label,
        span: Span::new(range),
    })
}

/// The ranges holding each of a rising sequence of offsets: which are open (started at or
/// before the offset, ending after it) is kept as the offsets rise, each range added and
/// dropped once, so n lookups among m ranges cost O((n + m) log m) in any order of ranges.
struct Holding<'a> {
    ranges: &'a [Range<usize>],
    /// Indices of `ranges` by start.
    by_start: Vec<usize>,
    /// How many of `by_start` were opened.
    opened: usize,
    /// The open ranges by (rank, index): the first is the answer.
    open: std::collections::BTreeSet<(usize, usize)>,
    /// The open ranges by end, to drop them once passed.
    ends: std::collections::BinaryHeap<std::cmp::Reverse<(usize, usize)>>,
    rank: fn(&Range<usize>) -> usize,
}

impl<'a> Holding<'a> {
    /// Ranges ranked by `rank`, ties by their order in `ranges`.
    fn new(ranges: &'a [Range<usize>], rank: fn(&Range<usize>) -> usize) -> Holding<'a> {
        Holding {
            ranges,
            by_start: indices_by(ranges, |r| r.start),
            opened: 0,
            open: Default::default(),
            ends: Default::default(),
            rank,
        }
    }

    /// The first (by rank, then order) range with `start <= at < end`; `at` must not be
    /// below any offset asked before.
    fn first_holding(&mut self, at: usize) -> Option<&'a Range<usize>> {
        while let Some(&i) = self.by_start.get(self.opened) {
            let r = &self.ranges[i];
            if r.start > at {
                break;
            }
            self.opened += 1;
            if r.end > at {
                self.open.insert(((self.rank)(r), i));
                self.ends.push(std::cmp::Reverse((r.end, i)));
            }
        }
        while let Some(&std::cmp::Reverse((end, i))) = self.ends.peek() {
            if end > at {
                break;
            }
            self.ends.pop();
            self.open.remove(&((self.rank)(&self.ranges[i]), i));
        }
        self.open.first().map(|&(_, i)| &self.ranges[i])
    }
}

/// The indices of `ranges` sorted by `key` (ties in order).
fn indices_by(ranges: &[Range<usize>], key: fn(&Range<usize>) -> usize) -> Vec<usize> {
    let mut indices: Vec<usize> = (0..ranges.len()).collect();
    indices.sort_by_key(|&i| key(&ranges[i]));
    indices
}

/// The last range (in order) ending at or before each of a rising sequence of offsets.
struct EndingBy<'a> {
    ranges: &'a [Range<usize>],
    /// Indices of `ranges` by end.
    by_end: Vec<usize>,
    /// How many of `by_end` ended.
    ended: usize,
    /// The greatest index among them.
    last: Option<usize>,
}

impl<'a> EndingBy<'a> {
    fn new(ranges: &'a [Range<usize>]) -> EndingBy<'a> {
        EndingBy {
            ranges,
            by_end: indices_by(ranges, |r| r.end),
            ended: 0,
            last: None,
        }
    }

    /// The last range with `end <= at`; `at` must not be below any offset asked before.
    fn last_ending_by(&mut self, at: usize) -> Option<&'a Range<usize>> {
        while let Some(&i) = self.by_end.get(self.ended) {
            if self.ranges[i].end > at {
                break;
            }
            self.ended += 1;
            self.last = self.last.max(Some(i));
        }
        self.last.map(|i| &self.ranges[i])
    }
}

/// Block ids: ` ^id` at the end of a paragraph or list item line, or a lone `^id` line naming
/// the block before it (a list, table or quote).
fn find_blocks(
    text: &str,
    body_start: usize,
    opaque: &[Range<usize>],
    containers: &[Range<usize>],
    top_level: &[Range<usize>],
) -> (Vec<Block>, Vec<(String, Span)>) {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut duplicates = Vec::new();
    // Block ids come in text order, so the ranges holding each are found by sweeps: a note
    // of thousands of block ids does not look through every range for each.
    let mut innermost = Holding::new(containers, |r| r.end - r.start);
    let mut own_block = Holding::new(top_level, |_| 0);
    let mut block_before = EndingBy::new(top_level);
    for caps in BLOCK_ID.captures_iter(&text[body_start..]) {
        let (Some(whole), Some(id)) = (caps.get(0), caps.get(1)) else {
            continue;
        };
        let id_start = body_start + id.start() - 1;
        if overlaps(opaque, &(id_start..body_start + whole.end())) {
            continue;
        }
        let line_start = text[..id_start].rfind('\n').map_or(0, |i| i + 1);
        let alone = text[line_start..id_start].trim().is_empty();
        // The marker starts at the whitespace before `^` (none after `]]`).
        let marker_start = text[line_start..id_start]
            .trim_end_matches([' ', '\t'])
            .len()
            + line_start;
        let span = if alone {
            // The top-level block this line belongs to, if it is a list/table/quote that absorbed
            // it; otherwise the block before it.
            match own_block.first_holding(id_start) {
                Some(r) if r.start < line_start => Some(r.clone()),
                _ => block_before.last_ending_by(line_start).cloned(),
            }
        } else {
            // The smallest paragraph or list item holding it (the first of equal ones).
            innermost.first_holding(id_start).cloned()
        };
        let Some(span) = span else { continue };
        let id = id.as_str().to_string();
        let marker =
            Span::new(if alone { id_start } else { marker_start }..body_start + whole.end());
        if seen.insert(id.to_lowercase()) {
            out.push(Block {
                id,
                span: Span::new(span),
                marker,
            });
        } else {
            duplicates.push((id, marker));
        }
    }
    (out, duplicates)
}

#[cfg(test)]
mod tests;
