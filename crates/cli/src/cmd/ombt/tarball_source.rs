//! Telemetry from each run's `influxdb-data.tar.gz` (the InfluxDB 1.x data
//! folder ombt-orchestrator saves): unpacked into a temp folder, served by
//! a private `influxd` on a free 127.0.0.1 port, asked the same window
//! queries as `--influx`, then stopped. Runs are processed in parallel
//! (the campaign's rayon pool).
//!
//! One `influxd` serves several runs where their tarballs are snapshots of
//! one InfluxDB taken one after the other (ombt-orchestrator's incremental
//! campaigns keep the server across runs): [`TarballSource::plan`] reads
//! each tarball's `meta/meta.db` and, where a later snapshot of the same
//! server still holds every shard group of an earlier one, serves the
//! earlier run's window from the later snapshot, started once (the first
//! run needing it starts it; the last one done stops it). Each run's own
//! server otherwise, or with `--influxd-per-run`.
//!
//! Nothing is left behind: the server is killed by pid and the temp folder
//! removed when the run's guard drops, and [`install_interrupt_handler`]
//! turns Ctrl-C (and SIGTERM) into a flag the work checks, so the guards
//! run before the process exits.

use super::influx_source::InfluxSource;
use anyhow::{Context, Result};
use expost_model::{Diagnostic, Diagnostics};
use expost_remote::influx_meta::MetaSnapshot;
use expost_remote::influxd::{self, Influxd, InfluxdError};
use expost_studies::ombt::{CampaignRun, LineProtocolFile, Telemetry, TelemetrySource, Window};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// The tarball's name in each run's backup_dir.
pub const TARBALL: &str = "influxdb-data.tar.gz";

/// Set by Ctrl-C or SIGTERM while tarballs are being served.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether servers may be running (the handler then waits for their guards).
static SERVING: AtomicBool = AtomicBool::new(false);

/// Makes Ctrl-C and SIGTERM set [`INTERRUPTED`] instead of ending the
/// process, so running servers and temp folders are cleaned up by their
/// guards; the caller checks the flag and exits, then calls [`done_serving`]
/// (after which Ctrl-C ends the process at once, exit code 130).
pub fn install_interrupt_handler() -> Result<()> {
    SERVING.store(true, Ordering::SeqCst);
    ctrlc::set_handler(|| {
        if !SERVING.load(Ordering::SeqCst) {
            std::process::exit(130);
        }
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            eprintln!("interrupted again: still stopping the local influxd servers");
        } else {
            eprintln!("interrupted: stopping the local influxd servers…");
        }
    })
    .context("could not install the Ctrl-C handler")
}

/// No server runs any more: Ctrl-C may end the process at once.
pub fn done_serving() {
    SERVING.store(false, Ordering::SeqCst);
}

/// Whether Ctrl-C or SIGTERM arrived.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Each run's tarball as a telemetry source.
pub struct TarballSource {
    database: String,
    timeout: Duration,
    queries: Vec<(String, String)>,
    program: std::ffi::OsString,
    /// Whether one server may answer for several snapshots.
    share: bool,
    /// Measurements whose samples are fetched.
    measurements: Vec<String>,
    /// Run tarball → the later snapshot serving it (absent: its own server).
    served_by: HashMap<PathBuf, PathBuf>,
    /// The servers shared by several runs, by the tarball they serve.
    shared: HashMap<PathBuf, SharedServer>,
}

/// A local `influxd` serving several runs: started by the first run that
/// needs it, stopped when the last is done (or when the source is dropped).
struct SharedServer {
    state: Mutex<ServerState>,
    /// Runs still to be served.
    remaining: AtomicUsize,
}

enum ServerState {
    NotStarted,
    Running(Influxd),
    Failed(String),
    Stopped,
}

impl SharedServer {
    fn new(runs: usize) -> Self {
        SharedServer {
            state: Mutex::new(ServerState::NotStarted),
            remaining: AtomicUsize::new(runs),
        }
    }

    /// The server's URL, starting it with `start` if no run did yet.
    fn url(&self, start: impl FnOnce() -> Result<Influxd, InfluxdError>) -> Result<String, String> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(*state, ServerState::NotStarted) {
            *state = match start() {
                Ok(server) => ServerState::Running(server),
                Err(e) => ServerState::Failed(e.to_string()),
            };
        }
        match &*state {
            ServerState::Running(server) => Ok(server.url()),
            ServerState::Failed(e) => Err(e.clone()),
            ServerState::NotStarted | ServerState::Stopped => {
                Err("the shared server was already stopped".into())
            }
        }
    }

    /// One run is done; the last one stops the server (killed by pid, its
    /// temp folder removed).
    fn done_one(&self) {
        if self.remaining.fetch_sub(1, Ordering::SeqCst) == 1 {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            *state = ServerState::Stopped;
        }
    }
}

/// Calls [`SharedServer::done_one`] when dropped, whatever way the run ends.
struct DoneGuard<'a>(&'a SharedServer);

