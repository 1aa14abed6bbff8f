//! Fuzz target: the ICMP reply decoder (echo replies, errors quoting ICMP, UDP or TCP probes with the quoted
//! UDP length and checksum, packet too big with its MTU) must never panic, and what it accepts must be
//! self-consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The same source file the CLI compiles: the fuzzer tests the real decoder, without the rest of the crate.
#[path = "../../src/trace/packet.rs"]
#[allow(dead_code)]
mod packet;

use packet::ReplyKind;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let reply = match selector % 4 {
        // What a raw IPv4 socket delivers: IP header + ICMP.
        0 => packet::decode_ipv4_packet(bytes).ok().map(|(_, r)| r),
        1 => packet::decode_icmpv4(bytes).ok(),
        2 => packet::decode_icmpv6(bytes).ok(),
        // Extensions alone, at an offset taken from the input.
        _ => {
            let declared = usize::from(selector) * 4;
            let labels = packet::extension_labels(bytes, declared);
            assert!(labels.len() * 4 <= bytes.len());
            let _ = packet::decode_own_echo(bytes, selector & 0x80 != 0);
            None
        }
    };
    if let Some(r) = reply {
        // An error always names the destination it quotes; an echo reply never does.
        assert_eq!(r.kind == ReplyKind::EchoReply, r.quoted_dst.is_none());
        assert!(r.mpls.iter().all(|l| l.label < (1 << 20) && l.tc < 8));
        // Only a packet too big names a next-hop MTU (--mtu), and it always does.
        assert_eq!(r.kind == ReplyKind::PacketTooBig, r.mtu.is_some());
        // A quoted UDP or TCP probe is identified by its source port; echo replies quote nothing.
        if let Some(p) = r.ports {
            assert!(p.protocol == 6 || p.protocol == 17);
            assert_eq!(r.ident, p.source);
            assert!(r.kind != ReplyKind::EchoReply);
        }
        // The UDP length and checksum (NAT detection) come with a quoted UDP header and nothing else;
        // only the prober, which knows what it sent, says whether the quote was translated.
        assert_eq!(r.quoted_udp.is_some(), r.ports.is_some_and(|p| p.protocol == 17));
        assert!(!r.translated);
    }
});
