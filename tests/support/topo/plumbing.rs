//! Links, addresses, static neighbours, routes and sysctls of a kernel topology.

use std::fmt::Write as _;

use super::Topology;
use crate::support::addr::{link_v4, link_v6};
use crate::support::cmd;

/// Fixed MAC per link side, so neighbour entries can be static (no ARP/ND delay or loss).
fn mac(link: usize, side: u8) -> String {
    format!("02:5d:00:00:{link:02x}:{side:02x}")
}

/// Wires every node of `topo`; `ratelimit` keeps the kernel's ICMP rate limits.
pub(super) fn build(topo: &Topology, ratelimit: bool) {
    let nodes = topo.namespaces();
    let last = nodes.len() - 1;
    for (k, ns) in nodes.iter().enumerate() {
        let mut sys: Vec<(&str, &str)> = Vec::new();
        if !ratelimit {
            // Empty masks exempt every ICMP type from both the per-peer and the global limit.
            sys.extend([
                ("net.ipv4.icmp_ratelimit", "0"),
                ("net.ipv4.icmp_ratemask", "0"),
                ("net.ipv6.icmp.ratelimit", "0"),
                ("net.ipv6.icmp.ratemask", ""),
            ]);
        }
        if k != 0 && k != last {
            sys.extend([
                ("net.ipv4.ip_forward", "1"),
                ("net.ipv6.conf.all.forwarding", "1"),
            ]);
        }
        if !sys.is_empty() {
            ns.sysctls(&sys);
        }
    }
    // Created directly inside the namespaces: the host never sees these interfaces.
    for link in 0..last {
        cmd::run_ok(
            cmd::command(
                "ip",
                &[
                    "link",
                    "add",
                    "next",
                    "address",
                    &mac(link, 1),
                    "netns",
                    nodes[link].name(),
                    "type",
                    "veth",
                    "peer",
                    "name",
                    "prev",
                    "address",
                    &mac(link, 2),
                    "netns",
                    nodes[link + 1].name(),
                ],
            ),
            None,
        );
    }
    for (k, ns) in nodes.iter().enumerate() {
        ns.ip_batch(&node_script(k, last));
    }
}

/// The `ip -batch` script of node `k` (0 = client, `last` = target).
fn node_script(k: usize, last: usize) -> String {
    let mut s = String::new();
    if k > 0 {
        // Link k-1, we are side 2; the neighbour is side 1.
        let l = k - 1;
        let _ = writeln!(s, "link set dev prev up");
        let _ = writeln!(s, "addr add {}/30 dev prev", link_v4(l, 2));
        let _ = writeln!(s, "addr add {}/64 dev prev nodad", link_v6(l, 2));
        let _ = writeln!(
            s,
            "neigh replace {} lladdr {} dev prev nud permanent",
            link_v4(l, 1),
            mac(l, 1)
        );
        let _ = writeln!(
            s,
            "neigh replace {} lladdr {} dev prev nud permanent",
            link_v6(l, 1),
            mac(l, 1)
        );
        // Links nearer the client than our own are reached through the previous node.
        for j in 0..l {
            let net4 = link_v4(j, 1);
            let _ = writeln!(s, "route add {}/30 via {}", net4_base(net4), link_v4(l, 1));
            let _ = writeln!(s, "route add 2001:db8:0:{j:x}::/64 via {}", link_v6(l, 1));
        }
    }
    if k < last {
        let l = k;
        let _ = writeln!(s, "link set dev next up");
        let _ = writeln!(s, "addr add {}/30 dev next", link_v4(l, 1));
        let _ = writeln!(s, "addr add {}/64 dev next nodad", link_v6(l, 1));
        let _ = writeln!(
            s,
            "neigh replace {} lladdr {} dev next nud permanent",
            link_v4(l, 2),
            mac(l, 2)
        );
        let _ = writeln!(
            s,
            "neigh replace {} lladdr {} dev next nud permanent",
            link_v6(l, 2),
            mac(l, 2)
        );
        // Everything else of the topology lies towards the target; the target itself has no
        // aggregate route, so a stray lab address ends in net unreachable, not a loop.
        let _ = writeln!(
            s,
            "route add {} via {}",
            crate::support::addr::TOPO_V4_NET,
            link_v4(l, 2)
        );
        let _ = writeln!(
            s,
            "route add {} via {}",
            crate::support::addr::TOPO_V6_NET,
            link_v6(l, 2)
        );
    }
    s
}

fn net4_base(a: std::net::Ipv4Addr) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::from(u32::from(a) & !3)
}
