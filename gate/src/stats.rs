//! The statistics of the gate, on plain samples: medians, a percentile bootstrap
//! confidence interval of the relative change of the median, and the Mann-Whitney U
//! test. Medians and rank tests because timings of a VM are skewed and have outliers
//! (a TCG hiccup, a periodic metadata commit): one bad sample moves a mean, not a median.
//!
//! Every random draw comes from a seeded PCG generator, so the same inputs give the same
//! interval, run after run and machine after machine.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use serde::Serialize;

// The statistics both results readers use live in the results contract.
pub use thinbench_schema::stats::{median, median_of_sorted, quantile_sorted, relative_change};

/// A two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ConfidenceInterval {
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
    /// Confidence level (0.95).
    pub level: f64,
}

impl ConfidenceInterval {
    /// `hi - lo`.
    pub fn width(&self) -> f64 {
        self.hi - self.lo
    }
    /// Whether 0 lies outside the interval.
    pub fn excludes_zero(&self) -> bool {
        self.lo > 0.0 || self.hi < 0.0
    }
}

/// Percentile bootstrap interval of the relative change of the median from `base` to
/// `cand`: both sets are resampled with replacement `resamples` times, each time giving
/// `median(cand*) / median(base*) - 1`; the interval is the middle `level` of those.
/// `None` when either set is empty.
pub fn bootstrap_median_change(
    base: &[f64],
    cand: &[f64],
    level: f64,
    resamples: u32,
    seed: u64,
) -> Option<ConfidenceInterval> {
    if base.is_empty() || cand.is_empty() || resamples == 0 {
        return None;
    }
    let mut rng = Pcg64::seed_from_u64(seed);
    let mut changes = Vec::with_capacity(resamples as usize);
    let mut bs = vec![0.0; base.len()];
    let mut cs = vec![0.0; cand.len()];
    for _ in 0..resamples {
        for x in bs.iter_mut() {
            *x = base[rng.gen_range(0..base.len())];
        }
        for x in cs.iter_mut() {
            *x = cand[rng.gen_range(0..cand.len())];
        }
        bs.sort_by(f64::total_cmp);
        cs.sort_by(f64::total_cmp);
        changes.push(relative_change(
            median_of_sorted(&bs),
            median_of_sorted(&cs),
        ));
    }
    changes.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Some(ConfidenceInterval {
        lo: quantile_sorted(&changes, tail),
        hi: quantile_sorted(&changes, 1.0 - tail),
        level,
    })
}

/// How a Mann-Whitney p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MwMethod {
    /// The exact distribution of U (no ties, small samples).
    Exact,
    /// Normal approximation with tie and continuity corrections.
    Normal,
}

/// The result of a Mann-Whitney U test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MannWhitney {
    /// U of the candidate: pairs (baseline, candidate) where the candidate is larger, ties
    /// counting one half. `n_base * n_cand / 2` when the sets do not differ.
    pub u: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// How `p_value` was computed.
    pub method: MwMethod,
}

/// Largest `n_base * n_cand` for which the exact distribution is used (20 × 20).
const EXACT_MAX_PAIRS: usize = 400;

/// Two-sided Mann-Whitney U test of `cand` against `base`. `None` when either is empty.
pub fn mann_whitney(base: &[f64], cand: &[f64]) -> Option<MannWhitney> {
    let (m, n) = (base.len(), cand.len());
    if m == 0 || n == 0 {
        return None;
    }
    // Midranks over the pooled samples.
    let mut pooled: Vec<(f64, bool)> = base
        .iter()
        .map(|&x| (x, false))
        .chain(cand.iter().map(|&x| (x, true)))
        .collect();
    pooled.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = pooled.len();
    let mut rank_sum_cand = 0.0;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < total {
        let mut j = i;
        while j + 1 < total && pooled[j + 1].0 == pooled[i].0 {
            j += 1;
        }
        let t = (j - i + 1) as f64;
        let midrank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum_cand += midrank * pooled[i..=j].iter().filter(|p| p.1).count() as f64;
        tie_term += t * t * t - t;
        i = j + 1;
    }
    let u = rank_sum_cand - (n * (n + 1)) as f64 / 2.0;
    let (mf, nf) = (m as f64, n as f64);
    let mean = mf * nf / 2.0;
    if tie_term == 0.0 && m * n <= EXACT_MAX_PAIRS {
        return Some(MannWhitney {
            u,
            p_value: exact_two_sided(m, n, u),
            method: MwMethod::Exact,
        });
    }
    let nt = total as f64;
    let var = mf * nf / 12.0 * ((nt + 1.0) - tie_term / (nt * (nt - 1.0)));
    let p_value = if var <= 0.0 {
        // Every value equal: nothing distinguishes the sets.
        1.0
    } else {
        let d = (u - mean).abs();
        let z = (d - 0.5).max(0.0) / var.sqrt();
        (2.0 * normal_upper_tail(z)).min(1.0)
    };
    Some(MannWhitney {
        u,
        p_value,
        method: MwMethod::Normal,
    })
}

