//! What `expost traces` writes: one row of statistics per trace, the
//! node-count curves, the Kaplan–Meier lifetime curves, preemptions and
//! additions per hour, and their figures.

use super::{names_trace, TraceReport, Traces};
use crate::choice::FigureChoice;
use crate::table_builder::TableBuilder;
use expost_render::figure::{Figure, Line, PaperSize};
use expost_render::output::Output;
use expost_render::table::Table;
use expost_sim::trace_stats::TraceStats;

/// The figures' size.
const SIZE: PaperSize = PaperSize::Page;

/// The tables and figures, in the order they are listed.
pub(super) fn outputs<'a>(
    traces: &'a Traces,
    additions: bool,
    choice: &FigureChoice,
) -> Vec<Output<'a>> {
    let mut outputs = vec![
        Output::table("traces", "Trace statistics", true, move || {
            stats_table(traces)
        }),
        Output::table("counts", "Live nodes over time", true, move || {
            counts_table(traces)
        }),
        Output::table(
            "lifetimes",
            "Node lifetimes (Kaplan–Meier)",
            false,
            move || lifetimes_table(traces),
        ),
        Output::table(
            "hourly",
            "Preemptions and additions per hour",
            false,
            move || hourly_table(traces),
        ),
    ];
    if additions {
        outputs.push(Output::table(
            "additions",
            "Nodes added at each rise of the node count",
            false,
            move || additions_table(traces),
        ));
    }
    let read = drawn(traces, choice);
    if read.is_empty() && !choice.only.is_empty() {
        return outputs; // the traces chosen could not be read (each an error)
    }
    if let Some(figure) = node_count_figure(&read) {
        outputs.push(Output::figure("node_count", "Live nodes", SIZE, figure));
    }
    if let Some(figure) = lifetimes_figure(&read) {
        outputs.push(Output::figure("lifetimes", "Node lifetimes", SIZE, figure));
    }
    outputs.push(Output::figure(
        "preemptions_per_hour",
        "Nodes preempted per hour",
        SIZE,
        preemptions_figure(&read),
    ));
    outputs
}

/// `traces`: one row of statistics per trace read.
pub(super) fn stats_table(traces: &Traces) -> Table {
    let ok = traces.read();
    TableBuilder::default()
        .text("file", ok.iter().map(|(r, _)| r.file.as_str()))
        .text(
            "format",
            ok.iter().map(|(r, _)| r.format.as_deref().unwrap_or("")),
        )
        .float("duration_h", ok.iter().map(|(_, s)| s.duration_h))
        .int("initial_nodes", ok.iter().map(|(_, s)| s.initial_nodes))
        .opt(
            "min_nodes",
            ok.iter().map(|(_, s)| s.min_nodes.map(|v| v as f64)),
        )
        .opt(
            "max_nodes",
            ok.iter().map(|(_, s)| s.max_nodes.map(|v| v as f64)),
        )
        .opt("mean_nodes", ok.iter().map(|(_, s)| s.mean_nodes))
        .int("preemptions", ok.iter().map(|(_, s)| s.preemptions))
        .opt(
            "additions",
            ok.iter().map(|(_, s)| s.additions.map(|v| v as f64)),
        )
        .float(
            "preemptions_per_hour",
            ok.iter().map(|(_, s)| s.preemptions_per_hour),
        )
        .opt(
            "additions_per_hour",
            ok.iter().map(|(_, s)| s.additions_per_hour),
        )
        .opt("node_hours", ok.iter().map(|(_, s)| s.node_hours))
        .opt(
            "preemption_rate_per_node_hour",
            ok.iter().map(|(_, s)| s.preemption_rate_per_node_hour),
        )
        .opt(
            "gap_s_mean",
            ok.iter()
                .map(|(_, s)| s.time_between_preemptions_s.map(|g| g.mean)),
        )
        .opt(
            "gap_s_median",
            ok.iter()
                .map(|(_, s)| s.time_between_preemptions_s.map(|g| g.median)),
        )
        .opt(
            "burst_mean",
            ok.iter().map(|(_, s)| s.burst_sizes.map(|g| g.mean)),
        )
        .opt(
            "burst_std",
            ok.iter().map(|(_, s)| s.burst_sizes.map(|g| g.std)),
        )
        .opt(
            "burst_max",
            ok.iter().map(|(_, s)| s.burst_sizes.map(|g| g.max)),
        )
        .opt(
            "lifetime_median_s",
            ok.iter()
                .map(|(_, s)| s.lifetimes.as_ref().and_then(|k| k.median_s)),
        )
        .opt(
            "lifetime_restricted_mean_s",
            ok.iter()
                .map(|(_, s)| s.lifetimes.as_ref().map(|k| k.restricted_mean_s)),
        )
        .build()
}

/// `counts`: each trace's node-count curve, as steps `(t_s, nodes from t_s on)`.
fn counts_table(traces: &Traces) -> Table {
    let (mut file, mut t, mut nodes) = (Vec::new(), Vec::new(), Vec::new());
    for (r, _) in traces.read() {
        for (ts, n) in r.curve.iter().flatten() {
            file.push(r.file.as_str());
            t.push(*ts);
            nodes.push(*n);
        }
    }
    TableBuilder::default()
        .text("file", file)
        .float("t_s", t)
        .int("nodes", nodes)
        .build()
}

