//! Stage 5, diagnose: turn the resolution and the graph into diagnostics (broken links and
//! fragments, ambiguity, embed cycles), with "did you mean" suggestions.

use std::collections::HashMap;
use std::fmt::Write as _;

use rayon::prelude::*;

use crate::config::Config;
use crate::diag::{Code, Diagnostic, Fix, Level};
use crate::graph::ConceptGraph;
use crate::resolve::{FileRef, FragmentTarget, LinkTarget, Resolution, TieBreak};
use crate::source::Span;
use crate::source::{fold_name, FastMap, FastSet};
use crate::vault::{AttachmentId, Fragment, Link, LinkKind, Note, NoteId, Vault};

/// All link-level diagnostics of a compiled vault, and the "did you mean" suggestions they
/// were made with. Codes `config` allows everywhere are not computed at all (no note can
/// re-enable them).
pub fn link_diagnostics(
    vault: &Vault,
    resolution: &Resolution,
    graph: &ConceptGraph,
    config: &Config,
) -> (Vec<Diagnostic>, Suggestions) {
    let suggestions = Suggestions::new(vault, resolution);
    let mut out: Vec<Diagnostic> = vault
        .notes
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, _)| {
            note_link_diagnostics(vault, resolution, &suggestions, config, NoteId(i as u32))
        })
        .collect();
    out.extend(embed_cycles(vault, resolution));
    if config.level(Code::OrphanNote) != Level::Allow {
        out.extend(graph.orphans().into_iter().map(|id| orphan(vault, id)));
    }
    (out, suggestions)
}

/// The diagnostics of the links of one note (broken links and fragments, alias links,
/// ambiguity, letter case): what [`link_diagnostics`] says about them, given its suggestions.
pub fn note_link_diagnostics(
    vault: &Vault,
    resolution: &Resolution,
    suggestions: &Suggestions,
    config: &Config,
    id: NoteId,
) -> Vec<Diagnostic> {
    let case = config.level(Code::CaseMismatch) != Level::Allow;
    let note = vault.note(id);
    let mut out = Vec::new();
    for (j, link) in note.links.iter().enumerate() {
        out.extend(check_link(
            vault,
            resolution,
            suggestions,
            id,
            note,
            link,
            j,
        ));
        if case {
            out.extend(case_mismatch(vault, resolution, id, note, link, j));
        }
    }
    out
}

/// Whether a code is one [`note_link_diagnostics`] reports.
pub fn is_note_link_code(code: Code) -> bool {
    matches!(
        code,
        Code::BrokenLink
            | Code::MissingAttachment
            | Code::AliasLink
            | Code::BrokenFragment
            | Code::AmbiguousLink
            | Code::CaseMismatch
    )
}

/// The `orphan-note` diagnostic of note `id` (whether it is one is the graph's to say).
pub fn orphan(vault: &Vault, id: NoteId) -> Diagnostic {
    let note = vault.note(id);
    Diagnostic::new(
        Code::OrphanNote,
        note.path.clone(),
        Span::default(),
        "no other note links here",
    )
    .with_help("link it from a related note or an index note, or allow `orphan-note` for it")
}

/// The `unused-attachment` diagnostics: every attachment that no note links to, embeds or
/// names in a property and that none of `canvases` shows (see
/// [`crate::canvas::Canvases::attachments_shown`], whose text cards' links `index` resolves).
/// The vault's documents and site files are not attachments in this sense: its canvases and
/// bases (opened themselves, as notes are) and its root `publish.css`.
pub fn unused_attachments(
    vault: &Vault,
    graph: &ConceptGraph,
    canvases: &crate::canvas::Canvases,
    index: &crate::resolve::NameIndex,
    options: crate::resolve::ResolveOptions,
) -> Vec<Diagnostic> {
    let mut used = vec![false; vault.attachments.len()];
    for a in canvases.attachments_shown(vault, index, options) {
        used[a.0 as usize] = true;
    }
    vault
        .attachments
        .iter()
        .enumerate()
        .filter(|(i, a)| {
            let id = AttachmentId(*i as u32);
            !used[*i]
                && graph.incoming(graph.attachment_node(id)).is_empty()
                && !matches!(a.path.extension().as_str(), "canvas" | "base")
                && a.path.as_str() != "publish.css"
        })
        .map(|(_, a)| {
            Diagnostic::new(
                Code::UnusedAttachment,
                a.path.clone(),
                Span::default(),
                "no note links to or embeds this file, and no canvas shows it",
            )
            .with_help("link or embed it where it belongs, or delete it if nothing needs it")
        })
        .collect()
}

/// A link that reaches its target only when letter case is ignored; the fix writes the
/// target's real case.
fn case_mismatch(
    vault: &Vault,
    resolution: &Resolution,
    id: NoteId,
    note: &Note,
    link: &Link,
    index: usize,
) -> Option<Diagnostic> {
    let resolved = resolution.get(id, index);
    if resolved.case_exact {
        return None;
    }
    let real = match &resolved.target {
        LinkTarget::Note { id, .. } => vault.note(*id).path.as_str(),
        LinkTarget::Attachment(a) => vault.attachment(*a).path.as_str(),
        LinkTarget::Missing { .. } => return None,
    };
    let written = link.target.trim_start_matches("./");
    let parts = written
        .split('/')
        .filter(|p| !p.is_empty() && *p != "..")
        .count()
        .max(1);
    let tail: Vec<&str> = real.rsplit('/').take(parts).collect();
    let mut correct = tail.into_iter().rev().collect::<Vec<_>>().join("/");
    if !written.to_lowercase().ends_with(".md") {
        if let Some(stripped) = correct.strip_suffix(".md") {
            correct = stripped.to_string();
        }
    }
    let prefix_len = written.len() - written.trim_start_matches(['.', '/']).len();
    let correct = format!(
        "{}{}",
        &written[..prefix_len.min(written.len())],
        correct.trim_start_matches(['.', '/'])
    );
    let mut d = Diagnostic::new(
        Code::CaseMismatch,
        note.path.clone(),
        link.span,
        format!(
            "\"{}\" matches \"{real}\" only when letter case is ignored",
            link.target
        ),
    )
    .with_target(link.target.clone())
    .with_help(format!("write \"{correct}\""));
    // Machine fix for wikilinks: replace the target text inside the brackets.
    let raw = note.slice(link.span);
    if raw.trim_start_matches('!').starts_with("[[") {
        if let Some(at) = raw.find(link.target.as_str()) {
            let start = link.span.start + at as u32;
            d.fix = Some(Fix {
                span: Span {
                    start,
                    end: start + link.target.len() as u32,
                },
                replacement: correct,
            });
        }
    }
    Some(d)
}

