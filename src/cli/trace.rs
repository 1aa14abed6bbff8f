//! `sockdiag trace`: its flags.

use std::time::Duration;

use clap::Args;

use super::FamilyArgs;

/// The long description `sockdiag trace --help` and the man page show.
pub const LONG_ABOUT: &str = "Find where on the path packets stop: ICMP echo probes with every TTL from --first-ttl to \
                  --max-hops go out at once, --queries waves a few milliseconds apart. It stops as soon as the \
                  target answered and every lower hop answered or had a fair wait (scaled from the RTTs of \
                  farther hops), or at one global deadline (--wait). Needs raw-socket privilege (sudo, or \
                  setcap cap_net_raw+ep), or falls back to unprivileged ping sockets where \
                  net.ipv4.ping_group_range allows them; privilege is dropped once the sockets are open. \
                  Exit 0 only when the target was reached.";

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
    #[arg(short = 'f', long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..), value_name = "TTL")]
    pub first_ttl: u8,

    /// Highest TTL probed
    #[arg(short = 'm', long, default_value_t = 30, value_parser = clap::value_parser!(u8).range(1..), value_name = "TTL")]
    pub max_hops: u8,

    /// Probes per hop
    #[arg(short = 'q', long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=10), value_name = "N")]
    pub queries: u8,

    /// At most this many probes awaiting an answer at once (default: unlimited)
    #[arg(short = 'N', long, value_parser = clap::value_parser!(u32).range(1..), value_name = "N")]
    pub max_inflight: Option<u32>,

    /// Global deadline for the whole trace, e.g. 1500ms or 3s (ends it when the target never answers)
    #[arg(short = 'w', long = "wait", visible_alias = "timeout", default_value = "1500ms",
          value_parser = crate::units::parse_positive_duration, value_name = "DURATION")]
    pub wait: Duration,

    /// Do not look up names of the hops' addresses
    #[arg(short = 'n', long = "numeric")]
    pub numeric: bool,
}
