//! Stage 3, resolve: every link to a note, attachment or missing ("wanted") target, by the
//! semantics file §3-4, exactly. Pure: reads the [`Vault`], returns a [`Resolution`].

pub mod fragments;
pub mod index;

use rayon::prelude::*;

pub use self::index::{FileRef, NameIndex};
use crate::source::{fold_name, with_folded, FastMap, FastSet, VaultPath};
use crate::vault::{AttachmentId, Fragment, Link, Note, NoteId, Vault};

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
    /// The candidates when the name was ambiguous, else none.
    pub ambiguous: Candidates,
    /// False when the target matched only case-insensitively.
    pub case_exact: bool,
}

/// Candidates an ambiguous link keeps, the winner first; the others are only counted. A name
/// shared by thousands of files (`index.md` in every folder) would otherwise give each of its
/// links a list, and a diagnostic, of thousands.
pub const CANDIDATES_KEPT: usize = 10;

/// The files an ambiguous name matched (semantics file §3, rule 4).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Candidates {
    /// The first [`CANDIDATES_KEPT`] in resolution order: the winner, then the others by path
    /// length, letter case and path. Empty when the name was not ambiguous.
    pub shown: Vec<FileRef>,
    /// How many files matched.
    pub matched: u32,
    /// Why the winner won.
    pub rule: TieBreak,
}

impl Candidates {
    /// Whether the name matched one file (or none).
    pub fn is_empty(&self) -> bool {
        self.shown.is_empty()
    }
}

/// Which rule picked the winner among several files with a link's name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TieBreak {
    /// It is the only one in the linking note's folder.
    SameFolder,
    /// Every other path is longer.
    Shortest,
    /// It comes first in path order (letter case decides first).
    #[default]
    PathOrder,
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

/// The names a resolution's index was built from, in id order: what [`resolve_again`]
/// compares the next vault with.
#[derive(Debug, Default)]
pub struct IndexedNames {
    /// Note paths.
    pub notes: Vec<VaultPath>,
    /// Each note's aliases.
    pub aliases: Vec<Vec<String>>,
    /// Attachment paths.
    pub attachments: Vec<VaultPath>,
}

impl IndexedNames {
    /// The names of `vault`.
    pub fn of(vault: &Vault) -> IndexedNames {
        IndexedNames {
            notes: vault.notes.iter().map(|n| n.path.clone()).collect(),
            aliases: vault
                .notes
                .iter()
                .map(|n| n.front_matter.aliases.clone())
                .collect(),
            attachments: vault.attachments.iter().map(|a| a.path.clone()).collect(),
        }
    }
}

