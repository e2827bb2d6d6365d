//! `build`: compile, plan, render and write a site. The library entry point the CLI calls.

use std::path::{Path, PathBuf};

use crate::cache::{self, CacheError, ParseCache};
use crate::compile::{compile, Compilation, CompileOptions};
use crate::error::{Error, Result};
use crate::output::{self, CopyFile, WriteStats};
use crate::render::{self, theme::Theme, RenderStats};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Called after each note page is written with (pages done, pages in all), from any thread;
/// the binary draws a progress bar with it. The library itself never prints.
#[derive(Clone)]
pub struct Progress(pub std::sync::Arc<dyn Fn(usize, usize) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress(..)")
    }
}

/// Options of `vaultc build`.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// Told about every note page written (for a progress bar).
    pub progress: Option<Progress>,
    /// Where the site goes.
    pub output: PathBuf,
    /// A theme folder overriding the default theme file by file.
    pub theme: Option<PathBuf>,
    /// Do not write the site when the vault has errors.
    pub strict: bool,
    /// Compile options (configuration, drafts).
    pub compile: CompileOptions,
    /// Render every page and write the site whole, ignoring what the previous site's manifest
    /// says (an incremental build otherwise re-renders only pages whose inputs changed).
    /// Also parses every note without trusting the parse cache (a fresh cache is written).
    pub full: bool,
    /// Neither read nor write the parse cache (`.NAME.vaultc-cache/` beside the output).
    pub no_cache: bool,
}

/// What a build did.
#[derive(Debug)]
pub struct BuildReport {
    /// The compiled vault, with site diagnostics (slug collisions) merged in.
    pub compilation: Compilation,
    /// Note pages rendered.
    pub pages: usize,
    /// Files written, or `None` when `strict` stopped the build before writing.
    pub written: Option<WriteStats>,
    /// Pages rendered and pages kept from the previous site unrendered.
    pub rendered: RenderStats,
    /// Whether the previous site was updated in place (an incremental build).
    pub in_place: bool,
    /// What the build did with the parse cache (the parse counts are in
    /// `compilation.parse`).
    pub cache: CacheReport,
}

/// What a build did with the parse cache.
#[derive(Debug, Default)]
pub struct CacheReport {
    /// The cache folder; `None` with `no_cache` (or an output folder without a parent).
    pub dir: Option<PathBuf>,
    /// Why the cache file was not used, when it was not (on a first build: it does not exist).
    /// `--full` does not read it, so this stays `None`.
    pub ignored: Option<CacheError>,
    /// Whether the cache file was (re)written; `false` when its bytes would not change.
    pub written: bool,
    /// Why the cache could not be saved. The build does not fail for it: the site is written.
    pub save_error: Option<Error>,
}

/// Builds the site for the vault at `root`.
pub fn build(root: &Path, options: &BuildOptions) -> Result<BuildReport> {
    let out = output::absolute(&options.output)?;
    let vault_abs = root
        .canonicalize()
        .map_err(|_| crate::Error::VaultNotFound {
            path: root.to_path_buf(),
        })?;
    output::check_output(&out, &vault_abs)?;
    let theme = Theme::load(options.theme.as_deref())?;
    let mut compile_options = options.compile.clone();
    // Notes parsed here are rendered too: each keeps its body template, so it is parsed once.
    compile_options.bodies = true;
    compile_options.skip_dirs.push(out.clone());
    // The cache folder is never part of the vault, whether this build uses it or not.
    compile_options.skip_dirs.extend(cache::cache_dir(&out));
    let mut cache_report = CacheReport {
        dir: if options.no_cache {
            None
        } else {
            cache::cache_dir(&out)
        },
        ..CacheReport::default()
    };
    let load_started = std::time::Instant::now();
    if let Some(dir) = &cache_report.dir {
        // `--full` trusts nothing from earlier builds, but still leaves a fresh cache behind.
        let cache = if options.full {
            ParseCache::empty()
        } else {
            ParseCache::load(dir).unwrap_or_else(|e| {
                cache_report.ignored = Some(e);
                ParseCache::empty()
            })
        };
        compile_options.parse_cache = Some(std::sync::Arc::new(cache));
    }
    let load_time = load_started.elapsed();
    let mut comp = compile(root, &compile_options)?;
    if cache_report.dir.is_some() {
        comp.timings.stages.insert(0, ("cache-load", load_time));
    }
    let pages = comp.site.notes.iter().filter(|p| p.is_some()).count();
    if options.strict && comp.has_errors() {
        // `--strict` writes nothing at all when the vault has errors, not even the cache.
        comp.cache_update = None;
        return Ok(BuildReport {
            compilation: comp,
            pages,
            written: None,
            rendered: RenderStats::default(),
            in_place: false,
            cache: cache_report,
        });
    }
    let title = vault_abs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "vault".into());
    let staging = output::Staging::create(&out, &vault_abs, !options.full)?;
    let in_place = staging.in_place();
    let mut timings = std::mem::take(&mut comp.timings);
    let update = comp.cache_update.take();
    let compiled = &comp;
    // The parse cache is saved on a thread of its own while the site renders: it depends only
    // on the compilation, and a failed render does not make its records wrong.
    let (site, saved) = std::thread::scope(|scope| {
        let saving = match (update, &cache_report.dir) {
            (Some(update), Some(dir)) => Some(scope.spawn(move || {
                let started = std::time::Instant::now();
                (update.save(dir), started.elapsed())
            })),
            _ => None,
        };
        let site = (|| -> Result<_> {
            let sink = SiteSink {
                staging: &staging,
                progress: options.progress.as_ref(),
                done: AtomicUsize::new(0),
                pages,
            };
            let rendered = render::render_site(compiled, &theme, &title, &sink, &mut timings)?;
            let copies: Vec<CopyFile> = compiled
                .vault
                .attachments
                .iter()
                .map(|a| CopyFile {
                    from: a.disk_path.clone(),
                    to: a.path.as_str().to_string(),
                })
                .collect();
            let written = staging.finish(&copies)?;
            timings.mark("write");
            Ok((rendered, written))
        })();
        let saved = saving.map(|t| t.join().expect("saving the parse cache does not panic"));
        (site, saved)
    });
    if let Some((result, took)) = saved {
        match result {
            Ok(wrote) => cache_report.written = wrote,
            Err(e) => cache_report.save_error = Some(e),
        }
        timings.stages.push(("cache-save (beside render)", took));
    }
    let (rendered, written) = site?;
    comp.timings = timings;
    Ok(BuildReport {
        compilation: comp,
        pages,
        written: Some(written),
        rendered,
        in_place,
        cache: cache_report,
    })
}

