//! Stage 6, render: every page of the site as bytes in memory, notes in parallel (rayon).
//! Templates see only the view structs of [`context`]; bodies come from [`html`].

pub mod context;
mod dates;
mod default_page;
pub mod html;
pub mod inputs;
pub mod search_terms;
pub mod strings;
pub mod text;
pub mod theme;
mod view_hash;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use self::context::*;
use self::html::BodyContext;
use self::inputs::SiteInputs;
use self::theme::Theme;
use crate::compile::Compilation;
use crate::error::Result;
use crate::graph::{EdgeKind, Node};
use crate::site::{search_shards, PageDir, SitePlan, SITEMAP_URLS};
use crate::slug::slugify;
use crate::vault::{AttachmentId, LinkKind, NoteId};

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

/// Largest page buffer a rendering thread keeps for its next page, in bytes.
const MAX_KEPT_BUFFER: usize = 4 << 20;

/// What the site says about itself on every page: its title, language and address, and the
/// vault's own stylesheet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteMeta {
    /// The site's title: `[site] title` of `vaultc.toml`, else the vault folder's name.
    pub title: String,
    /// The `lang` of every page: `[site] language`, else `en`.
    pub language: String,
    /// The words of the pages: the language's, changed by `[site.strings]`.
    pub strings: strings::UiStrings,
    /// The vault's own stylesheet, `publish.css` at its root (as Obsidian Publish reads it),
    /// as the encoded site path it is copied to: every page links it after the theme's.
    pub stylesheet: Option<String>,
    /// Where the site is published (`[site] url`, ending in `/`): pages name their address
    /// (`<link rel="canonical">`, Open Graph) and the build writes `sitemap.xml` and
    /// `feed.xml`.
    pub url: Option<String>,
}

impl SiteMeta {
    /// The language of a site whose configuration names none.
    pub const DEFAULT_LANGUAGE: &'static str = "en";

    /// The site's title and language for the vault at `root` (absolute) configured by
    /// `site`.
    pub fn new(root: &std::path::Path, site: &crate::config::SiteConfig) -> SiteMeta {
        let title = site.title.clone().unwrap_or_else(|| {
            root.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "vault".into())
        });
        let language = site
            .language
            .clone()
            .unwrap_or_else(|| SiteMeta::DEFAULT_LANGUAGE.into());
        let strings = strings::UiStrings::new(
            &language,
            site.strings.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        SiteMeta {
            title,
            language,
            strings,
            stylesheet: None,
            url: site.url.clone(),
        }
    }

    /// The address of the page in folder `page` under the site's `url`.
    fn address(&self, page: &PageDir) -> Option<String> {
        let url = self.url.as_deref()?;
        let mut address = String::with_capacity(url.len() + page.as_str().len() + 1);
        address.push_str(url);
        if !page.as_str().is_empty() {
            address.push_str(&crate::site::encode_path(page.as_str()));
            address.push('/');
        }
        Some(address)
    }

    /// The vault's root file that styles a published site, as Obsidian Publish names it.
    pub const STYLESHEET: &'static str = "publish.css";

    /// This meta with the stylesheet of `comp`'s vault: its `publish.css`, wherever the site
    /// plan copies it (a numbered name when the site makes a file of that name itself).
    pub fn with_stylesheet(mut self, comp: &Compilation) -> SiteMeta {
        self.stylesheet = comp
            .vault
            .attachment_at(SiteMeta::STYLESHEET)
            .map(|id| crate::site::encode_path(comp.site.attachment_file(id)));
        self
    }

    /// The `site` value of the page in folder `page`.
    fn view(&self, page: &PageDir) -> SiteView<'_> {
        SiteView {
            title: &self.title,
            language: &self.language,
            strings: &self.strings,
            root: page.root_prefix(),
            generator: GENERATOR,
            stylesheet: self.stylesheet.as_deref(),
            canonical: self.address(page),
        }
    }
}

/// Most notes the graph view shows (the best-connected ones).
pub const GRAPH_VIEW_NOTES: usize = 5_000;

/// Where rendered files go. The write stage implements it; tests can collect into memory.
pub trait Sink: Sync {
    /// Whether the previous site holds `path` rendered from the same `inputs` (see
    /// [`inputs`]); when it does, the sink keeps that file and the page is not rendered.
    fn keep(&self, path: &str, inputs: u64) -> Result<bool>;
    /// Takes one rendered file (its `/`-separated path inside the output folder and its
    /// bytes), with its input fingerprint when it has one. The bytes are borrowed: the
    /// renderer reuses its page buffers, so memory it has touched stays in use.
    fn write(&self, path: &str, bytes: &[u8], inputs: Option<u64>) -> Result<()>;
}

/// Pages rendered and pages kept by [`render_site`] or [`render_selected`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RenderStats {
    /// Pages whose template ran.
    pub rendered: usize,
    /// Pages the sink kept from the previous site because their inputs had not changed.
    pub kept: usize,
}

/// Renders every page, data file and theme asset of the site, handing each file to `sink` as
/// soon as it is ready (from several threads), so pages are never all held in memory. Pages
/// whose input fingerprint the sink already has are not rendered at all.
///
/// `inputs` are the fingerprints of `comp`'s notes ([`SiteInputs::new`] with the same theme and
/// site title and language); a build session keeps them for its next rebuild.
pub fn render_site(
    comp: &Compilation,
    theme: &Theme,
    meta: &SiteMeta,
    inputs: &SiteInputs,
    fragments: &Fragments,
    sink: &dyn Sink,
    timings: &mut crate::compile::Timings,
) -> Result<RenderStats> {
    let pages = Pages::new(inputs, fragments, theme, sink);
    let timed = |f: &dyn Fn() -> Result<()>| -> Result<std::time::Duration> {
        let started = std::time::Instant::now();
        f().map(|()| started.elapsed())
    };
    // The note pages, and beside them everything else (list pages, `graph-data.js`, the search
    // index): an idle worker takes the second half and then helps with whatever is left of
    // either, so no part runs alone at the end. Every file has its own path, so write order
    // does not matter (the manifest is sorted).
    let (notes_took, others_took) = rayon::join(
        || timed(&|| note_pages(comp, meta, &pages)),
        || {
            timed(&|| {
                list_pages(comp, meta, &pages)?;
                data_files(comp, &pages)?;
                sitemap_files(comp, meta, &pages)?;
                feed_file(comp, meta, &pages)
            })
        },
    );
    let (notes_took, others_took) = (notes_took?, others_took?);
    timings.mark("render");
    timings.stages.push(("note pages (in render)", notes_took));
    timings.stages.push((
        "lists, graph data, search (in render, beside note pages)",
        others_took,
    ));
    let diagrams = has_diagrams(comp);
    theme
        .assets
        .par_iter()
        .filter(|(name, _)| diagrams || name != DIAGRAM_ASSET)
        .try_for_each(|(name, bytes)| sink.write(&format!("static/{name}"), bytes, None))?;
    Ok(RenderStats {
        rendered: pages.rendered.into_inner(),
        kept: pages.kept.into_inner(),
    })
}

/// Every note page, in parallel; each page's bytes depend only on the compilation, never on
/// which thread rendered it.
fn note_pages(comp: &Compilation, meta: &SiteMeta, pages: &Pages) -> Result<()> {
    let plan = &comp.site;
    comp.vault
        .notes
        .par_iter()
        .enumerate()
        .filter_map(|(i, _)| {
            let id = NoteId(i as u32);
            plan.note_page(id).map(|page| (id, page))
        })
        .try_for_each(|(id, page)| note_page(comp, meta, pages, id, page))
}

/// The page of note `id` in folder `page`: kept when its fingerprint is unchanged, else
/// rendered. The one way both [`render_site`] and [`render_selected`] make a note page.
fn note_page(
    comp: &Compilation,
    meta: &SiteMeta,
    pages: &Pages,
    id: NoteId,
    page: &PageDir,
) -> Result<()> {
    let path = page.file();
    let fp = pages.inputs.note_page(comp, &comp.site, id, &path);
    pages.page(path, fp, |out| {
        note_page_into(out, comp, pages.theme, meta, id, page)
    })
}

