//! Rolling windows over consecutive epochs.

use std::collections::BTreeMap;

/// For each epoch `k` present in `series`, folds the values of the epochs
/// `k - n + 1 ..= k` that are present (fewer at the start of the series or
/// around gaps). `n = 1` folds each epoch alone.
pub fn rolling<T, A>(
    series: &BTreeMap<i64, T>,
    n: usize,
    fold: impl Fn(&[&T]) -> A,
) -> BTreeMap<i64, A> {
    let n = n.max(1) as i64;
    let mut out = BTreeMap::new();
    let mut window: Vec<&T> = Vec::with_capacity(n as usize);
    for &k in series.keys() {
        window.clear();
        window.extend(series.range(k - n + 1..=k).map(|(_, v)| v));
        out.insert(k, fold(&window));
    }
    out
}

/// Rolling sum of a numeric series.
pub fn rolling_sum(series: &BTreeMap<i64, f64>, n: usize) -> BTreeMap<i64, f64> {
    rolling(series, n, |w| w.iter().copied().sum())
}

/// Rolling mean of a numeric series.
pub fn rolling_mean(series: &BTreeMap<i64, f64>, n: usize) -> BTreeMap<i64, f64> {
    rolling(series, n, |w| {
        w.iter().copied().sum::<f64>() / w.len() as f64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_over_gaps_uses_what_is_present() {
        let series: BTreeMap<i64, f64> = [(1, 1.0), (2, 2.0), (3, 3.0), (5, 5.0)].into();
        let sums = rolling_sum(&series, 2);
        assert_eq!(sums, [(1, 1.0), (2, 3.0), (3, 5.0), (5, 5.0)].into());
        let means = rolling_mean(&series, 3);
        assert_eq!(means[&3], 2.0);
        assert_eq!(rolling_sum(&series, 1), series);
    }
}
