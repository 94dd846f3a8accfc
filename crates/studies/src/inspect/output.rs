//! What `expost inspect` says of a study output folder (one holding
//! `manifest.json`): which study wrote it, when and with what command, its
//! tables (with their columns and units), figures, charts, traces and JSON
//! documents, its headline numbers and diagnostic counts.

use super::Finding;
use expost_model::Diagnostic;
use expost_model::Severity;
use expost_render::output::{ColumnInfo, DiagnosticCounts, Kind, Manifest, MANIFEST};
use expost_render::report::headline;
use serde::Serialize;
use std::path::Path;

/// A study output folder, as its manifest describes it (`--json`'s
/// `output`).
#[derive(Debug, Serialize)]
pub struct OutputFolder {
    /// The study that wrote it (`failover`, …).
    pub study: String,
    /// The expost version that wrote it.
    pub expost: String,
    /// When the manifest was written (its modification time), ISO 8601 UTC.
    pub written_utc: Option<String>,
    /// The command line, one argument per item.
    pub command: Vec<String>,
    /// The same, quoted for a shell.
    pub command_line: String,
    /// The options the study ran with.
    pub options: serde_json::Value,
    /// How many outputs of each kind.
    pub counts: KindCounts,
    /// Every output, with its files.
    pub outputs: Vec<OutputEntry>,
    /// The study's headline numbers.
    pub summary: serde_json::Value,
    /// How many diagnostics of each severity the study reported.
    pub diagnostics: DiagnosticCounts,
}

/// How many outputs of each kind a folder holds.
#[derive(Debug, Default, Serialize)]
pub struct KindCounts {
    /// Tables.
    pub tables: usize,
    /// Line figures.
    pub figures: usize,
    /// Bar and Gantt charts.
    pub charts: usize,
    /// Traces.
    pub traces: usize,
    /// JSON documents.
    pub json: usize,
}

/// One output and its files.
#[derive(Debug, Serialize)]
pub struct OutputEntry {
    /// Its name (the files' stem).
    pub name: String,
    /// What it is.
    pub kind: Kind,
    /// Its title.
    pub title: String,
    /// Its files, relative to the folder.
    pub files: Vec<String>,
    /// A table's columns, with their types and units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<ColumnInfo>>,
}

/// The output folder `dir`, read through its manifest; files it lists
/// that are missing are errors.
pub fn study_output(dir: &Path) -> Finding {
    const KIND: &str = "study output";
    let manifest = match Manifest::read(dir) {
        Ok(Some(m)) => m,
        Ok(None) => {
            return Finding::new(dir, "unknown", format!("no {MANIFEST} in this folder"));
        }
        Err(message) => {
            let mut finding = Finding::new(dir, KIND, format!("unreadable: {message}"));
            finding.diagnostics = vec![error(dir, message)];
            return finding;
        }
    };
    let mut counts = KindCounts::default();
    let outputs: Vec<OutputEntry> = manifest
        .by_output()
        .into_iter()
        .map(|l| {
            *match l.kind {
                Kind::Table => &mut counts.tables,
                Kind::Figure => &mut counts.figures,
                Kind::Chart => &mut counts.charts,
                Kind::Trace => &mut counts.traces,
                Kind::Json => &mut counts.json,
            } += 1;
            OutputEntry {
                name: l.name.into(),
                kind: l.kind,
                title: l.title.into(),
                files: l.files.iter().map(|f| f.path.clone()).collect(),
                columns: l.columns.map(<[ColumnInfo]>::to_vec),
            }
        })
        .collect();
    let missing: Vec<Diagnostic> = outputs
        .iter()
        .flat_map(|o| &o.files)
        .filter(|f| !dir.join(f).is_file())
        .map(|f| error(dir, format!("'{f}' is listed in {MANIFEST} but missing")))
        .collect();
    let written_utc = std::fs::metadata(dir.join(MANIFEST))
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| super::utc(d.as_secs_f64()));
    let summary = format!(
        "`expost {}` output: {}; diagnostics: {}",
        manifest.study,
        kind_counts_in_words(&counts),
        crate::study::counts_in_words(manifest.diagnostics)
    );
    let mut finding = Finding::new(dir, KIND, summary);
    finding.diagnostics = missing;
    finding.output = Some(OutputFolder {
        command_line: manifest.command_line(),
        study: manifest.study,
        expost: manifest.expost,
        written_utc,
        command: manifest.command,
        options: manifest.options,
        counts,
        outputs,
        summary: manifest.summary,
        diagnostics: manifest.diagnostics,
    });
    finding
}

/// The output folder of an expost from before manifests.
pub fn older_study_output(dir: &Path, study: Option<String>) -> Finding {
    let by = study
        .map(|s| format!("`expost {s}`"))
        .unwrap_or_else(|| "a study command".into());
    Finding::new(
        dir,
        "study output without manifest",
        format!(
            "written by {by} of an older expost, which wrote no {MANIFEST}: rerun the study to get one (`expost report` reads folders through it)"
        ),
    )
}

fn error(dir: &Path, message: String) -> Diagnostic {
    Diagnostic {
        file: dir.join(MANIFEST).to_string_lossy().into_owned(),
        line: None,
        message,
        severity: Severity::Error,
    }
}

/// `4 tables, 9 figures, 2 JSON documents` (kinds with none left out).
fn kind_counts_in_words(c: &KindCounts) -> String {
    let words = |n: usize, one: &str, many: &str| {
        (n > 0).then(|| format!("{n} {}", if n == 1 { one } else { many }))
    };
    let parts: Vec<String> = [
        words(c.tables, "table", "tables"),
        words(c.figures, "figure", "figures"),
        words(c.charts, "chart", "charts"),
        words(c.traces, "trace", "traces"),
        words(c.json, "JSON document", "JSON documents"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        "no outputs".into()
    } else {
        parts.join(", ")
    }
}

/// The folder in words, indented under the finding's first lines.
pub fn describe(folder: &OutputFolder) -> String {
    let mut out = String::new();
    let when = folder
        .written_utc
        .as_deref()
        .map(|t| format!("written {t} "))
        .unwrap_or_default();
    out.push_str(&format!(
        "  {when}by expost {}: {}\n",
        folder.expost, folder.command_line
    ));
    let numbers: Vec<String> = headline(&folder.summary)
        .into_iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    if !numbers.is_empty() {
        out.push_str(&format!("  summary: {}\n", numbers.join(", ")));
    }
    for (kind, heading) in [
        (Kind::Table, "tables"),
        (Kind::Figure, "figures"),
        (Kind::Chart, "charts"),
        (Kind::Trace, "traces"),
        (Kind::Json, "JSON documents"),
    ] {
        let of_kind: Vec<&OutputEntry> = folder.outputs.iter().filter(|o| o.kind == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        out.push_str(&format!("  {heading}:\n"));
        for o in of_kind {
            let hint = if kind == Kind::Trace {
                "; open in ui.perfetto.dev"
            } else {
                ""
            };
            out.push_str(&format!(
                "    {}: {} ({}{hint})\n",
                o.name,
                o.title,
                o.files.join(", ")
            ));
            if let Some(columns) = &o.columns {
                let columns: Vec<String> = columns
                    .iter()
                    .map(|c| match &c.unit {
                        Some(unit) => format!("{} ({unit})", c.name),
                        None => c.name.clone(),
                    })
                    .collect();
                out.push_str(&format!("      columns: {}\n", columns.join(", ")));
            }
        }
    }
    out
}
