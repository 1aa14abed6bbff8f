//! The multipath graph, pure: interfaces per hop (nodes), links seen by flows at consecutive answered
//! TTLs (edges), per-branch loss and RTT, how each hop balances, and the diamonds (where the path splits
//! and where it joins again).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::Serialize;

use super::log::{Fate, ProbeLog, answer};
use super::plan::{Balancing, balancing};
use crate::render::ms_f64;

/// One interface at one hop.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Node {
    /// Its index in `nodes` (edges refer to it).
    pub id: usize,
    /// The TTL it answered at.
    pub hop: u8,
    /// Its address.
    pub address: IpAddr,
    /// Its name (reverse DNS), when looked up and found (not with -n).
    pub name: Option<String>,
    /// The flows that reached it (their identifiers), in order.
    pub flows: Vec<u16>,
    /// Answers it sent (re-sent flows included).
    pub answers: usize,
    /// Fastest answer, ms.
    pub rtt_min_ms: f64,
    /// Mean answer time, ms.
    pub rtt_avg_ms: f64,
    /// Slowest answer, ms.
    pub rtt_max_ms: f64,
    /// It is the target (or an unreachable ended the path here).
    pub terminal: bool,
    /// Probes of its flows at the next TTL that got an answer or were given up (this branch's sample).
    pub next_sent: usize,
    /// Of those, given up without an answer: the loss of the branch leaving it.
    pub next_lost: usize,
    /// The first node behind a NAT (set from the hop model when a translator was detected).
    pub nat: bool,
}

/// Flows seen at `from` and then at `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Edge {
    /// Node index of the nearer interface.
    pub from: usize,
    /// Node index of the farther interface.
    pub to: usize,
    /// How many flows took this link.
    pub flows: usize,
}

/// A stretch where the path splits into branches and (maybe) joins again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Diamond {
    /// The node where it splits.
    pub split: usize,
    /// The node where every branch joins again (None: they never did before the end).
    pub join: Option<usize>,
    /// Most interfaces at one hop inside it.
    pub width: usize,
}

/// One hop of the multipath trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct HopSummary {
    /// Its TTL.
    pub hop: u8,
    /// How its interfaces share the traffic.
    pub balancing: Balancing,
    /// Probes at this TTL (re-sent flows included; one whose send failed is counted here and as lost).
    pub probes: usize,
    /// Of those, given up without an answer.
    pub lost: usize,
}

/// The whole graph.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Graph {
    /// Every interface, by hop then address.
    pub nodes: Vec<Node>,
    /// Every link seen.
    pub edges: Vec<Edge>,
    /// Per hop, up to the path's end.
    pub hops: Vec<HopSummary>,
    /// The diamonds, nearest first (nested ones are inside these).
    pub diamonds: Vec<Diamond>,
}

/// Builds the graph of everything `log` heard from `first` to the path's end (or the last answer).
pub fn build(log: &ProbeLog, first: u8) -> Graph {
    let top = log.end().or_else(|| log.highest_answered()).unwrap_or(first);
    let nodes = nodes(log, top);
    let index: BTreeMap<(u8, IpAddr), usize> = nodes.iter().map(|n| ((n.hop, n.address), n.id)).collect();
    let edges = edges(log, top, &index);
    let hops = (first..=top.max(first))
        .map(|ttl| {
            let at: Vec<_> = log.probes.iter().filter(|p| p.ttl == ttl).collect();
            HopSummary {
                hop: ttl,
                balancing: balancing(log, ttl),
                probes: at.len(),
                lost: at.iter().filter(|p| p.fate == Fate::Lost).count(),
            }
        })
        .collect();
    let diamonds = diamonds(&nodes, &edges);
    Graph {
        nodes,
        edges,
        hops,
        diamonds,
    }
}

/// What one interface was seen doing: the flows that reached it, its answer times (ms), whether it ends
/// the path.
type Seen = (BTreeSet<u16>, Vec<f64>, bool, bool);

