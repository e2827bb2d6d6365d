//! Obsidian canvases: `.canvas` files in the open JSON Canvas format (<https://jsoncanvas.org/>),
//! read in discovery, parsed in compile (problems are `invalid-canvas` diagnostics pointing
//! into the file), and shown where a note embeds one (`![[Board.canvas]]`): every card where
//! the canvas places it, text cards as markdown, file cards with the note or image they show,
//! groups behind them and the arrows between them in an SVG.
//!
//! A canvas is not a note: its cards' links are not in the concept graph (Obsidian does not
//! count them as backlinks either), and a page that embeds one is fingerprinted by the bytes of
//! what it shows, as a base view is.

use std::fmt::Write as _;

use pulldown_cmark::{Event, LinkType, Tag, TagEnd};
use serde_json::Value as Json;

use crate::diag::{Code, Diagnostic};
use crate::render::html::{
    note_card_body, push_attachment_url, push_escaped, push_page_url, push_relative_url,
    BodyContext,
};
use crate::resolve::LinkTarget;
use crate::source::{Span, VaultPath};
use crate::vault::{AttachmentId, NoteId, OtherSource, Vault};

/// Coordinates and sizes beyond this many pixels are clamped: a canvas is drawn at its size.
const MAX_COORDINATE: f64 = 1_000_000.0;
/// Room around the cards, in pixels.
const PADDING: i64 = 24;

/// Every canvas of the vault, parsed, by attachment.
#[derive(Debug, Default)]
pub struct Canvases {
    files: Vec<(AttachmentId, Canvas)>,
    /// What reading them found wrong (before levels are applied).
    pub diagnostics: Vec<Diagnostic>,
}

/// One `.canvas` file.
#[derive(Debug)]
pub struct Canvas {
    /// Vault path of the file.
    pub path: VaultPath,
    /// The cards and groups, in file order (groups are drawn first, behind the cards).
    pub nodes: Vec<Node>,
    /// The arrows, between nodes of `nodes`.
    pub edges: Vec<Edge>,
    /// Why nothing of the file could be read (it is not JSON, or no object with `nodes`):
    /// shown where the canvas would be, since an empty frame says nothing.
    pub unreadable: Option<String>,
}

/// A card or group of a canvas, placed in pixels.
#[derive(Debug)]
pub struct Node {
    /// `id`, which edges name.
    pub id: String,
    /// What it shows.
    pub kind: NodeKind,
    /// Left edge.
    pub x: i64,
    /// Top edge.
    pub y: i64,
    /// Width (at least 1).
    pub width: i64,
    /// Height (at least 1).
    pub height: i64,
    /// `color`, when it is one JSON Canvas allows.
    pub color: Option<Color>,
    /// Where the node is written in the file (its `"id"`), for diagnostics.
    span: Span,
}

/// What a node shows.
#[derive(Debug)]
pub enum NodeKind {
    /// `text`: markdown.
    Text(String),
    /// `file`: a file of the vault (a vault path), and a `#heading` or `#^block` of a note.
    File {
        /// The vault path, as written.
        path: String,
        /// `subpath` without its `#`.
        subpath: Option<String>,
    },
    /// `link`: a web page.
    Link(String),
    /// `group`: a frame around other nodes, with an optional label.
    Group(Option<String>),
}

/// A node's or edge's colour: one of the six presets (`"1"` red to `"6"` purple), or `#rrggbb`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Color {
    /// `"1"`..`"6"`.
    Preset(u8),
    /// A hex colour, validated (`#rgb` or `#rrggbb`).
    Hex(String),
}

/// An arrow between two nodes.
#[derive(Debug)]
pub struct Edge {
    /// Index in [`Canvas::nodes`] of the node it leaves.
    pub from: usize,
    /// Index of the node it reaches.
    pub to: usize,
    /// `fromSide`, when given.
    pub from_side: Option<Side>,
    /// `toSide`, when given.
    pub to_side: Option<Side>,
    /// `fromEnd: arrow` (default none).
    pub from_arrow: bool,
    /// `toEnd` is not `none` (default arrow).
    pub to_arrow: bool,
    /// `color`.
    pub color: Option<Color>,
    /// `label`.
    pub label: Option<String>,
}

/// A side of a node, where an edge leaves or reaches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// `top`.
    Top,
    /// `right`.
    Right,
    /// `bottom`.
    Bottom,
    /// `left`.
    Left,
}

impl Canvases {
    /// Parses the canvases among `sources` (the texts discovery read, one per `.canvas`
    /// attachment); what cannot be read is in `diagnostics`.
    pub fn parse(attachments: &[crate::discover::AttachmentFile], sources: &[OtherSource]) -> Self {
        let mut canvases = Canvases::default();
        for source in sources {
            let Ok(i) = attachments.binary_search_by(|a| a.path.cmp(&source.path)) else {
                continue;
            };
            let (canvas, diagnostics) = Canvas::parse(&source.path, &source.text);
            canvases.diagnostics.extend(diagnostics);
            canvases.files.push((AttachmentId(i as u32), canvas));
        }
        canvases.files.sort_by_key(|(id, _)| *id);
        canvases
    }

    /// The canvas of attachment `id`, if it is one.
    pub fn get(&self, id: AttachmentId) -> Option<&Canvas> {
        self.files
            .binary_search_by_key(&id, |(a, _)| *a)
            .ok()
            .map(|i| &self.files[i].1)
    }

    /// Whether the page of `note` embeds a canvas (`links` are its resolved links).
    pub fn shown_by(
        &self,
        note: &crate::vault::Note,
        links: &[crate::resolve::ResolvedLink],
    ) -> bool {
        crate::resolve::embeds_attachment(note, links, |a| self.get(a).is_some())
    }

