//! The iperf3 study: every run under a root (a folder of iperf3 output, or a
//! single file) summarised per flow and per run from the files' own `end`
//! sections (text: their sender/receiver summary lines), binned over time
//! from their intervals, and summarised per configuration across trials.
//!
//! Runs: for each iperf3 output file, the shallowest path above it (a
//! folder, or the file itself without its extension) that fits the layout
//! is its run. With the default layout, a file that fits nowhere makes its
//! folder a run (the file itself when it lies in ROOT), whose one parameter
//! `run` is its path; with `--pattern` that is an error and the run is left
//! out, as in `expost failover`.
//!
//! Flows: the streams (`-P`) of each client file. A server file named like
//! a client file with `server` for `client` (`server_0.out` ↔
//! `client_0.json`) is the receiver's view of the same flow: its intervals
//! give the received series, and its summary fills the receiver's values
//! (received throughput, loss, jitter, out-of-order) the client file lacks.
//! A server file without its client is a flow of its own.

mod outputs;
mod read;
mod study;

pub use study::Iperf3Study;

use crate::campaign::configurations;
use expost_formats::campaign::{self, Layout, PathParams, RunDir};
use expost_formats::iperf3_json::Protocol;
use expost_formats::iperf3_text::TextOptions;
use expost_model::{Diagnostic, Diagnostics, Params, Severity};
use expost_ops::band::{band, BandKind, BandPoint};
use expost_ops::bin::EpochGrid;
use expost_ops::traffic::{Combined, FlowEpochs, Metric};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The summary metrics, in output order: name and unit.
pub const METRICS: [(&str, &str); 13] = [
    ("throughput_sent", "bit/s"),
    ("throughput_received", "bit/s"),
    ("retransmits", "count"),
    ("rtt_mean", "ms"),
    ("rtt_max", "ms"),
    ("cwnd_max", "B"),
    ("lost", "count"),
    ("packets", "count"),
    ("loss_pct", "%"),
    ("jitter", "ms"),
    ("out_of_order", "count"),
    ("cpu_host", "%"),
    ("cpu_remote", "%"),
];
const SENT: usize = 0;
const RECEIVED: usize = 1;
const RETRANSMITS: usize = 2;
const RTT_MEAN: usize = 3;
const RTT_MAX: usize = 4;
const CWND_MAX: usize = 5;
const LOST: usize = 6;
const PACKETS: usize = 7;
const LOSS: usize = 8;
const JITTER: usize = 9;
const OUT_OF_ORDER: usize = 10;
const CPU_HOST: usize = 11;
const CPU_REMOTE: usize = 12;

/// One value per [`METRICS`] entry; `None` where the files do not say.
pub type Summary = [Option<f64>; 13];

/// The interval metrics of `series`, and the traffic metric behind each.
pub const SERIES: [(&str, Metric); 8] = [
    ("throughput_sent", Metric::Throughput),
    ("throughput_received", Metric::Goodput),
    ("retransmits", Metric::Retransmits),
    ("rtt", Metric::Rtt),
    ("lost", Metric::Lost),
    ("packets", Metric::Packets),
    ("loss_pct", Metric::Loss),
    ("jitter", Metric::Jitter),
];

/// How runs are analysed and drawn.
#[derive(Debug, Clone)]
pub struct Options {
    /// The epochs of `series` and of throughput over time.
    pub grid: EpochGrid,
    /// How to read text time prefixes.
    pub text: TextOptions,
    /// Which centre and band the figures draw across trials.
    pub band: BandKind,
    /// The parameter summary metrics are drawn against.
    pub x: Option<String>,
    /// Only configurations with one of the values `--only PARAM=V1,V2`
    /// gives are drawn (tables keep them all), under the legend texts
    /// `--label PARAM=VALUE:TEXT` gives.
    pub choice: crate::choice::FigureChoice,
    /// Only these trials are drawn, the bands made of them alone
    /// (`--trials 1,2`; all when empty; tables keep every trial).
    pub trials: Vec<String>,
}

impl Options {
    /// Whether `--only` keeps a configuration with `params` in the figures.
    pub fn draws(&self, params: &Params) -> bool {
        (self.choice).keeps(|p, value| params.get(p).is_some_and(|v| v == value))
    }

    /// The `--label` text for a line of the configurations with `params`.
    pub fn label_of(&self, params: &Params) -> Option<&str> {
        (self.choice).label_of(|p, value| params.get(p).is_some_and(|v| v == value))
    }
}

