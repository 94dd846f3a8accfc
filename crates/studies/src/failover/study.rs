//! The failover study as a [`Study`]: run folders are its units.

use super::{figures, tables, terminal, Campaign, Options, Report, RunResult};
use crate::study::{tagged, Context, Discovered, Provenance, Study, StudyError, UnitDiagnostic};
use expost_formats::campaign::{Layout, RunDir};
use expost_model::Diagnostic;
use expost_render::figure::render_stacked_svg;
use expost_render::figure::PaperSize;
use expost_render::output::Output;
use expost_render::table::Table;
use std::io;
use std::path::PathBuf;

/// `expost failover`: the study and everything it was asked.
#[derive(Debug, Clone)]
pub struct FailoverStudy {
    /// The campaign folder.
    pub root: PathBuf,
    /// How run folders name their parameters.
    pub layout: Layout,
    /// How runs are analysed.
    pub options: Options,
    /// Whether `series` holds each flow's rows too.
    pub per_flow: bool,
    /// The size figures are drawn at.
    pub size: PaperSize,
}

impl Study for FailoverStudy {
    type Unit = RunDir;
    type Analysed = RunResult;
    type Combined = Campaign;

    fn name(&self) -> &'static str {
        "failover"
    }

    fn discover(&self) -> Result<Discovered<RunDir>, StudyError> {
        if !self.root.is_dir() {
            return Err(StudyError::Input(format!(
                "campaign folder '{}' does not exist or is not a folder",
                self.root.display()
            )));
        }
        let (units, diagnostics) = super::find_runs(&self.root);
        if units.is_empty() {
            return Err(StudyError::Input(format!(
                "no run folder under '{}' (a run folder holds event_log.json and iperf/)",
                self.root.display()
            )));
        }
        Ok(Discovered { units, diagnostics })
    }

    fn analyse(&self, unit: &RunDir, _: &Context<'_>) -> RunResult {
        super::analyse_dir(unit, &self.layout, &self.options)
    }

    fn combine(
        &self,
        runs: Vec<RunResult>,
        diagnostics: Vec<Diagnostic>,
    ) -> Result<Campaign, StudyError> {
        let mut diagnostics = diagnostics;
        // What reading the campaign-wide overlay files said, once.
        for spec in &self.options.overlays {
            if let Some(file) = &spec.campaign {
                diagnostics.extend(file.diagnostics.iter().cloned());
                diagnostics.extend(super::overlay::unknown_runs(&spec.name, file, &runs));
            }
        }
        for message in super::fields::check_fields(&runs, &self.options)? {
            diagnostics.push(Diagnostic {
                file: String::new(),
                line: None,
                message,
                severity: expost_model::Severity::Warning,
            });
        }
        let configs = super::group_configs(&runs);
        for message in super::figures::unmatched_figure_options(&runs, &configs, &self.options) {
            diagnostics.push(Diagnostic {
                file: String::new(),
                line: None,
                message,
                severity: expost_model::Severity::Warning,
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

    /// The JSON contract, plus how it was made: the expost version, the
    /// command line and the options (so `expost report` can show them).
    fn write_json(
        &self,
        campaign: &Campaign,
        provenance: &Provenance,
        out: &mut dyn io::Write,
    ) -> io::Result<()> {
        provenance.write_stamped(serde_json::to_value(Report::of(campaign))?, out)
    }

    fn summary(&self, campaign: &Campaign) -> serde_json::Value {
        serde_json::to_value(Report::of(campaign).summary).unwrap_or_default()
    }

    fn outputs<'a>(&'a self, campaign: &'a Campaign, _: &'a Provenance) -> Vec<Output<'a>> {
        let mut outputs = vec![
            Output::table("configs", "Configurations", false, move || {
                tables::configs(campaign)
            }),
            // In pieces of whole runs: the largest table is never held whole.
            Output::table_pieces(
                "series",
                "Series: every run's metrics per epoch",
                true,
                Box::new(move || {
                    Box::new(tables::series_pieces(
                        campaign,
                        &self.options,
                        self.per_flow,
                    ))
                }),
            ),
            Output::table("runs", "Runs", true, move || tables::runs(campaign)),
            Output::table("bands", "Bands across trials", false, move || {
                tables::bands(campaign, &self.options)
            }),
        ];
        let figures = figures::figures(campaign, &self.options, &self.options.anchor);
        outputs.push(Output::figure_specs(&figures));
        outputs.extend(figures.into_iter().map(|(stem, figure)| {
            Output::figure(&stem, &figures::title_of(&stem), self.size, figure)
        }));
        let size = self.size;
        let stacks = figures::overlay_stacks(campaign, &self.options, &self.options.anchor);
        outputs.extend(stacks.into_iter().map(|(stem, panels)| {
            let title = format!("{}, with the overlay's panels", figures::title_of(&stem));
            Output::chart(&stem, &title, move || render_stacked_svg(&panels, size))
        }));
        outputs
    }

    fn stdout_table<'a>(
        &'a self,
        campaign: &'a Campaign,
    ) -> Option<Box<dyn Iterator<Item = Table> + 'a>> {
        Some(Box::new(tables::series_pieces(
            campaign,
            &self.options,
            self.per_flow,
        )))
    }

    fn terminal(&self, campaign: &Campaign) -> String {
        terminal::terminal_summary(campaign)
    }

    fn headline(&self, campaign: &Campaign) -> String {
        let ok = campaign.runs.iter().filter(|r| r.ok).count();
        format!(
            "{} runs ({} analysed, {} failed), {} configurations",
            campaign.runs.len(),
            ok,
            campaign.runs.len() - ok,
            campaign.configs.len(),
        )
    }
}
