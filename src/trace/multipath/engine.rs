//! The multipath engine, pure: the planner's probes handed out one at a time, answers matched by probe
//! number, silent probes given up after their fair wait, and the search ended by the rule, the probe
//! budget, the deadline or Ctrl-C. Never reads a clock: time comes from the seam's timestamps.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::Duration;

use super::log::{Answer, Fate, ProbeLog};
use super::plan::Planner;
use crate::trace::engine::{FairWait, Ts};
use crate::trace::packet::{Reply, ReplyKind};

/// Everything the engine needs, already validated.
#[derive(Debug, Clone, Copy)]
pub struct MpConfig {
    /// The planner (confidence, TTL range, flow count).
    pub planner: Planner,
    /// Where the probes go.
    pub target: IpAddr,
    /// The identifier replies to our probes carry.
    pub ident: u16,
    /// Probe `i` carries number `seq_base + i`.
    pub seq_base: u16,
    /// The search ends this long after the first probe.
    pub deadline: Duration,
    /// At most this many probes in all.
    pub max_probes: usize,
    /// The wait for a silent probe.
    pub fair: FairWait,
}

/// A probe to send now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpProbe {
    /// Its index in the log.
    pub index: usize,
    /// TTL.
    pub ttl: u8,
    /// Flow identifier.
    pub flow: u16,
    /// Probe number.
    pub seq: u16,
}

/// What the driver should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MpStep {
    /// Send this probe, then report it with [`MpEngine::sent`].
    Send(MpProbe),
    /// Receive until this instant.
    Wait(Ts),
    /// Over; call [`MpEngine::finish`].
    Done,
}

/// What ended the search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MpStop {
    /// The stopping rule: no further next hop at any hop, at the chosen confidence.
    Rule,
    /// --max-probes ran out first: the confidence was not reached.
    MaxProbes,
    /// --deadline passed first: the confidence was not reached.
    Deadline,
    /// Ctrl-C: the confidence was not reached.
    Interrupted,
    /// No more flows could be found through some node (flow identifiers exhausted): not reached.
    FlowsExhausted,
}

/// The state of one multipath search.
#[derive(Debug)]
pub struct MpEngine {
    cfg: MpConfig,
    log: ProbeLog,
    sent_at: Vec<Option<Ts>>,
    queue: VecDeque<usize>,
    t0: Option<Ts>,
    now: Ts,
    slowest: Duration,
    unmet: bool,
    stop: Option<MpStop>,
    foreign: usize,
    unsent: usize,
    /// Something was learnt since the planner last ran (it walks every hop's flows: not on every wait).
    changed: bool,
}

/// A finished search.
#[derive(Debug, Clone)]
pub struct MpOutcome {
    /// Every probe and its fate.
    pub log: ProbeLog,
    /// What ended it.
    pub stop: MpStop,
    /// From the first send to the end.
    pub elapsed: Duration,
    /// Replies that were not ours.
    pub foreign: usize,
    /// Probes whose send failed: settled as lost, never on the wire.
    pub unsent: usize,
    /// TTLs that lost too many probes for the rule's count of answers (see
    /// [`Planner::short_of_answers`]).
    pub short: Vec<u8>,
}

impl MpEngine {
    /// A new search; nothing is sent until [`MpEngine::step`] says so.
    pub fn new(cfg: MpConfig) -> Self {
        MpEngine {
            cfg,
            log: ProbeLog::default(),
            sent_at: Vec::new(),
            queue: VecDeque::new(),
            t0: None,
            now: Duration::ZERO,
            slowest: Duration::ZERO,
            unmet: false,
            stop: None,
            foreign: 0,
            unsent: 0,
            changed: true,
        }
    }

    /// Decides what to do next.
    pub fn step(&mut self) -> MpStep {
        if self.stop.is_some() {
            return MpStep::Done;
        }
        let deadline = self.t0.map(|t| t + self.cfg.deadline);
        if deadline.is_some_and(|d| self.now >= d) {
            self.stop = Some(MpStop::Deadline);
            return MpStep::Done;
        }
        self.expire();
        if self.queue.is_empty() && self.changed {
            self.changed = false;
            let budget = self.cfg.max_probes.saturating_sub(self.log.probes.len());
            let before = self.log.probes.len();
            self.cfg.planner.plan(&mut self.log, budget, &mut self.unmet);
            self.queue.extend(before..self.log.probes.len());
            self.sent_at.resize(self.log.probes.len(), None);
        }
        if let Some(&index) = self.queue.front() {
            let p = self.log.probes[index];
            return MpStep::Send(MpProbe {
                index,
                ttl: p.ttl,
                flow: p.flow,
                seq: self.cfg.seq_base.wrapping_add(index as u16),
            });
        }
        let Some(next) = self.next_expiry() else {
            self.stop = Some(self.why_over());
            return MpStep::Done;
        };
        MpStep::Wait(deadline.map_or(next, |d| d.min(next)).max(self.now))
    }