fn nodes(log: &ProbeLog, top: u8) -> Vec<Node> {
    let mut found: BTreeMap<(u8, IpAddr), Seen> = BTreeMap::new();
    for p in log.probes.iter().filter(|p| p.ttl <= top) {
        let Some(a) = answer(p) else { continue };
        let entry = found.entry((p.ttl, a.from)).or_default();
        if !p.check {
            entry.0.insert(p.flow);
        }
        entry.1.push(ms_f64(a.rtt));
        entry.2 |= a.terminal;
        entry.3 |= a.translated;
    }
    // Only the first hop behind a translator is marked: every farther one answers from behind it too.
    let nat_hop = found
        .iter()
        .filter(|(_, seen)| seen.3)
        .map(|((hop, _), _)| *hop)
        .min();
    found
        .into_iter()
        .enumerate()
        .map(|(id, ((hop, address), (flows, rtts, terminal, translated)))| {
            let (next_sent, next_lost) = next_loss(log, hop, address);
            let sum: f64 = rtts.iter().sum();
            Node {
                id,
                hop,
                address,
                name: None,
                flows: flows.into_iter().collect(),
                answers: rtts.len(),
                rtt_min_ms: rtts.iter().copied().fold(f64::INFINITY, f64::min),
                rtt_avg_ms: (sum / rtts.len() as f64 * 1000.0).round() / 1000.0,
                rtt_max_ms: rtts.iter().copied().fold(0.0, f64::max),
                terminal,
                next_sent,
                next_lost,
                nat: translated && nat_hop == Some(hop),
            }
        })
        .collect()
}

/// Probes of the flows through `address` at `hop` that were settled at the next TTL, and those lost.
fn next_loss(log: &ProbeLog, hop: u8, address: IpAddr) -> (usize, usize) {
    let next = hop.saturating_add(1);
    let through = log
        .flows_at(hop)
        .filter(|(_, p)| answer(p).is_some_and(|a| a.from == address && !a.terminal));
    let mut counts = (0, 0);
    for (flow, _) in through {
        match log.at(next, flow).map(|p| p.fate) {
            Some(Fate::Lost) => {
                counts.0 += 1;
                counts.1 += 1;
            }
            Some(Fate::Answered(_)) => counts.0 += 1,
            _ => {}
        }
    }
    counts
}

/// Links seen by flows at consecutive answered TTLs. A flow that went unanswered (or unsent) at a TTL
/// with a single interface passed that interface all the same: it is counted there, so that a flow sent
/// only beyond it (or only before it) still links to it. A link skips a TTL only where nothing answered
/// at all: across a TTL with several interfaces, which one the flow met is not known.
fn edges(log: &ProbeLog, top: u8, index: &BTreeMap<(u8, IpAddr), usize>) -> Vec<Edge> {
    let mut per_hop: BTreeMap<u8, Vec<usize>> = BTreeMap::new();
    for (&(hop, _), &id) in index {
        per_hop.entry(hop).or_default().push(id);
    }
    let single: BTreeMap<u8, usize> = per_hop
        .iter()
        .filter(|(_, ids)| ids.len() == 1)
        .map(|(&hop, ids)| (hop, ids[0]))
        .collect();
    let mut per_flow: BTreeMap<u16, BTreeMap<u8, usize>> = BTreeMap::new();
    for p in log.probes.iter().filter(|p| !p.check && p.ttl <= top) {
        if let Some(a) = answer(p)
            && let Some(&id) = index.get(&(p.ttl, a.from))
        {
            per_flow.entry(p.flow).or_default().entry(p.ttl).or_insert(id);
        }
    }
    let terminal: BTreeSet<usize> = log
        .probes
        .iter()
        .filter_map(|p| answer(p).filter(|a| a.terminal).map(|a| (p.ttl, a.from)))
        .filter_map(|key| index.get(&key).copied())
        .collect();
    let mut counted: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for mut hops in per_flow.into_values() {
        let last = hops.iter().next_back().map(|(&t, &id)| (t, id));
        // Past the flow's last answer only if that was not the path's end.
        let upto = match last {
            Some((t, id)) if terminal.contains(&id) => t,
            _ => top,
        };
        for (&hop, &id) in single.range(..=upto) {
            hops.entry(hop).or_insert(id);
        }
        let seen: Vec<(u8, usize)> = hops.into_iter().collect();
        for pair in seen.windows(2) {
            let ((near, from), (far, to)) = (pair[0], pair[1]);
            if (near + 1..far).all(|t| !per_hop.contains_key(&t)) {
                *counted.entry((from, to)).or_default() += 1;
            }
        }
    }
    counted
        .into_iter()
        .map(|((from, to), flows)| Edge { from, to, flows })
        .collect()
}

