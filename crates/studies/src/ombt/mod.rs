//! The messaging benchmark post-mortem (ombt driven by ombt-orchestrator):
//! per run, the clients' and servers' message counts, rates and merged
//! latency statistics, the spread of counts across agents, and the bus's
//! telemetry over the run's own time window.
//!
//! Two bugs of the notebook this replaces are fixed here: the clients'
//! average latency is their total over *their own* count (the notebook
//! divided by the servers' count), and a minimum latency of 0 is kept (the
//! notebook's `Stats` treated 0 as unset).

mod axes;
mod influx;
mod load;
mod outputs;
mod report;
mod study;
mod tarball;
mod telemetry;

pub use axes::{AxesFigure, AxesPoint, FigureAxes};
pub use influx::{default_queries, parse_query, samples_of, samples_query, InfluxSource};
pub use load::{
    find_campaign, find_controller_log, read_controller_logs, CampaignRun, ControllerLog,
};
pub use outputs::{runs_table, series_table};
pub use report::{LatencyReport, Report, RunReport, SideReport};
pub use study::OmbtStudy;
pub use tarball::{TarballSource, TARBALL};
pub use telemetry::{
    default_scalars, other_tags, sort_samples, LineProtocolFile, Sample, Telemetry, TelemetryFrom,
    TelemetryOptions, TelemetrySource, Window, RABBITMQ_NODE, RABBITMQ_OVERVIEW, ROLES,
};

