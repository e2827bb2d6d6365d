//! Plans the site: which pages exist and where (pretty URLs `folder/note/index.html`), before
//! anything is rendered. Slug collisions are resolved deterministically (path order, `-2`,
//! `-3`, ...) and reported; no planned path can leave the output folder.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use petgraph::graph::NodeIndex;

use crate::diag::{Code, Diagnostic};
use crate::graph::ConceptGraph;
use crate::slug::{slugify, UniqueNames};
use crate::source::{fold_name, Span};
use crate::vault::{AttachmentId, NoteId, Vault};

/// Top-level names the site itself uses; notes cannot take them.
pub const RESERVED: &[&str] = &[
    "tags",
    "wanted",
    "graph",
    "static",
    "404.html",
    "index.html",
];

/// The longest slug one folder of a page's path gets, in bytes. File systems refuse names over
/// 255 bytes; a longer slug (a long tag, alias or permalink, or a name whose lower case takes
/// more bytes) is cut here, which leaves room for the `-2`, `-3`, ... of a collision.
pub const MAX_SEGMENT_BYTES: usize = 200;

/// The longest folder path a page gets, in bytes, far below the 4,096 bytes a whole path may
/// have with the output folder in front. Folders past it (a tag nested hundreds of levels, a
/// permalink of thousands of parts) are dropped.
pub const MAX_PAGE_PATH_BYTES: usize = 1024;

/// [`slugify`] for one folder of a page's path: cut to [`MAX_SEGMENT_BYTES`] at a character
/// boundary, with no `-` left at its end.
fn segment(text: &str) -> String {
    let mut slug = slugify(text);
    if slug.len() > MAX_SEGMENT_BYTES {
        slug.truncate(crate::source::floor_char_boundary(&slug, MAX_SEGMENT_BYTES));
        let kept = slug.trim_end_matches('-').len();
        slug.truncate(kept);
    }
    slug
}

/// `parts` without the trailing ones that would make their path longer than
/// [`MAX_PAGE_PATH_BYTES`]; the first is always kept (it is at most [`MAX_SEGMENT_BYTES`]).
fn within_path_limit(mut parts: Vec<String>) -> Vec<String> {
    let mut len = 0;
    let keep = parts
        .iter()
        .take_while(|p| {
            len += p.len() + usize::from(len > 0);
            len <= MAX_PAGE_PATH_BYTES
        })
        .count();
    parts.truncate(keep.max(1));
    parts
}

/// A page's folder inside the site, `/`-separated, no leading or trailing slash; `""` is the
/// site root. The page itself is `{dir}/index.html`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PageDir(String);

impl PageDir {
    /// The site root.
    pub fn root() -> PageDir {
        PageDir(String::new())
    }

    /// The folder of one of the site's own pages (a name from [`RESERVED`]).
    pub fn reserved(name: &str) -> PageDir {
        debug_assert!(RESERVED.contains(&name));
        PageDir(name.to_string())
    }

    /// A page folder from slug components (already safe).
    fn from_parts(parts: &[String]) -> PageDir {
        PageDir(parts.join("/"))
    }

    /// The folder path.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The HTML file of the page, relative to the site root.
    pub fn file(&self) -> String {
        if self.0.is_empty() {
            "index.html".to_string()
        } else {
            format!("{}/index.html", self.0)
        }
    }

    /// How many folders deep the page is (its `site.root` is `../` that many times).
    pub fn depth(&self) -> usize {
        if self.0.is_empty() {
            0
        } else {
            self.0.split('/').count()
        }
    }

    /// The relative prefix from this page to the site root.
    pub fn root_prefix(&self) -> String {
        "../".repeat(self.depth())
    }
}

/// Every page of the site and where it goes.
#[derive(Debug, Default)]
pub struct SitePlan {
    /// Page of each note (`None`: not published).
    pub notes: Vec<Option<PageDir>>,
    /// Tag pages: tag node, display name, page; sorted by folded name.
    pub tags: Vec<(NodeIndex, String, PageDir)>,
    /// Folded tag name -> index in `tags`.
    tag_index: std::collections::HashMap<String, usize>,
    /// Alias redirect pages: page, the note it redirects to, the alias.
    pub aliases: Vec<(PageDir, NoteId, String)>,
    /// The page of each canvas (`.canvas` attachment), sorted by attachment: a link to a
    /// canvas opens its page, as Obsidian opens the canvas, rather than its JSON.
    pub canvases: Vec<(AttachmentId, PageDir)>,
    /// Where each attachment is copied, by [`AttachmentId`]: its vault path, unless the site
    /// makes a file or folder there itself (see [`SitePlan::attachment_files`]).
    pub attachments: Vec<String>,
    /// The theme's files under `static/` (their paths there), which attachments must not
    /// overwrite.
    pub assets: Vec<String>,
    /// Whether the site knows where it is published (`[site] url`): it then lists its pages
    /// in `sitemap.xml` (and, past [`SITEMAP_URLS`] pages, in `sitemaps/`) and its dated notes
    /// in `feed.xml`, files attachments yield to.
    pub has_url: bool,
    /// Slug collisions, rejected permalinks and moved attachments.
    pub diagnostics: Vec<Diagnostic>,
}

