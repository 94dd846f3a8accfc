//! `expost failover ROOT`: the failover study.
//!
//! Finds every run folder under ROOT (a folder with `event_log.json` and
//! `iperf/`), aligns each run's iperf3 flows on the Shremote `iperf_client`
//! event, bins them in 0.1 s epochs inside the window where all flows ran,
//! combines the flows (throughput summed, loss = Σlost/Σpackets, RTT
//! averaged), finds the outage, and bands the runs of each configuration
//! across trials (median with min–max, or mean with 95 % CI).

use super::run::SavedStudy;
use crate::driver::StudyCommand;
use clap::ValueEnum;
use expost_formats::campaign::{Layout, PathPattern};
use expost_formats::iperf3_text::TextOptions;
use expost_ops::band::BandKind;
use expost_ops::bin::EpochGrid;
use expost_ops::window::TimeWindow;
use expost_render::figure::PaperSize;
use expost_studies::failover::{FailoverStudy, Options};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::process::ExitCode;

/// Examples shown at the end of `expost failover --help`.
pub const EXAMPLES: &str = "\
Examples:
  expost failover examples/failover -o out/
  expost failover runs/ --json > failover.json
  expost failover runs/ -o - | grep ',all,loss,' 
  expost failover runs/ --pattern '{study}/fec_udp_failover_{poll_ms}/{_}_{trial}' -o out/
  expost failover runs/ --window 11:19 --band mean -o out/

Outputs in -o DIR: series.csv/.parquet (tidy: params, trial, flow, metric,
time, value, unit; flow \"all\" is the flows combined; --per-flow adds each
flow's rows; --metric adds iperf_FIELD rows, --overlay NAME[ENTITY] rows),
bands.csv, runs.csv/.parquet,
diagnostics.csv, failover.json (as --json), figures.json, and figures loss,
throughput, goodput, rtt (and *_zoom around the outage) as SVG, PNG and PDF.
Then `expost report DIR -o report.html` puts them all in one page.

Exit codes: 0 all runs analysed; 1 a run or an output failed (details on
stderr, and in diagnostics.csv); 2 bad command line.";

/// Which band to draw around each configuration's line.
#[derive(Debug, Clone, Copy, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BandArg {
    /// Median across trials, with min–max band.
    Median,
    /// Mean across trials, with 95 % confidence interval.
    Mean,
}

/// Figure size.
#[derive(Debug, Clone, Copy, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SizeArg {
    /// Single paper column, 3.3 in wide.
    Column,
    /// Full page width, 7 in.
    Page,
    /// A 16:9 slide.
    Slide,
}