/// Number of arrangements of `m` and `n` distinct values giving each U (0..=m*n), by the
/// recurrence f(m, n, u) = f(m - 1, n, u - n) + f(m, n - 1, u).
fn u_counts(m: usize, n: usize) -> Vec<f64> {
    let width = m * n + 1;
    // table[i][j] = counts for i of one set and j of the other.
    let mut table: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); n + 1]; m + 1];
    for i in 0..=m {
        for j in 0..=n {
            let mut c = vec![0.0; i * j + 1];
            if i == 0 || j == 0 {
                c[0] = 1.0;
            } else {
                for (u, slot) in c.iter_mut().enumerate() {
                    let a = if u >= j {
                        table[i - 1][j].get(u - j).copied().unwrap_or(0.0)
                    } else {
                        0.0
                    };
                    let b = table[i][j - 1].get(u).copied().unwrap_or(0.0);
                    *slot = a + b;
                }
            }
            table[i][j] = c;
        }
    }
    let out = std::mem::take(&mut table[m][n]);
    debug_assert_eq!(out.len(), width);
    out
}

fn exact_two_sided(m: usize, n: usize, u: f64) -> f64 {
    let counts = u_counts(m, n);
    let total: f64 = counts.iter().sum();
    let u = u.round() as usize;
    let lower: f64 = counts[..=u].iter().sum::<f64>() / total;
    let upper: f64 = counts[u..].iter().sum::<f64>() / total;
    (2.0 * lower.min(upper)).min(1.0)
}

/// The smallest two-sided p-value the exact test can give with `m` and `n` samples (all
/// of one set below all of the other): `2 / C(m + n, m)`. A significance level below it
/// can never be reached.
pub fn smallest_p(m: usize, n: usize) -> f64 {
    let mut c = 1.0;
    for k in 1..=m {
        c = c * (n + k) as f64 / k as f64;
    }
    (2.0 / c).min(1.0)
}