impl SitePlan {
    /// How many notes are published (have a page).
    pub fn published(&self) -> usize {
        self.notes.iter().filter(|p| p.is_some()).count()
    }

    /// The page of a note, if published.
    pub fn note_page(&self, id: NoteId) -> Option<&PageDir> {
        self.notes[id.0 as usize].as_ref()
    }

    /// The page of a canvas, when attachment `id` is one.
    pub fn canvas_page(&self, id: AttachmentId) -> Option<&PageDir> {
        self.canvases
            .binary_search_by_key(&id, |(a, _)| *a)
            .ok()
            .map(|i| &self.canvases[i].1)
    }

    /// The page of a tag, by its folded name.
    pub fn tag_page(&self, name: &str) -> Option<&PageDir> {
        self.tag_position(name).map(|i| &self.tags[i].2)
    }

    /// Where the tag named `name` (any letter case) is in `tags`.
    pub fn tag_position(&self, name: &str) -> Option<usize> {
        crate::source::with_folded(name, |folded| self.tag_index.get(folded).copied())
    }

    /// Plans the tag pages of `graph`'s tags, replacing any planned before. Tag pages live in
    /// `tags/` and yield to the pages of notes and aliases there (a vault folder `tags/`, or a
    /// permalink): a tag whose folder a note has gets `-2`. So no other page moves with them,
    /// and a build session plans them again after notes' tags changed.
    pub fn plan_tags(&mut self, graph: &ConceptGraph) {
        self.tags.clear();
        self.tag_index.clear();
        let mut tags: Vec<(NodeIndex, String)> = graph
            .tags()
            .map(|(n, name)| (n, name.to_string()))
            .collect();
        tags.sort_by_key(|(_, name)| fold_name(name));
        let mut tag_taken = UniqueNames::with_taken(
            self.notes
                .iter()
                .flatten()
                .chain(self.aliases.iter().map(|(page, _, _)| page))
                .chain(self.canvases.iter().map(|(_, page)| page))
                .filter_map(|page| page.as_str().strip_prefix("tags/"))
                .map(str::to_string),
        );
        for (node, name) in tags {
            let mut parts: Vec<String> = name
                .split('/')
                .map(segment)
                .filter(|s| !s.is_empty())
                .collect();
            if parts.is_empty() {
                parts.push("tag".into());
            }
            let parts = within_path_limit(parts);
            let joined = tag_taken.unique(parts.join("/"));
            self.tag_index.insert(fold_name(&name), self.tags.len());
            self.tags.push((
                node,
                name,
                PageDir::from_parts(&["tags".to_string(), joined]),
            ));
        }
    }

    /// Points the tag pages at `graph`'s tag nodes: for a concept graph built again over the
    /// same notes and tags, whose links changed (wanted targets and tags are numbered in one
    /// sequence, so a tag's node can move). `false` when a tag is not in `graph`.
    pub fn renumber_tags(&mut self, graph: &ConceptGraph) -> bool {
        for (node, name, _) in &mut self.tags {
            match graph.tag_node(name) {
                Some(n) => *node = n,
                None => return false,
            }
        }
        true
    }

    /// The site file an attachment is copied to.
    pub fn attachment_file(&self, id: AttachmentId) -> &str {
        &self.attachments[id.0 as usize]
    }

