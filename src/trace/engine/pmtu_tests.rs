//! The engine with --mtu on a scripted path whose links narrow after some hops: refused probes are
//! resent at the size the router named, and a path of one MTU resends nothing.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use super::*;
use crate::trace::drive::drive;
use crate::trace::net::{Network, Received};
use crate::trace::packet::Reply;

const TARGET: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9));
const IDENT: u16 = 0x4242;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn router(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 51, 100, n))
}

fn config(mtu: Option<u16>) -> EngineConfig {
    EngineConfig {
        target: TARGET,
        protocol: Protocol::Icmp,
        ident: IDENT,
        seq_base: 1000,
        first_ttl: 1,
        max_hops: 30,
        queries: 3,
        max_in_flight: None,
        wave_gap: ms(5),
        max_rate: None,
        deadline: ms(1500),
        fair: FairWait {
            factor: 2.5,
            floor: ms(200),
            cap: ms(1000),
        },
        mtu,
    }
}

/// A path of `distance` hops, 1 ms apart, whose link after hop `h` takes packets up to `mtu` bytes for
/// each `(h, mtu)` in `narrow`; records every probe sent (TTL and size).
struct Narrow {
    distance: u8,
    narrow: Vec<(u8, u16)>,
    clock: Duration,
    queue: Vec<(Duration, IpAddr, Reply)>,
    sent: Vec<(u8, Option<u16>)>,
    /// Refusals the narrow link's router still sends (a rate limiter's burst); None: all of them.
    refusals: Option<usize>,
    /// Each hop's distance in milliseconds.
    hop_ms: u64,
}

impl Narrow {
    fn new(distance: u8, narrow: &[(u8, u16)]) -> Narrow {
        Narrow {
            distance,
            narrow: narrow.to_vec(),
            clock: ms(5000),
            queue: Vec::new(),
            sent: Vec::new(),
            refusals: None,
            hop_ms: 1,
        }
    }

    /// What the path does with a probe: the first narrow link it does not fit refuses it, else the hop
    /// where its TTL runs out (or the target) answers.
    fn answer(&self, spec: &ProbeSpec) -> (IpAddr, Reply) {
        let size = spec.size.unwrap_or(60);
        let reach = spec.ttl.min(self.distance);
        let refused = self.narrow.iter().find(|(hop, mtu)| *hop < reach && size > *mtu);
        let (from, kind, mtu) = match refused {
            Some(&(hop, mtu)) => (router(hop), ReplyKind::PacketTooBig, Some(mtu)),
            None if spec.ttl >= self.distance => (TARGET, ReplyKind::EchoReply, None),
            None => (router(spec.ttl), ReplyKind::TimeExceeded, None),
        };
        let reply = Reply {
            kind,
            icmp_type: if kind == ReplyKind::PacketTooBig { 3 } else { 11 },
            icmp_code: if kind == ReplyKind::PacketTooBig { 4 } else { 0 },
            ident: spec.ident,
            seq: spec.seq,
            quoted_dst: (kind != ReplyKind::EchoReply).then_some(TARGET),
            ports: None,
            mpls: Vec::new(),
            mtu,
            quoted_udp: None,
            translated: false,
        };
        (from, reply)
    }
}

impl Network for Narrow {
    fn send(&mut self, spec: &ProbeSpec) -> std::io::Result<Duration> {
        let at = self.clock;
        self.clock += Duration::from_micros(20);
        self.sent.push((spec.ttl, spec.size));
        let (from, reply) = self.answer(spec);
        let hop = u64::from(spec.ttl.min(self.distance));
        if reply.kind == ReplyKind::PacketTooBig {
            match self.refusals.as_mut() {
                Some(0) => return Ok(at),
                Some(n) => *n -= 1,
                None => {}
            }
        }
        self.queue.push((at + ms(hop * self.hop_ms), from, reply));
        Ok(at)
    }

    fn recv(&mut self, deadline: Duration) -> std::io::Result<Option<Received>> {
        self.queue.sort_by_key(|(t, _, _)| *t);
        let limit = deadline.max(self.clock);
        match self.queue.first() {
            Some((t, _, _)) if *t <= limit => {
                let (at, from, reply) = self.queue.remove(0);
                self.clock = self.clock.max(at);
                Ok(Some(Received { from, reply, at }))
            }
            _ => {
                self.clock = limit;
                Ok(None)
            }
        }
    }
}

fn run(cfg: EngineConfig, net: &mut Narrow) -> TraceOutcome {
    drive(net, Engine::new(cfg), |_| {}, |_| {}).unwrap()
}

