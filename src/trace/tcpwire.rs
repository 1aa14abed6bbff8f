//! TCP SYN probes on one flow and the target's answers to them, pure: encode a SYN whose sequence number
//! carries the probe's number, decode what a raw TCP socket reads back (SYN-ACK: open, RST: closed).
//!
//! Per-flow load balancers hash the addresses, the protocol and the ports; the sequence number is not
//! hashed, yet an ICMP error quotes it (the first 8 bytes of the TCP header), and the target acknowledges
//! it plus one. So the ports stay fixed for a whole run and the probe number lives in the sequence
//! number's low 16 bits, as Paris traceroute does it.
//!
//! The decoder reads hostile input from the network: it checks every length and never panics (fuzzed in
//! `fuzz/`, target `tcp_answer`).

use std::net::IpAddr;

/// Length of the TCP header the probes carry (no options).
pub const TCP_HEADER_LEN: usize = 20;
/// TCP flags.
const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;
/// IP protocol number of TCP.
const PROTO_TCP: u8 = 6;
/// The window a SYN offers (any plausible value; nothing is ever received).
const WINDOW: u16 = 64240;

/// Builds a SYN from `sport` to `dport` with sequence number `seq`, its checksum computed over the
/// pseudo-header of `src` -> `dst` (the raw socket sends it as is).
pub fn syn(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, seq: u32) -> Vec<u8> {
    let mut h = vec![0u8; TCP_HEADER_LEN];
    h[0..2].copy_from_slice(&sport.to_be_bytes());
    h[2..4].copy_from_slice(&dport.to_be_bytes());
    h[4..8].copy_from_slice(&seq.to_be_bytes());
    h[12] = (TCP_HEADER_LEN as u8 / 4) << 4;
    h[13] = SYN;
    h[14..16].copy_from_slice(&WINDOW.to_be_bytes());
    let sum = !fold(pseudo(src, dst, h.len() as u32) + words(&h));
    h[16..18].copy_from_slice(&sum.to_be_bytes());
    h
}

/// The sum of the IPv4 or IPv6 pseudo-header of a TCP segment of `len` bytes, unfolded.
fn pseudo(src: IpAddr, dst: IpAddr, len: u32) -> u32 {
    let mut p = Vec::with_capacity(40);
    for a in [src, dst] {
        match a {
            IpAddr::V4(a) => p.extend_from_slice(&a.octets()),
            IpAddr::V6(a) => p.extend_from_slice(&a.octets()),
        }
    }
    if src.is_ipv4() {
        p.extend_from_slice(&[0, PROTO_TCP]);
        p.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        p.extend_from_slice(&len.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, PROTO_TCP]);
    }
    words(&p)
}

/// The 16-bit big-endian words of `data`, added (unfolded).
fn words(data: &[u8]) -> u32 {
    data.chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum()
}

/// Folds a ones' complement sum to 16 bits.
fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// What the target said to a SYN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpAnswer {
    /// The target's port (the probe's destination port).
    pub sport: u16,
    /// Our port (the probe's source port).
    pub dport: u16,
    /// True for a SYN-ACK (port open), false for a RST (port closed).
    pub open: bool,
    /// The probe's number: the low 16 bits of the acknowledged sequence number minus one.
    pub seq: u16,
}

/// Why a segment is not an answer to a SYN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpDecodeError {
    /// Shorter than the headers it claims to hold.
    Truncated,
    /// Not IPv4 carrying TCP (for the IPv4 form).
    NotTcp,
    /// A segment that answers no SYN: no ACK, or neither SYN-ACK nor RST (data, FIN, a bare ACK).
    NotAnAnswer,
}

