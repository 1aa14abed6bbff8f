//! The trace engine, pure: probe schedule in waves, strict reply matching, stop rules, per-hop stats.
//!
//! The engine never reads a clock and never touches a socket. The driver asks [`Engine::step`] what to do
//! next (send a probe, wait for replies until an instant, or stop), performs it through the network seam
//! and hands back what happened with the seam's timestamps. Time only advances through those timestamps,
//! so unit tests can replay exact timings.

use std::net::IpAddr;
use std::time::Duration;

use super::packet::{MplsLabel, Reply, ReplyKind};
use super::pmtu::{PmtuFindings, PmtuState, RESEND_FACTOR};

/// From this wave gap on, it is kept between any two probes to one hop, not just between wave starts.
const STRICT_GAP: Duration = Duration::from_millis(50);

/// A point in time on the seam's monotonic clock (time since an arbitrary origin).
pub type Ts = Duration;

/// How long to wait for a probe that is not answered, scaled from the RTTs of replies from its hop or
/// farther ones (traceroute's NEAR factor, tighter), kept between a floor and a cap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FairWait {
    /// Multiple of the slowest reply at this hop or beyond.
    pub factor: f64,
    /// Never wait less than this (ICMP generation on routers is slow and jittery), unless the cap is lower.
    pub floor: Duration,
    /// Never wait more than this per probe (-w): it wins over the floor.
    pub cap: Duration,
}

impl FairWait {
    /// The wait for a probe given the slowest RTT seen at its hop or farther.
    pub fn wait_for(&self, reference: Duration) -> Duration {
        reference
            .mul_f64(self.factor)
            .clamp(self.floor.min(self.cap), self.cap)
    }
}

/// What the probes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[cfg_attr(not(fuzzing), derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// ICMP echo requests (the target answers with an echo reply).
    #[default]
    Icmp,
    /// UDP datagrams to a port (the target answers with port unreachable, when nothing listens).
    Udp,
    /// TCP SYNs to a port (the target answers SYN-ACK when open, RST when closed).
    Tcp,
}

/// Everything the engine needs to know, already validated.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where the probes go.
    pub target: IpAddr,
    /// What the probes are: decides which replies mean the target answered.
    pub protocol: Protocol,
    /// Echo identifier our probes carry (for ping sockets, the one the kernel assigned).
    pub ident: u16,
    /// Sequence number of the first probe; probe `i` carries `seq_base + i`.
    pub seq_base: u16,
    /// Lowest TTL probed.
    pub first_ttl: u8,
    /// Highest TTL probed.
    pub max_hops: u8,
    /// Probes per hop (one per wave).
    pub queries: u8,
    /// At most this many probes awaiting an answer at once (None: unlimited).
    pub max_in_flight: Option<usize>,
    /// Time between the starts of successive waves.
    pub wave_gap: Duration,
    /// At most this many probes per second overall (None: as fast as the schedule goes).
    pub max_rate: Option<f64>,
    /// The global deadline, counted from the first probe sent.
    pub deadline: Duration,
    /// The wait for unanswered probes once farther hops answered.
    pub fair: FairWait,
    /// With --mtu: the size probes start at (the outgoing interface's MTU), bytes; None: small probes.
    pub mtu: Option<u16>,
}

impl EngineConfig {
    /// Number of TTLs probed.
    fn hop_count(&self) -> usize {
        usize::from(self.max_hops.saturating_sub(self.first_ttl)) + 1
    }

    /// Total probes in the schedule.
    pub fn probe_count(&self) -> usize {
        self.hop_count() * usize::from(self.queries)
    }
}

/// A probe the driver should send now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeSpec {
    /// Index in the schedule.
    pub index: usize,
    /// TTL / hop limit to send it with.
    pub ttl: u8,
    /// Which query of its hop (its wave).
    pub query: u8,
    /// Echo identifier.
    pub ident: u16,
    /// Echo sequence number.
    pub seq: u16,
    /// With --mtu: the packet's size, IP header included; None: the usual small probe.
    pub size: Option<u16>,
}

