//! UDP probes on one flow: an ordinary connected UDP socket sends them (fixed ports, per-probe TTL);
//! the errors they draw are read from a raw ICMP socket when there is privilege (quoted headers matched
//! strictly), else from the UDP socket's own error queue (the kernel matched the ports).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::engine::{ProbeSpec, Ts};
use super::flow::{self, UdpFlow};
use super::net::{IcmpSocket, Network, PROBE_PAYLOAD, Received, monotonic_now, realtime_to_monotonic};
use super::packet::{Ports, Reply, nat};
use super::pmtu;
use crate::sys::errqueue;
use crate::sys::{msg, poll, sigint, timestamp};

/// IP protocol number of UDP.
const PROTO_UDP: u8 = 17;
/// Length of the UDP header.
const UDP_HEADER_LEN: usize = 8;
/// How many times a send that failed with an ICMP error's code is tried again.
const SEND_ATTEMPTS: u32 = 8;

/// A UDP prober: the sending socket and, with privilege, the raw ICMP socket that hears the errors.
pub struct UdpProber {
    socket: Socket,
    icmp: Option<IcmpSocket>,
    flow: UdpFlow,
    v6: bool,
    /// Error-queue entries that were not about our probes.
    undecodable: usize,
    /// Multipath: the target at the first flow's port; each probe names its own destination port.
    multipath: Option<SocketAddr>,
}

impl UdpProber {
    /// Opens the UDP socket on `source_port` (0: the system picks), aimed at `target` (with its IPv6
    /// scope); errors come through `icmp` when given (a raw socket), else through the error queue.
    pub fn open(target: SocketAddr, source_port: u16, icmp: Option<IcmpSocket>) -> io::Result<UdpProber> {
        let v6 = target.is_ipv6();
        let socket = bound_socket(v6, source_port, icmp.is_none())?;
        socket.connect(&SockAddr::from(target))?;
        let local = local_of(&socket)?;
        Ok(UdpProber::assemble(socket, icmp, local, target, 1, false))
    }

    /// Opens the prober of a multipath trace over `flows` flows that differ by destination port
    /// (`target`'s port + flow, as scamper's udp-dport): the socket stays unconnected, so that errors
    /// quoting any of those ports reach its error queue, and every probe names its destination.
    pub fn open_multipath(target: SocketAddr, flows: u16, icmp: Option<IcmpSocket>) -> io::Result<UdpProber> {
        let v6 = target.is_ipv6();
        let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
        // The source address the route gives, for the checksums: learned by a throwaway connect.
        let finder = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
        finder.connect(&SockAddr::from(target))?;
        let source = local_of(&finder)?.ip();
        let socket = bound_socket(v6, 0, icmp.is_none())?;
        let local = SocketAddr::new(source, local_of(&socket)?.port());
        Ok(UdpProber::assemble(socket, icmp, local, target, flows, true))
    }

    /// The prober over `socket`, whose probes leave from `local` for `target`; a raw ICMP socket expects
    /// errors about `span` destination ports from `target`'s (multipath: one per flow).
    fn assemble(
        socket: Socket,
        mut icmp: Option<IcmpSocket>,
        local: SocketAddr,
        target: SocketAddr,
        span: u16,
        multipath: bool,
    ) -> UdpProber {
        let flow = UdpFlow {
            source: local.ip(),
            destination: target.ip(),
            source_port: local.port(),
            destination_port: target.port(),
        };
        if let Some(raw) = icmp.as_mut() {
            raw.expect_port_range(ports(&flow), span);
        }
        UdpProber {
            socket,
            icmp,
            flow,
            v6: target.is_ipv6(),
            undecodable: 0,
            multipath: multipath.then_some(target),
        }
    }

    /// Multipath: the next probes take flow `flow` (destination port = the first flow's + `flow`).
    pub fn set_flow(&mut self, flow: u16) {
        if let Some(base) = self.multipath {
            self.flow.destination_port = base.port().wrapping_add(flow);
        }
    }