fn check_link(
    vault: &Vault,
    resolution: &Resolution,
    suggester: &Suggestions,
    id: NoteId,
    note: &Note,
    link: &Link,
    index: usize,
) -> Vec<Diagnostic> {
    let resolved = resolution.get(id, index);
    match &resolved.target {
        LinkTarget::Missing { .. } => {
            let aliased = resolution.index.alias(&fold_name(&link.target));
            if let Some(&alias_of) = aliased.first() {
                let name = vault.note(alias_of).path.stem();
                let mut d = Diagnostic::new(
                    Code::AliasLink,
                    note.path.clone(),
                    link.span,
                    format!(
                        "\"{}\" is an alias of \"{name}\", and Obsidian does not resolve links through aliases",
                        link.target
                    ),
                )
                .with_target(link.target.clone())
                .with_help(format!("link the note and show the alias: [[{name}|{}]]", link.target));
                if crate::resolve::link_is_wiki(note, link) {
                    let bang = if link.kind == LinkKind::Embed {
                        "!"
                    } else {
                        ""
                    };
                    let fragment = link
                        .fragment
                        .as_ref()
                        .map(|f| format!("#{}", f.as_written()))
                        .unwrap_or_default();
                    let label = link.label.clone().unwrap_or_else(|| link.target.clone());
                    d.fix = Some(Fix {
                        span: link.span,
                        replacement: format!("{bang}[[{name}{fragment}|{label}]]"),
                    });
                }
                return vec![d];
            }
            let ext = link
                .target
                .rsplit_once('.')
                .map(|(_, e)| e.to_lowercase())
                .unwrap_or_default();
            let attachment = crate::parse::links::ATTACHMENT_EXTENSIONS.contains(&ext.as_str());
            let (code, what) = if attachment {
                (Code::MissingAttachment, "file")
            } else {
                (Code::BrokenLink, "note")
            };
            let mut d = Diagnostic::new(
                code,
                note.path.clone(),
                link.span,
                format!("no {what} named \"{}\"", link.target),
            )
            .with_target(link.target.clone());
            if let Some(help) = name_cut_by_link_syntax(vault, resolution, note, link) {
                d.help = Some(help);
            } else if let Some(best) = suggester.suggest(&link.target) {
                d.help = Some(format!("did you mean \"{best}\"?"));
            } else if link.target.contains("://") {
                d.help = Some(
                    "a URL in [[...]] is a note name; write [text](url) for a web link".to_string(),
                );
            }
            vec![d]
        }
        LinkTarget::Note {
            id: target,
            fragment: FragmentTarget::Missing,
        } => {
            let target_note = vault.note(*target);
            let wiki = crate::resolve::link_is_wiki(note, link);
            let (what, help) = match &link.fragment {
                Some(Fragment::Block(b)) => (
                    format!("no block \"^{b}\" in \"{}\"", target_note.path.stem()),
                    closest_block(target_note, b),
                ),
                Some(Fragment::Heading(chain)) => (
                    format!(
                        "no heading \"{}\" in \"{}\"",
                        chain.join("#"),
                        target_note.path.stem()
                    ),
                    closest_heading(target_note, chain.last().map_or("", String::as_str), wiki),
                ),
                _ => return Vec::new(),
            };
            let mut d = Diagnostic::new(Code::BrokenFragment, note.path.clone(), link.span, what)
                .with_target(link.target.clone());
            d.help = help;
            if let Some(Fragment::Heading(chain)) = &link.fragment {
                if let [wanted] = chain.as_slice() {
                    if let Some((help, fix)) =
                        github_anchor_fix(note, link, target_note, wanted, wiki)
                    {
                        d.help = Some(help);
                        d.fix = fix;
                    }
                }
            }
            vec![d]
        }
        _ if !resolved.ambiguous.is_empty() => {
            let path_of = |f: &FileRef| match *f {
                FileRef::Note(n) => vault.note(n).path.to_string(),
                FileRef::Attachment(a) => vault.attachment(a).path.to_string(),
            };
            let candidates = &resolved.ambiguous;
            let names: Vec<String> = candidates.shown.iter().map(path_of).collect();
            let winner = &names[0];
            let rule = match candidates.rule {
                TieBreak::SameFolder => "it is in the same folder",
                TieBreak::Shortest => "it has the shortest path",
                TieBreak::PathOrder => "it comes first in path order",
            };
            let more = candidates.matched as usize - names.len();
            let listed = if more == 0 {
                names.join(", ")
            } else {
                format!("{} and {more} more", names.join(", "))
            };
            let mut d = Diagnostic::new(
                Code::AmbiguousLink,
                note.path.clone(),
                link.span,
                format!(
                    "\"{}\" matches {} files ({listed}); it resolves to {winner} because {rule}",
                    link.target, candidates.matched,
                ),
            )
            .with_target(link.target.clone())
            .with_help(format!(
                "write the path to be explicit, e.g. [[{}]]",
                winner.trim_end_matches(".md")
            ));
            d.related = names;
            vec![d]
        }
        _ => Vec::new(),
    }
}

/// The help for a broken wikilink that names a file with `#` or `|` in its name, which the
/// link syntax cut short: `[[C# basics]]` asks for the heading " basics" of a note "C", and
/// `[[a|b]]` for "a" labelled "b", though `C# basics.md` or `a|b.md` exists. Obsidian refuses
/// those characters in names, but notes written in other editors have them ("C#", "Issue #12"),
/// and no wikilink can reach them: the help names the file, says why, and gives the markdown
/// link that does reach it (its path percent-encoded, as Obsidian decodes it).
fn name_cut_by_link_syntax(
    vault: &Vault,
    resolution: &Resolution,
    note: &Note,
    link: &Link,
) -> Option<String> {
    let written = note.slice(link.span);
    let start = written.find("[[")? + 2;
    let inner = written[start..].strip_suffix("]]")?;
    if !inner.contains(['#', '|']) {
        return None;
    }
    // The longest text before a later `#` or `|` (or all of it) that names a file: the text
    // before the first one is the target that was not found.
    let mut cuts: Vec<usize> = inner
        .match_indices(['#', '|'])
        .map(|(i, _)| i)
        .skip(1)
        .chain([inner.len()])
        .collect();
    cuts.reverse();
    let options = crate::resolve::ResolveOptions::default();
    for cut in cuts {
        // `\|` is a pipe escaped in a table cell.
        let name = inner[..cut].trim().trim_end_matches('\\');
        let name = &*name.replace("\\|", "|");
        let found = crate::resolve::resolve_from_file(
            vault,
            &resolution.index,
            &note.path,
            name,
            None,
            options,
        );
        let path = match found {
            LinkTarget::Note { id, .. } => vault.note(id).path.as_str(),
            LinkTarget::Attachment(id) => vault.attachment(id).path.as_str(),
            LinkTarget::Missing { .. } => continue,
        };
        let (mark, role) = if name.contains('#') {
            ("#", "starts a heading")
        } else {
            ("|", "starts the label")
        };
        // What follows the name: a fragment to keep, then the label to show.
        let (fragment, label) = inner[cut..].split_once('|').unwrap_or((&inner[cut..], ""));
        let fragment = fragment.trim().trim_end_matches('\\');
        let label = label.trim();
        let shown = if label.is_empty() {
            name.rsplit('/').next().unwrap_or(name)
        } else {
            label
        };
        let mut url = crate::site::encode_path(path).replace('|', "%7C");
        if fragment.starts_with('#') {
            url.push_str(&fragment.replace(' ', "%20"));
        }
        if url.contains(['(', ')']) {
            url = format!("<{url}>");
        }
        let bang = if link.kind == LinkKind::Embed {
            "!"
        } else {
            ""
        };
        return Some(format!(
            "\"{path}\" has \"{mark}\" in its name, and \"{mark}\" in a wikilink {role}, so no \
             wikilink reaches it (Obsidian does not allow it in names): rename the file, or link \
             it as {bang}[{shown}]({url})"
        ));
    }
    None
}

