//! The network seam: the only code that opens ICMP sockets and reads clocks.
//!
//! [`Network`] is what the driver talks to: send a probe, get the next reply before a deadline, each with
//! a timestamp on the monotonic clock. Two real implementations share one type: raw ICMP sockets (IPv4
//! and ICMPv6; need CAP_NET_RAW) and unprivileged ICMP datagram ("ping") sockets, which read Time Exceeded
//! and unreachables from the socket error queue (IP_RECVERR / MSG_ERRQUEUE).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::time::Duration;

use serde::Serialize;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::engine::{ProbeSpec, Ts};
use super::packet::{self, Ports, Reply, ReplyKind};
use super::{flow, pmtu};
use crate::sys::errqueue::{self, ErrOrigin, QueuedError};
use crate::sys::{clock, msg, poll, sigint, sockopt, timestamp};

/// Bytes after the echo header of every probe (recognisable in captures; small enough never to fragment).
pub const PROBE_PAYLOAD: &[u8] = b"sockdiag trace probe....."; // 25 bytes, 33 with the header
/// The echo sum every probe has unless --flow picks another (any constant keeps one flow).
pub const DEFAULT_ECHO_FLOW: u16 = 0x5d5d;
/// Bytes read per message unless --mtu sends large probes: any ICMP error with its quote fits.
const READ_LEN: usize = 2048;
/// Receive buffer: a whole wave of replies may arrive at once.
const RECV_BUFFER: usize = 1 << 18;
/// Raw-socket ICMP type filters (Linux): a set bit blocks that type.
const SOL_RAW: libc::c_int = 255;
const ICMP_FILTER: libc::c_int = 1;
const ICMP6_FILTER: libc::c_int = 1;

/// A reply the seam received and decoded, with the socket's arrival timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Who sent it (for errors: the router that generated it).
    pub from: IpAddr,
    /// The decoded reply.
    pub reply: Reply,
    /// Arrival time on the monotonic clock.
    pub at: Ts,
}

/// The engine's view of the network.
pub trait Network {
    /// Sends one probe and returns the monotonic time it left.
    fn send(&mut self, probe: &ProbeSpec) -> io::Result<Ts>;
    /// The next decoded reply arriving before `deadline`, or None once the deadline has passed (or
    /// the user interrupted the wait).
    fn recv(&mut self, deadline: Ts) -> io::Result<Option<Received>>;
    /// When the user interrupted the run (Ctrl-C), if they did.
    fn interrupted(&mut self) -> Option<Ts> {
        None
    }
}

/// Which kind of ICMP socket a trace runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SocketKind {
    /// A raw ICMP socket (CAP_NET_RAW).
    Raw,
    /// An unprivileged ICMP datagram socket (net.ipv4.ping_group_range).
    Ping,
}

/// An open ICMP socket for one address family, raw or ping.
pub struct IcmpSocket {
    socket: Socket,
    kind: SocketKind,
    v6: bool,
    target: Option<SocketAddr>,
    /// The echo identifier replies carry (for ping sockets the kernel chooses it).
    ident: u16,
    /// Packets read that were not replies to echo requests at all.
    undecodable: usize,
    /// The echo checksum every probe carries (its Paris flow).
    flow: u16,
    /// When this socket only listens for the errors UDP or TCP probes draw: their protocol and ports.
    expect: Option<Ports>,
    /// How many destination ports from the expected one count as ours (multipath UDP flows differ by it).
    expect_span: u16,
    /// Bytes read per message: room for a whole echo reply to the largest probe sent.
    read_len: usize,
}

