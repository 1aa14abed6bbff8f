//! `sockdiag trace`: an ICMP traceroute on raw or ping sockets; opens sockets, drops privilege, resolves
//! the target, drives the engine through the network seam and builds the report.

pub mod config;
pub mod cycles;
pub mod drive;
pub mod engine;
pub mod flow;
pub mod hops;
mod live;
pub mod many;
pub mod multipath;
pub mod names;
pub mod net;
pub mod packet;
pub mod pmtu;
pub mod privilege;
pub mod prober;
pub mod progress;
pub mod ratelimit;
pub mod report;
pub mod tcp;
pub mod tcpraw;
pub mod tcpwire;
pub mod udp;

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::time::Duration;

use crate::cli::{GlobalArgs, TraceArgs};
use crate::error::{Error, Outcome, Result};
use crate::lookup::{Family, Hints, SockType, getaddrinfo};
use crate::render::ms_f64;

use config::Config;
use drive::drive;
use engine::Protocol;
use engine::{Engine, EngineConfig, FairWait, TraceOutcome};
use names::ReverseNames;
use net::{IcmpSocket, OpenError};
use privilege::Privilege;
use prober::Prober;
use progress::LiveProgress;
use report::{ReportInputs, TraceReport, TraceSettings};

/// Fair wait for a silent probe: 2.5x the slowest reply at its hop or beyond (traceroute's NEAR is 10x).
const FAIR_FACTOR: f64 = 2.5;
/// The fair wait is at least this (routers answer from a slow control plane), unless -w is shorter.
const FAIR_FLOOR: Duration = Duration::from_millis(200);
/// How long reverse lookups may still run once probing is over.
pub(crate) const NAMES_GRACE: Duration = Duration::from_secs(1);

/// Runs `sockdiag trace` to one host and returns the report with its outcome (success only when the
/// target answered). Several hosts go through [`many::run`].
pub fn run(args: &TraceArgs, global: &GlobalArgs) -> Result<(TraceReport, Outcome)> {
    let host = args.hosts.first().map_or("", String::as_str);
    let config = Config::from_args(args, host)?;
    let opened = open_privileged(&config)?;
    let privilege = privilege::drop_privileges()?;
    if global.verbose > 0 {
        eprintln!(
            "sockdiag: {} ICMP socket open; now uid {} gid {}, capabilities {:#x}",
            kind_name(&opened.sockets),
            privilege.uid,
            privilege.gid,
            privilege.capabilities
        );
    }
    trace_one(&config, opened, privilege, global, global.quiet)
}

/// Traces one host once its ICMP sockets are open and privilege is dropped: resolves it, probes it
/// (live progress on a terminal unless `quiet`) and builds the report.
fn trace_one(
    config: &Config,
    opened: Opened,
    privilege: Privilege,
    global: &GlobalArgs,
    quiet: bool,
) -> Result<(TraceReport, Outcome)> {
    let config = config.clone();
    let (mut prober, address) = aim(&config, opened, None)?;
    let inputs = Inputs {
        host: config.host.clone(),
        address,
        settings: settings(&config),
        socket: prober.socket_kind(),
        method: prober.method(),
        flow: prober.flow(),
        privilege,
    };
    let mtu = if config.mtu {
        Some(start_mtu(&config, &mut prober, address)?)
    } else {
        None
    };
    let (outcome, names) = if config.count == 1 {
        probe_path(&config, &mut prober, address, mtu, quiet)?
    } else {
        live::probe_cycles(&config, &mut prober, &inputs, global)?
    };
    let report = inputs.report(&outcome, &names, prober.undecodable());
    let outcome = if report.stop.reason == report::StopKind::Interrupted {
        Outcome::Interrupted
    } else {
        Outcome::negative_if(!report.reached())
    };
    Ok((report, outcome))
}

/// The size --mtu's probes start at (the outgoing interface's MTU), with the prober set to send them.
fn start_mtu(config: &Config, prober: &mut Prober, address: IpAddr) -> Result<u16> {
    let scope = config.literal.map_or(0, |l| l.scope_id);
    let port = config.port.unwrap_or(config::UDP_PORT);
    let target = match address {
        IpAddr::V6(a) => std::net::SocketAddr::V6(std::net::SocketAddrV6::new(a, port, 0, scope)),
        IpAddr::V4(a) => std::net::SocketAddr::new(a.into(), port),
    };
    let mtu = pmtu::local_mtu(target)
        .map_err(|e| Error::io(format!("finding the MTU of the interface towards {address}"), e))?;
    prober
        .set_mtu_mode()
        .map_err(|e| Error::io("setting the probes' DF and size", e))?;
    Ok(mtu)
}

