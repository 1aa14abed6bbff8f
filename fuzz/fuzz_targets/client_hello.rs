//! Fuzz target: listen --tls's ClientHello sniffer must never panic, and what it reads must be self-consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The same source file the CLI compiles (it uses std only).
#[path = "../../src/listen/hello.rs"]
#[allow(dead_code)]
mod hello;

fuzz_target!(|data: &[u8]| {
    match hello::sniff(data) {
        hello::Sniff::Hello(h) => {
            // Only a handshake record starts a hello.
            assert_eq!(data[0], 0x16);
            assert!(h.alpn.len() <= data.len());
        }
        hello::Sniff::PlainHttp => assert!(data[0].is_ascii_uppercase()),
        hello::Sniff::Incomplete | hello::Sniff::NotTls => {}
    }
});
