//! Path MTU discovery inside the concurrent trace (`--mtu`), as tracepath finds it: probes go out as large
//! as the outgoing interface allows, with DF set and the kernel's PMTU cache ignored (IP_PMTUDISC_PROBE);
//! a router that cannot forward one answers "fragmentation needed" / "packet too big" with its next-hop
//! MTU, and that probe goes out again at that size. On a path of one MTU nothing is resent at all.
//!
//! The bookkeeping here is pure (the engine calls it); [`local_mtu`] and [`set_probe_mode`] are the
//! socket side.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsFd;

use schemars::JsonSchema;
use serde::Serialize;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::engine::ProbeRecord;
use crate::sys::{errqueue, msg, sockopt};

/// The smallest MTU IPv4 links may have (RFC 791).
const V4_MIN_MTU: u16 = 68;
/// The smallest MTU IPv6 links may have (RFC 8200).
const V6_MIN_MTU: u16 = 1280;
/// RFC 1191's plateaus: what to try next when a router names no MTU (pre-RFC 1191 routers send 0).
const PLATEAUS: [u16; 10] = [32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68];
/// Not in the libc crate under these names on every target: Linux's "set DF, ignore the PMTU cache".
const IP_PMTUDISC_PROBE: libc::c_int = 3;
const IPV6_PMTUDISC_PROBE: libc::c_int = 3;
/// With --mtu, at most this many resends per probe of the schedule, on average.
pub const RESEND_FACTOR: usize = 3;

/// How many probe numbers a trace of `probes` probes may use: with --mtu, room for the resent ones.
pub fn probe_numbers(probes: usize, mtu: bool) -> usize {
    if mtu { probes * (1 + RESEND_FACTOR) } else { probes }
}

/// Length of the UDP header.
const UDP_HEADER_LEN: usize = 8;
/// The largest IP packet: what the interface MTU is capped at.
const MAX_PACKET: u16 = u16::MAX;

/// One drop of the path MTU: `from` could not forward `before`-byte packets and named `mtu`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PmtuDrop {
    /// The router that said so (the hop the narrower link leaves from).
    pub from: IpAddr,
    /// Packet size that did not fit, bytes.
    pub before: u16,
    /// The next-hop MTU it named (or the plateau tried when it named none), bytes.
    pub mtu: u16,
    /// The lowest TTL whose probe drew it.
    #[serde(skip)]
    pub probe_ttl: u8,
}

/// What a trace with `--mtu` learned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PmtuFindings {
    /// The size the probes started at (the outgoing interface's MTU); None without --mtu.
    pub start: Option<u16>,
    /// Each drop, in the order they were learned.
    pub drops: Vec<PmtuDrop>,
}

impl PmtuFindings {
    /// The path MTU as far as the probes got: the smallest size learned.
    pub fn path_mtu(&self) -> Option<u16> {
        let start = self.start?;
        Some(self.drops.iter().map(|d| d.mtu).fold(start, u16::min))
    }

    /// Records that `from` named `mtu` for a probe of `before` bytes at `ttl` (one entry per router and
    /// MTU: every probe beyond it draws the same answer).
    pub fn record(&mut self, from: IpAddr, before: u16, mtu: u16, ttl: u8) {
        match self.drops.iter_mut().find(|d| d.from == from && d.mtu == mtu) {
            Some(d) => {
                d.before = d.before.max(before);
                d.probe_ttl = d.probe_ttl.min(ttl);
            }
            None => self.drops.push(PmtuDrop {
                from,
                before,
                mtu,
                probe_ttl: ttl,
            }),
        }
    }
}

/// The size to resend a `size`-byte probe at after a router named `named` (0: none): the named MTU when
/// it is below the probe and not below the family's minimum, else the next plateau below the probe.
/// None when nothing smaller may be tried.
pub fn next_size(size: u16, named: u16, v6: bool) -> Option<u16> {
    let floor = if v6 { V6_MIN_MTU } else { V4_MIN_MTU };
    if named >= floor && named < size {
        return Some(named);
    }
    // A bogus MTU (0, above the probe, below the minimum): step down as RFC 1191 suggests.
    PLATEAUS
        .iter()
        .copied()
        .find(|&p| p < size)
        .map(|p| p.max(floor))
        .filter(|&p| p < size)
}

/// The hop where the MTU drops: the TTL at which `drop.from` answered a probe itself (its Time
/// Exceeded), else the hop before the first probe it refused.
pub fn drop_hop(drop: &PmtuDrop, answered_at: impl Fn(IpAddr) -> Option<u8>) -> u8 {
    answered_at(drop.from).unwrap_or_else(|| drop.probe_ttl.saturating_sub(1).max(1))
}