    /// Whether the vault has no canvas.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Every attachment a canvas shows or links to: a file card's file, and what a text card's
    /// links reach (resolved by `index` as the page resolves them); with repeats.
    pub fn attachments_shown(
        &self,
        vault: &Vault,
        index: &crate::resolve::NameIndex,
        options: crate::resolve::ResolveOptions,
    ) -> Vec<AttachmentId> {
        let mut shown = Vec::new();
        for (_, canvas) in &self.files {
            for node in &canvas.nodes {
                match &node.kind {
                    NodeKind::File { path, .. } => {
                        if let Some(CardFile::Attachment(a)) = find_file(vault, path) {
                            shown.push(a);
                        }
                    }
                    NodeKind::Text(markdown) => shown.extend(
                        card_links(vault, index, options, canvas, markdown)
                            .into_iter()
                            .filter_map(|(target, _, _)| match target {
                                LinkTarget::Attachment(a) => Some(a),
                                _ => None,
                            }),
                    ),
                    _ => {}
                }
            }
        }
        shown
    }

    /// An `invalid-canvas` diagnostic for every file card naming a file `vault` does not have
    /// and every link of a text card that reaches nothing (resolved by `index` as the page
    /// resolves it), pointing into the canvas's text among the vault's other sources.
    pub fn missing_targets(
        &self,
        vault: &Vault,
        index: &crate::resolve::NameIndex,
        options: crate::resolve::ResolveOptions,
    ) -> Vec<Diagnostic> {
        let mut found = Vec::new();
        let texts = &vault.other_sources;
        for (_, canvas) in &self.files {
            let text = texts
                .binary_search_by(|t| t.path.cmp(&canvas.path))
                .map_or("", |i| texts[i].text.as_str());
            for node in &canvas.nodes {
                if let NodeKind::Text(markdown) = &node.kind {
                    found.extend(missing_links(
                        vault, index, options, canvas, node, markdown, text,
                    ));
                    continue;
                }
                let NodeKind::File { path, .. } = &node.kind else {
                    continue;
                };
                if find_file(vault, path).is_some() {
                    continue;
                }
                // The file's name where the node writes it, else the node.
                let span =
                    json_string_at(text, path, node.span.start as usize, true).unwrap_or(node.span);
                found.push(problem(
                    &canvas.path,
                    span,
                    format!(
                        "file card \"{}\" shows \"{path}\", which the vault does not have",
                        node.id
                    ),
                    "the card says \"not found\" in the page",
                ));
            }
        }
        found
    }
}

/// An `invalid-canvas` diagnostic for each link of text card `node` (its `markdown`) of
/// `canvas` that reaches nothing, at the link as the file `text` writes it.
fn missing_links(
    vault: &Vault,
    index: &crate::resolve::NameIndex,
    options: crate::resolve::ResolveOptions,
    canvas: &Canvas,
    node: &Node,
    markdown: &str,
    text: &str,
) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for (resolved, target, range) in card_links(vault, index, options, canvas, markdown) {
        if !matches!(resolved, LinkTarget::Missing { .. }) {
            continue;
        }
        // The link as the JSON writes it (escaped as a string's content), else the node.
        let written = markdown.get(range).unwrap_or_default();
        let span =
            json_string_at(text, written, node.span.start as usize, false).unwrap_or(node.span);
        found.push(problem(
            &canvas.path,
            span,
            format!(
                "card \"{}\" links to \"{target}\", which the vault does not have",
                node.id
            ),
            "the card shows the link's text, leading nowhere",
        ));
    }
    found
}

/// Where each vault link of a text card's `markdown` goes (resolved from the canvas's folder,
/// as the page resolves it), with its target as written and its range in `markdown`.
fn card_links(
    vault: &Vault,
    index: &crate::resolve::NameIndex,
    options: crate::resolve::ResolveOptions,
    canvas: &Canvas,
    markdown: &str,
) -> Vec<(LinkTarget, String, std::ops::Range<usize>)> {
    let parser = pulldown_cmark::Parser::new_ext(markdown, crate::parse::markdown_options())
        .into_offset_iter();
    let mut links = Vec::new();
    for (event, range) in parser {
        let (Event::Start(Tag::Link {
            link_type,
            dest_url,
            ..
        })
        | Event::Start(Tag::Image {
            link_type,
            dest_url,
            ..
        })) = event
        else {
            continue;
        };
        let CardLink::Vault(target, fragment) = card_link(&dest_url, link_type) else {
            continue;
        };
        let resolved = crate::resolve::resolve_from_file(
            vault,
            index,
            &canvas.path,
            &target,
            fragment.as_ref(),
            options,
        );
        links.push((resolved, target, range));
    }
    links
}

/// What a file card shows: a note, or an attachment, by its exact vault path.
enum CardFile {
    Note(NoteId),
    Attachment(AttachmentId),
}

/// The file at vault path `path` (notes and attachments are sorted by path).
fn find_file(vault: &Vault, path: &str) -> Option<CardFile> {
    let path = path.trim().trim_start_matches('/');
    match vault.note_at(path) {
        Some(id) => Some(CardFile::Note(id)),
        None => vault.attachment_at(path).map(CardFile::Attachment),
    }
}

/// The span of `value` as a JSON string writes it (escaped, and with its quotes when
/// `whole`) at or after byte `from` of `text`.
fn json_string_at(text: &str, value: &str, from: usize, whole: bool) -> Option<Span> {
    let quoted = serde_json::to_string(value).ok()?;
    let written = if whole {
        quoted.as_str()
    } else {
        &quoted[1..quoted.len() - 1]
    };
    if written.is_empty() {
        return None;
    }
    let at = from.min(text.len());
    let start = text.get(at..)?.find(written)? + at;
    Some(Span::new(start..start + written.len()))
}

