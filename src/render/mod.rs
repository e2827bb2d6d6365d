//! Stage 6, render: every page of the site as bytes in memory, notes in parallel (rayon).
//! Templates see only the view structs of [`context`]; bodies come from [`html`].

pub mod context;
pub mod html;
pub mod text;
pub mod theme;

use std::collections::BTreeMap;

use minijinja::context as jinja;
use rayon::prelude::*;
use serde::Serialize;

use self::context::*;
use self::html::BodyContext;
use self::theme::Theme;
use crate::compile::Compilation;
use crate::error::Result;
use crate::graph::{EdgeKind, Node};
use crate::site::{relative_url, PageDir, SitePlan};
use crate::slug::slugify;
use crate::vault::{LinkKind, NoteId};

/// One file of the site: where it goes (relative to the output folder) and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputFile {
    /// `/`-separated path inside the output folder.
    pub path: String,
    /// Contents.
    pub bytes: Vec<u8>,
}

const GENERATOR: &str = concat!("vaultc ", env!("CARGO_PKG_VERSION"));

/// Characters of a note's text shown under each search result.
const EXCERPT_CHARS: usize = 160;

/// Most notes the graph view shows (the best-connected ones).
pub const GRAPH_VIEW_NOTES: usize = 5_000;

/// Renders every page, data file and theme asset of the site, handing each file to `sink` as
/// soon as it is ready (from several threads), so pages are never all held in memory.
pub fn render_site(
    comp: &Compilation,
    plan: &SitePlan,
    theme: &Theme,
    title: &str,
    sink: &(dyn Fn(OutputFile) -> Result<()> + Sync),
    timings: &mut crate::compile::Timings,
) -> Result<()> {
    let published = plan.notes.iter().filter(|p| p.is_some()).count();
    let info = SiteInfo { title, published };
    let site = |page: &PageDir| info.view(page);
    let page_file = |page: &PageDir, template: &str, ctx: minijinja::Value| -> Result<OutputFile> {
        Ok(OutputFile {
            path: page.file(),
            bytes: theme.render(template, ctx)?.into_bytes(),
        })
    };

    // Note pages, in parallel; each page's bytes depend only on the compilation, never on
    // which thread rendered it.
    comp.vault
        .notes
        .par_iter()
        .enumerate()
        .filter_map(|(i, _)| {
            let id = NoteId(i as u32);
            plan.note_page(id).map(|page| (id, page))
        })
        .try_for_each(|(id, page)| {
            let view = note_view(comp, plan, id, page);
            sink(page_file(
                page,
                "note.html",
                jinja! { site => site(page), page => PageView { kind: "note", title: view.title }, note => view },
            )?)
        })?;
    timings.mark("render notes");
    let mut files: Vec<OutputFile> = Vec::new();

    let root = PageDir::root();
    files.push(page_file(
        &root,
        "index.html",
        jinja! {
            site => site(&root),
            page => PageView { kind: "index", title },
            folders => folders(comp, plan, &root),
            stats => StatsView {
                notes: published,
                links: comp.vault.link_count(),
                wanted: comp.graph.wanted().count(),
                tags: plan.tags.len(),
                attachments: comp.vault.attachments.len(),
            },
        },
    )?);
    files.extend(tag_pages(comp, plan, theme, &info)?);
    let wanted_page = page_dir("wanted");
    files.push(page_file(
        &wanted_page,
        "wanted.html",
        jinja! { site => site(&wanted_page), page => PageView { kind: "wanted", title: "Wanted notes" }, wanted => wanted(comp, plan, &wanted_page) },
    )?);
    let graph_page = page_dir("graph");
    files.push(page_file(
        &graph_page,
        "graph.html",
        jinja! { site => site(&graph_page), page => PageView { kind: "graph", title: "Graph" } },
    )?);
    files.push(OutputFile {
        path: "404.html".into(),
        bytes: theme
            .render("404.html", jinja! { site => site(&root), page => PageView { kind: "404", title: "Not found" } })?
            .into_bytes(),
    });
    for (page, id, alias) in &plan.aliases {
        let target = plan
            .note_page(*id)
            .map(|p| relative_url(page, &p.file()))
            .unwrap_or_default();
        files.push(page_file(
            page,
            "redirect.html",
            jinja! { site => site(page), page => PageView { kind: "redirect", title: alias }, target_url => target, alias => alias },
        )?);
    }
    timings.mark("render lists");
    files.push(OutputFile {
        path: "graph-data.js".into(),
        bytes: graph_data(comp, plan).into_bytes(),
    });
    timings.mark("graph data");
    files.push(OutputFile {
        path: "search-index.js".into(),
        bytes: search_index(comp, plan).into_bytes(),
    });
    timings.mark("search index");
    for (name, bytes) in &theme.assets {
        files.push(OutputFile {
            path: format!("static/{name}"),
            bytes: bytes.clone(),
        });
    }
    files.into_par_iter().try_for_each(sink)
}

