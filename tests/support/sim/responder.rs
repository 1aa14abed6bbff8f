//! The simulated routers' brain: for each packet the kernel hands the TUN, the replies and their delays.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use super::nat;
use super::packet::{self, Ip, MplsEntry, tcp_flags};
use super::scenario::{FORGED_V4, FORGED_V6, Scenario, TcpAnswer};

/// A reply to write into the TUN after `delay`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Delay after the probe arrived.
    pub delay: Duration,
    /// The IP packet.
    pub packet: Vec<u8>,
}

/// A probe the path received (only packets addressed to the target count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// IPv6 or IPv4.
    pub v6: bool,
    /// TTL / hop limit as sent.
    pub ttl: u8,
    /// IP protocol (1 ICMP, 6 TCP, 17 UDP, 58 ICMPv6).
    pub protocol: u8,
}

/// Address that "foreign" ICMP errors claim the quoted packet went to.
const FOREIGN_V4: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 99);
const FOREIGN_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xff, 0, 0, 0, 0, 0x99);
/// Quote limits: RFC 1812 (576-byte reply) for IPv4, the minimum MTU for IPv6 (RFC 4443).
const QUOTE_MAX_V4: usize = 576 - 20 - 8;
const QUOTE_MAX_V6: usize = 1280 - 40 - 8;
/// RFC 4884: with an extension, the original datagram is padded or cut to 128 bytes.
const QUOTE_WITH_EXTENSION: usize = 128;

/// Per-path state: the scenario and how many probes each hop has seen.
#[derive(Debug)]
pub struct Responder {
    scenario: Scenario,
    hop_probes: Vec<u32>,
    replies: u64,
    /// Per hop: the rate limiter's tokens (as time) and when it last answered.
    buckets: Vec<(Duration, Option<std::time::Instant>)>,
    /// xorshift64 state for per-packet balancers (fixed seed: runs are reproducible).
    random: u64,
}