/// What the driver should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Send this probe, then report it with [`Engine::sent`].
    Send(ProbeSpec),
    /// Receive replies until this instant; report each with [`Engine::received`], or [`Engine::waited`]
    /// when the instant passed without one.
    Wait(Ts),
    /// The trace is over; call [`Engine::finish`].
    Done,
}

/// What became of a reply handed to the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It answers one of our probes, for the first time.
    Matched,
    /// It answers a probe that was already answered.
    Duplicate,
    /// Not ours: another process's ICMP, another target, an unknown sequence.
    Foreign,
}

/// How the trace ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// The target answered at this hop, and every lower hop answered or had its fair wait.
    Reached {
        /// The TTL of the first probe the target answered.
        hop: u8,
    },
    /// A destination unreachable ended the path at this hop.
    Unreachable {
        /// The TTL of the first probe that drew the unreachable.
        hop: u8,
        /// ICMP code of that unreachable.
        code: u8,
    },
    /// Every probe up to max hops was answered or given up on without reaching the target.
    MaxHops,
    /// The global deadline passed before the target answered.
    Deadline,
    /// No probe could be sent at all.
    SendFailed,
    /// Ctrl-C (SIGINT) stopped the trace.
    Interrupted,
}

/// The answer one probe drew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReply {
    /// Who answered.
    pub from: IpAddr,
    /// When the reply arrived (socket timestamp).
    pub at: Ts,
    /// Round-trip time.
    pub rtt: Duration,
    /// Echo reply, time exceeded or unreachable.
    pub kind: ReplyKind,
    /// ICMP type as received.
    pub icmp_type: u8,
    /// ICMP code as received.
    pub icmp_code: u8,
    /// MPLS labels from ICMP extensions.
    pub mpls: Vec<MplsLabel>,
    /// The reply came after the probe's fair wait had already passed.
    pub late: bool,
    /// The target itself answered (echo reply, UDP port unreachable, SYN-ACK or RST from it).
    pub from_target: bool,
    /// The reply quoted the probe other than it was sent: a translator (NAT) is before this hop.
    pub translated: bool,
}

/// One probe of the schedule and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRecord {
    /// TTL it was sent with.
    pub ttl: u8,
    /// Which query of its hop (the wave it went out in).
    pub query: u8,
    /// Its echo sequence number.
    pub seq: u16,
    /// When it was sent (None: never sent).
    pub sent_at: Option<Ts>,
    /// The send failed with this error.
    pub send_error: Option<String>,
    /// The first matching reply.
    pub reply: Option<ProbeReply>,
    /// Further replies matching the same probe.
    pub duplicates: u32,
    /// Which cycle of a repeated trace (-c) it belongs to, from 0.
    pub cycle: u32,
    /// With --mtu: the size it went out at last, bytes.
    pub size: Option<u16>,
}

/// Counters of a running trace, for a progress display.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProbeCounts {
    /// Probes sent.
    pub sent: usize,
    /// Probes answered.
    pub answered: usize,
    /// Replies that were not ours.
    pub foreign: usize,
    /// The lowest hop where the target answered, if any.
    pub reached: Option<u8>,
}

/// Everything a finished trace knows.
#[derive(Debug, Clone)]
pub struct TraceOutcome {
    /// Every probe of the schedule, in schedule order.
    pub probes: Vec<ProbeRecord>,
    /// How it ended.
    pub stop: StopReason,
    /// Time of the first send.
    pub started: Option<Ts>,
    /// The engine's time when it stopped.
    pub ended: Ts,
    /// Replies that were not ours (other processes' ICMP, other targets).
    pub foreign: usize,
    /// What --mtu learned about the path MTU (empty without it).
    pub pmtu: PmtuFindings,
}

/// The state of one trace.
#[derive(Debug)]
pub struct Engine {
    cfg: EngineConfig,
    probes: Vec<ProbeRecord>,
    /// Next schedule index to consider sending.
    next: usize,
    /// Time of the first send.
    t0: Option<Ts>,
    /// Latest time known from the seam.
    now: Ts,
    foreign: usize,
    done: Option<StopReason>,
    /// Per TTL (index `ttl - first_ttl`): the slowest RTT of any reply at that TTL or beyond,
    /// kept up to date as replies arrive so that fair waits cost O(1).
    reference: Vec<Option<Duration>>,
    /// The lowest TTL that drew an echo reply or an unreachable.
    end_hop: Option<u8>,
    /// With --mtu: probe sizes and the probes to resend smaller.
    pmtu: Option<PmtuState>,
}

