//! Across nodes: the script's spread and totals, percentiles of each phase,
//! the critical path to "pool ready" and the stragglers.

use super::{Phase, Provision, NO_IMAGE};
use expost_ops::stats::{median, quantile};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// Percentiles of one phase across nodes, seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct PhaseStats {
    /// Nodes with a value.
    pub count: usize,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Maximum.
    pub max: f64,
}

impl PhaseStats {
    /// Stats of `values`; `None` when empty.
    pub fn of(values: &[f64]) -> Option<PhaseStats> {
        if values.is_empty() {
            return None;
        }
        // Sorted once: `quantile` then finds its input in order, and gives the
        // same figures as on `values`.
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let q = |p| quantile(&sorted, p).unwrap_or(f64::NAN);
        Some(PhaseStats {
            count: values.len(),
            mean: values.iter().sum::<f64>() / values.len() as f64,
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }
}

/// One step of the critical path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathStep {
    /// The phase's key.
    pub phase: &'static str,
    /// The image, for per-image phases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Start, UTC epoch seconds.
    pub start: f64,
    /// Duration, seconds.
    pub duration: f64,
}

/// The last node to become ready, and what it spent its time on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriticalPath {
    /// The last node to become ready.
    pub node_id: String,
    /// Its node prep start, UTC epoch seconds.
    pub start: Option<f64>,
    /// When the pool was ready (that node's `cascade:gr-done`), UTC epoch seconds.
    pub pool_ready: f64,
    /// Pool ready minus the earliest node prep start, seconds.
    pub pool_ready_after_s: f64,
    /// The longest step of that node (the node-level `nodeprep` and
    /// `global_resources_loaded` contain others, so they are not counted).
    pub slowest: Option<PathStep>,
    /// Every span of that node, by start.
    pub steps: Vec<PathStep>,
}

/// One straggler.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Straggler {
    /// The node.
    pub node_id: String,
    /// Its time to ready, seconds.
    pub time_to_ready_s: f64,
    /// How many MADs above the median it is.
    pub mads: f64,
}

/// Nodes slower to become ready than the median by more than k MADs.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stragglers {
    /// k.
    pub k: f64,
    /// Median time to ready, seconds.
    pub median_s: f64,
    /// Median absolute deviation of the time to ready, seconds.
    pub mad_s: f64,
    /// Times to ready above this are stragglers, seconds.
    pub threshold_s: f64,
    /// The stragglers, slowest first.
    pub nodes: Vec<Straggler>,
}

/// The pool as a whole.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Nodes seen.
    pub nodes: usize,
    /// Nodes that reached `cascade:gr-done`.
    pub ready_nodes: usize,
    /// Nodes that never did.
    pub unfinished_nodes: Vec<String>,
    /// Events used.
    pub events: usize,
    /// Spans formed.
    pub spans: usize,
    /// Distinct images.
    pub images: usize,
    /// Latest minus earliest node prep start, seconds (the script's "nodeready variance").
    pub start_spread_s: Option<f64>,
    /// Latest minus earliest ready time, seconds.
    pub ready_spread_s: Option<f64>,
    /// Sum of global-resources times over nodes, seconds (the script's "total gr").
    pub total_global_resources_s: f64,
    /// Its mean over nodes with a value, seconds.
    pub mean_global_resources_s: Option<f64>,
    /// Sum of pull + torrent + load over nodes, seconds (the script's "total acq").
    pub total_acquisition_s: f64,
    /// Its mean over nodes, seconds.
    pub mean_acquisition_s: Option<f64>,
    /// Per phase: percentiles across nodes (per-image phases summed per node),
    /// plus `time_to_ready` (node prep start to `gr-done`).
    pub phases: BTreeMap<String, PhaseStats>,
    /// Critical path to pool ready; `None` when no node became ready.
    pub critical_path: Option<CriticalPath>,
    /// Stragglers.
    pub stragglers: Stragglers,
    /// Diagnostics at warning level or above.
    pub warnings: usize,
}

