//! View structs: the only data templates see (see docs/theme-contract.md). Borrowed,
//! `Serialize`-only, separate from domain types so templates cannot depend on internals.

use serde::Serialize;

/// Site-wide values every page gets as `site`.
#[derive(Clone, Debug, Serialize)]
pub struct SiteView<'a> {
    /// Site title (`[site] title`, else the vault folder's name).
    pub title: &'a str,
    /// The pages' language tag, for `<html lang>` (`[site] language`, else `en`).
    pub language: &'a str,
    /// The words of the pages, in that language (see [`super::strings`]).
    pub strings: &'a super::strings::UiStrings,
    /// Relative prefix from the page to the site root.
    pub root: String,
    /// `vaultc x.y.z`.
    pub generator: &'static str,
    /// The vault's `publish.css` (its site path, relative to `root`), when it has one: linked
    /// after the theme's stylesheet, so its rules win.
    pub stylesheet: Option<&'a str>,
    /// This page's address under `[site] url` (`https://example.org/notes/clip/`), when the
    /// site says where it is published: for `<link rel="canonical">` and link previews.
    pub canonical: Option<String>,
}

/// The page being rendered, as `page`.
#[derive(Clone, Debug, Serialize)]
pub struct PageView<'a> {
    /// Template kind: note, index, tag, tags, wanted, graph, 404, redirect.
    pub kind: &'static str,
    /// Page title.
    pub title: &'a str,
}

/// A canvas's page, as `canvas`.
#[derive(Clone, Debug, Serialize)]
pub struct CanvasView<'a> {
    /// The file's name without `.canvas`.
    pub title: &'a str,
    /// Its vault path (`Maps/Board.canvas`).
    pub path: &'a str,
    /// The URL of the copied `.canvas` file (its JSON), relative to the page.
    pub file_url: String,
    /// The drawn canvas, already safe (`{{ canvas.html|safe }}`).
    pub html: String,
}

/// A link to a page.
#[derive(Clone, Debug, Serialize)]
pub struct LinkView {
    /// Display name.
    pub name: String,
    /// Relative URL.
    pub url: String,
}

/// A heading in the table of contents.
#[derive(Clone, Debug, Serialize)]
pub struct TocEntry<'a> {
    /// 1-6.
    pub level: u8,
    /// Heading text, as shown (without `==` highlight marks).
    pub text: std::borrow::Cow<'a, str>,
    /// Anchor id.
    pub anchor: &'a str,
}

/// A front-matter property shown on the page.
#[derive(Clone, Debug, Serialize)]
pub struct PropertyView {
    /// Key.
    pub key: String,
    /// Value as display text.
    pub value: String,
}

/// A note linking to the page, with the text around each of its links.
#[derive(Clone, Debug, Serialize)]
pub struct BacklinkView<'a> {
    /// Title of the linking note.
    pub title: &'a str,
    /// Relative URL of the linking note's page.
    pub url: String,
    /// Vault path of the linking note.
    pub path: &'a str,
    /// Plain-text context of each link.
    pub contexts: Vec<String>,
}

/// `note` on a note page.
#[derive(Clone, Debug, Serialize)]
pub struct NoteView<'a> {
    /// Title.
    pub title: &'a str,
    /// Vault path.
    pub path: &'a str,
    /// Folder.
    pub folder: &'a str,
    /// The classes of front matter `cssclasses` (each value split at white space), which
    /// Obsidian gives the note's view: the page's `<article>` carries them for a theme's CSS.
    pub cssclasses: Vec<&'a str>,
    /// Rendered body.
    pub html: String,
    /// Tags with their pages.
    pub tags: Vec<LinkView>,
    /// Aliases.
    pub aliases: &'a [String],
    /// Table of contents.
    pub toc: Vec<TocEntry<'a>>,
    /// `description`.
    pub description: Option<&'a str>,
    /// The address of the page's link-preview image (`og:image`), when the site knows its
    /// address: the front matter's `image` or `cover` (an address, or the vault image it
    /// names), else the first image the note embeds.
    pub image: Option<String>,
    /// `date`.
    pub date: Option<&'a str>,
    /// Other front-matter keys.
    pub properties: Vec<PropertyView>,
    /// Linked mentions.
    pub backlinks: Vec<BacklinkView<'a>>,
    /// Number of outgoing links.
    pub outlinks_count: usize,
    /// The body has code in a language (` ```rust `): the page loads the highlighter.
    pub code: bool,
    /// The body has diagrams (` ```mermaid `): the page loads the diagram renderer.
    pub diagrams: bool,
    /// The body embeds a canvas: the page loads the script that fits it to the column.
    pub canvases: bool,
}