/// Resolves the vault again after some notes changed, from the resolution of an earlier
/// vault whose index held `names`. The links of notes whose text changed (`!unchanged[i]`)
/// are resolved, and so are the links of other notes that go to a changed note (its headings
/// and blocks decide their fragments). When files came, went or were renamed, or aliases
/// changed, the index is built again and so are the links that could now go elsewhere: those
/// whose file name is one that came or went (every candidate a name lookup finds has the
/// looked-up name's last part, `.md` aside), relative ones, and with
/// [`ResolveOptions::resolve_aliases`] those named like a changed alias. Every other link keeps
/// its resolution, its note and attachment ids renumbered. The result equals [`resolve`]'s.
pub fn resolve_again(
    vault: &Vault,
    options: ResolveOptions,
    previous: Resolution,
    names: &IndexedNames,
    unchanged: &[bool],
) -> Resolution {
    let Resolution { links, index } = previous;
    let moves = NameMoves::between(names, vault, options);
    let index = match &moves {
        None => index,
        Some(moves) => moves.update(index, vault, names),
    };
    let changed = |id: NoteId| !unchanged.get(id.0 as usize).copied().unwrap_or(false);
    // Each kept list of links, at its note's new place.
    let links: Vec<Option<Vec<ResolvedLink>>> = match &moves {
        None => links.into_iter().map(Some).collect(),
        Some(moves) => {
            let mut placed: Vec<Option<Vec<ResolvedLink>>> =
                (0..vault.notes.len()).map(|_| None).collect();
            for (old, list) in links.into_iter().enumerate() {
                if let Some(new) = moves.notes.get(old as u32) {
                    placed[new as usize] = Some(list);
                }
            }
            placed
        }
    };
    let links = links
        .into_par_iter()
        .enumerate()
        .map(|(i, old)| {
            let src = NoteId(i as u32);
            let note = vault.note(src);
            let resolve_all = || {
                note.links
                    .iter()
                    .map(|link| resolve_link(vault, &index, src, link, options))
                    .collect()
            };
            let Some(old) = old else {
                return resolve_all();
            };
            if changed(src) || old.len() != note.links.len() {
                return resolve_all();
            }
            old.into_iter()
                .zip(&note.links)
                .map(|(resolved, link)| {
                    let kept = match &moves {
                        None => Some(resolved),
                        Some(moves) if moves.reaches(link) => None,
                        Some(moves) => moves.renumber(resolved),
                    };
                    match kept {
                        Some(kept)
                            if !matches!(kept.target, LinkTarget::Note { id, .. } if changed(id)) =>
                        {
                            kept
                        }
                        _ => resolve_link(vault, &index, src, link, options),
                    }
                })
                .collect()
        })
        .collect();
    Resolution { links, index }
}

/// How the names of a vault moved since an earlier resolution: new ids for the files still
/// there, and the names that came, went or changed.
struct NameMoves {
    /// Where the notes went.
    notes: Moved,
    /// Where the attachments went.
    attachments: Moved,
    /// Folded file names (without `.md`) of the files that came or went.
    leaves: FastSet<String>,
    /// Folded aliases that came or went, when links resolve through aliases.
    aliases: FastSet<String>,
}

/// Where the files of one kind went: each old index's new one, and the new files.
struct Moved {
    /// Old index -> new index (`None`: gone).
    to: Vec<Option<u32>>,
    /// New indices of the files that were not there.
    came: Vec<u32>,
}

impl Moved {
    /// From the old paths to the new ones; the names of the files that came or went join
    /// `leaves`.
    fn between(old: &[VaultPath], new: &[&VaultPath], leaves: &mut FastSet<String>) -> Moved {
        let ids: FastMap<&VaultPath, u32> = (new.iter().enumerate())
            .map(|(i, path)| (*path, i as u32))
            .collect();
        let mut stayed = vec![false; new.len()];
        let to = old
            .iter()
            .map(|path| {
                let new = ids.get(path).copied();
                match new {
                    Some(i) => stayed[i as usize] = true,
                    None => {
                        leaves.insert(file_leaf(path));
                    }
                }
                new
            })
            .collect();
        let came = (stayed.iter().enumerate())
            .filter(|(_, stayed)| !**stayed)
            .map(|(i, _)| {
                leaves.insert(file_leaf(new[i]));
                i as u32
            })
            .collect();
        Moved { to, came }
    }

    /// The new index of old index `old`; `None` when the file went.
    fn get(&self, old: u32) -> Option<u32> {
        self.to.get(old as usize).copied().flatten()
    }

    /// The old indices of the files that went.
    fn gone(&self) -> impl Iterator<Item = u32> + '_ {
        (self.to.iter().enumerate())
            .filter(|(_, new)| new.is_none())
            .map(|(old, _)| old as u32)
    }
}

