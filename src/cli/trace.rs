//! `sockdiag trace`: its flags and its long description.

use std::time::Duration;

use clap::Args;
use clap::builder::TypedValueParser;

use super::FamilyArgs;

/// Exit codes of `trace`, which also reports what it measured when interrupted.
pub const TRACE_EXIT_CODES: &str = "\
Exit codes:
  0  the target answered (every target, when several were given)
  1  the target (or one of several) was not reached (max hops, deadline, an unreachable), or its name has no address
  2  bad usage or input (also 0.0.0.0 and ::, which name no host)
  3  a system or permission problem (no ICMP socket allowed)
  130  interrupted by Ctrl-C: the report of what was measured so far was printed";

/// `sockdiag trace --help`'s description: what it does, and the privilege it needs.
pub const TRACE_ABOUT: &str = "\
Find where on the path packets stop: probes with every TTL from --first-ttl to --max-hops go out at once, \
--queries waves a few milliseconds apart. Probes are ICMP echo requests (--icmp, the default), UDP datagrams \
(--udp, port 33434 unless -p) or TCP SYNs (--tcp, port 80 unless -p; the last line says open, closed or \
filtered). Every probe of a run takes one flow through per-flow load balancers, as Paris traceroute does: \
ICMP probes keep one checksum, UDP probes keep their ports and carry their number in the checksum; TCP \
SYNs keep their ports and carry their number in the sequence number, written on a raw socket (the source \
port is held by a bound socket for the run; this host's kernel resets the target's SYN-ACK, so no \
half-open connection stays behind and no firewall rule is needed). Without raw-socket privilege TCP probes \
go out by connect(), one socket each with its own source port (not one flow). --flow picks another flow \
(the ICMP checksum, or the UDP or TCP source port), to see other branches. A probe that gets no reply is given up after a fair wait \
(2.5 times the slowest reply from its hop or farther ones, at least 200 ms, at most -w); the trace stops as \
soon as the target answered and every lower hop answered or was given up, or at --deadline.\n\n\
--mtu also finds the path MTU as tracepath does, inside the same concurrent trace: the probes go out as large \
as the outgoing interface takes, with DF set and the kernel's PMTU cache ignored; a router that must refuse one \
names its next link's MTU (fragmentation needed, packet too big), that probe goes out again at that size, and \
the router's row shows `pmtu 1500 -> 1400`; the last line states the path MTU. On a path of one MTU nothing is \
sent twice.\n\n\
--multipath finds every branch of the load balancers on the path, as Paris traceroute's MDA and scamper's \
tracelb do, with a stated confidence (95 %, or --multipath=99), but probes every hop at once: probes with \
distinct flows (ICMP checksums, or UDP or TCP destination ports from -p on; TCP needs raw sockets) go out \
until the MDA stopping rule says, for every hop, that no further interface exists there (MDA-Lite's \
hop-level counting; with --per-node, MDA's node control: for every interface, that no further next hop \
exists, at the cost of more probes); the hops with several interfaces share the 5 % (or 1 %) the rule may \
miss, so the confidence holds for the whole path. \
A flow that meets two interfaces at one hop when sent again means per-packet balancing, said so in the \
BALANCING column. The table lists every interface per hop, the flows that reached it, its RTT, the \
loss of the branch after it and the interfaces before it, then the diamonds (where the path splits and joins), \
the probes spent and whether the rule or a bound (--max-probes, --deadline, Ctrl-C) ended the search; \
--format json carries the graph as nodes and edges, --format dot draws it for Graphviz.\n\n\
Several hosts are traced at once, one table each in the order given (with --json: `traces`, one report per \
host, and `failed`); the exit code is 0 only when every host was reached.\n\n\
Privilege: raw ICMP sockets need root or CAP_NET_RAW (sudo, or once: sudo setcap cap_net_raw+ep \
$(which sockdiag)). Without it, trace uses unprivileged ICMP ping sockets where the sysctl \
net.ipv4.ping_group_range includes your group (routers' Time Exceeded then come through the socket error \
queue; the results are the same); if neither is allowed it says so and exits 3. Privilege is dropped as soon \
as the sockets are open, before any name is looked up.\n\n\
Replies are checked before they count: an ICMP message with a wrong checksum is dropped (the kernel does \
this for ICMPv6 and ping sockets, sockdiag for raw IPv4). With --first-ttl above 1, a target that answers \
the first TTL probed is said to be at most that many hops away. Ctrl-C ends the trace with the report of \
what was measured so far (stop reason `interrupted`, exit 130).";

