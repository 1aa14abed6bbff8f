//! Unit tests of the packet codec with annotated byte arrays, one per message kind and malformation.

use super::*;
use std::net::Ipv6Addr;

/// An IPv4 time exceeded from 198.51.100.1 to 198.51.100.9, quoting our echo request to 203.0.113.7
/// (identifier 0x1234, sequence 0x0005), as a raw IPv4 socket delivers it.
const V4_TIME_EXCEEDED: [u8; 56] = [
    // outer IPv4 header: version 4, IHL 5, total length 56, TTL 64, protocol 1 (ICMP)
    0x45, 0x00, 0x00, 0x38, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00, //
    198, 51, 100, 1, // source: the router
    198, 51, 100, 9, // destination: us
    // ICMP: type 11 (time exceeded), code 0, checksum, unused, RFC 4884 length 0, unused
    0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
    // quoted IPv4 header: protocol 1, TTL 1 left
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, //
    198, 51, 100, 9, // quoted source
    203, 0, 113, 7, // quoted destination: the target
    // quoted echo request: type 8, code 0, checksum, identifier 0x1234, sequence 5
    0x08, 0x00, 0x00, 0x00, 0x12, 0x34, 0x00, 0x05,
];

/// An IPv4 echo reply from 203.0.113.7 with identifier 0x1234, sequence 7 and 4 bytes of data.
const V4_ECHO_REPLY: [u8; 32] = [
    0x45, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00, //
    203, 0, 113, 7, // source: the target
    198, 51, 100, 9, // destination: us
    // ICMP: type 0 (echo reply), code 0, checksum, identifier 0x1234, sequence 7
    0x00, 0x00, 0x00, 0x00, 0x12, 0x34, 0x00, 0x07, //
    b's', b'd', b'i', b'g',
];

/// An ICMPv6 time exceeded (no IP header: raw ICMPv6 sockets strip it) quoting our echo request to
/// 2001:db8::7 with identifier 0xbeef, sequence 0x0102.
fn v6_time_exceeded() -> Vec<u8> {
    let mut m = vec![
        // ICMPv6: type 3 (time exceeded), code 0 (hop limit), checksum, RFC 4884 length 0, unused
        0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
        // quoted IPv6 header: version 6, payload length 8, next header 58 (ICMPv6), hop limit 1
        0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 58, 0x01,
    ];
    m.extend_from_slice(&"2001:db8::9".parse::<Ipv6Addr>().unwrap().octets()); // quoted source
    m.extend_from_slice(&"2001:db8::7".parse::<Ipv6Addr>().unwrap().octets()); // quoted destination
    // quoted echo request: type 128, code 0, checksum, identifier 0xbeef, sequence 0x0102
    m.extend_from_slice(&[0x80, 0x00, 0x00, 0x00, 0xbe, 0xef, 0x01, 0x02]);
    m
}

/// `buf` (an IPv4 packet) with the checksum of its ICMP message made right, when it has room for one.
fn with_icmp_checksum(buf: &[u8]) -> Vec<u8> {
    let mut pkt = buf.to_vec();
    let ihl = usize::from(pkt.first().map_or(0, |b| b & 0x0f)) * 4;
    if ihl >= 20 && pkt.len() >= ihl + 4 {
        pkt[ihl + 2..ihl + 4].fill(0);
        let sum = !ones_complement_sum(&pkt[ihl..]);
        pkt[ihl + 2..ihl + 4].copy_from_slice(&sum.to_be_bytes());
    }
    pkt
}

/// The raw-socket decoder on `buf` with a correct ICMP checksum: the vectors here test the other fields
/// (they are written with a zero checksum for readability).
fn decode_ipv4_packet(buf: &[u8]) -> Result<(Ipv4Addr, Reply), DecodeError> {
    super::decode_ipv4_packet(&with_icmp_checksum(buf))
}

#[test]
fn a_bad_icmp_checksum_is_rejected_on_the_raw_ipv4_path() {
    for good in [
        with_icmp_checksum(&V4_ECHO_REPLY),
        with_icmp_checksum(&V4_TIME_EXCEEDED),
    ] {
        assert!(super::decode_ipv4_packet(&good).is_ok());
        // One flipped bit anywhere in the ICMP message, the checksum field itself included.
        for byte in [20, 22, 24, good.len() - 1] {
            let mut bad = good.clone();
            bad[byte] ^= 0x01;
            assert_eq!(
                super::decode_ipv4_packet(&bad),
                Err(DecodeError::BadChecksum),
                "byte {byte}"
            );
        }
    }
    // The forged reply of the issue: a correct echo reply whose checksum was left at zero.
    assert_eq!(
        super::decode_ipv4_packet(&V4_ECHO_REPLY),
        Err(DecodeError::BadChecksum)
    );
}