/// An `invalid-canvas` diagnostic in the canvas at `path`.
fn problem(path: &VaultPath, span: Span, message: String, help: &str) -> Diagnostic {
    Diagnostic::new(Code::InvalidCanvas, path.clone(), span, message).with_help(help)
}

/// The help of a canvas file nothing can be read of.
const UNREADABLE_HELP: &str =
    "its embeds and its page show this message instead of the canvas until the file is fixed";

impl Canvas {
    /// The words a reader sees on the canvas, for the search index: its text cards as plain
    /// text, then its groups' and edges' labels, in file order.
    pub fn words(&self) -> String {
        let mut words = Vec::new();
        for node in &self.nodes {
            match &node.kind {
                NodeKind::Text(text) => words.push(crate::render::text::strip_markdown(text)),
                NodeKind::Group(Some(label)) => words.push(label.clone()),
                _ => {}
            }
        }
        words.extend(self.edges.iter().filter_map(|e| e.label.clone()));
        words.retain(|w| !w.trim().is_empty());
        words.join(" ")
    }

    /// Parses the text of the canvas at `path`; what it cannot use is reported and left out.
    pub fn parse(path: &VaultPath, text: &str) -> (Canvas, Vec<Diagnostic>) {
        let mut canvas = Canvas {
            path: path.clone(),
            nodes: Vec::new(),
            edges: Vec::new(),
            unreadable: None,
        };
        let mut diagnostics = Vec::new();
        let mut report = |span: Span, message: String| {
            diagnostics.push(problem(
                path,
                span,
                message,
                "the embed shows the rest of the canvas",
            ));
        };
        if text.trim().is_empty() {
            // A new canvas Obsidian has not written yet: nothing to show, nothing wrong.
            return (canvas, diagnostics);
        }
        let json: Json = match serde_json::from_str(text) {
            Ok(json) => json,
            Err(err) => {
                let why = format!("canvas is not valid JSON: {err}");
                let span = line_column_span(text, err.line(), err.column());
                diagnostics.push(problem(path, span, why.clone(), UNREADABLE_HELP));
                canvas.unreadable = Some(why);
                return (canvas, diagnostics);
            }
        };
        let Some(nodes) = json.get("nodes").and_then(Json::as_array) else {
            let why = "a canvas must be an object with a `nodes` list".to_string();
            let span = Span::new(0..text.len().min(1));
            diagnostics.push(problem(path, span, why.clone(), UNREADABLE_HELP));
            canvas.unreadable = Some(why);
            return (canvas, diagnostics);
        };
        // Where each node is written: the search for its id moves forward through the text.
        let mut cursor = 0usize;
        for (i, node) in nodes.iter().enumerate() {
            let id = node.get("id").and_then(Json::as_str);
            let span = id
                .and_then(|id| json_string_at(text, id, cursor, true))
                .unwrap_or(Span::new(0..text.len().min(1)));
            if id.is_some() {
                cursor = span.end as usize;
            }
            match Node::read(node, span) {
                Ok(node) => canvas.nodes.push(node),
                Err(why) => report(
                    span,
                    match id {
                        Some(id) => format!("node \"{id}\" is left out: {why}"),
                        None => format!("node {} is left out: {why}", i + 1),
                    },
                ),
            }
        }
        let index = |id: &str| canvas.nodes.iter().position(|n| n.id == id);
        let mut edges = Vec::new();
        for edge in json
            .get("edges")
            .and_then(Json::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let text_of = |key: &str| edge.get(key).and_then(Json::as_str);
            let (Some(from), Some(to)) = (
                text_of("fromNode").and_then(index),
                text_of("toNode").and_then(index),
            ) else {
                // An edge to a node left out (reported above) or to none: not drawn.
                continue;
            };
            edges.push(Edge {
                from,
                to,
                from_side: text_of("fromSide").and_then(Side::named),
                to_side: text_of("toSide").and_then(Side::named),
                from_arrow: text_of("fromEnd") == Some("arrow"),
                to_arrow: text_of("toEnd") != Some("none"),
                color: text_of("color").and_then(Color::read),
                label: text_of("label")
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_string),
            });
        }
        canvas.edges = edges;
        (canvas, diagnostics)
    }
}

/// The span of the character at 1-based `line` and `column` of `text` (the whole text's first
/// byte when that is outside it).
fn line_column_span(text: &str, line: usize, column: usize) -> Span {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let at = crate::source::floor_char_boundary(
        text,
        (start + column.saturating_sub(1)).min(text.len()),
    );
    let end = crate::source::ceil_char_boundary(text, (at + 1).min(text.len()));
    Span::new(at..end)
}

