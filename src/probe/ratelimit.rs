//! ICMP rate limits. Linux answers a burst of about six ICMP errors to one source, then about one a second,
//! so ports it rejects read as silent once the burst is spent. A host that sent ICMP errors and was silent on
//! other ports is re-probed on those ports, paced under its ICMP rate, within `--retry-budget`; if paced
//! re-probes draw errors, the silence that is left is labelled unknown rather than filtered.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;
use tokio::time::Instant;

use super::schedule::{AdaptiveTimeout, Attempt, Flow, TIMEOUT_CAP, TIMEOUT_FLOOR, TimeoutPolicy, TryResult};
use super::verdict::Evidence;
use crate::render::ms_f64;
use crate::sys::errqueue::ErrOrigin;

/// The pace of the first re-probes: Linux's default ICMP rate after its burst (net.ipv4.icmp_ratelimit).
pub const FIRST_PACE: Duration = Duration::from_millis(1050);
/// The slowest pace tried before the budget runs out.
const SLOWEST_PACE: Duration = Duration::from_secs(4);
/// Silent re-probes in a row, with no error drawn yet, after which the silence is believed.
const SILENT_TO_BELIEVE: u32 = 2;

/// A host whose silence may be a spent ICMP budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspect {
    /// The host.
    pub address: IpAddr,
    /// ICMP errors it caused during the run.
    pub errors: u32,
    /// The quickest of those errors to come back (a later one may answer the kernel's SYN retransmission).
    pub error_rtt: Duration,
    /// Indexes of its silent flows, in flow order.
    pub silent: Vec<usize>,
}

/// What the re-probing found about one host, for the summary.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RateLimitNote {
    /// The host that rate-limits its ICMP errors.
    pub address: IpAddr,
    /// ICMP errors counted from it (the run and the re-probes).
    pub errors: u32,
    /// Silent ports probed again, paced.
    pub reprobed: usize,
    /// Ports still silent at the end of the budget: their state is unknown.
    pub unknown: usize,
    /// The pace of the last re-probes (time between two).
    pub pace_ms: f64,
}

/// Whether a probe ended with an ICMP error (from the target or a router on the way).
pub fn is_icmp_error(ev: &Evidence) -> bool {
    matches!(ev, Evidence::Queued(q) if matches!(q.origin, ErrOrigin::Icmp | ErrOrigin::Icmp6))
}

/// Hosts that caused ICMP errors on some ports and were silent on others.
pub fn suspects(flows: &[Flow], attempts: &[Vec<Attempt>]) -> Vec<Suspect> {
    let mut hosts: Vec<Suspect> = Vec::new();
    for (i, (flow, tries)) in flows.iter().zip(attempts).enumerate() {
        let Some(last) = tries.last() else { continue };
        let ip = flow.addr.ip();
        let at = match hosts.iter().position(|h| h.address == ip) {
            Some(at) => at,
            None => {
                hosts.push(Suspect {
                    address: ip,
                    errors: 0,
                    error_rtt: Duration::MAX,
                    silent: Vec::new(),
                });
                hosts.len() - 1
            }
        };
        match &last.result.evidence {
            ev if is_icmp_error(ev) => {
                hosts[at].errors += 1;
                let rtt = last.result.rtt.unwrap_or_default();
                hosts[at].error_rtt = hosts[at].error_rtt.min(rtt);
            }
            Evidence::Silence { .. } => hosts[at].silent.push(i),
            _ => {}
        }
    }
    hosts.retain(|h| h.errors > 0 && !h.silent.is_empty());
    hosts
}

/// The pacing of one host's re-probes: slower after silence once the rate limit is seen, and given up when
/// the first re-probes stay silent (the host had ICMP to spare: its silence is real).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pacer {
    /// Time between two re-probes.
    pub pace: Duration,
    /// A paced re-probe drew an ICMP error where the run had silence.
    pub confirmed: bool,
    silent_run: u32,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer {
            pace: FIRST_PACE,
            confirmed: false,
            silent_run: 0,
        }
    }
}

impl Pacer {
    /// Takes one re-probe's result; false when re-probing this host should stop.
    pub fn after(&mut self, ev: &Evidence) -> bool {
        match ev {
            Evidence::Silence { .. } => {
                self.silent_run += 1;
                if self.confirmed {
                    // Still over the host's rate (or a port really dropped): give the bucket longer.
                    self.pace = (self.pace * 2).min(SLOWEST_PACE);
                    true
                } else {
                    self.silent_run < SILENT_TO_BELIEVE
                }
            }
            other => {
                self.silent_run = 0;
                self.confirmed |= is_icmp_error(other);
                true
            }
        }
    }
}

