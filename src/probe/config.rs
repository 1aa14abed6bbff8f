//! `probe`'s validated request: the command line (clap's `ProbeArgs`) checked and turned into a `Config`
//! with no clap types in it; every problem found here is a usage error (exit 2), before any I/O.

use std::net::{IpAddr, SocketAddr, SocketAddrV6};
use std::time::Duration;

use super::payload;
use super::schedule::{TIMEOUT_CAP, TIMEOUT_FLOOR, TimeoutPolicy};
use super::targets::{self, Exclusions};
use crate::cli::{GlobalArgs, ProbeArgs};
use crate::error::{Error, Result};
use crate::host;
use crate::lookup::Family;
use crate::render::Format;
use crate::services;
use crate::target::{
    Host, PortItem, Proto, ServiceLookup, TargetSpec, parse_port_list, parse_source, parse_target,
};

/// How finished probes are written while the run goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Only the report at the end.
    Off,
    /// One NDJSON line per probe.
    Ndjson,
    /// One plain line per probe, with a timestamp (like ping -D).
    Plain,
}

/// The validated request.
#[derive(Debug)]
pub struct Config {
    /// Targets in the order given.
    pub targets: Vec<TargetSpec>,
    /// The port list for targets that carry none of their own.
    pub ports: Option<Vec<PortItem>>,
    /// Protocols of ports given without `t:`/`u:`.
    pub protocols: Vec<Proto>,
    /// The address family to probe (from -4/-6 or the source address).
    pub family: Family,
    /// `--source`: the local address (and port) to bind.
    pub source: Option<SocketAddr>,
    /// `--send`/`--send-hex` data.
    pub send: Option<Vec<u8>>,
    /// How long a probe waits for an answer.
    pub timeout: TimeoutPolicy,
    /// Probes per port.
    pub count: u32,
    /// Time between repeats.
    pub interval: Duration,
    /// `--parallel`: probes in flight at most, if asked.
    pub parallel: Option<usize>,
    /// List every port instead of counting large groups of closed ones.
    pub list_all: bool,
    /// No progress bar.
    pub quiet: bool,
    /// Each finished probe is written as a line as it ends: NDJSON (`--format ndjson`), or a plain line with a
    /// timestamp (`--format plain` with `--count`).
    pub stream: Stream,
    /// `--fail-on-loss`: any lost repeat makes the exit code 1.
    pub fail_on_loss: bool,
    /// Count UDP open|filtered as open for the exit code.
    pub udp_open_filtered_ok: bool,
    /// Time to re-probe the silent ports of hosts that rate-limit ICMP.
    pub retry_budget: Duration,
    /// Addresses left out (`--exclude`, `--exclude-file`).
    pub exclude: Exclusions,
    /// `--list-targets`: print the expansion, probe nothing.
    pub list_targets: bool,
    /// `--banner-wait`: how long to wait for a server that speaks first.
    pub banner_wait: Duration,
    /// `--tls`/`--http`/`--starttls`: what to do after connecting.
    pub session: Option<std::sync::Arc<super::tls::SessionOptions>>,
}

impl Config {
    /// Validates the command line into a request; a usage error ends by pointing to the help.
    pub fn from_args(args: &ProbeArgs, global: &GlobalArgs) -> Result<Config> {
        Self::validate(args, global).map_err(|e| match e {
            Error::Usage(msg) => Error::Usage(format!("{msg} (see 'sockdiag probe --help')")),
            other => other,
        })
    }

