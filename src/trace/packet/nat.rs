//! NAT detection (Dublin traceroute's method): a UDP probe's header as an ICMP error quotes it, compared
//! with the header it left with. A translator between us and the router rewrote the source port and
//! fixed the checksum on the way out; on the way back it restores the quoted port (so the error still
//! reaches us) but, like most translators, leaves the quoted checksum as the translated packet had it.
//!
//! Pure: the probers (ordinary and multipath) pass what they sent and what was quoted.

use std::net::IpAddr;

use super::{Ports, QuotedUdp};

/// IP protocol number of UDP, for the pseudo-header.
const PROTO_UDP: u8 = 17;

/// What a UDP probe carried when it left this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentUdp {
    /// Protocol (17) and ports.
    pub ports: Ports,
    /// The checksum it carried (a sockdiag UDP probe's checksum is its probe number).
    pub checksum: u16,
    /// Its source address.
    pub source: IpAddr,
    /// Its destination address.
    pub destination: IpAddr,
}

/// Whether the probe was rewritten between here and the router that quoted it: ports other than sent,
/// or a checksum other than sent.
///
/// A quoted checksum equal to the pseudo-header sum alone is not a rewrite: a probe handed on with its
/// checksum left to hardware (CHECKSUM_PARTIAL, as over veth links between namespaces) is quoted before
/// anyone filled the checksum in.
pub fn rewritten(sent: &SentUdp, quoted_ports: Ports, quoted: QuotedUdp) -> bool {
    if quoted_ports != sent.ports {
        return true;
    }
    quoted.checksum != sent.checksum
        && quoted.checksum != pseudo_header_sum(sent.source, sent.destination, quoted.length)
}

/// The first of a path's hops whose answers were `translated`: the first hop behind the translator.
/// Later hops answer from behind it as well, so only that one is marked (`None`: no translator seen).
pub fn first_translated(translated: impl IntoIterator<Item = bool>) -> Option<usize> {
    translated.into_iter().position(|t| t)
}

/// The folded (not complemented) sum of the UDP pseudo-header: what a datagram whose checksum is left to
/// hardware carries in its checksum field until then.
fn pseudo_header_sum(source: IpAddr, destination: IpAddr, length: u16) -> u16 {
    let mut words: Vec<u16> = Vec::with_capacity(20);
    let mut push = |bytes: &[u8]| {
        words.extend(bytes.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])));
    };
    match (source, destination) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            push(&s.octets());
            push(&d.octets());
            push(&[0, PROTO_UDP]);
            push(&length.to_be_bytes());
        }
        (s, d) => {
            let v6 = |a: IpAddr| match a {
                IpAddr::V6(a) => a.octets(),
                IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
            };
            push(&v6(s));
            push(&v6(d));
            push(&u32::from(length).to_be_bytes());
            push(&[0, 0, 0, PROTO_UDP]);
        }
    }
    let mut sum: u32 = words.iter().map(|&w| u32::from(w)).sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ports(source: u16) -> Ports {
        Ports {
            protocol: PROTO_UDP,
            source,
            destination: 33434,
        }
    }

    fn sent(v6: bool) -> SentUdp {
        let (source, destination): (IpAddr, IpAddr) = if v6 {
            (
                "2001:db8:fe::1".parse().unwrap(),
                "2001:db8:ff::100".parse().unwrap(),
            )
        } else {
            ("203.0.113.129".parse().unwrap(), "203.0.113.100".parse().unwrap())
        };
        SentUdp {
            ports: ports(40_000),
            checksum: 0x1234,
            source,
            destination,
        }
    }

    #[test]
    fn an_untouched_quote_is_not_a_translation() {
        for v6 in [false, true] {
            let q = QuotedUdp {
                length: 60,
                checksum: 0x1234,
            };
            assert!(!rewritten(&sent(v6), ports(40_000), q));
        }
    }

    #[test]
    fn a_rewritten_checksum_or_port_is_a_translation() {
        for v6 in [false, true] {
            let s = sent(v6);
            let other_sum = QuotedUdp {
                length: 60,
                checksum: 0x2345,
            };
            assert!(
                rewritten(&s, ports(40_000), other_sum),
                "checksum left translated"
            );
            let same_sum = QuotedUdp {
                length: 60,
                checksum: 0x1234,
            };
            assert!(rewritten(&s, ports(51_000), same_sum), "port not restored");
        }
    }

    #[test]
    fn a_checksum_left_to_hardware_is_not_a_translation() {
        // 203.0.113.129 + 203.0.113.100 + 17 + 60, folded: what Linux leaves in a CHECKSUM_PARTIAL datagram.
        let s = sent(false);
        let words = [0xcb00u32, 0x7181, 0xcb00, 0x7164, 17, 60];
        let mut sum: u32 = words.iter().sum();
        sum = (sum & 0xffff) + (sum >> 16);
        let q = QuotedUdp {
            length: 60,
            checksum: sum as u16,
        };
        assert!(!rewritten(&s, ports(40_000), q));
        // The same value for another length is a real difference.
        assert!(rewritten(&s, ports(40_000), QuotedUdp { length: 61, ..q }));
    }

    #[test]
    fn only_the_first_hop_behind_the_translator_is_marked() {
        assert_eq!(first_translated([false, false, false, true, true, true]), Some(3));
        assert_eq!(first_translated([false, false]), None);
        assert_eq!(first_translated(Vec::new()), None);
    }
}