impl Drop for DoneGuard<'_> {
    fn drop(&mut self) {
        self.0.done_one();
    }
}

impl TarballSource {
    /// Fails when `influxd` cannot be run at all (rather than once per run).
    /// `share`: let one server answer for the snapshots it holds (see [`TelemetrySource::plan`]).
    pub fn new(
        database: &str,
        timeout: Duration,
        queries: Vec<(String, String)>,
        share: bool,
    ) -> Result<Self> {
        let program = influxd::program();
        if !influxd::available(&program) {
            anyhow::bail!(
                "--telemetry tarball needs '{}' (Debian's influxdb package; or set EXPOST_INFLUXD)",
                program.to_string_lossy()
            );
        }
        Ok(TarballSource {
            database: database.to_string(),
            timeout,
            queries,
            program,
            share,
            measurements: LineProtocolFile::default_measurements(),
            served_by: HashMap::new(),
            shared: HashMap::new(),
        })
    }

    /// Fetches the samples of `measurements` (instead of the defaults).
    pub fn with_measurements(mut self, measurements: Vec<String>) -> Self {
        self.measurements = measurements;
        self
    }

    /// An InfluxDB source querying the local server at `url`, its
    /// diagnostics naming `tarball`.
    fn source(&self, url: &str, tarball: &Path) -> InfluxSource {
        InfluxSource::new(url, &self.database, self.timeout, self.queries.clone())
            .with_measurements(self.measurements.clone())
            .with_origin(display(tarball))
    }