impl Engine {
    /// A new trace; nothing is sent until [`Engine::step`] says so.
    pub fn new(cfg: EngineConfig) -> Self {
        let hops = cfg.hop_count();
        let probes = (0..cfg.probe_count())
            .map(|i| ProbeRecord {
                ttl: cfg.first_ttl + (i % hops) as u8,
                query: (i / hops) as u8,
                seq: cfg.seq_base.wrapping_add(i as u16),
                sent_at: None,
                send_error: None,
                reply: None,
                duplicates: 0,
                cycle: 0,
                size: cfg.mtu,
            })
            .collect();
        // Resent probes are numbered after the schedule's; the caller keeps room for them (see
        // `probe_numbers`).
        let count = cfg.probe_count();
        let pmtu = cfg.mtu.map(|start| {
            let first = cfg.seq_base.wrapping_add(count as u16);
            PmtuState::new(start, first, count * RESEND_FACTOR, cfg.target.is_ipv6())
        });
        Engine {
            cfg,
            probes,
            next: 0,
            t0: None,
            now: Duration::ZERO,
            foreign: 0,
            done: None,
            reference: vec![None; hops],
            end_hop: None,
            pmtu,
        }
    }

    /// Decides what to do next from the state and the latest known time.
    pub fn step(&mut self) -> Step {
        if self.done.is_some() {
            return Step::Done;
        }
        if let Some(reason) = self.stop_reason() {
            self.done = Some(reason);
            return Step::Done;
        }
        self.skip_beyond_terminal();
        let Some(t0) = self.t0 else {
            // Nothing sent yet: the first probe goes now.
            return match self.next_spec() {
                Some(spec) => Step::Send(spec),
                None => {
                    self.done = Some(StopReason::SendFailed);
                    Step::Done
                }
            };
        };
        let mut wake = t0 + self.cfg.deadline;
        if let Some(spec) = self.next_spec() {
            let due = self.due(t0, spec);
            let blocked = self.in_flight_blocked();
            if due <= self.now && !blocked {
                return Step::Send(spec);
            }
            if due > self.now {
                wake = wake.min(due);
            }
            if blocked && let Some(t) = self.next_release() {
                wake = wake.min(t);
            }
        }
        if let Some(t) = self.next_settle() {
            wake = wake.min(t);
        }
        // The deadline lies ahead (else stop_reason would have fired), so `wake` is in the future.
        Step::Wait(wake.max(self.now))
    }

    /// When a probe may go: its wave's start, one gap after its hop's previous probe, and with --max-rate no sooner than the rate allows
    /// (the n-th probe sent at n / rate seconds after the first).
    fn due(&self, t0: Ts, spec: ProbeSpec) -> Ts {
        let mut wave = t0 + self.cfg.wave_gap * u32::from(spec.query);
        // A long gap (-i, to stay under routers' ICMP rate limits) is kept from the same hop's previous
        // probe however late that went; the default few-millisecond gap is not, so a wave that is slow to
        // send does not push every later wave, and the end of the trace, back.
        let previous = spec.index.checked_sub(self.cfg.hop_count());
        if self.cfg.wave_gap >= STRICT_GAP
            && let Some(sent) = previous.and_then(|i| self.probes.get(i)).and_then(|p| p.sent_at)
        {
            wave = wave.max(sent + self.cfg.wave_gap);
        }
        match self.cfg.max_rate {
            Some(rate) if rate > 0.0 => {
                let sent = self
                    .probes
                    .iter()
                    .filter(|p| p.sent_at.is_some() || p.send_error.is_some())
                    .count();
                wave.max(t0 + Duration::from_secs_f64(sent as f64 / rate))
            }
            _ => wave,
        }
    }

