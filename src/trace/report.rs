//! The trace report: one row per hop, per-probe samples for JSON, and how the trace ended.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use super::engine::Protocol;
use super::engine::{HopSummary, ProbeRecord, StopReason, TraceOutcome, hop_summaries};
use super::net::SocketKind;
use super::packet::nat::first_translated;
use super::packet::{MplsLabel, ReplyKind, unreachable_annotation};
use super::privilege::Privilege;
use super::prober::Method;
use super::ratelimit::looks_rate_limited;
use crate::render::{fmt_ms, ms_f64};

mod pmtu;
mod table;

pub use pmtu::{PmtuChange, PmtuDropReport, PmtuReport};

/// What `sockdiag trace` found.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TraceReport {
    /// The host as given.
    pub target: String,
    /// The address traced to.
    pub address: IpAddr,
    /// The settings the trace ran with.
    pub settings: TraceSettings,
    /// The kind of ICMP socket the answers came through (`ping` also for the error-queue methods).
    pub socket: SocketKind,
    /// How the probes were sent and their answers heard.
    pub method: Method,
    /// The flow every probe took through per-flow load balancers, in words.
    pub flow: String,
    /// Who the process was after dropping privilege.
    pub privilege: Privilege,
    /// One entry per hop shown, in TTL order.
    pub hops: Vec<HopReport>,
    /// How the trace ended.
    pub stop: StopReport,
    /// Time from the first probe sent to the end of probing, milliseconds (the envelope's `elapsed_ms`
    /// also counts opening sockets, resolving the target and the reverse lookups after probing).
    pub probing_ms: f64,
    /// Probes sent.
    pub probes_sent: usize,
    /// Cycles run (1 without -c).
    pub cycles: u32,
    /// Replies to echo requests that were not this trace's (another ping or traceroute), ignored.
    pub foreign_replies: usize,
    /// Other ICMP read and ignored: errors quoting something else (UDP or TCP traceroutes), malformed
    /// messages.
    pub other_icmp: usize,
    /// Every probe sent (or whose send failed), with what became of it.
    pub samples: Vec<Sample>,
    /// With --mtu: the path MTU and where it drops (null without --mtu).
    pub pmtu: Option<PmtuReport>,
}

/// Settings echoed into the report.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TraceSettings {
    /// First TTL probed.
    pub first_ttl: u8,
    /// Highest TTL probed.
    pub max_hops: u8,
    /// Probes per hop.
    pub queries: u8,
    /// In-flight limit (None: unlimited).
    pub max_inflight: Option<usize>,
    /// Longest wait for one probe's reply (-w), milliseconds.
    pub timeout_ms: f64,
    /// The whole trace's deadline (--deadline), milliseconds.
    pub deadline_ms: f64,
    /// No reverse lookups (-n).
    pub numeric: bool,
    /// Time between two probes to one hop (-i), milliseconds.
    pub interval_ms: f64,
    /// Most probes per second (--max-rate; null: no limit).
    pub max_rate: Option<u32>,
    /// Cycles asked for (-c; 0: until Ctrl-C); with -c, `interval_ms` is the time between cycles.
    pub count: u32,
    /// What the probes were.
    pub protocol: Protocol,
    /// Destination port of UDP and TCP probes (null for ICMP).
    pub port: Option<u16>,
    /// --mtu: probes as large as the path takes, to find its MTU.
    pub mtu: bool,
}

