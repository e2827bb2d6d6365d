//! A note's body as HTML with holes: everything pulldown-cmark and the note itself decide
//! (paragraphs, headings with their anchors, block anchors, callouts, code, tables), with a
//! hole wherever the page a body lands on decides the bytes (a link's href and class, an
//! embed, a tag's URL). `build` makes each note's template while parsing it, so a page is the
//! template with its holes filled (`render::html`) and no note is parsed twice; embedded
//! sections and notes parsed without a template (taken from the parse cache) get theirs made
//! on the spot from the same function, so both paths write the same bytes.

use std::borrow::Cow;
use std::cell::Cell;
use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, CowStr, Event, LinkType, Tag, TagEnd};

use crate::render::html::escape;
use crate::source::Span;
use crate::vault::{Block, Heading, Link, LinkKind, TagUse};

/// A body (or a range of it) rendered up to its holes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BodyTemplate {
    /// The HTML markup, with a placeholder where each hole goes.
    html: String,
    /// The holes in order, packed (see [`Op`]).
    ops: Vec<Op>,
}

/// What fills a hole of a [`BodyTemplate`]; numbers index the note's links or tags, spans
/// are byte ranges of the note's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hole {
    /// Text of the note that needs no escaping, copied as it is (most of a body: the
    /// template holds the markup around it, not a second copy of the text).
    Source(Span),
    /// Inline code of the note that needs no escaping: `<code>`, the text, `</code>`.
    Code(Span),
    /// A wikilink or wikilink embed: the whole `<a>`, `<span>` or embed.
    Link(u32),
    /// The opening `<a ...>` of a markdown link to a file of the vault (its text follows in
    /// the template, then `</a>`).
    MarkdownLink(u32),
    /// A markdown image of a file of the vault, shown as an embed (its alt text is
    /// [`image_alt`] of the link's span).
    Image(u32),
    /// A tag in the text: `<a class="tag" href="...">#name</a>`.
    Tag(u32),
    /// A ` ```base ` block: the YAML of a base (its text in the note), shown as its first view.
    Base(Span),
}

/// One hole, packed in 12 bytes (a body has about one per text run): where its placeholder
/// is in the markup, and the hole, its kind in the top bits of `b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Op {
    at: u32,
    a: u32,
    b: u32,
}

const KIND_SHIFT: u32 = 28;
const VALUE_MASK: u32 = (1 << 27) - 1;
/// Set on a hole inside an attribute (the alt text of an image that is not an embed): its
/// HTML is written escaped, as the HTML writer escapes everything there.
const ESCAPED: u32 = 1 << 27;

impl Op {
    fn new(at: usize, hole: Hole, escaped: bool) -> Op {
        let (kind, a, value) = match hole {
            Hole::Source(s) => (0, s.start, s.end - s.start),
            Hole::Code(s) => (1, s.start, s.end - s.start),
            Hole::Link(i) => (2, i, 0),
            Hole::MarkdownLink(i) => (3, i, 0),
            Hole::Image(i) => (4, i, 0),
            Hole::Tag(i) => (5, i, 0),
            Hole::Base(s) => (6, s.start, s.end - s.start),
        };
        Op {
            at: at as u32,
            a,
            b: kind << KIND_SHIFT | value.min(VALUE_MASK) | if escaped { ESCAPED } else { 0 },
        }
    }

    fn hole(self) -> Hole {
        let value = self.b & VALUE_MASK;
        match self.b >> KIND_SHIFT {
            0 => Hole::Source(Span {
                start: self.a,
                end: self.a + value,
            }),
            1 => Hole::Code(Span {
                start: self.a,
                end: self.a + value,
            }),
            2 => Hole::Link(self.a),
            3 => Hole::MarkdownLink(self.a),
            4 => Hole::Image(self.a),
            5 => Hole::Tag(self.a),
            _ => Hole::Base(Span {
                start: self.a,
                end: self.a + value,
            }),
        }
    }
}

impl BodyTemplate {
    /// The placeholder of a hole. It is never read back (holes are found by offset): it is
    /// there so the HTML writer sees text where the hole's HTML will be, exactly as when it
    /// writes a filled page (it puts a newline before a block tag when the output so far does
    /// not end with one). Text that ends with a newline is only ever the inside of a code
    /// block, whose end tag is written the same either way.
    const PLACEHOLDER: &'static str = "\u{1}";

    /// Appends the body to `out` with its holes filled: the markup as it is, text and code
    /// spans from `text` (the note's), and every other hole (links, images, tags) by `fill`,
    /// which appends its HTML to the buffer it is given. A hole inside an attribute (an image's
    /// alt text) is escaped, as the HTML writer escapes everything there.
    pub fn fill_into(&self, text: &str, out: &mut String, mut fill: impl FnMut(&mut String, Hole)) {
        let slice = |s: Span| text.get(s.range()).unwrap_or("");
        let mut pos = 0;
        let mut scratch = String::new();
        for op in &self.ops {
            let at = op.at as usize;
            out.push_str(&self.html[pos..at]);
            pos = at + Self::PLACEHOLDER.len();
            let escaped = op.b & ESCAPED != 0;
            let dest: &mut String = if escaped {
                scratch.clear();
                &mut scratch
            } else {
                &mut *out
            };
            match op.hole() {
                Hole::Source(s) => dest.push_str(slice(s)),
                Hole::Code(s) => {
                    dest.push_str("<code>");
                    dest.push_str(slice(s));
                    dest.push_str("</code>");
                }
                hole => fill(dest, hole),
            }
            if escaped {
                crate::render::html::push_escaped(out, &scratch);
            }
        }
        out.push_str(&self.html[pos..]);
    }

    /// Bytes of markup (a guess of the filled body's size, less its text).
    pub fn markup_len(&self) -> usize {
        self.html.len()
    }

    /// Number of holes.
    pub fn holes(&self) -> usize {
        self.ops.len()
    }

    /// The template copied out at its exact size, for one kept for the whole build (every
    /// note's): the allocator keeps a block that shrinks by less than half where it is, spare
    /// room and all. Templates made for one page need no copy.
    pub fn exact_size(self) -> BodyTemplate {
        BodyTemplate {
            html: self.html.as_str().to_owned(),
            ops: self.ops.as_slice().to_vec(),
        }
    }
}

/// What a template is made from: a note's text and what parsing found in it.
#[derive(Clone, Copy)]
pub struct BodySource<'a> {
    /// The whole text of the note.
    pub text: &'a str,
    /// Its links, sorted by start.
    pub links: &'a [Link],
    /// Its block ids, sorted by the start of their markers.
    pub blocks: &'a [Block],
    /// Its headings, in document order.
    pub headings: &'a [Heading],
    /// Its tags, sorted by start (the front matter's, then the body's).
    pub tags: &'a [TagUse],
}

/// Whether a hole is filled with a block element (an embed) rather than inline HTML: a
/// paragraph holding only block embeds is unwrapped (`<p><div>` is not valid HTML).
fn is_block(src: &BodySource, hole: &Hole) -> bool {
    match hole {
        Hole::Link(i) => src.links[*i as usize].kind == LinkKind::Embed,
        Hole::Image(..) | Hole::Base(_) => true,
        Hole::Source(_) | Hole::Code(_) | Hole::MarkdownLink(_) | Hole::Tag(_) => false,
    }
}

/// Whether inline HTML starts a block element, as embeds do (raw HTML in the note counts too).
fn is_block_html(html: &str) -> bool {
    ["<div", "<figure", "<video", "<audio", "<iframe"]
        .iter()
        .any(|p| html.starts_with(p))
}

/// One event of a template in the making: a pulldown-cmark event or a hole.
enum Piece<'a> {
    Event(Event<'a>),
    Hole(Hole),
}

/// Which ids a template gives its elements, so that ids stay unique on a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ids {
    /// A page's own body: headings and blocks get their ids (the anchors links name), and
    /// footnotes `fn:N` / `fnref:N`.
    Page,
    /// The `k`-th embed rendered on a page (from 1): headings and blocks get none (the page
    /// may show the same section twice, and the anchors are the embedded note's page's), and
    /// its footnotes, gathered at the end of the embed, get `fn:eK-N` / `fnref:eK-N`.
    Embed(u32),
}

