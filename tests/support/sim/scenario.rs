//! Scenarios as data: the hops, the target and the adversity of one simulated path.
//!
//! ```ignore
//! Scenario::new()
//!     .hop(Hop::new(ms(10)))
//!     .hop(Hop::silent())
//!     .hop(Hop::new(ms(30)).slow(ms(200)).every(2).mpls(&[(16001, 1)]))
//!     .target(Target::echo(ms(90)))
//!     .duplicate()
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use super::packet::MplsEntry;
use crate::support::addr;

/// One simulated router.
#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    /// IPv4 source of its Time Exceeded (default 203.0.113.k).
    pub v4: Option<Ipv4Addr>,
    /// IPv6 source of its Time Exceeded (default 2001:db8:ff::k).
    pub v6: Option<Ipv6Addr>,
    /// Round-trip time to this hop.
    pub rtt: Duration,
    /// Sends nothing.
    pub silent: bool,
    /// Extra delay on top of `rtt` (a slow control plane).
    pub extra_delay: Duration,
    /// Answers only every k-th probe it sees (the 1st, k+1-th, ...); 1 answers all.
    pub every: u32,
    /// MPLS label stack sent as an RFC 4884/4950 ICMP extension; empty for none.
    pub mpls: Vec<MplsEntry>,
    /// Parallel routers behind a per-flow load balancer: a probe is answered by branch
    /// `flow hash % len` (addresses, IPv4 and IPv6); empty for a single router at `v4`/`v6`.
    pub branches: Vec<(Ipv4Addr, Ipv6Addr)>,
    /// How many parallel routers [`Scenario::hop`] gives it (1: none).
    pub balance: u8,
    /// The balancer picks a random branch for every packet instead of hashing the flow.
    pub per_packet: bool,
    /// A source NAT: probes going past this hop (TTL above its number) get their source port (echo:
    /// identifier) rewritten, and replies from behind it are translated back (see `sim::nat`).
    pub nat: bool,
    /// Linux's ICMP rate limit (inet_peer_xrlim_allow): a bucket of `burst` answers refilled one per
    /// the duration; None answers everything.
    pub rate_limit: Option<(u32, Duration)>,
    /// The link after this hop takes packets up to this many bytes: a larger one going farther draws a
    /// fragmentation needed (IPv4) / packet too big (IPv6) naming it (trace --mtu); None: any size.
    pub mtu: Option<u16>,
}

impl Hop {
    /// An answering hop with default addresses and the given round-trip time.
    pub fn new(rtt: Duration) -> Hop {
        Hop {
            v4: None,
            v6: None,
            rtt,
            silent: false,
            extra_delay: Duration::ZERO,
            every: 1,
            mpls: Vec::new(),
            branches: Vec::new(),
            balance: 1,
            per_packet: false,
            nat: false,
            rate_limit: None,
            mtu: None,
        }
    }

    /// Makes the link after this hop take at most `mtu` bytes (see [`Hop::mtu`]).
    pub fn narrow(mut self, mtu: u16) -> Hop {
        self.mtu = Some(mtu);
        self
    }

    /// Limits its answers as a Linux router does by default: a burst of 6, then one a second.
    pub fn linux_rate_limit(mut self) -> Hop {
        self.rate_limit = Some((6, Duration::from_secs(1)));
        self
    }

    /// `n` parallel routers behind a per-flow balancer (addresses 203.0.113.k + 16i, 2001:db8:ff::k + 16i,
    /// so consecutive balanced hops never share one).
    pub fn balanced(mut self, n: u8) -> Hop {
        assert!((2..=4).contains(&n), "lab: balanced(n) takes 2 to 4 branches");
        self.balance = n;
        self
    }

    /// `n` parallel routers behind a per-packet balancer: every packet, even of one flow, takes a
    /// random branch (same addresses as [`Hop::balanced`]).
    pub fn per_packet(self, n: u8) -> Hop {
        let mut hop = self.balanced(n);
        hop.per_packet = true;
        hop
    }

    /// Makes this hop a source NAT for what it forwards (see [`Hop::nat`]); its own answers, to
    /// probes expiring here, quote the packet as sent.
    pub fn nat(mut self) -> Hop {
        self.nat = true;
        self
    }

    /// The address answering a probe whose flow hashes to `hash`, in the family of `v6`.
    pub fn addr_for_flow(&self, v6: bool, hash: u64) -> Option<IpAddr> {
        if self.branches.is_empty() {
            return self.addr(v6);
        }
        let (a4, a6) = self.branches[(hash % self.branches.len() as u64) as usize];
        Some(if v6 { IpAddr::V6(a6) } else { IpAddr::V4(a4) })
    }

