//! Real listeners on the target (socat), started in its namespace and awaited before use.

use std::time::Duration;

use super::{TcpPort, Topology, UdpPort};
use crate::support::netns::NsChild;
use crate::support::wait;

/// Starts a socat echo for every open TCP and answered UDP port, then waits until all are bound.
pub(super) fn start(topo: &Topology) -> Vec<NsChild> {
    let mut children = Vec::new();
    let mut expect: Vec<(char, u16)> = Vec::new();
    let ns = topo.target();
    for (port, mode) in &topo.tcp {
        if *mode == TcpPort::Open {
            // One dual-stack socket; `fork` serves each connection in a child that echoes.
            let spec = format!("TCP6-LISTEN:{port},ipv6only=0,reuseaddr,fork");
            children.push(ns.spawn("socat", &[&spec, "PIPE"]));
            expect.push(('t', *port));
        }
    }
    for (port, mode) in &topo.udp {
        if *mode == UdpPort::Answered {
            let spec = format!("UDP6-RECVFROM:{port},ipv6only=0,reuseaddr,fork");
            children.push(ns.spawn("socat", &[&spec, "PIPE"]));
            expect.push(('u', *port));
        }
    }
    if !expect.is_empty() {
        wait::until("target listeners", Duration::from_secs(10), || {
            let out = ns.run("ss", &["-Hlntu"]);
            let text = String::from_utf8_lossy(&out.stdout);
            expect.iter().all(|(proto, port)| {
                let want = if *proto == 't' { "tcp" } else { "udp" };
                text.lines().any(|l| {
                    l.starts_with(want)
                        && l.split_whitespace()
                            .nth(4)
                            .is_some_and(|a| a.ends_with(&format!(":{port}")))
                })
            })
        });
    }
    children
}
