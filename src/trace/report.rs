//! The trace report: one row per hop, per-probe samples for JSON, and how the trace ended.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;

use super::engine::{HopSummary, ProbeRecord, StopReason, TraceOutcome, hop_summaries};
use super::net::SocketKind;
use super::packet::{MplsLabel, ReplyKind, unreachable_annotation};
use super::privilege::Privilege;
use crate::render::{Cell, Report, Section, Tone, View, fmt_ms, ms_f64};

/// What `sockdiag trace` found.
#[derive(Debug, Clone, Serialize)]
pub struct TraceReport {
    /// The host as given.
    pub target: String,
    /// The address traced to.
    pub address: IpAddr,
    /// The settings the trace ran with.
    pub settings: TraceSettings,
    /// The socket the probes went through.
    pub socket: SocketKind,
    /// Who the process was after dropping privilege.
    pub privilege: Privilege,
    /// One entry per hop shown, in TTL order.
    pub hops: Vec<HopReport>,
    /// How the trace ended.
    pub stop: StopReport,
    /// Wall time from the first probe to the end, milliseconds.
    pub duration_ms: f64,
    /// Probes sent.
    pub probes_sent: usize,
    /// Replies to echo requests that were not this trace's (another ping or traceroute), ignored.
    pub foreign_replies: usize,
    /// Other ICMP read and ignored: errors quoting something else (UDP or TCP traceroutes), malformed
    /// messages.
    pub other_icmp: usize,
    /// Every probe of the schedule with what became of it.
    pub samples: Vec<Sample>,
}

/// Settings echoed into the report.
#[derive(Debug, Clone, Serialize)]
pub struct TraceSettings {
    /// First TTL probed.
    pub first_ttl: u8,
    /// Highest TTL probed.
    pub max_hops: u8,
    /// Probes per hop.
    pub queries: u8,
    /// In-flight limit (None: unlimited).
    pub max_inflight: Option<usize>,
    /// Global deadline, milliseconds.
    pub wait_ms: f64,
}

/// One hop row.
#[derive(Debug, Clone, Serialize)]
pub struct HopReport {
    /// TTL / hop limit.
    pub ttl: u8,
    /// Who answered, in order of first answer.
    pub addrs: Vec<HopAddr>,
    /// Each query's RTT in ms (null: no answer).
    pub rtts_ms: Vec<Option<f64>>,
    /// Probes sent.
    pub sent: u32,
    /// Probes answered.
    pub received: u32,
    /// Unanswered share, percent.
    pub loss_pct: f64,
    /// Fastest RTT, ms.
    pub min_ms: Option<f64>,
    /// Mean RTT, ms.
    pub avg_ms: Option<f64>,
    /// Slowest RTT, ms.
    pub max_ms: Option<f64>,
    /// Standard deviation of the RTTs, ms.
    pub stddev_ms: Option<f64>,
    /// Unreachables seen at this hop.
    pub unreachable: Vec<Unreachable>,
    /// Distinct MPLS label stacks seen at this hop.
    pub mpls: Vec<Vec<MplsLabel>>,
}

/// An address that answered at a hop.
#[derive(Debug, Clone, Serialize)]
pub struct HopAddr {
    /// The address.
    pub addr: IpAddr,
    /// Its reverse name, when looked up and found.
    pub name: Option<String>,
    /// How many of the hop's probes it answered.
    pub replies: u32,
}

/// An ICMP destination unreachable at a hop.
#[derive(Debug, Clone, Serialize)]
pub struct Unreachable {
    /// ICMP type (3 for IPv4, 1 for ICMPv6).
    pub icmp_type: u8,
    /// ICMP code.
    pub icmp_code: u8,
    /// traceroute's annotation (!H, !N, !X, ...).
    pub annotation: String,
}

/// How the trace ended.
#[derive(Debug, Clone, Serialize)]
pub struct StopReport {
    /// reached, unreachable, max_hops, deadline or send_failed.
    pub reason: &'static str,
    /// The hop where it ended (reached or unreachable).
    pub hop: Option<u8>,
    /// For unreachable: the ICMP code and its annotation.
    pub icmp_code: Option<u8>,
    /// For unreachable: traceroute's annotation.
    pub annotation: Option<String>,
    /// One line for people.
    pub message: String,
}

/// One probe and its answer.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// TTL it was sent with.
    pub ttl: u8,
    /// Query number within its hop.
    pub query: u8,
    /// Echo sequence number.
    pub seq: u16,
    /// When it was sent, ms after the first probe (null: never sent).
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
        let hops = hop_summaries(&outcome.probes, first, last)
            .iter()
            .map(|h| hop_report(h, v6, ctx.names))
            .collect();
        let started = outcome.started.unwrap_or_default();
        let samples = outcome.probes.iter().map(|p| sample(p, started)).collect();
        let duration = outcome.ended.saturating_sub(started);
        TraceReport {
            target: ctx.target.to_string(),
            address: ctx.address,
            stop: stop_report(&outcome.stop, outcome, ctx.address, &ctx.settings, v6),
            settings: ctx.settings,
            socket: ctx.socket,
            privilege: ctx.privilege,
            hops,
            duration_ms: ms_f64(duration),
            probes_sent: outcome.probes.iter().filter(|p| p.sent_at.is_some()).count(),
            foreign_replies: outcome.foreign,
            other_icmp: ctx.other_icmp,
            samples,
        }
    }

    /// Whether the target was reached.
    pub fn reached(&self) -> bool {
        self.stop.reason == "reached"
    }
}

