//! `expost report DIR… -o report.html`: one self-contained HTML page for
//! one or more study output folders — figures (interactive), tables
//! (sortable), diagnostics, parameters, and the command and expost version
//! that made each study. Nothing in it is fetched from the network.

use anyhow::{bail, Context, Result};
use expost_render::atomic::write_atomic;
use expost_render::report::{
    figure_from_json, render_html, HtmlTable, Report, ReportFigure, StudySection,
};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Examples shown at the end of `expost report --help`.
pub const EXAMPLES: &str = "\
Examples:
  expost failover examples/failover -o out/ && expost report out/ -o report.html
  expost report out-fec/ out-hc/ -o both.html --title 'Failover, FEC and HC'
  expost ombt campaign/ -o out-ombt/ && expost report out-ombt/ -o ombt.html
  expost report out/ -o - > report.html

Each DIR is the -o folder of `expost failover`, `expost ombt` or
`expost provision` (it holds failover.json, ombt.json or provision.json).";

/// Arguments of `expost report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output folders of study commands.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// The HTML file to write (`-` for stdout).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Page title (default: the studies' names).
    #[arg(long)]
    pub title: Option<String>,
}

/// Builds the report and writes it.
pub fn run(args: Args) -> Result<ExitCode> {
    let studies = args
        .dirs
        .iter()
        .map(|d| read_study(d))
        .collect::<Result<Vec<_>>>()?;
    let title = args.title.clone().unwrap_or_else(|| {
        let names: Vec<&str> = studies.iter().map(|s| s.name.as_str()).collect();
        format!("expost report: {}", names.join(", "))
    });
    let report = Report {
        title,
        command: crate::output::command_line(),
        version: env!("CARGO_PKG_VERSION").into(),
        studies,
    };
    let html = render_html(&report);
    if args.output.as_os_str() == "-" {
        std::io::stdout().write_all(html.as_bytes())?;
    } else {
        write_atomic(&args.output, html.as_bytes())
            .with_context(|| format!("could not write '{}'", args.output.display()))?;
        eprintln!("wrote {} ({} KB)", args.output.display(), html.len() / 1024);
    }
    Ok(ExitCode::SUCCESS)
}

/// The studies whose output folders a report reads, by the JSON summary each writes.
const STUDIES: [(&str, &str); 3] = [
    ("failover", "failover.json"),
    ("ombt", "ombt.json"),
    ("provision", "provision.json"),
];

/// Reads one study output folder.
fn read_study(dir: &Path) -> Result<StudySection> {
    let Some((study, summary_path)) = STUDIES
        .iter()
        .map(|(study, file)| (*study, dir.join(file)))
        .find(|(_, path)| path.is_file())
    else {
        bail!(
            "'{}' holds no study outputs (expected failover.json, ombt.json or provision.json, written by `expost failover|ombt|provision -o`)",
            dir.display()
        );
    };
    let summary: Value = serde_json::from_slice(
        &std::fs::read(&summary_path)
            .with_context(|| format!("could not read '{}'", summary_path.display()))?,
    )
    .with_context(|| format!("'{}' is not JSON", summary_path.display()))?;
    let mut section = StudySection {
        name: study.into(),
        source: dir.to_string_lossy().into_owned(),
        command: summary["command"].as_str().map(str::to_string),
        version: summary["expost_version"].as_str().map(str::to_string),
        parameters: parameters(&summary["options"]),
        summary: headline_numbers(&summary["summary"]),
        figures: read_figures(dir)?,
        tables: Vec::new(),
    };
    match study {
        "failover" => section.tables.push(configs_table(&summary)),
        "provision" => add_provision(&mut section, dir, &summary["summary"])?,
        _ => {}
    }
    if let Some(table) = csv_table(&dir.join("runs.csv"), "Runs", None)? {
        section.tables.push(table);
    }
    if let Some(table) = csv_table(
        &dir.join("diagnostics.csv"),
        "Diagnostics",
        Some("severity"),
    )? {
        section.tables.push(table);
    }
    Ok(section)
}