/// The index page: every published note by folder, and the vault's counts. `keys` are the
/// notes' list entries (`SiteInputs::list_keys`).
fn index_page(
    comp: &Compilation,
    meta: &SiteMeta,
    pages: &Pages,
    keys: &[Option<u64>],
) -> Result<()> {
    let plan = &comp.site;
    let title = meta.title.as_str();
    let site = |page: &PageDir| meta.view(page);
    let root = PageDir::root();
    let published = plan.published();
    #[derive(Serialize)]
    struct IndexBody<F> {
        folders: Vec<F>,
        stats: StatsView,
    }
    /// A folder of the index with each note as its `list_entry` fingerprint (see
    /// `inputs::list_entry`), and its canvases as they show.
    #[derive(Serialize)]
    struct FolderKey<'a> {
        name: &'a str,
        depth: usize,
        notes: Vec<u64>,
        canvases: Vec<context::CanvasEntry<'a>>,
    }
    // One shape for the key and the view (a closure would fix the type of `folders`).
    macro_rules! context {
        ($folders:expr) => {
            PageContext {
                site: site(&root),
                page: PageView {
                    kind: "index",
                    title,
                },
                body: IndexBody {
                    folders: $folders,
                    stats: StatsView {
                        notes: published,
                        links: comp.vault.link_count(),
                        wanted: comp.graph.wanted().count(),
                        tags: plan.tags.len(),
                        attachments: comp.vault.attachments.len(),
                    },
                },
            }
        };
    }
    let key = context!(by_folder(comp, |id| keys[id.0 as usize])
        .into_iter()
        .map(|folder| FolderKey {
            name: folder.name,
            depth: folder.depth,
            notes: folder.notes,
            canvases: canvas_entries(comp, &folder.canvases, ""),
        })
        .collect::<Vec<_>>());
    let path = root.file();
    let fp = pages.inputs.view_page(&path, "index.html", &key);
    pages.page(path, fp, |out| {
        if pages.theme.has_default("index.html") {
            // Written as its entries are made: one page lists every note of the vault (about
            // 400 bytes a note, with its tags), into room made once.
            out.reserve(512 * published + 8192);
            let stats = &key.body.stats;
            let folders = by_folder(comp, |id| plan.note_page(id).map(|_| id));
            // A folder's section shows its name, depth and notes' entries: its key says all.
            let keys: Vec<u64> = key
                .body
                .folders
                .iter()
                .map(|folder| {
                    let mut h = xxhash_rust::xxh3::Xxh3::new();
                    view_hash::hash(&mut h, folder);
                    std::hash::Hasher::finish(&h)
                })
                .collect();
            let mut kept = pages
                .fragments
                .index_sections
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let mut sections = default_page::IndexSections {
                keep: pages.fragments.keep,
                keys: &keys,
                kept: std::mem::take(&mut *kept),
                made: Default::default(),
            };
            let canvases: Vec<Vec<CanvasEntry>> = key
                .body
                .folders
                .iter()
                .map(|folder| folder.canvases.clone())
                .collect();
            default_page::index_page(
                out,
                &site(&root),
                stats,
                &folders,
                &canvases,
                |id| entry(comp, plan, id, ""),
                &mut sections,
            );
            *kept = sections.made;
            return Ok(());
        }
        pages
            .theme
            .render_view_into("index.html", &context!(folders(comp, plan, &root)), out)
    })
}

/// The index, tag, wanted, graph, 404 and alias redirect pages.
fn list_pages(comp: &Compilation, meta: &SiteMeta, pages: &Pages) -> Result<()> {
    let plan = &comp.site;
    let site = |page: &PageDir| meta.view(page);
    let root = PageDir::root();
    let keys = pages.inputs.list_keys();
    // The index, the tag pages and the wanted page are independent: build them side by side.
    let (index_done, (tags_done, wanted_done)) = rayon::join(
        || index_page(comp, meta, pages, keys),
        || {
            rayon::join(
                || tag_pages(comp, plan, meta, pages, keys, None),
                || wanted_page(comp, meta, pages),
            )
        },
    );
    index_done?;
    tags_done?;
    wanted_done?;
    canvas_pages(comp, meta, pages)?;
    let graph_page = page_dir("graph");
    pages.view(
        &graph_page,
        "graph.html",
        PageContext {
            site: site(&graph_page),
            page: PageView {
                kind: "graph",
                title: &meta.strings.graph_title,
            },
            body: (),
        },
    )?;
    pages.view_at(
        "404.html".into(),
        "404.html",
        PageContext {
            site: site(&root),
            page: PageView {
                kind: "404",
                title: &meta.strings.not_found_title,
            },
            body: (),
        },
    )?;
    #[derive(Serialize)]
    struct RedirectBody<'a> {
        target_url: String,
        alias: &'a str,
    }
    plan.aliases.par_iter().try_for_each(|(page, id, alias)| {
        let target = plan
            .note_page(*id)
            .map(|p| html::page_url(&page.root_prefix(), p))
            .unwrap_or_default();
        pages.view(
            page,
            "redirect.html",
            PageContext {
                site: site(page),
                page: PageView {
                    kind: "redirect",
                    title: alias,
                },
                body: RedirectBody {
                    target_url: target,
                    alias,
                },
            },
        )
    })?;
    Ok(())
}

/// The page of every canvas: its cards and edges at their size, as `![[x.canvas]]` shows them.
/// The view is made for every build (a vault has few canvases) and its hash decides whether
/// the page is written again.
fn canvas_pages(comp: &Compilation, meta: &SiteMeta, pages: &Pages) -> Result<()> {
    #[derive(Serialize)]
    struct CanvasBody<'a> {
        canvas: CanvasView<'a>,
    }
    let plan = &comp.site;
    plan.canvases.par_iter().try_for_each(|(a, page)| {
        let file = &comp.vault.attachment(*a).path;
        let (path, title) = (file.as_str(), file.stem());
        let root = page.root_prefix();
        let mut file_url = String::new();
        html::push_relative_url(&mut file_url, &root, plan.attachment_file(*a));
        pages.view(
            page,
            "canvas.html",
            PageContext {
                site: meta.view(page),
                page: PageView {
                    kind: "canvas",
                    title,
                },
                body: CanvasBody {
                    canvas: CanvasView {
                        title,
                        path,
                        file_url,
                        html: crate::canvas::page_html(comp, page, *a),
                    },
                },
            },
        )
    })
}

/// The wanted page: every missing link target with the notes that link to it.
fn wanted_page(comp: &Compilation, meta: &SiteMeta, pages: &Pages) -> Result<()> {
    #[derive(Serialize)]
    struct WantedBody<'a> {
        wanted: Vec<WantedView<'a>>,
    }
    let page = page_dir("wanted");
    pages.view(
        &page,
        "wanted.html",
        PageContext {
            site: meta.view(&page),
            page: PageView {
                kind: "wanted",
                title: &meta.strings.wanted_title,
            },
            body: WantedBody {
                wanted: wanted(comp, &comp.site, &page),
            },
        },
    )
}

/// Which search shard note `id` is in, among `shards`: a hash of its path, so an edit
/// re-indexes one shard.
fn shard_of(comp: &Compilation, id: NoteId, shards: usize) -> usize {
    shard_of_path(comp.vault.note(id).path.as_str(), shards)
}

/// Which search shard the note or canvas at vault path `path` is in, among `shards`.
fn shard_of_path(path: &str, shards: usize) -> usize {
    (xxhash_rust::xxh3::xxh3_64(path.as_bytes()) % shards as u64) as usize
}

/// What one search shard holds: published notes, and canvases (which have pages too).
#[derive(Clone, Debug, Default)]
struct Shard {
    /// In note order.
    notes: Vec<NoteId>,
    /// In attachment order.
    canvases: Vec<crate::vault::AttachmentId>,
}

/// The members of each search shard (as many shards as [`search_shards`] gives for the site):
/// a note or canvas goes to the shard of its path's hash.
fn shard_members(comp: &Compilation) -> Vec<Shard> {
    let shards = search_shards(comp.site.published());
    let mut members: Vec<Shard> = vec![Shard::default(); shards];
    for (i, page) in comp.site.notes.iter().enumerate() {
        if page.is_some() {
            let id = NoteId(i as u32);
            members[shard_of(comp, id, shards)].notes.push(id);
        }
    }
    for (a, _) in &comp.site.canvases {
        let path = comp.vault.attachment(*a).path.as_str();
        members[shard_of_path(path, shards)].canvases.push(*a);
    }
    members
}

/// Search shard `k` of `shards`, holding `shard`'s notes and canvases.
fn search_shard_page(
    comp: &Compilation,
    pages: &Pages,
    k: usize,
    shards: usize,
    shard: &Shard,
) -> Result<()> {
    let plan = &comp.site;
    let path = format!("search/{k}.js");
    let per_note = text::search_body_chars(shards, shard.notes.len() + shard.canvases.len());
    let canvases: Vec<CanvasDoc> = shard
        .canvases
        .iter()
        .filter_map(|&a| canvas_doc(comp, a, per_note))
        .collect();
    let canvas_hashes: Vec<u64> = canvases.iter().map(CanvasDoc::hash).collect();
    let fp = pages
        .inputs
        .search_shard(&path, &shard.notes, per_note, &canvas_hashes);
    pages.page(path, fp, |out| {
        out.extend_from_slice(
            search_shard(comp, plan, &shard.notes, &canvases, per_note).as_bytes(),
        );
        Ok(())
    })
}

