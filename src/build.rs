//! `build`: compile, plan, render and write a site. The library entry point the CLI calls.

use std::path::{Path, PathBuf};

use crate::compile::{compile, Compilation, CompileOptions};
use crate::error::Result;
use crate::output::{self, CopyFile, WriteStats};
use crate::render::{self, theme::Theme};

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
    compile_options.skip_dirs.push(out.clone());
    let mut comp = compile(root, &compile_options)?;
    let pages = comp.site.notes.iter().filter(|p| p.is_some()).count();
    if options.strict && comp.has_errors() {
        return Ok(BuildReport {
            compilation: comp,
            pages,
            written: None,
        });
    }
    let title = vault_abs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "vault".into());
    let staging = output::Staging::create(&out, &vault_abs)?;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let mut timings = std::mem::take(&mut comp.timings);
    render::render_site(
        &comp,
        &comp.site,
        &theme,
        &title,
        &|file| {
            staging.write(&file.path, &file.bytes)?;
            if let Some(Progress(report)) = &options.progress {
                if file.path.ends_with("/index.html") {
                    let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    report(n.min(pages), pages);
                }
            }
            Ok(())
        },
        &mut timings,
    )?;
    let copies: Vec<CopyFile> = comp
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
    comp.timings = timings;
    Ok(BuildReport {
        compilation: comp,
        pages,
        written: Some(written),
    })
}