    /// Where each of the vault's attachments goes in this plan's site, and a diagnostic for
    /// each one that cannot keep its vault path. Attachments yield to everything the site makes
    /// itself (pages, `404.html`, `graph-data.js`, the search files, the theme's assets, and
    /// the folders holding them): one whose path, or one of whose folders, is taken gets a
    /// number in the first such part (`index-2.html`, `photos-2/cat.png`). Paths are compared
    /// in lower case, since a site is often served from a case-insensitive file system; for the
    /// same reason an attachment whose path differs from an earlier one's only in letter case
    /// (`Image.png`, `image.png`) gets a number in its name.
    pub fn attachment_files(&self, vault: &Vault) -> (Vec<String>, Vec<Diagnostic>) {
        let site = SiteFiles::new(self);
        let folded: Vec<String> = vault
            .attachments
            .iter()
            .map(|a| fold_path(a.path.as_str()))
            .collect();
        let clashes: Vec<Option<usize>> = folded.iter().map(|f| site.clash(f)).collect();
        let used: HashSet<&str> = folded
            .iter()
            .zip(&clashes)
            .filter(|(_, clash)| clash.is_none())
            .map(|(f, _)| f.as_str())
            .collect();
        let mut moved: HashSet<String> = HashSet::new();
        // Paths kept by earlier attachments (lower case, to the path kept): a later one that
        // differs only in letter case (`Image.png`, `image.png`) would overwrite it on a
        // case-insensitive file system.
        let mut kept: HashMap<&str, &str> = HashMap::new();
        let mut files = Vec::with_capacity(vault.attachments.len());
        let mut diagnostics = Vec::new();
        for ((a, clash), lower) in vault.attachments.iter().zip(clashes).zip(&folded) {
            let path = a.path.as_str();
            let twin = match clash {
                Some(_) => None,
                None => match kept.entry(lower.as_str()) {
                    Entry::Occupied(earlier) => Some(*earlier.get()),
                    Entry::Vacant(slot) => {
                        slot.insert(path);
                        None
                    }
                },
            };
            let first = match clash {
                Some(first) => first,
                None if twin.is_some() => path.matches('/').count(),
                None => {
                    files.push(path.to_string());
                    continue;
                }
            };
            let mut part = first;
            let original: Vec<&str> = path.split('/').collect();
            let mut parts: Vec<String> = original.iter().map(|p| p.to_string()).collect();
            let mut counters = vec![1u32; parts.len()];
            let file = loop {
                counters[part] += 1;
                parts[part] = numbered(original[part], counters[part]);
                let candidate = parts.join("/");
                let folded = fold_path(&candidate);
                match site.clash(&folded) {
                    Some(next) => part = next,
                    // Another attachment is there: number the file name.
                    None if used.contains(folded.as_str()) || moved.contains(&folded) => {
                        part = parts.len() - 1
                    }
                    None => {
                        moved.insert(folded);
                        break candidate;
                    }
                }
            };
            let message = if let Some(earlier) = twin {
                format!(
                    "\"{earlier}\" has the same path apart from letter case, and one would \
                     overwrite the other on a case-insensitive file system; this attachment is \
                     copied to \"{file}\""
                )
            } else {
                format!(
                    "the site makes \"{}\" itself; this attachment is copied to \"{file}\"",
                    original[..=first].join("/")
                )
            };
            diagnostics.push(
                Diagnostic::new(
                    Code::SlugCollision,
                    a.path.clone(),
                    Span::default(),
                    message,
                )
                .with_help("rename the attachment (or its folder) so links to it keep its name"),
            );
            files.push(file);
        }
        (files, diagnostics)
    }

    /// Tags directly below `name` (`a/b` and `a/c` for `a`), as indices into `tags`.
    pub fn child_tags(&self) -> std::collections::HashMap<String, Vec<usize>> {
        let mut children: std::collections::HashMap<String, Vec<usize>> =
            std::collections::HashMap::new();
        for (i, (_, name, _)) in self.tags.iter().enumerate() {
            if let Some((parent, _)) = fold_name(name).rsplit_once('/') {
                children.entry(parent.to_string()).or_default().push(i);
            }
        }
        children
    }
}

/// Plans pages for every published note, alias and tag, and where attachments go. `assets`
/// are the theme's files under `static/`.
pub fn plan(
    vault: &Vault,
    graph: &ConceptGraph,
    include_drafts: bool,
    assets: &[String],
    has_url: bool,
) -> SitePlan {
    use rayon::prelude::*;
    let mut taken = UniqueNames::with_taken(
        RESERVED
            .iter()
            .map(|s| s.to_string())
            .chain([String::new()]),
    );
    let mut plan = SitePlan {
        assets: assets.to_vec(),
        has_url,
        ..SitePlan::default()
    };
    // The folder each published note asks for (its slugs), in parallel; who gets it, in note
    // order, below. `false` with the parts: the permalink had no usable path.
    let asked: Vec<Option<(Vec<String>, bool)>> = vault
        .notes
        .par_iter()
        .map(|note| {
            if !note.is_published(include_drafts) {
                return None;
            }
            Some(
                match note.front_matter.permalink.as_deref().map(permalink_parts) {
                    Some(Some(parts)) => (parts, true),
                    Some(None) => (note_parts(note.path.as_str()), false),
                    None => (note_parts(note.path.as_str()), true),
                },
            )
        })
        .collect();
    for (note, asked) in vault.notes.iter().zip(asked) {
        let Some((parts, usable)) = asked else {
            plan.notes.push(None);
            continue;
        };
        if !usable {
            plan.diagnostics.push(Diagnostic::new(
                Code::SlugCollision,
                note.path.clone(),
                Span::default(),
                "permalink has no usable path; the page uses the note's path instead",
            ));
        }
        let wanted = parts.join("/");
        // Most notes get the folder they ask for; the others `-2`, `-3`, ...
        let dir = taken.unique(wanted.clone());
        if dir == wanted {
            plan.notes.push(Some(PageDir(wanted)));
            continue;
        }
        plan.diagnostics.push(
            Diagnostic::new(
                Code::SlugCollision,
                note.path.clone(),
                Span::default(),
                format!(
                    "the page URL \"{wanted}/\" is already taken; this note's page is \"{dir}/\""
                ),
            )
            .with_help("rename one of the notes, or set a `permalink` in the front matter"),
        );
        plan.notes.push(Some(PageDir(dir)));
    }
    // Aliases before tags, so that a session planning the tags again (`plan_tags`, which
    // makes them yield to note and alias pages) gets what a whole build gets.
    for (id, note) in vault.note_ids() {
        let Some(page) = plan.notes[id.0 as usize].clone() else {
            continue;
        };
        for alias in &note.front_matter.aliases {
            let slug = segment(alias);
            if slug.is_empty() {
                continue;
            }
            let dir = match page.as_str().rsplit_once('/') {
                Some((folder, _)) => format!("{folder}/{slug}"),
                None => slug,
            };
            if taken.insert(dir.clone()) {
                plan.aliases.push((PageDir(dir), id, alias.clone()));
            }
        }
    }
    // Canvases after the notes and aliases, whose pages they yield to, and before the tags.
    for (i, a) in vault.attachments.iter().enumerate() {
        if !a.path.extension().eq_ignore_ascii_case("canvas") {
            continue;
        }
        let wanted = canvas_parts(a.path.as_str()).join("/");
        let dir = taken.unique(wanted.clone());
        if dir != wanted {
            plan.diagnostics.push(
                Diagnostic::new(
                    Code::SlugCollision,
                    a.path.clone(),
                    Span::default(),
                    format!(
                        "the page URL \"{wanted}/\" is already taken; this canvas's page is \"{dir}/\""
                    ),
                )
                .with_help("rename the canvas or the note whose page has its URL"),
            );
        }
        plan.canvases.push((AttachmentId(i as u32), PageDir(dir)));
    }
    plan.plan_tags(graph);
    let (attachments, moved) = plan.attachment_files(vault);
    plan.attachments = attachments;
    plan.diagnostics.extend(moved);
    plan
}