/// Site-wide facts every page's `site` value is made from.
struct SiteInfo<'a> {
    title: &'a str,
    published: usize,
}

impl SiteInfo<'_> {
    fn view(&self, page: &PageDir) -> SiteView<'_> {
        SiteView {
            title: self.title,
            root: page.root_prefix(),
            generator: GENERATOR,
            note_count: self.published,
        }
    }
}

/// The page folder of a fixed, reserved page (`wanted`, `tags`, `graph`).
fn page_dir(name: &str) -> PageDir {
    PageDir::reserved(name)
}

fn note_view<'a>(
    comp: &'a Compilation,
    plan: &SitePlan,
    id: NoteId,
    page: &PageDir,
) -> NoteView<'a> {
    let note = comp.vault.note(id);
    let ctx = BodyContext {
        comp,
        plan,
        page,
        page_note: Some(id),
        root: page.root_prefix(),
    };
    let html = html::note_body(&ctx, id);
    let url = |file: &str| {
        let mut url = String::with_capacity(ctx.root.len() + file.len());
        html::push_relative_url(&mut url, &ctx.root, file);
        url
    };
    let mut seen = std::collections::HashSet::new();
    let tags = note
        .tags
        .iter()
        .filter(|t| seen.insert(crate::source::fold_name(&t.name)))
        .map(|t| LinkView {
            name: t.name.clone(),
            url: plan
                .tag_page(&t.name)
                .map(|p| url(&p.file()))
                .unwrap_or_default(),
        })
        .collect();
    let mut backlinks: Vec<BacklinkView> = Vec::new();
    for b in comp.graph.backlinks(id) {
        let source = comp.vault.note(b.source);
        let Some(source_page) = plan.note_page(b.source) else {
            continue;
        };
        let context = text::link_context(source, b.link);
        match backlinks.last_mut() {
            Some(last) if last.path == source.path.as_str() => {
                if !last.contexts.contains(&context) {
                    last.contexts.push(context);
                }
            }
            _ => backlinks.push(BacklinkView {
                title: &source.title,
                url: url(&source_page.file()),
                path: source.path.as_str(),
                contexts: vec![context],
            }),
        }
    }
    NoteView {
        title: &note.title,
        path: note.path.as_str(),
        folder: note.folder(),
        html,
        tags,
        aliases: &note.front_matter.aliases,
        toc: note
            .headings
            .iter()
            .map(|h| TocEntry {
                level: h.level,
                text: &h.text,
                anchor: &h.anchor,
            })
            .collect(),
        description: note.front_matter.description.as_deref(),
        date: note.front_matter.date.as_deref(),
        properties: note
            .front_matter
            .extra
            .iter()
            .map(|(k, v)| PropertyView {
                key: k.clone(),
                value: text::display_value(v),
            })
            .collect(),
        backlinks,
        outlinks_count: note
            .links
            .iter()
            .filter(|l| l.kind != LinkKind::Embed)
            .count(),
    }
}

fn entry<'a>(
    comp: &'a Compilation,
    plan: &SitePlan,
    id: NoteId,
    from: &PageDir,
) -> Option<NoteEntry<'a>> {
    let note = comp.vault.note(id);
    let page = plan.note_page(id)?;
    let mut tags: Vec<&str> = note.tags.iter().map(|t| t.name.as_str()).collect();
    tags.dedup();
    Some(NoteEntry {
        title: &note.title,
        url: relative_url(from, &page.file()),
        path: note.path.as_str(),
        tags,
    })
}

fn folders<'a>(comp: &'a Compilation, plan: &SitePlan, from: &PageDir) -> Vec<FolderView<'a>> {
    let mut by_folder: BTreeMap<&str, Vec<NoteEntry>> = BTreeMap::new();
    for (id, note) in comp.vault.note_ids() {
        if let Some(e) = entry(comp, plan, id, from) {
            by_folder.entry(note.folder()).or_default().push(e);
        }
    }
    by_folder
        .into_iter()
        .map(|(name, notes)| FolderView {
            name,
            depth: if name.is_empty() {
                0
            } else {
                name.split('/').count()
            },
            notes,
        })
        .collect()
}

