//! The name index: built once per vault, answers "which files could `[[p]]` mean" in O(1)
//! hash lookups (no scan over notes per link).

use std::collections::HashMap;

use crate::source::{fold_name, VaultPath};
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
    exact: HashMap<Box<str>, Vec<FileRef>>,
    /// Folded path suffix at a folder boundary (`b/note.md`, `note.md`) -> files.
    suffix: HashMap<Box<str>, Vec<FileRef>>,
    /// Folded alias -> notes that declare it.
    aliases: HashMap<Box<str>, Vec<NoteId>>,
}

impl NameIndex {
    /// Indexes every note and attachment of the vault.
    pub fn new(vault: &Vault) -> NameIndex {
        let mut index = NameIndex::default();
        let files = vault
            .note_ids()
            .map(|(id, n)| (FileRef::Note(id), &n.path))
            .chain(
                vault
                    .attachments
                    .iter()
                    .enumerate()
                    .map(|(i, a)| (FileRef::Attachment(AttachmentId(i as u32)), &a.path)),
            );
        for (file, path) in files {
            index.insert(file, path);
        }
        for (id, note) in vault.note_ids() {
            for alias in &note.front_matter.aliases {
                let list = index.aliases.entry(fold_name(alias).into()).or_default();
                if !list.contains(&id) {
                    list.push(id);
                }
            }
        }
        index
    }

    fn insert(&mut self, file: FileRef, path: &VaultPath) {
        let folded = fold_name(path.as_str());
        self.exact
            .entry(folded.as_str().into())
            .or_default()
            .push(file);
        let mut rest = folded.as_str();
        loop {
            self.suffix.entry(rest.into()).or_default().push(file);
            match rest.find('/') {
                Some(i) => rest = &rest[i + 1..],
                None => break,
            }
        }
    }

    /// Files whose whole path is `folded` (or `folded.md`).
    pub fn exact(&self, folded: &str) -> Vec<FileRef> {
        self.lookup(&self.exact, folded)
    }

    /// Files whose path ends with `/folded` (or `/folded.md`), or is exactly it.
    pub fn suffix(&self, folded: &str) -> Vec<FileRef> {
        self.lookup(&self.suffix, folded)
    }

    fn lookup(&self, map: &HashMap<Box<str>, Vec<FileRef>>, folded: &str) -> Vec<FileRef> {
        let mut out: Vec<FileRef> = map.get(folded).cloned().unwrap_or_default();
        if !folded.ends_with(".md") {
            let mut with_md = String::with_capacity(folded.len() + 3);
            with_md.push_str(folded);
            with_md.push_str(".md");
            if let Some(more) = map.get(with_md.as_str()) {
                out.extend(more);
            }
        }
        out
    }

    /// Notes that list `folded` among their aliases.
    pub fn alias(&self, folded: &str) -> &[NoteId] {
        self.aliases.get(folded).map_or(&[], Vec::as_slice)
    }
}
