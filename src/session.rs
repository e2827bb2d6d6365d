//! Build sessions: the builds of `vaultc serve`, one per save, in one process. A session keeps
//! what its last build made (the compilation, the notes' fingerprints, the site's manifest), so
//! that a save of a few notes is handled by dependency tracking through the concept graph:
//! only those notes are read and parsed, only their links (and the links into them, when
//! their title, headings or block ids changed) are resolved and checked again, and only the
//! pages that show them are fingerprinted, rendered and written; when their links reach other targets, the concept graph is built again and the
//! pages of the notes they no longer reach, the index and the graph view's data join those
//! (and for a new title, the index, the graph view's data and the note's tag pages; for new
//! tags, every tag page by its fingerprint, and the pages of tags gone are removed). Any change
//! that could move names or pages (a new, removed or renamed file, a changed alias, publishing
//! or permalink, a tag page that would move, the configuration, the theme) makes a build of the
//! whole vault instead, which still reuses every unchanged note. Either way the
//! site is the one [`crate::build::build`] writes, byte for byte.
//!
//! A rebuild by tracking takes the watcher's word for which notes changed: a stat of every
//! note file costs more than the rest of a one-note rebuild. [`BuildSession::unreported_changes`]
//! finds the files changed behind the watcher's back by their stamps; `serve` calls it once a
//! build is out and builds again with what it finds, so the site catches up one build later.

use std::path::{Path, PathBuf};

use crate::build::{build_keeping, BuildOptions, BuildReport, SiteSink, SiteState};
use crate::compile::Timings;
use crate::diag::{checks, Code, Diagnostic};
use crate::discover::{self, FileStamp};
use crate::error::Result;
use crate::graph::{ConceptGraph, EdgeKind};
use crate::output;
use crate::render::{self, Selection};
use crate::resolve::{self, LinkTarget, ResolvedLink};
use crate::source::{FastMap, FastSet};
use crate::vault::{Note, NoteId};

/// Builds one vault again and again in one process (what `vaultc serve` does on every save).
/// A save of notes whose names and list entries stay the same is a rebuild of those notes
/// alone (see the module's documentation); anything else builds the whole vault, taking
/// every note whose file did not change (same stamp, and no watcher event under its path) from
/// the previous build without reading or parsing it. Every build writes the site
/// [`crate::build::build`] would, byte for byte.
#[derive(Default)]
pub struct BuildSession {
    last: Option<BuildReport>,
    site: Option<SiteState>,
    files: Files,
}

impl std::fmt::Debug for BuildSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildSession")
            .field("last", &self.last)
            .finish_non_exhaustive()
    }
}

/// The files of the last build on disk: which note each note file is, and the attachments.
#[derive(Debug, Default)]
struct Files {
    /// The vault folder (canonical).
    root: PathBuf,
    notes: FastMap<PathBuf, NoteId>,
    attachments: FastSet<PathBuf>,
}

impl BuildSession {
    /// A session with no previous build.
    pub fn new() -> BuildSession {
        BuildSession::default()
    }

    /// Builds like [`crate::build::build`]. `changed` lists the absolute paths a file watcher
    /// reported since the previous build; `None` (unknown) reads every note again.
    pub fn build(
        &mut self,
        root: &Path,
        options: &BuildOptions,
        changed: Option<&[PathBuf]>,
    ) -> Result<&BuildReport> {
        if let Some(changed) = changed {
            match self.rebuild_notes(options, changed) {
                Some(Ok(())) => return Ok(self.last.as_ref().expect("a rebuild keeps its report")),
                Some(Err(e)) => {
                    // The site may be half updated: the next build starts from scratch.
                    self.last = None;
                    self.site = None;
                    return Err(e);
                }
                None => {}
            }
        }
        // The site this session wrote last, when it writes into the same folder again and
        // the watcher kept track: its files are trusted as the tracked rebuilds trust them,
        // and its index sections are offered again.
        let written = self.site.take().filter(|site| {
            changed.is_some() && output::absolute(&options.output).is_ok_and(|out| out == site.out)
        });
        let reuse = match (self.last.take(), changed) {
            (Some(last), Some(changed)) => reuse_of(last, changed).map(std::sync::Arc::new),
            _ => None,
        };
        let mut options = options.clone();
        // The session holds every parse in memory: the cache file on disk stays the one of
        // the session's first build, and a later `vaultc build` parses again only what changed
        // since (the cache is keyed by content).
        options.no_cache |= reuse.is_some();
        options.compile.keep_origins = true;
        options.compile.reuse = reuse;
        let (report, site) = build_keeping(root, &options, true, written)?;
        self.files = Files {
            root: report.compilation.root.clone(),
            ..Files::default()
        };
        if let Some(origins) = &report.compilation.origins {
            self.files.notes = origins
                .notes
                .iter()
                .enumerate()
                .map(|(i, o)| (o.disk.clone(), NoteId(i as u32)))
                .collect();
        }
        self.files.attachments = report
            .compilation
            .vault
            .attachments
            .iter()
            .map(|a| a.disk_path.clone())
            .collect();
        self.site = site;
        Ok(self.last.insert(report))
    }

