//! Input fingerprints: for every page, a hash of everything its bytes are made from, so an
//! incremental build can keep a previous page without rendering it again.
//!
//! The invariant: if two builds give a page the same fingerprint, they render it to the same
//! bytes. Note pages hash their inputs explicitly (their text, how each of their links
//! resolves, the notes they transclude, their backlinks, their tags' pages); list pages hash the
//! view their template is given. Both include the theme and the site's title and language. A random-edit test
//! (`tests/integration/incremental.rs`) checks the invariant against full builds.

use std::hash::Hasher as _;

use rayon::prelude::*;
use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use super::html::{link_dest, LinkDest, MAX_EMBED_DEPTH};
use super::theme::Theme;
use crate::compile::Compilation;
use crate::resolve::LinkTarget;
use crate::site::SitePlan;
use crate::source::FastMap;
use crate::vault::{LinkKind, NoteId};

/// Bump when rendering changes in a way the hashed inputs do not show.
const FINGERPRINT_VERSION: u64 = 1;

/// The rendering code itself: a vaultc built from changed render sources (a development build
/// with the same version number) must not keep pages the old code rendered. The parsing code
/// and the locked dependencies count too (`code_hash::PARSE_SOURCES`): a page shows headings,
/// properties and labels as parsing found them, through pulldown-cmark and minijinja.
const RENDER_SOURCES: &[&str] = &[
    include_str!("mod.rs"),
    include_str!("html.rs"),
    include_str!("text.rs"),
    include_str!("context.rs"),
    include_str!("dates.rs"),
    include_str!("default_page.rs"),
    include_str!("theme.rs"),
    include_str!("inputs.rs"),
    include_str!("view_hash.rs"),
    include_str!("search_terms.rs"),
    include_str!("strings.rs"),
    include_str!("../bases/mod.rs"),
    include_str!("../bases/expr.rs"),
    include_str!("../site.rs"),
    include_str!("../slug.rs"),
];

/// Fingerprints shared by every page of one build.
pub struct SiteInputs {
    /// Theme, site title and language, generator: what every page depends on.
    pub global: u64,
    /// Per note: a hash of its text (notes are read once; hashing them costs ~1% of parsing).
    text: Vec<u64>,
    /// Per note: a hash of its page's folder, which a link to the note shares (see
    /// `body_share`); the site plan, and so this, stays the same across `refresh`.
    pages: Vec<u64>,
    /// Per note: its share of any page that shows its body (see `body_share`).
    body: Vec<u64>,
    /// Per note: what a backlink from it shows (its page, path, title and text).
    source: Vec<u64>,
    /// Per note: what list pages show of it (see [`list_entry`]); `None` without a page.
    list: Vec<Option<u64>>,
}

impl SiteInputs {
    /// Hashes the theme, the site's title and language and every note's text.
    pub fn new(comp: &Compilation, theme: &Theme, meta: &super::SiteMeta) -> SiteInputs {
        let mut h = Xxh3::new();
        h.write_u64(FINGERPRINT_VERSION);
        h.write(super::GENERATOR.as_bytes());
        let code = crate::code_hash::hash_sources(
            RENDER_SOURCES
                .iter()
                .chain(crate::code_hash::PARSE_SOURCES)
                .copied(),
        );
        h.write_u128(code);
        h.write_u64(theme.fingerprint());
        field(&mut h, &meta.title);
        field(&mut h, &meta.language);
        for string in meta.strings.values() {
            field(&mut h, string);
        }
        field(&mut h, meta.stylesheet.as_deref().unwrap_or(""));
        field(&mut h, meta.url.as_deref().unwrap_or(""));
        let plan = &comp.site;
        let pages: Vec<u64> = (0..comp.vault.notes.len())
            .into_par_iter()
            .map(|i| xxh3_64(page_file(plan.note_page(NoteId(i as u32))).as_bytes()))
            .collect();
        let all: Vec<NoteId> = (0..comp.vault.notes.len() as u32).map(NoteId).collect();
        let tag_pages = tag_pages(comp, plan, &all);
        let text: Vec<u64> = comp
            .vault
            .notes
            .par_iter()
            .map(|n| xxh3_64(n.text.as_bytes()))
            .collect();
        // Each note's shares are hashed once here, not once per page that shows them.
        let (body, (source, list)) = (0..comp.vault.notes.len())
            .into_par_iter()
            .map(|i| {
                let id = NoteId(i as u32);
                (
                    body_share(comp, plan, &pages, &tag_pages, id, text[i]),
                    (
                        source_share(comp, plan, id, text[i]),
                        list_entry(comp, plan, id),
                    ),
                )
            })
            .unzip();
        SiteInputs {
            global: h.finish(),
            text,
            pages,
            body,
            source,
            list,
        }
    }

    /// What list pages show of each note, by note id (see [`list_entry`]).
    pub fn list_keys(&self) -> &[Option<u64>] {
        &self.list
    }

