//! The front half of the pipeline, shared by every command:
//! discover -> parse -> resolve -> graph -> diagnose. `check` stops here; `build` goes on to
//! render and write.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::cache::{CacheEntry, CacheUpdate, ParseCache};
use crate::config::Config;
use crate::diag::{checks, Diagnostic, Severity, Summary};
use crate::discover::{self, DiscoverOptions, FileStamp, KnownNotes, NoteSource, SourceFile};
use crate::error::Result;
use crate::graph::ConceptGraph;
use crate::parse;
use crate::resolve::{self, Resolution, ResolveOptions};
use crate::site::{self, SitePlan};
use crate::source::{FastMap, VaultPath};
use crate::vault::{Note, Vault};

/// Options of the compile stages.
#[derive(Clone, Debug, Default)]
pub struct CompileOptions {
    /// Folders never to read (the output folder).
    pub skip_dirs: Vec<PathBuf>,
    /// `vaultc.toml` plus command-line overrides: exclusions, alias resolution, lint levels.
    pub config: Config,
    /// Plan pages for `draft: true` notes too.
    pub include_drafts: bool,
    /// Reuse the parses of notes whose text this cache holds, and return the next cache in
    /// [`Compilation::cache_update`] (`build` loads and saves it; `None` parses every note and
    /// encodes nothing, as `check` does).
    pub parse_cache: Option<std::sync::Arc<ParseCache>>,
    /// Record where every note came from in [`Compilation::origins`], so that a later
    /// compilation in the same process can reuse the notes that did not change.
    pub keep_origins: bool,
    /// Notes kept from an earlier compilation in this process: discovery does not read the
    /// unchanged ones, and they are not parsed or decoded again.
    pub reuse: Option<std::sync::Arc<Reuse>>,
    /// Give every note parsed its body template ([`Note::body`]), for rendering (`build`).
    pub bodies: bool,
    /// The theme's files under `static/`, which the site plan keeps attachments from
    /// overwriting (`None`: the default theme's, as `check` assumes).
    pub theme_assets: Option<Vec<String>>,
    /// Follow no symlink out of the vault ([`DiscoverOptions::no_external_symlinks`]).
    pub no_external_symlinks: bool,
}

/// Notes an earlier compilation of this process parsed, offered to the next one (what
/// [`crate::build::BuildSession`] keeps between the builds of `vaultc serve`).
#[derive(Debug, Default)]
pub struct Reuse {
    /// Their stamps, and what a watcher saw change since, for discovery.
    pub known: std::sync::Arc<KnownNotes>,
    /// The notes themselves; a compilation takes the ones it reuses.
    pub notes: std::sync::Mutex<FastMap<VaultPath, KeptNote>>,
    /// The earlier resolution, with what its name index was built from.
    pub resolution: std::sync::Mutex<Option<PreviousResolution>>,
}

/// A resolution kept for [`resolve::resolve_again`], and the names its index holds.
#[derive(Debug)]
pub struct PreviousResolution {
    /// The resolution.
    pub resolution: Resolution,
    /// The options it was made with.
    pub options: ResolveOptions,
    /// The names its index was built from.
    pub names: resolve::IndexedNames,
}

/// A parsed note kept for reuse, with its parse diagnostics and cache key.
#[derive(Debug)]
pub struct KeptNote {
    /// The note.
    pub note: Note,
    /// What parsing it reported.
    pub diagnostics: Vec<Diagnostic>,
    /// Its parse-cache key (see [`CacheEntry::key`]).
    pub key: u128,
}

/// Where a note of a compilation came from, for reuse by the next one.
#[derive(Clone, Debug)]
pub struct NoteOrigin {
    /// The file on disk.
    pub disk: PathBuf,
    /// The file's stamp when it was read; `None` when it cannot be reused (it was read with
    /// a problem).
    pub stamp: Option<FileStamp>,
    /// Whether it is in a templates folder.
    pub is_template: bool,
    /// Its parse-cache key.
    pub key: u128,
    /// What parsing it reported (before lint levels).
    pub diagnostics: Vec<Diagnostic>,
}

