//! What `expost sweep` writes: the spec, the sweep table (one row per
//! simulation, the same columns in CSV and Parquet), and for a whole sweep
//! the summaries per grid point, the best intervals, and their figures.

use super::{names_interval, SpecFile, SweepResult};
use crate::choice::{names_number, FigureChoice};
use crate::table_builder::TableBuilder;
use expost_render::bars::{render_bars_at, Bar, StackedBars};
use expost_render::figure::{Figure, Line, PaperSize};
use expost_render::output::{Kind, Output, OutputError};
use expost_render::table::Table;
use expost_sim::engine::Strategy;
use expost_sim::metrics::TimeSplit;
use expost_sim::sweep::{Optimum, PointSummary, SweepRecord};
use expost_sim::trace_stats::Summary;
use std::collections::BTreeSet;

/// The figures' size.
const SIZE: PaperSize = PaperSize::Page;

/// The spec and the sweep table; for a whole sweep (not a shard) the
/// points, the optima and the figures too.
pub(super) fn outputs<'a>(result: &'a SweepResult, choice: &FigureChoice) -> Vec<Output<'a>> {
    let mut outputs = vec![
        Output::json(
            "sweep-spec",
            "Sweep specification (what `expost sweep merge` checks)",
            Kind::Json,
            move || {
                serde_json::to_vec_pretty(&SpecFile::of(result)).map_err(|source| {
                    OutputError::Json {
                        name: "sweep-spec".into(),
                        source,
                    }
                })
            },
        ),
        Output::table("sweep", "One row per simulation", true, move || {
            sweep_table(&result.records)
        }),
    ];
    if result.shard.is_whole() {
        outputs.push(Output::table(
            "points",
            "Median and p5/p95 per grid point",
            false,
            move || points_table(&result.summaries),
        ));
        outputs.push(Output::table(
            "optima",
            "Best searched checkpoint interval per strategy and rate",
            false,
            move || optima_table(&result.optima),
        ));
        outputs.extend(figures(&result.summaries, choice));
    }
    outputs
}

/// `sweep`: one row per simulation, the columns `expost sweep merge` reads
/// back (those of [`expost_sim::sweep::FlatRecord`]).
pub fn sweep_table(records: &[SweepRecord]) -> Table {
    let r = records;
    let float = |f: fn(&SweepRecord) -> f64| r.iter().map(f).collect::<Vec<f64>>();
    let int = |f: fn(&SweepRecord) -> u64| r.iter().map(|x| f(x) as i64).collect::<Vec<i64>>();
    TableBuilder::default()
        .int("point", int(|x| u64::from(x.point)))
        .int("seed_index", int(|x| u64::from(x.seed_index)))
        .text("strategy", r.iter().map(|x| x.strategy.name()))
        .float("rate_per_node_hour", float(|x| x.rate_per_node_hour))
        .float("checkpoint_interval_s", float(|x| x.checkpoint_interval_s))
        .float("wall_s", float(|x| x.result.wall_s))
        .float("iterations", float(|x| x.result.iterations))
        .float("samples", float(|x| x.result.samples))
        .float("throughput", float(|x| x.result.throughput))
        .float("useful_s", float(|x| x.result.split.useful_s))
        .float(
            "reconfiguration_s",
            float(|x| x.result.split.reconfiguration_s),
        )
        .float("rollback_s", float(|x| x.result.split.rollback_s))
        .float(
            "checkpoint_stall_s",
            float(|x| x.result.split.checkpoint_stall_s),
        )
        .float("waiting_s", float(|x| x.result.split.waiting_s))
        .int("preemptions", int(|x| x.result.preemptions))
        .int("additions", int(|x| x.result.additions))
        .int("reconfigurations", int(|x| x.result.reconfigurations))
        .int("rollbacks", int(|x| x.result.rollbacks))
        .int("checkpoints", int(|x| x.result.checkpoints))
        .float("mean_instances", float(|x| x.result.mean_instances))
        .float("node_hours", float(|x| x.result.node_hours))
        .float("cost_spot", float(|x| x.result.cost_spot))
        .float("cost_on_demand", float(|x| x.result.cost_on_demand))
        .float("samples_per_dollar", float(|x| x.result.samples_per_dollar))
        .build()
}

