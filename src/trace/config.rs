//! `sockdiag trace`'s settings, validated: from clap's `TraceArgs` to a `Config` the rest of the command
//! uses (no clap types past this file). Every usage error is found here, before any socket is opened.

use std::net::IpAddr;
use std::time::Duration;

use super::engine::Protocol;
use crate::cli::TraceArgs;
use crate::error::{Error, Result};
use crate::host::{TRACE, check_host};
use crate::lookup::Family;
use crate::target::{IpLiteral, parse_ip_literal};

/// A validated trace request.
#[derive(Debug, Clone)]
pub struct Config {
    /// The host as given.
    pub host: String,
    /// The target when it was given as an address (with its IPv6 scope).
    pub literal: Option<IpLiteral>,
    /// The families to open sockets for: the literal's, the one -4/-6 asks for, or both (`Any`).
    pub family: Family,
    /// TTL of the first hop probed.
    pub first_ttl: u8,
    /// Highest TTL probed.
    pub max_hops: u8,
    /// Probes per hop.
    pub queries: u8,
    /// At most this many probes awaiting an answer at once (None: unlimited).
    pub max_in_flight: Option<usize>,
    /// Longest wait for one probe's reply (-w): the cap of the fair wait.
    pub reply_timeout: Duration,
    /// The whole trace ends after this long (--deadline), counted from the first probe.
    pub deadline: Duration,
    /// Time between the waves: between two probes to one hop (-i without -c).
    pub interval: Duration,
    /// Time between the starts of two cycles (-i with -c).
    pub cycle_interval: Duration,
    /// At most this many probes per second (--max-rate).
    pub max_rate: Option<u32>,
    /// Cycles to run (-c; 0: until Ctrl-C or the run's deadline).
    pub count: u32,
    /// With -c other than 1: the whole run ends after this long (--deadline); each cycle keeps the
    /// default deadline of one trace.
    pub run_deadline: Option<Duration>,
    /// No reverse lookups of the hops' addresses.
    pub numeric: bool,
    /// What the probes are.
    pub protocol: Protocol,
    /// Destination port of UDP and TCP probes (None for ICMP).
    pub port: Option<u16>,
    /// The flow chosen with --flow: ICMP checksum or UDP/TCP source port.
    pub flow: Option<u16>,
    /// Find the path MTU with large probes (--mtu).
    pub mtu: bool,
}

/// --mtu's limits: TCP SYNs carry no payload to size, and the MTU is a one-shot measurement.
fn check_mtu(args: &TraceArgs, protocol: Protocol) -> Result<()> {
    if !args.mtu {
        return Ok(());
    }
    if protocol == Protocol::Tcp {
        return Err(Error::usage(
            "--mtu needs --icmp or --udp: TCP SYN probes carry no payload to make them large \
             (see 'sockdiag trace --help')",
        ));
    }
    if args.count != 1 {
        return Err(Error::usage(format!(
            "--mtu measures once: drop -c {} or --mtu (see 'sockdiag trace --help')",
            args.count
        )));
    }
    Ok(())
}

/// The deadline without --deadline: 1.5 s after the last wave went out (by -i and --max-rate), so
/// pacing never cuts the schedule short.
fn default_deadline(args: &TraceArgs) -> Duration {
    let waves = wave_gap(args) * u32::from(args.queries.saturating_sub(1));
    let hops = u32::from(args.max_hops.saturating_sub(args.first_ttl)) + 1;
    let probes = hops * u32::from(args.queries);
    let paced = args.max_rate.map_or(Duration::ZERO, |r| {
        Duration::from_secs_f64(f64::from(probes) / f64::from(r))
    });
    BASE_DEADLINE + waves.max(paced)
}

/// The spacing of the waves within one trace: -i, unless -c repeats the trace, where -i spaces the
/// cycles (as in mtr) and the waves keep the default gap.
fn wave_gap(args: &TraceArgs) -> Duration {
    if args.count == 1 { args.interval } else { WAVE_GAP }
}

/// The default gap between waves: enough to spread a hop's probes over distinct moments for routers'
/// ICMP rate limiters, short enough not to show in the total.
const WAVE_GAP: Duration = Duration::from_millis(5);

/// The deadline of an unpaced trace.
const BASE_DEADLINE: Duration = Duration::from_millis(1500);

