//! What `expost ombt -o DIR` writes, as data: the runs and series tables,
//! the notebook's figures against the number of clients, each run's
//! latency distribution and telemetry figures.

use super::axes::{AxesFigure, AxesPoint, FigureAxes};
use super::{Campaign, RunResult, Sample, SideStats};
use expost_render::bars::{Bar, StackedBars};
use expost_render::figure::{Figure, Line, VMarker};
use expost_render::table::{ColumnData, DictBuilder, Table};
use std::collections::{BTreeMap, BTreeSet};

fn dict(values: impl Iterator<Item = String>) -> ColumnData {
    let mut b = DictBuilder::default();
    for v in values {
        b.push(&v);
    }
    b.finish()
}

/// Side statistics as (column suffix, getter).
type Getter = fn(&SideStats) -> Option<f64>;
const SIDE_COLUMNS: [(&str, Getter); 20] = [
    ("agents", |s| Some(s.agents as f64)),
    ("msgs_ok", |s| Some(s.msgs_ok as f64)),
    ("msgs_fail", |s| Some(s.msgs_fail as f64)),
    ("rate", |s| s.rate),
    ("start_time", |s| s.start_time),
    ("stop_time", |s| s.stop_time),
    ("latency_count", |s| Some(s.latency.count as f64)),
    ("latency_avg", |s| s.latency.average()),
    ("latency_std", |s| s.latency.std_deviation()),
    ("latency_min", |s| s.latency.min),
    ("latency_max", |s| s.latency.max),
    ("latency_p50", |s| s.latency.quantile(0.5)),
    ("latency_p90", |s| s.latency.quantile(0.9)),
    ("latency_p99", |s| s.latency.quantile(0.99)),
    ("per_agent_ok_mean", |s| s.per_agent_ok.map(|a| a.mean)),
    ("per_agent_ok_min", |s| s.per_agent_ok.map(|a| a.min)),
    ("per_agent_ok_max", |s| s.per_agent_ok.map(|a| a.max)),
    ("per_agent_fail_mean", |s| s.per_agent_fail.map(|a| a.mean)),
    ("per_agent_fail_min", |s| s.per_agent_fail.map(|a| a.min)),
    ("per_agent_fail_max", |s| s.per_agent_fail.map(|a| a.max)),
];

/// One row per run: parameters, every statistic of both sides, telemetry.
pub fn runs_table(campaign: &Campaign) -> Table {
    let runs = &campaign.runs;
    let mut t = Table::default();
    t.push("backup_dir", dict(runs.iter().map(|r| r.run.name.clone())));
    t.push("ok", ColumnData::Bool(runs.iter().map(|r| r.ok).collect()));
    let params: BTreeSet<&String> = runs.iter().flat_map(|r| r.params().keys()).collect();
    for p in params {
        t.push(
            p.as_str(),
            dict(
                runs.iter()
                    .map(|r| r.params().get(p).cloned().unwrap_or_default()),
            ),
        );
    }
    for (side, pick) in [("client", 0), ("server", 1)] {
        for (name, get) in SIDE_COLUMNS {
            let values = runs
                .iter()
                .map(|r| {
                    if pick == 0 {
                        r.clients.as_ref()
                    } else {
                        r.servers.as_ref()
                    }
                    .and_then(get)
                })
                .collect();
            t.push(format!("{side}_{name}"), ColumnData::Float(values));
        }
    }
    let names: BTreeSet<&String> = runs
        .iter()
        .flat_map(|r| r.telemetry.scalars.keys())
        .collect();
    for n in names {
        t.push(
            n.as_str(),
            ColumnData::Float(
                runs.iter()
                    .map(|r| r.telemetry.scalars.get(n).copied())
                    .collect(),
            ),
        );
    }
    t
}

/// Telemetry samples, tidy: run, measurement, field, host, role, other
/// tags (e.g. `cpu=cpu0`), time (epoch s), value.
pub fn series_table(campaign: &Campaign) -> Table {
    let rows = || {
        campaign
            .runs
            .iter()
            .flat_map(|r| r.telemetry.samples.iter().map(move |s| (r, s)))
    };
    let mut t = Table::default();
    t.push("backup_dir", dict(rows().map(|(r, _)| r.run.name.clone())));
    t.push(
        "measurement",
        dict(rows().map(|(_, s)| s.measurement.clone())),
    );
    t.push("field", dict(rows().map(|(_, s)| s.field.clone())));
    t.push("host", dict(rows().map(|(_, s)| s.host.clone())));
    t.push("role", dict(rows().map(|(_, s)| s.role.clone())));
    t.push("tags", dict(rows().map(|(_, s)| s.tags.clone())));
    t.push(
        "time",
        ColumnData::Number(rows().map(|(_, s)| s.time).collect()),
    );
    t.push(
        "value",
        ColumnData::Number(rows().map(|(_, s)| s.value).collect()),
    );
    t
}

