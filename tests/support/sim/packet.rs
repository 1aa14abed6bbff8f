//! Parsing and building the few IPv4/IPv6/ICMP/TCP packets the simulated path needs, by hand.
//!
//! Plain byte work with an RFC 1071 checksum keeps this independent of sockdiag's own packet code.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IP protocol numbers used here.
pub const PROTO_ICMP: u8 = 1;
/// TCP.
pub const PROTO_TCP: u8 = 6;
/// UDP.
pub const PROTO_UDP: u8 = 17;
/// ICMPv6.
pub const PROTO_ICMPV6: u8 = 58;

/// TTL/hop limit of packets the simulated routers send.
const REPLY_TTL: u8 = 64;

/// The fields of an IPv4 or IPv6 packet the responder looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ip<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// TTL or hop limit as sent.
    pub ttl: u8,
    /// Protocol / next header.
    pub protocol: u8,
    /// The whole packet (header included), trimmed to its stated length.
    pub packet: &'a [u8],
    /// The transport payload after the IP header.
    pub payload: &'a [u8],
}

/// Parses an IPv4 or IPv6 packet (no IPv6 extension headers); `None` if malformed.
pub fn parse(pkt: &[u8]) -> Option<Ip<'_>> {
    match pkt.first()? >> 4 {
        4 => {
            let ihl = ((pkt[0] & 0x0f) as usize) * 4;
            let total = u16::from_be_bytes([*pkt.get(2)?, *pkt.get(3)?]) as usize;
            if ihl < 20 || total < ihl || pkt.len() < total {
                return None;
            }
            let src: [u8; 4] = pkt[12..16].try_into().ok()?;
            let dst: [u8; 4] = pkt[16..20].try_into().ok()?;
            Some(Ip {
                src: IpAddr::from(src),
                dst: IpAddr::from(dst),
                ttl: pkt[8],
                protocol: pkt[9],
                packet: &pkt[..total],
                payload: &pkt[ihl..total],
            })
        }
        6 => {
            let plen = u16::from_be_bytes([*pkt.get(4)?, *pkt.get(5)?]) as usize;
            if pkt.len() < 40 + plen {
                return None;
            }
            let src: [u8; 16] = pkt[8..24].try_into().ok()?;
            let dst: [u8; 16] = pkt[24..40].try_into().ok()?;
            Some(Ip {
                src: IpAddr::from(src),
                dst: IpAddr::from(dst),
                ttl: pkt[7],
                protocol: pkt[6],
                packet: &pkt[..40 + plen],
                payload: &pkt[40..40 + plen],
            })
        }
        _ => None,
    }
}

/// RFC 1071 one's-complement sum folded to 16 bits, starting from `init`.
fn sum(data: &[u8], init: u32) -> u32 {
    let mut s = init;
    for c in data.chunks(2) {
        let word = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from(c[0]) << 8
        };
        s += u32::from(word);
    }
    s
}

fn fold(mut s: u32) -> u16 {
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// The Internet checksum of `data`.
pub fn checksum(data: &[u8]) -> u16 {
    fold(sum(data, 0))
}

/// Checksum of a transport segment including the IPv4/IPv6 pseudo-header.
fn pseudo_checksum(src: IpAddr, dst: IpAddr, proto: u8, seg: &[u8]) -> u16 {
    let mut pseudo = Vec::with_capacity(40);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            pseudo.extend_from_slice(&s.octets());
            pseudo.extend_from_slice(&d.octets());
            pseudo.extend_from_slice(&[0, proto]);
            pseudo.extend_from_slice(&(seg.len() as u16).to_be_bytes());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            pseudo.extend_from_slice(&s.octets());
            pseudo.extend_from_slice(&d.octets());
            pseudo.extend_from_slice(&(seg.len() as u32).to_be_bytes());
            pseudo.extend_from_slice(&[0, 0, 0, proto]);
        }
        _ => panic!("lab: mixed address families in one packet"),
    }
    fold(sum(seg, sum(&pseudo, 0)))
}

/// The checksum of `seg` (its own checksum field zeroed) with the pseudo-header of `src`, `dst`, `proto`.
pub fn transport_checksum(src: IpAddr, dst: IpAddr, proto: u8, seg: &[u8]) -> u16 {
    pseudo_checksum(src, dst, proto, seg)
}

