//! `probe`'s validated request: the command line (clap's `ProbeArgs`) checked and turned into a `Config`
//! with no clap types in it; every problem found here is a usage error (exit 2), before any I/O.

use std::net::{IpAddr, SocketAddr, SocketAddrV6};
use std::time::Duration;

use super::payload;
use super::schedule::{TIMEOUT_CAP, TIMEOUT_FLOOR, TimeoutPolicy};
use crate::cli::{GlobalArgs, ProbeArgs};
use crate::error::{Error, Result};
use crate::host;
use crate::lookup::Family;
use crate::render::Format;
use crate::services;
use crate::target::{Host, PortItem, Proto, TargetSpec, parse_port_list, parse_source, parse_target};

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
    /// Each finished probe is written as an NDJSON line as it ends (`--format ndjson`).
    pub stream: bool,
    /// Count UDP open|filtered as open for the exit code.
    pub udp_open_filtered_ok: bool,
    /// Time to re-probe the silent ports of hosts that rate-limit ICMP.
    pub retry_budget: Duration,
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
        let (targets, ports) = targets_and_ports(&args.targets, args.ports.as_deref())?;
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
            stream: global.output_format() == Some(Format::Ndjson),
            udp_open_filtered_ok: args.udp_open_filtered_ok,
            retry_budget: args.retry_budget,
        })
    }
}

/// Splits the positional words into targets and a port list (`HOST... PORTS` as nc has it, or `-p`), and
/// checks that every target has ports.
fn targets_and_ports(
    words: &[String],
    dash_p: Option<&str>,
) -> Result<(Vec<TargetSpec>, Option<Vec<PortItem>>)> {
    let lookup = |name: &str, proto: Option<Proto>| services::port_by_name(name, proto);
    let mut positional = words;
    let mut ports = dash_p.map(|p| parse_port_list(p, &lookup)).transpose()?;
    if ports.is_none()
        && positional.len() >= 2
        && let Some(last) = positional.last()
    {
        // The last word is the port list, unless it is a target with its own port (`a:22 b:80`); when it is
        // neither, the port list's error says what is wrong.
        match parse_port_list(last, &lookup) {
            Ok(list) => {
                ports = Some(list);
                positional = &positional[..positional.len() - 1];
            }
            Err(e) if !parse_target(last, &lookup).is_ok_and(|t| t.ports.is_some()) => return Err(e),
            Err(_) => {}
        }
    }
    let targets: Vec<TargetSpec> = positional
        .iter()
        .map(|t| parse_target(t, &lookup))
        .collect::<Result<_>>()?;
    // A name that cannot be one (a CIDR block, a range, a stray '/') is refused before anything is looked up.
    for t in targets.iter().filter(|t| matches!(t.host, Host::Name(_))) {
        host::check_host(&t.host_text, host::PROBE)?;
    }
    if ports.is_none()
        && let Some(t) = targets.iter().find(|t| t.ports.is_none())
    {
        return Err(Error::usage(format!(
            "no ports for '{}': give them after the targets (sockdiag probe HOST 22,80), with -p, or as HOST:PORT",
            t.text
        )));
    }
    Ok((targets, ports))
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
