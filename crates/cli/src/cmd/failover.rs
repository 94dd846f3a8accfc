//! `expost failover ROOT`: the failover study.
//!
//! Finds every run folder under ROOT (a folder with `event_log.json` and
//! `iperf/`), aligns each run's iperf3 flows on the Shremote `iperf_client`
//! event, bins them in 0.1 s epochs inside the window where all flows ran,
//! combines the flows (throughput summed, loss = Σlost/Σpackets, RTT
//! averaged), finds the outage, and bands the runs of each configuration
//! across trials (median with min–max, or mean with 95 % CI).

mod figures;
mod tables;

use crate::output::{Job, OutputDir};
use crate::progress;
use crate::table::{render, Align};
use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use expost_formats::campaign::{Layout, PathPattern};
use expost_formats::iperf3_text::TextOptions;
use expost_model::Severity;
use expost_ops::band::BandKind;
use expost_ops::bin::EpochGrid;
use expost_ops::window::TimeWindow;
use expost_render::figure::PaperSize;
use expost_render::table::Csv;
use expost_studies::failover::{self, Campaign, Options, Report};
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
flow's rows), bands.csv, runs.csv/.parquet,
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
    /// Path pattern naming the parameters, relative to ROOT, e.g.
    /// '{study}/fec_udp_failover_{poll_ms}/{_}_{trial}'. Default: the Flightplan layout {exp}_{config}/{exp}_{config}_{trial}.
    #[arg(long, value_name = "PATTERN")]
    #[serde(default)]
    pub pattern: Option<String>,
    /// The Shremote event each run is aligned on (its time_).
    #[arg(long, default_value_t = defaults::anchor(), value_name = "NAME")]
    #[serde(default = "defaults::anchor")]
    pub anchor: String,
    /// Epoch width in seconds (samples are binned by the epoch their interval ends in, rounding up).
    #[arg(long, default_value_t = defaults::bin(), value_name = "SECONDS")]
    #[serde(default = "defaults::bin")]
    pub bin: f64,
    /// Keep only this time window, seconds after the anchor (e.g. 11:19), in series, bands and figures.
    #[arg(long, value_name = "START:END", allow_hyphen_values = true)]
    #[serde(default, with = "window_text")]
    pub window: Option<TimeWindow>,
    /// Rolling window over each run's combined series, in epochs (loss over it is Σlost/Σpackets).
    #[arg(long, default_value_t = defaults::rolling(), value_name = "EPOCHS")]
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
    /// TCP outage: the span where summed throughput fell below this fraction of its median.
    #[arg(long, default_value_t = defaults::tcp_threshold(), value_name = "FRACTION")]
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
    fn options(&self) -> Result<Options> {
        let grid = EpochGrid::new(self.bin)
            .with_context(|| format!("--bin {} is not a positive number of seconds", self.bin))?;
        if !(self.tcp_threshold > 0.0 && self.tcp_threshold < 1.0) {
            bail!(
                "--tcp-threshold {} must lie between 0 and 1",
                self.tcp_threshold
            );
        }
        if self.rolling == 0 {
            bail!("--rolling must be at least 1 epoch");
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
        })
    }

    fn layout(&self) -> Result<Layout> {
        match &self.pattern {
            None => Ok(Layout::Flightplan),
            Some(text) => Ok(Layout::Pattern(
                text.parse::<PathPattern>().map_err(anyhow::Error::msg)?,
            )),
        }
    }

    fn paper_size(&self) -> PaperSize {
        match self.size {
            SizeArg::Column => PaperSize::Column,
            SizeArg::Page => PaperSize::Page,
            SizeArg::Slide => PaperSize::Slide,
        }
    }
}

