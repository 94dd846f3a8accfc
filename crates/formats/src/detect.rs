//! What a file or folder is, told by its content (not its name): the one
//! place that recognises every input and output expost knows, for
//! `expost inspect`, `expost report` and studies alike.
//!
//! Recognition is by reading: a format is recognised when its own parser
//! accepts the bytes, so what was read comes back with the kind (the parsed
//! records and the diagnostics met), and nothing is read twice. Nothing here
//! prints or words anything: callers say it in their own terms.
//!
//! Two formats belong to crates this one does not depend on, and are left to
//! them: spot/preemption traces (`expost_sim::trace`, tried by callers when
//! [`File::OtherJson`] or [`File::Unknown`] comes back) and what a gzip file
//! holds ([`File::Gzip`]; an InfluxDB data-folder tarball is told by
//! `expost_remote::influx_meta`).

use crate::campaign::{self, RunDir};
use crate::iperf3_json::{self, IperfTest};
use crate::iperf3_text::{self, TextLog, TextOptions};
use crate::line_protocol::{self, Counts};
use crate::ombt_controller::{self, ControllerKind, ControllerResults};
use crate::shipyard::{self, ExportFormat, PerfEntity};
use crate::shremote::{self, EventLog};
use crate::ParseError;
use expost_model::Diagnostics;
use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

/// The file every study output folder holds (`manifest.json`).
pub const MANIFEST: &str = "manifest.json";

/// What a folder is, as a whole.
#[derive(Debug)]
pub enum Folder {
    /// A study's output folder: it holds a `manifest.json` that reads as one.
    StudyOutput(ManifestHead),
    /// A failover campaign: run folders (holding `event_log.json` or
    /// `iperf/`) under it.
    FailoverCampaign {
        /// The run folders, sorted by relative path.
        runs: Vec<RunDir>,
        /// Folders that could not be listed, and why.
        unlisted: Vec<(PathBuf, String)>,
    },
    /// A profiling-run folder (`reconfig.csv` and `loop_times_0.csv`), as
    /// `expost simulate --profile` reads it.
    ProfilingRun,
    /// An ombt-orchestrator campaign: a `params.json` in it, or in its
    /// direct subfolders (`test_case_N/`).
    OmbtCampaign {
        /// The `params.json` files, sorted.
        params: Vec<PathBuf>,
    },
    /// The output folder of an expost from before `manifest.json`: a
    /// `diagnostics.csv` with a severity column and a study's JSON summary.
    OlderStudyOutput {
        /// The study, from its JSON summary's name (`failover.json`), when
        /// one file says it.
        study: Option<String>,
    },
    /// None of these: its files (not folders), sorted, to recognise one by one.
    Files(Vec<PathBuf>),
}

/// The first fields of a `manifest.json`: enough to say it is one and
/// which study wrote it. (`expost_render::output::Manifest` reads it all.)
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ManifestHead {
    /// The expost version that wrote it.
    pub expost: String,
    /// The study's name.
    pub study: String,
}

/// Peeks at `manifest.json`-like bytes: `Some` when they hold an expost
/// manifest (an object with `expost`, `study` and a list of `outputs`).
pub fn manifest_head(bytes: &[u8]) -> Option<ManifestHead> {
    #[derive(serde::Deserialize)]
    struct Peek {
        expost: String,
        study: String,
        #[allow(dead_code)]
        outputs: Vec<serde::de::IgnoredAny>,
    }
    let head = &bytes[..bytes.len().min(1024)];
    let has = |key: &[u8]| head.windows(key.len()).any(|w| w == key);
    if !(has(b"\"expost\"") && has(b"\"study\"")) {
        return None;
    }
    let peek: Peek = serde_json::from_slice(bytes).ok()?;
    Some(ManifestHead {
        expost: peek.expost,
        study: peek.study,
    })
}

/// Whether `dir` is a failover run folder: it holds `event_log.json` or an
/// `iperf/` folder (a folder with only one of them is still a run, a
/// broken one).
pub fn is_failover_run(dir: &Path) -> bool {
    dir.join("event_log.json").is_file() || dir.join("iperf").is_dir()
}

/// The failover run folders under `root` (see [`campaign::discover`]).
pub fn failover_runs(root: &Path) -> (Vec<RunDir>, Vec<(PathBuf, String)>) {
    campaign::discover(root, is_failover_run)
}

