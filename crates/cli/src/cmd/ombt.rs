//! `expost ombt ROOT`: the messaging benchmark post-mortem (ombt driven by
//! ombt-orchestrator). Per run listed in the campaign's `params.json`:
//! clients' and servers' message counts, rates over the aggregate span,
//! merged latency statistics and distribution, spread across agents, and
//! the bus's telemetry over the run's own window.

mod influx_source;
mod outputs;
mod tarball_source;

use crate::output::OutputDir;
use crate::progress;
use anyhow::{bail, Result};
use expost_model::Severity;
use expost_render::figure::PaperSize;
use expost_render::text_table::{render, Align};
use expost_studies::ombt::{self, Campaign, LineProtocolFile, Report, TelemetrySource};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Examples shown at the end of `expost ombt --help`.
pub const EXAMPLES: &str = "\
Examples:
  expost ombt tests/fixtures/ombt/campaign -o out/
  expost ombt campaign/ --json > ombt.json
  expost ombt campaign/test_case_1/params.json --no-telemetry
  expost ombt campaign/ --lp telegraf-export.lp -o out/
  expost ombt campaign/ --telemetry tarball -o out/
  expost ombt campaign/ --measurement qdrouterd --measurement cpu -o out/
  expost ombt campaign/ --influx http://127.0.0.1:8086 \\
      --query \"q_len=SELECT max(messages) FROM rabbitmq_overview WHERE time >= \\$start AND time <= \\$stop\"

ROOT is a params.json, a folder holding one, or a folder of test_case_N/
folders holding one each. Each run's backup_dir is looked up relative to its
params.json, then to ROOT. The controller's results are the
*controller*.log files whose content is JSON (not the *_docker.log output);
a run with several control-bus shards has one per shard, and their agents
are merged.

Telemetry: by default each run's *.lp files (line protocol, influx_inspect
export layout) are read in-process; --lp FILE reads one file for all runs;
--influx URL queries an InfluxDB 1.x server; --telemetry tarball unpacks each
run's influxdb-data.tar.gz into a temp folder, serves it with a local influxd
(Debian's influxdb package, or $EXPOST_INFLUXD) on a free 127.0.0.1 port,
asks it the --influx queries and stops it (runs in parallel; Ctrl-C stops
the servers and removes the temp folders). Where tarballs are snapshots of
one InfluxDB taken one after another (incremental campaigns), one influxd
over the latest snapshot answers for every run whose data it still holds
(told by each tarball's meta/meta.db: same cluster id, later index, every
shard group kept); --influxd-per-run turns that off (use it if runs' data
folders were copied from one another and then grew apart: their meta data
cannot tell). Always cut to the run's window
(latest start to latest stop of clients and servers). In --query, $start and
$stop are replaced by the window's ends in epoch nanoseconds.

Outputs in -o DIR: runs.csv/.parquet (parameters + statistics + telemetry),
series.csv/.parquet (telemetry samples), diagnostics.csv, ombt.json (as
--json), figures rate_<call type>, latency_<call type> (against the number of
clients, one line per number of servers; their specs in figures.json, for
`expost report`), latency_dist_<run> (log-decade bars) and
telemetry_<run>_<measurement>_<field> (the run's window marked) as SVG, PNG
and PDF.

Exit codes: 0 all runs analysed; 1 a run, a query or an output failed
(details on stderr and in diagnostics.csv); 2 bad command line.";

/// Arguments of `expost ombt`; also the `[ombt]` table of a study file
/// (`expost.toml`), where every key but `root` may be left out.
#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The campaign: a params.json, or a folder holding one (or test_case_N/params.json).
    pub root: PathBuf,
    /// Write tables, figures and ombt.json into this folder (created if needed).
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
    /// Read telemetry for every run from this line-protocol export file.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["influx", "no_telemetry", "telemetry"])]
    #[serde(default)]
    pub lp: Option<PathBuf>,
    /// Query telemetry from this InfluxDB 1.x server (e.g. http://127.0.0.1:8086).
    #[arg(long, value_name = "URL", conflicts_with_all = ["no_telemetry", "telemetry"], group = "server")]
    #[serde(default)]
    pub influx: Option<String>,
    /// Where telemetry comes from: lp (each run's *.lp files, the default) or tarball (each run's influxdb-data.tar.gz, served by a local influxd).
    #[arg(
        long,
        value_enum,
        value_name = "SOURCE",
        conflicts_with = "no_telemetry",
        group = "server"
    )]
    #[serde(default)]
    pub telemetry: Option<TelemetryKind>,
    /// With --telemetry tarball: one influxd per run over its own tarball, even where a later snapshot of the same InfluxDB holds the run's data (by default one server answers for all the snapshots it holds).
    #[arg(long)]
    #[serde(default)]
    pub influxd_per_run: bool,
    /// The InfluxDB database.
    #[arg(long, default_value = "telegraf", value_name = "NAME")]
    #[serde(default = "defaults::database")]
    pub database: String,
    /// Seconds before an InfluxDB request is given up.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    #[serde(default = "defaults::timeout")]
    pub timeout: f64,
    /// An extra InfluxQL query per run, NAME='SELECT …' ($start/$stop: the run's window, epoch ns); repeatable. Needs --influx or --telemetry tarball.
    #[arg(long = "query", value_name = "NAME=QUERY", requires = "server")]
    #[serde(default, rename = "query")]
    pub queries: Vec<String>,
    /// Keep the samples of this measurement for series.* and the telemetry figures (repeatable; default: cpu, rabbitmq_overview, rabbitmq_node).
    #[arg(
        long = "measurement",
        value_name = "NAME",
        conflicts_with = "no_telemetry"
    )]
    #[serde(default, rename = "measurement")]
    pub measurements: Vec<String>,
    /// Do not read telemetry.
    #[arg(long)]
    #[serde(default)]
    pub no_telemetry: bool,
    /// Figure size.
    #[arg(long, value_enum, default_value_t = super::failover::SizeArg::Column)]
    #[serde(default = "defaults::size")]
    pub size: super::failover::SizeArg,
    /// No progress bar and no table (diagnostics are still printed).
    #[arg(short, long)]
    #[serde(skip)]
    pub quiet: bool,
}

