//! Telemetry from each run's `influxdb-data.tar.gz` (the InfluxDB 1.x data
//! folder ombt-orchestrator saves): unpacked into a temp folder, served by
//! a private `influxd` on a free 127.0.0.1 port, asked the same window
//! queries as `--influx`, then stopped. Runs are processed in parallel
//! (the campaign's rayon pool), each with its own `influxd`.
//!
//! Nothing is left behind: the server is killed by pid and the temp folder
//! removed when the run's guard drops, and [`install_interrupt_handler`]
//! turns Ctrl-C (and SIGTERM) into a flag the work checks, so the guards
//! run before the process exits.

use super::influx_source::InfluxSource;
use anyhow::{Context, Result};
use expost_model::Diagnostics;
use expost_remote::influxd::{self, Influxd, InfluxdError};
use expost_studies::ombt::{CampaignRun, Telemetry, TelemetrySource, Window};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
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
}

impl TarballSource {
    /// Fails when `influxd` cannot be run at all (rather than once per run).
    pub fn new(database: &str, timeout: Duration, queries: Vec<(String, String)>) -> Result<Self> {
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
        })
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

impl TelemetrySource for TarballSource {
    fn fetch(&self, run: &CampaignRun, window: Window, diags: &mut Diagnostics) -> Telemetry {
        let Some(dir) = &run.dir else {
            return Telemetry::default();
        };
        let tarball = dir.join(TARBALL);
        let file = tarball.display().to_string().replace('\\', "/");
        diags.set_file(file.clone());
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
        let source = InfluxSource::new(
            &server.url(),
            &self.database,
            self.timeout,
            self.queries.clone(),
        )
        .with_origin(file);
        let telemetry = source.fetch(run, window, diags);
        // Killed by pid, then its temp folder (data copy, config, log) removed.
        drop(server);
        telemetry
    }
}