    /// Records that a probe was sent at `at`, or why its send failed.
    pub fn sent(&mut self, index: usize, result: Result<Ts, String>) {
        let Some(probe) = self.probes.get_mut(index) else {
            return;
        };
        if let (Some(size), Some(p)) = (probe.size, self.pmtu.as_ref()) {
            // As `next_spec` sized it: no larger than what the path is known to take.
            probe.size = Some(size.min(p.size));
        }
        match result {
            Ok(at) => {
                probe.sent_at = Some(at);
                self.t0.get_or_insert(at);
                self.now = self.now.max(at);
            }
            Err(why) => probe.send_error = Some(why),
        }
        if let Some(p) = self.pmtu.as_mut()
            && p.queue.front() == Some(&index)
        {
            p.queue.pop_front();
            return;
        }
        self.next = self.next.max(index + 1);
    }

    /// Matches a decoded reply from `from`, received at `at`, against the probes.
    pub fn received(&mut self, from: IpAddr, reply: &Reply, at: Ts) -> Verdict {
        self.now = self.now.max(at);
        let ours = reply.ident == self.cfg.ident
            && match reply.kind {
                ReplyKind::EchoReply | ReplyKind::PortOpen | ReplyKind::PortClosed => from == self.cfg.target,
                ReplyKind::TimeExceeded | ReplyKind::Unreachable => reply.quoted_dst == Some(self.cfg.target),
                // Only a trace that sends large probes can draw these.
                ReplyKind::PacketTooBig => self.pmtu.is_some() && reply.quoted_dst == Some(self.cfg.target),
            };
        let from_target = self.target_answer(from, reply);
        let index = self.index_of(reply.seq).unwrap_or(usize::MAX);
        let fair_deadline = self.probes.get(index).and_then(|p| self.settle_time(p));
        let probe = match self.probes.get_mut(index) {
            Some(p) if ours => p,
            // A late answer to a probe sent again smaller under another number.
            _ if ours && self.pmtu.as_ref().is_some_and(|p| p.retired(reply.seq)) => {
                return Verdict::Duplicate;
            }
            _ => {
                self.foreign += 1;
                return Verdict::Foreign;
            }
        };
        if reply.kind == ReplyKind::PacketTooBig && probe.sent_at.is_some() && probe.reply.is_none() {
            return self.too_big(index, from, reply.mtu.unwrap_or(0));
        }
        let Some(sent_at) = probe.sent_at else {
            // A reply to a probe we never sent (or one whose send failed) is someone else's.
            self.foreign += 1;
            return Verdict::Foreign;
        };
        if probe.reply.is_some() {
            probe.duplicates += 1;
            return Verdict::Duplicate;
        }
        let rtt = at.saturating_sub(sent_at);
        let ttl = probe.ttl;
        probe.reply = Some(ProbeReply {
            from,
            at,
            rtt,
            kind: reply.kind,
            icmp_type: reply.icmp_type,
            icmp_code: reply.icmp_code,
            mpls: reply.mpls.clone(),
            late: fair_deadline.is_some_and(|t| at > t),
            from_target,
            translated: reply.translated,
        });
        let upto = usize::from(ttl - self.cfg.first_ttl);
        for slot in &mut self.reference[..=upto] {
            *slot = Some(slot.map_or(rtt, |r| r.max(rtt)));
        }
        if from_target || reply.kind == ReplyKind::Unreachable {
            self.end_hop = Some(self.end_hop.map_or(ttl, |h| h.min(ttl)));
        }
        Verdict::Matched
    }

    /// Stops the trace because the user interrupted it at `at`: what was measured so far is the result.
    pub fn interrupt(&mut self, at: Ts) {
        self.now = self.now.max(at);
        self.done = Some(StopReason::Interrupted);
    }

