//! A study output folder as a report section, read through its
//! `manifest.json` alone: whatever the study, its title, command, version
//! and options, its headline numbers, every figure and chart, every table,
//! its traces and its diagnostics come from what the manifest lists.

use super::TABLE_ROWS;
use super::{figure_from_json, figure_to_json, HtmlTable, ReportFigure, ReportFile, StudySection};
use crate::figure::Figure;
use crate::output::{Format, Kind, Listed, Manifest};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// The name of the JSON output holding the figures' specs, which the
/// report draws interactively.
pub const FIGURE_SPECS: &str = "figures";

/// The section of the report for the output folder `dir`, whose manifest
/// is `manifest`. Files the manifest lists but that are missing or cannot
/// be read are left out and said in [`StudySection::problems`].
pub fn section_of(dir: &Path, manifest: &Manifest) -> StudySection {
    let mut section = StudySection {
        name: manifest.study.clone(),
        source: dir.to_string_lossy().into_owned(),
        command: (!manifest.command.is_empty()).then(|| manifest.command_line()),
        version: Some(manifest.expost.clone()),
        parameters: parameters(&manifest.options),
        summary: headline(&manifest.summary),
        diagnostics: Some(manifest.diagnostics),
        ..StudySection::default()
    };
    let listed = manifest.by_output();
    let specs = figure_specs(dir, &listed, &mut section.problems);
    for output in &listed {
        match output.kind {
            Kind::Figure | Kind::Chart => {
                let figure = read_figure(dir, output, &specs, &mut section.problems);
                section.figures.push(figure);
            }
            Kind::Table => {
                if let Some(table) = read_table(dir, output, &mut section.problems) {
                    section.tables.push(table);
                }
            }
            Kind::Trace | Kind::Json => {
                for file in &output.files {
                    if !dir.join(&file.path).is_file() {
                        section.problems.push(missing(dir, &file.path));
                        continue;
                    }
                    section.files.push(ReportFile {
                        path: file.path.clone(),
                        title: output.title.to_string(),
                        kind: output.kind,
                    });
                }
            }
        }
    }
    section
}

fn missing(dir: &Path, file: &str) -> String {
    format!(
        "'{}' is listed in {} but missing",
        dir.join(file).display(),
        crate::output::MANIFEST
    )
}

/// The specs of `figures.json`, when the manifest lists it, by name.
fn figure_specs(
    dir: &Path,
    listed: &[Listed<'_>],
    problems: &mut Vec<String>,
) -> HashMap<String, Figure> {
    let Some(path) = listed
        .iter()
        .find(|l| l.kind == Kind::Json && l.name == FIGURE_SPECS)
        .and_then(|l| l.file(Format::Json))
    else {
        return HashMap::new();
    };
    let path = dir.join(path);
    let read = std::fs::read(&path)
        .map_err(|e| format!("could not read '{}': {e}", path.display()))
        .and_then(|bytes| read_specs(&bytes).map_err(|e| format!("'{}': {e}", path.display())));
    match read {
        Ok(specs) => specs.into_iter().collect(),
        Err(e) => {
            problems.push(format!("{e}; its figures are shown as drawn"));
            HashMap::new()
        }
    }
}

fn read_figure(
    dir: &Path,
    output: &Listed<'_>,
    specs: &HashMap<String, Figure>,
    problems: &mut Vec<String>,
) -> ReportFigure {
    let static_svg =
        output
            .file(Format::Svg)
            .and_then(|svg| match std::fs::read_to_string(dir.join(svg)) {
                Ok(text) => Some(text),
                Err(e) => {
                    problems.push(if e.kind() == std::io::ErrorKind::NotFound {
                        missing(dir, svg)
                    } else {
                        format!("could not read '{}': {e}", dir.join(svg).display())
                    });
                    None
                }
            });
    ReportFigure {
        name: output.name.to_string(),
        title: output.title.to_string(),
        figure: specs.get(output.name).cloned(),
        static_svg,
        files: output.files.iter().map(|f| f.path.clone()).collect(),
    }
}

/// A table from its CSV file: at most [`TABLE_ROWS`] rows, the rest
/// counted; rows get their `severity` as class (diagnostics tables).
fn read_table(dir: &Path, output: &Listed<'_>, problems: &mut Vec<String>) -> Option<HtmlTable> {
    let mut table = HtmlTable {
        title: output.title.to_string(),
        ..HtmlTable::default()
    };
    let Some(csv_name) = output.file(Format::Csv) else {
        let files: Vec<&str> = output.files.iter().map(|f| f.path.as_str()).collect();
        problems.push(format!(
            "table '{}' is not shown: it was written as {} only (no CSV)",
            output.name,
            files.join(", ")
        ));
        return None;
    };
    let path = dir.join(csv_name);
    let (header, rows, total) = match read_csv(&path, TABLE_ROWS) {
        Ok(read) => read,
        Err(e) => {
            problems.push(if !path.exists() {
                missing(dir, csv_name)
            } else {
                e
            });
            return None;
        }
    };
    let units: HashMap<&str, &str> = output
        .columns
        .unwrap_or_default()
        .iter()
        .filter_map(|c| Some((c.name.as_str(), c.unit.as_deref()?)))
        .collect();
    table.units = header
        .iter()
        .map(|h| units.get(h.as_str()).map(|u| u.to_string()))
        .collect();
    if let Some(severity) = header.iter().position(|h| h == "severity") {
        table.row_classes = rows
            .iter()
            .map(|row| {
                let value = row.get(severity).map(|s| s.to_ascii_lowercase());
                match value.as_deref() {
                    Some(v @ ("error" | "warning" | "note")) => v.to_string(),
                    _ => String::new(),
                }
            })
            .collect();
    }
    table.header = header;
    table.rows = rows;
    table.total_rows = Some(total);
    table.file = Some(csv_name.to_string());
    Some(table)
}

/// A CSV file's header, its first rows, and how many rows it has in all.
type CsvHead = (Vec<String>, Vec<Vec<String>>, usize);

/// The header, the first `cap` rows and how many rows there are in all.
fn read_csv(path: &Path, cap: usize) -> Result<CsvHead, String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| format!("could not read '{}': {e}", path.display()))?;
    let bad = |e: csv::Error| format!("'{}' is not valid CSV: {e}", path.display());
    let header: Vec<String> = reader
        .headers()
        .map_err(bad)?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    while rows.len() < cap && reader.read_record(&mut record).map_err(bad)? {
        rows.push(record.iter().map(str::to_string).collect());
    }
    let mut total = rows.len();
    let mut skipped = csv::ByteRecord::new();
    while reader.read_byte_record(&mut skipped).map_err(bad)? {
        total += 1;
    }
    Ok((header, rows, total))
}

