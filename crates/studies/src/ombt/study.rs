//! The ombt study as a [`Study`]: the runs the campaign's `params.json`
//! files list are its units; analysing one reads its controller results
//! and its telemetry.

use super::{
    analyse_run, axes, find_campaign, outputs, Campaign, CampaignRun, FigureAxes, Report,
    RunResult, TelemetryOptions, TelemetrySource,
};
use crate::study::{tagged, Context, Discovered, Provenance, Study, StudyError, UnitDiagnostic};
use expost_model::{Diagnostic, Severity};
use expost_render::bars::render_bar_panels_at;
use expost_render::figure::PaperSize;
use expost_render::output::Output;
use expost_render::table::Table;
use expost_render::text_table::{render, Align};
use std::io;
use std::path::PathBuf;
use std::sync::OnceLock;

/// `expost ombt`: the study and everything it was asked.
#[derive(Debug)]
pub struct OmbtStudy {
    root: PathBuf,
    telemetry: TelemetryOptions,
    size: PaperSize,
    /// The parameters on the rate and latency figures' axes.
    axes: FigureAxes,
    /// The telemetry source, made (and planned) by `discover`.
    source: OnceLock<Option<Box<dyn TelemetrySource>>>,
}

impl OmbtStudy {
    /// The campaign at `root` (a `params.json`, a folder holding one, or a
    /// folder of `test_case_N/` folders holding one each), its telemetry
    /// read as `telemetry` says, figures drawn at `size`.
    pub fn new(root: PathBuf, telemetry: TelemetryOptions, size: PaperSize) -> OmbtStudy {
        OmbtStudy {
            root,
            telemetry,
            size,
            axes: FigureAxes::default(),
            source: OnceLock::new(),
        }
    }

    /// The same study with the rate and latency figures on `axes`.
    pub fn with_axes(self, axes: FigureAxes) -> OmbtStudy {
        OmbtStudy { axes, ..self }
    }

    fn source(&self) -> Option<&dyn TelemetrySource> {
        self.source.get().and_then(|s| s.as_deref())
    }
}

impl Study for OmbtStudy {
    type Unit = CampaignRun;
    type Analysed = RunResult;
    type Combined = Campaign;

