//! Stage 7, write: put the rendered site on disk safely.
//!
//! Invariants: nothing is written outside the output folder (every path is checked component
//! by component); an output folder that is, or contains, the vault is refused; a non-empty
//! folder vaultc did not write (no marker file) is never replaced; every new file is first
//! written into a temporary sibling folder and the live site changes only once rendering has
//! succeeded (see [`Staging`]), so a failed build leaves the previous site as it was.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::source::FastMap;

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

/// An attachment [`Staging::finish`] could not read, so the site goes without it: one removed
/// or made unreadable since the vault was walked (an editor's temporary file), or without
/// read permission. Not a failed build: the vault's problem, reported as a diagnostic.
#[derive(Debug)]
pub struct UnreadableCopy {
    /// Its index in the `copies` given to [`Staging::finish`].
    pub index: usize,
    /// Why it could not be read.
    pub cause: std::io::Error,
}

/// Absolute, symlink-free form of a path that may not exist yet, nor some of its folders.
pub fn absolute(path: &Path) -> Result<PathBuf> {
    if let Ok(p) = path.canonicalize() {
        return Ok(p);
    }
    // The path (or some of its folders) does not exist yet: resolve its deepest existing
    // ancestor, then add the missing components, which cannot be symlinks.
    let abs = std::path::absolute(path).map_err(|e| Error::io("resolving", path, e))?;
    let mut missing = Vec::new();
    let mut base = abs.as_path();
    let resolved = loop {
        match base.canonicalize() {
            Ok(p) => break p,
            Err(e) => match (base.parent(), base.file_name()) {
                (Some(parent), Some(name)) => {
                    missing.push(name);
                    base = parent;
                }
                _ => return Err(Error::io("resolving", base, e)),
            },
        }
    };
    let mut out = resolved;
    for name in missing.into_iter().rev() {
        out.push(name);
    }
    Ok(out)
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

/// Whether `out` is a site vaultc finished writing: its marker is there and no in-place
/// update was cut short. Builds that trust a kept manifest ask
/// [`Manifest::still_describes`], which also checks that no other build wrote the site since.
fn is_intact_site(out: &Path) -> bool {
    out.join(MARKER).is_file() && !out.join(UPDATING).exists()
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

/// A site being written. New and changed files go into a staging folder beside the output
/// folder as they are rendered (from many threads); nothing in the live site changes until
/// [`Staging::finish`]. Dropping an unfinished staging removes it, so a failed build leaves the
/// previous site untouched.
///
/// Two ways to finish, chosen at [`Staging::create`]:
/// - **whole** (first build, `--full`, or a previous site vaultc cannot vouch for): the staging
///   folder becomes the complete site and is swapped in with two renames. Files equal to the
///   previous site's are hard-linked from it, so they keep their inode and mtime.
/// - **in place** (incremental): the previous site stays where it is; only new and changed
///   files are moved into it (one rename each) and files no longer produced are removed.
///   A `.vaultc-updating` file marks the short window in which that happens; if a build dies
///   inside it, the next build does not trust the old manifest and rebuilds whole.
///
/// The marker file lists every file of the site with its content hash, size and input
/// fingerprint: the next build keeps a page whose fingerprint is unchanged without rendering it.
pub struct Staging {
    out: PathBuf,
    dir: PathBuf,
    in_place: bool,
    /// Whether pages may be kept by their input fingerprints (not with `--full`).
    incremental: bool,
    /// A build session's rebuild ([`Staging::update`]): only some files are looked at, and
    /// every other file of the previous manifest stays as it is.
    sparse: bool,
    /// The previous site is the one a build session wrote last, with the manifest it kept:
    /// its files are trusted to be as that build left them, and kept without a look.
    trusted: bool,
    previous: FastMap<String, Entry>,
    manifest: Mutex<Vec<(String, Entry)>>,
    pending: Mutex<Vec<String>>,
    /// Files of the previous site to remove ([`Staging::remove`]).
    removed: Vec<String>,
    /// Folders this build writes whole ([`Staging::rewrites_folder`]).
    rewritten: Vec<String>,
    written: AtomicUsize,
    reused: AtomicUsize,
    finished: bool,
}

/// A site's manifest as a build left it: every file with its content hash, size and input
/// fingerprint (what a build session's next rebuild starts from, without reading it again),
/// and the stamp of the marker file that build left, which tells whether anything else wrote
/// the site since.
#[derive(Clone, Debug, Default)]
pub struct Manifest {
    files: FastMap<String, Entry>,
    marker: Option<crate::discover::FileStamp>,
}

impl Manifest {
    /// Whether the site at `out` is still the one this manifest describes: intact, and its
    /// marker the one the build left (another `vaultc build` into the same folder replaces
    /// it). Only then may a build trust its files without looking at them.
    pub fn still_describes(&self, out: &Path) -> bool {
        self.marker.is_some() && is_intact_site(out) && marker_stamp(out) == self.marker
    }
}

/// The stamp of the marker file of the site at `out`.
fn marker_stamp(out: &Path) -> Option<crate::discover::FileStamp> {
    std::fs::symlink_metadata(out.join(MARKER))
        .ok()
        .map(|m| crate::discover::FileStamp::of(&m))
}

/// One manifest line: a file of the site.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    kind: FileKind,
    /// xxh3 of the bytes (pages); 0 for attachments, which are compared by size and mtime.
    hash: u64,
    size: u64,
    /// The page's input fingerprint, when it has one.
    inputs: Option<u64>,
}

/// `v` as 16 lowercase hex digits (`{:016x}`), without the formatting machinery.
fn push_hex(out: &mut String, v: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0u8; 16];
    for (i, d) in digits.iter_mut().rev().enumerate() {
        *d = DIGITS[((v >> (4 * i)) & 0xf) as usize];
    }
    out.push_str(std::str::from_utf8(&digits).expect("ASCII digits"));
}