/// Arguments of `expost failover`; also the `[failover]` table of a study
/// file (`expost.toml`), where every key but `root` may be left out.
#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Campaign folder: every folder below it holding event_log.json and iperf/ is a run.
    pub root: PathBuf,
    /// Write tables, figures and failover.json into this folder (created if
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
    /// '{study}/fec_udp_failover_{poll_ms}/{_}_{trial}'. Default: the Flightplan layout {exp}_{config}/{exp}_{config}_{trial}.
    #[arg(long, value_name = "PATTERN")]
    #[serde(default)]
    pub pattern: Option<String>,
    /// The Shremote event each run is aligned on (its time_).
    #[arg(long, default_value_t = defaults::anchor(), value_name = "NAME")]
    #[serde(default = "defaults::anchor")]
    pub anchor: String,
    /// Legend text for a configuration: PARAM=VALUE:TEXT (e.g.
    /// config=001:1 ms poll); repeatable.
    #[arg(long, value_name = "PARAM=VALUE:TEXT")]
    #[serde(default)]
    pub label: Vec<String>,
    /// Draw only the configurations whose PARAM has one of these values:
    /// PARAM=V1,V2 (e.g. config=020,050); repeatable, all must hold. Tables
    /// keep every configuration.
    #[arg(long, value_name = "PARAM=V1,V2")]
    #[serde(default)]
    pub only: Vec<String>,
    /// Draw only these trials (e.g. 1,2), the bands made of them alone;
    /// tables keep every trial.
    #[arg(long, value_name = "T1,T2", value_delimiter = ',')]
    #[serde(default)]
    pub trials: Vec<String>,
    /// Other Shremote events to mark on the figures (e.g. failover,recovery):
    /// each drawn as a labelled vertical line at its median time, and each
    /// run's time of it in the JSON (`marks`).
    #[arg(long, value_name = "NAME,…", value_delimiter = ',')]
    #[serde(default)]
    pub mark: Vec<String>,
    /// Also draw these fields of the iperf3 client's intervals (e.g.
    /// snd_cwnd,retransmits,rtt): each one's series (metric iperf_FIELD, in
    /// the field's own unit, rtt in µs), bands and figure iperf_FIELD.
    /// Counts (bytes, retransmits, packets, lost_packets) are summed over
    /// streams, flows and epochs; snd_cwnd, snd_wnd and bits_per_second
    /// summed over streams and flows and averaged within an epoch; other
    /// fields averaged. A field no run has is an error naming those there are.
    #[arg(long, value_name = "FIELD,…", value_delimiter = ',')]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metric: Vec<String>,
    /// An external series beside the traffic, NAME=FILE (e.g.
    /// power=power.csv), repeatable: FILE in each run folder, a CSV with
    /// time (epoch seconds, or seconds after the anchor), value and
    /// optionally entity and unit columns (or Parquet, *.parquet, with the
    /// same columns), or line protocol (*.lp: the
    /// entity/device/host tag, the value field, a unit tag). A FILE at
    /// ROOT itself serves every run, given out by its run column (a run
    /// folder's name or path). Put on the run's clock, kept in
    /// its window, binned as the mean per epoch, banded across trials; in
    /// series.* and bands.csv as NAME[ENTITY], drawn as overlay_NAME_ENTITY
    /// on the traffic figures' time range.
    #[arg(long, value_name = "NAME=FILE")]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overlay: Vec<String>,
    /// Epoch width in seconds (samples are binned by the epoch their interval ends in, rounding up).
    #[arg(long, default_value_t = defaults::bin(), value_name = "SECONDS", allow_hyphen_values = true)]
    #[serde(default = "defaults::bin")]
    pub bin: f64,
    /// Keep only this time window, seconds after the anchor (e.g. 11:19), in series, bands and figures.
    #[arg(long, value_name = "START:END", allow_hyphen_values = true)]
    #[serde(default, with = "window_text")]
    pub window: Option<TimeWindow>,
    /// Rolling window over each run's combined series, in epochs (loss over it is Σlost/Σpackets).
    #[arg(long, default_value_t = defaults::rolling(), value_name = "EPOCHS", allow_hyphen_values = true)]
    #[serde(default = "defaults::rolling")]
    pub rolling: usize,
    /// Also write each flow's own rows in series.csv/.parquet (by default
    /// only the flows combined, flow "all").
    #[arg(long)]
    #[serde(default)]
    pub per_flow: bool,
    /// Band across trials.
    #[arg(long, value_enum, default_value_t = defaults::band())]
    #[serde(default = "defaults::band")]
    pub band: BandArg,
    /// TCP disruptions: per flow, a dip is a run of intervals whose received
    /// throughput is below 90 % of the median of the 2 s before it; it
    /// counts when the client shows retransmissions, a cwnd collapse or an
    /// RTT rise within one interval of it, or, without them, when it falls
    /// below this fraction of that median. It starts inside its first
    /// interval (full rate assumed until then) and lasts until throughput is
    /// back to >= 90 % of that median; its bytes deficit is against that
    /// median. None found: outage null with a reason, left out of the
    /// configuration's statistics. The JSON's tcp_outage_rule states it in full.
    #[arg(long, default_value_t = defaults::tcp_threshold(), value_name = "FRACTION", allow_hyphen_values = true)]
    #[serde(default = "defaults::tcp_threshold")]
    pub tcp_threshold: f64,
    /// Keep iperf3 --omit warm-up intervals (left out by default).
    #[arg(long)]
    #[serde(default)]
    pub include_omitted: bool,
    /// Zone of iperf3 --timestamps prefixes, hours east of UTC (they carry none).
    #[arg(
        long,
        default_value_t = 0.0,
        value_name = "HOURS",
        allow_hyphen_values = true
    )]
    #[serde(default)]
    pub text_utc_offset: f64,
    /// strftime format of a custom iperf3 --timestamps prefix.
    #[arg(long, value_name = "FORMAT")]
    #[serde(default)]
    pub timestamp_format: Option<String>,
    /// Figure size.
    #[arg(long, value_enum, default_value_t = defaults::size())]
    #[serde(default = "defaults::size")]
    pub size: SizeArg,
    /// No progress bar, no table on stderr/stdout (diagnostics are still printed).
    #[arg(short, long)]
    #[serde(skip)]
    pub quiet: bool,
}

/// Defaults shared by the command line and study files.
mod defaults {
    use super::{BandArg, SizeArg};

    pub fn anchor() -> String {
        "iperf_client".into()
    }
    pub fn bin() -> f64 {
        0.1
    }
    pub fn rolling() -> usize {
        1
    }
    pub fn band() -> BandArg {
        BandArg::Median
    }
    pub fn tcp_threshold() -> f64 {
        0.5
    }
    pub fn size() -> SizeArg {
        SizeArg::Column
    }
}