/// The template of the body events `events` of `src` (the events of one range of the text,
/// from [`super::events`]), with the ids `ids` says.
pub fn template<'a>(
    src: &BodySource<'a>,
    events: impl Iterator<Item = (Event<'a>, Range<usize>)>,
    ids: Ids,
    size_hint: usize,
) -> BodyTemplate {
    let top = ids == Ids::Page;
    let text = src.text;
    // About one event per 16 bytes of markdown: the vector rarely grows.
    let mut pieces: Vec<Piece> = Vec::with_capacity(size_hint / 16 + 8);
    let mut skip_depth = 0usize; // > 0 while skipping a wikilink's or embed's inner events
    let mut md_links: Vec<bool> = Vec::new(); // per open markdown link: did we emit our own <a>?
    let mut callout: Option<Callout> = None;
    // Per open quote: the closing HTML of a callout, `None` for a plain quote.
    let mut callouts_open: Vec<Option<&'static str>> = Vec::new();
    let mut diagram = false; // inside a ```mermaid block
    let mut base: Option<Option<Range<usize>>> = None; // inside a ```base block: its text
    let mut task: Option<TaskStatus> = None; // the item just opened is a task of another status
                                             // The footnotes, gathered for the end of the body (of the page, or of the embed).
    let mut notes = Footnotes {
        prefix: match ids {
            Ids::Page => String::new(),
            Ids::Embed(k) => format!("e{k}-"),
        },
        ..Footnotes::default()
    };
    let mut skip_paragraph = false;
    let mut paragraph_at: Option<usize> = None; // index in `pieces` of an open plain <p>
    let mut html_block: Option<String> = None; // the raw HTML block being read
    let blocks = BlockStarts::new(src.blocks);
    // What the binary searches of `push_text` and `is_lone_block_marker` rely on.
    debug_assert!(src.blocks.is_sorted_by_key(|b| b.marker.start));
    debug_assert!(src.tags.is_sorted_by_key(|t| t.span.start));
    let html = |s: String| Piece::Event(Event::Html(s.into()));
    for (event, r) in events {
        if skip_depth > 0 {
            match event {
                Event::Start(Tag::Link { .. } | Tag::Image { .. }) => skip_depth += 1,
                Event::End(TagEnd::Link | TagEnd::Image) => skip_depth -= 1,
                _ => {}
            }
            continue;
        }
        if skip_paragraph {
            if matches!(event, Event::End(TagEnd::Paragraph)) {
                skip_paragraph = false;
            }
            continue;
        }
        if let Some(c) = callout.as_mut() {
            // The callout's first line: `[!type]` is hidden, the title after it is written
            // into the title element as inline markdown (links, emphasis, tags).
            let title_over = match &event {
                Event::End(TagEnd::Paragraph) => c.paragraph_pending && c.hidden == 0,
                Event::End(_) => false,
                Event::SoftBreak | Event::HardBreak => r.end >= c.title_end,
                Event::Start(Tag::BlockQuote(_)) => true,
                _ => r.start >= c.title_end,
            };
            if !title_over {
                if r.start < c.title_start {
                    match event {
                        Event::Start(Tag::Paragraph) if !c.paragraph_pending && c.hidden == 0 => {
                            c.paragraph_pending = true
                        }
                        Event::Start(_) => c.hidden += 1,
                        Event::End(_) => c.hidden = c.hidden.saturating_sub(1),
                        // A text that runs into the title: its part from the title's start.
                        Event::Text(_) if r.end > c.title_start => {
                            if let Some(part) = text.get(c.title_start..r.end) {
                                c.has_title = true;
                                push_text(
                                    src,
                                    &(c.title_start..r.end),
                                    CowStr::Borrowed(part),
                                    &mut pieces,
                                );
                            }
                        }
                        _ => {}
                    }
                    continue;
                }
                c.has_title = true;
            } else {
                if !c.has_title {
                    pieces.push(html(escape(&c.default_title())));
                }
                pieces.push(html(c.close_title_html().to_string()));
                let pending = c.paragraph_pending;
                callout = None;
                match event {
                    Event::SoftBreak | Event::HardBreak => {
                        if pending {
                            pieces.push(html("<p>".to_string()));
                        }
                        continue;
                    }
                    // The title was the whole paragraph.
                    Event::End(TagEnd::Paragraph) if pending => continue,
                    _ if pending => pieces.push(html("<p>".to_string())),
                    _ => {}
                }
            }
        }
        if let Some(t) = task.as_mut() {
            // A task of another status (`- [/] `): its marker becomes a checked checkbox.
            match event {
                Event::Text(_) if r.start < t.end => {
                    if !t.checkbox {
                        t.checkbox = true;
                        pieces.push(Piece::Event(Event::TaskListMarker(true)));
                    }
                    if let Some(part) = text.get(t.end..r.end).filter(|p| !p.is_empty()) {
                        push_text(src, &(t.end..r.end), CowStr::Borrowed(part), &mut pieces);
                    }
                    continue;
                }
                Event::Start(Tag::Paragraph) => {}
                _ => task = None,
            }
        }
        if notes.take(text, &event, &r, &mut pieces) {
            continue;
        }
        match event {
            Event::Start(Tag::Link {
                link_type: LinkType::WikiLink { .. },
                ..
            })
            | Event::Start(Tag::Image {
                link_type: LinkType::WikiLink { .. },
                ..
            }) => {
                skip_depth = 1;
                match link_index(src, r.start) {
                    Some(i) => pieces.push(Piece::Hole(Hole::Link(i))),
                    None => pieces.push(Piece::Event(Event::Text(CowStr::Borrowed(&text[r])))),
                }
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id: link_id,
            }) => {
                if let Some(i) = link_index(src, r.start)
                    .filter(|&i| src.links[i as usize].kind == LinkKind::Markdown)
                {
                    pieces.push(Piece::Hole(Hole::MarkdownLink(i)));
                    md_links.push(true);
                } else if is_external(&dest_url) {
                    let title_attr = if title.is_empty() {
                        String::new()
                    } else {
                        format!(" title=\"{}\"", escape(&title))
                    };
                    pieces.push(Piece::Event(Event::InlineHtml(
                        format!(
                            "<a class=\"external\" href=\"{}\"{title_attr} rel=\"noopener\">",
                            escape(&dest_url)
                        )
                        .into(),
                    )));
                    md_links.push(true);
                } else {
                    pieces.push(Piece::Event(Event::Start(Tag::Link {
                        link_type,
                        dest_url,
                        title,
                        id: link_id,
                    })));
                    md_links.push(false);
                }
            }
            Event::End(TagEnd::Link) => {
                if md_links.pop().unwrap_or(false) {
                    pieces.push(Piece::Event(Event::InlineHtml("</a>".into())));
                } else {
                    pieces.push(Piece::Event(Event::End(TagEnd::Link)));
                }
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id: image_id,
            }) => match link_index(src, r.start)
                .filter(|&i| src.links[i as usize].kind == LinkKind::Embed)
            {
                Some(i) => {
                    skip_depth = 1;
                    pieces.push(Piece::Hole(Hole::Image(i)));
                }
                None => pieces.push(Piece::Event(Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id: image_id,
                }))),
            },
            Event::Start(Tag::Heading {
                level,
                id: _,
                classes,
                attrs,
            }) => {
                // Headings are in document order: a binary search, not a scan per heading.
                let anchor = src
                    .headings
                    .binary_search_by_key(&(r.start as u32), |h| h.span.start)
                    .ok()
                    .filter(|_| top)
                    .map(|i| src.headings[i].anchor.as_str());
                pieces.push(Piece::Event(Event::Start(Tag::Heading {
                    level,
                    id: anchor.map(CowStr::Borrowed),
                    classes,
                    attrs,
                })));
            }
            Event::Start(Tag::Paragraph) => {
                if is_lone_block_marker(src, &r) {
                    skip_paragraph = true;
                    continue;
                }
                match top.then(|| blocks.at(r.start)).flatten() {
                    Some(b) => pieces.push(html(format!("<p id=\"^{}\">", escape(b)))),
                    None => {
                        paragraph_at = Some(pieces.len());
                        pieces.push(Piece::Event(Event::Start(Tag::Paragraph)));
                    }
                }
            }
            Event::End(TagEnd::Paragraph) => {
                // A paragraph holding only block embeds is unwrapped.
                let lone = paragraph_at.take().filter(|&i| {
                    let inner = &pieces[i + 1..];
                    !inner.is_empty()
                        && inner.iter().all(|p| match p {
                            Piece::Hole(h) => is_block(src, h),
                            Piece::Event(Event::InlineHtml(h)) => is_block_html(h),
                            Piece::Event(Event::SoftBreak) => true,
                            Piece::Event(Event::Text(t)) => t.trim().is_empty(),
                            Piece::Event(_) => false,
                        })
                        && inner.iter().any(|p| {
                            matches!(p, Piece::Hole(_) | Piece::Event(Event::InlineHtml(_)))
                        })
                });
                match lone {
                    // The holes stay: inline or block HTML is written the same way.
                    Some(i) => {
                        pieces.remove(i);
                        pieces.push(Piece::Event(Event::Html("\n".into())));
                    }
                    None => pieces.push(Piece::Event(Event::End(TagEnd::Paragraph))),
                }
            }
            Event::Start(Tag::Item) => {
                task = TaskStatus::detect(text, r.start);
                let id = top.then(|| blocks.at(r.start)).flatten();
                match (id, &task) {
                    (None, None) => pieces.push(Piece::Event(Event::Start(Tag::Item))),
                    (id, task) => pieces.push(html(format!(
                        "<li{}{}>",
                        id.map_or(String::new(), |b| format!(" id=\"^{}\"", escape(b))),
                        task.as_ref().map_or(String::new(), |t| format!(
                            " data-task=\"{}\"",
                            escape(t.status.encode_utf8(&mut [0; 4]))
                        ))
                    ))),
                }
            }
            Event::Start(tag @ (Tag::Table(_) | Tag::List(_))) => {
                if let Some(b) = top.then(|| blocks.at(r.start)).flatten() {
                    pieces.push(html(format!(
                        "<a class=\"block-anchor\" id=\"^{}\"></a>",
                        escape(b)
                    )));
                }
                pieces.push(Piece::Event(Event::Start(tag)));
            }
            Event::Start(Tag::BlockQuote(kind)) => {
                if let Some(c) = Callout::detect(text, r.clone()) {
                    pieces.push(html(c.open_html()));
                    callouts_open.push(Some(c.close_html()));
                    callout = Some(c);
                } else {
                    if let Some(b) = top.then(|| blocks.at(r.start)).flatten() {
                        pieces.push(html(format!(
                            "<a class=\"block-anchor\" id=\"^{}\"></a>",
                            escape(b)
                        )));
                    }
                    pieces.push(Piece::Event(Event::Start(Tag::BlockQuote(kind))));
                    callouts_open.push(None);
                }
            }
            Event::End(TagEnd::BlockQuote(kind)) => match callouts_open.pop().flatten() {
                Some(close) => pieces.push(Piece::Event(Event::Html(close.into()))),
                None => pieces.push(Piece::Event(Event::End(TagEnd::BlockQuote(kind)))),
            },
            // A base is the view its YAML defines, made by the page.
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) if is_base(&info) => {
                base = Some(None);
            }
            Event::Text(_) if base.is_some() => {
                if let Some(text) = base.as_mut() {
                    let start = text.as_ref().map_or(r.start, |t| t.start);
                    *text = Some(start..r.end);
                }
            }
            Event::End(TagEnd::CodeBlock) if base.is_some() => {
                let text = base.take().flatten().unwrap_or(r.start..r.start);
                pieces.push(Piece::Hole(Hole::Base(Span::new(text))));
            }
            // A diagram is its source in `<pre class="mermaid">`, which the page's script
            // draws (and which reads as its source without scripts).
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) if is_diagram(&info) => {
                diagram = true;
                pieces.push(html("<pre class=\"mermaid\">".to_string()));
            }
            Event::End(TagEnd::CodeBlock) if diagram => {
                diagram = false;
                pieces.push(html("</pre>\n".to_string()));
            }
            Event::Text(t) => push_text(src, &r, t, &mut pieces),
            // The note's own HTML, made safe (`super::raw_html`): a block as one piece.
            Event::Start(Tag::HtmlBlock) => html_block = Some(String::new()),
            Event::Html(h) => match html_block.as_mut() {
                Some(block) => block.push_str(&h),
                None => pieces.push(Piece::Event(Event::Html(
                    super::raw_html::sanitize(&h).into(),
                ))),
            },
            Event::End(TagEnd::HtmlBlock) => {
                if let Some(block) = html_block.take() {
                    pieces.push(Piece::Event(Event::Html(
                        super::raw_html::sanitize(&block).into(),
                    )));
                }
            }
            Event::InlineHtml(h) => pieces.push(Piece::Event(Event::InlineHtml(
                super::raw_html::sanitize(&h).into(),
            ))),
            Event::InlineMath(tex) => pieces.push(Piece::Event(Event::InlineHtml(
                super::math::math_html(&tex, false).into(),
            ))),
            Event::DisplayMath(tex) => pieces.push(Piece::Event(Event::InlineHtml(
                super::math::math_html(&tex, true).into(),
            ))),
            other => pieces.push(Piece::Event(other)),
        }
    }
    if let Some(block) = html_block {
        pieces.push(Piece::Event(Event::Html(
            super::raw_html::sanitize(&block).into(),
        )));
    }
    notes.finish(&mut pieces);
    mark_highlights(src, &mut pieces);
    write(src.text, pieces, size_hint)
}

