//! The failover study's tidy tables.

use super::{fields, Campaign, Options, RunResult};
use expost_ops::traffic::Metric;
use expost_render::table::{ColumnData, DictBuilder, Table};
use std::collections::BTreeSet;

/// Every parameter name used by any run, sorted.
pub fn param_names(campaign: &Campaign) -> Vec<String> {
    let names: BTreeSet<&String> = campaign.runs.iter().flat_map(|r| r.params.keys()).collect();
    names.into_iter().cloned().collect()
}

/// Columns that describe the run of each row.
struct RunColumns {
    params: Vec<(String, DictBuilder)>,
    trial: DictBuilder,
}

impl RunColumns {
    fn new(names: &[String]) -> Self {
        RunColumns {
            params: names
                .iter()
                .map(|n| (n.clone(), DictBuilder::default()))
                .collect(),
            trial: DictBuilder::default(),
        }
    }

    fn push_n(&mut self, run: &RunResult, n: usize) {
        for (name, column) in &mut self.params {
            column.push_n(run.params.get(name).map_or("", String::as_str), n);
        }
        self.trial.push_n(&run.trial, n);
    }

    fn into_table(self) -> Table {
        let mut table = Table::default();
        for (name, column) in self.params {
            table.push(name, column.finish());
        }
        table.push("trial", self.trial.finish());
        table
    }
}

/// Rows a piece of `series` holds at most (unless one run has more): one
/// Parquet row group.
pub const PIECE_ROWS: usize = 1 << 16;

/// `series` in pieces of whole runs, at most [`PIECE_ROWS`] rows each
/// (unless one run has more; at least one piece), so the table is never
/// held whole.
pub fn series_pieces<'a>(
    campaign: &'a Campaign,
    options: &'a Options,
    per_flow: bool,
) -> impl Iterator<Item = Table> + 'a {
    pieces_of(campaign, options, per_flow, PIECE_ROWS)
}

/// [`series_pieces`] with pieces of at most `piece_rows` rows.
fn pieces_of<'a>(
    campaign: &'a Campaign,
    options: &'a Options,
    per_flow: bool,
    piece_rows: usize,
) -> impl Iterator<Item = Table> + 'a {
    let names = param_names(campaign);
    let ok: Vec<&RunResult> = campaign.runs.iter().filter(|r| r.ok).collect();
    let mut groups: Vec<Vec<&RunResult>> = vec![Vec::new()];
    let mut rows: usize = 0;
    for run in ok {
        let run_rows = series_rows(std::slice::from_ref(&run), per_flow);
        let group = groups.last_mut().expect("one group at least");
        if !group.is_empty() && rows.saturating_add(run_rows) > piece_rows {
            groups.push(Vec::new());
            rows = 0;
        }
        rows += run_rows;
        groups.last_mut().expect("one group at least").push(run);
    }
    groups
        .into_iter()
        .map(move |runs| series_of(&runs, &names, options, per_flow))
}

/// The `series` rows of `runs`: one row per run, metric and epoch of the
/// flows combined (flow `all`), and with `per_flow` of each flow too; a
/// column per parameter in `names`.
fn series_of(runs: &[&RunResult], names: &[String], options: &Options, per_flow: bool) -> Table {
    let mut run_columns = RunColumns::new(names);
    let mut flow = DictBuilder::default();
    let mut metric_column = DictBuilder::default();
    let mut unit = DictBuilder::default();
    let capacity = series_rows(runs, per_flow);
    let mut time = Vec::with_capacity(capacity);
    let mut value = Vec::with_capacity(capacity);
    for run in runs {
        let before = time.len();
        for f in run.flows.iter().filter(|_| per_flow) {
            let label = f.number.to_string();
            for metric in Metric::ALL {
                let side = if metric.from_receiver() {
                    &f.receiver
                } else {
                    &f.sender
                };
                let mut rows = 0;
                for (&k, totals) in side {
                    if let Some(v) = totals.metric(metric) {
                        time.push(options.grid.time_of(k));
                        value.push(v);
                        rows += 1;
                    }
                }
                flow.push_n(&label, rows);
                metric_column.push_n(metric.name(), rows);
                unit.push_n(metric.unit().as_str(), rows);
            }
        }
        for metric in Metric::ALL {
            let values = run.series(metric);
            for (&k, &v) in &values {
                time.push(options.grid.time_of(k));
                value.push(v);
            }
            flow.push_n("all", values.len());
            metric_column.push_n(metric.name(), values.len());
            unit.push_n(metric.unit().as_str(), values.len());
        }
        for (name, values) in &run.fields {
            for (&k, &v) in values {
                time.push(options.grid.time_of(k));
                value.push(v);
            }
            flow.push_n("all", values.len());
            metric_column.push_n(&fields::metric_name(name), values.len());
            unit.push_n(fields::unit_of(name), values.len());
        }
        for (name, series) in &run.overlays {
            for (&k, &v) in &series.epochs {
                time.push(options.grid.time_of(k));
                value.push(v);
            }
            let n = series.epochs.len();
            flow.push_n("all", n);
            metric_column.push_n(name, n);
            unit.push_n(series.unit.as_deref().unwrap_or(""), n);
        }
        run_columns.push_n(run, time.len() - before);
    }
    let mut table = run_columns.into_table();
    table.push("flow", flow.finish());
    table.push("metric", metric_column.finish());
    table.push_with_unit("time", ColumnData::Number(time), "s");
    table.push("value", ColumnData::Number(value));
    table.push("unit", unit.finish());
    table
}