    /// The report of the last build, unless it failed.
    pub fn last_build(&self) -> Option<&BuildReport> {
        self.last.as_ref()
    }

    /// The note files that changed since the last build read them although no path given to
    /// [`BuildSession::build`] told of it: an event lost on the way, a file system that
    /// reports none. Their stamps (size, times, inode) give them away; a file gone counts as
    /// changed. `serve` asks once each build is out and builds again with what comes back,
    /// so a save waits for no sweep over every file. Notes that could not be read cleanly
    /// have no stamp: they are read again on their own events and by every whole build.
    pub fn unreported_changes(&self) -> Vec<PathBuf> {
        use rayon::prelude::*;
        let Some(origins) = self
            .last
            .as_ref()
            .and_then(|last| last.compilation.origins.as_ref())
        else {
            return Vec::new();
        };
        origins
            .notes
            .par_iter()
            .filter(|o| {
                o.stamp.is_some_and(|stamp| {
                    std::fs::metadata(&o.disk).map_or(true, |m| FileStamp::of(&m) != stamp)
                })
            })
            .map(|o| o.disk.clone())
            .collect()
    }

    /// Rebuilds after changes to known notes alone, by dependency tracking; `None` when the
    /// changes need a build of the whole vault. The session's compilation may then hold the
    /// changed notes' new parses, which that build does not take as they are: the notes' origins
    /// still have their old keys, so their files are parsed again.
    fn rebuild_notes(&mut self, options: &BuildOptions, changed: &[PathBuf]) -> Option<Result<()>> {
        // Nothing reported: the watcher may have missed anything, even a new file. Walk.
        if changed.is_empty() {
            return None;
        }
        let report = self.last.as_mut()?;
        let site = self.site.as_mut()?;
        report.written?;
        // The site must still be the one the session wrote (not deleted, half updated or
        // written by another build since).
        if !site.manifest.still_describes(&site.out) {
            return None;
        }
        let mut timings = Timings::start();
        // The watcher's list is taken as it is: what it missed, `unreported_changes` finds
        // once this build is out (off the path from a save to its page).
        let ids = changed_notes(&self.files, changed)?;
        let comp = &mut report.compilation;
        // A ` ```base ` block is parsed with the vault (`bases::Bases::parse_inline`): a
        // changed note that has one, or had one, is left to a whole build.
        if ids.iter().any(|&id| !comp.vault.note(id).bases.is_empty()) {
            return None;
        }
        let origins = comp.origins.as_ref()?;
        let resolve_options = origins.resolve;
        timings.mark("stat");

        // Read and parse the changed notes; a note whose text is the same needs nothing more.
        let mut fresh: Vec<Fresh> = Vec::new();
        let mut touched: Vec<(NoteId, FileStamp)> = Vec::new();
        for &id in &ids {
            let origin = &origins.notes[id.0 as usize];
            // A note read with a problem last time, or now, is left to a whole build.
            origin.stamp?;
            let stamp = std::fs::metadata(&origin.disk)
                .ok()
                .map(|m| FileStamp::of(&m))?;
            let path = comp.vault.note(id).path.clone();
            let (mut file, problem) = discover::read_note(path, &origin.disk);
            if problem.is_some() {
                return None;
            }
            file.is_template = origin.is_template;
            let key = crate::cache::key(&file);
            if key == origin.key {
                touched.push((id, stamp));
                continue;
            }
            let (note, diagnostics) = crate::parse::note_with(file, true);
            if !same_names(comp.vault.note(id), &note) {
                return None;
            }
            fresh.push(Fresh {
                id,
                note: Some(note),
                diagnostics,
                stamp,
                key,
            });
        }
        timings.mark("parse");
        if fresh.is_empty() {
            // Saved without a change (or only an editor's temporary file came and went).
            let origins = comp.origins.as_mut().expect("checked above");
            for (id, stamp) in touched {
                origins.notes[id.0 as usize].stamp = Some(stamp);
            }
            comp.parse = crate::compile::ParseStats {
                parsed: 0,
                reused: comp.vault.notes.len(),
            };
            comp.timings = timings;
            report.written = Some(output::WriteStats::default());
            report.rendered = render::RenderStats::default();
            report.in_place = true;
            report.tracked = true;
            return Some(Ok(()));
        }

        // Their links, resolved with the unchanged name index: when they make the same edges,
        // the concept graph and the wanted notes stay as they are.
        let mut previous: Vec<Note> = Vec::with_capacity(fresh.len());
        for f in &mut fresh {
            let note = f.note.take().expect("each note is swapped in once");
            previous.push(std::mem::replace(
                &mut comp.vault.notes[f.id.0 as usize],
                note,
            ));
        }
        let resolved: Vec<Vec<ResolvedLink>> = fresh
            .iter()
            .map(|f| {
                let note = comp.vault.note(f.id);
                note.links
                    .iter()
                    .map(|link| {
                        resolve::resolve_link(
                            &comp.vault,
                            &comp.resolution.index,
                            f.id,
                            link,
                            resolve_options,
                        )
                    })
                    .collect()
            })
            .collect();
        if fresh
            .iter()
            .any(|f| !comp.vault.note(f.id).bases.is_empty())
        {
            return None;
        }
        let same_graph = fresh
            .iter()
            .zip(&previous)
            .zip(&resolved)
            .all(|((f, old), new)| {
                same_edges(
                    old,
                    &comp.resolution.links[f.id.0 as usize],
                    comp.vault.note(f.id),
                    new,
                )
            });
        // Links that now go elsewhere change the concept graph. The names stay the same, so
        // every other note's links still resolve as they did: the graph is built again, and the
        // notes the changed ones no longer reach (their backlinks) are rendered again too.
        let relinked = !same_graph;
        let mut unlinked: Vec<NoteId> = Vec::new();
        let mut wanted = false;
        if relinked {
            for f in &fresh {
                wanted |= reached(&comp.resolution.links[f.id.0 as usize], &mut unlinked);
            }
        }
        // A new title shows on the pages listing the note (the index, its tags' pages), in the
        // graph view's data and as a backlink's title on the pages its links reach.
        let retitled: Vec<NoteId> = fresh
            .iter()
            .zip(&previous)
            .filter(|(f, old)| comp.vault.note(f.id).title != old.title)
            .map(|(f, _)| f.id)
            .collect();
        // New tags change the graph's tag nodes, the tag pages and the tags page.
        let retagged = fresh
            .iter()
            .zip(&previous)
            .any(|(f, old)| !same_tags(old, comp.vault.note(f.id)));
        // Links into a changed note resolve, render and are checked alike unless its headings
        // or blocks (the fragments' targets and anchors) or its title changed.
        let anchors_moved: FastSet<NoteId> = fresh
            .iter()
            .zip(&previous)
            .filter(|(f, old)| !same_anchors(old, comp.vault.note(f.id)))
            .map(|(f, _)| f.id)
            .collect();
        drop(previous);
        let texts: Vec<NoteId> = fresh.iter().map(|f| f.id).collect();
        for (id, links) in texts.iter().zip(resolved) {
            comp.resolution.links[id.0 as usize] = links;
        }
        // The links into the changed notes whose headings or blocks moved: those decide the
        // fragments.
        let changed_set: FastSet<NoteId> = texts.iter().copied().collect();
        let mut linking: Vec<NoteId> = texts
            .iter()
            .filter(|x| anchors_moved.contains(x))
            .flat_map(|&x| comp.graph.incoming(comp.graph.note_node(x)))
            .map(|b| b.source)
            .filter(|s| !changed_set.contains(s))
            .collect();
        linking.sort_unstable();
        linking.dedup();
        let again: Vec<(NoteId, usize, ResolvedLink)> = linking
            .iter()
            .flat_map(|&r| {
                let note = comp.vault.note(r);
                let comp = &*comp;
                let changed_set = &changed_set;
                note.links.iter().enumerate().filter_map(move |(j, link)| {
                    match comp.resolution.get(r, j).target {
                        LinkTarget::Note { id, .. } if changed_set.contains(&id) => Some((
                            r,
                            j,
                            resolve::resolve_link(
                                &comp.vault,
                                &comp.resolution.index,
                                r,
                                link,
                                resolve_options,
                            ),
                        )),
                        _ => None,
                    }
                })
            })
            .collect();
        for (r, j, link) in again {
            comp.resolution.links[r.0 as usize][j] = link;
        }
        timings.mark("resolve");
        // Tag pages that are gone.
        let mut untagged: Vec<String> = Vec::new();
        if relinked || retagged {
            comp.graph = ConceptGraph::build(&comp.vault, &comp.resolution);
            // Were the graph's tags not what the plan expects, a whole build would make
            // everything again from the notes, keyed by their text (the vault holds the new
            // notes, their origins the old keys).
            if retagged {
                let before: FastMap<String, String> = comp
                    .site
                    .tags
                    .iter()
                    .map(|(_, name, page)| (crate::source::fold_name(name), page.file()))
                    .collect();
                comp.site.plan_tags(&comp.graph);
                let mut after: FastSet<String> = FastSet::default();
                for (_, name, page) in &comp.site.tags {
                    let file = page.file();
                    // A tag that stays keeps its page (other notes' pages link to it).
                    if before
                        .get(&crate::source::fold_name(name))
                        .is_some_and(|old| *old != file)
                    {
                        return None;
                    }
                    after.insert(file);
                }
                untagged = before
                    .into_values()
                    .filter(|f| !after.contains(f))
                    .collect();
                untagged.sort();
                // Attachments yield to tag pages; one under `tags/` might have to move (or
                // may go back to its own name), which a whole build does.
                let under_tags = |a: &crate::discover::AttachmentFile| {
                    a.path
                        .as_str()
                        .get(..5)
                        .is_some_and(|p| p.eq_ignore_ascii_case("tags/"))
                };
                if comp.vault.attachments.iter().any(under_tags)
                    && comp.site.attachment_files(&comp.vault).0 != comp.site.attachments
                {
                    return None;
                }
            } else if !comp.site.renumber_tags(&comp.graph) {
                return None;
            }
            comp.suggestions
                .add_missing(&comp.vault, &comp.resolution, &texts);
            timings.mark("graph");
        }
        // Where the changed notes' links go now.
        let mut linked: Vec<NoteId> = Vec::new();
        for &x in &texts {
            wanted |= reached(&comp.resolution.links[x.0 as usize], &mut linked);
        }
        // Notes whose backlinks changed: they may have become orphans, or stopped being ones.
        let mut relinked_targets: Vec<NoteId> = Vec::new();
        if relinked {
            relinked_targets = unlinked.iter().chain(&linked).copied().collect();
            relinked_targets.retain(|t| !changed_set.contains(t));
            relinked_targets.sort_unstable();
            relinked_targets.dedup();
        }

        // Diagnostics: those of the changed notes, of the links into them whose anchors moved
        // (`linking`) and, when they can have changed, of the embed loops are made again;
        // every other file's stay.
        let config = &options.compile.config;
        let changed_paths: FastSet<&str> = texts
            .iter()
            .map(|&id| comp.vault.note(id).path.as_str())
            .collect();
        let linking_paths: FastSet<&str> = linking
            .iter()
            .map(|&id| comp.vault.note(id).path.as_str())
            .collect();
        let target_paths: FastSet<&str> = relinked_targets
            .iter()
            .map(|&id| comp.vault.note(id).path.as_str())
            .collect();
        let mut diagnostics = std::mem::take(&mut comp.diagnostics);
        // Every note on an embed loop embeds the next and is embedded by the one before (and
        // has the loop reported in its file). So loops can change only when a changed note
        // embeds or is embedded now: a loop a changed note has left still leads into it from
        // its last unchanged note, unless every note on it changed (and its reports went with
        // their files above). Otherwise the loops stay, and finding them (a pass over every
        // embed of the vault) is left out.
        let is_loop = |code: Code| matches!(code, Code::EmbedCycle | Code::SelfEmbed);
        // What a base selects reads every note: its rows are made again, and so are its
        // problems (those of reading it stay as they were; the evaluation's may change).
        let bases = !comp.bases.is_empty();
        if bases {
            comp.bases.start_again();
        }
        let embeds_moved = texts.iter().any(|&id| {
            let node = comp.graph.note_node(id);
            comp.graph
                .graph
                .edges_directed(node, petgraph::Direction::Outgoing)
                .chain(
                    comp.graph
                        .graph
                        .edges_directed(node, petgraph::Direction::Incoming),
                )
                .any(|e| e.weight().kind == EdgeKind::Embed)
        });
        // Whether an attachment is linked can change with any note's links: when reported,
        // those diagnostics are made again from the graph (one look at each attachment).
        let unused = config.level(Code::UnusedAttachment) != crate::diag::Level::Allow;
        diagnostics.retain(|d| {
            !(changed_paths.contains(d.file.as_str())
                || (linking_paths.contains(d.file.as_str()) && checks::is_note_link_code(d.code))
                || (target_paths.contains(d.file.as_str()) && d.code == Code::OrphanNote)
                || (embeds_moved && is_loop(d.code))
                || (bases && d.code == Code::InvalidBase)
                || (unused && d.code == Code::UnusedAttachment))
        });
        let mut remade: Vec<Diagnostic> = Vec::new();
        for f in &fresh {
            let path = &comp.vault.note(f.id).path;
            remade.extend(f.diagnostics.iter().cloned());
            remade.extend(checks::note_link_diagnostics(
                &comp.vault,
                &comp.resolution,
                &comp.suggestions,
                config,
                f.id,
            ));
            if !comp.graph.has_backlinks(f.id) {
                remade.push(checks::orphan(&comp.vault, f.id));
            }
            remade.extend(
                comp.site
                    .diagnostics
                    .iter()
                    .filter(|d| &d.file == path)
                    .cloned(),
            );
        }
        for &r in &linking {
            remade.extend(checks::note_link_diagnostics(
                &comp.vault,
                &comp.resolution,
                &comp.suggestions,
                config,
                r,
            ));
        }
        for &t in &relinked_targets {
            if !comp.graph.has_backlinks(t) {
                remade.push(checks::orphan(&comp.vault, t));
            }
        }
        if embeds_moved {
            remade.extend(checks::embed_cycles(&comp.vault, &comp.resolution));
        }
        if unused {
            remade.extend(checks::unused_attachments(
                &comp.vault,
                &comp.graph,
                &comp.canvases,
                &comp.resolution.index,
                crate::resolve::ResolveOptions {
                    resolve_aliases: config.resolve_aliases,
                },
            ));
        }
        if bases {
            remade.extend(comp.bases.parse_diagnostics.iter().cloned());
            let host = crate::bases::VaultHost::new(
                &comp.vault,
                &comp.resolution,
                &comp.graph,
                &comp.bases,
            );
            remade.extend(crate::bases::evaluation_diagnostics(&comp.bases, &host));
        }
        // The kept diagnostics are still in order: the remade ones are sorted and merged in,
        // as a stable sort of the two one after the other would place them.
        let mut remade = crate::compile::settle(&comp.vault, config, remade);
        remade.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let mut diagnostics = merge_sorted(diagnostics, remade);
        diagnostics.dedup();
        drop(changed_paths);
        drop(linking_paths);
        drop(target_paths);
        comp.diagnostics = diagnostics;
        timings.mark("diagnose");

        // The pages that show what changed: the changed notes' and those of the notes linking
        // into them, every page transcluding one of those (through embeds of embeds), and the
        // pages listing a changed note among their backlinks (or listing it no more).
        site.inputs.refresh(comp, &texts, &linking);
        let mut shown: FastSet<NoteId> = texts.iter().chain(&linking).copied().collect();
        // And every page showing a base (what it selects may have changed with any note) or
        // a canvas (its cards show notes).
        let canvases = !comp.canvases.is_empty();
        if bases || canvases {
            shown.extend(
                comp.vault
                    .note_ids()
                    .filter(|(id, n)| {
                        let links = &comp.resolution.links[id.0 as usize];
                        (bases && comp.bases.shown_by(n, links))
                            || (canvases && comp.canvases.shown_by(n, links))
                    })
                    .map(|(id, _)| id),
            );
        }
        let mut frontier: Vec<NoteId> = shown.iter().copied().collect();
        while let Some(n) = frontier.pop() {
            for b in comp.graph.incoming(comp.graph.note_node(n)) {
                if b.kind == EdgeKind::Embed && shown.insert(b.source) {
                    frontier.push(b.source);
                }
            }
        }
        shown.extend(linked);
        shown.extend(unlinked);
        let mut notes: Vec<NoteId> = shown.into_iter().collect();
        notes.sort_unstable();
        let mut tags: Vec<usize> = retitled
            .iter()
            .flat_map(|&id| &comp.vault.note(id).tags)
            .filter_map(|t| comp.site.tag_position(&t.name))
            .collect();
        tags.sort_unstable();
        tags.dedup();
        let selection = Selection {
            notes,
            wanted,
            searched: texts.clone(),
            index_and_graph: relinked || retagged || !retitled.is_empty(),
            tags,
            all_tags: retagged,
            canvases,
        };
        let mut staging =
            match output::Staging::update(&site.out, std::mem::take(&mut site.manifest)) {
                Ok(staging) => staging,
                Err(e) => return Some(Err(e)),
            };
        for file in &untagged {
            staging.remove(file);
        }
        // A tag page come or gone can change how many sitemap files there are; only a site
        // that has them can have one too many (most have none: no pass over its manifest).
        if staging.had(&format!("{}0.xml", render::SITEMAPS)) {
            staging.rewrites_folder(render::SITEMAPS);
        }
        // The diagram renderer goes with the last diagram (and comes back with a new one).
        if !render::has_diagrams(comp) && staging.had(render::DIAGRAM_FILE) {
            staging.remove(render::DIAGRAM_FILE);
        }
        let published = comp.site.published();
        let sink = SiteSink::new(&staging, published);
        let rendered = match render::render_selected(
            comp,
            &site.theme,
            &site.meta,
            &site.inputs,
            &site.fragments,
            &sink,
            &selection,
        ) {
            Ok(rendered) => rendered,
            Err(e) => return Some(Err(e)),
        };
        timings.mark("render");
        let (written, manifest, _) = match staging.finish(&[]) {
            Ok(done) => done,
            Err(e) => return Some(Err(e)),
        };
        site.manifest = manifest;
        timings.mark("write");

        let origins = comp.origins.as_mut().expect("checked above");
        for f in fresh {
            let origin = &mut origins.notes[f.id.0 as usize];
            origin.stamp = Some(f.stamp);
            origin.key = f.key;
            origin.diagnostics = f.diagnostics;
        }
        for (id, stamp) in touched {
            origins.notes[id.0 as usize].stamp = Some(stamp);
        }
        comp.parse = crate::compile::ParseStats {
            parsed: texts.len(),
            reused: comp.vault.notes.len() - texts.len(),
        };
        comp.timings = timings;
        report.pages = published;
        report.written = Some(written);
        report.rendered = rendered;
        report.in_place = true;
        report.tracked = true;
        Some(Ok(()))
    }
}

