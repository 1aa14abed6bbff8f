//! ICMP echo probes and the replies they draw (IPv4 and ICMPv6): pure encode and decode over byte slices.
//!
//! The decoder reads hostile input from the network: it checks every length before slicing and returns
//! an error for anything it does not understand; it never panics (fuzzed in `fuzz/`).

use std::net::{IpAddr, Ipv4Addr};

use pnet_packet::icmp::echo_request::MutableEchoRequestPacket;
use pnet_packet::icmp::{self, IcmpCode, IcmpPacket, IcmpType, IcmpTypes};
use pnet_packet::icmpv6::{Icmpv6Code, Icmpv6Packet, Icmpv6Type};
use pnet_packet::ip::IpNextHeaderProtocols;
use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::ipv6::Ipv6Packet;
use serde::Serialize;

/// Length of an ICMP echo header (type, code, checksum, identifier, sequence).
pub const ECHO_HEADER_LEN: usize = 8;
/// Length of the fixed IPv6 header.
const IPV6_HEADER_LEN: usize = 40;
/// RFC 4884: the original-datagram field is padded to at least this many bytes when extensions follow,
/// and pre-RFC 4884 MPLS routers put their extension at exactly this offset.
const RFC4884_MIN_ORIGINAL: usize = 128;
/// ICMPv4 types and codes this module interprets.
const V4_ECHO_REPLY: u8 = 0;
const V4_UNREACHABLE: u8 = 3;
/// Destination unreachable, code "fragmentation needed and DF set" (RFC 1191 puts the next-hop MTU in it).
const V4_FRAG_NEEDED: u8 = 4;
const V4_ECHO_REQUEST: u8 = 8;
const V4_TIME_EXCEEDED: u8 = 11;
/// ICMPv6 types this module interprets.
const V6_UNREACHABLE: u8 = 1;
const V6_PACKET_TOO_BIG: u8 = 2;
const V6_TIME_EXCEEDED: u8 = 3;
const V6_ECHO_REQUEST: u8 = 128;
const V6_ECHO_REPLY: u8 = 129;
/// IP protocol numbers of the probes.
const PROTO_ICMP: u8 = 1;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const PROTO_ICMPV6: u8 = 58;
/// RFC 4950: the MPLS label stack object.
const MPLS_CLASS: u8 = 1;
const MPLS_CTYPE_INCOMING: u8 = 1;

/// Builds an ICMPv4 echo request with its checksum.
pub fn echo_request_v4(ident: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; ECHO_HEADER_LEN + payload.len()];
    {
        // The buffer is sized for the header, so the constructor cannot fail.
        let Some(mut pkt) = MutableEchoRequestPacket::new(&mut buf) else {
            return Vec::new();
        };
        pkt.set_icmp_type(IcmpTypes::EchoRequest);
        pkt.set_icmp_code(IcmpCode::new(0));
        pkt.set_identifier(ident);
        pkt.set_sequence_number(seq);
        pkt.set_payload(payload);
    }
    let sum = IcmpPacket::new(&buf).map(|p| icmp::checksum(&p)).unwrap_or(0);
    buf[2..4].copy_from_slice(&sum.to_be_bytes());
    buf
}

/// Builds an ICMPv6 echo request; the checksum stays zero because the kernel fills it on ICMPv6
/// sockets (it needs the source address, which the kernel chooses).
pub fn echo_request_v6(ident: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; ECHO_HEADER_LEN + payload.len()];
    buf[0] = V6_ECHO_REQUEST;
    buf[4..6].copy_from_slice(&ident.to_be_bytes());
    buf[6..8].copy_from_slice(&seq.to_be_bytes());
    buf[ECHO_HEADER_LEN..].copy_from_slice(payload);
    buf
}