/// How many rows `series` will hold for `runs` (to allocate once).
fn series_rows(runs: &[&RunResult], per_flow: bool) -> usize {
    runs.iter()
        .map(|run| {
            let combined = run.sender.len() + run.receiver.len();
            let flows: usize = if per_flow {
                run.flows
                    .iter()
                    .map(|f| f.sender.len() + f.receiver.len())
                    .sum()
            } else {
                0
            };
            (combined + flows) * Metric::ALL.len() / 2
        })
        .sum()
}

/// `runs`: one row per run folder, failed ones included.
pub fn runs(campaign: &Campaign) -> Table {
    let names = param_names(campaign);
    let mut run_columns = RunColumns::new(&names);
    let mut path = DictBuilder::default();
    let mut proto = DictBuilder::default();
    let (mut flows, mut lost, mut packets) = (Vec::new(), Vec::new(), Vec::new());
    let (mut anchor, mut loss_pct, mut outage_start, mut outage_ms) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut ok = Vec::new();
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    for run in &campaign.runs {
        run_columns.push_n(run, 1);
        path.push(&run.rel);
        proto.push(run.proto.map_or("", |p| p.as_str()));
        flows.push(Some(run.flows.len() as i64));
        lost.push(run.lost.map(|v| v as i64));
        packets.push(run.packets.map(|v| v as i64));
        anchor.push(run.anchor_epoch);
        loss_pct.push(match (run.lost, run.packets) {
            (Some(l), Some(p)) if p > 0 => Some(100.0 * l as f64 / p as f64),
            _ => None,
        });
        outage_start.push(run.outage.map(|o| o.start));
        outage_ms.push(run.outage.map(|o| o.duration * 1e3));
        ok.push(run.ok);
        let (run_errors, run_warnings, _) = severity_counts(run.diagnostics.items());
        errors.push(Some(run_errors as i64));
        warnings.push(Some(run_warnings as i64));
    }
    let mut table = run_columns.into_table();
    table.push("run", path.finish());
    table.push("proto", proto.finish());
    table.push("flows", ColumnData::Int(flows));
    table.push_with_unit("anchor_epoch", ColumnData::Float(anchor), "s");
    table.push("lost", ColumnData::Int(lost));
    table.push("packets", ColumnData::Int(packets));
    table.push_with_unit("loss_pct", ColumnData::Float(loss_pct), "%");
    table.push_with_unit("outage_start_s", ColumnData::Float(outage_start), "s");
    table.push_with_unit("outage_ms", ColumnData::Float(outage_ms), "ms");
    table.push("ok", ColumnData::Bool(ok));
    table.push("errors", ColumnData::Int(errors));
    table.push("warnings", ColumnData::Int(warnings));
    table
}

/// `configs`: one row per configuration with analysed runs: its
/// parameters, protocol, trials and the outage across trials.
pub fn configs(campaign: &Campaign) -> Table {
    let names = param_names(campaign);
    let mut params: Vec<DictBuilder> = names.iter().map(|_| DictBuilder::default()).collect();
    let mut proto = DictBuilder::default();
    let mut trials = Vec::new();
    let mut spreads: [Vec<Option<f64>>; 4] = Default::default();
    for config in &campaign.configs {
        for (builder, name) in params.iter_mut().zip(&names) {
            builder.push(config.params.get(name).map_or("", String::as_str));
        }
        proto.push(config.proto.map_or("", |p| p.as_str()));
        trials.push(Some(config.runs.len() as i64));
        let outage = config.outage_ms;
        let values = [
            outage.map(|s| s.median),
            outage.map(|s| s.min),
            outage.map(|s| s.max),
            config.outage_start_s.map(|s| s.median),
        ];
        for (column, v) in spreads.iter_mut().zip(values) {
            column.push(v);
        }
    }
    let mut table = Table::default();
    for (builder, name) in params.into_iter().zip(&names) {
        table.push(name.clone(), builder.finish());
    }
    table.push("proto", proto.finish());
    table.push("trials", ColumnData::Int(trials));
    let [median, min, max, start] = spreads;
    table.push_with_unit("outage_ms_median", ColumnData::Float(median), "ms");
    table.push_with_unit("outage_ms_min", ColumnData::Float(min), "ms");
    table.push_with_unit("outage_ms_max", ColumnData::Float(max), "ms");
    table.push_with_unit("outage_start_s_median", ColumnData::Float(start), "s");
    table
}

