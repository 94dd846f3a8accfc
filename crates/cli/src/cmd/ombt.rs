//! `expost ombt ROOT`: the messaging benchmark post-mortem (ombt driven by
//! ombt-orchestrator). Per run listed in the campaign's `params.json`:
//! clients' and servers' message counts, rates over the aggregate span,
//! merged latency statistics and distribution, spread across agents, and
//! the bus's telemetry over the run's own window.

use super::failover::SizeArg;
use super::run::SavedStudy;
use crate::driver::StudyCommand;
use expost_studies::ombt::{
    parse_query, FigureAxes, LineProtocolFile, OmbtStudy, TelemetryFrom, TelemetryOptions,
};
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
  expost ombt campaign/ --x nbr_servers --group nbr_clients --facet executor -o out/
  expost ombt campaign/ --only call_type=rpc-call --label nbr_servers=1:\"one server\" -o out/
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
cannot tell). A tarball is refused (an error for its run) if it holds
anything but regular files and folders (links, devices, FIFOs) or unpacks to
more than --max-unpacked GiB (default 4). Always cut to the run's window
(latest start to latest stop of clients and servers). In --query, $start and
$stop are replaced by the window's ends in epoch nanoseconds.

Outputs in -o DIR: runs.csv/.parquet (parameters + statistics + telemetry),
series.csv/.parquet (telemetry samples), diagnostics.csv, ombt.json (as
--json), manifest.json (what the folder holds), figures rate_<call type>,
latency_<call type> (against the number of clients, one line per number of
servers; other axes with --x, --group, --facet, then named
rate_<facet>_<value>; their specs in figures.json, for `expost report`),
latency_dist_<run> (log-decade bars: clients above, servers below, on one
x axis) and telemetry_<run>_<measurement>_<field> (the run's window
marked) as SVG, PNG
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
    /// Write tables, figures and ombt.json into this folder (created if
    /// needed); `-o -` writes only runs.csv, to stdout, for pipes.
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
    /// The parameter on the rate and latency figures' x axis (a number; default nbr_clients).
    #[arg(long, value_name = "PARAM")]
    #[serde(default)]
    pub x: Option<String>,
    /// One line per value of this parameter (default nbr_servers).
    #[arg(long, value_name = "PARAM")]
    #[serde(default)]
    pub group: Option<String>,
    /// One rate and one latency figure per value of this parameter (default
    /// call_type). Runs that share a point (same x, group and facet) are
    /// averaged; the figure's legend and ombt.json ("figures") name the
    /// parameters they differ in.
    #[arg(long, value_name = "PARAM")]
    #[serde(default)]
    pub facet: Option<String>,
    /// Draw only runs with one of these values: PARAM=V1,V2 (e.g.
    /// call_type=rpc-call); repeatable, all must hold. Tables keep every run.
    #[arg(long, value_name = "PARAM=V1,V2")]
    #[serde(default)]
    pub only: Vec<String>,
    /// Legend text for a line or figure: PARAM=VALUE:TEXT for a value of the
    /// --group or --facet parameter (e.g. nbr_servers=1:"one server");
    /// repeatable.
    #[arg(long, value_name = "PARAM=VALUE:TEXT")]
    #[serde(default)]
    pub label: Vec<String>,
    /// Read telemetry for every run from this line-protocol export file.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["influx", "no_telemetry", "telemetry"])]
    #[serde(default)]
    pub lp: Option<PathBuf>,
    /// Query telemetry from this InfluxDB 1.x server (e.g. http://127.0.0.1:8086). Credentials: http://user:password@host:8086, or INFLUX_USERNAME and INFLUX_PASSWORD, sent as basic authentication. The password is never shown or saved (outputs show user:***); the study file keeps http://user@host, and a rerun takes the password from INFLUX_PASSWORD.
    #[arg(long, value_name = "URL", conflicts_with_all = ["no_telemetry", "telemetry"], group = "server")]
    #[serde(default, serialize_with = "shown_url")]
    pub influx: Option<String>,
    /// Where telemetry comes from: lp (each run's *.lp files) or tarball (each run's influxdb-data.tar.gz, served by a local influxd). Default: the *.lp files, or, in a campaign with none whose runs hold influxdb-data.tar.gz (ombt-orchestrator's own layout), the tarballs when an influxd can run (else a warning says what to install or pass).
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
    /// With --telemetry tarball: refuse a tarball that unpacks to more than this many GiB (default 4; its run gets an error).
    #[arg(long, value_name = "GIB")]
    #[serde(default)]
    pub max_unpacked: Option<f64>,
    /// The InfluxDB database.
    #[arg(long, default_value = "telegraf", value_name = "NAME")]
    #[serde(default = "defaults::database")]
    pub database: String,
    /// Seconds before an InfluxDB request is given up.
    #[arg(
        long,
        default_value_t = 30.0,
        value_name = "SECONDS",
        allow_hyphen_values = true
    )]
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
    #[arg(long, value_enum, default_value_t = SizeArg::Column)]
    #[serde(default = "defaults::size")]
    pub size: SizeArg,
    /// No progress bar and no table (diagnostics are still printed).
    #[arg(short, long)]
    #[serde(skip)]
    pub quiet: bool,
}

