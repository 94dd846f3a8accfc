//! What `expost inspect` says of messaging-benchmark inputs: an
//! ombt-orchestrator campaign (`params.json` and its run folders), an ombt
//! controller's results log, a line-protocol export of telemetry, and an
//! InfluxDB data-folder tarball. Recognising them is `expost_formats::detect`'s
//! work; this is the wording.

use super::Finding;
use crate::ombt::{self, RunResult};
use expost_formats::detect::LineProtocolSummary;
use expost_formats::ombt_controller::{self, ControllerResults};
use expost_formats::ParseError;
use expost_model::Diagnostics;
use expost_remote::influx_meta::MetaSnapshot;
use std::collections::BTreeSet;
use std::path::Path;

/// At most this many names are listed (measurements, fields).
const LISTED: usize = 30;

/// An ombt campaign at `root` (a `params.json`, a folder holding one, or a
/// folder of `test_case_N/` holding one each), analysed without telemetry;
/// `None` when there is no `params.json` there.
pub fn campaign(root: &Path) -> Option<Finding> {
    let (runs, diagnostics) = ombt::find_campaign(root);
    if runs.is_empty() && diagnostics.is_empty() {
        return None;
    }
    let results = ombt::analyse_campaign(&runs, None, &|| ());
    let ok: Vec<&RunResult> = results.iter().filter(|r| r.ok).collect();
    let values = |key: &str| -> BTreeSet<String> {
        ok.iter()
            .filter_map(|r| r.params().get(key).cloned())
            .collect()
    };
    let span = |key: &str| -> String {
        let numbers: Vec<f64> = values(key).iter().filter_map(|v| v.parse().ok()).collect();
        match (
            numbers.iter().copied().reduce(f64::min),
            numbers.iter().copied().reduce(f64::max),
        ) {
            (Some(a), Some(b)) if a < b => format!("{a}–{b}"),
            (Some(a), _) => format!("{a}"),
            _ => "?".into(),
        }
    };
    let sent: u64 = ok
        .iter()
        .filter_map(|r| r.clients.as_ref())
        .map(|c| c.msgs_ok + c.msgs_fail)
        .sum();
    let call_types: Vec<String> = values("call_type").into_iter().collect();
    let telemetry = telemetry_files(&results);
    let mut finding = Finding::new(
        root,
        "ombt campaign",
        format!(
            "{} runs ({} readable): {}; {} clients, {} servers; {sent} messages sent; telemetry: {telemetry}",
            runs.len(),
            ok.len(),
            if call_types.is_empty() {
                "no call_type".to_string()
            } else {
                call_types.join(", ")
            },
            span("nbr_clients"),
            span("nbr_servers"),
        ),
    )
    .with_range(
        ok.iter()
            .filter_map(|r| r.window.map(|w| w.start))
            .reduce(f64::min),
        ok.iter()
            .filter_map(|r| r.window.map(|w| w.stop))
            .reduce(f64::max),
    );
    finding.runs = Some(runs.len());
    finding.entities = vec!["clients".into(), "servers".into()];
    finding.metrics = [
        "msgs_ok",
        "msgs_fail",
        "rate",
        "latency (count, avg, std, min, max, log10 distribution)",
    ]
    .map(String::from)
    .to_vec();
    finding.diagnostics = diagnostics;
    finding
        .diagnostics
        .extend(results.into_iter().flat_map(|r| r.diagnostics.into_items()));
    Some(finding)
}

/// Which telemetry the runs' folders hold, in words.
fn telemetry_files(results: &[RunResult]) -> String {
    let dirs: Vec<&Path> = results
        .iter()
        .filter_map(|r| r.run.dir.as_deref())
        .collect();
    let has = |pred: &dyn Fn(&Path) -> bool| dirs.iter().filter(|d| pred(d)).count();
    let lp = has(&|d| {
        std::fs::read_dir(d).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "lp"))
        })
    });
    let tarballs = has(&|d| d.join("influxdb-data.tar.gz").is_file());
    match (lp, tarballs) {
        (0, 0) => "none in the run folders (use --influx or --lp)".into(),
        (lp, tarballs) => format!(
            "line protocol (*.lp) in {lp} and influxdb-data.tar.gz in {tarballs} of {} run folders",
            dirs.len()
        ),
    }
}

/// An ombt controller's human-readable output: named, not read.
pub fn controller_text(path: &Path) -> Finding {
    Finding::new(
        path,
        "ombt controller output",
        "the controller's human-readable summary; `expost ombt` reads the JSON results (*controller*.log) written beside it".into(),
    )
}

