//! What a file or folder holds, recognised by its content (not its name)
//! with [`expost_formats::detect`]: the kind, runs, time range, entities,
//! metrics, and every diagnostic met while reading it (`expost inspect`).

mod messaging;
mod output;
mod pool;

use crate::failover;
use crate::files::{open_regular, read_at_most};
use expost_formats::campaign::{link_out_message, link_out_of, Layout};
use expost_formats::detect::{self, File, Folder};
use expost_formats::iperf3_json::{self, Role};
use expost_formats::iperf3_text::{self, StampKind};
use expost_formats::profile;
use expost_formats::shremote;
use expost_formats::spot_trace as trace;
use expost_model::{Diagnostic, Diagnostics, Severity};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What was found at one path.
#[derive(Debug, Serialize)]
pub struct Finding {
    /// The path inspected.
    pub path: String,
    /// What it is (`iperf3 JSON`, `failover campaign`, …), or `unknown`.
    pub kind: String,
    /// One line saying what is in it.
    pub summary: String,
    /// First and last moment it covers, UTC epoch seconds, when it says.
    pub time_range: Option<[f64; 2]>,
    /// The same, as ISO 8601 UTC.
    pub time_range_utc: Option<[String; 2]>,
    /// Runs found (campaigns).
    pub runs: Option<usize>,
    /// The entities observed (flows, streams, commands).
    pub entities: Vec<String>,
    /// The metrics it holds.
    pub metrics: Vec<String>,
    /// Everything reported while reading it.
    pub diagnostics: Vec<Diagnostic>,
    /// A study output folder: what its manifest says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<output::OutputFolder>,
}

impl Finding {
    fn new(path: &Path, kind: &str, summary: String) -> Finding {
        Finding {
            path: path.to_string_lossy().into_owned(),
            kind: kind.into(),
            summary,
            time_range: None,
            time_range_utc: None,
            runs: None,
            entities: Vec::new(),
            metrics: Vec::new(),
            diagnostics: Vec::new(),
            output: None,
        }
    }

    /// A file of `kind` that could not be read: why, as its summary and as
    /// an error diagnostic after those already in `diags`.
    fn unreadable(
        path: &Path,
        kind: &str,
        error: &expost_formats::ParseError,
        mut diags: Diagnostics,
    ) -> Finding {
        diags.error(error.line(), error.to_string());
        let mut finding = Finding::new(path, kind, format!("unreadable: {error}"));
        finding.diagnostics = diags.into_items();
        finding
    }

    fn with_range(mut self, start: Option<f64>, end: Option<f64>) -> Finding {
        if let (Some(a), Some(b)) = (start, end) {
            self.time_range = Some([a, b]);
            self.time_range_utc = Some([utc(a), utc(b)]);
        }
        self
    }

    /// Whether it was not recognised or holds an error.
    pub fn failed(&self) -> bool {
        self.kind == "unknown"
            || self
                .diagnostics
                .iter()
                .any(|d| d.severity == Severity::Error)
    }
}

fn utc(epoch: f64) -> String {
    chrono::DateTime::from_timestamp_micros((epoch * 1e6).round() as i64)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|| format!("{epoch}"))
}

/// Why a path could not be inspected at all.
#[derive(Debug, thiserror::Error)]
#[error("could not {what} '{}': {source}", path.display())]
pub struct InspectError {
    /// `read` or `list`.
    what: &'static str,
    /// The file or folder.
    path: PathBuf,
    /// Why.
    source: std::io::Error,
}