/// What kind of answer a reply is.
// The fuzzer compiles this file alone (--cfg fuzzing) and has no use for schemas: it skips the derive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(not(fuzzing), derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    /// The target answered the echo.
    EchoReply,
    /// A router on the way dropped the probe when its TTL / hop limit ran out.
    TimeExceeded,
    /// A router or the target said the destination cannot be reached.
    Unreachable,
    /// The target accepted a TCP probe (SYN-ACK): the port is open.
    PortOpen,
    /// The target refused a TCP probe (RST): the port is closed.
    PortClosed,
    /// A router could not forward the probe without fragmenting it (IPv4 fragmentation needed with DF
    /// set, ICMPv6 packet too big): the path MTU beyond it is smaller than the probe (`--mtu`).
    PacketTooBig,
}

/// The transport protocol and ports of a UDP or TCP probe, as an ICMP error quotes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// IP protocol number: 17 (UDP) or 6 (TCP).
    pub protocol: u8,
    /// Source port.
    pub source: u16,
    /// Destination port.
    pub destination: u16,
}

/// One MPLS label stack entry from an RFC 4950 extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(not(fuzzing), derive(schemars::JsonSchema))]
pub struct MplsLabel {
    /// The 20-bit label.
    pub label: u32,
    /// Traffic class (formerly EXP), 3 bits.
    pub tc: u8,
    /// Bottom-of-stack flag.
    pub bottom: bool,
    /// The label's TTL.
    pub ttl: u8,
}

/// A decoded reply to one of our echo requests (its identity still to be matched by the engine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Echo reply, time exceeded or unreachable.
    pub kind: ReplyKind,
    /// The ICMP type as received.
    pub icmp_type: u8,
    /// The ICMP code as received.
    pub icmp_code: u8,
    /// Echo identifier: the reply's own for an echo reply, the quoted request's for an error.
    pub ident: u16,
    /// Echo sequence number, taken the same way.
    pub seq: u16,
    /// For errors: the destination of the quoted datagram (must be the target).
    pub quoted_dst: Option<IpAddr>,
    /// For errors quoting a UDP or TCP probe: its protocol and ports (None for ICMP echo probes).
    pub ports: Option<Ports>,
    /// MPLS label stack from ICMP extensions, outermost first.
    pub mpls: Vec<MplsLabel>,
    /// For packet too big: the next-hop MTU the router named (0: it named none, as pre-RFC 1191 routers).
    pub mtu: Option<u16>,
    /// For errors quoting a UDP probe: the quoted UDP length and checksum (NAT detection, see [`nat`]).
    pub quoted_udp: Option<QuotedUdp>,
    /// The quote differs from the probe as sent (a translator rewrote it): set by the prober, which
    /// knows what it sent, never by the decoder.
    pub translated: bool,
}

/// The UDP header fields of a quoted probe beyond its ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotedUdp {
    /// The UDP length field.
    pub length: u16,
    /// The UDP checksum as quoted: what the datagram carried when the router saw it.
    pub checksum: u16,
}

/// Why bytes were not a reply to an echo request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// Shorter than the headers it claims to hold.
    Truncated(&'static str),
    /// An IP header that is not IPv4/IPv6 or does not carry ICMP.
    WrongProtocol(&'static str),
    /// An ICMP type this tracer does not use (our own echo requests seen on loopback, redirects, ...).
    OtherType(u8),
    /// An error quoting something other than an ICMP echo request.
    NotOurQuote(&'static str),
    /// The ICMP checksum does not match the message (corrupt or forged).
    BadChecksum,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Truncated(what) => write!(f, "truncated {what}"),
            DecodeError::WrongProtocol(what) => write!(f, "wrong protocol: {what}"),
            DecodeError::OtherType(t) => write!(f, "ICMP type {t} is not a reply"),
            DecodeError::NotOurQuote(what) => write!(f, "quote is not an echo request: {what}"),
            DecodeError::BadChecksum => write!(f, "bad ICMP checksum"),
        }
    }
}

