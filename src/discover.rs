//! Stage 1, discover: find every note and attachment of a vault, read the notes once.
//!
//! Skips what the semantics file §6 lists: dot-folders and dotfiles, the output folder, the
//! `userIgnoreFilters` of `.obsidian/app.json`, and the configuration's `exclude` globs.
//! Unreadable files are not fatal: they become `unreadable-file` diagnostics and the walk goes on.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::diag::{Code, Diagnostic};
use crate::error::{Error, Result};
use crate::settings::{ExcludedFiles, ObsidianSettings};
use crate::source::{FastMap, FastSet, Span, VaultPath};

/// Notes larger than this are reported as unreadable instead of parsed (spans are `u32`).
pub const MAX_NOTE_BYTES: u64 = 64 * 1024 * 1024;

/// A markdown file of the vault, read into memory.
#[derive(Debug)]
pub struct SourceFile {
    /// Vault-relative path.
    pub path: VaultPath,
    /// The text; empty when the file could not be read (see the diagnostics).
    pub text: String,
    /// Whether the note lives in the vault's templates folder (core Templates or Templater),
    /// where `{{date}}`-style placeholders are expected.
    pub is_template: bool,
}

/// A non-markdown file of the vault (image, PDF, canvas, ...).
#[derive(Clone, Debug)]
pub struct AttachmentFile {
    /// Vault-relative path.
    pub path: VaultPath,
    /// Absolute path on disk, for copying into the site.
    pub disk_path: PathBuf,
}

/// Everything discovery found, sorted by path.
#[derive(Debug, Default)]
pub struct Discovered {
    /// Notes, sorted by path. A note [`NoteSource::Unchanged`] was not read: its text is empty
    /// and the caller has it from an earlier build; one [`NoteSource::Unread`] is the caller's
    /// to read.
    pub notes: Vec<SourceFile>,
    /// How each note's text was got, aligned with `notes`; empty unless
    /// [`DiscoverOptions::stamps`], [`DiscoverOptions::known`] or
    /// [`DiscoverOptions::defer_reads`] was set.
    pub sources: Vec<NoteSource>,
    /// Each note's path on disk, aligned with `notes`; empty when `sources` is.
    pub disk_paths: Vec<PathBuf>,
    /// Attachments, sorted by path.
    pub attachments: Vec<AttachmentFile>,
    /// Problems met on the way (unreadable files, odd names).
    pub diagnostics: Vec<Diagnostic>,
    /// The texts of the settings files the diagnostics point into, sorted by path.
    pub other_sources: Vec<crate::vault::OtherSource>,
    /// The texts of the `.base` files among the attachments, sorted by path (read on every
    /// discovery: they are few and small, and what a base shows depends on them).
    pub bases: Vec<crate::vault::OtherSource>,
    /// The texts of the `.canvas` files among the attachments, sorted by path (read on every
    /// discovery, as the bases are: a page that embeds one shows what it holds).
    pub canvases: Vec<crate::vault::OtherSource>,
}

/// What to leave out of the walk besides dotfiles.
#[derive(Clone, Debug, Default)]
pub struct DiscoverOptions {
    /// Absolute folders never to enter (the output folder, the cache).
    pub skip_dirs: Vec<PathBuf>,
    /// Globs over vault paths to skip (`exclude` in `vaultc.toml`).
    pub exclude: Option<globset::GlobSet>,
    /// Stamp every note read (see [`NoteSource::Read`]), so that a later discovery can skip
    /// reading it when it did not change.
    pub stamps: bool,
    /// Notes an earlier discovery read, with their stamps, and the paths a file watcher saw
    /// change since: a note whose stamp is the same and that no changed path covers is not
    /// read again.
    pub known: Option<std::sync::Arc<KnownNotes>>,
    /// Follow no symlink whose target is out of the vault (see `Symlinks`): a vault one
    /// did not write cannot bring files from elsewhere on the disk into a site.
    pub no_external_symlinks: bool,
    /// The folder Obsidian's settings are read from (`obsidian_config` in `vaultc.toml`);
    /// `None` for [`crate::settings::DEFAULT_CONFIG_FOLDER`].
    pub obsidian_config: Option<String>,
    /// Read no note: leave each walked note [`NoteSource::Unread`] for its parser to read, so
    /// that a note is read and parsed on one thread while its text is still in the CPU's
    /// cache, and a note two names share on disk is read once.
    pub defer_reads: bool,
}

/// What identifies a file's version without reading it: size, modification and change times,
/// inode. Taken before the file is read, so a write racing the read changes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    inode: u64,
    #[cfg(unix)]
    changed: (i64, i64),
}

impl FileStamp {
    /// The stamp of a file's metadata.
    pub fn of(meta: &std::fs::Metadata) -> FileStamp {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        FileStamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            inode: meta.ino(),
            #[cfg(unix)]
            changed: (meta.ctime(), meta.ctime_nsec()),
        }
    }
}

/// How discovery got a note's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteSource {
    /// Read from disk; stamped when stamps were asked for and the read was clean.
    Read(Option<FileStamp>),
    /// Not read: unchanged since the discovery that [`KnownNotes`] describes.
    Unchanged,
    /// Not read yet ([`DiscoverOptions::defer_reads`]): the parse stage reads it; stamped
    /// (before that read) when stamps were asked for.
    Unread(Option<FileStamp>),
}

/// Notes of an earlier discovery (their stamps and template flags), and what changed since.
#[derive(Debug, Default)]
pub struct KnownNotes {
    /// Stamp and template flag of every note read cleanly last time.
    pub stamps: FastMap<VaultPath, (FileStamp, bool)>,
    /// Absolute paths a watcher reported changed (files or folders); the vault root itself
    /// when it lost track (everything is read again).
    pub changed: FastSet<PathBuf>,
    /// What the earlier discovery found, when it met no problem: then a change to notes
    /// alone needs no walk (see [`KnownTree`]).
    pub tree: Option<KnownTree>,
}

/// The files a clean earlier discovery found. When the changed paths place every file (see
/// `without_walk`), discovery skips the walk: it reads the new notes and the changed ones
/// whose stamp moved, and takes every other known note as it was, without a stat.
#[derive(Debug, Default)]
pub struct KnownTree {
    /// Notes: vault path, path on disk, template flag; sorted by vault path.
    pub notes: Vec<(VaultPath, PathBuf, bool)>,
    /// Attachments, sorted by path.
    pub attachments: Vec<AttachmentFile>,
}