/// An InfluxDB URL as recorded in outputs: its password, if any, as `***`.
fn shown_url<S: serde::Serializer>(url: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    url.as_deref()
        .map(|u| expost_remote::redact::split_url(u).shown)
        .serialize(s)
}

/// Study-file defaults: the command line's.
mod defaults {
    use super::SizeArg;

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
    /// The command line's exclusions, checked again for options read from
    /// a study file (clap checks the command line itself).
    fn check_exclusions(&self) -> Result<(), String> {
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
                return Err(format!("'{a}' and '{b}' cannot be used together"));
            }
        }
        Ok(())
    }

    /// The figures' axes: the defaults where not given; one parameter on
    /// two axes is refused.
    fn axes(&self) -> Result<FigureAxes, String> {
        let default = FigureAxes::default();
        let choice = expost_studies::choice::FigureChoice::parse_any(&self.only, &self.label)?;
        let axes = FigureAxes {
            x: self.x.clone().unwrap_or(default.x),
            group: self.group.clone().unwrap_or(default.group),
            facet: self.facet.clone().unwrap_or(default.facet),
            choice,
        };
        let named = [
            ("x", &axes.x),
            ("group", &axes.group),
            ("facet", &axes.facet),
        ];
        for (i, (role, param)) in named.iter().enumerate() {
            if param.trim().is_empty() {
                return Err(format!("--{role} needs a parameter name"));
            }
            if let Some((other, _)) = named[i + 1..].iter().find(|(_, p)| p == param) {
                return Err(format!(
                    "'{param}' is on two axes (--{role} and --{other}): give each axis its own parameter"
                ));
            }
        }
        Ok(axes)
    }

    /// `--max-unpacked` in bytes (default 4 GiB).
    fn max_unpacked_bytes(&self) -> Result<u64, String> {
        match self.max_unpacked {
            None => Ok(expost_remote::influxd::DEFAULT_MAX_UNPACKED),
            Some(gib) if gib > 0.0 && gib.is_finite() && gib < 1e9 => {
                Ok((gib * (1u64 << 30) as f64) as u64)
            }
            Some(gib) => Err(format!(
                "--max-unpacked {gib} must be a positive number of GiB"
            )),
        }
    }

    /// Where telemetry comes from and what is asked of it.
    fn telemetry(&self) -> Result<TelemetryOptions, String> {
        self.check_exclusions()?;
        let tarball = self.telemetry == Some(TelemetryKind::Tarball);
        let server = self.influx.is_some() || tarball;
        if !self.no_telemetry && !server && !self.queries.is_empty() {
            return Err("--query needs --influx URL or --telemetry tarball".into());
        }
        // The default may serve the runs' tarballs: it needs the timeout too.
        let auto = !self.no_telemetry && !server && self.lp.is_none() && self.telemetry.is_none();
        let server = server || auto;
        if server && !(self.timeout > 0.0 && self.timeout.is_finite()) {
            return Err(format!(
                "--timeout {} must be a positive number of seconds",
                self.timeout
            ));
        }
        let from = match (&self.influx, tarball) {
            _ if self.no_telemetry => TelemetryFrom::Nothing,
            (_, true) => TelemetryFrom::Tarball {
                share: !self.influxd_per_run,
                max_unpacked: self.max_unpacked_bytes()?,
            },
            (Some(url), false) => TelemetryFrom::Influx(url.clone()),
            (None, false) if auto => TelemetryFrom::Auto {
                max_unpacked: self.max_unpacked_bytes()?,
            },
            (None, false) => TelemetryFrom::LineProtocol(self.lp.clone()),
        };
        Ok(TelemetryOptions {
            from,
            database: self.database.clone(),
            timeout: if server {
                Duration::from_secs_f64(self.timeout)
            } else {
                Duration::ZERO
            },
            queries: self
                .queries
                .iter()
                .map(|q| parse_query(q))
                .collect::<Result<_, _>>()?,
            measurements: if self.measurements.is_empty() {
                LineProtocolFile::default_measurements()
            } else {
                self.measurements.clone()
            },
        })
    }
}

impl StudyCommand for Args {
    const NAME: &'static str = "ombt";
    type Study = OmbtStudy;

    crate::driver::common_options!();

    fn study(&self) -> Result<OmbtStudy, String> {
        super::check::real("--timeout", self.timeout, 0.0, true, 86_400.0, "seconds")?;
        Ok(
            OmbtStudy::new(self.root.clone(), self.telemetry()?, self.size.into())
                .with_axes(self.axes()?),
        )
    }

    /// The options to save: the InfluxDB URL without its password (a
    /// rerun takes it from `INFLUX_PASSWORD`).
    fn saved(&self) -> SavedStudy {
        let mut args = self.clone();
        args.influx = args
            .influx
            .map(|u| expost_remote::redact::split_url(&u).saved);
        SavedStudy::Ombt(args)
    }
}

/// Runs the ombt study.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    crate::driver::run(args)
}

impl super::run::SavedArgs for Args {
    fn visit_paths(&mut self, visit: &mut dyn FnMut(&mut PathBuf)) {
        visit(&mut self.root);
        super::run::visit_opt(&mut self.output, visit);
        super::run::visit_opt(&mut self.lp, visit);
    }

    crate::driver::saved_flags_and_run!();
}
