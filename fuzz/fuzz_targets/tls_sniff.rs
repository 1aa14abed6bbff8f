//! Fuzz target: classifying the first bytes of a failed TLS handshake (alert, ServerHello version, HTTP, text)
//! never panics, and what it keeps is bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The same source file the CLI compiles (it uses std only).
#[path = "../../src/probe/tls/sniff.rs"]
#[allow(dead_code)]
mod sniff;

fuzz_target!(|data: &[u8]| {
    match sniff::sniff(data) {
        sniff::Sniffed::Http { status_line } => {
            assert!(data.starts_with(b"HTTP/") && status_line.len() <= 80);
        }
        sniff::Sniffed::Other { first } => assert!(first.len() <= 80 && data.starts_with(&first)),
        sniff::Sniffed::Nothing => assert!(data.is_empty()),
        sniff::Sniffed::ServerHello { .. } => assert_eq!(data[0], 22),
        sniff::Sniffed::Alert { .. } => assert_eq!(data[0], 21),
        sniff::Sniffed::Record { content_type, .. } => assert_eq!(data[0], content_type),
    }
});