/// Default destination port of UDP probes (traceroute's).
pub const UDP_PORT: u16 = 33434;
/// Default destination port of TCP probes.
pub const TCP_PORT: u16 = 80;

/// The protocol, port and flow the flags ask for, checked against each other.
fn protocol(args: &TraceArgs) -> Result<(Protocol, Option<u16>, Option<u16>)> {
    let protocol = if args.udp {
        Protocol::Udp
    } else if args.tcp {
        Protocol::Tcp
    } else {
        Protocol::Icmp
    };
    let port = match protocol {
        Protocol::Icmp if args.port.is_some() => {
            return Err(Error::usage(
                "-p/--port needs --udp or --tcp: ICMP echo probes have no port (see 'sockdiag trace --help')",
            ));
        }
        Protocol::Icmp => None,
        Protocol::Udp => Some(args.port.unwrap_or(UDP_PORT)),
        Protocol::Tcp => Some(args.port.unwrap_or(TCP_PORT)),
    };
    if protocol != Protocol::Icmp
        && let Some(flow) = args.flow.filter(|f| *f < 1024)
    {
        let flag = if protocol == Protocol::Udp {
            "--udp"
        } else {
            "--tcp"
        };
        return Err(Error::usage(format!(
            "--flow {flow}: with {flag} the flow is the source port, accepted is 1024 to 65535 \
             (see 'sockdiag trace --help')"
        )));
    }
    Ok((protocol, port, args.flow))
}

impl Config {
    /// Validates the command line for one of its hosts: TTL range, target syntax, family against a literal.
    pub fn from_args(args: &TraceArgs, host: &str) -> Result<Config> {
        if args.first_ttl > args.max_hops {
            return Err(Error::usage(format!(
                "--first-ttl {} is above --max-hops {}: accepted is a first TTL at most the max hops",
                args.first_ttl, args.max_hops
            )));
        }
        // One host, checked before anything is looked up (a CIDR block or range says so).
        check_host(host, TRACE).map_err(|e| match e {
            Error::Usage(msg) => Error::Usage(format!("{msg} (see 'sockdiag trace --help')")),
            other => other,
        })?;
        let (protocol, port, flow) = protocol(args)?;
        check_mtu(args, protocol)?;
        let literal = parse_ip_literal(host)?;
        if let Some(l) = literal {
            check_not_unspecified(host, l.addr)?;
        }
        Ok(Config {
            host: host.to_string(),
            literal,
            family: family(args.family.family(), literal.map(|l| l.addr))?,
            first_ttl: args.first_ttl,
            max_hops: args.max_hops,
            queries: args.queries,
            max_in_flight: args.max_inflight.map(|n| n as usize),
            reply_timeout: args.timeout,
            deadline: match args.deadline {
                Some(d) if args.count == 1 => d,
                _ => default_deadline(args),
            },
            count: args.count,
            run_deadline: args.deadline.filter(|_| args.count != 1),
            interval: wave_gap(args),
            cycle_interval: args.interval,
            max_rate: args.max_rate,
            numeric: args.numeric,
            protocol,
            port,
            flow,
            mtu: args.mtu,
        })
    }
}

/// `0.0.0.0` and `::` name no host: packets sent there go to this machine, and a trace of them would
/// report the loopback under another name. A usage error that says what to give instead.
pub fn check_not_unspecified(host: &str, addr: IpAddr) -> Result<()> {
    if !addr.is_unspecified() {
        return Ok(());
    }
    let local = if addr.is_ipv6() { "::1" } else { "127.0.0.1" };
    let what = if host == addr.to_string() {
        format!("{addr} is the unspecified address")
    } else {
        format!("'{host}' is the unspecified address {addr}")
    };
    Err(Error::usage(format!(
        "{what}, not a host to trace: give a host's address, or {local} for this machine \
         (see 'sockdiag trace --help')"
    )))
}