/// P(Z > z) for a standard normal Z, via erfc (Abramowitz and Stegun 7.1.26, absolute
/// error below 1.5e-7: ample for a p-value compared with 0.05).
pub fn normal_upper_tail(z: f64) -> f64 {
    if z < 0.0 {
        return 1.0 - normal_upper_tail(-z);
    }
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    0.5 * poly * (-x * x).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn medians_and_quantiles() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        let s = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile_sorted(&s, 0.0), 1.0);
        assert_eq!(quantile_sorted(&s, 0.5), 3.0);
        assert_eq!(quantile_sorted(&s, 0.9), 4.6);
        assert_eq!(quantile_sorted(&s, 1.0), 5.0);
        assert_eq!(relative_change(100.0, 120.0), 0.19999999999999996);
        assert_eq!(relative_change(0.0, 0.0), 0.0);
        assert_eq!(relative_change(0.0, 1.0), f64::INFINITY);
    }

    #[test]
    fn normal_tail_matches_tables() {
        assert!(close(normal_upper_tail(0.0), 0.5, 1e-7));
        assert!(close(normal_upper_tail(1.959_964), 0.025, 1e-6));
        assert!(close(normal_upper_tail(2.575_829), 0.005, 1e-6));
        assert!(close(normal_upper_tail(-1.0), 0.841_344_7, 1e-6));
    }

    #[test]
    fn exact_u_distribution() {
        // m = n = 2: U takes 0..4 with counts 1, 1, 2, 1, 1 (C(4, 2) = 6 arrangements).
        assert_eq!(u_counts(2, 2), vec![1.0, 1.0, 2.0, 1.0, 1.0]);
        assert_eq!(u_counts(5, 5).iter().sum::<f64>(), 252.0);
        assert!(close(smallest_p(5, 5), 2.0 / 252.0, 1e-12));
        assert!(close(smallest_p(3, 3), 0.1, 1e-12));
        assert!(close(smallest_p(4, 4), 2.0 / 70.0, 1e-12));
    }

    #[test]
    fn mann_whitney_known_values() {
        // Completely separated sets of 5: the smallest exact p, 2/252.
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [6.0, 7.0, 8.0, 9.0, 10.0];
        let r = mann_whitney(&a, &b).unwrap();
        assert_eq!((r.u, r.method), (25.0, MwMethod::Exact));
        assert!(close(r.p_value, 2.0 / 252.0, 1e-12));
        // Symmetric: the other direction gives U = 0 and the same p.
        let r2 = mann_whitney(&b, &a).unwrap();
        assert_eq!(r2.u, 0.0);
        assert!(close(r2.p_value, r.p_value, 1e-12));
        // Interleaved sets: U at its mean, p = 1.
        let c = [1.0, 3.0, 5.0, 7.0, 9.0];
        let d = [2.0, 4.0, 6.0, 8.0, 10.0];
        let r3 = mann_whitney(&c, &d).unwrap();
        assert_eq!(r3.u, 15.0);
        assert!(r3.p_value > 0.5, "{r3:?}");
        // U = 3 for m = n = 5: P(U <= 3) = 7/252 (counts 1, 1, 2, 3), two-sided 14/252.
        let e = [1.0, 2.0, 3.0, 5.0, 7.0];
        let f = [4.0, 6.0, 8.0, 9.0, 10.0];
        let r4 = mann_whitney(&f, &e).unwrap();
        assert_eq!(r4.u, 3.0);
        assert!(close(r4.p_value, 14.0 / 252.0, 1e-12), "{r4:?}");
        // All equal: ties everywhere, nothing to tell apart.
        let g = [5.0; 5];
        let r5 = mann_whitney(&g, &g).unwrap();
        assert_eq!((r5.u, r5.p_value, r5.method), (12.5, 1.0, MwMethod::Normal));
    }

    #[test]
    fn mann_whitney_normal_with_ties() {
        // Large sets with ties: normal approximation. Shift of one whole unit on values
        // 0..9 repeated: clearly significant.
        let a: Vec<f64> = (0..60).map(|i| (i % 10) as f64).collect();
        let b: Vec<f64> = (0..60).map(|i| (i % 10) as f64 + 3.0).collect();
        let r = mann_whitney(&a, &b).unwrap();
        assert_eq!((r.u, r.method), (2718.0, MwMethod::Normal));
        // By hand: tie-corrected variance 36,021.2, z = (|2718 - 1800| - 0.5) / 189.8
        // = 4.834, p = erfc(z / √2) = 1.3366e-6.
        assert!(close(r.p_value, 1.3366e-6, 2e-7), "{r:?}");
        let r2 = mann_whitney(&a, &a).unwrap();
        assert!(r2.p_value > 0.99, "{r2:?}");
    }

    #[test]
    fn bootstrap_is_seeded_and_brackets_the_change() {
        let base = [100.0, 102.0, 98.0, 101.0, 99.0];
        let cand = [120.0, 123.0, 118.0, 121.0, 119.0];
        let ci = bootstrap_median_change(&base, &cand, 0.95, 2000, 7).unwrap();
        assert_eq!(
            ci,
            bootstrap_median_change(&base, &cand, 0.95, 2000, 7).unwrap()
        );
        assert!(ci.lo > 0.12 && ci.hi < 0.28, "{ci:?}");
        assert!(ci.excludes_zero());
        // Identical sets: every resample of identical values gives exactly 0.
        let same = bootstrap_median_change(&[5.0; 5], &[5.0; 5], 0.95, 500, 1).unwrap();
        assert_eq!((same.lo, same.hi), (0.0, 0.0));
        assert!(bootstrap_median_change(&[], &cand, 0.95, 10, 1).is_none());
    }
}
