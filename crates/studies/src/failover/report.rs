//! The JSON contract of `expost failover --json`, which other tools read.
//! Field names and shapes are fixed; fields may be added.

use super::{Campaign, ConfigResult, RunResult, TcpFinding};
use expost_formats::iperf3_json::Protocol;
use expost_model::{Diagnostic, Params, Severity};
use serde::Serialize;
use std::collections::BTreeMap;

/// Median, min and max across trials.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    /// Median.
    pub median: f64,
    /// Minimum.
    pub min: f64,
    /// Maximum.
    pub max: f64,
}

/// The whole JSON object.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    /// One entry per run folder found, failed runs included.
    pub runs: Vec<RunReport<'a>>,
    /// One entry per configuration with analysed runs.
    pub configs: Vec<ConfigReport<'a>>,
    /// Counts of runs and diagnostics.
    pub summary: Summary,
    /// Problems with the campaign itself (unreadable folders).
    pub campaign_diagnostics: &'a [Diagnostic],
    /// How a TCP run's outage is found (only when the campaign has TCP runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_outage_rule: Option<&'static str>,
}

/// How a TCP run's outage is found, as stated in the JSON.
pub const TCP_OUTAGE_RULE: &str = "per flow, throughput is the bytes the server received per interval (the bytes the client sent when there is no server output); intervals shorter than half the usual one are left out. A dip is a run of intervals below 90 % of the median of the intervals in the 2 s before it (at least 1 s of them), going lower than any of those. It is a disruption when the client's intervals show a retransmission burst (at least one, and three times the flow's median), a cwnd collapse (at most half its median of the 2 s before) or an RTT rise (twice that median and 1 ms more) within one interval of it, or when it falls below --tcp-threshold of the median without them. start: in the interval just before the first one below 10 % of the median when that one is in the dip, else in that first one (in the lowest one when traffic never stopped), assuming full rate until then: interval start + (bytes / median bytes) x length; start_window_s is that interval. end: when throughput is back to >= 90 % of the pre-event median (the end of the dip's last interval). deficit: the bytes short of that median from the start's interval to the end. Flows' overlapping disruptions merge (earliest start, latest end, deficits added); the run's outage is the disruption with the largest deficit. None found: outage_ms null with outage_reason, and the run is left out of its configuration's outage statistics (outage_trials counts those they cover).";

/// Counts for the summary line.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// Run folders found.
    pub runs: usize,
    /// Runs analysed.
    pub ok: usize,
    /// Runs that could not be analysed.
    pub failed: usize,
    /// Configurations.
    pub configs: usize,
    /// Diagnostics at error level.
    pub errors: usize,
    /// Diagnostics at warning level.
    pub warnings: usize,
    /// Diagnostics at note level.
    pub notes: usize,
}

/// One run.
#[derive(Debug, Serialize)]
pub struct RunReport<'a> {
    /// The run folder's name.
    pub run: &'a str,
    /// The run folder relative to ROOT.
    pub path: &'a str,
    /// Parameters from the path (without the trial).
    pub params: &'a Params,
    /// The trial.
    pub trial: &'a str,
    /// `udp` or `tcp` (`null` when the run failed before it was known).
    pub proto: Option<&'static str>,
    /// Flows analysed.
    pub flows: usize,
    /// The anchor event's time, UTC epoch seconds.
    pub anchor_epoch: Option<f64>,
    /// Σ over flows of the client's `end.sum.lost_packets` (UDP), else null.
    pub lost: Option<u64>,
    /// Σ over flows of the client's `end.sum.packets` (UDP), else null.
    pub packets: Option<u64>,
    /// When the outage started, seconds after the anchor; null when there was none or it is unknown.
    pub outage_start_s: Option<f64>,
    /// How long the outage lasted, ms (UDP: 0 when none was seen); null when unknown.
    pub outage_ms: Option<f64>,
    /// Why `outage_ms` is null (TCP runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outage_reason: Option<&'a str>,
    /// TCP runs: every disruption found, in time order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_disruptions: Option<Vec<DisruptionReport>>,
    /// Each `--mark`ed event's first time, seconds after the anchor (only
    /// with `--mark`; an event the run's log lacks is left out and warned).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub marks: &'a BTreeMap<String, f64>,
    /// True when the run was analysed.
    pub ok: bool,
    /// The window in which all flows ran, seconds after the anchor.
    pub overlap_s: Option<[f64; 2]>,
    /// Each flow's start on the run's clock and where it came from.
    pub flow_starts: Vec<FlowStart>,
    /// Everything reported for this run.
    pub diagnostics: &'a [Diagnostic],
}

/// One TCP disruption of a run.
#[derive(Debug, Serialize)]
pub struct DisruptionReport {
    /// When it began, seconds after the anchor.
    pub start_s: f64,
    /// The interval the start lies in, seconds after the anchor.
    pub start_window_s: [f64; 2],
    /// When throughput was back to 90 % of its pre-event median; null when it was not.
    pub end_s: Option<f64>,
    /// `end_s - start_s`, ms; null when it did not end.
    pub duration_ms: Option<f64>,
    /// Bytes short of the pre-event median throughput over the dip.
    pub deficit_bytes: f64,
    /// The pre-event median throughput, Σ over its flows, bits/s.
    pub baseline_bps: f64,
    /// The lowest throughput of a flow in it, as a fraction of its baseline.
    pub min_fraction: f64,
    /// What showed it: throughput_dip, retransmits, cwnd_collapse, rtt_rise.
    pub evidence: Vec<&'static str>,
    /// The flows it was seen in.
    pub flows: Vec<u32>,
    /// True for the one reported as the run's outage.
    pub outage: bool,
}