/// Study-file defaults: the command line's.
mod defaults {
    use super::super::failover::SizeArg;

    pub fn database() -> String {
        "telegraf".into()
    }
    pub fn timeout() -> f64 {
        30.0
    }
    pub fn size() -> SizeArg {
        SizeArg::Column
    }
}

/// A telemetry source named by `--telemetry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TelemetryKind {
    /// Each run's *.lp files, read in-process.
    Lp,
    /// Each run's influxdb-data.tar.gz, served by a local influxd.
    Tarball,
}

impl Args {
    pub(crate) fn paper_size(&self) -> PaperSize {
        match self.size {
            super::failover::SizeArg::Column => PaperSize::Column,
            super::failover::SizeArg::Page => PaperSize::Page,
            super::failover::SizeArg::Slide => PaperSize::Slide,
        }
    }

    /// The command line's exclusions, checked again for options read from
    /// a study file (clap checks the command line itself).
    fn check_exclusions(&self) -> Result<()> {
        let set = [
            ("lp", self.lp.is_some()),
            ("influx", self.influx.is_some()),
            ("telemetry", self.telemetry.is_some()),
            ("no_telemetry", self.no_telemetry),
            ("measurement", !self.measurements.is_empty()),
        ];
        let on = |name: &str| set.iter().any(|(n, v)| *n == name && *v);
        for (a, b) in [
            ("lp", "influx"),
            ("lp", "telemetry"),
            ("lp", "no_telemetry"),
            ("influx", "telemetry"),
            ("influx", "no_telemetry"),
            ("telemetry", "no_telemetry"),
            ("measurement", "no_telemetry"),
        ] {
            if on(a) && on(b) {
                bail!("'{a}' and '{b}' cannot be used together");
            }
        }
        Ok(())
    }

    fn telemetry(&self) -> Result<Option<Box<dyn TelemetrySource>>> {
        self.check_exclusions()?;
        if self.no_telemetry {
            return Ok(None);
        }
        let tarball = self.telemetry == Some(TelemetryKind::Tarball);
        if self.influx.is_none() && !tarball && !self.queries.is_empty() {
            // A bad command line: clap's message and exit code 2.
            clap::Error::raw(
                clap::error::ErrorKind::MissingRequiredArgument,
                "--query needs --influx URL or --telemetry tarball\n",
            )
            .exit();
        }
        if (self.influx.is_some() || tarball) && !(self.timeout > 0.0 && self.timeout.is_finite()) {
            bail!(
                "--timeout {} must be a positive number of seconds",
                self.timeout
            );
        }
        let queries = self
            .queries
            .iter()
            .map(|q| influx_source::parse_query(q))
            .collect::<Result<Vec<_>>>()?;
        let measurements = if self.measurements.is_empty() {
            LineProtocolFile::default_measurements()
        } else {
            self.measurements.clone()
        };
        if tarball {
            return Ok(Some(Box::new(
                tarball_source::TarballSource::new(
                    &self.database,
                    Duration::from_secs_f64(self.timeout),
                    queries,
                    !self.influxd_per_run,
                )?
                .with_measurements(measurements),
            )));
        }
        if let Some(url) = &self.influx {
            return Ok(Some(Box::new(
                influx_source::InfluxSource::new(
                    url,
                    &self.database,
                    Duration::from_secs_f64(self.timeout),
                    queries,
                )
                .with_measurements(measurements),
            )));
        }
        if let Some(path) = &self.lp {
            if !path.is_file() {
                bail!("telemetry file '{}' does not exist", path.display());
            }
        }
        Ok(Some(Box::new(LineProtocolFile {
            path: self.lp.clone(),
            measurements,
        })))
    }
}

