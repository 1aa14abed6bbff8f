//! The responder's balancers and NAT on hand-built packets (no TUN, no namespace: pure logic).

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;

use super::packet::{self, PROTO_ICMP};
use super::responder::Responder;
use super::scenario::{Hop, Scenario, Target};
use crate::support::addr;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn client(v6: bool) -> IpAddr {
    if v6 {
        addr::SIM_CLIENT_V6.into()
    } else {
        addr::SIM_CLIENT_V4.into()
    }
}

/// `pkt` with its TTL / hop limit set to `ttl` (IPv4 header checksum fixed).
fn with_ttl(mut pkt: Vec<u8>, ttl: u8) -> Vec<u8> {
    if pkt[0] >> 4 == 4 {
        pkt[8] = ttl;
        pkt[10..12].copy_from_slice(&[0, 0]);
        let c = packet::checksum(&pkt[..20]);
        pkt[10..12].copy_from_slice(&c.to_be_bytes());
    } else {
        pkt[7] = ttl;
    }
    pkt
}

fn udp_probe(s: &Scenario, v6: bool, sport: u16, ttl: u8) -> Vec<u8> {
    let p = packet::udp(client(v6), s.target.addr(v6), sport, 33434, b"sockdiag probe");
    with_ttl(p, ttl)
}

fn echo_probe(s: &Scenario, v6: bool, id: u16, ttl: u8) -> Vec<u8> {
    let ty = if v6 { 128 } else { 8 };
    let [a, b] = id.to_be_bytes();
    let p = packet::icmp(client(v6), s.target.addr(v6), ty, 0, [a, b, 0, 1], b"ping");
    with_ttl(p, ttl)
}

/// The one reply's source and its checked transport payload (the ICMP or TCP message).
fn only_reply(r: &mut Responder, probe: &[u8]) -> (IpAddr, Vec<u8>) {
    let (_, replies) = r.handle(probe);
    assert_eq!(replies.len(), 1, "{replies:?}");
    let ip = packet::parse(&replies[0].packet).expect("reply parses");
    let seg = ip.payload;
    let sum = if ip.protocol == PROTO_ICMP {
        packet::checksum(seg)
    } else {
        packet::transport_checksum(ip.src, ip.dst, ip.protocol, seg)
    };
    assert_eq!(sum, 0, "reply checksum does not verify: {seg:?}");
    (ip.src, seg.to_vec())
}

/// The transport header of the packet quoted in an ICMP error `msg`.
fn quoted_transport(msg: &[u8]) -> &[u8] {
    let q = &msg[8..];
    let h = if q[0] >> 4 == 4 {
        usize::from(q[0] & 0x0f) * 4
    } else {
        40
    };
    &q[h..]
}

