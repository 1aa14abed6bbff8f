//! Command-line definitions (clap derive only): global flags and one Args struct per subcommand.

use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::render::{ColorChoice, Format};

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
    /// Output form: table (a terminal's default), plain (a pipe's default), json, ndjson or csv
    #[arg(long, global = true, value_enum, value_name = "FORM")]
    pub format: Option<Format>,

    /// Print results as one JSON document (errors too), for scripts: short for --format json
    #[arg(long, global = true, conflicts_with = "format")]
    pub json: bool,

    /// When to colour tables; NO_COLOR in the environment means never, unless `always`
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Show more detail in error messages (repeat for more)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
}

impl GlobalArgs {
    /// The output form asked for: `--format`, or `--json`, or none (decided by the terminal).
    pub fn output_format(&self) -> Option<Format> {
        if self.json {
            Some(Format::Json)
        } else {
            self.format
        }
    }

    /// Whether results are machine-readable JSON (errors then go to stdout as JSON too).
    pub fn wants_json(&self) -> bool {
        matches!(self.output_format(), Some(Format::Json | Format::Ndjson))
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Look names up as a program on this host would (getaddrinfo), or ask DNS directly (-t, @SERVER)
    #[command(
        after_long_help = EXIT_CODES,
        long_about = "Look names up through the system resolver (getaddrinfo) as a program on this host would, \
                      showing every addrinfo result: family, socket type, protocol, address, port and canonical \
                      name. An IP address as NAME is looked up in reverse with getnameinfo.\n\n\
                      With -t, -x, @SERVER or --server, DNS is asked directly instead, like dig: one row per record \
                      (name, type, TTL, data), the server that answered, the transport and the query time. Names \
                      are asked exactly as given (no search list, as dig without +search). The server is the \
                      system's (the nameservers in /etc/resolv.conf, in order) unless one is chosen. A truncated \
                      UDP answer is asked again over TCP. NXDOMAIN, NODATA, REFUSED/SERVFAIL, timeouts and \
                      unreachable servers are told apart.\n\n\
                      With --compare, each name's getaddrinfo addresses are set beside DNS's A/AAAA answers, and \
                      each difference is explained where it can be: an /etc/hosts line, a search-list expansion \
                      (with the ndots rule that applied), a family removed by AI_ADDRCONFIG, a CNAME the system \
                      followed."
    )]
    Resolve(ResolveArgs),
    /// Find where on the path packets stop: an ICMP traceroute probing every hop at once
    #[command(after_long_help = EXIT_CODES)]
    Trace(TraceArgs),
    /// Probe TCP and UDP ports: open, closed, filtered or unreachable, and why
    #[command(after_long_help = PROBE_EXIT_CODES)]
    Probe(ProbeArgs),
    /// Listen on TCP and UDP for clients: echo, discard, reply, chargen or sink, and record who came and what they sent
    #[command(after_long_help = LISTEN_NOTES)]
    Listen(ListenArgs),
}

/// Exit codes of `probe`, which counts UDP silence as not open.
pub const PROBE_EXIT_CODES: &str = "\
Exit codes:
  0  every probed port is open
  1  a port is not open (closed, filtered, unreachable, a local error; UDP open|filtered unless
     --udp-open-filtered-ok), or a target did not resolve
  2  bad usage or input (bad port, empty or reversed range, unknown service, unparsable target)
  3  a system problem (e.g. out of file descriptors or sockets)";

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
          value_parser = crate::units::parse_duration, value_name = "DURATION")]
    pub wait: Duration,

    /// Do not look up names of the hops' addresses
    #[arg(short = 'n', long = "numeric")]
    pub numeric: bool,
}

/// `sockdiag probe`.
#[derive(Debug, Args)]
#[command(
    long_about = "Probe TCP and UDP ports without privilege and say what the network did: open (connected or a UDP \
                  reply), closed (TCP RST, UDP ICMP port unreachable), filtered (no answer; for UDP another ICMP \
                  unreachable), unreachable (an ICMP error stopped a TCP connect, named with its sender), \
                  open|filtered (UDP silence) or a local error. Every address a name resolves to is probed. \
                  Ports go after the targets or with -p: 22,80,8000-8100,http,u:53.",
    after_help = "Examples:\n  sockdiag probe db.example 5432\n  sockdiag probe example.org -p 22,80,443,u:53\n  \
                  sockdiag probe [2001:db8::1]:443 -c 10 -i 200ms\n  sockdiag probe 127.0.0.1 - --all"
)]
pub struct ProbeArgs {
    /// Targets (host, host:port, [v6]:port, v6%scope, IP address), then PORTS unless -p is given
    #[arg(value_name = "TARGET [PORTS]", required = true, num_args = 1..)]
    pub targets: Vec<String>,

    /// Ports: 22,80,8000-8100,http (services database), - for all; t: or u: before a port picks TCP or UDP
    #[arg(short, long, value_name = "PORTS", allow_hyphen_values = true)]
    pub ports: Option<String>,

    /// Probe TCP ports (the default; with --udp, both)
    #[arg(long)]
    pub tcp: bool,

    /// Probe UDP ports (DNS on 53 and NTP on 123 get a real request)
    #[arg(long)]
    pub udp: bool,

    /// Address family
    #[command(flatten)]
    pub family: FamilyArgs,

    /// Bind the local side to this address (and port): ADDR, ADDR:PORT or [V6]:PORT
    #[arg(short, long, value_name = "ADDR[:PORT]")]
    pub source: Option<String>,

