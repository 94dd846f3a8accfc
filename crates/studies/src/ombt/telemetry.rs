//! Telemetry of the bus over each run's own time window: the notebook's
//! default figures (minimum over hosts of the mean CPU `usage_idle` per
//! role; maximum of the `rabbitmq_overview` and `rabbitmq_node` fields),
//! and the samples themselves for plotting.
//!
//! Where the samples come from is a [`TelemetrySource`], chosen by
//! [`TelemetryOptions::source`]: line-protocol exports read in-process
//! ([`LineProtocolFile`]), an InfluxDB server ([`InfluxSource`]), or each
//! run's data tarball served by a local `influxd` ([`TarballSource`]).

use super::influx::InfluxSource;
use super::tarball::TarballSource;
use super::CampaignRun;
use crate::study::Context;
use expost_formats::line_protocol;
use expost_model::{Diagnostic, Diagnostics};
use expost_remote::influxd;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `rabbitmq_overview` fields whose maximum over the run is reported.
pub const RABBITMQ_OVERVIEW: [&str; 5] = [
    "messages_delivered",
    "queues",
    "connections",
    "consumers",
    "exchanges",
];
/// `rabbitmq_node` fields whose maximum over the run is reported.
pub const RABBITMQ_NODE: [&str; 3] = ["mem_used", "fd_used", "sockets_used"];
/// Roles (telegraf's `role` tag) whose CPU idleness is reported.
pub const ROLES: [&str; 2] = ["ombt-server", "bus"];

/// A time window, epoch seconds (UTC), both ends included.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Start, epoch seconds.
    pub start: f64,
    /// Stop, epoch seconds.
    pub stop: f64,
}

impl Window {
    /// Whether `t` (epoch seconds) lies inside.
    pub fn contains(&self, t: f64) -> bool {
        t >= self.start && t <= self.stop
    }
}

/// One telemetry sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Measurement, e.g. `cpu`.
    pub measurement: String,
    /// Field, e.g. `usage_idle`.
    pub field: String,
    /// The `host` tag ("" when absent).
    pub host: String,
    /// The `role` tag ("" when absent).
    pub role: String,
    /// The other tags telling series of one host apart, `key=value` joined
    /// by `,` in key order (e.g. `cpu=cpu0`); "" when there are none.
    pub tags: String,
    /// Epoch seconds, UTC.
    pub time: f64,
    /// The value (unit of the field).
    pub value: f64,
}

/// A run's telemetry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Telemetry {
    /// Named figures over the window (the defaults, and user queries).
    pub scalars: BTreeMap<String, f64>,
    /// The samples inside the window.
    pub samples: Vec<Sample>,
}

/// Where a run's telemetry comes from.
pub trait TelemetrySource: Send + Sync + std::fmt::Debug {
    /// The telemetry of `run` over `window`; problems go to `diags`. Long
    /// waits end early once `context` is interrupted.
    fn fetch(
        &self,
        run: &CampaignRun,
        window: Window,
        context: &Context<'_>,
        diags: &mut Diagnostics,
    ) -> Telemetry;

    /// Prepares to serve `runs` (e.g. decides which runs one server can
    /// answer for), before any [`TelemetrySource::fetch`]; returns what the
    /// campaign's diagnostics should say of it. Nothing by default.
    fn plan(&mut self, runs: &[CampaignRun]) -> Vec<Diagnostic> {
        let _ = runs;
        Vec::new()
    }

    /// Every run was fetched (or given up): stops what still runs (a
    /// server shared by runs that failed before asking for it).
    fn finish(&self) {}
}

