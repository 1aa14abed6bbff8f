//! Pure statistics over repeated probes, as ping reports them: sent, received, loss, min/avg/max/mdev,
//! percentiles.

use std::time::Duration;

use serde::Serialize;

use crate::render::ms_f64;

/// Counts and round-trip figures for one repeated probe.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Stats {
    /// Probes sent.
    pub sent: u32,
    /// Probes the target answered (open, closed, UDP reply or port unreachable).
    pub received: u32,
    /// Percentage of probes without an answer from the target.
    pub loss_pct: f64,
    /// Round-trip figures over the answered probes; None when nothing was answered.
    pub rtt: Option<RttStats>,
}

/// Round-trip figures in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RttStats {
    /// Fastest.
    pub min_ms: f64,
    /// Mean.
    pub avg_ms: f64,
    /// Slowest.
    pub max_ms: f64,
    /// Mean deviation as ping computes it: sqrt(mean(x^2) - mean(x)^2).
    pub mdev_ms: f64,
    /// Median (nearest rank).
    pub p50_ms: f64,
    /// 90th percentile (nearest rank).
    pub p90_ms: f64,
    /// 99th percentile (nearest rank).
    pub p99_ms: f64,
}

impl Stats {
    /// Builds the figures from the number sent and the round trips of the answered probes.
    pub fn new(sent: u32, rtts: &[Duration]) -> Self {
        let received = rtts.len() as u32;
        let loss_pct = if sent == 0 {
            0.0
        } else {
            let lost = sent.saturating_sub(received) as f64;
            (lost * 1000.0 / sent as f64).round() / 10.0
        };
        Stats {
            sent,
            received,
            loss_pct,
            rtt: RttStats::new(rtts),
        }
    }
}

impl RttStats {
    /// Figures over round trips; None for an empty set.
    pub fn new(rtts: &[Duration]) -> Option<Self> {
        if rtts.is_empty() {
            return None;
        }
        let mut sorted = rtts.to_vec();
        sorted.sort();
        let secs: Vec<f64> = sorted.iter().map(Duration::as_secs_f64).collect();
        let n = secs.len() as f64;
        let mean = secs.iter().sum::<f64>() / n;
        let mean_sq = secs.iter().map(|x| x * x).sum::<f64>() / n;
        let mdev = (mean_sq - mean * mean).max(0.0).sqrt();
        let ms = |s: f64| ms_f64(Duration::from_secs_f64(s));
        Some(RttStats {
            min_ms: ms_f64(sorted[0]),
            avg_ms: ms(mean),
            max_ms: ms_f64(sorted[sorted.len() - 1]),
            mdev_ms: ms(mdev),
            p50_ms: ms_f64(percentile(&sorted, 50.0)),
            p90_ms: ms_f64(percentile(&sorted, 90.0)),
            p99_ms: ms_f64(percentile(&sorted, 99.0)),
        })
    }
}

/// Nearest-rank percentile of a sorted, non-empty slice.
pub fn percentile(sorted: &[Duration], pct: f64) -> Duration {
    let rank = ((pct / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|m| Duration::from_millis(*m)).collect()
    }

    #[test]
    fn ping_style_figures() {
        let s = Stats::new(5, &ms(&[10, 20, 30, 40]));
        assert_eq!((s.sent, s.received, s.loss_pct), (5, 4, 20.0));
        let r = s.rtt.unwrap();
        assert_eq!((r.min_ms, r.avg_ms, r.max_ms), (10.0, 25.0, 40.0));
        // sqrt(mean(x^2) - mean^2) = sqrt(750 - 625) = 11.180 ms.
        assert_eq!(r.mdev_ms, 11.18);
        assert_eq!((r.p50_ms, r.p90_ms, r.p99_ms), (20.0, 40.0, 40.0));
    }

    #[test]
    fn total_loss_has_no_rtt() {
        let s = Stats::new(3, &[]);
        assert_eq!((s.received, s.loss_pct), (0, 100.0));
        assert!(s.rtt.is_none());
        assert_eq!(Stats::new(0, &[]).loss_pct, 0.0);
        assert_eq!(Stats::new(3, &ms(&[1])).loss_pct, 66.7);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&v, 90.0), Duration::from_millis(90));
        assert_eq!(percentile(&v, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&v, 0.0), Duration::from_millis(1));
        let one = ms(&[7]);
        assert_eq!(percentile(&one, 99.0), Duration::from_millis(7));
        let r = RttStats::new(&ms(&[5, 5, 5])).unwrap();
        assert_eq!(r.mdev_ms, 0.0);
    }
}
