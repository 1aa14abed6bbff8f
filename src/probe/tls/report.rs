//! A port's `--tls`/`--http` findings as the report shows them: phases in milliseconds with their offsets,
//! the facts, the chain, the verdict, and with `--count` statistics per phase.

use std::collections::BTreeMap;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use super::session::{HttpFacts, Phase, Session, SessionVerdict, TlsFacts, Verification};
use crate::probe::schedule::Attempt;
use crate::render::ms_f64;
use crate::stats::RttStats;
use crate::tls::cert::CertFacts;

/// What the TLS handshake and HTTP request of a port found (the last repeat's, with --count).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ConnectionReport {
    /// The phases in order: each one's duration and where it starts and ends from the lookup's start.
    pub phases: Vec<PhaseReport>,
    /// The sum of the phases: lookup to the end of the last phase.
    pub total_ms: f64,
    /// The negotiated TLS parameters; null without a finished handshake.
    pub tls: Option<TlsFacts>,
    /// The certificates as the server sent them, leaf first.
    pub chain: Vec<CertFacts>,
    /// Trust, name and expiry checks; null when no certificate came.
    pub verification: Option<Verification>,
    /// The HTTP answer (--http); null otherwise.
    pub http: Option<HttpFacts>,
    /// The verdict beyond TCP.
    pub verdict: SessionVerdict,
    /// With --count: per phase (and `total`) over the repeats that reached it; empty for a single probe.
    pub phase_stats: Vec<PhaseStats>,
    /// With --count: how many repeats ended in each verdict; empty for a single probe.
    pub verdicts: BTreeMap<String, u32>,
}

/// One phase's time.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PhaseReport {
    /// Which phase.
    pub phase: Phase,
    /// How long it took.
    pub ms: f64,
    /// When it started, from the start of the lookup.
    pub start_ms: f64,
    /// When it ended (the cumulative tick).
    pub end_ms: f64,
}

/// Figures for one phase over the repeats.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PhaseStats {
    /// The phase's name (`connect`, `tls`, `first_byte`...), or `total`.
    pub phase: String,
    /// Repeats that reached it.
    pub samples: u32,
    /// Fastest.
    pub min_ms: f64,
    /// Mean.
    pub avg_ms: f64,
    /// Slowest.
    pub max_ms: f64,
    /// Median (nearest rank).
    pub p50_ms: f64,
    /// 90th percentile (nearest rank).
    pub p90_ms: f64,
}

/// The connection report of a port's attempts; None when the last one did not connect (its TCP verdict speaks).
pub fn build(tries: &[Attempt], repeating: bool) -> Option<ConnectionReport> {
    let last = tries.last()?.result.session.as_deref()?;
    let sessions: Vec<&Session> = tries.iter().filter_map(|a| a.result.session.as_deref()).collect();
    let mut verdicts = BTreeMap::new();
    if repeating {
        for s in &sessions {
            *verdicts.entry(s.verdict.state.name().to_string()).or_insert(0) += 1;
        }
    }
    Some(ConnectionReport {
        phases: phases(last),
        total_ms: ms_f64(last.total()),
        tls: last.tls.clone(),
        chain: last.chain.clone(),
        verification: last.verification.clone(),
        http: last.http.clone(),
        verdict: last.verdict.clone(),
        phase_stats: if repeating { stats(&sessions) } else { Vec::new() },
        verdicts,
    })
}

fn phases(s: &Session) -> Vec<PhaseReport> {
    let mut at = Duration::ZERO;
    s.phases
        .iter()
        .map(|&(phase, d)| {
            let start = at;
            at += d;
            PhaseReport {
                phase,
                ms: ms_f64(d),
                start_ms: ms_f64(start),
                end_ms: ms_f64(at),
            }
        })
        .collect()
}

fn stats(sessions: &[&Session]) -> Vec<PhaseStats> {
    let mut per: BTreeMap<Phase, Vec<Duration>> = BTreeMap::new();
    for s in sessions {
        for &(p, d) in &s.phases {
            per.entry(p).or_default().push(d);
        }
    }
    let totals: Vec<Duration> = sessions.iter().map(|s| s.total()).collect();
    let named = per
        .into_iter()
        .map(|(p, v)| (serde_name(p), v))
        .chain(std::iter::once(("total".to_string(), totals)));
    named
        .filter_map(|(phase, v)| {
            let st = RttStats::of(&v)?;
            Some(PhaseStats {
                phase,
                samples: v.len() as u32,
                min_ms: ms_f64(st.min),
                avg_ms: ms_f64(st.avg),
                max_ms: ms_f64(st.max),
                p50_ms: ms_f64(st.p50),
                p90_ms: ms_f64(st.p90),
            })
        })
        .collect()
}

/// The state's key as JSON writes it.
pub fn serde_name_state(s: super::session::SessionState) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The phase's key as JSON writes it.
pub fn serde_name(p: Phase) -> String {
    serde_json::to_value(p)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::schedule::TryResult;
    use crate::probe::tls::session::SessionState;
    use crate::probe::verdict::Evidence;

    fn attempt(seq: u32, connect_ms: u64, tls_ms: u64) -> Attempt {
        let session = Session {
            phases: vec![
                (Phase::Lookup, Duration::from_millis(2)),
                (Phase::Connect, Duration::from_millis(connect_ms)),
                (Phase::Tls, Duration::from_millis(tls_ms)),
            ],
            tls: None,
            chain: Vec::new(),
            verification: None,
            http: None,
            verdict: SessionVerdict::new(SessionState::Ok, "ok", None),
        };
        Attempt {
            seq,
            at: Duration::ZERO,
            result: TryResult {
                session: Some(Box::new(session)),
                ..TryResult::bare(Evidence::Connected)
            },
        }
    }

    #[test]
    fn phases_tick_cumulatively_and_add_up() {
        let r = build(&[attempt(0, 50, 51)], false).unwrap();
        let ends: Vec<f64> = r.phases.iter().map(|p| p.end_ms).collect();
        assert_eq!(ends, [2.0, 52.0, 103.0]);
        assert_eq!(r.phases[2].start_ms, 52.0);
        assert_eq!(r.total_ms, 103.0);
        assert!(r.phase_stats.is_empty());
    }

    #[test]
    fn repeats_give_statistics_per_phase() {
        let tries: Vec<Attempt> = (0..10).map(|i| attempt(i, 10 + u64::from(i), 20)).collect();
        let r = build(&tries, true).unwrap();
        let connect = r.phase_stats.iter().find(|s| s.phase == "connect").unwrap();
        assert_eq!(
            (connect.samples, connect.min_ms, connect.max_ms),
            (10, 10.0, 19.0)
        );
        assert_eq!((connect.p50_ms, connect.p90_ms), (14.0, 18.0));
        assert_eq!(r.phase_stats.last().unwrap().phase, "total");
        assert_eq!(r.verdicts["ok"], 10);
    }
}
