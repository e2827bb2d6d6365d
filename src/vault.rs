//! The parsed vault: an arena of notes and attachments addressed by [`NoteId`] and
//! [`AttachmentId`] (indices in path order, so ids are deterministic).

use serde::{Deserialize, Serialize};

use crate::discover::AttachmentFile;
use crate::parse::body::{BodySource, BodyTemplate};
use crate::source::{LineIndex, Span, VaultPath};

/// Index of a note in [`Vault::notes`] (notes are sorted by path).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct NoteId(pub u32);

/// Index of an attachment in [`Vault::attachments`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct AttachmentId(pub u32);

/// All notes and attachments of a vault.
#[derive(Debug, Default)]
pub struct Vault {
    /// Notes sorted by path; `notes[id.0]`.
    pub notes: Vec<Note>,
    /// Attachments sorted by path; `attachments[id.0]`.
    pub attachments: Vec<AttachmentFile>,
    /// Files other than notes that diagnostics point into (an Obsidian settings file that
    /// vaultc cannot use), sorted by path: their diagnostics get a line, a column and a
    /// snippet as a note's do.
    pub other_sources: Vec<OtherSource>,
}

/// A file of the vault that is not a note, read because a diagnostic points into it.
#[derive(Clone, Debug)]
pub struct OtherSource {
    /// Vault path.
    pub path: VaultPath,
    /// The text (lossily decoded).
    pub text: String,
}

impl Vault {
    /// The text the diagnostics of `path` point into, with its line index: a note's, or
    /// another source's.
    pub fn source_text(&self, path: &VaultPath) -> Option<(&str, std::borrow::Cow<'_, LineIndex>)> {
        if let Ok(i) = self.notes.binary_search_by(|n| n.path.cmp(path)) {
            let note = &self.notes[i];
            return Some((&note.text, std::borrow::Cow::Borrowed(note.lines())));
        }
        let i = self
            .other_sources
            .binary_search_by(|s| s.path.cmp(path))
            .ok()?;
        let text = &self.other_sources[i].text;
        Some((text, std::borrow::Cow::Owned(LineIndex::new(text))))
    }

    /// The note at vault path `path`, exactly (notes are sorted by path).
    pub fn note_at(&self, path: &str) -> Option<NoteId> {
        self.notes
            .binary_search_by(|n| n.path.as_str().cmp(path))
            .ok()
            .map(|i| NoteId(i as u32))
    }

    /// The attachment at vault path `path`, exactly (attachments are sorted by path).
    pub fn attachment_at(&self, path: &str) -> Option<AttachmentId> {
        self.attachments
            .binary_search_by(|a| a.path.as_str().cmp(path))
            .ok()
            .map(|i| AttachmentId(i as u32))
    }

    /// The note with this id.
    pub fn note(&self, id: NoteId) -> &Note {
        &self.notes[id.0 as usize]
    }

    /// The attachment with this id.
    pub fn attachment(&self, id: AttachmentId) -> &AttachmentFile {
        &self.attachments[id.0 as usize]
    }

    /// Every note with its id.
    pub fn note_ids(&self) -> impl Iterator<Item = (NoteId, &Note)> {
        self.notes
            .iter()
            .enumerate()
            .map(|(i, n)| (NoteId(i as u32), n))
    }

    /// Number of links in all notes.
    pub fn link_count(&self) -> usize {
        self.notes.iter().map(|n| n.links.len()).sum()
    }
}

/// One markdown note after parsing. Parsing never fails: problems are diagnostics.
#[derive(Debug)]
pub struct Note {
    /// Vault path.
    pub path: VaultPath,
    /// The whole file text as read (front matter included).
    pub text: String,
    /// Byte offset where the markdown body starts (after the front matter).
    pub body_start: usize,
    /// Display title: front matter `title`, else first H1, else the file name.
    pub title: String,
    /// Recognised front-matter keys.
    pub front_matter: FrontMatter,
    /// Headings in document order, with unique anchors.
    pub headings: Vec<Heading>,
    /// Block ids (`^id`) in document order.
    pub blocks: Vec<Block>,
    /// Links and embeds in document order (front-matter links first).
    pub links: Vec<Link>,
    /// Tag uses (front matter and inline), in document order.
    pub tags: Vec<TagUse>,
    /// Line starts of `text`, made on first use ([`Note::lines`]): diagnostics and backlink
    /// contexts need them, most notes of a `check` never do.
    pub lines: std::sync::OnceLock<LineIndex>,
    /// Headings and blocks by key, made on the first fragment lookup of a note with many
    /// ([`crate::resolve::fragments::FragmentIndex`]).
    pub fragments: std::sync::OnceLock<crate::resolve::fragments::FragmentIndex>,
    /// Headings and block ids by their near spellings, made on the first "did you mean" for a
    /// missing fragment of a note with many ([`crate::diag::checks::NearIndex`]).
    pub near: std::sync::OnceLock<crate::diag::checks::NearIndex>,
    /// The `%% comments %%` of the body, made on first use ([`Note::comments`]): every embed
    /// of a part of the note renders that part through them.
    pub comments: std::sync::OnceLock<Vec<std::ops::Range<usize>>>,
    /// The body has a diagram (` ```mermaid `): a site that shows it carries the diagram
    /// renderer.
    pub diagrams: bool,
    /// The text of each ` ```base ` block of the body (Obsidian's bases written in a note):
    /// the page shows the view it defines, and `check` reads it as a base.
    pub bases: Vec<Span>,
    /// The body as HTML with holes for what each page decides, when it was parsed for a
    /// build (see [`crate::parse::body`]); `None` when taken from the parse cache, parsed
    /// for `check`, or not published (`publish: false`): a page then makes one each time it
    /// needs it, without keeping it.
    pub body: Option<BodyTemplate>,
}

