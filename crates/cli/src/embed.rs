//! The study commands for a host program (the Python module): the same
//! command line parsed by the same definitions, the study run by the same
//! driver code, but the result kept in memory, where the host reads its
//! tables, figures and summary and writes what `-o DIR` writes.
//!
//! Nothing here prints, exits or installs a Ctrl-C handler: the host
//! interrupts a study through [`Progress::interrupt`].

use crate::cmd::{self, Command};
use crate::driver::{self, Common, StudyCommand};
use clap::{ArgAction, CommandFactory, Parser};
use expost_model::Diagnostic;
use expost_render::output::{Output, OutputDir};
use expost_studies::study::{Context, Provenance, Study, StudyError};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Why a study gave no result.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad command line or option value, found before any work.
    #[error("{0}")]
    Usage(String),
    /// The study could not run at all (no such folder, no run, an input
    /// that cannot be read).
    #[error("{0}")]
    Failed(String),
    /// [`Progress::interrupt`] was called: the work stopped, nothing kept.
    #[error("interrupted")]
    Interrupted,
}

/// How far a running study is, and the way to stop it; shared between the
/// thread that runs it and the host's.
#[derive(Debug, Default)]
pub struct Progress {
    interrupted: AtomicBool,
    done: AtomicU64,
    total: AtomicU64,
}

impl Progress {
    /// Asks the study to stop: its units stop early and [`run`] returns
    /// [`Error::Interrupted`].
    pub fn interrupt(&self) {
        self.interrupted.store(true, Ordering::SeqCst);
    }

    /// Units analysed so far, and how many there are (0 until known).
    pub fn counts(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::SeqCst),
            self.total.load(Ordering::SeqCst),
        )
    }
}

/// A study that ran: what the host may ask of it.
pub trait Finished: Send + Sync {
    /// The study's name (`failover`).
    fn name(&self) -> &'static str;

    /// The command line that gives the same result (the program first).
    fn command(&self) -> &[String];

    /// Every output `-o DIR` writes but the manifest, in its order.
    fn outputs(&self) -> Vec<Output<'_>>;

    /// The JSON summary, as `--json` prints it (without the newline).
    ///
    /// # Errors
    /// When it cannot be written.
    fn summary_json(&self) -> std::io::Result<Vec<u8>>;

    /// Every diagnostic, with the unit it belongs to (`""` for none).
    fn diagnostics(&self) -> Vec<(String, Diagnostic)>;

    /// One line saying what was analysed.
    fn headline(&self) -> String;

    /// How many units could not be analysed.
    fn failed_units(&self) -> usize;

    /// Writes into `dir` what `-o DIR` writes, as the command line with
    /// `-o DIR` added would (so its manifest records that command).
    ///
    /// # Errors
    /// Each output that could not be written, in words.
    fn write(&self, dir: &Path) -> Result<usize, Vec<String>>;
}

/// A study's result, with what it was made by.
struct Done<S: Study> {
    study: S,
    combined: S::Combined,
    provenance: Provenance,
    common: Common,
}

impl<S> Finished for Done<S>
where
    S: Study + Send + 'static,
    S::Combined: Send + Sync + 'static,
{
    fn name(&self) -> &'static str {
        self.study.name()
    }

    fn command(&self) -> &[String] {
        &self.provenance.command
    }

    fn outputs(&self) -> Vec<Output<'_>> {
        driver::outputs(&self.study, &self.combined, &self.provenance, &self.common)
    }

    fn summary_json(&self) -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        (self.study).write_json(&self.combined, &self.provenance, &mut bytes)?;
        Ok(bytes)
    }

    fn diagnostics(&self) -> Vec<(String, Diagnostic)> {
        (self.study.diagnostics(&self.combined).into_iter())
            .map(|(unit, d)| (unit.to_string(), d.clone()))
            .collect()
    }

    fn headline(&self) -> String {
        self.study.headline(&self.combined)
    }

    fn failed_units(&self) -> usize {
        self.study.failed_units(&self.combined)
    }

    fn write(&self, dir: &Path) -> Result<usize, Vec<String>> {
        let out = OutputDir::prepare(dir).map_err(|e| vec![e.to_string()])?;
        let provenance = with_output(&self.provenance, dir);
        let (files, errors) =
            driver::write_into(&self.study, &self.combined, &provenance, &out, &self.common);
        match files {
            Some(files) if errors.is_empty() => Ok(files),
            _ => Err(errors),
        }
    }
}

