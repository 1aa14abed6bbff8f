//! The planner against pure topologies: each probe answered at once by the interface its flow hashes to.

use std::collections::BTreeSet;
use std::time::Duration;

use super::*;
use crate::trace::multipath::log::Answer;

/// One TTL of a pure path.
#[derive(Clone)]
enum Kind {
    /// Answers from these interfaces by flow hash (one: no balancer).
    Flow(Vec<&'static str>),
    /// A random one for every packet (a counter stands in for randomness).
    Packet(Vec<&'static str>),
    /// Never answers.
    Silent,
    /// As `Flow` with one interface, but the first flow's probe is lost (a late first answer).
    LateFirst(&'static str),
    /// One interface that loses the probes of flows below `n`.
    LosesBelow(&'static str, u16),
    /// One interface that answers flow 2's probe only.
    OnlyFlowTwo(&'static str),
}

/// A path of these hops, then the target at TTL len+1; returns the log when the planner is done.
fn run(path: &[Kind], confidence: Confidence, budget: usize) -> (ProbeLog, bool, bool) {
    run_paced(path, confidence, budget, false)
}

/// As [`run_paced`], with MDA-Lite's hop-level counting or MDA's node control.
fn run_paced(
    path: &[Kind],
    confidence: Confidence,
    budget: usize,
    near_first: bool,
) -> (ProbeLog, bool, bool) {
    run_mode(path, confidence, budget, near_first, false)
}

/// As [`run`]; with `near_first`, each round answers only the nearest TTL's probes (a real path's
/// answers arrive nearest first, and the planner must not count probes twice meanwhile); `per_node`
/// for MDA's node control.
fn run_mode(
    path: &[Kind],
    confidence: Confidence,
    budget: usize,
    near_first: bool,
    per_node: bool,
) -> (ProbeLog, bool, bool) {
    let planner = Planner {
        confidence,
        first_ttl: 1,
        max_ttl: 30,
        max_flows: 1024,
        per_node,
    };
    let mut log = ProbeLog::default();
    let mut unmet = false;
    let mut spent = 0;
    let mut coin = 0u64;
    loop {
        let sent = planner.plan(&mut log, budget - spent, &mut unmet);
        spent += sent;
        let mut pending: Vec<usize> = (0..log.probes.len())
            .filter(|&i| log.probes[i].fate == Fate::Pending)
            .collect();
        if near_first && let Some(near) = pending.iter().map(|&i| log.probes[i].ttl).min() {
            pending.retain(|&i| log.probes[i].ttl == near);
        }
        if pending.is_empty() {
            break;
        }
        for i in pending {
            let p = log.probes[i];
            coin = coin
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let fate = answer_for(path, p.ttl, p.flow, coin >> 33);
            log.settle(i, fate);
        }
    }
    let ok = planner.satisfied(&log);
    (log, unmet, ok)
}

fn answer_for(path: &[Kind], ttl: u8, flow: u16, coin: u64) -> Fate {
    let hash = u64::from(flow).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 20;
    let (from, terminal) = match path.get(usize::from(ttl) - 1) {
        None => ("203.0.113.200", true),
        Some(Kind::Silent) => return Fate::Lost,
        Some(Kind::LateFirst(_)) if flow == 0 => return Fate::Lost,
        Some(Kind::LateFirst(a)) => (*a, false),
        Some(Kind::LosesBelow(_, n)) if flow < *n => return Fate::Lost,
        Some(Kind::LosesBelow(a, _)) => (*a, false),
        Some(Kind::OnlyFlowTwo(a)) if flow == 2 => (*a, false),
        Some(Kind::OnlyFlowTwo(_)) => return Fate::Lost,
        Some(Kind::Flow(v)) => (v[(hash % v.len() as u64) as usize], false),
        Some(Kind::Packet(v)) => (v[(coin % v.len() as u64) as usize], false),
    };
    Fate::Answered(Answer {
        from: from.parse().unwrap(),
        rtt: Duration::from_millis(1),
        terminal,
        translated: false,
    })
}

fn first_probes_at(log: &ProbeLog, ttl: u8) -> usize {
    log.flows_at(ttl).count()
}

#[test]
fn a_path_without_balancers_costs_the_k1_stop_point_per_hop() {
    let path = vec![Kind::Flow(vec!["198.51.100.1"]), Kind::Flow(vec!["198.51.100.2"])];
    for (c, n, paced) in [
        (Confidence::P95, 6, false),
        (Confidence::P99, 8, false),
        (Confidence::P95, 6, true),
    ] {
        let (log, unmet, ok) = run_paced(&path, c, 10_000, paced);
        assert!(ok && !unmet);
        for ttl in 1..=3 {
            assert_eq!(log.nodes_at(ttl).len(), 1);
            assert!(
                first_probes_at(&log, ttl) <= n,
                "ttl {ttl}: {}",
                first_probes_at(&log, ttl)
            );
        }
        assert!(log.probes.iter().all(|p| !p.check));
        // One probe at TTL 1 (this host's route), one at the target's TTL, none past it.
        assert_eq!(first_probes_at(&log, 1), 1);
        assert_eq!(first_probes_at(&log, 3), 1);
        assert!(log.probes.iter().all(|p| p.ttl <= 3));
    }
}

/// A 2-way balancer before hop 2 and a 4-way one before hop 3, the target at TTL 4.
fn two_then_four() -> Vec<Kind> {
    vec![
        Kind::Flow(vec!["198.51.100.1"]),
        Kind::Flow(vec!["198.51.100.2", "198.51.100.3"]),
        Kind::Flow(vec![
            "198.51.100.4",
            "198.51.100.5",
            "198.51.100.6",
            "198.51.100.7",
        ]),
    ]
}

#[test]
fn hop_level_counting_spends_the_stop_point_of_each_hop_and_no_more() {
    for paced in [false, true] {
        let (log, unmet, ok) = run_paced(&two_then_four(), Confidence::P95, 10_000, paced);
        assert!(ok && !unmet, "paced {paced}");
        assert_eq!(log.nodes_at(2).len(), 2);
        assert_eq!(log.nodes_at(3).len(), 4);
        // Two balanced hops share the 5 % failure: n(4) at 97.5 % = 24 distinct flows at hop 3, and
        // the same flows at hop 2 (its own n(2) = 12 is less); five re-sends at each of them.
        let counts: Vec<usize> = (1..=4).map(|t| first_probes_at(&log, t)).collect();
        assert_eq!(counts, [1, 24, 24, 1], "paced {paced}");
        for ttl in [2, 3] {
            let checks = log.probes.iter().filter(|p| p.check && p.ttl == ttl).count();
            assert_eq!(checks, 5, "ttl {ttl}");
        }
        assert_eq!(balancing(&log, 3), Balancing::PerFlow);
        // The flows of hop 3 were sent at hop 2 too: their links are seen, every hop-3 interface has
        // one from hop 2 and one to the target.
        let graph = crate::trace::multipath::graph::build(&log, 1);
        for n in graph.nodes.iter().filter(|n| n.hop == 3) {
            assert!(graph.edges.iter().any(|e| e.to == n.id), "{:?}", graph.edges);
            assert!(graph.edges.iter().any(|e| e.from == n.id), "{:?}", graph.edges);
        }
        assert_eq!(graph.diamonds.len(), 1, "{:?}", graph.diamonds);
        assert_eq!(graph.diamonds[0].width, 4);
    }
}

#[test]
fn two_then_four_way_balancers_show_every_interface_and_node_control_holds() {
    let (log, unmet, ok) = run_mode(&two_then_four(), Confidence::P95, 10_000, false, true);
    assert!(ok && !unmet);
    assert_eq!(log.nodes_at(2).len(), 2);
    assert_eq!(log.nodes_at(3).len(), 4);
    assert_eq!(log.nodes_at(4).len(), 1);
    assert_eq!(balancing(&log, 2), Balancing::PerFlow);
    assert_eq!(balancing(&log, 3), Balancing::PerFlow);
    assert_eq!(balancing(&log, 1), Balancing::None);
    // Every hop-2 node had its own next hops counted: 4 found => k=2 each needs 11 of its flows.
    for v in log.nodes_at(2) {
        let through: BTreeSet<u16> = log
            .flows_at(2)
            .filter(|(_, p)| answer(p).is_some_and(|a| a.from == v))
            .map(|(f, _)| f)
            .collect();
        let at3 = log.flows_at(3).filter(|(f, _)| through.contains(f)).count();
        assert!(at3 >= 11, "{v}: {at3}");
    }
    assert!(log.probes.len() < 200, "{}", log.probes.len());
}

#[test]
fn per_packet_balancing_is_seen_and_pools_the_next_hop() {
    let path = vec![
        Kind::Flow(vec!["198.51.100.1"]),
        Kind::Packet(vec!["198.51.100.2", "198.51.100.3"]),
        Kind::Flow(vec!["198.51.100.4"]),
    ];
    let (log, _, ok) = run(&path, Confidence::P95, 10_000);
    assert!(ok);
    assert_eq!(balancing(&log, 2), Balancing::PerPacket);
    assert_eq!(log.nodes_at(3).len(), 1);
    // Pooled: hop 3 needs 6 flows in all, not 6 per hop-2 interface.
    assert!(first_probes_at(&log, 3) <= 8, "{}", first_probes_at(&log, 3));
}

#[test]
fn a_silent_hop_costs_six_lost_probes_and_the_next_hop_still_counts() {
    let path = vec![
        Kind::Flow(vec!["198.51.100.1"]),
        Kind::Silent,
        Kind::Flow(vec!["198.51.100.3", "198.51.100.4"]),
    ];
    let (log, _, ok) = run(&path, Confidence::P95, 10_000);
    assert!(ok);
    assert!(log.nodes_at(2).is_empty());
    assert!(first_probes_at(&log, 2) <= 6);
    assert_eq!(log.nodes_at(3).len(), 2);
}

#[test]
fn a_budget_stops_the_search_and_says_the_rule_was_not_met() {
    let path = vec![
        Kind::Flow(vec!["198.51.100.1"]),
        Kind::Flow(vec!["198.51.100.2", "198.51.100.3"]),
    ];
    let (log, unmet, ok) = run(&path, Confidence::P95, 12);
    assert!(unmet && !ok);
    assert!(log.probes.len() <= 12);
}

#[test]
fn a_lost_first_answer_below_a_balancer_still_counts_every_branch_and_links_them() {
    let path = vec![
        Kind::LateFirst("198.51.100.1"),
        Kind::Flow(vec!["198.51.100.2", "198.51.100.3"]),
    ];
    for paced in [false, true] {
        let (log, _, ok) = run_paced(&path, Confidence::P95, 10_000, paced);
        assert!(ok);
        assert_eq!(log.nodes_at(2).len(), 2, "paced {paced}");
        // Node control below the single hop-1 node counted both next hops: 11 flows at hop 2.
        assert!(first_probes_at(&log, 2) >= 11, "paced {paced}");
        let graph = crate::trace::multipath::graph::build(&log, 1);
        let from_hop1 = graph.edges.iter().filter(|e| e.from == 0).count();
        assert_eq!(from_hop1, 2, "paced {paced}: {:?}", graph.edges);
        assert_eq!(graph.diamonds.len(), 1);
    }
}

#[test]
fn two_eight_way_balancers_in_a_row_are_enumerated_within_bounds() {
    let eight = |base: u8| -> Vec<&'static str> {
        (0..8)
            .map(|i| &*Box::leak(format!("198.51.100.{}", base + i).into_boxed_str()))
            .collect()
    };
    let path = vec![
        Kind::Flow(vec!["198.51.100.1"]),
        Kind::Flow(eight(10)),
        Kind::Flow(eight(20)),
    ];
    let (log, unmet, ok) = run_paced(&path, Confidence::P95, 5000, true);
    assert!(ok && !unmet);
    assert_eq!(log.nodes_at(2).len(), 8);
    assert_eq!(log.nodes_at(3).len(), 8);
    // Each hop-2 interface leads to one hop-3 interface here (the same hash at both hops): 8 x n(1)
    // flows at hop 3 on top of n(8) at hop 2, not a search that runs to the budget.
    assert!(log.probes.len() < 400, "{}", log.probes.len());
}

#[test]
fn lost_probes_are_replaced_until_the_rule_has_its_answers() {
    let planner = Planner {
        confidence: Confidence::P95,
        first_ttl: 1,
        max_ttl: 30,
        max_flows: 1024,
        per_node: false,
    };
    let path = vec![
        Kind::Flow(vec!["198.51.100.1"]),
        Kind::LosesBelow("198.51.100.2", 3),
    ];
    let (log, unmet, ok) = run(&path, Confidence::P95, 10_000);
    assert!(ok && !unmet);
    // Three lost, six answered: n(1) answers, not n(1) probes.
    let answered = log.flows_at(2).filter(|(_, p)| answer(p).is_some()).count();
    assert_eq!((first_probes_at(&log, 2), answered), (9, 6));
    assert!(planner.short_of_answers(&log).is_empty());
    // A hop that answers one flow in seven is given up after six losses, and said to be short.
    let path = vec![
        Kind::Flow(vec!["198.51.100.1"]),
        Kind::OnlyFlowTwo("198.51.100.2"),
    ];
    let (log, _, ok) = run(&path, Confidence::P95, 10_000);
    assert!(ok);
    assert_eq!(first_probes_at(&log, 2), 7);
    assert_eq!(planner.short_of_answers(&log), [2]);
}
