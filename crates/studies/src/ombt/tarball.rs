//! Telemetry from each run's `influxdb-data.tar.gz` (the InfluxDB 1.x data
//! folder ombt-orchestrator saves): served by a private local `influxd`
//! (see [`expost_remote::snapshot_servers`]) and asked the same window
//! queries as `--influx`. Runs are served in parallel.
//!
//! Where tarballs are snapshots of one InfluxDB taken one after the other
//! (ombt-orchestrator's incremental campaigns keep the server across runs),
//! [`TarballSource::plan`] lets one server over a later snapshot answer
//! for the earlier runs whose data it still holds; each run's own server
//! otherwise, or with `--influxd-per-run`.
//!
//! Nothing is left behind: a run's own server is stopped (killed by pid,
//! its temp folder removed) when the run is done with it, a shared one
//! when its last run is, at [`TelemetrySource::finish`], or when the
//! source is dropped; Ctrl-C ([`Context::interrupted`]) stops the waiting.

use super::influx::InfluxSource;
use super::{CampaignRun, Telemetry, TelemetrySource, Window};
use crate::study::Context;
use expost_model::{Diagnostic, Diagnostics};
use expost_remote::influxd::InfluxdError;
use expost_remote::snapshot_servers::{ServeError, SnapshotServers};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The tarball's name in each run's backup_dir.
pub const TARBALL: &str = "influxdb-data.tar.gz";

/// How long a local `influxd` is given to answer `/ping`.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Each run's tarball as a telemetry source.
#[derive(Debug)]
pub struct TarballSource {
    database: String,
    timeout: Duration,
    queries: Vec<(String, String)>,
    /// Whether one server may answer for several snapshots.
    share: bool,
    /// Measurements whose samples are fetched.
    measurements: Vec<String>,
    servers: SnapshotServers,
}

impl TarballSource {
    /// Servers run with `program` (see [`expost_remote::influxd::program`]);
    /// `share`: let one server answer for the snapshots it holds.
    pub fn new(
        program: std::ffi::OsString,
        database: &str,
        timeout: Duration,
        queries: Vec<(String, String)>,
        share: bool,
        measurements: Vec<String>,
    ) -> Self {
        TarballSource {
            database: database.to_string(),
            timeout,
            queries,
            share,
            measurements,
            servers: SnapshotServers::new(program, READY_TIMEOUT),
        }
    }

    /// Refuses tarballs that unpack to more than `bytes` (their runs get
    /// an error naming the limit and `--max-unpacked`).
    pub fn with_max_unpacked(mut self, bytes: u64) -> Self {
        self.servers = self.servers.with_max_unpacked(bytes);
        self
    }

    /// An InfluxDB source querying the local server at `url`, its
    /// diagnostics naming `tarball`.
    fn source(&self, url: &str, tarball: &Path) -> InfluxSource {
        InfluxSource::new(url, &self.database, self.timeout, self.queries.clone())
            .with_measurements(self.measurements.clone())
            .with_origin(display(tarball))
    }
}

/// Removes the server temp folders killed runs left (see
/// [`expost_remote::influxd::remove_stale_dirs`]): a note for each, or a
/// warning when one cannot be removed.
fn remove_stale_server_dirs() -> Vec<Diagnostic> {
    match expost_remote::influxd::remove_stale_dirs() {
        Ok(removed) => removed
            .iter()
            .flat_map(|dir| {
                let mut diags = Diagnostics::for_file(display(dir));
                diags.note(
                    None,
                    "removed: the temp folder of a local influxd whose expost was killed",
                );
                diags.into_items()
            })
            .collect(),
        Err(e) => {
            let mut diags = Diagnostics::for_file(display(&std::env::temp_dir()));
            diags.warn(None, format!("a killed run's server folder is left: {e}"));
            diags.into_items()
        }
    }
}

/// The run folder's name of a run's tarball.
fn run_name(tarball: &Path) -> String {
    tarball
        .parent()
        .and_then(Path::file_name)
        .map_or_else(|| display(tarball), |n| n.to_string_lossy().into_owned())
}

/// A path as diagnostics name files (forward slashes).
fn display(path: &Path) -> String {
    path.display().to_string().replace('\\', "/")
}

impl TelemetrySource for TarballSource {
    /// Decides which runs one server can answer for (see the module's
    /// doc). Returns a note per shared server naming the runs it serves.
    fn plan(&mut self, runs: &[CampaignRun]) -> Vec<Diagnostic> {
        let mut notes = remove_stale_server_dirs();
        if !self.share {
            return notes;
        }
        let tarballs: Vec<PathBuf> = runs
            .iter()
            .filter_map(|r| r.dir.as_ref().map(|d| d.join(TARBALL)))
            .filter(|t| t.is_file())
            .collect();
        for sharing in self.servers.share(&tarballs, &self.database) {
            let mut names: Vec<String> = sharing.served.iter().map(|t| run_name(t)).collect();
            names.sort();
            let mut diags = Diagnostics::for_file(display(&sharing.host));
            diags.note(
                None,
                format!(
                    "one influxd over this tarball answers for {} runs: its own and {} (earlier snapshots of the same InfluxDB whose data it still holds; it may also hold points written after they were taken)",
                    sharing.served.len() + 1,
                    names.join(", ")
                ),
            );
            notes.extend(diags.into_items());
        }
        notes
    }

    fn fetch(
        &self,
        run: &CampaignRun,
        window: Window,
        context: &Context<'_>,
        diags: &mut Diagnostics,
    ) -> Telemetry {
        let Some(dir) = &run.dir else {
            return Telemetry::default();
        };
        let tarball = dir.join(TARBALL);
        diags.set_file(display(&tarball));
        if context.interrupted() {
            diags.error(
                None,
                format!("run {}: telemetry not read: interrupted", run.label()),
            );
            return Telemetry::default();
        }
        if !tarball.is_file() {
            diags.error(
                None,
                format!(
                    "run {}: telemetry not read: no {TARBALL} in the run folder",
                    run.label()
                ),
            );
            return Telemetry::default();
        }
        let host = self.servers.host_of(&tarball);
        diags.set_file(display(host));
        match self.servers.serve(&tarball, Some(context.flag())) {
            // The lease (and with it a run's own server) ends after the queries.
            Ok(lease) => self
                .source(lease.url(), host)
                .fetch(run, window, context, diags),
            Err(e) => {
                let hint = if matches!(e, ServeError::Start(InfluxdError::TooLarge { .. })) {
                    " (--max-unpacked GIB raises it)"
                } else {
                    ""
                };
                diags.error(
                    None,
                    format!("run {}: telemetry not read: {e}{hint}", run.label()),
                );
                Telemetry::default()
            }
        }
    }

    fn finish(&self) {
        self.servers.stop_all();
    }
}