/// The footnotes of a page's own body or of an embed, written together at its end as Obsidian
/// shows them:
/// numbered in the order they are first referenced, inline ones (`^[text]`, which
/// pulldown-cmark leaves as text) among them, each with a link back to its first reference.
/// A definition no reference uses comes after the others, so no text is lost.
#[derive(Default)]
struct Footnotes<'a> {
    /// What the ids of the footnotes and their references start with after `fn:` and
    /// `fnref:` (empty on a page's own body, `eK-` in its `K`-th embed).
    prefix: String,
    /// The number of each named footnote, given at its first reference.
    numbers: crate::source::FastMap<String, usize>,
    /// Each named definition's pieces, by name, in the order they were written.
    defined: Vec<(String, Vec<Piece<'a>>)>,
    /// Each inline footnote's pieces, with its number.
    inline: Vec<(usize, Vec<Piece<'a>>)>,
    /// Footnotes being read, innermost last, each with the pieces it interrupted.
    open: Vec<(Open, Vec<Piece<'a>>)>,
}

/// A footnote being read.
enum Open {
    /// `[^name]: ...`.
    Definition(String),
    /// `^[...]`, with the depth of the brackets inside it.
    Inline(usize),
}

impl<'a> Footnotes<'a> {
    /// Takes `event` (at `r` of `text`) when it is a footnote's: a reference, a definition's
    /// start or end, the brackets of an inline footnote. A block boundary inside an inline
    /// footnote means it was none: its text goes back where it was, `^[` included. Returns
    /// whether the event was taken (false: the caller writes it as usual).
    fn take(
        &mut self,
        text: &'a str,
        event: &Event<'a>,
        r: &Range<usize>,
        pieces: &mut Vec<Piece<'a>>,
    ) -> bool {
        let inline_depth = match self.open.last() {
            Some((Open::Inline(depth), _)) => Some(*depth),
            _ => None,
        };
        match event {
            Event::FootnoteReference(name) => {
                let (number, first) = match self.numbers.get(name.as_ref()) {
                    Some(&n) => (n, false),
                    None => {
                        let next = self.referenced() + 1;
                        self.numbers.insert(name.to_string(), next);
                        (next, true)
                    }
                };
                pieces.push(Piece::Event(Event::InlineHtml(
                    reference(&self.prefix, number, first).into(),
                )));
                true
            }
            Event::Start(Tag::FootnoteDefinition(name)) => {
                self.abort_inline(pieces);
                self.open
                    .push((Open::Definition(name.to_string()), std::mem::take(pieces)));
                true
            }
            Event::End(TagEnd::FootnoteDefinition) => {
                self.abort_inline(pieces);
                if let Some((Open::Definition(name), outer)) = self.open.pop() {
                    let body = std::mem::replace(pieces, outer);
                    self.defined.push((name, body));
                }
                true
            }
            Event::Text(t) if t.as_ref() == "[" && r.len() == 1 => {
                if let Some(depth) = inline_depth {
                    self.set_depth(depth + 1);
                    return false;
                }
                // `^[`: the `^` ends the text before, and is not escaped.
                let escaped = r.start >= 2 && text.as_bytes()[r.start - 2] == b'\\';
                let caret = r.start >= 1 && text.as_bytes()[r.start - 1] == b'^' && !escaped;
                match pieces.last_mut() {
                    Some(Piece::Event(Event::Text(before))) if caret && before.ends_with('^') => {
                        let keep = before.len() - 1;
                        if keep == 0 {
                            pieces.pop();
                        } else {
                            let kept = match &*before {
                                CowStr::Borrowed(b) => CowStr::Borrowed(&b[..keep]),
                                other => CowStr::Boxed(other[..keep].into()),
                            };
                            *before = kept;
                        }
                        self.open.push((Open::Inline(1), std::mem::take(pieces)));
                        true
                    }
                    _ => false,
                }
            }
            Event::Text(t) if t.as_ref() == "]" && r.len() == 1 && inline_depth.is_some() => {
                let depth = inline_depth.unwrap_or(1);
                if depth > 1 {
                    self.set_depth(depth - 1);
                    return false;
                }
                let Some((_, outer)) = self.open.pop() else {
                    return false;
                };
                let body = std::mem::replace(pieces, outer);
                let number = self.referenced() + 1;
                self.inline.push((number, body));
                pieces.push(Piece::Event(Event::InlineHtml(
                    reference(&self.prefix, number, true).into(),
                )));
                true
            }
            Event::Start(tag) if inline_depth.is_some() && !is_inline(tag) => {
                self.abort_inline(pieces);
                false
            }
            Event::End(tag) if inline_depth.is_some() && !is_inline_end(*tag) => {
                self.abort_inline(pieces);
                false
            }
            _ => false,
        }
    }

    /// How many footnotes have a number: named ones referenced, and inline ones.
    fn referenced(&self) -> usize {
        self.numbers.len() + self.inline.len()
    }

    /// Sets the bracket depth of the inline footnote being read.
    fn set_depth(&mut self, depth: usize) {
        if let Some((Open::Inline(d), _)) = self.open.last_mut() {
            *d = depth;
        }
    }

    /// Ends the inline footnotes being read as text: `^[` and what followed it.
    fn abort_inline(&mut self, pieces: &mut Vec<Piece<'a>>) {
        while let Some((Open::Inline(_), _)) = self.open.last() {
            let Some((_, outer)) = self.open.pop() else {
                break;
            };
            let body = std::mem::replace(pieces, outer);
            pieces.push(Piece::Event(Event::Text(CowStr::Borrowed("^["))));
            pieces.extend(body);
        }
    }

    /// Appends the footnotes to the body's `pieces`: those referenced in their order, then
    /// the definitions nothing references.
    fn finish(mut self, pieces: &mut Vec<Piece<'a>>) {
        let prefix = std::mem::take(&mut self.prefix);
        self.abort_inline(pieces);
        while let Some((_, outer)) = self.open.pop() {
            // A definition left open (cannot happen with pulldown-cmark): kept in place.
            let body = std::mem::replace(pieces, outer);
            pieces.extend(body);
        }
        if self.defined.is_empty() && self.inline.is_empty() {
            return;
        }
        let referenced = self.referenced();
        let mut by_number: Vec<Option<(Vec<Piece<'a>>, bool)>> =
            (0..referenced).map(|_| None).collect();
        let mut unreferenced = Vec::new();
        for (name, body) in self.defined {
            match self.numbers.get(&name) {
                Some(&n) if by_number[n - 1].is_none() => by_number[n - 1] = Some((body, true)),
                // A second definition of the same name, or one nothing references.
                _ => unreferenced.push(body),
            }
        }
        for (n, body) in self.inline {
            by_number[n - 1] = Some((body, false));
        }
        let html = |s: String| Piece::Event(Event::Html(s.into()));
        pieces.push(html(
            "<section class=\"footnotes\" role=\"doc-endnotes\">\n<ol>\n".to_string(),
        ));
        let numbered = by_number
            .into_iter()
            .enumerate()
            .map(|(i, note)| (Some(i + 1), note))
            .chain(unreferenced.into_iter().map(|b| (None, Some((b, true)))));
        for (k, (number, note)) in numbered.enumerate() {
            let Some((mut body, blocks)) = note else {
                continue;
            };
            let back = number.map(|n| {
                Piece::Event(Event::InlineHtml(
                    format!(" <a class=\"footnote-backref\" href=\"#fnref:{prefix}{n}\" role=\"doc-backlink\">↩</a>").into(),
                ))
            });
            pieces.push(html(match number {
                Some(n) => format!("<li id=\"fn:{prefix}{n}\">"),
                None => format!("<li value=\"{}\">", k + 1),
            }));
            if blocks {
                // The link back goes at the end of the last paragraph.
                if let Some(back) = back {
                    match body
                        .iter()
                        .rposition(|p| matches!(p, Piece::Event(Event::End(TagEnd::Paragraph))))
                    {
                        Some(i) if i + 1 == body.len() => body.insert(i, back),
                        _ => body.push(back),
                    }
                }
                pieces.extend(body);
            } else {
                pieces.push(Piece::Event(Event::Start(Tag::Paragraph)));
                pieces.extend(body);
                pieces.extend(back);
                pieces.push(Piece::Event(Event::End(TagEnd::Paragraph)));
            }
            pieces.push(html("</li>\n".to_string()));
        }
        pieces.push(html("</ol>\n</section>\n".to_string()));
    }
}

/// A reference to footnote `number` (its ids start with `prefix`); the first one has the id
/// the footnote links back to.
fn reference(prefix: &str, number: usize, first: bool) -> String {
    let id = if first {
        format!(" id=\"fnref:{prefix}{number}\"")
    } else {
        String::new()
    };
    format!(
        "<sup class=\"footnote-reference\"><a href=\"#fn:{prefix}{number}\"{id}>{number}</a></sup>"
    )
}

/// Inline elements (an inline footnote may hold them); any other tag is a block's.
fn is_inline(tag: &Tag) -> bool {
    matches!(
        tag,
        Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
            | Tag::Superscript
            | Tag::Subscript
            | Tag::Link { .. }
            | Tag::Image { .. }
    )
}

/// The end of an inline element.
fn is_inline_end(tag: TagEnd) -> bool {
    matches!(
        tag,
        TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::Link
            | TagEnd::Image
    )
}

/// Whether a fenced block's info string (` ```base `) makes it an Obsidian base.
pub(crate) fn is_base(info: &str) -> bool {
    info.split_ascii_whitespace()
        .next()
        .is_some_and(|lang| lang.eq_ignore_ascii_case("base"))
}

/// Whether a fenced block's info string (` ```mermaid `) makes it a diagram.
pub(crate) fn is_diagram(info: &str) -> bool {
    info.split_ascii_whitespace()
        .next()
        .is_some_and(|lang| lang.eq_ignore_ascii_case("mermaid"))
}

/// Obsidian's `==highlight==`, which pulldown-cmark does not parse: pairs of `==` in the text
/// of one inline run (a paragraph, a heading, a table cell), at the same nesting of emphasis
/// and links, become `<mark>` and `</mark>`. A `==` opens when a space does not follow it and
/// closes when a space does not precede it; a run of `=` of another length is text (`a === b`).
/// Code, math and HTML are other events, so a `==` there stays as it is.
fn mark_highlights(src: &BodySource, pieces: &mut Vec<Piece>) {
    // Most notes have no `==` at all: one search of the text spares the walk over the pieces.
    if memchr::memmem::find(src.text.as_bytes(), b"==").is_none() {
        return;
    }
    // (piece, offset in its text, opens) of every `==` that pairs.
    let mut paired: Vec<(usize, usize, bool)> = Vec::new();
    let mut openers: Vec<(usize, usize, usize)> = Vec::new(); // piece, offset, depth
    let mut depth = 0usize;
    let mut opaque = 0usize; // inside an image's alt text or a metadata block
    for (i, piece) in pieces.iter().enumerate() {
        let event = match piece {
            Piece::Hole(hole) if is_block(src, hole) => {
                openers.clear();
                continue;
            }
            Piece::Hole(_) => continue,
            Piece::Event(event) => event,
        };
        match event {
            Event::Start(Tag::Image { .. } | Tag::MetadataBlock(_)) => opaque += 1,
            Event::End(TagEnd::Image | TagEnd::MetadataBlock(_)) => {
                opaque = opaque.saturating_sub(1)
            }
            _ if opaque > 0 => {}
            Event::Start(
                Tag::Emphasis
                | Tag::Strong
                | Tag::Strikethrough
                | Tag::Superscript
                | Tag::Subscript
                | Tag::Link { .. },
            ) => depth += 1,
            Event::End(
                TagEnd::Emphasis
                | TagEnd::Strong
                | TagEnd::Strikethrough
                | TagEnd::Superscript
                | TagEnd::Subscript
                | TagEnd::Link,
            ) => {
                // A `==` opened inside the element cannot close outside it.
                openers.retain(|o| o.2 < depth);
                depth = depth.saturating_sub(1);
            }
            Event::Text(text) => {
                // A text that starts right after a backslash starts with an escaped character
                // (`\==x==` is not a highlight).
                let escaped_start = match text {
                    CowStr::Borrowed(s) => {
                        let start = (s.as_ptr() as usize).wrapping_sub(src.text.as_ptr() as usize);
                        start > 0
                            && start <= src.text.len()
                            && src.text.as_bytes()[start - 1] == b'\\'
                    }
                    _ => false,
                };
                for (at, can_open, can_close) in highlight_delimiters(text) {
                    if at == 0 && escaped_start {
                        continue;
                    }
                    if can_close && openers.last().is_some_and(|o| o.2 == depth) {
                        let (piece, offset, _) = openers.pop().expect("checked");
                        paired.push((piece, offset, true));
                        paired.push((i, at, false));
                    } else if can_open {
                        openers.push((i, at, depth));
                    }
                }
            }
            Event::Code(_)
            | Event::InlineMath(_)
            | Event::InlineHtml(_)
            | Event::FootnoteReference(_)
            | Event::SoftBreak
            | Event::HardBreak
            | Event::TaskListMarker(_) => {}
            // Any other event starts or ends a block: the inline run is over.
            _ => {
                openers.clear();
                depth = 0;
            }
        }
    }
    if paired.is_empty() {
        return;
    }
    paired.sort_unstable();
    let mut marks = paired.into_iter().peekable();
    let old = std::mem::take(pieces);
    pieces.reserve(old.len() + 2 * marks.len());
    for (i, piece) in old.into_iter().enumerate() {
        if marks.peek().is_none_or(|m| m.0 != i) {
            pieces.push(piece);
            continue;
        }
        let Piece::Event(Event::Text(text)) = piece else {
            unreachable!("delimiters are found in text pieces only")
        };
        let part = |a: usize, b: usize| match &text {
            CowStr::Borrowed(s) => CowStr::Borrowed(&s[a..b]),
            other => CowStr::Boxed(other[a..b].into()),
        };
        let mut pos = 0;
        while let Some((_, at, opens)) = marks.next_if(|m| m.0 == i) {
            if at > pos {
                pieces.push(Piece::Event(Event::Text(part(pos, at))));
            }
            let tag = if opens { "<mark>" } else { "</mark>" };
            pieces.push(Piece::Event(Event::InlineHtml(CowStr::Borrowed(tag))));
            pos = at + 2;
        }
        if pos < text.len() {
            pieces.push(Piece::Event(Event::Text(part(pos, text.len()))));
        }
    }
}

/// Each `==` of `text` that is a run of exactly two `=`: its offset, whether it can open (no
/// white space follows) and whether it can close (no white space precedes). At the text's
/// ends the neighbour is another event (emphasis, a link), which counts as no space.
fn highlight_delimiters(text: &str) -> Vec<(usize, bool, bool)> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(at) = memchr::memchr(b'=', &bytes[i..]).map(|k| i + k) {
        let end = at + bytes[at..].iter().take_while(|&&b| b == b'=').count();
        if end - at == 2 {
            let before = text[..at].chars().next_back();
            let after = text[end..].chars().next();
            found.push((
                at,
                after.is_none_or(|c| !c.is_whitespace()),
                before.is_none_or(|c| !c.is_whitespace()),
            ));
        }
        i = end;
    }
    found
}

/// A heading's text as a reader sees it, for the table of contents and a title: the `==`
/// that pair as highlights (as [`mark_highlights`] pairs them in one run of text) left out.
pub(crate) fn without_highlights(text: &str) -> Cow<'_, str> {
    if memchr::memmem::find(text.as_bytes(), b"==").is_none() {
        return Cow::Borrowed(text);
    }
    let mut openers: Vec<usize> = Vec::new();
    let mut paired: Vec<usize> = Vec::new();
    for (at, can_open, can_close) in highlight_delimiters(text) {
        if can_close && !openers.is_empty() {
            paired.extend(openers.pop());
            paired.push(at);
        } else if can_open {
            openers.push(at);
        }
    }
    if paired.is_empty() {
        return Cow::Borrowed(text);
    }
    paired.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for at in paired {
        out.push_str(&text[pos..at]);
        pos = at + 2;
    }
    out.push_str(&text[pos..]);
    Cow::Owned(out)
}

/// Writes the pieces as HTML, recording where each hole's placeholder lands. Text of the
/// note that needs no escaping becomes a hole too, so the template holds mostly markup.
fn write(text: &str, pieces: Vec<Piece>, size_hint: usize) -> BodyTemplate {
    /// The HTML writer's output, with its length where the event iterator can read it: the
    /// writer writes each event before it asks for the next, so when a hole's placeholder is
    /// asked for, the length is the hole's offset.
    struct Counted<'s> {
        out: &'s mut String,
        len: &'s Cell<usize>,
    }
    impl std::fmt::Write for Counted<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.out.push_str(s);
            self.len.set(self.out.len());
            Ok(())
        }
    }
    // Where a borrowed string lies in the note's text, if it does.
    let base = text.as_ptr() as usize;
    let in_text = |s: &str| {
        let at = (s.as_ptr() as usize).wrapping_sub(base);
        (at <= text.len() && s.len() <= text.len() - at).then(|| Span::new(at..at + s.len()))
    };
    let plain = |s: &str| memchr::memchr3(b'&', b'<', b'>', s.as_bytes()).is_none();
    let mut html = String::with_capacity(size_hint / 2 + 16);
    let len = Cell::new(0);
    let mut ops = Vec::with_capacity(size_hint / 32 + 4);
    // Inside an image that is not an embed (its alt text) or a metadata block, the HTML writer
    // escapes text as an attribute, or drops it: text is left to it there.
    let mut raw_depth = 0usize;
    let events = pieces.into_iter().map(|p| {
        let event = match p {
            Piece::Hole(h) => {
                ops.push(Op::new(len.get(), h, raw_depth > 0));
                return Event::InlineHtml(CowStr::Borrowed(BodyTemplate::PLACEHOLDER));
            }
            Piece::Event(e) => e,
        };
        match &event {
            Event::Start(Tag::Image { .. } | Tag::MetadataBlock(_)) => raw_depth += 1,
            // A callout hides its title line's events but keeps their ends: unbalanced.
            Event::End(TagEnd::Image | TagEnd::MetadataBlock(_)) => {
                raw_depth = raw_depth.saturating_sub(1)
            }
            Event::Text(CowStr::Borrowed(s)) | Event::Code(CowStr::Borrowed(s))
                if raw_depth == 0 && plain(s) =>
            {
                if let Some(span) = in_text(s) {
                    let code = matches!(event, Event::Code(_));
                    let hole = if code {
                        Hole::Code(span)
                    } else {
                        Hole::Source(span)
                    };
                    ops.push(Op::new(len.get(), hole, false));
                    return Event::InlineHtml(CowStr::Borrowed(BodyTemplate::PLACEHOLDER));
                }
            }
            _ => {}
        }
        event
    });
    pulldown_cmark::html::write_html_fmt(
        Counted {
            out: &mut html,
            len: &len,
        },
        events,
    )
    .expect("writing to a String cannot fail");
    BodyTemplate { html, ops }
}