impl IcmpSocket {
    /// Opens a raw ICMP socket, or when that is not permitted, a ping socket.
    /// `ident` is the identifier raw probes carry; ping sockets report their own via [`IcmpSocket::ident`].
    pub fn open(v6: bool, ident: u16) -> Result<IcmpSocket, OpenError> {
        match Self::open_kind(v6, SocketKind::Raw, ident) {
            Ok(s) => Ok(s),
            Err(raw) if is_permission(&raw) => {
                Self::open_kind(v6, SocketKind::Ping, ident).map_err(|ping| OpenError {
                    raw,
                    ping: Some(ping),
                })
            }
            Err(raw) => Err(OpenError { raw, ping: None }),
        }
    }

    /// Opens one kind of socket and sets its options.
    pub fn open_kind(v6: bool, kind: SocketKind, ident: u16) -> io::Result<IcmpSocket> {
        let (domain, protocol) = if v6 {
            (Domain::IPV6, Protocol::ICMPV6)
        } else {
            (Domain::IPV4, Protocol::ICMPV4)
        };
        let ty = match kind {
            SocketKind::Raw => Type::RAW,
            SocketKind::Ping => Type::DGRAM,
        };
        let socket = Socket::new(domain, ty, Some(protocol))?;
        socket.set_nonblocking(true)?;
        // Best effort: a small buffer only risks drops under a flood of foreign ICMP.
        let _ = socket.set_recv_buffer_size(RECV_BUFFER);
        timestamp::enable(&socket)?;
        let mut ident = ident;
        match (kind, v6) {
            (SocketKind::Raw, false) => {
                // Let only echo reply, unreachable and time exceeded through: other ICMP is not ours.
                let pass = (1u32 << 0) | (1 << 3) | (1 << 11);
                sockopt::set_bytes(&socket, SOL_RAW, ICMP_FILTER, &(!pass).to_ne_bytes())?;
            }
            (SocketKind::Raw, true) => {
                let mut filter = [u32::MAX; 8];
                // Packet too big (2) only comes for --mtu's large probes.
                for t in [1u8, 2, 3, 129] {
                    filter[usize::from(t >> 5)] &= !(1 << (t & 31));
                }
                let bytes: Vec<u8> = filter.iter().flat_map(|w| w.to_ne_bytes()).collect();
                sockopt::set_bytes(&socket, libc::IPPROTO_ICMPV6, ICMP6_FILTER, &bytes)?;
            }
            (SocketKind::Ping, false) => {
                errqueue::enable(&socket, false)?;
                let _ = errqueue::enable_rfc4884(&socket, false);
                socket.bind(&SockAddr::from(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))))?;
                ident = bound_port(&socket)?;
            }
            (SocketKind::Ping, true) => {
                errqueue::enable(&socket, true)?;
                let _ = errqueue::enable_rfc4884(&socket, true);
                socket.bind(&SockAddr::from(SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0))))?;
                ident = bound_port(&socket)?;
            }
        }
        Ok(IcmpSocket {
            socket,
            kind,
            v6,
            target: None,
            ident,
            undecodable: 0,
            flow: DEFAULT_ECHO_FLOW,
            expect_span: 1,
            expect: None,
            read_len: READ_LEN,
        })
    }

    /// The socket itself, for a prober that waits on it beside its own.
    pub fn socket(&self) -> &Socket {
        &self.socket
    }

    /// Raw or ping.
    pub fn kind(&self) -> SocketKind {
        self.kind
    }

    /// The echo identifier replies to this socket's probes carry.
    pub fn ident(&self) -> u16 {
        self.ident
    }

    /// Whether this is an ICMPv6 socket.
    pub fn is_v6(&self) -> bool {
        self.v6
    }

    /// Sets where probes go; `scope_id` is the interface of an IPv6 link-local target (0: none).
    pub fn set_target(&mut self, target: IpAddr, scope_id: u32) {
        self.target = Some(match target {
            IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, 0, 0, scope_id)),
            IpAddr::V4(v4) => SocketAddr::V4(SocketAddrV4::new(v4, 0)),
        });
    }

    /// Packets read that did not decode as replies to echo requests.
    pub fn undecodable(&self) -> usize {
        self.undecodable
    }

    /// Chooses the echo checksum every probe carries: one flow through per-flow load balancers.
    pub fn set_flow(&mut self, flow: u16) {
        self.flow = flow;
    }

    /// The echo checksum every probe carries (its sum, for ICMPv6, before the kernel adds the
    /// pseudo-header, which is the same for every probe).
    pub fn flow(&self) -> u16 {
        self.flow
    }

    /// Sends large probes from now on (--mtu): DF set, never fragmented here, and replies read whole.
    pub fn set_mtu_mode(&mut self) -> io::Result<()> {
        pmtu::set_probe_mode(&self.socket, self.v6)?;
        self.read_len = usize::from(u16::MAX) + 1;
        Ok(())
    }

    fn build(&self, probe: &ProbeSpec) -> Vec<u8> {
        let echo_type = if self.v6 { 128 } else { 8 };
        // The echo header and the two bytes that keep the checksum constant come before the tail.
        let tail = pmtu::padded(PROBE_PAYLOAD, probe.size, self.v6, packet::ECHO_HEADER_LEN + 2);
        let payload = flow::echo_payload(echo_type, probe.ident, probe.seq, self.flow, &tail);
        if self.v6 {
            packet::echo_request_v6(probe.ident, probe.seq, &payload)
        } else {
            packet::echo_request_v4(probe.ident, probe.seq, &payload)
        }
    }

    /// Reads one message (from the error queue when `errqueue`).
    fn read_one(&mut self, errqueue: bool) -> io::Result<Read> {
        let mut data = vec![0u8; self.read_len];
        let got = match msg::recv(&self.socket, &mut data, errqueue) {
            Ok(got) => got,
            Err(err) => {
                return match err.kind() {
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(Read::Nothing),
                    // A pending ICMP error surfaces on plain recv too; it is read from the queue instead.
                    _ if !errqueue && self.kind == SocketKind::Ping => Ok(Read::Nothing),
                    _ => Err(err),
                };
            }
        };
        let payload = &data[..got.len];
        let peer = got.peer.map(|a| a.ip());
        let at = got
            .cmsgs()
            .find_map(timestamp::parse)
            .map_or_else(monotonic_now, realtime_to_monotonic);
        let decoded = if errqueue {
            got.cmsgs()
                .find_map(errqueue::parse_with_info)
                .and_then(|(e, info)| self.decode_error_queue(&e, info, payload, peer))
        } else {
            self.decode_normal(payload, peer)
        };
        match decoded {
            Some((from, reply)) => Ok(Read::Reply(Received { from, reply, at })),
            None => {
                self.undecodable += 1;
                Ok(Read::Ignored)
            }
        }
    }

    /// Makes this (raw) socket the receiver of the errors that UDP or TCP probes with these ports draw:
    /// anything else it reads (echo replies, errors about other packets) is not this trace's.
    pub fn expect_ports(&mut self, ports: Ports) {
        self.expect = Some(ports);
    }

    /// As [`IcmpSocket::expect_ports`], for `span` destination ports from the expected one.
    pub fn expect_port_range(&mut self, ports: Ports, span: u16) {
        self.expect = Some(ports);
        self.expect_span = span.max(1);
    }

    /// Whether a decoded reply is about this trace's kind of probe: echo requests, or the expected ports.
    fn about_our_probes(&self, reply: &Reply) -> bool {
        match (reply.kind, reply.ports, self.expect) {
            (ReplyKind::EchoReply, _, expect) => expect.is_none(),
            (_, Some(got), Some(want)) => {
                got.protocol == want.protocol
                    && got.source == want.source
                    && got.destination.wrapping_sub(want.destination) < self.expect_span
            }
            (_, got, want) => got == want,
        }
    }

    fn decode_normal(&self, payload: &[u8], peer: Option<IpAddr>) -> Option<(IpAddr, Reply)> {
        self.decode_any(payload, peer)
            .filter(|(_, r)| self.about_our_probes(r))
    }

    fn decode_any(&self, payload: &[u8], peer: Option<IpAddr>) -> Option<(IpAddr, Reply)> {
        match (self.kind, self.v6) {
            (SocketKind::Raw, false) => packet::decode_ipv4_packet(payload)
                .ok()
                .map(|(src, r)| (IpAddr::V4(src), r)),
            (SocketKind::Raw, true) => Some((peer?, packet::decode_icmpv6(payload).ok()?)),
            (SocketKind::Ping, false) => Some((peer?, packet::decode_icmpv4(payload).ok()?)),
            (SocketKind::Ping, true) => Some((peer?, packet::decode_icmpv6(payload).ok()?)),
        }
    }

    /// An ICMP error from the ping socket's error queue: the kernel gives our own echo request back,
    /// the original destination as the message name, and the router in SO_EE_OFFENDER.
    fn decode_error_queue(
        &self,
        err: &QueuedError,
        info: u32,
        payload: &[u8],
        dst: Option<IpAddr>,
    ) -> Option<(IpAddr, Reply)> {
        let q = queued_icmp(err, info, payload, self.v6)?;
        let (ident, seq) = packet::decode_own_echo(payload, self.v6).ok()?;
        let reply = Reply {
            kind: q.kind,
            icmp_type: err.icmp_type,
            icmp_code: err.code,
            ident,
            seq,
            quoted_dst: dst,
            ports: None,
            mpls: q.mpls,
            mtu: q.mtu,
            quoted_udp: None,
            translated: false,
        };
        Some((err.offender?, reply))
    }
}