/// A compiled vault: everything the back half (render, graph export, reports) needs.
#[derive(Debug)]
pub struct Compilation {
    /// The vault folder (canonical).
    pub root: PathBuf,
    /// Parsed notes and attachments.
    pub vault: Vault,
    /// Where every link goes.
    pub resolution: Resolution,
    /// The concept graph.
    pub graph: ConceptGraph,
    /// Where every page of the site goes (planned here so `check` reports slug collisions).
    pub site: SitePlan,
    /// The vault's `.base` files, which pages embedding them show as tables.
    pub bases: crate::bases::Bases,
    /// The vault's `.canvas` files, which pages embedding them show as placed cards.
    pub canvases: crate::canvas::Canvases,
    /// Every diagnostic, sorted by file, position and code.
    pub diagnostics: Vec<Diagnostic>,
    /// The "did you mean" suggestions of the missing link targets, which a build session's
    /// rebuild of one note uses again while the vault's names stay the same.
    pub suggestions: checks::Suggestions,
    /// How long each stage took, in order (for `--timings` and the benchmark).
    pub timings: Timings,
    /// How many notes were parsed and how many were taken from the parse cache.
    pub parse: ParseStats,
    /// The parse cache to save for the next build, when a cache was given.
    pub cache_update: Option<CacheUpdate>,
    /// Where each note came from, for the next compilation of a [`crate::build::BuildSession`];
    /// `None` unless [`CompileOptions::keep_origins`].
    pub origins: Option<Origins>,
}

/// Where the notes of a compilation came from.
#[derive(Debug)]
pub struct Origins {
    /// One per note, aligned with `vault.notes`.
    pub notes: Vec<NoteOrigin>,
    /// Whether discovery met no problem (no unreadable file, no walk error): then its file
    /// list can stand in for a walk (see [`crate::discover::KnownTree`]).
    pub clean_discovery: bool,
    /// The options the vault was resolved with.
    pub resolve: ResolveOptions,
}

/// Notes parsed in this compilation and notes whose parse came from the parse cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParseStats {
    /// Notes parsed.
    pub parsed: usize,
    /// Notes rebuilt from the parse cache without parsing.
    pub reused: usize,
}

/// Wall time per pipeline stage.
#[derive(Clone, Debug, Default)]
pub struct Timings {
    /// `(stage, duration)` in the order the stages ran.
    pub stages: Vec<(&'static str, std::time::Duration)>,
    last: Option<std::time::Instant>,
}

impl Timings {
    /// Starts timing.
    pub fn start() -> Timings {
        Timings {
            stages: Vec::new(),
            last: Some(std::time::Instant::now()),
        }
    }

    /// Records the time since the previous mark as `stage`.
    pub fn mark(&mut self, stage: &'static str) {
        let now = std::time::Instant::now();
        if let Some(last) = self.last {
            self.stages.push((stage, now - last));
        }
        self.last = Some(now);
    }

