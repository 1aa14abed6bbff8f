//! `sockdiag trace`: its flags and its long description.

use std::time::Duration;

use clap::Args;

use super::FamilyArgs;

/// Exit codes of `trace`, which also reports what it measured when interrupted.
pub const TRACE_EXIT_CODES: &str = "\
Exit codes:
  0  the target answered
  1  the target was not reached (max hops, deadline, an unreachable), or its name has no address
  2  bad usage or input (also 0.0.0.0 and ::, which name no host)
  3  a system or permission problem (no ICMP socket allowed)
  130  interrupted by Ctrl-C: the report of what was measured so far was printed";

/// `sockdiag trace --help`'s description: what it does, and the privilege it needs.
pub const TRACE_ABOUT: &str = "\
Find where on the path packets stop: ICMP echo probes with every TTL from --first-ttl to --max-hops go out at \
once, --queries waves a few milliseconds apart. A probe that gets no reply is given up after a fair wait \
(2.5 times the slowest reply from its hop or farther ones, at least 200 ms, at most -w); the trace stops as \
soon as the target answered and every lower hop answered or was given up, or at --deadline.\n\n\
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
    /// Host name or IP address to trace the path to
    #[arg(value_name = "HOST")]
    pub host: String,

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
    #[arg(long, default_value = "1.5s",
          value_parser = crate::units::parse_positive_duration, value_name = "DURATION")]
    pub deadline: Duration,

    /// Do not look up names of the hops' addresses (no NAME column)
    #[arg(short = 'n', long = "numeric")]
    pub numeric: bool,
}