/// A changed note, read and parsed.
struct Fresh {
    id: NoteId,
    /// Taken when it replaces the old note in the vault.
    note: Option<Note>,
    /// What parsing it reported.
    diagnostics: Vec<Diagnostic>,
    stamp: FileStamp,
    key: u128,
}

/// Adds the notes `links` reach to `notes`; whether one of them is to a missing note.
fn reached(links: &[ResolvedLink], notes: &mut Vec<NoteId>) -> bool {
    let mut missing = false;
    for link in links {
        match link.target {
            LinkTarget::Note { id, .. } => notes.push(id),
            LinkTarget::Missing { .. } => missing = true,
            LinkTarget::Attachment(_) => {}
        }
    }
    missing
}

/// Whether a note's links, resolved as `new`, make the graph edges its old links made: the
/// same kinds to the same targets (a missing target written the same way).
fn same_edges(
    old: &Note,
    old_links: &[ResolvedLink],
    new: &Note,
    new_links: &[ResolvedLink],
) -> bool {
    old.links.len() == new.links.len()
        && old
            .links
            .iter()
            .zip(&new.links)
            .zip(old_links.iter().zip(new_links))
            .all(|((a, b), (ra, rb))| {
                a.kind == b.kind
                    && match (&ra.target, &rb.target) {
                        (LinkTarget::Note { id: x, .. }, LinkTarget::Note { id: y, .. }) => x == y,
                        (LinkTarget::Attachment(x), LinkTarget::Attachment(y)) => x == y,
                        (LinkTarget::Missing { key: x }, LinkTarget::Missing { key: y }) => {
                            x == y && a.target == b.target
                        }
                        _ => false,
                    }
            })
}

