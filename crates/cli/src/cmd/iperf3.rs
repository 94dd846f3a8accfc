//! `expost iperf3 ROOT`: summaries of iperf3 campaigns without a Shremote
//! log. Every run (a folder of iperf3 output, or one file) under ROOT is
//! summarised per flow from the files' own end sections, its intervals are
//! binned over time, and the runs of each configuration (parameters from
//! the path, as `expost failover` reads them) are summarised across trials.

use super::failover::{BandArg, SizeArg};
use super::run::SavedStudy;
use crate::driver::StudyCommand;
use expost_formats::campaign::{Layout, PathPattern};
use expost_formats::iperf3_text::TextOptions;
use expost_ops::band::BandKind;
use expost_ops::bin::EpochGrid;
use expost_render::figure::PaperSize;
use expost_studies::iperf3::{Iperf3Study, Options};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::process::ExitCode;

/// Examples shown at the end of `expost iperf3 --help`.
pub const EXAMPLES: &str = "\
Examples:
  expost iperf3 results/ -o out/
  expost iperf3 client.json
  expost iperf3 results/ --pattern '{proto}_{rate}/{trial}' --x rate -o out/
  expost iperf3 examples/failover --json > iperf3.json
  expost iperf3 results/ -o - | grep ',all,throughput_received,'

A run is the shallowest folder (or file) above each iperf3 output file
(*.json: -J or --json-stream; *.out, *.txt, *.log: text) whose path fits the
layout; a file fitting nowhere makes its folder a run, with one parameter
'run' (with --pattern: an error). Flows are the -P streams of each client
file; server_N.* is the receiver's view of client_N.* (its intervals and any
receiver values the client lacks). Text gives only its summary lines.

Outputs in -o DIR: runs.csv/.parquet (per run, flow 'all', and per flow:
throughput sent/received, retransmits, RTT mean/max, cwnd max, lost,
packets, loss %, jitter, out-of-order, CPU host/remote), configs.csv/.parquet
(per configuration and metric: median, min, max, mean, 95 % CI across
trials), series.csv/.parquet (tidy: params, trial, flow, metric, time,
value, unit), diagnostics.csv, iperf3.json (as --json), manifest.json, and
figures: throughput_{sent,received}_over_time, <metric>_vs_<X> (with --x),
throughput_{sent,received}_cdf (per flow), as SVG, PNG and PDF.

Exit codes: 0 all runs analysed; 1 a file, a run or an output failed (the
others are still analysed); 2 bad command line.";

/// Arguments of `expost iperf3`; also the `[iperf3]` table of a study file.
#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// A folder of runs, or one iperf3 output file.
    pub root: PathBuf,
    /// Write tables, figures and iperf3.json into this folder (created if
    /// needed); `-o -` writes only series.csv, to stdout, for pipes.
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
    /// Path pattern naming the parameters, relative to ROOT, e.g.
    /// '{proto}_{rate}/{trial}'. Default: {exp}_{config}/{exp}_{config}_{trial}.
    #[arg(long, value_name = "PATTERN")]
    #[serde(default)]
    pub pattern: Option<String>,
    /// Draw each summary metric against this parameter (numeric), one line
    /// per combination of the other parameters.
    #[arg(long, value_name = "PARAM")]
    #[serde(default)]
    pub x: Option<String>,
    /// Draw only configurations with one of these values: PARAM=V1,V2 (e.g.
    /// parallel=1,4); repeatable, all must hold. Tables keep them all.
    #[arg(long, value_name = "PARAM=V1,V2")]
    #[serde(default)]
    pub only: Vec<String>,
    /// Legend text for the configurations with PARAM=VALUE:
    /// PARAM=VALUE:TEXT (e.g. parallel=4:"4 streams"); repeatable.
    #[arg(long, value_name = "PARAM=VALUE:TEXT")]
    #[serde(default)]
    pub label: Vec<String>,
    /// Draw only these trials (e.g. 1,2), each configuration's bands made
    /// of them alone; tables keep every trial.
    #[arg(long, value_name = "T1,T2", value_delimiter = ',')]
    #[serde(default)]
    pub trials: Vec<String>,
    /// Epoch width in seconds of series and throughput over time.
    #[arg(long, default_value_t = defaults::bin(), value_name = "SECONDS", allow_hyphen_values = true)]
    #[serde(default = "defaults::bin")]
    pub bin: f64,
    /// Band across trials.
    #[arg(long, value_enum, default_value_t = defaults::band())]
    #[serde(default = "defaults::band")]
    pub band: BandArg,
    /// strftime format of a custom iperf3 --timestamps prefix.
    #[arg(long, value_name = "FORMAT")]
    #[serde(default)]
    pub timestamp_format: Option<String>,
    /// Figure size.
    #[arg(long, value_enum, default_value_t = defaults::size())]
    #[serde(default = "defaults::size")]
    pub size: SizeArg,
    /// No progress bar, no table on stdout (diagnostics are still printed).
    #[arg(short, long)]
    #[serde(skip)]
    pub quiet: bool,
}

mod defaults {
    use super::{BandArg, SizeArg};

    pub fn bin() -> f64 {
        1.0
    }
    pub fn band() -> BandArg {
        BandArg::Median
    }
    pub fn size() -> SizeArg {
        SizeArg::Column
    }
}

impl StudyCommand for Args {
    const NAME: &'static str = "iperf3";
    type Study = Iperf3Study;

    crate::driver::common_options!();

    fn study(&self) -> Result<Iperf3Study, String> {
        super::check::real("--bin", self.bin, 0.001, false, 3600.0, "seconds")?;
        let grid = EpochGrid::new(self.bin)
            .ok_or_else(|| format!("--bin {} is not a positive number of seconds", self.bin))?;
        if self
            .x
            .as_deref()
            .is_some_and(|x| x.is_empty() || x == "trial")
        {
            return Err("--x needs a parameter of the path (not the trial)".into());
        }
        let layout = match &self.pattern {
            None => Layout::Flightplan,
            Some(text) => Layout::Pattern(
                text.parse::<PathPattern>()
                    .map_err(|e| format!("--pattern '{text}': {e}"))?,
            ),
        };
        Ok(Iperf3Study {
            root: self.root.clone(),
            layout,
            options: Options {
                grid,
                text: TextOptions {
                    timestamp_format: self.timestamp_format.clone(),
                    utc_offset_s: 0.0,
                },
                band: match self.band {
                    BandArg::Median => BandKind::MedianMinMax,
                    BandArg::Mean => BandKind::MeanCi95,
                },
                x: self.x.clone(),
                choice: expost_studies::choice::FigureChoice::parse_any(&self.only, &self.label)?,
                trials: expost_studies::choice::parse_trials(&self.trials)?,
            },
            size: match self.size {
                SizeArg::Column => PaperSize::Column,
                SizeArg::Page => PaperSize::Page,
                SizeArg::Slide => PaperSize::Slide,
            },
        })
    }

    fn saved(&self) -> SavedStudy {
        SavedStudy::Iperf3(self.clone())
    }
}

/// Runs the iperf3 study.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    crate::driver::run(args)
}

impl super::run::SavedArgs for Args {
    fn visit_paths(&mut self, visit: &mut dyn FnMut(&mut PathBuf)) {
        visit(&mut self.root);
        super::run::visit_opt(&mut self.output, visit);
    }

    crate::driver::saved_flags_and_run!();
}