/// `bands`: per configuration, metric and epoch, the spread across trials.
pub fn bands(campaign: &Campaign, options: &Options) -> Table {
    let names = param_names(campaign);
    let mut params: Vec<DictBuilder> = names.iter().map(|_| DictBuilder::default()).collect();
    let (mut metric_column, mut unit) = (DictBuilder::default(), DictBuilder::default());
    let mut columns: [Vec<Option<f64>>; 7] = Default::default();
    let mut n = Vec::new();
    for config in &campaign.configs {
        let fixed =
            (config.bands.iter()).map(|(m, b)| (m.name().to_string(), m.unit().as_str(), b));
        let extra = (config.field_bands.iter())
            .map(|(name, b)| (fields::metric_name(name), fields::unit_of(name), b));
        let overlays = (config.overlay_bands.iter())
            .map(|(name, (u, b))| (name.clone(), u.as_deref().unwrap_or(""), b));
        for (metric, metric_unit, points) in fixed.chain(extra).chain(overlays) {
            for (&k, p) in points {
                for (builder, name) in params.iter_mut().zip(&names) {
                    builder.push(config.params.get(name).map_or("", String::as_str));
                }
                metric_column.push(&metric);
                unit.push(metric_unit);
                n.push(Some(p.n as i64));
                let values = [
                    options.grid.time_of(k),
                    p.median,
                    p.min,
                    p.max,
                    p.mean,
                    p.ci_low,
                    p.ci_high,
                ];
                for (column, v) in columns.iter_mut().zip(values) {
                    column.push(Some(v));
                }
            }
        }
    }
    let mut table = Table::default();
    for (builder, name) in params.into_iter().zip(&names) {
        table.push(name.clone(), builder.finish());
    }
    table.push("metric", metric_column.finish());
    let [time, median, min, max, mean, ci_low, ci_high] = columns;
    table.push_with_unit("time", ColumnData::Float(time), "s");
    table.push("trials", ColumnData::Int(n));
    table.push("median", ColumnData::Float(median));
    table.push("min", ColumnData::Float(min));
    table.push("max", ColumnData::Float(max));
    table.push("mean", ColumnData::Float(mean));
    table.push("ci95_low", ColumnData::Float(ci_low));
    table.push("ci95_high", ColumnData::Float(ci_high));
    table.push("unit", unit.finish());
    table
}

/// How many of `items` are errors, warnings and notes.
fn severity_counts(items: &[expost_model::Diagnostic]) -> (usize, usize, usize) {
    use expost_model::Severity;
    items
        .iter()
        .fold((0, 0, 0), |(e, w, n), d| match d.severity {
            Severity::Error => (e + 1, w, n),
            Severity::Warning => (e, w + 1, n),
            Severity::Note => (e, w, n + 1),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failover;
    use expost_formats::campaign::Layout;
    use expost_render::table::Csv;

    /// The bundled example campaign, analysed.
    fn example() -> (Campaign, Options) {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/failover");
        let (runs, diagnostics) = failover::find_runs(&root);
        let options = Options::default();
        let results = failover::analyse_campaign(&runs, &Layout::Flightplan, &options, &|| ());
        let configs = failover::group_configs(&results);
        let campaign = Campaign {
            runs: results,
            configs,
            diagnostics,
        };
        (campaign, options)
    }

    #[test]
    fn series_in_small_pieces_is_the_same_csv_as_in_one() {
        let (campaign, options) = example();
        for per_flow in [false, true] {
            let csv = |piece_rows: usize| {
                let mut out = Vec::new();
                let mut pieces = pieces_of(&campaign, &options, per_flow, piece_rows);
                Csv.write_pieces_to(&mut pieces, &mut out).unwrap();
                out
            };
            let runs = campaign.runs.iter().filter(|r| r.ok).count();
            assert!(runs > 2);
            assert_eq!(pieces_of(&campaign, &options, per_flow, 1).count(), runs);
            assert_eq!(
                pieces_of(&campaign, &options, per_flow, usize::MAX).count(),
                1
            );
            let whole = csv(usize::MAX);
            assert!(whole.len() > 10_000);
            assert!(csv(1) == whole, "per_flow {per_flow}");
        }
    }
}