impl Note {
    /// The folder of the note (`""` at the vault root).
    pub fn folder(&self) -> &str {
        self.path.folder()
    }

    /// Whether the note is published (`publish: false` and `draft: true` hide it).
    pub fn is_published(&self, include_drafts: bool) -> bool {
        self.front_matter.publish && (include_drafts || !self.front_matter.draft)
    }

    /// Line starts of the text.
    pub fn lines(&self) -> &LineIndex {
        self.lines.get_or_init(|| LineIndex::new(&self.text))
    }

    /// Headings and block ids by their near spellings ([`Note::near`]), made once.
    pub fn near(&self) -> &crate::diag::checks::NearIndex {
        self.near
            .get_or_init(|| crate::diag::checks::NearIndex::new(self))
    }

    /// The byte ranges of the body's `%% comments %%` ([`crate::parse::comment_ranges`]),
    /// found once: a note embedded thousands of times is not searched for `%%` each time.
    pub fn comments(&self) -> &[std::ops::Range<usize>] {
        self.comments
            .get_or_init(|| crate::parse::comment_ranges(&self.text, self.body_start))
    }

    /// The source text of a span.
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }

    /// What a body template of this note is made from.
    pub fn body_source(&self) -> BodySource<'_> {
        BodySource {
            text: &self.text,
            links: &self.links,
            blocks: &self.blocks,
            headings: &self.headings,
            tags: &self.tags,
        }
    }
}

/// Front-matter keys vaultc understands; everything else is kept in `extra`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FrontMatter {
    /// `title`.
    pub title: Option<String>,
    /// `aliases` (or deprecated `alias`).
    pub aliases: Vec<String>,
    /// `cssclasses` (or deprecated `cssclass`).
    pub cssclasses: Vec<String>,
    /// `publish` (default true).
    pub publish: bool,
    /// `draft` (default false).
    pub draft: bool,
    /// `permalink`: a custom URL path for the page.
    pub permalink: Option<String>,
    /// `description` (or `summary`).
    pub description: Option<String>,
    /// `date`, as written.
    pub date: Option<String>,
    /// Codes allowed in this note only (`vaultc: { allow: [orphan-note] }`).
    pub allow: Vec<crate::diag::Code>,
    /// Other keys in file order, values as JSON.
    pub extra: Vec<(String, serde_json::Value)>,
}

/// A heading of a note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heading {
    /// 1 to 6.
    pub level: u8,
    /// Plain text of the heading.
    pub text: String,
    /// The HTML id on the page: readable, unique within the note.
    pub anchor: String,
    /// What `#fragment`s are compared with: the normalised text, and the normalised source
    /// (`` `code` `` headings differ), computed once at parse time.
    pub keys: [String; 2],
    /// Source range of the whole heading line(s).
    pub span: Span,
}

/// A block that carries an id (`^id`), which links and embeds can address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// The id without `^`.
    pub id: String,
    /// The block's source range (paragraph, list item, or the table/list/quote before a lone `^id`).
    pub span: Span,
    /// Where the ` ^id` marker itself is written.
    pub marker: Span,
}

/// Where a link was written and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkKind {
    /// `[[x]]` in the body.
    Wiki,
    /// `![[x]]` or `![alt](x)`: shown inline.
    Embed,
    /// `[text](x)` to a local file.
    Markdown,
    /// `[[x]]` inside a front-matter property value.
    Property,
}

/// The part of a link after `#`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fragment {
    /// `#H1#H2`: a heading chain (one or more components).
    Heading(Vec<String>),
    /// `#^id`: a block reference.
    Block(String),
    /// `#page=3`, `#height=400`: viewer options of PDFs and media, not a heading.
    Viewer(String),
}

impl Fragment {
    /// The fragment as written, without the leading `#`.
    pub fn as_written(&self) -> String {
        match self {
            Fragment::Heading(parts) => parts.join("#"),
            Fragment::Block(id) => format!("^{id}"),
            Fragment::Viewer(s) => s.clone(),
        }
    }
}

/// A link or embed as written in a note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Wikilink, embed, markdown link or property.
    pub kind: LinkKind,
    /// The target path as written: trimmed, without fragment or label (`""` for `[[#H]]`).
    pub target: String,
    /// The fragment, if any.
    pub fragment: Option<Fragment>,
    /// The label after `|` (`None` when absent or empty).
    pub label: Option<String>,
    /// The whole link in the source (`[[...]]`, `![[...]]`, `[..](..)`).
    pub span: Span,
}

/// One use of a tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagUse {
    /// Tag name without `#`, as written.
    pub name: String,
    /// Where it is written (front-matter tags point at the `tags` key line).
    pub span: Span,
}