    fn validate(args: &ProbeArgs, global: &GlobalArgs) -> Result<Config> {
        let mut words = args.targets.clone();
        if let Some(path) = &args.file {
            // The file's targets come first; words on the command line add targets, then the ports.
            let mut from_file = targets::file_words(&read_text(path, "-f")?);
            from_file.append(&mut words);
            words = from_file;
        }
        let (targets, ports) = targets_and_ports(&words, args.ports.as_deref(), args)?;
        let source = args.source.as_deref().map(source_address).transpose()?;
        let family = family_for(args.family.family(), source)?;
        check_literal_families(&targets, family)?;
        Ok(Config {
            targets,
            ports,
            protocols: match (args.tcp, args.udp) {
                (_, false) => vec![Proto::Tcp],
                (false, true) => vec![Proto::Udp],
                (true, true) => vec![Proto::Tcp, Proto::Udp],
            },
            family,
            source,
            send: send_data(args.send.as_deref(), args.send_hex.as_deref())?,
            // Zero is refused by the flag's value parser.
            timeout: match args.timeout {
                Some(d) => TimeoutPolicy::Fixed(d),
                None => TimeoutPolicy::Adaptive {
                    floor: TIMEOUT_FLOOR,
                    cap: TIMEOUT_CAP,
                },
            },
            count: args.count,
            interval: args.interval,
            parallel: args.parallel.map(|n| n as usize),
            list_all: args.all_ports,
            quiet: global.quiet,
            stream: match global.output_format() {
                Some(Format::Ndjson) => Stream::Ndjson,
                Some(Format::Plain) if args.count != 1 => Stream::Plain,
                _ => Stream::Off,
            },
            fail_on_loss: args.fail_on_loss,
            udp_open_filtered_ok: args.udp_open_filtered_ok,
            retry_budget: args.retry_budget,
            exclude: exclusions(args)?,
            list_targets: args.list_targets,
            banner_wait: args.banner_wait,
            session: super::tls::SessionOptions::from_args(args)?.map(std::sync::Arc::new),
        })
    }
}

/// Splits the positional words into targets and a port list (`HOST... PORTS` as nc has it, or `-p`), and
/// checks that every target has ports.
fn targets_and_ports(
    words: &[String],
    dash_p: Option<&str>,
    args: &ProbeArgs,
) -> Result<(Vec<TargetSpec>, Option<Vec<PortItem>>)> {
    let lookup = |name: &str, proto: Option<Proto>| services::port_by_name(name, proto);
    let (positional, ports) = match dash_p {
        Some(p) => (words, Some(parse_port_list(p, &lookup)?)),
        None => trailing_ports(words, &lookup)?,
    };
    let targets: Vec<TargetSpec> = positional
        .iter()
        .map(|t| parse_one(t, &lookup, args.allow_large))
        .collect::<Result<_>>()?;
    if targets.is_empty() {
        return Err(Error::usage(
            "no targets: give them as words, or in a file with -f FILE",
        ));
    }
    // A name that cannot be one (a bad CIDR block, a range, a stray '/') is refused before anything is looked up.
    for t in targets.iter().filter(|t| matches!(t.host, Host::Name(_))) {
        host::check_host(&t.host_text, host::PROBE)?;
    }
    // Listing the targets needs no ports.
    if ports.is_none()
        && !args.list_targets
        && let Some(t) = targets.iter().find(|t| t.ports.is_none())
    {
        return Err(Error::usage(format!(
            "no ports for '{}': give them after the targets (sockdiag probe HOST 22 80), with -p, or as HOST:PORT",
            t.text.escape_debug()
        )));
    }
    Ok((targets, ports))
}

/// The port words at the end of the command line: the last word (unless it is a target with its own port,
/// `a:22 b:80`), and before it every word made only of port numbers and ranges (`probe host 22 80 443`).
fn trailing_ports<'a>(
    words: &'a [String],
    lookup: ServiceLookup,
) -> Result<(&'a [String], Option<Vec<PortItem>>)> {
    let Some((last, _)) = words.split_last().filter(|_| words.len() >= 2) else {
        return Ok((words, None));
    };
    // A block or range (even a bad one, whose own error is clearer) is a target, not ports.
    if !matches!(targets::parse_block(last, true), Ok(None)) {
        return Ok((words, None));
    }
    let mut items = match parse_port_list(last, lookup) {
        Ok(list) => list,
        // When the last word is neither, the port list's error says what is wrong.
        Err(e) if !parse_target(last, lookup).is_ok_and(|t| t.ports.is_some()) => return Err(e),
        Err(_) => return Ok((words, None)),
    };
    let mut end = words.len() - 1;
    while end > 1 && numeric_ports(&words[end - 1]) {
        let mut list = parse_port_list(&words[end - 1], lookup)?;
        list.append(&mut items);
        items = list;
        end -= 1;
    }
    Ok((&words[..end], Some(items)))
}

/// Whether a word is only port numbers and ranges (with t:/u: prefixes): never a host.
fn numeric_ports(word: &str) -> bool {
    word.split(',').all(|item| {
        let bare = item.split_once(':').map_or(item, |(_, p)| p);
        !bare.is_empty() && bare.bytes().all(|b| b.is_ascii_digit() || b == b'-')
    })
}