impl Node {
    /// A node of the JSON, or why it cannot be shown.
    fn read(node: &Json, span: Span) -> Result<Node, String> {
        let id = node
            .get("id")
            .and_then(Json::as_str)
            .ok_or("it has no `id`")?;
        let number = |key: &str| -> Result<f64, String> {
            node.get(key)
                .and_then(Json::as_f64)
                .filter(|n| n.is_finite())
                .map(|n| n.clamp(-MAX_COORDINATE, MAX_COORDINATE))
                .ok_or_else(|| format!("`{key}` is not a number"))
        };
        let text_of = |key: &str| node.get(key).and_then(Json::as_str);
        let kind = match text_of("type") {
            Some("text") => NodeKind::Text(text_of("text").unwrap_or_default().to_string()),
            Some("file") => NodeKind::File {
                path: text_of("file")
                    .ok_or("a file card has no `file`")?
                    .to_string(),
                subpath: text_of("subpath")
                    .map(|s| s.trim_start_matches('#').to_string())
                    .filter(|s| !s.is_empty()),
            },
            Some("link") => NodeKind::Link(text_of("url").unwrap_or_default().to_string()),
            Some("group") => NodeKind::Group(
                text_of("label")
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_string),
            ),
            Some(other) => return Err(format!("unknown type `{other}`")),
            None => return Err("it has no `type`".into()),
        };
        Ok(Node {
            id: id.to_string(),
            kind,
            x: number("x")?.round() as i64,
            y: number("y")?.round() as i64,
            width: (number("width")?.round() as i64).max(1),
            height: (number("height")?.round() as i64).max(1),
            color: text_of("color").and_then(Color::read),
            span,
        })
    }

    /// The point of `side` where edges meet the node.
    fn anchor(&self, side: Side) -> (f64, f64) {
        let (x, y, w, h) = (
            self.x as f64,
            self.y as f64,
            self.width as f64,
            self.height as f64,
        );
        match side {
            Side::Top => (x + w / 2.0, y),
            Side::Right => (x + w, y + h / 2.0),
            Side::Bottom => (x + w / 2.0, y + h),
            Side::Left => (x, y + h / 2.0),
        }
    }

    fn center(&self) -> (f64, f64) {
        (
            self.x as f64 + self.width as f64 / 2.0,
            self.y as f64 + self.height as f64 / 2.0,
        )
    }
}

impl Side {
    fn named(name: &str) -> Option<Side> {
        match name {
            "top" => Some(Side::Top),
            "right" => Some(Side::Right),
            "bottom" => Some(Side::Bottom),
            "left" => Some(Side::Left),
            _ => None,
        }
    }

    /// The way out of the node from this side.
    fn normal(self) -> (f64, f64) {
        match self {
            Side::Top => (0.0, -1.0),
            Side::Right => (1.0, 0.0),
            Side::Bottom => (0.0, 1.0),
            Side::Left => (-1.0, 0.0),
        }
    }
}

impl Color {
    /// A colour as JSON Canvas writes it; anything else is no colour (it goes into a style).
    fn read(text: &str) -> Option<Color> {
        let text = text.trim();
        if let Ok(n @ 1..=6) = text.parse::<u8>() {
            return Some(Color::Preset(n));
        }
        let hex = text.strip_prefix('#')?;
        (matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Color::Hex(text.to_ascii_lowercase()))
    }

    /// ` class="CLASS canvas-color-N"` for an element of a preset colour, ` class="CLASS"`
    /// and a ` style="--canvas-color:#hex;STYLE"` for a hex one; `style` (without quotes) is
    /// the element's own style, if any.
    fn push_attributes(color: Option<&Color>, out: &mut String, class: &str, style: &str) {
        out.push_str(" class=\"");
        out.push_str(class);
        if let Some(Color::Preset(n)) = color {
            let _ = write!(out, " canvas-color-{n}");
        }
        out.push('"');
        let hex = match color {
            Some(Color::Hex(hex)) => hex.as_str(),
            _ => "",
        };
        if !hex.is_empty() || !style.is_empty() {
            out.push_str(" style=\"");
            if !hex.is_empty() {
                let _ = write!(out, "--canvas-color:{hex}");
                if !style.is_empty() {
                    out.push(';');
                }
            }
            out.push_str(style);
            out.push('"');
        }
    }
}

/// The canvas of attachment `id` drawn on its own page `page` (as an embed draws it; empty
/// when it is no canvas).
pub fn page_html(
    comp: &crate::compile::Compilation,
    page: &crate::site::PageDir,
    id: AttachmentId,
) -> String {
    let ctx = BodyContext::new(comp, &comp.site, page, None);
    drawing_html(&ctx, id, &mut Vec::new(), false).unwrap_or_default()
}

/// The HTML of the canvas of attachment `id` embedded on the page of `ctx` (`stack` holds the
/// notes being embedded, so a card showing one of them is a cycle, not a loop); `None` when
/// the attachment is no canvas. Like a note's embed, it is titled with a link to the canvas's
/// own page, where it can be seen whole and zoomed.
pub fn view_html(
    ctx: &BodyContext,
    id: AttachmentId,
    stack: &mut Vec<(NoteId, usize)>,
) -> Option<String> {
    drawing_html(ctx, id, stack, true)
}

