//! `sockdiag probe`: its flags and exit codes.

use std::time::Duration;

use clap::Args;

use super::FamilyArgs;

/// Exit codes of `probe`, which counts UDP silence as not open.
pub const PROBE_EXIT_CODES: &str = "\
Exit codes:
  0  every probed port is open
  1  a port is not open (closed, filtered, unreachable, a local error; UDP open|filtered unless
     --udp-open-filtered-ok), or a target did not resolve; with --tls/--http, a TLS or HTTP failure
  2  bad usage or input (bad port, empty or reversed range, unknown service, unparsable target)
  3  a system problem (e.g. out of file descriptors or local ports for longer than probe waits: the
     report so far is printed with the reason)
  130  interrupted by Ctrl-C (the report so far and the ports not probed are printed); with -c 0,
     Ctrl-C is the normal end and the exit code follows the results";

/// The long description `sockdiag probe --help` and the man page show.
pub const LONG_ABOUT: &str = "Probe TCP and UDP ports without privilege and say what the network did: open (connected or a UDP \
                  reply), closed (TCP RST, UDP ICMP port unreachable), filtered (no answer; for UDP another ICMP \
                  unreachable), unreachable (an ICMP error stopped a TCP connect, named with its sender), \
                  open|filtered (UDP silence) or a local error. Every address a name resolves to is probed. \
                  Ports go after the targets or with -p: 22,80,8000-8100,http,u:53. \
                  With --tls (and --http, --starttls) each connection goes on: the phases lookup, connect, TLS \
                  handshake, request, first byte and transfer are timed, the certificate chain is shown and \
                  checked, and a TLS failure (expired, name mismatch, self-signed, missing intermediate, plain \
                  HTTP on the port, silence...) is named with a hint and exits 1.";

/// `sockdiag probe`.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Targets (host, host:port, [v6]:port, v6%scope, IP address, CIDR block 198.51.100.0/28, range
    /// 198.51.100.1-20), then PORTS (22 80 443, or 22,80) unless -p is given
    #[arg(value_name = "TARGET [PORTS]", required_unless_present = "file", num_args = 0..)]
    pub targets: Vec<String>,

    /// Read targets from FILE (- for stdin): words separated by spaces or lines, # starts a comment
    #[arg(short = 'f', long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub file: Option<String>,

    /// Leave these addresses out: addresses, CIDR blocks and ranges, comma-separated
    #[arg(long, value_name = "LIST", value_hint = clap::ValueHint::Other)]
    pub exclude: Option<String>,

    /// Leave out the addresses listed in FILE (as --exclude, one or more a line, # comments)
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub exclude_file: Option<String>,

    /// Print the addresses the targets expand to, one a line, and probe nothing
    #[arg(long)]
    pub list_targets: bool,

    /// Allow a block of more than 65,536 addresses (an IPv6 /112 or larger)
    #[arg(long)]
    pub allow_large: bool,

    /// Ports: 22,80,8000-8100,http (services database), - for all; t: or u: before a port picks TCP or UDP
    /// (default: the ports after the targets)
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

    /// Wait this long for one answer (2, 500ms, 1.5s); default: adaptive per host from measured round trips,
    /// between 200 ms and 2 s
    #[arg(short = 'w', long, value_name = "DURATION", value_parser = crate::units::parse_positive_duration)]
    pub timeout: Option<Duration>,

    /// Probe each port N times, like ping, and show loss and round-trip statistics; 0 repeats until Ctrl-C
    #[arg(short, long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub count: u32,

    /// Time between repeats of a probe with --count (a bare number is seconds; 0 sends each as soon as there
    /// is room for it)
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

    /// List every port in the table; by default more than 25 closed (or silent) ports of a host are counted
    #[arg(long)]
    pub all_ports: bool,

    /// Count UDP open|filtered (no reply) as open for the exit code
    #[arg(long)]
    pub udp_open_filtered_ok: bool,

    /// After connecting, wait this long for a server that speaks first (SSH, SMTP, FTP, POP3, IMAP, MySQL) and
    /// show its greeting; 0 does not wait (with --count, only the first repeat waits)
    #[arg(long, value_name = "DURATION", value_parser = crate::units::parse_duration, default_value = "250ms")]
    pub banner_wait: Duration,

    /// With --count, any lost repeat (no answer) makes the exit code 1, even if the port answered last
    #[arg(long)]
    pub fail_on_loss: bool,

    /// Time to re-probe, paced, the silent ports of a host that rate-limits its ICMP errors (0: never); what
    /// stays silent is then unknown, not filtered
    #[arg(long, value_name = "DURATION", value_parser = crate::units::parse_duration, default_value = "5s")]
    pub retry_budget: Duration,

    /// After connecting, make a TLS handshake: phases timed, protocol, cipher, ALPN, the certificate chain
    /// and its verification; a TLS failure is named and exits 1
    #[arg(long, help_heading = "TLS and HTTP")]
    pub tls: bool,

    /// The name to send as SNI and check the certificate against (default: the target's name)
    #[arg(long, value_name = "NAME", value_hint = clap::ValueHint::Other, help_heading = "TLS and HTTP")]
    pub sni: Option<String>,

    /// ALPN protocols to offer, comma-separated (h2,http/1.1); default none, http/1.1 with --http
    #[arg(long, value_name = "LIST", value_hint = clap::ValueHint::Other, help_heading = "TLS and HTTP")]
    pub alpn: Option<String>,

    /// Trust only the certificates of this PEM file (a private CA) instead of the system's roots
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath, help_heading = "TLS and HTTP")]
    pub ca: Option<String>,

    /// Finish the handshake (and time it) whatever the certificate; its problem is still reported
    #[arg(long, help_heading = "TLS and HTTP")]
    pub insecure: bool,

    /// Warn when a certificate of the chain expires within this many days
    #[arg(
        long,
        value_name = "DAYS",
        default_value_t = 21,
        value_hint = clap::ValueHint::Other,
        help_heading = "TLS and HTTP"
    )]
    pub warn_days: u32,

    /// Upgrade to TLS after the protocol's own plain-text greeting (implies --tls)
    #[arg(long, value_name = "PROTO", value_enum, help_heading = "TLS and HTTP")]
    pub starttls: Option<crate::probe::tls::starttls::Starttls>,

    /// Make an HTTP/1.1 request (over TLS with --tls, else plain TCP): status, Server, Location, time to
    /// first byte
    #[arg(long, help_heading = "TLS and HTTP")]
    pub http: bool,

    /// The path --http asks for
    #[arg(long, value_name = "PATH", value_hint = clap::ValueHint::Other, help_heading = "TLS and HTTP")]
    pub http_path: Option<String>,

    /// The method --http uses
    #[arg(
        long,
        value_name = "METHOD",
        value_enum,
        ignore_case = true,
        help_heading = "TLS and HTTP"
    )]
    pub http_method: Option<crate::probe::http::HttpMethod>,
}
