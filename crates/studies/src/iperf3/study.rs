//! The iperf3 study as a [`Study`]: runs (folders or files) are its units.

use super::outputs::{self, cell, param_names};
use super::{
    Campaign, ConfigResult, Flow, Options, RunResult, RunUnit, Summary, METRICS, RECEIVED,
    RETRANSMITS, SENT,
};
use crate::study::{
    count, tagged, Context, Discovered, Provenance, Study, StudyError, UnitDiagnostic,
};
use expost_formats::campaign::Layout;
use expost_formats::iperf3_json::Protocol;
use expost_model::{Diagnostic, Severity};
use expost_ops::band::BandPoint;
use expost_render::figure::PaperSize;
use expost_render::output::Output;
use expost_render::table::Table;
use expost_render::text_table::{render, Align};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::io;
use std::path::PathBuf;

/// `expost iperf3`: the study and everything it was asked.
#[derive(Debug, Clone)]
pub struct Iperf3Study {
    /// A folder of runs, or one iperf3 output file.
    pub root: PathBuf,
    /// How run paths name their parameters.
    pub layout: Layout,
    /// How runs are analysed and drawn.
    pub options: Options,
    /// The size figures are drawn at.
    pub size: PaperSize,
}

fn metrics_json(summary: &Summary) -> Map<String, Value> {
    let value = |unit: &str, v: f64| {
        if matches!(unit, "count" | "B") {
            json!(v as u64)
        } else {
            json!(v)
        }
    };
    let values = METRICS.iter().zip(summary);
    values
        .map(|((name, unit), v)| (name.to_string(), v.map_or(Value::Null, |v| value(unit, v))))
        .collect()
}

fn spread_json(p: &BandPoint, unit: &str) -> Value {
    json!({
        "unit": unit, "n": p.n, "median": p.median, "min": p.min, "max": p.max,
        "mean": p.mean, "ci95_low": p.ci_low, "ci95_high": p.ci_high,
    })
}

fn proto(p: Option<Protocol>) -> Option<&'static str> {
    p.map(Protocol::as_str)
}

impl Iperf3Study {
    /// `{"runs": [...], "configs": [...], "summary": {...}, "campaign_diagnostics": [...]}`.
    fn report(&self, campaign: &Campaign) -> Value {
        let flow = |f: &Flow| {
            let mut flow = json!({
                "flow": f.label, "file": f.file, "server_file": f.server_file,
                "proto": proto(f.proto),
            });
            let object = flow.as_object_mut().expect("an object");
            object.extend(metrics_json(&f.summary));
            flow
        };
        let run = |r: &RunResult| {
            json!({
                "run": r.name, "path": r.rel, "params": r.params, "trial": r.trial,
                "proto": proto(r.proto), "ok": r.ok,
                "flows": r.flows.iter().map(flow).collect::<Vec<_>>(),
                "total": metrics_json(&r.total), "diagnostics": r.diagnostics.items(),
            })
        };
        let config = |c: &ConfigResult| {
            let spreads = METRICS.iter().zip(&c.stats);
            let metrics: Map<String, Value> = spreads
                .filter_map(|((name, unit), p)| {
                    Some((name.to_string(), spread_json(p.as_ref()?, unit)))
                })
                .collect();
            let paths: Vec<&str> = c
                .runs
                .iter()
                .map(|&i| campaign.runs[i].rel.as_str())
                .collect();
            json!({
                "params": c.params, "proto": proto(c.proto), "trials": c.runs.len(),
                "runs": paths, "metrics": metrics,
            })
        };
        json!({
            "runs": campaign.runs.iter().map(run).collect::<Vec<_>>(),
            "configs": campaign.configs.iter().map(config).collect::<Vec<_>>(),
            "summary": self.summary(campaign),
            "campaign_diagnostics": campaign.diagnostics,
        })
    }
}

impl Study for Iperf3Study {
    type Unit = RunUnit;
    type Analysed = RunResult;
    type Combined = Campaign;