/// Runs the failover study.
pub fn run(args: Args) -> Result<ExitCode> {
    let options = args.options()?;
    let layout = args.layout()?;
    let to_stdout = args.output.as_deref() == Some(std::path::Path::new("-"));
    if to_stdout && args.json {
        bail!("-o - writes series.csv to stdout, and --json the summary: choose one");
    }
    let output = match &args.output {
        Some(dir) if !to_stdout => Some(OutputDir::prepare(dir)?),
        _ => None,
    };
    super::run::save_if_asked(
        args.save_study.as_ref(),
        args.output.as_deref(),
        args.quiet || args.json,
        || super::run::Study::Failover(args.clone()),
    )?;
    if !args.root.is_dir() {
        bail!(
            "campaign folder '{}' does not exist or is not a folder",
            args.root.display()
        );
    }
    let (runs, campaign_diagnostics) = failover::find_runs(&args.root);
    if runs.is_empty() {
        bail!(
            "no run folder under '{}' (a run folder holds event_log.json and iperf/)",
            args.root.display()
        );
    }
    let bar = progress::bar(runs.len() as u64, "runs", args.quiet || args.json);
    let results = failover::analyse_campaign(&runs, &layout, &options, &|| bar.inc(1));
    bar.finish_and_clear();
    let configs = failover::group_configs(&results);
    let campaign = Campaign {
        runs: results,
        configs,
        diagnostics: campaign_diagnostics,
    };
    let mut output_failed = false;
    if let Some(dir) = &output {
        output_failed = write_outputs(&campaign, &options, &args, dir);
    }
    if to_stdout {
        let stdout = std::io::stdout();
        Csv.write_pieces_to(
            &mut tables::series_pieces(&campaign, &options, args.per_flow),
            &mut stdout.lock(),
        )
        .context("could not write series CSV to stdout")?;
    } else if args.json {
        let report = summary_json(&campaign, &args)?;
        println!(
            "{}",
            serde_json::to_string_pretty(&report)
                .context("could not serialise the JSON summary")?
        );
    } else if !args.quiet {
        print!("{}", terminal_summary(&campaign));
    }
    print_diagnostics(&campaign);
    let failed_runs = campaign.runs.iter().filter(|r| !r.ok).count();
    Ok(
        if failed_runs > 0
            || output_failed
            || campaign
                .diagnostics
                .iter()
                .any(|d| d.severity == Severity::Error)
        {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        },
    )
}

/// The JSON contract, plus how it was made: the expost version, the
/// command line and the options (so `expost report` can show them).
fn summary_json(campaign: &Campaign, args: &Args) -> Result<serde_json::Value> {
    let mut value = serde_json::to_value(Report::of(campaign))
        .context("could not serialise the JSON summary")?;
    if let Some(object) = value.as_object_mut() {
        object.insert("expost_version".into(), env!("CARGO_PKG_VERSION").into());
        object.insert("command".into(), crate::output::command_line().into());
        object.insert("options".into(), serde_json::to_value(args)?);
    }
    Ok(value)
}

/// Builds a table.
type Build<'a> = Box<dyn Fn() -> expost_render::table::Table + Send + Sync + 'a>;

/// Writes the table `build` makes as `<name>.csv` (and `.parquet`).
fn table_job<'a>(
    dir: &'a OutputDir,
    name: &'static str,
    parquet: bool,
    build: Build<'a>,
) -> Job<'a> {
    Box::new(move || dir.write_tables(name, &build(), parquet))
}

/// Writes every output file; reports failures on stderr and returns true if any.
fn write_outputs(campaign: &Campaign, options: &Options, args: &Args, dir: &OutputDir) -> bool {
    let jobs: Vec<Job<'_>> = vec![
        // In pieces of whole runs: the largest table is never held whole.
        Box::new(|| {
            dir.write_table_pieces(
                "series",
                &|| Box::new(tables::series_pieces(campaign, options, args.per_flow)),
                true,
            )
        }),
        table_job(dir, "runs", true, Box::new(|| tables::runs(campaign))),
        table_job(
            dir,
            "bands",
            false,
            Box::new(|| tables::bands(campaign, options)),
        ),
        table_job(
            dir,
            "diagnostics",
            false,
            Box::new(|| tables::diagnostics(campaign)),
        ),
        Box::new(|| {
            let path = dir.file("failover.json");
            let json = serde_json::to_vec_pretty(&summary_json(campaign, args)?)?;
            expost_render::atomic::write_atomic(&path, &json)
                .with_context(|| format!("could not write '{}'", path.display()))?;
            Ok(vec![path])
        }),
        Box::new(|| {
            figures::write_all(
                campaign,
                options,
                &args.anchor,
                args.paper_size(),
                dir.path(),
            )
        }),
    ];
    crate::output::run_jobs(&jobs, dir, args.quiet || args.json)
}