impl Responder {
    /// A responder for `scenario`.
    pub fn new(scenario: Scenario) -> Responder {
        let n = scenario.hops.len();
        Responder {
            scenario,
            hop_probes: vec![0; n],
            replies: 0,
            buckets: vec![(Duration::ZERO, None); n],
            random: 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// The next pseudo-random number (xorshift64).
    fn next_random(&mut self) -> u64 {
        let mut x = self.random;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.random = x;
        x
    }

    /// Handles one packet: the probe it was (if addressed to the target) and the replies to send.
    /// Source NATs on the way translate the packet going out and the replies coming back.
    pub fn handle(&mut self, raw: &[u8]) -> (Option<Probe>, Vec<Reply>) {
        let Some(ip) = packet::parse(raw) else {
            return (None, Vec::new());
        };
        let target = self.scenario.target.addr(ip.dst.is_ipv6());
        // A probe with TTL t goes past hops 1..t-1 (all of them to reach the target).
        let crossed = usize::from(ip.ttl)
            .saturating_sub(1)
            .min(self.scenario.hops.len());
        let nats: Vec<u16> = (1..=crossed)
            .filter(|&k| self.scenario.hops[k - 1].nat && ip.dst == target)
            .map(nat::shift)
            .collect();
        if nats.is_empty() {
            return self.answer(raw);
        }
        let sent = nats.iter().fold(raw.to_vec(), |p, &s| nat::outbound(p, s));
        let (probe, mut replies) = self.answer(&sent);
        for r in &mut replies {
            let p = std::mem::take(&mut r.packet);
            r.packet = nats.iter().rev().fold(p, |p, &s| nat::inbound(p, s, target));
        }
        (probe, replies)
    }

    /// The probe `raw` was and the replies to it, as the hops and target see it (after any NAT).
    fn answer(&mut self, raw: &[u8]) -> (Option<Probe>, Vec<Reply>) {
        let Some(ip) = packet::parse(raw) else {
            return (None, Vec::new());
        };
        let v6 = ip.dst.is_ipv6();
        if ip.dst != self.scenario.target.addr(v6) {
            return (None, Vec::new());
        }
        let probe = Probe {
            v6,
            ttl: ip.ttl,
            protocol: ip.protocol,
        };
        let t = ip.ttl as usize;
        if let Some(refusal) = self.too_big(&ip, raw.len()) {
            return (Some(probe), refusal.into_iter().collect());
        }
        let (src, delay, main) = if (1..=self.scenario.hops.len()).contains(&t) {
            self.hop_probes[t - 1] += 1;
            let hash = if self.scenario.hops[t - 1].per_packet {
                self.next_random()
            } else {
                flow_hash(&ip, t)
            };
            let hop = &self.scenario.hops[t - 1];
            let rate_limited = !(self.hop_probes[t - 1] - 1).is_multiple_of(hop.every)
                || !allow(&mut self.buckets[t - 1], hop.rate_limit);
            let Some(src) = hop
                .addr_for_flow(v6, hash)
                .filter(|_| !hop.silent && !rate_limited)
            else {
                return (Some(probe), Vec::new());
            };
            let trunc = self.scenario.adversity.truncate_quote;
            (
                src,
                hop.rtt + hop.extra_delay,
                time_exceeded(src, &ip, &hop.mpls, trunc),
            )
        } else {
            let target = &self.scenario.target;
            let src = target.addr(v6);
            let Some(reply) = (!target.silent)
                .then(|| target_reply(src, &ip, target.tcp, self.scenario.adversity.truncate_quote))
                .flatten()
            else {
                return (Some(probe), Vec::new());
            };
            (src, target.rtt, reply)
        };
        let mut replies = self.forged(&ip, t, delay);
        replies.extend(self.with_adversity(src, &ip, delay, main));
        (Some(probe), replies)
    }

    /// With `bad_checksums`: a reply of the other kind than the real one (the target's answer to a
    /// router's probe, a router's Time Exceeded to the target's), checksum broken, arriving first.
    fn forged(&self, ip: &Ip<'_>, ttl: usize, delay: std::time::Duration) -> Vec<Reply> {
        if !self.scenario.adversity.bad_checksums {
            return Vec::new();
        }
        let v6 = ip.dst.is_ipv6();
        let target = &self.scenario.target;
        let forged = if (1..=self.scenario.hops.len()).contains(&ttl) {
            target_reply(target.addr(v6), ip, target.tcp, false)
        } else {
            let router = if v6 {
                IpAddr::V6(FORGED_V6)
            } else {
                IpAddr::V4(FORGED_V4)
            };
            Some(time_exceeded(router, ip, &[], false))
        };
        forged
            .map(|p| Reply {
                delay: delay / 2,
                packet: packet::break_checksum(p),
            })
            .into_iter()
            .collect()
    }

    /// Wraps the real reply in the scenario's adversity: extra messages, holds, duplicates.
    fn with_adversity(&mut self, src: IpAddr, ip: &Ip<'_>, delay: Duration, main: Vec<u8>) -> Vec<Reply> {
        let adv = self.scenario.adversity.clone();
        let mut out = Vec::new();
        if adv.foreign_errors {
            out.push(Reply {
                delay,
                packet: foreign_error(src, ip),
            });
        }
        if adv.garbage {
            out.extend(
                garbage(src, ip.src)
                    .into_iter()
                    .map(|packet| Reply { delay, packet }),
            );
        }
        self.replies += 1;
        let held = match adv.reorder {
            Some(hold) if self.replies % 2 == 1 => delay + hold,
            _ => delay,
        };
        if adv.duplicate {
            out.push(Reply {
                delay: held,
                packet: main.clone(),
            });
        }
        out.push(Reply {
            delay: held,
            packet: main,
        });
        out
    }
}

impl Responder {
    /// The refusal of a packet too large for a narrow link it would cross (the first such link's hop
    /// answers; a silent hop refuses in silence): Some(None) when refused without an answer.
    fn too_big(&self, ip: &Ip<'_>, len: usize) -> Option<Option<Reply>> {
        let v6 = ip.dst.is_ipv6();
        // A packet with TTL t crosses the links after hops 1..t-1 (all of them to reach the target).
        let crossed = usize::from(ip.ttl)
            .saturating_sub(1)
            .min(self.scenario.hops.len());
        let i = self.scenario.hops[..crossed]
            .iter()
            .position(|h| h.mtu.is_some_and(|m| len > usize::from(m)))?;
        let hop = &self.scenario.hops[i];
        let mtu = hop.mtu?;
        if hop.silent {
            return Some(None);
        }
        let src = hop.addr_for_flow(v6, flow_hash(ip, i + 1))?;
        let (typ, code, rest) = if v6 {
            (2, 0, u32::from(mtu).to_be_bytes())
        } else {
            let m = mtu.to_be_bytes();
            (3, 4, [0, 0, m[0], m[1]])
        };
        let packet = packet::icmp(src, ip.src, typ, code, rest, &quote(ip, false, false));
        Some(Some(Reply {
            delay: hop.rtt,
            packet,
        }))
    }
}

/// Linux's inet_peer_xrlim_allow: tokens are time, capped at `burst` periods; an answer costs one period.
fn allow(bucket: &mut (Duration, Option<std::time::Instant>), limit: Option<(u32, Duration)>) -> bool {
    let Some((burst, period)) = limit else {
        return true;
    };
    let now = std::time::Instant::now();
    // A router that never answered has a full bucket.
    let elapsed = bucket.1.map_or(period * burst, |last| now - last);
    let tokens = (bucket.0 + elapsed).min(period * burst);
    bucket.1 = Some(now);
    if tokens >= period {
        bucket.0 = tokens - period;
        true
    } else {
        bucket.0 = tokens;
        false
    }
}

/// What the per-flow load balancer before hop `k` hashes: the addresses, the protocol and the first four
/// bytes of the transport header (FNV-1a, so the same flow always takes the same branch), salted with
/// `k` as routers seed their own hashes (so a 2-way balancer and a 4-way one after it choose
/// independently: every router of the first reaches every router of the second), then mixed (a bare
/// FNV-1a's low bit is the parity of the bytes' low bits: flows numbered two apart would all take one
/// of two branches).
fn flow_hash(ip: &Ip<'_>, k: usize) -> u64 {
    let mut bytes = Vec::with_capacity(40);
    for a in [ip.src, ip.dst] {
        match a {
            IpAddr::V4(a) => bytes.extend_from_slice(&a.octets()),
            IpAddr::V6(a) => bytes.extend_from_slice(&a.octets()),
        }
    }
    bytes.push(ip.protocol);
    bytes.extend_from_slice(&ip.payload[..ip.payload.len().min(4)]);
    let fnv = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    });
    // splitmix64's finalizer.
    let mut z = fnv ^ (k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The quoted original datagram for an ICMP error, per the scenario's quoting rule.
fn quote(ip: &Ip<'_>, extension: bool, truncate: bool) -> Vec<u8> {
    let header = ip.packet.len() - ip.payload.len();
    if truncate {
        return ip.packet[..(header + 8).min(ip.packet.len())].to_vec();
    }
    if extension {
        let mut q = ip.packet[..ip.packet.len().min(QUOTE_WITH_EXTENSION)].to_vec();
        q.resize(QUOTE_WITH_EXTENSION, 0);
        return q;
    }
    let max = if ip.src.is_ipv4() {
        QUOTE_MAX_V4
    } else {
        QUOTE_MAX_V6
    };
    ip.packet[..ip.packet.len().min(max)].to_vec()
}

/// Time Exceeded from `src` about `ip`, with an MPLS extension when `mpls` is not empty.
fn time_exceeded(src: IpAddr, ip: &Ip<'_>, mpls: &[MplsEntry], truncate: bool) -> Vec<u8> {
    let extension = !mpls.is_empty() && !truncate;
    let mut body = quote(ip, extension, truncate);
    let mut rest = [0u8; 4];
    if extension {
        body.extend_from_slice(&packet::mpls_extension(mpls));
        // RFC 4884 length of the original datagram: 32-bit words (v4, byte 5), 64-bit (v6, byte 4).
        if src.is_ipv4() {
            rest[1] = (QUOTE_WITH_EXTENSION / 4) as u8;
        } else {
            rest[0] = (QUOTE_WITH_EXTENSION / 8) as u8;
        }
    }
    let (typ, code) = if src.is_ipv4() { (11, 0) } else { (3, 0) };
    packet::icmp(src, ip.src, typ, code, rest, &body)
}

/// The target's answer to `ip`: echo reply, port unreachable, or SYN-ACK/RST; `None` to ignore it.
fn target_reply(src: IpAddr, ip: &Ip<'_>, tcp: TcpAnswer, truncate: bool) -> Option<Vec<u8>> {
    let p = ip.payload;
    match ip.protocol {
        packet::PROTO_ICMP | packet::PROTO_ICMPV6 => {
            let (request, reply) = if src.is_ipv4() { (8, 0) } else { (128, 129) };
            if p.len() < 8 || p[0] != request {
                return None;
            }
            let rest: [u8; 4] = p[4..8].try_into().ok()?;
            Some(packet::icmp(src, ip.src, reply, 0, rest, &p[8..]))
        }
        packet::PROTO_UDP => {
            let (typ, code) = if src.is_ipv4() { (3, 3) } else { (1, 4) };
            Some(packet::icmp(
                src,
                ip.src,
                typ,
                code,
                [0; 4],
                &quote(ip, false, truncate),
            ))
        }
        packet::PROTO_TCP => {
            if p.len() < 20 {
                return None;
            }
            let flags = p[13];
            if flags & tcp_flags::SYN == 0 || flags & tcp_flags::ACK != 0 {
                return None; // the client's ACK or RST after our answer: nothing to say
            }
            let sport = u16::from_be_bytes([p[0], p[1]]);
            let dport = u16::from_be_bytes([p[2], p[3]]);
            let seq = u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
            let (our_seq, reply_flags) = match tcp {
                TcpAnswer::SynAck => (0x5d5d_0000, tcp_flags::SYN | tcp_flags::ACK),
                TcpAnswer::Rst => (0, tcp_flags::RST | tcp_flags::ACK),
            };
            Some(packet::tcp(
                src,
                ip.src,
                dport,
                sport,
                our_seq,
                seq.wrapping_add(1),
                reply_flags,
            ))
        }
        _ => None,
    }
}

/// A well-formed Time Exceeded from `src` quoting a UDP packet the client never sent.
fn foreign_error(src: IpAddr, ip: &Ip<'_>) -> Vec<u8> {
    let other: IpAddr = if src.is_ipv4() {
        FOREIGN_V4.into()
    } else {
        FOREIGN_V6.into()
    };
    let fake = packet::udp(ip.src, other, 40_000, 33_434, b"not-ours");
    let fake_ip = packet::parse(&fake).expect("own packet parses");
    time_exceeded(src, &fake_ip, &[], false)
}

/// Malformed ICMP from `src`: a quote too short to hold a header, a bogus quoted version, an unknown type.
fn garbage(src: IpAddr, dst: IpAddr) -> Vec<Vec<u8>> {
    let v4 = src.is_ipv4();
    let (te, unreach, unknown) = if v4 {
        ((11, 0), (3, 3), 42)
    } else {
        ((3, 0), (1, 4), 200)
    };
    vec![
        packet::icmp(src, dst, te.0, te.1, [0; 4], &[0x45, 0, 0]),
        packet::icmp(src, dst, unreach.0, unreach.1, [0; 4], &[0x7f; 28]),
        packet::icmp(src, dst, unknown, 0, [0xde, 0xad, 0xbe, 0xef], b"garbage!"),
    ]
}
