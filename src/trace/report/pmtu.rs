//! The path MTU part of the report (--mtu): where it drops, and what it is as far as the probes got.

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::Serialize;

use super::HopReport;
use crate::trace::engine::TraceOutcome;
use crate::trace::packet::ReplyKind;
use crate::trace::pmtu::drop_hop;

/// What --mtu found.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PmtuReport {
    /// The MTU of the interface the probes left by: the size they started at, bytes.
    pub interface_mtu: u16,
    /// The path MTU: the largest packet that got through to the target (or, when it was not reached,
    /// as far as the probes got), bytes.
    pub path_mtu: u16,
    /// Each drop, in TTL order.
    pub drops: Vec<PmtuDropReport>,
}

/// One drop of the path MTU.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PmtuDropReport {
    /// The hop whose next link is narrower: the router that refused the larger packets.
    pub hop: u8,
    /// That router's address.
    pub from: IpAddr,
    /// The size that did not fit, bytes.
    pub before: u16,
    /// The MTU it named (the size probes went on with), bytes.
    pub mtu: u16,
}

/// A drop as a hop row shows it.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub struct PmtuChange {
    /// The size that did not fit past this hop, bytes.
    pub before: u16,
    /// The MTU of the link after this hop, bytes.
    pub mtu: u16,
}

/// The report's --mtu part (None without --mtu), marking the hop rows where the MTU drops.
pub fn pmtu_report(outcome: &TraceOutcome, hops: &mut [HopReport]) -> Option<PmtuReport> {
    let findings = &outcome.pmtu;
    let interface_mtu = findings.start?;
    // Where each refusing router answered a probe of its own TTL (its Time Exceeded).
    let answered_at = |addr: IpAddr| {
        outcome
            .probes
            .iter()
            .filter(|p| {
                p.reply
                    .as_ref()
                    .is_some_and(|r| r.from == addr && r.kind != ReplyKind::PacketTooBig)
            })
            .map(|p| p.ttl)
            .min()
    };
    let mut drops: Vec<PmtuDropReport> = findings
        .drops
        .iter()
        .map(|d| PmtuDropReport {
            hop: drop_hop(d, answered_at),
            from: d.from,
            before: d.before,
            mtu: d.mtu,
        })
        .collect();
    drops.sort_by_key(|d| (d.hop, std::cmp::Reverse(d.mtu)));
    for d in &drops {
        if let Some(h) = hops.iter_mut().find(|h| h.ttl == d.hop) {
            // Several drops named at one hop: the row shows the whole step.
            let before = h.pmtu.map_or(d.before, |p| p.before.max(d.before));
            let mtu = h.pmtu.map_or(d.mtu, |p| p.mtu.min(d.mtu));
            h.pmtu = Some(PmtuChange { before, mtu });
        }
    }
    Some(PmtuReport {
        interface_mtu,
        path_mtu: findings.path_mtu().unwrap_or(interface_mtu),
        drops,
    })
}

/// The end of the last line: "; path MTU 1400", or the interface's when nothing refused the probes.
pub fn stop_note(pmtu: &PmtuReport, reached: bool) -> String {
    if reached {
        format!("; path MTU {}", pmtu.path_mtu)
    } else {
        format!("; path MTU {} as far as the probes got", pmtu.path_mtu)
    }
}