impl KnownNotes {
    /// Whether the note at `path` (on disk at `disk`) is the one read last time.
    fn unchanged(&self, path: &VaultPath, disk: &Path, stamp: FileStamp, template: bool) -> bool {
        self.stamps.get(path) == Some(&(stamp, template))
            && !disk.ancestors().any(|a| self.changed.contains(a))
    }
}

/// Walks `root` and reads every note (in parallel).
pub fn discover(root: &Path, options: &DiscoverOptions) -> Result<Discovered> {
    if !root.is_dir() {
        return Err(Error::VaultNotFound {
            path: root.to_path_buf(),
        });
    }
    let root = root
        .canonicalize()
        .map_err(|e| Error::io("reading", root, e))?;
    let skip: Vec<PathBuf> = options
        .skip_dirs
        .iter()
        .filter_map(|d| d.canonicalize().ok())
        .collect();
    let settings = ObsidianSettings::read(&root, options.obsidian_config.as_deref());
    let filters = Filters {
        root: &root,
        skip: &skip,
        excluded: &settings.excluded,
        exclude: options.exclude.as_ref(),
        templates: &settings.template_folders,
    };
    if let Some(found) = options
        .known
        .as_deref()
        .and_then(|known| without_walk(known, &filters))
    {
        let mut found = found;
        let (bases, mut problems) = read_texts(&found.attachments, "base");
        let (canvases, canvas_problems) = read_texts(&found.attachments, "canvas");
        problems.extend(canvas_problems);
        found.bases = bases;
        found.canvases = canvases;
        if !problems.is_empty() {
            found.diagnostics.extend(problems);
            found
                .diagnostics
                .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        }
        // A settings file that changed makes it walk; kept here so no path can drop them.
        if !settings.diagnostics.is_empty() {
            found.diagnostics.extend(settings.diagnostics);
            found.other_sources = settings.sources;
            found
                .diagnostics
                .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        }
        return Ok(found);
    }
    // The walk feeds the reads: files are read on the thread pool while the walk goes on.
    // The order they arrive in does not matter; everything is sorted below.
    let mut rule = Symlinks::new(&root, &skip);
    rule.only_inside = options.no_external_symlinks;
    let symlinks = std::sync::Mutex::new(rule);
    let found: Vec<Found> = walk(&root, &skip, &symlinks)
        .par_bridge()
        .filter_map(|entry| {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    if err.loop_ancestor().is_some() {
                        symlinks
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .looped(err.path()?);
                        return None;
                    }
                    let on_disk = err.path()?;
                    let gone = err
                        .io_error()
                        .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound);
                    if gone && on_disk.symlink_metadata().is_ok_and(|m| m.is_symlink()) {
                        symlinks
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .dangling(on_disk);
                        return None;
                    }
                    // Permission errors: report against the path and go on.
                    let path = relative(&root, on_disk)?;
                    return Some(Found::Problem(Diagnostic::new(
                        Code::UnreadableFile,
                        path,
                        Span::default(),
                        format!("cannot read: {err}"),
                    )));
                }
            };
            if !entry.file_type().is_file() {
                return None;
            }
            let path = relative(&root, entry.path())?;
            if !filters.takes(&path) {
                return None;
            }
            if !path.is_markdown() {
                return Some(Found::Attachment(AttachmentFile {
                    path,
                    disk_path: entry.into_path(),
                }));
            }
            let is_template = filters.is_template(&path);
            // Stamped before reading: a write that races the read changes the stamp.
            let stamp = (options.stamps || options.known.is_some())
                .then(|| entry.metadata().ok().map(|m| FileStamp::of(&m)))
                .flatten();
            if let (Some(known), Some(stamp)) = (&options.known, stamp) {
                if known.unchanged(&path, entry.path(), stamp, is_template) {
                    let file = SourceFile {
                        path,
                        text: String::new(),
                        is_template,
                    };
                    return Some(Found::Note(
                        file,
                        entry.into_path(),
                        None,
                        NoteSource::Unchanged,
                    ));
                }
            }
            if options.defer_reads {
                let file = SourceFile {
                    path,
                    text: String::new(),
                    is_template,
                };
                let source = NoteSource::Unread(stamp);
                return Some(Found::Note(file, entry.into_path(), None, source));
            }
            let (mut file, diag) = read_note(path, entry.path());
            file.is_template = is_template;
            let source = NoteSource::Read(stamp.filter(|_| diag.is_none()));
            Some(Found::Note(file, entry.into_path(), diag, source))
        })
        .collect();
    let mut diagnostics = settings.diagnostics;
    let other_sources = settings.sources;
    diagnostics.extend(
        symlinks
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .ignored,
    );
    let mut notes = Vec::new();
    let mut attachments = Vec::new();
    for found in found {
        match found {
            Found::Note(file, disk, diag, source) => {
                diagnostics.extend(diag);
                notes.push((file, disk, source));
            }
            Found::Attachment(a) => attachments.push(a),
            Found::Problem(d) => diagnostics.push(d),
        }
    }
    // Two disk names can normalise to the same vault path (NFC vs NFD); keep the one the
    // sorted walk meets first, whatever order the threads finished in.
    notes.sort_by(|a, b| a.0.path.cmp(&b.0.path).then_with(|| a.1.cmp(&b.1)));
    notes.dedup_by(|a, b| a.0.path == b.0.path);
    let aligned = options.stamps || options.known.is_some() || options.defer_reads;
    let (mut sources, mut disk_paths) = (Vec::new(), Vec::new());
    let notes: Vec<SourceFile> = notes
        .into_iter()
        .map(|(file, disk, source)| {
            if aligned {
                sources.push(source);
                disk_paths.push(disk);
            }
            file
        })
        .collect();
    attachments.sort_by(|a, b| {
        a.path
            .cmp(&b.path)
            .then_with(|| a.disk_path.cmp(&b.disk_path))
    });
    attachments.dedup_by(|a, b| a.path == b.path);
    let (bases, problems) = read_texts(&attachments, "base");
    diagnostics.extend(problems);
    let (canvases, problems) = read_texts(&attachments, "canvas");
    diagnostics.extend(problems);
    // A note's unreadable-file diagnostic and a walk error arrive in any order.
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Ok(Discovered {
        notes,
        sources,
        disk_paths,
        attachments,
        diagnostics,
        other_sources,
        bases,
        canvases,
    })
}

