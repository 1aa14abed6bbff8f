//! The planner, pure: from what the log knows, which probes go out next at every TTL at once.
//!
//! By default each TTL `h` is one group (MDA-Lite's hop-level counting, Vermeulen et al., "Multilevel
//! MDA-Lite Paris Traceroute", IMC 2018): `h` needs `stop_point(k)` distinct flows answered or lost, `k`
//! being the interfaces seen at `h`, the hops that show several sharing the failure the confidence
//! allows. Flows are numbered from 0 at every TTL, and a TTL that answered also gets the flows its next
//! TTL needs: every flow sent at a hop of several interfaces was seen one TTL before, which draws its
//! link. TTL 1 (this host's own route) gets one flow. With `per_node` (MDA's node control), the
//! nodes of the nearest lower TTL that has any (the parents) each form a group of the flows that went
//! through them, and `k` counts that node's own next hops: a group short of flows takes flows known to
//! pass its parent and not yet sent at `h`; when none are left, fresh flows go out at the parent's TTL
//! to find more (at `h` too when the parent's TTL has a single node, so that no round trip is lost).
//! Hops with several interfaces get a few flows re-sent (checks): one flow meeting two interfaces means
//! per-packet balancing (with node control, the next TTL's groups are then pooled: flows say nothing
//! about branches there).

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::log::{Fate, ProbeLog, answer};
use super::rule::Confidence;

/// Once a TTL past the farthest answer went silent, the first flow goes this many TTLs past that answer
/// at once (a silent stretch costs one wait, not one per TTL, and this many silent TTLs end the path).
/// Until then it goes one TTL at a time: a probe past the target is a probe spent for nothing.
const WINDOW: u8 = 8;

/// How a hop's interfaces share the traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Balancing {
    /// One interface answered.
    None,
    /// Several interfaces, each flow always meeting the same one.
    PerFlow,
    /// One flow met several interfaces: a per-packet balancer before this hop.
    PerPacket,
}

/// How a hop's balancing shows in the log: per-packet as soon as a re-sent flow met another interface.
pub fn balancing(log: &ProbeLog, ttl: u8) -> Balancing {
    let mixed = log.flows_at(ttl).any(|(flow, p)| {
        answer(p).is_some_and(|first| {
            log.checks(ttl, flow)
                .any(|c| answer(c).is_some_and(|a| a.from != first.from))
        })
    });
    if mixed {
        Balancing::PerPacket
    } else if log.nodes_at(ttl).len() > 1 {
        Balancing::PerFlow
    } else {
        Balancing::None
    }
}

/// The settings the planner works with.
#[derive(Debug, Clone, Copy)]
pub struct Planner {
    /// The confidence the rule is applied at.
    pub confidence: Confidence,
    /// Lowest TTL probed.
    pub first_ttl: u8,
    /// Highest TTL probed.
    pub max_ttl: u8,
    /// Flow identifiers are below this.
    pub max_flows: u16,
    /// MDA's node control (each interface's next hops counted apart: more probes, and the confidence
    /// also holds where a diamond's branches are uneven) instead of MDA-Lite's hop-level counting.
    pub per_node: bool,
}

/// Where a group of flows comes from at the TTL probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parent {
    /// No lower TTL answered: every flow.
    Root,
    /// A per-packet hop at this TTL: every flow answered there.
    Any(u8),
    /// This interface at this TTL.
    Node(u8, IpAddr),
}

/// A group's counts at the TTL probed.
#[derive(Debug, Default)]
struct Tally {
    answered: usize,
    lost: usize,
    pending: usize,
    next_hops: BTreeSet<IpAddr>,
    all_terminal: bool,
}

impl Planner {
    /// Pushes onto `log` the probes to send now (at most `budget`) and returns how many; `unmet` is
    /// set when the budget kept some group short.
    pub fn plan(&self, log: &mut ProbeLog, budget: usize, unmet: &mut bool) -> usize {
        let start = log.probes.len();
        self.extend_wave(log, budget, unmet);
        let Some(top) = log.end().or_else(|| log.highest_answered()) else {
            return log.probes.len() - start;
        };
        for h in self.first_ttl..=top.min(self.max_ttl) {
            for parent in self.parents(log, h) {
                let room = budget.saturating_sub(log.probes.len() - start);
                self.fill(log, h, parent, room, unmet);
            }
            let room = budget.saturating_sub(log.probes.len() - start);
            self.check(log, h, room, unmet);
        }
        log.probes.len() - start
    }