/// One hop row.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HopReport {
    /// TTL / hop limit.
    pub ttl: u8,
    /// Who answered, in order of first answer.
    pub addresses: Vec<HopAddress>,
    /// Each query's RTT in ms (null: no answer).
    pub rtts_ms: Vec<Option<f64>>,
    /// Probes sent.
    pub sent: u32,
    /// Probes answered.
    pub received: u32,
    /// Unanswered share, percent.
    pub loss_pct: f64,
    /// The losses fit an ICMP rate limiter at this router (its first probes answered, later ones not,
    /// while a farther hop answered all of its own): the router limits its answers, the path is fine.
    pub rate_limited: bool,
    /// Fastest RTT, ms.
    pub min_ms: Option<f64>,
    /// Mean RTT, ms.
    pub avg_ms: Option<f64>,
    /// Slowest RTT, ms.
    pub max_ms: Option<f64>,
    /// RTT of the answered probe sent last, ms.
    pub last_ms: Option<f64>,
    /// Standard deviation of the RTTs, ms.
    pub stddev_ms: Option<f64>,
    /// Unreachables seen at this hop.
    pub unreachable: Vec<Unreachable>,
    /// Distinct MPLS label stacks seen at this hop.
    pub mpls: Vec<Vec<MplsLabel>>,
    /// With --mtu: the link after this hop is narrower (its router refused larger packets).
    pub pmtu: Option<PmtuChange>,
    /// The first hop behind a NAT: its errors quote our UDP probe with the checksum or ports rewritten
    /// (Dublin traceroute's test; farther hops see the same and are not marked).
    pub nat: bool,
}

/// An address that answered at a hop.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HopAddress {
    /// The address.
    pub address: IpAddr,
    /// Its reverse name, when looked up and found.
    pub name: Option<String>,
    /// How many of the hop's probes it answered.
    pub replies: u32,
}

/// An ICMP destination unreachable at a hop.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Unreachable {
    /// ICMP type (3 for IPv4, 1 for ICMPv6).
    pub icmp_type: u8,
    /// ICMP code.
    pub icmp_code: u8,
    /// traceroute's annotation (!H, !N, !X, ...).
    pub annotation: String,
}

/// How the trace ended.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StopReport {
    /// Why it ended.
    pub reason: StopKind,
    /// The hop where it ended (reached or unreachable).
    pub hop: Option<u8>,
    /// `hop` is only an upper bound: the end answered the first TTL probed (--first-ttl above 1), so it
    /// may be nearer.
    pub at_most: bool,
    /// For unreachable: the ICMP code and its annotation.
    pub icmp_code: Option<u8>,
    /// For unreachable: traceroute's annotation.
    pub annotation: Option<String>,
    /// One line for people.
    pub message: String,
}

/// Why a trace ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StopKind {
    /// The target answered.
    Reached,
    /// A destination unreachable ended the path.
    Unreachable,
    /// Not reached within --max-hops.
    MaxHops,
    /// The deadline passed before the target answered.
    Deadline,
    /// No probe could be sent.
    SendFailed,
    /// Ctrl-C (SIGINT) stopped it; the report holds what was measured until then.
    Interrupted,
}

/// One probe and its answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Sample {
    /// TTL it was sent with.
    pub ttl: u8,
    /// Query number within its hop.
    pub query: u8,
    /// Cycle (-c), from 0.
    pub cycle: u32,
    /// Echo sequence number.
    pub seq: u16,
    /// When it was sent, ms after the first probe (null: its send failed).
    pub sent_ms: Option<f64>,
    /// The send error, when the send failed.
    pub send_error: Option<String>,
    /// Who answered.
    pub from: Option<IpAddr>,
    /// Round-trip time, ms.
    pub rtt_ms: Option<f64>,
    /// echo_reply, time_exceeded or unreachable.
    pub kind: Option<ReplyKind>,
    /// ICMP type of the answer.
    pub icmp_type: Option<u8>,
    /// ICMP code of the answer.
    pub icmp_code: Option<u8>,
    /// MPLS labels the answer carried.
    pub mpls: Vec<MplsLabel>,
    /// The answer came after the probe's fair wait had passed.
    pub late: bool,
    /// Further copies of the answer.
    pub duplicates: u32,
}

/// Everything needed to build the report besides the engine's outcome.
pub struct ReportInputs<'a> {
    /// The host as given.
    pub target: &'a str,
    /// The address traced to.
    pub address: IpAddr,
    /// Settings.
    pub settings: TraceSettings,
    /// Raw or ping.
    pub socket: SocketKind,
    /// How the probes were sent and heard.
    pub method: Method,
    /// The flow, in words.
    pub flow: String,
    /// Privilege after the drop.
    pub privilege: Privilege,
    /// Reverse names found so far.
    pub names: &'a HashMap<IpAddr, String>,
    /// ICMP messages the socket read that were not replies to echo requests.
    pub other_icmp: usize,
}

