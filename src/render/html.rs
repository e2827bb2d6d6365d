//! Note bodies to HTML: pulldown-cmark events with links rewritten to relative URLs, wanted
//! links marked, embeds transcluded (depth limit and cycle stack), callouts, block anchors and
//! tags. Reads notes through [`crate::parse::events`], like parsing, so both agree on what a
//! link is and what a comment hides.

use std::fmt::Write as _;
use std::ops::Range;
use std::sync::LazyLock;

use pulldown_cmark::{CowStr, Event, LinkType, Tag, TagEnd};
use regex::Regex;

use crate::compile::Compilation;
use crate::parse::comment_ranges;
use crate::resolve::{fragments, FragmentTarget, LinkTarget};
use crate::site::{PageDir, SitePlan};
use crate::slug::slugify;
use crate::source::Span;
use crate::vault::{Fragment, Link, LinkKind, Note, NoteId};

/// How deep note embeds may nest before they are shown as links.
pub const MAX_EMBED_DEPTH: usize = 4;

/// What rendering a body needs to know about the page it ends up on.
pub struct BodyContext<'a> {
    /// The compiled vault.
    pub comp: &'a Compilation,
    /// Page URLs.
    pub plan: &'a SitePlan,
    /// The page the HTML is for (links are relative to it).
    pub page: &'a PageDir,
    /// The note the page is about (`[[#H]]` in an embedded note still means that note).
    pub page_note: Option<NoteId>,
    /// `page.root_prefix()`, computed once per page.
    pub root: String,
}

/// Appends `relative_url(from, to_file)` to `out`, where `root` is `from.root_prefix()`:
/// paths that need no percent-encoding (nearly all) are copied without allocating.
pub fn push_relative_url(out: &mut String, root: &str, to_file: &str) {
    out.push_str(root);
    // `site::encode_path` encodes controls, non-ASCII and ` "#%<>?`{}'`.
    let plain = to_file.bytes().all(|b| {
        (0x21..0x7f).contains(&b)
            && !matches!(
                b,
                b'"' | b'#' | b'%' | b'<' | b'>' | b'?' | b'`' | b'{' | b'}' | b'\''
            )
    });
    if plain {
        out.push_str(to_file);
    } else {
        out.push_str(&crate::site::encode_path(to_file));
    }
}

/// Appends the URL of page folder `page`'s file (`{page}/index.html`), relative like
/// [`push_relative_url`], without building the file name first (this runs for every link).
pub fn push_page_url(out: &mut String, root: &str, page: &PageDir) {
    push_relative_url(out, root, page.as_str());
    if !page.as_str().is_empty() {
        out.push('/');
    }
    out.push_str("index.html");
}

/// [`push_page_url`] into a new string: what every view's link to a page holds (the same
/// string as `relative_url(from, &page.file())`).
pub fn page_url(root: &str, page: &PageDir) -> String {
    let mut url = String::with_capacity(root.len() + page.as_str().len() + 11);
    push_page_url(&mut url, root, page);
    url
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text);
    out
}

/// Appends `text` escaped for HTML content and attribute values.
pub fn push_escaped(out: &mut String, text: &str) {
    // Writing to a `String` cannot fail.
    let _ = write_escaped(out, text);
}

/// Writes `text` escaped for HTML content and attribute values: `&`, `<`, `>`, `"` and `'`,
/// the five characters that can end a text or a quoted attribute (the set Jinja2's MarkupSafe
/// escapes). The links and labels vaultc writes into note bodies, the native pages and every
/// template value go through this one function (body text is escaped by pulldown-cmark).
pub fn write_escaped(out: &mut impl std::fmt::Write, text: &str) -> std::fmt::Result {
    let bytes = text.as_bytes();
    // Most strings (titles, paths, URLs, context lines) need nothing: two SIMD scans tell.
    if memchr::memchr3(b'&', b'<', b'>', bytes).is_none()
        && memchr::memchr2(b'"', b'\'', bytes).is_none()
    {
        return out.write_str(text);
    }
    // The five are ASCII, so they never occur inside a multi-byte character and every cut
    // falls on a character boundary.
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !NEEDS_ESCAPE[usize::from(b)] {
            continue;
        }
        out.write_str(&text[start..i])?;
        out.write_str(match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#39;",
        })?;
        start = i + 1;
    }
    out.write_str(&text[start..])
}

