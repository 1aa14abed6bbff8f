//! The multipath report: the settings, how the search ended, and the graph; its table view lists every
//! interface per hop with the flows that reached it, its branch's loss and RTT, and the diamonds below.

use std::collections::HashMap;
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::Serialize;

use super::engine::{MpOutcome, MpStop};
use super::graph::{self, Graph, Node};
use super::plan::Balancing;
use super::run::MpSettings;
use crate::render::dot::{DotEdge, DotGraph, DotNode};
use crate::render::{Cell, Report, Section, Tone, View, ms_f64};
use crate::text::escape;
use crate::trace::config::Config;
use crate::trace::engine::Protocol;
use crate::trace::prober::{Method, Prober};

/// Flow identifiers listed in a table cell before the rest is counted.
const FLOWS_SHOWN: usize = 6;

/// `sockdiag trace --multipath`'s report.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MultipathReport {
    /// The shape of this trace document: always `multipath`.
    pub mode: &'static str,
    /// The host as given.
    pub target: String,
    /// The address traced.
    pub address: IpAddr,
    /// What the probes are.
    pub protocol: Protocol,
    /// How they were sent and heard.
    pub method: Method,
    /// How flows differ: the ICMP checksum or the UDP or TCP destination port, from which first value.
    pub flows: String,
    /// The confidence asked for, percent (95 or 99).
    pub confidence: u8,
    /// What the stopping rule counted: each hop's interfaces (`per_hop`, MDA-Lite) or each interface's
    /// next hops (`per_node`, MDA's node control, --per-node).
    pub counting: &'static str,
    /// Whether the stopping rule ended the search at every hop (else a bound did, or some hop lost too
    /// many probes: not reached).
    pub confidence_reached: bool,
    /// Hops that answered but lost too many probes (as many as the rule needs answered) to reach the
    /// rule's count: the confidence does not hold there.
    pub lossy_hops: Vec<u8>,
    /// What ended the search.
    pub stop: MpStop,
    /// The probe budget (--max-probes).
    pub max_probes: u32,
    /// The deadline, ms.
    pub deadline_ms: f64,
    /// Probes that went out (a send that failed is not one).
    pub probes_sent: usize,
    /// From the first probe to the end, ms.
    pub probing_ms: f64,
    /// The target answered.
    pub reached: bool,
    /// Replies that were not this trace's.
    pub foreign_replies: usize,
    /// Interfaces, links, hops and diamonds.
    pub graph: Graph,
}

impl MultipathReport {
    /// The report of a finished search.
    pub fn build(
        config: &Config,
        settings: &MpSettings,
        prober: &Prober,
        address: IpAddr,
        outcome: &MpOutcome,
        names: &HashMap<IpAddr, String>,
    ) -> MultipathReport {
        let mut graph = graph::build(&outcome.log, config.first_ttl);
        for n in &mut graph.nodes {
            n.name = names.get(&n.address).cloned();
        }
        let port = config.port.unwrap_or(crate::trace::config::UDP_PORT);
        let flows = match config.protocol {
            Protocol::Udp => format!("udp destination port {port} + flow"),
            Protocol::Tcp => format!("tcp destination port {port} + flow"),
            Protocol::Icmp => format!(
                "icmp echo checksum {:#06x} + flow",
                crate::trace::net::DEFAULT_ECHO_FLOW
            ),
        };
        MultipathReport {
            mode: "multipath",
            target: config.host.clone(),
            address,
            protocol: config.protocol,
            method: prober.method(),
            flows,
            confidence: settings.confidence.percent(),
            counting: if settings.per_node { "per_node" } else { "per_hop" },
            confidence_reached: outcome.stop == MpStop::Rule && outcome.short.is_empty(),
            lossy_hops: outcome.short.clone(),
            stop: outcome.stop,
            max_probes: settings.max_probes,
            deadline_ms: ms_f64(settings.deadline),
            probes_sent: outcome.log.probes.len() - outcome.unsent,
            probing_ms: ms_f64(outcome.elapsed),
            reached: graph.nodes.iter().any(|n| n.address == address),
            foreign_replies: outcome.foreign,
            graph,
        }
    }

    /// The last line: what ended the search and whether the confidence holds.
    pub fn stop_line(&self) -> String {
        let spent = format!("{} probes in {:.0} ms", self.probes_sent, self.probing_ms);
        let c = self.confidence;
        match self.stop {
            MpStop::Rule if !self.lossy_hops.is_empty() => {
                let hops: Vec<String> = self.lossy_hops.iter().map(u8::to_string).collect();
                format!(
                    "hop {} lost too many probes: {c}% confidence not reached there; {spent}",
                    hops.join(", ")
                )
            }
            MpStop::Rule => format!(
                "every next hop found at {c}% confidence (MDA stopping rule, counted {}); {spent}",
                self.counting.replace('_', " ")
            ),
            MpStop::MaxProbes => format!(
                "--max-probes {} ran out: {c}% confidence not reached; {spent}",
                self.max_probes
            ),
            MpStop::Deadline => format!(
                "the deadline ({:.0} ms) passed: {c}% confidence not reached; {spent}",
                self.deadline_ms
            ),
            MpStop::Interrupted => format!("interrupted: {c}% confidence not reached; {spent}"),
            MpStop::FlowsExhausted => {
                format!("no more flows to try through some node: {c}% confidence not reached; {spent}")
            }
        }
    }

