//! The multipath engine driven by hand: answers by probe number, losses by time, the three endings.

use std::time::Duration;

use super::*;
use crate::trace::multipath::rule::Confidence;

const TARGET: &str = "203.0.113.9";
const ROUTER: &str = "198.51.100.1";

fn config(max_probes: usize) -> MpConfig {
    MpConfig {
        planner: Planner {
            confidence: Confidence::P95,
            first_ttl: 1,
            max_ttl: 5,
            max_flows: 256,
            per_node: false,
        },
        target: TARGET.parse().unwrap(),
        ident: 7,
        seq_base: 100,
        deadline: Duration::from_secs(5),
        max_probes,
        fair: FairWait {
            factor: 2.5,
            floor: Duration::from_millis(200),
            cap: Duration::from_secs(1),
        },
    }
}

fn reply(p: &MpProbe) -> (IpAddr, Reply) {
    let (kind, from) = if p.ttl <= 2 {
        (ReplyKind::TimeExceeded, ROUTER)
    } else {
        (ReplyKind::EchoReply, TARGET)
    };
    let reply = Reply {
        kind,
        icmp_type: 0,
        icmp_code: 0,
        ident: 7,
        seq: p.seq,
        quoted_dst: Some(TARGET.parse().unwrap()),
        ports: None,
        mpls: Vec::new(),
        mtu: None,
        quoted_udp: None,
        translated: false,
    };
    (from.parse().unwrap(), reply)
}

/// Runs the engine; hops 1 and 2 answer every probe after 1 ms (hop 2 unless `silent`), the target
/// from TTL 3.
fn run(cfg: MpConfig, silent: bool) -> MpOutcome {
    let mut engine = MpEngine::new(cfg);
    let mut now = Duration::from_secs(1);
    for _ in 0..10_000 {
        match engine.step() {
            MpStep::Send(p) => {
                engine.sent(p.index, Ok(now));
                if !(silent && p.ttl == 2) {
                    let (from, r) = reply(&p);
                    assert!(engine.received(from, &r, now + Duration::from_millis(1)));
                }
            }
            MpStep::Wait(until) => {
                now = now.max(until);
                engine.waited(now);
            }
            MpStep::Done => return engine.finish(),
        }
    }
    panic!("the engine never finished");
}

#[test]
fn a_three_hop_path_ends_by_the_rule_with_one_flow_at_hop_one_and_six_at_hop_two() {
    let out = run(config(1000), false);
    assert_eq!(out.stop, MpStop::Rule);
    assert_eq!(out.log.flows_at(1).count(), 1);
    assert_eq!(out.log.flows_at(2).count(), 6);
    assert_eq!(out.log.flows_at(3).count(), 1);
    assert_eq!(out.log.end(), Some(3));
    assert_eq!(out.log.probes.len(), 8);
}

#[test]
fn a_small_budget_ends_the_search_unmet() {
    // The rule needs 1 + 6 + 1 probes.
    let out = run(config(7), false);
    assert_eq!(out.stop, MpStop::MaxProbes);
    assert_eq!(out.log.probes.len(), 7);
}

#[test]
fn silent_probes_are_given_up_after_their_wait_and_foreign_replies_counted() {
    let out = run(config(1000), true);
    assert_eq!(out.stop, MpStop::Rule);
    assert_eq!(out.log.flows_at(2).count(), 6);
    assert!(out.log.flows_at(2).all(|(_, p)| p.fate == Fate::Lost));
    let mut engine = MpEngine::new(config(10));
    let MpStep::Send(p) = engine.step() else { panic!() };
    engine.sent(p.index, Ok(Duration::from_secs(1)));
    let (from, mut r) = reply(&p);
    r.ident = 8;
    assert!(!engine.received(from, &r, Duration::from_secs(1)));
    assert_eq!(engine.finish().foreign, 1);
}

#[test]
fn a_failed_send_is_settled_lost_and_counted_as_never_sent() {
    let mut engine = MpEngine::new(config(10));
    let MpStep::Send(p) = engine.step() else { panic!() };
    engine.sent(p.index, Err("no route".into()));
    assert_eq!(engine.log.probes[p.index].fate, Fate::Lost);
    let out = engine.finish();
    assert_eq!(out.unsent, 1);
    assert_eq!(out.log.probes.len(), 1);
}