/// `v` in decimal (`{}`), without the formatting machinery.
fn push_decimal(out: &mut String, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&digits[start..]).expect("ASCII digits"));
}

/// What a site file is, as a manifest line's first field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileKind {
    /// `p`: rendered by vaultc (a page, a data file, a theme asset).
    Page,
    /// `a`: an attachment copied from the vault.
    Attachment,
}

/// First line of the marker file.
const MARKER_HEADER: &str = "This folder was written by vaultc; `vaultc build` may replace it.";
/// Second line: the manifest format (`kind hash size inputs path` per line after it).
const MANIFEST_VERSION: &str = "manifest 2";
/// Present in the output folder while an in-place update moves files; see [`Staging`].
const UPDATING: &str = ".vaultc-updating";

/// The previous site's manifest, or nothing when there is none vaultc can trust.
fn read_manifest(out: &Path) -> Option<FastMap<String, Entry>> {
    if out.join(UPDATING).exists() {
        return None;
    }
    let text = std::fs::read_to_string(out.join(MARKER)).ok()?;
    let mut lines = text.lines();
    if lines.next() != Some(MARKER_HEADER) || lines.next() != Some(MANIFEST_VERSION) {
        return None;
    }
    let mut map = FastMap::default();
    for line in lines {
        let mut parts = line.splitn(5, ' ');
        let kind = match parts.next()? {
            "p" => FileKind::Page,
            "a" => FileKind::Attachment,
            _ => return None,
        };
        let hash = u64::from_str_radix(parts.next()?, 16).ok()?;
        let size = parts.next()?.parse().ok()?;
        let inputs = match parts.next()? {
            "-" => None,
            h => Some(u64::from_str_radix(h, 16).ok()?),
        };
        let entry = Entry {
            kind,
            hash,
            size,
            inputs,
        };
        map.insert(parts.next()?.to_string(), entry);
    }
    Some(map)
}

fn leaves(dir: &Path, rel: &str) -> Result<PathBuf> {
    safe_join(dir, rel).ok_or_else(|| {
        Error::io(
            "writing",
            dir.join(rel),
            std::io::Error::other("path would leave the output folder"),
        )
    })
}

fn create_parent(path: &Path) -> Result<()> {
    let Some(parent) = path.parent() else {
        return Ok(());
    };
    // Every page has a folder of its own, whose parent usually exists: one `mkdir` then,
    // where `create_dir_all` would first ask whether the folder exists.
    match std::fs::create_dir(parent) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && parent.is_dir() => Ok(()),
        Err(_) => std::fs::create_dir_all(parent).map_err(|e| Error::io("creating", parent, e)),
    }
}