/// The bytes [`write_escaped`] replaces.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    table[b'&' as usize] = true;
    table[b'<' as usize] = true;
    table[b'>' as usize] = true;
    table[b'"' as usize] = true;
    table[b'\'' as usize] = true;
    table
};

/// Renders the whole body of a note.
pub fn note_body(ctx: &BodyContext, id: NoteId) -> String {
    let note = ctx.comp.vault.note(id);
    let mut stack = vec![(id, note.body_start)];
    render_range(ctx, id, note.body_start..note.text.len(), &mut stack)
}

/// Renders `range` of note `id`'s text; `stack` holds the (note, section start) pairs being
/// embedded, for the cycle check.
fn render_range(
    ctx: &BodyContext,
    id: NoteId,
    range: Range<usize>,
    stack: &mut Vec<(NoteId, usize)>,
) -> String {
    let note = ctx.comp.vault.note(id);
    let range = range.start.max(note.body_start)..range.end;
    let Some(slice) = note.text.get(range.clone()) else {
        return String::new();
    };
    let base = range.start;
    // About one event per 16 bytes of markdown: the vector rarely grows.
    let mut events: Vec<Event> = Vec::with_capacity(slice.len() / 16 + 8);
    let mut skip_depth = 0usize; // > 0 while skipping a wikilink's or embed's inner events
    let mut md_links: Vec<bool> = Vec::new(); // per open markdown link: did we emit our own <a>?
    let mut callout: Option<Callout> = None;
    let mut callouts_open: Vec<bool> = Vec::new();
    let mut skip_paragraph = false;
    let mut paragraph_at: Option<usize> = None; // index in `events` of an open plain <p>
    let top = stack.len() == 1; // only the page's own headings and blocks get ids
    let comments = comment_ranges(&note.text, note.body_start);
    for (event, r) in crate::parse::events(slice, base, &comments) {
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
            // Hide the `[!type] Title` line of a callout's first paragraph.
            if r.start < c.title_end
                && !matches!(event, Event::Start(Tag::BlockQuote(_)) | Event::End(_))
            {
                if matches!(event, Event::Start(Tag::Paragraph)) {
                    c.paragraph_pending = true;
                }
                continue;
            }
            if matches!(event, Event::SoftBreak | Event::HardBreak) && r.start <= c.title_end {
                continue;
            }
            if c.paragraph_pending {
                if matches!(event, Event::End(TagEnd::Paragraph)) {
                    callout = None;
                    continue;
                }
                events.push(Event::Html("<p>".into()));
            }
            callout = None;
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
                match link_index(note, r.start) {
                    Some(i) => {
                        let html = link_html(ctx, id, i, stack);
                        events.push(Event::InlineHtml(html.into()));
                    }
                    None => events.push(Event::Text(CowStr::from(note.text[r].to_string()))),
                }
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id: link_id,
            }) => {
                if let Some(i) =
                    link_index(note, r.start).filter(|&i| note.links[i].kind == LinkKind::Markdown)
                {
                    let mut href = String::new();
                    let class = href_for(ctx, id, i, &mut href);
                    let mut html = String::with_capacity(href.len() + 40);
                    html.push_str("<a class=\"");
                    html.push_str(class);
                    html.push_str("\" href=\"");
                    push_escaped(&mut html, &href);
                    html.push_str("\">");
                    events.push(Event::InlineHtml(html.into()));
                    md_links.push(true);
                } else if is_external(&dest_url) {
                    let title_attr = if title.is_empty() {
                        String::new()
                    } else {
                        format!(" title=\"{}\"", escape(&title))
                    };
                    events.push(Event::InlineHtml(
                        format!(
                            "<a class=\"external\" href=\"{}\"{title_attr} rel=\"noopener\">",
                            escape(&dest_url)
                        )
                        .into(),
                    ));
                    md_links.push(true);
                } else {
                    events.push(Event::Start(Tag::Link {
                        link_type,
                        dest_url,
                        title,
                        id: link_id,
                    }));
                    md_links.push(false);
                }
            }
            Event::End(TagEnd::Link) => {
                if md_links.pop().unwrap_or(false) {
                    events.push(Event::InlineHtml("</a>".into()));
                } else {
                    events.push(Event::End(TagEnd::Link));
                }
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id: image_id,
            }) => {
                match link_index(note, r.start).filter(|&i| note.links[i].kind == LinkKind::Embed) {
                    Some(i) => {
                        skip_depth = 1;
                        let alt = image_alt(&note.text[r.clone()]);
                        let html = embed_html(ctx, id, i, stack, Some(&alt));
                        events.push(Event::InlineHtml(html.into()));
                    }
                    None => events.push(Event::Start(Tag::Image {
                        link_type,
                        dest_url,
                        title,
                        id: image_id,
                    })),
                }
            }
            Event::Start(Tag::Heading {
                level,
                id: _,
                classes,
                attrs,
            }) => {
                // Headings are in document order: a binary search, not a scan per heading.
                let anchor = note
                    .headings
                    .binary_search_by_key(&(r.start as u32), |h| h.span.start)
                    .ok()
                    .filter(|_| top)
                    .map(|i| note.headings[i].anchor.clone());
                events.push(Event::Start(Tag::Heading {
                    level,
                    id: anchor.map(CowStr::from),
                    classes,
                    attrs,
                }));
            }
            Event::Start(Tag::Paragraph) => {
                if is_lone_block_marker(note, &r) {
                    skip_paragraph = true;
                    continue;
                }
                match block_at(note, r.start).filter(|_| top) {
                    Some(b) => {
                        events.push(Event::Html(format!("<p id=\"^{}\">", escape(b)).into()))
                    }
                    None => {
                        paragraph_at = Some(events.len());
                        events.push(Event::Start(Tag::Paragraph));
                    }
                }
            }
            Event::End(TagEnd::Paragraph) => {
                // A paragraph holding only block embeds (`<div>`, `<figure>`...) is unwrapped:
                // `<p><div>` is not valid HTML.
                let lone = paragraph_at.take().filter(|&i| {
                    let inner = &events[i + 1..];
                    !inner.is_empty()
                        && inner.iter().all(|e| match e {
                            Event::InlineHtml(h) => is_block_html(h),
                            Event::SoftBreak => true,
                            Event::Text(t) => t.trim().is_empty(),
                            _ => false,
                        })
                        && inner.iter().any(|e| matches!(e, Event::InlineHtml(_)))
                });
                match lone {
                    Some(i) => {
                        events.remove(i);
                        for e in &mut events[i..] {
                            if let Event::InlineHtml(h) = e {
                                *e = Event::Html(std::mem::replace(h, CowStr::Borrowed("")));
                            }
                        }
                        events.push(Event::Html("\n".into()));
                    }
                    None => events.push(Event::End(TagEnd::Paragraph)),
                }
            }
            Event::Start(Tag::Item) => match block_at(note, r.start).filter(|_| top) {
                Some(b) => events.push(Event::Html(format!("<li id=\"^{}\">", escape(b)).into())),
                None => events.push(Event::Start(Tag::Item)),
            },
            Event::Start(tag @ (Tag::Table(_) | Tag::List(_))) => {
                if let Some(b) = block_at(note, r.start).filter(|_| top) {
                    events.push(Event::Html(
                        format!("<a class=\"block-anchor\" id=\"^{}\"></a>", escape(b)).into(),
                    ));
                }
                events.push(Event::Start(tag));
            }
            Event::Start(Tag::BlockQuote(kind)) => {
                if let Some(c) = Callout::detect(&note.text, r.clone()) {
                    events.push(Event::Html(c.open_html().into()));
                    callout = Some(c);
                    callouts_open.push(true);
                } else {
                    if let Some(b) = block_at(note, r.start).filter(|_| top) {
                        events.push(Event::Html(
                            format!("<a class=\"block-anchor\" id=\"^{}\"></a>", escape(b)).into(),
                        ));
                    }
                    events.push(Event::Start(Tag::BlockQuote(kind)));
                    callouts_open.push(false);
                }
            }
            Event::End(TagEnd::BlockQuote(kind)) => {
                if callouts_open.pop().unwrap_or(false) {
                    events.push(Event::Html("</div></div>\n".into()));
                } else {
                    events.push(Event::End(TagEnd::BlockQuote(kind)));
                }
            }
            Event::Text(text) => push_text(ctx, note, &r, text, &mut events),
            other => events.push(other),
        }
    }
    let mut html = String::with_capacity(slice.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    html
}

