//! The one driver that runs every study command: it alone knows about
//! `-o DIR` / `-o -` / `--json`, `--save-study`, progress, Ctrl-C, the
//! `diagnostics` table, `manifest.json`, stdout on a closed pipe, and the
//! exit policy shared by every study:
//!
//! - 0: every unit analysed and every output written;
//! - 1: a unit failed, an error diagnostic, or an output failed;
//! - 2: a bad command line or option value, found before any work;
//! - 130: interrupted (Ctrl-C), nothing written.

use crate::progress;
use anyhow::{Context as _, Result};
use expost_model::Severity;
use expost_render::figure::{Figure, LegendPlace};
use expost_render::output::{Content, Kind, Manifest, Output, OutputDir, Written};
use expost_render::printable::printable;
use expost_render::table::Csv;
use expost_studies::study::{self, Context, Provenance, Study, StudyError};
use rayon::prelude::*;
use serde::Serialize;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// The options every study command has, whatever its study.
#[derive(Debug, Clone, Default)]
pub struct Common {
    /// `-o DIR`, or `-o -` for the study's main table on stdout.
    pub output: Option<PathBuf>,
    /// `--json`: the JSON summary on stdout.
    pub json: bool,
    /// `--quiet`: no progress bar, no tables.
    pub quiet: bool,
    /// `--save-study [FILE]`.
    pub save_study: Option<Option<PathBuf>>,
    /// `--figures NAME,…`: the only figures and charts written (all when empty).
    pub figures: Vec<String>,
    /// `--ylim NAME=MIN:MAX`, as given (checked by [`run`]).
    pub ylim: Vec<String>,
    /// `--legend PLACE`: where line figures put their legend.
    pub legend: Option<LegendArg>,
}

/// `--legend`: where line figures put their legend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LegendArg {
    /// Above the plot (the default).
    Top,
    /// Under the x axis label.
    Bottom,
    /// No legend.
    None,
    /// Inside the plot, in the corner its lines cover least.
    Inside,
}

impl From<LegendArg> for LegendPlace {
    fn from(arg: LegendArg) -> LegendPlace {
        match arg {
            LegendArg::Top => LegendPlace::Top,
            LegendArg::Bottom => LegendPlace::Bottom,
            LegendArg::None => LegendPlace::None,
            LegendArg::Inside => LegendPlace::Inside,
        }
    }
}

/// `StudyCommand::common` for `Args` that hold the common options under
/// their usual names (`output`, `json`, `quiet`, `save_study`).
macro_rules! common_options {
    () => {
        fn common(&self) -> $crate::driver::Common {
            $crate::driver::Common {
                output: self.output.clone(),
                json: self.json,
                quiet: self.quiet,
                save_study: self.save_study.clone(),
                figures: self.figures.clone(),
                ylim: self.ylim.clone(),
                legend: self.legend,
            }
        }
    };
}
pub(crate) use common_options;

/// `SavedArgs::set_output_flags` and `SavedArgs::run` for a study command
/// whose `Args` hold `json` and `quiet`.
macro_rules! saved_flags_and_run {
    () => {
        fn set_output_flags(&mut self, json: bool, quiet: bool) {
            self.json = json;
            self.quiet = quiet;
        }

        fn run(self) -> anyhow::Result<std::process::ExitCode> {
            $crate::driver::run(self)
        }
    };
}
pub(crate) use saved_flags_and_run;

/// A study command's arguments: what the driver needs of them.
pub trait StudyCommand: Clone + Serialize {
    /// The command's name (`failover`), for usage errors.
    const NAME: &'static str;
    /// The study they configure.
    type Study: Study;

    /// The options every study command has.
    fn common(&self) -> Common;

    /// The study, with every option value checked; an `Err` is a usage
    /// error (exit 2) saying which option is wrong.
    fn study(&self) -> Result<Self::Study, String>;

    /// The study file entry `--save-study` writes.
    fn saved(&self) -> crate::cmd::run::SavedStudy;

    /// Says why the study could not run in the command's words (naming
    /// the option to change); by default as the study says it.
    fn describe(&self, error: &StudyError) -> String {
        error.to_string()
    }
}