/// Makes this process's empty staging folder beside `out` (`.{name}.vaultc-staging-{pid}`),
/// removing what an earlier run with the same process id left there.
fn staging_dir(out: &Path) -> Result<PathBuf> {
    let parent = out
        .parent()
        .ok_or_else(|| Error::io("writing", out, std::io::ErrorKind::InvalidInput.into()))?;
    let dir = parent.join(format!(
        ".{}.vaultc-staging-{}",
        file_name(out),
        std::process::id()
    ));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| Error::io("removing", &dir, e))?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("creating", &dir, e))?;
    Ok(dir)
}

impl Staging {
    /// Checks `out` against the vault and creates the staging folder. With `incremental`, a
    /// previous site with a trusted manifest is updated in place and its pages are kept by
    /// their input fingerprints; otherwise every page is rendered and the site written whole
    /// (files with unchanged bytes are still linked from the previous site).
    pub fn create(out: &Path, vault: &Path, incremental: bool) -> Result<Staging> {
        Staging::create_with(out, vault, incremental, None)
    }

    /// [`Staging::create`] (incremental) over the site a build session wrote last, whose
    /// manifest it kept: the manifest is not read again, and the files it lists are trusted to
    /// be as that build left them, as in [`Staging::update`]; unlike there, every file of the
    /// site is written or kept again, and the others are removed. When the manifest no longer
    /// describes the site ([`Manifest::still_describes`]: a build died in it, it is gone, or
    /// another build wrote it), this is [`Staging::create`].
    pub fn create_over(out: &Path, vault: &Path, manifest: Manifest) -> Result<Staging> {
        Staging::create_with(out, vault, true, Some(manifest))
    }

    fn create_with(
        out: &Path,
        vault: &Path,
        incremental: bool,
        kept: Option<Manifest>,
    ) -> Result<Staging> {
        let out = absolute(out)?;
        check_output(&out, vault)?;
        let parent = out
            .parent()
            .ok_or_else(|| Error::io("writing", &out, std::io::ErrorKind::InvalidInput.into()))?;
        std::fs::create_dir_all(parent).map_err(|e| Error::io("creating", parent, e))?;
        let dir = staging_dir(&out)?;
        let kept = kept.filter(|m| incremental && m.still_describes(&out) && out.is_dir());
        let trusted = kept.is_some();
        let previous = match kept {
            Some(manifest) => Some(manifest.files),
            None => read_manifest(&out),
        };
        let in_place = incremental && previous.is_some() && out.is_dir();
        let mut staging = Staging::over(out, dir, previous.unwrap_or_default());
        (staging.in_place, staging.incremental, staging.trusted) = (in_place, incremental, trusted);
        Ok(staging)
    }

    /// A staging of nothing yet in `dir` for the site `out`, whose previous files are
    /// `previous`: whole, not incremental (the constructors say otherwise).
    fn over(out: PathBuf, dir: PathBuf, previous: FastMap<String, Entry>) -> Staging {
        Staging {
            out,
            dir,
            in_place: false,
            incremental: false,
            sparse: false,
            trusted: false,
            previous,
            manifest: Default::default(),
            pending: Default::default(),
            removed: Vec::new(),
            rewritten: Vec::new(),
            written: 0.into(),
            reused: 0.into(),
            finished: false,
        }
    }

    /// An in-place update of the site a build session wrote last, whose manifest it kept: only
    /// the files written or kept through this staging are looked at (kept ones are trusted to
    /// be as that build left them); every other file stays, unless named by
    /// [`Staging::remove`].
    pub fn update(out: &Path, manifest: Manifest) -> Result<Staging> {
        let dir = staging_dir(out)?;
        let mut staging = Staging::over(out.to_path_buf(), dir, manifest.files);
        (staging.in_place, staging.incremental) = (true, true);
        (staging.sparse, staging.trusted) = (true, true);
        Ok(staging)
    }

