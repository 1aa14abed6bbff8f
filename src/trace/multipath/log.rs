//! What a multipath trace has sent and heard so far, per TTL and flow: the state the planner and the
//! graph read. Pure; times are the engine's business.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::Duration;

/// What became of one probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Sent (or about to be), no answer yet and its wait not over.
    Pending,
    /// Its wait passed without an answer.
    Lost,
    /// Answered.
    Answered(Answer),
}

/// Who answered a probe and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// The interface that answered.
    pub from: IpAddr,
    /// Round-trip time.
    pub rtt: Duration,
    /// The target answered, or an unreachable ended the path here.
    pub terminal: bool,
    /// The answer quoted the probe rewritten (a NAT before this hop).
    pub translated: bool,
}

/// One probe: a flow at a TTL; `check` probes re-send a flow already answered at that TTL to tell
/// per-packet from per-flow balancing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// TTL it goes out with.
    pub ttl: u8,
    /// Flow identifier (0..).
    pub flow: u16,
    /// A re-send of an answered flow.
    pub check: bool,
    /// What became of it.
    pub fate: Fate,
}

/// Every probe of the run, indexed by TTL and flow.
#[derive(Debug, Clone, Default)]
pub struct ProbeLog {
    /// Every probe in send order (its index is its number in the run).
    pub probes: Vec<Probe>,
    /// Per TTL: flow -> index of its first (non-check) probe.
    first: BTreeMap<u8, BTreeMap<u16, usize>>,
}

impl ProbeLog {
    /// Records a probe about to go out; returns its index.
    pub fn push(&mut self, ttl: u8, flow: u16, check: bool) -> usize {
        let index = self.probes.len();
        self.probes.push(Probe {
            ttl,
            flow,
            check,
            fate: Fate::Pending,
        });
        if !check {
            self.first.entry(ttl).or_default().entry(flow).or_insert(index);
        }
        index
    }

    /// Sets what became of probe `index` (an answer wins over a loss; the first answer is kept).
    pub fn settle(&mut self, index: usize, fate: Fate) {
        if let Some(p) = self.probes.get_mut(index)
            && !matches!(p.fate, Fate::Answered(_))
        {
            p.fate = fate;
        }
    }

    /// The first probe of `flow` at `ttl`.
    pub fn at(&self, ttl: u8, flow: u16) -> Option<&Probe> {
        self.first
            .get(&ttl)
            .and_then(|m| m.get(&flow))
            .map(|&i| &self.probes[i])
    }

    /// The first probes sent at `ttl`, by flow.
    pub fn flows_at(&self, ttl: u8) -> impl Iterator<Item = (u16, &Probe)> {
        self.first
            .get(&ttl)
            .into_iter()
            .flat_map(|m| m.iter().map(|(&f, &i)| (f, &self.probes[i])))
    }

    /// The first probes sent at `ttl` or above.
    pub fn flows_at_or_above(&self, ttl: u8) -> impl Iterator<Item = &Probe> {
        self.first
            .range(ttl..)
            .flat_map(|(_, m)| m.values().map(|&i| &self.probes[i]))
    }

    /// The interfaces that answered first probes at `ttl`.
    pub fn nodes_at(&self, ttl: u8) -> BTreeSet<IpAddr> {
        self.flows_at(ttl)
            .filter_map(|(_, p)| answer(p).map(|a| a.from))
            .collect()
    }

    /// Whether any first probe at `ttl` still waits for its answer.
    pub fn pending_at(&self, ttl: u8) -> bool {
        self.flows_at(ttl).any(|(_, p)| p.fate == Fate::Pending)
    }

    /// The check probes of `flow` at `ttl`.
    pub fn checks(&self, ttl: u8, flow: u16) -> impl Iterator<Item = &Probe> {
        self.probes
            .iter()
            .filter(move |p| p.check && p.ttl == ttl && p.flow == flow)
    }

    /// The lowest TTL answered by the target (or an unreachable).
    pub fn end(&self) -> Option<u8> {
        self.probes
            .iter()
            .filter(|p| answer(p).is_some_and(|a| a.terminal))
            .map(|p| p.ttl)
            .min()
    }

    /// The highest TTL any probe was answered at.
    pub fn highest_answered(&self) -> Option<u8> {
        self.probes
            .iter()
            .filter(|p| answer(p).is_some())
            .map(|p| p.ttl)
            .max()
    }

    /// Probes still waiting.
    pub fn pending(&self) -> usize {
        self.probes.iter().filter(|p| p.fate == Fate::Pending).count()
    }
}

/// A probe's answer, if it has one.
pub fn answer(p: &Probe) -> Option<Answer> {
    match p.fate {
        Fate::Answered(a) => Some(a),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An answer from `a` (a literal) after 1 ms.
    pub(crate) fn from(a: &str) -> Fate {
        Fate::Answered(Answer {
            from: a.parse().unwrap(),
            rtt: Duration::from_millis(1),
            terminal: false,
            translated: false,
        })
    }

    #[test]
    fn first_probes_are_indexed_and_checks_kept_apart() {
        let mut log = ProbeLog::default();
        let a = log.push(1, 0, false);
        let b = log.push(1, 0, true);
        log.settle(a, from("198.51.100.1"));
        log.settle(b, from("198.51.100.2"));
        log.settle(a, Fate::Lost);
        assert_eq!(log.at(1, 0).unwrap().fate, from("198.51.100.1"));
        assert_eq!(log.nodes_at(1).len(), 1);
        assert_eq!(log.checks(1, 0).count(), 1);
        assert!(!log.pending_at(1));
        assert_eq!(log.end(), None);
        assert_eq!(log.highest_answered(), Some(1));
    }
}
