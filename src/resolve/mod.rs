//! Stage 3, resolve: every link to a note, attachment or missing ("wanted") target, by the
//! semantics file §3-4, exactly. Pure: reads the [`Vault`], returns a [`Resolution`].

pub mod fragments;
pub mod index;

use rayon::prelude::*;

pub use self::index::{FileRef, NameIndex};
use crate::source::{fold_name, with_folded};
use crate::vault::{Fragment, Link, Note, NoteId, Vault};

/// Where a link goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkTarget {
    /// A note, with the heading or block the fragment named.
    Note {
        /// The note.
        id: NoteId,
        /// What the fragment resolved to.
        fragment: FragmentTarget,
    },
    /// An attachment (fragments are viewer options and always fine).
    Attachment(crate::vault::AttachmentId),
    /// Nothing matches: the link is broken and its target is a wanted note.
    Missing {
        /// Folded name the wanted node is keyed by.
        key: String,
    },
}

/// What a link's fragment reached inside its target note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FragmentTarget {
    /// No fragment (or a viewer option).
    None,
    /// Index into the target's headings.
    Heading(usize),
    /// Index into the target's blocks.
    Block(usize),
    /// The note exists but the heading or block does not.
    Missing,
}

/// The resolution of one link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedLink {
    /// Where it goes.
    pub target: LinkTarget,
    /// Every candidate when the name was ambiguous (the winner first), else empty.
    pub ambiguous: Vec<FileRef>,
    /// False when the target matched only case-insensitively.
    pub case_exact: bool,
}

/// Resolutions of every link, parallel to `vault.notes[i].links`.
#[derive(Debug, Default)]
pub struct Resolution {
    /// `links[note][link]`.
    pub links: Vec<Vec<ResolvedLink>>,
    /// The index it was built with (kept for suggestions and lookups of later stages).
    pub index: NameIndex,
}

impl Resolution {
    /// The resolution of link `link` of note `note`.
    pub fn get(&self, note: NoteId, link: usize) -> &ResolvedLink {
        &self.links[note.0 as usize][link]
    }
}

/// Resolution options.
#[derive(Clone, Copy, Debug, Default)]
pub struct ResolveOptions {
    /// Resolve `[[Alias]]` to the note declaring the alias (Obsidian does not).
    pub resolve_aliases: bool,
}

/// Resolves every link of the vault, notes in parallel.
pub fn resolve(vault: &Vault, options: ResolveOptions) -> Resolution {
    let index = NameIndex::new(vault);
    let links = vault
        .notes
        .par_iter()
        .enumerate()
        .map(|(i, note)| {
            let src = NoteId(i as u32);
            note.links
                .iter()
                .map(|link| resolve_link(vault, &index, src, link, options))
                .collect()
        })
        .collect();
    Resolution { links, index }
}

/// Resolves the vault again after some notes changed, from the resolution of an earlier
/// vault with the same note paths (in the same order), attachment paths and aliases, so that
/// the name index is the same: the links of notes whose text changed (`!unchanged[i]`) are
/// resolved, and so are the links of other notes that go to a changed note (its headings and
/// blocks decide their fragments); every other link keeps its resolution. The result equals
/// [`resolve`]'s.
pub fn resolve_again(
    vault: &Vault,
    options: ResolveOptions,
    previous: Resolution,
    unchanged: &[bool],
) -> Resolution {
    let Resolution { links, index } = previous;
    let changed = |id: NoteId| !unchanged.get(id.0 as usize).copied().unwrap_or(false);
    let links = links
        .into_par_iter()
        .enumerate()
        .map(|(i, old)| {
            let src = NoteId(i as u32);
            let note = vault.note(src);
            if changed(src) || old.len() != note.links.len() {
                return note
                    .links
                    .iter()
                    .map(|link| resolve_link(vault, &index, src, link, options))
                    .collect();
            }
            old.into_iter()
                .zip(&note.links)
                .map(|(resolved, link)| match resolved.target {
                    LinkTarget::Note { id, .. } if changed(id) => {
                        resolve_link(vault, &index, src, link, options)
                    }
                    _ => resolved,
                })
                .collect()
        })
        .collect();
    Resolution { links, index }
}

/// Resolves one link written in note `src`.
pub fn resolve_link(
    vault: &Vault,
    index: &NameIndex,
    src: NoteId,
    link: &Link,
    options: ResolveOptions,
) -> ResolvedLink {
    let note = vault.note(src);
    // Markdown destinations are URLs: `..` above the root stops at the root (RFC 3986).
    let clamp = matches!(
        link.kind,
        crate::vault::LinkKind::Markdown | crate::vault::LinkKind::Embed
    ) && !link_is_wiki(note, link);
    let (file, ambiguous, case_exact) = match find_file(vault, index, src, &link.target, clamp) {
        Some(found) => found,
        None => {
            let alias_hit = options
                .resolve_aliases
                .then(|| with_folded(&link.target, |f| index.alias(f).first().copied()))
                .flatten();
            match alias_hit {
                Some(id) => (FileRef::Note(id), Vec::new(), true),
                None => {
                    return ResolvedLink {
                        target: LinkTarget::Missing {
                            key: fold_name(link.target.trim_end_matches(".md")),
                        },
                        ambiguous: Vec::new(),
                        case_exact: true,
                    }
                }
            }
        }
    };
    let target = match file {
        FileRef::Attachment(id) => LinkTarget::Attachment(id),
        FileRef::Note(id) => LinkTarget::Note {
            id,
            fragment: resolve_fragment(vault.note(id), link.fragment.as_ref()),
        },
    };
    ResolvedLink {
        target,
        ambiguous,
        case_exact,
    }
}