/// Whether a changed note keeps its names and its page: its aliases, publishing and permalink
/// (what the name index and the note pages of the site plan read of it).
fn same_names(old: &Note, new: &Note) -> bool {
    old.front_matter.aliases == new.front_matter.aliases
        && old.front_matter.publish == new.front_matter.publish
        && old.front_matter.draft == new.front_matter.draft
        && old.front_matter.permalink == new.front_matter.permalink
}

/// Whether links into the note see the same note: title, headings and block ids in order
/// (their text, spans and the rest of the note may differ).
fn same_anchors(old: &Note, new: &Note) -> bool {
    old.title == new.title
        && old.headings.len() == new.headings.len()
        && old.headings.iter().zip(&new.headings).all(|(a, b)| {
            a.level == b.level && a.text == b.text && a.anchor == b.anchor && a.keys == b.keys
        })
        && old.blocks.len() == new.blocks.len()
        && old
            .blocks
            .iter()
            .zip(&new.blocks)
            .all(|(a, b)| a.id == b.id)
}

/// Whether a changed note uses the same tags, in the same order and spelling (what the concept
/// graph's tag nodes and the tag pages read of it).
fn same_tags(old: &Note, new: &Note) -> bool {
    old.tags.len() == new.tags.len()
        && old
            .tags
            .iter()
            .zip(&new.tags)
            .all(|(a, b)| a.name == b.name)
}

