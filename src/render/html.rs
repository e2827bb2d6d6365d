//! Note bodies to HTML: a note's body template ([`crate::parse::body`], which writes the
//! markup, callouts, block anchors and heading ids) with its holes filled for one page: links
//! as relative URLs, wanted links marked, embeds transcluded (depth limit and cycle stack),
//! tags linked. Where links lead (`LinkDest`) is shared with the page fingerprints.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::ops::Range;

use crate::compile::Compilation;
use crate::parse::body::{self, BodyTemplate, Hole};
use crate::resolve::{fragments, FragmentTarget, LinkTarget};
use crate::site::{PageDir, SitePlan};
use crate::slug::slugify;
use crate::vault::{Fragment, Link, LinkKind, NoteId};

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
    /// How many embeds the page has rendered so far: each embed's footnote ids take the
    /// next number ([`body::Ids::Embed`]), in the order the page shows them.
    pub embeds: std::cell::Cell<u32>,
}

impl<'a> BodyContext<'a> {
    /// The context of `page`, about `page_note`, before anything on it is rendered.
    pub fn new(
        comp: &'a Compilation,
        plan: &'a SitePlan,
        page: &'a PageDir,
        page_note: Option<NoteId>,
    ) -> BodyContext<'a> {
        BodyContext {
            comp,
            plan,
            page,
            page_note,
            root: page.root_prefix(),
            embeds: std::cell::Cell::new(0),
        }
    }
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

/// Appends the URL of attachment `a` from a page whose `root_prefix()` is `root`: a canvas's
/// page, or the file the attachment is copied to; returns the link's class.
pub fn push_attachment_url(
    out: &mut String,
    root: &str,
    plan: &SitePlan,
    a: crate::vault::AttachmentId,
) -> &'static str {
    match plan.canvas_page(a) {
        Some(page) => {
            push_page_url(out, root, page);
            "internal canvas"
        }
        None => {
            push_relative_url(out, root, plan.attachment_file(a));
            "internal attachment"
        }
    }
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

/// Renders the whole body of a note: its template from parsing with the holes filled, or,
/// for a note parsed without one (taken from the parse cache), a template made now.
pub fn note_body(ctx: &BodyContext, id: NoteId) -> String {
    let note = ctx.comp.vault.note(id);
    let mut stack = vec![(id, note.body_start)];
    match &note.body {
        Some(template) => fill(ctx, id, template, &mut stack),
        None => render_range(ctx, id, note.body_start..note.text.len(), &mut stack),
    }
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
    let comments = note.comments();
    // Only the page's own headings and blocks get ids; an embed's footnotes get ids of
    // their own.
    let ids = if stack.len() == 1 {
        body::Ids::Page
    } else {
        ctx.embeds.set(ctx.embeds.get() + 1);
        body::Ids::Embed(ctx.embeds.get())
    };
    let template = body::template(
        &note.body_source(),
        crate::parse::events(slice, range.start, comments),
        ids,
        slice.len(),
    );
    fill(ctx, id, &template, stack)
}