/// One target word: a CIDR block or an address range, else a host with its optional port.
fn parse_one(text: &str, lookup: ServiceLookup, allow_large: bool) -> Result<TargetSpec> {
    match targets::parse_block(text, allow_large)? {
        Some(addresses) => Ok(TargetSpec {
            text: text.to_string(),
            host_text: text.to_string(),
            host: Host::Block(addresses),
            ports: None,
        }),
        None => parse_target(text, lookup),
    }
}

/// The text of a file named on the command line (`-` is stdin).
fn read_text(path: &str, flag: &str) -> Result<String> {
    let bytes = if path == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut buf).map(|_| buf)
    } else {
        std::fs::read(path)
    };
    let bytes = bytes.map_err(|e| Error::io(format!("reading {flag} '{}'", path.escape_debug()), e))?;
    String::from_utf8(bytes).map_err(|e| {
        Error::usage(format!(
            "{flag} '{}' is not UTF-8 text (a bad byte at offset {})",
            path.escape_debug(),
            e.utf8_error().valid_up_to()
        ))
    })
}

/// `--exclude` and `--exclude-file` together.
fn exclusions(args: &ProbeArgs) -> Result<Exclusions> {
    let mut x = Exclusions::default();
    if let Some(list) = &args.exclude {
        x.add(list)?;
    }
    if let Some(path) = &args.exclude_file {
        x.add(&targets::file_words(&read_text(path, "--exclude-file")?).join(" "))?;
    }
    Ok(x)
}

/// `--source ADDR[:PORT]` as a socket address (the scope of a link-local IPv6 address kept).
fn source_address(text: &str) -> Result<SocketAddr> {
    let (lit, port) = parse_source(text)?;
    Ok(match lit.addr {
        IpAddr::V4(_) => SocketAddr::new(lit.addr, port),
        IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, port, 0, lit.scope_id)),
    })
}

/// The family to probe: -4/-6, else the source address's; the two must agree.
fn family_for(asked: Family, source: Option<SocketAddr>) -> Result<Family> {
    let Some(src) = source else { return Ok(asked) };
    let of_source = Family::of(&src.ip());
    if asked != Family::Any && asked != of_source {
        return Err(Error::usage(
            "the --source address is of the other family than -4/-6 asks for",
        ));
    }
    Ok(of_source)
}

/// Address literals must be of the family probed, and a link-local IPv6 one needs its interface.
fn check_literal_families(targets: &[TargetSpec], family: Family) -> Result<()> {
    for t in targets {
        if let Host::Block(addrs) = &t.host
            && let Some(first) = addrs.first()
            && family != Family::Any
            && Family::of(first) != family
        {
            return Err(Error::usage(format!(
                "target '{}' is a block of {} addresses, but -4/-6 or --source restrict probing to the other family",
                t.text,
                if first.is_ipv4() { "IPv4" } else { "IPv6" },
            )));
        }
        if let Host::Literal(lit) = t.host
            && let IpAddr::V6(v6) = lit.addr
            && v6.is_unicast_link_local()
            && lit.scope_id == 0
        {
            return Err(Error::usage(format!(
                "target '{}' is a link-local address: it needs %interface to say which link (e.g. {v6}%eth0)",
                t.text
            )));
        }
        if let Host::Literal(lit) = t.host
            && family != Family::Any
            && Family::of(&lit.addr) != family
        {
            return Err(Error::usage(format!(
                "target '{}' is an {} address, but -4/-6 or --source restrict probing to {}",
                t.text,
                if lit.addr.is_ipv4() { "IPv4" } else { "IPv6" },
                if family == Family::Inet { "IPv4" } else { "IPv6" },
            )));
        }
    }
    Ok(())
}

/// The bytes `--send` (escaped text) or `--send-hex` ask to send.
fn send_data(text: Option<&str>, hex: Option<&str>) -> Result<Option<Vec<u8>>> {
    match (text, hex) {
        (Some(text), _) => payload::unescape(text)
            .map(Some)
            .map_err(|e| Error::usage(format!("bad --send data: {e}"))),
        (_, Some(hex)) => payload::parse_hex(hex)
            .map(Some)
            .map_err(|e| {
                let quoted = crate::text::excerpt(hex, 100);
                Error::usage(format!(
                    "bad --send-hex data '{quoted}': {e}; accepted: hex digit pairs, spaces and colons allowed (0d0a, 47:45:54)"
                ))
            }),
        _ => Ok(None),
    }
}