/// The notebook's four plots, for every call type: rate and latency against
/// the number of clients, one line per number of servers (the clients'
/// side for rpc-call, the servers' otherwise; runs with the same x
/// averaged); named `rate_<call type>` and `latency_<call type>`. Other
/// axes as `campaign.figures` planned them (see [`super::axes`]); a note
/// in the legend names what each point averages over.
pub fn client_figures(campaign: &Campaign, axes: &FigureAxes) -> Vec<(String, Figure)> {
    let mut figures = Vec::new();
    for plan in &campaign.figures {
        let runs = |p: &AxesPoint| -> Vec<&RunResult> {
            p.runs
                .iter()
                .filter_map(|name| campaign.runs.iter().find(|r| &r.run.name == name))
                .collect()
        };
        let calls: BTreeSet<bool> = plan
            .points
            .iter()
            .flat_map(|p| runs(p).into_iter().map(is_rpc_call))
            .collect();
        // A figure mixing call types says in its note which side each draws.
        let (who, sides) = match (calls.contains(&true), calls.contains(&false)) {
            (true, false) => ("client ", None),
            (false, true) => ("server ", None),
            _ => ("", Some("rpc-call: clients' side, others: servers'")),
        };
        let note = match (plan.note(), sides) {
            (Some(a), Some(b)) => Some(format!("{a}; {b}")),
            (a, b) => a.or(b.map(str::to_string)),
        };
        for (stem, y_label, get) in [
            (
                "rate",
                format!("{who}message rate (msg/s)"),
                (|s: &SideStats| s.rate) as Getter,
            ),
            (
                "latency",
                format!("{who}mean latency (ms)"),
                |s: &SideStats| s.latency.average(),
            ),
        ] {
            let mut lines: Vec<Line> = Vec::new();
            for point in &plan.points {
                let ys: Vec<f64> = runs(point)
                    .into_iter()
                    .filter_map(|r| side(r).and_then(get))
                    .collect();
                if ys.is_empty() {
                    continue;
                }
                let y = ys.iter().sum::<f64>() / ys.len() as f64;
                let label = axes
                    .label(&plan.group, &point.group)
                    .map_or_else(|| line_label(&plan.group, &point.group), str::to_string);
                match lines.last_mut() {
                    Some(line) if line.label == label => line.points.push((point.x, y)),
                    _ => lines.push(Line {
                        label,
                        points: vec![(point.x, y)],
                        band: Vec::new(),
                    }),
                }
            }
            if lines.is_empty() {
                continue;
            }
            let fig = Figure {
                title: Some(figure_title(plan, stem, axes)),
                x_label: axis_label(&plan.x),
                y_label: y_label.clone(),
                lines,
                note: note.clone(),
                ..Figure::default()
            };
            let name = plan
                .figures
                .iter()
                .find(|f| f.starts_with(stem))
                .cloned()
                .unwrap_or_else(|| format!("{stem}_{}", sanitize(&plan.facet_value)));
            figures.push((name, fig));
        }
    }
    figures
}

/// Whether the run's call type is rpc-call (the clients' side is drawn).
fn is_rpc_call(r: &RunResult) -> bool {
    r.params().get("call_type").map(String::as_str) == Some("rpc-call")
}

/// The side a figure draws for a run: the clients' for rpc-call (they
/// time the round trip), the servers' otherwise.
fn side(r: &RunResult) -> Option<&SideStats> {
    if is_rpc_call(r) {
        r.clients.as_ref()
    } else {
        r.servers.as_ref()
    }
}

/// The legend entry of a line: "2 servers" for the default group, else `PARAM = VALUE`.
fn line_label(group: &str, value: &str) -> String {
    let plural = |one: &str| {
        let s = if value.trim() == "1" { "" } else { "s" };
        format!("{value} {one}{s}")
    };
    match group {
        "nbr_servers" => plural("server"),
        "nbr_clients" => plural("client"),
        _ => format!("{group} = {value}"),
    }
}

/// "Number of clients" for the counts of agents, else the parameter's name.
fn axis_label(param: &str) -> String {
    match param {
        "nbr_clients" => "Number of clients".into(),
        "nbr_servers" => "Number of servers".into(),
        _ => param.into(),
    }
}