/// [`view_html`], with the title linking to the canvas's page when `titled` (its own page has
/// its heading instead).
fn drawing_html(
    ctx: &BodyContext,
    id: AttachmentId,
    stack: &mut Vec<(NoteId, usize)>,
    titled: bool,
) -> Option<String> {
    let canvas = ctx.comp.canvases.get(id)?;
    // The arrowhead is an SVG marker, which needs an id unique on the page.
    ctx.embeds.set(ctx.embeds.get() + 1);
    let marker = format!("canvas-arrow-{}", ctx.embeds.get());
    let mut out = String::new();
    out.push_str("<div class=\"embed embed-canvas\" data-src=\"");
    push_escaped(&mut out, canvas.path.as_str());
    out.push_str("\">");
    if let Some(page) = ctx.plan.canvas_page(id).filter(|_| titled) {
        out.push_str("<div class=\"embed-title\"><a class=\"internal canvas\" href=\"");
        let mut href = String::new();
        push_page_url(&mut href, &ctx.root, page);
        push_escaped(&mut out, &href);
        out.push_str("\">");
        push_escaped(&mut out, canvas.path.stem());
        out.push_str("</a></div>");
    }
    if let Some(why) = &canvas.unreadable {
        out.push_str("<div class=\"canvas-view embed-error\">");
        push_escaped(&mut out, why);
        out.push_str("</div></div>");
        return Some(out);
    }
    out.push_str("<div class=\"canvas-view\">");
    if canvas.nodes.is_empty() {
        out.push_str("</div></div>");
        return Some(out);
    }
    let min_x = canvas.nodes.iter().map(|n| n.x).min().unwrap_or(0) - PADDING;
    let min_y = canvas.nodes.iter().map(|n| n.y).min().unwrap_or(0) - PADDING;
    let max_x = canvas
        .nodes
        .iter()
        .map(|n| n.x + n.width)
        .max()
        .unwrap_or(0)
        + PADDING;
    let max_y = canvas
        .nodes
        .iter()
        .map(|n| n.y + n.height)
        .max()
        .unwrap_or(0)
        + PADDING;
    let (width, height) = (max_x - min_x, max_y - min_y);
    let _ = write!(
        out,
        "<div class=\"canvas-plane\" style=\"width:{width}px;height:{height}px\">"
    );
    let place = |n: &Node| {
        format!(
            "left:{}px;top:{}px;width:{}px;height:{}px",
            n.x - min_x,
            n.y - min_y,
            n.width,
            n.height
        )
    };
    // Groups behind everything, then the arrows, then the cards.
    for node in &canvas.nodes {
        let NodeKind::Group(label) = &node.kind else {
            continue;
        };
        out.push_str("<div");
        Color::push_attributes(node.color.as_ref(), &mut out, "canvas-group", &place(node));
        out.push('>');
        if let Some(label) = label {
            out.push_str("<span class=\"canvas-group-label\">");
            push_escaped(&mut out, label);
            out.push_str("</span>");
        }
        out.push_str("</div>");
    }
    edges_svg(&mut out, canvas, (min_x, min_y, width, height), &marker);
    for node in &canvas.nodes {
        let class = match &node.kind {
            NodeKind::Group(_) => continue,
            NodeKind::Text(_) => "canvas-node canvas-text",
            NodeKind::File { .. } => "canvas-node canvas-file",
            NodeKind::Link(_) => "canvas-node canvas-link",
        };
        out.push_str("<div");
        Color::push_attributes(node.color.as_ref(), &mut out, class, &place(node));
        out.push('>');
        match &node.kind {
            NodeKind::Text(text) => {
                out.push_str("<div class=\"canvas-card-body\">");
                markdown_html(ctx, &canvas.path, text, &mut out);
                out.push_str("</div>");
            }
            NodeKind::File { path, subpath } => {
                file_card(ctx, path, subpath.as_deref(), stack, &mut out)
            }
            NodeKind::Link(url) => {
                out.push_str("<div class=\"canvas-card-body\">");
                if is_web(url) {
                    out.push_str("<a class=\"external\" href=\"");
                    push_escaped(&mut out, url);
                    out.push_str("\">");
                    push_escaped(&mut out, url);
                    out.push_str("</a>");
                } else {
                    push_escaped(&mut out, url);
                }
                out.push_str("</div>");
            }
            NodeKind::Group(_) => {}
        }
        out.push_str("</div>");
    }
    out.push_str("</div></div></div>");
    Some(out)
}

/// Whether `url` is a web address a page may link to (never `javascript:` and the like).
fn is_web(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:")
}

/// The SVG of the canvas's edges over a plane of `(left, top, width, height)`.
fn edges_svg(out: &mut String, canvas: &Canvas, plane: (i64, i64, i64, i64), marker: &str) {
    if canvas.edges.is_empty() {
        return;
    }
    let (left, top, width, height) = plane;
    let _ = write!(
        out,
        "<svg class=\"canvas-edges\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" aria-hidden=\"true\">\
         <defs><marker id=\"{marker}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">\
         <path d=\"M0,0 L10,5 L0,10 z\" fill=\"context-stroke\"/></marker></defs>"
    );
    let shift = |(x, y): (f64, f64)| (x - left as f64, y - top as f64);
    for edge in &canvas.edges {
        let (from, to) = (&canvas.nodes[edge.from], &canvas.nodes[edge.to]);
        let (from_side, to_side) = sides(from, to, edge.from_side, edge.to_side);
        let (a, b) = (shift(from.anchor(from_side)), shift(to.anchor(to_side)));
        let distance = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let reach = (distance / 2.0).clamp(30.0, 250.0);
        let (na, nb) = (from_side.normal(), to_side.normal());
        let c1 = (a.0 + na.0 * reach, a.1 + na.1 * reach);
        let c2 = (b.0 + nb.0 * reach, b.1 + nb.1 * reach);
        out.push_str("<path");
        Color::push_attributes(edge.color.as_ref(), out, "canvas-edge", "");
        let _ = write!(
            out,
            " d=\"M{:.0},{:.0} C{:.0},{:.0} {:.0},{:.0} {:.0},{:.0}\"",
            a.0, a.1, c1.0, c1.1, c2.0, c2.1, b.0, b.1
        );
        if edge.to_arrow {
            let _ = write!(out, " marker-end=\"url(#{marker})\"");
        }
        if edge.from_arrow {
            let _ = write!(out, " marker-start=\"url(#{marker})\"");
        }
        out.push_str("/>");
        if let Some(label) = &edge.label {
            // The middle of the curve.
            let x = (a.0 + 3.0 * c1.0 + 3.0 * c2.0 + b.0) / 8.0;
            let y = (a.1 + 3.0 * c1.1 + 3.0 * c2.1 + b.1) / 8.0;
            let _ = write!(
                out,
                "<text class=\"canvas-edge-label\" x=\"{x:.0}\" y=\"{y:.0}\" text-anchor=\"middle\">"
            );
            push_escaped(out, label);
            out.push_str("</text>");
        }
    }
    out.push_str("</svg>");
}

