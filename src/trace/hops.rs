//! Per-hop summaries of a finished trace, pure: who answered each TTL, with what RTTs, codes and labels.

use std::net::IpAddr;
use std::time::Duration;

use super::engine::{ProbeRecord, ProbeReply};
use super::packet::{MplsLabel, ReplyKind};
use crate::stats::RttStats;

/// One hop as the report shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct HopSummary {
    /// The TTL.
    pub ttl: u8,
    /// Addresses that answered, in order of first answer, with how many replies each.
    pub addrs: Vec<(IpAddr, u32)>,
    /// Each query's probe, in query order.
    pub probes: Vec<ProbeRecord>,
    /// Probes sent successfully.
    pub sent: u32,
    /// Probes answered.
    pub received: u32,
    /// RTT statistics over the answered probes.
    pub stats: Option<RttStats>,
    /// RTT of the answered probe sent last (mtr's "last").
    pub last: Option<Duration>,
    /// Distinct unreachable codes seen at this hop.
    pub unreachable_codes: Vec<u8>,
    /// Distinct MPLS label stacks seen at this hop.
    pub mpls: Vec<Vec<MplsLabel>>,
    /// Some reply here quoted its probe rewritten (a NAT before this hop).
    pub translated: bool,
}

impl HopSummary {
    /// Share of sent probes that were not answered, 0.0 to 1.0 (1.0 when nothing was sent).
    pub fn loss(&self) -> f64 {
        if self.sent == 0 {
            1.0
        } else {
            f64::from(self.sent - self.received) / f64::from(self.sent)
        }
    }
}

/// Groups the probes of a finished trace by hop, for TTLs `first..=last`.
pub fn hop_summaries(probes: &[ProbeRecord], first: u8, last: u8) -> Vec<HopSummary> {
    (first..=last)
        .map(|ttl| {
            let mut at_hop: Vec<ProbeRecord> = probes.iter().filter(|p| p.ttl == ttl).cloned().collect();
            at_hop.sort_by_key(|p| (p.cycle, p.query));
            let mut addrs: Vec<(IpAddr, u32)> = Vec::new();
            let mut rtts = Vec::new();
            let mut unreachable_codes = Vec::new();
            let mut mpls: Vec<Vec<MplsLabel>> = Vec::new();
            // Answers in arrival order, so addresses are listed as they were first seen.
            let mut replies: Vec<&ProbeReply> = at_hop.iter().filter_map(|p| p.reply.as_ref()).collect();
            replies.sort_by_key(|r| r.at);
            for r in replies {
                match addrs.iter_mut().find(|(a, _)| *a == r.from) {
                    Some((_, n)) => *n += 1,
                    None => addrs.push((r.from, 1)),
                }
                rtts.push(r.rtt);
                if r.kind == ReplyKind::Unreachable
                    && !r.from_target
                    && !unreachable_codes.contains(&r.icmp_code)
                {
                    unreachable_codes.push(r.icmp_code);
                }
                if !r.mpls.is_empty() && !mpls.contains(&r.mpls) {
                    mpls.push(r.mpls.clone());
                }
            }
            let last = at_hop
                .iter()
                .filter(|p| p.reply.is_some())
                .max_by_key(|p| p.sent_at)
                .and_then(|p| p.reply.as_ref().map(|r| r.rtt));
            HopSummary {
                ttl,
                last,
                sent: at_hop.iter().filter(|p| p.sent_at.is_some()).count() as u32,
                received: rtts.len() as u32,
                stats: RttStats::of(&rtts),
                addrs,
                translated: at_hop
                    .iter()
                    .any(|p| p.reply.as_ref().is_some_and(|r| r.translated)),
                probes: at_hop,
                unreachable_codes,
                mpls,
            }
        })
        .collect()
}