/// "rpc-call: rate (one line per number of servers)" for the default axes.
fn figure_title(plan: &AxesFigure, stem: &str, axes: &FigureAxes) -> String {
    let facet = if let Some(text) = axes.label(&plan.facet, &plan.facet_value) {
        text.to_string()
    } else if plan.facet == "call_type" {
        plan.facet_value.clone()
    } else {
        format!("{} = {}", plan.facet, plan.facet_value)
    };
    let per = match plan.group.as_str() {
        "nbr_servers" => "number of servers".to_string(),
        "nbr_clients" => "number of clients".to_string(),
        other => other.to_string(),
    };
    format!("{facet}: {stem} (one line per {per})")
}

fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Per run, the clients' and servers' latency distributions as bars at
/// the log10 of each bucket's centre, in two panels of one figure (clients
/// above, servers below, on one x axis), named `latency_dist_<run>` (runs
/// without any latency sample have none; a side without one, no panel).
/// Each as (file stem, title, panels).
pub fn distributions(campaign: &Campaign) -> Vec<(String, String, Vec<StackedBars>)> {
    campaign
        .runs
        .iter()
        .filter(|r| r.ok)
        .map(|r| {
            let panels = [
                ("clients", r.clients.as_ref()),
                ("servers", r.servers.as_ref()),
            ]
            .into_iter()
            .map(|(who, side)| {
                let bars = side
                    .map(|s| s.latency.bars())
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(lo, hi, count)| Bar {
                        x: ((lo + hi) / 2.0).log10(),
                        values: vec![count as f64],
                    })
                    .collect();
                StackedBars {
                    title: Some(format!("{who}, {}", r.run.name)),
                    x_label: "log10 of latency (ms), bucket centre".into(),
                    y_label: "messages".into(),
                    segments: vec![who.into()],
                    bars,
                }
            })
            .filter(|c| !c.bars.is_empty())
            .collect::<Vec<_>>();
            (
                format!("latency_dist_{}", sanitize(&r.run.name)),
                format!("latency distribution, {}", r.run.name),
                panels,
            )
        })
        .filter(|(_, _, panels)| !panels.is_empty())
        .collect()
}

/// Whether a sample is telegraf's whole-host CPU figure (`cpu=cpu-total`).
fn is_total_cpu(s: &Sample) -> bool {
    s.measurement == "cpu" && s.tags.split(',').any(|t| t == "cpu=cpu-total")
}

/// Per run and telemetry field, the samples of each host against time in
/// the run, with the run's window (latest start to latest stop) marked,
/// named `telemetry_<run>_<measurement>_<field>`, with a title.
pub fn telemetry_figures(campaign: &Campaign) -> Vec<(String, String, Figure)> {
    let mut figures = Vec::new();
    for run in campaign.runs.iter().filter(|r| r.ok) {
        let (Some(window), false) = (run.window.as_ref(), run.telemetry.samples.is_empty()) else {
            continue;
        };
        type Hosts = BTreeMap<String, Vec<(f64, f64)>>;
        let mut fields: BTreeMap<(&str, &str), Hosts> = BTreeMap::new();
        let total_cpu = run.telemetry.samples.iter().any(is_total_cpu);
        for s in &run.telemetry.samples {
            // telegraf's cpu plugin: the host's total, not each core, when it is there.
            if total_cpu && s.measurement == "cpu" && !is_total_cpu(s) {
                continue;
            }
            let mut label = match (s.host.is_empty(), s.role.is_empty()) {
                (false, false) => format!("{} ({})", s.host, s.role),
                (false, true) => s.host.clone(),
                (true, false) => s.role.clone(),
                (true, true) => "all".into(),
            };
            if !s.tags.is_empty() && !is_total_cpu(s) {
                label = format!("{label} {}", s.tags);
            }
            fields
                .entry((&s.measurement, &s.field))
                .or_default()
                .entry(label)
                .or_default()
                .push((s.time - window.start, s.value));
        }
        let length = window.stop - window.start;
        let pad = (length * 0.05).max(0.1);
        for ((measurement, field), hosts) in fields {
            let lines = hosts
                .into_iter()
                .map(|(label, mut points)| {
                    points.sort_by(|a, b| a.0.total_cmp(&b.0));
                    Line {
                        label,
                        points,
                        band: Vec::new(),
                    }
                })
                .collect();
            let figure = Figure {
                x_label: "Time since the run started (s)".into(),
                y_label: format!("{measurement}.{field}"),
                x_range: Some((-pad, length + pad)),
                lines,
                markers: vec![
                    VMarker {
                        x: 0.0,
                        label: Some("run start".into()),
                    },
                    VMarker {
                        x: length,
                        label: Some("run stop".into()),
                    },
                ],
                ..Figure::default()
            };
            let stem = format!(
                "telemetry_{}_{}_{}",
                sanitize(&run.run.name),
                sanitize(measurement),
                sanitize(field)
            );
            let title = format!("Telemetry of {}: {measurement}.{field}", run.run.name);
            figures.push((stem, title, figure));
        }
    }
    figures
}
