//! When did each flow start, on an absolute clock?
//!
//! iperf3 reports interval times relative to the test's own start. To put
//! flows of a run on one clock, each flow's start is estimated from the time
//! prefixes of its interval lines: a line reporting the interval ending at
//! `end` seconds is printed `lag >= 0` after `start + end`.
//!
//! - With sub-second prefixes (`ts %.s`), `stamp - end = start + lag`, so the
//!   smallest `stamp - end` is the best estimate (the line printed fastest).
//! - With whole-second prefixes (iperf3 `--timestamps`), each line only says
//!   `floor(start + end + lag) = stamp`; over many 0.1 s intervals, the
//!   moments the printed second rolls over pin the start down to about one
//!   interval: `start < stamp + 1 - end` for every line, and
//!   `start >= stamp - end` for every line printed without lag.

/// A flow start estimate, UTC epoch seconds, with its uncertainty.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StartEstimate {
    /// Best estimate of the start, epoch seconds.
    pub start: f64,
    /// Half-width of the interval the start surely lies in, seconds.
    pub uncertainty: f64,
}

/// One interval line: the prefix time it was printed at and the end of the
/// interval it reports (seconds since the test started).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StampedEnd {
    /// The line's time prefix, epoch seconds.
    pub stamp: f64,
    /// The interval's end, seconds since the flow started.
    pub end: f64,
}

/// Start from sub-second stamps: the smallest `stamp - end`.
/// `uncertainty` is the spread of the next-smallest lag, a measure of how
/// promptly lines were printed. `None` when there are no lines.
pub fn start_from_precise_stamps(lines: &[StampedEnd]) -> Option<StartEstimate> {
    let mut candidates: Vec<f64> = lines
        .iter()
        .map(|l| l.stamp - l.end)
        .filter(|c| c.is_finite())
        .collect();
    candidates.sort_by(f64::total_cmp);
    let best = *candidates.first()?;
    let next = candidates.get(1).copied().unwrap_or(best);
    Some(StartEstimate {
        start: best,
        uncertainty: (next - best).max(0.0),
    })
}

/// Start from stamps of `resolution` seconds (1.0 for whole seconds).
/// `not_before` is a known lower bound (e.g. the stamp of `Accepted
/// connection`, after flooring). `None` when there are no lines.
pub fn start_from_coarse_stamps(
    lines: &[StampedEnd],
    resolution: f64,
    not_before: Option<f64>,
) -> Option<StartEstimate> {
    let upper = lines
        .iter()
        .map(|l| l.stamp + resolution - l.end)
        .min_by(f64::total_cmp)?;
    let mut lower = lines
        .iter()
        .map(|l| l.stamp - l.end)
        .max_by(f64::total_cmp)?;
    if let Some(bound) = not_before {
        lower = lower.max(bound);
    }
    if lower < upper {
        Some(StartEstimate {
            start: (lower + upper) / 2.0,
            uncertainty: (upper - lower) / 2.0,
        })
    } else {
        // Printing lag pushed some line past the next second: the upper
        // bound still holds, the lower does not.
        Some(StartEstimate {
            start: upper,
            uncertainty: resolution / 2.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(start: f64, lags: &[f64], floor: bool) -> Vec<StampedEnd> {
        lags.iter()
            .enumerate()
            .map(|(i, lag)| {
                let end = 0.1 * (i + 1) as f64;
                let t = start + end + lag;
                StampedEnd {
                    stamp: if floor { t.floor() } else { t },
                    end,
                }
            })
            .collect()
    }

    #[test]
    fn precise_stamps_take_the_smallest_lag() {
        let est = start_from_precise_stamps(&lines(1000.25, &[0.004, 0.0005, 0.002, 0.03], false))
            .unwrap();
        assert!((est.start - 1000.2505).abs() < 1e-9, "{est:?}");
        assert!(start_from_precise_stamps(&[]).is_none());
    }

    #[test]
    fn whole_second_stamps_pin_the_start_to_an_interval() {
        let true_start = 1000.437;
        let est =
            start_from_coarse_stamps(&lines(true_start, &[0.0005; 40], true), 1.0, None).unwrap();
        assert!(
            (est.start - true_start).abs() <= est.uncertainty + 1e-9,
            "{est:?}"
        );
        assert!(est.uncertainty <= 0.05 + 1e-9, "{est:?}");
    }

    #[test]
    fn coarse_stamps_survive_lagging_lines() {
        let true_start = 1000.95;
        let mut lags = vec![0.0005; 30];
        lags[5] = 0.2;
        let est = start_from_coarse_stamps(&lines(true_start, &lags, true), 1.0, None).unwrap();
        assert!((est.start - true_start).abs() < 0.1, "{est:?}");
    }
}