    /// Wait this long for an answer (500ms, 2s); default: adaptive per host from measured round trips
    #[arg(short = 'w', long, value_name = "DURATION", value_parser = crate::units::parse_duration)]
    pub timeout: Option<Duration>,

    /// Probe each port N times, like ping, and show loss and round-trip statistics
    #[arg(short, long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub count: u32,

    /// Time between repeats of a probe with --count
    #[arg(short, long, value_name = "DURATION", value_parser = crate::units::parse_duration, default_value = "1s")]
    pub interval: Duration,

    /// Probes in flight at most (default: as many as the open-file limit allows, up to 4096)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub parallel: Option<u32>,

    /// Send DATA after connecting (escapes \r \n \t \0 \\ \xHH) and show the first bytes received
    #[arg(long, value_name = "DATA", conflicts_with = "send_hex")]
    pub send: Option<String>,

    /// Like --send with the data in hex (0d0a)
    #[arg(long, value_name = "HEX")]
    pub send_hex: Option<String>,

    /// List every port; by default more than 25 closed (or silent) ports of a host are counted, not listed
    #[arg(long)]
    pub all: bool,

    /// Count UDP open|filtered (no reply) as open for the exit code
    #[arg(long)]
    pub udp_open_filtered_ok: bool,
}

/// What `sockdiag listen` does with what clients send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListenMode {
    /// Send back everything received (TCP: after a half-close, the rest is still echoed before closing)
    Echo,
    /// Read and drop everything, send nothing (RFC 863)
    Discard,
    /// Send a fixed text (--reply or --reply-file): over TCP on connect, then close the sending side; over UDP
    /// to each datagram, cut to its size
    Reply,
    /// Send the RFC 864 character pattern: TCP without end, UDP one answer per datagram
    Chargen,
    /// Read and drop everything, counting bytes and reporting each client's throughput
    Sink,
}

/// Notes after `sockdiag listen --help`: how UDP answers are bounded, then the exit codes.
pub const LISTEN_NOTES: &str = "\
UDP answers never carry more bytes than the datagram they answer: echo returns it as it came, reply and chargen \
are cut to its size (an empty datagram gets no reply or chargen answer), and each peer gets at most --udp-rate \
answers per second; the rest are dropped and counted. So the listener cannot amplify a spoofed flood.

Ends on Ctrl-C or SIGTERM, after --once, --count or --duration, then prints one summary row per client \
session and the totals (with --json: NDJSON events, the summary object last).

Exit codes:
  0  the listener ran and printed its summary
  2  bad usage or input
  3  a system or permission problem (port in use, privileged port, no such address)";

/// `sockdiag listen`.
#[derive(Debug, Args)]
#[command(
    long_about = "A throwaway listener for the other end of a quick test: TCP and UDP at once, IPv4 and IPv6, \
                  thousands of clients on one event loop, a log line per event and a summary of every client \
                  session at the end. Prints the bound sockets first (with port 0, the port chosen)."
)]
pub struct ListenArgs {
    /// Port to listen on (0: let the system choose one, shown on start)
    #[arg(value_name = "PORT")]
    pub port: u16,

    /// Local address to listen on (repeatable); default every address of both families
    #[arg(short = 'b', long = "bind", value_name = "ADDR")]
    pub bind: Vec<String>,

    /// TCP only
    #[arg(long, conflicts_with = "udp")]
    pub tcp: bool,

    /// UDP only
    #[arg(long)]
    pub udp: bool,

    /// Address family
    #[command(flatten)]
    pub family: FamilyArgs,

    /// What to do with what clients send
    #[arg(short, long, value_enum, default_value_t = ListenMode::Echo, value_name = "MODE")]
    pub mode: ListenMode,

    /// Text to send in reply mode (implies --mode reply)
    #[arg(long, value_name = "TEXT", conflicts_with = "reply_file")]
    pub reply: Option<String>,

    /// File whose content is sent in reply mode (implies --mode reply)
    #[arg(long, value_name = "FILE")]
    pub reply_file: Option<std::path::PathBuf>,

    /// No log line per event (the bound sockets and the summary are still printed)
    #[arg(short, long)]
    pub quiet: bool,

    /// Stop after the first TCP client is done
    #[arg(long, conflicts_with = "count")]
    pub once: bool,

    /// Stop after N TCP clients are done
    #[arg(short = 'c', long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,

    /// Stop after this long (500ms, 10s, 5m)
    #[arg(long, value_name = "DURATION", value_parser = crate::units::parse_duration)]
    pub duration: Option<std::time::Duration>,

    /// Most TCP clients served at once; further connections are refused with a reset [default: 16384, or fewer
    /// if the open-files limit is lower]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_conns: Option<u32>,

    /// Close a TCP connection, or forget a UDP peer, after this long without progress (0s: never)
    #[arg(long, default_value = "5m", value_name = "DURATION", value_parser = crate::units::parse_duration)]
    pub idle_timeout: std::time::Duration,

    /// Most bytes held for one TCP connection: echo stops reading while this much waits for a peer that does not read
    #[arg(long, default_value = "128KiB", value_name = "SIZE", value_parser = crate::units::parse_size)]
    pub max_buffer: u64,

    /// Most UDP peers tracked at once; the one idle the longest is forgotten first
    #[arg(long, default_value_t = 4096, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_udp_peers: u32,

    /// Most UDP answers per second to one peer (bursts up to the same number)
    #[arg(long, default_value_t = 1000, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub udp_rate: u32,
}