    /// Sends the first flow at the next TTL past the farthest answer, or up to [`WINDOW`] past it once a
    /// TTL there went silent, while the end is unknown.
    fn extend_wave(&self, log: &mut ProbeLog, budget: usize, unmet: &mut bool) {
        if log.end().is_some() {
            return;
        }
        let reach = log.highest_answered().unwrap_or(self.first_ttl - 1);
        let silent = log
            .flows_at_or_above(reach.saturating_add(1))
            .any(|p| p.fate == Fate::Lost);
        let window = if silent { WINDOW } else { 1 };
        let upto = reach.saturating_add(window).min(self.max_ttl);
        let mut room = budget;
        for ttl in self.first_ttl..=upto {
            if log.at(ttl, 0).is_some() {
                continue;
            }
            if room == 0 {
                *unmet = true;
                return;
            }
            log.push(ttl, 0, false);
            room -= 1;
        }
    }

    /// Whether every group at every TTL up to the path's end met the rule or was given up (nothing
    /// pending).
    pub fn satisfied(&self, log: &ProbeLog) -> bool {
        if log.end().or_else(|| log.highest_answered()).is_none() {
            return log.pending() == 0;
        }
        self.groups(log)
            .iter()
            .all(|(_, t, need)| t.pending == 0 && (t.answered >= *need || t.lost >= *need))
    }

    /// The TTLs where some group answered, but lost too many probes to reach the rule's count: the
    /// confidence does not hold there.
    pub fn short_of_answers(&self, log: &ProbeLog) -> Vec<u8> {
        let mut short: Vec<u8> = self
            .groups(log)
            .into_iter()
            .filter(|(_, t, need)| t.answered > 0 && t.answered < *need)
            .map(|(h, _, _)| h)
            .collect();
        short.dedup();
        short
    }

    /// Every group at every TTL up to the path's end (or the farthest answer), with its counts and what
    /// the rule needs of it, nearest TTL first.
    fn groups(&self, log: &ProbeLog) -> Vec<(u8, Tally, usize)> {
        let Some(top) = log.end().or_else(|| log.highest_answered()) else {
            return Vec::new();
        };
        (self.first_ttl..=top.min(self.max_ttl))
            .flat_map(|h| {
                self.parents(log, h).into_iter().map(move |parent| {
                    let t = tally(log, h, parent);
                    let need = self.need(log, h, &t);
                    (h, t, need)
                })
            })
            .collect()
    }

    /// The groups of flows at `h`.
    fn parents(&self, log: &ProbeLog, h: u8) -> Vec<Parent> {
        if !self.per_node {
            return vec![Parent::Root];
        }
        let Some(t) = (self.first_ttl..h).rev().find(|&t| !log.nodes_at(t).is_empty()) else {
            return vec![Parent::Root];
        };
        if balancing(log, t) == Balancing::PerPacket {
            return vec![Parent::Any(t)];
        }
        log.nodes_at(t).into_iter().map(|v| Parent::Node(t, v)).collect()
    }

    /// Probes a group needs answered or lost at `h`: its own, and with hop-level counting also the flows
    /// the next TTL needs, so that every flow there is known here (the links into a hop of several
    /// interfaces are seen, and a balancer before `h` meets the next hop's many flows too).
    fn need(&self, log: &ProbeLog, h: u8, t: &Tally) -> usize {
        let own = self.own_need(log, h, t);
        // A silent TTL has no links to show.
        if self.per_node || own == 1 || t.answered == 0 || log.end().is_some_and(|end| end <= h) {
            return own;
        }
        let next = h.saturating_add(1);
        if log.flows_at(next).next().is_none() {
            return own;
        }
        own.max(self.own_need(log, next, &tally(log, next, Parent::Root)))
    }

    /// What the rule asks of a group at `h` by itself.
    fn own_need(&self, log: &ProbeLog, h: u8, t: &Tally) -> usize {
        // The target is one node: past it there is nothing to rule out, one flow per parent draws the edge.
        if log.end() == Some(h) && t.all_terminal && t.answered > 0 {
            return 1;
        }
        // TTL 1's interface is this host's own choice of route (as scamper's tracelb, the first hop is
        // not searched for siblings): the links out of it are what a balancer decides.
        if h == 1 && t.answered > 0 {
            return 1;
        }
        let k = t.next_hops.len();
        if self.per_node || k < 2 {
            return self.confidence.stop_point(k);
        }
        // Hop-level counting states its confidence for the whole path: the hops that show several
        // interfaces share the failure the confidence allows.
        let balanced = (self.first_ttl..=self.max_ttl)
            .filter(|&ttl| log.nodes_at(ttl).len() > 1)
            .count();
        self.confidence.stop_point_shared(k, balanced)
    }