/// Most addresses one sitemap file may list (the sitemap protocol's limit); a site with more
/// pages lists them in `sitemaps/K.xml`, which `sitemap.xml` then lists.
pub const SITEMAP_URLS: usize = 50_000;

/// How many search shards (`search/K.js`) a site of `published` notes gets: about half the
/// square root of the note count, rounded to a power of two, so both the number of files a
/// reader loads and the notes one edit re-indexes stay small (10k notes: 64 shards of ~160
/// notes).
pub fn search_shards(published: usize) -> usize {
    let half_root = (published as f64).sqrt() / 2.0;
    (half_root.ceil() as usize)
        .next_power_of_two()
        .clamp(1, 1024)
}

/// What the site makes itself, for [`SitePlan::attachment_files`]; paths in lower case. The
/// sets of page folders are made only when an attachment could be one of them (a name with no
/// dot, since page folders are slugs, or `index.html`): most vaults ask for neither.
struct SiteFiles<'a> {
    /// The plan whose pages these are.
    plan: &'a SitePlan,
    /// Files other than pages: `404.html`, `graph-data.js`, the search files, the theme's
    /// assets.
    files: HashSet<String>,
    /// Folders holding one of `files`.
    file_folders: HashSet<String>,
    /// Folders holding a page (`index.html`): notes, aliases, tags, the site's list pages.
    pages: OnceLock<HashSet<&'a str>>,
    /// Every folder above a page's folder.
    above_pages: OnceLock<HashSet<&'a str>>,
}

impl<'a> SiteFiles<'a> {
    fn new(plan: &'a SitePlan) -> SiteFiles<'a> {
        let mut files: HashSet<String> = ["404.html", "graph-data.js", "search-index.js"]
            .into_iter()
            .map(str::to_string)
            .collect();
        files.extend((0..search_shards(plan.published())).map(|k| format!("search/{k}.js")));
        files.extend(
            plan.assets
                .iter()
                .map(|a| fold_path(&format!("static/{a}"))),
        );
        let mut file_folders = HashSet::new();
        if plan.has_url {
            files.insert("sitemap.xml".into());
            files.insert("feed.xml".into());
            file_folders.insert(crate::render::SITEMAPS.trim_end_matches('/').into());
        }
        for file in &files {
            let mut folder = file.as_str();
            while let Some((up, _)) = folder.rsplit_once('/') {
                file_folders.insert(up.to_string());
                folder = up;
            }
        }
        SiteFiles {
            plan,
            files,
            file_folders,
            pages: OnceLock::new(),
            above_pages: OnceLock::new(),
        }
    }

    /// The folders holding a page.
    fn pages(&self) -> &HashSet<&'a str> {
        self.pages.get_or_init(|| {
            let plan = self.plan;
            let mut pages: HashSet<&str> = plan
                .notes
                .iter()
                .flatten()
                .chain(plan.aliases.iter().map(|(page, _, _)| page))
                .chain(plan.canvases.iter().map(|(_, page)| page))
                .chain(plan.tags.iter().map(|(_, _, page)| page))
                .map(PageDir::as_str)
                .collect();
            pages.extend(["", "tags", "wanted", "graph"]);
            pages
        })
    }