/// A template of note `id` with its holes filled for the page of `ctx`.
fn fill(
    ctx: &BodyContext,
    id: NoteId,
    template: &BodyTemplate,
    stack: &mut Vec<(NoteId, usize)>,
) -> String {
    let note = ctx.comp.vault.note(id);
    let mut out = String::with_capacity(template.markup_len() * 4 + 64 * template.holes());
    let mut href = String::new();
    template.fill_into(&note.text, &mut out, |dest, hole| match hole {
        Hole::Link(i) => push_link(dest, ctx, id, i as usize, stack),
        Hole::MarkdownLink(i) => {
            href.clear();
            let class = href_for(ctx, id, i as usize, &mut href);
            dest.push_str("<a class=\"");
            dest.push_str(class);
            dest.push_str("\" href=\"");
            push_escaped(dest, &href);
            dest.push_str("\">");
        }
        Hole::Image(i) => {
            let alt = body::image_alt(note.slice(note.links[i as usize].span));
            dest.push_str(&embed_html(ctx, id, i as usize, stack, Some(alt)));
        }
        Hole::Tag(t) => {
            let tag = &note.tags[t as usize];
            dest.push_str("<a class=\"tag\" href=\"");
            if let Some(p) = ctx.plan.tag_page(&tag.name) {
                href.clear();
                push_page_url(&mut href, &ctx.root, p);
                push_escaped(dest, &href);
            }
            dest.push_str("\">#");
            push_escaped(dest, &tag.name);
            dest.push_str("</a>");
        }
        Hole::Base(text) => {
            let links = crate::bases::PageLinks {
                plan: ctx.plan,
                root: &ctx.root,
            };
            dest.push_str(&crate::bases::block_html(ctx.comp, &links, id, text));
        }
        // Text and code are the template's own to fill.
        Hole::Source(_) | Hole::Code(_) => {}
    });
    out
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
    /// An attachment, at the site file it is copied to.
    Attachment(&'a str),
    /// A canvas, at its page.
    Canvas(&'a PageDir),
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
        LinkTarget::Attachment(a) => match plan.canvas_page(*a) {
            Some(page) => LinkDest::Canvas(page),
            None => LinkDest::Attachment(plan.attachment_file(*a)),
        },
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
        LinkDest::Canvas(page) => {
            push_page_url(href, &ctx.root, page);
            "internal canvas"
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
fn default_label(link: &Link) -> Cow<'_, str> {
    label_for(&link.target, link.fragment.as_ref())
}

/// The text a link to `target` with `fragment` shows when it has no label (`Note > Heading`,
/// like Obsidian): on the page and in plain text alike.
pub fn label_for<'a>(target: &'a str, fragment: Option<&Fragment>) -> Cow<'a, str> {
    let target = target.trim_end_matches(".md");
    let frag = match fragment {
        Some(Fragment::Heading(parts)) => parts.join(" > "),
        Some(Fragment::Block(b)) => format!("^{b}"),
        Some(Fragment::Viewer(_)) | None => return Cow::Borrowed(target),
    };
    match (target.is_empty(), frag.is_empty()) {
        (_, true) => Cow::Borrowed(target),
        (true, false) => Cow::Owned(frag),
        (false, false) => Cow::Owned(format!("{target} > {frag}")),
    }
}

/// The label link `link` shows: its own, or [`default_label`].
fn label_of(link: &Link) -> Cow<'_, str> {
    match &link.label {
        Some(label) => Cow::Borrowed(label),
        None => default_label(link),
    }
}

/// Appends the HTML of wikilink or embed `i` of note `id` to `out`.
fn push_link(
    out: &mut String,
    ctx: &BodyContext,
    id: NoteId,
    i: usize,
    stack: &mut Vec<(NoteId, usize)>,
) {
    let link = &ctx.comp.vault.note(id).links[i];
    if link.kind == LinkKind::Embed {
        out.push_str(&embed_html(ctx, id, i, stack, None));
    } else {
        push_anchor(out, ctx, id, i, &label_of(link));
    }
}