/// A run found: its folder (or file), its files and its parameters.
#[derive(Debug, Clone)]
pub struct RunUnit {
    /// The run folder, or the run's one file.
    pub dir: RunDir,
    /// Its iperf3 output files (by name), in path order.
    pub files: Vec<PathBuf>,
    /// The parameters its path gives.
    pub params: Params,
    /// The trial.
    pub trial: String,
    /// Why its path fits no level of the layout: a note with the default
    /// layout, an error (run left out) with `--pattern`.
    pub misfit: Option<(Severity, String)>,
}

/// One flow: a stream of a client file (with its server file), or of a
/// server file alone.
#[derive(Debug, Clone)]
pub struct Flow {
    /// `client_0`, or `client_0:5` for socket 5 of a `-P` test.
    pub label: String,
    /// The file it was read from.
    pub file: String,
    /// The server file paired with it, if any.
    pub server_file: Option<String>,
    /// TCP or UDP.
    pub proto: Option<Protocol>,
    /// Its end summary.
    pub summary: Summary,
    /// Its sender-side intervals, binned.
    pub sent: FlowEpochs,
    /// Its receiver-side intervals, binned.
    pub received: FlowEpochs,
}

/// One run, analysed.
#[derive(Debug, Clone, Default)]
pub struct RunResult {
    /// The run folder's (or file's) name.
    pub name: String,
    /// Its path relative to ROOT.
    pub rel: String,
    /// Parameters from its path.
    pub params: Params,
    /// The trial.
    pub trial: String,
    /// The protocol of its first flow.
    pub proto: Option<Protocol>,
    /// Its flows.
    pub flows: Vec<Flow>,
    /// The run's summary: counts and rates summed over its files (when
    /// every file has them), RTT, jitter and CPU averaged, maxima the largest.
    pub total: Summary,
    /// The flows' sender-side epochs combined (rates summed).
    pub sent: BTreeMap<i64, Combined>,
    /// The flows' receiver-side epochs combined.
    pub received: BTreeMap<i64, Combined>,
    /// True when at least one flow was read.
    pub ok: bool,
    /// Everything reported while reading it.
    pub diagnostics: Diagnostics,
    /// How many of its files were iperf3 output (readable or not).
    iperf_files: usize,
}

impl RunResult {
    /// The run's combined value of `metric` per epoch.
    pub fn series(&self, metric: Metric) -> BTreeMap<i64, f64> {
        let side = if metric.from_receiver() {
            &self.received
        } else {
            &self.sent
        };
        side.iter()
            .filter_map(|(&k, c)| Some((k, c.metric(metric)?)))
            .collect()
    }
}

impl Campaign {
    /// With `--trials`, the campaign made of the chosen trials' runs alone
    /// (configurations and bands regrouped from them), for figures; `None`
    /// without it.
    pub fn of_trials(&self, trials: &[String]) -> Option<Campaign> {
        if trials.is_empty() {
            return None;
        }
        let runs: Vec<RunResult> = (self.runs.iter())
            .filter(|r| trials.contains(&r.trial))
            .cloned()
            .collect();
        Some(Campaign {
            configs: group_configs(&runs),
            runs,
            diagnostics: Vec::new(),
        })
    }
}

/// The runs sharing every parameter but the trial.
#[derive(Debug, Clone)]
pub struct ConfigResult {
    /// The shared parameters.
    pub params: Params,
    /// The protocol of its first run.
    pub proto: Option<Protocol>,
    /// Indexes of its runs in [`Campaign::runs`], by trial.
    pub runs: Vec<usize>,
    /// Per summary metric, its spread across the trials' run summaries.
    pub stats: [Option<BandPoint>; 13],
    /// Throughput sent and received over time, banded across trials.
    pub bands: [BTreeMap<i64, BandPoint>; 2],
}

/// Everything, analysed.
#[derive(Debug, Clone)]
pub struct Campaign {
    /// Every run, in path order (failed ones too).
    pub runs: Vec<RunResult>,
    /// The configurations, ordered by their parameters.
    pub configs: Vec<ConfigResult>,
    /// Problems with the campaign itself, and files that are no run's.
    pub diagnostics: Vec<Diagnostic>,
}

