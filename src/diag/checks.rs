//! Stage 5, diagnose: turn the resolution and the graph into diagnostics (broken links and
//! fragments, ambiguity, embed cycles), with "did you mean" suggestions.

use std::collections::HashMap;

use petgraph::visit::EdgeFiltered;
use rayon::prelude::*;

use crate::diag::{Code, Diagnostic, Fix};
use crate::graph::{ConceptGraph, EdgeKind, Node};
use crate::resolve::{FileRef, FragmentTarget, LinkTarget, Resolution};
use crate::source::fold_name;
use crate::vault::{Fragment, Link, LinkKind, Note, NoteId, Vault};

/// All link-level diagnostics of a compiled vault.
pub fn link_diagnostics(
    vault: &Vault,
    resolution: &Resolution,
    graph: &ConceptGraph,
) -> Vec<Diagnostic> {
    let suggester = Suggester::new(vault);
    let mut out: Vec<Diagnostic> = vault
        .notes
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, note)| {
            let id = NoteId(i as u32);
            let suggester = &suggester;
            note.links.iter().enumerate().filter_map(move |(j, link)| {
                check_link(vault, resolution, suggester, id, note, link, j)
            })
        })
        .collect();
    out.extend(embed_cycles(vault, resolution, graph));
    out
}

fn check_link(
    vault: &Vault,
    resolution: &Resolution,
    suggester: &Suggester,
    id: NoteId,
    note: &Note,
    link: &Link,
    index: usize,
) -> Option<Diagnostic> {
    let resolved = resolution.get(id, index);
    match &resolved.target {
        LinkTarget::Missing { .. } => {
            let what = if link.target.contains('.') && !link.target.to_lowercase().ends_with(".md")
            {
                "file"
            } else {
                "note"
            };
            let mut d = Diagnostic::new(
                Code::BrokenLink,
                note.path.clone(),
                link.span,
                format!("no {what} named \"{}\"", link.target),
            )
            .with_target(link.target.clone());
            let aliased = resolution.index.alias(&fold_name(&link.target));
            if let Some(&alias_of) = aliased.first() {
                let target_note = vault.note(alias_of);
                let name = target_note.path.stem();
                d.help = Some(format!(
                    "\"{}\" is an alias of [[{name}]]; Obsidian does not resolve aliases: write [[{name}|{}]]",
                    link.target, link.target
                ));
                if link.kind == LinkKind::Wiki && link.fragment.is_none() && link.label.is_none() {
                    d.fix = Some(Fix {
                        span: link.span,
                        replacement: format!("[[{name}|{}]]", link.target),
                    });
                }
            } else if let Some(best) = suggester.suggest(&link.target) {
                d.help = Some(format!("did you mean \"{best}\"?"));
            } else if link.target.contains("://") {
                d.help = Some(
                    "a URL in [[...]] is a note name; write [text](url) for a web link".to_string(),
                );
            }
            Some(d)
        }
        LinkTarget::Note {
            id: target,
            fragment: FragmentTarget::Missing,
        } => {
            let target_note = vault.note(*target);
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
                    closest_heading(target_note, chain.last().map_or("", String::as_str)),
                ),
                _ => return None,
            };
            let mut d = Diagnostic::new(Code::BrokenFragment, note.path.clone(), link.span, what)
                .with_target(link.target.clone());
            d.help = help;
            Some(d)
        }
        _ if !resolved.ambiguous.is_empty() => {
            let path_of = |f: &FileRef| match *f {
                FileRef::Note(n) => vault.note(n).path.to_string(),
                FileRef::Attachment(a) => vault.attachment(a).path.to_string(),
            };
            let names: Vec<String> = resolved.ambiguous.iter().map(path_of).collect();
            let winner = &names[0];
            let winner_folder = winner.rsplit_once('/').map_or("", |(d, _)| d);
            let rule = if winner_folder == note.folder()
                && names[1..]
                    .iter()
                    .all(|n| n.rsplit_once('/').map_or("", |(d, _)| d) != note.folder())
            {
                "it is in the same folder"
            } else if names[1..].iter().all(|n| n.len() > winner.len()) {
                "it has the shortest path"
            } else {
                "it comes first in path order"
            };
            let mut d = Diagnostic::new(
                Code::AmbiguousLink,
                note.path.clone(),
                link.span,
                format!(
                    "\"{}\" matches {} files ({}); it resolves to {winner} because {rule}",
                    link.target,
                    names.len(),
                    names.join(", "),
                ),
            )
            .with_target(link.target.clone())
            .with_help(format!(
                "write the path to be explicit, e.g. [[{}]]",
                winner.trim_end_matches(".md")
            ));
            d.related = names;
            Some(d)
        }
        _ => None,
    }
}