/// A note in a listing.
#[derive(Clone, Debug, Serialize)]
pub struct NoteEntry<'a> {
    /// Title.
    pub title: &'a str,
    /// Relative URL.
    pub url: String,
    /// Vault path.
    pub path: &'a str,
    /// Tag names.
    pub tags: EntryTags<'a>,
}

/// A note's tag names as a listing shows them: in order, a tag written again right after
/// itself once. Borrowed from the note and walked when shown, so the pages listing a note
/// (one per tag it carries) do not each copy its tags.
#[derive(Clone, Copy, Debug)]
pub struct EntryTags<'a>(pub &'a [crate::vault::TagUse]);

impl<'a> EntryTags<'a> {
    /// The names, in order.
    pub fn iter(self) -> impl Iterator<Item = &'a str> {
        let mut last: Option<&str> = None;
        self.0.iter().filter_map(move |t| {
            let name = t.name.as_str();
            (last.replace(name) != Some(name)).then_some(name)
        })
    }

    /// Whether the note has no tags.
    pub fn is_empty(self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for EntryTags<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// A folder on the index page.
#[derive(Clone, Debug, Serialize)]
pub struct FolderView<'a> {
    /// Folder path (`""` is the root).
    pub name: &'a str,
    /// Nesting depth.
    pub depth: usize,
    /// Notes directly in it.
    pub notes: Vec<NoteEntry<'a>>,
    /// Canvases directly in it, each opening its page.
    pub canvases: Vec<CanvasEntry<'a>>,
}

/// A canvas as an entry of the index page.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, Hash)]
pub struct CanvasEntry<'a> {
    /// The file's name without `.canvas`.
    pub title: &'a str,
    /// Relative URL of its page.
    pub url: String,
    /// Vault path.
    pub path: &'a str,
}

/// Counts on the index page.
#[derive(Clone, Debug, Serialize)]
pub struct StatsView {
    /// Published notes.
    pub notes: usize,
    /// Links.
    pub links: usize,
    /// Wanted notes.
    pub wanted: usize,
    /// Tags.
    pub tags: usize,
    /// Attachments.
    pub attachments: usize,
}

/// `tag` on a tag page.
#[derive(Clone, Debug, Serialize)]
pub struct TagView<'a> {
    /// Tag name.
    pub name: &'a str,
    /// Notes with the tag.
    pub notes: Vec<NoteEntry<'a>>,
    /// Nested tags.
    pub children: Vec<LinkView>,
}

/// A tag on the tags page.
#[derive(Clone, Debug, Serialize)]
pub struct TagEntry<'a> {
    /// Tag name.
    pub name: &'a str,
    /// Relative URL.
    pub url: String,
    /// Notes using it.
    pub count: usize,
}

/// A missing note on the wanted page.
#[derive(Clone, Debug, Serialize)]
pub struct WantedView<'a> {
    /// The name as first written.
    pub name: &'a str,
    /// Anchor id on the wanted page (wanted links point at it).
    pub anchor: String,
    /// Who links to it.
    pub referrers: Vec<ReferrerView<'a>>,
}

/// A note that links to a wanted note.
#[derive(Clone, Debug, Serialize)]
pub struct ReferrerView<'a> {
    /// Title.
    pub title: &'a str,
    /// Relative URL (empty when the note is not published).
    pub url: String,
    /// Vault path.
    pub path: &'a str,
    /// Line of the link.
    pub line: u32,
}