/// Whether inline HTML we generated is a block element (an embed) rather than a link.
fn is_block_html(html: &str) -> bool {
    ["<div", "<figure", "<video", "<audio", "<iframe"]
        .iter()
        .any(|p| html.starts_with(p))
}

/// Index of the link starting at byte `start` (links are sorted by start).
fn link_index(note: &Note, start: usize) -> Option<usize> {
    note.links
        .binary_search_by_key(&(start as u32), |l| l.span.start)
        .ok()
}

/// The id of the block whose span starts at `start`.
fn block_at(note: &Note, start: usize) -> Option<&str> {
    note.blocks
        .iter()
        .find(|b| b.span.start as usize == start)
        .map(|b| b.id.as_str())
}

/// A paragraph that is only `^id` (naming the block before it) is not shown.
fn is_lone_block_marker(note: &Note, r: &Range<usize>) -> bool {
    let text = note.text.get(r.clone()).unwrap_or("").trim();
    text.starts_with('^')
        && note.blocks.iter().any(|b| {
            r.start <= b.marker.start as usize
                && (b.marker.end as usize) <= r.end
                && (b.span.start as usize) < r.start
        })
}

/// Text with block markers removed and tags turned into links.
fn push_text<'a>(
    ctx: &BodyContext,
    note: &Note,
    r: &Range<usize>,
    text: CowStr<'a>,
    events: &mut Vec<Event<'a>>,
) {
    let verbatim = note.text.get(r.clone()) == Some(&*text);
    if !verbatim || memchr::memchr2(b'#', b'^', text.as_bytes()).is_none() {
        events.push(Event::Text(text));
        return;
    }
    let span = Span::new(r.clone());
    let mut cuts: Vec<(usize, usize, Option<String>)> = Vec::new();
    for b in &note.blocks {
        if span.contains(b.marker) {
            cuts.push((b.marker.start as usize, b.marker.end as usize, None));
        }
    }
    for t in &note.tags {
        if span.contains(t.span) {
            let mut href = String::new();
            if let Some(p) = ctx.plan.tag_page(&t.name) {
                push_page_url(&mut href, &ctx.root, p);
            }
            let mut html = String::with_capacity(href.len() + t.name.len() + 32);
            html.push_str("<a class=\"tag\" href=\"");
            push_escaped(&mut html, &href);
            html.push_str("\">#");
            push_escaped(&mut html, &t.name);
            html.push_str("</a>");
            cuts.push((t.span.start as usize, t.span.end as usize, Some(html)));
        }
    }
    if cuts.is_empty() {
        events.push(Event::Text(text));
        return;
    }
    cuts.sort();
    let mut pos = r.start;
    for (start, end, html) in cuts {
        if start < pos {
            continue;
        }
        if start > pos {
            events.push(Event::Text(note.text[pos..start].to_string().into()));
        }
        if let Some(html) = html {
            events.push(Event::InlineHtml(html.into()));
        }
        pos = end;
    }
    if pos < r.end {
        events.push(Event::Text(note.text[pos..r.end].to_string().into()));
    }
}

