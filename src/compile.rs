//! The front half of the pipeline, shared by every command:
//! discover -> parse -> resolve -> graph -> diagnose. `check` stops here; `build` goes on to
//! render and write.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::cache::{CacheEntry, CacheUpdate, ParseCache};
use crate::config::Config;
use crate::diag::{checks, Diagnostic, Severity, Summary};
use crate::discover::{self, DiscoverOptions};
use crate::error::Result;
use crate::graph::ConceptGraph;
use crate::parse;
use crate::resolve::{self, Resolution, ResolveOptions};
use crate::site::{self, SitePlan};
use crate::vault::Vault;

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
    /// Every diagnostic, sorted by file, position and code.
    pub diagnostics: Vec<Diagnostic>,
    /// How long each stage took, in order (for `--timings` and the benchmark).
    pub timings: Timings,
    /// How many notes were parsed and how many were taken from the parse cache.
    pub parse: ParseStats,
    /// The parse cache to save for the next build, when a cache was given.
    pub cache_update: Option<CacheUpdate>,
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

/// Runs discover, parse, resolve, graph and diagnose over the vault at `root`.
pub fn compile(root: &Path, options: &CompileOptions) -> Result<Compilation> {
    let config = &options.config;
    let mut timings = Timings::start();
    let discovered = discover::discover(
        root,
        &DiscoverOptions {
            skip_dirs: options.skip_dirs.clone(),
            exclude: config.exclude.clone(),
            ..DiscoverOptions::default()
        },
    )?;
    let root = root
        .canonicalize()
        .map_err(|e| crate::Error::io("reading", root, e))?;
    timings.mark("discover");
    let mut diagnostics = discovered.diagnostics;
    let cache = options.parse_cache.as_deref();
    let parsed: Vec<_> = discovered
        .notes
        .into_par_iter()
        .map(|file| match cache {
            Some(cache) => {
                let (note, diags, entry) = cache.parse(file);
                (note, diags, Some(entry))
            }
            None => {
                let (note, diags) = parse::note(file);
                (note, diags, None)
            }
        })
        .collect();
    let mut notes = Vec::with_capacity(parsed.len());
    let mut entries = Vec::with_capacity(if cache.is_some() { parsed.len() } else { 0 });
    let mut parse_stats = ParseStats::default();
    for (note, diags, entry) in parsed {
        if entry.as_ref().is_some_and(CacheEntry::reused) {
            parse_stats.reused += 1;
        } else {
            parse_stats.parsed += 1;
        }
        notes.push(note);
        diagnostics.extend(diags);
        entries.extend(entry);
    }
    let cache_update = options.parse_cache.as_ref().map(|cache| CacheUpdate {
        previous: cache.clone(),
        entries,
    });
    let vault = Vault {
        notes,
        attachments: discovered.attachments,
    };
    timings.mark("parse");
    let resolve_options = ResolveOptions {
        resolve_aliases: config.resolve_aliases,
    };
    let resolution = resolve::resolve(&vault, resolve_options);
    timings.mark("resolve");
    let graph = ConceptGraph::build(&vault, &resolution);
    timings.mark("graph");
    diagnostics.extend(checks::link_diagnostics(
        &vault,
        &resolution,
        &graph,
        config,
    ));
    timings.mark("diagnose");
    let site = site::plan(&vault, &graph, options.include_drafts);
    diagnostics.extend(site.diagnostics.iter().cloned());
    // Per-note suppression (`vaultc: { allow: [...] }`), then the configured levels.
    diagnostics.retain(|d| {
        vault
            .notes
            .binary_search_by(|n| n.path.cmp(&d.file))
            .map_or(true, |i| {
                !vault.notes[i].front_matter.allow.contains(&d.code)
            })
    });
    config.apply_levels(&mut diagnostics);
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    diagnostics.dedup();
    timings.mark("plan");
    Ok(Compilation {
        root,
        vault,
        resolution,
        graph,
        site,
        diagnostics,
        timings,
        parse: parse_stats,
        cache_update,
    })
}
