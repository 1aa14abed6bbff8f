//! TCP probes with raw-socket privilege, on one flow (Paris traceroute's TCP): SYNs written on a raw TCP
//! socket, every one with the same ports and the probe's number in its sequence number; routers' errors
//! come through the raw ICMP socket (the quoted TCP header names the probe), the target's SYN-ACK or RST
//! through the raw TCP socket (its acknowledgement names the probe).
//!
//! No connection state is made on this host: the source port is held for the run by a TCP socket bound to
//! it (never listening, never connecting), so no other connection here can share the flow; the kernel
//! answers the target's SYN-ACK with a RST, as for any SYN-ACK to a port that does not listen, which
//! clears the half-open connection at the target at once. Nothing on the host's firewall is touched.

use std::io;
use std::net::{IpAddr, SocketAddr, SocketAddrV6};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::engine::{ProbeSpec, Ts};
use super::net::{IcmpSocket, Network, Received, monotonic_now, realtime_to_monotonic};
use super::packet::{Ports, Reply, ReplyKind};
use super::tcpwire;
use crate::sys::{msg, poll, sigint, timestamp};

/// IP protocol number of TCP.
const PROTO_TCP: u8 = 6;
/// Most segments of this host's other TCP traffic skipped per look (a busy host must not stall the trace).
const SKIP_PER_READ: usize = 256;

