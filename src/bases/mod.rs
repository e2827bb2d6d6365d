//! Obsidian Bases: `.base` files, the views they define over the vault's files, and those
//! views shown where a note embeds them (`![[Books.base]]`, `![[Books.base#View]]`).
//!
//! A base is YAML (`filters`, `formulas`, `properties`, `views`); its filters and formulas
//! are expressions ([`expr`]). vaultc reads every `.base` file in discovery, parses it here
//! (problems are `invalid-base` diagnostics pointing into the file), and a page that embeds
//! one shows the view as a table, cards or a list of the files it selects, each linked to
//! its page. The result depends on every note's properties, links and tags, so a page with a
//! base is fingerprinted by the view's rendered bytes ([`view_html`] with the site root as
//! the page) and rebuilt whenever they change.

pub mod expr;

use std::cell::Cell;
use std::cmp::Ordering;
use std::fmt::Write as _;

use serde_json::Value as Json;

use crate::compile::Compilation;
use crate::diag::{Code, Diagnostic};
use crate::graph::ConceptGraph;
use crate::render::html::{push_escaped, push_page_url};
use crate::resolve::LinkTarget;
use crate::resolve::{Resolution, ResolveOptions};
use crate::site::SitePlan;
use crate::source::{FastMap, Span, VaultPath};
use crate::vault::{AttachmentId, Link, LinkKind, NoteId, OtherSource, Vault};
use expr::{ExprError, Expression, FileRef, Host, Scope, Value};

/// Most rows a view shows when it sets no `limit`: a page stays readable and a base over a
/// huge vault cannot make a page of unbounded size.
pub const MAX_ROWS: usize = 1000;

/// Work (in [`expr::BUDGET`]'s units) one view may spend on its rows, another on its cells:
/// about a quarter of a second. Each evaluation may spend `expr::BUDGET`; a base whose
/// expressions are costly for every file of a large vault stops here, deterministically
/// (the same rows fail on every build), instead of taking minutes.
pub const VIEW_BUDGET: u64 = 100_000_000;

/// The vault's parsed `.base` files, by attachment.
#[derive(Debug, Default)]
pub struct Bases {
    /// Parsed bases, sorted by attachment id.
    files: Vec<(AttachmentId, BaseFile)>,
    /// The ` ```base ` blocks of notes, by note and the block's offset in its text, sorted.
    inline: Vec<((NoteId, u32), BaseFile)>,
    /// What `now()` returns (milliseconds since the epoch): `SOURCE_DATE_EPOCH` when set,
    /// else the time of the compilation.
    pub now_ms: i64,
    /// How `link()` and the links in properties resolve: as the vault's links do.
    pub resolve: ResolveOptions,
    /// What reading the bases found wrong (before levels are applied), which a session's
    /// rebuild reports again beside the evaluation's problems.
    pub parse_diagnostics: Vec<Diagnostic>,
    /// The files each view (attachment, view index) starts from: published and through the
    /// filters that do not read `this`, made on first use.
    selected: std::sync::Mutex<FilesByView>,
    /// The rows of each view, per page when they depend on `this` (the embedding note),
    /// made on first use.
    rows: std::sync::Mutex<RowsByView>,
    /// The vault's folder on disk, where `file.mtime` and `file.ctime` are read.
    root: std::path::PathBuf,
    /// Every file's times and size on disk, notes then attachments, read on the first
    /// `file.mtime`, `file.ctime` or attachment `file.size` an expression asks for.
    disk: std::sync::OnceLock<Vec<DiskFacts>>,
}

/// What `file.mtime`, `file.ctime` and an attachment's `file.size` read from the disk.
#[derive(Clone, Copy, Debug, Default)]
struct DiskFacts {
    /// Modified, in milliseconds since the epoch (at most `SOURCE_DATE_EPOCH` when set).
    modified: Option<i64>,
    /// Created (the file system's birth time, where it keeps one), likewise.
    created: Option<i64>,
    /// Size in bytes.
    size: Option<u64>,
}

/// Which base: a `.base` file, or a ` ```base ` block (its note and offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum BaseKey {
    File(AttachmentId),
    Inline(NoteId, u32),
}

/// Files by (base, view index).
type FilesByView = FastMap<(BaseKey, usize), std::sync::Arc<Vec<FileRef>>>;

/// Rows by (base, view index, the embedding note when the view reads `this`).
type RowsByView = FastMap<(BaseKey, usize, Option<FileRef>), std::sync::Arc<Rows>>;

/// One `.base` file.
#[derive(Debug)]
pub struct BaseFile {
    /// Vault path of the file.
    pub path: VaultPath,
    /// Filters every view applies.
    pub filters: Option<Filter>,
    /// `formulas`, in file order.
    pub formulas: Vec<(String, Result<Expression, ExprError>)>,
    /// `properties.<name>.displayName`: column titles.
    pub display_names: Vec<(String, String)>,
    /// `summaries`: the base's own summary formulas (over `values`), in file order.
    pub summaries: Vec<(String, Result<Expression, ExprError>)>,
    /// The views, in file order (the first is shown by a plain embed).
    pub views: Vec<View>,
}

/// A filter: one expression, or a group.
#[derive(Debug)]
pub enum Filter {
    /// A statement; a row passes when it is truthy (an unparsable one passes nothing).
    Statement(Result<Expression, ExprError>),
    /// Every one of them.
    And(Vec<Filter>),
    /// Any one of them.
    Or(Vec<Filter>),
    /// None of them.
    Not(Vec<Filter>),
}

/// How a view lays out its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// A table, one column per property (also the layout of view types vaultc does not
    /// know, such as `map`).
    Table,
    /// A grid of cards, with an image when the view names one.
    Cards,
    /// A list.
    List,
}

/// One view of a base.
#[derive(Debug)]
pub struct View {
    /// `name` (`View N` when absent).
    pub name: String,
    /// `type`.
    pub layout: Layout,
    /// Filters of this view, applied with the base's.
    pub filters: Option<Filter>,
    /// `order`: the properties shown, in order (`file.name` when absent).
    pub columns: Vec<Property>,
    /// `sort`: property and descending.
    pub sort: Vec<(Property, bool)>,
    /// `groupBy`: property and descending.
    pub group_by: Option<(Property, bool)>,
    /// `limit`.
    pub limit: Option<usize>,
    /// `image` of a cards view: the property holding each card's image.
    pub image: Option<Property>,
    /// `summaries`: (property, summary name) for the table's summary row; the name is a
    /// built-in summary ([`Summary`]) or one of the base's `summaries`.
    pub summaries: Vec<(String, String)>,
}

/// A property as a view names it (`file.name`, `formula.x`, `note.x`, a bare note property),
/// read once into the expression that gives its value.
#[derive(Debug)]
pub struct Property {
    /// The name as written.
    pub name: String,
    expr: Option<Expression>,
}

impl Property {
    /// The property `name`.
    pub fn new(name: &str) -> Property {
        // A name with spaces or symbols (`note.my key`, `formula.Price (EUR)`, `due date`)
        // is read by its quoted key.
        let quoted = |prefix: &str, key: &str| {
            Expression::parse(&format!("{prefix}[{}]", serde_json::Value::from(key)))
        };
        let expr = match name.split_once('.') {
            Some((prefix @ ("note" | "formula"), key)) if !is_identifier(key) => {
                quoted(prefix, key)
            }
            Some(("note" | "file" | "formula", _)) => Expression::parse(name),
            _ if is_identifier(name) => Expression::parse(name),
            _ => quoted("note", name),
        };
        Property {
            name: name.to_string(),
            expr: expr.ok(),
        }
    }

    /// Its value for the row of `scope` (`null` when it cannot be had), spending from
    /// `budget`.
    fn value(&self, scope: &Scope, budget: &Cell<u64>) -> Value {
        self.expr
            .as_ref()
            .and_then(|e| expr::eval_within(e, scope, budget).ok())
            .unwrap_or(Value::Null)
    }
}

impl Bases {
    /// Parses the bases among `sources` (the texts discovery read, one per `.base`
    /// attachment); what cannot be read is in `parse_diagnostics`.
    pub fn parse(
        root: &std::path::Path,
        attachments: &[crate::discover::AttachmentFile],
        sources: &[OtherSource],
        resolve: ResolveOptions,
    ) -> Bases {
        let mut diagnostics = Vec::new();
        let mut files = Vec::new();
        for source in sources {
            let Ok(i) = attachments.binary_search_by(|a| a.path.cmp(&source.path)) else {
                continue;
            };
            let (base, diags) = BaseFile::parse(&source.path, &source.text);
            diagnostics.extend(diags);
            files.push((AttachmentId(i as u32), base));
        }
        files.sort_by_key(|(id, _)| *id);
        Bases {
            files,
            inline: Vec::new(),
            now_ms: now_ms(),
            resolve,
            parse_diagnostics: diagnostics,
            selected: Default::default(),
            rows: Default::default(),
            root: root.to_path_buf(),
            disk: Default::default(),
        }
    }

