//! `sockdiag resolve`: its flags and getaddrinfo's hints.

use std::ffi::OsStr;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Args, ValueEnum, ValueHint};

use super::FamilyArgs;

/// Exit codes of `sockdiag resolve`, shown in its `--help` and man page.
pub const RESOLVE_EXIT_CODES: &str = "\
Exit codes:
  0  every name or query was answered
  1  a negative result (a name that does not exist or has no record of the type, a failed query, a side of
     --compare with no address)
  2  bad usage or input (a name that cannot be a name, a line of -f that is not one or not UTF-8)
  3  a system or permission problem
  130  interrupted by Ctrl-C: what was done is printed, and what was not is named";

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
    /// No restriction (ai_protocol 0)
    Any,
}

/// The record types `-t` offers to complete (the check is the DNS mode's, which also takes lower case).
const RECORD_TYPES: [&str; 21] = [
    "A",
    "AAAA",
    "CNAME",
    "MX",
    "TXT",
    "NS",
    "SOA",
    "SRV",
    "PTR",
    "CAA",
    "HTTPS",
    "SVCB",
    "DS",
    "DNSKEY",
    "RRSIG",
    "NAPTR",
    "TLSA",
    "SSHFP",
    "ANY",
    "TYPE65280",
    "common",
];

/// Service names offered to complete `--service` (any name of the services database, or a number, is taken).
const SERVICES: [&str; 20] = [
    "domain",
    "ftp",
    "http",
    "https",
    "imap",
    "imaps",
    "kerberos",
    "ldap",
    "ldaps",
    "mysql",
    "ntp",
    "pop3",
    "pop3s",
    "postgresql",
    "rsync",
    "sip",
    "smtp",
    "snmp",
    "ssh",
    "submission",
];

/// Takes any text and names `values` for help and completions only: the command checks the value itself, so
/// its message can say what was wrong and what is accepted in its own words.
#[derive(Debug, Clone, Copy)]
pub struct Suggest(&'static [&'static str]);

impl TypedValueParser for Suggest {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.0.iter().map(|v| PossibleValue::new(*v))))
    }
}

