//! Stage 4, graph: the concept graph (petgraph). Nodes are notes, attachments, wanted (missing)
//! targets and tags; an edge per link, embed, property link and tag use. Backlinks, wanted notes
//! and orphans are queries on it, not separate scans.
//!
//! Node indices are laid out deterministically: notes first (node `i` is `NoteId(i)`), then
//! attachments, then wanted targets and tags in first-seen order.

use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
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
        // The tags of the note at hand: an edge per tag, however often the note uses it.
        let mut note_tags: Vec<NodeIndex> = Vec::new();
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
            note_tags.clear();
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
                if !note_tags.contains(&to) {
                    note_tags.push(to);
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
        g
    }

    /// The node of a note.
    pub fn note_node(&self, id: NoteId) -> NodeIndex {
        NodeIndex::new(id.0 as usize)
    }

    /// Links, embeds and property links pointing at a node, sorted by source note and position.
    pub fn incoming(&self, node: NodeIndex) -> Vec<Backlink> {
        let mut out: Vec<Backlink> = self
            .graph
            .edges_directed(node, Direction::Incoming)
            .filter(|e| e.weight().kind != EdgeKind::Tag)
            .map(|e| Backlink {
                source: e.weight().source,
                link: e.weight().index as usize,
                kind: e.weight().kind,
            })
            .collect();
        out.sort_by_key(|b| (b.source, b.link));
        out
    }

    /// Backlinks of a note, excluding links from the note to itself.
    pub fn backlinks(&self, id: NoteId) -> Vec<Backlink> {
        let mut out = self.incoming(self.note_node(id));
        out.retain(|b| b.source != id);
        out
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
    pub fn tagged(&self, tag: NodeIndex) -> Vec<NoteId> {
        let mut out: Vec<NoteId> = self
            .graph
            .edges_directed(tag, Direction::Incoming)
            .map(|e| e.weight().source)
            .collect();
        out.sort();
        out
    }

    /// Notes no other note links to.
    pub fn orphans(&self) -> Vec<NoteId> {
        (0..self.note_count)
            .map(|i| NoteId(i as u32))
            .filter(|&id| self.backlinks(id).is_empty())
            .collect()
    }

    /// Every edge in insertion order (note order, then link order).
    pub fn edges(&self) -> impl Iterator<Item = (EdgeIndex, NodeIndex, NodeIndex, &Edge)> {
        self.graph
            .edge_references()
            .map(|e| (e.id(), e.source(), e.target(), e.weight()))
    }
}