    /// Whether the site writes a file at `path`.
    fn is_file(&self, path: &str) -> bool {
        self.files.contains(path)
            || path == "index.html"
            || path
                .strip_suffix("/index.html")
                .is_some_and(|folder| self.pages().contains(folder))
    }

    /// Whether the site makes a folder at `path`.
    fn is_folder(&self, path: &str) -> bool {
        if self.file_folders.contains(path) {
            return true;
        }
        let name = path.rsplit('/').next().unwrap_or(path);
        !name.contains('.')
            && (self.pages().contains(path)
                || self
                    .above_pages
                    .get_or_init(|| {
                        let mut above = HashSet::new();
                        for page in self.pages() {
                            let mut folder = *page;
                            while let Some((up, _)) = folder.rsplit_once('/') {
                                above.insert(up);
                                folder = up;
                            }
                        }
                        above
                    })
                    .contains(path))
    }

    /// The first part of `path` (as an index into its `/`-separated parts) that the site has
    /// taken: a folder of it that the site writes as a file, or `path` itself, as a file or a
    /// folder. `None`: an attachment can be copied there.
    fn clash(&self, path: &str) -> Option<usize> {
        for (i, (end, _)) in path.match_indices('/').enumerate() {
            if self.is_file(&path[..end]) {
                return Some(i);
            }
        }
        (self.is_file(path) || self.is_folder(path)).then(|| path.matches('/').count())
    }
}

/// `path` in lower case, char by char, as slugs are (so it compares with page folders).
fn fold_path(path: &str) -> String {
    path.chars().flat_map(char::to_lowercase).collect()
}

/// The longest file name the common file systems take (ext4, APFS, btrfs), in bytes.
const MAX_FILE_NAME_BYTES: usize = 255;

/// `name` with `-n` before its extension: `index-2.html`, `photos-2`. A name that would grow
/// past [`MAX_FILE_NAME_BYTES`] (an attachment may already be that long) loses the end of its
/// stem, at a character boundary.
fn numbered(name: &str, n: u32) -> String {
    let suffix = format!("-{n}");
    let (stem, extension) = match name.rfind('.').filter(|&dot| dot > 0) {
        Some(dot) if name.len() - dot + suffix.len() < MAX_FILE_NAME_BYTES => name.split_at(dot),
        _ => (name, ""),
    };
    let room = MAX_FILE_NAME_BYTES - suffix.len() - extension.len();
    let stem = &stem[..crate::source::floor_char_boundary(stem, room)];
    format!("{stem}{suffix}{extension}")
}

/// Slug components of a note path: folders and the file stem.
fn note_parts(path: &str) -> Vec<String> {
    let stem = path
        .strip_suffix(".md")
        .or_else(|| path.strip_suffix(".MD"))
        .unwrap_or(path);
    let stem = if stem.len() == path.len() {
        path.rsplit_once('.').map_or(path, |(s, _)| s)
    } else {
        stem
    };
    within_path_limit(
        stem.split('/')
            .map(|c| {
                let s = segment(c);
                if s.is_empty() {
                    "note".to_string()
                } else {
                    s
                }
            })
            .collect(),
    )
}

/// Slug components of a canvas's page: its folders and its name with ` canvas` for the
/// extension (`Maps/Board.canvas`: `maps/board-canvas`), so it does not take the page of a
/// note of the same name, which vaults often keep beside it.
fn canvas_parts(path: &str) -> Vec<String> {
    let stem = path.rsplit_once('.').map_or(path, |(stem, _)| stem);
    note_parts(&format!("{stem} canvas.md"))
}

/// Components of a `permalink`; `..`, `.` and empty parts are dropped, so it cannot escape.
fn permalink_parts(permalink: &str) -> Option<Vec<String>> {
    let parts: Vec<String> = permalink
        .split('/')
        .filter(|c| !c.is_empty() && *c != "." && *c != "..")
        .map(|c| segment(c.trim_start_matches(':')))
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| within_path_limit(parts))
}

/// A relative URL from the page in `from` to a site-relative file path, each segment
/// percent-encoded.
pub fn relative_url(from: &PageDir, to_file: &str) -> String {
    let mut url = from.root_prefix();
    url.push_str(&encode_path(to_file));
    url
}

