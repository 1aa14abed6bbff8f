//! `sockdiag trace`: an ICMP traceroute on raw or ping sockets; opens sockets, drops privilege, resolves
//! the target, drives the engine through the network seam and builds the report.

pub mod engine;
pub mod names;
pub mod net;
pub mod packet;
pub mod privilege;
pub mod progress;
pub mod report;

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::time::Duration;

use crate::cli::TraceArgs;
use crate::error::{Error, Outcome, Result, plain_io};
use crate::lookup::{Family, Hints, SockType, getaddrinfo};
use crate::target::{parse_ip_literal, validate_host_name};

use engine::{Engine, EngineConfig, FairWait, Step, TraceOutcome};
use names::ReverseNames;
use net::{IcmpSocket, Network, OpenError, Received};
use progress::LiveProgress;
use report::{Context, Settings, TraceReport};

/// Time between the starts of successive waves: enough to spread a hop's probes over distinct
/// moments for routers' ICMP rate limiters, short enough not to show in the total.
const WAVE_GAP: Duration = Duration::from_millis(5);
/// Fair wait for a silent probe: 2.5x the slowest reply at its hop or beyond (traceroute's NEAR is 10x),
/// at least 200 ms (routers answer from a slow control plane), at most 1 s.
const FAIR_WAIT: FairWait = FairWait {
    factor: 2.5,
    floor: Duration::from_millis(200),
    cap: Duration::from_secs(1),
};
/// Most queued replies read between two sends (the rest wait for the next send or wait step).
const DRAIN_PER_SEND: usize = 64;
/// How long reverse lookups may still run once probing is over.
const NAMES_GRACE: Duration = Duration::from_secs(1);

/// Runs `sockdiag trace` and returns the report with its outcome (success only when the target answered).
pub fn run(args: &TraceArgs, verbose: u8) -> Result<(TraceReport, Outcome)> {
    if args.first_ttl > args.max_hops {
        return Err(Error::usage(format!(
            "--first-ttl {} is above --max-hops {}: accepted is a first TTL at most the max hops",
            args.first_ttl, args.max_hops
        )));
    }
    if args.wait.is_zero() {
        return Err(Error::usage(
            "--wait 0 leaves no time for any answer: accepted is a duration above 0",
        ));
    }
    let parsed = parse_ip_literal(&args.host)?;
    let literal = parsed.map(|l| l.addr);
    if literal.is_none() {
        validate_host_name(&args.host)?;
    }
    let families = families(args, literal)?;

    // Sockets first, while privileged; then privilege goes, before any DNS lookup or output.
    let ident = random_u16();
    let sockets = open_sockets(&families, ident)?;
    let privilege = privilege::drop_privileges()?;
    if verbose > 0 {
        eprintln!(
            "sockdiag: {} ICMP socket open; now uid {} gid {}, capabilities {:#x}",
            kind_name(&sockets),
            privilege.uid,
            privilege.gid,
            privilege.capabilities
        );
    }

    let address = match literal {
        Some(addr) => addr,
        None => resolve_target(&args.host, &sockets)?,
    };
    let mut socket = sockets
        .into_iter()
        .find(|s| s.is_v6() == address.is_ipv6())
        .ok_or_else(|| Error::System(format!("no ICMP socket for {address}'s address family")))?;
    socket.set_target(address, parsed.map_or(0, |l| l.scope_id));

    let cfg = EngineConfig {
        target: address,
        ident: socket.ident(),
        seq_base: random_u16(),
        first_ttl: args.first_ttl,
        max_hops: args.max_hops,
        queries: args.queries,
        max_in_flight: args.max_inflight.map(|n| n as usize),
        wave_gap: WAVE_GAP,
        deadline: args.wait,
        fair: FAIR_WAIT,
    };
    let mut names = (!args.numeric).then(|| ReverseNames::start(NAMES_GRACE));
    let mut live = LiveProgress::start(&args.host, address);
    let outcome = drive(
        &mut socket,
        Engine::new(cfg),
        |addr| {
            if let Some(n) = names.as_mut() {
                n.lookup(addr);
            }
        },
        &mut live,
    )?;
    live.finish();
    let names: HashMap<IpAddr, String> = names.map(ReverseNames::finish).unwrap_or_default();

    let settings = Settings {
        first_ttl: args.first_ttl,
        max_hops: args.max_hops,
        queries: args.queries,
        max_inflight: args.max_inflight.map(|n| n as usize),
        wait_ms: args.wait.as_secs_f64() * 1000.0,
    };
    let report = TraceReport::build(
        Context {
            target: &args.host,
            address,
            settings,
            socket: socket.kind(),
            privilege,
            names: &names,
            other_icmp: socket.undecodable(),
        },
        &outcome,
    );
    let outcome = Outcome::negative_if(!report.reached());
    Ok((report, outcome))
}

