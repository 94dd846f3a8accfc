//! The failover study (Flightplan, NSDI'21): iperf3 flows through a
//! failover, aligned on the Shremote `iperf_client` event, binned in 0.1 s
//! epochs, combined per run and banded across trials per configuration.

mod analyse;
pub mod fields;
pub(crate) mod figures;
mod load;
pub mod overlay;
mod report;
mod study;
pub mod tables;
mod tcp;
mod terminal;

pub use analyse::{analyse_run, FlowResult, Options, RunResult, StartSource};
pub use load::{is_run_dir, read_run, FlowFiles, RunFiles, ServerOutput};
pub use report::{ConfigReport, Report, RunReport, Spread};
pub use study::FailoverStudy;
pub use tcp::{RunDisruption, TcpFinding};

use crate::campaign::configurations;
use expost_formats::campaign::{Layout, RunDir};
use expost_formats::iperf3_json::Protocol;
use expost_model::{Diagnostic, Diagnostics, Params, Severity};
use expost_ops::band::{band, BandPoint};
use expost_ops::stats::{median, min_max};
use expost_ops::traffic::Metric;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One configuration: the runs sharing every parameter but the trial.
#[derive(Debug, Clone)]
pub struct ConfigResult {
    /// The shared parameters.
    pub params: Params,
    /// Indexes into [`Campaign::runs`] of its analysed runs, by trial.
    pub runs: Vec<usize>,
    /// The protocol of its runs.
    pub proto: Option<Protocol>,
    /// Outage durations across trials, ms.
    pub outage_ms: Option<Spread>,
    /// How many trials `outage_ms` covers (runs whose outage is unknown are left out).
    pub outage_trials: usize,
    /// Outage starts across trials, seconds after the anchor.
    pub outage_start_s: Option<Spread>,
    /// Per metric, the band across trials at each epoch.
    pub bands: BTreeMap<Metric, BTreeMap<i64, BandPoint>>,
    /// Per `--metric` field, the band across trials at each epoch.
    pub field_bands: BTreeMap<String, BTreeMap<i64, BandPoint>>,
    /// Per `--overlay` series (`NAME[ENTITY]`): its unit and its band
    /// across trials at each epoch.
    pub overlay_bands: BTreeMap<String, (Option<String>, BTreeMap<i64, BandPoint>)>,
}

/// A whole campaign, analysed.
#[derive(Debug, Clone)]
pub struct Campaign {
    /// Every run found, in path order (failed ones too, with `ok == false`).
    pub runs: Vec<RunResult>,
    /// Configurations, ordered by their parameters (numbers numerically).
    pub configs: Vec<ConfigResult>,
    /// Problems with the campaign itself (unreadable folders).
    pub diagnostics: Vec<Diagnostic>,
}

impl Campaign {
    /// Every diagnostic of the campaign and its runs.
    pub fn all_diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .chain(self.runs.iter().flat_map(|r| r.diagnostics.items()))
    }

    /// How many diagnostics are at least `severity`.
    pub fn count_at_least(&self, severity: Severity) -> usize {
        self.all_diagnostics()
            .filter(|d| d.severity >= severity)
            .count()
    }
}

/// Finds the run folders under `root`.
pub fn find_runs(root: &Path) -> (Vec<RunDir>, Vec<Diagnostic>) {
    let (runs, unlisted) = expost_formats::detect::failover_runs(root);
    (runs, listing_diagnostics(unlisted))
}

/// Folders that could not be listed while looking for runs, as errors.
pub fn listing_diagnostics(unlisted: Vec<(PathBuf, String)>) -> Vec<Diagnostic> {
    unlisted
        .into_iter()
        .map(|(path, message)| Diagnostic {
            file: load::display(&path),
            line: None,
            message,
            severity: Severity::Error,
        })
        .collect()
}

/// Reads and analyses every run (in parallel), then groups them into
/// configurations. `progress` is called once per run finished.
pub fn analyse_campaign(
    runs: &[RunDir],
    layout: &Layout,
    options: &Options,
    progress: &(dyn Fn() + Sync),
) -> Vec<RunResult> {
    runs.par_iter()
        .map(|dir| {
            let result = analyse_dir(dir, layout, options);
            progress();
            result
        })
        .collect()
}

