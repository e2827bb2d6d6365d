//! `build`: compile, plan, render and write a site. The library entry point the CLI calls.

use std::path::{Path, PathBuf};

use crate::cache::{self, CacheError, ParseCache};
use crate::compile::{compile, Compilation, CompileOptions};
use crate::diag::{Code, Diagnostic};
use crate::error::{Error, Result};
use crate::output::{self, CopyFile, WriteStats};
use crate::render::{self, inputs::SiteInputs, theme::Theme, RenderStats};
use crate::source::Span;
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
    /// A theme folder overriding the default theme file by file (the command line's
    /// `--theme`); `None` uses the configuration's `[site] theme`, if any.
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

impl BuildOptions {
    /// The theme folder of a build of the vault at `vault`: the one given, else the
    /// configuration's ([`crate::config::Config::theme_dir`]), else none (the default theme).
    pub fn theme_dir(&self, vault: &Path) -> Option<PathBuf> {
        self.theme
            .clone()
            .or_else(|| self.compile.config.theme_dir(vault))
    }
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
    /// Whether this was a build session's rebuild of changed notes by dependency tracking:
    /// only the pages that show them were looked at (see [`BuildSession`]).
    pub tracked: bool,
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
    build_keeping(root, options, false, None).map(|(report, _)| report)
}

/// What a written site was made with, beyond its report: what a [`BuildSession`] keeps to
/// rebuild changed notes without compiling and fingerprinting the whole vault again.
pub(crate) struct SiteState {
    pub(crate) out: PathBuf,
    pub(crate) theme: Theme,
    pub(crate) meta: render::SiteMeta,
    pub(crate) inputs: SiteInputs,
    pub(crate) fragments: render::Fragments,
    pub(crate) manifest: output::Manifest,
}

/// [`build`], with the state of the written site (`None` when nothing was written); with
/// `for_next`, the state also keeps rendered fragments for the next build (a session's).
/// `written` is the state of the site a session wrote last into the same folder: its files are
/// then trusted ([`output::Staging::create_over`]) and its rendered fragments offered again
/// (they are keyed by what they show).
pub(crate) fn build_keeping(
    root: &Path,
    options: &BuildOptions,
    for_next: bool,
    written: Option<SiteState>,
) -> Result<(BuildReport, Option<SiteState>)> {
    let out = output::absolute(&options.output)?;
    let vault_abs = root
        .canonicalize()
        .map_err(|_| crate::Error::VaultNotFound {
            path: root.to_path_buf(),
        })?;
    output::check_output(&out, &vault_abs)?;
    let theme_dir = options.theme_dir(root);
    let theme = Theme::load(theme_dir.as_deref())?;
    let mut compile_options = options.compile.clone();
    // A theme folder inside the vault is the site's, not notes and attachments.
    compile_options.skip_dirs.extend(theme_dir);
    // Notes parsed here are rendered too: each keeps its body template, so it is parsed once.
    compile_options.bodies = true;
    compile_options.theme_assets = Some(theme.assets.iter().map(|(n, _)| n.clone()).collect());
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
            let (cache, ignored) = ParseCache::load_or_empty(dir);
            cache_report.ignored = ignored;
            cache
        };
        compile_options.parse_cache = Some(std::sync::Arc::new(cache));
    }
    let load_time = load_started.elapsed();
    let mut comp = compile(root, &compile_options)?;
    if cache_report.dir.is_some() {
        comp.timings.stages.insert(0, ("cache-load", load_time));
    }
    let pages = comp.site.published();
    if options.strict && comp.has_errors() {
        // `--strict` writes nothing at all when the vault has errors, not even the cache.
        comp.cache_update = None;
        let report = BuildReport {
            compilation: comp,
            pages,
            written: None,
            rendered: RenderStats::default(),
            in_place: false,
            tracked: false,
            cache: cache_report,
        };
        return Ok((report, None));
    }
    let meta =
        render::SiteMeta::new(&vault_abs, &options.compile.config.site).with_stylesheet(&comp);
    let (staging, kept_fragments) = match written.filter(|_| !options.full) {
        Some(site) => (
            output::Staging::create_over(&out, &vault_abs, site.manifest)?,
            Some(site.fragments),
        ),
        None => (
            output::Staging::create(&out, &vault_abs, !options.full)?,
            None,
        ),
    };
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
            let inputs = SiteInputs::new(compiled, &theme, &meta);
            let fragments = match kept_fragments {
                Some(kept) if for_next => kept,
                _ if for_next => render::Fragments::kept(),
                _ => render::Fragments::default(),
            };
            let rendered = render::render_site(
                compiled,
                &theme,
                &meta,
                &inputs,
                &fragments,
                &sink,
                &mut timings,
            )?;
            let copies: Vec<CopyFile> = compiled
                .vault
                .attachments
                .iter()
                .zip(&compiled.site.attachments)
                .map(|(a, file)| CopyFile {
                    from: a.disk_path.clone(),
                    to: file.clone(),
                })
                .collect();
            let (written, manifest, unreadable) = staging.finish(&copies)?;
            timings.mark("write");
            let unreadable: Vec<Diagnostic> = unreadable
                .into_iter()
                .map(|u| unreadable_attachment(&compiled.vault.attachments[u.index], &u.cause))
                .collect();
            Ok((rendered, written, inputs, fragments, manifest, unreadable))
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
    let (rendered, written, inputs, fragments, manifest, unreadable) = site?;
    comp.timings = timings;
    if !unreadable.is_empty() {
        let unreadable = crate::compile::settle(&comp.vault, &compile_options.config, unreadable);
        comp.diagnostics.extend(unreadable);
        comp.diagnostics
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    }
    let report = BuildReport {
        compilation: comp,
        pages,
        written: Some(written),
        rendered,
        in_place,
        tracked: false,
        cache: cache_report,
    };
    let state = SiteState {
        out,
        theme,
        meta,
        inputs,
        fragments,
        manifest,
    };
    Ok((report, Some(state)))
}

