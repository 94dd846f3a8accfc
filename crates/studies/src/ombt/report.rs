//! The JSON contract of `expost ombt --json`: names and shapes are fixed;
//! fields may be added.

use super::{AgentSpread, Campaign, RunResult, SideStats};
use expost_model::{Diagnostic, Severity};
use serde::Serialize;
use std::collections::BTreeMap;

/// The whole object.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    /// One entry per run listed, failed runs included.
    pub runs: Vec<RunReport<'a>>,
    /// Problems with the campaign itself.
    pub campaign_diagnostics: &'a [Diagnostic],
    /// Counts of runs and diagnostics.
    pub summary: Summary,
}

/// Counts.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// Runs listed.
    pub runs: usize,
    /// Runs analysed.
    pub ok: usize,
    /// Runs that could not be analysed.
    pub failed: usize,
    /// Diagnostics at error level.
    pub errors: usize,
    /// Diagnostics at warning level.
    pub warnings: usize,
}

/// One run.
#[derive(Debug, Serialize)]
pub struct RunReport<'a> {
    /// The run's `backup_dir` as listed.
    pub backup_dir: Option<&'a str>,
    /// Its parameters, as in `params.json` (without `backup_dir`).
    pub params: BTreeMap<&'a str, &'a serde_json::Value>,
    /// Whether the controller's results were read.
    pub ok: bool,
    /// The clients' side.
    pub clients: Option<SideReport>,
    /// The servers' side.
    pub servers: Option<SideReport>,
    /// The run's window, epoch seconds: `[start, stop]`.
    pub window: Option<[f64; 2]>,
    /// Telemetry figures over the window.
    pub telemetry: &'a BTreeMap<String, f64>,
    /// Everything noticed about this run.
    pub diagnostics: &'a [Diagnostic],
}

/// One side of a run.
#[derive(Debug, Serialize)]
pub struct SideReport {
    /// Number of agents.
    pub agents: usize,
    /// Messages ok, all agents.
    pub msgs_ok: u64,
    /// Messages failed, all agents.
    pub msgs_fail: u64,
    /// Messages per second over the aggregate span.
    pub rate: Option<f64>,
    /// Earliest start, epoch seconds.
    pub start_time: Option<f64>,
    /// Latest stop, epoch seconds.
    pub stop_time: Option<f64>,
    /// Merged latency statistic, ms.
    pub latency: LatencyReport,
    /// Spread of `msgs_ok` across agents.
    pub per_agent_ok: Option<SpreadReport>,
    /// Spread of `msgs_fail` across agents.
    pub per_agent_fail: Option<SpreadReport>,
    /// Error messages and their counts.
    pub errors: BTreeMap<String, u64>,
}

/// Mean, min, max across agents.
#[derive(Debug, Serialize)]
pub struct SpreadReport {
    /// Mean.
    pub mean: f64,
    /// Minimum.
    pub min: f64,
    /// Maximum.
    pub max: f64,
}

/// A latency statistic, ms.
#[derive(Debug, Serialize)]
pub struct LatencyReport {
    /// Samples.
    pub count: u64,
    /// Mean (total over this side's own count).
    pub avg: Option<f64>,
    /// Population standard deviation.
    pub std: Option<f64>,
    /// Minimum (0 is a valid minimum).
    pub min: Option<f64>,
    /// Maximum.
    pub max: Option<f64>,
    /// Median estimated from the buckets.
    pub p50: Option<f64>,
    /// 90th percentile estimated from the buckets.
    pub p90: Option<f64>,
    /// 99th percentile estimated from the buckets.
    pub p99: Option<f64>,
    /// Decade buckets as ombt writes them: `"<decade>": [10 counts]`.
    pub distribution: BTreeMap<String, Vec<u64>>,
}

fn spread(s: Option<AgentSpread>) -> Option<SpreadReport> {
    s.map(|s| SpreadReport {
        mean: s.mean,
        min: s.min,
        max: s.max,
    })
}

impl SideReport {
    /// The report of one side.
    pub fn of(side: &SideStats) -> SideReport {
        let l = &side.latency;
        let distribution = l
            .buckets
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_vec()))
            .collect();
        SideReport {
            agents: side.agents,
            msgs_ok: side.msgs_ok,
            msgs_fail: side.msgs_fail,
            rate: side.rate,
            start_time: side.start_time,
            stop_time: side.stop_time,
            latency: LatencyReport {
                count: l.count,
                avg: l.average(),
                std: l.std_deviation(),
                min: l.min,
                max: l.max,
                p50: l.quantile(0.5),
                p90: l.quantile(0.9),
                p99: l.quantile(0.99),
                distribution,
            },
            per_agent_ok: spread(side.per_agent_ok),
            per_agent_fail: spread(side.per_agent_fail),
            errors: side.errors.clone(),
        }
    }
}

impl<'a> RunReport<'a> {
    /// The report of one run.
    pub fn of(run: &'a RunResult) -> RunReport<'a> {
        RunReport {
            backup_dir: run.run.entry.backup_dir.as_deref(),
            params: run
                .run
                .entry
                .raw
                .iter()
                .filter(|(k, _)| k.as_str() != "backup_dir")
                .map(|(k, v)| (k.as_str(), v))
                .collect(),
            ok: run.ok,
            clients: run.clients.as_ref().map(SideReport::of),
            servers: run.servers.as_ref().map(SideReport::of),
            window: run.window.map(|w| [w.start, w.stop]),
            telemetry: &run.telemetry.scalars,
            diagnostics: run.diagnostics.items(),
        }
    }
}

impl<'a> Report<'a> {
    /// The report of a campaign.
    pub fn of(campaign: &'a Campaign) -> Report<'a> {
        let ok = campaign.runs.iter().filter(|r| r.ok).count();
        Report {
            runs: campaign.runs.iter().map(RunReport::of).collect(),
            campaign_diagnostics: &campaign.diagnostics,
            summary: Summary {
                runs: campaign.runs.len(),
                ok,
                failed: campaign.runs.len() - ok,
                errors: campaign.count_at_least(Severity::Error),
                warnings: campaign.count_at_least(Severity::Warning)
                    - campaign.count_at_least(Severity::Error),
            },
        }
    }
}