fn is_external(dest: &str) -> bool {
    dest.starts_with("http://")
        || dest.starts_with("https://")
        || dest.starts_with("mailto:")
        || dest.starts_with("//")
}

fn image_alt(raw: &str) -> String {
    raw.strip_prefix("![")
        .and_then(|s| s.split_once("]("))
        .map(|(alt, _)| alt.to_string())
        .unwrap_or_default()
}

/// Where link `i` of note `id` leads, before it is made relative to a page: everything a
/// rendered link depends on besides the note's own text. [`href_for`] writes it as an href,
/// and the incremental build hashes it (`render/inputs.rs`), so both read the same facts.
pub(crate) enum LinkDest<'a> {
    /// A note: its page (`None` when unpublished), the anchor after `#` (a heading anchor or
    /// `^id`, `""` for none), and whether the fragment names nothing in the note.
    Note {
        target: NoteId,
        page: Option<&'a PageDir>,
        anchor: (&'static str, &'a str),
        broken_fragment: bool,
    },
    /// An attachment, at its vault path.
    Attachment(&'a str),
    /// A missing target: a link to the wanted page.
    Missing,
}

/// Resolves link `i` of note `id` to its destination.
pub(crate) fn link_dest<'a>(
    comp: &'a Compilation,
    plan: &'a SitePlan,
    id: NoteId,
    i: usize,
) -> LinkDest<'a> {
    match &comp.resolution.get(id, i).target {
        LinkTarget::Note {
            id: target,
            fragment,
        } => {
            let target_note = comp.vault.note(*target);
            let anchor = match fragment {
                FragmentTarget::Heading(h) => ("#", target_note.headings[*h].anchor.as_str()),
                FragmentTarget::Block(b) => ("#^", target_note.blocks[*b].id.as_str()),
                FragmentTarget::None | FragmentTarget::Missing => ("", ""),
            };
            LinkDest::Note {
                target: *target,
                page: plan.note_page(*target),
                anchor,
                broken_fragment: *fragment == FragmentTarget::Missing,
            }
        }
        LinkTarget::Attachment(a) => LinkDest::Attachment(comp.vault.attachment(*a).path.as_str()),
        LinkTarget::Missing { .. } => LinkDest::Missing,
    }
}

