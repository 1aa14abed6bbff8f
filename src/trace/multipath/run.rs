//! `trace --multipath` end to end: settings from the command line, sockets opened and privilege dropped
//! as for any trace, the prober of many flows, and the loop that feeds the engine from the network.

use std::net::IpAddr;
use std::time::Duration;

use super::engine::{MpConfig, MpEngine, MpOutcome, MpStep};
use super::plan::Planner;
use super::report::MultipathReport;
use super::rule::Confidence;
use crate::cli::{GlobalArgs, TraceArgs};
use crate::error::{Error, Outcome, Result, plain_io};
use crate::trace::config::{self, Config};
use crate::trace::engine::{FairWait, Protocol};
use crate::trace::names::ReverseNames;
use crate::trace::net::{Network, Received};
use crate::trace::prober::Prober;
use crate::trace::{NAMES_GRACE, aim, open_privileged, privilege, seq_base};

/// The search's deadline without --deadline.
const DEFAULT_DEADLINE: Duration = Duration::from_secs(10);
/// The probe budget without --max-probes.
pub const DEFAULT_MAX_PROBES: u32 = 5000;
/// Most flows (ICMP checksums, UDP or TCP destination ports) one search uses.
const MAX_FLOWS: u16 = 1024;
/// Most queued replies read between two sends.
const DRAIN_PER_SEND: usize = 64;

/// The multipath settings from the command line, checked.
#[derive(Debug, Clone, Copy)]
pub struct MpSettings {
    /// The confidence asked for.
    pub confidence: Confidence,
    /// The probe budget.
    pub max_probes: u32,
    /// The search's deadline.
    pub deadline: Duration,
    /// Flow identifiers available.
    pub flows: u16,
    /// MDA's node control instead of hop-level counting (--per-node).
    pub per_node: bool,
}

impl MpSettings {
    /// From the flags; a usage error names what does not go with --multipath.
    pub fn from_args(args: &TraceArgs, config: &Config) -> Result<MpSettings> {
        let percent = args.multipath.unwrap_or(95);
        let confidence = Confidence::from_percent(percent).ok_or_else(|| {
            Error::usage(format!(
                "--multipath {percent}: accepted is 95 or 99 (the confidence, %)"
            ))
        })?;
        let clash = [
            (args.hosts.len() > 1, "several hosts"),
            (args.flow.is_some(), "--flow (multipath chooses the flows)"),
            (args.mtu, "--mtu"),
            (args.count != 1, "-c"),
        ];
        if let Some((_, what)) = clash.iter().find(|(c, _)| *c) {
            return Err(Error::usage(format!(
                "--multipath does not go with {what}: it traces one host with --icmp, --udp or --tcp"
            )));
        }
        let flows = match config.protocol {
            Protocol::Udp | Protocol::Tcp => {
                let first = config.port.unwrap_or(config::UDP_PORT);
                MAX_FLOWS.min(u16::try_from(65_536 - u32::from(first)).unwrap_or(u16::MAX))
            }
            _ => MAX_FLOWS,
        };
        Ok(MpSettings {
            confidence,
            max_probes: args.max_probes.unwrap_or(DEFAULT_MAX_PROBES),
            deadline: args.deadline.unwrap_or(DEFAULT_DEADLINE),
            flows,
            per_node: args.per_node,
        })
    }
}

/// A bare number among the hosts is a misplaced confidence.
fn check_hosts(args: &TraceArgs) -> Result<()> {
    // `--multipath 99 HOST` would read 99 as a host: a bare number is taken for a misplaced confidence.
    if let Some(n) = args
        .hosts
        .iter()
        .find(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(Error::usage(format!(
            "'{}' after --multipath: give the confidence as --multipath=95 or --multipath=99 (a host \
                 that is a bare number is not accepted with --multipath)",
            crate::text::escape(n)
        )));
    }
    Ok(())
}

/// Runs `sockdiag trace --multipath` to one host.
pub fn run(args: &TraceArgs, global: &GlobalArgs) -> Result<(MultipathReport, Outcome)> {
    check_hosts(args)?;
    let host = args.hosts.first().map_or("", String::as_str);
    let config = Config::from_args(args, host)?;
    let settings = MpSettings::from_args(args, &config)?;
    let opened = open_privileged(&config)?;
    let privilege = privilege::drop_privileges()?;
    if global.verbose > 0 {
        eprintln!(
            "sockdiag: multipath, now uid {} gid {}",
            privilege.uid, privilege.gid
        );
    }
    let (mut prober, address) = aim(&config, opened, Some(settings.flows))?;
    crate::sys::sigint::catch().map_err(|e| Error::io("installing the SIGINT handler", e))?;
    let engine = MpEngine::new(engine_config(&config, &settings, &prober, address));
    // Names are looked up as interfaces answer, after privilege was dropped.
    let mut names = (!config.numeric).then(|| ReverseNames::start(NAMES_GRACE));
    let outcome = drive(&mut prober, engine, names.as_mut())?;
    let names = names.map(ReverseNames::finish).unwrap_or_default();
    let report = MultipathReport::build(&config, &settings, &prober, address, &outcome, &names);
    let code = if report.stop == super::engine::MpStop::Interrupted {
        Outcome::Interrupted
    } else {
        Outcome::negative_if(!report.reached)
    };
    Ok((report, code))
}

fn engine_config(config: &Config, settings: &MpSettings, prober: &Prober, address: IpAddr) -> MpConfig {
    MpConfig {
        planner: Planner {
            confidence: settings.confidence,
            first_ttl: config.first_ttl,
            max_ttl: config.max_hops,
            max_flows: settings.flows,
            per_node: settings.per_node,
        },
        target: address,
        ident: prober.ident(),
        seq_base: seq_base(settings.max_probes as usize),
        deadline: settings.deadline,
        max_probes: settings.max_probes as usize,
        fair: FairWait {
            factor: 2.5,
            floor: Duration::from_millis(200),
            cap: config.reply_timeout,
        },
    }
}

/// Runs the engine to its end over the prober: each probe on its flow, replies read between sends; the
/// address of each reply that answered a probe goes to `names`.
fn drive(
    prober: &mut Prober,
    mut engine: MpEngine,
    mut names: Option<&mut ReverseNames>,
) -> Result<MpOutcome> {
    let recv = |p: &mut Prober, until| p.recv(until).map_err(|e| Error::io("receiving ICMP replies", e));
    let mut deliver = |e: &mut MpEngine, r: Received| {
        if e.received(r.from, &r.reply, r.at)
            && let Some(names) = names.as_deref_mut()
        {
            names.lookup(r.from);
        }
    };
    loop {
        if let Some(at) = prober.interrupted() {
            engine.interrupt(at);
        }
        match engine.step() {
            MpStep::Send(p) => {
                prober.set_multipath_flow(p.flow);
                let spec = crate::trace::engine::ProbeSpec {
                    index: p.index,
                    ttl: p.ttl,
                    query: 0,
                    ident: prober.ident(),
                    seq: p.seq,
                    size: None,
                };
                let result = prober.send(&spec).map_err(|e| plain_io(&e));
                engine.sent(p.index, result);
                for _ in 0..DRAIN_PER_SEND {
                    match recv(prober, Duration::ZERO)? {
                        Some(r) => deliver(&mut engine, r),
                        None => break,
                    }
                }
            }
            MpStep::Wait(until) => match recv(prober, until)? {
                Some(r) => deliver(&mut engine, r),
                None if prober.interrupted().is_some() => {}
                None => engine.waited(until),
            },
            MpStep::Done => return Ok(engine.finish()),
        }
    }
}