    /// One line: `discover 12ms, parse 80ms, ...`.
    pub fn line(&self) -> String {
        self.stages
            .iter()
            .map(|(s, d)| format!("{s} {:.1}ms", d.as_secs_f64() * 1000.0))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Compilation {
    /// Counts for the summary line and the JSON report.
    pub fn summary(&self) -> Summary {
        let errors = self
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        Summary {
            notes: self.vault.notes.len(),
            links: self.vault.link_count(),
            errors,
            warnings: self.diagnostics.len() - errors,
        }
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// One note for the parse stage: its file as discovered, and its parse from the session's
/// previous build, if there is one.
struct ParseJob {
    file: SourceFile,
    source: Option<NoteSource>,
    kept: Option<KeptNote>,
    disk: Option<PathBuf>,
}

/// What the parse stage made of one note besides the note itself (the notes are collected
/// apart, straight into the vault's vector: collecting them here and moving them over held
/// every note twice, 8 MB of fresh memory at 10,000 notes).
struct Parsed {
    diagnostics: Vec<Diagnostic>,
    /// Its entry in the next parse cache, when there is a cache.
    entry: Option<CacheEntry>,
    /// Whether the note is the kept one (its text did not change since the previous build).
    kept: bool,
    /// Reading it here failed or was not clean (only when discovery skipped it and nothing
    /// was kept for it).
    read_diagnostic: Option<Diagnostic>,
    /// Where it came from, with [`CompileOptions::keep_origins`].
    origin: Option<NoteOrigin>,
}

/// Parses one note, or takes its kept parse (its text is unchanged), or its cached one.
fn parse_job(job: ParseJob, options: &CompileOptions, root: &Path) -> (Note, Parsed) {
    let ParseJob {
        file,
        source,
        kept,
        disk,
    } = job;
    let is_template = file.is_template;
    let stamp = match source {
        Some(NoteSource::Read(stamp) | NoteSource::Unread(stamp)) => stamp,
        Some(NoteSource::Unchanged) => options
            .reuse
            .as_ref()
            .and_then(|r| r.known.stamps.get(&file.path))
            .map(|(stamp, _)| *stamp),
        None => None,
    };
    let (file, read_diagnostic) = match (&kept, source) {
        // Discovery left it for this stage, or skipped it and nothing was kept for it: read
        // it now.
        (_, Some(NoteSource::Unread(_))) | (None, Some(NoteSource::Unchanged)) => {
            let disk = disk
                .as_deref()
                .map_or_else(|| root.join(file.path.as_str()), Path::to_path_buf);
            let (mut read, diag) = discover::read_note(file.path.clone(), &disk);
            read.is_template = is_template;
            (read, diag)
        }
        _ => (file, None),
    };
    let cache = options.parse_cache.as_deref();
    // The text's key, hashed once: it picks the kept parse, the cache record and the origin.
    let key = match (&kept, source) {
        (Some(kept), Some(NoteSource::Unchanged)) => kept.key,
        _ if kept.is_some() || cache.is_some() || options.keep_origins => crate::cache::key(&file),
        _ => 0,
    };
    let kept = kept.filter(|kept| kept.key == key);
    let was_kept = kept.is_some();
    let (note, diagnostics, entry) = match (kept, cache) {
        (Some(kept), Some(cache)) => {
            let (note, diags, entry) = cache.keep(kept.note, kept.diagnostics, key);
            (note, diags, Some(entry))
        }
        (Some(kept), None) => (kept.note, kept.diagnostics, None),
        (None, Some(cache)) => {
            let (note, diags, entry) = cache.parse_keyed(file, key, options.bodies);
            (note, diags, Some(entry))
        }
        (None, None) => {
            let (note, diags) = parse::note_with(file, options.bodies);
            (note, diags, None)
        }
    };
    let origin = options.keep_origins.then(|| NoteOrigin {
        disk: disk.unwrap_or_else(|| root.join(note.path.as_str())),
        stamp: stamp.filter(|_| read_diagnostic.is_none()),
        is_template,
        key,
        diagnostics: diagnostics.clone(),
    });
    (
        note,
        Parsed {
            diagnostics,
            entry,
            kept: was_kept,
            read_diagnostic,
            origin,
        },
    )
}

/// Diagnostics as they are reported: without those a note allows for itself
/// (`vaultc: { allow: [...] }`), at their configured levels (not yet sorted).
pub(crate) fn settle(
    vault: &Vault,
    config: &Config,
    mut diagnostics: Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    diagnostics.retain(|d| {
        vault
            .notes
            .binary_search_by(|n| n.path.cmp(&d.file))
            .map_or(true, |i| {
                !vault.notes[i].front_matter.allow.contains(&d.code)
            })
    });
    config.apply_levels(&mut diagnostics);
    diagnostics
}

/// Runs discover, parse, resolve, graph and diagnose over the vault at `root`.
pub fn compile(root: &Path, options: &CompileOptions) -> Result<Compilation> {
    let config = &options.config;
    let mut timings = Timings::start();
    let theme_dir = config.theme_dir(root);
    // The configured theme folder, when inside the vault, is the site's: not notes.
    let mut skip_dirs = options.skip_dirs.clone();
    skip_dirs.extend(theme_dir.clone());
    let discovered = discover::discover(
        root,
        &DiscoverOptions {
            skip_dirs,
            exclude: config.exclude.clone(),
            stamps: options.keep_origins,
            no_external_symlinks: options.no_external_symlinks,
            obsidian_config: config.obsidian_config.clone(),
            defer_reads: true,
            known: options
                .reuse
                .as_ref()
                .map(|r| std::sync::Arc::clone(&r.known)),
        },
    )?;
    let root = root
        .canonicalize()
        .map_err(|e| crate::Error::io("reading", root, e))?;
    timings.mark("discover");
    let mut clean_discovery = discovered.diagnostics.is_empty();
    let mut diagnostics = discovered.diagnostics;
    let cache = options.parse_cache.as_deref();
    let mut kept = match &options.reuse {
        Some(reuse) => std::mem::take(&mut *reuse.notes.lock().unwrap_or_else(|e| e.into_inner())),
        None => FastMap::default(),
    };
    let sources = discovered.sources;
    let mut disk_paths = discovered.disk_paths.into_iter();
    let jobs: Vec<ParseJob> = discovered
        .notes
        .into_iter()
        .enumerate()
        .map(|(i, file)| {
            // A note read again (its stamp moved) may still have the same text: then its
            // kept parse serves as well, so every note asks for its kept parse.
            let kept = if kept.is_empty() {
                None
            } else {
                kept.remove(&file.path)
            };
            ParseJob {
                file,
                source: sources.get(i).copied(),
                kept,
                disk: disk_paths.next(),
            }
        })
        .collect();
    drop(kept);
    let mut notes: Vec<Note> = Vec::new();
    let mut parsed: Vec<Parsed> = Vec::new();
    jobs.into_par_iter()
        .map(|job| parse_job(job, options, &root))
        .unzip_into_vecs(&mut notes, &mut parsed);
    let mut entries = Vec::with_capacity(if cache.is_some() { parsed.len() } else { 0 });
    let mut origins = Vec::with_capacity(if options.keep_origins {
        parsed.len()
    } else {
        0
    });
    let mut parse_stats = ParseStats::default();
    let mut unchanged = Vec::with_capacity(parsed.len());
    for parsed in parsed {
        unchanged.push(parsed.kept);
        if parsed.kept || parsed.entry.as_ref().is_some_and(CacheEntry::reused) {
            parse_stats.reused += 1;
        } else {
            parse_stats.parsed += 1;
        }
        clean_discovery &= parsed.read_diagnostic.is_none();
        diagnostics.extend(parsed.read_diagnostic);
        diagnostics.extend(parsed.diagnostics);
        entries.extend(parsed.entry);
        origins.extend(parsed.origin);
    }
    let cache_update = options.parse_cache.as_ref().map(|cache| CacheUpdate {
        previous: cache.clone(),
        entries,
    });
    let resolve_options = ResolveOptions {
        resolve_aliases: config.resolve_aliases,
    };
    let mut bases = crate::bases::Bases::parse(
        &root,
        &discovered.attachments,
        &discovered.bases,
        resolve_options,
    );
    let canvases = crate::canvas::Canvases::parse(&discovered.attachments, &discovered.canvases);
    diagnostics.extend(canvases.diagnostics.iter().cloned());
    // A base's or canvas's diagnostics point into its text, as a settings file's do.
    let mut other_sources = discovered.other_sources;
    if !discovered.bases.is_empty() || !discovered.canvases.is_empty() {
        other_sources.extend(discovered.bases);
        other_sources.extend(discovered.canvases);
        other_sources.sort_by(|a, b| a.path.cmp(&b.path));
        other_sources.dedup_by(|a, b| a.path == b.path);
    }
    let vault = Vault {
        notes,
        attachments: discovered.attachments,
        other_sources,
    };
    bases.parse_inline(&vault);
    diagnostics.extend(bases.parse_diagnostics.iter().cloned());
    timings.mark("parse");
    let previous = options
        .reuse
        .as_ref()
        .and_then(|r| {
            r.resolution
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
        })
        .filter(|p| p.options.resolve_aliases == resolve_options.resolve_aliases);
    let resolution = match previous {
        Some(previous) => resolve::resolve_again(
            &vault,
            resolve_options,
            previous.resolution,
            &previous.names,
            &unchanged,
        ),
        None => resolve::resolve(&vault, resolve_options),
    };
    timings.mark("resolve");
    if !canvases.is_empty() {
        diagnostics.extend(canvases.missing_targets(&vault, &resolution.index, resolve_options));
    }
    let graph = ConceptGraph::build(&vault, &resolution);
    timings.mark("graph");
    let (link_diagnostics, suggestions) =
        checks::link_diagnostics(&vault, &resolution, &graph, config);
    diagnostics.extend(link_diagnostics);
    if config.level(crate::diag::Code::UnusedAttachment) != crate::diag::Level::Allow {
        diagnostics.extend(checks::unused_attachments(
            &vault,
            &graph,
            &canvases,
            &resolution.index,
            resolve_options,
        ));
    }
    if !bases.is_empty() {
        let host = crate::bases::VaultHost::new(&vault, &resolution, &graph, &bases);
        diagnostics.extend(crate::bases::evaluation_diagnostics(&bases, &host));
    }
    timings.mark("diagnose");
    let assets = match &options.theme_assets {
        Some(assets) => assets.clone(),
        None => crate::render::theme::asset_names(theme_dir.as_deref())?,
    };
    let site = site::plan(
        &vault,
        &graph,
        options.include_drafts,
        &assets,
        config.site.url.is_some(),
    );
    diagnostics.extend(site.diagnostics.iter().cloned());
    let mut diagnostics = settle(&vault, config, diagnostics);
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    diagnostics.dedup();
    timings.mark("plan");
    Ok(Compilation {
        root,
        vault,
        resolution,
        graph,
        site,
        bases,
        canvases,
        diagnostics,
        suggestions,
        timings,
        parse: parse_stats,
        cache_update,
        origins: options.keep_origins.then_some(Origins {
            notes: origins,
            clean_discovery,
            resolve: resolve_options,
        }),
    })
}