/// Set by Ctrl-C (and SIGTERM): analyses stop, nothing is written.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// A usage error: printed the way clap prints its own, exit 2.
pub fn usage_error(command: &str, message: &str) -> ExitCode {
    let message = printable(message);
    eprintln!("error: {message}\n\nFor more information, try 'expost {command} --help'.");
    ExitCode::from(2)
}

/// Runs the study `command` configures, from its checks to its exit code.
pub fn run<C: StudyCommand>(command: C) -> Result<ExitCode> {
    let common = command.common();
    let study = match command.study() {
        Ok(study) => study,
        Err(message) => return Ok(usage_error(C::NAME, &message)),
    };
    let name = study.name();
    if let Err(message) = parse_ylims(&common.ylim) {
        return Ok(usage_error(C::NAME, &message));
    }
    let to_stdout = common.output.as_deref() == Some(Path::new("-"));
    if to_stdout && common.json {
        return Ok(usage_error(
            name,
            "-o - writes a table to stdout, and --json the summary: choose one",
        ));
    }
    let output = match &common.output {
        Some(dir) if !to_stdout => Some(OutputDir::prepare(dir)?),
        _ => None,
    };
    for stale in output.iter().flat_map(OutputDir::removed_stale) {
        eprintln!(
            "note: {}: removed, a temporary file of a killed run",
            stale.display()
        );
    }
    let quiet = common.quiet || common.json || to_stdout;
    if let Some(given) = &common.save_study {
        crate::cmd::run::save_to(
            given.as_deref(),
            common.output.as_deref(),
            quiet,
            &command.saved(),
        )?;
    }
    install_interrupt_handler(study.cleans_up());
    let discovered = match study.discover() {
        Ok(d) => d,
        Err(StudyError::Usage(message)) => return Ok(usage_error(name, &message)),
        Err(error) => anyhow::bail!(command.describe(&error)),
    };
    let bar = progress::bar(discovered.units.len() as u64, study.unit_noun(), quiet);
    let context = Context::new(&INTERRUPTED);
    let analysed = analyse_units(&study, &discovered.units, &context, || bar.inc(1));
    bar.finish_and_clear();
    let Some(analysed) = analysed else {
        eprintln!("interrupted: no output written");
        return Ok(ExitCode::from(130));
    };
    let combined = match study.combine(analysed, discovered.diagnostics) {
        Ok(c) => c,
        Err(StudyError::Usage(message)) => return Ok(usage_error(name, &message)),
        Err(error) => anyhow::bail!(command.describe(&error)),
    };
    let provenance = provenance(&command)?;
    Ok(finish(
        &study,
        &combined,
        &provenance,
        output.as_ref(),
        &common,
    ))
}

/// Analyses every unit (in parallel when there are several), calling
/// `done` after each; `None` when `context` was interrupted meanwhile.
pub fn analyse_units<S: Study>(
    study: &S,
    units: &[S::Unit],
    context: &Context<'_>,
    done: impl Fn() + Sync,
) -> Option<Vec<S::Analysed>> {
    let analyse = |unit| {
        if context.interrupted() {
            return None;
        }
        let result = study.analyse(unit, context);
        done();
        Some(result)
    };
    // One unit (a simulation, one trace) runs here: starting a thread pool
    // would cost more than it.
    let analysed: Vec<_> = match units {
        [one] => vec![analyse(one)],
        units => units.par_iter().map(analyse).collect(),
    };
    analysed
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .filter(|_| !context.interrupted())
}

use expost_remote::redact::redact_urls;

/// The command line this process was started with, as [`crate::main_with`]
/// was given it (a host program such as the Python module's `expost`
/// command passes its own).
static COMMAND: OnceLock<Vec<String>> = OnceLock::new();

/// Records the command line that [`provenance`] and [`command_line`] give.
pub fn set_command(args: Vec<String>) {
    let _ = COMMAND.set(args);
}

/// The command line recorded by [`set_command`], else this process's.
fn command() -> Vec<String> {
    match COMMAND.get() {
        Some(args) => args.clone(),
        None => (std::env::args_os())
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
    }
}