/// Decodes what an IPv4 raw ICMP socket delivers: the IP header, then the ICMP message.
/// Returns the packet's source address and the reply.
///
/// The ICMP checksum is verified here because a raw IPv4 socket gets its copy before the kernel's ICMP
/// code checks it. The other sockets need no check of ours: ping sockets (both families) only see
/// messages the kernel's ICMP code accepted, and raw ICMPv6 sockets always verify the checksum with the
/// pseudo-header in the kernel (the ICMPv6 checksum option cannot be turned off).
pub fn decode_ipv4_packet(buf: &[u8]) -> Result<(Ipv4Addr, Reply), DecodeError> {
    let ip = Ipv4Packet::new(buf).ok_or(DecodeError::Truncated("IPv4 header"))?;
    if ip.get_version() != 4 {
        return Err(DecodeError::WrongProtocol("not IPv4"));
    }
    if ip.get_next_level_protocol() != IpNextHeaderProtocols::Icmp {
        return Err(DecodeError::WrongProtocol("IPv4 packet does not carry ICMP"));
    }
    let ihl = usize::from(ip.get_header_length()) * 4;
    if ihl < 20 || ihl > buf.len() {
        return Err(DecodeError::Truncated("IPv4 header"));
    }
    // The total length field is not trusted (BSDs rewrite it); the datagram ends where the buffer does.
    let message = &buf[ihl..];
    if ones_complement_sum(message) != 0xffff {
        return Err(DecodeError::BadChecksum);
    }
    let reply = decode_icmpv4(message)?;
    Ok((ip.get_source(), reply))
}

/// Decodes an ICMPv4 message (starting at the ICMP header).
pub fn decode_icmpv4(buf: &[u8]) -> Result<Reply, DecodeError> {
    let icmp = IcmpPacket::new(buf).ok_or(DecodeError::Truncated("ICMP header"))?;
    let IcmpType(icmp_type) = icmp.get_icmp_type();
    let IcmpCode(icmp_code) = icmp.get_icmp_code();
    let kind = match icmp_type {
        V4_ECHO_REPLY => {
            let (ident, seq) = echo_ids(buf, V4_ECHO_REPLY)?;
            return Ok(Reply {
                kind: ReplyKind::EchoReply,
                icmp_type,
                icmp_code,
                ident,
                seq,
                quoted_dst: None,
                ports: None,
                mpls: Vec::new(),
                mtu: None,
                quoted_udp: None,
                translated: false,
            });
        }
        V4_TIME_EXCEEDED => ReplyKind::TimeExceeded,
        V4_UNREACHABLE if icmp_code == V4_FRAG_NEEDED => ReplyKind::PacketTooBig,
        V4_UNREACHABLE => ReplyKind::Unreachable,
        other => return Err(DecodeError::OtherType(other)),
    };
    if buf.len() < ECHO_HEADER_LEN {
        return Err(DecodeError::Truncated("ICMP error header"));
    }
    let original = &buf[ECHO_HEADER_LEN..];
    let quote = quoted_ipv4(original)?;
    // RFC 4884: byte 5 is the original-datagram length in 32-bit words.
    let mpls = extension_labels(original, usize::from(buf[5]) * 4);
    // RFC 1191: bytes 6-7 of a fragmentation needed hold the next-hop MTU.
    let mtu = (kind == ReplyKind::PacketTooBig).then(|| u16::from_be_bytes([buf[6], buf[7]]));
    Ok(Reply {
        kind,
        icmp_type,
        icmp_code,
        ident: quote.ident,
        seq: quote.seq,
        quoted_dst: Some(quote.dst),
        ports: quote.ports,
        mpls,
        mtu,
        quoted_udp: quote.udp,
        translated: false,
    })
}