/// Index of the link starting at byte `start` (links are sorted by start).
fn link_index(src: &BodySource, start: usize) -> Option<u32> {
    src.links
        .binary_search_by_key(&(start as u32), |l| l.span.start)
        .ok()
        .map(|i| i as u32)
}

/// The blocks of a body by where the blocks they name start (not where their ids are
/// written: a lone `^id` names the block before it). A body of more than a few blocks sorts
/// them on its first lookup, so a list of thousands of ids is not scanned for each item.
struct BlockStarts<'a> {
    blocks: &'a [Block],
    /// (span start, index), sorted: the first of equal starts is the first block.
    sorted: std::cell::OnceCell<Vec<(u32, u32)>>,
}

impl<'a> BlockStarts<'a> {
    const FEW: usize = 16;

    fn new(blocks: &'a [Block]) -> BlockStarts<'a> {
        BlockStarts {
            blocks,
            sorted: std::cell::OnceCell::new(),
        }
    }

    /// The id of the first block whose span starts at `start`.
    fn at(&self, start: usize) -> Option<&'a str> {
        let blocks = self.blocks;
        if blocks.len() <= Self::FEW {
            return blocks
                .iter()
                .find(|b| b.span.start as usize == start)
                .map(|b| b.id.as_str());
        }
        let sorted = self.sorted.get_or_init(|| {
            let mut sorted: Vec<(u32, u32)> =
                (0..).zip(blocks).map(|(i, b)| (b.span.start, i)).collect();
            sorted.sort_unstable();
            sorted
        });
        let i = sorted.partition_point(|&(s, _)| (s as usize) < start);
        sorted
            .get(i)
            .filter(|&&(s, _)| s as usize == start)
            .map(|&(_, b)| blocks[b as usize].id.as_str())
    }
}