/// Builds one vault again and again in one process (what `vaultc serve` does on every save),
/// keeping the previous build's notes: a note whose file did not change (same stamp, and no
/// watcher event under its path) is neither read nor parsed again. Every build is otherwise
/// [`build`]: the site it writes is the same, byte for byte.
#[derive(Debug, Default)]
pub struct BuildSession {
    last: Option<BuildReport>,
}

impl BuildSession {
    /// A session with no previous build.
    pub fn new() -> BuildSession {
        BuildSession::default()
    }

    /// Builds like [`build`]. `changed` lists the absolute paths a file watcher reported since
    /// the previous build; `None` (unknown) reads every note again.
    pub fn build(
        &mut self,
        root: &Path,
        options: &BuildOptions,
        changed: Option<&[PathBuf]>,
    ) -> Result<&BuildReport> {
        let reuse = match (self.last.take(), changed) {
            (Some(last), Some(changed)) => reuse_of(last, changed).map(std::sync::Arc::new),
            _ => None,
        };
        let mut options = options.clone();
        // The session holds every parse in memory: the cache file on disk stays the one of
        // the session's first build, and a later `vaultc build` parses again only what changed
        // since (the cache is keyed by content).
        options.no_cache |= reuse.is_some();
        options.compile.keep_origins = true;
        options.compile.reuse = reuse;
        let report = build(root, &options)?;
        Ok(self.last.insert(report))
    }
}

/// What the next build may take from `last`.
fn reuse_of(last: BuildReport, changed: &[PathBuf]) -> Option<crate::compile::Reuse> {
    use crate::compile::{KeptNote, Reuse};
    use crate::discover::{KnownNotes, KnownTree};
    let comp = last.compilation;
    let origins = comp.origins?;
    let resolution = crate::compile::PreviousResolution {
        resolution: comp.resolution,
        options: origins.resolve,
        notes: comp.vault.notes.iter().map(|n| n.path.clone()).collect(),
        aliases: comp
            .vault
            .notes
            .iter()
            .map(|n| n.front_matter.aliases.clone())
            .collect(),
        attachments: comp
            .vault
            .attachments
            .iter()
            .map(|a| a.path.clone())
            .collect(),
    };
    let mut tree = origins.clean_discovery.then(|| KnownTree {
        notes: Vec::with_capacity(comp.vault.notes.len()),
        attachments: comp.vault.attachments,
    });
    let mut known = KnownNotes {
        changed: changed.iter().cloned().collect(),
        ..KnownNotes::default()
    };
    let mut notes = crate::source::FastMap::default();
    for (note, origin) in comp.vault.notes.into_iter().zip(origins.notes) {
        if let Some(tree) = &mut tree {
            tree.notes
                .push((note.path.clone(), origin.disk, origin.is_template));
        }
        if let Some(stamp) = origin.stamp {
            known
                .stamps
                .insert(note.path.clone(), (stamp, origin.is_template));
            notes.insert(
                note.path.clone(),
                KeptNote {
                    note,
                    diagnostics: origin.diagnostics,
                    key: origin.key,
                },
            );
        }
    }
    known.tree = tree;
    Some(Reuse {
        known: std::sync::Arc::new(known),
        notes: std::sync::Mutex::new(notes),
        resolution: std::sync::Mutex::new(Some(resolution)),
    })
}

/// The write stage as the renderer's sink, telling the progress bar about note pages.
struct SiteSink<'a> {
    staging: &'a output::Staging,
    progress: Option<&'a Progress>,
    done: AtomicUsize,
    pages: usize,
}

impl SiteSink<'_> {
    fn tick(&self, path: &str) {
        if let Some(Progress(report)) = self.progress {
            if path.ends_with("/index.html") {
                let n = self.done.fetch_add(1, Ordering::Relaxed) + 1;
                report(n.min(self.pages), self.pages);
            }
        }
    }
}

impl render::Sink for SiteSink<'_> {
    fn keep(&self, path: &str, inputs: u64) -> Result<bool> {
        let kept = self.staging.keep(path, inputs)?;
        if kept {
            self.tick(path);
        }
        Ok(kept)
    }

    fn write(&self, path: &str, bytes: &[u8], inputs: Option<u64>) -> Result<()> {
        self.staging.write(path, bytes, inputs)?;
        self.tick(path);
        Ok(())
    }
}