    fn name(&self) -> &'static str {
        "ombt"
    }

    /// The campaign's runs; the telemetry source is made here (so an
    /// `influxd` that cannot run is said once) and told the runs (so it
    /// can plan which servers answer for which runs).
    fn discover(&self) -> Result<Discovered<CampaignRun>, StudyError> {
        if !self.root.exists() {
            return Err(StudyError::Input(format!(
                "campaign '{}' does not exist",
                self.root.display()
            )));
        }
        let (units, mut diagnostics) = find_campaign(&self.root);
        if units.is_empty() && diagnostics.is_empty() {
            return Err(StudyError::Input(format!(
                "no params.json at '{}' (nor in its test_case_N/ folders)",
                self.root.display()
            )));
        }
        let (telemetry, chosen) = self.telemetry.resolved(&units);
        diagnostics.extend(chosen);
        let mut source = telemetry.source().map_err(StudyError::Input)?;
        if let Some(source) = source.as_mut() {
            diagnostics.extend(source.plan(&units));
        }
        if self.source.set(source).is_err() {
            return Err(StudyError::Input(
                "the campaign was discovered twice".into(),
            ));
        }
        Ok(Discovered { units, diagnostics })
    }

    fn analyse(&self, run: &CampaignRun, context: &Context<'_>) -> RunResult {
        analyse_run(run, self.source(), context)
    }

    fn combine(
        &self,
        runs: Vec<RunResult>,
        diagnostics: Vec<Diagnostic>,
    ) -> Result<Campaign, StudyError> {
        // Servers shared by runs that failed before asking for them stop now.
        if let Some(source) = self.source() {
            source.finish();
        }
        let mut runs = runs;
        let mut diagnostics = diagnostics;
        for message in self.axes.unmatched(&runs) {
            diagnostics.push(Diagnostic {
                file: self.root.display().to_string(),
                line: None,
                severity: Severity::Warning,
                message,
            });
        }
        let missing = axes::missing_everywhere(&runs, &self.axes);
        let (figures, left_out) = axes::plan(&runs, &self.axes);
        if missing.is_empty() {
            for (i, why) in left_out {
                let run = &mut runs[i];
                let file = run.run.params_file.display().to_string();
                run.diagnostics.add(Diagnostic {
                    file,
                    line: None,
                    severity: Severity::Warning,
                    message: format!("left out of the rate and latency figures: {why}"),
                });
            }
        } else {
            let names = axes::parameter_names(&runs).join(", ");
            for (role, param) in missing {
                diagnostics.push(Diagnostic {
                    file: self.root.display().to_string(),
                    line: None,
                    severity: Severity::Error,
                    message: format!(
                        "no run has the parameter '{param}' asked for the figures' {role} (--{role}); the runs' parameters are: {names}"
                    ),
                });
            }
        }
        Ok(Campaign {
            runs,
            diagnostics,
            figures,
        })
    }

    fn diagnostics<'a>(&self, campaign: &'a Campaign) -> Vec<UnitDiagnostic<'a>> {
        let runs = campaign.runs.iter();
        tagged(
            &campaign.diagnostics,
            runs.map(|r| (r.run.name.as_str(), r.diagnostics.items())),
        )
    }

    fn failed_units(&self, campaign: &Campaign) -> usize {
        campaign.runs.iter().filter(|r| !r.ok).count()
    }

    /// The JSON contract plus how it was made (the expost version, the
    /// command line, the options), serialised straight to `out`: the
    /// report's keys are declared in alphabetical order.
    fn write_json(
        &self,
        campaign: &Campaign,
        provenance: &Provenance,
        out: &mut dyn io::Write,
    ) -> io::Result<()> {
        let report = Report {
            command: Some(provenance.command_line.clone()),
            expost_version: Some(&provenance.version),
            options: Some(provenance.options.clone()),
            ..Report::of(campaign)
        };
        serde_json::to_writer_pretty(out, &report)?;
        Ok(())
    }

    fn summary(&self, campaign: &Campaign) -> serde_json::Value {
        serde_json::to_value(Report::of(campaign).summary).unwrap_or_default()
    }

    fn outputs<'a>(&'a self, campaign: &'a Campaign, _: &'a Provenance) -> Vec<Output<'a>> {
        let mut outputs = vec![
            Output::table(
                "runs",
                "Runs: parameters, statistics and telemetry",
                true,
                move || outputs::runs_table(campaign),
            ),
            Output::table("series", "Series: telemetry samples", true, move || {
                outputs::series_table(campaign)
            }),
        ];
        let figures = outputs::client_figures(campaign, &self.axes);
        outputs.push(Output::figure_specs(&figures));
        outputs.extend(figures.into_iter().map(|(stem, figure)| {
            let title = figure.title.clone().unwrap_or_else(|| stem.clone());
            Output::figure(&stem, &title, self.size, figure)
        }));
        let size = self.size;
        outputs.extend(outputs::distributions(campaign).into_iter().map(
            |(stem, title, panels)| {
                Output::chart(&stem, &title, move || render_bar_panels_at(&panels, size))
            },
        ));
        outputs.extend(
            outputs::telemetry_figures(campaign)
                .into_iter()
                .map(|(stem, title, figure)| Output::figure(&stem, &title, self.size, figure)),
        );
        outputs
    }

    fn stdout_table<'a>(
        &'a self,
        campaign: &'a Campaign,
    ) -> Option<Box<dyn Iterator<Item = Table> + 'a>> {
        Some(Box::new(std::iter::once(outputs::runs_table(campaign))))
    }

    fn terminal(&self, campaign: &Campaign) -> String {
        terminal_summary(campaign)
    }

    fn headline(&self, campaign: &Campaign) -> String {
        let ok = campaign.runs.iter().filter(|r| r.ok).count();
        format!(
            "{} runs ({} analysed, {} failed)",
            campaign.runs.len(),
            ok,
            campaign.runs.len() - ok,
        )
    }

    fn cleans_up(&self) -> bool {
        self.telemetry.starts_servers()
    }
}

fn fmt_opt(value: Option<f64>, digits: usize) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{v:.digits$}"),
        _ => "-".into(),
    }
}