/// A paragraph that is only `^id` (naming the block before it) is not shown.
fn is_lone_block_marker(src: &BodySource, r: &Range<usize>) -> bool {
    let text = src.text.get(r.clone()).unwrap_or("").trim();
    if !text.starts_with('^') {
        return false;
    }
    // Markers are sorted by start: only those starting inside the paragraph can lie in it.
    let (from, to) = starting_within(src.blocks, Span::new(r.clone()), |b| b.marker.start);
    src.blocks[from..to]
        .iter()
        .any(|b| (b.marker.end as usize) <= r.end && (b.span.start as usize) < r.start)
}

/// The index range of the items of `list` (sorted by `start`) that start inside `span`, its
/// end included (an empty span there lies inside it).
fn starting_within<T>(list: &[T], span: Span, start: impl Fn(&T) -> u32) -> (usize, usize) {
    let from = list.partition_point(|x| start(x) < span.start);
    let to = list.partition_point(|x| start(x) <= span.end);
    (from, to.max(from))
}

/// Text with block markers removed and tags made holes.
fn push_text<'a>(
    src: &BodySource<'a>,
    r: &Range<usize>,
    text: CowStr<'a>,
    out: &mut Vec<Piece<'a>>,
) {
    let source = src.text;
    let verbatim = source.get(r.clone()) == Some(&*text);
    if !verbatim || memchr::memchr2(b'#', b'^', text.as_bytes()).is_none() {
        out.push(Piece::Event(Event::Text(text)));
        return;
    }
    let span = Span::new(r.clone());
    let mut cuts: Vec<(usize, usize, Option<u32>)> = Vec::new();
    // Block markers and tags are sorted by start: those inside the run are found by binary
    // search (a note of thousands of block ids or tags looked through all of them for every
    // run of text holding a `#` or `^`).
    let (from, to) = starting_within(src.blocks, span, |b| b.marker.start);
    for b in &src.blocks[from..to] {
        if span.contains(b.marker) {
            cuts.push((b.marker.start as usize, b.marker.end as usize, None));
        }
    }
    let (from, to) = starting_within(src.tags, span, |t| t.span.start);
    for (i, t) in src.tags[from..to].iter().enumerate() {
        if span.contains(t.span) {
            let i = (from + i) as u32;
            cuts.push((t.span.start as usize, t.span.end as usize, Some(i)));
        }
    }
    if cuts.is_empty() {
        out.push(Piece::Event(Event::Text(text)));
        return;
    }
    cuts.sort();
    let mut pos = r.start;
    for (start, end, tag) in cuts {
        if start < pos {
            continue;
        }
        if start > pos {
            out.push(Piece::Event(Event::Text(CowStr::Borrowed(
                &source[pos..start],
            ))));
        }
        if let Some(t) = tag {
            out.push(Piece::Hole(Hole::Tag(t)));
        }
        pos = end;
    }
    if pos < r.end {
        out.push(Piece::Event(Event::Text(CowStr::Borrowed(
            &source[pos..r.end],
        ))));
    }
}

