//! A mergeable statistic of samples (e.g. latencies in ms): count, total,
//! sum of squares, minimum, maximum and ombt's log10 decade buckets.
//!
//! Bucket `(d, i)` counts the samples in `[i·10^d, (i+1)·10^d)`; decade 0
//! also holds index 0, `[0, 1)`. Index 0 of any higher decade stays empty
//! (those samples belong to index 9 of the decade below). This is ombt's
//! `Stats` layout, so histograms read from its logs merge with recorded ones.
//!
//! Unlike ombt's `Stats`, a minimum (or maximum) of 0 is a real value, not
//! "unset": the minimum is an `Option`, `None` only when nothing was seen.

use std::collections::BTreeMap;

/// Number of buckets per decade.
pub const BUCKETS_PER_DECADE: usize = 10;

/// A mergeable statistic; see the module documentation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DecadeHistogram {
    /// Number of samples.
    pub count: u64,
    /// Sum of the samples (sample unit).
    pub total: f64,
    /// Sum of the squared samples (sample unit²).
    pub sum_of_squares: f64,
    /// Smallest sample; `None` when there is none (0 is a valid minimum).
    pub min: Option<f64>,
    /// Largest sample; `None` when there is none.
    pub max: Option<f64>,
    /// Per decade, the counts of its ten buckets.
    pub buckets: BTreeMap<i32, [u64; BUCKETS_PER_DECADE]>,
}

/// The bucket `(decade, index)` a sample falls into, as ombt computes it
/// (negative and non-finite samples go to `(0, 0)`).
pub fn bucket_of(value: f64) -> (i32, usize) {
    if !(value.is_finite() && value >= 1.0) {
        return (0, 0);
    }
    let mut decade = value.log10().floor() as i32;
    // log10 can land a hair below an exact power of ten.
    if 10f64.powi(decade + 1) <= value {
        decade += 1;
    }
    let index = (value / 10f64.powi(decade)).floor() as usize;
    (decade, index.min(BUCKETS_PER_DECADE - 1))
}

/// The range `[lo, hi)` a bucket covers, in sample units.
pub fn bucket_range(decade: i32, index: usize) -> (f64, f64) {
    let base = 10f64.powi(decade);
    (base * index as f64, base * (index as f64 + 1.0))
}

impl DecadeHistogram {
    /// An empty statistic.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one sample.
    pub fn record(&mut self, value: f64) {
        self.count += 1;
        self.total += value;
        self.sum_of_squares += value * value;
        self.min = Some(self.min.map_or(value, |m| m.min(value)));
        self.max = Some(self.max.map_or(value, |m| m.max(value)));
        let (decade, index) = bucket_of(value);
        self.buckets
            .entry(decade)
            .or_insert([0; BUCKETS_PER_DECADE])[index] += 1;
    }

    /// Adds everything `other` saw. Merging is commutative and
    /// associative (up to floating-point rounding of the sums).
    pub fn merge(&mut self, other: &DecadeHistogram) {
        self.count += other.count;
        self.total += other.total;
        self.sum_of_squares += other.sum_of_squares;
        self.min = match (self.min, other.min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max = match (self.max, other.max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        for (decade, counts) in &other.buckets {
            let mine = self
                .buckets
                .entry(*decade)
                .or_insert([0; BUCKETS_PER_DECADE]);
            for (m, c) in mine.iter_mut().zip(counts) {
                *m += c;
            }
        }
    }

    /// The merge of many statistics.
    pub fn merged<'a>(all: impl IntoIterator<Item = &'a DecadeHistogram>) -> DecadeHistogram {
        let mut out = DecadeHistogram::new();
        for h in all {
            out.merge(h);
        }
        out
    }

    /// Mean sample, `None` when there is none.
    pub fn average(&self) -> Option<f64> {
        (self.count > 0).then(|| self.total / self.count as f64)
    }

    /// Population standard deviation, `None` when there is no sample.
    /// Rounding that would make the variance slightly negative gives 0.
    pub fn std_deviation(&self) -> Option<f64> {
        let mean = self.average()?;
        let variance = self.sum_of_squares / self.count as f64 - mean * mean;
        Some(variance.max(0.0).sqrt())
    }

    /// Number of samples counted in the buckets (equals `count` for a
    /// consistent statistic).
    pub fn bucket_count(&self) -> u64 {
        self.buckets.values().flat_map(|c| c.iter()).sum()
    }

    /// The `q`-quantile (0 ≤ q ≤ 1) estimated from the buckets: linear
    /// inside the bucket where the cumulative count reaches `q`, clamped to
    /// `[min, max]`. `None` when the buckets are empty or `q` is outside [0, 1].
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if !(0.0..=1.0).contains(&q) {
            return None;
        }
        let n = self.bucket_count();
        if n == 0 {
            return None;
        }
        let target = q * n as f64;
        let mut seen = 0u64;
        let mut estimate = None;
        for (decade, counts) in &self.buckets {
            for (index, c) in counts.iter().enumerate() {
                if *c == 0 {
                    continue;
                }
                if (seen + c) as f64 >= target {
                    let (lo, hi) = bucket_range(*decade, index);
                    let frac = ((target - seen as f64) / *c as f64).clamp(0.0, 1.0);
                    estimate = Some(lo + frac * (hi - lo));
                    break;
                }
                seen += c;
            }
            if estimate.is_some() {
                break;
            }
        }
        let mut value = estimate?;
        if let Some(min) = self.min {
            value = value.max(min);
        }
        if let Some(max) = self.max {
            value = value.min(max);
        }
        Some(value)
    }

