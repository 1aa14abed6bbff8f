//! Running many probes at once: bounded concurrency, adaptive per-host timeouts from measured round trips,
//! retries of silent probes, `--count`/`--interval` repeats, and Ctrl-C.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::Instant;

use super::discovery::{LocalLinks, NEIGHBOUR_WAIT, neighbour_failed};
use super::verdict::{Evidence, is_resource_shortage};
use crate::target::Proto;

/// The shortest adaptive timeout: Linux's own minimum TCP retransmission timeout (TCP_RTO_MIN).
pub const TIMEOUT_FLOOR: Duration = Duration::from_millis(200);
/// The longest adaptive timeout, and the one used before any round trip to the host was measured.
pub const TIMEOUT_CAP: Duration = Duration::from_secs(2);
/// Default parallelism never goes above this, whatever the file limit allows.
pub const MAX_DEFAULT_PARALLEL: usize = 4096;

/// How long a probe waits for an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPolicy {
    /// `-w`: the same wait for every probe.
    Fixed(Duration),
    /// From the round trips measured to each host, between a floor and a cap.
    Adaptive {
        /// Never shorter.
        floor: Duration,
        /// Never longer; also the wait before anything was measured.
        cap: Duration,
    },
}

/// RFC 6298 smoothed round-trip estimate, plus the slowest answer seen.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RttEstimator {
    srtt: Option<f64>,
    rttvar: f64,
    max: f64,
}

impl RttEstimator {
    /// Adds one measured round trip.
    pub fn sample(&mut self, rtt: Duration) {
        let r = rtt.as_secs_f64();
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2.0;
            }
            Some(s) => {
                self.rttvar = 0.75 * self.rttvar + 0.25 * (s - r).abs();
                self.srtt = Some(0.875 * s + 0.125 * r);
            }
        }
        self.max = self.max.max(r);
    }

    /// How long to wait for an answer: srtt + 4 rttvar (as TCP does), at least twice the slowest answer
    /// seen, clamped to [floor, cap]; the cap when nothing was measured.
    pub fn timeout(&self, floor: Duration, cap: Duration) -> Duration {
        match self.srtt {
            None => cap,
            Some(s) => {
                let t = (s + 4.0 * self.rttvar).max(2.0 * self.max);
                Duration::from_secs_f64(t.min(cap.as_secs_f64())).clamp(floor, cap)
            }
        }
    }
}

/// One host's timeout: measured round trips in, the current wait out; waiting probes hear when it shrinks.
#[derive(Debug)]
pub struct AdaptiveTimeout {
    policy: TimeoutPolicy,
    /// The wait before anything was measured, when longer than the policy's (a local-link host's neighbour
    /// resolution).
    first_wait: Option<Duration>,
    est: Mutex<RttEstimator>,
    published: watch::Sender<Duration>,
}

impl AdaptiveTimeout {
    /// A timeout with nothing measured yet.
    pub fn new(policy: TimeoutPolicy) -> Self {
        Self::with_first_wait(policy, None)
    }

    /// A timeout whose adaptive wait, until the host first answers, is at least `first` (a fixed `-w` is
    /// kept as given).
    pub fn with_first_wait(policy: TimeoutPolicy, first: Option<Duration>) -> Self {
        let first_wait = first.filter(|_| matches!(policy, TimeoutPolicy::Adaptive { .. }));
        let initial = Self::compute(policy, first_wait, &RttEstimator::default());
        AdaptiveTimeout {
            policy,
            first_wait,
            est: Mutex::new(RttEstimator::default()),
            published: watch::channel(initial).0,
        }
    }

    fn compute(policy: TimeoutPolicy, first_wait: Option<Duration>, est: &RttEstimator) -> Duration {
        match policy {
            TimeoutPolicy::Fixed(d) => d,
            TimeoutPolicy::Adaptive { floor, cap } => match (est.srtt, first_wait) {
                (None, Some(first)) => first.max(cap),
                _ => est.timeout(floor, cap),
            },
        }
    }

    /// The current wait for a probe to this host.
    pub fn current(&self) -> Duration {
        Self::compute(
            self.policy,
            self.first_wait,
            &self.est.lock().unwrap_or_else(|e| e.into_inner()),
        )
    }