/// What the search index holds of a canvas: its page, name, path and words.
struct CanvasDoc<'a> {
    url: String,
    title: &'a str,
    path: &'a str,
    words: String,
}

impl CanvasDoc<'_> {
    /// A hash of everything the shard shows of it.
    fn hash(&self) -> u64 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        for part in [self.url.as_str(), self.title, self.path, &self.words] {
            h.update(part.as_bytes());
            h.update(&[0xff]);
        }
        h.digest()
    }
}

/// The search document of canvas `a` (its words cut to `chars`), when it has a page.
fn canvas_doc(
    comp: &Compilation,
    a: crate::vault::AttachmentId,
    chars: usize,
) -> Option<CanvasDoc<'_>> {
    let page = comp.site.canvas_page(a)?;
    let canvas = comp.canvases.get(a)?;
    let (path, title) = (canvas.path.as_str(), canvas.path.stem());
    let words: String = canvas.words().chars().take(chars).collect();
    Some(CanvasDoc {
        url: page.file(),
        title,
        path,
        words,
    })
}

/// What a build session's rebuild of changed notes renders again, when the vault's names, tags
/// and titles stayed as they were (see `session::BuildSession`).
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Notes whose pages may show something that changed.
    pub notes: Vec<NoteId>,
    /// Whether the wanted page may have changed (a changed note links to a missing note).
    pub wanted: bool,
    /// Notes whose search shard may have changed.
    pub searched: Vec<NoteId>,
    /// Whether the index and the graph view's data may have changed (links between notes,
    /// titles or tags moved).
    pub index_and_graph: bool,
    /// Tag pages (indices into the site plan's tags) listing a note whose title changed.
    pub tags: Vec<usize>,
    /// Whether notes' tags changed: the tags page and every tag page may have.
    pub all_tags: bool,
    /// Whether the canvas pages may have changed (their cards show notes).
    pub canvases: bool,
}

/// Renders only the pages of `selection` (each kept when its fingerprint is unchanged); every
/// other file of the site stays as the sink has it.
pub fn render_selected(
    comp: &Compilation,
    theme: &Theme,
    meta: &SiteMeta,
    inputs: &SiteInputs,
    fragments: &Fragments,
    sink: &dyn Sink,
    selection: &Selection,
) -> Result<RenderStats> {
    let pages = Pages::new(inputs, fragments, theme, sink);
    let plan = &comp.site;
    // The note pages, and beside them the big list pages that may have changed (the index
    // alone lists every note).
    let (notes_done, (wanted_done, (lists_done, graph_done))) = rayon::join(
        || {
            selection
                .notes
                .par_iter()
                .try_for_each(|&id| match plan.note_page(id) {
                    Some(page) => note_page(comp, meta, &pages, id, page),
                    None => Ok(()),
                })
        },
        || {
            rayon::join(
                || match selection.wanted {
                    true => wanted_page(comp, meta, &pages),
                    false => Ok(()),
                },
                || {
                    if !selection.index_and_graph
                        && selection.tags.is_empty()
                        && !selection.all_tags
                    {
                        return (Ok(()), Ok(()));
                    }
                    let lists = || -> Result<()> {
                        let keys = pages.inputs.list_keys();
                        if selection.index_and_graph {
                            index_page(comp, meta, &pages, keys)?;
                        }
                        if selection.all_tags {
                            tag_pages(comp, plan, meta, &pages, keys, None)
                        } else if selection.tags.is_empty() {
                            Ok(())
                        } else {
                            tag_pages(comp, plan, meta, &pages, keys, Some(&selection.tags))
                        }
                    };
                    match selection.index_and_graph {
                        true => rayon::join(lists, || graph_data_file(comp, &pages)),
                        false => (lists(), Ok(())),
                    }
                },
            )
        },
    );
    notes_done?;
    wanted_done?;
    lists_done?;
    graph_done?;
    if selection.canvases {
        canvas_pages(comp, meta, &pages)?;
    }
    // Tag pages may have come or gone, and a note's date, title or text changed; both files
    // are kept when they did not change.
    sitemap_files(comp, meta, &pages)?;
    feed_file(comp, meta, &pages)?;
    // The diagram renderer, when a note has diagrams now (the caller removes it when none has).
    if has_diagrams(comp) {
        if let Some((_, bytes)) = theme.assets.iter().find(|(n, _)| n == DIAGRAM_ASSET) {
            sink.write(DIAGRAM_FILE, bytes, None)?;
        }
    }
    let members = shard_members(comp);
    let shards = members.len();
    let mut wanted_shards: Vec<usize> = selection
        .searched
        .iter()
        .filter(|&&id| plan.note_page(id).is_some())
        .map(|&id| shard_of(comp, id, shards))
        .collect();
    wanted_shards.sort_unstable();
    wanted_shards.dedup();
    wanted_shards
        .par_iter()
        .try_for_each(|&k| search_shard_page(comp, &pages, k, shards, &members[k]))?;
    Ok(RenderStats {
        rendered: pages.rendered.into_inner(),
        kept: pages.kept.into_inner(),
    })
}

/// `graph-data.js` and the search index.
fn data_files(comp: &Compilation, pages: &Pages) -> Result<()> {
    graph_data_file(comp, pages)?;
    // The search index, in shards: an edit re-indexes only its note's shard.
    let members = shard_members(comp);
    let shards = members.len();
    let files: Vec<String> = (0..shards).map(|k| format!("search/{k}.js")).collect();
    pages.sink.write(
        "search-index.js",
        format!(
            "window.VAULTC_SEARCH = {};\n",
            serde_json::json!({ "shards": files })
        )
        .as_bytes(),
        None,
    )?;
    members
        .par_iter()
        .enumerate()
        .try_for_each(|(k, shard)| search_shard_page(comp, pages, k, shards, shard))?;
    Ok(())
}

/// The folder of a large site's sitemap files (`sitemaps/K.xml`), whose number follows the
/// number of pages: every build writes all of them, and a rebuild drops the ones past it.
pub const SITEMAPS: &str = "sitemaps/";

/// `sitemap.xml`, when the site knows where it is published: the address of every page worth
/// finding (the index, the notes, the canvases, the tags page and each tag's), in plan order
/// (see [`sitemap_files_of`]).
fn sitemap_files(comp: &Compilation, meta: &SiteMeta, pages: &Pages) -> Result<()> {
    let plan = &comp.site;
    let Some(url) = meta.url.as_deref().filter(|_| plan.has_url) else {
        return Ok(());
    };
    let (root, tags) = (PageDir::root(), page_dir("tags"));
    // A note's page changed when its front matter says it did; other pages carry no date.
    let notes = plan
        .notes
        .iter()
        .zip(&comp.vault.notes)
        .filter_map(|(page, note)| {
            let page = page.as_ref()?;
            Some((page, dates::NoteDates::of(note).last_change()))
        });
    let addresses: Vec<(String, Option<dates::Moment>)> = std::iter::once((&root, None))
        .chain(notes)
        .chain(plan.canvases.iter().map(|(_, page)| (page, None)))
        .chain(std::iter::once((&tags, None)))
        .chain(plan.tags.iter().map(|(_, _, page)| (page, None)))
        .filter_map(|(page, changed)| Some((meta.address(page)?, changed)))
        .collect();
    sitemap_files_of(url, &addresses, SITEMAP_URLS)
        .into_par_iter()
        .try_for_each(|(path, bytes)| {
            let fp = pages.inputs.bytes_page(&path, &bytes);
            pages.page(path, fp, |out| {
                out.extend_from_slice(&bytes);
                Ok(())
            })
        })
}

/// Most notes `feed.xml` lists: the newest by their front matter's dates.
pub const FEED_ENTRIES: usize = 50;

