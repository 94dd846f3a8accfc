//! The iperf3 study's tables (`runs`, `configs`, `series`) and figures
//! (throughput over time, summary metrics against `--x`, per-flow
//! throughput CDFs).

use super::{Campaign, ConfigResult, Options, Summary, METRICS, RECEIVED, SENT, SERIES};
use expost_model::{Params, Severity};
use expost_ops::band::BandPoint;
use expost_ops::traffic::Metric;
use expost_render::figure::{Figure, Line};
use expost_render::table::{ColumnData, DictBuilder, Table};
use std::collections::{BTreeMap, BTreeSet};

/// Every parameter name of any run, sorted.
pub fn param_names(campaign: &Campaign) -> Vec<String> {
    let names: BTreeSet<&String> = campaign.runs.iter().flat_map(|r| r.params.keys()).collect();
    names.into_iter().cloned().collect()
}

/// Text columns filled row by row, then finished into a table in order.
struct Columns(Vec<(String, DictBuilder)>);

impl Columns {
    fn new(names: &[String], more: &[&str]) -> Columns {
        let all = names.iter().map(String::as_str).chain(more.iter().copied());
        Columns(
            all.map(|n| (n.to_string(), DictBuilder::default()))
                .collect(),
        )
    }

    fn push(&mut self, params: &Params, names: &[String], values: &[&str]) {
        let (param_columns, rest) = self.0.split_at_mut(names.len());
        for ((_, column), name) in param_columns.iter_mut().zip(names) {
            column.push(params.get(name).map_or("", String::as_str));
        }
        for ((_, column), value) in rest.iter_mut().zip(values) {
            column.push(value);
        }
    }

    fn finish(self) -> Table {
        let mut table = Table::default();
        for (name, column) in self.0 {
            table.push(name, column.finish());
        }
        table
    }
}

/// `runs`: per run its summary (flow `all`), then one row per flow.
pub fn runs(campaign: &Campaign) -> Table {
    let names = param_names(campaign);
    let mut text = Columns::new(
        &names,
        &["trial", "path", "flow", "file", "server_file", "proto"],
    );
    let (mut ok, mut errors, mut warnings) = (Vec::new(), Vec::new(), Vec::new());
    let mut metrics: Vec<Vec<Option<f64>>> = vec![Vec::new(); METRICS.len()];
    for run in &campaign.runs {
        let count = |s: Severity| {
            Some(
                run.diagnostics
                    .items()
                    .iter()
                    .filter(|d| d.severity == s)
                    .count() as i64,
            )
        };
        let proto = |p: Option<expost_formats::iperf3_json::Protocol>| p.map_or("", |p| p.as_str());
        let all = ("all", "", "", proto(run.proto), &run.total);
        let flows = run.flows.iter().map(|f| {
            (
                f.label.as_str(),
                f.file.as_str(),
                f.server_file.as_deref().unwrap_or(""),
                proto(f.proto),
                &f.summary,
            )
        });
        for (flow, file, server, proto, summary) in std::iter::once(all).chain(flows) {
            text.push(
                &run.params,
                &names,
                &[&run.trial, &run.rel, flow, file, server, proto],
            );
            for (column, value) in metrics.iter_mut().zip(summary) {
                column.push(*value);
            }
            ok.push(run.ok);
            errors.push(count(Severity::Error));
            warnings.push(count(Severity::Warning));
        }
    }
    let mut table = text.finish();
    table.push("ok", ColumnData::Bool(ok));
    for ((name, unit), values) in METRICS.iter().zip(metrics) {
        table.push_with_unit(*name, ColumnData::Float(values), unit);
    }
    table.push("errors", ColumnData::Int(errors));
    table.push("warnings", ColumnData::Int(warnings));
    table
}

/// `configs`: per configuration and summary metric, its spread across trials.
pub fn configs(campaign: &Campaign) -> Table {
    let names = param_names(campaign);
    let mut text = Columns::new(&names, &["proto", "metric", "unit"]);
    let (mut trials, mut n) = (Vec::new(), Vec::new());
    let mut columns: [Vec<Option<f64>>; 6] = Default::default();
    for config in &campaign.configs {
        for ((name, unit), stat) in METRICS.iter().zip(&config.stats) {
            let Some(p) = stat else { continue };
            text.push(
                &config.params,
                &names,
                &[config.proto.map_or("", |p| p.as_str()), name, unit],
            );
            trials.push(Some(config.runs.len() as i64));
            n.push(Some(p.n as i64));
            let values = [p.median, p.min, p.max, p.mean, p.ci_low, p.ci_high];
            for (column, v) in columns.iter_mut().zip(values) {
                column.push(Some(v));
            }
        }
    }
    let mut table = text.finish();
    table.push("trials", ColumnData::Int(trials));
    table.push("n", ColumnData::Int(n));
    for (name, values) in ["median", "min", "max", "mean", "ci95_low", "ci95_high"]
        .into_iter()
        .zip(columns)
    {
        table.push(name, ColumnData::Float(values));
    }
    table
}