impl TraceReport {
    /// Builds the report from a finished trace.
    pub fn build(ctx: ReportInputs<'_>, outcome: &TraceOutcome) -> TraceReport {
        let v6 = matches!(ctx.address, IpAddr::V6(_));
        let first = ctx.settings.first_ttl;
        let last = last_shown(outcome, first, ctx.settings.max_hops);
        let summaries = hop_summaries(&outcome.probes, first, last);
        let mut hops: Vec<HopReport> = summaries
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let mut hop = hop_report(h, v6, ctx.names);
                hop.rate_limited = looks_rate_limited(h, &summaries[i + 1..]);
                hop
            })
            .collect();
        if let Some(i) = first_translated(summaries.iter().map(|h| h.translated)) {
            hops[i].nat = true;
        }
        let started = outcome.started.unwrap_or_default();
        // Only probes that went out (or failed to): the schedule's unsent tail is not a sample.
        let samples = outcome
            .probes
            .iter()
            .filter(|p| p.sent_at.is_some() || p.send_error.is_some())
            .map(|p| sample(p, started))
            .collect();
        let duration = outcome.ended.saturating_sub(started);
        let pmtu = pmtu::pmtu_report(outcome, &mut hops);
        let mut stop = stop_report(&outcome.stop, outcome, ctx.address, &ctx.settings, v6);
        if let Some(p) = &pmtu {
            stop.message
                .push_str(&pmtu::stop_note(p, stop.reason == StopKind::Reached));
        }
        TraceReport {
            target: ctx.target.to_string(),
            address: ctx.address,
            stop,
            pmtu,
            settings: ctx.settings,
            socket: ctx.socket,
            method: ctx.method,
            flow: ctx.flow,
            privilege: ctx.privilege,
            hops,
            probing_ms: ms_f64(duration),
            probes_sent: outcome.probes.iter().filter(|p| p.sent_at.is_some()).count(),
            cycles: outcome.probes.iter().map(|p| p.cycle + 1).max().unwrap_or(0),
            foreign_replies: outcome.foreign,
            other_icmp: ctx.other_icmp,
            samples,
        }
    }

    /// Whether the target was reached.
    pub fn reached(&self) -> bool {
        self.stop.reason == StopKind::Reached
    }
}

/// The last hop worth a row: where the path ended, or one past the farthest hop that answered.
fn last_shown(outcome: &TraceOutcome, first: u8, max: u8) -> u8 {
    match outcome.stop {
        StopReason::Reached { hop } | StopReason::Unreachable { hop, .. } => hop,
        // Stopped early (Ctrl-C, a later cycle): where the target answered, if it ever did.
        _ if outcome
            .probes
            .iter()
            .any(|p| p.reply.as_ref().is_some_and(|r| r.from_target)) =>
        {
            outcome
                .probes
                .iter()
                .filter(|p| p.reply.as_ref().is_some_and(|r| r.from_target))
                .map(|p| p.ttl)
                .min()
                .unwrap_or(first)
                .max(first)
        }
        _ => {
            let answered = outcome
                .probes
                .iter()
                .filter(|p| p.reply.is_some())
                .map(|p| p.ttl)
                .max();
            answered.map_or(first, |t| t.saturating_add(1)).clamp(first, max)
        }
    }
}

fn ms_opt(d: Option<Duration>) -> Option<f64> {
    d.map(ms_f64)
}