    /// Forgets the rows of the last build and reads the clock again: a session's rebuild
    /// changed notes the views read.
    pub fn start_again(&mut self) {
        lock(&self.selected).clear();
        lock(&self.rows).clear();
        self.disk = Default::default();
        self.now_ms = now_ms();
    }

    /// Whether the page of note `id` shows a base of its own: it embeds one (`links` are its
    /// resolved links) or holds a ` ```base ` block.
    pub fn shown_by(
        &self,
        note: &crate::vault::Note,
        links: &[crate::resolve::ResolvedLink],
    ) -> bool {
        !self.is_empty()
            && (!note.bases.is_empty()
                || crate::resolve::embeds_attachment(note, links, |a| self.get(a).is_some()))
    }

    /// The base of attachment `id`, if it is one.
    pub fn get(&self, id: AttachmentId) -> Option<&BaseFile> {
        self.files
            .binary_search_by_key(&id, |(a, _)| *a)
            .ok()
            .map(|i| &self.files[i].1)
    }

    /// Whether the vault has no base (no `.base` file, no ` ```base ` block).
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.inline.is_empty()
    }

    /// Parses the ` ```base ` blocks of the vault's notes; what cannot be read joins
    /// `parse_diagnostics`.
    pub fn parse_inline(&mut self, vault: &Vault) {
        for (id, note) in vault.note_ids() {
            for span in &note.bases {
                let text = note.text.get(span.range()).unwrap_or("");
                let (base, diags) = BaseFile::parse_at(&note.path, text, span.start as usize);
                self.parse_diagnostics.extend(diags);
                self.inline.push(((id, span.start), base));
            }
        }
    }

    /// The base of a ` ```base ` block written at `start` in note `id`.
    fn inline(&self, id: NoteId, start: u32) -> Option<&BaseFile> {
        self.inline
            .binary_search_by_key(&(id, start), |(k, _)| *k)
            .ok()
            .map(|i| &self.inline[i].1)
    }
}

/// `SOURCE_DATE_EPOCH` (seconds) when set, so a build can be reproduced; else now.
fn now_ms() -> i64 {
    if let Some(ms) = source_date_epoch_ms() {
        return ms;
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `SOURCE_DATE_EPOCH` in milliseconds, when set: a reproducible build's clock.
fn source_date_epoch_ms() -> Option<i64> {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .map(|secs| secs.saturating_mul(1000))
}

/// A file's times and size (both times at most `SOURCE_DATE_EPOCH` when it is set, as
/// reproducible builds clamp them); nothing when the file cannot be read any more.
fn disk_facts(path: &std::path::Path, epoch: Option<i64>) -> DiskFacts {
    let Ok(meta) = std::fs::metadata(path) else {
        return DiskFacts::default();
    };
    let ms = |t: std::io::Result<std::time::SystemTime>| {
        let t = t.ok()?;
        let ms = match t.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).ok()?,
            Err(before) => -i64::try_from(before.duration().as_millis()).ok()?,
        };
        Some(epoch.map_or(ms, |e| ms.min(e)))
    };
    DiskFacts {
        modified: ms(meta.modified()),
        created: ms(meta.created()),
        size: Some(meta.len()),
    }
}

impl BaseFile {
    /// Parses the text of the base at `path`; what it cannot use is reported and left out.
    pub fn parse(path: &VaultPath, text: &str) -> (BaseFile, Vec<Diagnostic>) {
        BaseFile::parse_at(path, text, 0)
    }

    /// Parses a base written at byte `offset` of the file at `path` (a ` ```base ` block of
    /// a note): its diagnostics point into the file.
    pub fn parse_at(path: &VaultPath, text: &str, offset: usize) -> (BaseFile, Vec<Diagnostic>) {
        let mut base = BaseFile {
            path: path.clone(),
            filters: None,
            formulas: Vec::new(),
            display_names: Vec::new(),
            summaries: Vec::new(),
            views: Vec::new(),
        };
        let mut problems = Problems {
            path,
            text,
            offset,
            diagnostics: Vec::new(),
        };
        if text.trim().is_empty() {
            return (base, problems.diagnostics);
        }
        let value: Json = match serde_saphyr::from_str(text) {
            Ok(v) => v,
            Err(err) => {
                let line = err.location().map_or(1, |l| l.line().max(1)) as usize;
                let message = err.to_string();
                let message = message.lines().next().unwrap_or("invalid YAML");
                problems.at_line(line, format!("base is not valid YAML: {message}"));
                return (base, problems.diagnostics);
            }
        };
        let Json::Object(map) = value else {
            problems.at_line(
                1,
                "a base must be a mapping of `filters`, `formulas`, `properties` and `views`"
                    .to_string(),
            );
            return (base, problems.diagnostics);
        };
        if let Some(filters) = map.get("filters") {
            base.filters = problems.filter(filters);
        }
        base.formulas = problems.named_expressions(&map, "formulas", "formula");
        base.summaries = problems.named_expressions(&map, "summaries", "summary");
        if let Some(Json::Object(properties)) = map.get("properties") {
            for (name, config) in properties {
                if let Some(Json::String(display)) = config.get("displayName") {
                    base.display_names.push((name.clone(), display.clone()));
                }
            }
        }
        match map.get("views") {
            Some(Json::Array(views)) => {
                for (i, view) in views.iter().enumerate() {
                    if let Some(view) = problems.view(view, i) {
                        base.views.push(view);
                    }
                }
            }
            Some(Json::Null) | None => {}
            Some(_) => problems.near("views", "`views` must be a list".into()),
        }
        for view in &base.views {
            for (property, name) in &view.summaries {
                if Summary::named(name).is_none() && !base.summaries.iter().any(|(n, _)| n == name)
                {
                    problems.near(
                        name,
                        format!(
                            "unknown summary `{name}` for `{property}` (built in: {}; or one of the base's `summaries`)",
                            Summary::ALL.map(|(n, _)| n).join(", ")
                        ),
                    );
                }
            }
        }
        (base, problems.diagnostics)
    }

    /// The index of the view a link's fragment names (`![[B.base#Name]]`), else of the
    /// first one.
    pub fn view(&self, name: Option<&str>) -> Option<usize> {
        name.and_then(|name| {
            self.views.iter().position(|v| v.name == name).or_else(|| {
                self.views
                    .iter()
                    .position(|v| v.name.eq_ignore_ascii_case(name))
            })
        })
        .or((!self.views.is_empty()).then_some(0))
    }

    /// The column title of a property: its `displayName`, else its name without `note.`.
    fn title<'a>(&'a self, property: &'a str) -> &'a str {
        let bare = property.strip_prefix("note.").unwrap_or(property);
        self.display_names
            .iter()
            .find(|(name, _)| name.strip_prefix("note.").unwrap_or(name) == bare)
            .map_or_else(
                || match property {
                    "file.name" => "Name",
                    _ => property.strip_prefix("formula.").unwrap_or(bare),
                },
                |(_, display)| display.as_str(),
            )
    }
}

/// The diagnostics of one base file while it is parsed.
struct Problems<'a> {
    path: &'a VaultPath,
    /// The base's text, which starts at `offset` in the file.
    text: &'a str,
    offset: usize,
    diagnostics: Vec<Diagnostic>,
}