/// A heading anchor as GitHub and VS Code write it (`#some-heading` for "Some Heading"): the
/// text lower-cased, spaces turned into `-`, punctuation other than `-` and `_` dropped.
fn github_anchor(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

/// The GitHub anchor of each heading of `note`, in order: a repeated one gets `-1`, `-2`, ...
/// (the first number not taken), as GitHub's slugger numbers them.
fn github_anchors(note: &Note) -> Vec<String> {
    let mut taken: HashMap<String, usize> = HashMap::new();
    let mut anchors = Vec::with_capacity(note.headings.len());
    for h in &note.headings {
        let base = github_anchor(&h.text);
        let mut anchor = base.clone();
        while taken.contains_key(&anchor) {
            let n = taken.entry(base.clone()).or_default();
            *n += 1;
            anchor = format!("{base}-{n}");
        }
        taken.insert(anchor.clone(), 0);
        anchors.push(anchor);
    }
    anchors
}

/// How a link writes `heading` after its `#`: the characters a fragment cannot hold (Obsidian
/// matches them as spaces) as spaces, and, in a markdown link's destination (not `wiki`),
/// percent-encoded.
pub(crate) fn fragment_as_written(heading: &str, wiki: bool) -> String {
    let text: String = heading
        .chars()
        .map(|c| if "#|^:%[]\\".contains(c) { ' ' } else { c })
        .collect();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if wiki {
        return text;
    }
    const FRAGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'%')
        .add(b'<')
        .add(b'>')
        .add(b'(')
        .add(b')')
        .add(b'`');
    percent_encoding::utf8_percent_encode(&text, FRAGMENT).to_string()
}

/// The help, and the fix when it can be made, for a link into `target` whose heading is written
/// as an anchor slug (`[x](other.md#some-heading)`, as in notes written for GitHub or VS Code)
/// that names exactly one heading of `target`. Obsidian finds headings by their text only, so
/// the fix writes the text (percent-encoded in a markdown link's destination).
fn github_anchor_fix(
    note: &Note,
    link: &Link,
    target: &Note,
    wanted: &str,
    wiki: bool,
) -> Option<(String, Option<Fix>)> {
    if wanted.is_empty() || wanted.contains(char::is_whitespace) {
        return None;
    }
    let anchor = wanted.to_lowercase();
    let anchors = github_anchors(target);
    let mut found = target
        .headings
        .iter()
        .zip(&anchors)
        .filter(|(h, a)| **a == anchor || crate::slug::slugify(&h.text) == anchor)
        .map(|(h, _)| h);
    let heading = found.next()?;
    if found.next().is_some() {
        return None;
    }
    let written = fragment_as_written(&heading.text, wiki);
    let help = format!(
        "\"#{wanted}\" is an anchor as GitHub writes it, and Obsidian finds a heading by its \
         text: write \"#{written}\""
    );
    // The fragment as written, once in the link, followed by where it ends.
    let source = note.slice(link.span);
    let pattern = format!("#{wanted}");
    let mut at = source.match_indices(&pattern).filter(|(i, _)| {
        source[i + pattern.len()..]
            .chars()
            .next()
            .is_none_or(|c| matches!(c, '|' | ']' | ')' | '>' | '"' | '\'') || c.is_whitespace())
    });
    let fix = match (at.next(), at.next()) {
        (Some((i, _)), None) => Some(Fix {
            span: link.span,
            replacement: format!("{}#{written}{}", &source[..i], &source[i + pattern.len()..]),
        }),
        _ => None,
    };
    Some((help, fix))
}

/// "did you mean" the heading of `note` closest to `wanted` (as a markdown link's destination
/// writes it unless `wiki`), else a few of its headings.
fn closest_heading(note: &Note, wanted: &str, wiki: bool) -> Option<String> {
    let best = if one_by_one(wanted, note.headings.iter().map(|h| h.text.as_str())) {
        crate::diag::closest(wanted, note.headings.iter().map(|h| h.text.as_str()))
    } else {
        let near = &note.near().headings;
        near.closest(wanted, |i| note.headings[i].text.as_str())
    };
    best.map(|h| format!("did you mean \"#{}\"?", fragment_as_written(h, wiki)))
        .or_else(|| {
            (!note.headings.is_empty()).then(|| {
                let list: Vec<&str> = note
                    .headings
                    .iter()
                    .take(6)
                    .map(|h| h.text.as_str())
                    .collect();
                format!("headings there: {}", list.join(", "))
            })
        })
}

fn closest_block(note: &Note, wanted: &str) -> Option<String> {
    let best = if one_by_one(wanted, note.blocks.iter().map(|b| b.id.as_str())) {
        crate::diag::closest(wanted, note.blocks.iter().map(|b| b.id.as_str()))
    } else {
        let near = &note.near().blocks;
        near.closest(wanted, |i| note.blocks[i].id.as_str())
    };
    best.map(|b| format!("did you mean \"#^{b}\"?"))
}

/// A note with at most this many headings (or block ids) has each compared with a missing
/// fragment (within [`COMPARISON_BUDGET`]); one with more looks them up in its [`NearIndex`].
const COMPARED_ONE_BY_ONE: usize = 256;