/// The CSS class of link `i` of note `id`; its href from the page being rendered is appended
/// to `href` (nothing for an unpublished note).
fn href_for(ctx: &BodyContext, id: NoteId, i: usize, href: &mut String) -> &'static str {
    let link = &ctx.comp.vault.note(id).links[i];
    match link_dest(ctx.comp, ctx.plan, id, i) {
        LinkDest::Note {
            target,
            page,
            anchor: (hash, anchor),
            broken_fragment,
        } => {
            let class = if broken_fragment {
                "internal broken-fragment"
            } else {
                "internal"
            };
            if Some(target) == ctx.page_note && !hash.is_empty() {
                href.push_str(hash);
                href.push_str(anchor);
                return class;
            }
            match page {
                Some(page) => {
                    push_page_url(href, &ctx.root, page);
                    href.push_str(hash);
                    href.push_str(anchor);
                    class
                }
                None => "internal unpublished",
            }
        }
        LinkDest::Attachment(path) => {
            push_relative_url(href, &ctx.root, path);
            if let Some(Fragment::Viewer(v)) = &link.fragment {
                href.push('#');
                href.push_str(v);
            }
            "internal attachment"
        }
        LinkDest::Missing => {
            push_relative_url(href, &ctx.root, "wanted/index.html");
            href.push('#');
            href.push_str(&slugify(&link.target));
            "internal wanted"
        }
    }
}

/// The text a link shows when it has no label: `Note > Heading`, like Obsidian.
fn default_label(link: &Link) -> String {
    let mut label = link.target.trim_end_matches(".md").to_string();
    if let Some(f) = &link.fragment {
        let frag = match f {
            Fragment::Heading(parts) => parts.join(" > "),
            Fragment::Block(b) => format!("^{b}"),
            Fragment::Viewer(_) => String::new(),
        };
        if !frag.is_empty() {
            if label.is_empty() {
                label = frag;
            } else {
                label = format!("{label} > {frag}");
            }
        }
    }
    label
}

/// HTML for wikilink or embed `i` of note `id`.
fn link_html(ctx: &BodyContext, id: NoteId, i: usize, stack: &mut Vec<(NoteId, usize)>) -> String {
    let link = &ctx.comp.vault.note(id).links[i];
    if link.kind == LinkKind::Embed {
        return embed_html(ctx, id, i, stack, None);
    }
    match &link.label {
        Some(label) => anchor_html(ctx, id, i, label),
        None => anchor_html(ctx, id, i, &default_label(link)),
    }
}