fn tag_pages(
    comp: &Compilation,
    plan: &SitePlan,
    theme: &Theme,
    info: &SiteInfo,
) -> Result<Vec<OutputFile>> {
    let site = |page: &PageDir| info.view(page);
    let index = page_dir("tags");
    let entries: Vec<TagEntry> = plan
        .tags
        .iter()
        .map(|(node, name, page)| TagEntry {
            name,
            url: relative_url(&index, &page.file()),
            count: comp.graph.tagged(*node).len(),
        })
        .collect();
    let mut out = vec![OutputFile {
        path: index.file(),
        bytes: theme
            .render("tags.html", jinja! { site => site(&index), page => PageView { kind: "tags", title: "Tags" }, tags => entries })?
            .into_bytes(),
    }];
    let children_of = plan.child_tags();
    let pages: Vec<Result<OutputFile>> = plan
        .tags
        .par_iter()
        .map(|(node, name, page)| {
            let notes: Vec<NoteEntry> =
                comp.graph.tagged(*node).into_iter().filter_map(|id| entry(comp, plan, id, page)).collect();
            let children: Vec<LinkView> = children_of
                .get(&crate::source::fold_name(name))
                .into_iter()
                .flatten()
                .map(|&i| {
                    let (_, n, p) = &plan.tags[i];
                    LinkView { name: n.clone(), url: relative_url(page, &p.file()) }
                })
                .collect();
            let title = format!("#{name}");
            Ok(OutputFile {
                path: page.file(),
                bytes: theme
                    .render(
                        "tag.html",
                        jinja! { site => site(page), page => PageView { kind: "tag", title: &title }, tag => TagView { name, notes, children } },
                    )?
                    .into_bytes(),
            })
        })
        .collect();
    for p in pages {
        out.push(p?);
    }
    Ok(out)
}

fn wanted<'a>(comp: &'a Compilation, plan: &SitePlan, from: &PageDir) -> Vec<WantedView<'a>> {
    let mut out: Vec<WantedView> = comp
        .graph
        .wanted()
        .map(|(node, name)| WantedView {
            name,
            anchor: slugify(name),
            referrers: comp
                .graph
                .incoming(node)
                .into_iter()
                .map(|b| {
                    let source = comp.vault.note(b.source);
                    let link = &source.links[b.link];
                    ReferrerView {
                        title: &source.title,
                        url: plan
                            .note_page(b.source)
                            .map(|p| relative_url(from, &p.file()))
                            .unwrap_or_default(),
                        path: source.path.as_str(),
                        line: source.lines.line(link.span.start),
                    }
                })
                .collect(),
        })
        .collect();
    out.sort_by(|a, b| {
        crate::source::fold_name(a.name)
            .cmp(&crate::source::fold_name(b.name))
            .then(a.name.cmp(b.name))
    });
    out
}

/// `graph-data.js`: the concept graph for the graph view (published notes only).
fn graph_data(comp: &Compilation, plan: &SitePlan) -> String {
    #[derive(Serialize)]
    struct GNode<'a> {
        id: usize,
        kind: &'static str,
        title: &'a str,
        url: Option<String>,
    }
    #[derive(Serialize)]
    struct GEdge {
        source: usize,
        target: usize,
        kind: EdgeKind,
    }
    let root = PageDir::root();
    // A graph view of more than a few thousand notes is a hairball: big vaults show their
    // best-connected notes (ties by path order).
    let degree = |id: NoteId| {
        comp.graph
            .graph
            .neighbors_undirected(comp.graph.note_node(id))
            .count()
    };
    let mut shown: Vec<NoteId> = (0..comp.vault.notes.len() as u32)
        .map(NoteId)
        .filter(|&id| plan.note_page(id).is_some())
        .collect();
    if shown.len() > GRAPH_VIEW_NOTES {
        shown.sort_by_cached_key(|&id| (std::cmp::Reverse(degree(id)), id));
        shown.truncate(GRAPH_VIEW_NOTES);
    }
    let mut keep = vec![false; comp.vault.notes.len()];
    for id in &shown {
        keep[id.0 as usize] = true;
    }
    let mut ids = vec![usize::MAX; comp.graph.graph.node_count()];
    let mut nodes = Vec::new();
    for idx in comp.graph.graph.node_indices() {
        let near_kept = || {
            comp.graph
                .graph
                .neighbors_undirected(idx)
                .any(|n| matches!(comp.graph.graph[n], Node::Note(id) if keep[id.0 as usize]))
        };
        let (kind, title, url) = match &comp.graph.graph[idx] {
            Node::Note(id) => match plan.note_page(*id).filter(|_| keep[id.0 as usize]) {
                Some(p) => (
                    "note",
                    comp.vault.note(*id).title.as_str(),
                    Some(relative_url(&root, &p.file())),
                ),
                None => continue,
            },
            _ if !near_kept() => continue,
            Node::Attachment(a) => {
                let path = comp.vault.attachment(*a).path.as_str();
                ("attachment", path, Some(relative_url(&root, path)))
            }
            Node::Wanted(name) => (
                "wanted",
                name.as_str(),
                Some(format!("wanted/index.html#{}", slugify(name))),
            ),
            Node::Tag(name) => ("tag", name.as_str(), plan.tag_page(name).map(|p| p.file())),
        };
        ids[idx.index()] = nodes.len();
        nodes.push(GNode {
            id: nodes.len(),
            kind,
            title,
            url,
        });
    }
    let edges: Vec<GEdge> = comp
        .graph
        .edges()
        .filter(|(_, s, t, _)| ids[s.index()] != usize::MAX && ids[t.index()] != usize::MAX)
        .map(|(_, s, t, e)| GEdge {
            source: ids[s.index()],
            target: ids[t.index()],
            kind: e.kind,
        })
        .collect();
    #[derive(Serialize)]
    struct Data<'a> {
        nodes: Vec<GNode<'a>>,
        edges: Vec<GEdge>,
    }
    let json = serde_json::to_string(&Data { nodes, edges }).expect("plain data");
    format!("window.VAULTC_GRAPH = {json};\n")
}