/// Decodes an ICMPv6 message (what a raw ICMPv6 socket delivers: no IP header).
pub fn decode_icmpv6(buf: &[u8]) -> Result<Reply, DecodeError> {
    let icmp = Icmpv6Packet::new(buf).ok_or(DecodeError::Truncated("ICMPv6 header"))?;
    let Icmpv6Type(icmp_type) = icmp.get_icmpv6_type();
    let Icmpv6Code(icmp_code) = icmp.get_icmpv6_code();
    let kind = match icmp_type {
        V6_ECHO_REPLY => {
            let (ident, seq) = echo_ids(buf, V6_ECHO_REPLY)?;
            return Ok(Reply {
                kind: ReplyKind::EchoReply,
                icmp_type,
                icmp_code,
                ident,
                seq,
                quoted_dst: None,
                ports: None,
                mpls: Vec::new(),
                mtu: None,
                quoted_udp: None,
                translated: false,
            });
        }
        V6_TIME_EXCEEDED => ReplyKind::TimeExceeded,
        V6_UNREACHABLE => ReplyKind::Unreachable,
        V6_PACKET_TOO_BIG => ReplyKind::PacketTooBig,
        other => return Err(DecodeError::OtherType(other)),
    };
    if buf.len() < ECHO_HEADER_LEN {
        return Err(DecodeError::Truncated("ICMPv6 error header"));
    }
    let original = &buf[ECHO_HEADER_LEN..];
    let quote = quoted_ipv6(original)?;
    let (mpls, mtu) = if kind == ReplyKind::PacketTooBig {
        // RFC 4443: bytes 4-7 hold the MTU (32 bits; an IPv6 link MTU above 65535 is a jumbogram link,
        // clamped) and there is no RFC 4884 length.
        let mtu = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
        (Vec::new(), Some(u16::try_from(mtu).unwrap_or(u16::MAX)))
    } else {
        // RFC 4884: byte 4 is the original-datagram length in 64-bit words.
        (extension_labels(original, usize::from(buf[4]) * 8), None)
    };
    Ok(Reply {
        kind,
        icmp_type,
        icmp_code,
        ident: quote.ident,
        seq: quote.seq,
        quoted_dst: Some(quote.dst),
        ports: quote.ports,
        mpls,
        mtu,
        quoted_udp: quote.udp,
        translated: false,
    })
}

/// The identity of the probe an ICMP error quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotedProbe {
    /// Destination of the quoted datagram.
    pub dst: IpAddr,
    /// The probe's identifier: the echo identifier, or a UDP/TCP probe's source port.
    pub ident: u16,
    /// The probe's number: the echo sequence, a UDP probe's checksum (Paris traceroute's place for
    /// it), or the low 16 bits of a TCP probe's sequence number.
    pub seq: u16,
    /// Protocol and ports of a UDP or TCP probe.
    pub ports: Option<Ports>,
    /// Length and checksum of a UDP probe.
    pub udp: Option<QuotedUdp>,
}

/// Reads the quoted IPv4 header and the probe's header from an error's original-datagram field.
fn quoted_ipv4(original: &[u8]) -> Result<QuotedProbe, DecodeError> {
    let ip = Ipv4Packet::new(original).ok_or(DecodeError::Truncated("quoted IPv4 header"))?;
    if ip.get_version() != 4 {
        return Err(DecodeError::NotOurQuote("quoted header is not IPv4"));
    }
    let ihl = usize::from(ip.get_header_length()) * 4;
    if ihl < 20 {
        return Err(DecodeError::NotOurQuote("quoted IPv4 header length below 20"));
    }
    let header = original
        .get(ihl..)
        .ok_or(DecodeError::Truncated("quoted echo header"))?;
    let dst = IpAddr::V4(ip.get_destination());
    quoted_probe(dst, ip.get_next_level_protocol().0, header, V4_ECHO_REQUEST)
}