/// The walk of the vault at `root` (canonical): sorted, hidden names, `skip` folders and
/// sites vaultc built left out, symlinks followed as [`Symlinks`] says. It is one sequential
/// iterator (a thread pool pulls from it in turn), so the symlinks it meets are judged in the
/// same order on any thread count.
///
/// A site is known by its marker file ([`crate::output::MARKER`]): `vaultc build` run in the
/// vault writes `site/` there by default, and `check` or `graph`, which have no output folder
/// to skip, would otherwise read its copies of the attachments and its theme's files as the
/// vault's own (every embed ambiguous between the original and its copy).
fn walk<'a, 'r: 'a>(
    root: &Path,
    skip: &'a [PathBuf],
    symlinks: &'a std::sync::Mutex<Symlinks<'r>>,
) -> impl Iterator<Item = walkdir::Result<walkdir::DirEntry>> + Send + use<'a, 'r> {
    walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(move |e| {
            let hidden = e.depth() > 0 && e.file_name().to_string_lossy().starts_with('.');
            if hidden || skip.iter().any(|s| e.path() == s) {
                return false;
            }
            // A link is judged first, so that one to the output folder is still reported.
            if e.path_is_symlink()
                && !symlinks
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .follows(e.path())
            {
                return false;
            }
            !(e.depth() > 0
                && e.file_type().is_dir()
                && e.path().join(crate::output::MARKER).is_file())
        })
}

/// The symbolic links of the vault at `root` that discovery follows (see `Symlinks`): each
/// as its path through the vault (`root/ext`) and its target (canonical), sorted by target;
/// `skip` as in [`DiscoverOptions::skip_dirs`]. A watcher that does not follow links itself
/// watches these targets.
pub fn followed_symlinks(
    root: &Path,
    skip: &[PathBuf],
    no_external_symlinks: bool,
) -> Vec<(PathBuf, PathBuf)> {
    let Ok(root) = root.canonicalize() else {
        return Vec::new();
    };
    let skip: Vec<PathBuf> = skip.iter().filter_map(|d| d.canonicalize().ok()).collect();
    let mut rule = Symlinks::new(&root, &skip);
    rule.only_inside = no_external_symlinks;
    let symlinks = std::sync::Mutex::new(rule);
    walk(&root, &skip, &symlinks).for_each(drop);
    let followed = symlinks
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .followed;
    followed
        .into_iter()
        .map(|(target, link)| (root.join(link.as_str()), target))
        .collect()
}

/// Obsidian's rule for symbolic links (its help, "Symbolic links and junctions"): a link's
/// target must be disjoint from the vault and from every other link's target. A link into
/// the vault would list its files twice (every name they hold ambiguous), a link to a folder
/// holding the vault would walk the disk around it (`up -> ..`: the user's home), and two
/// links to one folder list it twice; Obsidian ignores such a link, and so does vaultc, with
/// an `ignored-symlink` warning on it. A link to a folder or file outside the vault, apart
/// from the others, is followed: it is how a vault takes in files kept elsewhere.
struct Symlinks<'a> {
    /// The vault folder (canonical).
    root: &'a Path,
    /// Folders the walk skips (canonical).
    skip: &'a [PathBuf],
    /// Follow no link out of the vault (`--no-external-symlinks`).
    only_inside: bool,
    /// Targets followed so far (canonical), with the link that brought each in.
    followed: std::collections::BTreeMap<PathBuf, VaultPath>,
    /// One warning per link ignored.
    ignored: Vec<Diagnostic>,
}

impl<'a> Symlinks<'a> {
    fn new(root: &'a Path, skip: &'a [PathBuf]) -> Self {
        Symlinks {
            root,
            skip,
            only_inside: false,
            followed: std::collections::BTreeMap::new(),
            ignored: Vec::new(),
        }
    }

    /// Whether the walk follows the symlink at `link` (a path through the vault); one it
    /// does not is reported. A link whose target cannot be found is left to the walk, which
    /// reports it.
    fn follows(&mut self, link: &Path) -> bool {
        let (Ok(target), Some(path)) = (std::fs::canonicalize(link), relative(self.root, link))
        else {
            return true;
        };
        match self.ignored_because(&target) {
            Some(why) => {
                self.ignore(path, why);
                false
            }
            None => {
                self.followed.insert(target, path);
                true
            }
        }
    }

    /// Reports the symlink at `link` that the walk found to lead back to a folder it is in
    /// (walkdir's loop check, which comes before [`Symlinks::follows`] is asked).
    fn looped(&mut self, link: &Path) {
        let Some(path) = relative(self.root, link) else {
            return;
        };
        let why = std::fs::canonicalize(link)
            .ok()
            .and_then(|target| self.ignored_because(&target))
            .unwrap_or(IgnoredLink::Loop);
        self.ignore(path, why);
    }