    /// An answering hop at explicit addresses (the brief's `Hop::answering`).
    pub fn answering(v4: &str, v6: &str, rtt: Duration) -> Hop {
        Hop::new(rtt).at(v4, v6)
    }

    /// A hop that never sends Time Exceeded.
    pub fn silent() -> Hop {
        Hop {
            silent: true,
            ..Hop::new(Duration::ZERO)
        }
    }

    /// Sets explicit addresses.
    pub fn at(mut self, v4: &str, v6: &str) -> Hop {
        self.v4 = Some(v4.parse().expect("IPv4 address"));
        self.v6 = Some(v6.parse().expect("IPv6 address"));
        self
    }

    /// Adds a control-plane delay on top of the round-trip time.
    pub fn slow(mut self, extra: Duration) -> Hop {
        self.extra_delay = extra;
        self
    }

    /// Answers only every `k`-th probe (rate limiting).
    pub fn every(mut self, k: u32) -> Hop {
        assert!(k >= 1, "lab: every(k) needs k >= 1");
        self.every = k;
        self
    }

    /// Attaches an MPLS label stack of `(label, ttl)` entries, outermost first.
    pub fn mpls(mut self, stack: &[(u32, u8)]) -> Hop {
        self.mpls = stack
            .iter()
            .map(|&(label, ttl)| MplsEntry { label, exp: 0, ttl })
            .collect();
        self
    }

    /// Every IPv4 address this hop answers from (its branches' when balanced).
    fn addrs_v4(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        let single = self.v4.filter(|_| self.branches.is_empty());
        single.into_iter().chain(self.branches.iter().map(|b| b.0))
    }

    /// This hop's address in the family of `v6`, if it has one.
    pub fn addr(&self, v6: bool) -> Option<IpAddr> {
        if v6 {
            self.v6.map(IpAddr::V6)
        } else {
            self.v4.map(IpAddr::V4)
        }
    }
}

/// How the target answers TCP SYNs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpAnswer {
    /// SYN-ACK: an open port.
    SynAck,
    /// RST-ACK: a closed port.
    Rst,
}

/// The destination at the end of the simulated path.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// IPv4 address (default 203.0.113.100).
    pub v4: Ipv4Addr,
    /// IPv6 address (default 2001:db8:ff::100).
    pub v6: Ipv6Addr,
    /// Round-trip time to the target.
    pub rtt: Duration,
    /// Answers nothing at all.
    pub silent: bool,
    /// Answer to TCP SYNs; echo requests get echo replies and UDP gets port unreachable.
    pub tcp: TcpAnswer,
}

impl Target {
    /// A target answering echo, UDP (port unreachable) and TCP (SYN-ACK) after `rtt`.
    pub fn echo(rtt: Duration) -> Target {
        Target {
            v4: addr::SIM_TARGET_V4,
            v6: addr::SIM_TARGET_V6,
            rtt,
            silent: false,
            tcp: TcpAnswer::SynAck,
        }
    }

    /// A target that answers nothing.
    pub fn silent() -> Target {
        Target {
            silent: true,
            ..Target::echo(Duration::ZERO)
        }
    }

    /// Answers TCP SYNs with RST instead of SYN-ACK.
    pub fn rst(mut self) -> Target {
        self.tcp = TcpAnswer::Rst;
        self
    }

    /// Sets explicit addresses (they must lie in the simulated prefixes, see `addr`).
    pub fn at(mut self, v4: &str, v6: &str) -> Target {
        self.v4 = v4.parse().expect("IPv4 address");
        self.v6 = v6.parse().expect("IPv6 address");
        self
    }

    /// The target's address in the family of `v6`.
    pub fn addr(&self, v6: bool) -> IpAddr {
        if v6 { self.v6.into() } else { self.v4.into() }
    }
}

/// Misbehaviour applied to the whole path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Adversity {
    /// Every reply is sent twice.
    pub duplicate: bool,
    /// Every second reply is held back this long, so later replies overtake it.
    pub reorder: Option<Duration>,
    /// ICMP errors quote only the IP header plus 8 bytes (and carry no extension).
    pub truncate_quote: bool,
    /// Before each reply, an ICMP Time Exceeded about a packet we never sent.
    pub foreign_errors: bool,
    /// Before each reply, malformed ICMP (quote too short, bogus quoted header, unknown type).
    pub garbage: bool,
    /// Before each reply, a forged one with a broken checksum that would change the verdict: the
    /// target's answer to a probe a router should answer, a Time Exceeded from [`FORGED_V4`] /
    /// [`FORGED_V6`] to a probe that reached the target.
    pub bad_checksums: bool,
}

