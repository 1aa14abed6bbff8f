//! Kernel topology: a client, a chain of N router namespaces and a target, dual stack, torn down on drop.
//!
//! Node 0 is the client, nodes 1..=N the routers, node N+1 the target; link i joins node i to
//! node i+1 (addresses in [`crate::support::addr`]). Inside every node the link towards the
//! client is `prev` and the link towards the target is `next`.

mod plumbing;
mod rules;
mod services;
mod udp_echo;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::addr;
use super::dns::{DnsServer, Zone, lab_zone};
use super::netns::Netns;

/// Well-known target ports that every topology has unless [`TopologyBuilder::no_standard_ports`].
pub mod ports {
    /// TCP: a real listener (socat echo).
    pub const TCP_OPEN: u16 = 8001;
    /// TCP: nothing listening, the kernel answers RST.
    pub const TCP_CLOSED: u16 = 8002;
    /// TCP: silently dropped by nftables.
    pub const TCP_FILTERED: u16 = 8003;
    /// TCP: rejected by nftables with ICMP admin-prohibited.
    pub const TCP_REJECTED: u16 = 8004;
    /// UDP: a real echo responder that answers every datagram, empty ones too.
    pub const UDP_ANSWERED: u16 = 9001;
    /// UDP: nothing listening, the kernel answers ICMP port unreachable.
    pub const UDP_CLOSED: u16 = 9002;
    /// UDP: silently dropped by nftables.
    pub const UDP_DROPPED: u16 = 9003;
}

/// Which ICMP destination-unreachable a router or port answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreach {
    /// IPv4 host unreachable (code 1) / IPv6 address unreachable (code 3).
    Host,
    /// IPv4 net unreachable (code 0) / IPv6 no route (code 0).
    Net,
    /// IPv4 communication administratively prohibited (code 13) / IPv6 admin prohibited (code 1).
    AdminProhibited,
}

/// How a router behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouterMode {
    /// Forwards and sends Time Exceeded like any router.
    Forward,
    /// Forwards but never sends Time Exceeded (nftables drops it on output).
    Silent,
    /// Refuses to forward to the target, answering with the given unreachable.
    Unreachable(Unreach),
}

/// How a TCP port on the target behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpPort {
    /// A listener accepts (and echoes).
    Open,
    /// Nothing listens: RST.
    Closed,
    /// Dropped without answer.
    Filtered,
    /// Rejected with an ICMP unreachable.
    Rejected(Unreach),
}

/// How a UDP port on the target behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UdpPort {
    /// An echo responder answers every datagram.
    Answered,
    /// Nothing listens: ICMP port unreachable.
    Closed,
    /// Dropped without answer.
    Dropped,
}

/// Builder for a [`Topology`]; `Topology::builder().routers(3).build()` is the common case.
#[derive(Debug, Clone)]
pub struct TopologyBuilder {
    routers: Vec<RouterMode>,
    tcp: Vec<(u16, TcpPort)>,
    udp: Vec<(u16, UdpPort)>,
    ratelimit: bool,
    client: Option<(String, String)>,
    dns: bool,
}

impl TopologyBuilder {
    /// Sets the number of routers (all forwarding); 0 links client and target directly.
    pub fn routers(mut self, n: usize) -> Self {
        assert!(
            n + 1 < addr::MAX_LINKS,
            "lab: at most {} routers",
            addr::MAX_LINKS - 2
        );
        self.routers = vec![RouterMode::Forward; n];
        self
    }

    /// Sets the behaviour of router `i` (1-based, after `routers(n)`).
    pub fn router(mut self, i: usize, mode: RouterMode) -> Self {
        assert!((1..=self.routers.len()).contains(&i), "lab: no router {i}");
        self.routers[i - 1] = mode;
        self
    }

    /// Adds (or overrides) a TCP port on the target.
    pub fn tcp(mut self, port: u16, mode: TcpPort) -> Self {
        self.tcp.retain(|(p, _)| *p != port);
        self.tcp.push((port, mode));
        self
    }

    /// Adds (or overrides) a UDP port on the target.
    pub fn udp(mut self, port: u16, mode: UdpPort) -> Self {
        self.udp.retain(|(p, _)| *p != port);
        self.udp.push((port, mode));
        self
    }

    /// Drops the standard ports of [`ports`] (add your own with `tcp`/`udp`).
    pub fn no_standard_ports(mut self) -> Self {
        self.tcp.clear();
        self.udp.clear();
        self
    }

    /// Keeps the kernel's ICMP rate limits (off by default so every probe is answered).
    pub fn icmp_ratelimit(mut self, on: bool) -> Self {
        self.ratelimit = on;
        self
    }

    /// Gives the client namespace its own /etc/hosts and /etc/resolv.conf.
    pub fn client_files(mut self, hosts: &str, resolv_conf: &str) -> Self {
        self.client = Some((hosts.to_string(), resolv_conf.to_string()));
        self
    }

    /// Starts the lab DNS server in the client, serving [`Topology::zone`] (names for every node).
    pub fn dns(mut self) -> Self {
        self.dns = true;
        self
    }

