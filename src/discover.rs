//! Stage 1, discover: find every note and attachment of a vault, read the notes once.
//!
//! Skips what the semantics file §6 lists: dot-folders and dotfiles, the output folder, the
//! `userIgnoreFilters` of `.obsidian/app.json`, and the configuration's `exclude` globs.
//! Unreadable files are not fatal: they become `unreadable-file` diagnostics and the walk goes on.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::diag::{Code, Diagnostic};
use crate::error::{Error, Result};
use crate::source::{Span, VaultPath};

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
    /// Notes, sorted by path.
    pub notes: Vec<SourceFile>,
    /// Attachments, sorted by path.
    pub attachments: Vec<AttachmentFile>,
    /// Problems met on the way (unreadable files, odd names).
    pub diagnostics: Vec<Diagnostic>,
}

/// What to leave out of the walk besides dotfiles.
#[derive(Clone, Debug, Default)]
pub struct DiscoverOptions {
    /// Absolute folders never to enter (the output folder, the cache).
    pub skip_dirs: Vec<PathBuf>,
    /// Vault-relative path prefixes to skip (from `.obsidian/app.json` `userIgnoreFilters`).
    pub ignore_prefixes: Vec<String>,
    /// Globs over vault paths to skip (`exclude` in `vaultc.toml`).
    pub exclude: Option<globset::GlobSet>,
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
    let mut ignore = options.ignore_prefixes.clone();
    ignore.extend(obsidian_ignore_filters(&root));

    let mut diagnostics = Vec::new();
    let mut note_paths = Vec::new();
    let mut attachments = Vec::new();
    let walker = walkdir::WalkDir::new(&root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            let hidden = e.depth() > 0 && e.file_name().to_string_lossy().starts_with('.');
            !hidden && !skip.iter().any(|s| e.path() == s)
        });
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                // Symlink loops and permission errors: report against the path and keep going.
                if let Some(path) = err.path().and_then(|p| relative(&root, p)) {
                    diagnostics.push(Diagnostic::new(
                        Code::UnreadableFile,
                        path,
                        Span::default(),
                        format!("cannot read: {err}"),
                    ));
                }
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let Some(path) = relative(&root, entry.path()) else {
            continue;
        };
        if ignore.iter().any(|p| path.as_str().starts_with(p.as_str()))
            || options
                .exclude
                .as_ref()
                .is_some_and(|g| g.is_match(path.as_str()))
            || path.as_str() == crate::config::FILE_NAME
        {
            continue;
        }
        if path.is_markdown() {
            note_paths.push((path, entry.into_path()));
        } else {
            attachments.push(AttachmentFile {
                path,
                disk_path: entry.into_path(),
            });
        }
    }

    let templates = template_folders(&root);
    let read: Vec<(SourceFile, Option<Diagnostic>)> = note_paths
        .into_par_iter()
        .map(|(p, d)| {
            let (mut file, diag) = read_note(p, &d);
            file.is_template = templates
                .iter()
                .any(|t| file.path.as_str().starts_with(t.as_str()));
            (file, diag)
        })
        .collect();
    let mut notes = Vec::with_capacity(read.len());
    for (note, diag) in read {
        diagnostics.extend(diag);
        notes.push(note);
    }
    // Two disk names can normalise to the same vault path (NFC vs NFD); keep the first.
    notes.sort_by(|a, b| a.path.cmp(&b.path));
    notes.dedup_by(|a, b| a.path == b.path);
    attachments.sort_by(|a, b| a.path.cmp(&b.path));
    attachments.dedup_by(|a, b| a.path == b.path);
    Ok(Discovered {
        notes,
        attachments,
        diagnostics,
    })
}

fn relative(root: &Path, path: &Path) -> Option<VaultPath> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    VaultPath::new(&parts.join("/"))
}

fn read_note(path: VaultPath, disk: &Path) -> (SourceFile, Option<Diagnostic>) {
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
    // One open, one fstat, one read: the size check uses the open file's metadata.
    let read = std::fs::File::open(disk).and_then(|mut file| {
        use std::io::Read as _;
        let len = file.metadata()?.len();
        if len > MAX_NOTE_BYTES {
            return Ok(Err(len));
        }
        let mut bytes = Vec::with_capacity(len as usize + 1);
        file.read_to_end(&mut bytes)?;
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

/// Folders holding templates: the core Templates plugin's and Templater's settings.
fn template_folders(root: &Path) -> Vec<String> {
    let settings = [
        (".obsidian/templates.json", "folder"),
        (
            ".obsidian/plugins/templater-obsidian/data.json",
            "templates_folder",
        ),
    ];
    settings
        .iter()
        .filter_map(|(file, key)| {
            let text = std::fs::read_to_string(root.join(file)).ok()?;
            let value: serde_json::Value = serde_json::from_str(&text).ok()?;
            let folder = value[key].as_str()?.trim_matches('/').to_string();
            (!folder.is_empty()).then(|| format!("{folder}/"))
        })
        .collect()
}

/// Reads `userIgnoreFilters` from `.obsidian/app.json`: path prefixes Obsidian hides.
fn obsidian_ignore_filters(root: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(root.join(".obsidian/app.json")) else {
        return Vec::new();
    };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    value["userIgnoreFilters"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .map(|s| s.trim_start_matches('/').to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}
