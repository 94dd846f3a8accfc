//! Statistics of a trace that mean what they say: node lifetimes (censored
//! at the trace's end, Kaplan–Meier), time between preemption events,
//! preemptions and additions per hour, burst sizes, the node-count curve,
//! and the preemption rate per node-hour (the maximum-likelihood rate of an
//! exponential lifetime: removals ÷ node-hours observed).

use expost_model::spot::Trace;
use serde::Serialize;

/// Summary of a sample of numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// Number of values.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1); 0 for one value.
    pub std: f64,
    /// Smallest value.
    pub min: f64,
    /// 5th percentile (linear interpolation between order statistics).
    pub p5: f64,
    /// Median.
    pub median: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Largest value.
    pub max: f64,
}

impl Summary {
    /// Summarises `values` with the model's one summary statistic;
    /// `None` when empty or when a value is not finite.
    pub fn of(values: &[f64]) -> Option<Summary> {
        if values.iter().any(|v| !v.is_finite()) {
            return None;
        }
        expost_model::Summary::of(values).map(Summary::from)
    }
}

impl From<expost_model::Summary> for Summary {
    fn from(s: expost_model::Summary) -> Summary {
        Summary {
            n: s.count,
            mean: s.mean,
            std: s.std,
            min: s.min,
            p5: s.p5,
            median: s.median,
            p95: s.p95,
            max: s.max,
        }
    }
}

/// A Kaplan–Meier estimate of the node lifetime survival function.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KaplanMeier {
    /// Nodes observed.
    pub nodes: usize,
    /// Lifetimes that ended in a removal.
    pub removed: usize,
    /// Lifetimes still running at the trace's end (censored).
    pub censored: usize,
    /// Survival steps `(t seconds, S(t))`, from `(0, 1)`.
    pub curve: Vec<(f64, f64)>,
    /// Median lifetime in seconds: the first time S drops to 0.5 or below;
    /// `None` when it never does within the trace.
    pub median_s: Option<f64>,
    /// Mean lifetime restricted to the longest observed time (area under
    /// the curve), seconds.
    pub restricted_mean_s: f64,
}

/// Kaplan–Meier from `(duration seconds, removed?)` pairs; `None` if empty.
pub fn kaplan_meier(lifetimes: &[(f64, bool)]) -> Option<KaplanMeier> {
    if lifetimes.is_empty() {
        return None;
    }
    let mut sorted = lifetimes.to_vec();
    // Removals before censorings at equal times (the usual convention).
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut at_risk = sorted.len();
    let mut s = 1.0;
    let mut curve = vec![(0.0, 1.0)];
    let mut i = 0;
    while i < sorted.len() {
        let t = sorted[i].0;
        let (mut deaths, mut total) = (0usize, 0usize);
        while i < sorted.len() && sorted[i].0 == t {
            deaths += usize::from(sorted[i].1);
            total += 1;
            i += 1;
        }
        if deaths > 0 {
            s *= 1.0 - deaths as f64 / at_risk as f64;
            curve.push((t, s));
        }
        at_risk -= total;
    }
    let median_s = curve.iter().find(|p| p.1 <= 0.5).map(|p| p.0);
    let t_max = sorted.last().map_or(0.0, |l| l.0);
    let mut area = 0.0;
    for w in curve.windows(2) {
        area += w[0].1 * (w[1].0 - w[0].0);
    }
    if let Some(last) = curve.last() {
        area += last.1 * (t_max - last.0);
    }
    let removed = lifetimes.iter().filter(|l| l.1).count();
    Some(KaplanMeier {
        nodes: lifetimes.len(),
        removed,
        censored: lifetimes.len() - removed,
        curve,
        median_s,
        restricted_mean_s: area,
    })
}

/// Preemptions and additions in one hour of the trace.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HourBin {
    /// Hour index from the trace's start (hour 0 is `[0, 3600)` s).
    pub hour: usize,
    /// Nodes removed in this hour.
    pub preemptions: i64,
    /// Nodes added in this hour.
    pub additions: i64,
}