/// `feed.xml`, when the site knows where it is published: an Atom feed of the published notes
/// whose front matter dates them ([`dates::NoteDates`]), newest publication first (an update
/// stands in for a missing one; ties in path order), at most [`FEED_ENTRIES`], each with its
/// title, address, dates and summary (its `description`, else the start of its text). The
/// feed's own date is its latest change, so the same vault gives the same bytes.
fn feed_file(comp: &Compilation, meta: &SiteMeta, pages: &Pages) -> Result<()> {
    let plan = &comp.site;
    let Some(url) = meta.url.as_deref().filter(|_| plan.has_url) else {
        return Ok(());
    };
    // Ordered by publication (an update stands in for an unknown one), newest first.
    let mut dated: Vec<(dates::Moment, dates::NoteDates, NoteId)> = comp
        .vault
        .note_ids()
        .filter(|(id, _)| plan.note_page(*id).is_some())
        .filter_map(|(id, note)| {
            let dates = dates::NoteDates::of(note);
            Some((dates.published.or(dates.updated)?, dates, id))
        })
        .collect();
    dated.sort_by(|a, b| b.0.cmp(&a.0).then(a.2.cmp(&b.2)));
    dated.truncate(FEED_ENTRIES);
    let feed_updated = dated.iter().filter_map(|(_, d, _)| d.last_change()).max();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>");
    html::push_escaped(&mut out, &meta.title);
    out.push_str("</title>\n<link href=\"");
    html::push_escaped(&mut out, url);
    out.push_str("\"/>\n<link rel=\"self\" href=\"");
    html::push_escaped(&mut out, url);
    out.push_str("feed.xml\"/>\n<id>");
    html::push_escaped(&mut out, url);
    let _ = writeln!(
        out,
        "</id>\n<updated>{}</updated>",
        feed_updated.map_or_else(|| "1970-01-01T00:00:00Z".into(), dates::Moment::rfc3339)
    );
    for (moment, dates, id) in &dated {
        let note = comp.vault.note(*id);
        let Some(address) = plan.note_page(*id).and_then(|page| meta.address(page)) else {
            continue;
        };
        let summary = match note.front_matter.description.as_deref() {
            Some(d) if !d.trim().is_empty() => d.to_string(),
            _ => text::plain_text(note, FEED_SUMMARY_CHARS),
        };
        out.push_str("<entry>\n<title>");
        html::push_escaped(&mut out, &note.title);
        out.push_str("</title>\n<link href=\"");
        html::push_escaped(&mut out, &address);
        out.push_str("\"/>\n<id>");
        html::push_escaped(&mut out, &address);
        out.push_str("</id>\n");
        if let Some(published) = dates.published {
            let _ = writeln!(out, "<published>{}</published>", published.rfc3339());
        }
        let updated = dates.last_change().unwrap_or(*moment);
        let _ = write!(out, "<updated>{}</updated>\n<summary>", updated.rfc3339());
        html::push_escaped(&mut out, &summary);
        out.push_str("</summary>\n</entry>\n");
    }
    out.push_str("</feed>\n");
    let path = "feed.xml".to_string();
    let fp = pages.inputs.bytes_page(&path, out.as_bytes());
    pages.page(path, fp, |buffer| {
        buffer.extend_from_slice(out.as_bytes());
        Ok(())
    })
}

/// Characters of a note's text a feed entry without a `description` shows.
const FEED_SUMMARY_CHARS: usize = 280;

/// The sitemap files listing `addresses` (a site published at `url`), at most `per_file` in
/// one: `sitemap.xml` alone, or past that the files `sitemaps/K.xml` and `sitemap.xml` as their
/// index, as the sitemap protocol asks.
fn sitemap_files_of(
    url: &str,
    addresses: &[(String, Option<dates::Moment>)],
    per_file: usize,
) -> Vec<(String, Vec<u8>)> {
    // One XML list: `urlset` of `url`s, or `sitemapindex` of `sitemap`s.
    let list = |set: &str, item: &str, addresses: &[(String, Option<dates::Moment>)]| -> Vec<u8> {
        let mut out = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{set} xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n"
        );
        for (address, changed) in addresses {
            let _ = write!(out, "<{item}><loc>");
            html::push_escaped(&mut out, address);
            out.push_str("</loc>");
            if let Some(changed) = changed {
                let _ = write!(out, "<lastmod>{}</lastmod>", changed.w3c());
            }
            let _ = writeln!(out, "</{item}>");
        }
        let _ = writeln!(out, "</{set}>");
        out.into_bytes()
    };
    if addresses.len() <= per_file {
        return vec![("sitemap.xml".into(), list("urlset", "url", addresses))];
    }
    let chunks: Vec<&[(String, Option<dates::Moment>)]> = addresses.chunks(per_file).collect();
    // Each file of the index changed when its newest page did.
    let listed: Vec<(String, Option<dates::Moment>)> = chunks
        .iter()
        .enumerate()
        .map(|(k, chunk)| {
            let newest = chunk.iter().filter_map(|(_, c)| *c).max();
            (format!("{url}{SITEMAPS}{k}.xml"), newest)
        })
        .collect();
    let mut files = vec![(
        "sitemap.xml".to_string(),
        list("sitemapindex", "sitemap", &listed),
    )];
    files.extend(
        chunks
            .iter()
            .enumerate()
            .map(|(k, chunk)| (format!("{SITEMAPS}{k}.xml"), list("urlset", "url", chunk))),
    );
    files
}

/// `graph-data.js`, the graph view's data: serialised, and written when the hash of its bytes
/// is new.
fn graph_data_file(comp: &Compilation, pages: &Pages) -> Result<()> {
    let graph = graph_data(comp, &comp.site, GRAPH_VIEW_NOTES);
    // About 20 bytes an edge and 80 a node.
    let mut bytes = Vec::with_capacity(24 * graph.edges.len() + 96 * graph.nodes.len() + 64);
    bytes.extend_from_slice(b"window.VAULTC_GRAPH = ");
    serde_json::to_writer(&mut bytes, &graph).expect("plain data");
    bytes.extend_from_slice(b";\n");
    let path = "graph-data.js".to_string();
    let fp = pages.inputs.bytes_page(&path, &bytes);
    pages.page(path, fp, |out| {
        out.extend_from_slice(&bytes);
        Ok(())
    })
}

/// The page of note `id` in folder `page`, exactly as [`render_site`] writes it (for tools and
/// benchmarks that render one note).
pub fn render_note_page(
    comp: &Compilation,
    theme: &Theme,
    meta: &SiteMeta,
    id: NoteId,
) -> Result<Option<OutputFile>> {
    let Some(page) = comp.site.note_page(id) else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    note_page_into(&mut bytes, comp, theme, meta, id, page)?;
    Ok(Some(OutputFile {
        path: page.file(),
        bytes,
    }))
}

/// Note `id`'s page appended to `out`.
fn note_page_into(
    out: &mut Vec<u8>,
    comp: &Compilation,
    theme: &Theme,
    meta: &SiteMeta,
    id: NoteId,
    page: &PageDir,
) -> Result<()> {
    let view = note_view(comp, &comp.site, id, page, meta.url.as_deref());
    out.reserve(page_size_estimate(&view));
    let site = meta.view(page);
    if theme.has_default("note.html") {
        default_page::note_page(out, &site, &view);
        return Ok(());
    }
    /// [`PageContext`] of a note page, without `flatten` (which makes serde go through a map).
    #[derive(Serialize)]
    struct NotePageContext<'a> {
        site: SiteView<'a>,
        page: PageView<'a>,
        note: NoteView<'a>,
    }
    theme.render_view_into(
        "note.html",
        &NotePageContext {
            site,
            page: PageView {
                kind: "note",
                title: view.title,
            },
            note: view,
        },
        out,
    )
}

/// A generous guess of a note page's size with the default theme: its fixed text, the body,
/// and each list item with its text (escaping may double it).
fn page_size_estimate(view: &NoteView) -> usize {
    let backlinks: usize = view
        .backlinks
        .iter()
        .map(|b| {
            let contexts: usize = b.contexts.iter().map(|c| c.len() * 5 / 4 + 32).sum();
            256 + 2 * (b.title.len() + b.url.len() + b.path.len()) + contexts
        })
        .sum();
    let toc: usize = view.toc.iter().map(|t| 96 + 2 * t.text.len()).sum();
    let tags: usize = view
        .tags
        .iter()
        .map(|t| 64 + 2 * (t.name.len() + t.url.len()))
        .sum();
    let properties: usize = view
        .properties
        .iter()
        .map(|p| 64 + 2 * (p.key.len() + p.value.len()))
        .sum();
    6 * 1024 + view.html.len() + backlinks + toc + tags + properties
}

/// What a templated page is given: `site`, `page` and its own keys.
#[derive(Serialize)]
struct PageContext<'a, B: Serialize> {
    site: SiteView<'a>,
    page: PageView<'a>,
    #[serde(flatten)]
    body: B,
}

/// Renders pages through the sink, keeping those whose inputs have not changed.
struct Pages<'a> {
    inputs: &'a SiteInputs,
    fragments: &'a Fragments,
    theme: &'a Theme,
    sink: &'a dyn Sink,
    rendered: AtomicUsize,
    kept: AtomicUsize,
}

/// Rendered pieces of pages, kept from one build of a session (`serve`) to the next: each
/// folder section of the index (written by the default theme), by the fingerprint of the
/// notes it lists. A save that changes only the vault's counts on the index (a link added)
/// then writes the index from the sections it has instead of rendering every note's entry.
#[derive(Default)]
pub struct Fragments {
    /// Whether to keep what is rendered (a one-shot build has no next build to give it to).
    keep: bool,
    index_sections: std::sync::Mutex<crate::source::FastMap<u64, Vec<u8>>>,
}