use crate::study::Context;
use expost_formats::ombt_controller::{self, AgentResult, LatencyRecord};
use expost_model::{Diagnostic, Diagnostics, Params, Severity};
use expost_ops::histogram::DecadeHistogram;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Mean, minimum and maximum of a count across the agents of one side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AgentSpread {
    /// Mean across agents.
    pub mean: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

impl AgentSpread {
    fn of(values: impl Iterator<Item = u64>) -> Option<AgentSpread> {
        let values: Vec<f64> = values.map(|v| v as f64).collect();
        if values.is_empty() {
            return None;
        }
        Some(AgentSpread {
            mean: values.iter().sum::<f64>() / values.len() as f64,
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }
}

/// One side of a run (the clients, or the servers), aggregated over its agents.
#[derive(Debug, Clone, PartialEq)]
pub struct SideStats {
    /// Number of agents.
    pub agents: usize,
    /// Messages sent (clients) or received (servers) successfully, all agents.
    pub msgs_ok: u64,
    /// Messages that failed, all agents.
    pub msgs_fail: u64,
    /// Earliest start across agents, epoch seconds.
    pub start_time: Option<f64>,
    /// Latest stop across agents, epoch seconds.
    pub stop_time: Option<f64>,
    /// (ok + failed) messages over the aggregate start–stop span, messages/s.
    pub rate: Option<f64>,
    /// The agents' latency statistics merged (ms).
    pub latency: DecadeHistogram,
    /// Spread of `msgs_ok` across agents.
    pub per_agent_ok: Option<AgentSpread>,
    /// Spread of `msgs_fail` across agents.
    pub per_agent_fail: Option<AgentSpread>,
    /// Error messages and how often each occurred, all agents.
    pub errors: BTreeMap<String, u64>,
}

/// ombt's latency record as a mergeable statistic.
pub fn histogram_of(record: &LatencyRecord) -> DecadeHistogram {
    DecadeHistogram {
        count: record.count,
        total: record.total,
        sum_of_squares: record.sum_of_squares,
        min: record.min,
        max: record.max,
        buckets: record.distribution.clone(),
    }
}

/// Aggregates the agents of one side.
pub fn side_stats(agents: &[AgentResult]) -> SideStats {
    let latency = DecadeHistogram::merged(
        agents
            .iter()
            .map(|a| histogram_of(&a.latency))
            .collect::<Vec<_>>()
            .iter(),
    );
    let start_time = agents.iter().filter_map(|a| a.start_time).reduce(f64::min);
    let stop_time = agents.iter().filter_map(|a| a.stop_time).reduce(f64::max);
    let msgs_ok: u64 = agents.iter().map(|a| a.msgs_ok).sum();
    let msgs_fail: u64 = agents.iter().map(|a| a.msgs_fail).sum();
    let rate = match (start_time, stop_time) {
        (Some(start), Some(stop)) if stop > start => {
            Some((msgs_ok + msgs_fail) as f64 / (stop - start))
        }
        _ => None,
    };
    let mut errors = BTreeMap::new();
    for a in agents {
        for (k, v) in &a.errors {
            *errors.entry(k.clone()).or_insert(0) += v;
        }
    }
    SideStats {
        agents: agents.len(),
        msgs_ok,
        msgs_fail,
        start_time,
        stop_time,
        rate,
        latency,
        per_agent_ok: AgentSpread::of(agents.iter().map(|a| a.msgs_ok)),
        per_agent_fail: AgentSpread::of(agents.iter().map(|a| a.msgs_fail)),
        errors,
    }
}

/// One run, analysed (or not: `ok == false`, with the reason in `diagnostics`).
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The run as `params.json` listed it.
    pub run: CampaignRun,
    /// Whether the controller's results were read.
    pub ok: bool,
    /// The clients' side.
    pub clients: Option<SideStats>,
    /// The servers' side.
    pub servers: Option<SideStats>,
    /// The run's time window (the notebook's: latest start, latest stop of the two sides).
    pub window: Option<Window>,
    /// Telemetry over the window.
    pub telemetry: Telemetry,
    /// Everything noticed while reading this run.
    pub diagnostics: Diagnostics,
}

impl RunResult {
    /// The run's parameters as text.
    pub fn params(&self) -> &Params {
        &self.run.entry.params
    }
}

/// The run's window: from the later of the two sides' starts to the later of their stops.
pub fn run_window(clients: &SideStats, servers: &SideStats) -> Option<Window> {
    let start = match (clients.start_time, servers.start_time) {
        (Some(a), Some(b)) => a.max(b),
        (a, b) => a.or(b)?,
    };
    let stop = match (clients.stop_time, servers.stop_time) {
        (Some(a), Some(b)) => a.max(b),
        (a, b) => a.or(b)?,
    };
    (stop >= start).then_some(Window { start, stop })
}

/// Reads and analyses one run, its telemetry included.
pub fn analyse_run(
    run: &CampaignRun,
    telemetry: Option<&dyn TelemetrySource>,
    context: &Context<'_>,
) -> RunResult {
    let mut diagnostics = Diagnostics::default();
    let mut result = RunResult {
        run: run.clone(),
        ok: false,
        clients: None,
        servers: None,
        window: None,
        telemetry: Telemetry::default(),
        diagnostics: Diagnostics::default(),
    };
    let Some(dir) = &run.dir else {
        result.diagnostics = run.problems.clone();
        return result;
    };
    diagnostics.extend(run.problems.clone());
    let logs = read_controller_logs(dir, &mut diagnostics);
    if logs.is_empty() {
        result.diagnostics = diagnostics;
        return result;
    }
    let Some(results) = merged_results(run, logs, &mut diagnostics) else {
        result.diagnostics = diagnostics;
        return result;
    };
    let clients = side_stats(&results.clients);
    let servers = side_stats(&results.servers);
    for (name, side) in [("clients", &clients), ("servers", &servers)] {
        if side.agents == 0 {
            diagnostics.warn(None, format!("no {name} in the results"));
        } else if side.rate.is_none() {
            diagnostics.warn(None, format!("{name}: no start–stop span, so no rate"));
        }
        if side.latency.count == 0 && side.agents > 0 && name == "clients" {
            diagnostics.warn(
                None,
                format!("{name}: no latency sample (every agent's count is 0)"),
            );
        }
    }
    let window = run_window(&clients, &servers);
    if let (Some(source), Some(w)) = (telemetry, window) {
        result.telemetry = source.fetch(run, w, context, &mut diagnostics);
    } else if telemetry.is_some() {
        diagnostics.warn(
            None,
            "no time window (start/stop times missing): telemetry not read",
        );
    }
    result.ok = true;
    result.clients = Some(clients);
    result.servers = Some(servers);
    result.window = window;
    result.diagnostics = diagnostics;
    result
}

/// The agents of every controller results file of a run (one per
/// control-bus shard, each for its own agents), clients with clients and
/// servers with servers; an agent named in two files is counted once (the
/// first file's, reported). `None` when a file cannot be read or parsed:
/// a run missing a shard's agents would give wrong totals and rates.
fn merged_results(
    run: &CampaignRun,
    logs: Vec<ControllerLog>,
    diagnostics: &mut Diagnostics,
) -> Option<ombt_controller::ControllerResults> {
    let shards = logs.len();
    // Later diagnostics name the results file, or the run folder for several.
    let named = match logs.as_slice() {
        [one] => load::display(&one.path),
        _ => run.dir.as_deref().map(load::display).unwrap_or_default(),
    };
    let mut merged = ombt_controller::ControllerResults::default();
    // (client or server, agent name) → the file it was first read from.
    let mut seen: BTreeMap<(&str, String), String> = BTreeMap::new();
    for log in logs {
        let file = load::display(&log.path);
        diagnostics.set_file(file.clone());
        let parsed = log
            .content
            .map_err(expost_formats::ParseError::from)
            .and_then(|bytes| ombt_controller::parse(&bytes[..], diagnostics));
        let results = match parsed {
            Ok(r) => r,
            Err(e) => {
                diagnostics.error(e.line(), format!("run {}: {e}", run.label()));
                return None;
            }
        };
        for (role, side, agents) in [
            ("client", &mut merged.clients, results.clients),
            ("server", &mut merged.servers, results.servers),
        ] {
            for agent in agents {
                if let Some(first) = seen.get(&(role, agent.name.clone())) {
                    diagnostics.warn(
                        None,
                        format!(
                            "{role} '{}' is also in '{first}': counted once, from there",
                            agent.name
                        ),
                    );
                    continue;
                }
                seen.insert((role, agent.name.clone()), file.clone());
                side.push(agent);
            }
        }
    }
    diagnostics.set_file(named);
    if shards > 1 {
        diagnostics.note(
            None,
            format!("{shards} controller results files (one per control-bus shard): their agents merged"),
        );
    }
    Some(merged)
}

/// The campaign analysed: every run listed, in order.
#[derive(Debug, Clone, Default)]
pub struct Campaign {
    /// One result per run listed in the campaign's `params.json` files.
    pub runs: Vec<RunResult>,
    /// Problems with the campaign itself (a `params.json` that cannot be read).
    pub diagnostics: Vec<Diagnostic>,
    /// The rate and latency figures' points, per facet value.
    pub figures: Vec<AxesFigure>,
}

impl Campaign {
    /// Every diagnostic of the campaign and its runs.
    pub fn all_diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .chain(self.runs.iter().flat_map(|r| r.diagnostics.items()))
    }

    /// How many diagnostics are at least `severity`.
    pub fn count_at_least(&self, severity: Severity) -> usize {
        self.all_diagnostics()
            .filter(|d| d.severity >= severity)
            .count()
    }
}

/// Analyses every run in parallel, never interrupted; `progress` is
/// called once per run.
pub fn analyse_campaign(
    runs: &[CampaignRun],
    telemetry: Option<&dyn TelemetrySource>,
    progress: &(dyn Fn() + Sync),
) -> Vec<RunResult> {
    let never = std::sync::atomic::AtomicBool::new(false);
    let context = Context::new(&never);
    runs.par_iter()
        .map(|r| {
            let out = analyse_run(r, telemetry, &context);
            progress();
            out
        })
        .collect()
}

/// Where a run's folder is, if it was found.
pub fn run_dir(run: &RunResult) -> Option<&PathBuf> {
    run.run.dir.as_ref()
}

#[cfg(test)]
mod tests;
