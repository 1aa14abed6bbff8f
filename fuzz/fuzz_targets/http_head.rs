//! Fuzz target: listen's HTTP request-head parser must never panic, and what it accepts must be self-consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The same source file the CLI compiles (it uses std only).
#[path = "../../src/listen/http.rs"]
#[allow(dead_code)]
mod http;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((req, len))) = http::parse_head(data) {
        // The head ends with its blank line inside the input, and is never longer than the limit.
        assert!(len <= data.len() && len <= http::MAX_HEAD + 4);
        assert_eq!(&data[len - 4..len], b"\r\n\r\n");
        assert!(req.version().starts_with("HTTP/1."));
        let out = http::answer(&req, &"127.0.0.1:1", None);
        assert!(out.starts_with(b"HTTP/1.1 200 OK\r\n"));
    }
});