/// Whether an embed was written as `![[...]]` (rather than `![alt](...)`).
fn link_is_wiki(note: &Note, link: &Link) -> bool {
    note.slice(link.span)
        .trim_start_matches('!')
        .starts_with("[[")
}

/// What a fragment names inside `note`.
pub fn resolve_fragment(note: &Note, fragment: Option<&Fragment>) -> FragmentTarget {
    match fragment {
        None | Some(Fragment::Viewer(_)) => FragmentTarget::None,
        Some(Fragment::Heading(chain)) => fragments::find_heading(note, chain)
            .map_or(FragmentTarget::Missing, FragmentTarget::Heading),
        Some(Fragment::Block(id)) => {
            fragments::find_block(note, id).map_or(FragmentTarget::Missing, FragmentTarget::Block)
        }
    }
}

/// Rules 1-4 of §3: self, relative, exact path, path suffix with tie-breaks.
fn find_file(
    vault: &Vault,
    index: &NameIndex,
    src_id: NoteId,
    target: &str,
    clamp: bool,
) -> Option<(FileRef, Vec<FileRef>, bool)> {
    if target.is_empty() {
        // `[[#Heading]]`: the linking note itself.
        return Some((FileRef::Note(src_id), Vec::new(), true));
    }
    let src = vault.note(src_id);
    let path_of = |f: &FileRef| match *f {
        FileRef::Note(id) => vault.note(id).path.as_str(),
        FileRef::Attachment(id) => vault.attachment(id).path.as_str(),
    };
    // Case-exactness compares NFC text; ASCII targets (most) need no normalisation.
    let nfc = |wanted: &str| -> String {
        unicode_normalization::UnicodeNormalization::nfc(wanted).collect()
    };
    let is_case_exact = |f: &FileRef, wanted: &str| {
        let path = path_of(f);
        path.ends_with(wanted)
            || path
                .strip_suffix(".md")
                .is_some_and(|p| p.ends_with(wanted))
    };
    let case_exact = |f: &FileRef, wanted: &str| {
        if wanted.is_ascii() {
            is_case_exact(f, wanted)
        } else {
            is_case_exact(f, &nfc(wanted))
        }
    };
    // At most one file has a given name in most vaults: no Vec for the common case.
    let single = |found: [&[FileRef]; 2]| match found {
        [[one], []] | [[], [one]] => Some(*one),
        _ => None,
    };
    let pick_exact = |found: [&[FileRef]; 2], wanted: &str| {
        if let Some(one) = single(found) {
            return (one, Vec::new(), case_exact(&one, wanted));
        }
        let mut found = found.concat();
        let wanted = nfc(wanted);
        if found.len() > 1 {
            found.sort_by_cached_key(|f| (!is_case_exact(f, &wanted), path_of(f)));
        }
        let exact = is_case_exact(&found[0], &wanted);
        (found[0], Vec::new(), exact)
    };

    // Rule 2: relative to the linking note's folder; rule 3 then applies to the joined path.
    if target.starts_with("./") || target.starts_with("../") || target.starts_with('/') {
        let joined = if let Some(abs) = target.strip_prefix('/') {
            Some(abs.to_string())
        } else {
            join_relative(src.folder(), target, clamp)
        }?;
        let found = index.exact_parts(&fold_name(&joined));
        return (found != [&[], &[]]).then(|| pick_exact(found, &joined));
    }

    // Rule 3: an exact vault path wins, even over a sibling. Rule 4 (below) looks up the
    // path suffix only when there is none.
    let (exact, suffix) = with_folded(target, |folded| {
        let exact = index.exact_parts(folded);
        let suffix = (exact == [&[], &[]]).then(|| index.suffix_parts(folded));
        (exact, suffix)
    });
    let Some(found) = suffix else {
        return Some(pick_exact(exact, target));
    };
    // Rule 4: path suffix; one candidate wins, else same folder, else shortest, else lexicographic.
    if found == [&[], &[]] {
        return None;
    }
    if let Some(one) = single(found) {
        return Some((one, Vec::new(), case_exact(&one, target)));
    }
    let mut found = found.concat();
    let wanted = nfc(target);
    if found.len() > 1 {
        found.sort_by_cached_key(|f| {
            let p = path_of(f);
            (p.len(), !is_case_exact(f, &wanted), p)
        });
        found.dedup();
    }
    let folder = src.folder();
    let sibling = found.iter().position(|f| {
        let p = path_of(f);
        p.rsplit_once('/').map_or("", |(d, _)| d) == folder
    });
    if let Some(i) = sibling.filter(|&i| i > 0) {
        let winner = found.remove(i);
        found.insert(0, winner);
    }
    let winner = found[0];
    let exact = is_case_exact(&winner, &wanted);
    let ambiguous = if found.len() > 1 { found } else { Vec::new() };
    Some((winner, ambiguous, exact))
}

/// Joins `./x` or `../x` onto `folder`. Climbing above the vault root gives `None`, or with
/// `clamp` (URL semantics) stays at the root.
fn join_relative(folder: &str, target: &str, clamp: bool) -> Option<String> {
    let mut parts: Vec<&str> = folder.split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() && !clamp {
                    return None;
                }
            }
            p => parts.push(p),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests;