/// The most character pairs (bytes of the fragment times bytes of the texts) a missing
/// fragment is compared over one by one, about a millisecond's work: 256 headings of 30
/// letters take a thirtieth of it, 256 of 256 bytes and a fragment as long go to the index.
const COMPARISON_BUDGET: usize = 1 << 20;

/// Whether a missing fragment `wanted` is compared with each of `texts` (a note's headings or
/// block ids), or looked up in the note's [`NearIndex`].
fn one_by_one<'a>(wanted: &str, texts: impl ExactSizeIterator<Item = &'a str>) -> bool {
    texts.len() <= COMPARED_ONE_BY_ONE
        && wanted
            .len()
            .saturating_mul(texts.map(str::len).sum::<usize>())
            <= COMPARISON_BUDGET
}

/// The headings and block ids of a note, by the hashes of their folded texts and one-character
/// deletions (`deletion_hashes`): a missing fragment is compared only with the few within
/// about two edits of it, as a missing note is with names ([`Suggestions`]), instead of with
/// every heading of the note (8,000 broken fragment links into a note of 8,000 headings took
/// 17 s). Made on the first suggestion for a note with more than `COMPARED_ONE_BY_ONE`, or
/// with more text than `COMPARISON_BUDGET` allows comparing ([`Note::near`]).
#[derive(Debug)]
pub struct NearIndex {
    headings: NearTexts,
    blocks: NearTexts,
}

impl NearIndex {
    /// The index of `note`'s headings and block ids.
    pub fn new(note: &Note) -> NearIndex {
        NearIndex {
            headings: NearTexts::new(note.headings.iter().map(|h| h.text.as_str())),
            blocks: NearTexts::new(note.blocks.iter().map(|b| b.id.as_str())),
        }
    }
}

/// Texts by the hashes of their near spellings (see [`NearIndex`]).
#[derive(Debug)]
struct NearTexts {
    /// `(hash, position of the text)`, sorted.
    entries: Vec<(u64, u32)>,
    /// The hashes of `entries`, to skip the search for almost every hash of a missing
    /// fragment, which none of them shares (the search misses the cache at every step once the
    /// entries outgrow it).
    filter: HashFilter,
    /// Each text folded; `None` when it is too long to suggest.
    folded: Vec<Option<String>>,
}

impl NearTexts {
    fn new<'a>(texts: impl Iterator<Item = &'a str>) -> NearTexts {
        let folded: Vec<Option<String>> = texts
            .map(|t| (t.len() <= crate::diag::SUGGEST_MAX_BYTES).then(|| fold_name(t)))
            .collect();
        let mut entries: Vec<(u64, u32)> = folded
            .iter()
            .enumerate()
            .filter_map(|(i, f)| Some((i, f.as_deref()?)))
            .flat_map(|(i, f)| deletion_hashes(f).into_iter().map(move |h| (h, i as u32)))
            .collect();
        entries.sort_unstable();
        entries.dedup();
        let filter = HashFilter::of(entries.iter().map(|&(h, _)| h), entries.len());
        NearTexts {
            entries,
            filter,
            folded,
        }
    }

    /// The best suggestion for `wanted` among the texts sharing a hash with it, chosen as
    /// [`crate::diag::closest`] chooses; `shown(i)` is the text at position `i` as shown.
    fn closest<'a>(&self, wanted: &str, shown: impl Fn(usize) -> &'a str) -> Option<&'a str> {
        let wanted = crate::diag::Wanted::new(wanted)?;
        let mut near: Vec<u32> = deletion_hashes(wanted.folded())
            .into_iter()
            .filter(|&h| self.filter.may_hold(h))
            .flat_map(|h| with_hash(&self.entries, h).take(NAMES_PER_HASH))
            .collect();
        near.sort_unstable();
        near.dedup();
        let mut best = None;
        for i in near {
            if let Some(folded) = &self.folded[i as usize] {
                wanted.keep_closer(&mut best, folded, shown(i as usize));
            }
        }
        best.map(|(_, s)| s)
    }
}

/// "Did you mean" over note names and attachment names, SymSpell-style: a name is a candidate
/// for a missing target when one of the hashes of the name and its one-character deletions
/// equals one of the target's, which finds every name within two edits whatever the size of
/// the vault. Only those few candidates are compared by edit distance.
///
/// The index is built over the missing targets (a few per broken link), not over every name:
/// each name's deletions are hashed once, in parallel, and looked up in it. That finds the same
/// candidate pairs as indexing the names would (the relation is symmetric) while keeping no
/// array of every name's deletions (over 200k entries at 10k notes).
#[derive(Debug, Default)]
pub struct Suggestions {
    /// Suggestion per distinct missing target (folded), computed once, in parallel.
    cache: FastMap<String, Option<String>>,
}

/// The values of the entries of `sorted` (sorted by hash) with hash `h`, in order.
fn with_hash(sorted: &[(u64, u32)], h: u64) -> impl Iterator<Item = u32> + '_ {
    let from = sorted.partition_point(|&(d, _)| d < h);
    sorted[from..]
        .iter()
        .take_while(move |&&(d, _)| d == h)
        .map(|&(_, v)| v)
}

/// The most names (or headings, block ids) a target is compared with for one hash they share,
/// the first in sorted order. Names that differ in one place share a deletion, and an alphabet
/// of thousands of letters makes thousands of them (a dictionary vault of one-character notes
/// and links to characters not written yet paired every link with every note: 2,000 of each
/// took 0.7 s and 4 million pairs). Digits and Latin letters make groups of at most a few dozen.
const NAMES_PER_HASH: usize = 64;