fn anchor_html(ctx: &BodyContext, id: NoteId, i: usize, label: &str) -> String {
    let mut href = String::new();
    let class = href_for(ctx, id, i, &mut href);
    let mut out = String::with_capacity(href.len() + label.len() + 64);
    if href.is_empty() {
        out.push_str("<span class=\"");
        out.push_str(class);
        out.push_str("\">");
        push_escaped(&mut out, label);
        out.push_str("</span>");
        return out;
    }
    out.push_str("<a class=\"");
    out.push_str(class);
    out.push_str("\" href=\"");
    push_escaped(&mut out, &href);
    out.push('"');
    if class.contains("wanted") {
        out.push_str(" title=\"Not written yet\"");
    }
    out.push('>');
    push_escaped(&mut out, label);
    out.push_str("</a>");
    out
}

const IMAGE: &[&str] = &["avif", "bmp", "gif", "jpeg", "jpg", "png", "svg", "webp"];
const AUDIO: &[&str] = &["flac", "m4a", "mp3", "ogg", "wav", "3gp"];
const VIDEO: &[&str] = &["mkv", "mov", "mp4", "ogv", "webm"];

/// HTML for embed `i` of note `id` (`alt` for markdown images).
fn embed_html(
    ctx: &BodyContext,
    id: NoteId,
    i: usize,
    stack: &mut Vec<(NoteId, usize)>,
    alt: Option<&str>,
) -> String {
    let comp = ctx.comp;
    let link = &comp.vault.note(id).links[i];
    let mut href = String::new();
    href_for(ctx, id, i, &mut href);
    match &comp.resolution.get(id, i).target {
        LinkTarget::Attachment(a) => {
            let path = &comp.vault.attachment(*a).path;
            let ext = path.extension();
            let src = escape(&href);
            let label = link.label.as_deref();
            if IMAGE.contains(&ext.as_str()) {
                let (size, alt_text) = match label.and_then(parse_size) {
                    Some(size) => (size, alt.unwrap_or(path.stem()).to_string()),
                    None => (
                        String::new(),
                        label.or(alt).unwrap_or(path.stem()).to_string(),
                    ),
                };
                format!(
                    "<figure class=\"embed embed-image\"><img src=\"{src}\" alt=\"{}\"{size} loading=\"lazy\"></figure>",
                    escape(&alt_text)
                )
            } else if AUDIO.contains(&ext.as_str()) {
                format!("<audio class=\"embed embed-audio\" controls preload=\"metadata\" src=\"{src}\"></audio>")
            } else if VIDEO.contains(&ext.as_str()) {
                let size = label.and_then(parse_size).unwrap_or_default();
                format!("<video class=\"embed embed-video\" controls preload=\"metadata\" src=\"{src}\"{size}></video>")
            } else if ext == "pdf" {
                let height = match &link.fragment {
                    Some(Fragment::Viewer(v)) => v
                        .split('&')
                        .find_map(|kv| kv.strip_prefix("height="))
                        .and_then(|h| h.parse::<u32>().ok()),
                    _ => None,
                };
                let style = height
                    .map(|h| format!(" style=\"height:{h}px\""))
                    .unwrap_or_default();
                format!(
                    "<iframe class=\"embed embed-pdf\" src=\"{src}\"{style} title=\"{}\"></iframe>",
                    escape(path.file_name())
                )
            } else {
                format!(
                    "<div class=\"embed embed-file\"><a class=\"internal attachment\" href=\"{src}\">{}</a></div>",
                    escape(path.file_name())
                )
            }
        }
        LinkTarget::Note {
            id: target,
            fragment,
        } => {
            let target = *target;
            let target_note = comp.vault.note(target);
            let title_link = anchor_html(
                ctx,
                id,
                i,
                &link.label.clone().unwrap_or_else(|| default_label(link)),
            );
            let range = match fragment {
                FragmentTarget::Heading(h) => fragments::section_span(target_note, *h).range(),
                FragmentTarget::Block(b) => target_note.blocks[*b].span.range(),
                FragmentTarget::None => target_note.body_start..target_note.text.len(),
                FragmentTarget::Missing => {
                    return format!(
                        "<div class=\"embed embed-error\">not found: {title_link}</div>"
                    );
                }
            };
            // A whole note inside itself, or the same section inside itself, never terminates.
            let whole = matches!(fragment, FragmentTarget::None);
            let cycle = stack
                .iter()
                .any(|&(n, start)| n == target && (whole || start == range.start));
            if cycle || stack.len() > MAX_EMBED_DEPTH {
                let why = if cycle {
                    "embed cycle"
                } else {
                    "embeds nested too deeply"
                };
                return format!("<div class=\"embed embed-error\">{why}: {title_link}</div>");
            }
            stack.push((target, range.start));
            let inner = render_range(ctx, target, range, stack);
            stack.pop();
            let mut out = String::new();
            let _ = write!(
                out,
                "<div class=\"embed embed-note\" data-src=\"{}\"><div class=\"embed-title\">{title_link}</div>{inner}</div>",
                escape(target_note.path.as_str())
            );
            out
        }
        LinkTarget::Missing { .. } => {
            let label = link.label.clone().unwrap_or_else(|| default_label(link));
            format!(
                "<div class=\"embed embed-error\">not found: {}</div>",
                anchor_html(ctx, id, i, &label)
            )
        }
    }
}

