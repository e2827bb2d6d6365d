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
    /// Files written because they are new or changed.
    pub written: usize,
    /// Files whose bytes were unchanged: linked from the previous site, mtime kept.
    pub reused: usize,
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

/// A site being written: a fresh staging folder beside the output folder. Pages are written
/// into it as they are rendered (from many threads); [`Staging::finish`] copies attachments,
/// writes the marker and swaps the folder in. Dropping an unfinished staging removes it, so a
/// failed build leaves the previous site untouched.
///
/// Files whose bytes equal the previous site's (by the content hashes kept in the marker file)
/// are hard-linked from it instead of written: unchanged files keep their inode and mtime, and
/// removing the previous site afterwards frees almost nothing.
pub struct Staging {
    out: PathBuf,
    dir: PathBuf,
    previous: std::collections::HashMap<String, (u64, u64)>,
    manifest: std::sync::Mutex<Vec<(String, u64, u64)>>,
    written: std::sync::atomic::AtomicUsize,
    reused: std::sync::atomic::AtomicUsize,
    finished: bool,
}

/// First line of the marker file; the lines after it are `hash size path` per site file.
const MARKER_HEADER: &str = "This folder was written by vaultc; `vaultc build` may replace it.";

fn read_manifest(out: &Path) -> std::collections::HashMap<String, (u64, u64)> {
    let Ok(text) = std::fs::read_to_string(out.join(MARKER)) else {
        return Default::default();
    };
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut parts = line.splitn(3, ' ');
            let hash = u64::from_str_radix(parts.next()?, 16).ok()?;
            let size = parts.next()?.parse().ok()?;
            Some((parts.next()?.to_string(), (hash, size)))
        })
        .collect()
}

impl Staging {
    /// Checks `out` against the vault and creates the staging folder.
    pub fn create(out: &Path, vault: &Path) -> Result<Staging> {
        let out = absolute(out)?;
        check_output(&out, vault)?;
        let parent = out
            .parent()
            .ok_or_else(|| Error::io("writing", &out, std::io::ErrorKind::InvalidInput.into()))?;
        std::fs::create_dir_all(parent).map_err(|e| Error::io("creating", parent, e))?;
        let name = file_name(&out);
        let dir = parent.join(format!(".{name}.vaultc-staging-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io("removing", &dir, e))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("creating", &dir, e))?;
        Ok(Staging {
            previous: read_manifest(&out),
            out,
            dir,
            manifest: Default::default(),
            written: 0.into(),
            reused: 0.into(),
            finished: false,
        })
    }

    /// Writes one file of the site (safe to call from many threads), or links the previous
    /// site's copy when the bytes are the same.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        let path = safe_join(&self.dir, rel).ok_or_else(|| {
            Error::io(
                "writing",
                self.dir.join(rel),
                std::io::Error::other("path would leave the output folder"),
            )
        })?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io("creating", parent, e))?;
        }
        let hash = xxhash_rust::xxh3::xxh3_64(bytes);
        let size = bytes.len() as u64;
        self.manifest
            .lock()
            .map_err(|_| poisoned(&path))?
            .push((rel.to_string(), hash, size));
        if self.previous.get(rel) == Some(&(hash, size)) {
            if let Some(old) = safe_join(&self.out, rel) {
                let same_size = std::fs::metadata(&old).is_ok_and(|m| m.len() == size);
                if same_size && std::fs::hard_link(&old, &path).is_ok() {
                    self.reused
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    return Ok(());
                }
            }
        }
        std::fs::write(&path, bytes).map_err(|e| Error::io("writing", &path, e))?;
        self.written
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Copies the attachments, writes the marker and swaps the new site in.
    pub fn finish(mut self, copies: &[CopyFile]) -> Result<WriteStats> {
        let targets: Vec<PathBuf> = copies
            .iter()
            .map(|c| {
                safe_join(&self.dir, &c.to).ok_or_else(|| {
                    Error::io(
                        "writing",
                        self.dir.join(&c.to),
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
        let out = &self.out;
        copies
            .par_iter()
            .zip(&targets)
            .try_for_each(|(c, path)| copy_attachment(c, path, out))?;
        let mut manifest =
            std::mem::take(&mut *self.manifest.lock().map_err(|_| poisoned(&self.dir))?);
        manifest.sort();
        let mut marker_text = String::with_capacity(manifest.len() * 64);
        marker_text.push_str(MARKER_HEADER);
        marker_text.push('\n');
        for (path, hash, size) in &manifest {
            marker_text.push_str(&format!("{hash:016x} {size} {path}\n"));
        }
        let marker = self.dir.join(MARKER);
        std::fs::write(&marker, marker_text).map_err(|e| Error::io("writing", marker, e))?;
        let parent = self.out.parent().unwrap_or(Path::new("/")).to_path_buf();
        swap_in(&self.dir, &self.out, &parent, &file_name(&self.out))?;
        self.finished = true;
        Ok(WriteStats {
            written: self.written.load(std::sync::atomic::Ordering::Relaxed),
            reused: self.reused.load(std::sync::atomic::Ordering::Relaxed),
            copied: copies.len(),
        })
    }
}

/// Copies an attachment with its source's mtime, or links the previous site's copy when its
/// size and mtime still match the source.
fn copy_attachment(c: &CopyFile, path: &Path, out: &Path) -> Result<()> {
    let source = std::fs::metadata(&c.from).map_err(|e| Error::io("reading", &c.from, e))?;
    if let Some(old) = safe_join(out, &c.to) {
        if let Ok(previous) = std::fs::metadata(&old) {
            let same = previous.len() == source.len()
                && previous.modified().ok() == source.modified().ok();
            if same && std::fs::hard_link(&old, path).is_ok() {
                return Ok(());
            }
        }
    }
    std::fs::copy(&c.from, path).map_err(|e| Error::io("copying", &c.from, e))?;
    if let Ok(mtime) = source.modified() {
        let _ = std::fs::File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_modified(mtime));
    }
    Ok(())
}

fn poisoned(path: &Path) -> Error {
    Error::io(
        "writing",
        path,
        std::io::Error::other("a writer thread panicked"),
    )
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
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
        // Put the previous site back.
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