pub(crate) fn analyse_dir(dir: &RunDir, layout: &Layout, options: &Options) -> RunResult {
    let run_dir = load::display(&dir.path);
    let mut run = RunResult {
        name: dir.name.clone(),
        rel: dir.rel.clone(),
        diagnostics: Diagnostics::for_file(&run_dir),
        ..RunResult::default()
    };
    match layout.params(dir) {
        Ok(p) => {
            run.params = p.params;
            run.trial = p.trial;
        }
        Err(message) => {
            run.diagnostics
                .error(None, format!("{message}; run left out"));
            return run;
        }
    }
    let mut files = read_run(&dir.path, &options.text, &mut run.diagnostics);
    if !options.fields.is_empty() {
        load::read_fields(
            &mut files,
            &options.fields,
            options.include_omitted,
            &mut run.diagnostics,
        );
    }
    if !options.overlays.is_empty() {
        files.overlays = overlay::read(dir, &options.overlays, &mut run.diagnostics);
    }
    analyse_run(run, files, &run_dir, options)
}

/// Groups analysed runs into configurations and computes their bands.
pub fn group_configs(runs: &[RunResult]) -> Vec<ConfigResult> {
    let analysed = runs.iter().enumerate().filter(|(_, r)| r.ok);
    configurations(analysed.map(|(i, r)| (i, &r.params, r.trial.as_str())))
        .into_iter()
        .map(|members| config_of(runs, members))
        .collect()
}

pub(crate) fn config_of(runs: &[RunResult], members: Vec<usize>) -> ConfigResult {
    let first = &runs[members[0]];
    let outages: Vec<_> = members.iter().filter_map(|&i| runs[i].outage).collect();
    let durations: Vec<f64> = outages.iter().map(|o| o.duration * 1e3).collect();
    let starts: Vec<f64> = outages
        .iter()
        .map(|o| o.start)
        .filter(|s| s.is_finite())
        .collect();
    let mut bands = BTreeMap::new();
    for metric in Metric::ALL {
        let series: Vec<BTreeMap<i64, f64>> =
            members.iter().map(|&i| runs[i].series(metric)).collect();
        let refs: Vec<&BTreeMap<i64, f64>> = series.iter().filter(|s| !s.is_empty()).collect();
        if !refs.is_empty() {
            bands.insert(metric, band(&refs));
        }
    }
    let mut field_bands = BTreeMap::new();
    let names: std::collections::BTreeSet<&String> = members
        .iter()
        .flat_map(|&i| runs[i].fields.keys())
        .collect();
    for name in names {
        let refs: Vec<&BTreeMap<i64, f64>> = (members.iter())
            .filter_map(|&i| runs[i].fields.get(name))
            .filter(|s| !s.is_empty())
            .collect();
        if !refs.is_empty() {
            field_bands.insert(name.clone(), band(&refs));
        }
    }
    let mut overlay_bands = BTreeMap::new();
    let names: std::collections::BTreeSet<&String> = members
        .iter()
        .flat_map(|&i| runs[i].overlays.keys())
        .collect();
    for name in names {
        let series: Vec<&overlay::OverlaySeries> = (members.iter())
            .filter_map(|&i| runs[i].overlays.get(name))
            .filter(|s| !s.epochs.is_empty())
            .collect();
        let refs: Vec<&BTreeMap<i64, f64>> = series.iter().map(|s| &s.epochs).collect();
        if !refs.is_empty() {
            let unit = series.iter().find_map(|s| s.unit.clone());
            overlay_bands.insert(name.clone(), (unit, band(&refs)));
        }
    }
    ConfigResult {
        field_bands,
        overlay_bands,
        params: first.params.clone(),
        proto: first.proto,
        outage_ms: Spread::of(&durations),
        outage_trials: durations.len(),
        outage_start_s: Spread::of(&starts),
        bands,
        runs: members,
    }
}

impl Spread {
    /// Median, min and max of `values`; `None` when empty.
    pub fn of(values: &[f64]) -> Option<Spread> {
        let (min, max) = min_max(values)?;
        Some(Spread {
            median: median(values)?,
            min,
            max,
        })
    }
}
