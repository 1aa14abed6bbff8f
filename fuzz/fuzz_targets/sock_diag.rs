//! Fuzz target: the NETLINK_SOCK_DIAG decoder (inet_diag and unix_diag dumps, tcp_info by length) must never panic,
//! and every socket it returns must have come from bytes it really had.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The same source files the CLI compiles, without the rest of the crate.
#[path = "../../src/inventory/wire.rs"]
#[allow(dead_code)]
mod wire;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    if selector % 2 == 0 {
        if let Ok(batch) = wire::decode_inet(bytes) {
            // Each socket takes at least a header and the 72-byte inet_diag_msg.
            assert!(batch.sockets.len() * (16 + 72) <= bytes.len());
            for s in &batch.sockets {
                assert!(s.tcp_info.as_ref().is_none_or(|i| i.len() <= bytes.len()));
            }
        }
    } else if let Ok(batch) = wire::decode_unix(bytes) {
        assert!(batch.sockets.len() * (16 + 16) <= bytes.len());
    }
});