    /// Hashes again what changed for a build session's rebuild: the text shares and list
    /// entries of the notes whose text changed (`texts`), and the body shares of those and of
    /// `links` (notes whose links may now lead to other anchors or states). The site plan must
    /// be the same.
    pub fn refresh(&mut self, comp: &Compilation, texts: &[NoteId], links: &[NoteId]) {
        let plan = &comp.site;
        for &id in texts {
            let i = id.0 as usize;
            self.text[i] = xxh3_64(comp.vault.note(id).text.as_bytes());
            self.source[i] = source_share(comp, plan, id, self.text[i]);
            self.list[i] = list_entry(comp, plan, id);
        }
        let shown: Vec<NoteId> = texts.iter().chain(links).copied().collect();
        let tag_pages = tag_pages(comp, plan, &shown);
        for &id in &shown {
            let i = id.0 as usize;
            self.body[i] = body_share(comp, plan, &self.pages, &tag_pages, id, self.text[i]);
        }
    }

    /// A hasher seeded with the global inputs and the page's path.
    pub fn page_hasher(&self, path: &str) -> Xxh3 {
        let mut h = Xxh3::new();
        h.write_u64(self.global);
        field(&mut h, path);
        h
    }

    /// Everything note `id`'s page is made from.
    pub fn note_page(&self, comp: &Compilation, plan: &SitePlan, id: NoteId, path: &str) -> u64 {
        let mut h = self.page_hasher(path);
        // The body: this note and, to the depth rendering stops at, the notes it transcludes.
        let mut seen = vec![id];
        let mut frontier = vec![id];
        for _ in 0..=MAX_EMBED_DEPTH + 1 {
            let mut next = Vec::new();
            for &n in &frontier {
                h.write_u64(self.body[n.0 as usize]);
                let source = comp.vault.note(n);
                // Its ` ```base ` blocks show what the whole vault holds, as embedded bases do.
                for &text in &source.bases {
                    let links = crate::bases::PageLinks { plan, root: "" };
                    h.write_u8(b'I');
                    field(&mut h, &crate::bases::block_html(comp, &links, n, text));
                }
                for (i, link) in source.links.iter().enumerate() {
                    if link.kind != LinkKind::Embed {
                        continue;
                    }
                    match comp.resolution.get(n, i).target {
                        LinkTarget::Note { id: t, .. } if !seen.contains(&t) => {
                            seen.push(t);
                            next.push(t);
                        }
                        // A base shows what the whole vault holds: the page depends on the
                        // view's bytes (relative to the site root; the page's path is hashed
                        // above), made again for every fingerprint.
                        // A canvas shows notes in its cards: the page depends on the bytes
                        // of the canvas as this page shows it.
                        LinkTarget::Attachment(a) if comp.canvases.get(a).is_some() => {
                            h.write_u8(b'C');
                            if let Some(page) = plan.note_page(id) {
                                let ctx = crate::render::html::BodyContext::new(
                                    comp,
                                    plan,
                                    page,
                                    Some(id),
                                );
                                let mut stack = vec![(n, source.body_start)];
                                if let Some(html) = crate::canvas::view_html(&ctx, a, &mut stack) {
                                    field(&mut h, &html);
                                }
                            }
                        }
                        LinkTarget::Attachment(a) if comp.bases.get(a).is_some() => {
                            let links = crate::bases::PageLinks { plan, root: "" };
                            let view = crate::render::html::base_view(link);
                            h.write_u8(b'V');
                            if let Some(html) = crate::bases::view_html(comp, &links, a, view, n) {
                                field(&mut h, &html);
                            }
                        }
                        _ => {}
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
        // Backlinks: who links here, with the text around each link.
        h.write_u8(b'B');
        for b in comp.graph.backlinks(id) {
            if plan.note_page(b.source).is_none() {
                continue;
            }
            h.write_u64(self.source[b.source.0 as usize]);
            h.write_u64(b.link as u64);
        }
        h.finish()
    }

    /// A list page's fingerprint: its template and the exact view the template is given.
    pub fn view_page(&self, path: &str, template: &str, view: &impl serde::Serialize) -> u64 {
        let mut h = self.page_hasher(path);
        field(&mut h, template);
        // Encoding the view is far cheaper than rendering the template with it.
        super::view_hash::hash(&mut h, view);
        h.finish()
    }

    /// The fingerprint of a data file that is its view serialized: hashing its bytes costs
    /// less than encoding the view once more to hash it.
    pub fn bytes_page(&self, path: &str, bytes: &[u8]) -> u64 {
        let mut h = self.page_hasher(path);
        h.update(bytes);
        h.finish()
    }

    /// A search shard's fingerprint: its notes' pages, paths, titles and texts (their
    /// `source_share`: tags and headings come from the text), and their share of the index.
    pub fn search_shard(
        &self,
        path: &str,
        ids: &[NoteId],
        per_note: usize,
        canvases: &[u64],
    ) -> u64 {
        let mut h = self.page_hasher(path);
        h.write_u64(per_note as u64);
        for &id in ids {
            h.write_u64(self.source[id.0 as usize]);
        }
        // Each canvas's document, hashed by its maker (`render::CanvasDoc`).
        for &canvas in canvases {
            h.write_u64(canvas);
        }
        h.finish()
    }
}

/// What a backlink from note `id` shows on another page: its page, path, title and text.
fn source_share(comp: &Compilation, plan: &SitePlan, id: NoteId, text: u64) -> u64 {
    let note = comp.vault.note(id);
    let mut h = Xxh3::new();
    field(&mut h, page_file(plan.note_page(id)));
    field(&mut h, note.path.as_str());
    field(&mut h, &note.title);
    h.write_u64(text);
    h.finish()
}

/// One note's share of a page: its text, where each of its links goes and its tags' pages
/// (for the page's own note these are also the header's tag links). A link to a note hashes
/// the target's entry in `pages` rather than reading its folder's name: at 100k notes the
/// vault's million links would each read a string far away in memory. `tag_pages` holds the
/// page folder of each tag spelling the note uses (see [`tag_pages`]).
fn body_share(
    comp: &Compilation,
    plan: &SitePlan,
    pages: &[u64],
    tag_pages: &FastMap<&str, &str>,
    id: NoteId,
    text: u64,
) -> u64 {
    let mut h = Xxh3::new();
    let note = comp.vault.note(id);
    let h = &mut h;
    h.write_u8(b'N');
    field(h, note.path.as_str());
    h.write_u64(text);
    for i in 0..note.links.len() {
        match link_dest(comp, plan, id, i) {
            LinkDest::Note {
                target,
                anchor: (hash, anchor),
                broken_fragment,
                ..
            } => {
                h.write_u8(b'n');
                h.write_u64(pages[target.0 as usize]);
                field(h, hash);
                field(h, anchor);
                h.write_u8(broken_fragment as u8);
            }
            LinkDest::Attachment(path) => {
                h.write_u8(b'a');
                field(h, path);
            }
            LinkDest::Canvas(page) => {
                h.write_u8(b'c');
                field(h, page.as_str());
            }
            LinkDest::Missing => h.write_u8(b'm'),
        }
    }
    for tag in &note.tags {
        // Both callers make `tag_pages` from the notes they hash.
        field(h, tag_pages[tag.name.as_str()]);
    }
    h.finish()
}

/// Each spelling of a tag that `notes` use, with its page's folder (`page_file`): a lookup in
/// the plan folds the name, so it is made once per spelling instead of once per use.
fn tag_pages<'a>(
    comp: &'a Compilation,
    plan: &'a SitePlan,
    notes: &[NoteId],
) -> FastMap<&'a str, &'a str> {
    notes
        .par_iter()
        .fold(FastMap::default, |mut map: FastMap<&str, &str>, &id| {
            for tag in &comp.vault.note(id).tags {
                map.entry(tag.name.as_str())
                    .or_insert_with(|| page_file(plan.tag_page(&tag.name)));
            }
            map
        })
        .reduce(FastMap::default, |mut a, b| {
            a.extend(b);
            a
        })
}

/// What a list page shows of note `id` (`render::entry`: its title, vault path, page URL and
/// tags), as a fingerprint, without building the entry; `None` when the note has no page.
/// It reads exactly what `entry` reads except the page's root prefix, which every list page
/// hashes once in its site view. Keep the two in step.
pub fn list_entry(comp: &Compilation, plan: &SitePlan, id: NoteId) -> Option<u64> {
    let page = plan.note_page(id)?;
    let note = comp.vault.note(id);
    let mut h = Xxh3::new();
    field(&mut h, &note.title);
    field(&mut h, note.path.as_str());
    field(&mut h, page.as_str());
    // `entry` drops repeated neighbours (`Vec::dedup`); the tags come last, so their count
    // needs no prefix.
    let mut previous: Option<&str> = None;
    for tag in &note.tags {
        if previous != Some(tag.name.as_str()) {
            field(&mut h, &tag.name);
            previous = Some(&tag.name);
        }
    }
    Some(h.finish())
}

/// Hashes a string with its length, so that consecutive fields cannot run into each other.
fn field(h: &mut Xxh3, s: &str) {
    h.write_u64(s.len() as u64);
    h.write(s.as_bytes());
}

/// A page's folder (which names its file), `"\0"` for no page (unpublished target or tag).
fn page_file(page: Option<&crate::site::PageDir>) -> &str {
    page.map_or("\0", |p| p.as_str())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_render_source_is_hashed() {
        crate::code_hash::tests::assert_folder_hashed("render", super::RENDER_SOURCES);
    }
}
