//! The shape every study has: find the units (runs, nodes, traces, grid
//! points), analyse each (in parallel, each with its own diagnostics),
//! combine them (bands across trials, configuration tables, percentiles),
//! and declare what the study produces (tables, figures, charts, traces,
//! JSON) as data.
//!
//! A study knows nothing of flags, files it writes, progress bars or exit
//! codes: the command line's driver runs every study the same way.

use expost_model::{Diagnostic, Severity};
use expost_render::output::{DiagnosticCounts, Output};
use expost_render::table::{ColumnData, DictBuilder, Table};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

/// What made a study's outputs: written into its JSON summary and manifest.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    /// The expost version.
    pub version: String,
    /// The command line, one argument per item.
    pub command: Vec<String>,
    /// The command line quoted for a POSIX shell.
    pub command_line: String,
    /// The options the study ran with.
    pub options: serde_json::Value,
}

impl Provenance {
    /// Writes `summary` as pretty JSON with how it was made added to it:
    /// `expost_version`, `command` (the quoted command line) and `options`.
    ///
    /// # Errors
    /// Errors of `out`.
    pub fn write_stamped(
        &self,
        mut summary: serde_json::Value,
        out: &mut dyn io::Write,
    ) -> io::Result<()> {
        if let Some(object) = summary.as_object_mut() {
            object.insert("expost_version".into(), self.version.clone().into());
            object.insert("command".into(), self.command_line.clone().into());
            object.insert("options".into(), self.options.clone());
        }
        serde_json::to_writer_pretty(out, &summary)?;
        Ok(())
    }
}

/// The units a study found, and what was wrong while looking.
#[derive(Debug)]
pub struct Discovered<U> {
    /// The units, in a deterministic order.
    pub units: Vec<U>,
    /// Problems with the campaign itself (unreadable folders, …).
    pub diagnostics: Vec<Diagnostic>,
}

/// What a unit's analysis may look at while it runs.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    interrupted: &'a AtomicBool,
}

impl<'a> Context<'a> {
    /// A context whose analyses stop early once `interrupted` is set.
    pub fn new(interrupted: &'a AtomicBool) -> Context<'a> {
        Context { interrupted }
    }

    /// Whether the user asked to stop (Ctrl-C): long analyses check it and
    /// return early; their results are thrown away.
    pub fn interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    /// The flag itself, for code that waits on servers or processes.
    pub fn flag(&self) -> &'a AtomicBool {
        self.interrupted
    }
}

/// A diagnostic with the unit it belongs to (`""` for the campaign).
pub type UnitDiagnostic<'a> = (&'a str, &'a Diagnostic);

/// The campaign's own diagnostics (unit `""`), then each unit's, tagged
/// with the unit's name: what [`Study::diagnostics`] gives for a campaign
/// of runs.
pub fn tagged<'a>(
    campaign: &'a [Diagnostic],
    units: impl IntoIterator<Item = (&'a str, &'a [Diagnostic])>,
) -> Vec<UnitDiagnostic<'a>> {
    let units = units
        .into_iter()
        .flat_map(|(name, items)| items.iter().map(move |d| (name, d)));
    campaign.iter().map(|d| ("", d)).chain(units).collect()
}

/// A study: discover → analyse each unit → combine → outputs.
pub trait Study: Sync {
    /// One thing analysed on its own (a run folder, a node, a trace file).
    type Unit: Sync;
    /// What analysing one unit gives.
    type Analysed: Send;
    /// Everything, combined.
    type Combined: Sync;

    /// The study's name: its command and the key of its study file table.
    fn name(&self) -> &'static str;

    /// What the units are called in progress bars and summaries (`runs`).
    fn unit_noun(&self) -> &'static str {
        "runs"
    }

    /// Finds the units.
    ///
    /// # Errors
    /// When there is nothing to analyse at all (no such folder, no run).
    fn discover(&self) -> Result<Discovered<Self::Unit>, StudyError>;

    /// Analyses one unit; problems go into its own diagnostics.
    fn analyse(&self, unit: &Self::Unit, context: &Context<'_>) -> Self::Analysed;

    /// Combines every unit's analysis (in discovery order) with the
    /// campaign's own diagnostics.
    fn combine(
        &self,
        analysed: Vec<Self::Analysed>,
        diagnostics: Vec<Diagnostic>,
    ) -> Result<Self::Combined, StudyError>;

    /// Every diagnostic, with the unit it belongs to.
    fn diagnostics<'a>(&self, combined: &'a Self::Combined) -> Vec<UnitDiagnostic<'a>>;

    /// How many units could not be analysed.
    fn failed_units(&self, combined: &Self::Combined) -> usize;

    /// Writes the JSON summary (`--json`, and `<name>.json` in the output
    /// folder), without a final newline.
    ///
    /// # Errors
    /// Errors of `out`.
    fn write_json(
        &self,
        combined: &Self::Combined,
        provenance: &Provenance,
        out: &mut dyn io::Write,
    ) -> io::Result<()>;

    /// The headline numbers, for the manifest.
    fn summary(&self, combined: &Self::Combined) -> serde_json::Value;

    /// Every output but the JSON summary, `diagnostics` and the manifest,
    /// which the driver writes for every study.
    fn outputs<'a>(
        &'a self,
        combined: &'a Self::Combined,
        provenance: &'a Provenance,
    ) -> Vec<Output<'a>>;

    /// The table `-o -` streams to stdout as CSV (by default none).
    fn stdout_table<'a>(
        &'a self,
        combined: &'a Self::Combined,
    ) -> Option<Box<dyn Iterator<Item = Table> + 'a>> {
        let _ = combined;
        None
    }

    /// What a terminal shows after the work (tables of runs, …).
    fn terminal(&self, combined: &Self::Combined) -> String;

    /// One line saying what was analysed (`13 runs (13 analysed, 0
    /// failed), 4 configurations`), before the diagnostic counts.
    fn headline(&self, combined: &Self::Combined) -> String;

    /// Whether the study holds servers or processes it must stop itself:
    /// then a second Ctrl-C does not end the process at once.
    fn cleans_up(&self) -> bool {
        false
    }
}

