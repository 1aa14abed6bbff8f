//! Engine and driver tests on a virtual clock: a scripted path, behind the network seam, answers probes
//! with exact delays, and the real [`drive`] runs the engine against it.

use super::*;
use crate::trace::drive::drive;
use crate::trace::net::{Network, Received};
use std::net::Ipv4Addr;

const TARGET: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 50));
const IDENT: u16 = 0x4242;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn router(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 51, 100, n))
}

fn config() -> EngineConfig {
    EngineConfig {
        target: TARGET,
        protocol: Protocol::Icmp,
        ident: IDENT,
        seq_base: 1000,
        first_ttl: 1,
        max_hops: 30,
        queries: 3,
        max_in_flight: None,
        wave_gap: ms(5),
        max_rate: None,
        deadline: ms(1500),
        fair: FairWait {
            factor: 2.5,
            floor: ms(200),
            cap: ms(1000),
        },
        mtu: None,
    }
}

/// What the scripted path does with a probe: who answers, how, after how long.
#[derive(Clone)]
struct Answer {
    from: IpAddr,
    kind: ReplyKind,
    code: u8,
    delay: Duration,
}

/// A linear path: routers 1..distance-1 answer time exceeded after `hop_ms * ttl`, the target at
/// `distance` answers echo replies; `silent` hops never answer.
fn linear(distance: u8, hop_ms: u64, silent: &'static [u8]) -> impl Fn(u8, u8) -> Option<Answer> {
    move |ttl, _query| {
        if silent.contains(&ttl) {
            return None;
        }
        let hop = ttl.min(distance);
        let delay = ms(hop_ms * u64::from(hop));
        Some(if ttl >= distance {
            Answer {
                from: TARGET,
                kind: ReplyKind::EchoReply,
                code: 0,
                delay,
            }
        } else {
            Answer {
                from: router(ttl),
                kind: ReplyKind::TimeExceeded,
                code: 0,
                delay,
            }
        })
    }
}

fn reply_for(spec: &ProbeSpec, a: &Answer) -> Reply {
    Reply {
        kind: a.kind,
        icmp_type: match a.kind {
            ReplyKind::EchoReply => 0,
            ReplyKind::TimeExceeded => 11,
            ReplyKind::Unreachable | ReplyKind::PacketTooBig => 3,
            ReplyKind::PortOpen | ReplyKind::PortClosed => 0,
        },
        icmp_code: a.code,
        ident: spec.ident,
        seq: spec.seq,
        quoted_dst: (a.kind != ReplyKind::EchoReply).then_some(TARGET),
        ports: None,
        mpls: Vec::new(),
        mtu: None,
        quoted_udp: None,
        translated: false,
    }
}

/// Each send takes 20 µs of virtual time, as a real send roughly does.
const SEND_COST: Duration = Duration::from_micros(20);

/// The scripted path as a [`Network`]: each probe's answer is queued at its send time plus its delay, on a
/// virtual clock that only sends and waits advance; extra replies are queued relative to the first send.
struct Scripted<P> {
    path: P,
    extra: Vec<(Ts, IpAddr, Reply)>,
    clock: Ts,
    queue: Vec<(Ts, IpAddr, Reply)>,
    /// Calls to `recv`, so a broken driver fails instead of hanging.
    calls: usize,
}

impl<P: Fn(u8, u8) -> Option<Answer>> Scripted<P> {
    fn new(path: P, extra: Vec<(Ts, IpAddr, Reply)>) -> Self {
        // An arbitrary origin: nothing may assume 0.
        Scripted {
            path,
            extra,
            clock: ms(10_000),
            queue: Vec::new(),
            calls: 0,
        }
    }
}

impl<P: Fn(u8, u8) -> Option<Answer>> Network for Scripted<P> {
    fn send(&mut self, spec: &ProbeSpec) -> std::io::Result<Ts> {
        let at = self.clock;
        self.clock += SEND_COST;
        if let Some(a) = (self.path)(spec.ttl, spec.query) {
            self.queue.push((at + a.delay, a.from, reply_for(spec, &a)));
        }
        for (t, from, r) in self.extra.drain(..) {
            self.queue.push((at + t, from, r));
        }
        Ok(at)
    }