/// `additions`: each rise of a trace's node count, as the notebook derives
/// its additions trace (the time of the row before the rise, seconds from
/// the trace's start, and the nodes added).
pub(super) fn additions_table(traces: &Traces) -> Table {
    let (mut file, mut t, mut added) = (Vec::new(), Vec::new(), Vec::new());
    for (r, _) in traces.read() {
        let Some(curve) = &r.curve else { continue };
        for pair in curve.windows(2) {
            let ((t0, before), (_, after)) = (pair[0], pair[1]);
            if after > before {
                file.push(r.file.as_str());
                t.push(t0);
                added.push(after - before);
            }
        }
    }
    TableBuilder::default()
        .text("file", file)
        .float("t_s", t)
        .int("count", added)
        .build()
}

/// `lifetimes`: each trace's Kaplan–Meier survival curve.
fn lifetimes_table(traces: &Traces) -> Table {
    let (mut file, mut t, mut survival) = (Vec::new(), Vec::new(), Vec::new());
    for (r, s) in traces.read() {
        for (ts, p) in s.lifetimes.iter().flat_map(|k| k.curve.iter()) {
            file.push(r.file.as_str());
            t.push(*ts);
            survival.push(*p);
        }
    }
    TableBuilder::default()
        .text("file", file)
        .float("t_s", t)
        .float("survival", survival)
        .build()
}

/// `hourly`: nodes preempted and added in each hour of each trace.
fn hourly_table(traces: &Traces) -> Table {
    let (mut file, mut hour, mut preemptions, mut additions) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (r, s) in traces.read() {
        for h in &s.hourly {
            file.push(r.file.as_str());
            hour.push(h.hour as i64);
            preemptions.push(h.preemptions);
            additions.push(h.additions);
        }
    }
    TableBuilder::default()
        .text("file", file)
        .int("hour", hour)
        .int("preemptions", preemptions)
        .int("additions", additions)
        .build()
}

/// A trace's label in figures: its file name without extension.
/// A trace's name: its file's name without extension.
pub(super) fn trace_name(file: &str) -> String {
    std::path::Path::new(file)
        .file_stem()
        .map_or(file.to_string(), |s| s.to_string_lossy().into_owned())
}

/// The traces read that `choice` draws, each with its legend text.
fn drawn<'a>(traces: &'a Traces, choice: &FigureChoice) -> Vec<Drawn<'a>> {
    (traces.read().into_iter())
        .filter(|(r, _)| choice.keeps(|_, v| names_trace(v, &r.file)))
        .map(|(report, stats)| {
            let label = choice.label("trace", |v| names_trace(v, &report.file));
            Drawn {
                report,
                stats,
                label: label.map_or_else(|| trace_name(&report.file), str::to_string),
            }
        })
        .collect()
}

/// A trace a figure draws, and its legend text.
struct Drawn<'a> {
    report: &'a TraceReport,
    stats: &'a TraceStats,
    label: String,
}

/// A step curve `(t_s, value from t_s on)` as the points of a line, hours on x.
fn steps(curve: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut points = Vec::with_capacity(curve.len() * 2);
    for (i, (t, v)) in curve.iter().enumerate() {
        if i > 0 {
            points.push((t / 3600.0, curve[i - 1].1));
        }
        points.push((t / 3600.0, *v));
    }
    points
}

/// Live nodes against time, one step line per trace that has a curve.
fn node_count_figure(read: &[Drawn<'_>]) -> Option<Figure> {
    let lines: Vec<Line> = read
        .iter()
        .filter_map(|d| {
            d.report.curve.as_ref().map(|c| {
                let as_f64: Vec<(f64, f64)> = c.iter().map(|(t, n)| (*t, *n as f64)).collect();
                let mut points = steps(&as_f64);
                if let Some(last) = c.last() {
                    points.push((d.stats.duration_h, last.1 as f64));
                }
                Line {
                    label: d.label.clone(),
                    points,
                    band: Vec::new(),
                }
            })
        })
        .collect();
    (!lines.is_empty()).then(|| Figure {
        x_label: "Time since trace start (h)".into(),
        y_label: "Live nodes".into(),
        lines,
        ..Figure::default()
    })
}

/// Kaplan–Meier survival of node lifetimes, one step line per trace that names nodes.
fn lifetimes_figure(read: &[Drawn<'_>]) -> Option<Figure> {
    let lines: Vec<Line> = read
        .iter()
        .filter_map(|d| {
            d.stats.lifetimes.as_ref().map(|k| Line {
                label: d.label.clone(),
                points: steps(&k.curve),
                band: Vec::new(),
            })
        })
        .collect();
    (!lines.is_empty()).then(|| Figure {
        x_label: "Node lifetime (h)".into(),
        y_label: "Still live (Kaplan–Meier)".into(),
        y_range: Some((0.0, 1.02)),
        lines,
        ..Figure::default()
    })
}

/// Nodes preempted in each hour, one line per trace.
fn preemptions_figure(read: &[Drawn<'_>]) -> Figure {
    Figure {
        x_label: "Hour of trace (h)".into(),
        y_label: "Nodes preempted per hour".into(),
        lines: read
            .iter()
            .map(|d| Line {
                label: d.label.clone(),
                points: (d.stats)
                    .hourly
                    .iter()
                    .map(|h| (h.hour as f64 + 0.5, h.preemptions as f64))
                    .collect(),
                band: Vec::new(),
            })
            .collect(),
        ..Figure::default()
    }
}