impl Problems<'_> {
    fn at(&mut self, span: Span, message: String) {
        let span = Span::new(span.start as usize + self.offset..span.end as usize + self.offset);
        self.diagnostics.push(
            Diagnostic::new(Code::InvalidBase, self.path.clone(), span, message)
                .with_help("views that use it show what the rest of the base selects"),
        );
    }

    /// At line `line` (1-based), the whole line.
    fn at_line(&mut self, line: usize, message: String) {
        let start: usize = self
            .text
            .split_inclusive('\n')
            .take(line.saturating_sub(1))
            .map(str::len)
            .sum();
        let end = self.text[start.min(self.text.len())..]
            .find('\n')
            .map_or(self.text.len(), |e| start + e);
        self.at(Span::new(start.min(end)..end), message);
    }

    /// At the first place `needle` is written (the YAML value holding it), else the start.
    fn near(&mut self, needle: &str, message: String) {
        let span =
            find(self.text, needle).map_or(Span::new(0..0), |at| Span::new(at..at + needle.len()));
        self.at(span, message);
    }

    /// Parses an expression, reporting a syntax error where it is written.
    fn expression(&mut self, source: &str) -> Result<Expression, ExprError> {
        let parsed = Expression::parse(source);
        if let Err(err) = &parsed {
            let span = match find(self.text, source) {
                Some(at) => {
                    let start = crate::source::floor_char_boundary(
                        self.text,
                        (at + err.at).min(at + source.len()),
                    );
                    let end = crate::source::ceil_char_boundary(
                        self.text,
                        (start + 1).min(at + source.len()).max(start),
                    );
                    Span::new(start..end)
                }
                None => Span::new(0..0),
            };
            self.at(span, format!("cannot read `{source}`: {}", err.message));
        }
        parsed
    }

    /// The map under `key` (`formulas`, `summaries`) of names to expressions, each read and
    /// its syntax errors reported (`what` names one in a message).
    fn named_expressions(
        &mut self,
        map: &serde_json::Map<String, Json>,
        key: &str,
        what: &str,
    ) -> Vec<(String, Result<Expression, ExprError>)> {
        let mut named = Vec::new();
        match map.get(key) {
            Some(Json::Object(items)) => {
                for (name, source) in items {
                    let source = match source {
                        Json::String(s) => s.clone(),
                        Json::Number(n) => n.to_string(),
                        Json::Bool(b) => b.to_string(),
                        _ => {
                            self.near(name, format!("{what} `{name}` must be text"));
                            continue;
                        }
                    };
                    named.push((name.clone(), self.expression(&source)));
                }
            }
            Some(Json::Null) | None => {}
            Some(_) => self.near(key, format!("`{key}` must map names to expressions")),
        }
        named
    }

    /// A filter: a statement or an `and` / `or` / `not` group.
    fn filter(&mut self, value: &Json) -> Option<Filter> {
        match value {
            Json::String(s) => Some(Filter::Statement(self.expression(s))),
            Json::Bool(b) => Some(Filter::Statement(self.expression(&b.to_string()))),
            Json::Object(map) if map.len() == 1 => {
                let (key, items) = map.iter().next()?;
                let items: Vec<Filter> = match items {
                    Json::Array(items) => items.iter().filter_map(|i| self.filter(i)).collect(),
                    Json::Null => Vec::new(),
                    other => self.filter(other).into_iter().collect(),
                };
                match key.as_str() {
                    "and" => Some(Filter::And(items)),
                    "or" => Some(Filter::Or(items)),
                    "not" => Some(Filter::Not(items)),
                    _ => {
                        self.near(
                            key,
                            format!("unknown filter group `{key}` (expected `and`, `or` or `not`)"),
                        );
                        None
                    }
                }
            }
            Json::Null => None,
            _ => {
                self.near(
                    "filters",
                    "a filter must be an expression or one of `and`, `or`, `not` with a list"
                        .into(),
                );
                None
            }
        }
    }

    /// One entry of `views`.
    fn view(&mut self, value: &Json, i: usize) -> Option<View> {
        let Json::Object(map) = value else {
            self.near("views", format!("view {} must be a mapping", i + 1));
            return None;
        };
        let text = |key: &str| match map.get(key) {
            Some(Json::String(s)) => Some(s.clone()),
            Some(Json::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let layout = match text("type").as_deref() {
            Some("cards") => Layout::Cards,
            Some("list") => Layout::List,
            _ => Layout::Table,
        };
        let name = text("name").unwrap_or_else(|| format!("View {}", i + 1));
        let filters = map.get("filters").and_then(|f| self.filter(f));
        let columns = match map.get("order") {
            Some(Json::Array(items)) => items
                .iter()
                .filter_map(|c| c.as_str().map(Property::new))
                .collect(),
            _ => vec![Property::new("file.name")],
        };
        let direction = |v: &Json| {
            v.get("direction")
                .and_then(Json::as_str)
                .is_some_and(|d| d.eq_ignore_ascii_case("desc"))
        };
        let sort = match map.get("sort") {
            Some(Json::Array(items)) => items
                .iter()
                .filter_map(|s| Some((Property::new(s.get("property")?.as_str()?), direction(s))))
                .collect(),
            _ => Vec::new(),
        };
        let group_by = map
            .get("groupBy")
            .and_then(|g| Some((Property::new(g.get("property")?.as_str()?), direction(g))));
        let limit = map
            .get("limit")
            .and_then(Json::as_u64)
            .map(|l| l.min(MAX_ROWS as u64) as usize);
        let image = text("image").map(|i| Property::new(&i));
        let summaries = match map.get("summaries") {
            Some(Json::Object(items)) => items
                .iter()
                .filter_map(|(property, name)| match name.as_str() {
                    Some(name) => Some((property.clone(), name.to_string())),
                    None => {
                        self.near(
                            property,
                            format!("the summary of `{property}` must be a summary's name"),
                        );
                        None
                    }
                })
                .collect(),
            _ => Vec::new(),
        };
        Some(View {
            name,
            layout,
            filters,
            columns,
            sort,
            group_by,
            limit,
            image,
            summaries,
        })
    }
}

/// The byte offset of `needle` in `text`, if written there.
fn find(text: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    text.find(needle)
}

/// The vault as an expression sees it: notes are files `0..notes`, attachments follow.
pub struct VaultHost<'a> {
    vault: &'a Vault,
    resolution: &'a Resolution,
    graph: &'a ConceptGraph,
    options: ResolveOptions,
    bases: &'a Bases,
}

impl<'a> VaultHost<'a> {
    /// The host over a resolved vault, its graph and its bases.
    pub fn new(
        vault: &'a Vault,
        resolution: &'a Resolution,
        graph: &'a ConceptGraph,
        bases: &'a Bases,
    ) -> VaultHost<'a> {
        VaultHost {
            vault,
            resolution,
            graph,
            options: bases.resolve,
            bases,
        }
    }

    fn of(comp: &'a Compilation) -> VaultHost<'a> {
        VaultHost::new(&comp.vault, &comp.resolution, &comp.graph, &comp.bases)
    }

    /// What the disk says of `file`: every file is looked at once, together, on the first
    /// question (a view sorted by `file.mtime` asks it of every file).
    fn disk(&self, file: FileRef) -> DiskFacts {
        use rayon::prelude::*;
        let facts = self.bases.disk.get_or_init(|| {
            let epoch = source_date_epoch_ms();
            let root = &self.bases.root;
            let notes: Vec<std::path::PathBuf> = self
                .vault
                .notes
                .iter()
                .map(|n| root.join(n.path.as_str()))
                .collect();
            notes
                .par_iter()
                .chain(self.vault.attachments.par_iter().map(|a| &a.disk_path))
                .map(|path| disk_facts(path, epoch))
                .collect()
        });
        facts.get(file.0 as usize).copied().unwrap_or_default()
    }

    fn note_of(&self, file: FileRef) -> Option<NoteId> {
        ((file.0 as usize) < self.vault.notes.len()).then_some(NoteId(file.0))
    }

    fn attachment_of(&self, file: FileRef) -> Option<AttachmentId> {
        let i = (file.0 as usize).checked_sub(self.vault.notes.len())?;
        (i < self.vault.attachments.len()).then_some(AttachmentId(i as u32))
    }

    /// The file of note `id`.
    pub fn note_file(&self, id: NoteId) -> FileRef {
        FileRef(id.0)
    }

    fn attachment_file(&self, id: AttachmentId) -> FileRef {
        FileRef(self.vault.notes.len() as u32 + id.0)
    }

    fn path(&self, file: FileRef) -> Option<&'a VaultPath> {
        match (self.note_of(file), self.attachment_of(file)) {
            (Some(n), _) => Some(&self.vault.note(n).path),
            (None, Some(a)) => Some(&self.vault.attachment(a).path),
            _ => None,
        }
    }

    /// Every file, notes first.
    fn files(&self) -> impl Iterator<Item = FileRef> {
        let n = self.vault.notes.len() + self.vault.attachments.len();
        (0..n as u32).map(FileRef)
    }

    fn target_file(&self, target: &LinkTarget) -> Option<FileRef> {
        match target {
            LinkTarget::Note { id, .. } => Some(self.note_file(*id)),
            LinkTarget::Attachment(a) => Some(self.attachment_file(*a)),
            LinkTarget::Missing { .. } => None,
        }
    }

    /// A link written `text` (`Name`, `[[Name|label]]`) resolved as note `from` would.
    fn resolve(&self, from: Option<FileRef>, text: &str) -> Value {
        let inner = text
            .trim()
            .strip_prefix("[[")
            .and_then(|t| t.strip_suffix("]]"))
            .unwrap_or(text.trim());
        let (target, display) = match inner.split_once('|') {
            Some((t, d)) => (t.trim(), Some(d.trim().to_string())),
            None => (inner, None),
        };
        let target = target.split('#').next().unwrap_or("").trim();
        let src = from
            .and_then(|f| self.note_of(f))
            .or_else(|| (!self.vault.notes.is_empty()).then_some(NoteId(0)));
        let resolved = src.and_then(|src| {
            if target.is_empty() || target.contains("://") {
                return None;
            }
            let link = Link {
                kind: LinkKind::Wiki,
                target: target.to_string(),
                fragment: None,
                label: None,
                span: Span::default(),
            };
            let r = crate::resolve::resolve_link(
                self.vault,
                &self.resolution.index,
                src,
                &link,
                self.options,
            );
            self.target_file(&r.target)
        });
        Value::Link {
            target: resolved,
            text: target.to_string(),
            display,
        }
    }

    /// A front-matter value as a base sees it: wikilinks in text are links.
    fn value(&self, from: FileRef, json: &Json) -> Value {
        match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            Json::String(s) => {
                let t = s.trim();
                if t.starts_with("[[") && t.ends_with("]]") && t.len() > 4 {
                    self.resolve(Some(from), t)
                } else if let Some(date) = expr::parse_date(t) {
                    date
                } else {
                    Value::String(s.clone())
                }
            }
            Json::Array(items) => Value::List(items.iter().map(|v| self.value(from, v)).collect()),
            Json::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.value(from, v)))
                    .collect(),
            ),
        }
    }

    fn links(&self, id: NoteId, embeds: bool) -> Value {
        let note = self.vault.note(id);
        Value::List(
            note.links
                .iter()
                .enumerate()
                .filter(|(_, l)| (l.kind == LinkKind::Embed) == embeds)
                .map(|(i, l)| Value::Link {
                    target: self.target_file(&self.resolution.get(id, i).target),
                    text: l.target.clone(),
                    display: l.label.clone(),
                })
                .collect(),
        )
    }
}