    /// The earliest reply due by `deadline` (or by now, for a deadline in the past, as a non-blocking
    /// read returns what already arrived); else the clock moves to the deadline.
    fn recv(&mut self, deadline: Ts) -> std::io::Result<Option<Received>> {
        self.calls += 1;
        assert!(self.calls < 1_000_000, "the driver did not finish");
        self.queue.sort_by_key(|(t, _, _)| *t);
        let limit = deadline.max(self.clock);
        match self.queue.first() {
            Some((t, _, _)) if *t <= limit => {
                let (at, from, reply) = self.queue.remove(0);
                self.clock = self.clock.max(at);
                Ok(Some(Received { from, reply, at }))
            }
            _ => {
                self.clock = limit;
                Ok(None)
            }
        }
    }
}

/// Drives an engine with the real driver against a scripted path with extra injected replies; returns
/// the outcome, the virtual time at which it stopped, and the addresses the driver reported.
fn run_with(
    cfg: EngineConfig,
    path: impl Fn(u8, u8) -> Option<Answer>,
    extra: Vec<(Ts, IpAddr, Reply)>,
) -> (TraceOutcome, Ts, Vec<IpAddr>) {
    let mut net = Scripted::new(path, extra);
    let mut answered = Vec::new();
    let mut steps = 0;
    let outcome = drive(&mut net, Engine::new(cfg), |a| answered.push(a), |_| steps += 1).unwrap();
    assert!(steps > 0, "progress is reported after every step");
    (outcome, net.clock, answered)
}

fn run(cfg: EngineConfig, path: impl Fn(u8, u8) -> Option<Answer>) -> (TraceOutcome, Ts) {
    let (o, t, _) = run_with(cfg, path, Vec::new());
    (o, t)
}

fn elapsed(o: &TraceOutcome, end: Ts) -> Duration {
    end - o.started.unwrap()
}

#[test]
fn all_ttls_go_out_at_once_then_waves_follow() {
    let mut engine = Engine::new(config());
    let mut t = ms(1);
    let mut sent = Vec::new();
    // The whole first wave goes out back to back, TTL 1..30, without waiting.
    loop {
        match engine.step() {
            Step::Send(spec) => {
                engine.sent(spec.index, Ok(t));
                sent.push((spec.ttl, spec.seq));
                t += Duration::from_micros(1);
            }
            Step::Wait(until) => {
                assert_eq!(
                    until,
                    ms(1) + ms(5),
                    "second wave is due one gap after the first send"
                );
                break;
            }
            Step::Done => panic!("done too early"),
        }
    }
    assert_eq!(sent.len(), 30);
    assert_eq!(sent.first(), Some(&(1, 1000)));
    assert_eq!(sent.last(), Some(&(30, 1029)));
    engine.waited(ms(6));
    match engine.step() {
        Step::Send(spec) => assert_eq!((spec.ttl, spec.seq), (1, 1030)),
        other => panic!("expected the second wave, got {other:?}"),
    }
}

#[test]
fn reached_when_all_hops_answer_stops_right_after_the_last_wave() {
    // 8 routers 10 ms apart, target at hop 9 (90 ms).
    let (o, end) = run(config(), linear(9, 10, &[]));
    assert_eq!(o.stop, StopReason::Reached { hop: 9 });
    // The last wave goes out 10 ms after the first; its hop-9 reply arrives 90 ms later.
    let took = elapsed(&o, end);
    assert!(took >= ms(100) && took < ms(101), "{took:?}");
    let hops = hop_summaries(&o.probes, 1, 9);
    for h in &hops[..8] {
        assert_eq!(h.addrs, vec![(router(h.ttl), 3)]);
        assert_eq!(h.received, 3);
        let s = h.stats.unwrap();
        assert_eq!(s.min, ms(10 * u64::from(h.ttl)));
        assert_eq!(s.stddev, Duration::ZERO);
    }
    assert_eq!(hops[8].addrs, vec![(TARGET, 3)]);
}

#[test]
fn probes_beyond_the_target_stop_being_sent_once_it_answered() {
    // Target at hop 2 answering in 1 ms: by the second wave (5 ms later) the end is known.
    let (o, _) = run(config(), linear(2, 1, &[]));
    assert_eq!(o.stop, StopReason::Reached { hop: 2 });
    let second_wave_sent = o
        .probes
        .iter()
        .filter(|p| p.query == 1 && p.sent_at.is_some())
        .count();
    assert_eq!(second_wave_sent, 2, "only TTL 1 and 2 in the second wave");
    assert_eq!(
        o.probes
            .iter()
            .filter(|p| p.query == 0 && p.sent_at.is_some())
            .count(),
        30
    );
}