/// Where telemetry comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum TelemetryFrom {
    /// Nowhere: telemetry is not read.
    Nothing,
    /// The default: each run's `*.lp` files; in a campaign without any
    /// but whose runs hold `influxdb-data.tar.gz` (ombt-orchestrator's own
    /// layout), those tarballs, served by a local `influxd` (or, when none
    /// can run, nothing, and a warning saying what to install or pass).
    Auto {
        /// The most a tarball may unpack to, bytes.
        max_unpacked: u64,
    },
    /// Line-protocol exports read in-process: this file for every run, or
    /// (`None`) each run's own `*.lp` files.
    LineProtocol(Option<PathBuf>),
    /// An InfluxDB 1.x server at this URL.
    Influx(String),
    /// Each run's `influxdb-data.tar.gz`, served by a local `influxd`;
    /// `share`: one server over a later snapshot of the same InfluxDB
    /// answers for the earlier ones it holds.
    Tarball {
        /// Whether one server may answer for several snapshots.
        share: bool,
        /// The most a tarball may unpack to, bytes.
        max_unpacked: u64,
    },
}

/// Where telemetry comes from and what is asked of it.
#[derive(Debug, Clone, PartialEq)]
pub struct TelemetryOptions {
    /// The source.
    pub from: TelemetryFrom,
    /// The InfluxDB database (servers and tarballs).
    pub database: String,
    /// How long an InfluxDB request may take.
    pub timeout: Duration,
    /// Extra InfluxQL queries per run, (name, query with `$start`/`$stop`).
    pub queries: Vec<(String, String)>,
    /// Measurements whose samples are kept for series and figures.
    pub measurements: Vec<String>,
}

impl TelemetryOptions {
    /// Whether local servers are started (and must be stopped, even on Ctrl-C).
    pub fn starts_servers(&self) -> bool {
        matches!(
            self.from,
            TelemetryFrom::Tarball { .. } | TelemetryFrom::Auto { .. }
        )
    }

    /// These options with [`TelemetryFrom::Auto`] decided for `runs`, and
    /// what the campaign's diagnostics should say of the choice.
    pub fn resolved(&self, runs: &[CampaignRun]) -> (TelemetryOptions, Vec<Diagnostic>) {
        let TelemetryFrom::Auto { max_unpacked } = self.from else {
            return (self.clone(), Vec::new());
        };
        // One listing of each run folder: whether any has *.lp files, and
        // whether any holds a tarball.
        let (mut lp, mut tarball) = (false, false);
        for dir in runs.iter().filter_map(|r| r.dir.as_deref()) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                lp |= path.extension().is_some_and(|e| e == "lp");
                tarball |= path
                    .file_name()
                    .is_some_and(|n| n == super::tarball::TARBALL);
            }
            if lp {
                break;
            }
        }
        let with = |from: TelemetryFrom| TelemetryOptions {
            from,
            ..self.clone()
        };
        if lp || !tarball {
            return (with(TelemetryFrom::LineProtocol(None)), Vec::new());
        }
        let mut said = Diagnostics::default();
        let program = influxd::program();
        if influxd::available(&program) {
            said.note(
                None,
                format!(
                    "no *.lp telemetry files: telemetry from the runs' {} (served by a local influxd; --telemetry lp or --no-telemetry to refuse)",
                    super::tarball::TARBALL
                ),
            );
            let from = TelemetryFrom::Tarball {
                share: true,
                max_unpacked,
            };
            return (with(from), said.into_items());
        }
        said.warn(
            None,
            format!(
                "no telemetry read: the runs hold {} but no *.lp files, and '{}' cannot run to serve them (install Debian's influxdb package, or set EXPOST_INFLUXD; --no-telemetry silences this)",
                super::tarball::TARBALL,
                program.to_string_lossy()
            ),
        );
        (with(TelemetryFrom::Nothing), said.into_items())
    }

    /// The source these options name; `None` for [`TelemetryFrom::Nothing`].
    ///
    /// # Errors
    /// A line-protocol file that does not exist, or an `influxd` that
    /// cannot be run (said once, rather than once per run).
    pub fn source(&self) -> Result<Option<Box<dyn TelemetrySource>>, String> {
        let measurements = self.measurements.clone();
        Ok(Some(match &self.from {
            TelemetryFrom::Nothing => return Ok(None),
            TelemetryFrom::Auto { .. } => {
                return Err("telemetry options not resolved for the campaign".into())
            }
            TelemetryFrom::Tarball {
                share,
                max_unpacked,
            } => {
                let program = influxd::program();
                if !influxd::available(&program) {
                    return Err(format!(
                        "--telemetry tarball needs '{}' (Debian's influxdb package; or set EXPOST_INFLUXD)",
                        program.to_string_lossy()
                    ));
                }
                Box::new(
                    TarballSource::new(
                        program,
                        &self.database,
                        self.timeout,
                        self.queries.clone(),
                        *share,
                        measurements,
                    )
                    .with_max_unpacked(*max_unpacked),
                )
            }
            TelemetryFrom::Influx(url) => Box::new(
                InfluxSource::new(url, &self.database, self.timeout, self.queries.clone())
                    .with_env_credentials()
                    .with_measurements(measurements),
            ),
            TelemetryFrom::LineProtocol(path) => {
                if let Some(path) = path.as_ref().filter(|p| !p.is_file()) {
                    return Err(format!(
                        "telemetry file '{}' does not exist",
                        path.display()
                    ));
                }
                Box::new(LineProtocolFile {
                    path: path.clone(),
                    measurements,
                })
            }
        }))
    }
}