    fn name(&self) -> &'static str {
        "iperf3"
    }

    fn discover(&self) -> Result<Discovered<RunUnit>, StudyError> {
        if !self.root.exists() {
            return Err(StudyError::Input(format!(
                "'{}' does not exist",
                self.root.display()
            )));
        }
        let (units, diagnostics) = super::find_runs(&self.root, &self.layout);
        if units.is_empty() {
            return Err(StudyError::Input(format!(
                "no iperf3 output file (*.json, *.out, *.txt, *.log) under '{}'",
                self.root.display()
            )));
        }
        if let Some(x) = &self.options.x {
            let names: BTreeSet<&str> = units
                .iter()
                .flat_map(|u| u.params.keys())
                .map(String::as_str)
                .collect();
            if !names.contains(x.as_str()) {
                let known = if names.is_empty() {
                    "none".into()
                } else {
                    names.into_iter().collect::<Vec<_>>().join(", ")
                };
                return Err(StudyError::Usage(format!(
                    "--x {x}: no run has that parameter (parameters: {known})"
                )));
            }
        }
        Ok(Discovered { units, diagnostics })
    }

    fn analyse(&self, unit: &RunUnit, _: &Context<'_>) -> RunResult {
        super::read::analyse(unit, &self.options)
    }

    /// Runs none of whose files is iperf3 output are no runs: their notes
    /// go to the campaign.
    fn combine(
        &self,
        all: Vec<RunResult>,
        mut diagnostics: Vec<Diagnostic>,
    ) -> Result<Campaign, StudyError> {
        let (runs, others): (Vec<RunResult>, Vec<RunResult>) =
            all.into_iter().partition(|r| r.iperf_files > 0);
        diagnostics.extend(others.into_iter().flat_map(|r| r.diagnostics.into_items()));
        if runs.is_empty() {
            return Err(StudyError::Input(format!(
                "no iperf3 output under '{}': none of its files is",
                self.root.display()
            )));
        }
        let configs = super::group_configs(&runs);
        if let Some(x) = &self.options.x {
            let bad: BTreeSet<&str> = configs
                .iter()
                .filter_map(|c| c.params.get(x))
                .filter(|v| v.parse::<f64>().is_err())
                .map(String::as_str)
                .collect();
            if !bad.is_empty() {
                let values = bad.into_iter().collect::<Vec<_>>().join(", ");
                diagnostics.push(Diagnostic {
                    file: self.root.display().to_string(),
                    line: None,
                    severity: Severity::Warning,
                    message: format!(
                        "--x {x}: its values are not all numbers ({values}); no figure against it"
                    ),
                });
            }
        }
        for message in unmatched_choices(&runs, &configs, &self.options) {
            diagnostics.push(Diagnostic {
                file: self.root.display().to_string(),
                line: None,
                severity: Severity::Warning,
                message,
            });
        }
        Ok(Campaign {
            runs,
            configs,
            diagnostics,
        })
    }

    fn diagnostics<'a>(&self, campaign: &'a Campaign) -> Vec<UnitDiagnostic<'a>> {
        let runs = campaign.runs.iter();
        tagged(
            &campaign.diagnostics,
            runs.map(|r| (r.rel.as_str(), r.diagnostics.items())),
        )
    }

    fn failed_units(&self, campaign: &Campaign) -> usize {
        campaign.runs.iter().filter(|r| !r.ok).count()
    }

    fn write_json(
        &self,
        campaign: &Campaign,
        provenance: &Provenance,
        out: &mut dyn io::Write,
    ) -> io::Result<()> {
        provenance.write_stamped(self.report(campaign), out)
    }

    fn summary(&self, campaign: &Campaign) -> Value {
        let counts = count(&self.diagnostics(campaign));
        let ok = campaign.runs.iter().filter(|r| r.ok).count();
        let flows: usize = campaign.runs.iter().map(|r| r.flows.len()).sum();
        json!({
            "runs": campaign.runs.len(), "ok": ok, "failed": campaign.runs.len() - ok,
            "flows": flows, "configs": campaign.configs.len(),
            "errors": counts.errors, "warnings": counts.warnings, "notes": counts.notes,
        })
    }

    fn outputs<'a>(&'a self, campaign: &'a Campaign, _: &'a Provenance) -> Vec<Output<'a>> {
        let mut list = vec![
            Output::table("runs", "Runs and their flows", true, move || {
                outputs::runs(campaign)
            }),
            Output::table("configs", "Configurations across trials", true, move || {
                outputs::configs(campaign)
            }),
            Output::table(
                "series",
                "Series: interval metrics per flow",
                true,
                move || outputs::series(campaign, &self.options),
            ),
        ];
        let chosen = campaign.of_trials(&self.options.trials);
        let figures = outputs::figures(chosen.as_ref().unwrap_or(campaign), &self.options);
        let specs: Vec<_> = figures
            .iter()
            .map(|(name, _, f)| (name.clone(), f.clone()))
            .collect();
        list.push(Output::figure_specs(&specs));
        list.extend(
            figures
                .into_iter()
                .map(|(name, title, f)| Output::figure(&name, &title, self.size, f)),
        );
        list
    }

    fn stdout_table<'a>(
        &'a self,
        campaign: &'a Campaign,
    ) -> Option<Box<dyn Iterator<Item = Table> + 'a>> {
        Some(Box::new(std::iter::once_with(move || {
            outputs::series(campaign, &self.options)
        })))
    }

    fn terminal(&self, campaign: &Campaign) -> String {
        let names = param_names(campaign);
        let left = |n: &'static str| (n, Align::Left);
        let right = |n: &'static str| (n, Align::Right);
        // The run path again (the parameter of runs fitting no layout) is left out.
        let shown: Vec<&String> = names
            .iter()
            .filter(|n| {
                !campaign
                    .runs
                    .iter()
                    .all(|r| r.params.get(*n) == Some(&r.rel))
            })
            .collect();
        let mut header = vec![left("run")];
        header.extend(shown.iter().map(|n| (n.as_str(), Align::Left)));
        header.extend([
            left("trial"),
            left("proto"),
            right("flows"),
            right("sent Mbit/s"),
            right("received Mbit/s"),
        ]);
        header.extend([
            right("retr"),
            right("loss %"),
            right("jitter ms"),
            right("diags"),
        ]);
        let rows: Vec<Vec<String>> = campaign
            .runs
            .iter()
            .map(|r| {
                let mut row = vec![r.rel.clone()];
                row.extend(
                    shown
                        .iter()
                        .map(|n| r.params.get(n.as_str()).cloned().unwrap_or_default()),
                );
                let proto = if r.ok {
                    r.proto.map_or("-", |p| p.as_str())
                } else {
                    "FAILED"
                };
                row.extend([r.trial.clone(), proto.into(), r.flows.len().to_string()]);
                row.extend(
                    [
                        (SENT, 1e-6, 1),
                        (RECEIVED, 1e-6, 1),
                        (RETRANSMITS, 1.0, 0),
                        (super::LOSS, 1.0, 3),
                        (super::JITTER, 1.0, 3),
                    ]
                    .map(|(m, scale, digits)| cell(&r.total, m, scale, digits)),
                );
                row.push(r.diagnostics.len().to_string());
                row
            })
            .collect();
        let mut out = render(&header, &rows);
        out.push('\n');
        let mut header: Vec<(&str, Align)> =
            names.iter().map(|n| (n.as_str(), Align::Left)).collect();
        header.extend([
            left("proto"),
            right("trials"),
            right("sent Mbit/s median [min-max]"),
            right("received Mbit/s median [min-max]"),
            right("loss % median"),
        ]);
        let spread = |p: &Option<BandPoint>, scale: f64| {
            p.map_or("-".into(), |p| {
                format!(
                    "{:.1} [{:.1}-{:.1}]",
                    p.median * scale,
                    p.min * scale,
                    p.max * scale
                )
            })
        };
        let rows: Vec<Vec<String>> = campaign
            .configs
            .iter()
            .map(|c| {
                let mut row: Vec<String> = names
                    .iter()
                    .map(|n| c.params.get(n).cloned().unwrap_or_default())
                    .collect();
                row.extend([
                    c.proto.map_or("-", |p| p.as_str()).into(),
                    c.runs.len().to_string(),
                ]);
                row.extend([
                    spread(&c.stats[SENT], 1e-6),
                    spread(&c.stats[RECEIVED], 1e-6),
                ]);
                row.push(c.stats[super::LOSS].map_or("-".into(), |p| format!("{:.3}", p.median)));
                row
            })
            .collect();
        out.push_str(&render(&header, &rows));
        out
    }

    fn headline(&self, campaign: &Campaign) -> String {
        let s = self.summary(campaign);
        format!(
            "{} runs ({} analysed, {} failed), {} flows, {} configurations",
            s["runs"], s["ok"], s["failed"], s["flows"], s["configs"]
        )
    }
}

/// What `--only`, `--label` and `--trials` name that no configuration or
/// run has.
fn unmatched_choices(
    runs: &[super::RunResult],
    configs: &[super::ConfigResult],
    options: &super::Options,
) -> Vec<String> {
    let has = |param: &str, value: &str| {
        (configs.iter()).any(|c| c.params.get(param).is_some_and(|v| v == value))
    };
    let mut said = options.choice.unmatched(has, "configuration");
    for trial in &options.trials {
        if !runs.iter().any(|r| r.ok && &r.trial == trial) {
            said.push(format!("--trials {trial}: no analysed run has this trial"));
        }
    }
    if !options.choice.only.is_empty() && !configs.iter().any(|c| options.draws(&c.params)) {
        said.push("--only leaves no configuration to draw: no figure".to_string());
    }
    said
}