    /// Removes the previous site's `rel`, a file this build does not write, when the build
    /// finishes: a sparse update ([`Staging::update`]) keeps every file it does not look at,
    /// so a page that is gone (a tag no note uses any more) is named here.
    pub fn remove(&mut self, rel: &str) {
        self.removed.push(rel.to_string());
    }

    /// Makes `folder` (a path ending in `/`) one this build writes whole: a file of the previous
    /// site under it that this build does not write is removed when it finishes. A sparse
    /// update keeps what it does not look at, but a family of files whose number changes (the
    /// `sitemaps/K.xml` of a site past 50,000 addresses) must shrink with it.
    pub fn rewrites_folder(&mut self, folder: &str) {
        debug_assert!(folder.ends_with('/'));
        self.rewritten.push(folder.to_string());
    }

    /// Whether the previous site has `rel` (a file vaultc wrote).
    pub fn had(&self, rel: &str) -> bool {
        self.previous.contains_key(rel)
    }

    /// Whether this build updates the previous site in place (rather than writing it whole).
    pub fn in_place(&self) -> bool {
        self.in_place
    }

    fn record(&self, rel: &str, entry: Entry) -> Result<()> {
        self.manifest
            .lock()
            .map_err(|_| poisoned(&self.dir))?
            .push((rel.to_string(), entry));
        Ok(())
    }

    /// Keeps the previous site's `rel` when it was rendered from the same `inputs` (safe to
    /// call from many threads). Returns whether it did; if not, the caller renders the file.
    pub fn keep(&self, rel: &str, inputs: u64) -> Result<bool> {
        if !self.incremental {
            return Ok(false);
        }
        let Some(&entry) = self.previous.get(rel) else {
            return Ok(false);
        };
        if entry.kind != FileKind::Page || entry.inputs != Some(inputs) {
            return Ok(false);
        }
        let Some(old) = safe_join(&self.out, rel) else {
            return Ok(false);
        };
        let present = self.trusted
            || std::fs::symlink_metadata(&old)
                .is_ok_and(|m| m.file_type().is_file() && m.len() == entry.size);
        if !present {
            return Ok(false);
        }
        if !self.in_place {
            let path = leaves(&self.dir, rel)?;
            create_parent(&path)?;
            if std::fs::hard_link(&old, &path).is_err() {
                return Ok(false);
            }
        }
        self.record(rel, entry)?;
        self.reused.fetch_add(1, Ordering::Relaxed);
        Ok(true)
    }

