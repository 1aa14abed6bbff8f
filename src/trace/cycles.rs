//! Repeated traces (-c), mtr-like: one full trace per cycle (every TTL in flight at once), cycles
//! started -i apart, their probes merged into one outcome whose per-hop statistics cover every cycle.

use std::net::IpAddr;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use super::engine::{StopReason, TraceOutcome, Ts};
use super::hops::hop_summaries;
use super::net::monotonic_now;
use crate::render::ms_f64;

/// Longest sleep between two looks at Ctrl-C while waiting for the next cycle.
const NAP: Duration = Duration::from_millis(20);

/// When to stop repeating.
#[derive(Debug, Clone, Copy)]
pub struct Cycles {
    /// How many (0: until Ctrl-C or `deadline`).
    pub count: u32,
    /// Time between two cycles' starts.
    pub interval: Duration,
    /// The whole run ends after this long.
    pub deadline: Option<Duration>,
    /// Whether the user pressed Ctrl-C (checked while waiting for the next cycle).
    pub interrupted: fn() -> bool,
}

/// Runs `one(k)` for cycle k = 0, 1, ... until the count, Ctrl-C or the deadline, telling `after` about
/// each finished cycle and everything merged so far. Returns the merged outcome.
pub fn run<E>(
    cycles: Cycles,
    mut one: impl FnMut(u32) -> Result<TraceOutcome, E>,
    mut after: impl FnMut(u32, &TraceOutcome, &TraceOutcome),
) -> Result<TraceOutcome, E> {
    let start = monotonic_now();
    let mut merged: Option<TraceOutcome> = None;
    for k in 0.. {
        if cycles.count != 0 && k >= cycles.count {
            break;
        }
        let due = start + cycles.interval * k;
        if !wait_until(due, cycles.deadline.map(|d| start + d), cycles.interrupted) {
            if let Some(m) = merged.as_mut().filter(|_| (cycles.interrupted)()) {
                m.stop = StopReason::Interrupted;
            }
            break;
        }
        let outcome = one(k)?;
        let stop = outcome.stop.clone();
        let m = match merged.as_mut() {
            Some(m) => {
                merge(m, outcome.clone(), k);
                m
            }
            None => merged.insert(outcome.clone()),
        };
        after(k, &outcome, m);
        if stop == StopReason::Interrupted {
            break;
        }
    }
    Ok(merged.unwrap_or_else(|| empty(start)))
}

/// Sleeps until `due`; false when Ctrl-C or the run's deadline came first.
fn wait_until(due: Ts, deadline: Option<Ts>, interrupted: fn() -> bool) -> bool {
    loop {
        let now = monotonic_now();
        if interrupted() || deadline.is_some_and(|d| now >= d) {
            return false;
        }
        if now >= due {
            return true;
        }
        std::thread::sleep((due - now).min(NAP));
    }
}

/// Appends cycle `k`'s probes to `into`; the run's stop is the latest cycle's.
pub fn merge(into: &mut TraceOutcome, next: TraceOutcome, k: u32) {
    into.probes.extend(next.probes.into_iter().map(|mut p| {
        p.cycle = k;
        p
    }));
    into.stop = next.stop;
    into.ended = next.ended.max(into.ended);
    into.foreign += next.foreign;
    into.started = into.started.or(next.started);
}

fn empty(at: Ts) -> TraceOutcome {
    TraceOutcome {
        probes: Vec::new(),
        stop: StopReason::Interrupted,
        started: None,
        ended: at,
        foreign: 0,
        pmtu: Default::default(),
    }
}

/// One cycle as `--format ndjson` streams it (the summary document is the last line).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CycleLine {
    /// Always "cycle".
    pub event: &'static str,
    /// Which cycle, from 1.
    pub cycle: u32,
    /// Whether the target answered in this cycle.
    pub reached: bool,
    /// The hop where the target answered, if it did.
    pub hop: Option<u8>,
    /// Each TTL probed in this cycle up to where it ended.
    pub hops: Vec<CycleHop>,
}

/// One hop of one cycle.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CycleHop {
    /// TTL.
    pub ttl: u8,
    /// Who answered, in order of first answer.
    pub addresses: Vec<IpAddr>,
    /// Each query's RTT in ms (null: no answer).
    pub rtts_ms: Vec<Option<f64>>,
}

impl CycleLine {
    /// The line for cycle `k` (from 0) of a trace with TTLs from `first`.
    pub fn new(k: u32, outcome: &TraceOutcome, first: u8) -> CycleLine {
        let reached = match outcome.stop {
            StopReason::Reached { hop } => Some(hop),
            _ => None,
        };
        let last = reached.unwrap_or_else(|| {
            let answered = outcome
                .probes
                .iter()
                .filter(|p| p.reply.is_some())
                .map(|p| p.ttl)
                .max();
            answered.unwrap_or(first)
        });
        let hops = hop_summaries(&outcome.probes, first, last.max(first))
            .into_iter()
            .map(|h| CycleHop {
                ttl: h.ttl,
                addresses: h.addrs.iter().map(|(a, _)| *a).collect(),
                rtts_ms: h
                    .probes
                    .iter()
                    .map(|p| p.reply.as_ref().map(|r| ms_f64(r.rtt)))
                    .collect(),
            })
            .collect();
        CycleLine {
            event: "cycle",
            cycle: k + 1,
            reached: reached.is_some(),
            hop: reached,
            hops,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(stop: StopReason, at: u64) -> TraceOutcome {
        TraceOutcome {
            probes: Vec::new(),
            stop,
            started: Some(Duration::from_millis(at)),
            ended: Duration::from_millis(at + 5),
            foreign: 1,
            pmtu: Default::default(),
        }
    }

    #[test]
    fn cycles_run_the_count_and_merge_in_order() {
        let cycles = Cycles {
            count: 3,
            interval: Duration::from_millis(1),
            deadline: None,
            interrupted: || false,
        };
        let mut seen = Vec::new();
        let merged = run::<()>(
            cycles,
            |k| Ok(outcome(StopReason::Reached { hop: 4 }, u64::from(k) * 10)),
            |k, _, m| seen.push((k, m.foreign)),
        )
        .unwrap();
        assert_eq!(seen, [(0, 1), (1, 2), (2, 3)]);
        assert_eq!(merged.started, Some(Duration::ZERO));
        assert_eq!(merged.ended, Duration::from_millis(25));
        assert_eq!(merged.stop, StopReason::Reached { hop: 4 });
    }

    #[test]
    fn an_interrupted_cycle_ends_the_run() {
        let cycles = Cycles {
            count: 0,
            interval: Duration::ZERO,
            deadline: None,
            interrupted: || false,
        };
        let merged = run::<()>(
            cycles,
            |k| {
                Ok(outcome(
                    if k == 2 {
                        StopReason::Interrupted
                    } else {
                        StopReason::MaxHops
                    },
                    0,
                ))
            },
            |_, _, _| {},
        )
        .unwrap();
        assert_eq!(merged.stop, StopReason::Interrupted);
        assert_eq!(merged.foreign, 3);
    }
}