fn closest_heading(note: &Note, wanted: &str) -> Option<String> {
    crate::diag::closest(wanted, note.headings.iter().map(|h| h.text.as_str()))
        .map(|h| format!("did you mean \"#{h}\"?"))
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
    crate::diag::closest(wanted, note.blocks.iter().map(|b| b.id.as_str()))
        .map(|b| format!("did you mean \"#^{b}\"?"))
}

/// "Did you mean" over note names, note paths and attachment names. Candidates are bucketed by
/// length so each query only compares names of similar length.
struct Suggester<'a> {
    by_len: HashMap<usize, Vec<(String, &'a str)>>,
}

impl<'a> Suggester<'a> {
    fn new(vault: &'a Vault) -> Suggester<'a> {
        let mut by_len: HashMap<usize, Vec<(String, &'a str)>> = HashMap::new();
        let names = vault
            .notes
            .iter()
            .map(|n| n.path.stem())
            .chain(vault.attachments.iter().map(|a| a.path.file_name()));
        for name in names {
            let folded = fold_name(name);
            by_len
                .entry(folded.chars().count())
                .or_default()
                .push((folded, name));
        }
        for list in by_len.values_mut() {
            list.sort();
            list.dedup();
        }
        Suggester { by_len }
    }

    fn suggest(&self, target: &str) -> Option<&'a str> {
        let name = target.rsplit('/').next().unwrap_or(target);
        let wanted = fold_name(name.trim_end_matches(".md"));
        let len = wanted.chars().count();
        let slack = (len * 2) / 5 + 1;
        let mut best: Option<(f64, &'a str)> = None;
        for l in len.saturating_sub(slack)..=len + slack {
            for (folded, display) in self.by_len.get(&l).into_iter().flatten() {
                let score = strsim::normalized_levenshtein(&wanted, folded);
                if score >= 0.6
                    && best.is_none_or(|(s, d)| score > s || (score == s && *display < d))
                {
                    best = Some((score, display));
                }
            }
        }
        best.map(|(_, d)| d)
    }
}

/// Whether a note's embed of itself includes the embed (whole note, or its own section/block).
fn self_embed_loops(vault: &Vault, resolution: &Resolution, edge: &crate::graph::Edge) -> bool {
    let note = vault.note(edge.source);
    let link = &note.links[edge.index as usize];
    let region = match &resolution.get(edge.source, edge.index as usize).target {
        LinkTarget::Note {
            fragment: FragmentTarget::Heading(h),
            ..
        } => crate::resolve::fragments::section_span(note, *h),
        LinkTarget::Note {
            fragment: FragmentTarget::Block(b),
            ..
        } => note.blocks[*b].span,
        LinkTarget::Note {
            fragment: FragmentTarget::Missing,
            ..
        } => return false,
        _ => return true,
    };
    region.contains(link.span)
}

/// Cycles of note embeds (a note embedding itself directly or through others).
fn embed_cycles(vault: &Vault, resolution: &Resolution, graph: &ConceptGraph) -> Vec<Diagnostic> {
    let embeds = EdgeFiltered::from_fn(&graph.graph, |e| e.weight().kind == EdgeKind::Embed);
    let mut out = Vec::new();
    for scc in petgraph::algo::tarjan_scc(&embeds) {
        let notes: Vec<NoteId> = scc
            .iter()
            .filter_map(|&n| match graph.graph[n] {
                Node::Note(id) => Some(id),
                _ => None,
            })
            .collect();
        // A note embedding a section of itself is fine unless the section holds the embed.
        let self_loop = notes.len() == 1
            && graph.graph.edges_connecting(scc[0], scc[0]).any(|e| {
                e.weight().kind == EdgeKind::Embed
                    && self_embed_loops(vault, resolution, e.weight())
            });
        if notes.len() < 2 && !self_loop {
            continue;
        }
        let mut names: Vec<String> = notes
            .iter()
            .map(|&n| vault.note(n).path.to_string())
            .collect();
        names.sort();
        // Report once, at the first embed inside the cycle of each note in it.
        for &id in &notes {
            let note = vault.note(id);
            let node = graph.note_node(id);
            let first = graph
                .graph
                .edges_directed(node, petgraph::Direction::Outgoing)
                .filter(|e| {
                    e.weight().kind == EdgeKind::Embed
                        && scc.contains(&petgraph::visit::EdgeRef::target(e))
                        && (!self_loop || self_embed_loops(vault, resolution, e.weight()))
                })
                .map(|e| e.weight().index as usize)
                .min();
            if let Some(i) = first {
                let mut d = Diagnostic::new(
                    Code::EmbedCycle,
                    note.path.clone(),
                    note.links[i].span,
                    if self_loop {
                        "this note embeds itself".to_string()
                    } else {
                        format!("embed cycle: {}", names.join(" -> "))
                    },
                )
                .with_target(note.links[i].target.clone())
                .with_help("the site shows the cycle as a link after the first repetition; break it by linking instead of embedding");
                d.related = names.clone();
                out.push(d);
            }
        }
    }
    out
}