impl Host for VaultHost<'_> {
    fn note_property(&self, file: FileRef, key: &str) -> Option<Value> {
        let note = self.vault.note(self.note_of(file)?);
        let fm = &note.front_matter;
        let text = |s: &Option<String>| s.as_ref().map(|s| Value::String(s.clone()));
        let list = |items: &[String]| {
            Some(Value::List(
                items.iter().map(|s| Value::String(s.clone())).collect(),
            ))
        };
        match key {
            "title" => text(&fm.title),
            "aliases" if !fm.aliases.is_empty() => list(&fm.aliases),
            "cssclasses" if !fm.cssclasses.is_empty() => list(&fm.cssclasses),
            "description" => text(&fm.description),
            "permalink" => text(&fm.permalink),
            "date" => fm
                .date
                .as_deref()
                .map(|d| expr::parse_date(d).unwrap_or_else(|| Value::String(d.to_string()))),
            "tags" => {
                let tags: Vec<Value> = note
                    .tags
                    .iter()
                    .filter(|t| (t.span.start as usize) < note.body_start)
                    .map(|t| Value::String(t.name.clone()))
                    .collect();
                (!tags.is_empty()).then_some(Value::List(tags))
            }
            _ => fm
                .extra
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| self.value(file, v)),
        }
    }

    fn file_property(&self, file: FileRef, key: &str) -> Option<Value> {
        let path = self.path(file)?;
        let note = self.note_of(file);
        let folder = path.folder();
        Some(match key {
            "name" => Value::String(path.file_name().to_string()),
            "basename" => Value::String(path.stem().to_string()),
            "path" => Value::String(path.as_str().to_string()),
            "folder" => Value::String(if folder.is_empty() { "/" } else { folder }.to_string()),
            "ext" => Value::String(path.extension()),
            "file" => Value::File(file),
            "size" => match note {
                Some(n) => Value::Number(self.vault.note(n).text.len() as f64),
                None => self
                    .disk(file)
                    .size
                    .map_or(Value::Null, |size| Value::Number(size as f64)),
            },
            "links" => match note {
                Some(n) => self.links(n, false),
                None => Value::List(Vec::new()),
            },
            "embeds" => match note {
                Some(n) => self.links(n, true),
                None => Value::List(Vec::new()),
            },
            "tags" => match note {
                Some(n) => {
                    let mut tags: Vec<String> = Vec::new();
                    for t in &self.vault.note(n).tags {
                        let tag = format!("#{}", t.name);
                        if !tags.iter().any(|x| x.eq_ignore_ascii_case(&tag)) {
                            tags.push(tag);
                        }
                    }
                    Value::List(tags.into_iter().map(Value::String).collect())
                }
                None => Value::List(Vec::new()),
            },
            "backlinks" => match note {
                Some(n) => {
                    let mut sources: Vec<NoteId> =
                        self.graph.backlinks(n).map(|b| b.source).collect();
                    sources.dedup();
                    Value::List(
                        sources
                            .into_iter()
                            .map(|s| Value::File(self.note_file(s)))
                            .collect(),
                    )
                }
                None => Value::List(Vec::new()),
            },
            "properties" => match note {
                Some(n) => {
                    let fm = &self.vault.note(n).front_matter;
                    Value::Object(
                        fm.extra
                            .iter()
                            .map(|(k, v)| (k.clone(), self.value(file, v)))
                            .collect(),
                    )
                }
                None => Value::Object(Vec::new()),
            },
            // Times of files are not part of a vault's content (a checkout sets them), so a
            // site shows none rather than different ones on every machine.
            "mtime" | "ctime" => {
                let facts = self.disk(file);
                let ms = if key == "mtime" {
                    facts.modified
                } else {
                    facts.created
                };
                ms.map_or(Value::Null, |ms| Value::Date { ms, time: true })
            }
            _ => return None,
        })
    }

    fn has_link(&self, file: FileRef, target: &Value) -> Option<bool> {
        let Some(note) = self.note_of(file) else {
            return Some(false);
        };
        let links = &self.resolution.links[note.0 as usize];
        Some(match target {
            Value::File(t)
            | Value::Link {
                target: Some(t), ..
            } => links
                .iter()
                .zip(&self.vault.note(note).links)
                .any(|(r, l)| l.kind != LinkKind::Embed && self.target_file(&r.target) == Some(*t)),
            // An unresolved link equals an unresolved link of the same text.
            Value::Link {
                target: None, text, ..
            } => links
                .iter()
                .zip(&self.vault.note(note).links)
                .any(|(r, l)| {
                    l.kind != LinkKind::Embed
                        && matches!(r.target, LinkTarget::Missing { .. })
                        && l.target.to_lowercase() == text.to_lowercase()
                }),
            _ => false,
        })
    }

    fn link(&self, from: Option<FileRef>, text: &str) -> Value {
        if text.contains("://") {
            return Value::Link {
                target: None,
                text: text.to_string(),
                display: None,
            };
        }
        self.resolve(from, text)
    }

    fn file(&self, from: Option<FileRef>, text: &str) -> Option<FileRef> {
        // A vault path, exactly (notes and attachments are sorted by path), else a link.
        let path = text.trim().trim_start_matches('/');
        let note = |p: &str| self.vault.note_at(p).map(|n| self.note_file(n));
        let attachment = self
            .vault
            .attachment_at(path)
            .map(|a| self.attachment_file(a));
        if let Some(found) = note(path)
            .or(attachment)
            .or_else(|| note(&format!("{path}.md")))
        {
            return Some(found);
        }
        match self.resolve(from, text) {
            Value::Link { target, .. } => target,
            _ => None,
        }
    }
}

/// The rows of a view: the files it shows (sorted, cut to its limit) and how many matched.
#[derive(Debug)]
pub struct Rows {
    /// The files shown, in order.
    pub files: Vec<FileRef>,
    /// The files that passed the filters (before the limit).
    pub matched: usize,
}

/// What a view's result depends on besides the vault: `this`, or nothing more.
struct Dependence<'a> {
    /// Filter parts to evaluate for each page (they use `this`).
    per_page: Vec<&'a Filter>,
    /// Filter parts every page shares.
    shared: Vec<&'a Filter>,
    /// Whether the sort or group keys use `this`.
    keys: bool,
}

impl<'a> Dependence<'a> {
    fn of(base: &'a BaseFile, view: &'a View) -> Dependence<'a> {
        let uses = |e: &Expression| uses_this(e, &base.formulas);
        let mut d = Dependence {
            per_page: Vec::new(),
            shared: Vec::new(),
            keys: false,
        };
        // The base's filters and the view's are one `and`: each part of a top-level `and` is
        // shared unless it mentions `this`.
        for filter in base.filters.iter().chain(view.filters.iter()) {
            d.split(filter, &uses);
        }
        d.keys = view
            .group_by
            .iter()
            .map(|(p, _)| p)
            .chain(view.sort.iter().map(|(p, _)| p))
            .any(|p| p.expr.as_ref().is_some_and(&uses));
        d
    }

    fn split(&mut self, filter: &'a Filter, uses: &impl Fn(&Expression) -> bool) {
        match filter {
            Filter::And(items) => {
                for item in items {
                    self.split(item, uses);
                }
            }
            other if filter_uses(other, uses) => self.per_page.push(other),
            other => self.shared.push(other),
        }
    }

    /// Whether the whole result is the same on every page.
    fn shared_by_all(&self) -> bool {
        self.per_page.is_empty() && !self.keys
    }
}

fn filter_uses(filter: &Filter, uses: &impl Fn(&Expression) -> bool) -> bool {
    match filter {
        Filter::Statement(Ok(e)) => uses(e),
        Filter::Statement(Err(_)) => false,
        Filter::And(items) | Filter::Or(items) | Filter::Not(items) => {
            items.iter().any(|f| filter_uses(f, uses))
        }
    }
}

/// Whether an expression may read `this`: it names it, or names a formula (any formula may;
/// reading the base's formulas for which is not worth it).
fn uses_this(e: &Expression, formulas: &[(String, Result<Expression, ExprError>)]) -> bool {
    let names = |word: &str| {
        let source = e.source();
        source.match_indices(word).any(|(at, _)| {
            let ident = |c: char| c.is_alphanumeric() || c == '_';
            !source[..at].ends_with(ident) && !source[at + word.len()..].starts_with(ident)
        })
    };
    names("this") || (names("formula") && !formulas.is_empty())
}