#[test]
fn a_narrow_link_after_hop_5_is_found_and_the_refused_probes_are_resent_smaller() {
    let mut net = Narrow::new(9, &[(5, 1400)]);
    let o = run(config(Some(1500)), &mut net);
    assert_eq!(o.stop, StopReason::Reached { hop: 9 });
    assert_eq!(o.pmtu.start, Some(1500));
    assert_eq!(o.pmtu.path_mtu(), Some(1400));
    assert_eq!(o.pmtu.drops.len(), 1);
    let drop = o.pmtu.drops[0];
    assert_eq!(
        (drop.from, drop.before, drop.mtu, drop.probe_ttl),
        (router(5), 1500, 1400, 6)
    );
    // Every hop answered every query (the refusals are not answers, and not losses).
    for h in hop_summaries(&o.probes, 1, 9) {
        assert_eq!(h.received, 3, "hop {}", h.ttl);
        assert_eq!(h.sent, 3, "hop {}", h.ttl);
        let want = if h.ttl == 9 { TARGET } else { router(h.ttl) };
        assert_eq!(h.addrs, vec![(want, 3)], "hop {}", h.ttl);
    }
    // The first wave went out full size; hops 1-5 were never probed again; probes beyond hop 5 went
    // out again at 1400, and later waves start at 1400.
    assert!(
        net.sent[..9].iter().all(|(_, s)| *s == Some(1500)),
        "{:?}",
        net.sent
    );
    for ttl in 1..=5 {
        assert_eq!(net.sent.iter().filter(|(t, _)| *t == ttl).count(), 3, "hop {ttl}");
    }
    assert!(net.sent.iter().any(|&(t, s)| t > 5 && s == Some(1400)));
    assert!(net.sent.iter().all(|(_, s)| *s == Some(1500) || *s == Some(1400)));
    // The answered probes record the size that got through.
    for p in o.probes.iter().filter(|p| p.reply.is_some()) {
        let want = if p.ttl <= 5 { 1500 } else { 1400 };
        assert!(p.size <= Some(want), "{p:?}");
    }
}

#[test]
fn two_drops_are_both_found_and_a_constant_path_resends_nothing() {
    let mut net = Narrow::new(10, &[(3, 1400), (7, 1280)]);
    let o = run(config(Some(1500)), &mut net);
    assert_eq!(o.stop, StopReason::Reached { hop: 10 });
    let drops: Vec<(IpAddr, u16, u16)> = o.pmtu.drops.iter().map(|d| (d.from, d.before, d.mtu)).collect();
    assert!(drops.contains(&(router(3), 1500, 1400)), "{drops:?}");
    assert!(drops.contains(&(router(7), 1400, 1280)), "{drops:?}");
    assert_eq!(o.pmtu.path_mtu(), Some(1280));

    // One MTU all the way: exactly the plain trace's probes, all at the interface's size.
    let mut flat = Narrow::new(9, &[]);
    let o = run(config(Some(1500)), &mut flat);
    let mut plain = Narrow::new(9, &[]);
    let p = run(config(None), &mut plain);
    assert_eq!(o.stop, p.stop);
    assert_eq!(flat.sent.len(), plain.sent.len());
    assert!(flat.sent.iter().all(|(_, s)| *s == Some(1500)));
    assert!(plain.sent.iter().all(|(_, s)| s.is_none()));
    assert_eq!(o.ended - o.started.unwrap(), p.ended - p.started.unwrap());
    assert_eq!(o.pmtu.path_mtu(), Some(1500));
    assert!(o.pmtu.drops.is_empty());
}

#[test]
fn a_refusal_without_mtu_mode_or_for_a_stale_number_is_not_ours() {
    let mut engine = Engine::new(config(None));
    let Step::Send(spec) = engine.step() else {
        panic!("first step sends")
    };
    engine.sent(spec.index, Ok(ms(1)));
    let net = Narrow::new(3, &[(1, 1000)]);
    let (from, mut reply) = net.answer(&ProbeSpec {
        size: Some(1500),
        ttl: 3,
        ..spec
    });
    assert_eq!(engine.received(from, &reply, ms(2)), Verdict::Foreign);

    let mut engine = Engine::new(config(Some(1500)));
    let Step::Send(spec) = engine.step() else {
        panic!("first step sends")
    };
    engine.sent(spec.index, Ok(ms(1)));
    reply.seq = spec.seq;
    assert_eq!(engine.received(from, &reply, ms(2)), Verdict::Matched);
    // The probe now carries a new number: a second refusal quoting the old one is late, not foreign.
    assert_eq!(engine.received(from, &reply, ms(3)), Verdict::Duplicate);
    reply.seq = spec.seq.wrapping_add(7000);
    assert_eq!(engine.received(from, &reply, ms(3)), Verdict::Foreign);
    match engine.step() {
        Step::Send(again) => {
            assert_eq!((again.index, again.size), (spec.index, Some(1000)));
            assert_ne!(again.seq, spec.seq);
        }
        other => panic!("the refused probe goes out again first, got {other:?}"),
    }
}

#[test]
fn probes_in_flight_past_a_drop_go_again_smaller_though_the_router_limits_its_refusals() {
    // 10 ms a hop, so all three waves are out before the first refusal comes back; the router at hop 5
    // sends 6 refusals and no more, as Linux's ICMP rate limit would.
    let mut net = Narrow::new(9, &[(5, 1400)]);
    net.refusals = Some(6);
    net.hop_ms = 10;
    let o = run(config(Some(1500)), &mut net);
    assert_eq!(o.stop, StopReason::Reached { hop: 9 });
    assert_eq!(o.pmtu.path_mtu(), Some(1400));
    for h in hop_summaries(&o.probes, 1, 9) {
        assert_eq!((h.sent, h.received), (3, 3), "hop {}", h.ttl);
    }
    // No answer was counted as someone else's: late refusals of resent probes are duplicates.
    assert_eq!(o.foreign, 0);
}
