//! Real listeners on the target (socat for TCP, [`UdpEcho`] for UDP), ready before use.

use std::time::Duration;

use super::udp_echo::UdpEcho;
use super::{TcpPort, Topology, UdpPort};
use crate::support::netns::NsChild;
use crate::support::wait;

/// The target's running services: TCP echo processes and UDP echo threads.
#[derive(Debug, Default)]
pub(super) struct Services {
    pub(super) tcp: Vec<NsChild>,
    pub(super) udp: Vec<UdpEcho>,
}

/// Starts a socat echo for every open TCP port and a [`UdpEcho`] for every answered UDP port,
/// then waits until the TCP listeners are bound (the UDP sockets are bound on return).
pub(super) fn start(topo: &Topology) -> Services {
    let mut children = Vec::new();
    let mut expect: Vec<u16> = Vec::new();
    let ns = topo.target();
    for (port, mode) in &topo.tcp {
        if *mode == TcpPort::Open {
            // One dual-stack socket; `fork` serves each connection in a child that echoes.
            let spec = format!("TCP6-LISTEN:{port},ipv6only=0,reuseaddr,fork");
            children.push(ns.spawn("socat", &[&spec, "PIPE"]));
            expect.push(*port);
        }
    }
    let udp = topo
        .udp
        .iter()
        .filter(|(_, mode)| *mode == UdpPort::Answered)
        .map(|(port, _)| UdpEcho::start_in(ns, *port))
        .collect();
    if !expect.is_empty() {
        wait::until("target listeners", Duration::from_secs(10), || {
            let out = ns.run("ss", &["-Hlnt"]);
            let text = String::from_utf8_lossy(&out.stdout);
            expect.iter().all(|port| {
                text.lines().any(|l| {
                    l.split_whitespace()
                        .nth(3)
                        .is_some_and(|a| a.ends_with(&format!(":{port}")))
                })
            })
        });
    }
    Services { tcp: children, udp }
}