/// The summary's numbers (nested objects and lists left out), floats to
/// one decimal.
fn headline_numbers(summary: &Value) -> Vec<(String, String)> {
    summary
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| {
                    let text = match v {
                        Value::Number(n) if n.is_f64() => format!("{:.1}", n.as_f64()?),
                        Value::Number(n) => n.to_string(),
                        _ => return None,
                    };
                    Some((k.clone(), text))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The provisioning study's figures (bar and Gantt charts, as drawn) and
/// tables: phases, stragglers, nodes and images.
fn add_provision(section: &mut StudySection, dir: &Path, summary: &Value) -> Result<()> {
    for name in ["timeline", "gantt"] {
        if let Ok(svg) = std::fs::read_to_string(dir.join(format!("{name}.svg"))) {
            section.figures.push(ReportFigure {
                name: name.into(),
                figure: None,
                static_svg: Some(svg),
            });
        }
    }
    let seconds = |v: &Value| v.as_f64().map(|x| format!("{x:.1}")).unwrap_or_default();
    let phases = summary["phases"].as_object().cloned().unwrap_or_default();
    section.tables.push(HtmlTable {
        title: "Phases (s)".into(),
        header: ["phase", "count", "mean", "p50", "p90", "p99", "max"]
            .map(String::from)
            .to_vec(),
        rows: phases
            .iter()
            .map(|(phase, p)| {
                let mut row = vec![phase.clone(), p["count"].to_string()];
                row.extend(["mean", "p50", "p90", "p99", "max"].map(|k| seconds(&p[k])));
                row
            })
            .collect(),
        row_classes: Vec::new(),
    });
    let stragglers = summary["stragglers"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    section.tables.push(HtmlTable {
        title: "Stragglers".into(),
        header: ["node", "time to ready (s)", "MADs above the median"]
            .map(String::from)
            .to_vec(),
        rows: stragglers
            .iter()
            .map(|n| {
                vec![
                    n["node_id"].as_str().unwrap_or_default().to_string(),
                    seconds(&n["time_to_ready_s"]),
                    seconds(&n["mads"]),
                ]
            })
            .collect(),
        row_classes: Vec::new(),
    });
    for (file, title) in [("nodes.csv", "Nodes"), ("images.csv", "Images")] {
        if let Some(table) = csv_table(&dir.join(file), title, None)? {
            section.tables.push(table);
        }
    }
    Ok(())
}

fn parameters(options: &Value) -> Vec<(String, String)> {
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

fn read_figures(dir: &Path) -> Result<Vec<ReportFigure>> {
    let path = dir.join("figures.json");
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let specs: Value = serde_json::from_slice(&std::fs::read(&path)?)
        .with_context(|| format!("'{}' is not JSON", path.display()))?;
    let mut figures = Vec::new();
    for (index, spec) in specs.as_array().into_iter().flatten().enumerate() {
        let name = spec["name"].as_str().unwrap_or_default().to_string();
        let figure = figure_from_json(&spec["figure"]).with_context(|| {
            format!(
                "'{}': figure {} does not have the expected shape",
                path.display(),
                index + 1
            )
        })?;
        let static_svg = std::fs::read_to_string(dir.join(format!("{name}.svg"))).ok();
        figures.push(ReportFigure {
            name,
            figure: Some(figure),
            static_svg,
        });
    }
    Ok(figures)
}

fn configs_table(summary: &Value) -> HtmlTable {
    let configs = summary["configs"].as_array().cloned().unwrap_or_default();
    let mut names: Vec<String> = configs
        .iter()
        .flat_map(|c| {
            c["params"]
                .as_object()
                .into_iter()
                .flat_map(|o| o.keys().cloned())
        })
        .collect();
    names.sort();
    names.dedup();
    let number = |v: &Value| v.as_f64().map(|x| format!("{x:.1}")).unwrap_or_default();
    let mut header = names.clone();
    header.extend(["proto", "trials", "outage ms median", "min", "max"].map(String::from));
    let rows = configs
        .iter()
        .map(|c| {
            let mut row: Vec<String> = names
                .iter()
                .map(|n| c["params"][n].as_str().unwrap_or_default().to_string())
                .collect();
            row.push(c["proto"].as_str().unwrap_or_default().to_string());
            row.push(c["trials"].to_string());
            for key in ["median", "min", "max"] {
                row.push(number(&c["outage_ms"][key]));
            }
            row
        })
        .collect();
    HtmlTable {
        title: "Configurations".into(),
        header,
        rows,
        row_classes: Vec::new(),
    }
}

/// A CSV file as a table; `class_column` names a column whose value becomes the row's class.
fn csv_table(path: &Path, title: &str, class_column: Option<&str>) -> Result<Option<HtmlTable>> {
    if !path.is_file() {
        return Ok(None);
    }
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("could not read '{}'", path.display()))?;
    let header: Vec<String> = reader.headers()?.iter().map(str::to_string).collect();
    let class_index = class_column.and_then(|c| header.iter().position(|h| h == c));
    let mut rows = Vec::new();
    let mut row_classes = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("'{}' is not valid CSV", path.display()))?;
        row_classes.push(
            class_index
                .and_then(|i| record.get(i))
                .unwrap_or_default()
                .to_string(),
        );
        rows.push(record.iter().map(str::to_string).collect());
    }
    Ok(Some(HtmlTable {
        title: title.into(),
        header,
        rows,
        row_classes,
    }))
}