    /// Sends large probes from now on (--mtu): DF set, never fragmented here.
    pub fn set_mtu_mode(&mut self) -> io::Result<()> {
        pmtu::set_probe_mode(&self.socket, self.v6)?;
        match self.icmp.as_mut() {
            Some(raw) => raw.set_mtu_mode(),
            None => Ok(()),
        }
    }

    /// The flow every probe takes.
    pub fn flow(&self) -> UdpFlow {
        self.flow
    }

    /// Whether the errors come through a raw ICMP socket (else the error queue).
    pub fn raw_receiver(&self) -> bool {
        self.icmp.is_some()
    }

    /// Messages read that were not about this trace's probes.
    pub fn undecodable(&self) -> usize {
        self.undecodable + self.icmp.as_ref().map_or(0, IcmpSocket::undecodable)
    }

    /// One entry of the error queue, decoded; Ok(None) when the queue is empty.
    fn read_queue(&mut self) -> io::Result<Option<Option<Received>>> {
        let mut data = [0u8; 2048];
        let got = match msg::recv(&self.socket, &mut data, true) {
            Ok(got) => got,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let at = got
            .cmsgs()
            .find_map(timestamp::parse)
            .map_or_else(monotonic_now, realtime_to_monotonic);
        let decoded = got
            .cmsgs()
            .find_map(errqueue::parse_with_info)
            .and_then(|(e, info)| self.decode_queued(&e, info, &data[..got.len]));
        if decoded.is_none() {
            self.undecodable += 1;
        }
        Ok(Some(decoded.map(|(from, reply)| Received { from, reply, at })))
    }

    /// An ICMP error from the queue: the kernel matched it to this socket's ports and gives back the
    /// payload of our datagram as quoted, whose bytes 2-3 are the probe number.
    fn decode_queued(
        &self,
        err: &errqueue::QueuedError,
        info: u32,
        payload: &[u8],
    ) -> Option<(IpAddr, Reply)> {
        let q = super::net::queued_icmp(err, info, payload, self.v6)?;
        let seq = flow::udp_payload_seq(payload)?;
        let reply = Reply {
            kind: q.kind,
            icmp_type: err.icmp_type,
            icmp_code: err.code,
            ident: self.flow.source_port,
            seq,
            quoted_dst: Some(self.flow.destination),
            ports: Some(ports(&self.flow)),
            mpls: q.mpls,
            mtu: q.mtu,
            quoted_udp: None,
            translated: false,
        };
        Some((err.offender?, reply))
    }
}

/// Whether the error quotes our probe other than it left (a NAT on the way): the probe's checksum is
/// its number, read back from the quoted payload; an error queue entry shows no header to compare.
/// With `multipath` each probe had its own destination port (the raw socket kept quotes within the
/// flows' range), so the source port and checksum tell.
fn translated(flow: &UdpFlow, reply: &Reply, multipath: bool) -> bool {
    let (Some(quoted_ports), Some(quoted)) = (reply.ports, reply.quoted_udp) else {
        return false;
    };
    let mut sent_ports = ports(flow);
    if multipath {
        sent_ports.destination = quoted_ports.destination;
    }
    let sent = nat::SentUdp {
        ports: sent_ports,
        checksum: reply.seq,
        source: flow.source,
        destination: flow.destination,
    };
    nat::rewritten(&sent, quoted_ports, quoted)
}

/// Whether a failed send's error is one an arriving ICMP error leaves on the socket (the kernel's
/// icmp_err_convert and icmpv6_err_convert codes), so it may say nothing about this send.
fn from_icmp_error(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(
            libc::ECONNREFUSED
                | libc::EHOSTUNREACH
                | libc::ENETUNREACH
                | libc::EHOSTDOWN
                | libc::ENONET
                | libc::ENOPROTOOPT
                | libc::EOPNOTSUPP
                | libc::EACCES
                | libc::EPROTO
                | libc::EMSGSIZE
        )
    )
}

/// The ports every probe of `flow` carries, as quoted headers show them.
fn ports(flow: &UdpFlow) -> Ports {
    Ports {
        protocol: PROTO_UDP,
        source: flow.source_port,
        destination: flow.destination_port,
    }
}