/// The router address that forged, bad-checksum Time Exceeded messages claim to come from.
pub const FORGED_V4: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 77);
/// IPv6 twin of [`FORGED_V4`].
pub const FORGED_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xff, 0, 0, 0, 0, 0x77);

/// A whole simulated path.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Hops in order; a probe with TTL t is answered by hop t, or by the target if t > hops.
    pub hops: Vec<Hop>,
    /// The destination.
    pub target: Target,
    /// Path-wide misbehaviour.
    pub adversity: Adversity,
}

impl Default for Scenario {
    fn default() -> Self {
        Self::new()
    }
}

impl Scenario {
    /// No hops and an echoing target at 1 ms.
    pub fn new() -> Scenario {
        Scenario {
            hops: Vec::new(),
            target: Target::echo(Duration::from_millis(1)),
            adversity: Adversity::default(),
        }
    }

    /// `n` answering hops, hop k at `k * step`, and the target at `(n + 1) * step`.
    pub fn linear(n: usize, step: Duration) -> Scenario {
        let mut s = Scenario::new();
        for k in 1..=n {
            s = s.hop(Hop::new(step * k as u32));
        }
        s.target(Target::echo(step * (n as u32 + 1)))
    }

    /// Appends a hop; hops without explicit addresses get 203.0.113.k / 2001:db8:ff::k.
    pub fn hop(mut self, mut hop: Hop) -> Scenario {
        let k = self.hops.len() + 1;
        hop.v4 = hop.v4.or(Some(addr::sim_hop_v4(k)));
        hop.v6 = hop.v6.or(Some(addr::sim_hop_v6(k)));
        if hop.balance > 1 {
            hop.branches = (0..usize::from(hop.balance))
                .map(|i| (addr::sim_hop_v4(k + 16 * i), addr::sim_hop_v6(k + 16 * i)))
                .collect();
        }
        let taken: Vec<Ipv4Addr> = self.hops.iter().flat_map(Hop::addrs_v4).collect();
        assert!(
            hop.addrs_v4().all(|a| !taken.contains(&a)),
            "lab: hop {k}'s addresses clash with an earlier hop's (balanced hops 16 apart?)"
        );
        self.hops.push(hop);
        self
    }

    /// Sets the target.
    pub fn target(mut self, target: Target) -> Scenario {
        self.target = target;
        self
    }

    /// Sends every reply twice.
    pub fn duplicate(mut self) -> Scenario {
        self.adversity.duplicate = true;
        self
    }

    /// Holds every second reply back by `hold`.
    pub fn reorder(mut self, hold: Duration) -> Scenario {
        self.adversity.reorder = Some(hold);
        self
    }

    /// Quotes only the IP header plus 8 bytes in ICMP errors.
    pub fn truncate_quote(mut self) -> Scenario {
        self.adversity.truncate_quote = true;
        self
    }

    /// Adds ICMP errors about packets that are not ours.
    pub fn foreign_errors(mut self) -> Scenario {
        self.adversity.foreign_errors = true;
        self
    }

    /// Adds forged replies with broken checksums ahead of the real ones.
    pub fn bad_checksums(mut self) -> Scenario {
        self.adversity.bad_checksums = true;
        self
    }

    /// Adds malformed ICMP messages.
    pub fn garbage(mut self) -> Scenario {
        self.adversity.garbage = true;
        self
    }

    /// Adds `sim-hop<k>` and `sim-target` (A and AAAA) to `zone`, so hops have reverse names.
    pub fn add_names(&self, mut zone: crate::support::dns::Zone) -> crate::support::dns::Zone {
        for (i, h) in self.hops.iter().enumerate() {
            let name = format!("sim-hop{}", i + 1);
            if let Some(v4) = h.v4 {
                zone = zone.a(&name, v4);
            }
            if let Some(v6) = h.v6 {
                zone = zone.aaaa(&name, v6);
            }
        }
        zone.a("sim-target", self.target.v4)
            .aaaa("sim-target", self.target.v6)
    }

    /// Hop `k` (1-based).
    pub fn hop_at(&self, k: usize) -> &Hop {
        &self.hops[k - 1]
    }
}