/// Wraps a transport segment (checksum already set) in an IPv4 or IPv6 header.
pub fn ip_packet(src: IpAddr, dst: IpAddr, proto: u8, seg: &[u8]) -> Vec<u8> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => ipv4(s, d, proto, seg),
        (IpAddr::V6(s), IpAddr::V6(d)) => ipv6(s, d, proto, seg),
        _ => panic!("lab: mixed address families in one packet"),
    }
}

fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, seg: &[u8]) -> Vec<u8> {
    let total = (20 + seg.len()) as u16;
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0, 0, 0x40, 0, REPLY_TTL, proto, 0, 0]); // DF, no fragments
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    let c = checksum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(seg);
    h
}

fn ipv6(src: Ipv6Addr, dst: Ipv6Addr, proto: u8, seg: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&(seg.len() as u16).to_be_bytes());
    h.extend_from_slice(&[proto, REPLY_TTL]);
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    h.extend_from_slice(seg);
    h
}

/// An ICMP (v4) or ICMPv6 message `src -> dst` with the given type, code, 4 header bytes and body.
pub fn icmp(src: IpAddr, dst: IpAddr, typ: u8, code: u8, rest: [u8; 4], body: &[u8]) -> Vec<u8> {
    let mut m = vec![typ, code, 0, 0];
    m.extend_from_slice(&rest);
    m.extend_from_slice(body);
    let (proto, c) = if src.is_ipv4() {
        (PROTO_ICMP, checksum(&m))
    } else {
        (PROTO_ICMPV6, pseudo_checksum(src, dst, PROTO_ICMPV6, &m))
    };
    m[2..4].copy_from_slice(&c.to_be_bytes());
    ip_packet(src, dst, proto, &m)
}

/// A TCP segment `src -> dst` with the given ports, numbers and flags, no options or data.
pub fn tcp(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, seq: u32, ack: u32, flags: u8) -> Vec<u8> {
    let mut t = Vec::with_capacity(20);
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]); // 20-byte header, window 65535
    let c = pseudo_checksum(src, dst, PROTO_TCP, &t);
    t[16..18].copy_from_slice(&c.to_be_bytes());
    ip_packet(src, dst, PROTO_TCP, &t)
}

/// TCP flag bits.
pub mod tcp_flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// ACK.
    pub const ACK: u8 = 0x10;
}

/// A UDP datagram `src -> dst` (used to fake packets that are not ours).
pub fn udp(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut u = Vec::with_capacity(8 + data.len());
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(data);
    let c = pseudo_checksum(src, dst, PROTO_UDP, &u);
    u[6..8].copy_from_slice(&c.to_be_bytes());
    ip_packet(src, dst, PROTO_UDP, &u)
}

/// `pkt` (built here, so without IP options or extension headers) with its transport checksum broken:
/// a forged or corrupt reply that a receiver must drop.
pub fn break_checksum(mut pkt: Vec<u8>) -> Vec<u8> {
    let Some(ip) = parse(&pkt) else { return pkt };
    let header = ip.packet.len() - ip.payload.len();
    let at = header
        + match ip.protocol {
            PROTO_TCP => 16,
            PROTO_UDP => 6,
            _ => 2,
        };
    if let Some(b) = pkt.get_mut(at) {
        *b ^= 0x5a;
    }
    pkt
}

/// One MPLS label stack entry of an RFC 4950 extension object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MplsEntry {
    /// 20-bit label.
    pub label: u32,
    /// 3-bit traffic class (formerly EXP).
    pub exp: u8,
    /// TTL of the label.
    pub ttl: u8,
}

/// The RFC 4884 extension structure carrying one RFC 4950 MPLS label stack object.
pub fn mpls_extension(stack: &[MplsEntry]) -> Vec<u8> {
    let mut obj = Vec::new();
    obj.extend_from_slice(&((4 + 4 * stack.len()) as u16).to_be_bytes());
    obj.extend_from_slice(&[1, 1]); // class 1 (MPLS label stack), c-type 1 (incoming)
    for (i, e) in stack.iter().enumerate() {
        let bottom = u32::from(i + 1 == stack.len());
        let word = (e.label & 0xf_ffff) << 12 | u32::from(e.exp & 7) << 9 | bottom << 8 | u32::from(e.ttl);
        obj.extend_from_slice(&word.to_be_bytes());
    }
    let mut ext = vec![0x20, 0, 0, 0]; // version 2
    ext.extend_from_slice(&obj);
    let c = checksum(&ext);
    ext[2..4].copy_from_slice(&c.to_be_bytes());
    ext
}