/// Decodes what a raw TCP socket reads: with `ip_header` (IPv4 raw sockets) the IPv4 header first,
/// else (IPv6) the TCP header directly.
pub fn decode_answer(buf: &[u8], ip_header: bool) -> Result<TcpAnswer, TcpDecodeError> {
    let tcp = if ip_header {
        let first = *buf.first().ok_or(TcpDecodeError::Truncated)?;
        if first >> 4 != 4 || buf.get(9) != Some(&PROTO_TCP) {
            return Err(TcpDecodeError::NotTcp);
        }
        let ihl = usize::from(first & 0x0f) * 4;
        if ihl < 20 {
            return Err(TcpDecodeError::NotTcp);
        }
        buf.get(ihl..).ok_or(TcpDecodeError::Truncated)?
    } else {
        buf
    };
    let h = tcp.get(..TCP_HEADER_LEN).ok_or(TcpDecodeError::Truncated)?;
    let flags = h[13];
    let word = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
    let ack = u32::from_be_bytes([h[8], h[9], h[10], h[11]]);
    // A SYN-ACK, or the RST (with ACK) a closed port sends; anything with FIN or without ACK is not.
    let open = match flags & (SYN | RST | ACK | FIN) {
        f if f == SYN | ACK => true,
        f if f == RST | ACK => false,
        _ => return Err(TcpDecodeError::NotAnAnswer),
    };
    Ok(TcpAnswer {
        sport: word(0),
        dport: word(2),
        open,
        seq: ack.wrapping_sub(1) as u16,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: &str) -> IpAddr {
        a.parse().unwrap()
    }

    /// A target's answer to `syn`: SYN-ACK or RST-ACK acknowledging its sequence number plus one.
    fn answer_to(syn: &[u8], flags: u8) -> Vec<u8> {
        let mut a = vec![0u8; TCP_HEADER_LEN];
        a[0..2].copy_from_slice(&syn[2..4]);
        a[2..4].copy_from_slice(&syn[0..2]);
        let seq = u32::from_be_bytes([syn[4], syn[5], syn[6], syn[7]]);
        a[8..12].copy_from_slice(&seq.wrapping_add(1).to_be_bytes());
        a[12] = 0x50;
        a[13] = flags;
        a
    }

    #[test]
    fn a_syn_has_the_ports_the_number_and_a_valid_checksum() {
        for (src, dst) in [
            (v4("198.51.100.1"), v4("203.0.113.9")),
            ("2001:db8::1".parse().unwrap(), "2001:db8::9".parse().unwrap()),
        ] {
            let s = syn(src, dst, 40_000, 443, 0x5d5d_0107);
            assert_eq!(s.len(), TCP_HEADER_LEN);
            assert_eq!(&s[0..4], &[0x9c, 0x40, 0x01, 0xbb]);
            assert_eq!(s[13], SYN);
            // Checksum included, the whole sums to 0xffff.
            assert_eq!(fold(pseudo(src, dst, 20) + words(&s)), 0xffff);
        }
    }

    #[test]
    fn syn_ack_is_open_rst_is_closed_and_both_name_the_probe() {
        let s = syn(v4("198.51.100.1"), v4("203.0.113.9"), 40_000, 443, 0x5d5d_ffff);
        let open = decode_answer(&answer_to(&s, SYN | ACK), false).unwrap();
        assert_eq!(
            open,
            TcpAnswer {
                sport: 443,
                dport: 40_000,
                open: true,
                seq: 0xffff
            }
        );
        let closed = decode_answer(&answer_to(&s, RST | ACK), false).unwrap();
        assert!(!closed.open);
        assert_eq!(closed.seq, 0xffff);
        for flags in [ACK, SYN, RST, FIN | ACK, SYN | ACK | FIN, 0] {
            assert_eq!(
                decode_answer(&answer_to(&s, flags), false),
                Err(TcpDecodeError::NotAnAnswer),
                "flags {flags:#x}"
            );
        }
    }

    #[test]
    fn the_ipv4_form_skips_the_ip_header_and_checks_it() {
        let s = syn(v4("198.51.100.1"), v4("203.0.113.9"), 40_000, 80, 7);
        let mut pkt = vec![0x45, 0, 0, 40, 0, 0, 0, 0, 64, PROTO_TCP, 0, 0];
        pkt.extend_from_slice(&[203, 0, 113, 9, 198, 51, 100, 1]);
        pkt.extend_from_slice(&answer_to(&s, SYN | ACK));
        assert_eq!(decode_answer(&pkt, true).unwrap().seq, 7);
        for len in 0..pkt.len() {
            assert!(decode_answer(&pkt[..len], true).is_err(), "prefix {len}");
        }
        let mut udp = pkt.clone();
        udp[9] = 17;
        assert_eq!(decode_answer(&udp, true), Err(TcpDecodeError::NotTcp));
        let mut short_ihl = pkt;
        short_ihl[0] = 0x44;
        assert_eq!(decode_answer(&short_ihl, true), Err(TcpDecodeError::NotTcp));
    }
}