/// A probe's tail: `base`, padded with zeroes so the whole packet (IP header, then `overhead` bytes of
/// headers, then the tail) is `size` bytes; just `base` without a size or when that is too small.
pub fn padded(base: &[u8], size: Option<u16>, v6: bool, overhead: usize) -> Vec<u8> {
    let mut tail = base.to_vec();
    let ip = if v6 { 40 } else { 20 };
    if let Some(len) = size.and_then(|s| usize::from(s).checked_sub(ip + overhead)) {
        tail.resize(len.max(base.len()), 0);
    }
    tail
}

/// Sets a probe socket to send with DF, unfragmented by this host, whatever the kernel's PMTU cache says
/// (so a drop learned by an earlier run is found again at its hop).
pub fn set_probe_mode(fd: impl AsFd, v6: bool) -> io::Result<()> {
    if v6 {
        sockopt::set_int(&fd, libc::SOL_IPV6, libc::IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE)?;
        // IPv6 hosts fragment their own packets unless told not to.
        sockopt::set_int(&fd, libc::SOL_IPV6, libc::IPV6_DONTFRAG, 1)
    } else {
        sockopt::set_int(&fd, libc::SOL_IP, libc::IP_MTU_DISCOVER, IP_PMTUDISC_PROBE)
    }
}

/// The MTU of the interface packets to `target` leave by, capped at 65535: a UDP datagram of 65535 bytes
/// before the IP header, too large for any interface, is handed to the stack with DF and the PMTU cache
/// ignored, and the stack refuses it with `EMSGSIZE`, queueing the interface's MTU. Nothing is sent.
pub fn local_mtu(target: SocketAddr) -> io::Result<u16> {
    let v6 = target.is_ipv6();
    let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
    let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_nonblocking(true)?;
    set_probe_mode(&socket, v6)?;
    errqueue::enable(&socket, v6)?;
    socket.connect(&SockAddr::from(target))?;
    let big = vec![0u8; usize::from(MAX_PACKET) - UDP_HEADER_LEN];
    match socket.send(&big) {
        Ok(_) => return Ok(MAX_PACKET),
        Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE) => {}
        Err(e) => return Err(e),
    }
    let mut data = [0u8; 64];
    let got = msg::recv(&socket, &mut data, true)?;
    got.cmsgs()
        .find_map(errqueue::parse_with_info)
        .filter(|(e, _)| e.errno == libc::EMSGSIZE)
        .map(|(_, info)| u16::try_from(info).unwrap_or(MAX_PACKET))
        .filter(|&mtu| mtu >= if v6 { V6_MIN_MTU } else { V4_MIN_MTU })
        .ok_or_else(|| io::Error::other("the stack named no MTU for the outgoing interface"))
}

/// The engine's --mtu state: the size new probes go out at, what was learned, and the probes to resend.
#[derive(Debug, Clone)]
pub struct PmtuState {
    /// Size of probes not yet sent, bytes (the smallest learned so far).
    pub size: u16,
    /// What was learned.
    pub findings: PmtuFindings,
    /// Schedule indexes of refused probes waiting to go out again, oldest first.
    pub queue: VecDeque<usize>,
    /// The number each resent probe carries now, to its schedule index.
    resent: HashMap<u16, usize>,
    /// The number the next resent probe gets.
    next_seq: u16,
    /// Numbers resent probes carried before: answers to them are late, not foreign.
    retired: HashSet<u16>,
    /// How many more probes may be resent (bounds a path that keeps shrinking, or a forger).
    budget: usize,
    v6: bool,
}

impl PmtuState {
    /// Starts at `start` bytes; resent probes are numbered from `first_seq` on, at most `budget` of them.
    pub fn new(start: u16, first_seq: u16, budget: usize, v6: bool) -> PmtuState {
        PmtuState {
            size: start,
            findings: PmtuFindings {
                start: Some(start),
                drops: Vec::new(),
            },
            queue: VecDeque::new(),
            resent: HashMap::new(),
            retired: HashSet::new(),
            next_seq: first_seq,
            budget,
            v6,
        }
    }

    /// The schedule index of a resent probe numbered `seq`.
    pub fn index_of(&self, seq: u16) -> Option<usize> {
        self.resent.get(&seq).copied()
    }

