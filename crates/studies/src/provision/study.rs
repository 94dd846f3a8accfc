//! The provisioning study as a [`Study`]: the pool's nodes are its units.
//!
//! Each node's events are paired on their own (in parallel, as the
//! analysis always did), so nodes are the units: discovering them reads the
//! events once (an export, or the table) and groups them by node; a node's
//! diagnostics are its own; combining orders the nodes and computes what
//! only the pool as a whole has (percentiles, critical path, stragglers).

use super::source::{self, FetchProgress, Source, SourceError};
use super::{charts, tables, terminal, AnalysedNode, Grouped, NodeEvents, Options};
use super::{Provision, ProvisionError, Report};
use crate::choice::FigureChoice;
use crate::study::{Context, Discovered, Provenance, Study, StudyError, UnitDiagnostic};
use expost_formats::shipyard::{self, Entity, ExportFormat};
use expost_model::{Diagnostic, Diagnostics};
use expost_render::figure::PaperSize;
use expost_render::output::{Kind, Output, OutputError};
use expost_render::table::Table;
use std::io;
use std::path::PathBuf;
use thiserror::Error;

/// `expost provision`: the study and everything it was asked.
pub struct ProvisionStudy {
    /// Where the events come from.
    pub source: Source,
    /// How the pool is analysed. For a table, the partition read is the
    /// table source's (or its Batch Shipyard configuration's).
    pub options: Options,
    /// Also write the entities read to this export file.
    pub export: Option<PathBuf>,
    /// Told how fetching from a table goes.
    pub progress: Box<dyn FetchProgress>,
    /// The size charts are drawn at.
    pub size: PaperSize,
    /// Which phases the charts draw and their legend texts (`--only
    /// phase=…`, `--label phase=…:TEXT`).
    pub choice: FigureChoice,
}

impl std::fmt::Debug for ProvisionStudy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProvisionStudy")
            .field("source", &self.source)
            .field("options", &self.options)
            .field("export", &self.export)
            .finish_non_exhaustive()
    }
}

/// Why the provisioning study could not run.
#[derive(Debug, Error)]
pub enum Error {
    /// The events could not be read, fetched or exported.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The events hold no pool to analyse.
    #[error("{input}: {error}")]
    Analysis {
        /// Where the events came from (a file, or `table <name>`).
        input: String,
        /// Why.
        error: ProvisionError,
    },
}

impl ProvisionStudy {
    /// The parameter `--only` and `--label` choose phases by.
    pub const CHOICE_PARAMS: [&'static str; 1] = ["phase"];

    /// This study drawing the phases `choice` chooses.
    ///
    /// # Errors
    /// A value `choice` names that is no phase's key.
    pub fn with_choice(self, choice: FigureChoice) -> Result<ProvisionStudy, String> {
        charts::check_choice(&choice)?;
        Ok(ProvisionStudy { choice, ..self })
    }

    /// Reads the events (and writes the export, if asked) and groups them
    /// by node. The read's own diagnostics come first.
    ///
    /// # Errors
    /// When the events cannot be read or hold no pool to analyse.
    pub fn read(&self) -> Result<Grouped, Error> {
        let partition = self.options.partition.as_deref();
        match &self.source {
            Source::Export(path) if ExportFormat::from_path(path) == ExportFormat::JsonLines => {
                // The export's text stays in memory and the entities borrow from it.
                let text = source::read_text(path)?;
                let mut diags = Diagnostics::for_file(path.display().to_string());
                let entities = shipyard::parse_jsonl_borrowed(&text, &mut diags)
                    .map_err(|e| source::parse_error(path, e))?;
                self.group(&entities, &path.display().to_string(), partition, diags)
            }
            Source::Export(path) => {
                let (entities, diags) = source::read_export(path)?;
                self.group(&entities, &path.display().to_string(), partition, diags)
            }
            Source::Table(table) => {
                let table = table.connect()?;
                let (entities, diags) = table.fetch(self.progress.as_ref())?;
                let partition = table.partition.as_deref();
                self.group(&entities, &table.label(), partition, diags)
            }
        }
    }

    /// Writes the export if asked, then groups the entities by node.
    fn group<E: Entity + Sync>(
        &self,
        entities: &[E],
        input: &str,
        partition: Option<&str>,
        read: Diagnostics,
    ) -> Result<Grouped, Error> {
        if let Some(path) = &self.export {
            source::write_export(path, entities)?;
        }
        let mut grouped =
            super::group(entities, input, partition).map_err(|error| Error::Analysis {
                input: input.into(),
                error,
            })?;
        let mut diagnostics = read.into_items();
        diagnostics.append(&mut grouped.diagnostics);
        grouped.diagnostics = diagnostics;
        Ok(grouped)
    }
}

impl Study for ProvisionStudy {
    type Unit = NodeEvents;
    type Analysed = AnalysedNode;
    type Combined = Provision;