/// `sockdiag resolve`.
#[derive(Debug, Clone, Args)]
pub struct ResolveArgs {
    /// Host names or IP addresses (an address gets a reverse lookup); @SERVER[:PORT] or @[V6]:PORT among them
    /// chooses the DNS server, as in dig, and @tls://ADDR[:PORT][#NAME] or @https://HOST[:PORT][/PATH][#NAME]
    /// an encrypted one (DoT, DoH; #NAME: the certificate's name). One host each: no port, CIDR block or range
    #[arg(
        value_name = "NAME",
        value_hint = ValueHint::Hostname,
        required_unless_present_any = ["ai_passive", "file", "reverse"]
    )]
    pub names: Vec<String>,

    /// Ask DNS directly for these record types: any type name (any case), TYPE1 to TYPE65535 (RFC 3597), ANY,
    /// or `common` (A, AAAA, MX, NS, SOA, TXT, CAA; exit 0 when any of them has data) [default: A when
    /// @SERVER or --server asks DNS]
    #[arg(
        long = "type",
        short = 't',
        value_name = "TYPE[,TYPE...]",
        value_delimiter = ',',
        value_parser = Suggest(&RECORD_TYPES)
    )]
    pub types: Vec<String>,

    /// Reverse lookup through DNS: a PTR query for this address (repeatable)
    #[arg(short = 'x', long = "reverse", value_name = "ADDR", value_hint = ValueHint::Other)]
    pub reverse: Vec<String>,

    /// The DNS server to ask: IP, IP:PORT, [V6]:PORT, a host name, tls://ADDR[:PORT][#NAME] (DNS over TLS) or
    /// https://HOST[:PORT][/PATH][#NAME] (DNS over HTTPS) [default: the nameservers of /etc/resolv.conf]
    #[arg(long, value_name = "SERVER", value_hint = ValueHint::Other)]
    pub server: Option<String>,

    /// Check the certificate of a tls:// or https:// server against the CAs of this PEM file instead of the
    /// system's (a private or test CA)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub ca: Option<std::path::PathBuf>,

    /// Ask DNS over TCP only [default: UDP, and TCP when the UDP answer is truncated]
    #[arg(long)]
    pub tcp: bool,

    /// How long to wait for each DNS answer: seconds, or a number with a unit (500ms, 1.5s) [default: 2]
    #[arg(
        long,
        short = 'w',
        value_name = "DURATION",
        value_hint = ValueHint::Other,
        value_parser = crate::units::parse_positive_duration
    )]
    pub timeout: Option<std::time::Duration>,

    /// How many times to ask each server before giving up (a server that refused the connection is not asked
    /// again) [default: 2]
    #[arg(
        long,
        value_name = "N",
        value_hint = ValueHint::Other,
        value_parser = clap::value_parser!(u8).range(1..=10)
    )]
    pub attempts: Option<u8>,

    /// Read names from FILE, one a line (`-` for stdin; blank lines and # comments are skipped)
    #[arg(long, short = 'f', value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub file: Option<std::path::PathBuf>,

    /// DNSSEC: ask DNS directly with the DO bit set, so servers send the signatures (RRSIG rows, with their
    /// fields), and show the AD bit of the answer (SERVER column: AD)
    #[arg(long)]
    pub dnssec: bool,

    /// DNSSEC: validate each answer locally from a trust anchor (hickory's validator) and say secure,
    /// insecure (an unsigned zone) or bogus with the reason (expired signature, missing DS, key mismatch);
    /// sets the DO bit as --dnssec does. A bogus answer exits 1
    #[arg(long)]
    pub validate: bool,

    /// The trust anchor for --validate: DNSKEY records in zone-file form (`zone. IN DNSKEY 257 3 13 ...`)
    /// [default: the root's key built in]
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, requires = "validate")]
    pub trust_anchor: Option<std::path::PathBuf>,

    /// Walk the delegations from the root like dig +trace, asking every name server of each zone, and mark
    /// lame servers, timeouts, NS sets that differ between parent and child, and glue that disagrees
    #[arg(long, conflicts_with_all = ["compare", "servers_compare", "short", "validate", "reverse"])]
    pub trace: bool,

    /// Where --trace starts: zone-file lines `. NS a.root.` and `a.root. A ADDR` (named.root form)
    /// [default: the IANA root servers]
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, requires = "trace")]
    pub root_hints: Option<std::path::PathBuf>,

    /// Print only the answer data, one a line, like dig +short (DNS: every record's data; system: each
    /// address once); exit codes as without it
    #[arg(long, conflicts_with = "compare")]
    pub short: bool,

    /// Ask every server (@A @B ..., or resolv.conf's) at once and set their answers side by side, one column
    /// each, with the differences named (other data, TTLs, NXDOMAIN at one only, no answer); without it
    /// several servers are tried in turn
    #[arg(long, conflicts_with_all = ["compare", "short"])]
    pub servers_compare: bool,

    /// Set each name's getaddrinfo addresses beside DNS's A/AAAA answers and explain the differences
    #[arg(long, conflicts_with_all = ["types", "reverse"])]
    pub compare: bool,

    /// Service: a port number or a name from the services database (http, ssh, ...) [default: none, port 0]
    #[arg(
        long,
        value_name = "SERVICE",
        value_parser = Suggest(&SERVICES),
        hide_possible_values = true
    )]
    pub service: Option<String>,

    /// Address family
    #[command(flatten)]
    pub family: FamilyArgs,

    /// Socket type hint (ai_socktype)
    #[arg(long, value_enum, default_value_t = SockTypeArg::Any, value_name = "TYPE")]
    pub socket_type: SockTypeArg,

    /// Protocol hint (ai_protocol)
    #[arg(long, value_enum, default_value_t = ProtocolArg::Any, value_name = "PROTO")]
    pub protocol: ProtocolArg,

    /// Do not set AI_CANONNAME (set by default: the canonical name is asked for)
    #[arg(long)]
    pub no_ai_canonname: bool,

    /// AI_PASSIVE: addresses for bind(); NAME may be omitted for the wildcard address
    #[arg(long)]
    pub ai_passive: bool,

    /// AI_ADDRCONFIG: only families this host has a configured address for
    #[arg(long)]
    pub ai_addrconfig: bool,

    /// AI_V4MAPPED: with -6, IPv4 addresses as ::ffff:a.b.c.d when no IPv6 address exists
    #[arg(long)]
    pub ai_v4mapped: bool,

    /// AI_ALL: with --ai-v4mapped, IPv6 and mapped IPv4 addresses together
    #[arg(long, requires = "ai_v4mapped")]
    pub ai_all: bool,

    /// AI_NUMERICHOST: NAME must be an IP address; never query a resolver
    #[arg(long)]
    pub ai_numerichost: bool,

    /// How many names to look up at once
    #[arg(
        long,
        default_value_t = 16,
        value_parser = clap::value_parser!(u16).range(1..=256),
        value_name = "N",
        value_hint = ValueHint::Other
    )]
    pub parallel: u16,
}
