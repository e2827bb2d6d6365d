//! `vaultc graph`: the concept graph as JSON (nodes and edges) or Graphviz DOT.

use serde::Serialize;

use crate::compile::Compilation;
use crate::graph::{EdgeKind, Node};

#[derive(Serialize)]
struct JsonNode<'a> {
    id: usize,
    kind: &'static str,
    path: Option<&'a str>,
    title: &'a str,
}

#[derive(Serialize)]
struct JsonEdge {
    source: usize,
    target: usize,
    kind: EdgeKind,
    line: u32,
}

fn node_info<'a>(comp: &'a Compilation, node: &Node) -> (&'static str, Option<&'a str>, String) {
    match node {
        Node::Note(id) => {
            let n = comp.vault.note(*id);
            ("note", Some(n.path.as_str()), n.title.clone())
        }
        Node::Attachment(a) => {
            let p = comp.vault.attachment(*a).path.as_str();
            (
                "attachment",
                Some(p),
                p.rsplit('/').next().unwrap_or(p).to_string(),
            )
        }
        Node::Wanted(name) => ("wanted", None, name.clone()),
        Node::Tag(name) => ("tag", None, format!("#{name}")),
    }
}

fn edge_line(comp: &Compilation, e: &crate::graph::Edge) -> u32 {
    let note = comp.vault.note(e.source);
    let span = match e.kind {
        EdgeKind::Tag => note.tags[e.index as usize].span,
        _ => note.links[e.index as usize].span,
    };
    note.lines().line(span.start)
}

/// `{"nodes": [{id, kind, path, title}], "edges": [{source, target, kind, line}]}`.
pub fn json(comp: &Compilation) -> String {
    let g = &comp.graph.graph;
    let titles: Vec<(&'static str, Option<&str>, String)> =
        g.node_indices().map(|n| node_info(comp, &g[n])).collect();
    let nodes: Vec<JsonNode> = titles
        .iter()
        .enumerate()
        .map(|(id, (kind, path, title))| JsonNode {
            id,
            kind,
            path: *path,
            title,
        })
        .collect();
    let edges: Vec<JsonEdge> = comp
        .graph
        .edges()
        .map(|(_, s, t, e)| JsonEdge {
            source: s.index(),
            target: t.index(),
            kind: e.kind,
            line: edge_line(comp, e),
        })
        .collect();
    /// The document, serialized straight from the views: going through a `serde_json::Value`
    /// tree (an ordered map per node and edge) took longer than compiling the vault.
    #[derive(Serialize)]
    struct Export<'a> {
        nodes: Vec<JsonNode<'a>>,
        edges: Vec<JsonEdge>,
    }
    serde_json::to_string_pretty(&Export { nodes, edges }).expect("plain data") + "\n"
}

/// A Graphviz digraph: notes as boxes, wanted notes dashed red, attachments as notes, tags as
/// ellipses; edges styled by kind.
pub fn dot(comp: &Compilation) -> String {
    let g = &comp.graph.graph;
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let mut out = String::from(
        "digraph vault {\n  rankdir=LR;\n  node [shape=box, fontname=\"sans-serif\"];\n",
    );
    for n in g.node_indices() {
        let (kind, _, title) = node_info(comp, &g[n]);
        let style = match kind {
            "wanted" => ", style=dashed, color=red, fontcolor=red",
            "attachment" => ", shape=note",
            "tag" => ", shape=ellipse, color=gray40",
            _ => "",
        };
        out.push_str(&format!(
            "  n{} [label={}{style}];\n",
            n.index(),
            quote(&title)
        ));
    }
    for (_, s, t, e) in comp.graph.edges() {
        let style = match e.kind {
            EdgeKind::Embed => " [style=bold]",
            EdgeKind::Property => " [style=dotted]",
            EdgeKind::Tag => " [color=gray70, arrowhead=none]",
            EdgeKind::Link => "",
        };
        out.push_str(&format!("  n{} -> n{}{style};\n", s.index(), t.index()));
    }
    out.push_str("}\n");
    out
}
