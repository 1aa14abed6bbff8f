//! Paris-traceroute flows, pure: probe payloads chosen so that what per-flow load balancers hash stays
//! the same for every probe of a run, while each probe stays recognisable in the replies.
//!
//! Balancers hash the addresses, the protocol and the first four bytes of the transport header. For
//! ICMP those four bytes hold the checksum, which changes with every sequence number unless the
//! payload compensates: two payload bytes are chosen so the message's sum (and so its checksum) is the
//! same for every probe. For UDP the ports are fixed and the checksum, which balancers do not hash, is
//! made equal to the probe's number, so an ICMP error that quotes only the UDP header still names it.

use std::net::IpAddr;

/// IP protocol number of UDP.
const PROTO_UDP: u8 = 17;
/// Length of the UDP header.
const UDP_HEADER_LEN: usize = 8;

/// The ones' complement sum of `data` as 16-bit big-endian words, added to `init`, folded.
fn sum(data: &[u8], init: u16) -> u16 {
    let mut s = u32::from(init);
    for pair in data.chunks(2) {
        let word = match pair {
            [a, b] => u16::from_be_bytes([*a, *b]),
            [a] => u16::from_be_bytes([*a, 0]),
            _ => 0,
        };
        s += u32::from(word);
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// `a - b` in ones' complement arithmetic: the word to add to `b` to get `a`.
fn difference(a: u16, b: u16) -> u16 {
    sum(&(!b).to_be_bytes(), a)
}

/// The payload of an echo request whose ICMP checksum is the same for every `seq`: two adjusting bytes,
/// then `tail`. `flow` picks which constant (another flow, another branch of a balancer).
///
/// `echo_type` is 8 (ICMPv4) or 128 (ICMPv6); for ICMPv6 the kernel adds the pseudo-header, which is the
/// same for every probe of a run, so a constant message sum still means a constant checksum.
pub fn echo_payload(echo_type: u8, ident: u16, seq: u16, flow: u16, tail: &[u8]) -> Vec<u8> {
    let mut header = [echo_type, 0, 0, 0, 0, 0, 0, 0];
    header[4..6].copy_from_slice(&ident.to_be_bytes());
    header[6..8].copy_from_slice(&seq.to_be_bytes());
    let mut payload = vec![0, 0];
    payload.extend_from_slice(tail);
    let without = sum(&payload, sum(&header, 0));
    let adjust = difference(flow, without);
    payload[..2].copy_from_slice(&adjust.to_be_bytes());
    payload
}

/// The addresses and ports of a UDP flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpFlow {
    /// Our address (the one the kernel chose for the route).
    pub source: IpAddr,
    /// The target.
    pub destination: IpAddr,
    /// Our port.
    pub source_port: u16,
    /// The target's port.
    pub destination_port: u16,
}

/// The payload of a UDP probe on `flow` whose UDP checksum will be `seq`: two adjusting bytes, `seq`
/// itself (read back from longer quotes, and from the error queue), then `tail`.
///
/// `seq` must not be 0 or 0xffff: a computed checksum of 0 goes on the wire as 0xffff, so both look
/// the same (the caller keeps probe numbers clear of them).
pub fn udp_payload(flow: &UdpFlow, seq: u16, tail: &[u8]) -> Vec<u8> {
    let mut payload = vec![0, 0];
    payload.extend_from_slice(&seq.to_be_bytes());
    payload.extend_from_slice(tail);
    let len = (UDP_HEADER_LEN + payload.len()) as u16;
    let mut header = [0u8; UDP_HEADER_LEN];
    header[0..2].copy_from_slice(&flow.source_port.to_be_bytes());
    header[2..4].copy_from_slice(&flow.destination_port.to_be_bytes());
    header[4..6].copy_from_slice(&len.to_be_bytes());
    let without = sum(&payload, sum(&header, pseudo_sum(flow, len)));
    // The checksum is the complement of the total sum: the total must be !seq.
    let adjust = difference(!seq, without);
    payload[..2].copy_from_slice(&adjust.to_be_bytes());
    payload
}

/// The probe number a UDP payload of ours carries (bytes 2-3), when that much of it came back.
pub fn udp_payload_seq(payload: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes([*payload.get(2)?, *payload.get(3)?]))
}

/// The sum of the IPv4 or IPv6 pseudo-header of a UDP datagram of `len` bytes.
fn pseudo_sum(flow: &UdpFlow, len: u16) -> u16 {
    let mut pseudo = Vec::with_capacity(40);
    match (flow.source, flow.destination) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            pseudo.extend_from_slice(&s.octets());
            pseudo.extend_from_slice(&d.octets());
            pseudo.extend_from_slice(&[0, PROTO_UDP]);
            pseudo.extend_from_slice(&len.to_be_bytes());
        }
        (s, d) => {
            let v6 = |a: IpAddr| match a {
                IpAddr::V6(a) => a.octets(),
                IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
            };
            pseudo.extend_from_slice(&v6(s));
            pseudo.extend_from_slice(&v6(d));
            pseudo.extend_from_slice(&u32::from(len).to_be_bytes());
            pseudo.extend_from_slice(&[0, 0, 0, PROTO_UDP]);
        }
    }
    sum(&pseudo, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checksum a sender computes over `header` (checksum field zero) and `payload`, from `init`.
    fn checksum(init: u16, header: &[u8], payload: &[u8]) -> u16 {
        let s = !sum(payload, sum(header, init));
        // A computed 0 is sent as 0xffff (UDP); never hit by the numbers used here.
        if s == 0 { 0xffff } else { s }
    }

    #[test]
    fn echo_checksum_is_the_same_for_every_sequence_and_differs_per_flow() {
        let tail = b"sockdiag trace probe....";
        let check = |seq: u16, flow: u16| {
            let p = echo_payload(8, 0x1234, seq, flow, tail);
            assert_eq!(&p[2..], tail);
            checksum(0, &[8, 0, 0, 0, 0x12, 0x34, (seq >> 8) as u8, seq as u8], &p)
        };
        let first = check(0, 7);
        for seq in [1, 2, 300, 0x8000, 0xfffe, 0xffff] {
            assert_eq!(check(seq, 7), first, "seq {seq}");
        }
        assert_ne!(check(5, 8), first);
    }

    #[test]
    fn udp_checksum_equals_the_probe_number_v4_and_v6() {
        for (s, d) in [
            ("198.51.100.9", "203.0.113.100"),
            ("2001:db8::9", "2001:db8:ff::100"),
        ] {
            let flow = UdpFlow {
                source: s.parse().unwrap(),
                destination: d.parse().unwrap(),
                source_port: 40_001,
                destination_port: 33_434,
            };
            for seq in [1u16, 2, 0x1234, 0x8000, 0xfffe] {
                let p = udp_payload(&flow, seq, b"abc");
                assert_eq!(udp_payload_seq(&p), Some(seq));
                let len = (8 + p.len()) as u16;
                let mut header = vec![0x9c, 0x41, 0x82, 0x9a];
                header.extend_from_slice(&len.to_be_bytes());
                header.extend_from_slice(&[0, 0]);
                assert_eq!(
                    checksum(pseudo_sum(&flow, len), &header, &p),
                    seq,
                    "{s} seq {seq}"
                );
            }
        }
        assert_eq!(udp_payload_seq(&[1, 2, 3]), None);
    }
}