#[test]
fn echo_request_v4_has_valid_checksum_and_ids() {
    let pkt = echo_request_v4(0x1234, 9, b"abc");
    assert_eq!(&pkt[..2], &[8, 0]);
    assert_eq!(&pkt[4..8], &[0x12, 0x34, 0, 9]);
    assert_eq!(&pkt[8..], b"abc");
    // A correct checksum makes the ones' complement sum of the whole message 0xffff.
    assert_eq!(ones_complement_sum(&pkt), 0xffff);
}

#[test]
fn echo_request_v6_leaves_checksum_to_kernel() {
    let pkt = echo_request_v6(0xbeef, 0x0102, &[1, 2]);
    assert_eq!(pkt, vec![128, 0, 0, 0, 0xbe, 0xef, 1, 2, 1, 2]);
}

#[test]
fn v4_time_exceeded_quotes_target_and_ids() {
    let (src, reply) = decode_ipv4_packet(&V4_TIME_EXCEEDED).unwrap();
    assert_eq!(src, Ipv4Addr::new(198, 51, 100, 1));
    assert_eq!(reply.kind, ReplyKind::TimeExceeded);
    assert_eq!((reply.icmp_type, reply.icmp_code), (11, 0));
    assert_eq!((reply.ident, reply.seq), (0x1234, 5));
    assert_eq!(reply.quoted_dst, Some("203.0.113.7".parse().unwrap()));
    assert!(reply.mpls.is_empty());
}

#[test]
fn v4_echo_reply_reads_own_header() {
    let (src, reply) = decode_ipv4_packet(&V4_ECHO_REPLY).unwrap();
    assert_eq!(src, Ipv4Addr::new(203, 0, 113, 7));
    assert_eq!(reply.kind, ReplyKind::EchoReply);
    assert_eq!((reply.ident, reply.seq), (0x1234, 7));
    assert_eq!(reply.quoted_dst, None);
}

#[test]
fn v4_unreachable_admin_prohibited() {
    let mut pkt = V4_TIME_EXCEEDED;
    pkt[20] = 3; // type 3: destination unreachable
    pkt[21] = 13; // code 13: communication administratively prohibited
    let (_, reply) = decode_ipv4_packet(&pkt).unwrap();
    assert_eq!(reply.kind, ReplyKind::Unreachable);
    assert_eq!(reply.icmp_code, 13);
    assert_eq!(unreachable_annotation(false, reply.icmp_code), "!X");
    assert_eq!(unreachable_annotation(false, 1), "!H");
    assert_eq!(unreachable_annotation(false, 0), "!N");
    assert_eq!(unreachable_annotation(false, 2), "!P");
    assert_eq!(unreachable_annotation(false, 3), "!<3>");
    assert_eq!(unreachable_annotation(true, 1), "!X");
    assert_eq!(unreachable_annotation(true, 3), "!H");
    assert_eq!(unreachable_annotation(true, 0), "!N");
    assert_eq!(unreachable_annotation(true, 200), "!<200>");
}

#[test]
fn v4_own_echo_request_on_loopback_is_not_a_reply() {
    let mut pkt = V4_ECHO_REPLY;
    pkt[20] = 8; // our own echo request, seen by a raw socket when tracing a local address
    assert_eq!(decode_ipv4_packet(&pkt), Err(DecodeError::OtherType(8)));
    pkt[20] = 5; // a redirect
    assert_eq!(decode_ipv4_packet(&pkt), Err(DecodeError::OtherType(5)));
}

