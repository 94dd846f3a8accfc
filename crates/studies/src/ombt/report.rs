//! The JSON contract of `expost ombt --json`: names and shapes are fixed;
//! fields may be added.
//!
//! The JSON has always listed every object's keys in alphabetical order, so
//! each struct here declares its fields in that order: serialised directly
//! (without an intermediate `serde_json::Value`), the output is the same.

use super::{AgentSpread, AxesFigure, Campaign, RunResult, SideStats};
use expost_model::{Diagnostic, Severity};
use expost_ops::histogram::BUCKETS_PER_DECADE;
use serde::Serialize;
use std::collections::BTreeMap;

/// The whole object.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    /// Problems with the campaign itself.
    pub campaign_diagnostics: &'a [Diagnostic],
    /// The command line that wrote the report, when the caller sets it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The version of expost that wrote the report, when the caller sets it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expost_version: Option<&'a str>,
    /// The rate and latency figures: per facet value, the points and the
    /// runs each averages, and the parameters those runs differ in.
    pub figures: &'a [AxesFigure],
    /// The options the command ran with, when the caller sets them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<serde_json::Value>,
    /// One entry per run listed, failed runs included.
    pub runs: Vec<RunReport<'a>>,
    /// Counts of runs and diagnostics.
    pub summary: Summary,
}

/// Counts.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// Diagnostics at error level.
    pub errors: usize,
    /// Runs that could not be analysed.
    pub failed: usize,
    /// Runs analysed.
    pub ok: usize,
    /// Runs listed.
    pub runs: usize,
    /// Diagnostics at warning level.
    pub warnings: usize,
}

/// One run.
#[derive(Debug, Serialize)]
pub struct RunReport<'a> {
    /// The run's `backup_dir` as listed.
    pub backup_dir: Option<&'a str>,
    /// The clients' side.
    pub clients: Option<SideReport<'a>>,
    /// Everything noticed about this run.
    pub diagnostics: &'a [Diagnostic],
    /// Whether the controller's results were read.
    pub ok: bool,
    /// Its parameters, as in `params.json` (without `backup_dir`).
    pub params: BTreeMap<&'a str, &'a serde_json::Value>,
    /// The servers' side.
    pub servers: Option<SideReport<'a>>,
    /// Telemetry figures over the window.
    pub telemetry: &'a BTreeMap<String, f64>,
    /// The run's window, epoch seconds: `[start, stop]`.
    pub window: Option<[f64; 2]>,
}

/// One side of a run.
#[derive(Debug, Serialize)]
pub struct SideReport<'a> {
    /// Number of agents.
    pub agents: usize,
    /// Error messages and their counts.
    pub errors: &'a BTreeMap<String, u64>,
    /// Merged latency statistic, ms.
    pub latency: LatencyReport<'a>,
    /// Messages failed, all agents.
    pub msgs_fail: u64,
    /// Messages ok, all agents.
    pub msgs_ok: u64,
    /// Spread of `msgs_fail` across agents.
    pub per_agent_fail: Option<SpreadReport>,
    /// Spread of `msgs_ok` across agents.
    pub per_agent_ok: Option<SpreadReport>,
    /// Messages per second over the aggregate span.
    pub rate: Option<f64>,
    /// Earliest start, epoch seconds.
    pub start_time: Option<f64>,
    /// Latest stop, epoch seconds.
    pub stop_time: Option<f64>,
}

/// Mean, min, max across agents.
#[derive(Debug, Serialize)]
pub struct SpreadReport {
    /// Maximum.
    pub max: f64,
    /// Mean.
    pub mean: f64,
    /// Minimum.
    pub min: f64,
}

/// A latency statistic, ms.
#[derive(Debug, Serialize)]
pub struct LatencyReport<'a> {
    /// Mean (total over this side's own count).
    pub avg: Option<f64>,
    /// Samples.
    pub count: u64,
    /// Decade buckets as ombt writes them: `"<decade>": [10 counts]`
    /// (keyed by the decade as text, so in text order, as in ombt's JSON).
    pub distribution: BTreeMap<String, &'a [u64; BUCKETS_PER_DECADE]>,
    /// Maximum.
    pub max: Option<f64>,
    /// Minimum (0 is a valid minimum).
    pub min: Option<f64>,
    /// Median estimated from the buckets.
    pub p50: Option<f64>,
    /// 90th percentile estimated from the buckets.
    pub p90: Option<f64>,
    /// 99th percentile estimated from the buckets.
    pub p99: Option<f64>,
    /// Population standard deviation.
    pub std: Option<f64>,
}

fn spread(s: Option<AgentSpread>) -> Option<SpreadReport> {
    s.map(|s| SpreadReport {
        mean: s.mean,
        min: s.min,
        max: s.max,
    })
}

impl<'a> SideReport<'a> {
    /// The report of one side.
    pub fn of(side: &'a SideStats) -> SideReport<'a> {
        let l = &side.latency;
        let distribution = l.buckets.iter().map(|(k, v)| (k.to_string(), v)).collect();
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
            errors: &side.errors,
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
    /// The report of a campaign (without `command` and `expost_version`).
    pub fn of(campaign: &'a Campaign) -> Report<'a> {
        let ok = campaign.runs.iter().filter(|r| r.ok).count();
        Report {
            runs: campaign.runs.iter().map(RunReport::of).collect(),
            campaign_diagnostics: &campaign.diagnostics,
            command: None,
            expost_version: None,
            figures: &campaign.figures,
            options: None,
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

#[cfg(test)]
mod tests {
    use super::super::{analyse_campaign, find_campaign};
    use super::*;
    use std::path::Path;

    /// The real fixture campaign analysed, with a diagnostic and telemetry
    /// figures added so that every kind of object is in the report.
    fn fixture_campaign() -> Campaign {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ombt/campaign");
        let (runs, diagnostics) = find_campaign(&root);
        let runs = analyse_campaign(&runs, None, &|| {});
        let (figures, _) = super::super::axes::plan(&runs, &Default::default());
        let mut campaign = Campaign {
            runs,
            diagnostics,
            figures,
        };
        let run = &mut campaign.runs[0];
        run.diagnostics.warn(Some(2), "a warning");
        run.telemetry.scalars.insert("q_len".into(), 1.5);
        run.telemetry
            .scalars
            .insert("max_messages".into(), f64::NAN);
        campaign
    }

    #[test]
    fn keys_are_in_alphabetical_order_as_through_a_json_value() {
        let campaign = fixture_campaign();
        assert!(campaign.runs.iter().all(|r| r.ok));
        let report = Report {
            command: Some("expost ombt".into()),
            expost_version: Some("0"),
            ..Report::of(&campaign)
        };
        let direct = serde_json::to_string_pretty(&report).unwrap();
        let value = serde_json::to_value(&report).unwrap();
        assert_eq!(direct, serde_json::to_string_pretty(&value).unwrap());
    }
}
