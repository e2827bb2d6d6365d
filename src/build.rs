//! `build`: compile, plan, render and write a site. The library entry point the CLI calls.

use std::path::{Path, PathBuf};

use crate::compile::{compile, Compilation, CompileOptions};
use crate::error::Result;
use crate::output::{self, CopyFile, WriteStats};
use crate::render::{self, theme::Theme};

/// Options of `vaultc build`.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
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
    let mut timings = std::mem::take(&mut comp.timings);
    render::render_site(
        &comp,
        &comp.site,
        &theme,
        &title,
        &|file| staging.write(&file.path, &file.bytes),
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
