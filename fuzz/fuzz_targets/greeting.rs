//! Fuzz target: naming what a server said first (greetings, DNS and NTP replies) never panics, and a name is
//! one line of printable text.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The same source file the CLI compiles, on its own.
#[path = "../../src/probe/greeting.rs"]
mod greeting;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let port = u16::from(selector) * 3;
    for named in [greeting::tcp_greeting(port, bytes), greeting::udp_reply(53, bytes), greeting::udp_reply(123, bytes)]
        .into_iter()
        .flatten()
    {
        assert!(named.chars().all(|c| (' '..='~').contains(&c)), "{named:?}");
    }
});