impl DisruptionReport {
    fn of(finding: &TcpFinding) -> Vec<DisruptionReport> {
        (finding.events.iter().enumerate())
            .map(|(i, e)| DisruptionReport {
                start_s: e.start,
                start_window_s: [e.start_window.0, e.start_window.1],
                end_s: e.end,
                duration_ms: e.duration().map(|d| d * 1e3),
                deficit_bytes: e.deficit_bytes,
                baseline_bps: e.baseline_bps,
                min_fraction: e.min_fraction,
                evidence: e.evidence.iter().map(|k| k.as_str()).collect(),
                flows: e.flows.clone(),
                outage: finding.main == Some(i),
            })
            .collect()
    }
}

/// A flow's start.
#[derive(Debug, Serialize)]
pub struct FlowStart {
    /// Flow number.
    pub flow: u32,
    /// Start, seconds after the anchor.
    pub start_s: f64,
    /// ± seconds.
    pub uncertainty_s: f64,
    /// Where it came from.
    pub source: &'static str,
}

/// One configuration.
#[derive(Debug, Serialize)]
pub struct ConfigReport<'a> {
    /// The shared parameters.
    pub params: &'a Params,
    /// Analysed runs.
    pub trials: usize,
    /// TCP: how many trials `outage_ms` and `outage_start_s` cover (runs
    /// with no outage found are left out of them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outage_trials: Option<usize>,
    /// Outage durations across trials, ms.
    pub outage_ms: Option<Spread>,
    /// Outage starts across trials, seconds after the anchor.
    pub outage_start_s: Option<Spread>,
    /// `udp` or `tcp`.
    pub proto: Option<&'static str>,
    /// The run folders, relative to ROOT.
    pub runs: Vec<&'a str>,
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

impl<'a> Report<'a> {
    /// Builds the JSON object of a campaign.
    pub fn of(campaign: &'a Campaign) -> Report<'a> {
        let count = |s: Severity| {
            campaign
                .all_diagnostics()
                .filter(|d| d.severity == s)
                .count()
        };
        let ok = campaign.runs.iter().filter(|r| r.ok).count();
        Report {
            runs: campaign.runs.iter().map(RunReport::of).collect(),
            configs: campaign
                .configs
                .iter()
                .map(|c| ConfigReport::of(c, &campaign.runs))
                .collect(),
            summary: Summary {
                runs: campaign.runs.len(),
                ok,
                failed: campaign.runs.len() - ok,
                configs: campaign.configs.len(),
                errors: count(Severity::Error),
                warnings: count(Severity::Warning),
                notes: count(Severity::Note),
            },
            campaign_diagnostics: &campaign.diagnostics,
            tcp_outage_rule: (campaign.runs.iter())
                .any(|r| r.tcp.is_some())
                .then_some(TCP_OUTAGE_RULE),
        }
    }
}

impl<'a> RunReport<'a> {
    fn of(run: &'a RunResult) -> RunReport<'a> {
        RunReport {
            run: &run.name,
            path: &run.rel,
            params: &run.params,
            trial: &run.trial,
            proto: run.proto.map(|p| p.as_str()),
            flows: run.flows.len(),
            anchor_epoch: run.anchor_epoch,
            lost: run.lost,
            packets: run.packets,
            outage_start_s: run.outage.and_then(|o| finite(o.start)).or_else(|| {
                let tcp = run.tcp.as_ref()?;
                tcp.main_event().map(|e| e.start)
            }),
            outage_ms: run.outage.and_then(|o| finite(o.duration * 1e3)),
            outage_reason: run.tcp.as_ref().and_then(|t| t.reason.as_deref()),
            tcp_disruptions: run.tcp.as_ref().map(DisruptionReport::of),
            marks: &run.marks,
            ok: run.ok,
            overlap_s: run.overlap.map(|w| [w.start, w.end]),
            flow_starts: run
                .flows
                .iter()
                .map(|f| FlowStart {
                    flow: f.number,
                    start_s: f.start,
                    uncertainty_s: f.start_uncertainty,
                    source: f.start_source.as_str(),
                })
                .collect(),
            diagnostics: run.diagnostics.items(),
        }
    }
}

impl<'a> ConfigReport<'a> {
    fn of(config: &'a ConfigResult, runs: &'a [RunResult]) -> ConfigReport<'a> {
        ConfigReport {
            params: &config.params,
            trials: config.runs.len(),
            outage_trials: (config.proto == Some(Protocol::Tcp)).then_some(config.outage_trials),
            outage_ms: config.outage_ms,
            outage_start_s: config.outage_start_s,
            proto: config.proto.map(|p| p.as_str()),
            runs: config.runs.iter().map(|&i| runs[i].rel.as_str()).collect(),
        }
    }
}