/// The hashes of `name` and of each of its one-character deletions, sorted and deduplicated.
/// A deletion leaving fewer than two characters is left out: the texts it pairs have at most
/// two characters and differ, which no suggestion joins (a similarity of 0.6 needs a
/// difference of at most 0.4 of the longer, so three characters for one edit).
fn deletion_hashes(name: &str) -> Vec<u64> {
    let mut out = Vec::with_capacity(name.len() + 1);
    out.push(xxhash_rust::xxh3::xxh3_64(name.as_bytes()));
    if name.chars().nth(2).is_none() {
        return out;
    }
    let mut buf = String::with_capacity(name.len());
    for (i, c) in name.char_indices() {
        buf.clear();
        buf.push_str(&name[..i]);
        buf.push_str(&name[i + c.len_utf8()..]);
        out.push(xxhash_rust::xxh3::xxh3_64(buf.as_bytes()));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// A set of hashes that answers "surely not in it" from one bit: almost every deletion of a
/// vault's names matches no missing target's, and a bitmap of about 16 bits per hash (held in
/// the cache) rejects nearly all of them, where a binary search in the sorted index would
/// miss the cache at every step once it outgrows it (as it does from about 100k notes).
#[derive(Debug)]
struct HashFilter {
    bits: Vec<u64>,
    mask: u64,
}

impl HashFilter {
    fn of(hashes: impl Iterator<Item = u64>, count: usize) -> HashFilter {
        let len = (count.max(1) * 16).next_power_of_two().max(64);
        let mut bits = vec![0u64; len / 64];
        let mask = len as u64 - 1;
        for h in hashes {
            let b = h & mask;
            bits[(b / 64) as usize] |= 1 << (b % 64);
        }
        HashFilter { bits, mask }
    }

    /// False when `h` is surely not one of the hashes.
    fn may_hold(&self, h: u64) -> bool {
        let b = h & self.mask;
        self.bits[(b / 64) as usize] & (1 << (b % 64)) != 0
    }
}

/// The part of a link target suggestions compare: its last path component, without `.md`.
fn suggestion_key(target: &str) -> String {
    let name = target.rsplit('/').next().unwrap_or(target);
    fold_name(name.strip_suffix(".md").unwrap_or(name))
}

/// The missing targets of the links of `notes`, as suggestion keys, sorted and distinct.
fn missing_keys(
    vault: &Vault,
    resolution: &Resolution,
    notes: impl Iterator<Item = NoteId>,
) -> Vec<String> {
    let mut missing: Vec<String> = notes
        .flat_map(|id| {
            vault
                .note(id)
                .links
                .iter()
                .enumerate()
                .filter(move |&(j, _)| {
                    matches!(resolution.get(id, j).target, LinkTarget::Missing { .. })
                })
                .map(|(_, l)| suggestion_key(&l.target))
        })
        .collect();
    missing.sort_unstable();
    missing.dedup();
    missing
}

/// The names a missing target may be meant as: note stems and attachment file names, as
/// `(folded, display)`, sorted by folded name, one per folded name.
fn suggestion_names(vault: &Vault) -> Vec<(String, &str)> {
    let mut names: Vec<(String, &str)> = vault
        .notes
        .par_iter()
        .map(|n| n.path.stem())
        .chain(vault.attachments.par_iter().map(|a| a.path.file_name()))
        .map(|name| (fold_name(name), name))
        .collect();
    names.par_sort();
    names.dedup_by(|a, b| a.0 == b.0);
    names
}

/// The best suggestion among `names` (folded, display; sorted by folded name, distinct) for
/// each of `wanted` (folded): the most similar name within two edits with a normalised
/// Levenshtein similarity of at least 0.6, ties going to the smaller display name.
fn best_matches<'a>(names: &[(String, &'a str)], wanted: &[String]) -> Vec<Option<&'a str>> {
    if wanted.is_empty() {
        return Vec::new();
    }
    // A name and a target share a hash only when their lengths differ by at most one: a
    // longer target (a pasted paragraph between brackets) is not hashed, which would take
    // time quadratic in its length.
    let longest = names
        .par_iter()
        .map(|(folded, _)| folded.chars().count())
        .max()
        .unwrap_or(0);
    // `(deletion hash, index into wanted)`, sorted: looked up by binary search.
    let mut index: Vec<(u64, u32)> = wanted
        .par_iter()
        .enumerate()
        .filter(|(_, w)| w.chars().count() <= longest + 1)
        .flat_map_iter(|(j, w)| deletion_hashes(w).into_iter().map(move |h| (h, j as u32)))
        .collect();
    index.par_sort_unstable();
    let filter = HashFilter::of(index.iter().map(|&(h, _)| h), index.len());
    // `(hash, index into names)` for each hash of a name that some target has, sorted.
    let mut hits: Vec<(u64, u32)> = names
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, (folded, _))| {
            let (index, filter) = (&index, &filter);
            deletion_hashes(folded)
                .into_iter()
                .filter(move |&h| filter.may_hold(h) && with_hash(index, h).next().is_some())
                .map(move |h| (h, i as u32))
        })
        .collect();
    hits.par_sort_unstable();
    // `(index into wanted, index into names)`: each target with the first
    // [`NAMES_PER_HASH`] names of each hash it shares.
    let mut pairs: Vec<(u32, u32)> = hits
        .chunk_by(|a, b| a.0 == b.0)
        .flat_map(|group| {
            let h = group[0].0;
            let first = &group[..group.len().min(NAMES_PER_HASH)];
            with_hash(&index, h).flat_map(move |j| first.iter().map(move |&(_, i)| (j, i)))
        })
        .collect();
    pairs.par_sort_unstable();
    pairs.dedup();
    wanted
        .par_iter()
        .enumerate()
        .map(|(j, w)| {
            let j = j as u32;
            let from = pairs.partition_point(|&(p, _)| p < j);
            let mut best: Option<(f64, &'a str)> = None;
            for &(_, i) in pairs[from..].iter().take_while(|&&(p, _)| p == j) {
                let (folded, display) = &names[i as usize];
                let score = strsim::normalized_levenshtein(w, folded);
                if score >= 0.6
                    && best.is_none_or(|(s, d)| score > s || (score == s && *display < d))
                {
                    best = Some((score, display));
                }
            }
            best.map(|(_, d)| d)
        })
        .collect()
}

impl Suggestions {
    /// Suggestions for every missing target of the vault.
    pub fn new(vault: &Vault, resolution: &Resolution) -> Suggestions {
        let missing = missing_keys(vault, resolution, vault.note_ids().map(|(id, _)| id));
        if missing.is_empty() {
            return Suggestions::default();
        }
        let names = suggestion_names(vault);
        let found = best_matches(&names, &missing);
        Suggestions {
            cache: missing
                .into_iter()
                .zip(found)
                .map(|(m, f)| (m, f.map(str::to_string)))
                .collect(),
        }
    }

    /// Adds the suggestions for the missing targets of `notes` that have none yet (a build
    /// session's rebuild of notes whose links changed, while the vault's names stayed the
    /// same). A suggestion depends only on the target and the names, so the result is what
    /// [`Suggestions::new`] would give.
    pub fn add_missing(&mut self, vault: &Vault, resolution: &Resolution, notes: &[NoteId]) {
        let mut missing = missing_keys(vault, resolution, notes.iter().copied());
        missing.retain(|key| !self.cache.contains_key(key));
        if missing.is_empty() {
            return;
        }
        let names = suggestion_names(vault);
        let found = best_matches(&names, &missing);
        let found: Vec<Option<String>> = found.into_iter().map(|f| f.map(str::to_string)).collect();
        self.cache.extend(missing.into_iter().zip(found));
    }

