//! Fuzz target: resolve's DS, DNSKEY and RRSIG field decoder must never panic on hostile RDATA.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The same source file the CLI compiles, alone.
#[path = "../../src/resolve/dns/dnssec_wire.rs"]
#[allow(dead_code)]
mod dnssec_wire;

fuzz_target!(|data: &[u8]| {
    let _ = dnssec_wire::ds(data);
    let _ = dnssec_wire::dnskey(data);
    if let Some(sig) = dnssec_wire::rrsig(data) {
        assert!(sig.signer.ends_with('.'));
    }
});
