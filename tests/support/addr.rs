//! The lab's addressing plan: documentation ranges only (198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32).
//!
//! | range | use |
//! |---|---|
//! | 198.51.100.4i/30 | kernel topology link i: .4i+1 client side, .4i+2 target side |
//! | 2001:db8:0:i::/64 | kernel topology link i: ::1 client side, ::2 target side (all in 2001:db8::/48) |
//! | 203.0.113.0/25 | simulated path behind the TUN: hop k is .k, the target .100 by default |
//! | 2001:db8:ff::/48 | simulated path: hop k is 2001:db8:ff::k (hex), the target 2001:db8:ff::100 |
//! | 203.0.113.129, 2001:db8:fe::1 | the client's own address on the TUN device |
//! | 203.0.113.253, 2001:db8:53::53 | the lab DNS server in a namespace (on its `lo`, port 53) |
//!
//! Namespaces are isolated, so concurrent topologies reuse these addresses; only names are unique.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The lab DNS server's IPv4 address inside a namespace.
pub const LAB_DNS_V4: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 253);
/// The lab DNS server's IPv6 address inside a namespace.
pub const LAB_DNS_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x53, 0, 0, 0, 0, 0x53);

/// Aggregate covering every kernel topology link (IPv4).
pub const TOPO_V4_NET: &str = "198.51.100.0/24";
/// Aggregate covering every kernel topology link (IPv6).
pub const TOPO_V6_NET: &str = "2001:db8::/48";

/// IPv4 prefix routed into the simulated path's TUN device.
pub const SIM_V4_NET: &str = "203.0.113.0/25";
/// IPv6 prefix routed into the simulated path's TUN device.
pub const SIM_V6_NET: &str = "2001:db8:ff::/48";
/// The client's IPv4 address on the TUN device (source of probes into the simulated path).
pub const SIM_CLIENT_V4: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 129);
/// The client's IPv6 address on the TUN device.
pub const SIM_CLIENT_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xfe, 0, 0, 0, 0, 1);

/// Most links a topology may have: 198.51.100.0/24 holds 64 /30 subnets.
pub const MAX_LINKS: usize = 64;

/// IPv4 address on link `link`, `side` 1 (client side) or 2 (target side).
pub fn link_v4(link: usize, side: u8) -> Ipv4Addr {
    assert!(link < MAX_LINKS && (side == 1 || side == 2));
    Ipv4Addr::new(198, 51, 100, (4 * link) as u8 + side)
}

/// IPv6 address on link `link`, `side` 1 (client side) or 2 (target side).
pub fn link_v6(link: usize, side: u8) -> Ipv6Addr {
    assert!(link < MAX_LINKS && (side == 1 || side == 2));
    Ipv6Addr::new(0x2001, 0xdb8, 0, link as u16, 0, 0, 0, side as u16)
}

/// Default IPv4 address of simulated hop `k` (1-based).
pub fn sim_hop_v4(k: usize) -> Ipv4Addr {
    assert!((1..100).contains(&k));
    Ipv4Addr::new(203, 0, 113, k as u8)
}

/// Default IPv6 address of simulated hop `k` (1-based).
pub fn sim_hop_v6(k: usize) -> Ipv6Addr {
    assert!((1..100).contains(&k));
    Ipv6Addr::new(0x2001, 0xdb8, 0xff, 0, 0, 0, 0, k as u16)
}

/// Default IPv4 address of the simulated target.
pub const SIM_TARGET_V4: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 100);
/// Default IPv6 address of the simulated target.
pub const SIM_TARGET_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xff, 0, 0, 0, 0, 0x100);