    /// Reports the symlink at `link` whose target does not exist.
    fn dangling(&mut self, link: &Path) {
        let Some(path) = relative(self.root, link) else {
            return;
        };
        let target = std::fs::read_link(link)
            .map(|t| t.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.ignore(path, IgnoredLink::Dangling(target));
    }

    /// Why a link to `target` (canonical) is not followed, if it is not.
    fn ignored_because(&self, target: &Path) -> Option<IgnoredLink> {
        // The output folder and its cache, wherever they are: through a link the walk would
        // not know them, and would read the site it writes.
        if self
            .skip
            .iter()
            .any(|s| target.starts_with(s) || s.starts_with(target))
        {
            return Some(IgnoredLink::Output);
        }
        if let Ok(inside) = target.strip_prefix(self.root) {
            if inside.as_os_str().is_empty() {
                return Some(IgnoredLink::HoldsVault);
            }
            // A dot-folder of the vault, which the walk skips, lists nothing twice: a link
            // there is judged as one out of the vault.
            if is_hidden(inside) {
                return self.overlap(target);
            }
            return Some(IgnoredLink::IntoVault(
                relative(self.root, target)
                    .map_or_else(|| inside.to_string_lossy().into_owned(), |p| p.to_string()),
            ));
        }
        if self.root.starts_with(target) {
            return Some(IgnoredLink::HoldsVault);
        }
        if self.only_inside {
            return Some(IgnoredLink::Outside);
        }
        self.overlap(target)
    }

    /// Why a link to `target` (canonical, out of the walked vault) is not followed: it
    /// overlaps a target followed before.
    fn overlap(&self, target: &Path) -> Option<IgnoredLink> {
        // A followed target holding this one is one of its ancestors; one inside it sorts
        // right after it (paths order by component). Lookups, not a scan: a vault of many
        // links stays linear.
        let holding = target.ancestors().find_map(|a| self.followed.get(a));
        let inside = || {
            self.followed
                .range::<Path, _>((
                    std::ops::Bound::Excluded(target),
                    std::ops::Bound::Unbounded,
                ))
                .next()
                .filter(|(t, _)| t.starts_with(target))
                .map(|(_, by)| by)
        };
        holding
            .or_else(inside)
            .map(|by| IgnoredLink::Overlaps(by.clone()))
    }

    fn ignore(&mut self, path: VaultPath, why: IgnoredLink) {
        let (message, help) = why.said();
        self.ignored.push(
            Diagnostic::new(
                Code::IgnoredSymlink,
                path,
                Span::default(),
                format!("symbolic link ignored: {message}"),
            )
            .with_help(help),
        );
    }
}

/// Why discovery does not follow a symlink.
enum IgnoredLink {
    /// Its target is in the vault (the vault path): the files would be listed twice.
    IntoVault(String),
    /// Its target is the vault folder or a folder holding it.
    HoldsVault,
    /// A link back to a folder the walk is in, that no other reason covers.
    Loop,
    /// Its target overlaps what the link named already brings in.
    Overlaps(VaultPath),
    /// Its target is the output folder, its cache, or holds one.
    Output,
    /// Its target is out of the vault, and `--no-external-symlinks` is set.
    Outside,
    /// Its target (as the link says it) does not exist.
    Dangling(String),
}

impl IgnoredLink {
    /// The message (after "symbolic link ignored: ") and the help.
    fn said(&self) -> (String, String) {
        const REMOVE: &str =
            "remove the link, or point it at a folder outside the vault that no other link reaches";
        match self {
            IgnoredLink::IntoVault(to) => (
                format!("it points into the vault (to `{to}`), which would then be listed twice; Obsidian ignores it too"),
                REMOVE.into(),
            ),
            IgnoredLink::HoldsVault => (
                "it points to the vault folder or a folder that holds it; Obsidian ignores it too".into(),
                REMOVE.into(),
            ),
            IgnoredLink::Loop => (
                "it points to a folder that holds it; Obsidian ignores it too".into(),
                REMOVE.into(),
            ),
            IgnoredLink::Overlaps(by) => (
                format!("its target overlaps what `{by}` already brings into the vault; Obsidian ignores it too"),
                REMOVE.into(),
            ),
            IgnoredLink::Output => (
                "it leads to the site's output folder (or a folder holding it), which vaultc never reads".into(),
                "remove the link, or write the site somewhere else (`-o DIR`)".into(),
            ),
            IgnoredLink::Dangling(target) => (
                format!("its target `{target}` does not exist"),
                "restore what it points to (a folder on another machine, a drive not mounted), or remove the link".into(),
            ),
            IgnoredLink::Outside => (
                "it leads out of the vault, and --no-external-symlinks is set".into(),
                "build without --no-external-symlinks to take in the files it leads to".into(),
            ),
        }
    }
}

/// What the walk leaves out, and which notes are templates.
struct Filters<'a> {
    /// The vault folder (canonical).
    root: &'a Path,
    /// Folders skipped with all they hold (canonical).
    skip: &'a [PathBuf],
    /// Obsidian's excluded files.
    excluded: &'a ExcludedFiles,
    /// Vault path globs skipped.
    exclude: Option<&'a globset::GlobSet>,
    /// Template folders (`folder/`).
    templates: &'a [String],
}

impl Filters<'_> {
    /// Whether a file the walk meets at `path` (not in a dot-folder or a skipped folder) is
    /// part of the vault.
    fn takes(&self, path: &VaultPath) -> bool {
        !(self.excluded.excludes(path.as_str())
            || self.exclude.is_some_and(|g| g.is_match(path.as_str()))
            || path.as_str() == crate::config::FILE_NAME)
    }

    /// Whether the note at `path` lives in a templates folder.
    fn is_template(&self, path: &VaultPath) -> bool {
        self.templates
            .iter()
            .any(|t| path.as_str().starts_with(t.as_str()))
    }
}

/// Whether a relative path has a name starting with a dot: what the walk skips (`serve`'s
/// watcher asks the same of a changed path).
pub(crate) fn is_hidden(rel: &Path) -> bool {
    rel.components().any(|c| match c {
        std::path::Component::Normal(name) => name.to_string_lossy().starts_with('.'),
        _ => false,
    })
}