    /// Non-empty buckets in increasing order: `(lo, hi, count)`.
    pub fn bars(&self) -> Vec<(f64, f64, u64)> {
        let mut out = Vec::new();
        for (decade, counts) in &self.buckets {
            for (index, c) in counts.iter().enumerate() {
                if *c > 0 {
                    let (lo, hi) = bucket_range(*decade, index);
                    out.push((lo, hi, *c));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn of(values: &[f64]) -> DecadeHistogram {
        let mut h = DecadeHistogram::new();
        for v in values {
            h.record(*v);
        }
        h
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
    }

    fn same(a: &DecadeHistogram, b: &DecadeHistogram) -> bool {
        a.count == b.count
            && a.min == b.min
            && a.max == b.max
            && a.buckets == b.buckets
            && close(a.total, b.total)
            && close(a.sum_of_squares, b.sum_of_squares)
    }

    #[test]
    fn buckets_follow_ombt() {
        assert_eq!(bucket_of(0.0), (0, 0));
        assert_eq!(bucket_of(0.7), (0, 0));
        assert_eq!(bucket_of(1.0), (0, 1));
        assert_eq!(bucket_of(9.99), (0, 9));
        assert_eq!(bucket_of(10.0), (1, 1));
        assert_eq!(bucket_of(1000.0), (3, 1));
        assert_eq!(bucket_of(999.9), (2, 9));
        assert_eq!(bucket_of(-3.0), (0, 0));
    }

    #[test]
    fn zero_is_a_valid_minimum_when_recording() {
        // ombt's `if self.min` forgot a minimum of 0 at the next sample.
        let h = of(&[0.0, 5.0, 3.0]);
        assert_eq!(h.min, Some(0.0));
        assert_eq!(h.max, Some(5.0));
    }

    #[test]
    fn zero_is_a_valid_minimum_when_merging() {
        // ombt: `self.min = self.min or stats.min` turned 0 into None.
        let mut a = of(&[0.0]);
        a.merge(&DecadeHistogram::new());
        assert_eq!(a.min, Some(0.0));
        let mut empty = DecadeHistogram::new();
        empty.merge(&of(&[0.0, 2.0]));
        assert_eq!(empty.min, Some(0.0));
        let mut b = of(&[4.0]);
        b.merge(&of(&[0.0]));
        assert_eq!(b.min, Some(0.0));
    }

    #[test]
    fn average_and_std() {
        let h = of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(h.average(), Some(5.0));
        assert!(close(h.std_deviation().unwrap_or(f64::NAN), 2.0));
        assert_eq!(DecadeHistogram::new().average(), None);
        assert_eq!(DecadeHistogram::new().std_deviation(), None);
    }

    #[test]
    fn quantiles_from_buckets() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        let h = of(&values);
        assert_eq!(h.quantile(0.0), Some(1.0));
        assert_eq!(h.quantile(1.0), Some(100.0));
        let median = h.quantile(0.5).unwrap_or(f64::NAN);
        // 50 samples below 50: the median is in bucket [50, 60).
        assert!((49.0..=60.0).contains(&median), "{median}");
        assert_eq!(h.quantile(1.5), None);
        assert_eq!(DecadeHistogram::new().quantile(0.5), None);
    }

    proptest! {
        #[test]
        fn merge_in_any_order_or_grouping_is_the_same(
            parts in proptest::collection::vec(proptest::collection::vec(0.0f64..1e5, 0..20), 1..8),
            seed in any::<u64>(),
        ) {
            let hs: Vec<DecadeHistogram> = parts.iter().map(|p| of(p)).collect();
            let forward = DecadeHistogram::merged(&hs);
            let mut order: Vec<usize> = (0..hs.len()).collect();
            // A deterministic shuffle driven by the seed.
            let mut s = seed | 1;
            for i in (1..order.len()).rev() {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                order.swap(i, (s % (i as u64 + 1)) as usize);
            }
            let shuffled = DecadeHistogram::merged(order.iter().map(|&i| &hs[i]));
            prop_assert!(same(&forward, &shuffled));
            // Grouping: (first half) merged with (second half).
            let mid = hs.len() / 2;
            let mut left = DecadeHistogram::merged(&hs[..mid]);
            left.merge(&DecadeHistogram::merged(&hs[mid..]));
            prop_assert!(same(&forward, &left));
        }

        #[test]
        fn merge_of_splits_is_the_whole(
            values in proptest::collection::vec(0.0f64..1e6, 0..200),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..5),
        ) {
            let whole = of(&values);
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(values.len() + 1)).collect();
            points.push(0);
            points.push(values.len());
            points.sort_unstable();
            let merged = DecadeHistogram::merged(
                &points.windows(2).map(|w| of(&values[w[0]..w[1]])).collect::<Vec<_>>(),
            );
            prop_assert!(same(&whole, &merged));
            prop_assert_eq!(merged.bucket_count(), merged.count);
        }

        #[test]
        fn quantiles_stay_within_min_max_and_increase(
            values in proptest::collection::vec(0.0f64..1e4, 1..100),
        ) {
            let h = of(&values);
            let mut last = f64::NEG_INFINITY;
            for q in [0.0, 0.1, 0.5, 0.9, 0.99, 1.0] {
                let v = h.quantile(q).unwrap_or(f64::NAN);
                prop_assert!(v >= h.min.unwrap_or(f64::NAN) && v <= h.max.unwrap_or(f64::NAN));
                prop_assert!(v >= last);
                last = v;
            }
        }
    }
}