/// Each node with several successors starts a diamond that ends where its branches all meet one node
/// again; splits inside a diamond already found are part of it. The branches advance a hop at a time
/// (a link over a lost probe skips one, and waits for the others there).
fn diamonds(nodes: &[Node], edges: &[Edge]) -> Vec<Diamond> {
    let succ = |ids: &BTreeSet<usize>| -> BTreeSet<usize> {
        edges
            .iter()
            .filter(|e| ids.contains(&e.from))
            .map(|e| e.to)
            .collect()
    };
    let linked: BTreeSet<usize> = edges.iter().map(|e| e.to).collect();
    let first_hop = nodes.iter().map(|n| n.hop).min();
    let orphans: Vec<usize> = nodes
        .iter()
        .filter(|n| !linked.contains(&n.id) && Some(n.hop) != first_hop)
        .map(|n| n.id)
        .collect();
    let mut found: Vec<Diamond> = Vec::new();
    let mut inside: BTreeSet<usize> = BTreeSet::new();
    for n in nodes {
        if inside.contains(&n.id) || succ(&BTreeSet::from([n.id])).len() < 2 {
            continue;
        }
        let mut frontier = BTreeSet::from([n.id]);
        let mut seen = BTreeSet::new();
        let mut join = None;
        // Bounded: every step moves some branch to a farther hop, and there are finitely many nodes.
        for _ in 0..=nodes.len() {
            let Some(near) = frontier.iter().map(|&i| nodes[i].hop).min() else {
                break;
            };
            let (now, later): (BTreeSet<usize>, BTreeSet<usize>) =
                frontier.iter().partition(|&&i| nodes[i].hop == near);
            let mut next: BTreeSet<usize> = succ(&now).union(&later).copied().collect();
            // An interface no seen link leads to (its flows were sent only beyond a hop of several
            // interfaces) is a branch wherever the branches reach its hop.
            let hops: BTreeSet<u8> = next.iter().map(|&i| nodes[i].hop).collect();
            next.extend(orphans.iter().filter(|&&i| hops.contains(&nodes[i].hop)));
            if next.is_empty() {
                break;
            }
            if next.len() == 1 {
                join = next.first().copied();
                break;
            }
            seen.extend(next.iter().copied());
            frontier = next;
        }
        let mut per_hop: BTreeMap<u8, usize> = BTreeMap::new();
        for &i in &seen {
            *per_hop.entry(nodes[i].hop).or_default() += 1;
        }
        inside.extend(seen);
        found.push(Diamond {
            split: n.id,
            join,
            width: per_hop.values().copied().max().unwrap_or(1),
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::multipath::log::tests::from;

    /// A log where flows 0..8 reach hop 1 at .1, hop 2 at .2/.3 by parity, hop 3 at .4 (the join).
    fn diamond_log() -> ProbeLog {
        let mut log = ProbeLog::default();
        for flow in 0..8u16 {
            let hop2 = if flow % 2 == 0 {
                "198.51.100.2"
            } else {
                "198.51.100.3"
            };
            for (ttl, at) in [(1, "198.51.100.1"), (2, hop2), (3, "198.51.100.4")] {
                let i = log.push(ttl, flow, false);
                let fate = if flow == 7 && ttl == 3 {
                    Fate::Lost
                } else {
                    from(at)
                };
                log.settle(i, fate);
            }
        }
        log
    }

    #[test]
    fn an_interface_reached_only_by_a_flow_sent_beyond_a_split_is_a_branch_of_the_diamond() {
        let mut log = diamond_log();
        // Flow 8 went out at hop 3 only and met another interface there: which hop-2 interface it
        // passed is not known, so no link leads to it, but it widens the diamond to 2 at hop 3.
        let i = log.push(3, 8, false);
        log.settle(i, from("198.51.100.5"));
        let g = build(&log, 1);
        let orphan = g
            .nodes
            .iter()
            .find(|n| n.address.to_string() == "198.51.100.5")
            .unwrap();
        assert!(g.edges.iter().all(|e| e.to != orphan.id), "{:?}", g.edges);
        assert_eq!(g.diamonds.len(), 1, "{:?}", g.diamonds);
        assert_eq!(g.diamonds[0].width, 2);
        assert_eq!(g.diamonds[0].join, None);
    }

    #[test]
    fn nodes_edges_and_the_diamond_of_a_two_way_split() {
        let g = build(&diamond_log(), 1);
        let addrs: Vec<String> = g.nodes.iter().map(|n| n.address.to_string()).collect();
        assert_eq!(
            addrs,
            ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"]
        );
        assert_eq!(g.nodes[1].flows, [0, 2, 4, 6]);
        assert_eq!(g.edges.len(), 4);
        assert_eq!(
            g.edges[0],
            Edge {
                from: 0,
                to: 1,
                flows: 4
            }
        );
        // Flow 7's probe at hop 3 was lost, but hop 3 has one interface: the flow passed it all the same.
        assert_eq!(
            g.edges[3],
            Edge {
                from: 2,
                to: 3,
                flows: 4
            }
        );
        assert_eq!(
            g.diamonds,
            [Diamond {
                split: 0,
                join: Some(3),
                width: 2
            }]
        );
        // Flow 7 went through .3 and was lost at hop 3: that branch lost one of four.
        assert_eq!((g.nodes[2].next_sent, g.nodes[2].next_lost), (4, 1));
        assert_eq!((g.nodes[1].next_sent, g.nodes[1].next_lost), (4, 0));
        assert_eq!(g.hops[1].balancing, Balancing::PerFlow);
        assert_eq!(g.hops[2].lost, 1);
    }

    #[test]
    fn a_link_over_a_lost_probe_does_not_widen_the_diamond() {
        let mut log = diamond_log();
        // Flow 9: hop 1, hop 2 at .3, lost at hop 3, then the hop-4 target: a link from .3 to hop 4.
        for (ttl, fate) in [
            (1, from("198.51.100.1")),
            (2, from("198.51.100.3")),
            (3, Fate::Lost),
        ] {
            let i = log.push(ttl, 9, false);
            log.settle(i, fate);
        }
        for flow in [0, 9] {
            let i = log.push(4, flow, false);
            log.settle(i, from("198.51.100.5"));
        }
        // Hop 3 has one interface: the flow lost there passed it, so the branches join there.
        let g = build(&log, 1);
        assert_eq!(
            g.diamonds,
            [Diamond {
                split: 0,
                join: Some(3),
                width: 2
            }]
        );
    }

    #[test]
    fn only_the_first_hop_with_rewritten_quotes_is_marked_behind_a_nat() {
        let mut log = ProbeLog::default();
        for (ttl, at) in [(1, "198.51.100.1"), (2, "198.51.100.2"), (3, "198.51.100.3")] {
            let i = log.push(ttl, 0, false);
            let mut fate = from(at);
            if let Fate::Answered(a) = &mut fate {
                a.translated = ttl >= 2;
            }
            log.settle(i, fate);
        }
        let marks: Vec<bool> = build(&log, 1).nodes.iter().map(|n| n.nat).collect();
        assert_eq!(marks, [false, true, false]);
    }

    #[test]
    fn a_flow_first_sent_past_a_single_interface_still_links_to_it() {
        let mut log = ProbeLog::default();
        let i = log.push(1, 0, false);
        log.settle(i, from("198.51.100.1"));
        for (flow, at) in [(0, "198.51.100.2"), (1, "198.51.100.3")] {
            let i = log.push(2, flow, false);
            log.settle(i, from(at));
        }
        let g = build(&log, 1);
        assert_eq!(g.edges.len(), 2, "{:?}", g.edges);
        assert_eq!(g.diamonds.len(), 1);
        assert_eq!(g.nodes[2].flows, [1]);
    }

    #[test]
    fn a_split_that_never_joins_is_an_open_diamond() {
        let mut log = ProbeLog::default();
        for flow in 0..4u16 {
            let i = log.push(1, flow, false);
            log.settle(i, from("198.51.100.1"));
            let j = log.push(2, flow, false);
            log.settle(j, from(if flow < 2 { "198.51.100.2" } else { "198.51.100.3" }));
        }
        let g = build(&log, 1);
        assert_eq!(
            g.diamonds,
            [Diamond {
                split: 0,
                join: None,
                width: 2
            }]
        );
    }
}