/// What an ICMP error queued on a probe's own socket says.
pub struct QueuedIcmp {
    /// Time exceeded, unreachable or packet too big.
    pub kind: ReplyKind,
    /// The MPLS labels of its RFC 4884 extension.
    pub mpls: Vec<packet::MplsLabel>,
    /// For packet too big: the next-hop MTU (the kernel's `ee_info`).
    pub mtu: Option<u16>,
}

/// What an ICMP error queued on a probe's own socket says: time exceeded, unreachable or packet too big
/// (in the socket's family), with the MPLS labels of its RFC 4884 extension; None for any other error.
/// `info` is the entry's `ee_info`. Shared by the ICMP, UDP and TCP probes that read the error queue.
pub fn queued_icmp(err: &QueuedError, info: u32, quoted: &[u8], v6: bool) -> Option<QueuedIcmp> {
    let origin = if v6 { ErrOrigin::Icmp6 } else { ErrOrigin::Icmp };
    if err.origin != origin {
        return None;
    }
    let kind = match (v6, err.icmp_type, err.code) {
        (false, 11, _) | (true, 3, _) => ReplyKind::TimeExceeded,
        (false, 3, 4) | (true, 2, _) => ReplyKind::PacketTooBig,
        (false, 3, _) | (true, 1, _) => ReplyKind::Unreachable,
        _ => return None,
    };
    let mpls = if err.rfc4884_len > 0 {
        packet::extension_labels(quoted, usize::from(err.rfc4884_len))
    } else {
        Vec::new()
    };
    let mtu = (kind == ReplyKind::PacketTooBig).then(|| u16::try_from(info).unwrap_or(u16::MAX));
    Some(QueuedIcmp { kind, mpls, mtu })
}