#[test]
fn quoted_udp_and_tcp_probes_give_ports_and_probe_number() {
    // The 8 quoted bytes read as UDP: ports 0x0800 -> 0, checksum 5 (RFC 792 routers quote no more).
    let mut udp = V4_TIME_EXCEEDED;
    udp[28 + 9] = 17;
    let (_, r) = decode_ipv4_packet(&udp).unwrap();
    let ports = Ports {
        protocol: 17,
        source: 0x0800,
        destination: 0,
    };
    assert_eq!((r.ports, r.ident, r.seq), (Some(ports), 0x0800, 5));
    // The quoted length and checksum, as the router saw them (NAT detection compares the checksum).
    let length = u16::from_be_bytes([udp[48 + 4], udp[48 + 5]]);
    assert_eq!(r.quoted_udp, Some(QuotedUdp { length, checksum: 5 }));
    assert!(!r.translated);
    // A longer quote: the number after two payload bytes wins over the checksum.
    let mut long = udp.to_vec();
    long.extend_from_slice(&[0xaa, 0xbb, 0x01, 0x02]);
    let (_, r) = decode_ipv4_packet(&long).unwrap();
    assert_eq!(r.seq, 0x0102);
    // TCP: the low half of the sequence number.
    let mut tcp = V4_TIME_EXCEEDED;
    tcp[28 + 9] = 6;
    let (_, r) = decode_ipv4_packet(&tcp).unwrap();
    assert_eq!(r.ports.map(|p| p.protocol), Some(6));
    assert_eq!((r.seq, r.quoted_udp), (5, None));
    // Fewer than 8 quoted bytes of UDP: nothing to match on.
    assert!(decode_ipv4_packet(&udp[..udp.len() - 1]).is_err());
    // IPv6: the same rules after the fixed header.
    let mut v6 = v6_time_exceeded();
    v6[8 + 6] = 17;
    let r = decode_icmpv6(&v6).unwrap();
    assert_eq!((r.ports.map(|p| p.source), r.seq), (Some(0x8000), 0x0102));
}

#[test]
fn v4_wrong_protocol_numbers_are_rejected() {
    let mut outer_udp = V4_TIME_EXCEEDED;
    outer_udp[9] = 17; // outer header says UDP
    assert!(matches!(
        decode_ipv4_packet(&outer_udp),
        Err(DecodeError::WrongProtocol(_))
    ));

    let mut quoted_gre = V4_TIME_EXCEEDED;
    quoted_gre[28 + 9] = 47; // the quoted datagram is GRE: not a probe of any kind
    assert!(matches!(
        decode_ipv4_packet(&quoted_gre),
        Err(DecodeError::NotOurQuote(_))
    ));

    let mut not_v4 = V4_TIME_EXCEEDED;
    not_v4[0] = 0x65; // version 6 in an IPv4 socket's buffer
    assert!(matches!(
        decode_ipv4_packet(&not_v4),
        Err(DecodeError::WrongProtocol(_))
    ));

    let mut quoted_reply = V4_TIME_EXCEEDED;
    quoted_reply[48] = 0; // quoting an echo reply, not a request
    assert!(matches!(
        decode_ipv4_packet(&quoted_reply),
        Err(DecodeError::NotOurQuote(_))
    ));
}

#[test]
fn v4_truncated_quotes_and_headers() {
    // Every prefix shorter than the full message fails cleanly (no panic, no partial reply).
    for len in 0..V4_TIME_EXCEEDED.len() {
        let res = decode_ipv4_packet(&V4_TIME_EXCEEDED[..len]);
        assert!(res.is_err(), "prefix of {len} bytes decoded: {res:?}");
    }
    // An IHL that points past the buffer, or below the minimum.
    let mut long_ihl = V4_ECHO_REPLY;
    long_ihl[0] = 0x4f;
    assert!(decode_ipv4_packet(&long_ihl).is_err());
    let mut short_ihl = V4_ECHO_REPLY;
    short_ihl[0] = 0x41;
    assert!(decode_ipv4_packet(&short_ihl).is_err());
    let mut quoted_ihl = V4_TIME_EXCEEDED;
    quoted_ihl[28] = 0x42; // quoted IHL 2 words
    assert!(decode_ipv4_packet(&quoted_ihl).is_err());
    quoted_ihl[28] = 0x4f; // quoted IHL 60 bytes: the echo header would lie past the end
    assert!(decode_ipv4_packet(&quoted_ihl).is_err());
}

#[test]
fn v6_time_exceeded_and_unreachable() {
    let msg = v6_time_exceeded();
    let reply = decode_icmpv6(&msg).unwrap();
    assert_eq!(reply.kind, ReplyKind::TimeExceeded);
    assert_eq!((reply.ident, reply.seq), (0xbeef, 0x0102));
    assert_eq!(reply.quoted_dst, Some("2001:db8::7".parse().unwrap()));

    let mut unreach = msg.clone();
    unreach[0] = 1; // destination unreachable
    unreach[1] = 1; // administratively prohibited
    let reply = decode_icmpv6(&unreach).unwrap();
    assert_eq!(reply.kind, ReplyKind::Unreachable);
    assert_eq!((reply.icmp_type, reply.icmp_code), (1, 1));

    for len in 0..msg.len() {
        assert!(decode_icmpv6(&msg[..len]).is_err(), "prefix {len}");
    }
    let mut quoted_gre = msg.clone();
    quoted_gre[8 + 6] = 47; // quoted next header GRE
    assert!(matches!(
        decode_icmpv6(&quoted_gre),
        Err(DecodeError::NotOurQuote(_))
    ));
    let mut quoted_v4 = msg;
    quoted_v4[8] = 0x40;
    assert!(matches!(
        decode_icmpv6(&quoted_v4),
        Err(DecodeError::NotOurQuote(_))
    ));
}