/// Why a study could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    /// An option value the study cannot use (the command line's fault: exit 2).
    #[error("{0}")]
    Usage(String),
    /// Nothing to analyse, or an input that cannot be read at all.
    #[error("{0}")]
    Input(String),
    /// The study's own typed error (an input that cannot be read, a server
    /// that refuses): exit 1, like [`StudyError::Input`], but a command
    /// may look at it ([`StudyError::downcast_ref`]) to say it in its own
    /// words, naming its options.
    #[error(transparent)]
    Failed(Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl StudyError {
    /// The study's own typed `error`.
    pub fn failed(error: impl std::error::Error + Send + Sync + 'static) -> StudyError {
        StudyError::Failed(Box::new(error))
    }

    /// The typed error of [`StudyError::Failed`], if it is an `E`.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        match self {
            StudyError::Failed(error) => error.downcast_ref(),
            _ => None,
        }
    }
}

/// How many diagnostics are errors, warnings and notes.
pub fn count(diagnostics: &[UnitDiagnostic<'_>]) -> DiagnosticCounts {
    let mut counts = DiagnosticCounts::default();
    for (_, d) in diagnostics {
        match d.severity {
            Severity::Error => counts.errors += 1,
            Severity::Warning => counts.warnings += 1,
            Severity::Note => counts.notes += 1,
        }
    }
    counts
}

/// The diagnostic counts in words: `0 errors, 1 warning, 2 notes`.
pub fn counts_in_words(counts: DiagnosticCounts) -> String {
    let words = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}, {}",
        words(counts.errors, "error"),
        words(counts.warnings, "warning"),
        words(counts.notes, "note")
    )
}

/// `diagnostics`, the one layout every study writes: the unit (run, node,
/// trace; empty for the campaign), severity, file, line, message.
pub fn diagnostics_table(items: &[UnitDiagnostic<'_>]) -> Table {
    let (mut unit, mut severity, mut file, mut message) = (
        DictBuilder::default(),
        DictBuilder::default(),
        DictBuilder::default(),
        DictBuilder::default(),
    );
    let mut line = Vec::with_capacity(items.len());
    for (name, d) in items {
        unit.push(name);
        severity.push(d.severity.as_str());
        file.push(&d.file);
        line.push(d.line.map(|l| l as i64));
        message.push(&d.message);
    }
    let mut table = Table::default();
    table.push("run", unit.finish());
    table.push("severity", severity.finish());
    table.push("file", file.finish());
    table.push("line", ColumnData::Int(line));
    table.push("message", message.finish());
    table
}

/// Runs `study` on this thread, its units in discovery order (`reverse`:
/// analysed last to first, then put back in order), as the driver would
/// without progress or Ctrl-C: for tests.
#[cfg(test)]
pub(crate) fn run_here<S: Study>(study: &S, reverse: bool) -> Result<S::Combined, StudyError> {
    let flag = AtomicBool::new(false);
    let context = Context::new(&flag);
    let discovered = study.discover()?;
    let mut analysed: Vec<S::Analysed> = if reverse {
        discovered
            .units
            .iter()
            .rev()
            .map(|u| study.analyse(u, &context))
            .collect()
    } else {
        discovered
            .units
            .iter()
            .map(|u| study.analyse(u, &context))
            .collect()
    };
    if reverse {
        analysed.reverse();
    }
    study.combine(analysed, discovered.diagnostics)
}

/// The repository's test fixtures, for the studies' tests.
#[cfg(test)]
pub(crate) fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_said_in_words_with_their_plurals() {
        let d = |severity| Diagnostic {
            file: "f".into(),
            line: None,
            message: "m".into(),
            severity,
        };
        let items = [
            d(Severity::Warning),
            d(Severity::Error),
            d(Severity::Error),
            d(Severity::Note),
        ];
        let tagged: Vec<UnitDiagnostic<'_>> = items.iter().map(|d| ("", d)).collect();
        assert_eq!(counts_in_words(count(&[])), "0 errors, 0 warnings, 0 notes");
        assert_eq!(
            counts_in_words(count(&tagged)),
            "2 errors, 1 warning, 1 note"
        );
        assert_eq!(diagnostics_table(&tagged).rows(), 4);
    }
}
