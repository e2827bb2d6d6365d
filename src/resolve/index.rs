//! The name index: built once per vault, answers "which files could `[[p]]` mean" in O(1)
//! hash lookups (no scan over notes per link).

use rayon::prelude::*;

use std::sync::{Arc, Mutex, PoisonError};

use super::SharedName;
use crate::source::{fold_name, FastMap, VaultPath};
use crate::vault::{AttachmentId, NoteId, Vault};

/// A file a link can reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileRef {
    /// A markdown note.
    Note(NoteId),
    /// Any other file.
    Attachment(AttachmentId),
}

/// Folded path and path-suffix lookup tables (semantics file §3). Every list is sorted (notes
/// by id, then attachments by id), so an index updated in place equals one built afresh.
#[derive(Debug, Default, PartialEq)]
pub struct NameIndex {
    /// Folded full vault path -> files (several only when paths differ in case alone).
    exact: FastMap<Box<str>, Vec<FileRef>>,
    /// Folded path suffix at a folder boundary (`b/note.md`, `note.md`) -> files.
    suffix: FastMap<Box<str>, Vec<FileRef>>,
    /// Folded alias -> notes that declare it.
    aliases: FastMap<Box<str>, Vec<NoteId>>,
    /// Names many files share, ranked on their first lookup (emptied when files move).
    shared: SharedNames,
}

/// The kept rankings of names many files share, by folded name and spelling. A cache of
/// what the tables above give: not part of an index's value, so two indexes of the same
/// files are equal whatever each has ranked.
#[derive(Default)]
struct SharedNames(Mutex<FastMap<Box<str>, Arc<SharedName>>>);

impl PartialEq for SharedNames {
    fn eq(&self, _: &SharedNames) -> bool {
        true
    }
}

impl std::fmt::Debug for SharedNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedNames")
    }
}

impl NameIndex {
    /// Indexes every note and attachment of the vault.
    pub fn new(vault: &Vault) -> NameIndex {
        let files: Vec<(FileRef, &VaultPath)> = vault
            .note_ids()
            .map(|(id, n)| (FileRef::Note(id), &n.path))
            .chain(
                vault
                    .attachments
                    .iter()
                    .enumerate()
                    .map(|(i, a)| (FileRef::Attachment(AttachmentId(i as u32)), &a.path)),
            )
            .collect();
        // Fold in parallel; fill the tables in file order (each on its own thread).
        let folded: Vec<String> = files
            .par_iter()
            .map(|(_, path)| fold_name(path.as_str()))
            .collect();
        let exact = || {
            let mut exact: FastMap<Box<str>, Vec<FileRef>> = FastMap::default();
            exact.reserve(files.len());
            for ((file, _), key) in files.iter().zip(&folded) {
                push(&mut exact, key, *file);
            }
            exact
        };
        let suffix = || {
            let mut suffix: FastMap<Box<str>, Vec<FileRef>> = FastMap::default();
            suffix.reserve(folded.iter().map(|k| k.matches('/').count() + 1).sum());
            for ((file, _), key) in files.iter().zip(&folded) {
                for_suffixes(key, |rest| push(&mut suffix, rest, *file));
            }
            let aliases = aliases_of(vault);
            (suffix, aliases)
        };
        let (exact, (suffix, aliases)) = rayon::join(exact, suffix);
        NameIndex {
            exact,
            suffix,
            aliases,
            shared: SharedNames::default(),
        }
    }

    /// The index of `vault`, made from the index of an earlier vault by taking out the files
    /// gone (`gone`: old ids) and putting in the files come (`come`: new ids), the others
    /// renumbered by `renumber` (old id to new, keeping their order); the aliases are indexed
    /// again. Equals [`NameIndex::new`] of `vault`, for a fraction of the work when few files
    /// moved.
    pub fn update(
        mut self,
        vault: &Vault,
        gone: &[(FileRef, &VaultPath)],
        come: &[FileRef],
        renumber: impl Fn(FileRef) -> FileRef + Sync,
    ) -> NameIndex {
        let path_of = |f: FileRef| match f {
            FileRef::Note(id) => &vault.note(id).path,
            FileRef::Attachment(id) => &vault.attachment(id).path,
        };
        for &(file, path) in gone {
            let key = fold_name(path.as_str());
            unpush(&mut self.exact, &key, file);
            for_suffixes(&key, |rest| unpush(&mut self.suffix, rest, file));
        }
        let renumber = &renumber;
        let renumbered = |map: &mut FastMap<Box<str>, Vec<FileRef>>| {
            for list in map.values_mut() {
                for file in list.iter_mut() {
                    *file = renumber(*file);
                }
            }
        };
        let (exact, suffix) = (&mut self.exact, &mut self.suffix);
        rayon::join(|| renumbered(exact), || renumbered(suffix));
        for &file in come {
            let key = fold_name(path_of(file).as_str());
            insert_sorted(&mut self.exact, &key, file);
            for_suffixes(&key, |rest| insert_sorted(&mut self.suffix, rest, file));
        }
        self.aliases = aliases_of(vault);
        // Rankings hold ids and paths of the files before.
        self.shared = SharedNames::default();
        self
    }