/// What made this study's outputs: this process's command line and `options`.
///
/// # Errors
/// When the options cannot be written as JSON.
pub fn provenance(options: &impl Serialize) -> Result<Provenance> {
    provenance_of(&command(), options)
}

/// What made a study's outputs: the command line `args` (the program
/// first) and `options`.
///
/// # Errors
/// When the options cannot be written as JSON.
pub fn provenance_of(args: &[String], options: &impl Serialize) -> Result<Provenance> {
    Ok(Provenance {
        version: env!("CARGO_PKG_VERSION").into(),
        command: args.iter().map(|a| redact_urls(a)).collect(),
        command_line: quote_command(args),
        options: serde_json::to_value(options).context("could not record the options")?,
    })
}

/// Everything after the analysis, the same for every study (and for
/// results combined elsewhere, such as merged sweep shards): the outputs
/// in `output`, stdout (`-o -`, `--json` or the terminal summary), the
/// serious diagnostics and the headline on stderr, and the exit code.
pub fn finish<S: Study>(
    study: &S,
    combined: &S::Combined,
    provenance: &Provenance,
    output: Option<&OutputDir>,
    common: &Common,
) -> ExitCode {
    let to_stdout = common.output.as_deref() == Some(Path::new("-"));
    let quiet = common.quiet || common.json || to_stdout;
    let mut failed = false;
    if let Some(dir) = output {
        failed |= write_outputs(study, combined, provenance, dir, common, quiet);
    }
    let printed = if to_stdout {
        stream_table(study, combined)
    } else if common.json {
        print_json(study, combined, provenance)
    } else if !common.quiet {
        print_stdout(printable(&study.terminal(combined)).as_bytes())
    } else {
        Ok(())
    };
    match printed {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            eprintln!("error: could not write to stdout: {e}");
            failed = true;
        }
        Ok(()) => {}
    }
    let diagnostics = study.diagnostics(combined);
    print_serious(
        &diagnostics,
        if output.is_some() {
            "diagnostics.csv"
        } else {
            "diagnostics.csv with -o"
        },
    );
    eprintln!(
        "{}; diagnostics: {}",
        printable(&study.headline(combined)),
        study::counts_in_words(study::count(&diagnostics))
    );
    let any_error = diagnostics
        .iter()
        .any(|(_, d)| d.severity == Severity::Error);
    if failed || any_error || study.failed_units(combined) > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `--ylim`'s `NAME=MIN:MAX` values.
///
/// # Errors
/// A value not of that form, or with MIN not below MAX, in words.
pub fn parse_ylims(given: &[String]) -> std::result::Result<Vec<(String, f64, f64)>, String> {
    given
        .iter()
        .map(|text| {
            let bad = || {
                format!("--ylim {text:?}: expected NAME=MIN:MAX with MIN < MAX (e.g. loss=0:100)")
            };
            let (name, range) = text.split_once('=').ok_or_else(bad)?;
            let (low, high) = range.split_once(':').ok_or_else(bad)?;
            let number = |s: &str| s.trim().parse::<f64>().ok().filter(|v| v.is_finite());
            match (number(low), number(high)) {
                (Some(low), Some(high)) if low < high && !name.trim().is_empty() => {
                    Ok((name.trim().to_string(), low, high))
                }
                _ => Err(bad()),
            }
        })
        .collect()
}

/// With `--ylim`, sets the y axis of the line figures named; a name that
/// is no line figure here is a warning.
fn set_ylims<'a>(outputs: Vec<Output<'a>>, ylims: &[(String, f64, f64)]) -> Vec<Output<'a>> {
    let figures: Vec<String> = (outputs.iter())
        .filter(|o| o.kind == Kind::Figure)
        .map(|o| o.name.clone())
        .collect();
    for (name, _, _) in ylims.iter().filter(|(n, _, _)| !figures.contains(n)) {
        eprintln!(
            "warning: --ylim: no line figure named {} here (there are: {})",
            printable(name),
            printable(&figures.join(", "))
        );
    }
    outputs
        .into_iter()
        .map(|output| {
            let Some(&(_, low, high)) =
                (ylims.iter()).find(|(n, _, _)| output.kind == Kind::Figure && *n == output.name)
            else {
                return output;
            };
            change_figure(output, move |figure| figure.y_range = Some((low, high)))
        })
        .collect()
}

