//! The MDA stopping rule: how many probes with distinct flows must reach a node's next hops, after `k`
//! of them were seen, before a `k+1`-th can be ruled out at the chosen confidence.
//!
//! Source: D. Veitch, B. Augustin, R. Teixeira, T. Friedman, "Failure control in multipath route
//! tracing", IEEE INFOCOM 2009, and B. Augustin et al., "Avoiding traceroute anomalies with Paris
//! traceroute" / the MDA (IMC 2006); the tables are scamper's `tracelb` ones (scamper_tracelb.c,
//! `k[]` per confidence). Beyond the tables the same bound is computed: the smallest `n` such that `n`
//! flows spread uniformly over `k+1` next hops miss one of them with probability at most `1 - confidence`
//! (the tables' own definition, which the unit tests check against them).

/// The confidence a multipath trace promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub enum Confidence {
    /// 95 %.
    #[serde(rename = "95")]
    P95,
    /// 99 %.
    #[serde(rename = "99")]
    P99,
}

/// scamper's table at 95 %, k = 1..16.
const TABLE_95: [usize; 16] = [6, 11, 16, 21, 27, 33, 38, 44, 51, 57, 63, 70, 76, 83, 90, 96];
/// scamper's table at 99 %, k = 1..8.
const TABLE_99: [usize; 8] = [8, 15, 21, 28, 36, 43, 51, 58];
/// Most next hops one node is assumed to have: past this the rule is not computed (nor needed: a
/// probe budget ends the search long before).
pub const MAX_K: usize = 128;

impl Confidence {
    /// From the `--multipath` value (95 or 99).
    pub fn from_percent(p: u8) -> Option<Confidence> {
        match p {
            95 => Some(Confidence::P95),
            99 => Some(Confidence::P99),
            _ => None,
        }
    }

    /// As a percentage.
    pub fn percent(self) -> u8 {
        match self {
            Confidence::P95 => 95,
            Confidence::P99 => 99,
        }
    }

    fn failure(self) -> f64 {
        1.0 - f64::from(self.percent()) / 100.0
    }

    /// Re-sends of answered flows at a hop with several interfaces: enough for a 2-way per-packet
    /// balancer (the hardest to see: each re-send meets the other interface half the time) to go unseen
    /// with probability at most `1 - confidence` (0.5^5 = 3.1 % <= 5 %; 0.5^7 = 0.8 % <= 1 %).
    pub fn per_packet_checks(self) -> usize {
        let mut unseen = 1.0;
        let mut n = 0;
        while unseen > self.failure() {
            unseen /= 2.0;
            n += 1;
        }
        n
    }

    /// As [`Confidence::stop_point`], the failure it allows shared evenly by `hops` hops (Bonferroni:
    /// the path as a whole keeps the confidence when each of its balancers is searched this way).
    pub fn stop_point_shared(self, k: usize, hops: usize) -> usize {
        if hops <= 1 {
            return self.stop_point(k);
        }
        computed(k.clamp(1, MAX_K), self.failure() / hops as f64)
    }

    /// Probes with distinct flows needed after seeing `k` next hops (k >= 1; k = 0 counts as 1).
    pub fn stop_point(self, k: usize) -> usize {
        let k = k.clamp(1, MAX_K);
        let table: &[usize] = match self {
            Confidence::P95 => &TABLE_95,
            Confidence::P99 => &TABLE_99,
        };
        table
            .get(k - 1)
            .copied()
            .unwrap_or_else(|| computed(k, self.failure()))
    }
}

/// The smallest `n` for which `n` uniform draws over `k + 1` bins leave one empty with probability at
/// most `failure`.
fn computed(k: usize, failure: f64) -> usize {
    let bins = k + 1;
    // p[j]: probability that exactly j bins are covered so far (a Markov chain, numerically stable
    // where inclusion-exclusion cancels badly for large k).
    let mut p = vec![0.0f64; bins + 1];
    p[0] = 1.0;
    for n in 1..100_000 {
        for j in (1..=bins).rev() {
            let stay = j as f64 / bins as f64;
            let enter = (bins - j + 1) as f64 / bins as f64;
            p[j] = p[j] * stay + p[j - 1] * enter;
        }
        p[0] = 0.0;
        if 1.0 - p[bins] <= failure {
            return n;
        }
    }
    100_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_computed_bound_reproduces_scampers_tables() {
        for (i, want) in TABLE_95.iter().enumerate() {
            assert_eq!(computed(i + 1, 0.05), *want, "95%, k={}", i + 1);
        }
        for (i, want) in TABLE_99.iter().enumerate() {
            assert_eq!(computed(i + 1, 0.01), *want, "99%, k={}", i + 1);
        }
    }

    #[test]
    fn stop_points_come_from_the_table_then_grow() {
        assert_eq!(Confidence::P95.stop_point(1), 6);
        assert_eq!(Confidence::P95.stop_point(0), 6);
        assert_eq!(Confidence::P95.stop_point(16), 96);
        assert_eq!(Confidence::P99.stop_point(8), 58);
        let mut last = 0;
        for k in 1..40 {
            let n = Confidence::P99.stop_point(k);
            assert!(n > last, "k={k}");
            last = n;
        }
        assert!(Confidence::P95.stop_point(17) > 96);
        assert_eq!(Confidence::P95.per_packet_checks(), 5);
        // Two balanced hops: each rules out a fifth interface at 97.5 %.
        assert_eq!(Confidence::P95.stop_point_shared(4, 1), 21);
        assert_eq!(Confidence::P95.stop_point_shared(4, 2), 24);
        assert_eq!(Confidence::P95.stop_point_shared(2, 2), 12);
        assert_eq!(Confidence::P99.per_packet_checks(), 7);
        assert_eq!(Confidence::from_percent(90), None);
    }
}