/// The options and their values (unset ones left out), as text.
pub fn parameters(options: &Value) -> Vec<(String, String)> {
    options
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The headline numbers of a summary: its numbers, booleans and short
/// texts (nested objects and lists are left out), in its order.
pub fn headline(summary: &Value) -> Vec<(String, String)> {
    summary
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| {
                    let text = match v {
                        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                            (Some(i), _, _) => i.to_string(),
                            (_, Some(u), _) => u.to_string(),
                            (_, _, Some(x)) => number(x),
                            _ => n.to_string(),
                        },
                        Value::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
                        Value::String(s) if s.chars().count() <= 60 => s.clone(),
                        _ => return None,
                    };
                    Some((k.clone(), text))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A float with four significant digits, without trailing zeros.
pub(crate) fn number(x: f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return format!("{x}");
    }
    let magnitude = x.abs().log10().floor() as i32;
    let decimals = (3 - magnitude).clamp(0, 12) as usize;
    let text = format!("{x:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// The figure specs of a `figures.json`: a list of `{name, figure}`.
///
/// # Errors
/// Saying which entry does not have that shape.
pub fn read_specs(bytes: &[u8]) -> Result<Vec<(String, Figure)>, String> {
    let specs: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let Some(list) = specs.as_array() else {
        return Err("not a list of figure specs".into());
    };
    list.iter()
        .enumerate()
        .map(|(index, spec)| {
            let name = spec["name"].as_str();
            let figure = figure_from_json(&spec["figure"]);
            match (name, figure) {
                (Some(name), Some(figure)) => Ok((name.to_string(), figure)),
                _ => Err(format!(
                    "figure {} does not have the expected shape",
                    index + 1
                )),
            }
        })
        .collect()
}

/// `figures.json` for `figures` (the form [`read_specs`] reads): what a
/// study writes, as a JSON output named [`FIGURE_SPECS`], for the report
/// to draw them interactively.
///
/// # Errors
/// When serialising fails.
pub fn specs_json(figures: &[(String, Figure)]) -> serde_json::Result<Vec<u8>> {
    let specs: Vec<Value> = figures
        .iter()
        .map(|(name, figure)| serde_json::json!({"name": name, "figure": figure_to_json(figure)}))
        .collect();
    serde_json::to_vec_pretty(&specs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headline_numbers_keep_four_significant_digits() {
        let summary = serde_json::json!({
            "runs": 13, "loss": 0.012345, "rate": 1234.5678, "mean": 2.5,
            "ok": true, "partition": "pool", "nested": {"a": 1}, "list": [1]
        });
        let got = headline(&summary);
        let get = |k: &str| {
            got.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("runs"), Some("13"));
        assert_eq!(get("loss"), Some("0.01235"));
        assert_eq!(get("rate"), Some("1235"));
        assert_eq!(get("mean"), Some("2.5"));
        assert_eq!(get("ok"), Some("yes"));
        assert_eq!(get("partition"), Some("pool"));
        assert_eq!(get("nested"), None);
        assert_eq!(got.len(), 6);
    }

    #[test]
    fn long_tables_are_capped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let mut text = String::from("a,b\n");
        for i in 0..1200 {
            text.push_str(&format!("{i},\"x\ny\"\n"));
        }
        std::fs::write(&path, text).unwrap();
        let (header, rows, total) = read_csv(&path, 500).unwrap();
        assert_eq!(header, ["a", "b"]);
        assert_eq!(rows.len(), 500);
        assert_eq!(rows[499][1], "x\ny");
        assert_eq!(total, 1200);
    }
}