/// The rows view `v` of base `attachment` shows on the page of `this`: made once per page
/// when they depend on `this`, else once for every page, and kept for the rest of the build
/// (a page's fingerprint and its rendering ask for the same rows).
fn rows(
    bases: &Bases,
    host: &VaultHost,
    plan: &SitePlan,
    (which, base): (BaseKey, &BaseFile),
    v: usize,
    this: Option<FileRef>,
) -> std::sync::Arc<Rows> {
    let view = &base.views[v];
    let dependence = Dependence::of(base, view);
    let key = (which, v, this.filter(|_| !dependence.shared_by_all()));
    if let Some(rows) = lock(&bases.rows).get(&key) {
        return std::sync::Arc::clone(rows);
    }
    let scope = |file| Scope {
        host,
        file,
        this,
        formulas: &base.formulas,
        now_ms: bases.now_ms,
        values: None,
    };
    // The files every page of the view starts from: published, through the shared filters.
    let shared = {
        let budget = Cell::new(VIEW_BUDGET);
        let cached = lock(&bases.selected).get(&(which, v)).cloned();
        match cached {
            Some(files) => files,
            None => {
                let files: Vec<FileRef> = host
                    .files()
                    .filter(|f| match host.note_of(*f) {
                        Some(n) => plan.note_page(n).is_some(),
                        None => true,
                    })
                    .filter(|&f| {
                        let s = scope(f);
                        dependence.shared.iter().all(|x| passes(x, &s, &budget))
                    })
                    .collect();
                let files = std::sync::Arc::new(files);
                lock(&bases.selected).insert((which, v), std::sync::Arc::clone(&files));
                files
            }
        }
    };
    let budget = Cell::new(VIEW_BUDGET);
    let keys: Vec<(&Property, bool)> = view
        .group_by
        .iter()
        .chain(view.sort.iter())
        .map(|(p, d)| (p, *d))
        .collect();
    // `file.hasLink(this)` (a "linking here" view, kepano's Backlinks base) holds only for
    // notes that link to `this`: its backlinks among the shared files (and itself, for a
    // link to its own heading) are the only files to look at, not every file.
    let linking: Option<Vec<FileRef>> = this
        .and_then(|t| host.note_of(t))
        .filter(|_| dependence.per_page.iter().any(is_has_link_this))
        .map(|t| {
            let mut files: Vec<FileRef> = host
                .graph
                .backlinks(t)
                .map(|b| host.note_file(b.source))
                .chain([host.note_file(t)])
                .collect();
            files.sort_unstable();
            files.dedup();
            files.retain(|f| shared.binary_search(f).is_ok());
            files
        });
    let mut rows: Vec<(FileRef, Vec<Value>)> = linking
        .as_deref()
        .unwrap_or(&shared)
        .iter()
        .copied()
        .filter(|&f| {
            let s = scope(f);
            dependence.per_page.iter().all(|x| passes(x, &s, &budget))
        })
        .map(|f| {
            let s = scope(f);
            (f, keys.iter().map(|(p, _)| p.value(&s, &budget)).collect())
        })
        .collect();
    rows.sort_by(|(fa, a), (fb, b)| {
        for ((x, y), (_, desc)) in a.iter().zip(b).zip(&keys) {
            let order = match (x.is_empty(), y.is_empty()) {
                (true, true) => Ordering::Equal,
                // Empty values go last whichever way the view sorts.
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) if *desc => expr::compare(y, x),
                (false, false) => expr::compare(x, y),
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        // Then by path, so equal keys keep one order on every build.
        host.path(*fa).cmp(&host.path(*fb))
    });
    let matched = rows.len();
    rows.truncate(view.limit.unwrap_or(MAX_ROWS));
    let rows = std::sync::Arc::new(Rows {
        files: rows.into_iter().map(|(f, _)| f).collect(),
        matched,
    });
    lock(&bases.rows).insert(key, std::sync::Arc::clone(&rows));
    rows
}

/// Whether a filter is the statement `file.hasLink(this)` (or `this.file`), spaces aside.
fn is_has_link_this(filter: &&Filter) -> bool {
    let Filter::Statement(Ok(e)) = filter else {
        return false;
    };
    let source: String = e.source().chars().filter(|c| !c.is_whitespace()).collect();
    source == "file.hasLink(this)" || source == "file.hasLink(this.file)"
}

/// A lock of the build's cache of rows, whatever another thread did with it.
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether the row of `scope` passes `filter` (an expression that fails passes nothing).
fn passes(filter: &Filter, scope: &Scope, budget: &Cell<u64>) -> bool {
    match filter {
        Filter::Statement(Ok(e)) => {
            expr::eval_within(e, scope, budget).is_ok_and(|v| v.is_truthy())
        }
        Filter::Statement(Err(_)) => false,
        Filter::And(items) => items.iter().all(|f| passes(f, scope, budget)),
        Filter::Or(items) => items.iter().any(|f| passes(f, scope, budget)),
        Filter::Not(items) => !items.iter().any(|f| passes(f, scope, budget)),
    }
}

fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

/// Where a page's links go: the plan and the page's path to the site root.
pub struct PageLinks<'a> {
    /// The site plan.
    pub plan: &'a SitePlan,
    /// `page.root_prefix()` of the page the view is on (`""` for the fingerprint).
    pub root: &'a str,
}

/// The HTML of the view that the fragment `view_name` names (the first without one) of the
/// base `attachment`, on the page of `this`; `None` when the attachment is not a base.
pub fn view_html(
    comp: &Compilation,
    links: &PageLinks,
    attachment: AttachmentId,
    view_name: Option<&str>,
    this: NoteId,
) -> Option<String> {
    let base = comp.bases.get(attachment)?;
    let v = base.view(view_name);
    Some(render_view(
        comp,
        links,
        (BaseKey::File(attachment), base),
        v,
        this,
    ))
}

/// The HTML of the first view of the ` ```base ` block whose text is `text` in note `id`
/// (which is `this`); empty when there is none.
pub fn block_html(comp: &Compilation, links: &PageLinks, id: NoteId, text: Span) -> String {
    match comp.bases.inline(id, text.start) {
        Some(base) => render_view(
            comp,
            links,
            (BaseKey::Inline(id, text.start), base),
            base.view(None),
            id,
        ),
        None => String::new(),
    }
}

/// View `v` of a base (just its frame when it has no views) on the page of `this`.
fn render_view(
    comp: &Compilation,
    links: &PageLinks,
    (which, base): (BaseKey, &BaseFile),
    v: Option<usize>,
    this: NoteId,
) -> String {
    let host = VaultHost::of(comp);
    let mut out = String::new();
    out.push_str("<div class=\"embed embed-base\" data-src=\"");
    push_escaped(&mut out, base.path.as_str());
    out.push_str("\">");
    let Some(v) = v else {
        out.push_str("</div>");
        return out;
    };
    let view = &base.views[v];
    let this = Some(host.note_file(this));
    let rows = rows(&comp.bases, &host, links.plan, (which, base), v, this);
    let layout = match view.layout {
        Layout::Table => "table",
        Layout::Cards => "cards",
        Layout::List => "list",
    };
    let _ = write!(out, "<div class=\"base-view base-{layout}\">");
    out.push_str("<div class=\"base-header\"><span class=\"base-name\">");
    push_escaped(&mut out, &view.name);
    let _ = write!(
        out,
        "</span> <span class=\"count\">{}</span></div>",
        rows.matched
    );
    let render = Cells {
        budget: Cell::new(VIEW_BUDGET),
        host: &host,
        links,
        base,
        this,
        now_ms: comp.bases.now_ms,
    };
    let groups = group(&render, view, &rows.files);
    match view.layout {
        Layout::Table => render.table(&mut out, view, &groups),
        Layout::Cards => render.items(&mut out, view, &groups, true),
        Layout::List => render.items(&mut out, view, &groups, false),
    }
    out.push_str("</div></div>");
    out
}

/// A built-in summary of a table column ("Default Summary Formulas" of the Bases help).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Summary {
    /// The mean of the numbers.
    Average,
    /// The smallest number.
    Min,
    /// The largest number.
    Max,
    /// The sum of the numbers.
    Sum,
    /// `Max - Min` of numbers, else `Latest - Earliest` of dates (a duration).
    Range,
    /// The median of the numbers.
    Median,
    /// The standard deviation of the numbers (of them as the whole population).
    Stddev,
    /// The earliest date.
    Earliest,
    /// The latest date.
    Latest,
    /// How many values are `true`.
    Checked,
    /// How many values are `false`.
    Unchecked,
    /// How many values are empty.
    Empty,
    /// How many values are not empty.
    Filled,
    /// How many different values there are (empty ones aside).
    Unique,
}