#[test]
fn silent_router_gets_a_fair_wait_not_the_deadline() {
    let (o, end) = run(config(), linear(9, 10, &[4]));
    assert_eq!(o.stop, StopReason::Reached { hop: 9 });
    // Hop 4's last probe went out at 10 ms; its fair wait is 2.5 x 90 ms (slowest reply beyond it).
    let took = elapsed(&o, end);
    assert!(took >= ms(235) && took < ms(236), "{took:?}");
    let hops = hop_summaries(&o.probes, 1, 9);
    assert_eq!(hops[3].received, 0);
    assert_eq!(hops[3].loss(), 1.0);
    assert!(hops[3].addrs.is_empty());
}

#[test]
fn fair_wait_has_a_floor_and_a_cap() {
    let f = config().fair;
    assert_eq!(f.wait_for(ms(1)), ms(200));
    assert_eq!(f.wait_for(ms(100)), ms(250));
    assert_eq!(f.wait_for(ms(900)), ms(1000));
    // A per-reply timeout (-w) below the floor wins: no probe waits longer than asked.
    let short = FairWait { cap: ms(100), ..f };
    assert_eq!(short.wait_for(ms(1)), ms(100));
    // Fast path: the floor decides when a silent hop is given up.
    let (o, end) = run(config(), linear(5, 1, &[2]));
    assert_eq!(o.stop, StopReason::Reached { hop: 5 });
    let took = elapsed(&o, end);
    assert!(took >= ms(210) && took < ms(211), "{took:?}");
}

#[test]
fn silent_target_ends_at_the_global_deadline() {
    // Hops 1-5 answer, nothing beyond: one deadline, not a wait per silent hop.
    let path = |ttl: u8, _q: u8| {
        (ttl <= 5).then(|| Answer {
            from: router(ttl),
            kind: ReplyKind::TimeExceeded,
            code: 0,
            delay: ms(u64::from(ttl) * 10),
        })
    };
    let (o, end) = run(config(), path);
    assert_eq!(o.stop, StopReason::Deadline);
    assert_eq!(elapsed(&o, end), ms(1500));
    assert_eq!(o.probes.iter().filter(|p| p.sent_at.is_some()).count(), 90);
}

#[test]
fn path_longer_than_max_hops_ends_when_every_probe_answered() {
    let mut cfg = config();
    cfg.max_hops = 5;
    let (o, end) = run(cfg, linear(20, 10, &[]));
    assert_eq!(o.stop, StopReason::MaxHops);
    // The last probe (TTL 5, wave 3 at 10 ms) answers at 60 ms.
    assert_eq!(elapsed(&o, end), ms(60) + SEND_COST * 4);
}

#[test]
fn unreachable_ends_the_path_at_its_hop() {
    let path = |ttl: u8, _q: u8| {
        Some(if ttl < 3 {
            Answer {
                from: router(ttl),
                kind: ReplyKind::TimeExceeded,
                code: 0,
                delay: ms(u64::from(ttl)),
            }
        } else {
            Answer {
                from: router(3),
                kind: ReplyKind::Unreachable,
                code: 13,
                delay: ms(3),
            }
        })
    };
    let (o, _) = run(config(), path);
    assert_eq!(o.stop, StopReason::Unreachable { hop: 3, code: 13 });
    let hops = hop_summaries(&o.probes, 1, 3);
    assert_eq!(hops[2].unreachable_codes, vec![13]);
}