#[test]
fn v6_echo_reply_and_other_types() {
    // ICMPv6 echo reply: type 129, code 0, checksum, identifier 0xbeef, sequence 3
    let reply = decode_icmpv6(&[129, 0, 0, 0, 0xbe, 0xef, 0, 3]).unwrap();
    assert_eq!(reply.kind, ReplyKind::EchoReply);
    assert_eq!((reply.ident, reply.seq), (0xbeef, 3));
    // Neighbour solicitation (135) and our own echo request (128) are not replies.
    assert_eq!(
        decode_icmpv6(&[135, 0, 0, 0, 0, 0, 0, 0]),
        Err(DecodeError::OtherType(135))
    );
    assert_eq!(
        decode_icmpv6(&[128, 0, 0, 0, 0, 0, 0, 0]),
        Err(DecodeError::OtherType(128))
    );
    // Echo reply with a nonzero code is malformed.
    assert!(decode_icmpv6(&[129, 1, 0, 0, 0, 0, 0, 0]).is_err());
}

/// An RFC 4950 MPLS extension: header (version 2, checksum) and one object with two label entries.
fn mpls_extension(labels: &[(u32, u8, bool, u8)]) -> Vec<u8> {
    let mut ext = vec![0x20, 0x00, 0x00, 0x00]; // version 2, reserved, checksum (filled below)
    let obj_len = 4 + 4 * labels.len() as u16;
    ext.extend_from_slice(&obj_len.to_be_bytes()); // object length including its header
    ext.extend_from_slice(&[1, 1]); // class 1 (MPLS label stack), c-type 1 (incoming)
    for &(label, tc, bottom, ttl) in labels {
        let word = (label << 12) | (u32::from(tc) << 9) | (u32::from(bottom) << 8) | u32::from(ttl);
        ext.extend_from_slice(&word.to_be_bytes());
    }
    let sum = extension_checksum(&ext);
    ext[2..4].copy_from_slice(&sum.to_be_bytes());
    ext
}

/// A time exceeded whose original-datagram field is padded to 128 bytes and followed by `ext`;
/// `length_words` is the RFC 4884 length field (32 for a compliant router, 0 for an old one).
fn v4_with_extension(ext: &[u8], length_words: u8) -> Vec<u8> {
    let mut pkt = V4_TIME_EXCEEDED.to_vec();
    pkt[25] = length_words; // ICMP byte 5: original-datagram length in 32-bit words
    pkt.resize(20 + 8 + 128, 0); // pad the quote to 128 bytes
    pkt.extend_from_slice(ext);
    pkt
}

#[test]
fn mpls_labels_from_rfc4884_extension() {
    let ext = mpls_extension(&[(24001, 0, false, 1), (16, 5, true, 1)]);
    let (_, reply) = decode_ipv4_packet(&v4_with_extension(&ext, 32)).unwrap();
    assert_eq!(
        reply.mpls,
        vec![
            MplsLabel {
                label: 24001,
                tc: 0,
                bottom: false,
                ttl: 1
            },
            MplsLabel {
                label: 16,
                tc: 5,
                bottom: true,
                ttl: 1
            }
        ]
    );
    // Pre-RFC 4884 router: length 0, extension at 128 with a valid checksum.
    let (_, reply) = decode_ipv4_packet(&v4_with_extension(&ext, 0)).unwrap();
    assert_eq!(reply.mpls.len(), 2);
    // Same but the checksum is wrong: those bytes may be quoted payload, so no labels.
    let mut bad = ext.clone();
    bad[3] ^= 0xff;
    let (_, reply) = decode_ipv4_packet(&v4_with_extension(&bad, 0)).unwrap();
    assert!(reply.mpls.is_empty());
}

#[test]
fn mpls_in_icmpv6() {
    let ext = mpls_extension(&[(100, 0, true, 254)]);
    let mut msg = v6_time_exceeded();
    msg[4] = 16; // ICMPv6 byte 4: original-datagram length in 64-bit words (128 bytes)
    msg.resize(8 + 128, 0);
    msg.extend_from_slice(&ext);
    let reply = decode_icmpv6(&msg).unwrap();
    assert_eq!(reply.mpls.len(), 1);
    assert_eq!(reply.mpls[0].label, 100);
    assert_eq!(reply.mpls[0].ttl, 254);
}