/// `points`: statistics across the seeds of each grid point.
fn points_table(s: &[PointSummary]) -> Table {
    TableBuilder::default()
        .text("strategy", s.iter().map(|x| x.point.strategy.name()))
        .float("rate_per_node_hour", s.iter().map(|x| x.point.rate))
        .float(
            "checkpoint_interval_s",
            s.iter().map(|x| x.point.interval_s),
        )
        .int("seeds", s.iter().map(|x| x.throughput.n as i64))
        .float("throughput_median", s.iter().map(|x| x.throughput.median))
        .float("throughput_p5", s.iter().map(|x| x.throughput.p5))
        .float("throughput_p95", s.iter().map(|x| x.throughput.p95))
        .float(
            "value_median",
            s.iter().map(|x| x.samples_per_dollar.median),
        )
        .float("value_p5", s.iter().map(|x| x.samples_per_dollar.p5))
        .float("value_p95", s.iter().map(|x| x.samples_per_dollar.p95))
        .float("wasted_fraction_mean", s.iter().map(|x| x.wasted_fraction))
        .float("useful_s_mean", s.iter().map(|x| x.split_mean.useful_s))
        .float(
            "reconfiguration_s_mean",
            s.iter().map(|x| x.split_mean.reconfiguration_s),
        )
        .float("rollback_s_mean", s.iter().map(|x| x.split_mean.rollback_s))
        .float(
            "checkpoint_stall_s_mean",
            s.iter().map(|x| x.split_mean.checkpoint_stall_s),
        )
        .float("waiting_s_mean", s.iter().map(|x| x.split_mean.waiting_s))
        .float("cost_spot_mean", s.iter().map(|x| x.cost_spot))
        .build()
}

/// `optima`: the best interval found per strategy and rate, beside Young/Daly.
fn optima_table(o: &[Optimum]) -> Table {
    TableBuilder::default()
        .text("strategy", o.iter().map(|x| x.strategy.name()))
        .float("rate_per_node_hour", o.iter().map(|x| x.rate))
        .int("intervals_searched", o.iter().map(|x| x.searched as i64))
        .float("best_interval_s", o.iter().map(|x| x.best_interval_s))
        .float(
            "best_throughput_median",
            o.iter().map(|x| x.best_throughput),
        )
        .float("young_daly_interval_s", o.iter().map(|x| x.young_daly_s))
        .build()
}

/// A line of the figures: a strategy and the interval as asked (as bits;
/// `None`: automatic).
type LineKey = (Strategy, Option<u64>);

fn key_of(s: &PointSummary) -> LineKey {
    (s.point.strategy, s.point.interval_asked.map(f64::to_bits))
}

fn interval_label(bits: Option<u64>) -> String {
    bits.map_or("auto".into(), |b| format!("{:.0} s", f64::from_bits(b)))
}

/// Whether `choice` draws the grid point of `s`.
fn drawn(s: &PointSummary, choice: &FigureChoice) -> bool {
    choice.keeps(|param, value| match param {
        "strategy" => s.point.strategy.name() == value,
        "interval" => names_interval(value, s.point.interval_asked),
        _ => names_number(value, s.point.rate),
    })
}

/// A line's legend text: its strategy (and interval, when the sweep has
/// several), each as `--label` gives it.
fn line_label(key: &LineKey, many_intervals: bool, choice: &FigureChoice) -> String {
    let strategy = (choice.label("strategy", |v| v == key.0.name())).unwrap_or(key.0.name());
    if !many_intervals {
        return strategy.to_string();
    }
    let interval = key.1.map(f64::from_bits);
    match choice.label("interval", |v| names_interval(v, interval)) {
        Some(text) => format!("{strategy} {text}"),
        None => format!("{strategy} {}", interval_label(key.1)),
    }
}

