//! Stage 7, write: put the rendered site on disk safely.
//!
//! Invariants: nothing is written outside the output folder (every path is checked component
//! by component); an output folder that is, or contains, the vault is refused; a non-empty
//! folder vaultc did not write (no marker file) is never replaced; the site is built in a
//! temporary sibling folder and swapped in with renames, so a failed build leaves the previous
//! site as it was.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::render::OutputFile;

/// The file vaultc writes into every site; its presence allows replacing the folder.
pub const MARKER: &str = ".vaultc-site";

/// A file to copy into the site.
#[derive(Clone, Debug)]
pub struct CopyFile {
    /// Source on disk.
    pub from: PathBuf,
    /// `/`-separated destination inside the site.
    pub to: String,
}

/// What was written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Files rendered and written.
    pub written: usize,
    /// Files copied (attachments).
    pub copied: usize,
}

/// Absolute form of a path that may not exist yet (its parent must).
pub fn absolute(path: &Path) -> Result<PathBuf> {
    if let Ok(p) = path.canonicalize() {
        return Ok(p);
    }
    let abs = std::path::absolute(path).map_err(|e| Error::io("resolving", path, e))?;
    let parent = abs.parent().unwrap_or(Path::new("/"));
    let name = abs.file_name().map(PathBuf::from).unwrap_or_default();
    match parent.canonicalize() {
        Ok(p) => Ok(p.join(name)),
        Err(e) => Err(Error::io("resolving", parent, e)),
    }
}

/// Checks that writing to `out` cannot touch the vault at `vault` (both absolute).
pub fn check_output(out: &Path, vault: &Path) -> Result<()> {
    if vault.starts_with(out) {
        return Err(Error::OutputContainsVault {
            output: out.to_path_buf(),
            vault: vault.to_path_buf(),
        });
    }
    if out.is_file() {
        return Err(Error::OutputNotASite {
            path: out.to_path_buf(),
            marker: MARKER,
        });
    }
    if out.is_dir() && !out.join(MARKER).is_file() {
        let empty = std::fs::read_dir(out)
            .map_err(|e| Error::io("reading", out, e))?
            .next()
            .is_none();
        if !empty {
            return Err(Error::OutputNotASite {
                path: out.to_path_buf(),
                marker: MARKER,
            });
        }
    }
    Ok(())
}

/// Joins a `/`-separated site path onto `base`, refusing anything that could escape it.
pub fn safe_join(base: &Path, rel: &str) -> Option<PathBuf> {
    let mut path = base.to_path_buf();
    for part in rel.split('/') {
        if part.is_empty()
            || part == "."
            || part == ".."
            || part.contains('\\')
            || part.contains('\0')
        {
            return None;
        }
        path.push(part);
    }
    (path != base).then_some(path)
}

/// Writes `files` and copies `copies` into a fresh folder and swaps it in at `out`.
pub fn write_site(
    out: &Path,
    vault: &Path,
    files: &[OutputFile],
    copies: &[CopyFile],
) -> Result<WriteStats> {
    let out = absolute(out)?;
    check_output(&out, vault)?;
    let parent = out
        .parent()
        .ok_or_else(|| Error::io("writing", &out, std::io::ErrorKind::InvalidInput.into()))?;
    std::fs::create_dir_all(parent).map_err(|e| Error::io("creating", parent, e))?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let staging = parent.join(format!(".{name}.vaultc-staging-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| Error::io("removing", &staging, e))?;
    }
    let result = fill(&staging, files, copies);
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    swap_in(&staging, &out, parent, &name)?;
    Ok(WriteStats {
        written: files.len(),
        copied: copies.len(),
    })
}

fn fill(staging: &Path, files: &[OutputFile], copies: &[CopyFile]) -> Result<()> {
    std::fs::create_dir_all(staging).map_err(|e| Error::io("creating", staging, e))?;
    let targets: Vec<PathBuf> = files
        .iter()
        .map(|f| &f.path)
        .chain(copies.iter().map(|c| &c.to))
        .map(|rel| {
            safe_join(staging, rel).ok_or_else(|| {
                Error::io(
                    "writing",
                    staging.join(rel),
                    std::io::Error::other("path would leave the output folder"),
                )
            })
        })
        .collect::<Result<_>>()?;
    let mut dirs: Vec<&Path> = targets.iter().filter_map(|p| p.parent()).collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    }
    let (written, copied) = targets.split_at(files.len());
    files.par_iter().zip(written).try_for_each(|(f, path)| {
        std::fs::write(path, &f.bytes).map_err(|e| Error::io("writing", path, e))
    })?;
    copies.par_iter().zip(copied).try_for_each(|(c, path)| {
        std::fs::copy(&c.from, path)
            .map(|_| ())
            .map_err(|e| Error::io("copying", &c.from, e))
    })?;
    let marker = staging.join(MARKER);
    std::fs::write(
        &marker,
        "This folder was written by vaultc; `vaultc build` may replace it.\n",
    )
    .map_err(|e| Error::io("writing", marker, e))
}

fn swap_in(staging: &Path, out: &Path, parent: &Path, name: &str) -> Result<()> {
    if !out.exists() {
        return std::fs::rename(staging, out)
            .map_err(|e| Error::io("moving the new site into", out, e));
    }
    let old = parent.join(format!(".{name}.vaultc-old-{}", std::process::id()));
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(|e| Error::io("removing", &old, e))?;
    }
    std::fs::rename(out, &old).map_err(|e| Error::io("moving the old site away from", out, e))?;
    if let Err(e) = std::fs::rename(staging, out) {
        // Put the previous site back; the new one stays in staging for inspection.
        let _ = std::fs::rename(&old, out);
        return Err(Error::io("moving the new site into", out, e));
    }
    std::fs::remove_dir_all(&old).map_err(|e| Error::io("removing the previous site at", &old, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_join_refuses_escapes() {
        let base = Path::new("/tmp/site");
        assert_eq!(
            safe_join(base, "a/b.html"),
            Some(PathBuf::from("/tmp/site/a/b.html"))
        );
        assert_eq!(safe_join(base, "../x"), None);
        assert_eq!(safe_join(base, "a/../../x"), None);
        assert_eq!(safe_join(base, "/etc/passwd"), None);
        assert_eq!(safe_join(base, ""), None);
    }

    #[test]
    fn output_may_not_contain_the_vault() {
        let vault = Path::new("/data/vault");
        assert!(check_output(Path::new("/data"), vault).is_err());
        assert!(check_output(Path::new("/data/vault"), vault).is_err());
    }
}