impl NameMoves {
    /// `None` when `vault` has exactly the names the index was built from.
    fn between(names: &IndexedNames, vault: &Vault, options: ResolveOptions) -> Option<NameMoves> {
        let new_notes: Vec<&VaultPath> = vault.notes.iter().map(|n| &n.path).collect();
        let new_attachments: Vec<&VaultPath> = vault.attachments.iter().map(|a| &a.path).collect();
        // The index holds the aliases whether links resolve through them or not.
        let same = names.notes.iter().eq(new_notes.iter().copied())
            && names.attachments.iter().eq(new_attachments.iter().copied())
            && (vault.notes.iter())
                .zip(&names.aliases)
                .all(|(n, a)| n.front_matter.aliases == *a);
        if same {
            return None;
        }
        let mut leaves = FastSet::default();
        let notes = Moved::between(&names.notes, &new_notes, &mut leaves);
        let attachments = Moved::between(&names.attachments, &new_attachments, &mut leaves);
        let mut aliases = FastSet::default();
        if options.resolve_aliases {
            let of_new = |i: u32| vault.notes[i as usize].front_matter.aliases.as_slice();
            for (old, new) in notes.to.iter().enumerate() {
                let before = names.aliases.get(old).map_or(&[][..], Vec::as_slice);
                let after = new.map_or(&[][..], of_new);
                if before != after {
                    aliases.extend(before.iter().chain(after).map(|a| fold_name(a)));
                }
            }
            for &i in &notes.came {
                aliases.extend(of_new(i).iter().map(|a| fold_name(a)));
            }
        }
        Some(NameMoves {
            notes,
            attachments,
            leaves,
            aliases,
        })
    }

    /// The old index, updated to `vault`'s names ([`NameIndex::update`]).
    fn update(&self, index: NameIndex, vault: &Vault, names: &IndexedNames) -> NameIndex {
        let gone: Vec<(FileRef, &VaultPath)> = (self.notes.gone())
            .map(|old| (FileRef::Note(NoteId(old)), &names.notes[old as usize]))
            .chain(self.attachments.gone().map(|old| {
                let path = &names.attachments[old as usize];
                (FileRef::Attachment(AttachmentId(old)), path)
            }))
            .collect();
        let come: Vec<FileRef> = (self.notes.came.iter())
            .map(|&i| FileRef::Note(NoteId(i)))
            .chain((self.attachments.came.iter()).map(|&i| FileRef::Attachment(AttachmentId(i))))
            .collect();
        index.update(vault, &gone, &come, |file| {
            self.file(file)
                .expect("only files still there are left in the index")
        })
    }

    /// The new id of a file of the old vault; `None` when it is gone.
    fn file(&self, file: FileRef) -> Option<FileRef> {
        match file {
            FileRef::Note(id) => self.notes.get(id.0).map(|i| FileRef::Note(NoteId(i))),
            FileRef::Attachment(id) => {
                (self.attachments.get(id.0)).map(|i| FileRef::Attachment(AttachmentId(i)))
            }
        }
    }

    /// Whether `link` could now resolve otherwise: its lookup could meet a file that came
    /// or went, or an alias that changed.
    fn reaches(&self, link: &Link) -> bool {
        let target = link.target.as_str();
        // Relative targets are joined onto the note's folder first: resolved again.
        if target.starts_with("./") || target.starts_with("../") || target.starts_with('/') {
            return true;
        }
        with_folded(target, |folded| {
            let leaf = name_leaf(folded);
            leaf.is_empty() || self.leaves.contains(leaf) || self.aliases.contains(folded)
        })
    }

    /// `resolved` with its ids renumbered; `None` when a file it names is gone.
    fn renumber(&self, resolved: ResolvedLink) -> Option<ResolvedLink> {
        let target = match resolved.target {
            LinkTarget::Note { id, fragment } => LinkTarget::Note {
                id: NoteId(self.notes.get(id.0)?),
                fragment,
            },
            LinkTarget::Attachment(id) => {
                LinkTarget::Attachment(AttachmentId(self.attachments.get(id.0)?))
            }
            missing @ LinkTarget::Missing { .. } => missing,
        };
        let shown = resolved
            .ambiguous
            .shown
            .into_iter()
            .map(|f| self.file(f))
            .collect::<Option<Vec<FileRef>>>()?;
        Some(ResolvedLink {
            target,
            ambiguous: Candidates {
                shown,
                ..resolved.ambiguous
            },
            case_exact: resolved.case_exact,
        })
    }
}