/// An ombt controller's JSON results (clients' line, then servers'), as
/// read.
pub fn controller_results(
    path: &Path,
    results: Result<ControllerResults, ParseError>,
    diags: Diagnostics,
) -> Finding {
    let results = match results {
        Ok(r) => r,
        Err(e) => return Finding::unreadable(path, "ombt controller results", &e, diags),
    };
    let side = |agents: &[ombt_controller::AgentResult]| {
        let ok: u64 = agents.iter().map(|a| a.msgs_ok).sum();
        let fail: u64 = agents.iter().map(|a| a.msgs_fail).sum();
        format!("{} agents, {ok} messages ok, {fail} failed", agents.len())
    };
    let all = || results.clients.iter().chain(&results.servers);
    let mut finding = Finding::new(
        path,
        "ombt controller results",
        format!(
            "clients: {}; servers: {}",
            side(&results.clients),
            side(&results.servers)
        ),
    )
    .with_range(
        all().filter_map(|a| a.start_time).reduce(f64::min),
        all().filter_map(|a| a.stop_time).reduce(f64::max),
    );
    finding.entities = all().map(|a| a.name.clone()).collect();
    finding.metrics = ["msgs_ok", "msgs_fail", "latency", "errors"]
        .map(String::from)
        .to_vec();
    finding.diagnostics = diags.into_items();
    finding
}

/// Telemetry in line protocol (`influx_inspect export` layout or bare), as
/// read.
pub fn line_protocol(path: &Path, summary: LineProtocolSummary) -> Finding {
    let databases = if summary.databases.is_empty() {
        "no database context".to_string()
    } else {
        format!(
            "database {}",
            summary.databases.into_iter().collect::<Vec<_>>().join(", ")
        )
    };
    let counts = summary.counts;
    let mut finding = Finding::new(
        path,
        "line protocol",
        format!(
            "{} points in {} measurements ({databases}); {} lines, {} bad",
            counts.points,
            summary.measurements.len(),
            counts.lines,
            counts.skipped
        ),
    )
    .with_range(
        summary.time_ns.map(|(ns, _)| ns as f64 / 1e9),
        summary.time_ns.map(|(_, ns)| ns as f64 / 1e9),
    );
    finding.entities = capped(summary.measurements);
    finding.metrics = capped(summary.fields);
    finding.diagnostics = summary.diagnostics.into_items();
    finding
}

/// The first [`LISTED`] names, and how many more there are.
fn capped(names: BTreeSet<String>) -> Vec<String> {
    let more = names.len().saturating_sub(LISTED);
    let mut out: Vec<String> = names.into_iter().take(LISTED).collect();
    if more > 0 {
        out.push(format!("… and {more} more"));
    }
    out
}

/// A gzip'd tar of an InfluxDB 1.x data folder (a run's
/// `influxdb-data.tar.gz`), told by its `meta/meta.db`; a gzip file
/// that holds no such meta data is no format expost reads.
pub fn influxdb_tarball(path: &Path) -> Finding {
    let max_stream =
        expost_remote::influxd::stream_limit(expost_remote::influxd::DEFAULT_MAX_UNPACKED);
    let meta = match MetaSnapshot::of_tarball(path, max_stream) {
        Ok(meta) => meta,
        Err(e) => {
            return Finding::new(
                path,
                "unknown",
                format!("gzip data, but no InfluxDB data-folder tarball: {e}"),
            )
        }
    };
    let databases: Vec<String> = meta
        .databases
        .iter()
        .filter(|d| d.name != "_internal")
        .map(|d| {
            let groups: usize = d
                .retention_policies
                .iter()
                .map(|p| {
                    p.shard_groups
                        .iter()
                        .filter(|g| g.deleted_at_ns == 0)
                        .count()
                })
                .sum();
            let plural = if groups == 1 { "" } else { "s" };
            format!("{} ({groups} shard group{plural})", d.name)
        })
        .collect();
    let mut finding = Finding::new(
        path,
        "InfluxDB data folder (tarball)",
        format!(
            "databases: {}; cluster id {}, meta index {}; read with `expost ombt --telemetry tarball`",
            if databases.is_empty() { "none".to_string() } else { databases.join(", ") },
            meta.cluster_id,
            meta.index
        ),
    );
    finding.entities = meta
        .databases
        .iter()
        .filter(|d| d.name != "_internal")
        .map(|d| d.name.clone())
        .collect();
    finding
}
