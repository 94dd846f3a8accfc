//! What `expost inspect` says of messaging-benchmark inputs: an
//! ombt-orchestrator campaign (`params.json` and its run folders), an ombt
//! controller's results log, and a line-protocol export of telemetry.

use super::Finding;
use expost_formats::line_protocol;
use expost_formats::ombt_controller::{self, ControllerKind};
use expost_model::Diagnostics;
use expost_remote::influx_meta::MetaSnapshot;
use expost_studies::ombt::{self, RunResult};
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

/// An ombt controller's JSON results (clients' line, then servers'), or
/// its human-readable output (named, not read); `None` when `bytes` are
/// neither.
pub fn controller_log(path: &Path, bytes: &[u8]) -> Option<Finding> {
    match ombt_controller::sniff(&bytes[..bytes.len().min(4096)])? {
        ControllerKind::Results => {}
        ControllerKind::Text => {
            return Some(Finding::new(
                path,
                "ombt controller output",
                "the controller's human-readable summary; `expost ombt` reads the JSON results (*controller*.log) written beside it".into(),
            ))
        }
    }
    let mut diags = Diagnostics::for_file(path.to_string_lossy());
    let results = match ombt_controller::parse(bytes, &mut diags) {
        Ok(r) => r,
        Err(e) => {
            return Some(Finding::unreadable(
                path,
                "ombt controller results",
                &e,
                diags,
            ))
        }
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
    Some(finding)
}

/// Whether `bytes` look like line protocol: an `influx_inspect export`
/// header, or a first data line that parses with a timestamp.
fn looks_like_line_protocol(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]);
    let mut lines = head.lines().map(str::trim).filter(|l| !l.is_empty());
    if head.lines().any(|l| l.trim() == "# DML") {
        return true;
    }
    lines
        .find(|l| !l.starts_with('#'))
        .and_then(|l| line_protocol::parse_line(l).ok())
        .is_some_and(|p| p.timestamp_ns.is_some())
}

/// Telemetry in line protocol (`influx_inspect export` layout or bare),
/// or `None` when `bytes` do not look like it.
pub fn line_protocol_file(path: &Path, bytes: &[u8]) -> Option<Finding> {
    if !looks_like_line_protocol(bytes) {
        return None;
    }
    let mut diags = Diagnostics::for_file(path.to_string_lossy());
    let mut measurements = BTreeSet::new();
    let mut fields = BTreeSet::new();
    let mut databases = BTreeSet::new();
    let (mut first, mut last) = (None::<i64>, None::<i64>);
    let counts = line_protocol::parse(bytes, &mut diags, |context, point| {
        if let Some(db) = &context.database {
            if !databases.contains(db) {
                databases.insert(db.clone());
            }
        }
        if !measurements.contains(point.measurement.as_ref()) {
            measurements.insert(point.measurement.to_string());
        }
        for (field, _) in &point.fields {
            if fields.len() < 1000 {
                fields.insert(format!("{}.{field}", point.measurement));
            }
        }
        if let Some(ns) = point.timestamp_ns {
            first = Some(first.map_or(ns, |f| f.min(ns)));
            last = Some(last.map_or(ns, |l| l.max(ns)));
        }
    });
    let counts = match counts {
        Ok(c) => c,
        Err(e) => {
            diags.error(None, e.to_string());
            line_protocol::Counts::default()
        }
    };
    let databases = if databases.is_empty() {
        "no database context".to_string()
    } else {
        format!(
            "database {}",
            databases.into_iter().collect::<Vec<_>>().join(", ")
        )
    };
    let mut finding = Finding::new(
        path,
        "line protocol",
        format!(
            "{} points in {} measurements ({databases}); {} lines, {} bad",
            counts.points,
            measurements.len(),
            counts.lines,
            counts.skipped
        ),
    )
    .with_range(
        first.map(|ns| ns as f64 / 1e9),
        last.map(|ns| ns as f64 / 1e9),
    );
    finding.entities = capped(measurements);
    finding.metrics = capped(fields);
    finding.diagnostics = diags.into_items();
    Some(finding)
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
/// `influxdb-data.tar.gz`), told by its `meta/meta.db`; `None` when the
/// file is no gzip, or holds no such meta data.
pub fn influxdb_tarball(path: &Path, bytes: &[u8]) -> Option<Finding> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return None;
    }
    let meta = MetaSnapshot::of_tarball(path).ok()?;
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
    Some(finding)
}