    fn suggest(&self, target: &str) -> Option<&str> {
        self.cache
            .get(&suggestion_key(target))
            .and_then(|s| s.as_deref())
    }
}

/// The part of its target an embed shows: the whole body, a heading's section or a block.
fn embed_region(
    vault: &Vault,
    resolution: &Resolution,
    note: NoteId,
    link: usize,
) -> Option<(NoteId, Span)> {
    match &resolution.get(note, link).target {
        LinkTarget::Note { id, fragment } => {
            let target = vault.note(*id);
            let region = match fragment {
                FragmentTarget::Heading(h) => crate::resolve::fragments::section_span(target, *h),
                FragmentTarget::Block(b) => target.blocks[*b].span,
                FragmentTarget::None => Span {
                    start: target.body_start as u32,
                    end: target.text.len() as u32,
                },
                FragmentTarget::Missing => return None,
            };
            Some((*id, region))
        }
        _ => None,
    }
}

/// The notes an `embed-cycle` message names before it counts the rest.
pub const CYCLE_NOTES_SHOWN: usize = 10;

/// Embeds that never finish transcluding. The graph here has one node per note embed; embed
/// `a` leads to embed `b` when `b` lies inside the region `a` shows. A cycle in it is a real
/// transclusion loop (a note embedding another's unrelated section is not). One note alone is
/// `self-embed`; several are `embed-cycle`, listed in the order they embed each other (the
/// first [`CYCLE_NOTES_SHOWN`], and a count of the others).
pub fn embed_cycles(vault: &Vault, resolution: &Resolution) -> Vec<Diagnostic> {
    let mut nodes: Vec<(NoteId, usize)> = Vec::new();
    let mut by_note: HashMap<NoteId, Vec<usize>> = HashMap::new();
    for (id, note) in vault.note_ids() {
        for (i, link) in note.links.iter().enumerate() {
            if link.kind == LinkKind::Embed
                && matches!(resolution.get(id, i).target, LinkTarget::Note { .. })
            {
                by_note.entry(id).or_default().push(nodes.len());
                nodes.push((id, i));
            }
        }
    }
    if nodes.is_empty() {
        return Vec::new();
    }
    let mut g: petgraph::graph::DiGraph<(), ()> =
        petgraph::graph::DiGraph::with_capacity(nodes.len(), nodes.len());
    for _ in &nodes {
        g.add_node(());
    }
    for (a, &(note, link)) in nodes.iter().enumerate() {
        let Some((target, region)) = embed_region(vault, resolution, note, link) else {
            continue;
        };
        for &b in by_note.get(&target).map_or(&[][..], Vec::as_slice) {
            let (bn, bl) = nodes[b];
            if region.contains(vault.note(bn).links[bl].span) {
                g.add_edge(
                    petgraph::graph::NodeIndex::new(a),
                    petgraph::graph::NodeIndex::new(b),
                    (),
                );
            }
        }
    }
    let mut out = Vec::new();
    for scc in petgraph::algo::tarjan_scc(&g) {
        let looped = scc.len() > 1 || g.contains_edge(scc[0], scc[0]);
        if !looped {
            continue;
        }
        let mut members: Vec<usize> = scc.iter().map(|n| n.index()).collect();
        let key = |m: usize| (&vault.note(nodes[m].0).path, nodes[m].1);
        members.sort_by(|&a, &b| key(a).cmp(&key(b)));
        let member: FastSet<usize> = members.iter().copied().collect();
        // Walk the cycle from its first member (in path order) to list notes in embed order.
        let mut order: Vec<NoteId> = Vec::new();
        let mut at = members[0];
        for _ in 0..members.len() {
            if order.last() != Some(&nodes[at].0) {
                order.push(nodes[at].0);
            }
            let next = g
                .neighbors(petgraph::graph::NodeIndex::new(at))
                .map(|n| n.index())
                .filter(|n| member.contains(n))
                .min_by(|&a, &b| key(a).cmp(&key(b)));
            match next {
                Some(n) if n != members[0] => at = n,
                _ => break,
            }
        }
        // Each note's first embed in the loop: members are sorted by note, then link.
        let mut firsts: Vec<(NoteId, usize)> = Vec::new();
        for &m in &members {
            if firsts.last().is_none_or(|&(id, _)| id != nodes[m].0) {
                firsts.push((nodes[m].0, m));
            }
        }
        firsts.sort_by_key(|&(id, _)| id);
        let single = firsts.len() == 1;
        // A long loop is named by its first notes and a count, so that its report grows with
        // the loop, not with the loop times its length.
        let shown = order.len().min(CYCLE_NOTES_SHOWN);
        let related: Vec<String> = order[..shown]
            .iter()
            .map(|&n| vault.note(n).path.to_string())
            .collect();
        let mut path = related.join(" -> ");
        if order.len() > shown {
            let _ = write!(path, " -> ... ({} more)", order.len() - shown);
        }
        path.push_str(" -> ");
        path.push_str(&related[0]);
        // Report once per note: at its first embed that is part of the loop.
        for (id, first) in firsts {
            let note = vault.note(id);
            let link = &note.links[nodes[first].1];
            let (code, message) = if single {
                (
                    Code::SelfEmbed,
                    "this note embeds itself (or the section this embed is in)".to_string(),
                )
            } else {
                (Code::EmbedCycle, format!("embed cycle: {path}"))
            };
            let mut d = Diagnostic::new(code, note.path.clone(), link.span, message)
                .with_target(link.target.clone())
                .with_help("the site shows the repeated embed as a link; break the loop by linking instead of embedding");
            d.related = related.clone();
            out.push(d);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suggest(names: &[&str], wanted: &str) -> Option<String> {
        let mut names: Vec<(String, &str)> = names.iter().map(|n| (fold_name(n), *n)).collect();
        names.sort();
        best_matches(&names, &[suggestion_key(wanted)])[0].map(str::to_string)
    }

    #[test]
    fn suggestions_within_two_edits_any_case_and_script() {
        let names = [
            "Contrastive Learning",
            "CLIP",
            "多模態模型",
            "Vision Transformer",
        ];
        assert_eq!(
            suggest(&names, "contrastive lerning").as_deref(),
            Some("Contrastive Learning")
        );
        assert_eq!(
            suggest(&names, "Vision Tranfsormer").as_deref(),
            Some("Vision Transformer")
        );
        assert_eq!(
            suggest(&names, "folder/多模态模型").as_deref(),
            Some("多模態模型")
        );
        assert_eq!(suggest(&names, "Something else entirely"), None);
    }

    /// The string and each of its one-character deletions.
    fn deletions(s: &str) -> Vec<String> {
        let mut out = vec![s.to_string()];
        for (i, c) in s.char_indices() {
            out.push(format!("{}{}", &s[..i], &s[i + c.len_utf8()..]));
        }
        out
    }

    /// Many similar names (numbered, as vaults grow them): the index and its bitmap find the
    /// suggestion that comparing every wanted target with every name finds.
    #[test]
    fn suggestions_equal_those_found_by_comparing_every_pair() {
        let stems = ["algebra", "vision", "tensor", "多模态"];
        let display: Vec<String> = (0..800)
            .map(|i| format!("{} {}", stems[i % stems.len()], i * 7 % 1000))
            .collect();
        let mut names: Vec<(String, &str)> =
            display.iter().map(|n| (fold_name(n), n.as_str())).collect();
        names.sort();
        names.dedup_by(|a, b| a.0 == b.0);
        // Wanted targets: names with a letter dropped, a digit changed, or a suffix, and
        // strangers.
        let mut wanted: Vec<String> = (0..300)
            .map(|i| {
                let (folded, _) = &names[i * 13 % names.len()];
                match i % 4 {
                    0 => folded.replacen('a', "", 1),
                    1 => folded.replacen('1', "2", 1),
                    2 => format!("{folded}x"),
                    _ => format!("unrelated {i}"),
                }
            })
            .collect();
        // The longest name with a letter more is found; a target longer than any name by more
        // than one is not hashed at all (a pasted paragraph), and shares no deletion either.
        let longest = names
            .iter()
            .max_by_key(|(f, _)| f.chars().count())
            .unwrap()
            .0
            .clone();
        wanted.push(format!("{longest}x"));
        wanted.push(format!("{longest}xy"));
        wanted.push(format!("{longest}{}", "x".repeat(5000)));
        wanted.sort();
        wanted.dedup();
        let found = best_matches(&names, &wanted);
        let i = wanted
            .iter()
            .position(|w| *w == format!("{longest}x"))
            .unwrap();
        assert!(found[i].is_some(), "{longest}x");
        let mut suggested = 0;
        for (w, got) in wanted.iter().zip(&found) {
            let ws = deletions(w);
            let mut best: Option<(f64, &str)> = None;
            for (folded, shown) in &names {
                if !deletions(folded).iter().any(|d| ws.contains(d)) {
                    continue;
                }
                let score = strsim::normalized_levenshtein(w, folded);
                if score >= 0.6 && best.is_none_or(|(s, d)| score > s || (score == s && *shown < d))
                {
                    best = Some((score, shown));
                }
            }
            assert_eq!(*got, best.map(|(_, d)| d), "{w}");
            suggested += usize::from(got.is_some());
        }
        assert!(suggested > 100, "{suggested} of {} suggested", wanted.len());
    }

    /// Names one letter apart in an alphabet of thousands (a dictionary vault): one-letter
    /// names and targets are never paired (no suggestion could join them), and a target
    /// sharing a deletion with hundreds of names gets what comparing it with every name gets.
    #[test]
    fn names_one_letter_apart_in_a_large_alphabet() {
        let letters: Vec<char> = (0..600)
            .map(|i| char::from_u32(0x4e00 + i).unwrap())
            .collect();
        let shown: Vec<String> = letters[..300]
            .iter()
            .flat_map(|c| [c.to_string(), format!("ab{c}")])
            .collect();
        let mut names: Vec<(String, &str)> =
            shown.iter().map(|n| (fold_name(n), n.as_str())).collect();
        names.sort();
        let mut wanted: Vec<String> = letters[300..]
            .iter()
            .flat_map(|c| [c.to_string(), format!("ab{c}")])
            .collect();
        wanted.sort();
        let found = best_matches(&names, &wanted);
        for (w, got) in wanted.iter().zip(found) {
            let every = crate::diag::closest(w, shown.iter().map(String::as_str));
            assert_eq!(got, every, "{w}");
            let expected = (w.chars().count() == 3).then_some("ab\u{4e00}");
            assert_eq!(got, expected, "{w}");
        }
    }

    /// A note's headings (or block ids) by near spellings suggest what comparing the missing
    /// fragment with each that shares a deletion with it suggests: many numbered headings,
    /// missing fragments a letter off, a letter more, swapped letters, or strangers.
    #[test]
    fn near_texts_suggest_as_comparing_each_near_text_does() {
        let stems = ["Results", "Méthodes", "概要", "Open questions"];
        let texts: Vec<String> = (0..600)
            .map(|i| format!("{} {}", stems[i % stems.len()], i * 7 % 1000))
            .chain(["x".repeat(300), "Results 42()".to_string()])
            .collect();
        let near = NearTexts::new(texts.iter().map(String::as_str));
        let mut wanted: Vec<String> = (0..400)
            .map(|i| {
                let t = &texts[i * 13 % 600];
                match i % 5 {
                    0 => t.replacen('s', "", 1),
                    1 => t.replacen('1', "2", 1),
                    2 => format!("{t}x"),
                    3 => t.replacen("es", "se", 1),
                    _ => format!("unrelated {i}"),
                }
            })
            .collect();
        wanted.extend(["x".repeat(299), "x".repeat(301), "results 42(".to_string()]);
        let mut suggested = 0;
        for w in &wanted {
            let got = near.closest(w, |i| texts[i].as_str());
            let want = crate::diag::Wanted::new(w);
            let mut best = None;
            if let Some(want) = &want {
                let ws = deletions(want.folded());
                for t in texts
                    .iter()
                    .filter(|t| t.len() <= crate::diag::SUGGEST_MAX_BYTES)
                {
                    let folded = fold_name(t);
                    if deletions(&folded).iter().any(|d| ws.contains(d)) {
                        want.keep_closer(&mut best, &folded, t);
                    }
                }
            }
            assert_eq!(got, best.map(|(_, t)| t), "{w}");
            // What it suggests is what comparing every heading suggests whenever that is
            // within one edit.
            let every = crate::diag::closest(w, texts.iter().map(String::as_str));
            if every.is_some_and(|e| strsim::levenshtein(&fold_name(w), &fold_name(e)) <= 1) {
                assert_eq!(got, every, "{w}");
            }
            suggested += usize::from(got.is_some());
        }
        assert!(suggested > 250, "{suggested} of {} suggested", wanted.len());
        // Too long to suggest or be suggested.
        assert_eq!(near.closest(&"x".repeat(299), |i| texts[i].as_str()), None);
        assert_eq!(
            near.closest("results 42(", |i| texts[i].as_str()),
            Some("Results 42()")
        );
    }

    /// A note of a few headings has each compared with a missing fragment, so a suggestion
    /// many edits away is found (a real one from a corpus); in a note of more than 256 only the
    /// near ones are, and the help lists the first headings instead.
    #[test]
    fn few_headings_are_each_compared_and_many_are_looked_up() {
        let note_of = |headings: &[String]| {
            let text: String = headings
                .iter()
                .map(|h| format!("## {h}\n\ntext\n\n"))
                .collect();
            crate::parse::note(crate::discover::SourceFile {
                path: crate::source::VaultPath::new("Formatting.md").unwrap(),
                text,
                is_template: false,
            })
            .0
        };
        let mut headings: Vec<String> = ["About", "Image Adjustments", "Callout Titles"]
            .map(String::from)
            .to_vec();
        let few = note_of(&headings);
        let far = "SIRvb's Image Adjustments";
        assert_eq!(
            closest_heading(&few, far, true).as_deref(),
            Some("did you mean \"#Image Adjustments\"?")
        );
        headings.extend((0..300).map(|i| format!("Section {i}")));
        let many = note_of(&headings);
        assert_eq!(
            closest_heading(&many, far, true).as_deref(),
            Some("headings there: About, Image Adjustments, Callout Titles, Section 0, Section 1, Section 2")
        );
        assert_eq!(
            closest_heading(&many, "Image Ajustments", true).as_deref(),
            Some("did you mean \"#Image Adjustments\"?")
        );
        assert_eq!(
            closest_heading(&many, "Sectoin 150", true).as_deref(),
            Some("did you mean \"#Section 150\"?")
        );
        // A markdown link's destination writes the heading percent-encoded.
        assert_eq!(
            closest_heading(&many, "Sectoin 150", false).as_deref(),
            Some("did you mean \"#Section%20150\"?")
        );
    }

    /// Anchors as GitHub (and VS Code) write them: lower case, spaces as `-`, punctuation
    /// other than `-` and `_` dropped, letters of any script kept.
    #[test]
    fn github_anchors_of_headings() {
        for (heading, anchor) in [
            ("Getting Started", "getting-started"),
            ("Version 1.2 (beta)", "version-12-beta"),
            ("snake_case & more", "snake_case--more"),
            ("Über Café", "über-café"),
            ("读书 方法", "读书-方法"),
        ] {
            assert_eq!(github_anchor(heading), anchor);
        }
        let text = "# Notes\n## Notes!\n## notes-1\n## Notes\n";
        let (note, _) = crate::parse::note(crate::discover::SourceFile {
            path: crate::source::VaultPath::new("n.md").unwrap(),
            text: text.to_string(),
            is_template: false,
        });
        // The third heading's own anchor is taken by the second's number, as on GitHub.
        assert_eq!(
            github_anchors(&note),
            ["notes", "notes-1", "notes-1-1", "notes-2"]
        );
    }

    /// Texts over the limit are neither suggested nor given a suggestion, and texts whose
    /// lengths rule out a close enough score are not compared (the same answer).
    #[test]
    fn closest_skips_texts_too_long_and_lengths_too_far_apart() {
        let long = "word ".repeat(60);
        assert_eq!(
            crate::diag::closest(&long, [long.as_str()].into_iter()),
            None
        );
        let short = "word ".repeat(50);
        assert_eq!(
            crate::diag::closest(&short, [long.as_str(), short.as_str()].into_iter()),
            Some(short.as_str())
        );
        // 3 of 5 characters: a distance of at least 2, a score of at most 0.6, which is enough.
        assert_eq!(
            crate::diag::closest("abc", ["abcde"].into_iter()),
            Some("abcde")
        );
        // 3 of 6: at most 0.5, not enough.
        assert_eq!(crate::diag::closest("abc", ["abcdef"].into_iter()), None);
        assert_eq!(crate::diag::closest("", [""].into_iter()), Some(""));
    }

    /// A loop of embeds is reported once per note, at its first embed into the loop; the
    /// message names every note of a short loop, and the first ten of a long one and a count.
    #[test]
    fn embed_loops_are_named_in_full_or_by_their_first_notes() {
        let vault_of = |texts: Vec<(String, String)>| {
            let mut notes: Vec<crate::vault::Note> = texts
                .into_iter()
                .map(|(path, text)| {
                    crate::parse::note(crate::discover::SourceFile {
                        path: crate::source::VaultPath::new(&path).unwrap(),
                        text,
                        is_template: false,
                    })
                    .0
                })
                .collect();
            notes.sort_by(|a, b| a.path.cmp(&b.path));
            Vault {
                notes,
                attachments: Vec::new(),
                other_sources: Vec::new(),
            }
        };
        let cycle = |n: usize| {
            let v = vault_of(
                (0..n)
                    .map(|i| {
                        let text = format!("[[x]] ![[n{:02}]] ![[n{:02}]]\n", (i + 1) % n, i);
                        (format!("n{i:02}.md"), text)
                    })
                    .collect(),
            );
            let r = crate::resolve::resolve(&v, Default::default());
            let mut found = embed_cycles(&v, &r);
            found.sort_by(|a, b| a.file.cmp(&b.file));
            found
        };
        let short = cycle(3);
        assert_eq!(short.len(), 3);
        for d in &short {
            assert_eq!(d.code, Code::EmbedCycle);
            assert_eq!(
                d.message,
                "embed cycle: n00.md -> n01.md -> n02.md -> n00.md"
            );
            assert_eq!(d.related, ["n00.md", "n01.md", "n02.md"]);
            // The first embed of each note into the loop: the one to the next note.
            assert_eq!(d.span.start, 6);
        }
        let long = cycle(25);
        assert_eq!(long.len(), 25);
        let first_ten: Vec<String> = (0..10).map(|i| format!("n{i:02}.md")).collect();
        for d in &long {
            assert_eq!(
                d.message,
                format!(
                    "embed cycle: {} -> ... (15 more) -> n00.md",
                    first_ten.join(" -> ")
                )
            );
            assert_eq!(d.related, first_ten);
        }
    }

    /// Every hash put in answers "may hold"; most others answer "surely not".
    #[test]
    fn the_hash_filter_keeps_every_hash_and_rejects_most_others() {
        let hash = |i: u64| xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes());
        let filter = HashFilter::of((0..5000).map(hash), 5000);
        assert!((0..5000).all(|i| filter.may_hold(hash(i))));
        let false_hits = (5000..105_000)
            .filter(|&i| filter.may_hold(hash(i)))
            .count();
        assert!(false_hits < 10_000, "{false_hits} of 100000");
    }
}
