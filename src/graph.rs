//! Stage 4, graph: the concept graph (petgraph). Nodes are notes, attachments, wanted (missing)
//! targets and tags; an edge per link, embed, property link and tag use. Backlinks, wanted notes
//! and orphans are queries on it, not separate scans.
//!
//! Node indices are laid out deterministically: notes first (node `i` is `NoteId(i)`), then
//! attachments, then wanted targets and tags in first-seen order.

use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use serde::Serialize;

use crate::resolve::{LinkTarget, Resolution};
use crate::source::{fold_name_into, FastMap};
use crate::vault::{AttachmentId, LinkKind, NoteId, Vault};

/// What a node stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// A note.
    Note(NoteId),
    /// An attachment.
    Attachment(AttachmentId),
    /// A link target that does not exist yet; the name as first written.
    Wanted(String),
    /// A tag, with its display name (first casing seen).
    Tag(String),
}

/// Why an edge exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeKind {
    /// `[[x]]` or `[t](x)`.
    Link,
    /// `![[x]]`.
    Embed,
    /// A link in a front-matter property.
    Property,
    /// The note uses the tag.
    Tag,
}

/// Per-edge data: the kind and which link of which note made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    /// Why the edge exists.
    pub kind: EdgeKind,
    /// The note the edge starts from.
    pub source: NoteId,
    /// Index into the source note's `links` (or `tags` for tag edges).
    pub index: u32,
}

/// The concept graph of a vault.
#[derive(Debug, Default)]
pub struct ConceptGraph {
    /// The petgraph graph.
    pub graph: DiGraph<Node, Edge>,
    note_count: usize,
    wanted_nodes: Vec<NodeIndex>,
    tag_nodes: Vec<NodeIndex>,
    tag_index: FastMap<String, NodeIndex>,
    wanted_index: FastMap<String, NodeIndex>,
    /// The links into each node, laid out on first use (see [`Incoming`]).
    links_in: std::sync::OnceLock<Incoming<Backlink>>,
    /// The tag uses into each tag node, laid out when the graph is built.
    tags_in: Incoming<NoteId>,
}

/// Every node's incoming edges of one sort (links, embeds and property links; or tag uses) in
/// one flat array, each node's run starting at `start[node]`. Made in two linear passes over
/// the edges, which petgraph holds in insertion order (note by note, link by link), so every
/// run is already sorted by source note and link. A walk of petgraph's per-node edge lists
/// instead jumps across the whole edge array, a cache miss per edge once the vault has about
/// 100k notes, and tag pages, backlinks and orphans are queried for every note and tag. The
/// tag uses are laid out with the graph (they go to a few tag nodes: cheap); the links on the
/// first query, since `check` asks for none unless orphans are reported.
#[derive(Debug)]
struct Incoming<T> {
    start: Vec<u32>,
    items: Vec<T>,
}

impl<T> Default for Incoming<T> {
    fn default() -> Self {
        Incoming {
            start: Vec::new(),
            items: Vec::new(),
        }
    }
}

impl<T: Copy> Incoming<T> {
    /// The edges `pick` maps to an item, by target node.
    fn of(graph: &DiGraph<Node, Edge>, pick: impl Fn(&Edge) -> Option<T>) -> Incoming<T> {
        let nodes = graph.node_count();
        let mut start = vec![0u32; nodes + 1];
        let mut first: Option<T> = None;
        for e in graph.raw_edges() {
            if let Some(item) = pick(&e.weight) {
                first.get_or_insert(item);
                start[e.target().index() + 1] += 1;
            }
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        // The array is filled with the first item, then every slot is overwritten by the
        // scatter below (the items have no default value to fill it with).
        let Some(first) = first else {
            return Incoming {
                start,
                items: Vec::new(),
            };
        };
        let mut items = vec![first; start[nodes] as usize];
        let mut next = start.clone();
        for e in graph.raw_edges() {
            if let Some(item) = pick(&e.weight) {
                let to = e.target().index();
                items[next[to] as usize] = item;
                next[to] += 1;
            }
        }
        Incoming { start, items }
    }

    fn run(&self, node: NodeIndex) -> &[T] {
        let i = node.index();
        match (self.start.get(i), self.start.get(i + 1)) {
            (Some(&from), Some(&to)) => &self.items[from as usize..to as usize],
            _ => &[],
        }
    }
}

/// One incoming link of a note.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backlink {
    /// The linking note.
    pub source: NoteId,
    /// Index of the link in the source note.
    pub link: usize,
    /// Link, embed or property.
    pub kind: EdgeKind,
}