/// One line per run.
fn terminal_summary(campaign: &Campaign) -> String {
    let header = [
        ("run", Align::Left),
        ("call_type", Align::Left),
        ("clients", Align::Right),
        ("servers", Align::Right),
        ("sent ok", Align::Right),
        ("fail", Align::Right),
        ("client msg/s", Align::Right),
        ("server msg/s", Align::Right),
        ("client lat ms", Align::Right),
        ("server lat ms", Align::Right),
        ("diags", Align::Right),
    ];
    let rows: Vec<Vec<String>> = campaign
        .runs
        .iter()
        .map(|r| {
            let p = r.params();
            let c = r.clients.as_ref();
            let s = r.servers.as_ref();
            vec![
                r.run.name.clone(),
                if r.ok {
                    p.get("call_type").cloned().unwrap_or_default()
                } else {
                    "FAILED".into()
                },
                c.map_or("-".into(), |c| c.agents.to_string()),
                s.map_or("-".into(), |s| s.agents.to_string()),
                c.map_or("-".into(), |c| c.msgs_ok.to_string()),
                c.map_or("-".into(), |c| c.msgs_fail.to_string()),
                fmt_opt(c.and_then(|c| c.rate), 1),
                fmt_opt(s.and_then(|s| s.rate), 1),
                fmt_opt(c.and_then(|c| c.latency.average()), 3),
                fmt_opt(s.and_then(|s| s.latency.average()), 3),
                r.diagnostics.len().to_string(),
            ]
        })
        .collect();
    render(&header, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ombt::{LineProtocolFile, TelemetryFrom};
    use std::path::Path;
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;

    fn study(from: TelemetryFrom) -> OmbtStudy {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ombt/campaign");
        OmbtStudy::new(
            root,
            TelemetryOptions {
                from,
                database: "telegraf".into(),
                timeout: Duration::ZERO,
                queries: Vec::new(),
                measurements: LineProtocolFile::default_measurements(),
            },
            PaperSize::Column,
        )
    }

    fn campaign(study: &OmbtStudy) -> Campaign {
        let discovered = study.discover().unwrap();
        let never = AtomicBool::new(false);
        let context = Context::new(&never);
        let runs = discovered
            .units
            .iter()
            .map(|u| study.analyse(u, &context))
            .collect();
        study.combine(runs, discovered.diagnostics).unwrap()
    }

    #[test]
    fn every_output_is_declared_and_diagnostics_name_their_run() {
        let study = study(TelemetryFrom::LineProtocol(None));
        assert!(!study.cleans_up());
        let campaign = campaign(&study);
        assert_eq!(study.failed_units(&campaign), 0);
        assert_eq!(study.headline(&campaign), "8 runs (8 analysed, 0 failed)");
        let provenance = Provenance::default();
        let names: Vec<String> = study
            .outputs(&campaign, &provenance)
            .into_iter()
            .map(|o| o.name)
            .collect();
        for name in [
            "runs",
            "series",
            "figures",
            "rate_rpc-call",
            "latency_rpc-cast",
        ] {
            assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
        }
        let count = |prefix: &str| names.iter().filter(|n| n.starts_with(prefix)).count();
        assert_eq!(count("latency_dist_"), 8);
        assert!(count("telemetry_") > 0, "{names:?}");
        let diagnostics = study.diagnostics(&campaign);
        assert_eq!(diagnostics.len(), 8);
        assert!(diagnostics
            .iter()
            .all(|(run, d)| d.file.contains(run) && run.starts_with("test_case_1/run_")));
    }

    #[test]
    fn the_json_is_the_report_with_how_it_was_made() {
        let study = study(TelemetryFrom::Nothing);
        let campaign = campaign(&study);
        let provenance = Provenance {
            version: "9.9.9".into(),
            command: vec!["expost".into(), "ombt".into()],
            command_line: "expost ombt".into(),
            options: serde_json::json!({"root": "x"}),
        };
        let mut bytes = Vec::new();
        study
            .write_json(&campaign, &provenance, &mut bytes)
            .unwrap();
        let report = Report {
            command: Some("expost ombt".into()),
            expost_version: Some("9.9.9"),
            options: Some(serde_json::json!({"root": "x"})),
            ..Report::of(&campaign)
        };
        assert_eq!(bytes, serde_json::to_vec_pretty(&report).unwrap());
        assert!(campaign.runs.iter().all(|r| r.telemetry.scalars.is_empty()));
    }

    #[test]
    fn a_missing_campaign_or_telemetry_file_is_an_input_error() {
        let missing = |from| matches!(study(from).discover(), Err(StudyError::Input(m)) if m.contains("nonexistent"));
        assert!(missing(TelemetryFrom::LineProtocol(Some(
            "/nonexistent/t.lp".into()
        ))));
        let mut elsewhere = study(TelemetryFrom::Nothing);
        elsewhere.root = "/nonexistent/campaign".into();
        assert!(
            matches!(elsewhere.discover(), Err(StudyError::Input(m)) if m.contains("nonexistent"))
        );
        assert!(study(TelemetryFrom::Tarball {
            share: true,
            max_unpacked: 1 << 30,
        })
        .cleans_up());
    }
}