    fn serve(&self, tarball: &Path) -> Result<Influxd, InfluxdError> {
        let dir = influxd::temp_dir()?;
        let unpacked = dir.path().join("unpacked");
        std::fs::create_dir(&unpacked).map_err(|source| InfluxdError::Io {
            what: "cannot create",
            path: unpacked.clone(),
            source,
        })?;
        let data = influxd::unpack_data_dir(tarball, &unpacked)?;
        if interrupted() {
            return Err(InfluxdError::Interrupted);
        }
        let options = influxd::Options {
            program: self.program.clone(),
            ready_timeout: Duration::from_secs(30),
            interrupted: Some(&INTERRUPTED),
        };
        Influxd::start_in(dir, &data, &options)
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

/// Which snapshots one server can answer for: per InfluxDB server (cluster
/// id), from its latest snapshot down, the earlier snapshots that one holds
/// ([`MetaSnapshot::holds`]); the rest again the same way. Returns each
/// serving tarball with the others it answers for (only where there are
/// others).
fn shared_snapshots(
    snapshots: Vec<(PathBuf, MetaSnapshot)>,
    database: &str,
) -> Vec<(PathBuf, Vec<PathBuf>)> {
    let mut by_server: BTreeMap<u64, Vec<(PathBuf, MetaSnapshot)>> = BTreeMap::new();
    for snapshot in snapshots {
        by_server
            .entry(snapshot.1.cluster_id)
            .or_default()
            .push(snapshot);
    }
    let mut shared = Vec::new();
    for (_, mut group) in by_server {
        // Latest first; equal indexes by path, for a stable choice.
        group.sort_by(|a, b| b.1.index.cmp(&a.1.index).then_with(|| b.0.cmp(&a.0)));
        while group.len() >= 2 {
            let host = group.remove(0);
            let (held, rest): (Vec<_>, Vec<_>) = group
                .into_iter()
                .partition(|s| host.1.holds(&s.1, database));
            if !held.is_empty() {
                shared.push((host.0, held.into_iter().map(|s| s.0).collect()));
            }
            group = rest;
        }
    }
    shared
}

impl TelemetrySource for TarballSource {
    /// Decides which runs one server can answer for (see the module's
    /// doc), reading every run's `meta/meta.db` in parallel. Returns a note
    /// per shared server naming the runs it serves; tarballs whose meta
    /// cannot be read are left to their own server (which reports why).
    fn plan(&mut self, runs: &[CampaignRun]) -> Vec<Diagnostic> {
        if !self.share {
            return Vec::new();
        }
        let tarballs: Vec<PathBuf> = runs
            .iter()
            .filter_map(|r| r.dir.as_ref().map(|d| d.join(TARBALL)))
            .filter(|t| t.is_file())
            .collect();
        let mut distinct = tarballs.clone();
        distinct.sort();
        distinct.dedup();
        let snapshots: Vec<(PathBuf, MetaSnapshot)> = distinct
            .into_par_iter()
            .filter_map(|t| Some((t.clone(), MetaSnapshot::of_tarball(&t).ok()?)))
            .collect();
        let mut notes = Vec::new();
        for (host, served) in shared_snapshots(snapshots, &self.database) {
            let mut names: Vec<String> = served.iter().map(|t| run_name(t)).collect();
            names.sort();
            let mut diags = Diagnostics::for_file(display(&host));
            diags.note(
                None,
                format!(
                    "one influxd over this tarball answers for {} runs: its own and {} (earlier snapshots of the same InfluxDB whose data it still holds; it may also hold points written after they were taken)",
                    served.len() + 1,
                    names.join(", ")
                ),
            );
            notes.extend(diags.into_items());
            self.served_by.insert(host.clone(), host.clone());
            for t in served {
                self.served_by.insert(t, host.clone());
            }
        }
        // Each shared server stops once every run it answers for is done.
        let mut runs_of: HashMap<&PathBuf, usize> = HashMap::new();
        for host in tarballs.iter().filter_map(|t| self.served_by.get(t)) {
            *runs_of.entry(host).or_default() += 1;
        }
        self.shared = runs_of
            .into_iter()
            .map(|(host, n)| (host.clone(), SharedServer::new(n)))
            .collect();
        notes
    }

    fn fetch(&self, run: &CampaignRun, window: Window, diags: &mut Diagnostics) -> Telemetry {
        let Some(dir) = &run.dir else {
            return Telemetry::default();
        };
        let tarball = dir.join(TARBALL);
        diags.set_file(display(&tarball));
        if interrupted() {
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
        if let Some((host, shared)) = self
            .served_by
            .get(&tarball)
            .and_then(|h| Some((h, self.shared.get(h)?)))
        {
            let _done = DoneGuard(shared);
            diags.set_file(display(host));
            return match shared.url(|| self.serve(host)) {
                Ok(url) => self.source(&url, host).fetch(run, window, diags),
                Err(e) => {
                    diags.error(
                        None,
                        format!("run {}: telemetry not read: {e}", run.label()),
                    );
                    Telemetry::default()
                }
            };
        }
        let server = match self.serve(&tarball) {
            Ok(s) => s,
            Err(e) => {
                diags.error(
                    None,
                    format!("run {}: telemetry not read: {e}", run.label()),
                );
                return Telemetry::default();
            }
        };
        let source = self.source(&server.url(), &tarball);
        let telemetry = source.fetch(run, window, diags);
        // Killed by pid, then its temp folder (data copy, config, log) removed.
        drop(server);
        telemetry
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expost_remote::influx_meta::{DatabaseMeta, RetentionPolicyMeta, ShardGroupMeta};

    fn snapshot(
        name: &str,
        cluster_id: u64,
        index: u64,
        groups: &[u64],
    ) -> (PathBuf, MetaSnapshot) {
        let shard_groups = groups
            .iter()
            .map(|&id| ShardGroupMeta {
                id,
                start_ns: 0,
                end_ns: 1,
                deleted_at_ns: 0,
            })
            .collect();
        let meta = MetaSnapshot {
            index,
            cluster_id,
            databases: vec![DatabaseMeta {
                name: "telegraf".into(),
                retention_policies: vec![RetentionPolicyMeta {
                    name: "autogen".into(),
                    duration_ns: 0,
                    shard_groups,
                }],
            }],
        };
        (PathBuf::from(name), meta)
    }

    #[test]
    fn the_latest_snapshot_of_a_server_answers_for_the_earlier_ones_it_holds() {
        let shared = shared_snapshots(
            vec![
                snapshot("a1", 1, 3, &[1]),
                snapshot("b1", 2, 4, &[1]),
                snapshot("a3", 1, 9, &[1, 2]),
                snapshot("a2", 1, 6, &[1, 2]),
                snapshot("b2", 2, 2, &[5]),
            ],
            "telegraf",
        );
        assert_eq!(
            shared,
            vec![(
                PathBuf::from("a3"),
                vec![PathBuf::from("a2"), PathBuf::from("a1")]
            )],
            "server 2's snapshots hold different shard groups: each its own"
        );
        assert!(shared_snapshots(vec![snapshot("a1", 1, 3, &[1])], "telegraf").is_empty());
        assert!(shared_snapshots(
            vec![snapshot("a1", 1, 3, &[1]), snapshot("a2", 1, 6, &[1])],
            "other"
        )
        .is_empty());
    }

    #[test]
    fn a_snapshot_not_held_by_the_latest_may_serve_older_ones() {
        // a3 lost shard group 1 (retention), so a2 serves a1 and a3 is alone.
        let shared = shared_snapshots(
            vec![
                snapshot("a1", 1, 3, &[1]),
                snapshot("a2", 1, 6, &[1, 2]),
                snapshot("a3", 1, 9, &[2, 3]),
            ],
            "telegraf",
        );
        assert_eq!(
            shared,
            vec![(PathBuf::from("a2"), vec![PathBuf::from("a1")])]
        );
    }

    #[test]
    fn a_shared_server_stops_after_its_last_run_and_a_failed_start_is_told_to_all() {
        let shared = SharedServer::new(2);
        let err = shared.url(|| Err(InfluxdError::Interrupted)).unwrap_err();
        // The second run is not started again: it gets the same error.
        let again = shared.url(|| panic!("started twice")).unwrap_err();
        assert_eq!(err, again);
        shared.done_one();
        assert!(!matches!(
            *shared.state.lock().unwrap(),
            ServerState::Stopped
        ));
        shared.done_one();
        assert!(matches!(
            *shared.state.lock().unwrap(),
            ServerState::Stopped
        ));
    }
}