    /// Whether the current wait was shortened by measurements (a silent probe is then worth a second try).
    pub fn is_shortened(&self) -> bool {
        match self.policy {
            TimeoutPolicy::Fixed(_) => false,
            TimeoutPolicy::Adaptive { cap, .. } => self.current() < cap,
        }
    }

    /// Records a round trip the host answered in.
    pub fn record(&self, rtt: Duration) {
        let now = {
            let mut est = self.est.lock().unwrap_or_else(|e| e.into_inner());
            est.sample(rtt);
            Self::compute(self.policy, self.first_wait, &est)
        };
        // Only a clearly shorter wait is worth waking every waiting probe for; a longer one is seen when
        // each probe's current deadline passes and it looks again.
        self.published.send_if_modified(|old| {
            let shrink = now.as_secs_f64() < old.as_secs_f64() * 0.9;
            if shrink {
                *old = now;
            } else if now > *old {
                *old = now; // no wake-up, but the next shrink is measured from here
            }
            shrink
        });
    }

    /// Runs `fut` until it finishes or the host's current timeout after `started` passes; on timeout returns
    /// how long was waited.
    pub async fn wait<F: Future>(&self, started: Instant, fut: F) -> Result<F::Output, Duration> {
        let mut changes = self.published.subscribe();
        let mut listening = true;
        tokio::pin!(fut);
        loop {
            let limit = self.current();
            tokio::select! {
                out = &mut fut => return Ok(out),
                _ = tokio::time::sleep_until(started + limit) => {
                    let limit = self.current();
                    if Instant::now() >= started + limit {
                        return Err(limit);
                    }
                }
                // A closed channel stays ready for ever: stop listening then, and keep the plain deadline.
                changed = changes.changed(), if listening => listening = changed.is_ok(),
            }
        }
    }
}

/// One thing to probe: an address, a protocol and a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    /// Index of the target (as given on the command line) this flow belongs to.
    pub target: usize,
    /// Address and port.
    pub addr: SocketAddr,
    /// TCP or UDP.
    pub proto: Proto,
}

/// What one try of a probe saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryResult {
    /// What happened.
    pub evidence: Evidence,
    /// Time from sending to the answer (or the error).
    pub rtt: Option<Duration>,
    /// The probe socket's local address.
    pub local: Option<SocketAddr>,
    /// First bytes received (UDP reply, or TCP banner after `--send`).
    pub data: Option<Vec<u8>>,
    /// What a `--tls`/`--http` session after the connect found.
    pub session: Option<Box<super::tls::session::Session>>,
}

impl TryResult {
    /// A try that ended with only this evidence.
    pub fn bare(evidence: Evidence) -> Self {
        TryResult {
            evidence,
            rtt: None,
            local: None,
            data: None,
            session: None,
        }
    }
}

/// One finished probe (after its retries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// 0-based repeat number.
    pub seq: u32,
    /// When it started, from the start of the run.
    pub at: Duration,
    /// The last try's result, with the tries counted into `Silence`.
    pub result: TryResult,
}

/// How a run is scheduled.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Probes in flight at most.
    pub parallel: usize,
    /// Repeats per flow; 0: until Ctrl-C.
    pub count: u32,
    /// Time between the starts of a flow's repeats.
    pub interval: Duration,
    /// Timeouts.
    pub timeout: TimeoutPolicy,
    /// Whether Ctrl-C ends the run early with what was found so far.
    pub catch_ctrl_c: bool,
    /// This host's links: a first probe to a host on one waits for neighbour resolution.
    pub local_links: Arc<LocalLinks>,
}

/// Everything a run found.
#[derive(Debug)]
pub struct RunResult {
    /// Attempts per flow, in flow order.
    pub attempts: Vec<Vec<Attempt>>,
    /// Ctrl-C stopped the run.
    pub interrupted: bool,
    /// How long the run took.
    pub elapsed: Duration,
    /// Each address's timeout at the end (for the report).
    pub final_timeouts: HashMap<IpAddr, Duration>,
    /// The run stopped early because this host ran out of a resource (the errno), after waiting for it.
    pub stopped: Option<i32>,
    /// Hosts that rate-limit ICMP, found by re-probing after the run.
    pub rate_limited: Vec<super::ratelimit::RateLimitNote>,
}