/// Runs the ombt study.
pub fn run(args: Args) -> Result<ExitCode> {
    let mut telemetry = args.telemetry()?;
    let output = match &args.output {
        Some(dir) => Some(OutputDir::prepare(dir)?),
        None => None,
    };
    if !args.root.exists() {
        bail!("campaign '{}' does not exist", args.root.display());
    }
    super::run::save_if_asked(
        args.save_study.as_ref(),
        args.output.as_deref(),
        args.quiet || args.json,
        || super::run::SavedStudy::Ombt(args.clone()),
    )?;
    let (runs, mut campaign_diagnostics) = ombt::find_campaign(&args.root);
    if runs.is_empty() && campaign_diagnostics.is_empty() {
        bail!(
            "no params.json at '{}' (nor in its test_case_N/ folders)",
            args.root.display()
        );
    }
    let serving = args.telemetry == Some(TelemetryKind::Tarball) && !args.no_telemetry;
    if serving {
        tarball_source::install_interrupt_handler()?;
    }
    if let Some(source) = telemetry.as_mut() {
        campaign_diagnostics.extend(source.plan(&runs));
    }
    let bar = progress::bar(runs.len() as u64, "runs", args.quiet || args.json);
    let results = ombt::analyse_campaign(&runs, telemetry.as_deref(), &|| bar.inc(1));
    bar.finish_and_clear();
    // Stops any server still running (e.g. shared by runs that failed early).
    drop(telemetry);
    tarball_source::done_serving();
    if serving && tarball_source::interrupted() {
        // Every local influxd was stopped and its temp folder removed by now.
        eprintln!("interrupted: no output written");
        return Ok(ExitCode::from(130));
    }
    let campaign = Campaign {
        runs: results,
        diagnostics: campaign_diagnostics,
    };
    let mut output_failed = false;
    if let Some(dir) = &output {
        output_failed = outputs::write_all(&campaign, &args, dir);
    }
    if args.json {
        crate::output::print_json(&summary_json(&campaign, &args)?)?;
    } else if !args.quiet {
        print!("{}", terminal_summary(&campaign));
    }
    print_diagnostics(&campaign);
    let failed = campaign.runs.iter().any(|r| !r.ok)
        || output_failed
        || campaign.count_at_least(Severity::Error) > 0;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The JSON contract, plus the expost version, command line and options.
fn summary_json<'a>(campaign: &'a Campaign, args: &Args) -> Result<Report<'a>> {
    Ok(Report {
        command: Some(crate::output::command_line()),
        expost_version: Some(env!("CARGO_PKG_VERSION")),
        options: Some(serde_json::to_value(args)?),
        ..Report::of(campaign)
    })
}

fn fmt_opt(value: Option<f64>, digits: usize) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{v:.digits$}"),
        _ => "-".into(),
    }
}

/// One line per run.
fn terminal_summary(campaign: &Campaign) -> String {
    let header = [
        ("run", Align::Left),
        ("call_type", Align::Left),
        ("clients", Align::Right),
        ("servers", Align::Right),
        ("sent ok", Align::Right),
        ("fail", Align::Right),
        ("client msg/s", Align::Right),
        ("server msg/s", Align::Right),
        ("client lat ms", Align::Right),
        ("server lat ms", Align::Right),
        ("diags", Align::Right),
    ];
    let rows: Vec<Vec<String>> = campaign
        .runs
        .iter()
        .map(|r| {
            let p = r.params();
            let c = r.clients.as_ref();
            let s = r.servers.as_ref();
            vec![
                r.run
                    .entry
                    .backup_dir
                    .clone()
                    .unwrap_or_else(|| format!("#{}", r.run.entry.index)),
                if r.ok {
                    p.get("call_type").cloned().unwrap_or_default()
                } else {
                    "FAILED".into()
                },
                c.map_or("-".into(), |c| c.agents.to_string()),
                s.map_or("-".into(), |s| s.agents.to_string()),
                c.map_or("-".into(), |c| c.msgs_ok.to_string()),
                c.map_or("-".into(), |c| c.msgs_fail.to_string()),
                fmt_opt(c.and_then(|c| c.rate), 1),
                fmt_opt(s.and_then(|s| s.rate), 1),
                fmt_opt(c.and_then(|c| c.latency.average()), 3),
                fmt_opt(s.and_then(|s| s.latency.average()), 3),
                r.diagnostics.len().to_string(),
            ]
        })
        .collect();
    render(&header, &rows)
}

/// Errors and warnings on stderr (at most 40), then one summary line.
fn print_diagnostics(campaign: &Campaign) {
    crate::output::print_serious(campaign.all_diagnostics(), "diagnostics.csv with -o");
    let ok = campaign.runs.iter().filter(|r| r.ok).count();
    eprintln!(
        "{} runs ({} analysed, {} failed); diagnostics: {}",
        campaign.runs.len(),
        ok,
        campaign.runs.len() - ok,
        crate::output::counts_in_words(campaign.all_diagnostics()),
    );
}

impl super::run::SavedArgs for Args {
    fn visit_paths(&mut self, visit: &mut dyn FnMut(&mut PathBuf)) {
        visit(&mut self.root);
        super::run::visit_opt(&mut self.output, visit);
        super::run::visit_opt(&mut self.lp, visit);
    }

    fn set_output_flags(&mut self, json: bool, quiet: bool) {
        self.json = json;
        self.quiet = quiet;
    }

    fn run(self) -> Result<ExitCode> {
        run(self)
    }
}