#[test]
fn bad_extension_lengths_yield_no_labels_and_no_panic() {
    let good = mpls_extension(&[(42, 0, true, 1)]);
    // Object length larger than what is left.
    let mut too_long = good.clone();
    too_long[4..6].copy_from_slice(&200u16.to_be_bytes());
    too_long[2..4].copy_from_slice(&[0, 0]);
    let sum = extension_checksum(&too_long);
    too_long[2..4].copy_from_slice(&sum.to_be_bytes());
    let (_, reply) = decode_ipv4_packet(&v4_with_extension(&too_long, 32)).unwrap();
    assert!(reply.mpls.is_empty());
    // Object length below its own header (would loop forever if trusted).
    let mut zero_len = good.clone();
    zero_len[4..6].copy_from_slice(&0u16.to_be_bytes());
    let (_, reply) = decode_ipv4_packet(&v4_with_extension(&zero_len, 32)).unwrap();
    assert!(reply.mpls.is_empty());
    // Wrong version nibble.
    let mut v1 = good.clone();
    v1[0] = 0x10;
    let (_, reply) = decode_ipv4_packet(&v4_with_extension(&v1, 32)).unwrap();
    assert!(reply.mpls.is_empty());
    // RFC 4884 length pointing past the end of the message.
    let (_, reply) = decode_ipv4_packet(&v4_with_extension(&good, 255)).unwrap();
    assert!(reply.mpls.is_empty());
    // Every truncation of the extension still decodes the reply itself.
    let full = v4_with_extension(&good, 32);
    for len in 20 + 8 + 128..full.len() {
        let (_, reply) = decode_ipv4_packet(&full[..len]).unwrap();
        assert!(reply.mpls.is_empty(), "truncated at {len}");
    }
}

#[test]
fn own_echo_from_error_queue() {
    assert_eq!(decode_own_echo(&echo_request_v4(7, 8, b""), false), Ok((7, 8)));
    assert_eq!(decode_own_echo(&echo_request_v6(7, 8, b""), true), Ok((7, 8)));
    assert!(decode_own_echo(&[8, 0, 0], false).is_err());
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A cheap deterministic sweep here; the fuzz target in fuzz/ explores far more.
    let mut state: u32 = 0x9e37_79b9;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    for _ in 0..20_000 {
        let len = (next() % 200) as usize;
        let mut buf: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if len > 0 && next() % 2 == 0 {
            buf[0] = 0x45;
        }
        let _ = decode_ipv4_packet(&buf);
        let _ = decode_icmpv4(&buf);
        let _ = decode_icmpv6(&buf);
        let _ = extension_labels(&buf, (next() % 300) as usize);
    }
}

#[test]
fn v4_fragmentation_needed_is_packet_too_big_with_the_next_hop_mtu() {
    let mut pkt = V4_TIME_EXCEEDED;
    pkt[20] = 3; // destination unreachable
    pkt[21] = 4; // fragmentation needed and DF set
    pkt[26..28].copy_from_slice(&1400u16.to_be_bytes()); // RFC 1191 next-hop MTU
    let (_, reply) = decode_ipv4_packet(&with_icmp_checksum(&pkt)).unwrap();
    assert_eq!(reply.kind, ReplyKind::PacketTooBig);
    assert_eq!(reply.mtu, Some(1400));
    assert_eq!((reply.ident, reply.seq), (0x1234, 5));
    // Any other unreachable carries no MTU, and neither does a time exceeded.
    pkt[21] = 1;
    let (_, reply) = decode_ipv4_packet(&with_icmp_checksum(&pkt)).unwrap();
    assert_eq!((reply.kind, reply.mtu), (ReplyKind::Unreachable, None));
    let (_, reply) = decode_ipv4_packet(&with_icmp_checksum(&V4_TIME_EXCEEDED)).unwrap();
    assert_eq!(reply.mtu, None);
}

#[test]
fn v6_packet_too_big_reads_the_32_bit_mtu() {
    let mut msg = v6_time_exceeded();
    msg[0] = 2; // packet too big
    msg[4..8].copy_from_slice(&1400u32.to_be_bytes());
    let reply = decode_icmpv6(&msg).unwrap();
    assert_eq!(reply.kind, ReplyKind::PacketTooBig);
    assert_eq!(reply.mtu, Some(1400));
    assert_eq!((reply.ident, reply.seq), (0xbeef, 0x0102));
    assert!(reply.mpls.is_empty());
    // A jumbogram link's MTU does not fit 16 bits: it is clamped, not wrapped.
    msg[4..8].copy_from_slice(&70000u32.to_be_bytes());
    assert_eq!(decode_icmpv6(&msg).unwrap().mtu, Some(u16::MAX));
}