/// `output` with `change` applied to its line figure once it is built.
fn change_figure<'a>(
    output: Output<'a>,
    change: impl Fn(&mut Figure) + Send + Sync + 'a,
) -> Output<'a> {
    let build = output.build;
    Output {
        build: Box::new(move || {
            Ok(match build()? {
                Content::Figure(mut figure, size) => {
                    change(&mut figure);
                    Content::Figure(figure, size)
                }
                other => other,
            })
        }),
        ..output
    }
}

/// With `--legend`, places the legend of every line figure; when there is
/// none, a warning says the option changed nothing.
fn set_legend(outputs: Vec<Output<'_>>, legend: Option<LegendArg>) -> Vec<Output<'_>> {
    let Some(place) = legend else {
        return outputs;
    };
    if !outputs.iter().any(|o| o.kind == Kind::Figure) {
        eprintln!("warning: --legend: there is no line figure here (charts keep their legend)");
    }
    outputs
        .into_iter()
        .map(|output| {
            if output.kind != Kind::Figure {
                return output;
            }
            change_figure(output, move |figure| figure.legend = place.into())
        })
        .collect()
}

/// With `--figures`, drops the figures and charts not named; a name that
/// matches none is a warning listing those there are (figures depend on
/// the data, so they are known only now).
fn keep_figures(outputs: &mut Vec<Output<'_>>, figures: &[String]) {
    if figures.is_empty() {
        return;
    }
    let drawing = |o: &Output<'_>| matches!(o.kind, Kind::Figure | Kind::Chart);
    let drawn: Vec<&str> = outputs
        .iter()
        .filter(|o| drawing(o))
        .map(|o| o.name.as_str())
        .collect();
    for wanted in figures.iter().filter(|w| !drawn.contains(&w.as_str())) {
        eprintln!(
            "warning: --figures: no figure or chart named {} here (there are: {})",
            printable(wanted),
            if drawn.is_empty() {
                "none".to_string()
            } else {
                printable(&drawn.join(", ")).into_owned()
            }
        );
    }
    outputs.retain(|o| !drawing(o) || figures.contains(&o.name));
}

/// Every output `-o DIR` writes but the manifest: the study's own (as
/// `--figures` and `--ylim` in `common` choose and set them), then
/// `diagnostics` and the JSON summary.
pub fn outputs<'a, S: Study>(
    study: &'a S,
    combined: &'a S::Combined,
    provenance: &'a Provenance,
    common: &Common,
) -> Vec<Output<'a>> {
    let diagnostics = study.diagnostics(combined);
    let mut outputs: Vec<Output<'_>> = study.outputs(combined, provenance);
    keep_figures(&mut outputs, &common.figures);
    let outputs = set_ylims(outputs, &parse_ylims(&common.ylim).unwrap_or_default());
    let mut outputs = set_legend(outputs, common.legend);
    outputs.push(Output::table(
        "diagnostics",
        "Diagnostics",
        true,
        move || study::diagnostics_table(&diagnostics),
    ));
    outputs.push(Output::json(study.name(), "Summary", Kind::Json, || {
        let mut bytes = Vec::new();
        study
            .write_json(combined, provenance, &mut bytes)
            .map_err(|source| expost_render::output::OutputError::Io {
                path: PathBuf::from(format!("{}.json", study.name())),
                source,
            })?;
        Ok(bytes)
    }));
    outputs
}

/// Writes [`outputs`] and the manifest into `dir`; returns how many files
/// were written (`None` when the manifest could not be) and the error of
/// each output that failed.
pub fn write_into<S: Study>(
    study: &S,
    combined: &S::Combined,
    provenance: &Provenance,
    dir: &OutputDir,
    common: &Common,
) -> (Option<usize>, Vec<String>) {
    let outputs = outputs(study, combined, provenance, common);
    let results: Vec<_> = outputs.par_iter().map(|o| dir.write(o)).collect();
    let mut errors = Vec::new();
    let mut written: Vec<Written> = Vec::new();
    for result in results {
        match result {
            Ok(w) => written.push(w),
            Err(e) => errors.push(e.to_string()),
        }
    }
    let diagnostics = study.diagnostics(combined);
    let manifest = Manifest {
        expost: provenance.version.clone(),
        study: study.name().into(),
        command: provenance.command.clone(),
        options: provenance.options.clone(),
        outputs: Manifest::entries(dir.path(), &written),
        summary: study.summary(combined),
        diagnostics: study::count(&diagnostics),
    };
    let files: usize = written.iter().map(|w| w.files.len()).sum();
    match manifest.write(dir.path()) {
        Ok(_) => (Some(files + 1), errors),
        Err(e) => {
            errors.push(e.to_string());
            (None, errors)
        }
    }
}