/// The result of one non-blocking read.
enum Read {
    /// Nothing was queued.
    Nothing,
    /// A packet that is not a reply to an echo request (counted, then skipped).
    Ignored,
    /// A decoded reply.
    Reply(Received),
}

impl Network for IcmpSocket {
    fn send(&mut self, probe: &ProbeSpec) -> io::Result<Ts> {
        let target = self
            .target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no target set"))?;
        if self.v6 {
            self.socket.set_unicast_hops_v6(u32::from(probe.ttl))?;
        } else {
            self.socket.set_ttl_v4(u32::from(probe.ttl))?;
        }
        let pkt = self.build(probe);
        let addr = SockAddr::from(target);
        // The clock is read right before the packet is handed to the kernel, so an RTT never comes out
        // shorter than the real one.
        if self.kind == SocketKind::Ping {
            // With IP_RECVERR an earlier probe's Time Exceeded also sets the socket's pending error, and
            // sendto would fail with it (EHOSTUNREACH) without sending. The error itself is read from the
            // error queue; clearing the pending copy is what SO_ERROR is for. One retry covers an error
            // arriving between the two calls; a real send failure fails twice and is recorded.
            let _ = self.socket.take_error();
            let at = monotonic_now();
            if self.socket.send_to(&pkt, &addr).is_ok() {
                return Ok(at);
            }
            let _ = self.socket.take_error();
        }
        let at = monotonic_now();
        self.socket.send_to(&pkt, &addr)?;
        Ok(at)
    }