fn fmt_opt(value: Option<f64>, digits: usize) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{v:.digits$}"),
        _ => "-".into(),
    }
}

/// The runs and configurations as aligned tables.
fn terminal_summary(campaign: &Campaign) -> String {
    let param_names = tables::param_names(campaign);
    let mut header: Vec<(&str, Align)> = vec![("run", Align::Left)];
    header.extend(param_names.iter().map(|n| (n.as_str(), Align::Left)));
    header.extend([
        ("trial", Align::Left),
        ("proto", Align::Left),
        ("flows", Align::Right),
        ("lost", Align::Right),
        ("packets", Align::Right),
        ("loss %", Align::Right),
        ("outage at s", Align::Right),
        ("outage ms", Align::Right),
        ("diags", Align::Right),
    ]);
    let rows: Vec<Vec<String>> = campaign
        .runs
        .iter()
        .map(|r| {
            let mut row = vec![r.rel.clone()];
            row.extend(
                param_names
                    .iter()
                    .map(|n| r.params.get(n).cloned().unwrap_or_default()),
            );
            let loss = match (r.lost, r.packets) {
                (Some(l), Some(p)) if p > 0 => Some(100.0 * l as f64 / p as f64),
                _ => None,
            };
            row.extend([
                r.trial.clone(),
                if r.ok {
                    r.proto.map_or("-", |p| p.as_str()).to_string()
                } else {
                    "FAILED".into()
                },
                r.flows.len().to_string(),
                r.lost.map_or("-".into(), |v| v.to_string()),
                r.packets.map_or("-".into(), |v| v.to_string()),
                fmt_opt(loss, 3),
                fmt_opt(r.outage.map(|o| o.start), 3),
                fmt_opt(r.outage.map(|o| o.duration * 1e3), 1),
                r.diagnostics.len().to_string(),
            ]);
            row
        })
        .collect();
    let mut out = render(&header, &rows);
    out.push('\n');
    let mut config_header: Vec<(&str, Align)> = param_names
        .iter()
        .map(|n| (n.as_str(), Align::Left))
        .collect();
    config_header.extend([
        ("proto", Align::Left),
        ("trials", Align::Right),
        ("outage ms median", Align::Right),
        ("min", Align::Right),
        ("max", Align::Right),
    ]);
    let config_rows: Vec<Vec<String>> = campaign
        .configs
        .iter()
        .map(|c| {
            let mut row: Vec<String> = param_names
                .iter()
                .map(|n| c.params.get(n).cloned().unwrap_or_default())
                .collect();
            row.extend([
                c.proto.map_or("-", |p| p.as_str()).to_string(),
                c.runs.len().to_string(),
                fmt_opt(c.outage_ms.map(|s| s.median), 1),
                fmt_opt(c.outage_ms.map(|s| s.min), 1),
                fmt_opt(c.outage_ms.map(|s| s.max), 1),
            ]);
            row
        })
        .collect();
    out.push_str(&render(&config_header, &config_rows));
    out
}

/// Errors and warnings on stderr (at most 40 lines), then one summary line.
fn print_diagnostics(campaign: &Campaign) {
    crate::output::print_serious(campaign.all_diagnostics(), "diagnostics.csv with -o");
    let ok = campaign.runs.iter().filter(|r| r.ok).count();
    eprintln!(
        "{} runs ({} analysed, {} failed), {} configurations; diagnostics: {}",
        campaign.runs.len(),
        ok,
        campaign.runs.len() - ok,
        campaign.configs.len(),
        crate::output::counts_in_words(campaign.all_diagnostics()),
    );
}