/// Statistics of one trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceStats {
    /// Observed span, hours.
    pub duration_h: f64,
    /// Nodes live at the start (0 if the trace gives removals only).
    pub initial_nodes: i64,
    /// Fewest / most nodes live at once; time-weighted mean (None for removal-only traces).
    pub min_nodes: Option<i64>,
    /// Most nodes live at once.
    pub max_nodes: Option<i64>,
    /// Time-weighted mean of live nodes.
    pub mean_nodes: Option<f64>,
    /// Nodes removed (preempted) in total.
    pub preemptions: i64,
    /// Nodes added in total (None for removal-only traces).
    pub additions: Option<i64>,
    /// Distinct times at which nodes were removed.
    pub preemption_events: usize,
    /// Distinct times at which nodes were added.
    pub addition_events: usize,
    /// Nodes removed per hour of trace.
    pub preemptions_per_hour: f64,
    /// Nodes added per hour of trace.
    pub additions_per_hour: Option<f64>,
    /// Node-hours observed (area under the count curve).
    pub node_hours: Option<f64>,
    /// Removals per node-hour: the per-node hourly preemption rate (the
    /// rate a Poisson model of this trace would use).
    pub preemption_rate_per_node_hour: Option<f64>,
    /// Seconds between consecutive preemption events (removal times).
    pub time_between_preemptions_s: Option<Summary>,
    /// Nodes removed per preemption event.
    pub burst_sizes: Option<Summary>,
    /// Nodes added per addition event.
    pub addition_sizes: Option<Summary>,
    /// Node lifetimes (only for traces that name nodes).
    pub lifetimes: Option<KaplanMeier>,
    /// Preemptions and additions in each hour.
    pub hourly: Vec<HourBin>,
}

/// Groups events by time: `(t, removed, added)` per distinct time.
fn by_time(trace: &Trace) -> Vec<(f64, i64, i64)> {
    let mut out: Vec<(f64, i64, i64)> = Vec::new();
    for e in &trace.events {
        let (rem, add) = if e.delta < 0 {
            (-e.delta, 0)
        } else {
            (0, e.delta)
        };
        match out.last_mut() {
            Some(last) if last.0 == e.t => {
                last.1 += rem;
                last.2 += add;
            }
            _ => out.push((e.t, rem, add)),
        }
    }
    out
}

/// Lifetimes of named nodes: `(seconds, ended by removal?)`. Nodes live at
/// the end are censored there.
pub fn lifetimes(trace: &Trace) -> Vec<(f64, bool)> {
    let mut joined: Vec<Option<f64>> = Vec::new();
    let mut out = Vec::new();
    for e in &trace.events {
        let Some(node) = e.node else { continue };
        let i = node as usize;
        if i >= joined.len() {
            joined.resize(i + 1, None);
        }
        if e.delta > 0 {
            joined[i] = Some(e.t);
        } else if let Some(start) = joined[i].take() {
            out.push((e.t - start, true));
        }
    }
    out.extend(
        joined
            .into_iter()
            .flatten()
            .map(|start| (trace.duration - start, false)),
    );
    out
}

