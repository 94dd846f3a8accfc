//! `expost inspect PATH`: says what a file or folder holds, recognised by
//! its content (not its name); the recognition and the wording are
//! `expost_studies::inspect`.

use anyhow::{Context, Result};
use expost_render::printable::printable;
use expost_studies::inspect::{describe, inspect, Finding};
use std::path::PathBuf;
use std::process::ExitCode;

/// Examples shown at the end of `expost inspect --help`.
pub const EXAMPLES: &str = "\
Examples:
  expost inspect examples/failover
  expost inspect run/iperf/client_0.json
  expost inspect run/iperf/ --json
  expost inspect out/             # a study output folder: what its manifest lists

Recognised: study output folders (they hold manifest.json: the study, its
command, and every table, figure, chart and trace in it, with columns and
units), failover campaigns (run folders with event_log.json and iperf/),
iperf3 JSON (client or server, --json-stream too), iperf3 text output (either
side, any time prefix), Shremote event logs, ombt campaigns (params.json and
run folders), ombt controller results, line-protocol telemetry (influx_inspect
export), InfluxDB data-folder tarballs, Batch Shipyard perf-event exports, spot/preemption traces (every format `expost traces` reads), and
profiling-run folders (reconfig.csv, loop_times_0.csv, …). A folder that is none of these is inspected file by file. Exit code 1 when something was not recognised or
could not be read.";

/// Arguments of `expost inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A file or folder.
    pub path: PathBuf,
    /// Print one JSON object per path on stdout instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Inspects the path and prints what it holds.
pub fn run(args: Args) -> Result<ExitCode> {
    let findings = inspect(&args.path)?;
    let mut text = String::new();
    for finding in &findings {
        if args.json {
            text.push_str(&serde_json::to_string(finding)?);
            text.push('\n');
        } else {
            text.push_str(&printable(&describe(finding)));
        }
    }
    match crate::driver::print_stdout(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(e).context("could not write to stdout")
        }
        _ => {}
    }
    Ok(if findings.iter().any(Finding::failed) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