    /// Sends what group `parent` still needs at `h`, within `room` probes.
    fn fill(&self, log: &mut ProbeLog, h: u8, parent: Parent, room: usize, unmet: &mut bool) {
        let t = tally(log, h, parent);
        let need = self.need(log, h, &t);
        // A lost probe says nothing about the next hops: another flow takes its place, until as many
        // were lost as the rule needs answered (a silent or rate-limited hop is then given up).
        if t.lost >= need {
            return;
        }
        // Never more out at once than could still be lost before giving up.
        let deficit = need
            .saturating_sub(t.answered + t.pending)
            .min(need.saturating_sub(t.lost + t.pending));
        if deficit == 0 {
            return;
        }
        if room < deficit {
            *unmet = true;
        }
        let mut left = deficit.min(room);
        let mut room = room;
        for flow in candidates(log, h, parent).into_iter().take(left) {
            log.push(h, flow, false);
            left -= 1;
            room -= 1;
        }
        if left == 0 {
            return;
        }
        let at = match parent {
            Parent::Root => {
                for flow in self.fresh(log, &[h], left) {
                    log.push(h, flow, false);
                }
                return;
            }
            Parent::Any(t) | Parent::Node(t, _) => t,
        };
        if log.nodes_at(at).len() == 1 {
            // The parent's TTL has one node: a fresh flow will pass it, so it goes out at both TTLs now.
            if room < 2 * left {
                *unmet = true;
            }
            for flow in self.fresh(log, &[at, h], left.min(room / 2)) {
                log.push(at, flow, false);
                log.push(h, flow, false);
            }
        } else if !log.pending_at(at) {
            // About one fresh flow in `nodes` passes a given node there.
            let spread = left.saturating_mul(log.nodes_at(at).len()).min(room);
            for flow in self.fresh(log, &[at], spread) {
                log.push(at, flow, false);
            }
        }
    }

    /// Re-sends a few answered flows at a hop with several interfaces, until one meets another
    /// interface or every check was made.
    fn check(&self, log: &mut ProbeLog, h: u8, mut room: usize, unmet: &mut bool) {
        if log.nodes_at(h).len() < 2 || balancing(log, h) == Balancing::PerPacket {
            return;
        }
        let flows: Vec<u16> = log
            .flows_at(h)
            .filter(|(_, p)| answer(p).is_some())
            .map(|(f, _)| f)
            .collect();
        let done = flows.iter().map(|&f| log.checks(h, f).count()).sum::<usize>();
        let wanted = self.confidence.per_packet_checks();
        // One re-send per answered flow, the lowest flows first (round again if there are too few).
        let mut next = flows.iter().cycle().skip(done);
        for _ in done.min(wanted)..wanted {
            if room == 0 {
                *unmet = true;
                return;
            }
            let Some(&flow) = next.next() else { return };
            log.push(h, flow, true);
            room -= 1;
        }
    }

    /// `count` flows never sent at any of `ttls`, lowest first.
    fn fresh(&self, log: &ProbeLog, ttls: &[u8], count: usize) -> Vec<u16> {
        (0..self.max_flows)
            .filter(|&f| ttls.iter().all(|&t| log.at(t, f).is_none()))
            .take(count)
            .collect()
    }
}

/// Whether `flow` belongs to the group: answered at the parent's TTL by the parent; below a TTL with a
/// single node, any flow (it passed there whether its probe at that TTL was answered, lost, pending or
/// never sent, the rule permitting), so that no next hop a flow found goes uncounted.
/// `single`: the parent's TTL has one node (see [`single_below`]).
fn member(log: &ProbeLog, flow: u16, parent: Parent, single: bool) -> bool {
    let (t, node) = match parent {
        Parent::Root => return true,
        Parent::Any(t) => (t, None),
        Parent::Node(t, v) => (t, Some(v)),
    };
    if node.is_some() && single {
        return true;
    }
    log.at(t, flow)
        .and_then(answer)
        .is_some_and(|a| node.is_none_or(|v| a.from == v))
}

/// Whether the parent's TTL has a single node (computed once per group: it walks that TTL's flows).
fn single_below(log: &ProbeLog, parent: Parent) -> bool {
    match parent {
        Parent::Node(t, _) => log.nodes_at(t).len() == 1,
        _ => false,
    }
}

/// The group's counts at `h`.
fn tally(log: &ProbeLog, h: u8, parent: Parent) -> Tally {
    let single = single_below(log, parent);
    let mut t = Tally {
        all_terminal: true,
        ..Tally::default()
    };
    for (flow, p) in log.flows_at(h) {
        if !member(log, flow, parent, single) {
            continue;
        }
        match p.fate {
            Fate::Pending => t.pending += 1,
            Fate::Lost => t.lost += 1,
            Fate::Answered(a) => {
                t.answered += 1;
                t.next_hops.insert(a.from);
                t.all_terminal &= a.terminal;
            }
        }
    }
    t
}

/// Flows known (or, below a single node, about to be known) to pass the parent, not yet sent at `h`.
fn candidates(log: &ProbeLog, h: u8, parent: Parent) -> Vec<u16> {
    let t = match parent {
        Parent::Root => return Vec::new(),
        Parent::Any(t) | Parent::Node(t, _) => t,
    };
    let single = single_below(log, parent);
    log.flows_at(t)
        .filter(|(f, _)| log.at(h, *f).is_none() && member(log, *f, parent, single))
        .map(|(f, _)| f)
        .collect()
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