/// Whether `dir` is a profiling-run folder.
pub fn is_profiling_run(dir: &Path) -> bool {
    dir.join("reconfig.csv").is_file() && dir.join("loop_times_0.csv").is_file()
}

/// The `params.json` of an ombt campaign at `dir`: its own, else those of
/// its direct subfolders, sorted; empty when there is none.
pub fn ombt_params_files(dir: &Path) -> Vec<PathBuf> {
    let direct = dir.join("params.json");
    if direct.is_file() {
        return vec![direct];
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("params.json"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found
}

/// The study `dir` was written by, when it is the output folder of an
/// expost from before manifests; `None` when it is not one.
fn older_study_output(dir: &Path) -> Option<Option<String>> {
    let diagnostics = std::fs::read(dir.join("diagnostics.csv")).ok()?;
    let header = diagnostics.split(|&b| b == b'\n').next()?;
    let header = String::from_utf8_lossy(header);
    let columns: Vec<&str> = header.trim().split(',').collect();
    if !(columns.contains(&"severity") && columns.contains(&"message")) {
        return None;
    }
    // The study's JSON summary is named after it; figures.json and
    // trace.json are outputs of several studies.
    let summaries: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| Some(p.file_stem()?.to_string_lossy().into_owned()))
        .filter(|stem| !matches!(stem.as_str(), "figures" | "trace" | "manifest"))
        .collect();
    Some(match summaries.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    })
}

/// What the folder `dir` is: a study's output, a campaign (failover, ombt),
/// a profiling run, an older study output, or else its files.
///
/// # Errors
/// When `dir` is none of those and cannot be listed.
pub fn folder(dir: &Path) -> io::Result<Folder> {
    if let Some(head) = std::fs::read(dir.join(MANIFEST))
        .ok()
        .and_then(|b| manifest_head(&b))
    {
        return Ok(Folder::StudyOutput(head));
    }
    let (runs, unlisted) = failover_runs(dir);
    if !runs.is_empty() {
        return Ok(Folder::FailoverCampaign { runs, unlisted });
    }
    if is_profiling_run(dir) {
        return Ok(Folder::ProfilingRun);
    }
    let params = ombt_params_files(dir);
    if !params.is_empty() {
        return Ok(Folder::OmbtCampaign { params });
    }
    if let Some(study) = older_study_output(dir) {
        return Ok(Folder::OlderStudyOutput { study });
    }
    Ok(Folder::Files(files_in(dir)?))
}