/// The probe's identity from the header after a quoted IP header, by the quoted protocol.
fn quoted_probe(dst: IpAddr, protocol: u8, header: &[u8], echo_type: u8) -> Result<QuotedProbe, DecodeError> {
    let icmp = if echo_type == V4_ECHO_REQUEST {
        PROTO_ICMP
    } else {
        PROTO_ICMPV6
    };
    let (ident, seq, ports) = match protocol {
        p if p == icmp => {
            let (ident, seq) = echo_ids(header, echo_type).map_err(quote_error)?;
            (ident, seq, None)
        }
        PROTO_UDP | PROTO_TCP => {
            // RFC 792 routers quote only 8 bytes of the transport header: enough for both.
            let h = header
                .get(..8)
                .ok_or(DecodeError::Truncated("quoted transport header"))?;
            let word = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
            // Bytes 6-7: the UDP checksum (made equal to the probe number), or the low half of the TCP
            // sequence number. A UDP probe also carries its number after two bytes of payload: read it
            // there when quoted, as a checksum offloaded to a NIC may be quoted before it was filled in.
            let seq = match header.get(10..12) {
                Some(id) if protocol == PROTO_UDP => u16::from_be_bytes([id[0], id[1]]),
                _ => word(6),
            };
            let ports = Ports {
                protocol,
                source: word(0),
                destination: word(2),
            };
            (ports.source, seq, Some(ports))
        }
        _ => {
            return Err(DecodeError::NotOurQuote(
                "quoted datagram is not ICMP, UDP or TCP",
            ));
        }
    };
    // Checked above: a UDP quote holds at least the 8-byte header.
    let udp = (protocol == PROTO_UDP).then(|| QuotedUdp {
        length: u16::from_be_bytes([header[4], header[5]]),
        checksum: u16::from_be_bytes([header[6], header[7]]),
    });
    Ok(QuotedProbe {
        dst,
        ident,
        seq,
        ports,
        udp,
    })
}

/// Reads the quoted IPv6 header and the probe's header from an error's original-datagram field.
fn quoted_ipv6(original: &[u8]) -> Result<QuotedProbe, DecodeError> {
    let ip = Ipv6Packet::new(original).ok_or(DecodeError::Truncated("quoted IPv6 header"))?;
    if ip.get_version() != 6 {
        return Err(DecodeError::NotOurQuote("quoted header is not IPv6"));
    }
    // Probes carry no extension headers, so the probe's header follows the fixed header directly.
    let header = &original[IPV6_HEADER_LEN..];
    let dst = IpAddr::V6(ip.get_destination());
    quoted_probe(dst, ip.get_next_header().0, header, V6_ECHO_REQUEST)
}

/// Reads identifier and sequence from an echo header of the expected type.
fn echo_ids(buf: &[u8], expected_type: u8) -> Result<(u16, u16), DecodeError> {
    if buf.len() < ECHO_HEADER_LEN {
        return Err(DecodeError::Truncated("echo header"));
    }
    if buf[0] != expected_type || buf[1] != 0 {
        return Err(DecodeError::NotOurQuote("echo header of another type or code"));
    }
    Ok((
        u16::from_be_bytes([buf[4], buf[5]]),
        u16::from_be_bytes([buf[6], buf[7]]),
    ))
}

fn quote_error(err: DecodeError) -> DecodeError {
    match err {
        DecodeError::Truncated(_) => DecodeError::Truncated("quoted echo header"),
        other => other,
    }
}

/// Reads an echo request the kernel hands back with an error (ping sockets' error queue):
/// identifier and sequence from its ICMP header.
pub fn decode_own_echo(buf: &[u8], v6: bool) -> Result<(u16, u16), DecodeError> {
    echo_ids(buf, if v6 { V6_ECHO_REQUEST } else { V4_ECHO_REQUEST })
}