/// `kept` and `new`, each sorted by [`Diagnostic::sort_key`], as one sorted list; on equal
/// keys the kept come first.
fn merge_sorted(kept: Vec<Diagnostic>, new: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut out = Vec::with_capacity(kept.len() + new.len());
    let mut new = new.into_iter().peekable();
    for d in kept {
        while let Some(n) = new.next_if(|n| n.sort_key() < d.sort_key()) {
            out.push(n);
        }
        out.push(d);
    }
    out.extend(new);
    out
}

/// The notes behind the changed paths, or `None` when a change is not to a known note: a new
/// file or folder, a removed or changed attachment, a note that is no longer a file, the
/// configuration, a settings file, anything outside the vault (a theme file), or the watcher
/// losing track (the vault root). A path in the vault that is gone and was never known is an
/// editor's temporary file: it changes nothing.
fn changed_notes(files: &Files, changed: &[PathBuf]) -> Option<Vec<NoteId>> {
    let mut ids = Vec::new();
    for path in changed {
        if let Some(&id) = files.notes.get(path) {
            if !path.is_file() {
                return None;
            }
            ids.push(id);
            continue;
        }
        let rel = path.strip_prefix(&files.root).ok()?;
        let read_by_discovery =
            rel == Path::new(crate::config::FILE_NAME) || crate::settings::is_settings_file(rel);
        if read_by_discovery || files.attachments.contains(path) || path.symlink_metadata().is_ok()
        {
            return None;
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Some(ids)
}

/// What the next build may take from `last`.
fn reuse_of(last: BuildReport, changed: &[PathBuf]) -> Option<crate::compile::Reuse> {
    use crate::compile::{KeptNote, Reuse};
    use crate::discover::{KnownNotes, KnownTree};
    let comp = last.compilation;
    let origins = comp.origins?;
    let resolution = crate::compile::PreviousResolution {
        names: resolve::IndexedNames::of(&comp.vault),
        resolution: comp.resolution,
        options: origins.resolve,
    };
    let mut tree = origins.clean_discovery.then(|| KnownTree {
        notes: Vec::with_capacity(comp.vault.notes.len()),
        attachments: comp.vault.attachments,
    });
    let mut known = KnownNotes {
        changed: changed.iter().cloned().collect(),
        ..KnownNotes::default()
    };
    let mut notes = crate::source::FastMap::default();
    for (note, origin) in comp.vault.notes.into_iter().zip(origins.notes) {
        if let Some(tree) = &mut tree {
            tree.notes
                .push((note.path.clone(), origin.disk, origin.is_template));
        }
        if let Some(stamp) = origin.stamp {
            known
                .stamps
                .insert(note.path.clone(), (stamp, origin.is_template));
            notes.insert(
                note.path.clone(),
                KeptNote {
                    note,
                    diagnostics: origin.diagnostics,
                    key: origin.key,
                },
            );
        }
    }
    known.tree = tree;
    Some(Reuse {
        known: std::sync::Arc::new(known),
        notes: std::sync::Mutex::new(notes),
        resolution: std::sync::Mutex::new(Some(resolution)),
    })
}