/// Throughput and value against rate (one line per strategy and interval,
/// median with p5–p95 band), and the time split per line: of the grid
/// points `choice` draws, with its labels.
fn figures<'a>(all: &[PointSummary], choice: &FigureChoice) -> Vec<Output<'a>> {
    let mut keys: Vec<LineKey> = Vec::new();
    for s in all {
        if !keys.contains(&key_of(s)) {
            keys.push(key_of(s));
        }
    }
    // Named after the whole grid, so that --only does not rename files.
    let strategies: BTreeSet<Strategy> = all.iter().map(|s| s.point.strategy).collect();
    let many_intervals = keys.len() > strategies.len();
    let summaries: Vec<&PointSummary> = all.iter().filter(|s| drawn(s, choice)).collect();
    keys.retain(|k| summaries.iter().any(|s| key_of(s) == *k));
    if keys.is_empty() {
        return Vec::new();
    }
    let points_of = |key: &LineKey| -> Vec<&PointSummary> {
        summaries
            .iter()
            .copied()
            .filter(|s| key_of(s) == *key)
            .collect()
    };
    let line = |key: &LineKey, f: fn(&PointSummary) -> &Summary| {
        let pts = points_of(key);
        Line {
            label: line_label(key, many_intervals, choice),
            points: pts.iter().map(|s| (s.point.rate, f(s).median)).collect(),
            band: pts
                .iter()
                .map(|s| (s.point.rate, f(s).p5, f(s).p95))
                .collect(),
        }
    };
    let mut outputs = vec![
        Output::figure(
            "throughput",
            "Throughput against preemption rate",
            SIZE,
            Figure {
                x_label: "Preemption rate (per node-hour)".into(),
                y_label: "Throughput (samples/s)".into(),
                lines: keys.iter().map(|k| line(k, |s| &s.throughput)).collect(),
                ..Figure::default()
            },
        ),
        Output::figure(
            "value",
            "Value (samples per spot dollar) against preemption rate",
            SIZE,
            Figure {
                x_label: "Preemption rate (per node-hour)".into(),
                y_label: "Value (samples per spot $)".into(),
                lines: keys
                    .iter()
                    .map(|k| line(k, |s| &s.samples_per_dollar))
                    .collect(),
                ..Figure::default()
            },
        ),
    ];
    for key in &keys {
        let share = |s: &PointSummary, f: fn(&TimeSplit) -> f64| {
            100.0 * f(&s.split_mean) / s.split_mean.total()
        };
        let chart = StackedBars {
            title: None,
            x_label: "Preemption rate (per node-hour)".into(),
            y_label: "Share of wall time (%)".into(),
            segments: [
                "useful",
                "reconfiguration",
                "rollback",
                "checkpoint stall",
                "waiting",
            ]
            .map(String::from)
            .to_vec(),
            bars: points_of(key)
                .iter()
                .map(|s| Bar {
                    x: s.point.rate,
                    values: vec![
                        share(s, |t| t.useful_s),
                        share(s, |t| t.reconfiguration_s),
                        share(s, |t| t.rollback_s),
                        share(s, |t| t.checkpoint_stall_s),
                        share(s, |t| t.waiting_s),
                    ],
                })
                .collect(),
        };
        let (stem, title) = if many_intervals {
            (
                format!(
                    "time_split_{}_{}",
                    key.0.name(),
                    interval_label(key.1).replace(' ', "")
                ),
                format!(
                    "Share of wall time by cause: {}",
                    line_label(key, many_intervals, choice)
                ),
            )
        } else {
            (
                format!("time_split_{}", key.0.name()),
                format!(
                    "Share of wall time by cause: {}",
                    line_label(key, many_intervals, choice)
                ),
            )
        };
        outputs.push(Output::chart(&stem, &title, move || {
            render_bars_at(&chart, SIZE)
        }));
    }
    outputs
}