fn hop_report(h: &HopSummary, v6: bool, names: &HashMap<IpAddr, String>) -> HopReport {
    HopReport {
        ttl: h.ttl,
        addresses: h
            .addrs
            .iter()
            .map(|(addr, replies)| HopAddress {
                address: *addr,
                name: names.get(addr).cloned(),
                replies: *replies,
            })
            .collect(),
        rtts_ms: h
            .probes
            .iter()
            .map(|p| p.reply.as_ref().map(|r| ms_f64(r.rtt)))
            .collect(),
        sent: h.sent,
        received: h.received,
        loss_pct: (h.loss() * 1000.0).round() / 10.0,
        rate_limited: false,
        min_ms: ms_opt(h.stats.map(|s| s.min)),
        avg_ms: ms_opt(h.stats.map(|s| s.avg)),
        max_ms: ms_opt(h.stats.map(|s| s.max)),
        last_ms: ms_opt(h.last),
        stddev_ms: ms_opt(h.stats.map(|s| s.stddev)),
        unreachable: h
            .unreachable_codes
            .iter()
            .map(|&code| Unreachable {
                icmp_type: if v6 { 1 } else { 3 },
                icmp_code: code,
                annotation: unreachable_annotation(v6, code),
            })
            .collect(),
        mpls: h.mpls.clone(),
        pmtu: None,
        nat: false,
    }
}

fn sample(p: &ProbeRecord, started: Duration) -> Sample {
    let r = p.reply.as_ref();
    Sample {
        ttl: p.ttl,
        query: p.query,
        cycle: p.cycle,
        seq: p.seq,
        sent_ms: p.sent_at.map(|t| ms_f64(t.saturating_sub(started))),
        send_error: p.send_error.clone(),
        from: r.map(|r| r.from),
        rtt_ms: r.map(|r| ms_f64(r.rtt)),
        kind: r.map(|r| r.kind),
        icmp_type: r.map(|r| r.icmp_type),
        icmp_code: r.map(|r| r.icmp_code),
        mpls: r.map(|r| r.mpls.clone()).unwrap_or_default(),
        late: r.is_some_and(|r| r.late),
        duplicates: p.duplicates,
    }
}

fn stop_report(
    stop: &StopReason,
    outcome: &TraceOutcome,
    address: IpAddr,
    settings: &TraceSettings,
    v6: bool,
) -> StopReport {
    let took = fmt_ms(outcome.ended.saturating_sub(outcome.started.unwrap_or_default()));
    match *stop {
        StopReason::Reached { hop } => reached(outcome, address, settings, hop, &took),
        StopReason::Unreachable { hop, code } => {
            let annotation = unreachable_annotation(v6, code);
            let from = outcome
                .probes
                .iter()
                .filter(|p| p.ttl == hop)
                .filter_map(|p| p.reply.as_ref())
                .find(|r| r.kind == ReplyKind::Unreachable)
                .map_or_else(|| "a router".to_string(), |r| r.from.to_string());
            let at = if at_most(hop, settings) {
                format!(" ({})", first_ttl_answered(hop))
            } else {
                format!(" at hop {hop}")
            };
            StopReport {
                reason: StopKind::Unreachable,
                hop: Some(hop),
                at_most: at_most(hop, settings),
                icmp_code: Some(code),
                message: format!(
                    "stopped by an unreachable{at} in {took}: {annotation} (ICMP type {}, code {code}) from {from}",
                    if v6 { 1 } else { 3 }
                ),
                annotation: Some(annotation),
            }
        }
        StopReason::MaxHops => plain(
            StopKind::MaxHops,
            format!("not reached within {} hops, in {took}", settings.max_hops),
        ),
        StopReason::Deadline => plain(
            StopKind::Deadline,
            format!(
                "deadline: {address} did not answer within {}{}{}",
                fmt_ms(Duration::from_secs_f64(settings.deadline_ms / 1000.0)),
                silent_tail(outcome, settings),
                match (settings.protocol, settings.port) {
                    (Protocol::Tcp, Some(port)) => format!("; tcp/{port} filtered (no SYN-ACK or RST)"),
                    _ => String::new(),
                }
            ),
        ),
        StopReason::Interrupted => plain(
            StopKind::Interrupted,
            format!("interrupted (Ctrl-C) after {took}{}", unfinished(outcome)),
        ),
        StopReason::SendFailed => {
            let why = outcome
                .probes
                .iter()
                .find_map(|p| p.send_error.clone())
                .unwrap_or_default();
            plain(
                StopKind::SendFailed,
                format!("no probe could be sent to {address}: {why}"),
            )
        }
    }
}