/// MPLS labels from the ICMP extension structure after an error's original-datagram field.
///
/// `declared` is the RFC 4884 length in bytes (0 when the router did not set it). Routers from before
/// RFC 4884 leave it at 0 and put the extension at byte 128; that is accepted only when the extension
/// checksum verifies. Anything malformed yields no labels rather than guesses.
pub fn extension_labels(original: &[u8], declared: usize) -> Vec<MplsLabel> {
    let (offset, need_checksum) = if declared > 0 {
        (declared, false)
    } else if original.len() > RFC4884_MIN_ORIGINAL {
        (RFC4884_MIN_ORIGINAL, true)
    } else {
        return Vec::new();
    };
    match original.get(offset..) {
        Some(ext) => parse_extension(ext, need_checksum).unwrap_or_default(),
        None => Vec::new(),
    }
}

/// Parses an RFC 4884 extension structure: a 4-byte header (version 2, checksum) then objects.
fn parse_extension(ext: &[u8], need_checksum: bool) -> Option<Vec<MplsLabel>> {
    if ext.len() < 4 || ext[0] >> 4 != 2 {
        return None;
    }
    let stored = u16::from_be_bytes([ext[2], ext[3]]);
    // A zero checksum means the sender did not compute one (allowed when the length field is set).
    if (stored != 0 || need_checksum) && ones_complement_sum(ext) != 0xffff {
        return None;
    }
    let mut labels = Vec::new();
    let mut rest = &ext[4..];
    while rest.len() >= 4 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let (class, ctype) = (rest[2], rest[3]);
        if len < 4 || len > rest.len() {
            // A bad object length makes everything after it unreadable: keep what was read.
            break;
        }
        if class == MPLS_CLASS && ctype == MPLS_CTYPE_INCOMING {
            for entry in rest[4..len].chunks_exact(4) {
                let word = u32::from_be_bytes([entry[0], entry[1], entry[2], entry[3]]);
                labels.push(MplsLabel {
                    label: word >> 12,
                    tc: ((word >> 9) & 0x7) as u8,
                    bottom: word & 0x100 != 0,
                    ttl: (word & 0xff) as u8,
                });
            }
        }
        rest = &rest[len..];
    }
    Some(labels)
}

/// The ones' complement sum of 16-bit words (0xffff when a correct checksum is included).
fn ones_complement_sum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in data.chunks(2) {
        let word = match pair {
            [a, b] => u16::from_be_bytes([*a, *b]),
            [a] => u16::from_be_bytes([*a, 0]),
            _ => 0,
        };
        sum += u32::from(word);
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// Computes the checksum to store in an extension header whose checksum field is zero.
pub fn extension_checksum(ext: &[u8]) -> u16 {
    !ones_complement_sum(ext)
}

/// The traceroute-style annotation for an unreachable (`!H`, `!N`, `!X`, ...), by family and code.
pub fn unreachable_annotation(v6: bool, code: u8) -> String {
    // The same letters Linux traceroute prints; codes without a letter show as `!<code>`.
    let known = if v6 {
        match code {
            0 => "!N", // no route to destination
            1 => "!X", // administratively prohibited
            2 => "!S", // beyond scope of source address
            3 => "!H", // address unreachable
            5 => "!F", // source address failed ingress/egress policy
            6 => "!R", // reject route to destination
            _ => "",
        }
    } else {
        match code {
            0 | 6 | 8 | 11 => "!N", // network unreachable, unknown, isolated, for TOS
            1 | 7 | 12 => "!H",     // host unreachable, unknown, for TOS
            2 => "!P",              // protocol unreachable
            4 => "!F",              // fragmentation needed
            5 => "!S",              // source route failed
            9 | 10 | 13 => "!X",    // administratively prohibited
            14 => "!V",             // host precedence violation
            15 => "!C",             // precedence cutoff
            _ => "",
        }
    };
    if known.is_empty() {
        format!("!<{code}>")
    } else {
        known.to_string()
    }
}

// The fuzzer compiles this file alone, where the module path would not resolve; the comparison is
// plain arithmetic on what the (fuzzed) decoder returns.
#[cfg(not(fuzzing))]
pub mod nat;
#[cfg(test)]
mod tests;