fn is_external(dest: &str) -> bool {
    dest.starts_with("http://")
        || dest.starts_with("https://")
        || dest.starts_with("mailto:")
        || dest.starts_with("//")
}

/// The alt text of a markdown image, `![alt](dest)` (it follows the `![`).
pub fn image_alt(raw: &str) -> &str {
    raw.strip_prefix("![")
        .and_then(|s| s.split_once("]("))
        .map_or("", |(alt, _)| alt)
}

/// A task list item whose status is not ` ` or `x` (`- [/] `, `- [-] `, `- [>] `), which
/// pulldown-cmark leaves as text: Obsidian shows every status but a space as checked, and
/// themes style each by its character (`data-task`).
struct TaskStatus {
    /// The status character.
    status: char,
    /// Where the item's text starts, after `[c]` and its white space.
    end: usize,
    /// The checkbox was written.
    checkbox: bool,
}

impl TaskStatus {
    /// The status of the list item starting at `at` (its `-`, `*`, `+` or number).
    fn detect(text: &str, at: usize) -> Option<TaskStatus> {
        let line = text.get(at..)?;
        let bytes = line.as_bytes();
        let marker = match bytes.first()? {
            b'-' | b'*' | b'+' => 1,
            b'0'..=b'9' => {
                let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
                if digits > 9 || !matches!(bytes.get(digits), Some(b'.' | b')')) {
                    return None;
                }
                digits + 1
            }
            _ => return None,
        };
        let spaces = bytes[marker..]
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
        if spaces == 0 || spaces > 4 {
            return None;
        }
        let open = marker + spaces;
        let rest = line[open..].strip_prefix('[')?;
        let status = rest.chars().next()?;
        let after = rest[status.len_utf8()..].strip_prefix(']')?;
        if matches!(status, ' ' | 'x' | 'X' | '[' | ']' | '\n' | '\r' | '\t')
            || !after.starts_with([' ', '\t'])
        {
            return None;
        }
        let gap = after.len() - after.trim_start_matches([' ', '\t']).len();
        let end = at + line.len() - after.len() + gap;
        Some(TaskStatus {
            status,
            end,
            checkbox: false,
        })
    }
}

/// An Obsidian callout: `> [!type]+/- Title`.
struct Callout {
    /// The type, lower case (`note`, `tip`, or any other word).
    kind: String,
    /// `+` (foldable, open) or `-` (foldable, closed); `None` for a callout that does not fold.
    fold: Option<bool>,
    /// Where the title's text starts in the note (`title_end` when there is none).
    title_start: usize,
    /// Where the first line ends.
    title_end: usize,
    /// The first paragraph's start was hidden: `<p>` is written when it goes on after the title.
    paragraph_pending: bool,
    /// Other elements opened before the title (and hidden with their ends).
    hidden: usize,
    /// Something of the title was written.
    has_title: bool,
}

/// A callout's marker at the start of a quote's text (after its `>` and one space or tab):
/// `[!type]`, then `+` or `-` when it folds, then the rest of the line (the title). Obsidian's
/// types are letters, digits, `-` and `_`. The one reading of the marker, for pages and for
/// the plain text of backlinks and search.
pub(crate) fn callout_marker(quoted: &str) -> Option<(&str, &str, &str)> {
    let rest = quoted.strip_prefix("[!")?;
    let (kind, after) = rest.split_once(']')?;
    if kind.is_empty()
        || !kind
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    let fold = if after.starts_with(['+', '-']) {
        &after[..1]
    } else {
        ""
    };
    Some((kind, fold, &after[fold.len()..]))
}

impl Callout {
    fn detect(text: &str, r: Range<usize>) -> Option<Callout> {
        let src = text.get(r.clone())?;
        // A callout's `[!` follows its `>` (and one space or tab); most quotes are not
        // callouts. Only that prefix is looked at: a line of thousands of nested quotes starts
        // a quote at each `>`, and scanning the rest of the line for each was quadratic.
        let bytes = src.as_bytes();
        let indent = bytes
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
        if bytes.get(indent) != Some(&b'>') {
            return None;
        }
        let mut at = indent + 1;
        if matches!(bytes.get(at), Some(b' ' | b'\t')) {
            at += 1;
        }
        if !bytes[at..].starts_with(b"[!") {
            return None;
        }
        let line_end = memchr::memchr(b'\n', &bytes[at..]).map_or(src.len(), |i| at + i);
        let (kind, fold, rest) = callout_marker(&src[at..line_end])?;
        let title = rest.trim_start_matches([' ', '\t']);
        let title_end = r.start + line_end;
        Some(Callout {
            kind: kind.to_lowercase(),
            fold: match fold {
                "-" => Some(false),
                "+" => Some(true),
                _ => None,
            },
            title_start: if title.trim().is_empty() {
                title_end
            } else {
                title_end - title.len()
            },
            title_end,
            paragraph_pending: false,
            hidden: 0,
            has_title: false,
        })
    }

    /// The title of a callout that has none: its type, capitalised (as Obsidian shows it).
    fn default_title(&self) -> String {
        let mut title = self.kind.clone();
        if let Some(first) = title.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        title
    }

    /// Up to the title's text. A foldable callout is a `<details>`, which folds with no script.
    fn open_html(&self) -> String {
        match self.fold {
            None => format!(
                "<div class=\"callout\" data-callout=\"{}\"><div class=\"callout-title\"><span class=\"callout-title-inner\">",
                escape(&self.kind)
            ),
            Some(open) => format!(
                "<details class=\"callout\" data-callout=\"{}\" data-fold=\"{}\"{}><summary class=\"callout-title\"><span class=\"callout-title-inner\">",
                escape(&self.kind),
                if open { "open" } else { "closed" },
                if open { " open" } else { "" }
            ),
        }
    }

