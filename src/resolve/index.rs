//! The name index: built once per vault, answers "which files could `[[p]]` mean" in O(1)
//! hash lookups (no scan over notes per link).

use rayon::prelude::*;

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

/// Folded path and path-suffix lookup tables (semantics file §3).
#[derive(Debug, Default)]
pub struct NameIndex {
    /// Folded full vault path -> files (several only when paths differ in case alone).
    exact: FastMap<Box<str>, Vec<FileRef>>,
    /// Folded path suffix at a folder boundary (`b/note.md`, `note.md`) -> files.
    suffix: FastMap<Box<str>, Vec<FileRef>>,
    /// Folded alias -> notes that declare it.
    aliases: FastMap<Box<str>, Vec<NoteId>>,
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
                let mut rest = key.as_str();
                loop {
                    push(&mut suffix, rest, *file);
                    match rest.find('/') {
                        Some(i) => rest = &rest[i + 1..],
                        None => break,
                    }
                }
            }
            let mut aliases: FastMap<Box<str>, Vec<NoteId>> = FastMap::default();
            for (id, note) in vault.note_ids() {
                for alias in &note.front_matter.aliases {
                    let list = aliases.entry(fold_name(alias).into()).or_default();
                    if !list.contains(&id) {
                        list.push(id);
                    }
                }
            }
            (suffix, aliases)
        };
        let (exact, (suffix, aliases)) = rayon::join(exact, suffix);
        NameIndex {
            exact,
            suffix,
            aliases,
        }
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

/// Appends `file` to the list of `key`, allocating the key only when it is new.
fn push(map: &mut FastMap<Box<str>, Vec<FileRef>>, key: &str, file: FileRef) {
    match map.get_mut(key) {
        Some(list) => list.push(file),
        None => {
            map.insert(key.into(), vec![file]);
        }
    }
}
