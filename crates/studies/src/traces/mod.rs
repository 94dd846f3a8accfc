//! `expost traces`: statistics of spot-instance traces, one trace file a
//! unit.
//!
//! Reads each trace (its format recognised from its first line), repairs
//! what can be repaired (CRLF, rows dated a day early, repeated samples)
//! and reports it, and says what the trace says: preemptions and additions
//! per hour, the preemption rate per node-hour, time between preemption
//! events, burst sizes, and node lifetimes (Kaplan–Meier, censored at the
//! trace's end) for traces that name their nodes.

mod outputs;

use crate::choice::FigureChoice;
use crate::study::{Context, Discovered, Provenance, Study, StudyError, UnitDiagnostic};
use expost_formats::spot_trace::{self, ReadOptions, TraceError};
use expost_model::spot::Trace;
use expost_model::{Diagnostic, Diagnostics, Severity};
use expost_render::output::Output;
use expost_render::table::Table;
use expost_render::text_table::{render, Align};
use expost_sim::trace_stats::{trace_stats, TraceStats};
use serde::Serialize;
use std::io;
use std::path::{Path, PathBuf};

/// `expost traces`: the trace files and how to read them.
#[derive(Debug, Clone)]
pub struct TracesStudy {
    /// The trace files, in the order given.
    pub files: Vec<PathBuf>,
    /// How to read them.
    pub options: ReadOptions,
    /// Also write each node-count trace's additions (`additions` table,
    /// as the notebook's `full-64-additions-trace.csv`).
    pub additions: bool,
    /// Which traces the figures draw and their legend texts (`--only
    /// trace=…`, `--label trace=…:TEXT`).
    pub choice: FigureChoice,
}

impl TracesStudy {
    /// The parameter `--only` and `--label` choose traces by.
    pub const CHOICE_PARAMS: [&'static str; 1] = ["trace"];

    /// This study drawing what `choice` chooses.
    ///
    /// # Errors
    /// A trace `choice` names that is none of the files given.
    pub fn with_choice(self, choice: FigureChoice) -> Result<TracesStudy, String> {
        let files: Vec<String> = self.files.iter().map(|f| f.display().to_string()).collect();
        let has = |_: &str, value: &str| files.iter().any(|f| names_trace(value, f));
        if let Some(said) = choice.unmatched(has, "trace file").into_iter().next() {
            return Err(format!(
                "{said} (a trace is named by its file's name without extension, or its path as given)"
            ));
        }
        Ok(TracesStudy { choice, ..self })
    }
}

/// Whether a value given for `trace` names `file`: its name without
/// extension (as the legend shows it), or the path as given.
pub(crate) fn names_trace(given: &str, file: &str) -> bool {
    given == file || given == outputs::trace_name(file)
}

/// One trace read and described (an element of `traces.json`).
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
    /// The same, as the error diagnostic the study reports.
    #[serde(skip)]
    pub failure: Option<Diagnostic>,
}

/// Every trace, in the order given.
#[derive(Debug)]
pub struct Traces {
    /// One report per file.
    pub reports: Vec<TraceReport>,
}

impl Traces {
    /// The traces that were read, with their statistics.
    pub fn read(&self) -> Vec<(&TraceReport, &TraceStats)> {
        self.reports
            .iter()
            .filter_map(|r| r.stats.as_ref().map(|s| (r, s)))
            .collect()
    }
}

impl Study for TracesStudy {
    type Unit = PathBuf;
    type Analysed = TraceReport;
    type Combined = Traces;