impl Network for UdpProber {
    fn send(&mut self, probe: &ProbeSpec) -> io::Result<Ts> {
        if self.v6 {
            self.socket.set_unicast_hops_v6(u32::from(probe.ttl))?;
        } else {
            self.socket.set_ttl_v4(u32::from(probe.ttl))?;
        }
        // The UDP header and the probe number's four bytes come before the tail.
        let tail = pmtu::padded(PROBE_PAYLOAD, probe.size, self.v6, UDP_HEADER_LEN + 4);
        let payload = flow::udp_payload(&self.flow, probe.seq, &tail);
        // Multipath sends each flow to its own destination port; the ordinary trace's socket is connected.
        let to = self.multipath.map(|mut base| {
            base.set_port(self.flow.destination_port);
            SockAddr::from(base)
        });
        let send = |socket: &Socket| match &to {
            Some(to) => socket.send_to(&payload, to),
            None => socket.send(&payload),
        };
        // An earlier probe's ICMP error is also left pending on the socket, and send fails with it
        // without sending: the error itself is read elsewhere, so the pending copy is cleared. While many
        // errors arrive at once another can land between the two calls, so a send that fails with what
        // an ICMP error would set is tried again, a bounded number of times; any other failure once more
        // (a full queue may have drained), then returned.
        let mut attempts = 0;
        loop {
            let _ = self.socket.take_error();
            let at = monotonic_now();
            match send(&self.socket) {
                Ok(_) => return Ok(at),
                Err(e) if attempts == 0 || (attempts < SEND_ATTEMPTS && from_icmp_error(&e)) => attempts += 1,
                Err(e) => return Err(e),
            }
        }
    }

    fn recv(&mut self, deadline: Ts) -> io::Result<Option<Received>> {
        if let Some(icmp) = self.icmp.as_mut() {
            let mut got = icmp.recv(deadline)?;
            if let Some(r) = got.as_mut() {
                r.reply.translated = translated(&self.flow, &r.reply, self.multipath.is_some());
            }
            return Ok(got);
        }
        loop {
            match self.read_queue()? {
                Some(Some(r)) => return Ok(Some(r)),
                Some(None) if monotonic_now() < deadline => continue,
                Some(None) => return Ok(None),
                None => {}
            }
            let now = monotonic_now();
            if now >= deadline {
                return Ok(None);
            }
            poll::wait_readable(&self.socket, deadline - now)?;
            if sigint::caught() {
                return Ok(None);
            }
        }
    }

    fn interrupted(&mut self) -> Option<Ts> {
        sigint::caught().then(monotonic_now)
    }
}

/// A non-blocking UDP socket bound to `port` on the wildcard address; with `error_queue`, errors and receive
/// times come through its error queue (no raw ICMP socket to read them from).
fn bound_socket(v6: bool, port: u16, error_queue: bool) -> io::Result<Socket> {
    let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
    let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_nonblocking(true)?;
    let any: IpAddr = if v6 {
        Ipv6Addr::UNSPECIFIED.into()
    } else {
        Ipv4Addr::UNSPECIFIED.into()
    };
    socket.bind(&SockAddr::from(SocketAddr::new(any, port)))?;
    if error_queue {
        timestamp::enable(&socket)?;
        errqueue::enable(&socket, v6)?;
        let _ = errqueue::enable_rfc4884(&socket, v6);
    }
    Ok(socket)
}

fn local_of(socket: &Socket) -> io::Result<SocketAddr> {
    socket
        .local_addr()?
        .as_socket()
        .ok_or_else(|| io::Error::other("UDP socket has no local address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_an_icmp_message_leaves_pending_are_told_from_the_others() {
        for errno in [libc::ECONNREFUSED, libc::EHOSTUNREACH, libc::EMSGSIZE] {
            assert!(from_icmp_error(&io::Error::from_raw_os_error(errno)), "{errno}");
        }
        for errno in [libc::ENOBUFS, libc::EBADF, libc::EINVAL] {
            assert!(!from_icmp_error(&io::Error::from_raw_os_error(errno)), "{errno}");
        }
        assert!(!from_icmp_error(&io::Error::other("not an errno")));
    }
}
