//! nftables rulesets for router and port behaviour, loaded only inside lab namespaces.

use super::{RouterMode, TcpPort, Topology, UdpPort, Unreach};

/// `reject with ...` for IPv4 and for IPv6 of an unreachable kind.
fn reject(u: Unreach) -> (&'static str, &'static str) {
    match u {
        Unreach::Host => ("icmp type host-unreachable", "icmpv6 type addr-unreachable"),
        Unreach::Net => ("icmp type net-unreachable", "icmpv6 type no-route"),
        Unreach::AdminProhibited => ("icmp type admin-prohibited", "icmpv6 type admin-prohibited"),
    }
}

/// Loads the rulesets of every router with a special mode and of the target's ports.
pub(super) fn apply(topo: &Topology) {
    for i in 1..=topo.hops() {
        let body = match topo.router_mode(i) {
            RouterMode::Forward => continue,
            // Time Exceeded leaves through the output hook; forwarding is untouched.
            RouterMode::Silent => "chain output { type filter hook output priority 0; policy accept;\n\
                 icmp type time-exceeded drop\n icmpv6 type time-exceeded drop\n }"
                .to_string(),
            RouterMode::Unreachable(u) => {
                let (r4, r6) = reject(u);
                format!(
                    "chain forward {{ type filter hook forward priority 0; policy accept;\n\
                     ip daddr {} reject with {r4}\n ip6 daddr {} reject with {r6}\n }}",
                    topo.target_v4(),
                    topo.target_v6()
                )
            }
        };
        topo.router(i).nft(&format!("table inet sdg {{\n{body}\n}}\n"));
    }
    let mut rules = String::new();
    for (port, mode) in &topo.tcp {
        match mode {
            TcpPort::Open | TcpPort::Closed => {}
            TcpPort::Filtered => rules += &format!(" tcp dport {port} drop\n"),
            TcpPort::Rejected(u) => {
                let (r4, r6) = reject(*u);
                rules += &format!(" meta nfproto ipv4 tcp dport {port} reject with {r4}\n");
                rules += &format!(" meta nfproto ipv6 tcp dport {port} reject with {r6}\n");
            }
        }
    }
    for (port, mode) in &topo.udp {
        if *mode == UdpPort::Dropped {
            rules += &format!(" udp dport {port} drop\n");
        }
    }
    if !rules.is_empty() {
        topo.target().nft(&format!(
            "table inet sdg {{\nchain input {{ type filter hook input priority 0; policy accept;\n{rules}}}\n}}\n"
        ));
    }
}