/// Percent-encodes a `/`-separated path for use in an `href`.
pub fn encode_path(path: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'`')
        .add(b'{')
        .add(b'}')
        .add(b'\'');
    path.split('/')
        .map(|s| percent_encoding::utf8_percent_encode(s, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Notes asking for one folder get it in note (path) order, the others `-2`, `-3`, ...
    /// with a diagnostic each; reserved names and unusable permalinks are handled the same way
    /// on any thread count.
    #[test]
    fn colliding_pages_are_numbered_in_note_order() {
        let note = |path: &str, text: &str| {
            crate::parse::note(crate::discover::SourceFile {
                path: crate::source::VaultPath::new(path).unwrap(),
                text: text.to_string(),
                is_template: false,
            })
            .0
        };
        let mut notes = vec![
            note("A b.md", ""),
            note("a-b.md", ""),
            note("p.md", "---\npermalink: a-b\n---\n"),
            note("Tags.md", ""),
            note("x/Empty link.md", "---\npermalink: \"/../\"\n---\n"),
            note("Draft.md", "---\ndraft: true\n---\n"),
        ];
        notes.sort_by(|a, b| a.path.cmp(&b.path));
        let vault = Vault {
            notes,
            attachments: Vec::new(),
            other_sources: Vec::new(),
        };
        let resolution = crate::resolve::resolve(&vault, crate::resolve::ResolveOptions::default());
        let graph = ConceptGraph::build(&vault, &resolution);
        for threads in [1, 2, 4] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let plan = pool.install(|| plan(&vault, &graph, false, &[], false));
            let pages: Vec<(&str, Option<&str>)> = vault
                .notes
                .iter()
                .zip(&plan.notes)
                .map(|(n, p)| (n.path.as_str(), p.as_ref().map(PageDir::as_str)))
                .collect();
            assert_eq!(
                pages,
                vec![
                    ("A b.md", Some("a-b")),
                    ("Draft.md", None),
                    ("Tags.md", Some("tags-2")),
                    ("a-b.md", Some("a-b-2")),
                    ("p.md", Some("a-b-3")),
                    ("x/Empty link.md", Some("x/empty-link")),
                ],
                "{threads} threads"
            );
            let said: Vec<(&str, &str)> = plan
                .diagnostics
                .iter()
                .map(|d| (d.file.as_str(), d.message.as_str()))
                .collect();
            assert_eq!(said.len(), 4, "{said:?}");
            assert_eq!(said[0].0, "Tags.md");
            assert!(said[1].1.contains("\"a-b/\" is already taken"), "{said:?}");
            assert_eq!(said[2].0, "p.md");
            assert!(said[3].1.contains("no usable path"), "{said:?}");
        }
    }

    /// A vault of `notes` (path, text) and attachments (paths), with its site planned.
    fn planned(notes: &[(&str, &str)], attachments: &[&str]) -> (Vault, ConceptGraph, SitePlan) {
        let mut notes: Vec<crate::vault::Note> = notes
            .iter()
            .map(|(path, text)| {
                crate::parse::note(crate::discover::SourceFile {
                    path: crate::source::VaultPath::new(path).unwrap(),
                    text: text.to_string(),
                    is_template: false,
                })
                .0
            })
            .collect();
        notes.sort_by(|a, b| a.path.cmp(&b.path));
        let mut attachments: Vec<crate::discover::AttachmentFile> = attachments
            .iter()
            .map(|p| crate::discover::AttachmentFile {
                path: crate::source::VaultPath::new(p).unwrap(),
                disk_path: std::path::PathBuf::from(p),
            })
            .collect();
        attachments.sort_by(|a, b| a.path.cmp(&b.path));
        let vault = Vault {
            notes,
            attachments,
            other_sources: Vec::new(),
        };
        let resolution = crate::resolve::resolve(&vault, crate::resolve::ResolveOptions::default());
        let graph = ConceptGraph::build(&vault, &resolution);
        let assets = vec!["style.css".to_string(), "fonts/a.woff".to_string()];
        let plan = plan(&vault, &graph, false, &assets, false);
        (vault, graph, plan)
    }

    /// Many notes asking for one folder (a template's fixed permalink) get `-2`, `-3`, ... in
    /// note order, skipping numbers that notes asked for themselves.
    #[test]
    fn a_shared_permalink_numbers_every_note_in_order() {
        let texts: Vec<(String, String)> = (0..30)
            .map(|i| {
                (
                    format!("n{i:02}.md"),
                    "---\npermalink: /posts/\n---\n".to_string(),
                )
            })
            .chain([(
                "a.md".to_string(),
                "---\npermalink: posts-5\n---\n".to_string(),
            )])
            .collect();
        let notes: Vec<(&str, &str)> = texts
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        let (_, _, plan) = planned(&notes, &[]);
        let pages: Vec<&str> = plan
            .notes
            .iter()
            .map(|p| p.as_ref().unwrap().as_str())
            .collect();
        let mut expected = vec!["posts-5".to_string(), "posts".to_string()];
        expected.extend(
            (2..=31)
                .filter(|&n| n != 5)
                .take(29)
                .map(|n| format!("posts-{n}")),
        );
        assert_eq!(pages, expected);
    }

    /// Notes in a vault folder `tags/`, or with a permalink there, keep their pages; a tag
    /// whose folder one of them (or an alias page) has gets `-2`, and planning the tags again,
    /// as a session does, gives the same pages.
    #[test]
    fn tag_pages_yield_to_notes_and_aliases_under_tags() {
        let (vault, graph, mut plan) = planned(
            &[
                ("tags/a.md", "#a #b/c"),
                ("tags/B.md", "---\naliases: [d]\n---\n#d"),
                ("n.md", "---\npermalink: tags/b/c\n---\n#A #e"),
            ],
            &[],
        );
        let pages: Vec<(&str, &str)> = vault
            .notes
            .iter()
            .zip(&plan.notes)
            .map(|(n, p)| (n.path.as_str(), p.as_ref().unwrap().as_str()))
            .collect();
        assert_eq!(
            pages,
            [
                ("n.md", "tags/b/c"),
                ("tags/B.md", "tags/b"),
                ("tags/a.md", "tags/a")
            ]
        );
        let aliases: Vec<&str> = plan.aliases.iter().map(|(p, _, _)| p.as_str()).collect();
        assert_eq!(aliases, ["tags/d"]);
        let tags = |plan: &SitePlan| -> Vec<(String, String)> {
            plan.tags
                .iter()
                .map(|(_, name, page)| (fold_name(name), page.as_str().to_string()))
                .collect()
        };
        let expected: Vec<(String, String)> = [
            ("a", "tags/a-2"),
            ("b/c", "tags/b/c-2"),
            ("d", "tags/d-2"),
            ("e", "tags/e"),
        ]
        .iter()
        .map(|(n, p)| (n.to_string(), p.to_string()))
        .collect();
        assert_eq!(tags(&plan), expected);
        plan.plan_tags(&graph);
        assert_eq!(tags(&plan), expected);
    }

    /// Each attachment's vault path and the site file it is copied to.
    fn copied_to<'a>(vault: &'a Vault, plan: &'a SitePlan) -> Vec<(&'a str, &'a str)> {
        vault
            .attachments
            .iter()
            .zip(&plan.attachments)
            .map(|(a, file)| (a.path.as_str(), file.as_str()))
            .collect()
    }

    /// Attachments never overwrite what the site makes: pages, its own files, the theme's
    /// assets, the search shards, or a folder holding any of them; each one that would gets a
    /// number in the first part that clashes (or in its name, when another attachment has the
    /// numbered path), and a diagnostic.
    #[test]
    fn attachments_yield_to_the_sites_own_files_and_folders() {
        let (vault, _, plan) = planned(
            &[("a.md", "#x"), ("b.md", ""), ("c/d.md", "")],
            &[
                "404.html",
                "A/INDEX.HTML",
                "Index-2.html",
                "a/img.png",
                "a/index.html",
                "b",
                "c",
                "graph-data.js",
                "index.html",
                "plain.png",
                "search-index.js/x.png",
                "search/0.js",
                "search/1.js",
                "static/fonts",
                "static/other.css",
                "static/style.css",
                "tags/x/index.html",
            ],
        );
        let files = copied_to(&vault, &plan);
        assert_eq!(
            files,
            [
                ("404.html", "404-2.html"),
                ("A/INDEX.HTML", "A/INDEX-2.HTML"),
                ("Index-2.html", "Index-2.html"),
                ("a/img.png", "a/img.png"),
                ("a/index.html", "a/index-3.html"),
                ("b", "b-2"),
                ("c", "c-2"),
                ("graph-data.js", "graph-data-2.js"),
                ("index.html", "index-3.html"),
                ("plain.png", "plain.png"),
                ("search-index.js/x.png", "search-index-2.js/x.png"),
                ("search/0.js", "search/0-2.js"),
                ("search/1.js", "search/1.js"),
                ("static/fonts", "static/fonts-2"),
                ("static/other.css", "static/other.css"),
                ("static/style.css", "static/style-2.css"),
                ("tags/x/index.html", "tags/x/index-2.html"),
            ]
        );
        let moved: Vec<&str> = plan
            .diagnostics
            .iter()
            .filter(|d| d.code == Code::SlugCollision)
            .map(|d| d.file.as_str())
            .collect();
        assert_eq!(moved.len(), 12, "{moved:?}");
        assert!(plan.diagnostics.iter().any(|d| d.file.as_str() == "c"
            && d.message == "the site makes \"c\" itself; this attachment is copied to \"c-2\""));
        assert!(plan
            .diagnostics
            .iter()
            .any(|d| d.file.as_str() == "search-index.js/x.png"
                && d.message.contains("makes \"search-index.js\" itself")));
    }

    /// Attachments whose paths differ only in letter case would overwrite each other on a
    /// case-insensitive file system (macOS, Windows): the first in path order keeps its path,
    /// each later one gets a number in its name that no other file has, and a diagnostic.
    #[test]
    fn attachments_differing_only_in_letter_case_get_their_own_files() {
        let (vault, _, plan) = planned(
            &[("a.md", "")],
            &[
                "IMAGE.png",
                "Image.png",
                "image-2.png",
                "image.png",
                "pics/Cat.png",
                "Pics/cat.png",
            ],
        );
        let files = copied_to(&vault, &plan);
        assert_eq!(
            files,
            [
                ("IMAGE.png", "IMAGE.png"),
                ("Image.png", "Image-3.png"),
                ("Pics/cat.png", "Pics/cat.png"),
                ("image-2.png", "image-2.png"),
                ("image.png", "image-4.png"),
                ("pics/Cat.png", "pics/Cat-2.png"),
            ]
        );
        let twins: Vec<(&str, &str)> = plan
            .diagnostics
            .iter()
            .filter(|d| d.code == Code::SlugCollision)
            .map(|d| (d.file.as_str(), d.message.as_str()))
            .collect();
        assert_eq!(twins.len(), 3, "{twins:?}");
        assert!(twins.contains(&(
            "pics/Cat.png",
            "\"Pics/cat.png\" has the same path apart from letter case, and one would overwrite \
             the other on a case-insensitive file system; this attachment is copied to \
             \"pics/Cat-2.png\""
        )));
    }

    /// A numbered name stays within the file system's 255 bytes, whatever the name's length,
    /// script or extension.
    #[test]
    fn numbered_names_fit_the_file_system() {
        assert_eq!(numbered("index.html", 2), "index-2.html");
        assert_eq!(numbered("photos", 12), "photos-12");
        assert_eq!(numbered(".hidden", 2), ".hidden-2");
        let long = format!("{}.png", "a".repeat(251));
        let cut = numbered(&long, 2);
        assert_eq!(cut, format!("{}-2.png", "a".repeat(249)));
        assert_eq!(cut.len(), MAX_FILE_NAME_BYTES);
        // Three-byte characters are never split.
        let wide = format!("{}.png", "图".repeat(83));
        let cut = numbered(&wide, 10);
        assert!(
            cut.len() <= MAX_FILE_NAME_BYTES && cut.ends_with("图-10.png"),
            "{cut}"
        );
        // An extension too long to keep is treated as part of the name.
        let odd = format!("a.{}", "b".repeat(253));
        let cut = numbered(&odd, 2);
        assert!(
            cut.len() <= MAX_FILE_NAME_BYTES && cut.ends_with("b-2"),
            "{cut}"
        );
        assert_ne!(numbered(&long, 9), numbered(&long, 10));
    }

    #[test]
    fn note_parts_slug_each_component() {
        assert_eq!(note_parts("Models/CLIP.md"), vec!["models", "clip"]);
        assert_eq!(note_parts("概念/多模態模型.md"), vec!["概念", "多模態模型"]);
        assert_eq!(note_parts("!!!.md"), vec!["note"]);
    }

    /// A slug past the limit is cut at a character boundary without a `-` at its end; the
    /// path keeps its first folders up to its own limit.
    #[test]
    fn long_slugs_and_paths_are_cut_to_fit_the_file_system() {
        assert_eq!(segment(&"ab".repeat(100)), "ab".repeat(100));
        assert_eq!(segment(&"ab".repeat(101)), "ab".repeat(100));
        // 199 bytes, then a word boundary: no dash is left at the end.
        assert_eq!(
            segment(&format!("{} word", "a".repeat(199))),
            "a".repeat(199)
        );
        // Three bytes a character: 66 of them, 198 bytes.
        assert_eq!(segment(&"视".repeat(100)), "视".repeat(66));
        // `İ` lower-cases to `i` and a combining dot: 375 bytes from 250.
        let cut = segment(&"İ".repeat(125));
        assert!(
            cut.len() <= MAX_SEGMENT_BYTES && cut.starts_with("i\u{307}"),
            "{cut}"
        );
        let parts: Vec<String> = (0..1000).map(|i| format!("p{i}")).collect();
        let kept = within_path_limit(parts.clone());
        assert!(kept.join("/").len() <= MAX_PAGE_PATH_BYTES);
        assert!(kept.len() > 200 && kept[..] == parts[..kept.len()]);
        let one_more = parts[..=kept.len()].join("/").len();
        assert!(
            one_more > MAX_PAGE_PATH_BYTES,
            "a part was dropped that fits"
        );
        assert_eq!(within_path_limit(vec!["a".into(), "b".into()]), ["a", "b"]);
        assert_eq!(
            note_parts(&format!("{}/x.md", "y".repeat(300))),
            vec!["y".repeat(200), "x".to_string()]
        );
    }

    #[test]
    fn permalinks_cannot_escape() {
        assert_eq!(
            permalink_parts("/../../etc/passwd"),
            Some(vec!["etc".into(), "passwd".into()])
        );
        assert_eq!(permalink_parts("/:title"), Some(vec!["title".into()]));
        assert_eq!(permalink_parts("/../"), None);
    }

    #[test]
    fn relative_urls_climb_to_root_and_encode() {
        let from = PageDir("a/b".into());
        assert_eq!(relative_url(&from, "x y/img.png"), "../../x%20y/img.png");
        assert_eq!(
            relative_url(&PageDir::root(), "tags/index.html"),
            "tags/index.html"
        );
    }
}