    /// The ranking kept under `key` (a folded name and a spelling), made by `make` on the
    /// first lookup. Made outside the lock, so threads ranking other names do not wait;
    /// two threads making the same one keep the first.
    pub(crate) fn shared(&self, key: &str, make: impl FnOnce() -> SharedName) -> Arc<SharedName> {
        let kept = |shared: &SharedNames| {
            let map = shared.0.lock().unwrap_or_else(PoisonError::into_inner);
            map.get(key).cloned()
        };
        if let Some(found) = kept(&self.shared) {
            return found;
        }
        let made = Arc::new(make());
        let mut map = self.shared.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.entry(key.into()).or_insert(made).clone()
    }

    /// Files whose whole path is `folded` (or `folded.md`).
    pub fn exact(&self, folded: &str) -> Vec<FileRef> {
        self.exact_parts(folded).concat()
    }

    /// Files whose path ends with `/folded` (or `/folded.md`), or is exactly it.
    pub fn suffix(&self, folded: &str) -> Vec<FileRef> {
        self.suffix_parts(folded).concat()
    }

    /// [`NameIndex::exact`] without allocating: the files named `folded`, then `folded.md`.
    pub fn exact_parts(&self, folded: &str) -> [&[FileRef]; 2] {
        Self::lookup(&self.exact, folded)
    }

    /// [`NameIndex::suffix`] without allocating: the files named `folded`, then `folded.md`.
    pub fn suffix_parts(&self, folded: &str) -> [&[FileRef]; 2] {
        Self::lookup(&self.suffix, folded)
    }

    fn lookup<'a>(map: &'a FastMap<Box<str>, Vec<FileRef>>, folded: &str) -> [&'a [FileRef]; 2] {
        let get = |key: &str| map.get(key).map_or(&[][..], Vec::as_slice);
        let first = get(folded);
        if folded.ends_with(".md") {
            return [first, &[]];
        }
        // Names are short: build `folded.md` on the stack when it fits.
        let mut buf = [0u8; 256];
        let n = folded.len() + 3;
        let second = if n <= buf.len() {
            buf[..folded.len()].copy_from_slice(folded.as_bytes());
            buf[folded.len()..n].copy_from_slice(b".md");
            get(std::str::from_utf8(&buf[..n]).expect("a str followed by .md"))
        } else {
            get(&format!("{folded}.md"))
        };
        [first, second]
    }

    /// Notes that list `folded` among their aliases.
    pub fn alias(&self, folded: &str) -> &[NoteId] {
        self.aliases.get(folded).map_or(&[], Vec::as_slice)
    }
}

/// Calls `f` with `key` and each of its suffixes at a folder boundary (`a/b.md`, `b.md`).
fn for_suffixes(key: &str, mut f: impl FnMut(&str)) {
    let mut rest = key;
    loop {
        f(rest);
        match rest.find('/') {
            Some(i) => rest = &rest[i + 1..],
            None => break,
        }
    }
}

/// Every note's folded aliases -> the notes that declare them, in id order.
fn aliases_of(vault: &Vault) -> FastMap<Box<str>, Vec<NoteId>> {
    let mut aliases: FastMap<Box<str>, Vec<NoteId>> = FastMap::default();
    for (id, note) in vault.note_ids() {
        for alias in &note.front_matter.aliases {
            let list = aliases.entry(fold_name(alias).into()).or_default();
            if !list.contains(&id) {
                list.push(id);
            }
        }
    }
    aliases
}

/// Takes `file` out of the list of `key`, and the key out when its list is left empty.
fn unpush(map: &mut FastMap<Box<str>, Vec<FileRef>>, key: &str, file: FileRef) {
    if let Some(list) = map.get_mut(key) {
        list.retain(|f| *f != file);
        if list.is_empty() {
            map.remove(key);
        }
    }
}

/// Puts `file` in the list of `key` at its place in order.
fn insert_sorted(map: &mut FastMap<Box<str>, Vec<FileRef>>, key: &str, file: FileRef) {
    match map.get_mut(key) {
        Some(list) => {
            if let Err(at) = list.binary_search(&file) {
                list.insert(at, file);
            }
        }
        None => {
            map.insert(key.into(), vec![file]);
        }
    }
}

/// Appends `file` to the list of `key`, allocating the key only when it is new.
fn push(map: &mut FastMap<Box<str>, Vec<FileRef>>, key: &str, file: FileRef) {
    match map.get_mut(key) {
        Some(list) => list.push(file),
        None => {
            map.insert(key.into(), vec![file]);
        }
    }
}