impl ConceptGraph {
    /// Builds the graph from the vault and the resolution of its links.
    pub fn build(vault: &Vault, resolution: &Resolution) -> ConceptGraph {
        let mut g = ConceptGraph {
            note_count: vault.notes.len(),
            ..ConceptGraph::default()
        };
        let edge_estimate =
            vault.link_count() + vault.notes.iter().map(|n| n.tags.len()).sum::<usize>();
        g.graph =
            DiGraph::with_capacity(vault.notes.len() + vault.attachments.len(), edge_estimate);
        for (id, _) in vault.note_ids() {
            g.graph.add_node(Node::Note(id));
        }
        for i in 0..vault.attachments.len() {
            g.graph.add_node(Node::Attachment(AttachmentId(i as u32)));
        }
        // A tag's spelling seen before needs no folding; a new spelling is folded into one
        // buffer, and allocates only when the tag is new.
        let mut key = String::new();
        let mut spelled: FastMap<&str, NodeIndex> = FastMap::default();
        // An edge per tag and note, however often the note uses the tag: the last note (id + 1)
        // to put an edge to each node, by node index, so a note of thousands of tags does not
        // look through its others for each.
        let mut tagged_by: Vec<u32> = Vec::new();
        for (id, note) in vault.note_ids() {
            let from = NodeIndex::new(id.0 as usize);
            for (i, link) in note.links.iter().enumerate() {
                let kind = match link.kind {
                    LinkKind::Embed => EdgeKind::Embed,
                    LinkKind::Property => EdgeKind::Property,
                    LinkKind::Wiki | LinkKind::Markdown => EdgeKind::Link,
                };
                let to = match &resolution.get(id, i).target {
                    LinkTarget::Note { id, .. } => NodeIndex::new(id.0 as usize),
                    LinkTarget::Attachment(a) => NodeIndex::new(g.note_count + a.0 as usize),
                    LinkTarget::Missing { key } => match g.wanted_index.get(key) {
                        Some(&n) => n,
                        None => {
                            let n = g.graph.add_node(Node::Wanted(link.target.clone()));
                            g.wanted_index.insert(key.clone(), n);
                            g.wanted_nodes.push(n);
                            n
                        }
                    },
                };
                g.graph.add_edge(
                    from,
                    to,
                    Edge {
                        kind,
                        source: id,
                        index: i as u32,
                    },
                );
            }
            for (i, tag) in note.tags.iter().enumerate() {
                let to = match spelled.get(tag.name.as_str()) {
                    Some(&n) => n,
                    None => {
                        fold_name_into(&mut key, &tag.name);
                        let n = match g.tag_index.get(key.as_str()) {
                            Some(&n) => n,
                            None => {
                                let n = g.graph.add_node(Node::Tag(tag.name.clone()));
                                g.tag_index.insert(key.clone(), n);
                                g.tag_nodes.push(n);
                                n
                            }
                        };
                        spelled.insert(&tag.name, n);
                        n
                    }
                };
                let slot = to.index();
                if tagged_by.len() <= slot {
                    tagged_by.resize(slot + 1, 0);
                }
                if tagged_by[slot] != id.0 + 1 {
                    tagged_by[slot] = id.0 + 1;
                    g.graph.add_edge(
                        from,
                        to,
                        Edge {
                            kind: EdgeKind::Tag,
                            source: id,
                            index: i as u32,
                        },
                    );
                }
            }
        }
        g.tags_in = Incoming::of(&g.graph, |e| (e.kind == EdgeKind::Tag).then_some(e.source));
        g
    }

    /// The node of a note.
    pub fn note_node(&self, id: NoteId) -> NodeIndex {
        NodeIndex::new(id.0 as usize)
    }