/// Puts samples in one order whatever their source: by time, then
/// measurement, host, role and field (so every source writes the same rows).
pub fn sort_samples(samples: &mut [Sample]) {
    samples.sort_by(|a, b| {
        a.time
            .total_cmp(&b.time)
            .then_with(|| a.measurement.cmp(&b.measurement))
            .then_with(|| a.host.cmp(&b.host))
            .then_with(|| a.role.cmp(&b.role))
            .then_with(|| a.tags.cmp(&b.tags))
            .then_with(|| a.field.cmp(&b.field))
    });
}

/// [`Sample::tags`] from a point's or series' tags: all but `host` and
/// `role` (and empty values), in key order.
pub fn other_tags<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut kept: Vec<(&str, &str)> = tags
        .into_iter()
        .filter(|(k, v)| *k != "host" && *k != "role" && !v.is_empty())
        .collect();
    kept.sort();
    kept.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The notebook's default figures computed from samples inside a window.
/// Figures without samples are left out (and reported by the caller).
pub fn default_scalars(samples: &[Sample], window: Window) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for role in ROLES {
        let mut per_host: BTreeMap<&str, (f64, u64)> = BTreeMap::new();
        for s in samples.iter().filter(|s| {
            s.measurement == "cpu"
                && s.field == "usage_idle"
                && s.role == role
                && window.contains(s.time)
        }) {
            let e = per_host.entry(&s.host).or_insert((0.0, 0));
            e.0 += s.value;
            e.1 += 1;
        }
        let min = per_host
            .values()
            .map(|(sum, n)| sum / *n as f64)
            .reduce(f64::min);
        if let Some(v) = min {
            out.insert(format!("min_usage_idle_{}", role.replace('-', "_")), v);
        }
    }
    for (measurement, fields) in [
        ("rabbitmq_overview", &RABBITMQ_OVERVIEW[..]),
        ("rabbitmq_node", &RABBITMQ_NODE[..]),
    ] {
        for field in fields {
            let max = samples
                .iter()
                .filter(|s| {
                    s.measurement == measurement && s.field == *field && window.contains(s.time)
                })
                .map(|s| s.value)
                .reduce(f64::max);
            if let Some(v) = max {
                out.insert((*field).to_string(), v);
            }
        }
    }
    out
}

/// The names of the default figures, in order.
pub fn default_names() -> Vec<String> {
    ROLES
        .iter()
        .map(|r| format!("min_usage_idle_{}", r.replace('-', "_")))
        .chain(
            RABBITMQ_OVERVIEW
                .iter()
                .chain(RABBITMQ_NODE.iter())
                .map(|f| f.to_string()),
        )
        .collect()
}