/// `series`: per run, flow (and `all`, the flows combined), interval metric
/// and epoch, the value.
pub fn series(campaign: &Campaign, options: &Options) -> Table {
    let names = param_names(campaign);
    let mut text = Columns::new(&names, &["trial", "flow", "metric", "unit"]);
    let (mut time, mut value) = (Vec::new(), Vec::new());
    for run in campaign.runs.iter().filter(|r| r.ok) {
        for &(name, metric) in &SERIES {
            let (scale, unit) = if metric == Metric::Loss {
                (100.0, "%")
            } else {
                (1.0, metric.unit().as_str())
            };
            let flows = run.flows.iter().map(|f| {
                let epochs = if metric.from_receiver() {
                    &f.received
                } else {
                    &f.sent
                };
                let values = epochs
                    .iter()
                    .filter_map(|(&k, t)| Some((k, t.metric(metric)?)))
                    .collect();
                (f.label.as_str(), values)
            });
            for (flow, values) in flows.chain([("all", run.series(metric))]) {
                let values: BTreeMap<i64, f64> = values;
                for (&k, &v) in &values {
                    text.push(&run.params, &names, &[&run.trial, flow, name, unit]);
                    time.push(options.grid.time_of(k));
                    value.push(v * scale);
                }
            }
        }
    }
    let mut table = text.finish();
    let unit = table.columns.pop().expect("the unit column");
    table.push("time", ColumnData::Number(time));
    table.push("value", ColumnData::Number(value));
    table.columns.push(unit);
    table
}

/// Scale and axis label of a summary metric, given its largest value.
fn axis(index: usize, largest: f64) -> (f64, String) {
    let (name, unit) = METRICS[index];
    let name = name.trim_end_matches("_pct").replace('_', " ");
    match unit {
        "bit/s" if largest >= 2e9 => (1e-9, format!("{name} (Gbit/s)")),
        "bit/s" => (1e-6, format!("{name} (Mbit/s)")),
        _ => (1.0, format!("{name} ({unit})")),
    }
}

