//! Statistics both results readers use: medians, quantiles, relative change. Medians
//! because timings of a VM are skewed and have outliers: one bad sample moves a mean,
//! not a median. The gate's own tests (bootstrap, Mann-Whitney) are in the gate.

/// Median of the finite values; `None` when there are none.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(median_of_sorted(&v))
}

/// Median of sorted, non-empty samples (the gate's bootstrap sorts its resamples once).
pub fn median_of_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The `q` quantile (0..=1) of sorted samples, interpolating linearly between order
/// statistics (Hyndman and Fan's type 7, as R and numpy do by default).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty(), "quantile of nothing");
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// `after / before - 1`: +0.2 is 20 % more. Infinite when `before` is 0 and `after` is
/// not; 0 when both are.
pub fn relative_change(before: f64, after: f64) -> f64 {
    if before == 0.0 {
        if after == 0.0 {
            0.0
        } else {
            f64::INFINITY.copysign(after)
        }
    } else {
        after / before - 1.0
    }
}

/// Change from `a` to `b` in percent of `a`. Both equal is no change; from zero (or a
/// non-finite value) to anything else has no percentage (`None`).
pub fn pct_change(a: f64, b: f64) -> Option<f64> {
    if a == b {
        return Some(0.0);
    }
    if a == 0.0 || !a.is_finite() || !b.is_finite() {
        return None;
    }
    Some((b - a) / a.abs() * 100.0)
}

/// `num / den`, when that is a number.
pub fn ratio(num: f64, den: f64) -> Option<f64> {
    if den == 0.0 || !num.is_finite() || !den.is_finite() {
        None
    } else {
        Some(num / den)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_even_empty_and_non_finite() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN]), None);
        assert_eq!(median(&[f64::NAN, 1.0, 3.0]), Some(2.0));
        assert_eq!(median_of_sorted(&[1.0, 2.0, 10.0]), 2.0);
    }

    #[test]
    fn quantiles_interpolate() {
        let s = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile_sorted(&s, 0.0), 1.0);
        assert_eq!(quantile_sorted(&s, 0.5), 3.0);
        assert_eq!(quantile_sorted(&s, 0.9), 4.6);
        assert_eq!(quantile_sorted(&s, 1.0), 5.0);
    }

    #[test]
    fn change_and_ratio_edges() {
        assert_eq!(relative_change(100.0, 120.0), 0.19999999999999996);
        assert_eq!(relative_change(0.0, 0.0), 0.0);
        assert_eq!(relative_change(0.0, 1.0), f64::INFINITY);
        assert_eq!(relative_change(0.0, -1.0), f64::NEG_INFINITY);
        assert_eq!(pct_change(200.0, 250.0), Some(25.0));
        assert_eq!(pct_change(200.0, 100.0), Some(-50.0));
        assert_eq!(pct_change(0.0, 0.0), Some(0.0));
        assert_eq!(pct_change(0.0, 5.0), None);
        assert_eq!(ratio(3.0, 2.0), Some(1.5));
        assert_eq!(ratio(1.0, 0.0), None);
    }
}