#[test]
fn foreign_and_duplicate_replies_change_nothing() {
    let clean = run(config(), linear(4, 10, &[])).0;
    let probe_seq = |ttl: u8, query: u8| 1000 + u16::from(query) * 30 + u16::from(ttl) - 1;
    let te = |ident: u16, seq: u16, dst: IpAddr| Reply {
        kind: ReplyKind::TimeExceeded,
        icmp_type: 11,
        icmp_code: 0,
        ident,
        seq,
        quoted_dst: Some(dst),
        ports: None,
        mpls: Vec::new(),
        mtu: None,
        quoted_udp: None,
        translated: false,
    };
    let other_target = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 99));
    let echo = |ident: u16, seq: u16| Reply {
        kind: ReplyKind::EchoReply,
        icmp_type: 0,
        icmp_code: 0,
        ident,
        seq,
        quoted_dst: None,
        ports: None,
        mpls: Vec::new(),
        mtu: None,
        quoted_udp: None,
        translated: false,
    };
    let extra = vec![
        // Another process's trace: other identifier, same sequence numbers, arriving first.
        (ms(1), router(9), te(0x1111, probe_seq(2, 0), TARGET)),
        // Our identifier but quoting another destination (a concurrent trace with a colliding id).
        (ms(2), router(9), te(IDENT, probe_seq(3, 0), other_target)),
        // An echo reply with our identifier from an address that is not the target.
        (ms(3), router(9), echo(IDENT, probe_seq(4, 0))),
        // A sequence number outside the schedule.
        (ms(4), router(9), te(IDENT, 60_000, TARGET)),
        // A duplicate of hop 1's first answer, from someone else, after the real one.
        (ms(15), router(7), te(IDENT, probe_seq(1, 0), TARGET)),
    ];
    let (o, _, answered) = run_with(config(), linear(4, 10, &[]), extra);
    assert_eq!(o.stop, clean.stop);
    assert_eq!(o.foreign, 4);
    assert_eq!(o.probes.iter().map(|p| p.duplicates).sum::<u32>(), 1);
    // Only matched first answers reach the driver's callback: never the foreign router 9 or 7.
    assert!(
        answered
            .iter()
            .all(|a| *a == TARGET || [router(1), router(2), router(3)].contains(a))
    );
    let matched = o.probes.iter().filter(|p| p.reply.is_some()).count();
    assert_eq!(answered.len(), matched);
    let a = hop_summaries(&o.probes, 1, 4);
    let b = hop_summaries(&clean.probes, 1, 4);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.addrs, y.addrs);
        assert_eq!(x.stats, y.stats);
    }
    assert_eq!(a[0].probes[0].duplicates, 1);
}

#[test]
fn out_of_order_replies_are_matched_by_sequence() {
    // Replies of farther hops arrive before nearer ones: hop 1 answers slowest.
    let path = |ttl: u8, _q: u8| {
        Some(Answer {
            from: if ttl >= 3 { TARGET } else { router(ttl) },
            kind: if ttl >= 3 {
                ReplyKind::EchoReply
            } else {
                ReplyKind::TimeExceeded
            },
            code: 0,
            delay: ms(if ttl == 1 { 150 } else { 20 }),
        })
    };
    let (o, _) = run(config(), path);
    assert_eq!(o.stop, StopReason::Reached { hop: 3 });
    let hops = hop_summaries(&o.probes, 1, 3);
    assert_eq!(hops[0].addrs, vec![(router(1), 3)]);
    assert_eq!(hops[0].stats.unwrap().min, ms(150));
    assert!(
        hops[0]
            .probes
            .iter()
            .all(|p| p.reply.as_ref().is_some_and(|r| !r.late))
    );
}

#[test]
fn slow_hop_within_fair_wait_is_reported() {
    // Hop 2 answers in 230 ms (a busy control plane); the target in 100 ms: fair wait 2.5 x 100 ms.
    let path = |ttl: u8, _q: u8| {
        Some(match ttl {
            1 | 2 => Answer {
                from: router(ttl),
                kind: ReplyKind::TimeExceeded,
                code: 0,
                delay: ms(if ttl == 2 { 230 } else { 10 }),
            },
            _ => Answer {
                from: TARGET,
                kind: ReplyKind::EchoReply,
                code: 0,
                delay: ms(100),
            },
        })
    };
    let (o, end) = run(config(), path);
    assert_eq!(o.stop, StopReason::Reached { hop: 3 });
    let hops = hop_summaries(&o.probes, 1, 3);
    assert_eq!(hops[1].received, 3);
    assert_eq!(hops[1].stats.unwrap().min, ms(230));
    assert!(hops[1].probes.iter().all(|p| !p.reply.as_ref().unwrap().late));
    // It ends when the last slow reply is in, not at the deadline.
    let took = elapsed(&o, end);
    assert!(took >= ms(240) && took < ms(241), "{took:?}");
}

#[test]
fn reply_after_its_fair_wait_is_kept_and_flagged_late() {
    // Target silent (deadline). Hop 2's first probe takes 250 ms while everything else at hop 2 and
    // beyond answers in 10 ms: its fair wait is the 200 ms floor, and the reply comes after it.
    let path = |ttl: u8, q: u8| {
        (ttl <= 3).then(|| Answer {
            from: router(ttl),
            kind: ReplyKind::TimeExceeded,
            code: 0,
            delay: ms(if ttl == 2 && q == 0 { 250 } else { 10 }),
        })
    };
    let (o, _) = run(config(), path);
    assert_eq!(o.stop, StopReason::Deadline);
    let hops = hop_summaries(&o.probes, 1, 3);
    assert_eq!(hops[1].received, 3);
    assert!(hops[1].probes[0].reply.as_ref().unwrap().late);
    assert!(!hops[1].probes[1].reply.as_ref().unwrap().late);
}