    /// Writes one file of the site (safe to call from many threads). When its bytes equal
    /// the previous site's copy, that copy is kept instead (linked, or left in place).
    pub fn write(&self, rel: &str, bytes: &[u8], inputs: Option<u64>) -> Result<()> {
        let path = leaves(&self.dir, rel)?;
        let entry = Entry {
            kind: FileKind::Page,
            hash: xxhash_rust::xxh3::xxh3_64(bytes),
            size: bytes.len() as u64,
            inputs,
        };
        self.record(rel, entry)?;
        let same = self.previous.get(rel).is_some_and(|p| {
            p.kind == FileKind::Page && p.hash == entry.hash && p.size == entry.size
        });
        if same {
            if let Some(old) = safe_join(&self.out, rel) {
                let present = std::fs::symlink_metadata(&old)
                    .is_ok_and(|m| m.file_type().is_file() && m.len() == entry.size);
                if present && (self.in_place || link(&old, &path)) {
                    self.reused.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
            }
        }
        create_parent(&path)?;
        std::fs::write(&path, bytes).map_err(|e| Error::io("writing", &path, e))?;
        if self.in_place {
            self.pending
                .lock()
                .map_err(|_| poisoned(&path))?
                .push(rel.to_string());
        }
        self.written.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Copies the attachments, writes the marker and makes the new site live: by swapping
    /// the staging folder in, or by moving the changed files into the previous site. Returns
    /// what was written, the site's manifest, and the attachments that could not be read
    /// (left out of the site and its manifest).
    pub fn finish(
        mut self,
        copies: &[CopyFile],
    ) -> Result<(WriteStats, Manifest, Vec<UnreadableCopy>)> {
        let targets: Vec<PathBuf> = copies
            .iter()
            .map(|c| leaves(&self.dir, &c.to))
            .collect::<Result<_>>()?;
        let mut dirs: Vec<&Path> = targets.iter().filter_map(|p| p.parent()).collect();
        dirs.sort();
        dirs.dedup();
        for dir in dirs {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
        }
        let out = &self.out;
        let in_place = self.in_place;
        let copied: Vec<Copied> = copies
            .par_iter()
            .zip(&targets)
            .map(|(c, path)| copy_attachment(c, path, out, in_place))
            .collect::<Result<_>>()?;
        let mut unreadable = Vec::new();
        let mut recorded =
            std::mem::take(&mut *self.manifest.lock().map_err(|_| poisoned(&self.dir))?);
        let mut pending =
            std::mem::take(&mut *self.pending.lock().map_err(|_| poisoned(&self.dir))?);
        for (index, (c, copy)) in copies.iter().zip(copied).enumerate() {
            let (entry, fresh) = match copy {
                Copied::Kept(entry) => (entry, false),
                Copied::Fresh(entry) => (entry, true),
                Copied::Unreadable(cause) => {
                    unreadable.push(UnreadableCopy { index, cause });
                    continue;
                }
            };
            recorded.push((c.to.clone(), entry));
            if fresh && in_place {
                pending.push(c.to.clone());
            }
        }
        if !self.rewritten.is_empty() {
            let written: std::collections::HashSet<&str> =
                recorded.iter().map(|(p, _)| p.as_str()).collect();
            let gone = self.previous.keys().filter(|p| {
                self.rewritten.iter().any(|f| p.starts_with(f.as_str()))
                    && !written.contains(p.as_str())
            });
            let gone: Vec<String> = gone.cloned().collect();
            self.removed.extend(gone);
        }
        // A sparse update starts from the previous manifest: every file this rebuild did not
        // look at stays as the previous build left it (so none of them is stale below).
        let mut manifest: FastMap<String, Entry> = if self.sparse {
            std::mem::take(&mut self.previous)
        } else {
            FastMap::default()
        };
        // A recorded file replaces the previous build's entry; one recorded twice keeps its
        // first (inserted last).
        for (path, entry) in recorded.into_iter().rev() {
            manifest.insert(path, entry);
        }
        for rel in &self.removed {
            manifest.remove(rel);
        }
        let mut lines: Vec<(&str, &Entry)> =
            manifest.iter().map(|(p, e)| (p.as_str(), e)).collect();
        // Paths are unique, so the order is the same whatever the sort (a session writes the
        // manifest of every file after each save: 100k lines for a 100k-note vault).
        lines.par_sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut marker_text = String::with_capacity(lines.len() * 72 + 100);
        marker_text.push_str(MARKER_HEADER);
        marker_text.push('\n');
        marker_text.push_str(MANIFEST_VERSION);
        marker_text.push('\n');
        for (path, e) in &lines {
            marker_text.push(match e.kind {
                FileKind::Page => 'p',
                FileKind::Attachment => 'a',
            });
            marker_text.push(' ');
            push_hex(&mut marker_text, e.hash);
            marker_text.push(' ');
            push_decimal(&mut marker_text, e.size);
            marker_text.push(' ');
            match e.inputs {
                Some(h) => push_hex(&mut marker_text, h),
                None => marker_text.push('-'),
            }
            marker_text.push(' ');
            marker_text.push_str(path);
            marker_text.push('\n');
        }
        drop(lines);
        let marker = self.dir.join(MARKER);
        std::fs::write(&marker, marker_text).map_err(|e| Error::io("writing", &marker, e))?;
        if self.in_place {
            self.update_in_place(&manifest, &pending)?;
        } else {
            let parent = self.out.parent().unwrap_or(Path::new("/")).to_path_buf();
            swap_in(&self.dir, &self.out, &parent, &file_name(&self.out))?;
        }
        self.finished = true;
        let stats = WriteStats {
            written: self.written.load(Ordering::Relaxed),
            reused: self.reused.load(Ordering::Relaxed),
            copied: copies.len() - unreadable.len(),
        };
        let manifest = Manifest {
            files: manifest,
            marker: marker_stamp(&self.out),
        };
        Ok((stats, manifest, unreadable))
    }

    /// Moves the new and changed files into the live site, removes the files it no longer
    /// has, then replaces the marker.
    fn update_in_place(&self, manifest: &FastMap<String, Entry>, pending: &[String]) -> Result<()> {
        let updating = self.out.join(UPDATING);
        std::fs::write(&updating, b"").map_err(|e| Error::io("writing", &updating, e))?;
        for rel in pending {
            let from = leaves(&self.dir, rel)?;
            let to = leaves(&self.out, rel)?;
            create_parent(&to)?;
            std::fs::rename(&from, &to).map_err(|e| Error::io("moving into place", &to, e))?;
        }
        let mut stale: Vec<&String> = self
            .previous
            .keys()
            .filter(|p| !manifest.contains_key(p.as_str()))
            .chain(&self.removed)
            .collect();
        stale.sort();
        stale.dedup();
        for rel in stale {
            let Some(path) = safe_join(&self.out, rel) else {
                continue;
            };
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("removing", &path, e)),
            }
            // Folders the removed page leaves empty go too, as a whole build would not have them.
            let mut dir = path.parent();
            while let Some(d) = dir {
                if d == self.out || std::fs::remove_dir(d).is_err() {
                    break;
                }
                dir = d.parent();
            }
        }
        let marker = self.out.join(MARKER);
        std::fs::rename(self.dir.join(MARKER), &marker)
            .map_err(|e| Error::io("moving into place", &marker, e))?;
        std::fs::remove_file(&updating).map_err(|e| Error::io("removing", &updating, e))?;
        let _ = std::fs::remove_dir_all(&self.dir);
        Ok(())
    }
}