/// `search-index.js`: an elasticlunr index (title, body, tags) and excerpts per page.
fn search_index(comp: &Compilation, plan: &SitePlan) -> String {
    struct Doc<'a> {
        url: String,
        excerpt: String,
        title: &'a str,
        body: String,
        tags: String,
        path: &'a str,
        terms: [text::FieldTerms; 3],
    }
    let per_note = text::search_body_chars(plan.notes.iter().filter(|p| p.is_some()).count());
    // Everything per note, tokenizing and stemming included, in parallel; only writing the
    // index is serial.
    let docs: Vec<Doc> = comp
        .vault
        .notes
        .par_iter()
        .enumerate()
        .map_init(text::Analyzer::default, |analyzer, (i, note)| {
            let page = plan.note_page(NoteId(i as u32))?;
            let tags: Vec<&str> = note.tags.iter().map(|t| t.name.as_str()).collect();
            // One plain-text pass serves both the indexed body and the shown excerpt.
            let plain = text::plain_text(note, per_note.max(EXCERPT_CHARS));
            let excerpt: String = plain.chars().take(EXCERPT_CHARS).collect();
            // Headings first, then the text; together within the note's share.
            let mut body = note
                .headings
                .iter()
                .map(|h| h.text.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            body.push(' ');
            body.push_str(&plain);
            let body: String = body.chars().take(per_note).collect();
            let tags = tags.join(" ");
            let terms = [
                analyzer.terms(&note.title),
                analyzer.terms(&body),
                analyzer.terms(&tags),
            ];
            Some(Doc {
                excerpt,
                url: page.file(),
                title: &note.title,
                body,
                tags,
                path: note.path.as_str(),
                terms,
            })
        })
        .flatten()
        .collect();
    // Documents are referred to by short numbers (elasticlunr repeats the ref for every term
    // of a document); VAULTC_SEARCH_DOCS maps each number to its page.
    let index_docs: Vec<text::IndexDoc> = docs
        .iter()
        .map(|d| text::IndexDoc {
            fields: [d.title, d.body.as_str(), d.tags.as_str()],
            terms: &d.terms,
        })
        .collect();
    let size: usize = docs
        .iter()
        .map(|d| d.body.len() + d.excerpt.len() + d.url.len() + d.path.len() + 300)
        .sum();
    let mut out = String::with_capacity(size * 3);
    out.push_str("window.VAULTC_SEARCH = ");
    text::elasticlunr_json(&mut out, &index_docs);
    out.push_str(";\nwindow.VAULTC_SEARCH_DOCS = {");
    for (n, doc) in docs.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(&n.to_string());
        out.push_str("\":{\"title\":");
        text::push_json_str(&mut out, doc.title);
        out.push_str(",\"path\":");
        text::push_json_str(&mut out, doc.path);
        out.push_str(",\"url\":");
        text::push_json_str(&mut out, &doc.url);
        out.push_str(",\"excerpt\":");
        text::push_json_str(&mut out, &doc.excerpt);
        out.push('}');
    }
    out.push_str("};\n");
    out
}
