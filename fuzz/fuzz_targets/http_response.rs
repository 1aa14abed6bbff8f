//! Fuzz target: probe --http's response head parser and chunked-body end finder never panic, and what they
//! accept lies inside the input and within the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The same source file the CLI compiles (it uses std only).
#[path = "../../src/probe/http/head.rs"]
#[allow(dead_code)]
mod head;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((resp, len))) = head::parse_head(data) {
        assert!(len <= data.len());
        assert!((100..=999).contains(&resp.status));
        assert!(resp.headers.len() <= head::MAX_HEADERS);
        let _ = resp.framing(false);
        let _ = resp.framing(true);
    }
    if let Ok(Some(end)) = head::chunked_end(data) {
        assert!(end <= data.len() && data[..end].ends_with(b"\r\n"));
    }
});