    /// The table's title: the host (and its address when it was a name) and the confidence.
    fn title(&self) -> String {
        let target = if self.target == self.address.to_string() {
            self.target.clone()
        } else {
            format!("{} ({})", escape(&self.target), self.address)
        };
        format!("multipath trace to {target}, {}% confidence", self.confidence)
    }

    /// The nodes that lead to `n`, as "hop: address" text.
    fn predecessors(&self, n: &Node) -> String {
        let from: Vec<String> = self
            .graph
            .edges
            .iter()
            .filter(|e| e.to == n.id)
            .map(|e| self.graph.nodes[e.from].address.to_string())
            .collect();
        from.join(" ")
    }

    fn node_row(&self, n: &Node, first_of_hop: bool) -> Vec<Cell> {
        let hop = self.graph.hops.iter().find(|h| h.hop == n.hop);
        let balancing = match hop.map(|h| h.balancing) {
            Some(Balancing::PerFlow) if first_of_hop => "per flow",
            Some(Balancing::PerPacket) if first_of_hop => "per packet",
            _ => "",
        };
        let mut flows: Vec<String> = n.flows.iter().take(FLOWS_SHOWN).map(u16::to_string).collect();
        if n.flows.len() > FLOWS_SHOWN {
            flows.push(format!("+{}", n.flows.len() - FLOWS_SHOWN));
        }
        let loss = match (n.next_sent, n.terminal) {
            (0, _) | (_, true) => String::new(),
            (sent, _) => format!("{}/{sent}", n.next_lost),
        };
        let mut address = named(n);
        if n.nat {
            address.push_str(" (behind NAT)");
        }
        vec![
            Cell::from(if first_of_hop {
                n.hop.to_string()
            } else {
                String::new()
            }),
            Cell::from(address),
            Cell::from(flows.join(" ")),
            Cell::from(format!(
                "{:.2} / {:.2} / {:.2}",
                n.rtt_min_ms, n.rtt_avg_ms, n.rtt_max_ms
            )),
            Cell::from(loss),
            Cell::from(self.predecessors(n)),
            Cell::toned(balancing, Tone::Warn),
        ]
    }

    /// The diamonds as lines below the table.
    fn diamond_lines(&self) -> Vec<String> {
        let at = |id: usize| {
            let n = &self.graph.nodes[id];
            format!("hop {} {}", n.hop, named(n))
        };
        self.graph
            .diamonds
            .iter()
            .map(|d| match d.join {
                Some(j) => format!(
                    "diamond: splits at {}, {} wide, joins at {}",
                    at(d.split),
                    d.width,
                    at(j)
                ),
                None => format!(
                    "diamond: splits at {}, {} wide, never joins again",
                    at(d.split),
                    d.width
                ),
            })
            .collect()
    }
}

impl Report for MultipathReport {
    fn view(&self) -> View {
        let columns = [
            "HOP",
            "ADDRESS",
            "FLOWS",
            "RTT MIN/AVG/MAX",
            "NEXT LOSS",
            "FROM",
            "BALANCING",
        ];
        let mut section = Section::new(&columns)
            .droppable(&["FROM", "NEXT LOSS", "FLOWS"])
            .titled(self.title());
        let mut last_hop = None;
        for n in &self.graph.nodes {
            section.rows.push(self.node_row(n, last_hop != Some(n.hop)));
            last_hop = Some(n.hop);
        }
        for h in self
            .graph
            .hops
            .iter()
            .filter(|h| !self.graph.nodes.iter().any(|n| n.hop == h.hop))
        {
            section.rows.push(vec![
                Cell::from(h.hop.to_string()),
                Cell::toned("*", Tone::Bad),
                Cell::from(format!("{} probes, no answer", h.probes)),
                Cell::from(""),
                Cell::from(""),
                Cell::from(""),
                Cell::from(""),
            ]);
        }
        section.notes.extend(self.diamond_lines());
        section.notes.push(format!("flows: {}", self.flows));
        let per_hop: Vec<String> = self
            .graph
            .hops
            .iter()
            .map(|h| format!("{}:{}", h.hop, h.probes))
            .collect();
        section
            .notes
            .push(format!("probes per hop: {}", per_hop.join(" ")));
        section.notes.push(self.stop_line());
        View {
            sections: vec![section],
        }
    }

    fn dot(&self) -> Option<DotGraph> {
        let nodes = self
            .graph
            .nodes
            .iter()
            .map(|n| DotNode {
                id: n.id,
                rank: n.hop,
                label: format!(
                    "{}: {}\n{} flow{}{}",
                    n.hop,
                    named(n),
                    n.flows.len(),
                    if n.flows.len() == 1 { "" } else { "s" },
                    if n.nat { ", NAT" } else { "" }
                ),
            })
            .collect();
        let edges = self
            .graph
            .edges
            .iter()
            .map(|e| DotEdge {
                from: e.from,
                to: e.to,
                label: e.flows.to_string(),
            })
            .collect();
        Some(DotGraph {
            name: "sockdiag_multipath".into(),
            title: format!("{} ({}), {}%", self.target, self.address, self.confidence),
            nodes,
            edges,
        })
    }
}

/// An interface as shown: "name (address)" when it has a name (escaped: it comes from DNS), else the
/// address.
fn named(n: &Node) -> String {
    match &n.name {
        Some(name) => format!("{} ({})", escape(name), n.address),
        None => n.address.to_string(),
    }
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