impl Fragments {
    /// Fragments that keep what each build renders for the next (a session's); the default
    /// keeps nothing.
    pub fn kept() -> Fragments {
        Fragments {
            keep: true,
            ..Fragments::default()
        }
    }
}

impl<'a> Pages<'a> {
    fn new(
        inputs: &'a SiteInputs,
        fragments: &'a Fragments,
        theme: &'a Theme,
        sink: &'a dyn Sink,
    ) -> Pages<'a> {
        Pages {
            inputs,
            fragments,
            theme,
            sink,
            rendered: AtomicUsize::new(0),
            kept: AtomicUsize::new(0),
        }
    }

    /// A list page in folder `page`.
    fn view<B: Serialize>(
        &self,
        page: &PageDir,
        template: &str,
        ctx: PageContext<B>,
    ) -> Result<()> {
        self.view_at(page.file(), template, ctx)
    }

    /// A list page at `path`: the view is hashed (cheap) and only rendered (costly) when
    /// its fingerprint is new.
    fn view_at<B: Serialize>(
        &self,
        path: String,
        template: &str,
        ctx: PageContext<B>,
    ) -> Result<()> {
        let fp = self.inputs.view_page(&path, template, &ctx);
        self.page(path, fp, |out| {
            self.theme.render_view_into(template, &ctx, out)
        })
    }

    /// A page with input fingerprint `fp`: kept by the sink, or rendered (appended to the
    /// empty buffer `render` is given) and written.
    fn page(
        &self,
        path: String,
        fp: u64,
        render: impl FnOnce(&mut Vec<u8>) -> Result<()>,
    ) -> Result<()> {
        let kept = self.sink.keep(&path, fp)?;
        let counter = if kept { &self.kept } else { &self.rendered };
        counter.fetch_add(1, Ordering::Relaxed);
        if kept {
            return Ok(());
        }
        // Each thread renders every page into the same buffer. A fresh buffer per page made
        // the allocator hand back memory it had returned to the system, and the kernel zeroed
        // it again on first touch (page faults were about a tenth of a 10k build's CPU).
        thread_local! {
            static BUFFER: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
        }
        // Taken out, not borrowed, so a page rendered while another is (it cannot happen
        // today) would get a buffer of its own instead of a panic.
        let mut buffer = BUFFER.take();
        buffer.clear();
        let written = render(&mut buffer).and_then(|()| self.sink.write(&path, &buffer, Some(fp)));
        // A huge page (the index of a big vault) is not kept for the rest of the build.
        if buffer.capacity() <= MAX_KEPT_BUFFER {
            BUFFER.set(buffer);
        }
        written
    }
}

/// The page folder of a fixed, reserved page (`wanted`, `tags`, `graph`).
fn page_dir(name: &str) -> PageDir {
    PageDir::reserved(name)
}

/// Which of `items` are the first of those alike, in order; `same` and `key` must agree
/// (`same(a, b)` exactly when `key(a) == key(b)`). A few items are each compared with the
/// ones before, many go through a set of their keys: a note linking another thousands of
/// times, or carrying thousands of tags, made each item look through all before it.
pub(crate) fn firsts<'a, T, K: std::hash::Hash + Eq>(
    items: &'a [T],
    same: impl Fn(&T, &T) -> bool,
    key: impl Fn(&'a T) -> K,
) -> Vec<bool> {
    const FEW: usize = 16;
    if items.len() <= FEW {
        return (0..items.len())
            .map(|i| !items[..i].iter().any(|u| same(u, &items[i])))
            .collect();
    }
    let mut seen = crate::source::FastSet::default();
    items.iter().map(|t| seen.insert(key(t))).collect()
}

/// How a body's code in a language starts (pulldown-cmark's markup for ` ```rust `).
const CODE_MARK: &str = "<code class=\"language-";
/// How a body's diagram starts ([`crate::parse::body`]'s markup for ` ```mermaid `).
const DIAGRAM_MARK: &str = "<pre class=\"mermaid\">";
/// What an embedded canvas starts with in a page's body.
const CANVAS_MARK: &str = "<div class=\"embed embed-canvas\"";
/// The diagram renderer among the theme's assets: written into the site only when a note has
/// a diagram (it is most of the theme's bytes).
const DIAGRAM_ASSET: &str = "mermaid.min.js";
/// Where the diagram renderer is in a site.
pub const DIAGRAM_FILE: &str = "static/mermaid.min.js";

/// Whether any note has a diagram (` ```mermaid `): the site then carries the diagram renderer.
pub fn has_diagrams(comp: &Compilation) -> bool {
    comp.vault.notes.iter().any(|n| n.diagrams)
}

fn note_view<'a>(
    comp: &'a Compilation,
    plan: &SitePlan,
    id: NoteId,
    page: &PageDir,
    site_url: Option<&str>,
) -> NoteView<'a> {
    let note = comp.vault.note(id);
    let ctx = BodyContext::new(comp, plan, page, Some(id));
    let html = html::note_body(&ctx, id);
    let url = |page: &PageDir| html::page_url(&ctx.root, page);
    let mut seen = std::collections::HashSet::new();
    let tags = note
        .tags
        .iter()
        .filter(|t| seen.insert(crate::source::fold_name(&t.name)))
        .map(|t| LinkView {
            name: t.name.clone(),
            url: plan.tag_page(&t.name).map(url).unwrap_or_default(),
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
            Some(last) if last.path == source.path.as_str() => last.contexts.push(context),
            _ => backlinks.push(BacklinkView {
                title: &source.title,
                url: url(source_page),
                path: source.path.as_str(),
                contexts: vec![context],
            }),
        }
    }
    // A note linking here several times shows each context once.
    for backlink in backlinks.iter_mut().filter(|b| b.contexts.len() > 1) {
        let mut keep = firsts(&backlink.contexts, |a, b| a == b, String::as_str).into_iter();
        backlink.contexts.retain(|_| keep.next().unwrap_or(true));
    }
    NoteView {
        title: &note.title,
        path: note.path.as_str(),
        folder: note.folder(),
        cssclasses: note
            .front_matter
            .cssclasses
            .iter()
            .flat_map(|c| c.split_whitespace())
            .collect(),
        tags,
        aliases: &note.front_matter.aliases,
        toc: note
            .headings
            .iter()
            .map(|h| TocEntry {
                level: h.level,
                text: crate::parse::body::without_highlights(&h.text),
                anchor: &h.anchor,
            })
            .collect(),
        description: note.front_matter.description.as_deref(),
        image: site_url.and_then(|url| preview_image(comp, plan, id, url)),
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
        // Read off the body as written, embeds included.
        code: memchr::memmem::find(html.as_bytes(), CODE_MARK.as_bytes()).is_some(),
        diagrams: memchr::memmem::find(html.as_bytes(), DIAGRAM_MARK.as_bytes()).is_some(),
        canvases: memchr::memmem::find(html.as_bytes(), CANVAS_MARK.as_bytes()).is_some(),
        html,
    }
}

/// The address of note `id`'s link-preview image on a site published at `url`: its front
/// matter's `image` or `cover` (an `http(s)` address as it is, or the vault image its path or
/// `[[link]]` reaches), else the first image it embeds. A named image the vault does not have
/// gives none (its link is a `missing-attachment` diagnostic).
fn preview_image(comp: &Compilation, plan: &SitePlan, id: NoteId, url: &str) -> Option<String> {
    let note = comp.vault.note(id);
    let address = |i: usize| match comp.resolution.get(id, i).target {
        crate::resolve::LinkTarget::Attachment(a)
            if html::IMAGE.contains(&comp.vault.attachment(a).path.extension().as_str()) =>
        {
            Some(format!(
                "{url}{}",
                crate::site::encode_path(plan.attachment_file(a))
            ))
        }
        _ => None,
    };
    let named = crate::parse::frontmatter::PREVIEW_IMAGE_KEYS
        .iter()
        .find_map(|key| {
            let (_, value) = note.front_matter.extra.iter().find(|(k, _)| k == key)?;
            value.as_str()
        })
        .map(str::trim);
    match named {
        Some(value) if value.starts_with("http://") || value.starts_with("https://") => {
            Some(value.to_string())
        }
        // The property link written in the value: the path itself, or a `[[link]]` in it.
        Some(value) => note
            .links
            .iter()
            .position(|l| {
                l.kind == LinkKind::Property
                    && note
                        .text
                        .get(l.span.range())
                        .is_some_and(|raw| value.contains(raw))
            })
            .and_then(address),
        None => (0..note.links.len())
            .filter(|&i| note.links[i].kind == LinkKind::Embed)
            .find_map(address),
    }
}

