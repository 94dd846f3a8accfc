//! Order statistics and the one summary every study reports: count,
//! mean, standard deviation, minimum, maximum and quantiles.

use serde::Serialize;

/// The median of `values` (mean of the two middle values for an even count);
/// `None` when empty. NaN values are ignored.
pub fn median(values: &[f64]) -> Option<f64> {
    quantile(values, 0.5)
}

/// The `q` quantile (0..=1) of `values` by linear interpolation between
/// closest ranks (the usual "type 7" definition); `None` when empty.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    Some(quantile_sorted(&sorted, q))
}

/// Minimum and maximum, ignoring NaN; `None` when empty.
pub fn min_max(values: &[f64]) -> Option<(f64, f64)> {
    values
        .iter()
        .copied()
        .filter(|v| !v.is_nan())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Two-sided 97.5 % quantile of Student's t distribution with `df` degrees
/// of freedom (for 95 % confidence intervals). Exact table values up to 30,
/// then the normal approximation's 1.96 plus a small correction.
pub fn t_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => TABLE[df - 1],
        // Cornish–Fisher expansion around the normal quantile.
        _ => {
            let z: f64 = 1.959964;
            let n = df as f64;
            z + (z.powi(3) + z) / (4.0 * n)
                + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * n * n)
        }
    }
}

/// A summary of samples: count, mean, sample standard deviation, min,
/// max, median and the 5/25/75/95/99th percentiles (type 7, like
/// [`quantile`]). NaN samples are left out and counted in `nan`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// Samples summarised (NaN left out).
    pub count: usize,
    /// NaN samples left out.
    pub nan: usize,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1); 0 for a single sample.
    pub std: f64,
    /// Smallest sample.
    pub min: f64,
    /// 5th percentile.
    pub p5: f64,
    /// 25th percentile.
    pub p25: f64,
    /// Median.
    pub median: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest sample.
    pub max: f64,
}

impl Summary {
    /// The summary of `values`; `None` when none is a number.
    pub fn of(values: &[f64]) -> Option<Summary> {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let mean = sorted.iter().sum::<f64>() / n as f64;
        let std = if n > 1 {
            (sorted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        let q = |p: f64| quantile_sorted(&sorted, p);
        Some(Summary {
            count: n,
            nan: values.len() - n,
            mean,
            std,
            min: sorted[0],
            p5: q(0.05),
            p25: q(0.25),
            median: q(0.5),
            p75: q(0.75),
            p95: q(0.95),
            p99: q(0.99),
            max: sorted[n - 1],
        })
    }

    /// The half-width of the 95 % confidence interval of the mean
    /// (Student's t); NaN for fewer than two samples.
    pub fn ci95_half_width(&self) -> f64 {
        if self.count < 2 {
            return f64::NAN;
        }
        t_975(self.count - 1) * self.std / (self.count as f64).sqrt()
    }
}

/// The `q` quantile (0..=1) of values already sorted ascending, without
/// NaN, by linear interpolation (type 7); NaN when empty.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let low = rank.floor() as usize;
    let high = rank.ceil() as usize;
    sorted[low] + (sorted[high] - sorted[low]) * (rank - low as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_quantiles() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 5.0]), Some(5.0));
        assert_eq!(quantile(&[0.0, 10.0], 0.9), Some(9.0));
        assert_eq!(min_max(&[2.0, -1.0, 7.0]), Some((-1.0, 7.0)));
    }

    #[test]
    fn one_summary_of_samples() {
        let s = Summary::of(&[4.0, f64::NAN, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!((s.count, s.nan), (4, 1));
        assert_eq!((s.min, s.median, s.max, s.mean), (1.0, 2.5, 4.0, 2.5));
        assert!((s.std - 1.290_994_448_735_805_6).abs() < 1e-12);
        assert_eq!(s.p25, 1.75);
        assert!((s.ci95_half_width() - 3.182 * s.std / 2.0).abs() < 1e-12);
        let one = Summary::of(&[7.0]).unwrap();
        assert_eq!((one.std, one.p99), (0.0, 7.0));
        assert!(one.ci95_half_width().is_nan());
        assert_eq!(Summary::of(&[f64::NAN]), None);
    }

    #[test]
    fn t_quantiles_approach_normal() {
        assert_eq!(t_975(1), 12.706);
        assert!((t_975(31) - 2.040).abs() < 2e-3);
        assert!((t_975(120) - 1.980).abs() < 2e-3);
        assert!(t_975(0).is_nan());
    }
}
