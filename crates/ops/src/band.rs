//! Bands across trials: at each epoch, the median with its min–max range,
//! and the mean with its 95 % confidence interval.

use crate::stats::{median, min_max, t_975};
use std::collections::BTreeMap;

/// Summary of the trials' values at one epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandPoint {
    /// How many trials had a value here.
    pub n: usize,
    /// Median across trials.
    pub median: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Mean across trials.
    pub mean: f64,
    /// Lower end of the 95 % confidence interval of the mean (the mean itself for one trial).
    pub ci_low: f64,
    /// Upper end of the 95 % confidence interval of the mean.
    pub ci_high: f64,
}

/// Which centre and spread to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BandKind {
    /// Median with min–max band (the notebook's choice).
    #[default]
    MedianMinMax,
    /// Mean with 95 % confidence interval.
    MeanCi95,
}

impl BandPoint {
    /// Summarises `values` (at least one, no NaN).
    pub fn of(values: &[f64]) -> Option<BandPoint> {
        let (min, max) = min_max(values)?;
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let half_width = if n >= 2 {
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            t_975(n - 1) * (var / n as f64).sqrt()
        } else {
            0.0
        };
        Some(BandPoint {
            n,
            median: median(values)?,
            min,
            max,
            mean,
            ci_low: mean - half_width,
            ci_high: mean + half_width,
        })
    }

    /// The centre and the (low, high) spread of `kind`.
    pub fn pick(&self, kind: BandKind) -> (f64, f64, f64) {
        match kind {
            BandKind::MedianMinMax => (self.median, self.min, self.max),
            BandKind::MeanCi95 => (self.mean, self.ci_low, self.ci_high),
        }
    }
}

/// At each epoch present in any trial, the band of the trials' values.
pub fn band(trials: &[&BTreeMap<i64, f64>]) -> BTreeMap<i64, BandPoint> {
    let mut by_epoch: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for trial in trials {
        for (&k, &v) in trial.iter() {
            if !v.is_nan() {
                by_epoch.entry(k).or_default().push(v);
            }
        }
    }
    by_epoch
        .into_iter()
        .filter_map(|(k, values)| BandPoint::of(&values).map(|p| (k, p)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_across_three_trials() {
        let a: BTreeMap<i64, f64> = [(1, 1.0), (2, 10.0)].into();
        let b: BTreeMap<i64, f64> = [(1, 2.0), (2, 20.0)].into();
        let c: BTreeMap<i64, f64> = [(1, 6.0)].into();
        let bands = band(&[&a, &b, &c]);
        assert_eq!(bands[&1].n, 3);
        assert_eq!(bands[&1].median, 2.0);
        assert_eq!((bands[&1].min, bands[&1].max), (1.0, 6.0));
        assert_eq!(bands[&1].mean, 3.0);
        // sd = sqrt(7), half width = 4.303 * sqrt(7/3)
        assert!((bands[&1].ci_high - (3.0 + 4.303 * (7.0f64 / 3.0).sqrt())).abs() < 1e-9);
        assert_eq!(bands[&2].n, 2);
        assert_eq!(bands[&2].median, 15.0);
    }

    #[test]
    fn one_trial_has_no_spread() {
        let p = BandPoint::of(&[4.0]).unwrap();
        assert_eq!((p.ci_low, p.ci_high, p.min, p.max), (4.0, 4.0, 4.0, 4.0));
        assert!(BandPoint::of(&[]).is_none());
    }
}