/// The family to trace in: a literal's own, checked against -4/-6; else what -4/-6 ask for.
fn family(asked: Family, literal: Option<IpAddr>) -> Result<Family> {
    let Some(addr) = literal else {
        return Ok(asked);
    };
    let own = if addr.is_ipv6() {
        Family::Inet6
    } else {
        Family::Inet
    };
    if asked != Family::Any && asked != own {
        let (name, flag) = if asked == Family::Inet {
            ("IPv4", '4')
        } else {
            ("IPv6", '6')
        };
        return Err(Error::usage(format!(
            "{addr} is not an {name} address: drop -{flag} or give an address of that family"
        )));
    }
    Ok(own)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `trace` arguments from a command line, through clap.
    fn args(line: &[&str]) -> TraceArgs {
        use clap::Parser;
        let mut argv = vec!["sockdiag", "trace"];
        argv.extend_from_slice(line);
        match crate::cli::Cli::try_parse_from(argv).unwrap().command {
            crate::cli::Command::Trace(a) => a,
            _ => unreachable!("a trace command line"),
        }
    }

    #[test]
    fn protocol_port_and_flow_are_checked_together() {
        let ok = |line: &[&str]| protocol(&args(line)).unwrap();
        assert_eq!(ok(&["h"]), (Protocol::Icmp, None, None));
        assert_eq!(ok(&["--udp", "h"]), (Protocol::Udp, Some(UDP_PORT), None));
        assert_eq!(ok(&["--tcp", "-p", "443", "h"]), (Protocol::Tcp, Some(443), None));
        assert_eq!(ok(&["--flow", "7", "h"]), (Protocol::Icmp, None, Some(7)));
        assert_eq!(ok(&["--udp", "--flow", "40000", "h"]).2, Some(40000));
        let err = |line: &[&str]| protocol(&args(line)).unwrap_err().to_string();
        assert!(err(&["-p", "443", "h"]).contains("-p/--port needs --udp or --tcp"));
        assert!(err(&["--udp", "--flow", "53", "h"]).contains("accepted is 1024 to 65535"));
        assert_eq!(ok(&["--tcp", "--flow", "2000", "h"]).2, Some(2000));
        assert!(err(&["--tcp", "--flow", "80", "h"]).contains("with --tcp the flow is the source port"));
    }

    #[test]
    fn mtu_is_for_icmp_and_udp_in_one_cycle() {
        let check = |line: &[&str]| {
            let a = args(line);
            let (protocol, _, _) = protocol(&a).unwrap();
            check_mtu(&a, protocol)
        };
        assert!(check(&["--mtu", "h"]).is_ok());
        assert!(check(&["--mtu", "--udp", "h"]).is_ok());
        let err = check(&["--mtu", "--tcp", "h"]).unwrap_err();
        assert!(matches!(err, Error::Usage(_)));
        assert!(err.to_string().contains("--mtu needs --icmp or --udp"), "{err}");
        let err = check(&["--mtu", "-c", "3", "h"]).unwrap_err().to_string();
        assert!(err.contains("--mtu measures once: drop -c 3"), "{err}");
    }

    #[test]
    fn the_unspecified_addresses_are_not_hosts() {
        for (host, local) in [("0.0.0.0", "127.0.0.1"), ("::", "::1"), ("0", "127.0.0.1")] {
            let addr = if host == "0" {
                "0.0.0.0".parse().unwrap()
            } else {
                host.parse().unwrap()
            };
            let err = check_not_unspecified(host, addr).unwrap_err();
            assert!(matches!(err, Error::Usage(_)));
            let msg = err.to_string();
            assert!(
                msg.contains("unspecified address") && msg.contains(local),
                "{msg}"
            );
        }
        assert!(check_not_unspecified("127.0.0.1", "127.0.0.1".parse().unwrap()).is_ok());
    }

    #[test]
    fn a_literal_decides_the_family_and_must_agree_with_the_flags() {
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(family(Family::Any, Some(v6)).unwrap(), Family::Inet6);
        assert_eq!(family(Family::Inet, Some(v4)).unwrap(), Family::Inet);
        assert_eq!(family(Family::Inet6, None).unwrap(), Family::Inet6);
        assert_eq!(family(Family::Any, None).unwrap(), Family::Any);
        let err = family(Family::Inet, Some(v6)).unwrap_err().to_string();
        assert!(err.contains("not an IPv4 address: drop -4"), "{err}");
        let err = family(Family::Inet6, Some(v4)).unwrap_err().to_string();
        assert!(err.contains("not an IPv6 address: drop -6"), "{err}");
    }
}