#[test]
fn send_errors_are_recorded_and_the_trace_goes_on() {
    let mut engine = Engine::new(config());
    let mut t = ms(0);
    let mut n = 0;
    while let Step::Send(spec) = engine.step() {
        if spec.ttl == 2 {
            engine.sent(spec.index, Err("No buffer space available".into()));
        } else {
            engine.sent(spec.index, Ok(t));
        }
        t += Duration::from_micros(1);
        n += 1;
    }
    assert_eq!(n, 30);
    let o = engine.finish();
    assert_eq!(
        o.probes[1].send_error.as_deref(),
        Some("No buffer space available")
    );
    assert!(o.probes[2].sent_at.is_some());
}

#[test]
fn all_sends_failing_stops_with_send_failed() {
    let mut engine = Engine::new(config());
    let mut steps = 0;
    loop {
        match engine.step() {
            Step::Send(spec) => engine.sent(spec.index, Err("Network is unreachable".into())),
            Step::Wait(_) => panic!("nothing to wait for"),
            Step::Done => break,
        }
        steps += 1;
        assert!(steps <= 90);
    }
    assert_eq!(engine.finish().stop, StopReason::SendFailed);
}

#[test]
fn in_flight_limit_holds_probes_back() {
    let mut cfg = config();
    cfg.max_in_flight = Some(4);
    let mut engine = Engine::new(cfg);
    let mut sent = 0;
    while let Step::Send(spec) = engine.step() {
        engine.sent(spec.index, Ok(ms(1)));
        sent += 1;
        assert!(sent <= 4);
    }
    assert_eq!(sent, 4);
    // Without any reply the in-flight probes are released after the cap (1 s).
    assert_eq!(engine.step(), Step::Wait(ms(1001)));
    // A reply frees one slot at once.
    let reply = Reply {
        kind: ReplyKind::TimeExceeded,
        icmp_type: 11,
        icmp_code: 0,
        ident: IDENT,
        seq: 1000,
        quoted_dst: Some(TARGET),
        ports: None,
        mpls: Vec::new(),
        mtu: None,
        quoted_udp: None,
        translated: false,
    };
    assert_eq!(engine.received(router(1), &reply, ms(3)), Verdict::Matched);
    assert!(matches!(engine.step(), Step::Send(spec) if spec.ttl == 5));
}

#[test]
fn in_flight_limit_still_reaches_the_target() {
    let mut cfg = config();
    cfg.max_in_flight = Some(3);
    let (o, _) = run(cfg, linear(6, 5, &[]));
    assert_eq!(o.stop, StopReason::Reached { hop: 6 });
    let hops = hop_summaries(&o.probes, 1, 6);
    assert!(hops.iter().all(|h| h.received == 3));
}

#[test]
fn several_addresses_at_one_hop_are_listed_in_arrival_order() {
    let path = |ttl: u8, q: u8| {
        Some(if ttl >= 3 {
            Answer {
                from: TARGET,
                kind: ReplyKind::EchoReply,
                code: 0,
                delay: ms(30),
            }
        } else {
            Answer {
                // Hop 2 balances over two routers: wave 1 (q = 1) hits the second one.
                from: if ttl == 2 && q == 1 {
                    router(22)
                } else {
                    router(ttl)
                },
                kind: ReplyKind::TimeExceeded,
                code: 0,
                delay: ms(10 * u64::from(ttl)),
            }
        })
    };
    let (o, _) = run(config(), path);
    let hops = hop_summaries(&o.probes, 1, 3);
    assert_eq!(hops[1].addrs, vec![(router(2), 2), (router(22), 1)]);
}