impl Summary {
    /// Every built-in summary with the name a view writes.
    pub const ALL: [(&'static str, Summary); 14] = [
        ("Average", Summary::Average),
        ("Min", Summary::Min),
        ("Max", Summary::Max),
        ("Sum", Summary::Sum),
        ("Range", Summary::Range),
        ("Median", Summary::Median),
        ("Stddev", Summary::Stddev),
        ("Earliest", Summary::Earliest),
        ("Latest", Summary::Latest),
        ("Checked", Summary::Checked),
        ("Unchecked", Summary::Unchecked),
        ("Empty", Summary::Empty),
        ("Filled", Summary::Filled),
        ("Unique", Summary::Unique),
    ];

    /// The built-in summary called `name` (in any case).
    pub fn named(name: &str) -> Option<Summary> {
        Summary::ALL
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, s)| s)
    }

    /// The summary of a column's `values`: a number, a date or a duration, `null` when
    /// there is nothing of its type to sum up. Means, medians and deviations are rounded to
    /// two decimals; sums and differences lose float noise (`0.1 + 0.2` is `0.3`).
    pub fn of(self, values: &[Value]) -> Value {
        let numbers: Vec<f64> = values
            .iter()
            .filter_map(|v| match v {
                Value::Number(n) if n.is_finite() => Some(*n),
                _ => None,
            })
            .collect();
        let dates = values.iter().filter_map(|v| match v {
            Value::Date { ms, time } => Some((*ms, *time)),
            _ => None,
        });
        let earliest = dates.clone().min_by_key(|d| d.0);
        let latest = dates.max_by_key(|d| d.0);
        let number = |n: Option<f64>, places: i32| {
            n.map_or(Value::Null, |n| Value::Number(round_to(n, places)))
        };
        let count = |keep: &dyn Fn(&Value) -> bool| {
            Value::Number(values.iter().filter(|v| keep(v)).count() as f64)
        };
        let mean =
            (!numbers.is_empty()).then(|| numbers.iter().sum::<f64>() / numbers.len() as f64);
        let min = numbers.iter().copied().reduce(f64::min);
        let max = numbers.iter().copied().reduce(f64::max);
        let date =
            |d: Option<(i64, bool)>| d.map_or(Value::Null, |(ms, time)| Value::Date { ms, time });
        match self {
            Summary::Average => number(mean, 2),
            Summary::Min => number(min, 9),
            Summary::Max => number(max, 9),
            Summary::Sum => number((!numbers.is_empty()).then(|| numbers.iter().sum()), 9),
            Summary::Range => match (min, max, earliest, latest) {
                (Some(min), Some(max), ..) => number(Some(max - min), 9),
                (_, _, Some(e), Some(l)) => Value::Duration(l.0 - e.0),
                _ => Value::Null,
            },
            Summary::Median => {
                let mut sorted = numbers.clone();
                sorted.sort_by(f64::total_cmp);
                let n = sorted.len();
                let median = match n {
                    0 => None,
                    _ if n % 2 == 1 => Some(sorted[n / 2]),
                    _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
                };
                number(median, 2)
            }
            Summary::Stddev => number(
                mean.map(|mean| {
                    let variance = numbers.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>()
                        / numbers.len() as f64;
                    variance.sqrt()
                }),
                2,
            ),
            Summary::Earliest => date(earliest),
            Summary::Latest => date(latest),
            Summary::Checked => count(&|v| matches!(v, Value::Bool(true))),
            Summary::Unchecked => count(&|v| matches!(v, Value::Bool(false))),
            Summary::Empty => count(&Value::is_empty),
            Summary::Filled => count(&|v| !v.is_empty()),
            Summary::Unique => {
                let mut texts: Vec<String> = values
                    .iter()
                    .filter(|v| !v.is_empty())
                    .map(Value::to_text)
                    .collect();
                texts.sort_unstable();
                texts.dedup();
                Value::Number(texts.len() as f64)
            }
        }
    }
}

/// `n` rounded to `places` decimals (left as it is where that would overflow).
fn round_to(n: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    let scaled = n * scale;
    if scaled.abs() < 1e15 {
        scaled.round() / scale
    } else {
        n
    }
}

/// Rows cut into the groups of `groupBy` (one unnamed group without it).
fn group<'r>(
    cells: &Cells,
    view: &View,
    rows: &'r [FileRef],
) -> Vec<(Option<Value>, &'r [FileRef])> {
    let Some((key, _)) = &view.group_by else {
        return vec![(None, rows)];
    };
    let mut groups: Vec<(Option<Value>, &[FileRef])> = Vec::new();
    let mut start = 0;
    let mut current: Option<Value> = None;
    for (i, &row) in rows.iter().enumerate() {
        let value = key.value(&cells.scope(row), &cells.budget);
        let same = current
            .as_ref()
            .is_some_and(|c| expr::compare(c, &value) == Ordering::Equal);
        if i > 0 && !same {
            groups.push((current.take(), &rows[start..i]));
            start = i;
        }
        if !same {
            current = Some(value);
        }
    }
    if start < rows.len() {
        groups.push((current, &rows[start..]));
    }
    groups
}

/// Writes cells of a view.
struct Cells<'a> {
    /// Work left for the view's cells (see [`VIEW_BUDGET`]).
    budget: Cell<u64>,
    host: &'a VaultHost<'a>,
    links: &'a PageLinks<'a>,
    base: &'a BaseFile,
    this: Option<FileRef>,
    now_ms: i64,
}