impl InspectError {
    fn new(what: &'static str, path: &Path, source: std::io::Error) -> InspectError {
        InspectError {
            what,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// What a file or folder holds: one finding for a file or a folder that is
/// one thing (a campaign, a study output, a profiling run), else one per file.
///
/// # Errors
/// When the path cannot be read or listed at all.
pub fn inspect(path: &Path) -> Result<Vec<Finding>, InspectError> {
    if path.is_dir() {
        inspect_dir(path)
    } else {
        Ok(vec![inspect_file(path)?])
    }
}

/// A finding in words, for a terminal.
pub fn describe(f: &Finding) -> String {
    let mut out = format!("{}: {}\n  {}\n", f.path, f.kind, f.summary);
    if let Some([a, b]) = &f.time_range_utc {
        out.push_str(&format!("  time: {a} to {b}\n"));
    }
    if !f.entities.is_empty() {
        out.push_str(&format!("  entities: {}\n", f.entities.join(", ")));
    }
    if !f.metrics.is_empty() {
        out.push_str(&format!("  metrics: {}\n", f.metrics.join(", ")));
    }
    if let Some(folder) = &f.output {
        out.push_str(&output::describe(folder));
    }
    for d in &f.diagnostics {
        out.push_str(&format!("  {d}\n"));
    }
    out
}

fn inspect_dir(dir: &Path) -> Result<Vec<Finding>, InspectError> {
    let folder = detect::folder(dir).map_err(|e| InspectError::new("list", dir, e))?;
    Ok(match folder {
        Folder::StudyOutput(_) => vec![output::study_output(dir)],
        Folder::FailoverCampaign { runs, unlisted } => vec![inspect_campaign(
            dir,
            &runs,
            failover::listing_diagnostics(unlisted),
        )],
        Folder::ProfilingRun => vec![inspect_profile(dir)],
        Folder::OmbtCampaign { .. } => match messaging::campaign(dir) {
            Some(finding) => vec![finding],
            None => {
                let files = detect::files_in(dir).map_err(|e| InspectError::new("list", dir, e))?;
                inspect_files(dir, &files)?
            }
        },
        Folder::OlderStudyOutput { study } => vec![output::older_study_output(dir, study)],
        Folder::Files(files) => inspect_files(dir, &files)?,
    })
}

/// Each file of a folder that is nothing as a whole.
fn inspect_files(dir: &Path, files: &[PathBuf]) -> Result<Vec<Finding>, InspectError> {
    if files.is_empty() {
        return Ok(vec![Finding::new(
            dir,
            "unknown",
            "an empty folder, or one holding only folders that are no runs".into(),
        )]);
    }
    let inside = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    files
        .iter()
        .map(|f| match link_out_of(&inside, f) {
            Some(target) => Ok(Finding::new(f, "unknown", link_out_message(&target))),
            None => inspect_file(f),
        })
        .collect()
}

fn inspect_campaign(
    dir: &Path,
    runs: &[expost_formats::campaign::RunDir],
    diagnostics: Vec<Diagnostic>,
) -> Finding {
    let options = failover::Options::default();
    let results = failover::analyse_campaign(runs, &Layout::Flightplan, &options, &|| ());
    let configs = failover::group_configs(&results);
    let ok = results.iter().filter(|r| r.ok).count();
    let start = results
        .iter()
        .filter_map(|r| r.anchor_epoch)
        .min_by(f64::total_cmp);
    let end = results
        .iter()
        .filter_map(|r| Some(r.anchor_epoch? + r.overlap?.end))
        .max_by(f64::total_cmp);
    let flows = results.iter().map(|r| r.flows.len()).max().unwrap_or(0);
    let protos: std::collections::BTreeSet<&str> = results
        .iter()
        .filter_map(|r| r.proto.map(|p| p.as_str()))
        .collect();
    let mut finding = Finding::new(
        dir,
        "failover campaign",
        format!(
            "{} runs ({ok} readable) in {} configurations, {} flows per run at most, {}",
            runs.len(),
            configs.len(),
            flows,
            protos.into_iter().collect::<Vec<_>>().join(" and ")
        ),
    )
    .with_range(start, end);
    finding.runs = Some(runs.len());
    finding.entities = (0..flows).map(|i| format!("flow {i}")).collect();
    finding.metrics = expost_ops::traffic::Metric::ALL
        .iter()
        .filter(|m| results.iter().any(|r| !r.series(**m).is_empty()))
        .map(|m| m.name().to_string())
        .collect();
    finding.diagnostics = diagnostics;
    finding
        .diagnostics
        .extend(results.into_iter().flat_map(|r| r.diagnostics.into_items()));
    finding
}

/// Says what a file is, as [`detect::file`] recognises it by its content.
/// The most of one file `inspect` reads: 256 MiB.
const INSPECT_LIMIT: u64 = 256 << 20;

fn inspect_file(path: &Path) -> Result<Finding, InspectError> {
    let file = open_regular(path).map_err(|e| InspectError::new("read", path, e))?;
    let bytes = match read_at_most(file, Vec::new(), INSPECT_LIMIT, "a file inspect reads") {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            return Ok(Finding::new(path, "unknown", format!("not inspected: {e}")))
        }
        Err(e) => return Err(InspectError::new("read", path, e)),
    };
    Ok(match detect::file(path, &bytes) {
        File::StudyManifest(_) => {
            output::study_output(path.parent().unwrap_or_else(|| Path::new(".")))
        }
        File::OmbtParams => messaging::campaign(path).unwrap_or_else(|| {
            Finding::new(path, "ombt campaign", "its params.json lists no run".into())
        }),
        File::OmbtControllerResults(results, diags) => {
            messaging::controller_results(path, results, diags)
        }
        File::OmbtControllerText => messaging::controller_text(path),
        File::Gzip => messaging::influxdb_tarball(path),
        File::ShipyardExport(format, entities, diags) => {
            pool::shipyard_export(path, format, entities, diags)
        }
        File::Shremote(log, diags) => shremote_finding(path, &log, diags),
        File::Iperf3Json(test, diags) => iperf_json_finding(path, &test, diags),
        File::LineProtocol(summary) => messaging::line_protocol(path, summary),
        File::Iperf3Text(log, diags) => iperf_text_finding(path, &log, diags),
        File::OtherJson(error, mut diags) => inspect_trace(path, &bytes).unwrap_or_else(|| {
            let mut finding = Finding::new(
                path,
                "unknown",
                format!("JSON, but not a format expost reads: {error}"),
            );
            diags.error(error.line(), error.to_string());
            finding.diagnostics = diags.into_items();
            finding
        }),
        File::Unknown => inspect_trace(path, &bytes).unwrap_or_else(|| {
            Finding::new(
                path,
                "unknown",
                "not a format expost reads (iperf3 JSON or text, Shremote event log, failover or ombt campaign, ombt controller results, line protocol, InfluxDB tarball, Shipyard perf events, profiling-run folder, spot trace, study output)"
                    .into(),
            )
        }),
    })
}

fn shremote_finding(path: &Path, log: &shremote::EventLog, diags: Diagnostics) -> Finding {
    let start = log.events.iter().map(|e| e.time).min_by(f64::total_cmp);
    let end = log
        .events
        .iter()
        .map(|e| e.stop_time.unwrap_or(e.time))
        .max_by(f64::total_cmp);
    let mut f = Finding::new(
        path,
        "Shremote event log",
        format!("{} command starts", log.events.len()),
    )
    .with_range(start, end);
    f.entities = log.names().into_iter().map(String::from).collect();
    f.diagnostics = diags.into_items();
    f
}

fn iperf_json_finding(path: &Path, test: &iperf3_json::IperfTest, diags: Diagnostics) -> Finding {
    let role = match test.role {
        Some(Role::Client) => "client",
        Some(Role::Server) => "server",
        None => "unknown side",
    };
    let proto = test.protocol.map_or("unknown protocol", |p| p.as_str());
    let last_end = test.intervals.last().map(|i| i.end);
    let summary = format!(
        "{}, {role}, {proto}, {} stream(s), {} intervals{}",
        test.version
            .as_deref()
            .unwrap_or("iperf3 (version not recorded)"),
        test.num_streams.unwrap_or(1),
        test.intervals.len(),
        test.port_text()
    );
    let mut f = Finding::new(path, "iperf3 JSON", summary).with_range(
        test.start_epoch,
        test.start_epoch.zip(last_end).map(|(s, e)| s + e),
    );
    f.entities = (1..=test.num_streams.unwrap_or(1))
        .map(|i| format!("stream {i}"))
        .collect();
    f.metrics = iperf_metrics(test.intervals.first().map(|i| {
        (
            i.packets.is_some(),
            i.lost_packets.is_some(),
            i.rtt_ms.is_some(),
        )
    }));
    f.diagnostics = diags.into_items();
    f
}

fn iperf_metrics(fields: Option<(bool, bool, bool)>) -> Vec<String> {
    let Some((packets, lost, rtt)) = fields else {
        return Vec::new();
    };
    let mut metrics = vec!["bytes".to_string(), "bits_per_second".to_string()];
    if packets {
        metrics.push("packets".into());
    }
    if lost {
        metrics.extend(["lost_packets".to_string(), "jitter_ms".to_string()]);
    }
    if rtt {
        metrics.extend([
            "rtt".to_string(),
            "snd_cwnd".to_string(),
            "retransmits".to_string(),
        ]);
    }
    metrics
}

fn iperf_text_finding(path: &Path, log: &iperf3_text::TextLog, diags: Diagnostics) -> Finding {
    let intervals: usize = log.tests.iter().map(|t| t.intervals.len()).sum();
    let summaries: usize = log.tests.iter().map(|t| t.summaries.len()).sum();
    let stamps = match log.stamp_kind {
        StampKind::None => "no time prefix",
        StampKind::Epoch => "epoch time prefix (ts %.s)",
        StampKind::Calendar { resolution } if resolution >= 1.0 => {
            "--timestamps prefix, whole seconds"
        }
        StampKind::Calendar { .. } => "--timestamps prefix, sub-second",
    };
    let all = log
        .tests
        .iter()
        .flat_map(|t| t.intervals.iter().chain(&t.summaries));
    let stamps_seen: Vec<f64> = all.clone().filter_map(|i| i.stamp).collect();
    let udp = all
        .clone()
        .any(|i| i.total.is_some() || i.datagrams.is_some());
    let mut f = Finding::new(
        path,
        "iperf3 text",
        format!(
            "{} test(s), {intervals} interval lines, {summaries} summary lines, {stamps}, {}",
            log.tests.len(),
            if udp { "UDP" } else { "TCP" }
        ),
    )
    .with_range(
        stamps_seen.iter().copied().min_by(f64::total_cmp),
        stamps_seen.iter().copied().max_by(f64::total_cmp),
    );
    f.metrics = if udp {
        ["bytes", "bits_per_second", "jitter_ms", "lost", "total"]
            .map(String::from)
            .to_vec()
    } else {
        ["bytes", "bits_per_second", "retransmits", "cwnd"]
            .map(String::from)
            .to_vec()
    };
    f.diagnostics = diags.into_items();
    f
}

/// A spot/preemption trace, when the first line says it is one and it reads.
fn inspect_trace(path: &Path, bytes: &[u8]) -> Option<Finding> {
    let text = String::from_utf8_lossy(bytes);
    let first = text.lines().find(|l| !l.trim().is_empty())?;
    trace::sniff(first)?;
    let mut diags = Diagnostics::for_file(path.to_string_lossy());
    let read = trace::parse(bytes, trace::ReadOptions::default(), &mut diags).ok()?;
    let live = read.count_curve().map(|c| {
        let counts: Vec<i64> = c.iter().map(|&(_, n)| n).collect();
        (
            counts.iter().copied().min().unwrap_or(0),
            counts.iter().copied().max().unwrap_or(0),
        )
    });
    let joins: i64 = read
        .events
        .iter()
        .filter(|e| e.delta > 0)
        .map(|e| e.delta)
        .sum();
    let leaves: i64 = -read
        .events
        .iter()
        .filter(|e| e.delta < 0)
        .map(|e| e.delta)
        .sum::<i64>();
    let summary = format!(
        "{} trace, {:.2} h, {joins} nodes joined, {leaves} left{}",
        read.format.name(),
        read.duration / 3600.0,
        live.map(|(lo, hi)| format!(", {lo}–{hi} live"))
            .unwrap_or_default()
    );
    let mut f = Finding::new(path, "spot trace", summary).with_range(
        read.start_epoch,
        read.start_epoch.map(|s| s + read.duration),
    );
    if read.names_nodes() {
        let nodes = read
            .events
            .iter()
            .filter_map(|e| e.node)
            .max()
            .map_or(0, |n| n + 1);
        f.entities = vec![format!("{nodes} named nodes")];
    }
    f.metrics = ["live nodes", "joins", "leaves"].map(String::from).to_vec();
    f.diagnostics = diags.into_items();
    Some(f)
}

/// A profiling-run folder, as `expost simulate --profile` reads it.
fn inspect_profile(dir: &Path) -> Finding {
    let mut diags = Diagnostics::for_file(dir.to_string_lossy());
    match profile::read_run(dir, &mut diags) {
        Ok(profile) => {
            let sizes: Vec<String> = profile
                .iteration_s
                .iter()
                .map(|(ws, s)| format!("{ws} nodes {s:.2} s"))
                .collect();
            let mut f = Finding::new(
                dir,
                "profiling run",
                format!(
                    "iteration time {}; reconfiguration {:.1} s, checkpoint save {:.1} s, load {:.1} s",
                    sizes.join(", "),
                    profile.reconfiguration_s,
                    profile.checkpoint_save_s,
                    profile.checkpoint_load_s
                ),
            );
            f.entities = profile
                .iteration_s
                .keys()
                .map(|ws| format!("world size {ws}"))
                .collect();
            f.metrics = [
                "iteration_s",
                "reconfiguration_s",
                "checkpoint_save_s",
                "checkpoint_load_s",
            ]
            .map(String::from)
            .to_vec();
            f.diagnostics = diags.into_items();
            f
        }
        Err(e) => {
            let mut f = Finding::new(
                dir,
                "unknown",
                format!("looks like a profiling run but cannot be read: {e}"),
            );
            diags.error(None, e.to_string());
            f.diagnostics = diags.into_items();
            f
        }
    }
}