/// `provenance` as the command line with `-o DIR` added gives it.
fn with_output(provenance: &Provenance, dir: &Path) -> Provenance {
    let dir = dir.to_string_lossy().into_owned();
    let mut command = provenance.command.clone();
    command.extend(["-o".to_string(), dir.clone()]);
    let mut options = provenance.options.clone();
    if let Some(output) = options.get_mut("output") {
        *output = dir.into();
    }
    Provenance {
        command_line: driver::quote_command(&command),
        command,
        options,
        version: provenance.version.clone(),
    }
}

/// The study commands: those [`run`] runs.
pub const STUDIES: &[&str] = &[
    "failover",
    "iperf3",
    "ombt",
    "provision",
    "traces",
    "simulate",
    "sweep",
];

/// Runs the study command `args` (its name first, as after `expost` on
/// the command line), reporting to `progress`.
///
/// # Errors
/// A bad command line (clap's message, as `expost` prints it), a command
/// that is no study or writes elsewhere (`-o`, `--json`, `--save-study`,
/// `sweep merge`, `provision --load`), a study that cannot run, or an
/// interruption.
pub fn run(args: &[String], progress: &Progress) -> Result<Box<dyn Finished>, Error> {
    let mut argv = vec!["expost".to_string()];
    argv.extend(args.iter().cloned());
    let cli = cmd::Cli::try_parse_from(&argv).map_err(|e| Error::Usage(e.render().to_string()))?;
    match cli.command {
        Command::Failover(a) => run_study(a, argv, progress),
        Command::Iperf3(a) => run_study(a, argv, progress),
        Command::Ombt(a) => run_study(a, argv, progress),
        Command::Provision(a) if a.load.is_some() => Err(not_here("provision --load")),
        Command::Provision(a) => run_study(a, argv, progress),
        Command::Traces(a) => run_study(a, argv, progress),
        Command::Simulate(a) => run_study(a, argv, progress),
        Command::Sweep(a) if a.sub.is_some() => Err(not_here("sweep merge and sweep slurm")),
        Command::Sweep(a) => run_study(a.run, argv, progress),
        _ => Err(Error::Usage(format!(
            "{}: not a study (the studies are {})",
            args.first().map_or("", String::as_str),
            STUDIES.join(", ")
        ))),
    }
}

/// A command that runs only from the command line.
fn not_here(what: &str) -> Error {
    Error::Usage(format!("{what}: run it with the expost command"))
}

fn run_study<C>(
    command: C,
    argv: Vec<String>,
    progress: &Progress,
) -> Result<Box<dyn Finished>, Error>
where
    C: StudyCommand,
    C::Study: Send + 'static,
    <C::Study as Study>::Combined: Send + Sync + 'static,
{
    let common = command.common();
    if common.output.is_some() || common.json || common.save_study.is_some() {
        return Err(Error::Usage(
            "-o, --json and --save-study are the command line's: write the result with its write(DIR)"
                .into(),
        ));
    }
    let study = command.study().map_err(Error::Usage)?;
    driver::parse_ylims(&common.ylim).map_err(Error::Usage)?;
    let failed = |error: StudyError| match error {
        StudyError::Usage(message) => Error::Usage(message),
        error => Error::Failed(command.describe(&error)),
    };
    let discovered = study.discover().map_err(failed)?;
    let units = discovered.units.len() as u64;
    progress.total.store(units, Ordering::SeqCst);
    let context = Context::new(&progress.interrupted);
    let analysed = driver::analyse_units(&study, &discovered.units, &context, || {
        progress.done.fetch_add(1, Ordering::SeqCst);
    })
    .ok_or(Error::Interrupted)?;
    let combined = study
        .combine(analysed, discovered.diagnostics)
        .map_err(failed)?;
    let provenance =
        driver::provenance_of(&argv, &command).map_err(|e| Error::Failed(format!("{e:#}")))?;
    Ok(Box::new(Done {
        study,
        combined,
        provenance,
        common,
    }))
}

/// One option of a study command, as the host shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionSpec {
    /// Its long name with `-` as `_` (`tcp_threshold`), or the positional
    /// argument's name in lower case (`root`).
    pub name: String,
    /// `--tcp-threshold`, or `None` for a positional argument.
    pub long: Option<String>,
    /// Whether it is given without a value (`--per-flow`).
    pub flag: bool,
    /// Whether it may be given several times or take a list.
    pub multiple: bool,
    /// Whether the command cannot run without it.
    pub required: bool,
    /// Its default values, as text.
    pub defaults: Vec<String>,
    /// The values it takes, if it takes only some.
    pub choices: Vec<String>,
    /// Its one-line help.
    pub help: String,
}