    /// Creates namespaces, links, addresses, routes, rules and services; waits until they are ready.
    pub fn build(self) -> Topology {
        let n = self.routers.len();
        let client = match &self.client {
            Some((hosts, resolv)) => Netns::builder().hosts(hosts).resolv_conf(resolv).build(),
            None => Netns::new(),
        };
        let mut topo = Topology {
            dns: None,
            services: services::Services::default(),
            client,
            routers: (0..n).map(|_| Netns::new()).collect(),
            target: Netns::new(),
            modes: self.routers.clone(),
            tcp: self.tcp.clone(),
            udp: self.udp.clone(),
        };
        plumbing::build(&topo, self.ratelimit);
        rules::apply(&topo);
        topo.services = services::start(&topo);
        if self.dns {
            topo.dns = Some(DnsServer::start_in(&topo.client, &[topo.zone()]));
        }
        topo
    }
}

/// A running kernel topology. Fields drop in order: DNS, services, then every namespace.
#[derive(Debug)]
pub struct Topology {
    dns: Option<DnsServer>,
    services: services::Services,
    client: Netns,
    routers: Vec<Netns>,
    target: Netns,
    modes: Vec<RouterMode>,
    tcp: Vec<(u16, TcpPort)>,
    udp: Vec<(u16, UdpPort)>,
}

impl Topology {
    /// A builder with no routers and the standard target ports.
    pub fn builder() -> TopologyBuilder {
        TopologyBuilder {
            routers: Vec::new(),
            tcp: vec![
                (ports::TCP_OPEN, TcpPort::Open),
                (ports::TCP_CLOSED, TcpPort::Closed),
                (ports::TCP_FILTERED, TcpPort::Filtered),
                (ports::TCP_REJECTED, TcpPort::Rejected(Unreach::AdminProhibited)),
            ],
            udp: vec![
                (ports::UDP_ANSWERED, UdpPort::Answered),
                (ports::UDP_CLOSED, UdpPort::Closed),
                (ports::UDP_DROPPED, UdpPort::Dropped),
            ],
            ratelimit: false,
            client: None,
            dns: false,
        }
    }

    /// The standard `lab.test` zone plus `client`, `r1`..`rN` (client-facing addresses) and
    /// `target`, each with A and AAAA, so reverse lookups of every hop give a name.
    pub fn zone(&self) -> Zone {
        let mut z = lab_zone()
            .a("client", self.client_v4())
            .aaaa("client", self.client_v6())
            .a("target", self.target_v4())
            .aaaa("target", self.target_v6());
        for i in 1..=self.hops() {
            z = z
                .a(&format!("r{i}"), self.hop_v4(i))
                .aaaa(&format!("r{i}"), self.hop_v6(i));
        }
        z
    }

    /// The DNS server started by [`TopologyBuilder::dns`], if any.
    pub fn dns(&self) -> Option<&DnsServer> {
        self.dns.as_ref()
    }

    /// The client namespace: run sockdiag and peer tools here.
    pub fn client(&self) -> &Netns {
        &self.client
    }

    /// Router `i` (1-based).
    pub fn router(&self, i: usize) -> &Netns {
        &self.routers[i - 1]
    }

    /// The target namespace.
    pub fn target(&self) -> &Netns {
        &self.target
    }

    /// Number of routers.
    pub fn hops(&self) -> usize {
        self.routers.len()
    }

    /// Every namespace of the topology: client, routers, target.
    pub fn namespaces(&self) -> Vec<&Netns> {
        std::iter::once(&self.client)
            .chain(&self.routers)
            .chain(std::iter::once(&self.target))
            .collect()
    }

    /// The behaviour configured for router `i` (1-based).
    pub fn router_mode(&self, i: usize) -> RouterMode {
        self.modes[i - 1]
    }

    /// Pids of the target's service processes (the TCP listeners; UDP is served by a thread).
    pub fn service_pids(&self) -> Vec<u32> {
        self.services.tcp.iter().map(|c| c.pid()).collect()
    }

    /// The client's IPv4 address (on its link to router 1).
    pub fn client_v4(&self) -> Ipv4Addr {
        addr::link_v4(0, 1)
    }

    /// The client's IPv6 address.
    pub fn client_v6(&self) -> Ipv6Addr {
        addr::link_v6(0, 1)
    }

    /// Router `i`'s IPv4 address facing the client: the source of its Time Exceeded.
    pub fn hop_v4(&self, i: usize) -> Ipv4Addr {
        assert!((1..=self.hops()).contains(&i), "lab: no router {i}");
        addr::link_v4(i - 1, 2)
    }

    /// Router `i`'s IPv6 address facing the client.
    pub fn hop_v6(&self, i: usize) -> Ipv6Addr {
        assert!((1..=self.hops()).contains(&i), "lab: no router {i}");
        addr::link_v6(i - 1, 2)
    }

    /// Router `i`'s address facing the client, in the family of `v6`.
    pub fn hop(&self, i: usize, v6: bool) -> IpAddr {
        if v6 {
            self.hop_v6(i).into()
        } else {
            self.hop_v4(i).into()
        }
    }

    /// The target's IPv4 address.
    pub fn target_v4(&self) -> Ipv4Addr {
        addr::link_v4(self.hops(), 2)
    }

    /// The target's IPv6 address.
    pub fn target_v6(&self) -> Ipv6Addr {
        addr::link_v6(self.hops(), 2)
    }

    /// The target's address in the family of `v6`.
    pub fn target_addr(&self, v6: bool) -> IpAddr {
        if v6 {
            self.target_v6().into()
        } else {
            self.target_v4().into()
        }
    }
}