/// Hard-links `old` to `new`, creating `new`'s folder; false when linking is impossible.
fn link(old: &Path, new: &Path) -> bool {
    create_parent(new).is_ok() && std::fs::hard_link(old, new).is_ok()
}

/// What became of one attachment in [`copy_attachment`].
enum Copied {
    /// The previous site's copy is still right (linked or left alone).
    Kept(Entry),
    /// A fresh copy was made.
    Fresh(Entry),
    /// The source could not be opened: nothing was written.
    Unreadable(std::io::Error),
}

/// Copies an attachment with its source's mtime, unless the previous site's copy still has
/// the source's size and mtime: then it is linked (whole build) or left alone (in place).
/// A source that cannot be opened is not an error of the build (see [`UnreadableCopy`]);
/// failing to write the copy is.
fn copy_attachment(c: &CopyFile, path: &Path, out: &Path, in_place: bool) -> Result<Copied> {
    let opened = std::fs::File::open(&c.from).and_then(|f| {
        let metadata = f.metadata()?;
        if metadata.is_dir() {
            return Err(std::io::Error::other("it is a folder now"));
        }
        Ok((f, metadata))
    });
    let (mut from, source) = match opened {
        Ok(opened) => opened,
        Err(e) => return Ok(Copied::Unreadable(e)),
    };
    let mtime = source.modified().ok();
    // The entry records the file for stale-file removal; its mtime stays out of the manifest so
    // that the site's bytes do not depend on when the vault was checked out.
    let entry = Entry {
        kind: FileKind::Attachment,
        hash: 0,
        size: source.len(),
        inputs: None,
    };
    if let Some(old) = safe_join(out, &c.to) {
        if let Ok(previous) = std::fs::symlink_metadata(&old) {
            let same = previous.file_type().is_file()
                && previous.len() == source.len()
                && previous.modified().ok() == mtime;
            if same && (in_place || std::fs::hard_link(&old, path).is_ok()) {
                return Ok(Copied::Kept(entry));
            }
        }
    }
    let mut to = std::fs::File::create(path).map_err(|e| Error::io("writing", path, e))?;
    std::io::copy(&mut from, &mut to).map_err(|e| Error::io("copying", &c.from, e))?;
    if let Some(mtime) = mtime {
        let _ = to.set_modified(mtime);
    }
    Ok(Copied::Fresh(entry))
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

    /// The manifest's numbers are written as `format!` writes them, at the edges too.
    #[test]
    fn manifest_numbers_are_written_as_format_writes_them() {
        for v in [
            0,
            1,
            9,
            10,
            15,
            16,
            255,
            4096,
            1 << 32,
            u64::MAX - 1,
            u64::MAX,
        ] {
            let (mut hex, mut decimal) = (String::new(), String::new());
            push_hex(&mut hex, v);
            push_decimal(&mut decimal, v);
            assert_eq!(hex, format!("{v:016x}"));
            assert_eq!(decimal, v.to_string());
        }
    }

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

    /// An attachment that is gone (or unreadable) by the time it is copied leaves the site
    /// whole: the other files are written, the site goes live, and the missing one is handed
    /// back instead of failing the build; the manifest does not list it.
    #[test]
    fn an_attachment_gone_before_its_copy_is_handed_back_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("vault");
        std::fs::create_dir_all(&vault).unwrap();
        std::fs::write(vault.join("kept.png"), b"png").unwrap();
        let out = dir.path().join("site");
        let staging = Staging::create(&out, &vault, false).unwrap();
        staging.write("index.html", b"<html>", None).unwrap();
        let copies = [
            CopyFile {
                from: vault.join("gone.png"),
                to: "gone.png".to_string(),
            },
            CopyFile {
                from: vault.join("kept.png"),
                to: "kept.png".to_string(),
            },
        ];
        let (stats, manifest, unreadable) = staging.finish(&copies).unwrap();
        assert_eq!(unreadable.len(), 1);
        assert_eq!(unreadable[0].index, 0);
        assert_eq!(unreadable[0].cause.kind(), std::io::ErrorKind::NotFound);
        assert_eq!(stats.copied, 1);
        assert_eq!(std::fs::read(out.join("kept.png")).unwrap(), b"png");
        assert_eq!(std::fs::read(out.join("index.html")).unwrap(), b"<html>");
        assert!(!out.join("gone.png").exists());
        assert!(manifest.files.contains_key("kept.png"));
        assert!(!manifest.files.contains_key("gone.png"));
    }

    /// A sparse update keeps every file it does not look at, except in a folder it rewrites
    /// whole: there a file it no longer writes (the last of the sitemaps when a site shrinks
    /// below a multiple of 50,000 addresses) is removed, as a whole build would not have it.
    #[test]
    fn a_rewritten_folder_loses_the_files_a_rebuild_no_longer_writes() {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("vault");
        std::fs::create_dir_all(&vault).unwrap();
        let out = dir.path().join("site");
        let staging = Staging::create(&out, &vault, true).unwrap();
        for rel in [
            "index.html",
            "sitemaps/0.xml",
            "sitemaps/1.xml",
            "other/1.xml",
        ] {
            staging.write(rel, rel.as_bytes(), None).unwrap();
        }
        let (_, manifest, _) = staging.finish(&[]).unwrap();
        assert!(out.join("sitemaps/1.xml").is_file());

        let mut update = Staging::update(&out, manifest).unwrap();
        update.rewrites_folder("sitemaps/");
        update.write("sitemaps/0.xml", b"shorter", None).unwrap();
        let (_, manifest, _) = update.finish(&[]).unwrap();
        assert_eq!(
            std::fs::read(out.join("sitemaps/0.xml")).unwrap(),
            b"shorter"
        );
        assert!(!out.join("sitemaps/1.xml").exists());
        assert!(!manifest.files.contains_key("sitemaps/1.xml"));
        // Files outside the folder, not looked at, stay.
        for rel in ["index.html", "other/1.xml"] {
            assert_eq!(std::fs::read(out.join(rel)).unwrap(), rel.as_bytes());
            assert!(manifest.files.contains_key(rel));
        }

        // A rebuild that writes none of the folder leaves none of it, nor the folder.
        let mut update = Staging::update(&out, manifest).unwrap();
        update.rewrites_folder("sitemaps/");
        let (_, manifest, _) = update.finish(&[]).unwrap();
        assert!(!out.join("sitemaps").exists());
        assert!(manifest.files.keys().all(|p| !p.starts_with("sitemaps/")));
        assert!(out.join("other/1.xml").is_file());
    }

    #[test]
    fn output_may_not_contain_the_vault() {
        let vault = Path::new("/data/vault");
        assert!(check_output(Path::new("/data"), vault).is_err());
        assert!(check_output(Path::new("/data/vault"), vault).is_err());
    }
}
