//! The probers a trace can run on, behind one [`Network`]: ICMP echo on raw or ping sockets, UDP on a
//! connected socket, TCP by connect(). Chosen from the protocol and the privilege the process had.

use std::io;
use std::net::{IpAddr, SocketAddr, SocketAddrV6};

use schemars::JsonSchema;
use serde::Serialize;

use super::engine::{ProbeSpec, Protocol, Ts};
use super::net::{IcmpSocket, Network, Received, SocketKind};
use super::tcp::{CONNECT_IDENT, TcpConnectProber};
use super::tcpraw::TcpRawProber;
use super::udp::UdpProber;

/// How the probes were sent and their answers heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// ICMP echo on a raw ICMP socket (CAP_NET_RAW).
    RawIcmp,
    /// ICMP echo on an unprivileged ping socket; errors from its error queue.
    PingSocket,
    /// UDP on a connected socket; errors read by a raw ICMP socket, matched on their quoted headers.
    UdpRawIcmp,
    /// UDP on a connected socket; errors from its error queue (no privilege needed).
    UdpErrorQueue,
    /// TCP by one non-blocking connect() per probe with its TTL; errors from each socket's error queue.
    TcpConnect,
    /// TCP SYNs on a raw TCP socket, one flow (the probe's number in the sequence number); errors read by a
    /// raw ICMP socket, the target's SYN-ACK or RST by the raw TCP socket.
    TcpRaw,
}

/// One of the probers.
pub enum Prober {
    /// ICMP echo requests.
    Icmp(IcmpSocket),
    /// UDP datagrams.
    Udp(UdpProber),
    /// TCP connects.
    Tcp(TcpConnectProber),
    /// Raw TCP SYNs on one flow.
    TcpRaw(TcpRawProber),
}

impl Prober {
    /// Opens the prober for `protocol` to `target` (`port` for UDP/TCP, `scope` for link-local IPv6),
    /// using `icmp` (opened while privileged, if it could be) where it helps.
    pub fn open(
        protocol: Protocol,
        target: IpAddr,
        scope: u32,
        port: u16,
        flow: Option<u16>,
        icmp: Option<IcmpSocket>,
        tcp_raw: Option<socket2::Socket>,
    ) -> io::Result<Prober> {
        let addr = match target {
            IpAddr::V6(a) => SocketAddr::V6(SocketAddrV6::new(a, port, 0, scope)),
            IpAddr::V4(a) => SocketAddr::new(a.into(), port),
        };
        Ok(match protocol {
            Protocol::Icmp => {
                let mut socket = icmp.ok_or_else(|| io::Error::other("no ICMP socket"))?;
                socket.set_target(target, scope);
                if let Some(f) = flow {
                    socket.set_flow(f);
                }
                Prober::Icmp(socket)
            }
            Protocol::Udp => {
                // Only a raw socket hears errors about UDP: a ping socket hears its own echoes only.
                let raw = icmp.filter(|s| s.kind() == SocketKind::Raw);
                Prober::Udp(UdpProber::open(addr, flow.unwrap_or(0), raw)?)
            }
            Protocol::Tcp => match (tcp_raw, icmp.filter(|s| s.kind() == SocketKind::Raw)) {
                // With raw sockets for both, one flow; the probe numbers' high half varies per run.
                (Some(raw), Some(icmp)) => {
                    let high = icmp.ident();
                    Prober::TcpRaw(TcpRawProber::open(raw, icmp, addr, flow.unwrap_or(0), high)?)
                }
                _ if flow.is_some() => {
                    return Err(io::Error::new(
                        io::ErrorKind::PermissionDenied,
                        "--flow with --tcp needs raw sockets (root or CAP_NET_RAW): without them TCP \
                         probes go out by connect(), one source port each",
                    ));
                }
                _ => Prober::Tcp(TcpConnectProber::new(addr)),
            },
        })
    }