    /// Whether a reply is the target's own answer to the probe (the path's end reached), by protocol:
    /// an echo reply; a UDP port unreachable from the target; a SYN-ACK or RST.
    fn target_answer(&self, from: IpAddr, reply: &Reply) -> bool {
        match reply.kind {
            ReplyKind::EchoReply => self.cfg.protocol == Protocol::Icmp,
            ReplyKind::PortOpen | ReplyKind::PortClosed => self.cfg.protocol == Protocol::Tcp,
            ReplyKind::Unreachable => {
                let code = (reply.icmp_type, reply.icmp_code);
                let port_unreachable = code == if from.is_ipv6() { (1, 4) } else { (3, 3) };
                self.cfg.protocol == Protocol::Udp && from == self.cfg.target && port_unreachable
            }
            ReplyKind::TimeExceeded | ReplyKind::PacketTooBig => false,
        }
    }

    /// The schedule index of the probe numbered `seq`, if it is one of ours as numbered now (a resent
    /// probe's old number no longer names it).
    fn index_of(&self, seq: u16) -> Option<usize> {
        let i = self
            .pmtu
            .as_ref()
            .and_then(|p| p.index_of(seq))
            .unwrap_or_else(|| usize::from(seq.wrapping_sub(self.cfg.seq_base)));
        self.probes.get(i).filter(|p| p.seq == seq).map(|_| i)
    }

    /// A router refused probe `index` as too big for its next link (naming `named` bytes): it goes out
    /// again smaller (see [`PmtuState::refused`]); when it cannot shrink, it gets its fair wait like a
    /// lost probe.
    fn too_big(&mut self, index: usize, from: IpAddr, named: u16) -> Verdict {
        let Some(state) = self.pmtu.as_mut() else {
            self.foreign += 1;
            return Verdict::Foreign;
        };
        if state.refused(index, &mut self.probes[index], from, named) {
            state.presume_refused(&mut self.probes);
            Verdict::Matched
        } else {
            Verdict::Duplicate
        }
    }

    /// Records that the driver waited until `until` without a reply.
    pub fn waited(&mut self, until: Ts) {
        self.now = self.now.max(until);
    }

    /// Counters for a progress display.
    pub fn progress(&self) -> ProbeCounts {
        ProbeCounts {
            sent: self.probes.iter().filter(|p| p.sent_at.is_some()).count(),
            answered: self.probes.iter().filter(|p| p.reply.is_some()).count(),
            foreign: self.foreign,
            reached: self
                .terminal()
                .filter(|(_, echo, _)| *echo)
                .map(|(hop, _, _)| hop),
        }
    }

    /// Ends the trace and hands over what it found.
    pub fn finish(mut self) -> TraceOutcome {
        let stop = match self.done.take().or_else(|| self.stop_reason()) {
            Some(reason) => reason,
            None => self.terminal_reason().unwrap_or(StopReason::Deadline),
        };
        TraceOutcome {
            probes: self.probes,
            stop,
            started: self.t0,
            ended: self.now,
            foreign: self.foreign,
            pmtu: self.pmtu.map(|p| p.findings).unwrap_or_default(),
        }
    }

    /// The next probe in schedule order that still needs sending, if any.
    fn next_spec(&self) -> Option<ProbeSpec> {
        let resend = self.pmtu.as_ref().and_then(|p| p.queue.front().copied());
        resend.or_else(|| self.next_new()).map(|index| ProbeSpec {
            index,
            ttl: self.probes[index].ttl,
            query: self.probes[index].query,
            ident: self.cfg.ident,
            seq: self.probes[index].seq,
            size: self.probes[index]
                .size
                .map(|s| self.pmtu.as_ref().map_or(s, |p| s.min(p.size))),
        })
    }

    /// The next probe of the schedule never sent yet, within the path's end when known.
    fn next_new(&self) -> Option<usize> {
        let limit = self.end_hop;
        (self.next..self.probes.len()).find(|&i| limit.is_none_or(|hop| self.probes[i].ttl <= hop))
    }

    /// Once the path's end is known, probes beyond it are not sent (nor sent again).
    fn skip_beyond_terminal(&mut self) {
        if let (Some(hop), Some(p)) = (self.end_hop, self.pmtu.as_mut()) {
            let probes = &self.probes;
            p.queue.retain(|&i| probes[i].ttl <= hop);
        }
        self.next = self.next_new().unwrap_or(self.probes.len());
    }