/// Runs the engine to completion over a network, telling `on_addr` about each address that answers.
/// A send error is recorded for its probe and the trace goes on; a receive error ends it.
pub fn drive<N: Network>(
    net: &mut N,
    mut engine: Engine,
    mut on_addr: impl FnMut(IpAddr),
    live: &mut LiveProgress,
) -> Result<TraceOutcome> {
    let mut deliver = |engine: &mut Engine, r: Received| {
        if engine.received(r.from, &r.reply, r.at) == engine::Verdict::Matched {
            on_addr(r.from);
        }
    };
    loop {
        match engine.step() {
            Step::Send(probe) => {
                let result = net.send(&probe).map_err(|e| plain_io(&e));
                engine.sent(probe.index, result);
                // Replies already queued are read before the next probe goes out: a wave that takes
                // longer to send than a near hop takes to answer must not fill the socket's buffer
                // (losing replies, shown as false loss), and once the path's end is known, probes
                // beyond it are not sent. Bounded, so a flood of foreign ICMP cannot stall sending.
                for _ in 0..DRAIN_PER_SEND {
                    match net
                        .recv(Duration::ZERO)
                        .map_err(|e| Error::io("receiving ICMP replies", e))?
                    {
                        Some(r) => deliver(&mut engine, r),
                        None => break,
                    }
                }
            }
            Step::Wait(until) => match net
                .recv(until)
                .map_err(|e| Error::io("receiving ICMP replies", e))?
            {
                Some(r) => deliver(&mut engine, r),
                None => engine.waited(until),
            },
            Step::Done => return Ok(engine.finish()),
        }
        live.update(|| engine.progress());
    }
}

/// Which families to open sockets for: the literal's, the one -4/-6 asks for, or both.
fn families(args: &TraceArgs, literal: Option<IpAddr>) -> Result<Vec<bool>> {
    let (v4, v6) = (args.family.ipv4, args.family.ipv6);
    match literal {
        Some(addr) if (v4 && addr.is_ipv6()) || (v6 && addr.is_ipv4()) => Err(Error::usage(format!(
            "{addr} is not an {} address: drop -{} or give an address of that family",
            if v4 { "IPv4" } else { "IPv6" },
            if v4 { '4' } else { '6' }
        ))),
        Some(addr) => Ok(vec![addr.is_ipv6()]),
        None if v4 => Ok(vec![false]),
        None if v6 => Ok(vec![true]),
        None => Ok(vec![false, true]),
    }
}

/// Opens an ICMP socket per family; a family that fails is dropped unless none is left.
fn open_sockets(families: &[bool], ident: u16) -> Result<Vec<IcmpSocket>> {
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
fn resolve_target(host: &str, sockets: &[IcmpSocket]) -> Result<IpAddr> {
    let family = match (
        sockets.iter().any(|s| !s.is_v6()),
        sockets.iter().any(|s| s.is_v6()),
    ) {
        (true, false) => Family::Inet,
        (false, true) => Family::Inet6,
        _ => Family::Any,
    };
    let forward = getaddrinfo(Some(host), None, &Hints::addresses(family, SockType::Raw))
        .map_err(|f| f.to_error(&format!("cannot resolve '{host}'")))?;
    forward
        .rows
        .iter()
        .map(|r| r.address)
        .find(|a| sockets.iter().any(|s| s.is_v6() == a.is_ipv6()))
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

/// A random 16-bit value (the process's randomly keyed hasher: no extra dependency needed).
fn random_u16() -> u16 {
    (RandomState::new().hash_one(std::process::id()) >> 16) as u16
}
