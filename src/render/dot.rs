//! `--format dot`: a graph drawn for Graphviz (`sockdiag trace --multipath --format dot | dot -Tsvg`).

use std::io::{self, Write};

/// A graph a report can be drawn as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotGraph {
    /// The graph's identifier (letters, digits and underscores).
    pub name: String,
    /// Its title, drawn above it.
    pub title: String,
    /// The nodes; the same `rank` puts them side by side.
    pub nodes: Vec<DotNode>,
    /// The links.
    pub edges: Vec<DotEdge>,
}

/// One node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotNode {
    /// Its number (edges refer to it).
    pub id: usize,
    /// Nodes of one rank are drawn on one row.
    pub rank: u8,
    /// Its label (lines split by `\n`).
    pub label: String,
}

/// One link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotEdge {
    /// From this node.
    pub from: usize,
    /// To this node.
    pub to: usize,
    /// Its label.
    pub label: String,
}

/// A string as a dot quoted string: quotes and backslashes escaped, line breaks as `\n`, other control
/// characters dropped (outside text never breaks out of its quotes).
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in crate::text::escape_keep_lines(text).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Writes `graph` in the dot language.
pub fn write_dot(graph: &DotGraph, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "digraph {} {{", graph.name)?;
    writeln!(out, "  label={};", quoted(&graph.title))?;
    writeln!(
        out,
        "  labelloc=t;\n  rankdir=TB;\n  node [shape=box, fontname=\"monospace\"];"
    )?;
    for n in &graph.nodes {
        writeln!(out, "  n{} [label={}];", n.id, quoted(&n.label))?;
    }
    let mut ranks: Vec<u8> = graph.nodes.iter().map(|n| n.rank).collect();
    ranks.dedup();
    for r in ranks {
        let ids: Vec<String> = graph
            .nodes
            .iter()
            .filter(|n| n.rank == r)
            .map(|n| format!("n{}", n.id))
            .collect();
        writeln!(out, "  {{ rank=same; {}; }}", ids.join("; "))?;
    }
    for e in &graph.edges {
        writeln!(out, "  n{} -> n{} [label={}];", e.from, e.to, quoted(&e.label))?;
    }
    writeln!(out, "}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_ranks_and_edges_with_hostile_labels_kept_in_quotes() {
        let g = DotGraph {
            name: "g".into(),
            title: "evil\" -> x [".into(),
            nodes: vec![
                DotNode {
                    id: 0,
                    rank: 1,
                    label: "1: a\n2 flows".into(),
                },
                DotNode {
                    id: 1,
                    rank: 2,
                    label: "b\\".into(),
                },
                DotNode {
                    id: 2,
                    rank: 2,
                    label: "c\u{7}".into(),
                },
            ],
            edges: vec![DotEdge {
                from: 0,
                to: 1,
                label: "3".into(),
            }],
        };
        let mut out = Vec::new();
        write_dot(&g, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("digraph g {\n  label=\"evil\\\" -> x [\";"),
            "{text}"
        );
        assert!(text.contains("n0 [label=\"1: a\\n2 flows\"];"), "{text}");
        assert!(text.contains("{ rank=same; n1; n2; }"), "{text}");
        assert!(text.contains("n0 -> n1 [label=\"3\"];"), "{text}");
        assert!(!text.contains('\u{7}'));
        assert!(text.ends_with("}\n"));
    }
}