    /// The node of an attachment.
    pub fn attachment_node(&self, id: AttachmentId) -> NodeIndex {
        NodeIndex::new(self.note_count + id.0 as usize)
    }

    /// Links, embeds and property links pointing at a node, sorted by source note and position.
    pub fn incoming(&self, node: NodeIndex) -> &[Backlink] {
        let links = self.links_in.get_or_init(|| {
            Incoming::of(&self.graph, |e| {
                (e.kind != EdgeKind::Tag).then_some(Backlink {
                    source: e.source,
                    link: e.index as usize,
                    kind: e.kind,
                })
            })
        });
        links.run(node)
    }

    /// Backlinks of a note, excluding links from the note to itself, sorted as
    /// [`ConceptGraph::incoming`].
    pub fn backlinks(&self, id: NoteId) -> impl Iterator<Item = Backlink> + '_ {
        self.incoming(self.note_node(id))
            .iter()
            .copied()
            .filter(move |b| b.source != id)
    }

    /// Whether another note links to the note (an orphan has no backlink).
    pub fn has_backlinks(&self, id: NoteId) -> bool {
        self.backlinks(id).next().is_some()
    }

    /// Wanted (missing) targets with their display names, in first-seen order.
    pub fn wanted(&self) -> impl Iterator<Item = (NodeIndex, &str)> {
        self.wanted_nodes.iter().map(|&n| match &self.graph[n] {
            Node::Wanted(name) => (n, name.as_str()),
            _ => unreachable!("wanted_nodes holds only wanted nodes"),
        })
    }

    /// Tags with their display names, in first-seen order.
    pub fn tags(&self) -> impl Iterator<Item = (NodeIndex, &str)> {
        self.tag_nodes.iter().map(|&n| match &self.graph[n] {
            Node::Tag(name) => (n, name.as_str()),
            _ => unreachable!("tag_nodes holds only tag nodes"),
        })
    }

    /// The node of the tag named `name` (any letter case), if a note uses it.
    pub fn tag_node(&self, name: &str) -> Option<NodeIndex> {
        crate::source::with_folded(name, |key| self.tag_index.get(key).copied())
    }

    /// Notes using a tag node, in note order.
    pub fn tagged(&self, tag: NodeIndex) -> &[NoteId] {
        self.tags_in.run(tag)
    }

    /// Notes no other note links to.
    pub fn orphans(&self) -> Vec<NoteId> {
        (0..self.note_count)
            .map(|i| NoteId(i as u32))
            .filter(|&id| !self.has_backlinks(id))
            .collect()
    }

    /// Every edge in insertion order (note order, then link order).
    pub fn edges(&self) -> impl Iterator<Item = (EdgeIndex, NodeIndex, NodeIndex, &Edge)> {
        self.graph
            .edge_references()
            .map(|e| (e.id(), e.source(), e.target(), e.weight()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::SourceFile;
    use crate::source::VaultPath;

    /// A vault of `n` notes with links, embeds, self-links, wanted targets and (nested,
    /// differently spelled) tags, deterministic from `seed`.
    fn vault(n: usize, seed: u64) -> Vault {
        let mut x = seed | 1;
        let mut next = move |m: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % m as u64) as usize
        };
        let tags = ["#a", "#A", "#a/b", "#c", "#d/e/f"];
        let notes = (0..n)
            .map(|i| {
                let mut text = format!("---\ntags: [t{}]\n---\n# Note {i}\n", next(3));
                for _ in 0..next(8) {
                    match next(6) {
                        0 => text.push_str(&format!("See ![[n{}]].\n", next(n))),
                        1 => text.push_str(&format!("Wanted [[w{}]].\n", next(5))),
                        2 => text.push_str(&format!("Me [[n{i}]] {}.\n", tags[next(5)])),
                        _ => text.push_str(&format!("Link [[n{}]].\n", next(n))),
                    }
                }
                crate::parse::note(SourceFile {
                    path: VaultPath::new(&format!("n{i}.md")).unwrap(),
                    text,
                    is_template: false,
                })
                .0
            })
            .collect::<Vec<_>>();
        let mut notes = notes;
        notes.sort_by(|a, b| a.path.cmp(&b.path));
        Vault {
            notes,
            attachments: Vec::new(),
            other_sources: Vec::new(),
        }
    }

    /// A note gets one edge to each tag it uses, at the first use, however often and in
    /// whatever letter case it writes the tag again, also among thousands of tags.
    #[test]
    fn a_note_has_one_edge_per_tag() {
        let many: String = (0..3000)
            .map(|i| format!("#t{} #T{} ", i % 1000, i % 7))
            .collect();
        let texts = ["#a #b #A #a/b #b", "#b", many.as_str()];
        let notes = texts
            .iter()
            .enumerate()
            .map(|(i, text)| {
                crate::parse::note(SourceFile {
                    path: VaultPath::new(&format!("n{i}.md")).unwrap(),
                    text: text.to_string(),
                    is_template: false,
                })
                .0
            })
            .collect();
        let v = Vault {
            notes,
            attachments: Vec::new(),
            other_sources: Vec::new(),
        };
        let resolution = crate::resolve::resolve(&v, crate::resolve::ResolveOptions::default());
        let g = ConceptGraph::build(&v, &resolution);
        let uses = |note: u32| -> Vec<(u32, String)> {
            g.edges()
                .filter(|(_, from, _, e)| e.kind == EdgeKind::Tag && from.index() == note as usize)
                .map(|(_, _, to, e)| match &g.graph[to] {
                    Node::Tag(name) => (e.index, name.clone()),
                    _ => unreachable!(),
                })
                .collect()
        };
        let names = |list: &[(u32, &str)]| -> Vec<(u32, String)> {
            list.iter().map(|&(i, n)| (i, n.to_string())).collect()
        };
        assert_eq!(uses(0), names(&[(0, "a"), (1, "b"), (3, "a/b")]));
        assert_eq!(uses(1), names(&[(0, "b")]));
        let third = uses(2);
        assert_eq!(third.len(), 1000);
        assert_eq!(third[..3], names(&[(0, "t0"), (2, "t1"), (4, "t2")]));
        let b = g.tag_node("B").unwrap();
        assert_eq!(g.tagged(b), &[NoteId(0), NoteId(1)]);
    }

    /// The queries answered from the flat arrays equal those walked from petgraph's own edge
    /// lists (and sorted), for every node.
    #[test]
    fn incoming_edges_and_tag_uses_equal_petgraphs_edge_lists() {
        for seed in [1, 2, 3] {
            let vault = vault(300, seed);
            let resolution =
                crate::resolve::resolve(&vault, crate::resolve::ResolveOptions::default());
            let g = ConceptGraph::build(&vault, &resolution);
            let mut tags_seen = 0;
            for node in g.graph.node_indices() {
                let mut links: Vec<Backlink> = Vec::new();
                let mut tagged: Vec<NoteId> = Vec::new();
                for e in g.graph.edges_directed(node, petgraph::Direction::Incoming) {
                    let w = e.weight();
                    match w.kind {
                        EdgeKind::Tag => tagged.push(w.source),
                        kind => links.push(Backlink {
                            source: w.source,
                            link: w.index as usize,
                            kind,
                        }),
                    }
                }
                links.sort_by_key(|b| (b.source, b.link));
                tagged.sort();
                assert_eq!(g.incoming(node), &links[..], "seed {seed}, node {node:?}");
                assert_eq!(g.tagged(node), &tagged[..], "seed {seed}, node {node:?}");
                tags_seen += tagged.len();
                if let Node::Note(id) = g.graph[node] {
                    let others: Vec<Backlink> =
                        links.iter().copied().filter(|b| b.source != id).collect();
                    assert_eq!(g.backlinks(id).collect::<Vec<_>>(), others);
                    assert_eq!(g.has_backlinks(id), !others.is_empty());
                }
            }
            // The vault exercises every kind of edge.
            assert!(tags_seen > 0 && g.wanted().count() > 0 && !g.orphans().is_empty());
            assert!(g.edges().any(|(_, _, _, e)| e.kind == EdgeKind::Embed));
        }
    }
}