/// Every output of `study`, then the JSON summary, `diagnostics` and the
/// manifest; failures are printed and make the result true.
fn write_outputs<S: Study>(
    study: &S,
    combined: &S::Combined,
    provenance: &Provenance,
    dir: &OutputDir,
    common: &Common,
    quiet: bool,
) -> bool {
    let (files, errors) = write_into(study, combined, provenance, dir, common);
    for error in &errors {
        eprintln!("error: {}", printable(error));
    }
    if let Some(files) = files.filter(|_| !quiet) {
        let dir = dir.path().display().to_string();
        eprintln!("wrote {files} files to {}", printable(&dir));
    }
    !errors.is_empty()
}

/// `-o -`: the study's main table as CSV on stdout.
fn stream_table<S: Study>(study: &S, combined: &S::Combined) -> io::Result<()> {
    let Some(mut pieces) = study.stdout_table(combined) else {
        return Err(io::Error::other(format!(
            "expost {} has no table to write to stdout",
            study.name()
        )));
    };
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    Csv.write_pieces_to(&mut pieces, &mut out)?;
    out.flush()
}

/// `--json`: the summary and a newline on stdout.
fn print_json<S: Study>(
    study: &S,
    combined: &S::Combined,
    provenance: &Provenance,
) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    study.write_json(combined, provenance, &mut out)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Writes `bytes` on stdout (text for a terminal goes through
/// [`printable`] first); a closed pipe is an `Err` the caller ignores.
pub fn print_stdout(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

/// Prints the errors and warnings on stderr, at most 40 lines, then says
/// how many more there were and where they all are.
fn print_serious(diagnostics: &[study::UnitDiagnostic<'_>], all_in: &str) {
    const SHOWN: usize = 40;
    let serious: Vec<_> = diagnostics
        .iter()
        .filter(|(_, d)| d.severity >= Severity::Warning)
        .collect();
    for (_, d) in serious.iter().take(SHOWN) {
        eprintln!("{}", printable(&d.to_string()));
    }
    if serious.len() > SHOWN {
        eprintln!("… and {} more (all in {all_in})", serious.len() - SHOWN);
    }
}

/// Makes Ctrl-C and SIGTERM set [`INTERRUPTED`]. A second one ends the
/// process at once, unless the study holds servers it must stop first.
fn install_interrupt_handler(cleans_up: bool) {
    let installed = ctrlc::set_handler(move || {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            if cleans_up {
                eprintln!("interrupted again: still stopping what was started");
            } else {
                std::process::exit(130);
            }
        } else {
            eprintln!("interrupted: stopping…");
        }
    });
    if let Err(e) = installed {
        eprintln!("warning: Ctrl-C will end expost at once: {e}");
    }
}

/// The command line this process was started with, quoted for a POSIX
/// shell, the password of any URL in it as `***`.
pub fn command_line() -> String {
    quote_command(&command())
}

/// `args` (the program first, shown by its file name) quoted for a POSIX
/// shell, the password of any URL in it as `***`.
pub fn quote_command(args: &[String]) -> String {
    let quote = |arg: String| {
        let plain = !arg.is_empty()
            && arg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
        if plain {
            arg
        } else {
            format!("'{}'", arg.replace('\'', "'\\''"))
        }
    };
    let mut args = args.iter().map(|a| redact_urls(a));
    let program = args.next().map(|p| {
        Path::new(&p)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or(p)
    });
    program
        .into_iter()
        .chain(args.map(quote))
        .collect::<Vec<_>>()
        .join(" ")
}
