//! Plans the site: which pages exist and where (pretty URLs `folder/note/index.html`), before
//! anything is rendered. Slug collisions are resolved deterministically (path order, `-2`,
//! `-3`, ...) and reported; no planned path can leave the output folder.

use std::collections::HashSet;

use petgraph::graph::NodeIndex;

use crate::diag::{Code, Diagnostic};
use crate::graph::ConceptGraph;
use crate::slug::{slugify, unique};
use crate::source::{fold_name, Span};
use crate::vault::{NoteId, Vault};

/// Top-level names the site itself uses; notes cannot take them.
pub const RESERVED: &[&str] = &[
    "tags",
    "wanted",
    "graph",
    "static",
    "404.html",
    "index.html",
];

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
    /// Slug collisions and rejected permalinks.
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

    /// The page of a tag, by its folded name.
    pub fn tag_page(&self, name: &str) -> Option<&PageDir> {
        self.tag_position(name).map(|i| &self.tags[i].2)
    }

    /// Where the tag named `name` (any letter case) is in `tags`.
    pub fn tag_position(&self, name: &str) -> Option<usize> {
        crate::source::with_folded(name, |folded| self.tag_index.get(folded).copied())
    }

    /// Plans the tag pages of `graph`'s tags, replacing any planned before. Tag pages have a
    /// folder of their own (`tags/`), so no other page moves with them: a build session plans
    /// them again after notes' tags changed.
    pub fn plan_tags(&mut self, graph: &ConceptGraph) {
        self.tags.clear();
        self.tag_index.clear();
        let mut tags: Vec<(NodeIndex, String)> = graph
            .tags()
            .map(|(n, name)| (n, name.to_string()))
            .collect();
        tags.sort_by_key(|(_, name)| fold_name(name));
        let mut tag_taken = HashSet::new();
        for (node, name) in tags {
            let mut parts: Vec<String> = name
                .split('/')
                .map(slugify)
                .filter(|s| !s.is_empty())
                .collect();
            if parts.is_empty() {
                parts.push("tag".into());
            }
            let joined = unique(parts.join("/"), &mut tag_taken);
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

/// Plans pages for every published note, tag and alias.
pub fn plan(vault: &Vault, graph: &ConceptGraph, include_drafts: bool) -> SitePlan {
    use rayon::prelude::*;
    let mut taken: HashSet<String> = RESERVED.iter().map(|s| s.to_string()).collect();
    taken.insert(String::new());
    let mut plan = SitePlan::default();
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
        let Some((mut parts, usable)) = asked else {
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
        // Most notes get the folder they ask for.
        if taken.insert(wanted.clone()) {
            plan.notes.push(Some(PageDir(wanted)));
            continue;
        }
        let last = parts.pop().unwrap_or_default();
        let prefix = if parts.is_empty() {
            String::new()
        } else {
            format!("{}/", parts.join("/"))
        };
        let mut n = 2;
        let dir = loop {
            let candidate = format!("{prefix}{last}-{n}");
            if taken.insert(candidate.clone()) {
                break candidate;
            }
            n += 1;
        };
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
    plan.plan_tags(graph);
    for (id, note) in vault.note_ids() {
        let Some(page) = plan.notes[id.0 as usize].clone() else {
            continue;
        };
        for alias in &note.front_matter.aliases {
            let slug = slugify(alias);
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
    plan
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
    stem.split('/')
        .map(|c| {
            let s = slugify(c);
            if s.is_empty() {
                "note".to_string()
            } else {
                s
            }
        })
        .collect()
}

/// Components of a `permalink`; `..`, `.` and empty parts are dropped, so it cannot escape.
fn permalink_parts(permalink: &str) -> Option<Vec<String>> {
    let parts: Vec<String> = permalink
        .split('/')
        .filter(|c| !c.is_empty() && *c != "." && *c != "..")
        .map(|c| slugify(c.trim_start_matches(':')))
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then_some(parts)
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
        };
        let resolution = crate::resolve::resolve(&vault, crate::resolve::ResolveOptions::default());
        let graph = ConceptGraph::build(&vault, &resolution);
        for threads in [1, 2, 4] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let plan = pool.install(|| plan(&vault, &graph, false));
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

    #[test]
    fn note_parts_slug_each_component() {
        assert_eq!(note_parts("Models/CLIP.md"), vec!["models", "clip"]);
        assert_eq!(note_parts("概念/多模態模型.md"), vec!["概念", "多模態模型"]);
        assert_eq!(note_parts("!!!.md"), vec!["note"]);
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