/// A legend label per parameter set: the parameters (but `skip`) that
/// differ between them, or all of them when none differ.
fn labels(sets: &[&Params], skip: Option<&str>) -> Vec<String> {
    let shown = |k: &String| Some(k.as_str()) != skip;
    let varying: Vec<&String> = sets
        .iter()
        .flat_map(|p| p.keys())
        .filter(|k| shown(k) && sets.iter().any(|q| q.get(*k) != sets[0].get(*k)))
        .collect();
    let label = |p: &Params| {
        let parts = p
            .iter()
            .filter(|(k, _)| shown(k) && (varying.is_empty() || varying.contains(k)));
        parts
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    sets.iter().map(|p| label(p)).collect()
}

/// A line and its band from `(x, point)`s; a NaN point breaks both.
fn line(
    label: String,
    points: &[(f64, Option<&BandPoint>)],
    options: &Options,
    scale: f64,
) -> Line {
    let mut line = Line {
        label,
        ..Line::default()
    };
    for &(x, p) in points {
        let (centre, low, high) =
            p.map_or((f64::NAN, f64::NAN, f64::NAN), |p| p.pick(options.band));
        line.points.push((x, centre * scale));
        line.band.push((x, low * scale, high * scale));
    }
    line
}

/// Every figure there is data for: file name, title, figure.
pub fn figures(campaign: &Campaign, options: &Options) -> Vec<(String, String, Figure)> {
    let mut figures = Vec::new();
    let drawn: Vec<&ConfigResult> = (campaign.configs.iter())
        .filter(|c| options.draws(&c.params))
        .collect();
    let all: Vec<&Params> = drawn.iter().map(|c| &c.params).collect();
    let config_labels: Vec<String> = labels(&all, None)
        .into_iter()
        .zip(&all)
        .map(|(label, params)| options.label_of(params).map_or(label, str::to_string))
        .collect();
    for (side, index) in [(0, SENT), (1, RECEIVED)] {
        let with: Vec<(&ConfigResult, &String)> = drawn
            .iter()
            .copied()
            .zip(&config_labels)
            .filter(|(c, _)| !c.bands[side].is_empty())
            .collect();
        let largest = with
            .iter()
            .flat_map(|(c, _)| c.bands[side].values().map(|p| p.max))
            .fold(0.0, f64::max);
        let (scale, y_label) = axis(index, largest);
        let lines: Vec<Line> = with
            .iter()
            .map(|(c, label)| {
                let (mut points, mut previous) = (Vec::new(), None);
                for (&k, p) in &c.bands[side] {
                    if previous.is_some_and(|prev| k != prev + 1) {
                        points.push((f64::NAN, None)); // a gap breaks the line
                    }
                    points.push((options.grid.time_of(k), Some(p)));
                    previous = Some(k);
                }
                line((*label).clone(), &points, options, scale)
            })
            .collect();
        if !lines.is_empty() {
            let name = METRICS[index].0;
            let figure = Figure {
                x_label: "Time since the test started (s)".into(),
                y_label,
                lines,
                ..Figure::default()
            };
            figures.push((
                format!("{name}_over_time"),
                format!("{} over time", name.replace('_', " ")),
                figure,
            ));
        }
    }
    if let Some(x) = &options.x {
        figures.extend(against(campaign, x, options));
    }
    for index in [SENT, RECEIVED] {
        let mut largest: f64 = 0.0;
        let mut lines = Vec::new();
        for (config, label) in drawn.iter().copied().zip(&config_labels) {
            let flows = config.runs.iter().flat_map(|&i| &campaign.runs[i].flows);
            let mut values: Vec<f64> = flows.filter_map(|f| f.summary[index]).collect();
            values.sort_by(f64::total_cmp);
            largest = values.iter().copied().fold(largest, f64::max);
            let n = values.len() as f64;
            let steps = values
                .iter()
                .enumerate()
                .flat_map(|(i, &v)| [(v, i as f64 / n), (v, (i + 1) as f64 / n)]);
            let points: Vec<(f64, f64)> = steps.collect();
            if !points.is_empty() {
                lines.push(Line {
                    label: label.clone(),
                    points,
                    band: Vec::new(),
                });
            }
        }
        let (scale, x_label) = axis(index, largest);
        for line in &mut lines {
            line.points.iter_mut().for_each(|p| p.0 *= scale);
        }
        if !lines.is_empty() {
            let name = METRICS[index].0;
            let figure = Figure {
                x_label: format!("Per-flow {x_label}"),
                y_label: "Fraction of flows".into(),
                y_range: Some((0.0, 1.0)),
                lines,
                ..Figure::default()
            };
            figures.push((
                format!("{name}_cdf"),
                format!("Per-flow {} (CDF)", name.replace('_', " ")),
                figure,
            ));
        }
    }
    figures
}

/// Each summary metric against the numeric parameter `x`: one line per
/// combination of the other parameters (none when `x` is not numeric).
fn against(campaign: &Campaign, x: &str, options: &Options) -> Vec<(String, String, Figure)> {
    let drawn: Vec<&ConfigResult> = (campaign.configs.iter())
        .filter(|c| options.draws(&c.params))
        .collect();
    let xs: Option<Vec<f64>> = drawn
        .iter()
        .map(|c| c.params.get(x)?.parse().ok())
        .collect();
    let Some(xs) = xs else { return Vec::new() };
    let mut groups: BTreeMap<Params, Vec<(f64, &ConfigResult)>> = BTreeMap::new();
    for (&value, &config) in xs.iter().zip(&drawn) {
        let mut others = config.params.clone();
        others.remove(x);
        groups.entry(others).or_default().push((value, config));
    }
    let keys: Vec<&Params> = groups.keys().collect();
    let group_labels: Vec<String> = labels(&keys, Some(x))
        .into_iter()
        .zip(&keys)
        .map(|(label, params)| options.label_of(params).map_or(label, str::to_string))
        .collect();
    let mut figures = Vec::new();
    for (index, &(name, _)) in METRICS.iter().enumerate() {
        let largest = drawn
            .iter()
            .filter_map(|c| c.stats[index].map(|p| p.max))
            .fold(f64::NAN, f64::max);
        if largest.is_nan() {
            continue;
        }
        let (scale, y_label) = axis(index, largest);
        let lines = groups.values().zip(&group_labels).map(|(members, label)| {
            let mut points: Vec<(f64, Option<&BandPoint>)> = members
                .iter()
                .map(|(v, c)| (*v, c.stats[index].as_ref()))
                .filter(|(_, p)| p.is_some())
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            line(
                if label.is_empty() {
                    "all".into()
                } else {
                    label.clone()
                },
                &points,
                options,
                scale,
            )
        });
        let lines: Vec<Line> = lines.filter(|l| !l.points.is_empty()).collect();
        let figure = Figure {
            x_label: x.into(),
            y_label,
            lines,
            ..Figure::default()
        };
        figures.push((
            format!("{name}_vs_{x}"),
            format!("{} against {x}", name.replace('_', " ")),
            figure,
        ));
    }
    figures
}

/// One row of summary values as text for the terminal (`-` when empty).
pub fn cell(summary: &Summary, index: usize, scale: f64, digits: usize) -> String {
    summary[index].map_or("-".into(), |v| format!("{:.digits$}", v * scale))
}
