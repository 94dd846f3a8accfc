//! `expost traces FILE…`: statistics of spot-instance traces.
//!
//! Reads each trace (its format recognised from its first line), repairs
//! what can be repaired (CRLF, rows dated a day early, repeated samples)
//! and reports it, and prints what the trace says: preemptions and
//! additions per hour, the preemption rate per node-hour, time between
//! preemption events, burst sizes, and node lifetimes (Kaplan–Meier,
//! censored at the trace's end) for traces that name their nodes.

use super::sim_out::{self, TableBuilder};
use crate::output::OutputDir;
use anyhow::{Context, Result};
use expost_model::{Diagnostic, Diagnostics, Severity};
use expost_render::figure::{Figure, Line, PaperSize};
use expost_render::text_table::{render, Align};
use expost_sim::trace::{self, OffsetUnit, ReadOptions, Trace};
use expost_sim::trace_stats::{trace_stats, TraceStats};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

/// Examples shown at the end of `expost traces --help`.
pub const EXAMPLES: &str = "\
Examples:
  expost traces tests/fixtures/preemption/bamboo-traces/traces/p3-trace.csv
  expost traces traces/*.csv traces/gcloud/*.txt -o out/
  expost traces full-64-terminate-trace.csv --json

Formats (recognised from the first line): timestamp,count | timestamp,number
(terminations) | time,count (Auto Scaling group metric) | offset,count step
plots (seconds, or hours when offsets have fractions) | ms,add|remove,nodeN |
GCP text 'YYYY-MM-DD, HH:MM:SS, count' | SkyPilot JSON.

Outputs in -o DIR: traces.csv/.parquet (one row of statistics per trace),
counts.csv/.parquet (node-count curves), lifetimes.csv (Kaplan–Meier),
hourly.csv, diagnostics.csv, traces.json (as --json), and figures
node_count, lifetimes, preemptions_per_hour as SVG, PNG and PDF.

Exit codes: 0 every trace read; 1 a trace or an output failed; 2 bad command line.";

/// Arguments of `expost traces`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Trace files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write tables, figures and traces.json into this folder.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Print the JSON summary on stdout (and nothing else there).
    #[arg(long)]
    pub json: bool,
    /// Unit of a step plot's offsets (default: hours when any has a fraction, else seconds).
    #[arg(long, value_parser = ["s", "h"])]
    pub step_unit: Option<String>,
    /// No table on stdout (diagnostics are still printed).
    #[arg(short, long)]
    pub quiet: bool,
}

/// One trace read and described.
#[derive(Debug, Serialize)]
pub struct TraceReport {
    /// The file.
    pub file: String,
    /// Its format, if it was read.
    pub format: Option<String>,
    /// The statistics, if it was read.
    pub stats: Option<TraceStats>,
    /// Its node-count curve `(s, nodes)`.
    #[serde(skip)]
    pub curve: Option<Vec<(f64, i64)>>,
    /// Everything reported while reading it.
    pub diagnostics: Vec<Diagnostic>,
    /// Why it could not be read.
    pub error: Option<String>,
}

/// Runs `expost traces`.
pub fn run(args: Args) -> Result<ExitCode> {
    let output = args.output.as_deref().map(OutputDir::prepare).transpose()?;
    let options = ReadOptions {
        format: None,
        step_unit: args.step_unit.as_deref().map(|u| {
            if u == "h" {
                OffsetUnit::Hours
            } else {
                OffsetUnit::Seconds
            }
        }),
    };
    let reports: Vec<TraceReport> = args.files.iter().map(|f| read_one(f, options)).collect();
    let mut failed = reports.iter().any(|r| r.error.is_some());
    if let Some(dir) = &output {
        if let Err(e) = write_outputs(&reports, dir) {
            eprintln!("error: {e:#}");
            failed = true;
        }
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&reports)
                .context("could not serialise the JSON summary")?
        );
    } else if !args.quiet {
        print!("{}", summary(&reports));
    }
    for r in &reports {
        for d in r
            .diagnostics
            .iter()
            .filter(|d| d.severity >= Severity::Warning)
        {
            eprintln!("{d}");
        }
        if let Some(e) = &r.error {
            eprintln!("error: {e}");
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn read_one(path: &std::path::Path, options: ReadOptions) -> TraceReport {
    let file = path.display().to_string();
    let mut diags = Diagnostics::for_file(file.clone());
    let parsed: Result<Trace, String> = std::fs::File::open(path)
        .map_err(|e| format!("{file}: could not open: {e}"))
        .and_then(|f| {
            trace::parse(std::io::BufReader::new(f), options, &mut diags).map_err(|e| {
                match e.line() {
                    Some(_) => format!("{file}:{}", e.to_string().trim_start_matches("line ")),
                    None => format!("{file}: {e}"),
                }
            })
        });
    match parsed {
        Ok(t) => TraceReport {
            file,
            format: Some(t.format.name().to_string()),
            stats: Some(trace_stats(&t)),
            curve: t.count_curve(),
            diagnostics: diags.into_items(),
            error: None,
        },
        Err(e) => TraceReport {
            file,
            format: None,
            stats: None,
            curve: None,
            diagnostics: diags.into_items(),
            error: Some(e),
        },
    }
}

fn fmt(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.digits$}"),
        _ => "-".into(),
    }
}

fn summary(reports: &[TraceReport]) -> String {
    let header = [
        ("trace", Align::Left),
        ("format", Align::Left),
        ("hours", Align::Right),
        ("nodes min-max", Align::Right),
        ("preempted", Align::Right),
        ("/h", Align::Right),
        ("added", Align::Right),
        ("/node-h", Align::Right),
        ("gap s median", Align::Right),
        ("burst mean", Align::Right),
        ("lifetime h median", Align::Right),
    ];
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            let name = std::path::Path::new(&r.file)
                .file_name()
                .map_or(r.file.clone(), |n| n.to_string_lossy().into_owned());
            match &r.stats {
                None => vec![name, "FAILED".into()],
                Some(s) => vec![
                    name,
                    r.format.clone().unwrap_or_default(),
                    fmt(Some(s.duration_h), 2),
                    match (s.min_nodes, s.max_nodes) {
                        (Some(a), Some(b)) => format!("{a}-{b}"),
                        _ => "-".into(),
                    },
                    s.preemptions.to_string(),
                    fmt(Some(s.preemptions_per_hour), 2),
                    s.additions.map_or("-".into(), |a| a.to_string()),
                    fmt(s.preemption_rate_per_node_hour, 3),
                    fmt(s.time_between_preemptions_s.map(|g| g.median), 0),
                    fmt(s.burst_sizes.map(|b| b.mean), 2),
                    fmt(
                        s.lifetimes
                            .as_ref()
                            .and_then(|k| k.median_s)
                            .map(|m| m / 3600.0),
                        2,
                    ),
                ],
            }
        })
        .collect();
    render(&header, &rows)
}

fn write_outputs(reports: &[TraceReport], dir: &OutputDir) -> Result<()> {
    let ok: Vec<(&TraceReport, &TraceStats)> = reports
        .iter()
        .filter_map(|r| r.stats.as_ref().map(|s| (r, s)))
        .collect();
    let stats = TableBuilder::default()
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
        .build();
    sim_out::write_tables(dir, "traces", &stats, true)?;

    let mut counts: (Vec<&str>, Vec<f64>, Vec<i64>) = Default::default();
    let mut km: (Vec<&str>, Vec<f64>, Vec<f64>) = Default::default();
    let mut hourly: (Vec<&str>, Vec<i64>, Vec<i64>, Vec<i64>) = Default::default();
    for (r, s) in &ok {
        for (t, n) in r.curve.iter().flatten() {
            counts.0.push(&r.file);
            counts.1.push(*t);
            counts.2.push(*n);
        }
        for (t, p) in s.lifetimes.iter().flat_map(|k| k.curve.iter()) {
            km.0.push(&r.file);
            km.1.push(*t);
            km.2.push(*p);
        }
        for h in &s.hourly {
            hourly.0.push(&r.file);
            hourly.1.push(h.hour as i64);
            hourly.2.push(h.preemptions);
            hourly.3.push(h.additions);
        }
    }
    let table = TableBuilder::default()
        .text("file", counts.0.iter().copied())
        .float("t_s", counts.1.iter().copied())
        .int("nodes", counts.2.iter().copied())
        .build();
    sim_out::write_tables(dir, "counts", &table, true)?;
    let table = TableBuilder::default()
        .text("file", km.0.iter().copied())
        .float("t_s", km.1.iter().copied())
        .float("survival", km.2.iter().copied())
        .build();
    sim_out::write_tables(dir, "lifetimes", &table, false)?;
    let table = TableBuilder::default()
        .text("file", hourly.0.iter().copied())
        .int("hour", hourly.1.iter().copied())
        .int("preemptions", hourly.2.iter().copied())
        .int("additions", hourly.3.iter().copied())
        .build();
    sim_out::write_tables(dir, "hourly", &table, false)?;
    let all: Vec<Diagnostic> = reports
        .iter()
        .flat_map(|r| r.diagnostics.iter().cloned())
        .collect();
    sim_out::write_tables(dir, "diagnostics", &sim_out::diagnostics_table(&all), false)?;
    sim_out::write_json(dir, "traces.json", &reports)?;
    write_figures(&ok, dir)
}

fn label(file: &str) -> String {
    std::path::Path::new(file)
        .file_stem()
        .map_or(file.to_string(), |s| s.to_string_lossy().into_owned())
}

fn write_figures(ok: &[(&TraceReport, &TraceStats)], dir: &OutputDir) -> Result<()> {
    let size = PaperSize::Page;
    let steps = |curve: &[(f64, i64)]| -> Vec<(f64, f64)> {
        let mut pts = Vec::with_capacity(curve.len() * 2);
        for (i, (t, n)) in curve.iter().enumerate() {
            if i > 0 {
                pts.push((t / 3600.0, curve[i - 1].1 as f64));
            }
            pts.push((t / 3600.0, *n as f64));
        }
        pts
    };
    let count_lines: Vec<Line> = ok
        .iter()
        .filter_map(|(r, s)| {
            r.curve.as_ref().map(|c| {
                let mut pts = steps(c);
                if let Some(last) = c.last() {
                    pts.push((s.duration_h, last.1 as f64));
                }
                Line {
                    label: label(&r.file),
                    points: pts,
                    band: Vec::new(),
                }
            })
        })
        .collect();
    if !count_lines.is_empty() {
        let fig = Figure {
            x_label: "Time since trace start (h)".into(),
            y_label: "Live nodes".into(),
            lines: count_lines,
            ..Figure::default()
        };
        sim_out::figure(dir, "node_count", &fig, size)?;
    }
    let km_lines: Vec<Line> = ok
        .iter()
        .filter_map(|(r, s)| {
            s.lifetimes.as_ref().map(|k| {
                let mut pts = Vec::new();
                for (i, (t, p)) in k.curve.iter().enumerate() {
                    if i > 0 {
                        pts.push((t / 3600.0, k.curve[i - 1].1));
                    }
                    pts.push((t / 3600.0, *p));
                }
                Line {
                    label: label(&r.file),
                    points: pts,
                    band: Vec::new(),
                }
            })
        })
        .collect();
    if !km_lines.is_empty() {
        let fig = Figure {
            x_label: "Node lifetime (h)".into(),
            y_label: "Still live (Kaplan–Meier)".into(),
            y_range: Some((0.0, 1.02)),
            lines: km_lines,
            ..Figure::default()
        };
        sim_out::figure(dir, "lifetimes", &fig, size)?;
    }
    let hour_lines: Vec<Line> = ok
        .iter()
        .map(|(r, s)| Line {
            label: label(&r.file),
            points: s
                .hourly
                .iter()
                .map(|h| (h.hour as f64 + 0.5, h.preemptions as f64))
                .collect(),
            band: Vec::new(),
        })
        .collect();
    let fig = Figure {
        x_label: "Hour of trace (h)".into(),
        y_label: "Nodes preempted per hour".into(),
        lines: hour_lines,
        ..Figure::default()
    };
    sim_out::figure(dir, "preemptions_per_hour", &fig, size)?;
    Ok(())
}