/// Appends link `i` of note `id` as an anchor showing `label` (a span when it leads nowhere).
fn push_anchor(out: &mut String, ctx: &BodyContext, id: NoteId, i: usize, label: &str) {
    // The href is built in a buffer of the thread's: most pages have dozens of links.
    thread_local! {
        static HREF: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    HREF.with(|href| {
        let mut href = href.borrow_mut();
        href.clear();
        let class = href_for(ctx, id, i, &mut href);
        if href.is_empty() {
            out.push_str("<span class=\"");
            out.push_str(class);
            out.push_str("\">");
            push_escaped(out, label);
            out.push_str("</span>");
            return;
        }
        out.push_str("<a class=\"");
        out.push_str(class);
        out.push_str("\" href=\"");
        push_escaped(out, &href);
        out.push('"');
        if class.contains("wanted") {
            out.push_str(" title=\"Not written yet\"");
        }
        out.push('>');
        push_escaped(out, label);
        out.push_str("</a>");
    })
}

/// [`push_anchor`] into a new string.
fn anchor_html(ctx: &BodyContext, id: NoteId, i: usize, label: &str) -> String {
    let mut out = String::new();
    push_anchor(&mut out, ctx, id, i, label);
    out
}

/// Extensions of the images an embed shows as one.
pub(crate) const IMAGE: &[&str] = crate::parse::links::IMAGE_EXTENSIONS;
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
        LinkTarget::Attachment(a) if comp.canvases.get(*a).is_some() => {
            crate::canvas::view_html(ctx, *a, stack).unwrap_or_default()
        }
        LinkTarget::Attachment(a) if comp.bases.get(*a).is_some() => {
            let links = crate::bases::PageLinks {
                plan: ctx.plan,
                root: &ctx.root,
            };
            crate::bases::view_html(comp, &links, *a, base_view(link), id).unwrap_or_default()
        }
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
            let title_link = anchor_html(ctx, id, i, &label_of(link));
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
            let whole = matches!(fragment, FragmentTarget::None);
            let inner = match embedded_range(ctx, target, range, whole, stack) {
                Ok(inner) => inner,
                Err(why) => {
                    return format!("<div class=\"embed embed-error\">{why}: {title_link}</div>")
                }
            };
            let mut out = String::new();
            let _ = write!(
                out,
                "<div class=\"embed embed-note\" data-src=\"{}\"><div class=\"embed-title\">{title_link}</div>{inner}</div>",
                escape(target_note.path.as_str())
            );
            out
        }
        LinkTarget::Missing { .. } => {
            format!(
                "<div class=\"embed embed-error\">not found: {}</div>",
                anchor_html(ctx, id, i, &label_of(link))
            )
        }
    }
}

/// `range` of note `target` rendered inside the page (`whole`: the range is the note's body),
/// or why it is not: the note or section is already being embedded (a cycle, which would
/// never end), or embeds are nested too deeply.
fn embedded_range(
    ctx: &BodyContext,
    target: NoteId,
    range: Range<usize>,
    whole: bool,
    stack: &mut Vec<(NoteId, usize)>,
) -> Result<String, &'static str> {
    let cycle = stack
        .iter()
        .any(|&(n, start)| n == target && (whole || start == range.start));
    if cycle {
        return Err("embed cycle");
    }
    if stack.len() > MAX_EMBED_DEPTH {
        return Err("embeds nested too deeply");
    }
    stack.push((target, range.start));
    let inner = render_range(ctx, target, range, stack);
    stack.pop();
    Ok(inner)
}

/// The content of note `id` in a canvas's file card: its body, or the heading section or
/// block `subpath` names (`Heading`, `^block`), as an embed shows it.
pub(crate) fn note_card_body(
    ctx: &BodyContext,
    id: NoteId,
    subpath: Option<&str>,
    stack: &mut Vec<(NoteId, usize)>,
) -> String {
    let note = ctx.comp.vault.note(id);
    let fragment = subpath.and_then(|s| crate::parse::links::parse_fragment(note.path.as_str(), s));
    let range = match crate::resolve::resolve_fragment(note, fragment.as_ref()) {
        FragmentTarget::Heading(h) => fragments::section_span(note, h).range(),
        FragmentTarget::Block(b) => note.blocks[b].span.range(),
        // A subpath naming nothing shows the whole note.
        FragmentTarget::None | FragmentTarget::Missing => note.body_start..note.text.len(),
    };
    let whole = range.start == note.body_start && range.end == note.text.len();
    embedded_range(ctx, id, range, whole, stack).unwrap_or_else(|why| {
        let mut out = String::from("<div class=\"embed embed-error\">");
        out.push_str(why);
        out.push_str("</div>");
        out
    })
}

/// The view an embed of a base names: `![[Books.base#Top rated]]`.
pub(crate) fn base_view(link: &Link) -> Option<&str> {
    match &link.fragment {
        Some(Fragment::Heading(parts)) => parts.first().map(String::as_str),
        Some(Fragment::Viewer(v)) => Some(v.as_str()),
        _ => None,
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