/// Discovery from a [`KnownTree`], without a walk, when the watcher's paths say exactly which
/// files changed, came or went: known files changed in place or gone, new regular files in
/// folders the tree knows, and paths the walk would skip (dotfiles, dot-folders, skipped
/// folders). `None` means: walk (a folder came or went, a symlink, a settings file or the
/// configuration changed, or a path the tree cannot place).
fn without_walk(known: &KnownNotes, filters: &Filters) -> Option<Discovered> {
    let tree = known.tree.as_ref()?;
    if known.changed.is_empty() {
        return None;
    }
    let notes: FastSet<&Path> = tree.notes.iter().map(|(_, d, _)| d.as_path()).collect();
    let attachments: FastSet<&Path> = tree
        .attachments
        .iter()
        .map(|a| a.disk_path.as_path())
        .collect();
    let mut folders: Option<FastSet<&Path>> = None;
    let mut gone: FastSet<&Path> = FastSet::default();
    let mut come: Vec<(VaultPath, PathBuf)> = Vec::new();
    for changed in &known.changed {
        let changed = changed.as_path();
        if notes.contains(changed) || attachments.contains(changed) {
            match std::fs::metadata(changed) {
                Ok(meta) if meta.is_file() => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    gone.insert(changed);
                }
                _ => return None,
            }
            continue;
        }
        let rel = changed.strip_prefix(filters.root).ok()?;
        let hidden = rel
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
        if hidden {
            // Dotfiles and dot-folders are not walked; the settings files read from them are.
            if crate::settings::is_settings_file(rel) {
                return None;
            }
            continue;
        }
        if rel == Path::new(crate::config::FILE_NAME) {
            return None;
        }
        if filters.skip.iter().any(|s| changed.starts_with(s)) {
            continue;
        }
        let folders = folders.get_or_insert_with(|| known_folders(tree, filters.root));
        match std::fs::symlink_metadata(changed) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A folder that held files went: walk. Anything else came and went unseen.
                if folders.contains(changed) {
                    return None;
                }
            }
            Ok(meta) if meta.file_type().is_file() => {
                if !changed.parent().is_some_and(|p| folders.contains(p)) {
                    return None;
                }
                if let Some(path) = relative(filters.root, changed).filter(|p| filters.takes(p)) {
                    come.push((path, changed.to_path_buf()));
                }
            }
            _ => return None,
        }
    }
    let mut kept_notes: Vec<(VaultPath, PathBuf, bool)> = tree
        .notes
        .iter()
        .filter(|(_, disk, _)| !gone.contains(disk.as_path()))
        .cloned()
        .collect();
    let mut kept_attachments: Vec<AttachmentFile> = tree
        .attachments
        .iter()
        .filter(|a| !gone.contains(a.disk_path.as_path()))
        .cloned()
        .collect();
    let come_any = !come.is_empty();
    for (path, disk) in come {
        if path.is_markdown() {
            let is_template = filters.is_template(&path);
            kept_notes.push((path, disk, is_template));
        } else {
            kept_attachments.push(AttachmentFile {
                path,
                disk_path: disk,
            });
        }
    }
    if come_any {
        kept_notes.sort_by(|a, b| a.0.cmp(&b.0));
        kept_attachments.sort_by(|a, b| a.path.cmp(&b.path));
        // Two disk names of one vault path (NFC and NFD): the walk decides which one wins.
        let twice = kept_notes.windows(2).any(|w| w[0].0 == w[1].0)
            || kept_attachments.windows(2).any(|w| w[0].path == w[1].path);
        if twice {
            return None;
        }
    }
    // A known note no watcher path names is taken as it was, without a stat, as a rebuild by
    // tracking takes it: every changed path here is a file (a changed folder walks), so a
    // note's own path is the only one that can cover it, and a change the watcher missed
    // shows in the note's old stamp, which the session's sweep compares with the file once
    // this build is out. A note read with a problem last time has no stamp: read again.
    let found: Vec<_> = kept_notes
        .par_iter()
        .map(|(path, disk, is_template)| {
            if !known.changed.contains(disk.as_path())
                && known
                    .stamps
                    .get(path)
                    .is_some_and(|(_, t)| t == is_template)
            {
                let file = SourceFile {
                    path: path.clone(),
                    text: String::new(),
                    is_template: *is_template,
                };
                return (file, None, NoteSource::Unchanged);
            }
            let stamp = std::fs::metadata(disk).ok().map(|m| FileStamp::of(&m));
            if let Some(stamp) = stamp {
                if known.unchanged(path, disk, stamp, *is_template) {
                    let file = SourceFile {
                        path: path.clone(),
                        text: String::new(),
                        is_template: *is_template,
                    };
                    return (file, None, NoteSource::Unchanged);
                }
            }
            let (mut file, diag) = read_note(path.clone(), disk);
            file.is_template = *is_template;
            let source = NoteSource::Read(stamp.filter(|_| diag.is_none()));
            (file, diag, source)
        })
        .collect();
    let mut discovered = Discovered {
        disk_paths: kept_notes.into_iter().map(|(_, d, _)| d).collect(),
        attachments: kept_attachments,
        ..Discovered::default()
    };
    for (file, diag, source) in found {
        discovered.notes.push(file);
        discovered.diagnostics.extend(diag);
        discovered.sources.push(source);
    }
    discovered
        .diagnostics
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Some(discovered)
}

/// The vault folder and every folder holding a file of `tree`, at any depth.
fn known_folders<'a>(tree: &'a KnownTree, root: &'a Path) -> FastSet<&'a Path> {
    let mut folders: FastSet<&Path> = FastSet::default();
    folders.insert(root);
    let files = tree
        .notes
        .iter()
        .map(|(_, d, _)| d.as_path())
        .chain(tree.attachments.iter().map(|a| a.disk_path.as_path()));
    for file in files {
        let mut folder = file.parent();
        while let Some(f) = folder {
            if !folders.insert(f) {
                break;
            }
            folder = f.parent();
        }
    }
    folders
}

/// One thing the walk found.
enum Found {
    /// A note with its disk path, a diagnostic if reading it was not clean, and whether it
    /// was read.
    Note(SourceFile, PathBuf, Option<Diagnostic>, NoteSource),
    Attachment(AttachmentFile),
    /// A walk error (symlink loop, permission denied).
    Problem(Diagnostic),
}

fn relative(root: &Path, path: &Path) -> Option<VaultPath> {
    let rel = path.strip_prefix(root).ok()?;
    // Walked paths are clean and almost always UTF-8: then the path's own text is its
    // components joined by `/`, with no vector of parts to build.
    if let Some(text) = rel.to_str().filter(|_| std::path::MAIN_SEPARATOR == '/') {
        if text.split('/').all(|c| !c.is_empty() && c != ".") {
            return VaultPath::new(text);
        }
    }
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    VaultPath::new(&parts.join("/"))
}

