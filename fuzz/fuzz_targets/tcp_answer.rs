//! Fuzz target: the decoder of what a raw TCP socket reads (the target's SYN-ACK or RST to a TCP probe)
//! must never panic, and what it accepts must be self-consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The same source file the CLI compiles: the fuzzer tests the real decoder, without the rest of the crate.
#[path = "../../src/trace/tcpwire.rs"]
#[allow(dead_code)]
mod tcpwire;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    // IPv4 raw sockets deliver the IP header first, IPv6 ones the TCP header alone.
    let with_ip = selector & 1 == 0;
    if let Ok(answer) = tcpwire::decode_answer(bytes, with_ip) {
        // Only a whole TCP header is an answer, and its ports are the header's.
        let tcp = if with_ip {
            &bytes[usize::from(bytes[0] & 0x0f) * 4..]
        } else {
            bytes
        };
        assert!(tcp.len() >= tcpwire::TCP_HEADER_LEN);
        assert_eq!(answer.sport, u16::from_be_bytes([tcp[0], tcp[1]]));
        assert_eq!(answer.dport, u16::from_be_bytes([tcp[2], tcp[3]]));
        // An open port's answer has SYN set, a closed port's RST.
        assert_eq!(answer.open, tcp[13] & 0x02 != 0);
        assert_eq!(!answer.open, tcp[13] & 0x04 != 0);
    }
});