/// Note `id` as an entry of a list page whose root prefix is `root`.
fn entry<'a>(
    comp: &'a Compilation,
    plan: &SitePlan,
    id: NoteId,
    root: &str,
) -> Option<NoteEntry<'a>> {
    let note = comp.vault.note(id);
    let page = plan.note_page(id)?;
    Some(NoteEntry {
        title: &note.title,
        url: html::page_url(root, page),
        path: note.path.as_str(),
        tags: context::EntryTags(&note.tags),
    })
}

fn folders<'a>(comp: &'a Compilation, plan: &SitePlan, from: &PageDir) -> Vec<FolderView<'a>> {
    let root = from.root_prefix();
    by_folder(comp, |id| entry(comp, plan, id, &root))
        .into_iter()
        .map(|folder| FolderView {
            name: folder.name,
            depth: folder.depth,
            notes: folder.notes,
            canvases: canvas_entries(comp, &folder.canvases, &root),
        })
        .collect()
}

/// The index's canvases `ids` as entries of a page whose root prefix is `root`.
fn canvas_entries<'a>(
    comp: &'a Compilation,
    ids: &[AttachmentId],
    root: &str,
) -> Vec<context::CanvasEntry<'a>> {
    ids.iter()
        .filter_map(|&id| {
            let page = comp.site.canvas_page(id)?;
            let path = &comp.vault.attachment(id).path;
            Some(context::CanvasEntry {
                title: path.stem(),
                url: html::page_url(root, page),
                path: path.as_str(),
            })
        })
        .collect()
}

/// A folder of the index: its notes as `item` makes them, and its canvases (those with a
/// page), both in path order.
pub(crate) struct IndexFolder<'a, T> {
    /// Folder path (`""` is the root).
    pub name: &'a str,
    /// Nesting depth.
    pub depth: usize,
    /// Its notes' items.
    pub notes: Vec<T>,
    /// Its canvases.
    pub canvases: Vec<AttachmentId>,
}

/// `item` of every note, and every canvas with a page, grouped by folder in folder order. The
/// index page's view and its fingerprint both come from here, so they group alike.
fn by_folder<T>(
    comp: &Compilation,
    mut item: impl FnMut(NoteId) -> Option<T>,
) -> Vec<IndexFolder<'_, T>> {
    let mut groups: BTreeMap<&str, (Vec<T>, Vec<AttachmentId>)> = BTreeMap::new();
    for (id, note) in comp.vault.note_ids() {
        if let Some(e) = item(id) {
            groups.entry(note.folder()).or_default().0.push(e);
        }
    }
    for (id, _) in &comp.site.canvases {
        let folder = comp.vault.attachment(*id).path.folder();
        groups.entry(folder).or_default().1.push(*id);
    }
    groups
        .into_iter()
        .map(|(name, (notes, canvases))| {
            let depth = if name.is_empty() {
                0
            } else {
                name.split('/').count()
            };
            IndexFolder {
                name,
                depth,
                notes,
                canvases,
            }
        })
        .collect()
}

/// The tags page and every tag page; with `only`, just those tag pages (indices into the plan's
/// tags). `keys` are the notes' list entries (`SiteInputs::list_keys`).
fn tag_pages(
    comp: &Compilation,
    plan: &SitePlan,
    meta: &SiteMeta,
    pages: &Pages,
    keys: &[Option<u64>],
    only: Option<&[usize]>,
) -> Result<()> {
    let site = |page: &PageDir| meta.view(page);
    if only.is_none() {
        let index = page_dir("tags");
        let index_root = index.root_prefix();
        let entries: Vec<TagEntry> = plan
            .tags
            .iter()
            .map(|(node, name, page)| TagEntry {
                name,
                url: html::page_url(&index_root, page),
                count: comp.graph.tagged(*node).len(),
            })
            .collect();
        #[derive(Serialize)]
        struct TagsBody<'a> {
            tags: Vec<TagEntry<'a>>,
        }
        pages.view(
            &index,
            "tags.html",
            PageContext {
                site: site(&index),
                page: PageView {
                    kind: "tags",
                    title: &meta.strings.tags_title,
                },
                body: TagsBody { tags: entries },
            },
        )?;
    }
    let children_of = plan.child_tags();
    // A tag page lists thousands of notes: its fingerprint hashes each note's `list_entry`
    // (`keys`, computed once per build) instead of building every `NoteEntry` for a page that
    // is usually kept. The entries are built only when the page is rendered.
    let chosen = |i: &usize| only.is_none_or(|only| only.contains(i));
    let tags: Vec<&(petgraph::graph::NodeIndex, String, PageDir)> = plan
        .tags
        .iter()
        .enumerate()
        .filter(|(i, _)| chosen(i))
        .map(|(_, t)| t)
        .collect();
    tags.par_iter().try_for_each(|(node, name, page)| {
        let root = page.root_prefix();
        let tagged = comp.graph.tagged(*node);
        let children = tag_children(plan, &children_of, name, &root);
        let title = format!("#{name}");
        /// The tag view with each note as its `list_entry` fingerprint (see `inputs::list_entry`).
        #[derive(Serialize)]
        struct TagKey<'a> {
            name: &'a str,
            notes: Vec<u64>,
            children: &'a [LinkView],
        }
        // One shape for the key and the view (a closure would fix the type of `tag`).
        macro_rules! context {
            ($tag:expr) => {
                PageContext {
                    site: site(page),
                    page: PageView {
                        kind: "tag",
                        title: &title,
                    },
                    body: TagBody { tag: $tag },
                }
            };
        }
        let key = context!(TagKey {
            name,
            notes: tagged.iter().filter_map(|id| keys[id.0 as usize]).collect(),
            children: &children,
        });
        let path = page.file();
        let fp = pages.inputs.view_page(&path, "tag.html", &key);
        pages.page(path, fp, |out| {
            let view = TagView {
                name,
                notes: tagged
                    .iter()
                    .filter_map(|&id| entry(comp, plan, id, &root))
                    .collect(),
                children: children.clone(),
            };
            tag_page_into(out, pages.theme, site(page), &title, view)
        })
    })
}

/// A tag page's own key in its page context: the tag's view, or its fingerprint key.
#[derive(Serialize)]
struct TagBody<T> {
    tag: T,
}

/// The nested tags of tag `name`, with URLs relative to `root`.
fn tag_children(
    plan: &SitePlan,
    children_of: &std::collections::HashMap<String, Vec<usize>>,
    name: &str,
    root: &str,
) -> Vec<LinkView> {
    children_of
        .get(&crate::source::fold_name(name))
        .into_iter()
        .flatten()
        .map(|&i| {
            let (_, n, p) = &plan.tags[i];
            LinkView {
                name: n.clone(),
                url: html::page_url(root, p),
            }
        })
        .collect()
}

/// A tag page (page title `title`) appended to `out`: written natively with the default
/// templates, else through the theme's `tag.html`.
fn tag_page_into(
    out: &mut Vec<u8>,
    theme: &Theme,
    site: SiteView,
    title: &str,
    tag: TagView,
) -> Result<()> {
    if theme.has_default("tag.html") {
        default_page::tag_page(out, &site, title, &tag);
        return Ok(());
    }
    theme.render_view_into(
        "tag.html",
        &PageContext {
            site,
            page: PageView { kind: "tag", title },
            body: TagBody { tag },
        },
        out,
    )
}