/// Re-probes every suspect host's silent flows (hosts at once, each paced) until `budget` is spent; replaces
/// the attempts re-probed and marks what is still silent on confirmed hosts as rate-limited.
pub async fn reprobe<P, Fut>(
    flows: &[Flow],
    attempts: &mut [Vec<Attempt>],
    probe: P,
    budget: Duration,
    timeouts: &HashMap<IpAddr, Duration>,
    run_elapsed: Duration,
) -> Vec<RateLimitNote>
where
    P: Fn(Flow, u32, Arc<AdaptiveTimeout>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = TryResult> + Send + 'static,
{
    let found = suspects(flows, attempts);
    if found.is_empty() || budget.is_zero() {
        return Vec::new();
    }
    let start = Instant::now();
    let deadline = start + budget;
    let done: Arc<Mutex<Vec<(usize, TryResult)>>> = Arc::default();
    let mut tasks = tokio::task::JoinSet::new();
    for s in &found {
        // An error drawn by a re-probe comes back as fast as the run's did: no need to wait the full timeout.
        let cap = timeouts.get(&s.address).copied().unwrap_or(TIMEOUT_CAP);
        let wait = s.error_rtt.saturating_mul(4).max(TIMEOUT_FLOOR).min(cap);
        let timeout = Arc::new(AdaptiveTimeout::new(TimeoutPolicy::Fixed(wait)));
        let host = HostRun {
            flows: s.silent.iter().map(|&i| (i, flows[i])).collect(),
            timeout,
            deadline,
            done: Arc::clone(&done),
        };
        tasks.spawn(host.run(probe.clone()));
    }
    let mut pacers = HashMap::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok((address, pacer)) = joined {
            pacers.insert(address, pacer);
        }
    }
    let results = std::mem::take(&mut *done.lock().unwrap_or_else(|e| e.into_inner()));
    let at = run_elapsed + start.elapsed();
    apply(&found, &pacers, results, attempts, at)
}

/// One host's re-probes.
struct HostRun {
    flows: Vec<(usize, Flow)>,
    timeout: Arc<AdaptiveTimeout>,
    deadline: Instant,
    done: Arc<Mutex<Vec<(usize, TryResult)>>>,
}

impl HostRun {
    async fn run<P, Fut>(self, probe: P) -> (IpAddr, Pacer)
    where
        P: Fn(Flow, u32, Arc<AdaptiveTimeout>) -> Fut,
        Fut: Future<Output = TryResult>,
    {
        let address = self
            .flows
            .first()
            .map_or(IpAddr::from([0, 0, 0, 0]), |f| f.1.addr.ip());
        let mut pacer = Pacer::default();
        let mut next = Instant::now() + pacer.pace;
        for (i, flow) in self.flows {
            let wait = self.timeout.current();
            if next + wait > self.deadline {
                break;
            }
            tokio::time::sleep_until(next).await;
            let result = probe(flow, 0, Arc::clone(&self.timeout)).await;
            let go_on = pacer.after(&result.evidence);
            self.done
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((i, result));
            if !go_on {
                break;
            }
            next += pacer.pace;
        }
        (address, pacer)
    }
}

