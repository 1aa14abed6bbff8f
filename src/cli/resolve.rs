//! `sockdiag resolve`: its flags and getaddrinfo's hints.

use clap::{Args, ValueEnum};

use super::FamilyArgs;

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
#[derive(Debug, Clone, Args)]
pub struct ResolveArgs {
    /// Host names or IP addresses (an address gets a reverse lookup); @SERVER[:PORT] or @[V6]:PORT among them
    /// chooses the DNS server, as in dig
    #[arg(value_name = "NAME", required_unless_present_any = ["passive", "file", "reverse"])]
    pub names: Vec<String>,

    /// Ask DNS directly for these record types: A, AAAA, CNAME, MX, TXT, NS, SOA, SRV, PTR, CAA, or `common`
    /// (A, AAAA, MX, NS, SOA, TXT, CAA)
    #[arg(
        long = "type",
        short = 't',
        value_name = "TYPE[,TYPE...]",
        value_delimiter = ','
    )]
    pub types: Vec<String>,

    /// Reverse lookup through DNS: a PTR query for this address (repeatable)
    #[arg(short = 'x', long = "reverse", value_name = "ADDR")]
    pub reverse: Vec<String>,

    /// The DNS server to ask: IP, IP:PORT, [V6]:PORT or a host name (default: the system's, from resolv.conf)
    #[arg(long, value_name = "SERVER")]
    pub server: Option<String>,

    /// Ask DNS over TCP only (by default UDP, and TCP when the UDP answer is truncated)
    #[arg(long)]
    pub tcp: bool,

    /// How long to wait for each DNS answer, with a unit (500ms, 2s)
    #[arg(long, short = 'w', value_name = "DURATION", value_parser = crate::units::parse_duration)]
    pub timeout: Option<std::time::Duration>,

    /// How many times to ask each server before giving up (a server that refused the connection is not asked again)
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=10), value_name = "N")]
    pub attempts: u8,

    /// Read names from FILE, one a line (`-` for stdin; blank lines and # comments are skipped)
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: Option<std::path::PathBuf>,

    /// Set each name's getaddrinfo addresses beside DNS's A/AAAA answers and explain the differences
    #[arg(long, conflicts_with_all = ["types", "reverse"])]
    pub compare: bool,

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
