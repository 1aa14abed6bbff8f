//! The sockdiag test harness: running the built binary, declaring what a test needs, and the lab (network
//! namespaces, a DNS server, kernel topologies and a simulated path).
//!
//! Every test crate includes this with `#[macro_use] mod support;` and uses the subset it needs, hence the
//! crate-wide `dead_code` allowance. A test that needs root or lab tools starts with [`needs!`].
//!
//! ```ignore
//! #[test]
//! fn trace_through_routers() {
//!     needs!(lab);
//!     let topo = Topology::builder().routers(3).router(2, RouterMode::Silent).dns().build();
//!     let report = sockdiag(&["--json", "trace", "target.lab.test"]).in_ns(topo.client()).exits(0).json();
//!
//!     let ns = Netns::new();
//!     let sim = SimPath::start(&ns, Scenario::linear(3, ms(10)).duplicate());
//!     let dns = DnsServer::start_loopback(&[dns::lab_zone()]); // 127.0.0.1:<port>, no root needed
//! }
//! ```
//! Addressing plan: [`addr`]. Tools: `scripts/lab-deps` installs them.
#![allow(dead_code, unused_imports)]
// The lab's kernel plumbing (namespaces, TUN devices, signals) is the only unsafe code of the tests: it
// stays here, behind safe functions, so the test files themselves have none if the crate denies unsafe_code.
#![allow(unsafe_code)]

/// The running test's name as the test harness prints it (`module::function`), from the enclosing function.
#[allow(unused_macros)]
macro_rules! test_name {
    () => {{
        fn here() {}
        let path = ::std::any::type_name_of_val(&here);
        let path = path.strip_suffix("::here").unwrap_or(path);
        // Without the crate name, as `cargo test` lists the test.
        path.split_once("::").map_or(path, |(_, rest)| rest)
    }};
}

/// Returns from the test after one `SKIP <test>: <why>` line unless what it needs is here; under
/// `SOCKDIAG_REQUIRE_LAB=1` a missing need fails the test instead. The test's name comes from the function.
///
/// `needs!(lab)`: root, working `ip netns` and the lab tools; `needs!(lab, "setpriv")`: that and one more tool;
/// `needs!(dns)`: the DNS server and dig on loopback (no root); `needs!(root)`: root only.
#[allow(unused_macros)]
macro_rules! needs {
    (lab $(, $tool:literal)*) => {
        let test = test_name!();
        if !$crate::support::privilege::lab_or_skip(test)
            $(|| !$crate::support::privilege::tool_or_skip(test, $tool))*
        {
            return;
        }
    };
    (dns) => {
        if !$crate::support::privilege::dns_or_skip(test_name!()) {
            return;
        }
    };
    (root) => {
        if !$crate::support::privilege::root_or_skip(test_name!()) {
            return;
        }
    };
}

pub mod addr;
pub mod binary;
pub mod cmd;
pub mod dns;
pub mod manpage;
pub mod netns;
pub mod privilege;
pub mod schema;
pub mod sim;
pub mod topo;
pub mod wait;

pub use binary::{Run, Sockdiag, sockdiag};
pub use netns::Netns;
pub use privilege::{lab_or_skip, tool_or_skip};