/// The sides an edge leaves and reaches by: as written, else those facing each other.
fn sides(
    from: &Node,
    to: &Node,
    written_from: Option<Side>,
    written_to: Option<Side>,
) -> (Side, Side) {
    let (a, b) = (from.center(), to.center());
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let facing = if dx.abs() >= dy.abs() {
        if dx >= 0.0 {
            (Side::Right, Side::Left)
        } else {
            (Side::Left, Side::Right)
        }
    } else if dy >= 0.0 {
        (Side::Bottom, Side::Top)
    } else {
        (Side::Top, Side::Bottom)
    };
    (
        written_from.unwrap_or(facing.0),
        written_to.unwrap_or(facing.1),
    )
}

/// A file card: a note's title and content (the section or block `subpath` names), an image,
/// or a link to another file; "not found" for a path the vault does not have.
fn file_card(
    ctx: &BodyContext,
    path: &str,
    subpath: Option<&str>,
    stack: &mut Vec<(NoteId, usize)>,
    out: &mut String,
) {
    let vault = &ctx.comp.vault;
    match find_file(vault, path) {
        Some(CardFile::Note(id)) => {
            let note = vault.note(id);
            out.push_str("<div class=\"canvas-card-title\">");
            match ctx.plan.note_page(id) {
                Some(page) => {
                    out.push_str("<a class=\"internal\" href=\"");
                    let mut href = String::new();
                    push_page_url(&mut href, &ctx.root, page);
                    let fragment = subpath
                        .and_then(|s| crate::parse::links::parse_fragment(note.path.as_str(), s));
                    push_anchor(&mut href, note, fragment.as_ref());
                    push_escaped(out, &href);
                    out.push_str("\">");
                    push_escaped(out, &note.title);
                    out.push_str("</a>");
                }
                None => {
                    out.push_str("<span class=\"internal unpublished\">");
                    push_escaped(out, &note.title);
                    out.push_str("</span>");
                }
            }
            out.push_str("</div><div class=\"canvas-card-body\">");
            // A note that is not published shows only its title, as a link to it would.
            if ctx.plan.note_page(id).is_some() {
                out.push_str(&note_card_body(ctx, id, subpath, stack));
            }
            out.push_str("</div>");
        }
        Some(CardFile::Attachment(a)) => {
            let file = vault.attachment(a);
            let mut src = String::new();
            push_relative_url(&mut src, &ctx.root, ctx.plan.attachment_file(a));
            let ext = file.path.extension();
            if crate::render::html::IMAGE.contains(&ext.as_str()) {
                out.push_str("<img src=\"");
                push_escaped(out, &src);
                out.push_str("\" alt=\"");
                push_escaped(out, file.path.stem());
                out.push_str("\" loading=\"lazy\">");
            } else {
                out.push_str(
                    "<div class=\"canvas-card-body\"><a class=\"internal attachment\" href=\"",
                );
                push_escaped(out, &src);
                out.push_str("\">");
                push_escaped(out, file.path.file_name());
                out.push_str("</a></div>");
            }
        }
        None => {
            out.push_str("<div class=\"canvas-card-body embed-error\">not found: ");
            push_escaped(out, path);
            out.push_str("</div>");
        }
    }
}

/// A text card's markdown as HTML: links and images resolved as a note in the folder of
/// `canvas` (the canvas's path) would resolve them, raw HTML shown as text.
fn markdown_html(ctx: &BodyContext, canvas: &VaultPath, text: &str, out: &mut String) {
    let mut events: Vec<Event> = Vec::new();
    // Inside an image: its alt text is gathered instead of written.
    let mut image: Option<(String, String)> = None;
    for event in pulldown_cmark::Parser::new_ext(text, crate::parse::markdown_options()) {
        if let Some((_, alt)) = image.as_mut() {
            match event {
                Event::End(TagEnd::Image) => {
                    let (src, alt) = image.take().unwrap_or_default();
                    let mut html = String::from("<img src=\"");
                    push_escaped(&mut html, &src);
                    html.push_str("\" alt=\"");
                    push_escaped(&mut html, &alt);
                    html.push_str("\" loading=\"lazy\">");
                    events.push(Event::InlineHtml(html.into()));
                }
                Event::Text(t) | Event::Code(t) => alt.push_str(&t),
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                ..
            }) => {
                let mut html = String::from("<a");
                match link_href(ctx, canvas, &dest_url, link_type) {
                    Some((class, href)) => {
                        let _ = write!(html, " class=\"{class}\" href=\"");
                        push_escaped(&mut html, &href);
                        html.push('"');
                    }
                    None => html.push_str(" class=\"internal wanted\""),
                }
                html.push('>');
                events.push(Event::InlineHtml(html.into()));
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                ..
            }) => {
                let src = link_href(ctx, canvas, &dest_url, link_type)
                    .map(|(_, href)| href)
                    .unwrap_or_default();
                image = Some((src, String::new()));
            }
            Event::Html(html) | Event::InlineHtml(html) => events.push(Event::Text(html)),
            other => events.push(other),
        }
    }
    pulldown_cmark::html::push_html(out, events.into_iter());
}

/// `#anchor` of the heading or block `fragment` names in `note`, after a page's URL.
fn push_anchor(
    href: &mut String,
    note: &crate::vault::Note,
    fragment: Option<&crate::vault::Fragment>,
) {
    let target = crate::resolve::resolve_fragment(note, fragment);
    push_fragment_anchor(href, note, &target);
}