pub use crate::session::BuildSession;

/// The `unreadable-file` diagnostic of an attachment the site had to go without.
fn unreadable_attachment(
    attachment: &crate::discover::AttachmentFile,
    cause: &std::io::Error,
) -> Diagnostic {
    Diagnostic::new(
        Code::UnreadableFile,
        attachment.path.clone(),
        Span::default(),
        format!("cannot read this attachment to copy it into the site ({cause}); the site goes without it"),
    )
    .with_help("check that the file still exists and can be read, then build again")
}

/// The write stage as the renderer's sink, telling the progress bar about note pages.
pub(crate) struct SiteSink<'a> {
    staging: &'a output::Staging,
    progress: Option<&'a Progress>,
    done: AtomicUsize,
    pages: usize,
}

impl<'a> SiteSink<'a> {
    /// A sink writing to `staging`, without a progress bar.
    pub(crate) fn new(staging: &'a output::Staging, pages: usize) -> SiteSink<'a> {
        SiteSink {
            staging,
            progress: None,
            done: AtomicUsize::new(0),
            pages,
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    /// An attachment deleted while the site renders (an editor's temporary file, gone between
    /// the walk and the copy) does not fail the build: the site is written without it, and the
    /// report carries an `unreadable-file` error on it, in order with the other diagnostics.
    #[test]
    fn an_attachment_deleted_during_the_build_is_reported_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("vault");
        std::fs::create_dir_all(&vault).unwrap();
        std::fs::write(
            vault.join("a.md"),
            "![[gone.png]] ![[kept.png]] [[missing]]\n",
        )
        .unwrap();
        std::fs::write(vault.join("gone.png"), b"png").unwrap();
        std::fs::write(vault.join("kept.png"), b"png").unwrap();
        let gone = vault.join("gone.png");
        // Called after each note page is written: after discovery, before the copies.
        let progress = Progress(std::sync::Arc::new(move |_, _| {
            let _ = std::fs::remove_file(&gone);
        }));
        let out = dir.path().join("site");
        let report = build(
            &vault,
            &BuildOptions {
                progress: Some(progress),
                output: out.clone(),
                no_cache: true,
                ..Default::default()
            },
        )
        .expect("the build goes on without the attachment");
        let found: Vec<(&str, Code)> = report
            .compilation
            .diagnostics
            .iter()
            .map(|d| (d.file.as_str(), d.code))
            .collect();
        assert_eq!(
            found,
            [
                ("a.md", Code::BrokenLink),
                ("gone.png", Code::UnreadableFile)
            ]
        );
        assert!(out.join("kept.png").is_file());
        assert!(!out.join("gone.png").exists());
        assert!(out.join("a/index.html").is_file());
        assert_eq!(report.written.map(|w| w.copied), Some(1));
    }
}