impl Cells<'_> {
    fn scope(&self, file: FileRef) -> Scope<'_> {
        Scope {
            host: self.host,
            file,
            this: self.this,
            formulas: &self.base.formulas,
            now_ms: self.now_ms,
            values: None,
        }
    }

    fn table(&self, out: &mut String, view: &View, groups: &[(Option<Value>, &[FileRef])]) {
        out.push_str("<div class=\"table-wrap\"><table class=\"base-table\"><thead><tr>");
        for column in &view.columns {
            out.push_str("<th scope=\"col\">");
            push_escaped(out, self.base.title(&column.name));
            out.push_str("</th>");
        }
        out.push_str("</tr></thead>");
        for (key, rows) in groups {
            out.push_str("<tbody>");
            if let Some(key) = key {
                let _ = write!(
                    out,
                    "<tr class=\"base-group\"><th scope=\"rowgroup\" colspan=\"{}\">",
                    view.columns.len().max(1)
                );
                self.value(out, key);
                out.push_str("</th></tr>");
                // A group's summaries come first, under its heading (as Obsidian shows them).
                self.summary_row(out, view, rows);
            }
            for &row in *rows {
                out.push_str("<tr>");
                for column in &view.columns {
                    out.push_str("<td>");
                    self.cell(out, row, column);
                    out.push_str("</td>");
                }
                out.push_str("</tr>");
            }
            out.push_str("</tbody>");
        }
        if let ([(None, rows)], false) = (groups, view.summaries.is_empty()) {
            out.push_str("<tfoot>");
            self.summary_row(out, view, rows);
            out.push_str("</tfoot>");
        }
        out.push_str("</table></div>");
    }

    /// The row of the view's `summaries` over `rows` (one cell per column, empty where the
    /// column has none); nothing when the view has none.
    fn summary_row(&self, out: &mut String, view: &View, rows: &[FileRef]) {
        if view.summaries.is_empty() {
            return;
        }
        let bare = |name: &str| name.strip_prefix("note.").unwrap_or(name).to_string();
        out.push_str("<tr class=\"base-summary\">");
        for column in &view.columns {
            out.push_str("<td>");
            let summary = view
                .summaries
                .iter()
                .find(|(property, _)| bare(property) == bare(&column.name));
            if let Some((_, name)) = summary {
                let values: Vec<Value> = rows
                    .iter()
                    .map(|&row| column.value(&self.scope(row), &self.budget))
                    .collect();
                out.push_str("<span class=\"base-summary-name\">");
                push_escaped(out, name);
                out.push_str("</span> <span class=\"base-summary-value\">");
                let value = self.summarize(name, values, rows.first().copied());
                self.value(out, &value);
                out.push_str("</span>");
            }
            out.push_str("</td>");
        }
        out.push_str("</tr>");
    }

    /// Summary `name` (built in, else the base's formula of that name) of a column's `values`;
    /// `null` when it has nothing to say (no numbers to average, an unknown name).
    fn summarize(&self, name: &str, values: Vec<Value>, first: Option<FileRef>) -> Value {
        if let Some(summary) = Summary::named(name) {
            return summary.of(&values);
        }
        let Some((_, Ok(formula))) = self.base.summaries.iter().find(|(n, _)| n == name) else {
            return Value::Null;
        };
        let Some(file) = first.or(self.this) else {
            return Value::Null;
        };
        let values = Value::List(values);
        let scope = Scope {
            values: Some(&values),
            ..self.scope(file)
        };
        expr::eval_within(formula, &scope, &self.budget).unwrap_or(Value::Null)
    }

    /// Cards (each with its image, when the view names one) or list items: the file's link,
    /// then its other columns.
    fn items(
        &self,
        out: &mut String,
        view: &View,
        groups: &[(Option<Value>, &[FileRef])],
        cards: bool,
    ) {
        let (list, item) = if cards {
            ("<ul class=\"base-cards\">", "<li class=\"base-card\">")
        } else {
            ("<ul class=\"base-list\">", "<li>")
        };
        for (key, rows) in groups {
            self.group_heading(out, key.as_ref());
            out.push_str(list);
            for &row in *rows {
                out.push_str(item);
                if let Some(image) = view.image.as_ref().filter(|_| cards) {
                    let value = image.value(&self.scope(row), &self.budget);
                    if let Some(src) = self.image_src(&value) {
                        out.push_str("<img class=\"base-card-image\" src=\"");
                        push_escaped(out, &src);
                        out.push_str("\" alt=\"\" loading=\"lazy\">");
                    }
                }
                self.file_link(out, row, None);
                self.fields(out, view, row);
                out.push_str("</li>");
            }
            out.push_str("</ul>");
        }
    }

    fn group_heading(&self, out: &mut String, key: Option<&Value>) {
        if let Some(key) = key {
            out.push_str("<p class=\"base-group\">");
            self.value(out, key);
            out.push_str("</p>");
        }
    }

    /// The columns other than the file's name, as a definition list.
    fn fields(&self, out: &mut String, view: &View, row: FileRef) {
        let mut open = false;
        for column in view.columns.iter().filter(|c| c.name != "file.name") {
            let mut cell = String::new();
            self.cell(&mut cell, row, column);
            if cell.is_empty() {
                continue;
            }
            if !open {
                out.push_str("<dl class=\"base-fields\">");
                open = true;
            }
            out.push_str("<dt>");
            push_escaped(out, self.base.title(&column.name));
            out.push_str("</dt><dd>");
            out.push_str(&cell);
            out.push_str("</dd>");
        }
        if open {
            out.push_str("</dl>");
        }
    }

    fn cell(&self, out: &mut String, row: FileRef, column: &Property) {
        if column.name == "file.name" {
            self.file_link(out, row, None);
            return;
        }
        let value = column.value(&self.scope(row), &self.budget);
        self.value(out, &value);
    }

    /// A link to a file's page (a note) or to the file (an attachment), showing `display`
    /// or the file's name.
    fn file_link(&self, out: &mut String, file: FileRef, display: Option<&str>) {
        let Some(path) = self.host.path(file) else {
            return;
        };
        let label = display.unwrap_or_else(|| match self.host.note_of(file) {
            Some(_) => path.stem(),
            None => path.file_name(),
        });
        let href = match (self.host.note_of(file), self.host.attachment_of(file)) {
            (Some(n), _) => self.links.plan.note_page(n).map(|page| {
                let mut href = String::new();
                push_page_url(&mut href, self.links.root, page);
                href
            }),
            (None, Some(a)) => Some(self.attachment_href(a)),
            _ => None,
        };
        match href {
            Some(href) => {
                out.push_str("<a class=\"internal\" href=\"");
                push_escaped(out, &href);
                out.push_str("\">");
                push_escaped(out, label);
                out.push_str("</a>");
            }
            // A note without a page: a link shows the text it was written with; a file
            // value (a backlink, `file.file`) shows nothing, not a hidden note's name.
            None => {
                if let Some(display) = display {
                    out.push_str("<span class=\"internal unpublished\">");
                    push_escaped(out, display);
                    out.push_str("</span>");
                }
            }
        }
    }

    /// Where an image value points: a vault file, or a web address.
    fn image_src(&self, value: &Value) -> Option<String> {
        let file = match value {
            Value::File(f) => Some(*f),
            Value::Link { target, .. } => *target,
            Value::Image(text) | Value::String(text) => {
                if text.starts_with("https://") || text.starts_with("http://") {
                    return Some(text.clone());
                }
                self.host.file(self.this, text)
            }
            Value::List(items) => return items.first().and_then(|i| self.image_src(i)),
            _ => None,
        }?;
        Some(self.attachment_href(self.host.attachment_of(file)?))
    }

    /// The URL of an attachment's copy in the site, from the page.
    fn attachment_href(&self, a: AttachmentId) -> String {
        let mut href = String::new();
        crate::render::html::push_attachment_url(&mut href, self.links.root, self.links.plan, a);
        href
    }

    fn value(&self, out: &mut String, value: &Value) {
        match value {
            Value::Null => {}
            Value::Bool(b) => {
                let _ = write!(
                    out,
                    "<input type=\"checkbox\" disabled{}>",
                    if *b { " checked" } else { "" }
                );
            }
            Value::File(f) => self.file_link(out, *f, None),
            Value::Link {
                target,
                text,
                display,
            } => match target {
                Some(f) => self.file_link(out, *f, Some(display.as_deref().unwrap_or(text))),
                None if text.starts_with("https://") || text.starts_with("http://") => {
                    out.push_str("<a class=\"external\" href=\"");
                    push_escaped(out, text);
                    out.push_str("\">");
                    push_escaped(out, display.as_deref().unwrap_or(text));
                    out.push_str("</a>");
                }
                None => {
                    out.push_str("<span class=\"internal wanted\">");
                    push_escaped(out, display.as_deref().unwrap_or(text));
                    out.push_str("</span>");
                }
            },
            Value::List(items) => {
                // Items that show nothing (a hidden note) take no separator either.
                let mut first = true;
                let mut item_html = String::new();
                for item in items {
                    item_html.clear();
                    self.value(&mut item_html, item);
                    if item_html.is_empty() {
                        continue;
                    }
                    if !first {
                        out.push_str(", ");
                    }
                    first = false;
                    out.push_str(&item_html);
                }
            }
            Value::Image(_) => {
                if let Some(src) = self.image_src(value) {
                    out.push_str("<img class=\"base-image\" src=\"");
                    push_escaped(out, &src);
                    out.push_str("\" alt=\"\" loading=\"lazy\">");
                }
            }
            Value::Icon(_) => {}
            Value::Object(fields) => {
                for (i, (key, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    push_escaped(out, key);
                    out.push_str(": ");
                    self.value(out, v);
                }
            }
            other => push_escaped(out, &other.to_text()),
        }
    }
}

/// The expressions of each base that fail for every file of the vault (an unknown function,
/// a method of the wrong type), each reported once with the first file it failed for. `this`
/// is no note here: what an expression does with it on a page is not known until then.
pub fn evaluation_diagnostics(bases: &Bases, host: &VaultHost) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let all = bases.files.iter().map(|(_, b)| (b, None)).chain(
        bases
            .inline
            .iter()
            .map(|((id, start), b)| (b, Some((*id, *start)))),
    );
    for (base, block) in all {
        let mut expressions: Vec<&Expression> = Vec::new();
        collect(base.filters.as_ref(), &mut expressions);
        for view in &base.views {
            collect(view.filters.as_ref(), &mut expressions);
        }
        expressions.extend(base.formulas.iter().filter_map(|(_, f)| f.as_ref().ok()));
        // An expression is evaluated until it works for one file: one that fails for some
        // files only (a template's placeholder where a date belongs) is data Obsidian shows
        // as an empty cell too; one that fails for every file is a mistake in the base.
        let mut failed: Vec<Option<(FileRef, ExprError)>> = vec![None; expressions.len()];
        let mut works = vec![false; expressions.len()];
        let budget = Cell::new(VIEW_BUDGET);
        let mut left = expressions.len();
        for file in host.files() {
            if left == 0 {
                break;
            }
            let scope = Scope {
                host,
                file,
                this: None,
                formulas: &base.formulas,
                now_ms: bases.now_ms,
                values: None,
            };
            for (i, e) in expressions.iter().enumerate() {
                if works[i] {
                    continue;
                }
                match expr::eval_within(e, &scope, &budget) {
                    Ok(_) => {
                        works[i] = true;
                        failed[i] = None;
                        left -= 1;
                    }
                    Err(err) => {
                        failed[i].get_or_insert((file, err));
                    }
                }
            }
        }
        // Where the base is written: its file, or the block in its note.
        let (text, offset) = match block {
            None => (
                host.vault
                    .other_sources
                    .binary_search_by(|s| s.path.cmp(&base.path))
                    .map_or("", |i| host.vault.other_sources[i].text.as_str()),
                0,
            ),
            Some((id, start)) => {
                let note = host.vault.note(id);
                let end = note
                    .bases
                    .iter()
                    .find(|b| b.start == start)
                    .map_or(start, |b| b.end);
                (
                    note.text.get(start as usize..end as usize).unwrap_or(""),
                    start as usize,
                )
            }
        };
        for (e, failure) in expressions.iter().zip(failed) {
            let Some((file, err)) = failure else {
                continue;
            };
            let source = e.source();
            let span = find(text, source).map_or(Span::new(offset..offset), |at| {
                Span::new(offset + at..offset + at + source.len())
            });
            let path = host.path(file).map_or("", |p| p.as_str());
            diagnostics.push(
                Diagnostic::new(
                    Code::InvalidBase,
                    base.path.clone(),
                    span,
                    format!("`{source}` fails for {path}: {}", err.message),
                )
                .with_help(
                    "a filter that fails selects nothing; a formula that fails shows nothing",
                ),
            );
        }
    }
    diagnostics
}