/// What [`run`] calls for one try of a flow (the flow, its try number, its host's timeout): [`run`]'s bound,
/// named once for the functions it hands the probe to. ([`run`] spells it out, so that a closure's argument
/// types are inferred.)
trait ProbeFn: Fn(Flow, u32, Arc<AdaptiveTimeout>) -> Self::Try + Send + Sync + 'static {
    /// The try in progress.
    type Try: Future<Output = TryResult> + Send + 'static;
}

impl<T, F> ProbeFn for T
where
    T: Fn(Flow, u32, Arc<AdaptiveTimeout>) -> F + Send + Sync + 'static,
    F: Future<Output = TryResult> + Send + 'static,
{
    type Try = F;
}

/// What [`run`] tells of each finished attempt, named once like [`ProbeFn`].
trait OnAttempt: Fn(&Flow, &Attempt) + Send + Sync + 'static {}
impl<T> OnAttempt for T where T: Fn(&Flow, &Attempt) + Send + Sync + 'static {}

/// How long a probe that ran short of local resources keeps trying before it gives up.
pub const SHORTAGE_PATIENCE: Duration = Duration::from_secs(10);

/// Runs every flow `schedule.count` times with at most `schedule.parallel` probes in flight. `probe` makes one
/// try. `on_done` is called once per finished attempt, with its flow (progress, streamed lines).
pub async fn run<P, Fut, D>(flows: &[Flow], schedule: Schedule, probe: P, on_done: D) -> RunResult
where
    P: Fn(Flow, u32, Arc<AdaptiveTimeout>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = TryResult> + Send + 'static,
    D: Fn(&Flow, &Attempt) + Send + Sync + 'static,
{
    let timeouts = Arc::new(timeouts_per_host(flows, schedule.timeout, &schedule.local_links));
    let shared = Arc::new(Shared {
        permits: Semaphore::new(schedule.parallel.max(1)),
        gate: Arc::new(Semaphore::new(schedule.parallel.max(1))),
        finished: Notify::new(),
        short: AtomicUsize::new(0),
        stop: Notify::new(),
        stopped: Mutex::new(None),
        results: Mutex::new(vec![Vec::new(); flows.len()]),
        down: Mutex::new(HashMap::new()),
        any_down: AtomicBool::new(false),
        schedule: schedule.clone(),
        start: Instant::now(),
        probe,
        on_done,
    });
    let mut producer = tokio::spawn(spawn_all(
        flows.to_vec(),
        Arc::clone(&shared),
        Arc::clone(&timeouts),
    ));
    let ctrl_c = async {
        if schedule.catch_ctrl_c {
            let _ = tokio::signal::ctrl_c().await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    // A probe that could not get a socket for SHORTAGE_PATIENCE ends the run: the next would fare no better.
    let (interrupted, finished) = tokio::select! {
        _ = &mut producer => (false, true),
        _ = ctrl_c => (true, false),
        _ = shared.stop.notified() => (false, false),
    };
    if !finished {
        // Dropping the producer's task set aborts the probes still running.
        producer.abort();
        let _ = producer.await;
    }
    let elapsed = shared.start.elapsed();
    let mut attempts = std::mem::take(&mut *shared.results.lock().unwrap_or_else(|e| e.into_inner()));
    for a in &mut attempts {
        a.sort_by_key(|a| a.seq);
    }
    RunResult {
        attempts,
        interrupted,
        elapsed,
        final_timeouts: timeouts.iter().map(|(a, t)| (*a, t.current())).collect(),
        stopped: *shared.stopped.lock().unwrap_or_else(|e| e.into_inner()),
        rate_limited: Vec::new(),
    }
}

/// Runs every flow; returns when all have finished. A task of its own, so that on a multi-threaded runtime
/// the wake-ups as probes end stay on the runtime's workers rather than crossing to the thread that started
/// the run. Repeated flows get a task each (their repeats wait for room on `gate`); single probes run in lanes.
async fn spawn_all<P, D>(
    flows: Vec<Flow>,
    shared: Arc<Shared<P, D>>,
    timeouts: Arc<HashMap<IpAddr, Arc<AdaptiveTimeout>>>,
) where
    P: ProbeFn,
    D: OnAttempt,
{
    if shared.schedule.count == 1 {
        return in_lanes(flows, shared, timeouts).await;
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (i, flow) in flows.into_iter().enumerate() {
        let timeout = Arc::clone(&timeouts[&flow.addr.ip()]);
        let shared = Arc::clone(&shared);
        tasks.spawn(shared.run_flow(i, flow, timeout));
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
}

/// Single probes in `parallel` lanes, each taking the next flow when its last probe ends: a 65,535-port scan
/// holds `parallel` tasks for the whole run, and a probe costs no task of its own. Most closed ports are
/// judged within connect(), so spawning, joining and a pass per probe were a large part of their cost.
async fn in_lanes<P, D>(
    flows: Vec<Flow>,
    shared: Arc<Shared<P, D>>,
    timeouts: Arc<HashMap<IpAddr, Arc<AdaptiveTimeout>>>,
) where
    P: ProbeFn,
    D: OnAttempt,
{
    let flows = Arc::new(flows);
    let next = Arc::new(AtomicUsize::new(0));
    let lanes = shared.schedule.parallel.max(1).min(flows.len());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..lanes {
        let (flows, next) = (Arc::clone(&flows), Arc::clone(&next));
        let (shared, timeouts) = (Arc::clone(&shared), Arc::clone(&timeouts));
        tasks.spawn(async move {
            // Flows start in order, whichever lane is free takes the next.
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&flow) = flows.get(i) else { break };
                shared.one(i, flow, 0, &timeouts[&flow.addr.ip()]).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// One adaptive timeout per probed address, shared by every probe to it.
fn timeouts_per_host(
    flows: &[Flow],
    policy: TimeoutPolicy,
    links: &LocalLinks,
) -> HashMap<IpAddr, Arc<AdaptiveTimeout>> {
    let mut timeouts = HashMap::new();
    for f in flows {
        timeouts.entry(f.addr.ip()).or_insert_with(|| {
            let first = links.contains(f.addr.ip()).then_some(NEIGHBOUR_WAIT);
            Arc::new(AdaptiveTimeout::with_first_wait(policy, first))
        });
    }
    timeouts
}

/// What every probe task of a run shares.
struct Shared<P, D> {
    /// Probes making a try at once.
    permits: Semaphore,
    /// Repeat tasks alive at once (single probes run in lanes, as many as this allows).
    gate: Arc<Semaphore>,
    /// Woken when a try ends and gives its socket back, while some probe waits for one.
    finished: Notify,
    /// Probes waiting for a socket (a local resource ran short): only then is `finished` worth waking.
    short: AtomicUsize,
    /// Woken when the run must stop early (a local resource stayed short).
    stop: Notify,
    /// The errno that stopped the run.
    stopped: Mutex<Option<i32>>,
    /// Attempts per flow, in flow order.
    results: Mutex<Vec<Vec<Attempt>>>,
    /// Hosts whose neighbour resolution failed, with that result: their other probes are not made.
    down: Mutex<HashMap<IpAddr, TryResult>>,
    /// Whether `down` holds any host: most runs never lock it.
    any_down: AtomicBool,
    schedule: Schedule,
    start: Instant,
    probe: P,
    on_done: D,
}

impl<P, D> Shared<P, D>
where
    P: ProbeFn,
    D: OnAttempt,
{
    /// Every repeat of flow `i`. Like ping, repeats start on the interval whether or not the previous one has
    /// finished.
    async fn run_flow(self: Arc<Self>, i: usize, flow: Flow, timeout: Arc<AdaptiveTimeout>) {
        let mut repeats = tokio::task::JoinSet::new();
        let last = match self.schedule.count {
            0 => u32::MAX, // until Ctrl-C
            n => n - 1,
        };
        for seq in 0..=last {
            tokio::time::sleep_until(self.start + self.schedule.interval * seq).await;
            // Repeats wait for room as single probes do, so a short interval cannot pile up tasks without
            // bound; finished ones are reaped as we go.
            let pass = Arc::clone(&self.gate).acquire_owned().await.ok();
            let (shared, timeout) = (Arc::clone(&self), Arc::clone(&timeout));
            repeats.spawn(async move {
                let _pass = pass;
                shared.one(i, flow, seq, &timeout).await
            });
            while repeats.try_join_next().is_some() {}
        }
        while repeats.join_next().await.is_some() {}
    }

    /// One repeat of flow `i`: its attempt is recorded, and an answer's round trip teaches the host's timeout.
    async fn one(&self, i: usize, flow: Flow, seq: u32, timeout: &Arc<AdaptiveTimeout>) {
        let attempt = self.attempt(flow, seq, timeout).await;
        if let Some(rtt) = attempt.result.rtt
            && attempt.result.evidence.is_answer(flow.addr.ip())
        {
            timeout.record(rtt);
        }
        (self.on_done)(&flow, &attempt);
        // A probe that ends as the run stops, after its results were taken, is not counted.
        if let Some(slot) = self.results.lock().unwrap_or_else(|e| e.into_inner()).get_mut(i) {
            slot.push(attempt);
        }
    }
    /// The result a host known to be down gave, for its other probes.
    fn known_down(&self, ip: IpAddr) -> Option<TryResult> {
        if !self.any_down.load(Ordering::Acquire) {
            return None;
        }
        self.down
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&ip)
            .cloned()
    }

    /// One probe: a permit, a try, a second try after silence when the wait had been shortened, and
    /// patience when this host ran out of file descriptors or ports.
    async fn attempt(&self, flow: Flow, seq: u32, timeout: &Arc<AdaptiveTimeout>) -> Attempt {
        let start = self.start;
        let max_tries = if self.schedule.count == 1 { 2 } else { 1 };
        let mut tries = 0;
        let mut at = start.elapsed();
        let mut short_since: Option<Instant> = None;
        let ip = flow.addr.ip();
        loop {
            // A host known to be absent costs its first probes' wait once, not once per port.
            if let Some(result) = self.known_down(ip) {
                let at = start.elapsed();
                return Attempt { seq, at, result };
            }
            let mut result = {
                let Ok(_permit) = self.permits.acquire().await else {
                    unreachable!("the semaphore is never closed")
                };
                if tries == 0 {
                    at = start.elapsed();
                }
                let r = (self.probe)(flow, seq, Arc::clone(timeout)).await;
                if self.short.load(Ordering::Relaxed) > 0 {
                    self.finished.notify_waiters();
                }
                r
            };
            if self.schedule.count == 1
                && neighbour_failed(&result.evidence, ip, result.local.map(|l| l.ip()))
            {
                self.down
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(ip, result.clone());
                self.any_down.store(true, Ordering::Release);
            }
            match result.evidence {
                Evidence::LocalErrno(e) if is_resource_shortage(e) => {
                    let since = *short_since.get_or_insert_with(Instant::now);
                    if since.elapsed() < SHORTAGE_PATIENCE {
                        // Wait for another probe to give its socket back, or a little while.
                        self.short.fetch_add(1, Ordering::Relaxed);
                        let _ =
                            tokio::time::timeout(Duration::from_millis(50), self.finished.notified()).await;
                        self.short.fetch_sub(1, Ordering::Relaxed);
                        continue;
                    }
                    self.stopped
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get_or_insert(e);
                    self.stop.notify_one();
                    return Attempt { seq, at, result };
                }
                Evidence::Silence { waited, .. } => {
                    tries += 1;
                    // Silence after a wait the host's measured answers had shortened may be one lost
                    // packet: try again. After the full cap, the kernel has already resent the SYN.
                    if tries < max_tries && timeout.is_shortened() {
                        continue;
                    }
                    result.evidence = Evidence::Silence { waited, tries };
                    return Attempt { seq, at, result };
                }
                _ => return Attempt { seq, at, result },
            }
        }
    }
}

/// The open-file limit probe asks for: one socket per port and a margin; more is never needed.
pub const OPEN_FILES_WANTED: u64 = 1 << 17;

/// File descriptors this process has open now.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(16, |d| d.count())
}

/// The most probes that may be in flight under a soft file limit with `in_use` descriptors open: the rest,
/// less a margin for the runtime and the resolver.
pub fn max_parallel(soft_limit: u64, in_use: usize) -> usize {
    let margin = 16 + in_use as u64;
    soft_limit.saturating_sub(margin).max(1).min(usize::MAX as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimator_follows_rfc6298_with_floor_and_cap() {
        let floor = Duration::from_millis(200);
        let cap = Duration::from_secs(2);
        let mut e = RttEstimator::default();
        assert_eq!(e.timeout(floor, cap), cap);
        e.sample(Duration::from_millis(50));
        // srtt 50 + 4 * 25 = 150 ms, below the floor.
        assert_eq!(e.timeout(floor, cap), floor);
        e.sample(Duration::from_millis(300));
        // twice the slowest answer: 600 ms.
        assert_eq!(e.timeout(floor, cap), Duration::from_millis(600));
        e.sample(Duration::from_secs(5));
        assert_eq!(e.timeout(floor, cap), cap);
        let mut fast = RttEstimator::default();
        for _ in 0..10 {
            fast.sample(Duration::from_micros(40));
        }
        assert_eq!(fast.timeout(floor, cap), floor);
    }

    #[test]
    fn parallelism_stays_under_the_file_limit() {
        assert_eq!(max_parallel(64, 10), 38);
        assert_eq!(max_parallel(20, 10), 1);
        assert_eq!(max_parallel(20_000, 8), 19_976);
    }

    fn flows(n: usize) -> Vec<Flow> {
        (0..n)
            .map(|i| Flow {
                target: 0,
                addr: SocketAddr::new("198.51.100.7".parse().unwrap(), 1 + i as u16),
                proto: Proto::Tcp,
            })
            .collect()
    }

    fn schedule(parallel: usize, count: u32) -> Schedule {
        Schedule {
            parallel,
            count,
            interval: Duration::from_millis(100),
            timeout: TimeoutPolicy::Adaptive {
                floor: TIMEOUT_FLOOR,
                cap: TIMEOUT_CAP,
            },
            catch_ctrl_c: false,
            local_links: Arc::default(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_never_exceeds_the_bound() {
        let live = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let (l, p) = (Arc::clone(&live), Arc::clone(&peak));
        let probe = move |_f: Flow, _s: u32, _c: Arc<AdaptiveTimeout>| {
            let (l, p) = (Arc::clone(&l), Arc::clone(&p));
            async move {
                let now = l.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
                l.fetch_sub(1, Ordering::SeqCst);
                TryResult {
                    rtt: Some(Duration::from_millis(10)),
                    ..TryResult::bare(Evidence::Refused)
                }
            }
        };
        let done = Arc::new(AtomicUsize::new(0));
        let d = Arc::clone(&done);
        let r = run(&flows(100), schedule(7, 1), probe, move |_, _| {
            d.fetch_add(1, Ordering::SeqCst);
        })
        .await;
        assert_eq!(peak.load(Ordering::SeqCst), 7);
        assert_eq!(done.load(Ordering::SeqCst), 100);
        assert!(r.attempts.iter().all(|a| a.len() == 1));
        // 100 probes of 10 ms, 7 at a time: 15 rounds.
        assert_eq!(r.elapsed, Duration::from_millis(150));
    }

    #[tokio::test(start_paused = true)]
    async fn repeats_keep_the_interval() {
        let probe = |_f: Flow, _s: u32, _c: Arc<AdaptiveTimeout>| async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            TryResult::bare(Evidence::Connected)
        };
        let r = run(&flows(2), schedule(10, 4), probe, |_, _| {}).await;
        assert_eq!(r.elapsed, Duration::from_millis(305));
        let starts: Vec<Duration> = r.attempts[1].iter().map(|a| a.at).collect();
        let ms: Vec<Duration> = [0, 100, 200, 300]
            .iter()
            .map(|m| Duration::from_millis(*m))
            .collect();
        assert_eq!(starts, ms);
        assert_eq!(
            r.attempts[0].iter().map(|a| a.seq).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
    }

    /// A fake host: ports 1-9 answer after 50 ms, port 10 never answers.
    async fn fake_host(f: Flow, timeout: Arc<AdaptiveTimeout>) -> TryResult {
        let started = Instant::now();
        let silent = f.addr.port() == 10;
        let answer = async move {
            if silent {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        match timeout.wait(started, answer).await {
            Ok(()) => TryResult {
                rtt: Some(started.elapsed()),
                ..TryResult::bare(Evidence::Refused)
            },
            Err(waited) => TryResult::bare(Evidence::Silence { waited, tries: 1 }),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn silent_ports_wait_for_the_measured_timeout_and_retry_once() {
        let probe = |f: Flow, _s: u32, c: Arc<AdaptiveTimeout>| fake_host(f, c);
        let r = run(&flows(10), schedule(100, 1), probe, |_, _| {}).await;
        let silent = &r.attempts[9][0];
        assert_eq!(
            silent.result.evidence,
            Evidence::Silence {
                waited: TIMEOUT_FLOOR,
                tries: 2
            }
        );
        // The first try's 2 s deadline shrank to 200 ms once answers came in at 50 ms; then one retry.
        assert_eq!(r.elapsed, Duration::from_millis(400));
        assert_eq!(
            r.final_timeouts[&"198.51.100.7".parse::<IpAddr>().unwrap()],
            TIMEOUT_FLOOR
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_host_that_never_answers_waits_the_cap_once() {
        let probe = |f: Flow, _s: u32, c: Arc<AdaptiveTimeout>| async move {
            let f = Flow {
                addr: SocketAddr::new(f.addr.ip(), 10),
                ..f
            };
            fake_host(f, c).await
        };
        let r = run(&flows(3), schedule(100, 1), probe, |_, _| {}).await;
        assert_eq!(r.elapsed, TIMEOUT_CAP);
        assert!(
            r.attempts
                .iter()
                .all(|a| matches!(a[0].result.evidence, Evidence::Silence { tries: 1, .. }))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn fixed_timeouts_do_not_retry() {
        let probe = |f: Flow, _s: u32, c: Arc<AdaptiveTimeout>| fake_host(f, c);
        let mut p = schedule(100, 1);
        p.timeout = TimeoutPolicy::Fixed(Duration::from_millis(300));
        let r = run(&flows(10), p, probe, |_, _| {}).await;
        assert_eq!(r.elapsed, Duration::from_millis(300));
        assert!(matches!(
            r.attempts[9][0].result.evidence,
            Evidence::Silence { tries: 1, .. }
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn repeats_with_no_interval_do_not_pile_up_tasks() {
        let peak = Arc::new(AtomicUsize::new(0));
        let p = Arc::clone(&peak);
        let probe = move |_f: Flow, _s: u32, _c: Arc<AdaptiveTimeout>| {
            let p = Arc::clone(&p);
            async move {
                let alive = tokio::runtime::Handle::current().metrics().num_alive_tasks();
                p.fetch_max(alive, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
                TryResult::bare(Evidence::Connected)
            }
        };
        let mut p = schedule(2, 1000);
        p.interval = Duration::ZERO;
        let r = run(&flows(1), p, probe, |_, _| {}).await;
        assert_eq!(r.attempts[0].len(), 1000);
        // 1000 repeats, 2 at a time, 10 ms each.
        assert_eq!(r.elapsed, Duration::from_secs(5));
        // The flow's task and the repeats holding a pass, not one task per repeat.
        let peak = peak.load(Ordering::SeqCst);
        assert!(peak <= 4, "{peak} tasks alive at once");
    }

    #[tokio::test(start_paused = true)]
    async fn repeats_do_not_wait_for_a_slow_previous_probe() {
        let probe = |_f: Flow, _s: u32, _c: Arc<AdaptiveTimeout>| async {
            tokio::time::sleep(Duration::from_millis(250)).await;
            TryResult::bare(Evidence::Connected)
        };
        let r = run(&flows(1), schedule(10, 3), probe, |_, _| {}).await;
        // Starts at 0, 100 and 200 ms; the last ends at 450 ms.
        assert_eq!(r.elapsed, Duration::from_millis(450));
        assert_eq!(r.attempts[0].len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn resource_shortage_waits_for_a_free_socket() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&calls);
        let probe = move |_f: Flow, _s: u32, _c: Arc<AdaptiveTimeout>| {
            let n = c.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 3 {
                    TryResult::bare(Evidence::LocalErrno(libc::EMFILE))
                } else {
                    TryResult::bare(Evidence::Connected)
                }
            }
        };
        let r = run(&flows(1), schedule(4, 1), probe, |_, _| {}).await;
        assert_eq!(r.attempts[0][0].result.evidence, Evidence::Connected);
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }
}