/// Puts the re-probes' results in place and labels what stays silent on hosts whose rate limit was seen.
fn apply(
    found: &[Suspect],
    pacers: &HashMap<IpAddr, Pacer>,
    results: Vec<(usize, TryResult)>,
    attempts: &mut [Vec<Attempt>],
    at: Duration,
) -> Vec<RateLimitNote> {
    let mut extra: HashMap<IpAddr, (u32, usize)> = HashMap::new();
    for (i, result) in results {
        let Some(last) = attempts[i].last_mut() else {
            continue;
        };
        let ip = found.iter().find(|s| s.silent.contains(&i)).map(|s| s.address);
        if let Some(ip) = ip {
            let e = extra.entry(ip).or_default();
            e.1 += 1;
            e.0 += u32::from(is_icmp_error(&result.evidence));
        }
        if !matches!(result.evidence, Evidence::Silence { .. }) {
            last.result = result;
            last.at = at;
        }
    }
    let mut notes = Vec::new();
    for s in found {
        let Some(pacer) = pacers.get(&s.address).filter(|p| p.confirmed) else {
            continue;
        };
        let (more, reprobed) = extra.get(&s.address).copied().unwrap_or_default();
        let errors = s.errors + more;
        let mut unknown = 0;
        for &i in &s.silent {
            if let Some(last) = attempts[i].last_mut()
                && matches!(last.result.evidence, Evidence::Silence { .. })
            {
                last.result.evidence = Evidence::RateLimited { errors };
                unknown += 1;
            }
        }
        notes.push(RateLimitNote {
            address: s.address,
            errors,
            reprobed,
            unknown,
            pace_ms: ms_f64(pacer.pace),
        });
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::report::tests::{attempt, flow};
    use crate::sys::errqueue::QueuedError;
    use crate::target::Proto;

    fn prohibited() -> Evidence {
        Evidence::Queued(QueuedError {
            errno: libc::EHOSTUNREACH,
            origin: ErrOrigin::Icmp,
            icmp_type: 3,
            code: 13,
            rfc4884_len: 0,
            offender: Some("198.51.100.7".parse().unwrap()),
        })
    }

    fn silence() -> Evidence {
        Evidence::Silence {
            waited: Duration::from_millis(200),
            tries: 2,
        }
    }

    /// Ten rejected ports: a burst of six errors, then four silent.
    fn burst() -> (Vec<Flow>, Vec<Vec<Attempt>>) {
        let flows: Vec<Flow> = (3000..3010).map(|p| flow(p, Proto::Tcp)).collect();
        let attempts = (0..10)
            .map(|i| vec![attempt(0, if i < 6 { prohibited() } else { silence() }, None)])
            .collect();
        (flows, attempts)
    }

    #[test]
    fn errors_then_silence_make_a_suspect_and_silence_alone_does_not() {
        let (flows, attempts) = burst();
        let s = suspects(&flows, &attempts);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].errors, s[0].silent.clone()), (6, vec![6, 7, 8, 9]));
        assert_eq!(s[0].error_rtt, Duration::ZERO);
        let quiet: Vec<Vec<Attempt>> = (0..10).map(|_| vec![attempt(0, silence(), None)]).collect();
        assert!(suspects(&flows, &quiet).is_empty());
    }

    #[test]
    fn the_pacer_believes_early_silence_and_slows_down_after_a_confirmed_limit() {
        let mut p = Pacer::default();
        assert!(p.after(&silence()));
        assert!(!p.after(&silence()), "two silent re-probes: the silence is real");
        let mut p = Pacer::default();
        assert!(p.after(&prohibited()));
        assert!(p.confirmed);
        assert!(p.after(&silence()));
        assert_eq!(p.pace, FIRST_PACE * 2);
        for _ in 0..5 {
            assert!(p.after(&silence()));
        }
        assert_eq!(p.pace, SLOWEST_PACE);
    }

    #[tokio::test(start_paused = true)]
    async fn paced_reprobes_find_the_rest_within_the_budget() {
        let (flows, mut attempts) = burst();
        // The host's bucket: one error per second after the burst.
        let probe = |_f: Flow, _s: u32, _t: Arc<AdaptiveTimeout>| async { TryResult::bare(prohibited()) };
        let timeouts = HashMap::from([(flows[0].addr.ip(), Duration::from_millis(200))]);
        let notes = reprobe(
            &flows,
            &mut attempts,
            probe,
            Duration::from_secs(5),
            &timeouts,
            Duration::ZERO,
        )
        .await;
        assert!(attempts.iter().all(|a| is_icmp_error(&a[0].result.evidence)));
        assert_eq!(notes.len(), 1);
        assert_eq!((notes[0].errors, notes[0].reprobed, notes[0].unknown), (10, 4, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn what_the_budget_leaves_is_rate_limited() {
        let (flows, mut attempts) = burst();
        let probe = |_f: Flow, _s: u32, _t: Arc<AdaptiveTimeout>| async { TryResult::bare(prohibited()) };
        let timeouts = HashMap::new();
        let started = Instant::now();
        let notes = reprobe(
            &flows,
            &mut attempts,
            probe,
            Duration::from_secs(2),
            &timeouts,
            Duration::ZERO,
        )
        .await;
        assert!(started.elapsed() <= Duration::from_secs(2));
        let n = &notes[0];
        assert_eq!((n.reprobed, n.unknown, n.errors), (1, 3, 7));
        assert_eq!(
            attempts[9][0].result.evidence,
            Evidence::RateLimited { errors: 7 }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn silence_that_stays_is_believed() {
        let (flows, mut attempts) = burst();
        let probe = |_f: Flow, _s: u32, _t: Arc<AdaptiveTimeout>| async {
            TryResult::bare(Evidence::Silence {
                waited: Duration::from_millis(200),
                tries: 1,
            })
        };
        let notes = reprobe(
            &flows,
            &mut attempts,
            probe,
            Duration::from_secs(5),
            &HashMap::new(),
            Duration::ZERO,
        )
        .await;
        assert!(notes.is_empty());
        assert!(matches!(attempts[9][0].result.evidence, Evidence::Silence { .. }));
    }
}