    /// From the title's end to the content's start.
    fn close_title_html(&self) -> &'static str {
        match self.fold {
            None => "</span></div><div class=\"callout-content\">\n",
            Some(_) => "</span></summary><div class=\"callout-content\">\n",
        }
    }

    /// The end of the content and of the callout.
    fn close_html(&self) -> &'static str {
        match self.fold {
            None => "</div></div>\n",
            Some(_) => "</div></details>\n",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::SourceFile;
    use crate::source::VaultPath;

    use regex::Regex;
    use std::sync::LazyLock;

    /// How a callout starts, as a pattern: the definition [`Callout::detect`] is held to.
    static CALLOUT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[ \t]*>[ \t]?\[!([A-Za-z0-9_-]+)\]([+-]?)[ \t]*([^\n]*)")
            .expect("valid regex")
    });

    /// The quick look at a quote's first bytes agrees with the callout pattern on every shape
    /// of opening: indentation, one space or tab (not two) after `>`, nesting, `[!` later in
    /// the line, other letter cases and fold marks.
    #[test]
    fn callouts_are_detected_as_the_pattern_says() {
        for src in [
            "> [!note] Title\n> body",
            ">[!tip]-",
            "> [!NOTE]+ Open",
            "   > [!x]",
            "\t> [!x]",
            ">\t[!x] tab",
            ">  [!x] two spaces",
            "> text [!x] later",
            ">> [!x] nested",
            "> [x]",
            "> [!",
            "> [!]",
            ">",
            "",
            "> [!a-b_c9] odd kind",
            "> [!x]-- two marks",
            "> [!x]] bracket",
            "> [!a]b] title ] with brackets\n> body",
            "> [!x y] space",
            "> [!x]\ttab title\r\n> body",
            "> [!é] letter",
            ">>>>>>>>>>>>>>>>>>>> deep [!x]",
        ] {
            let detected = Callout::detect(src, 0..src.len());
            assert_eq!(detected.is_some(), CALLOUT.is_match(src), "{src:?}");
            if let Some(c) = detected {
                let caps = CALLOUT.captures(src).unwrap();
                assert_eq!(c.kind, caps[1].to_lowercase(), "{src:?}");
                assert_eq!(c.title_end, caps.get(0).unwrap().end(), "{src:?}");
                let title = caps.get(3).unwrap();
                if !title.as_str().trim().is_empty() {
                    assert_eq!(c.title_start, title.start(), "{src:?}");
                }
                let fold = match &caps[2] {
                    "-" => Some(false),
                    "+" => Some(true),
                    _ => None,
                };
                assert_eq!(c.fold, fold, "{src:?}");
            }
        }
        // A range inside the text: the nested quote of `>> [!x]` is a callout on its own.
        let text = ">> [!warning] Inner";
        assert!(Callout::detect(text, 0..text.len()).is_none());
        let inner = Callout::detect(text, 1..text.len()).expect("the inner quote");
        assert_eq!(
            (
                inner.kind.as_str(),
                &text[inner.title_start..inner.title_end]
            ),
            ("warning", "Inner")
        );
    }

    /// Blocks looked up by where their spans start, few (scanned) or many (sorted once), give
    /// the first block in order with that start, as a scan does; spans repeat (a lone `^id`
    /// names the block an item's id is also in) and come in any order.
    #[test]
    fn block_starts_find_the_first_block_as_a_scan_does() {
        let mut rng = crate::source::xorshift(0xb5);
        for len in [0, 3, 16, 17, 200] {
            let blocks: Vec<Block> = (0..len)
                .map(|i| {
                    let start = rng(60) as u32;
                    Block {
                        id: format!("b{i}"),
                        span: Span::new(start as usize..start as usize + 5),
                        marker: Span::default(),
                    }
                })
                .collect();
            let starts = BlockStarts::new(&blocks);
            for at in 0..70 {
                let scan = blocks
                    .iter()
                    .find(|b| b.span.start as usize == at)
                    .map(|b| b.id.as_str());
                assert_eq!(starts.at(at), scan, "{len} blocks, at {at}");
            }
        }
    }

    /// A note's template with its holes filled the simplest way: text as it is, links as
    /// `<a href="#L{i}">`, tags as `#T{i}`, escaped in attributes.
    fn filled(text: &str) -> (String, crate::vault::Note) {
        let (note, _) = crate::parse::note_with(
            SourceFile {
                path: VaultPath::new("n.md").unwrap(),
                text: text.to_string(),
                is_template: false,
            },
            true,
        );
        let template = note.body.clone().expect("parsed with a body");
        let mut out = String::new();
        template.fill_into(&note.text, &mut out, |dest, hole| {
            let html = match hole {
                Hole::Link(i) | Hole::Image(i) => format!("<a href=\"#L{i}\">L</a>"),
                Hole::MarkdownLink(i) => format!("<a href=\"#M{i}\">"),
                Hole::Tag(i) => format!("#T{i}"),
                Hole::Base(s) => format!("<base {}..{}>", s.start, s.end),
                Hole::Source(_) | Hole::Code(_) => String::new(),
            };
            dest.push_str(&html);
        });
        (out, note)
    }

    /// pulldown-cmark's own HTML of the same body.
    fn plain_html(text: &str) -> String {
        let comments = crate::parse::comment_ranges(text, 0);
        let mut html = String::new();
        pulldown_cmark::html::push_html(
            &mut html,
            crate::parse::events(text, 0, &comments).map(|(e, _)| e),
        );
        html
    }

    #[test]
    fn a_body_without_links_is_exactly_what_pulldown_cmark_writes() {
        let samples = [
            "plain paragraph\nwith a soft break  \nand a hard one\n",
            "Title\n\nSome *emphasis*, **strong**, ~~gone~~ and `code & <b>` and `plain`.\n",
            "```rust\nfn main() {\n    println!(\"<hi>\");\n}\n```\n\nafter\n",
            "    indented code\n    second line\n\n- item\n  - nested `x`\n- [ ] task\n",
            "| a | b |\n|---|:-:|\n| 1 & 2 | `c` |\n",
            // (Footnotes are gathered at the end: see the footnote test.)
            "Text with &amp; entity, &lt;tag&gt;, \\*escaped\\* and ^carets^.\n",
            "<div class=\"x\">\nraw html\n</div>\n\ninline <span>html</span> here\n",
            "![alt with `code` & more](http://example.com/i.png \"title\")\n",
            "> quote\n> > nested\n\n---\n\nend with newline in code:\n\n```\n\n\n```\n",
            "visible %% hidden %% shown\n\n%%\nblock comment\n%%\n",
            "",
        ];
        for text in samples {
            assert_eq!(filled(text).0, plain_html(text), "{text:?}");
        }
    }

    #[test]
    fn the_text_is_held_once_and_the_holes_are_where_the_links_were() {
        let text = "A [[target]] and #tag in a sentence that is long enough to matter.\n";
        let (html, note) = filled(text);
        assert_eq!(
            html,
            "<p>A <a href=\"#L0\">L</a> and #T0 in a sentence that is long enough to matter.</p>\n"
        );
        let template = note.body.as_ref().unwrap();
        // The markup is only `<p>`, `</p>\n` and the placeholders; the text is referenced.
        assert!(template.markup_len() < 16, "{}", template.markup_len());
        assert_eq!(template.holes(), 5);
    }

    #[test]
    fn math_is_mathml_in_pulldown_cmarks_math_spans() {
        let (html, _) = filled("Math $x < y$ and ==$a$==\n\n$$\n\\frac{a}{b}\n$$\n");
        assert!(
            html.starts_with(
                "<p>Math <span class=\"math math-inline\"><math display=\"inline\"><semantics>"
            ),
            "{html}"
        );
        assert!(html.contains("<mo>&lt;</mo>"), "{html}");
        // A highlight around a formula pairs across it.
        assert!(
            html.contains("<mark><span class=\"math math-inline\"><math"),
            "{html}"
        );
        assert!(
            html.contains("<p><span class=\"math math-display\"><math display=\"block\"><semantics><mrow><mfrac>"),
            "{html}"
        );
        assert!(html.contains("\\frac{a}{b}\n</annotation>"), "{html}");
    }

    #[test]
    fn double_equals_pairs_become_highlights_as_obsidian_shows_them() {
        let cases = [
            ("x ==mark== y\n", "<p>x <mark>mark</mark> y</p>\n"),
            (
                "==two words== and ==[[t]]==\n",
                "<p><mark>two words</mark> and <mark><a href=\"#L0\">L</a></mark></p>\n",
            ),
            (
                "==**b** m== **==i==**\n",
                "<p><mark><strong>b</strong> m</mark> <strong><mark>i</mark></strong></p>\n",
            ),
            (
                "# Head ==hi==\n",
                "<h1 id=\"head-hi\">Head <mark>hi</mark></h1>\n",
            ),
            (
                "| ==c== |\n|---|\n",
                "<table><thead><tr><th><mark>c</mark></th></tr></thead><tbody>\n</tbody></table>\n",
            ),
            // Not highlights: spaces inside the delimiters, other runs of `=`, an unclosed
            // one, code, a pair crossing an element's edge, an escaped one.
            ("a == b == c\n", "<p>a == b == c</p>\n"),
            ("a ===b=== ====c====\n", "<p>a ===b=== ====c====</p>\n"),
            ("open ==here\n", "<p>open ==here</p>\n"),
            ("`==c==` \\==\n", "<p><code>==c==</code> ==</p>\n"),
            ("==a **b== c**\n", "<p>==a <strong>b== c</strong></p>\n"),
            ("\\==e== and x\\==f==\n", "<p>==e== and x==f==</p>\n"),
            // Each paragraph pairs its own.
            ("==a\n\nb==\n", "<p>==a</p>\n<p>b==</p>\n"),
            ("==a\nb==\n", "<p><mark>a\nb</mark></p>\n"),
        ];
        for (text, html) in cases {
            assert_eq!(filled(text).0, html, "{text:?}");
        }
    }

    #[test]
    fn a_hole_in_an_attribute_is_escaped_and_unbalanced_ends_are_harmless() {
        // A link inside the alt text of an external image lands in an attribute.
        let (html, _) = filled("![see [it](other.md) here](http://x.png)\n");
        assert_eq!(
            html,
            "<p><img src=\"http://x.png\" alt=\"see &lt;a href=&quot;#M0&quot;&gt;it&lt;/a&gt; here\" /></p>\n"
        );
        // An image on a callout's title line is part of the title.
        let (html, _) = filled("> [!note] Title ![i](http://x.png)\n> body text\n");
        assert_eq!(
            html,
            "<div class=\"callout\" data-callout=\"note\"><div class=\"callout-title\"><span class=\"callout-title-inner\">Title <img src=\"http://x.png\" alt=\"i\" /></span></div><div class=\"callout-content\">\n<p>body text</p>\n</div></div>\n"
        );
    }

    /// A callout's title is inline markdown, as Obsidian shows it: its links, emphasis,
    /// highlights and tags are written in the title (none of their ends leaks into the
    /// content); `[!type]` alone is titled by its type; `-` and `+` fold (closed, open) as a
    /// `<details>` that needs no script.
    #[test]
    fn callout_titles_are_inline_markdown_and_foldable_callouts_are_details() {
        let cases = [
            (
                "> [!tip]- See [[Other]] *now*\n> Body.\n",
                "<details class=\"callout\" data-callout=\"tip\" data-fold=\"closed\"><summary class=\"callout-title\"><span class=\"callout-title-inner\">See <a href=\"#L0\">L</a> <em>now</em></span></summary><div class=\"callout-content\">\n<p>Body.</p>\n</div></details>\n",
            ),
            (
                "> [!FAQ]+\n> Why?\n",
                "<details class=\"callout\" data-callout=\"faq\" data-fold=\"open\" open><summary class=\"callout-title\"><span class=\"callout-title-inner\">Faq</span></summary><div class=\"callout-content\">\n<p>Why?</p>\n</div></details>\n",
            ),
            (
                "> [!note] A ==mark== and #tag and [md](http://x.org)\n",
                "<div class=\"callout\" data-callout=\"note\"><div class=\"callout-title\"><span class=\"callout-title-inner\">A <mark>mark</mark> and #T0 and <a class=\"external\" href=\"http://x.org\" rel=\"noopener\">md</a></span></div><div class=\"callout-content\">\n</div></div>\n",
            ),
            (
                "> [!warning] **Bold** title\n>\n> Para.\n",
                "<div class=\"callout\" data-callout=\"warning\"><div class=\"callout-title\"><span class=\"callout-title-inner\"><strong>Bold</strong> title</span></div><div class=\"callout-content\">\n<p>Para.</p>\n</div></div>\n",
            ),
            (
                "> [!info]\n> > [!todo] Inner [[X]]\n> > done\n",
                "<div class=\"callout\" data-callout=\"info\"><div class=\"callout-title\"><span class=\"callout-title-inner\">Info</span></div><div class=\"callout-content\">\n<div class=\"callout\" data-callout=\"todo\"><div class=\"callout-title\"><span class=\"callout-title-inner\">Inner <a href=\"#L0\">L</a></span></div><div class=\"callout-content\">\n<p>done</p>\n</div></div>\n</div></div>\n",
            ),
        ];
        for (text, html) in cases {
            assert_eq!(filled(text).0, html, "{text:?}");
        }
    }

    /// A task of any status but a space is checked, as Obsidian shows it, and its item says
    /// which (`data-task`), so that a theme can style `[/]` apart from `[-]`; a bracketed word
    /// that is not a status stays text.
    #[test]
    fn tasks_of_other_statuses_are_checked_items_with_their_status() {
        let cases = [
            (
                "- [/] doing [[N]]\n- [-] ==dropped==\n- [ ] open\n- [x] done\n",
                "<ul>\n<li data-task=\"/\"><input disabled=\"\" type=\"checkbox\" checked=\"\"/>\ndoing <a href=\"#L0\">L</a></li>\n<li data-task=\"-\"><input disabled=\"\" type=\"checkbox\" checked=\"\"/>\n<mark>dropped</mark></li>\n<li><input disabled=\"\" type=\"checkbox\"/>\nopen</li>\n<li><input disabled=\"\" type=\"checkbox\" checked=\"\"/>\ndone</li>\n</ul>\n",
            ),
            (
                "1. [>] later\n\n2. [?] loose ^b1\n",
                "<ol>\n<li data-task=\"&gt;\">\n<p><input disabled=\"\" type=\"checkbox\" checked=\"\"/>\nlater</p>\n</li>\n<li data-task=\"?\"><p id=\"^b1\"><input disabled=\"\" type=\"checkbox\" checked=\"\"/>\nloose</p>\n</li>\n</ol>\n",
            ),
            (
                "- [ab] word\n- [/]no space\n- [[N]] link\n",
                "<ul>\n<li>[ab] word</li>\n<li>[/]no space</li>\n<li><a href=\"#L0\">L</a> link</li>\n</ul>\n",
            ),
        ];
        for (text, html) in cases {
            assert_eq!(filled(text).0, html, "{text:?}");
        }
    }

    /// The table of contents and a title show a highlighted heading without its `==`, and
    /// keep those that are text (`a == b`, `===`).
    #[test]
    fn headings_are_shown_without_their_highlight_marks() {
        for (text, shown) in [
            ("A ==b== c", "A b c"),
            ("==all==", "all"),
            ("a == b", "a == b"),
            ("x === y ==z==", "x === y z"),
            ("==open only", "==open only"),
            ("==a== and ==b", "a and ==b"),
            ("", ""),
        ] {
            assert_eq!(without_highlights(text), shown, "{text:?}");
        }
    }

    /// A ` ```base ` block is a hole holding its text, the same range the note records
    /// (the page finds the parsed base by it); an empty block is an empty range; other code
    /// and a `base` inside a longer fence stay code.
    #[test]
    fn base_blocks_are_holes_at_the_range_the_note_records() {
        let text = "# A\n\n```base\nviews:\n  - type: table\n```\n\n```Base extra\n```\n\n~~~~\n```base\nx\n```\n~~~~\n";
        let (html, note) = filled(text);
        assert_eq!(note.bases.len(), 2, "{:?}", note.bases);
        let first = note.bases[0];
        assert_eq!(&text[first.range()], "views:\n  - type: table\n");
        assert_eq!(note.bases[1].start, note.bases[1].end, "an empty block");
        for b in &note.bases {
            assert!(
                html.contains(&format!("<base {}..{}>", b.start, b.end)),
                "{html}"
            );
        }
        assert!(!html.contains("views:"), "{html}");
        assert!(html.contains("<code>```base\nx\n```\n</code>"), "{html}");
    }

    /// A ` ```mermaid ` block is a diagram: its escaped source in `<pre class="mermaid">`, and
    /// the note says it has one; other fenced code keeps pulldown-cmark's markup.
    #[test]
    fn mermaid_blocks_are_diagrams_and_other_code_is_code() {
        let (html, note) =
            filled("```Mermaid extra\ngraph TD; A-->B;\n```\n\n```rust\nlet a = 1 < 2;\n```\n");
        assert_eq!(
            html,
            "<pre class=\"mermaid\">graph TD; A--&gt;B;\n</pre>\n<pre><code class=\"language-rust\">let a = 1 &lt; 2;\n</code></pre>\n"
        );
        assert!(note.diagrams);
        let (_, note) = filled("```rust\nmermaid\n```\n\n~~~\ngraph\n~~~\n");
        assert!(!note.diagrams);
    }

    /// Footnotes are written together at the end of the body, as Obsidian shows them:
    /// numbered by first reference, inline ones (`^[...]`, with links and brackets inside)
    /// among them, each linking back; a definition nothing references comes last; `^[` that
    /// does not close in its paragraph, and `\^[`, stay text.
    #[test]
    fn footnotes_are_numbered_by_reference_and_written_at_the_end() {
        let (html, _) = filled(
            "A[^b] and^[inline *em* [[L]] [x] here] then[^a] and[^b].\n\n[^a]: First def.\n\n[^b]: Second def.\n\n[^c]: Unused.\n\nEnd ^[open\n\nand \\^[not].\n",
        );
        assert_eq!(
            html,
            "<p>A<sup class=\"footnote-reference\"><a href=\"#fn:1\" id=\"fnref:1\">1</a></sup> and<sup class=\"footnote-reference\"><a href=\"#fn:2\" id=\"fnref:2\">2</a></sup> then<sup class=\"footnote-reference\"><a href=\"#fn:3\" id=\"fnref:3\">3</a></sup> and<sup class=\"footnote-reference\"><a href=\"#fn:1\">1</a></sup>.</p>\n\
             <p>End ^[open</p>\n<p>and ^[not].</p>\n\
             <section class=\"footnotes\" role=\"doc-endnotes\">\n<ol>\n\
             <li id=\"fn:1\">\n<p>Second def. <a class=\"footnote-backref\" href=\"#fnref:1\" role=\"doc-backlink\">↩</a></p>\n</li>\n\
             <li id=\"fn:2\">\n<p>inline <em>em</em> <a href=\"#L0\">L</a> [x] here <a class=\"footnote-backref\" href=\"#fnref:2\" role=\"doc-backlink\">↩</a></p>\n</li>\n\
             <li id=\"fn:3\">\n<p>First def. <a class=\"footnote-backref\" href=\"#fnref:3\" role=\"doc-backlink\">↩</a></p>\n</li>\n\
             <li value=\"4\">\n<p>Unused.</p>\n</li>\n</ol>\n</section>\n"
        );
    }
}