/// The settings echoed into the report.
fn settings(config: &Config) -> TraceSettings {
    TraceSettings {
        first_ttl: config.first_ttl,
        max_hops: config.max_hops,
        queries: config.queries,
        max_inflight: config.max_in_flight,
        timeout_ms: ms_f64(config.reply_timeout),
        deadline_ms: ms_f64(config.deadline),
        numeric: config.numeric,
        interval_ms: ms_f64(if config.count == 1 {
            config.interval
        } else {
            config.cycle_interval
        }),
        max_rate: config.max_rate,
        count: config.count,
        protocol: config.protocol,
        port: config.port,
        mtu: config.mtu,
    }
}

/// Everything a report needs besides the outcome, fixed once the prober is open.
pub struct Inputs {
    host: String,
    address: IpAddr,
    settings: TraceSettings,
    socket: net::SocketKind,
    method: prober::Method,
    flow: String,
    privilege: Privilege,
}

impl Inputs {
    /// The report of `outcome` (a whole run, or the cycles so far).
    pub fn report(
        &self,
        outcome: &TraceOutcome,
        names: &HashMap<IpAddr, String>,
        other_icmp: usize,
    ) -> TraceReport {
        TraceReport::build(
            ReportInputs {
                target: &self.host,
                address: self.address,
                settings: self.settings.clone(),
                socket: self.socket,
                method: self.method,
                flow: self.flow.clone(),
                privilege: self.privilege,
                names,
                other_icmp,
            },
            outcome,
        )
    }
}

/// The engine's settings for one trace (one cycle) from `seq_base` on.
fn engine_config(
    config: &Config,
    ident: u16,
    address: IpAddr,
    seq_base: u16,
    mtu: Option<u16>,
) -> EngineConfig {
    EngineConfig {
        target: address,
        protocol: config.protocol,
        ident,
        seq_base,
        first_ttl: config.first_ttl,
        max_hops: config.max_hops,
        queries: config.queries,
        max_in_flight: config.max_in_flight,
        wave_gap: config.interval,
        max_rate: config.max_rate.map(f64::from),
        deadline: config.deadline,
        fair: FairWait {
            factor: FAIR_FACTOR,
            floor: FAIR_FLOOR,
            cap: config.reply_timeout,
        },
        mtu,
    }
}

/// Probes in one trace (one cycle).
fn probe_count(config: &Config) -> usize {
    usize::from(config.max_hops - config.first_ttl + 1) * usize::from(config.queries)
}

/// The ICMP sockets opened for one trace while privileged, with the echo identifier raw probes carry.
pub struct Opened {
    sockets: Vec<IcmpSocket>,
    /// Raw TCP sockets (IPv6 or not), for TCP probes on one flow.
    tcp_raw: Vec<(bool, socket2::Socket)>,
}

/// Opens the ICMP sockets of a trace while privileged (the caller drops privilege before any DNS lookup
/// or output); UDP and TCP can do without them (they read their sockets' error queues).
pub(crate) fn open_privileged(config: &Config) -> Result<Opened> {
    let sockets = match open_sockets(config.family, random_u16()) {
        Err(_) if config.protocol != Protocol::Icmp => Vec::new(),
        other => other?,
    };
    // TCP on one flow needs a raw TCP socket beside the raw ICMP one; without, TCP goes by connect().
    let tcp_raw = if config.protocol == Protocol::Tcp {
        sockets
            .iter()
            .filter(|s| s.kind() == net::SocketKind::Raw)
            .filter_map(|s| Some((s.is_v6(), tcpraw::open_raw(s.is_v6()).ok()?)))
            .collect()
    } else {
        Vec::new()
    };
    Ok(Opened { sockets, tcp_raw })
}

/// Resolves the target and returns the prober of the run's protocol aimed at it, with the address;
/// with `multipath`, the prober of that many flows.
pub(crate) fn aim(config: &Config, opened: Opened, multipath: Option<u16>) -> Result<(Prober, IpAddr)> {
    let Opened { sockets, tcp_raw } = opened;
    let address = match config.literal {
        Some(literal) => literal.addr,
        None => resolve_target(&config.host, &sockets, config.family)?,
    };
    // A name can resolve to it too ('0' does, through inet_aton's rules).
    config::check_not_unspecified(&config.host, address)?;
    let socket = sockets.into_iter().find(|s| s.is_v6() == address.is_ipv6());
    if config.protocol == Protocol::Icmp && socket.is_none() {
        return Err(Error::System(format!(
            "no ICMP socket for {address}'s address family"
        )));
    }
    let scope = config.literal.map_or(0, |l| l.scope_id);
    let port = config.port.unwrap_or(0);
    let raw = tcp_raw
        .into_iter()
        .find(|(v6, _)| *v6 == address.is_ipv6())
        .map(|(_, s)| s);
    let prober = match multipath {
        Some(flows) => {
            let first = config.port.unwrap_or(config::UDP_PORT);
            Prober::open_multipath(config.protocol, address, scope, first, flows, socket, raw)
        }
        None => Prober::open(config.protocol, address, scope, port, config.flow, socket, raw),
    }
    .map_err(|e| Error::io(format!("opening a {:?} prober to {address}", config.protocol), e))?;
    Ok((prober, address))
}

