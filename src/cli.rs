//! Command-line definitions (clap derive only): global flags and one Args struct per subcommand.

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::render::ColorChoice;

/// Exit codes, shown in every `--help` and man page.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  everything answered as hoped
  1  a negative result (a name that does not exist or has no address, a closed or filtered port, target not reached)
  2  bad usage or input
  3  a system or permission problem";

/// Socket diagnostics: does the name resolve, is the port open, where do packets stop, does my client talk.
#[derive(Debug, Parser)]
#[command(name = "sockdiag", version, propagate_version = true, after_long_help = EXIT_CODES)]
pub struct Cli {
    /// Flags every subcommand accepts.
    #[command(flatten)]
    pub global: GlobalArgs,

    /// The job to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags shared by all subcommands.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Print results as one JSON document (errors too), for scripts
    #[arg(long, global = true)]
    pub json: bool,

    /// When to colour tables; NO_COLOR in the environment means never, unless `always`
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Show more detail in error messages (repeat for more)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Look names up through the system resolver (getaddrinfo) as a program on this host would
    #[command(
        after_long_help = EXIT_CODES,
        long_about = "Look names up through the system resolver (getaddrinfo) as a program on this host would, \
                      showing every addrinfo result: family, socket type, protocol, address, port and canonical \
                      name. An IP address as NAME is looked up in reverse with getnameinfo."
    )]
    Resolve(ResolveArgs),
    /// Find where on the path packets stop: an ICMP traceroute probing every hop at once
    #[command(after_long_help = EXIT_CODES)]
    Trace(TraceArgs),
}

/// Address family restriction shared by the subcommands.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct FamilyArgs {
    /// IPv4 only
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// IPv6 only
    #[arg(short = '6')]
    pub ipv6: bool,
}

/// Socket type hint for getaddrinfo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SockTypeArg {
    /// SOCK_STREAM
    Stream,
    /// SOCK_DGRAM
    Dgram,
    /// SOCK_RAW
    Raw,
    /// No restriction: every socket type, like `getent ahosts`
    Any,
}

/// Protocol hint for getaddrinfo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProtocolArg {
    /// IPPROTO_TCP
    Tcp,
    /// IPPROTO_UDP
    Udp,
}

/// `sockdiag resolve`.
#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// Host names or IP addresses (an address gets a reverse lookup)
    #[arg(value_name = "NAME", required_unless_present = "passive")]
    pub names: Vec<String>,

    /// Service: a port number or a name from the services database (http, ssh, ...)
    #[arg(long, value_name = "SERVICE")]
    pub service: Option<String>,

    /// Address family
    #[command(flatten)]
    pub family: FamilyArgs,

    /// Socket type hint
    #[arg(long, value_enum, default_value_t = SockTypeArg::Any, value_name = "TYPE")]
    pub socktype: SockTypeArg,

    /// Protocol hint
    #[arg(long, value_enum, value_name = "PROTO")]
    pub protocol: Option<ProtocolArg>,

    /// Do not ask for the canonical name (AI_CANONNAME is set by default)
    #[arg(long)]
    pub no_canonname: bool,

    /// AI_PASSIVE: addresses for bind(); NAME may be omitted for the wildcard address
    #[arg(long)]
    pub passive: bool,

    /// AI_ADDRCONFIG: only families this host has a configured address for
    #[arg(long)]
    pub addrconfig: bool,

    /// AI_V4MAPPED: with -6, IPv4 addresses as ::ffff:a.b.c.d when no IPv6 address exists
    #[arg(long)]
    pub v4mapped: bool,

    /// AI_ALL: with --v4mapped, IPv6 and mapped IPv4 addresses together
    #[arg(long, requires = "v4mapped")]
    pub all: bool,

    /// AI_NUMERICHOST: NAME must be an IP address; never query a resolver
    #[arg(long)]
    pub numeric_host: bool,

    /// How many names to look up at once
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256), value_name = "N")]
    pub parallel: u16,
}

/// `sockdiag trace`.
#[derive(Debug, Args)]
#[command(
    long_about = "Find where on the path packets stop: ICMP echo probes with every TTL from --first-ttl to \
                  --max-hops go out at once, --queries waves a few milliseconds apart. It stops as soon as the \
                  target answered and every lower hop answered or had a fair wait (scaled from the RTTs of \
                  farther hops), or at one global deadline (--wait). Needs raw-socket privilege (sudo, or \
                  setcap cap_net_raw+ep), or falls back to unprivileged ping sockets where \
                  net.ipv4.ping_group_range allows them; privilege is dropped once the sockets are open. \
                  Exit 0 only when the target was reached."
)]
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
          value_parser = crate::units::duration_arg, value_name = "DURATION")]
    pub wait: std::time::Duration,

    /// Do not look up names of the hops' addresses
    #[arg(short = 'n', long = "numeric")]
    pub numeric: bool,
}