/// Telemetry from `influx_inspect export` line-protocol files, read
/// in-process: one file for the whole campaign, or, per run, the `*.lp`
/// files in its backup_dir.
#[derive(Debug, Clone)]
pub struct LineProtocolFile {
    /// Campaign-wide file; `None`: each run's own `*.lp` files.
    pub path: Option<PathBuf>,
    /// Measurements kept as samples (the notebook's figures are computed
    /// from theirs in any case).
    pub measurements: Vec<String>,
}

impl LineProtocolFile {
    /// The default measurements: `cpu`, `rabbitmq_overview`, `rabbitmq_node`.
    pub fn default_measurements() -> Vec<String> {
        ["cpu", "rabbitmq_overview", "rabbitmq_node"]
            .map(String::from)
            .to_vec()
    }

    fn files_of(&self, run: &CampaignRun) -> Vec<PathBuf> {
        if let Some(p) = &self.path {
            return vec![p.clone()];
        }
        let Some(dir) = &run.dir else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "lp"))
            .collect();
        files.sort();
        files
    }
}

/// Reads the samples of `measurements` inside `window` from one file.
pub fn read_samples(
    path: &Path,
    measurements: &[String],
    window: Window,
    diags: &mut Diagnostics,
) -> Vec<Sample> {
    let mut out = Vec::new();
    diags.set_file(super::load::display(path));
    let file = match crate::files::open_regular(path) {
        Ok(f) => f,
        Err(e) => {
            diags.error(None, format!("cannot open the telemetry file: {e}"));
            return out;
        }
    };
    let mut undated = 0u64;
    let result = line_protocol::parse(
        std::io::BufReader::with_capacity(1 << 16, file),
        diags,
        |_, p| {
            if !measurements.iter().any(|m| m == p.measurement.as_ref()) {
                return;
            }
            let Some(ns) = p.timestamp_ns else {
                undated += 1;
                return;
            };
            let time = ns as f64 / 1e9;
            if !window.contains(time) {
                return;
            }
            let host = p.tag("host").unwrap_or_default().to_string();
            let role = p.tag("role").unwrap_or_default().to_string();
            let tags = other_tags(p.tags.iter().map(|(k, v)| (k.as_ref(), v.as_ref())));
            for (field, value) in &p.fields {
                if let Some(v) = value.as_f64() {
                    out.push(Sample {
                        measurement: p.measurement.to_string(),
                        field: field.to_string(),
                        host: host.clone(),
                        role: role.clone(),
                        tags: tags.clone(),
                        time,
                        value: v,
                    });
                }
            }
        },
    );
    if let Err(e) = result {
        diags.error(None, format!("telemetry file: {e}"));
    }
    if undated > 0 {
        diags.warn(
            None,
            format!(
                "{undated} points without a timestamp: left out (no time to place them in a run)"
            ),
        );
    }
    out
}

impl TelemetrySource for LineProtocolFile {
    fn fetch(
        &self,
        run: &CampaignRun,
        window: Window,
        _: &Context<'_>,
        diags: &mut Diagnostics,
    ) -> Telemetry {
        let files = self.files_of(run);
        if files.is_empty() {
            diags.warn(None, "no telemetry file (*.lp) in the run folder");
            return Telemetry::default();
        }
        // The notebook's figures need their measurements whatever is kept.
        let mut read: Vec<String> = Self::default_measurements();
        read.extend(self.measurements.iter().cloned());
        read.sort();
        read.dedup();
        let mut samples = Vec::new();
        for f in &files {
            samples.extend(read_samples(f, &read, window, diags));
        }
        let scalars = default_scalars(&samples, window);
        samples.retain(|s| self.measurements.contains(&s.measurement));
        sort_samples(&mut samples);
        let missing: Vec<String> = default_names()
            .into_iter()
            .filter(|n| !scalars.contains_key(n))
            .collect();
        if !missing.is_empty() {
            diags.note(
                None,
                format!(
                    "no telemetry in the run's window for: {}",
                    missing.join(", ")
                ),
            );
        }
        Telemetry { scalars, samples }
    }
}