fn word(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn two_then_four() -> Scenario {
    Scenario::new()
        .hop(Hop::new(ms(1)))
        .hop(Hop::new(ms(2)).balanced(2))
        .hop(Hop::new(ms(3)).balanced(4))
        .hop(Hop::new(ms(4)))
        .target(Target::echo(ms(5)))
}

#[test]
fn two_way_then_four_way_balancers_answer_from_distinct_addresses_and_converge() {
    let s = two_then_four();
    for v6 in [false, true] {
        let mut r = Responder::new(s.clone());
        let mut seen: Vec<BTreeSet<IpAddr>> = vec![BTreeSet::new(); 4];
        for sport in 40_000..40_064 {
            for ttl in 1..=4u8 {
                let (src, _) = only_reply(&mut r, &udp_probe(&s, v6, sport, ttl));
                seen[usize::from(ttl) - 1].insert(src);
            }
            // One flow, one branch: asking again gives the same answer.
            let again = only_reply(&mut r, &udp_probe(&s, v6, sport, 3)).0;
            let first = only_reply(&mut r, &udp_probe(&s, v6, sport, 3)).0;
            assert_eq!(again, first);
        }
        let sizes: Vec<usize> = seen.iter().map(BTreeSet::len).collect();
        assert_eq!(sizes, [1, 2, 4, 1], "v6={v6}: {seen:?}");
        let all: BTreeSet<&IpAddr> = seen.iter().flatten().collect();
        assert_eq!(all.len(), 8, "addresses shared between hops: {seen:?}");
    }
}

#[test]
#[should_panic(expected = "clash")]
fn balanced_hops_sixteen_apart_are_refused_as_clashing() {
    let mut s = Scenario::new().hop(Hop::new(ms(1)).balanced(2));
    for _ in 2..=17 {
        s = s.hop(Hop::new(ms(1)));
    }
}

#[test]
fn a_per_packet_balancer_sends_one_flow_to_every_branch() {
    let s = Scenario::new()
        .hop(Hop::new(ms(1)).per_packet(3))
        .hop(Hop::new(ms(2)).balanced(3))
        .target(Target::echo(ms(3)));
    let mut r = Responder::new(s.clone());
    let at = |r: &mut Responder, ttl| -> BTreeSet<IpAddr> {
        (0..30)
            .map(|_| only_reply(r, &udp_probe(&s, false, 40_000, ttl)).0)
            .collect()
    };
    assert_eq!(
        at(&mut r, 1).len(),
        3,
        "per-packet hop: one flow meets every branch"
    );
    assert_eq!(at(&mut r, 2).len(), 1, "per-flow hop: one flow, one branch");
}

/// Five hops, the third a source NAT, the target behind them.
fn nat_after_three() -> Scenario {
    let mut s = Scenario::new();
    for k in 1..=5 {
        let hop = Hop::new(ms(k));
        s = s.hop(if k == 3 { hop.nat() } else { hop });
    }
    s.target(Target::echo(ms(6)))
}

#[test]
fn a_nat_after_hop_three_rewrites_ports_past_it_and_restores_them_in_quotes_but_not_the_checksum() {
    for v6 in [false, true] {
        let s = nat_after_three();
        let mut r = Responder::new(s.clone());
        let probe = |ttl| udp_probe(&s, v6, 40_123, ttl);
        let sent = packet::parse(&probe(1)).unwrap().payload.to_vec();
        for ttl in 1..=7u8 {
            let (src, msg) = only_reply(&mut r, &probe(ttl));
            let quoted = quoted_transport(&msg);
            assert_eq!(word(quoted, 0), 40_123, "ttl {ttl}: source port restored");
            assert_eq!(word(quoted, 2), 33_434, "ttl {ttl}: destination port kept");
            let translated = word(quoted, 6) != word(&sent, 6);
            assert_eq!(
                translated,
                ttl >= 4,
                "v6={v6} ttl {ttl} from {src}: quoted checksum"
            );
        }
    }
}

#[test]
fn behind_the_nat_tcp_and_echo_answers_come_back_translated_with_valid_checksums() {
    for v6 in [false, true] {
        let s = nat_after_three();
        let mut r = Responder::new(s.clone());
        // Echo: the reply carries the identifier sent; an error quotes it restored, checksum not.
        let (_, reply) = only_reply(&mut r, &echo_probe(&s, v6, 0x4242, 9));
        assert_eq!((reply[0], word(&reply, 4)), (if v6 { 129 } else { 0 }, 0x4242));
        let sent = packet::parse(&echo_probe(&s, v6, 0x4242, 5))
            .unwrap()
            .payload
            .to_vec();
        let (_, err) = only_reply(&mut r, &echo_probe(&s, v6, 0x4242, 5));
        let quoted = quoted_transport(&err);
        assert_eq!(word(quoted, 4), 0x4242);
        assert_ne!(word(quoted, 2), word(&sent, 2));
        // TCP: the SYN-ACK goes back to the port the SYN came from.
        let syn = packet::tcp(client(v6), s.target.addr(v6), 40_321, 443, 7, 0, 0x02);
        let (_, seg) = only_reply(&mut r, &with_ttl(syn, 9));
        assert_eq!((word(&seg, 0), word(&seg, 2)), (443, 40_321));
        // The target saw the translated port: its sequence answer is ours + 1 either way.
        assert_eq!(u32::from_be_bytes(seg[8..12].try_into().unwrap()), 8);
    }
}

#[test]
fn the_nat_translates_the_flow_the_balancers_behind_it_hash() {
    // Two flows differing only in a port the NAT moves by a constant stay two flows behind it.
    let s = Scenario::new()
        .hop(Hop::new(ms(1)).nat())
        .hop(Hop::new(ms(2)).balanced(4))
        .target(Target::echo(ms(3)));
    let mut r = Responder::new(s.clone());
    let seen: BTreeSet<IpAddr> = (40_000..40_032)
        .map(|p| only_reply(&mut r, &udp_probe(&s, false, p, 2)).0)
        .collect();
    assert_eq!(seen.len(), 4, "{seen:?}");
}

#[test]
fn balancers_choose_independently_and_use_every_bit_of_the_flow() {
    let s = two_then_four();
    let mut r = Responder::new(s.clone());
    // Destination ports two apart, as scamper's tracelb numbers its flows.
    let mut pairs = BTreeSet::new();
    let mut at_hop2 = BTreeSet::new();
    for dport in (33_436..33_500).step_by(2) {
        let probe = |ttl| {
            let p = packet::udp(client(false), s.target.addr(false), 40_000, dport, b"x");
            with_ttl(p, ttl)
        };
        let two = only_reply(&mut r, &probe(2)).0;
        let three = only_reply(&mut r, &probe(3)).0;
        at_hop2.insert(two);
        pairs.insert((two, three));
    }
    assert_eq!(at_hop2.len(), 2, "{at_hop2:?}");
    // Every router of the 2-way balancer reaches every router of the 4-way one.
    assert_eq!(pairs.len(), 8, "{pairs:?}");
}
