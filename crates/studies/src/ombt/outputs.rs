//! What `expost ombt -o DIR` writes, as data: the runs and series tables,
//! the notebook's figures against the number of clients, each run's
//! latency distribution and telemetry figures.

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

fn number(r: &RunResult, key: &str) -> Option<f64> {
    r.params().get(key).and_then(|v| v.parse().ok())
}

/// The notebook's four plots, for every call type: rate and latency against
/// the number of clients, one line per number of servers (the clients'
/// side for rpc-call, the servers' otherwise; runs with the same x
/// averaged); named `rate_<call type>` and `latency_<call type>`.
pub fn client_figures(campaign: &Campaign) -> Vec<(String, Figure)> {
    let mut by_call: BTreeMap<String, Vec<&RunResult>> = BTreeMap::new();
    for r in campaign.runs.iter().filter(|r| r.ok) {
        by_call
            .entry(
                r.params()
                    .get("call_type")
                    .cloned()
                    .unwrap_or_else(|| "unknown".into()),
            )
            .or_default()
            .push(r);
    }
    let mut figures = Vec::new();
    for (call, runs) in by_call {
        let side = |r: &RunResult| {
            if call == "rpc-call" {
                r.clients.clone()
            } else {
                r.servers.clone()
            }
        };
        let who = if call == "rpc-call" {
            "client"
        } else {
            "server"
        };
        for (stem, y_label, get) in [
            (
                "rate",
                format!("{who} message rate (msg/s)"),
                (|s: &SideStats| s.rate) as Getter,
            ),
            (
                "latency",
                format!("{who} mean latency (ms)"),
                |s: &SideStats| s.latency.average(),
            ),
        ] {
            let mut lines: BTreeMap<i64, BTreeMap<i64, Vec<f64>>> = BTreeMap::new();
            for r in &runs {
                let servers =
                    number(r, "nbr_servers").or(r.servers.as_ref().map(|s| s.agents as f64));
                let clients =
                    number(r, "nbr_clients").or(r.clients.as_ref().map(|s| s.agents as f64));
                if let (Some(ns), Some(nc), Some(y)) =
                    (servers, clients, side(r).as_ref().and_then(get))
                {
                    lines
                        .entry(ns as i64)
                        .or_default()
                        .entry(nc as i64)
                        .or_default()
                        .push(y);
                }
            }
            if lines.is_empty() {
                continue;
            }
            let fig = Figure {
                title: Some(format!("{call}: {stem} (one line per number of servers)")),
                x_label: "Number of clients".into(),
                y_label: y_label.clone(),
                lines: lines
                    .into_iter()
                    .map(|(ns, points)| Line {
                        label: format!("{ns} server{}", if ns == 1 { "" } else { "s" }),
                        points: points
                            .into_iter()
                            .map(|(x, ys)| (x as f64, ys.iter().sum::<f64>() / ys.len() as f64))
                            .collect(),
                        band: Vec::new(),
                    })
                    .collect(),
                ..Figure::default()
            };
            figures.push((format!("{stem}_{}", sanitize(&call)), fig));
        }
    }
    figures
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

/// Per run, the clients' and servers' latency distributions as bars at the
/// log10 of each bucket's centre, named `latency_dist_<run>` (runs without
/// any latency sample have none).
pub fn distributions(campaign: &Campaign) -> Vec<(String, StackedBars)> {
    campaign
        .runs
        .iter()
        .filter(|r| r.ok)
        .map(|r| {
            let mut bars: BTreeMap<i64, [f64; 2]> = BTreeMap::new();
            for (i, side) in [r.clients.as_ref(), r.servers.as_ref()]
                .into_iter()
                .enumerate()
            {
                for (lo, hi, count) in side.map(|s| s.latency.bars()).unwrap_or_default() {
                    let key = (((lo + hi) / 2.0).log10() * 1e6).round() as i64;
                    bars.entry(key).or_insert([0.0; 2])[i] += count as f64;
                }
            }
            let chart = StackedBars {
                title: Some(format!("latency distribution, {}", r.run.name)),
                x_label: "log10 of latency (ms), bucket centre".into(),
                y_label: "messages".into(),
                segments: vec!["clients".into(), "servers".into()],
                bars: bars
                    .into_iter()
                    .map(|(k, v)| Bar {
                        x: k as f64 / 1e6,
                        values: v.to_vec(),
                    })
                    .collect(),
            };
            (format!("latency_dist_{}", sanitize(&r.run.name)), chart)
        })
        .filter(|(_, c)| !c.bars.is_empty())
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
