//! The sockdiag test lab: network namespaces, a DNS server, kernel topologies and a simulated path.
//!
//! Every test crate includes this with `mod support;` and uses the subset it needs, hence the
//! crate-wide `dead_code` allowance. Root-only pieces start with [`lab_or_skip`].
#![allow(dead_code, unused_imports)]

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