/// Sends the probes and collects the replies, with live progress on a terminal and reverse lookups of
/// the hops that answer (unless -n) running meanwhile.
fn probe_path(
    config: &Config,
    prober: &mut Prober,
    address: IpAddr,
    mtu: Option<u16>,
    quiet: bool,
) -> Result<(TraceOutcome, HashMap<IpAddr, String>)> {
    let numbers = pmtu::probe_numbers(probe_count(config), mtu.is_some());
    let engine = Engine::new(engine_config(
        config,
        prober.ident(),
        address,
        seq_base(numbers),
        mtu,
    ));
    // Ctrl-C ends the probing, not the process: what was measured is still reported.
    crate::sys::sigint::catch().map_err(|e| Error::io("installing the SIGINT handler", e))?;
    let mut names = (!config.numeric).then(|| ReverseNames::start(NAMES_GRACE));
    let mut live = LiveProgress::start(&config.host, address, !quiet);
    let on_addr = |addr| {
        if let Some(n) = names.as_mut() {
            n.lookup(addr);
        }
    };
    let outcome = drive(prober, engine, on_addr, |e| live.update(|| e.progress()))?;
    live.finish();
    let names = names.map(ReverseNames::finish).unwrap_or_default();
    Ok((outcome, names))
}

/// Opens an ICMP socket per family (both for `Any`); a family that fails is dropped unless none is left.
fn open_sockets(family: Family, ident: u16) -> Result<Vec<IcmpSocket>> {
    let families: &[bool] = match family {
        Family::Inet => &[false],
        Family::Inet6 => &[true],
        Family::Any => &[false, true],
    };
    let mut sockets = Vec::new();
    let mut failures = Vec::new();
    for &v6 in families {
        match IcmpSocket::open(v6, ident) {
            Ok(s) => sockets.push(s),
            Err(e) => failures.push(e),
        }
    }
    if !sockets.is_empty() {
        return Ok(sockets);
    }
    Err(open_failure(&failures))
}

/// One line saying what is missing and how to grant it.
fn open_failure(failures: &[OpenError]) -> Error {
    let Some(first) = failures.first() else {
        return Error::System("no address family to trace".into());
    };
    if failures.iter().all(OpenError::is_permission) {
        let gid = crate::sys::ids::gid();
        let range = std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range")
            .map(|r| r.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| "unknown".into());
        let exe = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "sockdiag".into());
        return Error::System(format!(
            "no permission for ICMP sockets: raw sockets need CAP_NET_RAW, and ping sockets are not \
             allowed for group {gid} (net.ipv4.ping_group_range is \"{range}\"); run with sudo, or grant \
             the capability once: sudo setcap cap_net_raw+ep {exe}"
        ));
    }
    let err = first.ping.as_ref().unwrap_or(&first.raw);
    let copy = match err.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code),
        None => std::io::Error::new(err.kind(), err.to_string()),
    };
    Error::io("opening an ICMP socket", copy)
}

/// Resolves the target through the system resolver, keeping getaddrinfo's order, and picks the first
/// address of a family whose socket is open. A name without an address is a negative answer (exit 1),
/// as in `resolve` and `probe`.
fn resolve_target(host: &str, sockets: &[IcmpSocket], asked: Family) -> Result<IpAddr> {
    let family = match (
        sockets.iter().any(|s| !s.is_v6()),
        sockets.iter().any(|s| s.is_v6()),
    ) {
        (true, false) => Family::Inet,
        (false, true) => Family::Inet6,
        (false, false) => asked,
        _ => Family::Any,
    };
    let forward = getaddrinfo(Some(host), None, &Hints::addresses(family, SockType::Raw))
        .map_err(|f| f.to_error(&format!("cannot resolve '{host}'")))?;
    forward
        .rows
        .iter()
        .map(|r| r.address)
        .find(|a| sockets.is_empty() || sockets.iter().any(|s| s.is_v6() == a.is_ipv6()))
        .ok_or_else(|| {
            Error::Negative(format!(
                "'{host}' has no {} address",
                if family == Family::Inet6 { "IPv6" } else { "IPv4" }
            ))
        })
}

fn kind_name(sockets: &[IcmpSocket]) -> &'static str {
    match sockets.first().map(IcmpSocket::kind) {
        Some(net::SocketKind::Raw) => "raw",
        _ => "ping",
    }
}

/// The first probe number: random, with every probe's number clear of 0 and 0xffff (a UDP probe's
/// checksum carries it, and a checksum of 0 is sent as 0xffff).
pub(crate) fn seq_base(probes: usize) -> u16 {
    let room = 0xfffe_u32.saturating_sub(probes as u32).max(1);
    (1 + u32::from(random_u16()) % room) as u16
}

/// A random 16-bit value (the process's randomly keyed hasher: no extra dependency needed).
fn random_u16() -> u16 {
    (RandomState::new().hash_one(std::process::id()) >> 16) as u16
}