/// The files directly in `dir` (not its folders), sorted.
///
/// # Errors
/// When `dir` cannot be listed.
pub fn files_in(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// What a file is, with what reading it gave.
#[derive(Debug)]
pub enum File {
    /// A study output folder's `manifest.json`.
    StudyManifest(ManifestHead),
    /// An ombt-orchestrator `params.json` (a JSON array of runs): the
    /// campaign it describes is read with its run folders.
    OmbtParams,
    /// An ombt controller's JSON results, or why they could not be read.
    OmbtControllerResults(Result<ControllerResults, ParseError>, Diagnostics),
    /// An ombt controller's human-readable summary.
    OmbtControllerText,
    /// gzip data (an InfluxDB data-folder tarball, perhaps: see the module
    /// documentation).
    Gzip,
    /// A Batch Shipyard perf-event export, or why it could not be read.
    ShipyardExport(
        ExportFormat,
        Result<Vec<PerfEntity>, ParseError>,
        Diagnostics,
    ),
    /// A Shremote event log.
    Shremote(EventLog, Diagnostics),
    /// iperf3 JSON (a whole document or `--json-stream`).
    Iperf3Json(Box<IperfTest>, Diagnostics),
    /// Line-protocol telemetry, as read.
    LineProtocol(LineProtocolSummary),
    /// iperf3 text output (either side, any time prefix).
    Iperf3Text(TextLog, Diagnostics),
    /// A JSON object of no format read here: why it is not iperf3 JSON.
    OtherJson(ParseError, Diagnostics),
    /// None of the above.
    Unknown,
}

/// What a line-protocol file holds.
#[derive(Debug)]
pub struct LineProtocolSummary {
    /// Lines, points and bad lines (all zero when reading failed, said in
    /// `diagnostics`).
    pub counts: Counts,
    /// Measurement names.
    pub measurements: BTreeSet<String>,
    /// `measurement.field` names (the first [`FIELDS_KEPT`]).
    pub fields: BTreeSet<String>,
    /// Databases named by `# CONTEXT-DATABASE:` lines.
    pub databases: BTreeSet<String>,
    /// The first and last timestamps, ns since the epoch.
    pub time_ns: Option<(i64, i64)>,
    /// Everything reported while reading.
    pub diagnostics: Diagnostics,
}

/// At most this many field names are kept by [`LineProtocolSummary`].
pub const FIELDS_KEPT: usize = 1000;

/// Tells what the file at `path` holding `bytes` is, trying each format in
/// turn by what its content looks like. `path` names the file in
/// diagnostics (and `params.json` is the one name that matters: an ombt
/// campaign's list of runs is a plain JSON array).
pub fn file(path: &Path, bytes: &[u8]) -> File {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let name = path.to_string_lossy().into_owned();
    let diags = || Diagnostics::for_file(name.as_str());
    if first == Some(b'{') {
        if let Some(head) = manifest_head(bytes) {
            return File::StudyManifest(head);
        }
    }
    if path.file_name().is_some_and(|n| n == "params.json") && first == Some(b'[') {
        return File::OmbtParams;
    }
    match ombt_controller::sniff(&bytes[..bytes.len().min(4096)]) {
        Some(ControllerKind::Results) => {
            let mut d = diags();
            let results = ombt_controller::parse(bytes, &mut d);
            return File::OmbtControllerResults(results, d);
        }
        Some(ControllerKind::Text) => return File::OmbtControllerText,
        None => {}
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return File::Gzip;
    }
    if let Some(format) = shipyard_format(bytes) {
        let mut d = diags();
        let entities = shipyard::parse(bytes, format, &mut d);
        return File::ShipyardExport(format, entities, d);
    }
    if first == Some(b'[') {
        let mut d = diags();
        if let Ok(log) = shremote::parse(bytes, &mut d) {
            return File::Shremote(log, d);
        }
    }
    if first == Some(b'{') || bytes.windows(2).any(|w| w == b"\n{") {
        let mut d = diags();
        match iperf3_json::parse_bytes(bytes, &mut d) {
            Ok(test) => return File::Iperf3Json(Box::new(test), d),
            Err(e) if first == Some(b'{') => return File::OtherJson(e, d),
            Err(_) => {}
        }
    }
    if looks_like_line_protocol(bytes) {
        return File::LineProtocol(line_protocol_summary(bytes, diags()));
    }
    let mut d = diags();
    if let Ok(log) = iperf3_text::parse_bytes(bytes, &TextOptions::default(), &mut d) {
        // Text with no line iperf3 writes is some other program's output.
        if log
            .tests
            .iter()
            .any(|t| !t.intervals.is_empty() || !t.summaries.is_empty())
        {
            return File::Iperf3Text(log, d);
        }
    }
    File::Unknown
}

/// A Shipyard export's format, told from its first line: a JSON object or
/// a CSV header naming `PartitionKey` and `RowKey`; `None` when it is neither.
pub fn shipyard_format(bytes: &[u8]) -> Option<ExportFormat> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let first = head.lines().map(str::trim).find(|l| !l.is_empty())?;
    if !(first.contains("PartitionKey") && first.contains("RowKey")) {
        return None;
    }
    Some(if first.starts_with('{') {
        ExportFormat::JsonLines
    } else {
        ExportFormat::Csv
    })
}

/// Whether `bytes` look like line protocol: an `influx_inspect export`
/// header, or a first data line that parses with a timestamp.
pub fn looks_like_line_protocol(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]);
    if head.lines().any(|l| l.trim() == "# DML") {
        return true;
    }
    head.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .find(|l| !l.starts_with('#'))
        .and_then(|l| line_protocol::parse_line(l).ok())
        .is_some_and(|p| p.timestamp_ns.is_some())
}