    /// A router at `from` refused probe `index`, naming `named` bytes: records the drop and makes the
    /// probe unsent, renumbered and smaller, queued to go out again. False when it cannot be resent (no
    /// smaller size to try, or the resend budget is spent).
    pub fn refused(&mut self, index: usize, probe: &mut ProbeRecord, from: IpAddr, named: u16) -> bool {
        let size = probe.size.unwrap_or(self.size);
        let Some(next) = next_size(size, named, self.v6) else {
            return false;
        };
        self.findings.record(from, size, next, probe.ttl);
        self.size = self.size.min(next);
        self.resend(index, probe, next)
    }

    /// Resends the other probes still in flight that the last drop refuses too: larger than the path now
    /// takes and at least as far as the nearest probe it refused. Routers limit their ICMP answers (Linux:
    /// a burst of 6), so most of those refusals would never come, and their probes would look lost.
    pub fn presume_refused(&mut self, probes: &mut [ProbeRecord]) {
        let Some(nearest) = self.findings.drops.iter().map(|d| d.probe_ttl).min() else {
            return;
        };
        let size = self.size;
        for (index, probe) in probes.iter_mut().enumerate() {
            let in_flight = probe.sent_at.is_some() && probe.reply.is_none();
            if in_flight && probe.ttl >= nearest && probe.size.is_some_and(|s| s > size) {
                self.resend(index, probe, size);
            }
        }
    }

    /// Whether `seq` is a number a resent probe no longer carries (its own late refusal, say).
    pub fn retired(&self, seq: u16) -> bool {
        self.retired.contains(&seq)
    }

    /// Makes `probe` unsent, renumbered and `size` bytes, queued to go out again; false when the resend
    /// budget is spent.
    fn resend(&mut self, index: usize, probe: &mut ProbeRecord, size: u16) -> bool {
        if self.budget == 0 {
            return false;
        }
        self.budget -= 1;
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        self.retired.insert(probe.seq);
        self.resent.insert(seq, index);
        self.queue.push_back(index);
        probe.seq = seq;
        probe.size = Some(size);
        probe.sent_at = None;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_mtu_is_taken_when_it_makes_sense_else_a_plateau() {
        assert_eq!(next_size(1500, 1400, false), Some(1400));
        assert_eq!(next_size(1500, 1400, true), Some(1400));
        // No MTU named (old routers), or one not below the probe: the next plateau down.
        assert_eq!(next_size(1500, 0, false), Some(1492));
        assert_eq!(next_size(1492, 1500, false), Some(1006));
        assert_eq!(next_size(1500, 9000, false), Some(1492));
        // Below the family's minimum: a plateau, never below the minimum, and nothing below it.
        assert_eq!(next_size(1500, 40, false), Some(1492));
        assert_eq!(next_size(1400, 1200, true), Some(1280));
        assert_eq!(next_size(1280, 1200, true), None);
        assert_eq!(next_size(68, 0, false), None);
        assert_eq!(next_size(296, 0, false), Some(68));
    }

    #[test]
    fn padding_makes_the_packet_exactly_the_size_asked() {
        let base = b"probe";
        assert_eq!(padded(base, None, false, 10), base.to_vec());
        let v4 = padded(base, Some(1500), false, 10);
        assert_eq!(v4.len(), 1500 - 20 - 10);
        assert!(v4.starts_with(base));
        assert_eq!(padded(base, Some(1400), true, 12).len(), 1400 - 40 - 12);
        // Too small to hold even the base: the base alone.
        assert_eq!(padded(base, Some(30), false, 10), base.to_vec());
    }

    #[test]
    fn findings_keep_one_drop_per_router_and_mtu_and_the_smallest_size() {
        let r5: IpAddr = "198.51.100.17".parse().unwrap();
        let r7: IpAddr = "198.51.100.25".parse().unwrap();
        let mut f = PmtuFindings {
            start: Some(1500),
            drops: Vec::new(),
        };
        assert_eq!(f.path_mtu(), Some(1500));
        f.record(r5, 1500, 1400, 8);
        f.record(r5, 1500, 1400, 6);
        f.record(r7, 1400, 1300, 9);
        assert_eq!(f.drops.len(), 2);
        assert_eq!(f.drops[0].probe_ttl, 6);
        assert_eq!(f.path_mtu(), Some(1300));
        // The router's own Time Exceeded places it; without one, the hop before its first refusal.
        assert_eq!(drop_hop(&f.drops[0], |a| (a == r5).then_some(5)), 5);
        assert_eq!(drop_hop(&f.drops[1], |_| None), 8);
        assert_eq!(PmtuFindings::default().path_mtu(), None);
    }
}
