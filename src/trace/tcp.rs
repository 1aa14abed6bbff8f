//! TCP probes without raw sockets (traceroute's tcpconn method): one non-blocking connect() per probe,
//! with the probe's TTL set on its socket. A router's Time Exceeded comes back on that socket's error
//! queue (IP_RECVERR); the target's SYN-ACK completes the connect (open), its RST refuses it (closed).
//! Each socket is closed with a reset as soon as it has its answer, so no connection or TIME-WAIT is
//! left behind on either side. Every probe has its own source port: this method cannot keep one flow.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::engine::{ProbeSpec, Ts};
use super::net::{Network, Received, monotonic_now, realtime_to_monotonic};
use super::packet::{Reply, ReplyKind};
use crate::sys::errqueue;
use crate::sys::{msg, poll, sigint, timestamp};

/// Enough descriptors for the largest schedule (255 TTLs x 10 queries) and a little more.
const OPEN_FILES_WANTED: u64 = 4096;

/// The identifier every reply of this method carries (each socket names its probe already).
pub const CONNECT_IDENT: u16 = 0;

/// One probe's socket, until it has its answer.
struct Pending {
    seq: u16,
    socket: Socket,
}

/// The connect() prober: one socket per probe in flight.
pub struct TcpConnectProber {
    target: SocketAddr,
    pending: Vec<Pending>,
    /// Answers taken off their sockets while making room for a new one, for the next `recv`.
    ready: Vec<Received>,
    /// Sockets that ended with an error that says nothing about the path (counted, then dropped).
    undecodable: usize,
}

impl TcpConnectProber {
    /// A prober aimed at `target` (address, port and IPv6 scope); raises the open-files limit, as every
    /// probe in flight holds a socket.
    pub fn new(target: SocketAddr) -> TcpConnectProber {
        crate::sys::rlimit::raise_open_files(OPEN_FILES_WANTED);
        TcpConnectProber {
            target,
            pending: Vec::new(),
            ready: Vec::new(),
            undecodable: 0,
        }
    }

    /// The target's port.
    pub fn port(&self) -> u16 {
        self.target.port()
    }

    /// Sockets that ended without an answer about the path.
    pub fn undecodable(&self) -> usize {
        self.undecodable
    }

    fn open(&self, ttl: u8) -> io::Result<Socket> {
        let v6 = self.target.is_ipv6();
        let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
        let socket = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
        socket.set_nonblocking(true)?;
        // Closing sends a reset: no TIME-WAIT here, no half-open connection at the target.
        socket.set_linger(Some(Duration::ZERO))?;
        if v6 {
            socket.set_unicast_hops_v6(u32::from(ttl))?;
        } else {
            socket.set_ttl_v4(u32::from(ttl))?;
        }
        errqueue::enable(&socket, v6)?;
        let _ = errqueue::enable_rfc4884(&socket, v6);
        timestamp::enable(&socket)?;
        let any: IpAddr = if v6 {
            Ipv6Addr::UNSPECIFIED.into()
        } else {
            Ipv4Addr::UNSPECIFIED.into()
        };
        socket.bind(&SockAddr::from(SocketAddr::new(any, 0)))?;
        Ok(socket)
    }