/// The last hop worth a row: where the path ended, or one past the farthest hop that answered.
fn last_shown(outcome: &TraceOutcome, first: u8, max: u8) -> u8 {
    match outcome.stop {
        StopReason::Reached { hop } | StopReason::Unreachable { hop, .. } => hop,
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
        addrs: h
            .addrs
            .iter()
            .map(|(addr, replies)| HopAddr {
                addr: *addr,
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
        min_ms: ms_opt(h.stats.map(|s| s.min)),
        avg_ms: ms_opt(h.stats.map(|s| s.avg)),
        max_ms: ms_opt(h.stats.map(|s| s.max)),
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
    }
}

fn sample(p: &ProbeRecord, started: Duration) -> Sample {
    let r = p.reply.as_ref();
    Sample {
        ttl: p.ttl,
        query: p.query,
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
    let secs = outcome
        .ended
        .saturating_sub(outcome.started.unwrap_or_default())
        .as_secs_f64();
    match *stop {
        StopReason::Reached { hop } => StopReport {
            reason: "reached",
            hop: Some(hop),
            icmp_code: None,
            annotation: None,
            message: format!("reached {address} at hop {hop} in {secs:.2} s"),
        },
        StopReason::Unreachable { hop, code } => {
            let annotation = unreachable_annotation(v6, code);
            let from = outcome
                .probes
                .iter()
                .filter(|p| p.ttl == hop)
                .filter_map(|p| p.reply.as_ref())
                .find(|r| r.kind == ReplyKind::Unreachable)
                .map_or_else(|| "a router".to_string(), |r| r.from.to_string());
            StopReport {
                reason: "unreachable",
                hop: Some(hop),
                icmp_code: Some(code),
                message: format!(
                    "stopped by an unreachable at hop {hop}: {annotation} (ICMP type {}, code {code}) from {from}",
                    if v6 { 1 } else { 3 }
                ),
                annotation: Some(annotation),
            }
        }
        StopReason::MaxHops => StopReport {
            reason: "max_hops",
            hop: None,
            icmp_code: None,
            annotation: None,
            message: format!("not reached within {} hops", settings.max_hops),
        },
        StopReason::Deadline => StopReport {
            reason: "deadline",
            hop: None,
            icmp_code: None,
            annotation: None,
            message: format!(
                "deadline: {address} did not answer within {}{}",
                fmt_ms(Duration::from_secs_f64(settings.wait_ms / 1000.0)),
                silent_tail(outcome, settings)
            ),
        },
        StopReason::SendFailed => {
            let why = outcome
                .probes
                .iter()
                .find_map(|p| p.send_error.clone())
                .unwrap_or_default();
            StopReport {
                reason: "send_failed",
                hop: None,
                icmp_code: None,
                annotation: None,
                message: format!("no probe could be sent to {address}: {why}"),
            }
        }
    }
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

impl Report for TraceReport {
    fn view(&self) -> View {
        let mut section = Section::new(&[
            "HOP", "ADDRESS", "NAME", "PROBES", "LOSS", "MIN", "AVG", "MAX", "SDEV", "NOTE",
        ])
        .titled(format!("trace to {} ({})", self.target, self.address));
        for hop in &self.hops {
            section.rows.push(hop_row(hop));
        }
        let ignored = self.foreign_replies + self.other_icmp;
        if ignored > 0 {
            section.notes.push(format!(
                "{ignored} ICMP messages not meant for this trace were ignored"
            ));
        }
        section.notes.push(self.stop.message.clone());
        View {
            sections: vec![section],
        }
    }
}

fn hop_row(hop: &HopReport) -> Vec<Cell> {
    let dash = || Cell::toned("-", Tone::Dim);
    let ms_cell = |v: Option<f64>| {
        v.map_or_else(dash, |ms| {
            Cell::from(fmt_ms(Duration::from_secs_f64(ms / 1000.0)))
        })
    };
    let annotation = hop
        .unreachable
        .iter()
        .map(|u| u.annotation.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let probes = hop
        .rtts_ms
        .iter()
        .map(|r| match r {
            Some(ms) => fmt_ms(Duration::from_secs_f64(ms / 1000.0)),
            None => "*".to_string(),
        })
        .collect::<Vec<_>>()
        .join("  ");
    let (address, name) = if hop.addrs.is_empty() {
        (Cell::toned("*", Tone::Warn), dash())
    } else {
        let addrs = hop
            .addrs
            .iter()
            .map(|a| a.addr.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let names = hop
            .addrs
            .iter()
            .map(|a| a.name.clone().unwrap_or_else(|| "-".into()))
            .collect::<Vec<_>>()
            .join(", ");
        let tone = if hop.unreachable.is_empty() {
            Tone::Good
        } else {
            Tone::Bad
        };
        (Cell::toned(addrs, tone), Cell::from(names))
    };
    let loss_tone = if hop.received == hop.sent {
        Tone::Normal
    } else if hop.received == 0 {
        Tone::Bad
    } else {
        Tone::Warn
    };
    let mut notes = Vec::new();
    if !annotation.is_empty() {
        notes.push(annotation);
    }
    for stack in &hop.mpls {
        let labels = stack
            .iter()
            .map(|l| format!("L={} E={} S={} TTL={}", l.label, l.tc, u8::from(l.bottom), l.ttl))
            .collect::<Vec<_>>()
            .join(" / ");
        notes.push(format!("MPLS {labels}"));
    }
    vec![
        Cell::from(hop.ttl.to_string()),
        address,
        name,
        Cell::from(probes),
        Cell::toned(format!("{:.0}%", hop.loss_pct), loss_tone),
        ms_cell(hop.min_ms),
        ms_cell(hop.avg_ms),
        ms_cell(hop.max_ms),
        ms_cell(hop.stddev_ms),
        if notes.is_empty() {
            dash()
        } else {
            Cell::toned(notes.join("; "), Tone::Warn)
        },
    ]
}

#[cfg(test)]
mod tests;