    /// Opens the prober of a multipath trace over `flows` flows (`port`: the first UDP or TCP flow's
    /// destination port). TCP needs raw sockets: its connect() probes cannot keep a flow.
    pub fn open_multipath(
        protocol: Protocol,
        target: IpAddr,
        scope: u32,
        port: u16,
        flows: u16,
        icmp: Option<IcmpSocket>,
        tcp_raw: Option<socket2::Socket>,
    ) -> io::Result<Prober> {
        let addr = match target {
            IpAddr::V6(a) => SocketAddr::V6(SocketAddrV6::new(a, port, 0, scope)),
            IpAddr::V4(a) => SocketAddr::new(a.into(), port),
        };
        let raw_icmp = |icmp: Option<IcmpSocket>| icmp.filter(|s| s.kind() == SocketKind::Raw);
        match protocol {
            Protocol::Udp => Ok(Prober::Udp(UdpProber::open_multipath(
                addr,
                flows,
                raw_icmp(icmp),
            )?)),
            Protocol::Tcp => match (tcp_raw, raw_icmp(icmp)) {
                (Some(raw), Some(icmp)) => {
                    let high = icmp.ident();
                    let prober = TcpRawProber::open_multipath(raw, icmp, addr, flows, high)?;
                    Ok(Prober::TcpRaw(prober))
                }
                _ => Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    "--multipath with --tcp needs raw sockets (root or CAP_NET_RAW): without them TCP \
                     probes go out by connect(), which picks the source port, so no flow can be chosen",
                )),
            },
            Protocol::Icmp => Prober::open(protocol, target, scope, port, None, icmp, None),
        }
    }

    /// Multipath: the next probes take flow `flow` (ICMP: another echo checksum; UDP and raw TCP:
    /// another destination port).
    pub fn set_multipath_flow(&mut self, flow: u16) {
        match self {
            Prober::Icmp(s) => s.set_flow(super::net::DEFAULT_ECHO_FLOW.wrapping_add(flow)),
            Prober::Udp(u) => u.set_flow(flow),
            Prober::TcpRaw(t) => t.set_flow(flow),
            Prober::Tcp(_) => {}
        }
    }

    /// Sends large probes with DF from now on (--mtu); TCP SYNs carry no payload to size, so a TCP prober
    /// refuses (the command line does not allow it).
    pub fn set_mtu_mode(&mut self) -> io::Result<()> {
        match self {
            Prober::Icmp(s) => s.set_mtu_mode(),
            Prober::Udp(u) => u.set_mtu_mode(),
            Prober::Tcp(_) | Prober::TcpRaw(_) => Err(io::Error::other("TCP probes cannot be sized")),
        }
    }

    /// The identifier replies to our probes carry, for the engine's matching.
    pub fn ident(&self) -> u16 {
        match self {
            Prober::Icmp(s) => s.ident(),
            Prober::Udp(u) => u.flow().source_port,
            Prober::Tcp(_) => CONNECT_IDENT,
            Prober::TcpRaw(t) => t.source_port(),
        }
    }

    /// How the probes go out and the answers come back.
    pub fn method(&self) -> Method {
        match self {
            Prober::Icmp(s) if s.kind() == SocketKind::Raw => Method::RawIcmp,
            Prober::Icmp(_) => Method::PingSocket,
            Prober::Udp(u) if u.raw_receiver() => Method::UdpRawIcmp,
            Prober::Udp(_) => Method::UdpErrorQueue,
            Prober::Tcp(_) => Method::TcpConnect,
            Prober::TcpRaw(_) => Method::TcpRaw,
        }
    }

    /// The ICMP socket kind, as the report has always named it (ping also for the error-queue methods).
    pub fn socket_kind(&self) -> SocketKind {
        match self.method() {
            Method::RawIcmp | Method::UdpRawIcmp | Method::TcpRaw => SocketKind::Raw,
            _ => SocketKind::Ping,
        }
    }

    /// The flow every probe took, in words: what two runs compare.
    pub fn flow(&self) -> String {
        match self {
            Prober::Icmp(s) => format!("icmp echo, checksum {:#06x}", s.flow()),
            Prober::Udp(u) => {
                let f = u.flow();
                format!("udp {} -> {}", f.source_port, f.destination_port)
            }
            Prober::Tcp(t) => format!(
                "tcp any -> {} (connect method: each probe has its own source port, not one flow)",
                t.port()
            ),
            Prober::TcpRaw(t) => format!("tcp {} -> {}", t.source_port(), t.port()),
        }
    }

    /// Messages read that were not about this trace's probes.
    pub fn undecodable(&self) -> usize {
        match self {
            Prober::Icmp(s) => s.undecodable(),
            Prober::Udp(u) => u.undecodable(),
            Prober::Tcp(t) => t.undecodable(),
            Prober::TcpRaw(t) => t.undecodable(),
        }
    }

    fn inner(&mut self) -> &mut dyn Network {
        match self {
            Prober::Icmp(s) => s,
            Prober::Udp(u) => u,
            Prober::Tcp(t) => t,
            Prober::TcpRaw(t) => t,
        }
    }
}

impl Network for Prober {
    fn send(&mut self, probe: &ProbeSpec) -> io::Result<Ts> {
        self.inner().send(probe)
    }

    fn recv(&mut self, deadline: Ts) -> io::Result<Option<Received>> {
        self.inner().recv(deadline)
    }

    fn interrupted(&mut self) -> Option<Ts> {
        self.inner().interrupted()
    }
}