/// The last part of a folded name, without one `.md`: what a name lookup and the files it
/// can find agree on.
fn name_leaf(folded: &str) -> &str {
    let name = folded.rsplit('/').next().unwrap_or(folded);
    name.strip_suffix(".md").unwrap_or(name)
}

/// [`name_leaf`] of a file's folded path.
fn file_leaf(path: &VaultPath) -> String {
    name_leaf(&fold_name(path.as_str())).to_string()
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
    let from = (Some(src), &note.path);
    let (file, ambiguous, case_exact) = match find_file(vault, index, from, &link.target, clamp) {
        Some(found) => found,
        None => {
            let alias_hit = options
                .resolve_aliases
                .then(|| with_folded(&link.target, |f| index.alias(f).first().copied()))
                .flatten();
            match alias_hit {
                Some(id) => (FileRef::Note(id), Candidates::default(), true),
                None => {
                    return ResolvedLink {
                        target: LinkTarget::Missing {
                            key: fold_name(link.target.trim_end_matches(".md")),
                        },
                        ambiguous: Candidates::default(),
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

/// Whether a link was written as a wikilink, `[[...]]` or `![[...]]` (rather than
/// `[text](...)` or `![alt](...)`).
pub(crate) fn link_is_wiki(note: &Note, link: &Link) -> bool {
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
/// Whether `note` (whose resolved links are `links`) embeds an attachment `wanted` accepts:
/// a base or a canvas its page shows.
pub fn embeds_attachment(
    note: &Note,
    links: &[ResolvedLink],
    wanted: impl Fn(AttachmentId) -> bool,
) -> bool {
    note.links.iter().zip(links).any(|(l, r)| {
        l.kind == crate::vault::LinkKind::Embed
            && matches!(r.target, LinkTarget::Attachment(a) if wanted(a))
    })
}

/// Where a link is written: the note (none for a link in a canvas card) and the file's path,
/// whose folder relative paths and ties between names start from.
type LinkFrom<'a> = (Option<NoteId>, &'a VaultPath);

/// The target of a wikilink `target` (without `#fragment`) written in the file at `path`
/// that is not a note (a canvas card), resolved as a note in its folder would resolve it.
pub fn resolve_from_file(
    vault: &Vault,
    index: &NameIndex,
    path: &VaultPath,
    target: &str,
    fragment: Option<&Fragment>,
    options: ResolveOptions,
) -> LinkTarget {
    let found = find_file(vault, index, (None, path), target, false).map(|(f, ..)| f);
    let found = found.or_else(|| {
        options
            .resolve_aliases
            .then(|| with_folded(target, |f| index.alias(f).first().copied()))
            .flatten()
            .map(FileRef::Note)
    });
    match found {
        Some(FileRef::Attachment(id)) => LinkTarget::Attachment(id),
        Some(FileRef::Note(id)) => LinkTarget::Note {
            id,
            fragment: resolve_fragment(vault.note(id), fragment),
        },
        None => LinkTarget::Missing {
            key: fold_name(target.trim_end_matches(".md")),
        },
    }
}

fn find_file(
    vault: &Vault,
    index: &NameIndex,
    (src_id, src_path): LinkFrom<'_>,
    target: &str,
    clamp: bool,
) -> Option<(FileRef, Candidates, bool)> {
    if target.is_empty() {
        // `[[#Heading]]`: the linking note itself.
        return src_id.map(|id| (FileRef::Note(id), Candidates::default(), true));
    }
    let path_of = |f: &FileRef| file_path(vault, *f);
    // Case-exactness compares NFC text; ASCII targets (most) need no normalisation.
    let nfc = |wanted: &str| -> String {
        unicode_normalization::UnicodeNormalization::nfc(wanted).collect()
    };
    let is_case_exact = |f: &FileRef, wanted: &str| spelled_as(path_of(f), wanted);
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
            return (one, Candidates::default(), case_exact(&one, wanted));
        }
        let mut found = found.concat();
        let wanted = nfc(wanted);
        if found.len() > 1 {
            // A note before a file without extension at the same path (`c.md` and `c`):
            // a link without an extension names a note.
            found.sort_by_cached_key(|f| {
                (
                    matches!(f, FileRef::Attachment(_)),
                    !is_case_exact(f, &wanted),
                    path_of(f),
                )
            });
        }
        let exact = is_case_exact(&found[0], &wanted);
        (found[0], Candidates::default(), exact)
    };

    // Rule 2: relative to the linking note's folder; rule 3 then applies to the joined path.
    if target.starts_with("./") || target.starts_with("../") || target.starts_with('/') {
        let joined = if let Some(abs) = target.strip_prefix('/') {
            Some(abs.to_string())
        } else {
            join_relative(src_path.folder(), target, clamp)
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
        return Some((one, Candidates::default(), case_exact(&one, target)));
    }
    let wanted = nfc(target);
    let matched = found[0].len() + found[1].len();
    let (winner, ambiguous) = if matched > SHARED_NAME_MIN {
        let key = format!("{}\0{wanted}", fold_name(target));
        index
            .shared(&key, || SharedName::new(vault, found, &wanted))
            .rank(vault, src_path.folder())
    } else {
        rank(vault, found, &wanted, src_path.folder())
    };
    let exact = is_case_exact(&winner, &wanted);
    Some((winner, ambiguous, exact))
}

/// How many files a name must match before its candidates are sorted once and kept
/// ([`SharedName`]) rather than ranked again for each link.
const SHARED_NAME_MIN: usize = 32;

/// The vault path of a file a link can reach.
fn file_path(vault: &Vault, file: FileRef) -> &str {
    match file {
        FileRef::Note(id) => vault.note(id).path.as_str(),
        FileRef::Attachment(id) => vault.attachment(id).path.as_str(),
    }
}

/// Whether `path` ends with `wanted` (NFC) as written, with or without `.md`.
fn spelled_as(path: &str, wanted: &str) -> bool {
    path.ends_with(wanted)
        || path
            .strip_suffix(".md")
            .is_some_and(|p| p.ends_with(wanted))
}

/// The folder of a vault path (`""` at the root).
fn folder_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// A file's place in rule 4's order: path length, then letter case (the spelling `wanted`
/// first), then path.
fn order_key<'v>(vault: &'v Vault, file: FileRef, wanted: &str) -> (usize, bool, &'v str) {
    let p = file_path(vault, file);
    (p.len(), !spelled_as(p, wanted), p)
}

/// The winner and candidates among the `first` files in rule 4's order (at least the first
/// [`CANDIDATES_KEPT`] + 1 of them) for a link whose folder holds `siblings` of the files,
/// the first in order being `sibling`; `min_other_len` is the shortest path length of a file
/// other than the winner.
fn candidates(
    vault: &Vault,
    first: impl Iterator<Item = FileRef>,
    sibling: Option<FileRef>,
    siblings: usize,
    matched: usize,
    min_other_len: impl FnOnce(FileRef) -> Option<usize>,
) -> (FileRef, Candidates) {
    let mut shown: Vec<FileRef> = first.collect();
    if let Some(sibling) = sibling {
        shown.retain(|f| *f != sibling);
        shown.insert(0, sibling);
    }
    shown.truncate(CANDIDATES_KEPT);
    let winner = shown[0];
    let winner_len = file_path(vault, winner).len();
    let rule = if siblings == 1 && sibling == Some(winner) {
        TieBreak::SameFolder
    } else if min_other_len(winner).is_none_or(|len| len > winner_len) {
        TieBreak::Shortest
    } else {
        TieBreak::PathOrder
    };
    let ambiguous = Candidates {
        shown,
        matched: matched as u32,
        rule,
    };
    (winner, ambiguous)
}

/// Rule 4's tie-breaks among the files `found` (two or more) for a link in `folder`: the one
/// file in the same folder, else the shortest path, else the first in path order.
fn rank(
    vault: &Vault,
    found: [&[FileRef]; 2],
    wanted: &str,
    folder: &str,
) -> (FileRef, Candidates) {
    // Each file's key made once.
    let mut found: Vec<((usize, bool, &str), FileRef)> = found
        .concat()
        .into_iter()
        .map(|f| (order_key(vault, f, wanted), f))
        .collect();
    let in_folder = |(_, _, p): &(usize, bool, &str)| folder_of(p) == folder;
    let matched = found.len();
    // Only the first few are kept in order: a selection, then a sort of those.
    if matched > CANDIDATES_KEPT {
        found.select_nth_unstable_by(CANDIDATES_KEPT, |a, b| a.0.cmp(&b.0));
    }
    let siblings = found.iter().filter(|(k, _)| in_folder(k)).count();
    let sibling = found
        .iter()
        .filter(|(k, _)| in_folder(k))
        .min_by(|a, b| a.0.cmp(&b.0))
        .map(|&(_, f)| f);
    let mut first = found[..matched.min(CANDIDATES_KEPT + 1)].to_vec();
    first.sort_by(|a, b| a.0.cmp(&b.0));
    let min_other_len = |winner: FileRef| {
        found
            .iter()
            .filter(|(_, f)| *f != winner)
            .map(|((len, _, _), _)| *len)
            .min()
    };
    candidates(
        vault,
        first.into_iter().map(|(_, f)| f),
        sibling,
        siblings,
        matched,
        min_other_len,
    )
}

/// Every file a name shared by many files matched, sorted once in rule 4's order for one
/// spelling, with each folder's first: the links of that name (thousands of `[[index]]` in
/// a vault of folder notes) each take their winner and candidates from it in constant time,
/// where ranking the files again for each link made resolving O(links x files).
#[derive(Debug)]
pub struct SharedName {
    /// The files in rule 4's order, with their path lengths.
    sorted: Vec<(FileRef, usize)>,
    /// Each folder holding some of them: the index in `sorted` of its first, and how many.
    folders: FastMap<Box<str>, (usize, usize)>,
}

impl SharedName {
    /// The files `found` (a name's matches) in order for the spelling `wanted` (NFC).
    fn new(vault: &Vault, found: [&[FileRef]; 2], wanted: &str) -> SharedName {
        let mut keyed: Vec<((usize, bool, &str), FileRef)> = found
            .concat()
            .into_iter()
            .map(|f| (order_key(vault, f, wanted), f))
            .collect();
        keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut folders: FastMap<Box<str>, (usize, usize)> = FastMap::default();
        for (i, ((_, _, p), _)) in keyed.iter().enumerate() {
            folders
                .entry(folder_of(p).into())
                .and_modify(|(_, n)| *n += 1)
                .or_insert((i, 1));
        }
        let sorted = keyed.into_iter().map(|((len, _, _), f)| (f, len)).collect();
        SharedName { sorted, folders }
    }

    /// What [`rank`] gives for a link in `folder`.
    fn rank(&self, vault: &Vault, folder: &str) -> (FileRef, Candidates) {
        let (sibling, siblings) = self
            .folders
            .get(folder)
            .map_or((None, 0), |&(i, n)| (Some(self.sorted[i].0), n));
        // Sorted by length first: the first file that is not the winner is the shortest.
        let min_other_len = |winner: FileRef| {
            self.sorted
                .iter()
                .find(|(f, _)| *f != winner)
                .map(|&(_, len)| len)
        };
        candidates(
            vault,
            self.sorted[..self.sorted.len().min(CANDIDATES_KEPT + 1)]
                .iter()
                .map(|&(f, _)| f),
            sibling,
            siblings,
            self.sorted.len(),
            min_other_len,
        )
    }
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