/// `window` in study files: the same `START:END` text as on the command line.
mod window_text {
    use expost_ops::window::TimeWindow;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(window: &Option<TimeWindow>, s: S) -> Result<S::Ok, S::Error> {
        window.map(|w| w.to_string()).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TimeWindow>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| t.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

impl Args {
    /// `--mark`'s event names: none empty, none twice, not the anchor.
    fn marks(&self) -> Result<Vec<String>, String> {
        let mut marks: Vec<String> = Vec::new();
        for name in &self.mark {
            let name = name.trim();
            if name.is_empty() {
                return Err("--mark: an event name is empty".into());
            }
            if name == self.anchor {
                return Err(format!(
                    "--mark {name}: that is the anchor, at 0 s on every figure"
                ));
            }
            if !marks.iter().any(|m| m == name) {
                marks.push(name.to_string());
            }
        }
        Ok(marks)
    }

    /// `--metric`'s field names: none empty, none twice.
    fn fields(&self) -> Result<Vec<String>, String> {
        let mut fields: Vec<String> = Vec::new();
        for name in &self.metric {
            let name = name.trim();
            if name.is_empty() {
                return Err("--metric: a field name is empty (e.g. --metric snd_cwnd,rtt)".into());
            }
            if !fields.iter().any(|f| f == name) {
                fields.push(name.to_string());
            }
        }
        Ok(fields)
    }

    /// `--trials`' names, none empty.
    fn trials(&self) -> Result<Vec<String>, String> {
        expost_studies::choice::parse_trials(&self.trials)
    }

    /// `--overlay`'s NAME=FILE specs, no name twice.
    fn overlays(&self) -> Result<Vec<expost_studies::failover::overlay::OverlaySpec>, String> {
        let mut specs: Vec<expost_studies::failover::overlay::OverlaySpec> = Vec::new();
        for given in &self.overlay {
            let spec: expost_studies::failover::overlay::OverlaySpec =
                given.parse().map_err(|e| format!("--overlay {e}"))?;
            if specs.iter().any(|s| s.name == spec.name) {
                return Err(format!("--overlay {}: the name is given twice", spec.name));
            }
            specs.push(spec);
        }
        expost_studies::failover::overlay::resolve_campaign_files(&self.root, specs)
    }

    fn options(&self) -> Result<Options, String> {
        use super::check::{real, whole_usize};
        real("--bin", self.bin, 0.001, false, 3600.0, "seconds")?;
        real(
            "--tcp-threshold",
            self.tcp_threshold,
            0.0,
            true,
            0.999,
            "a fraction",
        )?;
        whole_usize("--rolling", self.rolling, 1, 100_000, "epochs")?;
        real(
            "--text-utc-offset",
            self.text_utc_offset,
            -24.0,
            false,
            24.0,
            "hours",
        )?;
        let grid = EpochGrid::new(self.bin)
            .ok_or_else(|| format!("--bin {} is not a positive number of seconds", self.bin))?;
        if !(self.tcp_threshold > 0.0 && self.tcp_threshold < 1.0) {
            return Err(format!(
                "--tcp-threshold {} must lie between 0 and 1",
                self.tcp_threshold
            ));
        }
        if self.rolling == 0 {
            return Err("--rolling must be at least 1 epoch".into());
        }
        Ok(Options {
            anchor: self.anchor.clone(),
            grid,
            window: self.window,
            rolling: self.rolling,
            tcp_threshold: self.tcp_threshold,
            include_omitted: self.include_omitted,
            keep_flow_epochs: self.per_flow,
            text: TextOptions {
                timestamp_format: self.timestamp_format.clone(),
                utc_offset_s: self.text_utc_offset * 3600.0,
            },
            band: match self.band {
                BandArg::Median => BandKind::MedianMinMax,
                BandArg::Mean => BandKind::MeanCi95,
            },
            marks: self.marks()?,
            choice: expost_studies::choice::FigureChoice::parse_any(&self.only, &self.label)?,
            trials: self.trials()?,
            fields: self.fields()?,
            overlays: self.overlays()?,
        })
    }

    fn layout(&self) -> Result<Layout, String> {
        match &self.pattern {
            None => Ok(Layout::Flightplan),
            Some(text) => Ok(Layout::Pattern(
                text.parse::<PathPattern>()
                    .map_err(|e| format!("--pattern '{text}': {e}"))?,
            )),
        }
    }
}

impl From<SizeArg> for PaperSize {
    fn from(size: SizeArg) -> PaperSize {
        match size {
            SizeArg::Column => PaperSize::Column,
            SizeArg::Page => PaperSize::Page,
            SizeArg::Slide => PaperSize::Slide,
        }
    }
}

impl StudyCommand for Args {
    const NAME: &'static str = "failover";
    type Study = FailoverStudy;

    crate::driver::common_options!();

    fn study(&self) -> Result<FailoverStudy, String> {
        Ok(FailoverStudy {
            root: self.root.clone(),
            layout: self.layout()?,
            options: self.options()?,
            per_flow: self.per_flow,
            size: self.size.into(),
        })
    }

    fn saved(&self) -> SavedStudy {
        SavedStudy::Failover(self.clone())
    }
}

/// Runs the failover study.
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