    fn name(&self) -> &'static str {
        "provision"
    }

    fn unit_noun(&self) -> &'static str {
        "nodes"
    }

    fn discover(&self) -> Result<Discovered<NodeEvents>, StudyError> {
        let grouped = self.read().map_err(StudyError::failed)?;
        Ok(Discovered {
            units: grouped.nodes,
            diagnostics: grouped.diagnostics,
        })
    }

    fn analyse(&self, node: &NodeEvents, _: &Context<'_>) -> AnalysedNode {
        super::analyse_node(node)
    }

    fn combine(
        &self,
        nodes: Vec<AnalysedNode>,
        mut diagnostics: Vec<Diagnostic>,
    ) -> Result<Provision, StudyError> {
        diagnostics.extend(
            charts::undrawn(&self.choice)
                .into_iter()
                .map(|message| Diagnostic {
                    file: String::new(),
                    line: None,
                    severity: expost_model::Severity::Warning,
                    message,
                }),
        );
        super::combine(nodes, diagnostics, self.options.straggler_mads)
            .ok_or_else(|| StudyError::Input("no node to analyse".into()))
    }

    /// The pool's own diagnostics (reading, grouping) under no unit, then
    /// each node's under its id.
    fn diagnostics<'a>(&self, p: &'a Provision) -> Vec<UnitDiagnostic<'a>> {
        let mut items: Vec<UnitDiagnostic<'a>> = p.diagnostics.iter().map(|d| ("", d)).collect();
        for node in &p.nodes {
            for item in &mut items[node.diagnostics.clone()] {
                item.0 = &node.node_id;
            }
        }
        items
    }

    /// None: a node that never became ready is a finding, not a failure.
    fn failed_units(&self, _: &Provision) -> usize {
        0
    }

    /// The JSON contract ([`Report`]), exactly as other tools read it.
    fn write_json(&self, p: &Provision, _: &Provenance, out: &mut dyn io::Write) -> io::Result<()> {
        serde_json::to_writer_pretty(out, &Report::of(p))?;
        Ok(())
    }

    fn summary(&self, p: &Provision) -> serde_json::Value {
        serde_json::to_value(&p.summary).unwrap_or_default()
    }

    fn outputs<'a>(&'a self, p: &'a Provision, _: &'a Provenance) -> Vec<Output<'a>> {
        let mut outputs = vec![
            Output::table("phases", "Phases (s)", false, move || tables::phases(p)),
            Output::table("stragglers", "Stragglers", false, move || {
                tables::stragglers(p)
            }),
            Output::table("nodes", "Nodes", true, move || tables::nodes(p)),
            Output::table("images", "Images per node", false, move || {
                tables::images(p)
            }),
            Output::table("spans", "Spans", true, move || tables::spans(p)),
        ];
        if charts::draws_timeline(&self.choice) {
            outputs.push(Output::chart(
                "timeline",
                "Provisioning timeline",
                move || charts::timeline_svg(p, self.size, &self.choice),
            ));
        }
        outputs.push(Output::chart("gantt", "Spans of every node", move || {
            charts::gantt_svg(p, self.size, &self.choice)
        }));
        outputs.push(Output::json(
            "trace",
            "Trace (open it in ui.perfetto.dev)",
            Kind::Trace,
            move || {
                tables::trace(p).map_err(|source| OutputError::Json {
                    name: "trace".into(),
                    source,
                })
            },
        ));
        outputs
    }

    /// `-o -`: one row per node.
    fn stdout_table<'a>(
        &'a self,
        p: &'a Provision,
    ) -> Option<Box<dyn Iterator<Item = Table> + 'a>> {
        Some(Box::new(std::iter::once_with(move || tables::nodes(p))))
    }

    fn terminal(&self, p: &Provision) -> String {
        terminal::summary(p)
    }

    fn headline(&self, p: &Provision) -> String {
        let s = &p.summary;
        let count = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
        format!(
            "pool {}: {} ({} ready), {}, {}",
            p.partition,
            count(s.nodes, "node"),
            s.ready_nodes,
            count(s.events, "event"),
            count(s.images, "image")
        )
    }
}