/// `sockdiag trace`.
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// Host name or IP address to trace the path to; several are traced at once, one table each
    #[arg(value_name = "HOST", required = true, num_args = 1..)]
    pub hosts: Vec<String>,

    /// Address family (default: the first address the name resolves to)
    #[command(flatten)]
    pub family: FamilyArgs,

    /// TTL of the first hop probed
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..), value_name = "TTL")]
    pub first_ttl: u8,

    /// Highest TTL probed
    #[arg(short = 'm', long, default_value_t = 30, value_parser = clap::value_parser!(u8).range(1..), value_name = "TTL")]
    pub max_hops: u8,

    /// Probes per hop
    #[arg(short = 'q', long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=10), value_name = "N")]
    pub queries: u8,

    /// At most this many probes awaiting an answer at once [default: unlimited]
    #[arg(short = 'N', long, value_parser = clap::value_parser!(u32).range(1..), value_name = "N")]
    pub max_inflight: Option<u32>,

    /// Longest wait for one probe's reply (less when farther hops answer fast); bare number = seconds
    #[arg(short = 'w', long, default_value = "1s",
          value_parser = crate::units::parse_positive_duration, value_name = "DURATION")]
    pub timeout: Duration,

    /// The whole trace ends after this long, counted from the first probe (a silent target ends here)
    /// [default: 1.5s, plus the time the waves take to go out with -i or --max-rate]
    #[arg(long, value_parser = crate::units::parse_positive_duration, value_name = "DURATION")]
    pub deadline: Option<Duration>,

    /// Time between two probes to the same hop (the waves' spacing; with -c, between the cycles' starts);
    /// routers limit how fast they answer
    #[arg(short = 'i', long, default_value = "5ms",
          value_parser = crate::units::parse_positive_duration, value_name = "DURATION")]
    pub interval: Duration,

    /// Repeat the trace N times, mtr-like, with statistics per hop (0: until Ctrl-C or --deadline);
    /// cycles start -i apart
    #[arg(short = 'c', long, default_value_t = 1, value_name = "N")]
    pub count: u32,

    /// At most this many probes per second overall [default: no limit]
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..), value_name = "N")]
    pub max_rate: Option<u32>,

    /// Do not look up names of the hops' addresses (no NAME column)
    #[arg(short = 'n', long = "numeric")]
    pub numeric: bool,

    /// Probe with ICMP echo requests (the default)
    #[arg(long, conflicts_with_all = ["udp", "tcp"])]
    pub icmp: bool,

    /// Probe with UDP datagrams to a port (default 33434; -p to choose)
    #[arg(long, conflicts_with = "tcp")]
    pub udp: bool,

    /// Probe with TCP SYNs to a port (default 80; -p to choose): says open, closed or filtered at the target
    #[arg(long)]
    pub tcp: bool,

    /// Destination port of --udp or --tcp probes
    #[arg(short = 'p', long, value_parser = clap::value_parser!(u16).range(1..), value_name = "PORT")]
    pub port: Option<u16>,

    /// Find the path MTU as tracepath does: probes as large as the outgoing interface takes, with DF set;
    /// a router that must refuse them names its next link's MTU, shown at its hop (`pmtu 1500 -> 1400`)
    /// (--icmp or --udp, one cycle)
    #[arg(long)]
    pub mtu: bool,

    /// Which flow the probes take through per-flow load balancers: the ICMP checksum, or the UDP or TCP
    /// source port (1024-65535; TCP needs raw sockets) [default: one fixed checksum; a source port the
    /// system picks]
    #[arg(long, value_parser = clap::value_parser!(u16), value_name = "N")]
    pub flow: Option<u16>,

    /// Find every branch of the load balancers on the path with this confidence (95 or 99, %): Paris
    /// traceroute's MDA, every hop probed at once with many flows (--icmp, --udp, or --tcp with raw
    /// sockets; one host); --multipath=99 for 99 %
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "95", value_name = "PERCENT",
          value_parser = clap::builder::PossibleValuesParser::new(["95", "99"]).map(|s| if s == "99" { 99u8 } else { 95u8 }))]
    pub multipath: Option<u8>,

    /// With --multipath: at most this many probes in all (the report says when this, not the stopping
    /// rule, ended the search) [default: 5000]
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=60_000), value_name = "N", requires = "multipath")]
    pub max_probes: Option<u32>,

    /// With --multipath: count each interface's next hops apart (MDA's node control: more probes, and
    /// the confidence also holds where a diamond's branches are uneven) instead of each hop's
    /// interfaces (MDA-Lite, the default)
    #[arg(long, requires = "multipath")]
    pub per_node: bool,
}