fn collect<'a>(filter: Option<&'a Filter>, out: &mut Vec<&'a Expression>) {
    match filter {
        Some(Filter::Statement(Ok(e))) => out.push(e),
        Some(Filter::And(items) | Filter::Or(items) | Filter::Not(items)) => {
            for item in items {
                collect(Some(item), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One note with the properties `props`, as the expressions see it.
    struct OneNote(Vec<(&'static str, Value)>);

    impl Host for OneNote {
        fn note_property(&self, _: FileRef, key: &str) -> Option<Value> {
            self.0
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
        }
        fn file_property(&self, _: FileRef, key: &str) -> Option<Value> {
            (key == "name").then(|| Value::String("N.md".into()))
        }
        fn link(&self, _: Option<FileRef>, text: &str) -> Value {
            Value::Link {
                target: None,
                text: text.into(),
                display: None,
            }
        }
        fn file(&self, _: Option<FileRef>, _: &str) -> Option<FileRef> {
            None
        }
    }

    #[test]
    fn built_in_summaries_sum_up_their_type_and_skip_the_rest() {
        let n = Value::Number;
        let day = |d: i64| Value::Date {
            ms: d * 86_400_000,
            time: false,
        };
        let values = [
            n(0.1),
            n(0.2),
            n(4.0),
            Value::Null,
            Value::String("x".into()),
            n(f64::NAN),
            Value::Bool(true),
            Value::Bool(false),
            Value::Bool(true),
            day(3),
            day(1),
            Value::String("x".into()),
        ];
        let of = |name: &str| Summary::named(name).unwrap().of(&values);
        let num = |name: &str| match of(name) {
            Value::Number(x) => x,
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(num("Sum"), 4.3, "float noise is gone");
        assert_eq!(num("Average"), 1.43, "rounded to two decimals");
        assert_eq!(num("min"), 0.1, "names in any case");
        assert_eq!(num("Max"), 4.0);
        assert_eq!(num("Range"), 3.9, "numbers first");
        assert_eq!(num("Median"), 0.2);
        assert_eq!(num("Stddev"), 1.82);
        assert_eq!(num("Checked"), 2.0);
        assert_eq!(num("Unchecked"), 1.0);
        assert_eq!(num("Empty"), 1.0);
        assert_eq!(num("Filled"), 11.0);
        // 0.1, 0.2, 4, "x", NaN, true, false and two dates: "x" twice counts once.
        assert_eq!(num("Unique"), 9.0);
        assert!(matches!(of("Earliest"), Value::Date { ms: 86_400_000, .. }));
        assert!(matches!(
            of("Latest"),
            Value::Date {
                ms: 259_200_000,
                ..
            }
        ));
        // Dates alone: their range is a duration; nothing of the type: null.
        let dates = [day(10), day(3), Value::Null];
        assert!(matches!(
            Summary::Range.of(&dates),
            Value::Duration(604_800_000)
        ));
        assert!(matches!(Summary::Average.of(&dates), Value::Null));
        assert!(matches!(Summary::Median.of(&[n(1.0), n(4.0)]), Value::Number(x) if x == 2.5));
        assert!(Summary::named("Averag").is_none());
    }

    #[test]
    fn a_view_summary_must_name_a_built_in_or_a_base_summary() {
        let (base, diagnostics) = base(
            "summaries:\n  Twice: 'values.map(value * 2)'\n  Broken: 'values.('\nviews:\n  - type: table\n    summaries:\n      year: Twice\n      note.rating: average\n      pages: Averag\n      bad: [1]\n",
        );
        assert_eq!(base.summaries.len(), 2);
        assert!(base.summaries[1].1.is_err());
        assert_eq!(
            base.views[0].summaries,
            [
                ("year".to_string(), "Twice".to_string()),
                ("note.rating".to_string(), "average".to_string()),
                ("pages".to_string(), "Averag".to_string()),
            ]
        );
        let messages: Vec<&str> = diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(
            messages[0].starts_with("cannot read `values.(`"),
            "{messages:?}"
        );
        assert!(
            messages[1].contains("the summary of `bad` must be a summary's name"),
            "{messages:?}"
        );
        assert!(
            messages[2]
                .starts_with("unknown summary `Averag` for `pages` (built in: Average, Min,"),
            "{messages:?}"
        );
    }

    fn base(yaml: &str) -> (BaseFile, Vec<Diagnostic>) {
        BaseFile::parse(&VaultPath::new("B.base").unwrap(), yaml)
    }

    /// A view names properties as Obsidian writes them, spaces and symbols included.
    #[test]
    fn properties_are_read_by_any_name() {
        let (b, diags) = base("formulas:\n  Price (EUR): price * 2\n");
        assert!(diags.is_empty(), "{diags:?}");
        let host = OneNote(vec![
            ("due date", Value::String("soon".into())),
            ("price", Value::Number(21.0)),
            ("a", Value::Number(1.0)),
        ]);
        let scope = Scope {
            host: &host,
            file: FileRef(0),
            this: None,
            formulas: &b.formulas,
            now_ms: 0,
            values: None,
        };
        let budget = Cell::new(VIEW_BUDGET);
        let text = |name: &str| Property::new(name).value(&scope, &budget).to_text();
        assert_eq!(text("file.name"), "N.md");
        assert_eq!(text("a"), "1");
        assert_eq!(text("note.a"), "1");
        assert_eq!(text("due date"), "soon");
        assert_eq!(text("note.due date"), "soon");
        assert_eq!(text("formula.Price (EUR)"), "42");
        assert_eq!(text("missing"), "");
    }

    /// What a base file holds, and what it cannot use, reported at its line.
    #[test]
    fn a_base_file_is_read_and_its_problems_placed() {
        let (b, diags) = base(
            "filters:\n  or:\n    - file.hasTag(\"a\")\n    - xor: [x]\nviews:\n  - type: cards\n    name: C\n    limit: 5000\n    image: cover\n    groupBy:\n      property: year\n      direction: DESC\n  - 3\n  - type: map\n",
        );
        assert!(matches!(&b.filters, Some(Filter::Or(items)) if items.len() == 1));
        assert_eq!(b.views.len(), 2, "the mapping views; `3` is reported");
        let cards = &b.views[0];
        assert_eq!(cards.layout, Layout::Cards);
        assert_eq!(cards.limit, Some(MAX_ROWS));
        assert_eq!(cards.image.as_ref().map(|p| p.name.as_str()), Some("cover"));
        assert!(matches!(&cards.group_by, Some((p, true)) if p.name == "year"));
        assert_eq!(cards.columns.len(), 1, "file.name without `order`");
        assert_eq!(
            b.views[1].layout,
            Layout::Table,
            "a map is shown as a table"
        );
        assert_eq!(b.views[1].name, "View 3");
        assert_eq!(b.view(Some("c")), Some(0), "names match ignoring case");
        assert_eq!(
            b.view(Some("nope")),
            Some(0),
            "an unknown name shows the first"
        );
        let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(diags.len(), 2, "{messages:?}");
        assert!(messages[0].contains("`xor`"), "{messages:?}");
        assert!(messages[1].contains("view 2"), "{messages:?}");
        // Broken YAML: one diagnostic at the line the parser names.
        let (b, diags) = base("views:\n  - type: table\n    name: [\n");
        assert!(b.views.is_empty());
        assert_eq!(diags.len(), 1);
        assert!(
            diags[0].message.starts_with("base is not valid YAML"),
            "{diags:?}"
        );
    }

    /// The parts of a top-level `and` that do not read `this` are shared by every page; a
    /// group that reads it anywhere is evaluated per page, and so is a sort by a formula
    /// when the base has formulas.
    #[test]
    fn only_what_reads_this_is_evaluated_per_page() {
        let (b, _) = base(
            "filters:\n  and:\n    - file.hasTag(\"a\")\n    - or:\n        - file.hasLink(this)\n        - x > 1\nviews:\n  - type: table\n    filters: 'list(thistle).contains(1)'\n    sort:\n      - property: year\n",
        );
        let d = Dependence::of(&b, &b.views[0]);
        assert_eq!(
            d.shared.len(),
            2,
            "the tag and `thistle` (a name, not `this`)"
        );
        assert_eq!(d.per_page.len(), 1, "the `or` that reads `this`");
        assert!(!d.keys);
        assert!(!d.shared_by_all());
        let (b, _) = base(
            "formulas:\n  f: this.file.name\nviews:\n  - type: table\n    sort:\n      - property: formula.f\n",
        );
        let d = Dependence::of(&b, &b.views[0]);
        assert!(d.keys && !d.shared_by_all());
        let (b, _) = base("views:\n  - type: table\n    filters: 'x == 1'\n");
        assert!(Dependence::of(&b, &b.views[0]).shared_by_all());
    }
}