/// The target answered at `hop`: exactly there, or at most there when it was the first TTL probed.
fn reached(
    outcome: &TraceOutcome,
    address: IpAddr,
    settings: &TraceSettings,
    hop: u8,
    took: &str,
) -> StopReport {
    let verdict = port_verdict(outcome, hop, settings);
    StopReport {
        reason: StopKind::Reached,
        hop: Some(hop),
        at_most: at_most(hop, settings),
        icmp_code: None,
        annotation: None,
        message: if at_most(hop, settings) {
            format!(
                "reached {address} in {took}: {}{verdict}",
                first_ttl_answered(hop)
            )
        } else {
            format!("reached {address} at hop {hop} in {took}{verdict}")
        },
    }
}

/// A stop without a hop or an ICMP code.
fn plain(reason: StopKind, message: String) -> StopReport {
    StopReport {
        reason,
        hop: None,
        at_most: false,
        icmp_code: None,
        annotation: None,
        message,
    }
}

/// What the target's own answer says about the port: ": tcp/443 open", ": udp/33434 closed (port
/// unreachable)"; nothing for ICMP.
fn port_verdict(outcome: &TraceOutcome, hop: u8, settings: &TraceSettings) -> String {
    let kind = outcome
        .probes
        .iter()
        .filter(|p| p.ttl == hop)
        .filter_map(|p| p.reply.as_ref())
        .find(|r| r.from_target)
        .map(|r| r.kind);
    let port = settings.port.unwrap_or(0);
    match kind {
        Some(ReplyKind::PortOpen) => format!(": tcp/{port} open"),
        Some(ReplyKind::PortClosed) => format!(": tcp/{port} closed"),
        Some(ReplyKind::Unreachable) => format!(": udp/{port} closed (port unreachable)"),
        _ => String::new(),
    }
}

/// Whether the end was found at the first TTL probed above 1: lower TTLs were not tried, so it may be nearer.
fn at_most(hop: u8, settings: &TraceSettings) -> bool {
    hop == settings.first_ttl && hop > 1
}

/// The honest wording for an end found at the first TTL probed.
fn first_ttl_answered(hop: u8) -> String {
    format!("it answered the first TTL probed ({hop}), so it is at most {hop} hops away")
}

/// What an interrupted trace did not do: probes still awaiting an answer, probes never sent.
fn unfinished(outcome: &TraceOutcome) -> String {
    let waiting = outcome
        .probes
        .iter()
        .filter(|p| p.sent_at.is_some() && p.reply.is_none())
        .count();
    let unsent = outcome
        .probes
        .iter()
        .filter(|p| p.sent_at.is_none() && p.send_error.is_none())
        .count();
    let answered = outcome.probes.iter().filter(|p| p.reply.is_some()).count();
    format!(
        ": {answered} probes answered, {waiting} unanswered when stopped, {unsent} of {} not sent",
        outcome.probes.len()
    )
}

/// "; no answer from hop N on" when every hop past the last one that answered stayed silent, and how many
/// probes never went out.
fn silent_tail(outcome: &TraceOutcome, settings: &TraceSettings) -> String {
    let last_answer = outcome
        .probes
        .iter()
        .filter(|p| p.reply.is_some())
        .map(|p| p.ttl)
        .max();
    let first_silent = last_answer.map_or(settings.first_ttl, |t| t.saturating_add(1));
    let mut tail = if first_silent <= settings.max_hops && last_answer != Some(u8::MAX) {
        format!("; no answer from hop {first_silent} on")
    } else {
        String::new()
    };
    // With --max-inflight the deadline can come before every probe went out: silence from a hop that
    // was never probed says nothing about it.
    let unsent = outcome
        .probes
        .iter()
        .filter(|p| p.sent_at.is_none() && p.send_error.is_none())
        .count();
    if unsent > 0 {
        let limit = settings
            .max_inflight
            .map_or_else(String::new, |n| format!(" with --max-inflight {n}"));
        tail.push_str(&format!(
            "; {unsent} of {} probes were not sent before the deadline{limit}",
            outcome.probes.len()
        ));
    }
    tail
}

#[cfg(test)]
mod tests;
