//! The sockdiag test lab: network namespaces, a DNS server, kernel topologies and a simulated path.
//!
//! Every test crate includes this with `mod support;` and uses the subset it needs, hence the
//! crate-wide `dead_code` allowance. Root-only pieces start with [`lab_or_skip`].
//!
//! ```ignore
//! if !support::lab_or_skip("trace_through_routers") { return; }
//! let topo = Topology::builder().routers(3).router(2, RouterMode::Silent).dns().build();
//! let out = topo.client().run_bin(env!("CARGO_BIN_EXE_sockdiag"), &["trace", "target.lab.test"]);
//!
//! let ns = Netns::new();
//! let sim = SimPath::start(&ns, Scenario::linear(3, ms(10)).duplicate());
//! let dns = DnsServer::start_loopback(&[dns::lab_zone()]); // 127.0.0.1:<port>, no root needed
//! ```
//! Addressing plan: [`addr`]. Tools: `scripts/lab-deps` installs them.
#![allow(dead_code, unused_imports)]
// The lab drives the kernel itself (setns, TUN ioctls, real-time scheduling, signals); sockdiag's own
// unsafe code stays in src/sys/ (Cargo.toml denies it elsewhere).
#![allow(unsafe_code)]

pub mod addr;
pub mod cmd;
pub mod dns;
pub mod netns;
pub mod privilege;
pub mod sim;
pub mod topo;
pub mod wait;

pub use netns::Netns;
pub use privilege::{lab_or_skip, tool_or_skip};