/// `#anchor` of a resolved heading or block of `note` (nothing for none).
fn push_fragment_anchor(
    href: &mut String,
    note: &crate::vault::Note,
    target: &crate::resolve::FragmentTarget,
) {
    match *target {
        crate::resolve::FragmentTarget::Heading(h) => {
            href.push('#');
            href.push_str(&note.headings[h].anchor);
        }
        crate::resolve::FragmentTarget::Block(b) => {
            href.push_str("#^");
            href.push_str(&note.blocks[b].id);
        }
        _ => {}
    }
}

/// Where a link or image destination of a text card leads.
enum CardLink {
    /// A web or mail address, as the href to write.
    Web(String),
    /// A file of the vault: the target (without `#`), and the fragment.
    Vault(String, Option<crate::vault::Fragment>),
    /// Nowhere a page may lead: an empty target, or a scheme a page must not follow.
    Nowhere,
}

/// What destination `dest` of a link of type `link_type` names.
fn card_link(dest: &str, link_type: LinkType) -> CardLink {
    if matches!(link_type, LinkType::Email) {
        return CardLink::Web(format!("mailto:{dest}"));
    }
    if dest.contains("://") || dest.starts_with("mailto:") {
        return match is_web(dest) {
            true => CardLink::Web(dest.to_string()),
            false => CardLink::Nowhere,
        };
    }
    let decoded;
    let dest = if matches!(link_type, LinkType::WikiLink { .. }) {
        dest
    } else {
        // A markdown destination is a URL: percent-encoded.
        decoded = percent_encoding::percent_decode_str(dest)
            .decode_utf8_lossy()
            .into_owned();
        decoded.as_str()
    };
    let (target, fragment) = match dest.split_once('#') {
        Some((t, f)) => (t.trim(), crate::parse::links::parse_fragment(t, f)),
        None => (dest.trim(), None),
    };
    // A markdown destination with another scheme (`javascript:`, `file:`) is not followed.
    let scheme = !matches!(link_type, LinkType::WikiLink { .. })
        && target.split_once(':').is_some_and(|(scheme, _)| {
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        });
    if target.is_empty() || scheme {
        return CardLink::Nowhere;
    }
    CardLink::Vault(target.to_string(), fragment)
}