    fn name(&self) -> &'static str {
        "traces"
    }

    fn unit_noun(&self) -> &'static str {
        "traces"
    }

    fn discover(&self) -> Result<Discovered<PathBuf>, StudyError> {
        Ok(Discovered {
            units: self.files.clone(),
            diagnostics: Vec::new(),
        })
    }

    fn analyse(&self, path: &PathBuf, _: &Context<'_>) -> TraceReport {
        read_one(path, self.options)
    }

    fn combine(&self, reports: Vec<TraceReport>, _: Vec<Diagnostic>) -> Result<Traces, StudyError> {
        Ok(Traces { reports })
    }

    fn diagnostics<'a>(&self, traces: &'a Traces) -> Vec<UnitDiagnostic<'a>> {
        traces
            .reports
            .iter()
            .flat_map(|r| {
                r.diagnostics
                    .iter()
                    .chain(&r.failure)
                    .map(move |d| (r.file.as_str(), d))
            })
            .collect()
    }

    fn failed_units(&self, traces: &Traces) -> usize {
        traces.reports.iter().filter(|r| r.error.is_some()).count()
    }

    /// The reports, one per trace.
    fn write_json(
        &self,
        traces: &Traces,
        _: &Provenance,
        out: &mut dyn io::Write,
    ) -> io::Result<()> {
        serde_json::to_writer_pretty(out, &traces.reports)?;
        Ok(())
    }

    fn summary(&self, traces: &Traces) -> serde_json::Value {
        let failed = self.failed_units(traces);
        serde_json::json!({
            "traces": traces.reports.len(),
            "read": traces.reports.len() - failed,
            "failed": failed,
        })
    }

    fn outputs<'a>(&'a self, traces: &'a Traces, _: &'a Provenance) -> Vec<Output<'a>> {
        outputs::outputs(traces, self.additions, &self.choice)
    }

    fn stdout_table<'a>(
        &'a self,
        traces: &'a Traces,
    ) -> Option<Box<dyn Iterator<Item = Table> + 'a>> {
        Some(Box::new(std::iter::once(outputs::stats_table(traces))))
    }

    fn terminal(&self, traces: &Traces) -> String {
        terminal(traces)
    }

    fn headline(&self, traces: &Traces) -> String {
        let failed = self.failed_units(traces);
        format!(
            "{} traces ({} read, {} failed)",
            traces.reports.len(),
            traces.reports.len() - failed,
            failed
        )
    }
}

/// Reads and describes one trace; a trace that cannot be read gives a
/// report with its error (and an error diagnostic naming file and line).
pub fn read_one(path: &Path, options: ReadOptions) -> TraceReport {
    let file = path.display().to_string();
    let mut diags = Diagnostics::for_file(file.clone());
    let parsed = std::fs::File::open(path)
        .map_err(|e| (None, format!("could not open: {e}")))
        .and_then(|f| {
            spot_trace::parse(io::BufReader::new(f), options, &mut diags)
                .map_err(|e| (e.line(), message_of(&e)))
        });
    match parsed {
        Ok(t) => described(file, &t, diags),
        Err((line, message)) => TraceReport {
            error: Some(match line {
                Some(line) => format!("{file}:{line}: {message}"),
                None => format!("{file}: {message}"),
            }),
            failure: Some(Diagnostic {
                file: file.clone(),
                line,
                message,
                severity: Severity::Error,
            }),
            file,
            format: None,
            stats: None,
            curve: None,
            diagnostics: diags.into_items(),
        },
    }
}

/// What a trace error says, without the `line N: ` its line number gives.
fn message_of(e: &TraceError) -> String {
    let text = e.to_string();
    match e.line() {
        Some(line) => text
            .strip_prefix(&format!("line {line}: "))
            .map_or(text.clone(), str::to_string),
        None => text,
    }
}

fn described(file: String, t: &Trace, diags: Diagnostics) -> TraceReport {
    TraceReport {
        file,
        format: Some(t.format.name().to_string()),
        stats: Some(trace_stats(t)),
        curve: t.count_curve(),
        diagnostics: diags.into_items(),
        error: None,
        failure: None,
    }
}

fn fmt(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.digits$}"),
        _ => "-".into(),
    }
}

/// One line per trace: what it says, at a glance.
fn terminal(traces: &Traces) -> String {
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
    let rows: Vec<Vec<String>> = traces
        .reports
        .iter()
        .map(|r| {
            let name = Path::new(&r.file)
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

#[cfg(test)]
mod tests;