    /// The lowest TTL that drew an echo reply or an unreachable: (hop, any echo reply there, code).
    fn terminal(&self) -> Option<(u8, bool, u8)> {
        let hop = self.end_hop?;
        let at_hop = || {
            self.probes
                .iter()
                .filter(move |p| p.ttl == hop)
                .filter_map(|p| p.reply.as_ref())
        };
        let echo = at_hop().any(|r| r.from_target);
        let code = at_hop()
            .find(|r| r.kind == ReplyKind::Unreachable && !r.from_target)
            .map_or(0, |r| r.icmp_code);
        Some((hop, echo, code))
    }

    fn terminal_reason(&self) -> Option<StopReason> {
        self.terminal().map(|(hop, echo, code)| {
            if echo {
                StopReason::Reached { hop }
            } else {
                StopReason::Unreachable { hop, code }
            }
        })
    }

    /// The slowest reply at `ttl` or beyond: the yardstick for how long `ttl` deserves.
    fn reference_rtt(&self, ttl: u8) -> Option<Duration> {
        *self
            .reference
            .get(usize::from(ttl.checked_sub(self.cfg.first_ttl)?))?
    }

    /// When an unanswered probe has had its fair wait (None: no reference yet, it waits for the deadline).
    fn settle_time(&self, probe: &ProbeRecord) -> Option<Ts> {
        let sent = probe.sent_at?;
        let reference = self.reference_rtt(probe.ttl)?;
        Some(sent + self.cfg.fair.wait_for(reference))
    }

    /// Whether a probe needs nothing more: answered, failed to send, or waited for fairly.
    fn settled(&self, probe: &ProbeRecord) -> bool {
        probe.reply.is_some()
            || probe.send_error.is_some()
            || self.settle_time(probe).is_some_and(|t| self.now >= t)
    }

    /// The earliest future instant at which an unanswered probe becomes settled.
    fn next_settle(&self) -> Option<Ts> {
        self.probes
            .iter()
            .filter(|p| p.reply.is_none() && p.send_error.is_none())
            .filter_map(|p| self.settle_time(p))
            .filter(|t| *t > self.now)
            .min()
    }

    /// When an unanswered probe stops counting against the in-flight limit.
    fn release_time(&self, probe: &ProbeRecord) -> Option<Ts> {
        let sent = probe.sent_at?;
        Some(self.settle_time(probe).unwrap_or(sent + self.cfg.fair.cap))
    }

    fn in_flight(&self) -> usize {
        self.probes
            .iter()
            .filter(|p| p.reply.is_none() && p.send_error.is_none())
            .filter(|p| self.release_time(p).is_some_and(|t| self.now < t))
            .count()
    }

    fn in_flight_blocked(&self) -> bool {
        self.cfg
            .max_in_flight
            .is_some_and(|limit| self.in_flight() >= limit)
    }

    fn next_release(&self) -> Option<Ts> {
        self.probes
            .iter()
            .filter(|p| p.reply.is_none() && p.send_error.is_none())
            .filter_map(|p| self.release_time(p))
            .filter(|t| *t > self.now)
            .min()
    }

    /// The stop rules, checked in order: path end found and everything below it settled; every probe
    /// settled without reaching the target; no probe could be sent; the global deadline.
    fn stop_reason(&self) -> Option<StopReason> {
        if let Some(hop) = self.end_hop {
            let below_settled = self
                .probes
                .iter()
                .filter(|p| p.ttl <= hop)
                .all(|p| (p.sent_at.is_some() || p.send_error.is_some()) && self.settled(p));
            if below_settled {
                return self.terminal_reason();
            }
        } else if self.next >= self.probes.len() && self.probes.iter().all(|p| self.settled(p)) {
            return Some(if self.probes.iter().all(|p| p.sent_at.is_none()) {
                StopReason::SendFailed
            } else {
                StopReason::MaxHops
            });
        }
        match self.t0 {
            Some(t0) if self.now >= t0 + self.cfg.deadline => {
                Some(self.terminal_reason().unwrap_or(StopReason::Deadline))
            }
            _ => None,
        }
    }
}

pub use super::hops::{HopSummary, hop_summaries};

#[cfg(test)]
mod pmtu_tests;
#[cfg(test)]
mod tests;
