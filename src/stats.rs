//! Round-trip statistics, pure and shared by probe and trace: sent, received, loss, min/avg/max, the
//! population standard deviation (what ping calls mdev) and nearest-rank percentiles.

use std::time::Duration;

use serde::Serialize;

use crate::render::ms_f64;

/// Figures over a set of round trips, as durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RttStats {
    /// Fastest.
    pub min: Duration,
    /// Mean.
    pub avg: Duration,
    /// Slowest.
    pub max: Duration,
    /// Population standard deviation (ping's mdev: sqrt(mean(x^2) - mean(x)^2)).
    pub stddev: Duration,
    /// Median (nearest rank).
    pub p50: Duration,
    /// 90th percentile (nearest rank).
    pub p90: Duration,
    /// 99th percentile (nearest rank).
    pub p99: Duration,
}

impl RttStats {
    /// Figures over round trips; None for an empty set.
    pub fn of(rtts: &[Duration]) -> Option<Self> {
        if rtts.is_empty() {
            return None;
        }
        let mut sorted = rtts.to_vec();
        sorted.sort();
        let secs: Vec<f64> = sorted.iter().map(Duration::as_secs_f64).collect();
        let n = secs.len() as f64;
        let mean = secs.iter().sum::<f64>() / n;
        // Two passes: the same value as mean(x^2) - mean^2, without its cancellation.
        let var = secs.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n;
        Some(RttStats {
            min: sorted[0],
            avg: Duration::from_secs_f64(mean),
            max: sorted[sorted.len() - 1],
            stddev: Duration::from_secs_f64(var.sqrt()),
            p50: percentile(&sorted, 50.0),
            p90: percentile(&sorted, 90.0),
            p99: percentile(&sorted, 99.0),
        })
    }
}

/// Counts and round-trip figures for one repeated probe, as JSON shows them.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Stats {
    /// Probes sent.
    pub sent: u32,
    /// Probes answered.
    pub received: u32,
    /// Percentage of probes without an answer (0 when nothing was sent).
    pub loss_pct: f64,
    /// Round-trip figures over the answered probes; null when nothing was answered.
    pub rtt: Option<RttStatsMs>,
}

/// Round-trip figures in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RttStatsMs {
    /// Fastest.
    pub min_ms: f64,
    /// Mean.
    pub avg_ms: f64,
    /// Slowest.
    pub max_ms: f64,
    /// Population standard deviation (ping's mdev).
    pub stddev_ms: f64,
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
        Stats {
            sent,
            received,
            loss_pct: loss_pct(sent, received),
            rtt: RttStats::of(rtts).map(RttStatsMs::from),
        }
    }
}

impl From<RttStats> for RttStatsMs {
    fn from(s: RttStats) -> Self {
        RttStatsMs {
            min_ms: ms_f64(s.min),
            avg_ms: ms_f64(s.avg),
            max_ms: ms_f64(s.max),
            stddev_ms: ms_f64(s.stddev),
            p50_ms: ms_f64(s.p50),
            p90_ms: ms_f64(s.p90),
            p99_ms: ms_f64(s.p99),
        }
    }
}

/// Unanswered share in percent, one decimal; 0 when nothing was sent.
pub fn loss_pct(sent: u32, received: u32) -> f64 {
    if sent == 0 {
        return 0.0;
    }
    let lost = f64::from(sent.saturating_sub(received));
    (lost * 1000.0 / f64::from(sent)).round() / 10.0
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
        assert_eq!(r.stddev_ms, 11.18);
        assert_eq!((r.p50_ms, r.p90_ms, r.p99_ms), (20.0, 40.0, 40.0));
    }

    #[test]
    fn stddev_is_the_population_deviation() {
        let s = RttStats::of(&ms(&[30, 10, 20])).unwrap();
        assert_eq!((s.min, s.avg, s.max), (ms(&[10])[0], ms(&[20])[0], ms(&[30])[0]));
        // sqrt(((10)^2 + 0 + (10)^2) / 3) = 8.165 ms
        assert_eq!(s.stddev.as_micros(), 8164);
        assert!(RttStats::of(&[]).is_none());
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
        let r = RttStats::of(&ms(&[5, 5, 5])).unwrap();
        assert_eq!(r.stddev, Duration::ZERO);
    }
}