#[test]
fn replies_queued_during_a_wave_are_read_before_the_next_send() {
    // The target at hop 2 answers in 0.1 ms, while one wave takes 30 x 20 us = 0.6 ms to send: the
    // driver reads the echo reply between two sends of the first wave, so it stops sending beyond hop 2
    // at once instead of sending the whole wave first.
    let path = |ttl: u8, _q: u8| {
        Some(if ttl >= 2 {
            Answer {
                from: TARGET,
                kind: ReplyKind::EchoReply,
                code: 0,
                delay: Duration::from_micros(100),
            }
        } else {
            Answer {
                from: router(1),
                kind: ReplyKind::TimeExceeded,
                code: 0,
                delay: Duration::from_micros(50),
            }
        })
    };
    let (o, _, answered) = run_with(config(), path, Vec::new());
    assert_eq!(o.stop, StopReason::Reached { hop: 2 });
    let first_wave = o
        .probes
        .iter()
        .filter(|p| p.query == 0 && p.sent_at.is_some())
        .count();
    assert!(first_wave < 10, "{first_wave} probes of the first wave went out");
    assert_eq!(answered[0], router(1));
}

/// A network whose sends fail for one TTL and whose receive fails after a given number of reads.
struct Failing {
    clock: Ts,
    fail_ttl: u8,
    reads_left: usize,
}

impl Network for Failing {
    fn send(&mut self, spec: &ProbeSpec) -> std::io::Result<Ts> {
        self.clock += SEND_COST;
        if spec.ttl == self.fail_ttl {
            return Err(std::io::Error::from_raw_os_error(libc::ENOBUFS));
        }
        Ok(self.clock)
    }

    fn recv(&mut self, deadline: Ts) -> std::io::Result<Option<Received>> {
        if self.reads_left == 0 {
            return Err(std::io::Error::from_raw_os_error(libc::EBADF));
        }
        self.reads_left -= 1;
        self.clock = self.clock.max(deadline);
        Ok(None)
    }
}

#[test]
fn driver_records_send_errors_and_ends_on_a_receive_error() {
    let mut net = Failing {
        clock: ms(5),
        fail_ttl: 2,
        reads_left: usize::MAX,
    };
    let o = drive(&mut net, Engine::new(config()), |_| {}, |_| {}).unwrap();
    assert_eq!(o.stop, StopReason::Deadline);
    let failed: Vec<_> = o.probes.iter().filter(|p| p.send_error.is_some()).collect();
    assert_eq!(failed.len(), 3, "TTL 2 failed in every wave");
    assert!(
        failed[0]
            .send_error
            .as_deref()
            .unwrap()
            .contains("No buffer space"),
        "{failed:?}"
    );
    assert!(!failed[0].send_error.as_deref().unwrap().contains("os error"));

    let mut net = Failing {
        clock: ms(5),
        fail_ttl: 0,
        reads_left: 3,
    };
    let err = drive(&mut net, Engine::new(config()), |_| {}, |_| {}).unwrap_err();
    assert!(err.to_string().contains("receiving ICMP replies"), "{err}");
}

/// A scripted path whose user presses Ctrl-C at virtual time `at`: waits end there, as a signal ends
/// a real poll.
struct Interrupting<P> {
    inner: Scripted<P>,
    at: Ts,
}

impl<P: Fn(u8, u8) -> Option<Answer>> Network for Interrupting<P> {
    fn send(&mut self, spec: &ProbeSpec) -> std::io::Result<Ts> {
        self.inner.send(spec)
    }

    fn recv(&mut self, deadline: Ts) -> std::io::Result<Option<Received>> {
        self.inner.recv(deadline.min(self.at))
    }

    fn interrupted(&mut self) -> Option<Ts> {
        (self.inner.clock >= self.at).then_some(self.inner.clock)
    }
}

#[test]
fn ctrl_c_ends_the_trace_with_what_was_measured() {
    // A silent target would hold the trace until the 1.5 s deadline; Ctrl-C comes at 300 ms.
    let mut net = Interrupting {
        inner: Scripted::new(
            |ttl, q| {
                if ttl >= 4 {
                    None
                } else {
                    linear(4, 10, &[])(ttl, q)
                }
            },
            Vec::new(),
        ),
        at: ms(10_300),
    };
    let o = drive(&mut net, Engine::new(config()), |_| {}, |_| {}).unwrap();
    assert_eq!(o.stop, StopReason::Interrupted);
    assert_eq!(
        o.ended,
        ms(10_300),
        "ends when interrupted, not at a later wake-up"
    );
    // The routers' answers before the interrupt are kept.
    for ttl in 1..=3 {
        let answered = o
            .probes
            .iter()
            .filter(|p| p.ttl == ttl && p.reply.is_some())
            .count();
        assert_eq!(answered, 3, "TTL {ttl}");
    }
    assert!(o.probes.iter().filter(|p| p.ttl >= 4).all(|p| p.reply.is_none()));
}
