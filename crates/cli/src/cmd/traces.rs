//! `expost traces FILE…`: statistics of spot-instance traces (the study
//! is `expost_studies::traces`).

use super::run::{visit_opt, SavedArgs, SavedStudy};
use crate::driver::StudyCommand;
use expost_formats::spot_trace::{OffsetUnit, ReadOptions};
use expost_studies::choice::FigureChoice;
use expost_studies::traces::TracesStudy;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::process::ExitCode;

/// Examples shown at the end of `expost traces --help`.
pub const EXAMPLES: &str = "\
Examples:
  expost traces tests/fixtures/preemption/bamboo-traces/traces/p3-trace.csv
  expost traces traces/*.csv traces/gcloud/*.txt -o out/
  expost traces full-64-terminate-trace.csv --json
  expost traces traces/*.csv -o - | cut -d, -f1,10

Formats (recognised from the first line): timestamp,count | timestamp,number
(terminations) | time,count (Auto Scaling group metric) | offset,count step
plots (seconds, or hours when offsets have fractions) | ms,add|remove,nodeN |
GCP text 'YYYY-MM-DD, HH:MM:SS, count' | SkyPilot JSON.

Outputs in -o DIR: traces.csv/.parquet (one row of statistics per trace,
also what -o - writes), counts.csv/.parquet (node-count curves),
lifetimes.csv (Kaplan–Meier), hourly.csv, diagnostics.csv, traces.json (as
--json), manifest.json, and figures node_count, lifetimes,
preemptions_per_hour as SVG, PNG and PDF.

Exit codes: 0 every trace read; 1 a trace or an output failed; 2 bad command line.";

/// Arguments of `expost traces`; also the `[traces]` table of a study file
/// (`expost.toml`), where every key but `files` may be left out.
#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Trace files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write tables, figures and traces.json into this folder; `-o -`
    /// writes only traces.csv, to stdout.
    #[arg(short, long, value_name = "DIR")]
    #[serde(default)]
    pub output: Option<PathBuf>,
    /// Print the JSON summary on stdout (and nothing else there).
    #[arg(long)]
    #[serde(skip)]
    pub json: bool,
    /// Save these options to a study file (default: expost.toml in the output
    /// folder, else in the current one) to rerun them later with `expost run`.
    #[arg(long, value_name = "FILE")]
    #[serde(skip)]
    pub save_study: Option<Option<PathBuf>>,
    /// Write only these figures and charts, by name (their files' names
    /// without extension, e.g. loss,loss_zoom); tables and the rest are all
    /// written. Default: every figure.
    #[arg(long, value_name = "NAME,…", value_delimiter = ',')]
    #[serde(default)]
    pub figures: Vec<String>,
    /// Set a line figure's y axis: NAME=MIN:MAX (e.g. loss=0:100),
    /// repeatable. The report's interactive chart keeps its own axes.
    #[arg(long, value_name = "NAME=MIN:MAX", allow_hyphen_values = true)]
    #[serde(default)]
    pub ylim: Vec<String>,
    /// Where line figures put their legend: top (above the plot, the
    /// default), bottom (under the x axis label), inside (in the plot's
    /// emptiest corner) or none. Charts (bars, Gantt) and the report's
    /// interactive charts keep theirs.
    #[arg(long, value_enum, value_name = "PLACE")]
    #[serde(default)]
    pub legend: Option<crate::driver::LegendArg>,
    /// Draw only these traces: trace=NAME1,NAME2, a trace named by its
    /// file's name without extension (as in the legend) or its path as
    /// given. Tables keep every trace.
    #[arg(long, value_name = "trace=NAME1,NAME2")]
    #[serde(default)]
    pub only: Vec<String>,
    /// Legend text of a trace: trace=NAME:TEXT (e.g. trace=p3-trace:"AWS
    /// p3"); repeatable.
    #[arg(long, value_name = "trace=NAME:TEXT")]
    #[serde(default)]
    pub label: Vec<String>,
    /// Unit of a step plot's offsets: ms, s, min or h (default: the unit
    /// its header names, as `milliseconds,count`; without one, hours when
    /// an offset has a fraction, else seconds, and that guess is said).
    #[arg(long = "time-unit", alias = "step-unit", value_parser = ["ms", "s", "min", "h"])]
    #[serde(default)]
    pub step_unit: Option<String>,
    /// Keep a node-count trace's final drop of every node to 0 as a
    /// preemption burst (by default it is read as the experiment's end,
    /// reported, and left out of the statistics and fits).
    #[arg(long)]
    #[serde(default)]
    pub keep_final_shutdown: bool,
    /// Also write additions.csv/.parquet: each node-count trace's rises
    /// (the notebook's additions trace).
    #[arg(long)]
    #[serde(default)]
    pub additions: bool,
    /// No table on stdout (diagnostics are still printed).
    #[arg(short, long)]
    #[serde(skip)]
    pub quiet: bool,
}

impl StudyCommand for Args {
    const NAME: &'static str = "traces";
    type Study = TracesStudy;

    crate::driver::common_options!();

    fn study(&self) -> Result<TracesStudy, String> {
        if self.files.is_empty() {
            return Err("no trace file given".into());
        }
        let step_unit = match self.step_unit.as_deref() {
            None => None,
            Some(name) => Some(OffsetUnit::named(name).ok_or_else(|| {
                format!("--time-unit {name:?}: the unit of step plot offsets is ms, s, min or h")
            })?),
        };
        let study = TracesStudy {
            files: self.files.clone(),
            options: ReadOptions {
                format: None,
                step_unit,
                keep_final_shutdown: self.keep_final_shutdown,
            },
            additions: self.additions,
            choice: FigureChoice::default(),
        };
        study.with_choice(FigureChoice::parse(
            &self.only,
            &self.label,
            &TracesStudy::CHOICE_PARAMS,
        )?)
    }

    fn saved(&self) -> SavedStudy {
        SavedStudy::Traces(self.clone())
    }
}

/// Runs `expost traces`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    crate::driver::run(args)
}

impl SavedArgs for Args {
    fn visit_paths(&mut self, visit: &mut dyn FnMut(&mut PathBuf)) {
        for file in &mut self.files {
            visit(file);
        }
        visit_opt(&mut self.output, visit);
    }

    crate::driver::saved_flags_and_run!();
}