/// Reads line protocol through, keeping names and the time range.
fn line_protocol_summary(bytes: &[u8], mut diagnostics: Diagnostics) -> LineProtocolSummary {
    let mut measurements = BTreeSet::new();
    let mut fields = BTreeSet::new();
    let mut databases = BTreeSet::new();
    let mut time_ns: Option<(i64, i64)> = None;
    let counts = line_protocol::parse(bytes, &mut diagnostics, |context, point| {
        if let Some(db) = &context.database {
            if !databases.contains(db) {
                databases.insert(db.clone());
            }
        }
        if !measurements.contains(point.measurement.as_ref()) {
            measurements.insert(point.measurement.to_string());
        }
        for (field, _) in &point.fields {
            if fields.len() < FIELDS_KEPT {
                fields.insert(format!("{}.{field}", point.measurement));
            }
        }
        if let Some(ns) = point.timestamp_ns {
            time_ns = Some(time_ns.map_or((ns, ns), |(a, b)| (a.min(ns), b.max(ns))));
        }
    });
    let counts = counts.unwrap_or_else(|e| {
        diagnostics.error(None, e.to_string());
        Counts::default()
    });
    LineProtocolSummary {
        counts,
        measurements,
        fields,
        databases,
        time_ns,
        diagnostics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    fn detect(name: &str, text: &str) -> File {
        file(Path::new(name), text.as_bytes())
    }

    #[test]
    fn files_are_told_by_content_not_name() {
        let iperf = std::fs::read(
            repo()
                .join("tests/fixtures/iperf3/udp_server_P2_iperf3.19.1_iperf3-lib_udp-server.json"),
        )
        .unwrap();
        assert!(matches!(
            file(Path::new("a.dat"), &iperf),
            File::Iperf3Json(..)
        ));
        let events =
            std::fs::read(repo().join(
                "examples/failover/fec_udp_failover_020/fec_udp_failover_020_1/event_log.json",
            ))
            .unwrap();
        match file(Path::new("c.dat"), &events) {
            File::Shremote(log, _) => assert!(!log.events.is_empty()),
            other => panic!("not a Shremote log: {other:?}"),
        }
        assert!(matches!(
            detect("x", "cpu,host=a usage=1 1700000000000000000\n"),
            File::LineProtocol(_)
        ));
        assert!(matches!(
            detect("x", "{\"latency\": {}}\n{}\n"),
            File::OmbtControllerResults(..)
        ));
        assert!(matches!(
            detect("x", "PartitionKey,RowKey,Event\n"),
            File::ShipyardExport(ExportFormat::Csv, ..)
        ));
        assert!(matches!(detect("params.json", "[]"), File::OmbtParams));
        assert!(matches!(
            detect("x", "{\"some\": \"json\"}"),
            File::OtherJson(..)
        ));
        assert!(matches!(
            detect("x", "[package]\nname = 1\n"),
            File::Unknown
        ));
        assert!(matches!(
            file(Path::new("x"), &[0x1f, 0x8b, 8, 0]),
            File::Gzip
        ));
    }

    #[test]
    fn a_manifest_is_told_from_other_json() {
        let manifest = r#"{"expost": "0.1.0", "study": "failover", "command": [], "outputs": []}"#;
        match detect("m.json", manifest) {
            File::StudyManifest(head) => {
                assert_eq!(head.study, "failover");
                assert_eq!(head.expost, "0.1.0");
            }
            other => panic!("not a manifest: {other:?}"),
        }
        // `outputs` not a list: some other JSON.
        assert!(manifest_head(br#"{"expost": "1", "study": "x", "outputs": 3}"#).is_none());
    }

    #[test]
    fn folders_are_told_by_what_they_hold() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert!(matches!(folder(d).unwrap(), Folder::Files(f) if f.is_empty()));
        std::fs::write(
            d.join("diagnostics.csv"),
            "run,severity,file,line,message\n",
        )
        .unwrap();
        std::fs::write(d.join("failover.json"), "{}").unwrap();
        std::fs::write(d.join("figures.json"), "[]").unwrap();
        assert!(matches!(
            folder(d).unwrap(),
            Folder::OlderStudyOutput { study: Some(s) } if s == "failover"
        ));
        std::fs::write(
            d.join(MANIFEST),
            r#"{"expost": "0.1.0", "study": "failover", "outputs": []}"#,
        )
        .unwrap();
        assert!(matches!(folder(d).unwrap(), Folder::StudyOutput(h) if h.study == "failover"));
        let campaign = folder(&repo().join("examples/failover")).unwrap();
        assert!(matches!(campaign, Folder::FailoverCampaign { runs, .. } if runs.len() == 13));
        let sub = d.join("sub/test_case_1");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join("params.json"), "[]").unwrap();
        assert!(matches!(
            folder(&d.join("sub")).unwrap(),
            Folder::OmbtCampaign { params } if params.len() == 1
        ));
    }
}