/// Opens a raw TCP socket of one family (needs CAP_NET_RAW): call while privileged.
pub fn open_raw(v6: bool) -> io::Result<Socket> {
    let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
    let socket = Socket::new(domain, Type::RAW, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    timestamp::enable(&socket)?;
    Ok(socket)
}

/// The raw TCP prober.
pub struct TcpRawProber {
    raw: Socket,
    icmp: IcmpSocket,
    /// Holds the source port for the run (bound, never used).
    _reserve: Socket,
    source: IpAddr,
    target: SocketAddr,
    sport: u16,
    /// The high half of every probe's sequence number (random per run), the low half its number.
    seq_high: u32,
    /// Destination ports in use from the target's: 1, or a multipath trace's number of flows.
    span: u16,
    /// The flow the next probes take: their destination port is the target's + this.
    flow: u16,
}

impl TcpRawProber {
    /// A prober from `raw` (a raw TCP socket) and `icmp` (a raw ICMP socket) to `target`, from
    /// `source_port` (0: the system picks one), with `seq_high` as the sequence numbers' high half.
    pub fn open(
        raw: Socket,
        icmp: IcmpSocket,
        target: SocketAddr,
        source_port: u16,
        seq_high: u16,
    ) -> io::Result<TcpRawProber> {
        TcpRawProber::open_span(raw, icmp, target, source_port, seq_high, 1)
    }

    /// The prober of a multipath trace over `flows` flows that differ by destination port (`target`'s
    /// port + flow, as UDP's do): one source port, held as for one flow.
    pub fn open_multipath(
        raw: Socket,
        icmp: IcmpSocket,
        target: SocketAddr,
        flows: u16,
        seq_high: u16,
    ) -> io::Result<TcpRawProber> {
        TcpRawProber::open_span(raw, icmp, target, 0, seq_high, flows)
    }

    fn open_span(
        raw: Socket,
        mut icmp: IcmpSocket,
        target: SocketAddr,
        source_port: u16,
        seq_high: u16,
        span: u16,
    ) -> io::Result<TcpRawProber> {
        let v6 = target.is_ipv6();
        let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
        // The source address the route to the target picks (connecting a UDP socket sends nothing).
        let route = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
        route.connect(&SockAddr::from(target))?;
        let source = local(&route)?.ip();
        let reserve = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
        reserve.bind(&SockAddr::from(SocketAddr::new(source, source_port)))?;
        let sport = local(&reserve)?.port();
        let ports = Ports {
            protocol: PROTO_TCP,
            source: sport,
            destination: target.port(),
        };
        icmp.expect_port_range(ports, span);
        Ok(TcpRawProber {
            raw,
            icmp,
            _reserve: reserve,
            source,
            target,
            sport,
            seq_high: u32::from(seq_high) << 16,
            span: span.max(1),
            flow: 0,
        })
    }

    /// Multipath: the next probes take flow `flow` (destination port = the target's + `flow`).
    pub fn set_flow(&mut self, flow: u16) {
        if self.span > 1 {
            self.flow = flow;
        }
    }

    /// The destination port of the next probe.
    fn dport(&self) -> u16 {
        self.target.port().wrapping_add(self.flow)
    }

    /// Our port: every probe's source port.
    pub fn source_port(&self) -> u16 {
        self.sport
    }

    /// The target's port.
    pub fn port(&self) -> u16 {
        self.target.port()
    }

    /// Messages the ICMP socket read that were not about this trace's probes.
    pub fn undecodable(&self) -> usize {
        self.icmp.undecodable()
    }

    /// The target's answer to one of our SYNs, if the raw TCP socket has one queued; Ok(None) when
    /// nothing is queued; other TCP segments (this host's other traffic) are skipped.
    fn read_answer(&mut self) -> io::Result<Option<Received>> {
        let mut data = [0u8; 2048];
        for _ in 0..SKIP_PER_READ {
            let got = match msg::recv(&self.raw, &mut data, false) {
                Ok(got) => got,
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {
                    return Ok(None);
                }
                Err(e) => return Err(e),
            };
            let from = got.peer.map(|a| a.ip().to_canonical());
            let Ok(answer) = tcpwire::decode_answer(&data[..got.len], !self.target.is_ipv6()) else {
                continue;
            };
            let flow = answer.sport.wrapping_sub(self.target.port());
            let ours = flow < self.span && answer.dport == self.sport;
            if !ours || from != Some(self.target.ip()) {
                continue;
            }
            let at = got
                .cmsgs()
                .find_map(timestamp::parse)
                .map_or_else(monotonic_now, realtime_to_monotonic);
            let reply = Reply {
                kind: if answer.open {
                    ReplyKind::PortOpen
                } else {
                    ReplyKind::PortClosed
                },
                icmp_type: 0,
                icmp_code: 0,
                ident: self.sport,
                seq: answer.seq,
                quoted_dst: Some(self.target.ip()),
                ports: None,
                mpls: Vec::new(),
                mtu: None,
                quoted_udp: None,
                translated: false,
            };
            return Ok(Some(Received {
                from: self.target.ip(),
                reply,
                at,
            }));
        }
        Ok(None)
    }
}

/// A socket's local address.
fn local(socket: &Socket) -> io::Result<SocketAddr> {
    socket
        .local_addr()?
        .as_socket()
        .ok_or_else(|| io::Error::other("socket has no local address"))
}

impl Network for TcpRawProber {
    fn send(&mut self, probe: &ProbeSpec) -> io::Result<Ts> {
        let seq = self.seq_high | u32::from(probe.seq);
        let segment = tcpwire::syn(self.source, self.target.ip(), self.sport, self.dport(), seq);
        let dst = match self.target {
            SocketAddr::V6(a) => {
                self.raw.set_unicast_hops_v6(u32::from(probe.ttl))?;
                SocketAddr::V6(SocketAddrV6::new(*a.ip(), 0, 0, a.scope_id()))
            }
            SocketAddr::V4(a) => {
                self.raw.set_ttl_v4(u32::from(probe.ttl))?;
                SocketAddr::new(IpAddr::V4(*a.ip()), 0)
            }
        };
        let at = monotonic_now();
        self.raw.send_to(&segment, &SockAddr::from(dst))?;
        Ok(at)
    }

    fn recv(&mut self, deadline: Ts) -> io::Result<Option<Received>> {
        loop {
            if let Some(r) = self.read_answer()? {
                return Ok(Some(r));
            }
            // A deadline already passed: the ICMP socket reads what is queued and returns at once.
            if let Some(r) = self.icmp.recv(Ts::ZERO)? {
                return Ok(Some(r));
            }
            let now = monotonic_now();
            if now >= deadline {
                return Ok(None);
            }
            poll::wait_any(&[&self.raw, self.icmp.socket()], deadline - now)?;
            if sigint::caught() {
                return Ok(None);
            }
        }
    }

    fn interrupted(&mut self) -> Option<Ts> {
        sigint::caught().then(monotonic_now)
    }
}
