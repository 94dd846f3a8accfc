//! `expost report DIR… -o report.html`: one self-contained HTML page for
//! one or more study output folders — figures (interactive), tables
//! (sortable), diagnostics, parameters, and the command and expost version
//! that made each study. Nothing in it is fetched from the network.
//!
//! Each folder is read through its `manifest.json` alone: there is no code
//! here for any particular study, so every study that writes a manifest is
//! reported the same way.

use anyhow::{bail, Context, Result};
use expost_formats::detect::{self, Folder};
use expost_render::atomic::write_atomic;
use expost_render::output::{Manifest, MANIFEST};
use expost_render::report::{render_html, section_of, Report, StudySection};
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

Each DIR is the -o folder of a study command (failover, ombt, provision,
traces, simulate, sweep, iperf3, …): the report shows what its manifest.json
lists. Tables show at most 500 rows; the full tables are in their CSV files.
Exit code 1 when a folder cannot be reported, or a file its manifest lists is
missing (the page is written all the same).";

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
    let problems: Vec<String> = studies
        .iter()
        .flat_map(|s| s.problems.iter().cloned())
        .collect();
    let report = Report {
        title,
        command: crate::driver::command_line(),
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
    for problem in &problems {
        eprintln!("error: {problem}");
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Reads one study output folder through its manifest.
fn read_study(dir: &Path) -> Result<StudySection> {
    if !dir.is_dir() {
        bail!(
            "'{}' is not a folder (give the -o folder of a study command)",
            dir.display()
        );
    }
    match Manifest::read(dir).map_err(anyhow::Error::msg)? {
        Some(manifest) => Ok(section_of(dir, &manifest)),
        None => bail!(no_manifest(dir)),
    }
}

/// Why `dir`, which holds no manifest, cannot be reported: what it is
/// instead, and what to do.
fn no_manifest(dir: &Path) -> String {
    let shown = dir.display();
    let what = match detect::folder(dir) {
        Ok(Folder::OlderStudyOutput { study }) => {
            let command = study
                .map(|s| format!("`expost {s}`"))
                .unwrap_or_else(|| "a study command".into());
            format!(
                "it was written by {command} of an older expost, which wrote no manifest: rerun the study with this expost (the same command, or `expost run` on its expost.toml) and report the new folder"
            )
        }
        Ok(Folder::FailoverCampaign { .. }) => format!(
            "it is a failover campaign (a study's input): run `expost failover {shown} -o OUT`, then `expost report OUT`"
        ),
        Ok(Folder::OmbtCampaign { .. }) => format!(
            "it is an ombt campaign (a study's input): run `expost ombt {shown} -o OUT`, then `expost report OUT`"
        ),
        Ok(Folder::ProfilingRun) => {
            "it is a profiling run (the input of `expost simulate --profile`), not a study's output".into()
        }
        _ => {
            let inside = subfolders_with_manifest(dir);
            if inside.is_empty() {
                "it is not the output folder of a study (`expost STUDY … -o DIR` writes one)".into()
            } else {
                format!(
                    "its subfolders {} are study outputs: report them (`expost report {} -o report.html`)",
                    inside
                        .iter()
                        .map(|p| format!("'{}'", p.display()))
                        .collect::<Vec<_>>()
                        .join(", "),
                    inside
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            }
        }
    };
    format!("'{shown}' holds no {MANIFEST}: {what}")
}

/// The direct subfolders of `dir` that hold a manifest, sorted.
fn subfolders_with_manifest(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join(MANIFEST).is_file())
        .collect();
    found.sort();
    found
}