/// `100x145` or `100` as width/height attributes.
fn parse_size(label: &str) -> Option<String> {
    let (w, h) = match label.split_once('x') {
        Some((w, h)) => (w.trim(), Some(h.trim())),
        None => (label.trim(), None),
    };
    let w: u32 = w.parse().ok()?;
    match h {
        Some(h) => {
            let h: u32 = h.parse().ok()?;
            Some(format!(" width=\"{w}\" height=\"{h}\""))
        }
        None => Some(format!(" width=\"{w}\"")),
    }
}

/// An Obsidian callout: `> [!type]+/- Title`.
struct Callout {
    kind: String,
    title: String,
    fold: &'static str,
    title_end: usize,
    paragraph_pending: bool,
}

static CALLOUT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[ \t]*>[ \t]?\[!([A-Za-z0-9_-]+)\]([+-]?)[ \t]*([^\n]*)").expect("valid regex")
});

impl Callout {
    fn detect(text: &str, r: Range<usize>) -> Option<Callout> {
        let src = text.get(r.clone())?;
        let caps = CALLOUT.captures(src)?;
        let whole = caps.get(0)?;
        let kind = caps[1].to_lowercase();
        let title = caps[3].trim().to_string();
        let title = if title.is_empty() {
            let mut t = kind.clone();
            if let Some(first) = t.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            t
        } else {
            title
        };
        Some(Callout {
            kind,
            title,
            fold: match &caps[2] {
                "-" => " data-fold=\"closed\"",
                "+" => " data-fold=\"open\"",
                _ => "",
            },
            title_end: r.start + whole.end(),
            paragraph_pending: false,
        })
    }

    fn open_html(&self) -> String {
        format!(
            "<div class=\"callout\" data-callout=\"{}\"{}><div class=\"callout-title\">{}</div><div class=\"callout-content\">\n",
            escape(&self.kind),
            self.fold,
            escape(&self.title)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escaping_replaces_exactly_the_five_anywhere_in_any_script() {
        // The obvious definition, one character at a time.
        let reference = |s: &str| -> String {
            s.chars()
                .map(|c| match c {
                    '&' => "&amp;".to_string(),
                    '<' => "&lt;".to_string(),
                    '>' => "&gt;".to_string(),
                    '"' => "&quot;".to_string(),
                    '\'' => "&#39;".to_string(),
                    c => c.to_string(),
                })
                .collect()
        };
        let pieces = [
            "a",
            "视觉",
            "/",
            "&",
            "<",
            ">",
            "\"",
            "'",
            " ",
            "é",
            "&amp;",
            "\u{1F600}",
        ];
        // Every string of up to four pieces, so each special sits first, last, alone and
        // between multi-byte characters.
        let mut strings = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = strings
                .iter()
                .flat_map(|s| pieces.iter().map(move |p| format!("{s}{p}")))
                .collect();
            strings.extend(longer);
            strings.dedup();
        }
        assert!(strings.len() > 20_000);
        for s in &strings {
            assert_eq!(escape(s), reference(s), "{s:?}");
        }
    }
}
