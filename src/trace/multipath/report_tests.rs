//! The multipath report's table, stop lines and dot graph from a hand-made log.

use super::*;
use crate::render::dot::write_dot;
use crate::trace::multipath::log::tests::from;
use crate::trace::multipath::log::{Fate, ProbeLog};

fn report(stop: MpStop) -> MultipathReport {
    let mut log = ProbeLog::default();
    for flow in 0..4u16 {
        let at2 = if flow % 2 == 0 {
            "198.51.100.2"
        } else {
            "198.51.100.3"
        };
        for (ttl, at) in [(1, "198.51.100.1"), (2, at2), (3, "198.51.100.9")] {
            let i = log.push(ttl, flow, false);
            log.settle(i, from(at));
        }
    }
    let graph = graph::build(&log, 1);
    MultipathReport {
        mode: "multipath",
        target: "host\u{1b}[2J".into(),
        address: "198.51.100.9".parse().unwrap(),
        protocol: Protocol::Icmp,
        method: Method::RawIcmp,
        flows: "icmp".into(),
        confidence: 95,
        counting: "per_hop",
        confidence_reached: stop == MpStop::Rule,
        lossy_hops: Vec::new(),
        stop,
        max_probes: 12,
        deadline_ms: 10_000.0,
        probes_sent: 12,
        probing_ms: 40.0,
        reached: true,
        foreign_replies: 0,
        graph,
    }
}

#[test]
fn the_table_lists_each_interface_its_flows_and_the_diamond() {
    let r = report(MpStop::Rule);
    let view = r.view();
    let s = &view.sections[0];
    assert!(
        s.title.as_deref().unwrap().contains("host\\x1b[2J")
            || !s.title.as_deref().unwrap().contains('\u{1b}')
    );
    assert_eq!(s.rows.len(), 4);
    assert_eq!(s.rows[1][1].text, "198.51.100.2");
    assert_eq!(s.rows[1][2].text, "0 2");
    assert_eq!(s.rows[1][5].text, "198.51.100.1");
    assert_eq!(s.rows[1][6].text, "per flow");
    assert_eq!(s.rows[2][0].text, "");
    assert!(
        s.notes[0].starts_with("diamond: splits at hop 1 198.51.100.1, 2 wide, joins at hop 3"),
        "{:?}",
        s.notes
    );
    assert!(
        s.notes
            .last()
            .unwrap()
            .contains("at 95% confidence (MDA stopping rule, counted per hop)")
    );
    let bounded = report(MpStop::MaxProbes).stop_line();
    assert!(
        bounded.contains("--max-probes 12 ran out: 95% confidence not reached"),
        "{bounded}"
    );
}

#[test]
fn the_dot_graph_has_every_node_and_link() {
    let mut out = Vec::new();
    write_dot(&report(MpStop::Rule).dot().unwrap(), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.matches(" -> ").count(), 4, "{text}");
    assert!(
        text.contains("n1 [label=\"2: 198.51.100.2\\n2 flows\"];"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'));
    let _ = Fate::Lost;
    // A named interface that one flow reached: its name beside the address, "flow" in the singular.
    let mut r = report(MpStop::Rule);
    r.graph.nodes[0].flows = vec![0];
    r.graph.nodes[0].name = Some("r1.lab.test".into());
    let mut out = Vec::new();
    write_dot(&r.dot().unwrap(), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("n0 [label=\"1: r1.lab.test (198.51.100.1)\\n1 flow\"];"),
        "{text}"
    );
}