/// Computes the summary of an analysed pool.
pub fn summarise(p: &Provision, k: f64) -> Summary {
    let mut s = Summary {
        nodes: p.nodes.len(),
        events: p.nodes.iter().map(|n| n.events).sum(),
        spans: p.spans.len(),
        images: p.images.len(),
        ..Summary::default()
    };
    for n in &p.nodes {
        match n.ready {
            Some(_) => s.ready_nodes += 1,
            None => s.unfinished_nodes.push(n.node_id.clone()),
        }
    }
    let starts: Vec<f64> = p.nodes.iter().filter_map(|n| n.start).collect();
    let readies: Vec<f64> = p.nodes.iter().filter_map(|n| n.ready).collect();
    s.start_spread_s = spread(&starts);
    s.ready_spread_s = spread(&readies);
    let gr: Vec<f64> = p
        .nodes
        .iter()
        .filter_map(|n| n.timings.global_resources_loaded)
        .collect();
    s.total_global_resources_s = gr.iter().sum();
    s.mean_global_resources_s =
        (!gr.is_empty()).then(|| s.total_global_resources_s / gr.len() as f64);
    let acquisition: Vec<f64> = p
        .nodes
        .iter()
        .map(|n| {
            n.image_sum(&[Phase::Pull, Phase::Torrent, Phase::Load])
                .unwrap_or(0.0)
        })
        .collect();
    s.total_acquisition_s = acquisition.iter().sum();
    s.mean_acquisition_s =
        (!acquisition.is_empty()).then(|| s.total_acquisition_s / acquisition.len() as f64);
    s.phases = phase_stats(p);
    s.critical_path = critical_path(p, starts.iter().copied().fold(f64::INFINITY, f64::min));
    s.stragglers = stragglers(p, k);
    s.warnings = p
        .diagnostics
        .iter()
        .filter(|d| d.severity >= expost_model::Severity::Warning)
        .count();
    s
}

fn spread(values: &[f64]) -> Option<f64> {
    let (lo, hi) = expost_ops::stats::min_max(values)?;
    Some(hi - lo)
}

fn phase_stats(p: &Provision) -> BTreeMap<String, PhaseStats> {
    let per_phase: Vec<(Phase, Option<PhaseStats>)> = Phase::ALL
        .par_iter()
        .map(|&phase| {
            let values: Vec<f64> = if phase.per_image() {
                p.nodes
                    .iter()
                    .filter_map(|n| n.image_sum(&[phase]))
                    .collect()
            } else {
                p.nodes
                    .iter()
                    .filter_map(|n| n.timings.get(phase))
                    .collect()
            };
            (phase, PhaseStats::of(&values))
        })
        .collect();
    let mut out = BTreeMap::new();
    for (phase, stats) in per_phase {
        if let Some(stats) = stats {
            out.insert(phase.key().to_string(), stats);
        }
    }
    let ready: Vec<f64> = p.nodes.iter().filter_map(|n| n.time_to_ready()).collect();
    if let Some(stats) = PhaseStats::of(&ready) {
        out.insert("time_to_ready".to_string(), stats);
    }
    out
}

fn critical_path(p: &Provision, first_start: f64) -> Option<CriticalPath> {
    let (index, last) = p
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(i, n)| n.ready.map(|r| (i, r)))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let node = &p.nodes[index];
    let steps: Vec<PathStep> = p
        .spans
        .iter()
        .filter(|s| s.node as usize == index)
        .map(|s| PathStep {
            phase: s.phase.key(),
            image: (s.image != NO_IMAGE).then(|| p.images[s.image as usize].clone()),
            start: s.start,
            duration: s.duration,
        })
        .collect();
    let slowest = p
        .spans
        .iter()
        .zip(0..)
        .filter(|(s, _)| s.node as usize == index)
        .filter(|(s, _)| !matches!(s.phase, Phase::Nodeprep | Phase::GlobalResources))
        .max_by(|a, b| a.0.duration.total_cmp(&b.0.duration))
        .map(|(s, _)| PathStep {
            phase: s.phase.key(),
            image: (s.image != NO_IMAGE).then(|| p.images[s.image as usize].clone()),
            start: s.start,
            duration: s.duration,
        });
    let origin = if first_start.is_finite() {
        first_start
    } else {
        node.order_time()
    };
    Some(CriticalPath {
        node_id: node.node_id.clone(),
        start: node.start,
        pool_ready: last,
        pool_ready_after_s: last - origin,
        slowest,
        steps,
    })
}

fn stragglers(p: &Provision, k: f64) -> Stragglers {
    let times: Vec<(usize, f64)> = p
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(i, n)| n.time_to_ready().map(|t| (i, t)))
        .collect();
    let values: Vec<f64> = times.iter().map(|(_, t)| *t).collect();
    let Some(med) = median(&values) else {
        return Stragglers {
            k,
            ..Stragglers::default()
        };
    };
    let deviations: Vec<f64> = values.iter().map(|v| (v - med).abs()).collect();
    let mad = median(&deviations).unwrap_or(0.0);
    let threshold = med + k * mad;
    let mut nodes: Vec<Straggler> = if mad > 0.0 {
        times
            .iter()
            .filter(|(_, t)| *t > threshold)
            .map(|&(i, t)| Straggler {
                node_id: p.nodes[i].node_id.clone(),
                time_to_ready_s: t,
                mads: (t - med) / mad,
            })
            .collect()
    } else {
        Vec::new()
    };
    nodes.sort_by(|a, b| {
        b.time_to_ready_s
            .total_cmp(&a.time_to_ready_s)
            .then_with(|| a.node_id.cmp(&b.node_id))
    });
    Stragglers {
        k,
        median_s: med,
        mad_s: mad,
        threshold_s: threshold,
        nodes,
    }
}