/// The options every study command has that belong to the command line
/// only (stdout, study files, progress bars).
const COMMAND_LINE_ONLY: &[&str] = &["output", "json", "save_study", "quiet", "help", "version"];

/// The clap definition of study `name` (the same `--help` renders).
fn definition(name: &str) -> Option<clap::Command> {
    let mut root = cmd::Cli::command();
    root.build();
    root.find_subcommand(name).cloned()
}

/// The options of study `name` a host passes on (not `-o`, `--json`,
/// `--save-study`, `--quiet`), in `--help`'s order.
pub fn options(name: &str) -> Option<Vec<OptionSpec>> {
    let definition = definition(name)?;
    let specs = definition
        .get_arguments()
        .filter(|a| !COMMAND_LINE_ONLY.contains(&a.get_id().as_str()))
        .map(|a| {
            let flag = matches!(a.get_action(), ArgAction::SetTrue | ArgAction::SetFalse);
            let multiple =
                matches!(a.get_action(), ArgAction::Append) || a.get_value_delimiter().is_some();
            OptionSpec {
                name: a.get_id().as_str().to_string(),
                long: a.get_long().map(|l| format!("--{l}")),
                flag,
                multiple,
                required: a.is_required_set(),
                defaults: (a.get_default_values().iter())
                    .filter(|_| !flag)
                    .map(|v| v.to_string_lossy().into_owned())
                    .collect(),
                choices: (a.get_possible_values().iter())
                    .filter(|_| !flag)
                    .map(|v| v.get_name().to_string())
                    .collect(),
                help: a.get_help().map(ToString::to_string).unwrap_or_default(),
            }
        })
        .collect();
    Some(specs)
}

/// `expost NAME --help`, as text `width` columns wide.
pub fn help(name: &str, width: usize) -> Option<String> {
    let mut definition = definition(name)?.term_width(width);
    Some(definition.render_long_help().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_study_has_options_and_help() {
        for name in STUDIES {
            let specs = options(name).unwrap();
            assert!(specs
                .iter()
                .all(|s| !COMMAND_LINE_ONLY.contains(&s.name.as_str())));
            assert!(help(name, 79).unwrap().contains("Usage: expost"), "{name}");
        }
        assert!(options("report").is_some() && options("nothing").is_none());
    }

    #[test]
    fn failover_options_are_named_as_the_long_options() {
        let specs = options("failover").unwrap();
        let root = specs.iter().find(|s| s.name == "root").unwrap();
        assert!(root.long.is_none() && root.required);
        let bin = specs.iter().find(|s| s.name == "bin").unwrap();
        assert_eq!(bin.long.as_deref(), Some("--bin"));
        assert_eq!(bin.defaults, ["0.1"]);
        let per_flow = specs.iter().find(|s| s.name == "per_flow").unwrap();
        assert!(per_flow.flag && !per_flow.multiple);
        let mark = specs.iter().find(|s| s.name == "mark").unwrap();
        assert!(mark.multiple);
        let band = specs.iter().find(|s| s.name == "band").unwrap();
        assert_eq!(band.choices, ["median", "mean"]);
    }

    #[test]
    fn command_line_only_options_are_refused() {
        let progress = Progress::default();
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        for given in [
            args(&["failover", "x", "--json"]),
            args(&["failover", "x", "-o", "out"]),
            args(&["report", "x"]),
            args(&["failover"]),
        ] {
            assert!(
                matches!(run(&given, &progress), Err(Error::Usage(_))),
                "{given:?}"
            );
        }
    }

    #[test]
    fn an_interrupted_study_keeps_nothing() {
        let progress = Progress::default();
        progress.interrupt();
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/failover");
        let args = ["failover".to_string(), root.to_string()];
        assert!(matches!(run(&args, &progress), Err(Error::Interrupted)));
    }

    #[test]
    fn a_study_runs_and_its_provenance_is_its_command_line() {
        let progress = Progress::default();
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/failover");
        let args = ["failover".to_string(), root.to_string()];
        let done = run(&args, &progress).unwrap();
        assert_eq!(done.name(), "failover");
        assert_eq!(done.command()[0], "expost");
        let (analysed, total) = progress.counts();
        assert!(total > 0 && analysed == total);
        assert!(done.outputs().iter().any(|o| o.name == "runs"));
        let summary: serde_json::Value =
            serde_json::from_slice(&done.summary_json().unwrap()).unwrap();
        assert!(summary["command"]
            .as_str()
            .unwrap()
            .starts_with("expost failover "));
    }
}
