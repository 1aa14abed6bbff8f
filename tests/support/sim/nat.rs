//! A simulated source NAT: probes going past a translating hop get their source port (ICMP echo: the
//! identifier) rewritten with the transport checksum updated; replies coming back are translated back.
//!
//! As many real translators do, an ICMP error's quoted header gets its port restored but keeps the
//! quoted checksum of the translated packet, so a tool comparing that checksum with the one it sent can
//! tell a NAT is on the path (Dublin traceroute's method).

use std::net::IpAddr;

use super::packet::{self, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP};

/// How far the NAT behind hop `k` moves a port or identifier: a bijection, so flows stay distinct,
/// and never zero, so every translated packet differs from the one sent.
pub fn shift(k: usize) -> u16 {
    0x1111u16.wrapping_add(k as u16 * 0x0101)
}

/// Where the rewritten 16-bit field and the checksum covering it sit in a transport header; `None`
/// for what this NAT does not translate. Going out (`back` false) it is the source port or an echo
/// request's identifier; coming back, the destination port or an echo reply's identifier.
fn fields(protocol: u8, transport: &[u8], back: bool) -> Option<(usize, usize)> {
    match protocol {
        PROTO_UDP if transport.len() >= 8 => Some((if back { 2 } else { 0 }, 6)),
        PROTO_TCP if transport.len() >= 20 => Some((if back { 2 } else { 0 }, 16)),
        PROTO_ICMP | PROTO_ICMPV6 if transport.len() >= 8 => {
            let want: &[u8] = if back { &[0, 129] } else { &[8, 128] };
            want.contains(&transport[0]).then_some((4, 2))
        }
        _ => None,
    }
}

/// RFC 1624 eqn. 3: the checksum after one 16-bit word changed from `old` to `new`.
fn adjust(check: u16, old: u16, new: u16) -> u16 {
    let mut s = u32::from(!check) + u32::from(!old) + u32::from(new);
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// Adds `delta` to the 16-bit field at `at` of `t`; with `check` Some, updates the checksum there too
/// (a UDP checksum of zero, "none" in IPv4, stays zero; a computed zero is sent as 0xffff).
fn rewrite(t: &mut [u8], at: usize, delta: u16, check: Option<usize>) {
    let old = u16::from_be_bytes([t[at], t[at + 1]]);
    let new = old.wrapping_add(delta);
    t[at..at + 2].copy_from_slice(&new.to_be_bytes());
    let Some(c) = check else { return };
    let sum = u16::from_be_bytes([t[c], t[c + 1]]);
    if sum == 0 && c == 6 {
        return;
    }
    let mut updated = adjust(sum, old, new);
    if updated == 0 && c == 6 {
        updated = 0xffff;
    }
    t[c..c + 2].copy_from_slice(&updated.to_be_bytes());
}

/// Length of the IP header at the start of `pkt` (IPv4 IHL, IPv6 fixed 40), if it fits.
fn header_len(pkt: &[u8]) -> Option<usize> {
    let len = match pkt.first()? >> 4 {
        4 => usize::from(pkt[0] & 0x0f) * 4,
        6 => 40,
        _ => return None,
    };
    (len >= 20 && pkt.len() >= len).then_some(len)
}

/// The protocol field of the IP header at the start of `pkt`.
fn protocol(pkt: &[u8]) -> Option<u8> {
    match pkt.first()? >> 4 {
        4 => pkt.get(9).copied(),
        _ => pkt.get(6).copied(),
    }
}

/// The probe `pkt` as it leaves a NAT with the given `shift` (unchanged if not translatable).
pub fn outbound(mut pkt: Vec<u8>, shift: u16) -> Vec<u8> {
    let (Some(h), Some(proto)) = (header_len(&pkt), protocol(&pkt)) else {
        return pkt;
    };
    if let Some((at, check)) = fields(proto, &pkt[h..], false) {
        rewrite(&mut pkt[h..], at, shift, Some(check));
    }
    pkt
}

/// A reply to a translated probe of the flow toward `target`, translated back: a direct answer (echo
/// reply, TCP, rarely UDP) gets its destination port or identifier and checksum restored; an ICMP error
/// quoting a packet to `target` gets the quoted port restored, the quoted checksum left as it was, and
/// its own checksum recomputed. Anything else passes unchanged.
pub fn inbound(mut pkt: Vec<u8>, shift: u16, target: IpAddr) -> Vec<u8> {
    let (Some(h), Some(proto)) = (header_len(&pkt), protocol(&pkt)) else {
        return pkt;
    };
    let back = 0u16.wrapping_sub(shift);
    let t = &pkt[h..];
    let error = match proto {
        PROTO_ICMP => t.first().is_some_and(|&ty| matches!(ty, 3 | 11 | 12)),
        PROTO_ICMPV6 => t.first().is_some_and(|&ty| (1..=4).contains(&ty)),
        _ => false,
    };
    if !error {
        if let Some((at, check)) = fields(proto, t, true) {
            rewrite(&mut pkt[h..], at, back, Some(check));
        }
        return pkt;
    }
    if restore_quote(&mut pkt[h + 8..], back, target) {
        refresh_icmp_checksum(&mut pkt, h);
    }
    pkt
}

/// Restores the port or identifier of the packet quoted in an ICMP error, leaving its checksum; true
/// if the quote was of a packet to `target` and long enough to hold the field.
fn restore_quote(quote: &mut [u8], back: u16, target: IpAddr) -> bool {
    let (Some(h), Some(proto)) = (header_len(quote), protocol(quote)) else {
        return false;
    };
    let dst: Option<IpAddr> = match (quote[0] >> 4, target) {
        (4, IpAddr::V4(_)) => <[u8; 4]>::try_from(&quote[16..20]).ok().map(IpAddr::from),
        (6, IpAddr::V6(_)) => <[u8; 16]>::try_from(&quote[24..40]).ok().map(IpAddr::from),
        _ => None,
    };
    if dst != Some(target) {
        return false;
    }
    // The quote may stop after 8 transport bytes: only the field itself has to be there.
    let t = &mut quote[h..];
    let at = match proto {
        PROTO_UDP | PROTO_TCP => 0,
        PROTO_ICMP | PROTO_ICMPV6 if t.first().is_some_and(|&ty| ty == 8 || ty == 128) => 4,
        _ => return false,
    };
    if t.len() < at + 2 {
        return false;
    }
    rewrite(t, at, back, None);
    true
}

/// Recomputes the checksum of the ICMP message after the IP header of length `h` (ICMPv6 with its
/// pseudo-header), as a NAT does after editing the quote.
fn refresh_icmp_checksum(pkt: &mut [u8], h: usize) {
    pkt[h + 2..h + 4].copy_from_slice(&[0, 0]);
    let Some(ip) = packet::parse(pkt) else { return };
    let c = if ip.src.is_ipv4() {
        packet::checksum(ip.payload)
    } else {
        packet::transport_checksum(ip.src, ip.dst, PROTO_ICMPV6, ip.payload)
    };
    pkt[h + 2..h + 4].copy_from_slice(&c.to_be_bytes());
}