/// The class and href of a link or image destination `dest` in a text card of the canvas at
/// `canvas`: a web address as it is, a file of the vault at its page or site file; `None` for
/// one the vault does not have (or a scheme a page must not follow).
fn link_href(
    ctx: &BodyContext,
    canvas: &VaultPath,
    dest: &str,
    link_type: LinkType,
) -> Option<(&'static str, String)> {
    let (target, fragment) = match card_link(dest, link_type) {
        CardLink::Web(href) => return Some(("external", href)),
        CardLink::Nowhere => return None,
        CardLink::Vault(target, fragment) => (target, fragment),
    };
    let comp = ctx.comp;
    let found = crate::resolve::resolve_from_file(
        &comp.vault,
        &comp.resolution.index,
        canvas,
        &target,
        fragment.as_ref(),
        comp.bases.resolve,
    );
    let mut href = String::new();
    match found {
        LinkTarget::Note { id, fragment } => {
            let page = ctx.plan.note_page(id)?;
            push_page_url(&mut href, &ctx.root, page);
            let note = comp.vault.note(id);
            push_fragment_anchor(&mut href, note, &fragment);
            Some(("internal", href))
        }
        LinkTarget::Attachment(a) => {
            let class = push_attachment_url(&mut href, &ctx.root, ctx.plan, a);
            Some((class, href))
        }
        LinkTarget::Missing { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Canvas, Vec<Diagnostic>) {
        Canvas::parse(&VaultPath::new("Board.canvas").unwrap(), text)
    }

    #[test]
    fn nodes_and_edges_are_read_and_what_cannot_be_shown_is_reported_where_written() {
        let text = r##"{
  "nodes": [
    {"id": "t", "type": "text", "text": "# Hi", "x": 0, "y": 0, "width": 250, "height": 60.4, "color": "2"},
    {"id": "f", "type": "file", "file": "Note.md", "subpath": "#Part", "x": 400, "y": -50, "width": 300, "height": 200, "color": "#A0B1C2"},
    {"id": "bad", "type": "text", "text": "no place", "x": "left", "y": 0, "width": 1, "height": 1},
    {"id": "w", "type": "widget", "x": 0, "y": 0, "width": 1, "height": 1},
    {"id": "g", "type": "group", "label": "Box", "x": -20, "y": -80, "width": 800, "height": 400, "color": "red"}
  ],
  "edges": [
    {"id": "e1", "fromNode": "t", "toNode": "f", "toEnd": "none", "fromEnd": "arrow", "label": "uses"},
    {"id": "e2", "fromNode": "t", "toNode": "bad"},
    {"id": "e3", "fromNode": "f", "fromSide": "bottom", "toNode": "t", "toSide": "left", "color": "6"}
  ]
}"##;
        let (canvas, diagnostics) = parse(text);
        let ids: Vec<&str> = canvas.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["t", "f", "g"]);
        assert_eq!(canvas.nodes[0].height, 60, "pixels are whole");
        assert_eq!(canvas.nodes[0].color, Some(Color::Preset(2)));
        assert_eq!(canvas.nodes[1].color, Some(Color::Hex("#a0b1c2".into())));
        assert_eq!(canvas.nodes[2].color, None, "`red` is no canvas colour");
        assert!(matches!(
            &canvas.nodes[1].kind,
            NodeKind::File { path, subpath: Some(s) } if path == "Note.md" && s == "Part"
        ));
        assert!(matches!(&canvas.nodes[2].kind, NodeKind::Group(Some(l)) if l == "Box"));
        // The edge to the node left out is not drawn.
        assert_eq!(canvas.edges.len(), 2);
        let e1 = &canvas.edges[0];
        assert!(e1.from_arrow && !e1.to_arrow);
        assert_eq!(e1.label.as_deref(), Some("uses"));
        let e3 = &canvas.edges[1];
        assert_eq!(
            (e3.from_side, e3.to_side),
            (Some(Side::Bottom), Some(Side::Left))
        );
        assert!(e3.to_arrow, "an arrow at the end unless `toEnd: none`");
        assert_eq!(e3.color, Some(Color::Preset(6)));
        let messages: Vec<(String, &str)> = diagnostics
            .iter()
            .map(|d| (d.message.clone(), &text[d.span.range()]))
            .collect();
        assert_eq!(
            messages,
            [
                (
                    "node \"bad\" is left out: `x` is not a number".to_string(),
                    "\"bad\""
                ),
                (
                    "node \"w\" is left out: unknown type `widget`".to_string(),
                    "\"w\""
                ),
            ]
        );
    }

    #[test]
    fn its_words_are_the_text_cards_as_plain_text_then_the_labels() {
        let text = r###"{
  "nodes": [
    {"id": "g", "type": "group", "label": "Frame", "x": 0, "y": 0, "width": 900, "height": 500},
    {"id": "t", "type": "text", "text": "## Plan\n\nRead **[[Paper|the paper]]** and `code`.", "x": 10, "y": 10, "width": 200, "height": 80},
    {"id": "e", "type": "text", "text": "  ", "x": 300, "y": 10, "width": 200, "height": 80},
    {"id": "f", "type": "file", "file": "Notes/Paper.md", "x": 600, "y": 10, "width": 200, "height": 80},
    {"id": "u", "type": "link", "url": "https://example.com", "x": 10, "y": 300, "width": 200, "height": 80}
  ],
  "edges": [
    {"id": "a", "fromNode": "t", "toNode": "f", "label": "cites"},
    {"id": "b", "fromNode": "t", "toNode": "u"}
  ]
}"###;
        let (canvas, diagnostics) = parse(text);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(canvas.words(), "Frame Plan Read the paper and code. cites");
    }

    #[test]
    fn a_file_that_is_not_a_canvas_is_one_diagnostic_at_its_place() {
        let text = "{\n  \"nodes\": [\n    {\"id\": \"a\",}\n  ]\n}";
        let (canvas, diagnostics) = parse(text);
        assert!(canvas.nodes.is_empty());
        assert_eq!(diagnostics.len(), 1);
        assert!(
            diagnostics[0]
                .message
                .starts_with("canvas is not valid JSON: trailing comma at line 3"),
            "{}",
            diagnostics[0].message
        );
        assert_eq!(
            &text[diagnostics[0].span.range()],
            "}",
            "at the closing brace after the comma"
        );
        let (_, diagnostics) = parse("[1, 2]");
        assert_eq!(
            diagnostics[0].message,
            "a canvas must be an object with a `nodes` list"
        );
        // An empty file is a canvas Obsidian has not filled yet.
        let (canvas, diagnostics) = parse(" \n");
        assert!(canvas.nodes.is_empty() && diagnostics.is_empty());
    }

    #[test]
    fn colours_are_presets_or_hex_and_never_anything_a_style_could_run() {
        assert_eq!(Color::read("3"), Some(Color::Preset(3)));
        assert_eq!(Color::read("7"), None);
        assert_eq!(Color::read("#fff"), Some(Color::Hex("#fff".into())));
        assert_eq!(Color::read("#12345g"), None);
        assert_eq!(Color::read("#fff;background:url(x)"), None);
        let attributes = |color: Option<Color>, style: &str| {
            let mut out = String::new();
            Color::push_attributes(color.as_ref(), &mut out, "c", style);
            out
        };
        assert_eq!(
            attributes(Some(Color::Hex("#abc".into())), ""),
            " class=\"c\" style=\"--canvas-color:#abc\""
        );
        assert_eq!(
            attributes(Some(Color::Hex("#abc".into())), "left:1px"),
            " class=\"c\" style=\"--canvas-color:#abc;left:1px\"",
            "one style attribute"
        );
        assert_eq!(
            attributes(Some(Color::Preset(2)), "left:1px"),
            " class=\"c canvas-color-2\" style=\"left:1px\""
        );
        assert_eq!(attributes(None, ""), " class=\"c\"");
    }

    #[test]
    fn edges_meet_the_sides_that_face_each_other_unless_told() {
        let node = |x: i64, y: i64| Node {
            id: String::new(),
            kind: NodeKind::Group(None),
            x,
            y,
            width: 100,
            height: 50,
            color: None,
            span: Span::default(),
        };
        let (a, right, below, left_above) =
            (node(0, 0), node(300, 20), node(10, 200), node(-400, -90));
        assert_eq!(sides(&a, &right, None, None), (Side::Right, Side::Left));
        assert_eq!(sides(&a, &below, None, None), (Side::Bottom, Side::Top));
        assert_eq!(
            sides(&a, &left_above, None, None),
            (Side::Left, Side::Right)
        );
        assert_eq!(
            sides(&a, &right, Some(Side::Top), None),
            (Side::Top, Side::Left)
        );
        assert_eq!(a.anchor(Side::Bottom), (50.0, 50.0));
    }
}