    fn recv(&mut self, deadline: Ts) -> io::Result<Option<Received>> {
        loop {
            // Drain what is queued before sleeping: the error queue first on ping sockets.
            if self.kind == SocketKind::Ping {
                match self.read_one(true)? {
                    Read::Reply(r) => return Ok(Some(r)),
                    Read::Ignored => {
                        if monotonic_now() >= deadline {
                            return Ok(None);
                        }
                        continue;
                    }
                    Read::Nothing => {}
                }
            }
            let read = self.read_one(false)?;
            let now = monotonic_now();
            match read {
                Read::Reply(r) => return Ok(Some(r)),
                // A flood of foreign ICMP must not hold the deadline up.
                _ if now >= deadline => return Ok(None),
                Read::Ignored => continue,
                Read::Nothing => {
                    poll::wait_readable(&self.socket, deadline - now)?;
                    if sigint::caught() {
                        return Ok(None);
                    }
                }
            }
        }
    }

    fn interrupted(&mut self) -> Option<Ts> {
        sigint::caught().then(monotonic_now)
    }
}

/// Why no ICMP socket could be opened.
#[derive(Debug)]
pub struct OpenError {
    /// The raw socket's failure.
    pub raw: io::Error,
    /// The ping socket's failure, when one was tried.
    pub ping: Option<io::Error>,
}

impl OpenError {
    /// Whether both failures are about permission (so the fix is privilege, not the system).
    pub fn is_permission(&self) -> bool {
        is_permission(&self.raw) && self.ping.as_ref().is_none_or(is_permission)
    }
}

fn is_permission(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::EPERM) | Some(libc::EACCES))
}

/// The local port of a bound ping socket: the kernel uses it as the echo identifier.
fn bound_port(socket: &Socket) -> io::Result<u16> {
    let local = socket.local_addr()?;
    match local.as_socket() {
        Some(SocketAddr::V4(a)) => Ok(SocketAddrV4::port(&a)),
        Some(SocketAddr::V6(a)) => Ok(SocketAddrV6::port(&a)),
        None => Err(io::Error::other("ping socket has no local port")),
    }
}

/// The monotonic clock: the time base of every timestamp the seam hands out.
pub fn monotonic_now() -> Ts {
    clock::monotonic()
}

/// Converts a kernel receive timestamp (CLOCK_REALTIME, as SO_TIMESTAMPNS gives it) to the monotonic
/// clock: the packet's age is measured on the real-time clock right now and subtracted from monotonic
/// now, so a wall-clock step between probes cannot distort RTTs. An age that is negative or absurd
/// (the clock stepped while the packet sat in the queue) falls back to "now".
pub fn realtime_to_monotonic(stamp: Duration) -> Ts {
    let mono = monotonic_now();
    let real = clock::realtime();
    match real.checked_sub(stamp) {
        Some(age) if age < Duration::from_secs(10) => mono.saturating_sub(age),
        _ => mono,
    }
}