    /// What one pending socket has: a queued ICMP error, or the connect's outcome.
    fn answer(&self, i: usize) -> State {
        let p = &self.pending[i];
        let mut data = [0u8; 512];
        if let Ok(got) = msg::recv(&p.socket, &mut data, true) {
            let at = got
                .cmsgs()
                .find_map(timestamp::parse)
                .map_or_else(monotonic_now, realtime_to_monotonic);
            let Some((err, info)) = got.cmsgs().find_map(errqueue::parse_with_info) else {
                return State::Dead;
            };
            let queued = super::net::queued_icmp(&err, info, &data[..got.len], self.target.is_ipv6());
            return match (queued, err.offender) {
                (Some(q), Some(from)) => {
                    let mut answer = self.reply(p.seq, from, q.kind, (err.icmp_type, err.code), at);
                    answer.reply.mpls = q.mpls;
                    State::Answered(answer)
                }
                _ => State::Dead,
            };
        }
        // No queued error: has the connect finished? A SYN-ACK makes the peer known; a RST leaves
        // ECONNREFUSED; any other error says nothing about the path.
        let at = monotonic_now();
        let target = self.target.ip();
        match p.socket.take_error() {
            Ok(Some(e)) if e.raw_os_error() == Some(libc::ECONNREFUSED) => {
                State::Answered(self.reply(p.seq, target, ReplyKind::PortClosed, (0, 0), at))
            }
            Ok(Some(_)) | Err(_) => State::Dead,
            Ok(None) if p.socket.peer_addr().is_ok() => {
                State::Answered(self.reply(p.seq, target, ReplyKind::PortOpen, (0, 0), at))
            }
            Ok(None) => State::Waiting,
        }
    }

    fn reply(&self, seq: u16, from: IpAddr, kind: ReplyKind, (t, code): (u8, u8), at: Ts) -> Received {
        let reply = Reply {
            kind,
            icmp_type: t,
            icmp_code: code,
            ident: CONNECT_IDENT,
            seq,
            quoted_dst: Some(self.target.ip()),
            ports: None,
            mpls: Vec::new(),
            mtu: None,
            quoted_udp: None,
            translated: false,
        };
        Received { from, reply, at }
    }

    /// The first pending socket with an answer; a socket is closed (with a reset) once it has one, or
    /// once it failed in a way that says nothing about the path.
    fn take_answer(&mut self) -> Option<Received> {
        let mut i = 0;
        while i < self.pending.len() {
            match self.answer(i) {
                State::Answered(r) => {
                    self.pending.swap_remove(i);
                    return Some(r);
                }
                State::Dead => {
                    self.pending.swap_remove(i);
                    self.undecodable += 1;
                }
                State::Waiting => i += 1,
            }
        }
        None
    }
}

/// Where one probe's socket stands.
enum State {
    /// It has its answer.
    Answered(Received),
    /// It failed without an answer about the path.
    Dead,
    /// Still connecting.
    Waiting,
}

impl Network for TcpConnectProber {
    fn send(&mut self, probe: &ProbeSpec) -> io::Result<Ts> {
        let socket = match self.open(probe.ttl) {
            // Out of descriptors (a long trace with many silent probes): the oldest unanswered probe's
            // socket makes room; its answer, if it ever comes, is lost.
            Err(e)
                if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
                    && !self.pending.is_empty() =>
            {
                // Sockets that already have their answer are closed first (the answers kept for recv);
                // only when none has, the oldest unanswered one goes.
                let before = self.pending.len();
                while let Some(r) = self.take_answer() {
                    self.ready.push(r);
                }
                if self.pending.len() == before {
                    self.pending.remove(0);
                }
                self.open(probe.ttl)?
            }
            other => other?,
        };
        let at = monotonic_now();
        match socket.connect(&SockAddr::from(self.target)) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(e),
        }
        self.pending.push(Pending {
            seq: probe.seq,
            socket,
        });
        Ok(at)
    }

    fn recv(&mut self, deadline: Ts) -> io::Result<Option<Received>> {
        if !self.ready.is_empty() {
            return Ok(Some(self.ready.remove(0)));
        }
        loop {
            if let Some(r) = self.take_answer() {
                return Ok(Some(r));
            }
            let now = monotonic_now();
            if now >= deadline {
                return Ok(None);
            }
            let fds: Vec<&Socket> = self.pending.iter().map(|p| &p.socket).collect();
            if fds.is_empty() {
                std::thread::sleep((deadline - now).min(Duration::from_millis(50)));
            } else {
                poll::wait_any(&fds, deadline - now)?;
            }
            if sigint::caught() {
                return Ok(None);
            }
        }
    }

    fn interrupted(&mut self) -> Option<Ts> {
        sigint::caught().then(monotonic_now)
    }
}