    /// Why a search with nothing left to send or wait for is over.
    fn why_over(&self) -> MpStop {
        if self.unmet {
            MpStop::MaxProbes
        } else if self.cfg.planner.satisfied(&self.log) {
            MpStop::Rule
        } else {
            MpStop::FlowsExhausted
        }
    }

    /// The wait for a silent probe, from the slowest answer so far.
    fn wait(&self) -> Duration {
        self.cfg.fair.wait_for(self.slowest)
    }

    /// Gives up the probes whose wait has passed.
    fn expire(&mut self) {
        let wait = self.wait();
        for (i, sent) in self.sent_at.iter().enumerate() {
            if let Some(at) = sent
                && self.log.probes[i].fate == Fate::Pending
                && *at + wait <= self.now
            {
                self.log.settle(i, Fate::Lost);
                self.changed = true;
            }
        }
    }

    /// When the next pending probe's wait ends.
    fn next_expiry(&self) -> Option<Ts> {
        let wait = self.wait();
        self.sent_at
            .iter()
            .enumerate()
            .filter(|(i, _)| self.log.probes[*i].fate == Fate::Pending)
            .filter_map(|(_, s)| s.map(|at| at + wait))
            .min()
    }

    /// Records that probe `index` went out at `at` (or why it could not: then it counts as lost).
    pub fn sent(&mut self, index: usize, result: Result<Ts, String>) {
        if self.queue.front() == Some(&index) {
            self.queue.pop_front();
        }
        match result {
            Ok(at) => {
                self.sent_at[index] = Some(at);
                self.t0.get_or_insert(at);
                self.now = self.now.max(at);
            }
            Err(_) => {
                self.unsent += 1;
                self.log.settle(index, Fate::Lost);
                self.changed = true;
            }
        }
    }

    /// Matches a decoded reply from `from` received at `at`; true when it answered one of our probes.
    pub fn received(&mut self, from: IpAddr, reply: &Reply, at: Ts) -> bool {
        self.now = self.now.max(at);
        let target = self.cfg.target;
        let from_target = matches!(
            reply.kind,
            ReplyKind::EchoReply | ReplyKind::PortOpen | ReplyKind::PortClosed
        );
        let ours = reply.ident == self.cfg.ident
            && if from_target {
                from == target
            } else {
                reply.quoted_dst == Some(target) && reply.kind != ReplyKind::PacketTooBig
            };
        let index = usize::from(reply.seq.wrapping_sub(self.cfg.seq_base));
        let sent = self.sent_at.get(index).copied().flatten();
        let (true, Some(sent)) = (ours, sent) else {
            self.foreign += 1;
            return false;
        };
        let rtt = at.saturating_sub(sent);
        self.slowest = self.slowest.max(rtt);
        let terminal = from_target || (reply.kind == ReplyKind::Unreachable);
        let translated = reply.translated;
        let answer = Answer {
            from,
            rtt,
            terminal,
            translated,
        };
        self.log.settle(index, Fate::Answered(answer));
        self.changed = true;
        true
    }

    /// Time passed until `at` without a reply.
    pub fn waited(&mut self, at: Ts) {
        self.now = self.now.max(at);
    }

    /// Ctrl-C at `at`.
    pub fn interrupt(&mut self, at: Ts) {
        self.now = self.now.max(at);
        self.stop.get_or_insert(MpStop::Interrupted);
    }

    /// Probes sent so far.
    pub fn spent(&self) -> usize {
        self.sent_at.iter().filter(|s| s.is_some()).count()
    }

    /// The finished search.
    pub fn finish(self) -> MpOutcome {
        MpOutcome {
            short: self.cfg.planner.short_of_answers(&self.log),
            elapsed: self.t0.map_or(Duration::ZERO, |t| self.now.saturating_sub(t)),
            stop: self.stop.unwrap_or(MpStop::Deadline),
            log: self.log,
            foreign: self.foreign,
            unsent: self.unsent,
        }
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