/// Reads the files with extension `ext` (`base`, `canvas`) among `attachments` (sorted by
/// path, so the texts are too); one that cannot be read is an `unreadable-file` diagnostic
/// and shows nothing.
fn read_texts(
    attachments: &[AttachmentFile],
    ext: &str,
) -> (Vec<crate::vault::OtherSource>, Vec<Diagnostic>) {
    let mut bases = Vec::new();
    let mut problems = Vec::new();
    for a in attachments {
        if !a.path.extension().eq_ignore_ascii_case(ext) {
            continue;
        }
        let (file, problem) = read_note(a.path.clone(), &a.disk_path);
        problems.extend(problem);
        bases.push(crate::vault::OtherSource {
            path: file.path,
            text: file.text,
        });
    }
    (bases, problems)
}

/// Reads the note at `disk`: its text (a byte-order mark dropped, invalid UTF-8 decoded
/// lossily), or an empty text and the diagnostic saying why it could not be read.
pub(crate) fn read_note(path: VaultPath, disk: &Path) -> (SourceFile, Option<Diagnostic>) {
    let unreadable = |path: VaultPath, msg: String| {
        let diag = Diagnostic::new(Code::UnreadableFile, path.clone(), Span::default(), msg);
        (
            SourceFile {
                path,
                text: String::new(),
                is_template: false,
            },
            Some(diag),
        )
    };
    // One open, one fstat, the reads: the size check uses the open file's metadata.
    let read = std::fs::File::open(disk).and_then(|mut file| {
        use std::io::Read as _;
        let len = file.metadata()?.len();
        if len > MAX_NOTE_BYTES {
            return Ok(Err(len));
        }
        let mut bytes = Vec::with_capacity(len as usize);
        // The size the file had when it was opened is what is read: a regular file gives it
        // in one `read`, with no second one to find its end (a note growing while it is read
        // is read up to that size, as a write after its end would not be read either).
        // `read_to_end` on a `File` would also ask for its size and position again.
        file.by_ref().take(len).read_to_end(&mut bytes)?;
        Ok(Ok(bytes))
    });
    let read = match read {
        Ok(Err(len)) => {
            return unreadable(
                path,
                format!(
                    "note is {len} bytes, larger than the {} byte limit; skipped",
                    MAX_NOTE_BYTES
                ),
            )
        }
        Ok(Ok(bytes)) => Ok(bytes),
        Err(err) => Err(err),
    };
    match read {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(mut text) => {
                if text.starts_with('\u{feff}') {
                    text.replace_range(..3, "");
                }
                (
                    SourceFile {
                        path,
                        text,
                        is_template: false,
                    },
                    None,
                )
            }
            Err(err) => {
                // Keep the note (lossily decoded) so its links still work, and say where it broke.
                let at = err.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
                let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
                let line = text[..at].matches('\n').count() + 1;
                let diag = Diagnostic::new(
                    Code::UnreadableFile,
                    path.clone(),
                    Span::new(line_start..(at + 3).min(text.len())),
                    format!("not valid UTF-8 (first bad byte at offset {at}, line {line}); invalid bytes are shown as U+FFFD"),
                );
                (
                    SourceFile {
                        path,
                        text,
                        is_template: false,
                    },
                    Some(diag),
                )
            }
        },
        Err(err) => unreadable(path, format!("cannot read: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn discover_with(threads: usize, root: &Path) -> Discovered {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| discover(root, &DiscoverOptions::default()).unwrap())
    }

    /// Two disk names that normalise to one vault path: the note the sorted walk meets first
    /// wins, whatever the thread count (reads finish in any order).
    #[test]
    fn same_vault_path_keeps_the_first_disk_name_on_any_thread_count() {
        let dir = tempfile::tempdir().unwrap();
        // NFD `Cafe\u{301}` sorts before NFC `Caf\u{e9}` byte-wise.
        std::fs::write(dir.path().join("Caf\u{e9}.md"), "nfc").unwrap();
        std::fs::write(dir.path().join("Cafe\u{301}.md"), "nfd").unwrap();
        for i in 0..20 {
            std::fs::write(dir.path().join(format!("n{i}.md")), format!("{i}")).unwrap();
        }
        for threads in [1, 2, 4] {
            let found = discover_with(threads, dir.path());
            let cafe: Vec<&SourceFile> = found
                .notes
                .iter()
                .filter(|n| n.path.as_str() == "Caf\u{e9}.md")
                .collect();
            assert_eq!(cafe.len(), 1, "{threads} threads");
            assert_eq!(cafe[0].text, "nfd", "{threads} threads");
            assert_eq!(found.notes.len(), 21);
            let paths: Vec<&str> = found.notes.iter().map(|n| n.path.as_str()).collect();
            let mut sorted = paths.clone();
            sorted.sort();
            assert_eq!(paths, sorted, "notes come sorted by path");
        }
    }

    /// A symlink loop is a diagnostic on the looping path, and the walk goes on.
    #[cfg(unix)]
    #[test]
    fn symlink_loop_is_reported_and_the_rest_is_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/note.md"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("a"), dir.path().join("a/loop")).unwrap();
        std::fs::write(dir.path().join("z.md"), "z").unwrap();
        for threads in [1, 2] {
            let found = discover_with(threads, dir.path());
            let paths: Vec<&str> = found.notes.iter().map(|n| n.path.as_str()).collect();
            assert_eq!(paths, ["a/note.md", "z.md"]);
            assert_eq!(found.diagnostics.len(), 1, "{:?}", found.diagnostics);
            assert_eq!(found.diagnostics[0].code, Code::IgnoredSymlink);
            assert_eq!(found.diagnostics[0].file.as_str(), "a/loop");
        }
    }

    /// Obsidian's symlink rule: links into the vault (folder or file), to a folder holding
    /// it, or to what another link brings in are ignored with a warning each; a link out of
    /// the vault, or into a dot-folder the walk skips, is followed, and a loop inside what it
    /// brings in is ignored too.
    #[cfg(unix)]
    #[test]
    fn symlinks_follow_obsidians_rule() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let (vault, ext) = (dir.path().join("vault"), dir.path().join("ext"));
        for folder in [vault.join("notes"), ext.join("deep")] {
            std::fs::create_dir_all(folder).unwrap();
        }
        std::fs::write(vault.join("notes/A.md"), "[[B]]").unwrap();
        std::fs::write(vault.join("notes/B.md"), "# B").unwrap();
        std::fs::write(ext.join("E.md"), "[[A]]").unwrap();
        std::fs::write(ext.join("deep/img.png"), "png").unwrap();
        symlink(vault.join("notes"), vault.join("mirror")).unwrap();
        symlink(vault.join("notes/B.md"), vault.join("B again.md")).unwrap();
        symlink(dir.path(), vault.join("up")).unwrap();
        symlink(&ext, vault.join("ext1")).unwrap();
        symlink(ext.join("deep"), vault.join("ext2")).unwrap();
        symlink(&ext, ext.join("deep/back")).unwrap();
        // Into a dot-folder, which the walk skips: nothing is listed twice, so followed.
        std::fs::create_dir(vault.join(".store")).unwrap();
        std::fs::write(vault.join(".store/S.md"), "# S").unwrap();
        symlink(vault.join(".store/S.md"), vault.join("stored.md")).unwrap();
        for threads in [1, 2] {
            let found = discover_with(threads, &vault);
            let (notes, attachments, _) = listing(&found);
            assert_eq!(
                notes,
                ["ext1/E.md", "notes/A.md", "notes/B.md", "stored.md"]
            );
            assert_eq!(attachments, ["ext1/deep/img.png"]);
            let ignored: Vec<(&str, &str)> = found
                .diagnostics
                .iter()
                .map(|d| (d.file.as_str(), d.message.as_str()))
                .collect();
            assert!(found
                .diagnostics
                .iter()
                .all(|d| d.code == Code::IgnoredSymlink));
            let said = |why: &str| format!("symbolic link ignored: {why}; Obsidian ignores it too");
            assert_eq!(
                ignored,
                [
                    (
                        "B again.md",
                        said("it points into the vault (to `notes/B.md`), which would then be listed twice").as_str()
                    ),
                    (
                        "ext1/deep/back",
                        said("its target overlaps what `ext1` already brings into the vault").as_str()
                    ),
                    (
                        "ext2",
                        said("its target overlaps what `ext1` already brings into the vault").as_str()
                    ),
                    (
                        "mirror",
                        said("it points into the vault (to `notes`), which would then be listed twice").as_str()
                    ),
                    ("up", said("it points to the vault folder or a folder that holds it").as_str()),
                ]
            );
        }
    }

    /// A link to the output folder (or a folder holding it) is never followed, wherever the
    /// output is; with `no_external_symlinks`, no link out of the vault is followed, while a
    /// link into a dot-folder of the vault still is.
    #[cfg(unix)]
    #[test]
    fn symlinks_to_the_output_and_out_of_the_vault_when_asked() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let (vault, site, ext) = (
            dir.path().join("vault"),
            dir.path().join("out/site"),
            dir.path().join("ext"),
        );
        for folder in [&vault.join(".store"), &site, &ext] {
            std::fs::create_dir_all(folder).unwrap();
        }
        std::fs::write(vault.join("A.md"), "# A").unwrap();
        std::fs::write(vault.join(".store/S.md"), "# S").unwrap();
        std::fs::write(site.join("page.html"), "<p>").unwrap();
        std::fs::write(ext.join("E.md"), "# E").unwrap();
        symlink(&site, vault.join("site")).unwrap();
        symlink(dir.path().join("out"), vault.join("out")).unwrap();
        symlink(&ext, vault.join("ext")).unwrap();
        symlink(vault.join(".store"), vault.join("store")).unwrap();
        for no_external_symlinks in [false, true] {
            let options = DiscoverOptions {
                skip_dirs: vec![site.clone()],
                no_external_symlinks,
                ..DiscoverOptions::default()
            };
            let found = discover(&vault, &options).unwrap();
            let (notes, attachments, _) = listing(&found);
            let ignored: Vec<(&str, &str)> = found
                .diagnostics
                .iter()
                .map(|d| (d.file.as_str(), d.message.as_str()))
                .collect();
            let output = "symbolic link ignored: it leads to the site's output folder (or a folder holding it), which vaultc never reads";
            assert!(attachments.is_empty(), "{attachments:?}");
            if no_external_symlinks {
                assert_eq!(notes, ["A.md", "store/S.md"]);
                let outside = "symbolic link ignored: it leads out of the vault, and --no-external-symlinks is set";
                assert_eq!(
                    ignored,
                    [("ext", outside), ("out", output), ("site", output)]
                );
            } else {
                assert_eq!(notes, ["A.md", "ext/E.md", "store/S.md"]);
                assert_eq!(ignored, [("out", output), ("site", output)]);
            }
        }
    }

    /// A link whose target does not exist (a folder on another machine) is a warning on the
    /// link, not an error: what links into it are broken links of their own.
    #[cfg(unix)]
    #[test]
    fn a_dangling_symlink_is_ignored_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.md"), "# A").unwrap();
        std::os::unix::fs::symlink("../nowhere/notes", dir.path().join("gone")).unwrap();
        let found = discover_with(2, dir.path());
        assert_eq!(listing(&found).0, ["a.md"]);
        let d: Vec<(Code, &str, &str)> = found
            .diagnostics
            .iter()
            .map(|d| (d.code, d.file.as_str(), d.message.as_str()))
            .collect();
        assert_eq!(
            d,
            [(
                Code::IgnoredSymlink,
                "gone",
                "symbolic link ignored: its target `../nowhere/notes` does not exist"
            )]
        );
    }

    /// The overlap of a link's target with the targets followed, found by lookups in the
    /// sorted map, is the one a scan of every followed target finds (paths that share a
    /// prefix of characters but not of components, such as `/x/a` and `/x/a-b`, included).
    #[test]
    fn overlap_lookups_equal_a_scan_of_the_targets() {
        let mut rng = crate::source::xorshift(0x51ab_11c5);
        let parts = ["a", "a-b", "a.b", "b", "ab", "a b"];
        let root = PathBuf::from("/vault");
        for _ in 0..300 {
            let mut symlinks = Symlinks::new(&root, &[]);
            let path = |rng: &mut dyn FnMut(usize) -> usize| {
                let mut p = PathBuf::from("/x");
                for _ in 0..1 + rng(3) {
                    p.push(parts[rng(parts.len())]);
                }
                p
            };
            for i in 0..rng(8) {
                let target = path(&mut rng);
                if symlinks.overlap(&target).is_none() {
                    symlinks
                        .followed
                        .insert(target, VaultPath::new(&format!("l{i}")).unwrap());
                }
            }
            for _ in 0..20 {
                let target = path(&mut rng);
                let scan = symlinks
                    .followed
                    .iter()
                    .any(|(t, _)| target.starts_with(t) || t.starts_with(&target));
                assert_eq!(
                    symlinks.overlap(&target).is_some(),
                    scan,
                    "{} against {:?}",
                    target.display(),
                    symlinks.followed.keys().collect::<Vec<_>>()
                );
            }
        }
    }

    /// What a session keeps of a discovery: stamps and the tree of files, with `changed`.
    fn known_after(found: &Discovered, changed: &[PathBuf]) -> KnownNotes {
        let mut known = KnownNotes {
            changed: changed.iter().cloned().collect(),
            ..KnownNotes::default()
        };
        let mut tree = KnownTree {
            notes: Vec::new(),
            attachments: found.attachments.clone(),
        };
        for ((note, disk), source) in found
            .notes
            .iter()
            .zip(&found.disk_paths)
            .zip(&found.sources)
        {
            tree.notes
                .push((note.path.clone(), disk.clone(), note.is_template));
            if let NoteSource::Read(Some(stamp)) = source {
                known
                    .stamps
                    .insert(note.path.clone(), (*stamp, note.is_template));
            }
        }
        known.tree = Some(tree);
        known
    }

    fn listing(found: &Discovered) -> (Vec<String>, Vec<String>, Vec<PathBuf>) {
        (
            found.notes.iter().map(|n| n.path.to_string()).collect(),
            found
                .attachments
                .iter()
                .map(|a| a.path.to_string())
                .collect(),
            found.disk_paths.clone(),
        )
    }

    /// Files that came and went, as a watcher reports them, are found without a walk when the
    /// tree can place them (a file nobody reported is then not found: the proof that no walk
    /// ran); otherwise discovery walks. Either way it lists what a walk lists.
    #[test]
    fn files_that_came_and_went_are_found_without_a_walk() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let write = |rel: &str, text: &str| {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            path
        };
        for rel in [
            "a/one.md",
            "a/two.md",
            "b/c/three.md",
            "four.md",
            "a/pic.png",
        ] {
            write(rel, rel);
        }
        let options = DiscoverOptions {
            stamps: true,
            exclude: Some(
                globset::GlobSetBuilder::new()
                    .add(globset::Glob::new("**/*.skip.md").unwrap())
                    .build()
                    .unwrap(),
            ),
            ..DiscoverOptions::default()
        };
        let walk = |options: &DiscoverOptions| discover(&root, options).unwrap();
        let mut before = walk(&options);
        // Each case: what happens on disk, then what the watcher reports, and whether the
        // tree can place it all (no walk).
        type Case<'c> = (&'c str, Box<dyn Fn() -> Vec<PathBuf> + 'c>, bool);
        let cases: Vec<Case> = vec![
            (
                "a note came",
                Box::new(|| vec![write("a/new.md", "new")]),
                true,
            ),
            (
                "a note went",
                Box::new(|| {
                    std::fs::remove_file(root.join("a/two.md")).unwrap();
                    vec![root.join("a/two.md")]
                }),
                true,
            ),
            (
                "renamed in a deep folder, an attachment came",
                Box::new(|| {
                    std::fs::rename(root.join("b/c/three.md"), root.join("b/c/3.md")).unwrap();
                    vec![
                        root.join("b/c/three.md"),
                        root.join("b/c/3.md"),
                        write("b/pic.png", "png"),
                    ]
                }),
                true,
            ),
            (
                "dotfiles, skipped and excluded files, a temporary file gone",
                Box::new(|| {
                    vec![
                        write(".obsidian/workspace.json", "{}"),
                        write("a/.one.md.swp", "swap"),
                        write("a/x.skip.md", "excluded"),
                        root.join("a/4913"),
                    ]
                }),
                true,
            ),
            (
                "a note in a new folder",
                Box::new(|| vec![write("d/e/deep.md", "deep")]),
                false,
            ),
            (
                "a folder of notes went",
                Box::new(|| {
                    std::fs::remove_dir_all(root.join("b")).unwrap();
                    vec![root.join("b/c/3.md"), root.join("b/c"), root.join("b")]
                }),
                false,
            ),
            (
                "a settings file changed",
                Box::new(|| vec![write(".obsidian/app.json", "{}")]),
                false,
            ),
        ];
        for (what, change, placed) in cases {
            let changed = change();
            // A file no watcher reported: only a walk finds it. And a known note edited with
            // no report: a walk reads it; without one it is taken as it was, on the watcher's
            // word (the session's sweep finds it next, see `BuildSession::unreported_changes`).
            let unreported = write("four 2.md", "unreported");
            let edited = format!("edited unseen when {what}");
            write("four.md", &edited);
            let known = std::sync::Arc::new(known_after(&before, &changed));
            let after = walk(&DiscoverOptions {
                known: Some(known),
                ..options.clone()
            });
            let fresh = walk(&options);
            let found = after.notes.iter().any(|n| n.path.as_str() == "four 2.md");
            assert_eq!(found, !placed, "{what}: walked");
            let mut expected = listing(&fresh);
            if placed {
                let at = expected.0.iter().position(|p| p == "four 2.md").unwrap();
                expected.0.remove(at);
                expected.2.remove(at);
            }
            assert_eq!(listing(&after), expected, "{what}");
            let four = after
                .notes
                .iter()
                .position(|n| n.path.as_str() == "four.md")
                .unwrap();
            match placed {
                true => assert_eq!(after.sources[four], NoteSource::Unchanged, "{what}"),
                false => assert_eq!(after.notes[four].text, edited, "{what}"),
            }
            for (note, source) in after.notes.iter().zip(&after.sources) {
                if *source == NoteSource::Unchanged {
                    assert!(!changed.contains(&root.join(note.path.as_str())), "{what}");
                } else {
                    let disk = root.join(note.path.as_str());
                    assert_eq!(note.text, std::fs::read_to_string(disk).unwrap(), "{what}");
                }
            }
            std::fs::remove_file(&unreported).unwrap();
            before = walk(&options);
        }
    }
}