fn wanted<'a>(comp: &'a Compilation, plan: &SitePlan, from: &PageDir) -> Vec<WantedView<'a>> {
    let root = from.root_prefix();
    let mut out: Vec<WantedView> = comp
        .graph
        .wanted()
        .map(|(node, name)| WantedView {
            name,
            anchor: slugify(name),
            referrers: comp
                .graph
                .incoming(node)
                .iter()
                .map(|b| {
                    let source = comp.vault.note(b.source);
                    let link = &source.links[b.link];
                    ReferrerView {
                        title: &source.title,
                        url: plan
                            .note_page(b.source)
                            .map(|p| html::page_url(&root, p))
                            .unwrap_or_default(),
                        path: source.path.as_str(),
                        line: source.lines().line(link.span.start),
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

/// A node of the graph view.
#[derive(Serialize)]
struct GNode<'a> {
    id: usize,
    kind: &'static str,
    title: &'a str,
    url: Option<String>,
}

/// An edge of the graph view: source node, target node, kind. Written as a JSON array, a
/// third the size of an object (a big vault's view has some 80k edges).
#[derive(Serialize)]
struct GEdge(usize, usize, EdgeKind);

/// What `graph-data.js` holds: the nodes and edges the graph view draws.
#[derive(Serialize)]
struct GraphData<'a> {
    nodes: Vec<GNode<'a>>,
    edges: Vec<GEdge>,
}

/// `graph-data.js`: the concept graph for the graph view (published notes only, at most
/// `most` of them).
fn graph_data<'a>(comp: &'a Compilation, plan: &SitePlan, most: usize) -> GraphData<'a> {
    // A graph view of more than a few thousand notes is a hairball: big vaults show their
    // best-connected notes (ties by path order).
    let mut shown: Vec<NoteId> = (0..comp.vault.notes.len() as u32)
        .map(NoteId)
        .filter(|&id| plan.note_page(id).is_some())
        .collect();
    if shown.len() > most {
        // Degrees in one pass over the edge list (walking each note's edges hops around
        // memory); a link of a note to itself counts once.
        let mut degree = vec![0u32; comp.graph.graph.node_count()];
        for edge in comp.graph.graph.raw_edges() {
            degree[edge.source().index()] += 1;
            if edge.target() != edge.source() {
                degree[edge.target().index()] += 1;
            }
        }
        let node = |id: NoteId| comp.graph.note_node(id).index();
        shown.sort_by_key(|&id| (std::cmp::Reverse(degree[node(id)]), id));
        shown.truncate(most);
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
                    Some(html::page_url("", p)),
                ),
                None => continue,
            },
            _ if !near_kept() => continue,
            Node::Attachment(a) => {
                let path = comp.vault.attachment(*a).path.as_str();
                let mut url = String::new();
                html::push_attachment_url(&mut url, "", plan, *a);
                ("attachment", path, Some(url))
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
        .map(|(_, s, t, e)| GEdge(ids[s.index()], ids[t.index()], e.kind))
        .collect();
    GraphData { nodes, edges }
}

/// One search shard (`search/K.js`): an elasticlunr index (title, body, tags) of notes `ids`
/// and an excerpt per note, pushed onto `window.VAULTC_SEARCH_SHARDS`.
fn search_shard(
    comp: &Compilation,
    plan: &SitePlan,
    ids: &[NoteId],
    canvases: &[CanvasDoc],
    per_note: usize,
) -> String {
    struct Doc<'a> {
        url: String,
        excerpt: String,
        title: &'a str,
        body: String,
        tags: String,
        path: &'a str,
        terms: [text::FieldTerms; 3],
    }
    // Everything per note, tokenizing and stemming included, in parallel; only writing the
    // index is serial.
    let docs: Vec<Doc> = ids
        .par_iter()
        .map_init(text::Analyzer::default, |analyzer, &id| {
            let note = comp.vault.note(id);
            let page = plan.note_page(id)?;
            let tags: Vec<&str> = note.tags.iter().map(|t| t.name.as_str()).collect();
            // One plain-text pass serves both the indexed body and the shown excerpt.
            let plain = text::plain_text(note, per_note.max(2 * EXCERPT_CHARS));
            let excerpt = text::excerpt(note, &plain, EXCERPT_CHARS);
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
    let mut docs = docs;
    let analyzer = text::Analyzer::default();
    docs.extend(canvases.iter().map(|c| Doc {
        excerpt: c.words.chars().take(EXCERPT_CHARS).collect(),
        url: c.url.clone(),
        title: c.title,
        body: c.words.clone(),
        tags: String::new(),
        path: c.path,
        terms: [
            analyzer.terms(c.title),
            analyzer.terms(&c.words),
            analyzer.terms(""),
        ],
    }));
    // Documents are referred to by short numbers (elasticlunr repeats the ref for every term
    // of a document); the shard's `docs` map each number to its page.
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
    out.push_str(
        "(window.VAULTC_SEARCH_SHARDS = window.VAULTC_SEARCH_SHARDS || []).push({\"index\": ",
    );
    text::elasticlunr_json(&mut out, &index_docs);
    out.push_str(", \"docs\": {");
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
    out.push_str("}});\n");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_sitemap_past_its_limit_is_an_index_of_sitemaps() {
        let url = "https://example.org/";
        // "a/" changed on a day, "d/" at a time, "e/" on a later day.
        let day = |ms: i64, time: bool| Some(super::dates::Moment { ms, time });
        let changed = [
            None,
            day(0, false),
            None,
            day(86_400_000 + 3_723_000, true),
            day(2 * 86_400_000, false),
        ];
        let addresses: Vec<(String, Option<super::dates::Moment>)> = ["", "a/", "b&c/", "d/", "e/"]
            .iter()
            .zip(changed)
            .map(|(p, c)| (format!("{url}{p}"), c))
            .collect();
        let text = |files: &[(String, Vec<u8>)], i: usize| {
            (
                files[i].0.clone(),
                String::from_utf8(files[i].1.clone()).unwrap(),
            )
        };
        let head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
        let one = super::sitemap_files_of(url, &addresses, 5);
        assert_eq!(one.len(), 1);
        assert_eq!(
            text(&one, 0),
            (
                "sitemap.xml".to_string(),
                format!(
                    "{head}<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n\
                     <url><loc>https://example.org/</loc></url>\n\
                     <url><loc>https://example.org/a/</loc><lastmod>1970-01-01</lastmod></url>\n\
                     <url><loc>https://example.org/b&amp;c/</loc></url>\n\
                     <url><loc>https://example.org/d/</loc><lastmod>1970-01-02T01:02:03Z</lastmod></url>\n\
                     <url><loc>https://example.org/e/</loc><lastmod>1970-01-03</lastmod></url>\n</urlset>\n"
                )
            )
        );
        let split = super::sitemap_files_of(url, &addresses, 2);
        let names: Vec<&str> = split.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "sitemap.xml",
                "sitemaps/0.xml",
                "sitemaps/1.xml",
                "sitemaps/2.xml"
            ]
        );
        assert_eq!(
            text(&split, 0).1,
            format!(
                "{head}<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n\
                 <sitemap><loc>https://example.org/sitemaps/0.xml</loc><lastmod>1970-01-01</lastmod></sitemap>\n\
                 <sitemap><loc>https://example.org/sitemaps/1.xml</loc><lastmod>1970-01-02T01:02:03Z</lastmod></sitemap>\n\
                 <sitemap><loc>https://example.org/sitemaps/2.xml</loc><lastmod>1970-01-03</lastmod></sitemap>\n</sitemapindex>\n"
            )
        );
        let listed: Vec<String> = split[1..]
            .iter()
            .flat_map(|(_, bytes)| {
                let text = String::from_utf8(bytes.clone()).unwrap();
                text.lines()
                    .filter_map(|l| l.strip_prefix("<url><loc>"))
                    .map(|l| l[..l.find("</loc>").unwrap()].to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        let escaped: Vec<String> = addresses
            .iter()
            .map(|(a, _)| a.replace('&', "&amp;"))
            .collect();
        assert_eq!(listed, escaped, "every address once, in order");
        assert_eq!(text(&split, 3).1.matches("<url>").count(), 1);
    }

    use crate::site::search_shards;

    /// Both ways of finding the first of items alike (a few compared with the ones before,
    /// many through a set of keys) mark the items a scan of the ones before marks.
    #[test]
    fn firsts_are_found_alike_for_few_and_many() {
        let mut rng = crate::source::xorshift(0xc0de);
        for len in [0, 1, 2, 5, 16, 17, 40, 300] {
            for _ in 0..20 {
                let items: Vec<String> =
                    (0..len).map(|_| format!("c{}", rng(len / 2 + 1))).collect();
                let scan: Vec<bool> = (0..len).map(|i| !items[..i].contains(&items[i])).collect();
                let first = super::firsts(&items, |a, b| a == b, String::as_str);
                assert_eq!(first, scan, "{items:?}");
            }
        }
    }

    /// Past its note limit, the graph view keeps the notes with the most edges (links either
    /// way, embeds, tags; a note's links to itself count once), ties in path order, and the
    /// tags and wanted notes next to them.
    #[test]
    fn a_capped_graph_view_keeps_the_best_connected_notes() {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            // 3 links in, 1 out, a tag: 5.
            ("Hub.md", "#t [[A]]"),
            // 1 in, 1 out, and 3 links to itself (counted once each): 5, as Hub, and after
            // it in path order.
            ("Selfish.md", "[[Selfish]] [[Selfish]] [[Selfish]] [[Hub]]"),
            // A tag and 2 links out, 1 in: 4.
            ("A.md", "#t [[Hub]] [[Selfish]]"),
            // 1 out, 1 wanted: 2.
            ("B.md", "[[Hub]] [[Nowhere]]"),
            ("C.md", "alone"),
        ];
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let comp = crate::compile(dir.path(), &Default::default()).unwrap();
        let view = |most| {
            let data = super::graph_data(&comp, &comp.site, most);
            let mut nodes: Vec<String> = data
                .nodes
                .iter()
                .map(|n| format!("{} {}", n.kind, n.title))
                .collect();
            nodes.sort();
            (nodes, data.edges.len())
        };
        assert_eq!(
            view(1),
            (vec!["note Hub".to_string(), "tag t".to_string()], 1)
        );
        assert_eq!(
            view(3),
            (
                vec![
                    "note A".to_string(),
                    "note Hub".to_string(),
                    "note Selfish".to_string(),
                    "tag t".to_string(),
                ],
                // A-Hub both ways, A-Selfish, Selfish-Hub, Selfish x3, A-t, Hub-t.
                9,
            )
        );
        let (all, _) = view(10);
        assert!(all.contains(&"wanted Nowhere".to_string()), "{all:?}");
        assert_eq!(all.len(), 7, "{all:?}");
    }

    /// A theme folder whose `note.html`, `tag.html` and `index.html` are the default ones with a
    /// Jinja comment appended: the same pages, but not the default sources, so they are
    /// rendered by minijinja.
    fn templated_theme(dir: &std::path::Path) -> std::path::PathBuf {
        let templates = dir.join("templates");
        std::fs::create_dir_all(&templates).unwrap();
        for name in ["note.html", "tag.html", "index.html"] {
            let (_, source) = super::theme::TEMPLATES
                .iter()
                .find(|(n, _)| *n == name)
                .unwrap();
            let source = format!("{source}{{# the same page, through minijinja #}}");
            std::fs::write(templates.join(name), source).unwrap();
        }
        dir.to_path_buf()
    }

    /// Builds `vault` twice, with note, tag and index pages written natively and through the
    /// templates of `templated`, and panics at the first file whose bytes differ (the
    /// manifest aside: it holds the theme's fingerprint). Returns the number of pages.
    fn compare_native_and_templated(vault: &std::path::Path, templated: &std::path::Path) -> usize {
        let out = tempfile::tempdir().unwrap();
        let build = |name: &str, theme: Option<&std::path::Path>| {
            let options = crate::build::BuildOptions {
                output: out.path().join(name),
                theme: theme.map(std::path::Path::to_path_buf),
                no_cache: true,
                compile: crate::CompileOptions {
                    config: crate::config::Config::load(vault).expect("vaultc.toml"),
                    ..Default::default()
                },
                ..Default::default()
            };
            let report = crate::build::build(vault, &options).expect("vault builds");
            assert_eq!(
                theme.is_none(),
                crate::render::theme::Theme::load(theme)
                    .unwrap()
                    .has_default("note.html"),
            );
            std::mem::forget(report);
            out.path().join(name)
        };
        let (native, templated) = (build("native", None), build("templated", Some(templated)));
        let files = |root: &std::path::Path| -> Vec<std::path::PathBuf> {
            let mut files: Vec<_> = walkdir::WalkDir::new(root)
                .into_iter()
                .map(|e| e.unwrap())
                .filter(|e| e.file_type().is_file() && e.file_name() != ".vaultc-site")
                .map(|e| e.path().strip_prefix(root).unwrap().to_path_buf())
                .collect();
            files.sort();
            files
        };
        let names = files(&native);
        assert_eq!(
            names,
            files(&templated),
            "{}: different files",
            vault.display()
        );
        for name in &names {
            let (a, b) = (
                std::fs::read(native.join(name)).unwrap(),
                std::fs::read(templated.join(name)).unwrap(),
            );
            if a != b {
                let (a, b) = (String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
                let line = a
                    .lines()
                    .zip(b.lines())
                    .position(|(x, y)| x != y)
                    .unwrap_or(0);
                panic!(
                    "{}: {} differs at line {}:\n  native:   {:?}\n  template: {:?}",
                    vault.display(),
                    name.display(),
                    line + 1,
                    a.lines().nth(line),
                    b.lines().nth(line),
                );
            }
        }
        names
            .iter()
            .filter(|n| n.extension().is_some_and(|e| e == "html"))
            .count()
    }

    /// The folders directly inside `dir`, sorted; `None` when `dir` cannot be read.
    fn folders_in(dir: &std::path::Path) -> Option<Vec<std::path::PathBuf>> {
        let mut folders: Vec<_> = std::fs::read_dir(dir)
            .ok()?
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        folders.sort();
        Some(folders)
    }

    #[test]
    fn native_pages_equal_their_templates() {
        let project = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let theme_dir = tempfile::tempdir().unwrap();
        let templated = templated_theme(theme_dir.path());
        let mut pages = compare_native_and_templated(&project.join("vault"), &templated);
        // The site is titled after the vault folder: `Home/Home.md` has the site's title (the
        // `<title>` shows it once). `#secret` has a nested tag and no published note of its own.
        let scratch = tempfile::tempdir().unwrap();
        let home = scratch.path().join("Home");
        std::fs::create_dir(&home).unwrap();
        std::fs::write(home.join("Home.md"), "# Home\n\n#secret/inner [[b]]\n").unwrap();
        std::fs::write(home.join("b.md"), "---\npublish: false\n---\n#secret\n").unwrap();
        pages += compare_native_and_templated(&home, &templated);
        // A configured title and language, with characters both must escape.
        std::fs::write(
            home.join("vaultc.toml"),
            "[site]\ntitle = \"Notes & <\\\"quotes\\\">\"\nlanguage = \"zh-Hant-TW\"\n",
        )
        .unwrap();
        pages += compare_native_and_templated(&home, &templated);
        // Another language's words, some of them the vault's own, with characters to escape
        // and a count in another place.
        std::fs::write(
            home.join("vaultc.toml"),
            "[site]\nlanguage = \"fr\"\n\n[site.strings]\nlinked_mentions = \"<Back> & \\\"links\\\"\"\n\
             outgoing_links_other = \"→ {n} <out> {n}\"\nfolder_top_level = \"&amp;\"\n",
        )
        .unwrap();
        pages += compare_native_and_templated(&home, &templated);
        // A folder holding a canvas alone, names to escape: its section lists the canvas.
        std::fs::create_dir(home.join("B & <c>")).unwrap();
        std::fs::write(
            home.join("B & <c>/Plan \"A\" & <B>.canvas"),
            r#"{"nodes":[{"id":"t","type":"text","text":"hi","x":0,"y":0,"width":50,"height":20}]}"#,
        )
        .unwrap();
        pages += compare_native_and_templated(&home, &templated);
        // The vault's own stylesheet, linked after the theme's.
        std::fs::write(home.join("publish.css"), "body { color: teal; }\n").unwrap();
        pages += compare_native_and_templated(&home, &templated);
        // Where the site is published: every page's address and link preview, a described
        // note's too.
        std::fs::write(
            home.join("vaultc.toml"),
            "[site]\ntitle = \"A & <b>\"\nurl = \"https://example.org/my notes\"\n",
        )
        .unwrap();
        std::fs::write(
            home.join("Described.md"),
            "---\ndescription: \"Says <what> & \\\"why\\\"\"\n---\n#secret/inner\n",
        )
        .unwrap();
        // Link-preview images: a vault image with characters to escape, an address with some.
        std::fs::write(home.join("p & <q>.png"), "png").unwrap();
        std::fs::write(home.join("Pictured.md"), "![[p & <q>.png]]\n").unwrap();
        std::fs::write(
            home.join("Addressed.md"),
            "---\nimage: 'https://x.org/a\"b&c.png'\ndescription: d\n---\n# A\n",
        )
        .unwrap();
        pages += compare_native_and_templated(&home, &templated);
        for fixture in folders_in(&project.join("tests/fixtures")).expect("fixtures") {
            pages += compare_native_and_templated(&fixture, &templated);
        }
        // Real vaults nobody here wrote (aliases, properties, dates, odd titles), when present.
        let corpora = project.join("../shared/corpora");
        match folders_in(&corpora) {
            Some(vaults) => {
                for vault in vaults {
                    pages += compare_native_and_templated(&vault, &templated);
                }
            }
            None => eprintln!(
                "skipping the shared corpora: {} is absent (the demo vault and fixtures ran)",
                corpora.display()
            ),
        }
        assert!(pages > 100, "only {pages} pages compared");
    }

    #[test]
    fn search_shards_grow_with_the_square_root_of_the_vault() {
        // The counts docs/theme-contract.md promises.
        assert_eq!(search_shards(0), 1);
        assert_eq!(search_shards(4), 1);
        assert_eq!(search_shards(5), 2);
        assert_eq!(search_shards(44), 4);
        assert_eq!(search_shards(10_000), 64);
        assert_eq!(search_shards(100_000), 256);
        assert_eq!(search_shards(10_000_000), 1024);
        // Adding one note rarely changes the count (which would re-shard every note).
        let changes = (1..10_000)
            .filter(|&n| search_shards(n) != search_shards(n + 1))
            .count();
        assert_eq!(changes, 6);
    }
}