/// Computes the statistics of `trace`.
pub fn trace_stats(trace: &Trace) -> TraceStats {
    let hours = trace.duration / 3600.0;
    let groups = by_time(trace);
    let joins = trace.format.has_joins();
    let preemptions: i64 = groups.iter().map(|g| g.1).sum();
    let additions: i64 = groups.iter().map(|g| g.2).sum();
    let removal_times: Vec<f64> = groups.iter().filter(|g| g.1 > 0).map(|g| g.0).collect();
    let bursts: Vec<f64> = groups
        .iter()
        .filter(|g| g.1 > 0)
        .map(|g| g.1 as f64)
        .collect();
    let adds: Vec<f64> = groups
        .iter()
        .filter(|g| g.2 > 0)
        .map(|g| g.2 as f64)
        .collect();
    let gaps: Vec<f64> = removal_times.windows(2).map(|w| w[1] - w[0]).collect();
    let per_hour = |n: i64| {
        if hours > 0.0 {
            n as f64 / hours
        } else {
            f64::NAN
        }
    };

    let curve = trace.count_curve();
    let (min_nodes, max_nodes, mean_nodes, node_hours) = match &curve {
        Some(c) => {
            let area = curve_area(c, trace.duration);
            (
                c.iter().map(|p| p.1).min(),
                c.iter().map(|p| p.1).max(),
                (trace.duration > 0.0).then(|| area / trace.duration),
                Some(area / 3600.0),
            )
        }
        None => (None, None, None, None),
    };
    let n_bins = (hours.ceil() as usize).max(1);
    let mut hourly: Vec<HourBin> = (0..n_bins)
        .map(|hour| HourBin {
            hour,
            preemptions: 0,
            additions: 0,
        })
        .collect();
    for g in &groups {
        let h = ((g.0 / 3600.0) as usize).min(n_bins - 1);
        hourly[h].preemptions += g.1;
        hourly[h].additions += g.2;
    }
    TraceStats {
        duration_h: hours,
        initial_nodes: trace.initial,
        min_nodes,
        max_nodes,
        mean_nodes,
        preemptions,
        additions: joins.then_some(additions),
        preemption_events: removal_times.len(),
        addition_events: adds.len(),
        preemptions_per_hour: per_hour(preemptions),
        additions_per_hour: joins.then(|| per_hour(additions)),
        node_hours,
        preemption_rate_per_node_hour: node_hours
            .filter(|h| *h > 0.0)
            .map(|h| preemptions as f64 / h),
        time_between_preemptions_s: Summary::of(&gaps),
        burst_sizes: Summary::of(&bursts),
        addition_sizes: Summary::of(&adds),
        lifetimes: if trace.names_nodes() {
            kaplan_meier(&lifetimes(trace))
        } else {
            None
        },
        hourly,
    }
}

/// Area under a step curve from 0 to `end` (node-seconds).
fn curve_area(curve: &[(f64, i64)], end: f64) -> f64 {
    let mut area = 0.0;
    for (i, p) in curve.iter().enumerate() {
        let next = curve.get(i + 1).map_or(end, |n| n.0);
        area += p.1.max(0) as f64 * (next - p.0).max(0.0);
    }
    area
}

#[cfg(test)]
mod tests {
    use super::*;
    use expost_model::spot::{NodeEvent, TraceFormat};

    fn ev(t: f64, delta: i64, node: Option<u32>) -> NodeEvent {
        NodeEvent { t, delta, node }
    }

    #[test]
    fn kaplan_meier_matches_hand_computation() {
        // Lifetimes 1, 2 (censored), 3, 3, 4 (censored).
        let km = kaplan_meier(&[
            (1.0, true),
            (2.0, false),
            (3.0, true),
            (3.0, true),
            (4.0, false),
        ])
        .unwrap();
        // S(1) = 4/5; at 3: 3 at risk, 2 deaths → 4/5 × 1/3.
        assert_eq!(km.curve.len(), 3);
        assert!((km.curve[1].1 - 0.8).abs() < 1e-12);
        assert!((km.curve[2].1 - 0.8 / 3.0).abs() < 1e-12);
        assert_eq!(km.median_s, Some(3.0));
        assert_eq!((km.removed, km.censored), (3, 2));
        // Area: 1×1 + 0.8×2 + 0.2667×1.
        assert!((km.restricted_mean_s - (1.0 + 1.6 + 0.8 / 3.0)).abs() < 1e-12);
    }

    #[test]
    fn rates_use_node_hours_and_bursts_group_by_time() {
        let trace = Trace {
            format: TraceFormat::NodeEvents,
            start_epoch: None,
            duration: 7200.0,
            initial: 0,
            events: vec![
                ev(0.0, 1, Some(0)),
                ev(0.0, 1, Some(1)),
                ev(3600.0, -1, Some(0)),
                ev(3600.0, -1, Some(1)),
            ],
        };
        let s = trace_stats(&trace);
        assert_eq!(s.preemptions, 2);
        assert_eq!(s.preemption_events, 1);
        assert_eq!(s.burst_sizes.unwrap().mean, 2.0);
        assert_eq!(s.node_hours, Some(2.0));
        assert_eq!(s.preemption_rate_per_node_hour, Some(1.0));
        assert_eq!(s.preemptions_per_hour, 1.0);
        assert_eq!(s.hourly[1].preemptions, 2);
        let km = s.lifetimes.unwrap();
        assert_eq!(km.median_s, Some(3600.0));
    }
}