fn display(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

fn note(path: &Path, severity: Severity, message: String) -> Diagnostic {
    Diagnostic {
        file: display(path),
        line: None,
        message,
        severity,
    }
}

/// Finds the runs under `root` (see the module documentation).
pub fn find_runs(root: &Path, layout: &Layout) -> (Vec<RunUnit>, Vec<Diagnostic>) {
    let (files, errors) = campaign::files(root);
    let mut diagnostics: Vec<Diagnostic> = (errors.into_iter())
        .map(|(p, e)| note(&p, Severity::Error, e))
        .collect();
    let mut runs: BTreeMap<String, RunUnit> = BTreeMap::new();
    for (path, rel) in files {
        if !matches!(
            rel.rsplit_once('.'),
            Some((_, "json" | "out" | "txt" | "log"))
        ) {
            let why = "not an iperf3 output file (*.json, *.out, *.txt, *.log); ignored";
            diagnostics.push(note(&path, Severity::Note, why.into()));
            continue;
        }
        let segments: Vec<&str> = rel.split('/').collect();
        let last = segments.len();
        let at = |n: usize| {
            let path = if n == last {
                path.clone()
            } else {
                root.join(segments[..n].join("/"))
            };
            let run = RunDir {
                path,
                rel: segments[..n].join("/"),
                name: segments[n - 1].into(),
            };
            // A file is matched without its extension.
            let strip = |s: &str| s.rsplit_once('.').map_or(s, |(stem, _)| stem).to_string();
            let bare = RunDir {
                rel: strip(&run.rel),
                name: strip(&run.name),
                ..run.clone()
            };
            let fit = layout.params(if n == last { &bare } else { &run });
            (run, fit)
        };
        let (dir, fit) = (1..=last)
            .map(at)
            .find(|(_, fit)| fit.is_ok())
            .unwrap_or_else(|| at(last.saturating_sub(1).max(1)));
        let (p, misfit) = match fit {
            Ok(p) => (p, None),
            Err(why) if matches!(layout, Layout::Pattern(_)) => (
                PathParams {
                    params: Params::new(),
                    trial: String::new(),
                },
                Some((Severity::Error, why.to_string())),
            ),
            Err(why) => {
                let params = [("run".to_string(), dir.rel.clone())].into();
                let why = format!("{why}: its one parameter is its path, 'run'");
                (
                    PathParams {
                        params,
                        trial: String::new(),
                    },
                    Some((Severity::Note, why)),
                )
            }
        };
        let unit = runs.entry(dir.rel.clone()).or_insert_with(|| RunUnit {
            dir,
            files: Vec::new(),
            params: p.params,
            trial: p.trial,
            misfit,
        });
        unit.files.push(path);
    }
    (runs.into_values().collect(), diagnostics)
}

/// Groups the analysed runs into configurations, with their spreads and bands.
pub fn group_configs(runs: &[RunResult]) -> Vec<ConfigResult> {
    let analysed = runs.iter().enumerate().filter(|(_, r)| r.ok);
    let groups = configurations(analysed.map(|(i, r)| (i, &r.params, r.trial.as_str())));
    let configs = groups.into_iter().map(|members| {
        let stats = std::array::from_fn(|m| {
            let values: Vec<f64> = members.iter().filter_map(|&i| runs[i].total[m]).collect();
            BandPoint::of(&values)
        });
        let bands = [Metric::Throughput, Metric::Goodput].map(|metric| {
            let series: Vec<_> = members.iter().map(|&i| runs[i].series(metric)).collect();
            band(&series.iter().filter(|s| !s.is_empty()).collect::<Vec<_>>())
        });
        let first = &runs[members[0]];
        ConfigResult {
            params: first.params.clone(),
            proto: first.proto,
            runs: members,
            stats,
            bands,
        }
    });
    configs.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_the_shallowest_paths_that_fit_the_layout() {
        let dir = tempfile::tempdir().unwrap();
        for rel in [
            "exp_a/exp_a_1/iperf/client_0.json",
            "exp_a/exp_a_1/iperf/server_0.out",
            "exp_a/exp_a_1/event_log.json",
            "exp_a/exp_a_2.json",
            "loose.log",
            "other/deep/x.txt",
            "README.md",
        ] {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        let (runs, diagnostics) = find_runs(dir.path(), &Layout::Flightplan);
        let found: Vec<_> = runs
            .iter()
            .map(|r| {
                (
                    r.dir.rel.as_str(),
                    r.files.len(),
                    r.trial.as_str(),
                    r.misfit.is_some(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                ("exp_a/exp_a_1", 3, "1", false),
                ("exp_a/exp_a_2.json", 1, "2", false),
                ("loose.log", 1, "", true),
                ("other/deep", 1, "", true),
            ]
        );
        assert_eq!(runs[0].params["exp"], "exp");
        assert_eq!(runs[2].params["run"], "loose.log");
        assert_eq!(diagnostics.len(), 1, "README.md is noted");
        let pattern = Layout::Pattern("{cfg}/{_}_{trial}".parse().unwrap());
        let (runs, _) = find_runs(dir.path(), &pattern);
        assert_eq!(runs[0].params["cfg"], "exp_a");
        assert!(matches!(
            runs.last().unwrap().misfit,
            Some((Severity::Error, _))
        ));
    }
}
