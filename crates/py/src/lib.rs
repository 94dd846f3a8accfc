//! `expost._native`: the native half of the `expost` Python package.
//!
//! It runs the `expost` command line (`main`), the study commands with
//! their results kept in memory (`run`, `StudyResult`), and the readers
//! of single files (`read`); the Python half (`python/expost`) turns
//! these into keyword-argument functions, DataFrames, warnings and figures
//! that show in Jupyter.

mod arrow;
mod readers;

use arrow::ArrowTable;
use expost::embed::{self, Finished, Progress};
use expost_render::figure::{render_svg, svg_to_pdf, svg_to_png};
use expost_render::output::{Content, Kind, Output};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyKeyError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

create_exception!(
    _native,
    InputError,
    PyException,
    "An input expost cannot use: args are (message, file, line)."
);

/// Runs the `expost` command line `argv` (the program first) as the
/// `expost` binary does, without holding the GIL; returns its exit status.
#[pyfunction]
fn main(py: Python<'_>, argv: Vec<String>) -> u8 {
    py.detach(|| expost::exit_status(expost::main_with(argv.into_iter().map(Into::into))))
}

/// The study commands, by name.
#[pyfunction]
fn studies() -> Vec<&'static str> {
    embed::STUDIES.to_vec()
}

/// The options of study `name`, as dicts with keys name, long, flag,
/// multiple, required, defaults, choices and help.
#[pyfunction]
fn options(py: Python<'_>, name: &str) -> PyResult<Vec<Py<PyAny>>> {
    let specs = embed::options(name).ok_or_else(|| PyKeyError::new_err(name.to_string()))?;
    specs
        .into_iter()
        .map(|s| {
            let dict = pyo3::types::PyDict::new(py);
            dict.set_item("name", s.name)?;
            dict.set_item("long", s.long)?;
            dict.set_item("flag", s.flag)?;
            dict.set_item("multiple", s.multiple)?;
            dict.set_item("required", s.required)?;
            dict.set_item("defaults", s.defaults)?;
            dict.set_item("choices", s.choices)?;
            dict.set_item("help", s.help)?;
            Ok(dict.into_any().unbind())
        })
        .collect()
}

/// `expost NAME --help`, `width` columns wide.
#[pyfunction]
#[pyo3(signature = (name, width = 79))]
fn help(name: &str, width: usize) -> PyResult<String> {
    embed::help(name, width).ok_or_else(|| PyKeyError::new_err(name.to_string()))
}

/// A value one thread puts and another waits for.
struct Slot<T> {
    value: Mutex<Option<T>>,
    filled: Condvar,
}

impl<T> Slot<T> {
    fn new() -> Slot<T> {
        Slot {
            value: Mutex::new(None),
            filled: Condvar::new(),
        }
    }

    fn put(&self, value: T) {
        *self.value.lock().unwrap_or_else(|e| e.into_inner()) = Some(value);
        self.filled.notify_all();
    }

    /// Waits until the value is there, at most `timeout`.
    fn wait(&self, timeout: Duration) {
        let guard = self.value.lock().unwrap_or_else(|e| e.into_inner());
        let _ = (self.filled)
            .wait_timeout_while(guard, timeout, |v| v.is_none())
            .map_err(|e| e.into_inner());
    }

    fn take(&self) -> Option<T> {
        self.value.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// How often a running study looks for Ctrl-C and reports progress.
const POLL: Duration = Duration::from_millis(100);

/// Runs the study command `args` (its name first, then its arguments as on
/// the command line) on a thread of its own, without holding the GIL.
/// Every 0.1 s it looks for signals: Ctrl-C (KeyboardInterrupt) stops the
/// study and is raised once it has stopped. `progress`, when given, is
/// called then with (units analysed, units in all).
#[pyfunction]
#[pyo3(signature = (args, progress = None))]
fn run(
    py: Python<'_>,
    args: Vec<String>,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<StudyResult> {
    let state = Progress::default();
    let slot = Slot::new();
    let (outcome, stopped) = std::thread::scope(|scope| {
        let worker = scope.spawn(|| slot.put(embed::run(&args, &state)));
        let mut stopped: Option<PyErr> = None;
        while !worker.is_finished() {
            py.detach(|| slot.wait(POLL));
            if stopped.is_some() || worker.is_finished() {
                continue;
            }
            let reported = py.check_signals().and_then(|()| match &progress {
                Some(callback) => callback.call1(state.counts()).map(drop),
                None => Ok(()),
            });
            if let Err(error) = reported {
                state.interrupt();
                stopped = Some(error);
            }
        }
        let joined = worker.join();
        (joined.map(|()| slot.take()), stopped)
    });
    if let Some(error) = stopped {
        return Err(error);
    }
    match outcome {
        Ok(Some(Ok(finished))) => Ok(StudyResult { finished }),
        Ok(Some(Err(embed::Error::Usage(message)))) => Err(PyValueError::new_err(message)),
        Ok(Some(Err(embed::Error::Failed(message)))) => {
            Err(InputError::new_err((message, py.None(), py.None())))
        }
        Ok(Some(Err(embed::Error::Interrupted))) => Err(
            pyo3::exceptions::PyKeyboardInterrupt::new_err("interrupted: no result"),
        ),
        Ok(None) | Err(_) => Err(PyRuntimeError::new_err(
            "the study stopped without a result (a bug in expost: please report it)",
        )),
    }
}

/// A study's result: its tables, figures, summary and diagnostics, kept in
/// memory until written.
#[pyclass(module = "expost._native", frozen)]
struct StudyResult {
    finished: Box<dyn Finished>,
}

impl StudyResult {
    /// The output named `name` of kind `kinds`, built.
    fn build(&self, name: &str, kinds: &[Kind]) -> PyResult<Content<'_>> {
        let outputs = self.finished.outputs();
        let output: Output<'_> = (outputs.into_iter())
            .find(|o| o.name == name && kinds.contains(&o.kind))
            .ok_or_else(|| PyKeyError::new_err(name.to_string()))?;
        (output.build)().map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// The SVG of the figure or chart `name`.
    fn svg_of(&self, name: &str) -> PyResult<String> {
        match self.build(name, &[Kind::Figure, Kind::Chart])? {
            Content::Figure(figure, size) => {
                render_svg(&figure, size).map_err(|e| PyRuntimeError::new_err(e.to_string()))
            }
            Content::Svg(svg) => Ok(svg),
            _ => Err(PyKeyError::new_err(name.to_string())),
        }
    }
}

#[pymethods]
impl StudyResult {
    /// The study's name.
    #[getter]
    fn study(&self) -> &'static str {
        self.finished.name()
    }

    /// The command line that gives the same result (the program first).
    #[getter]
    fn command(&self) -> Vec<String> {
        self.finished.command().to_vec()
    }

    /// One line saying what was analysed.
    #[getter]
    fn headline(&self) -> String {
        self.finished.headline()
    }

    /// How many units (runs, traces, …) could not be analysed.
    #[getter]
    fn failed_units(&self) -> usize {
        self.finished.failed_units()
    }

    /// The JSON summary, as `--json` prints it.
    fn summary_json(&self, py: Python<'_>) -> PyResult<String> {
        let bytes = py
            .detach(|| self.finished.summary_json())
            .map_err(|e| PyOSError::new_err(e.to_string()))?;
        String::from_utf8(bytes).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Every diagnostic: (unit, severity, file, line, message).
    fn diagnostics(&self) -> Vec<(String, &'static str, String, Option<u64>, String)> {
        (self.finished.diagnostics().into_iter())
            .map(|(unit, d)| (unit, d.severity.as_str(), d.file, d.line, d.message))
            .collect()
    }

    /// The outputs `-o DIR` writes: (name, title, kind, file names).
    fn outputs(&self) -> Vec<(String, String, String, Vec<String>)> {
        (self.finished.outputs().iter())
            .map(|o| {
                let kind = serde_kind(o.kind);
                (o.name.clone(), o.title.clone(), kind, o.file_names())
            })
            .collect()
    }

    /// The table `name`, as Arrow.
    fn table(&self, py: Python<'_>, name: &str) -> PyResult<ArrowTable> {
        let content = self.build(name, &[Kind::Table])?;
        py.detach(|| match content {
            Content::Table(table) => ArrowTable::from_pieces([table]),
            Content::TablePieces(pieces) => ArrowTable::from_pieces(pieces()),
            _ => unreachable!("a table output builds a table"),
        })
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// The figure or chart `name` as SVG text.
    fn svg(&self, py: Python<'_>, name: &str) -> PyResult<String> {
        py.detach(|| self.svg_of(name))
    }

    /// The figure or chart `name` as PNG, at `dpi` dots per inch (files: 300).
    #[pyo3(signature = (name, dpi = 300.0))]
    fn png<'py>(&self, py: Python<'py>, name: &str, dpi: f32) -> PyResult<Bound<'py, PyBytes>> {
        let png = py.detach(|| {
            let svg = self.svg_of(name)?;
            svg_to_png(&svg, dpi).map_err(|e| PyValueError::new_err(e.to_string()))
        })?;
        Ok(PyBytes::new(py, &png))
    }

    /// The figure or chart `name` as PDF.
    fn pdf<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyBytes>> {
        let pdf = py.detach(|| {
            let svg = self.svg_of(name)?;
            svg_to_pdf(&svg).map_err(|e| PyRuntimeError::new_err(e.to_string()))
        })?;
        Ok(PyBytes::new(py, &pdf))
    }

    /// Writes into `dir` what `-o DIR` writes; returns the number of files.
    fn write(&self, py: Python<'_>, dir: PathBuf) -> PyResult<usize> {
        py.detach(|| self.finished.write(&dir))
            .map_err(|errors| PyOSError::new_err(errors.join("\n")))
    }
}

/// `kind` as the manifest writes it.
fn serde_kind(kind: Kind) -> String {
    match kind {
        Kind::Table => "table",
        Kind::Figure => "figure",
        Kind::Chart => "chart",
        Kind::Trace => "trace",
        Kind::Json => "json",
    }
    .to_string()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(main, m)?)?;
    m.add_function(wrap_pyfunction!(studies, m)?)?;
    m.add_function(wrap_pyfunction!(options, m)?)?;
    m.add_function(wrap_pyfunction!(help, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_class::<StudyResult>()?;
    m.add_class::<ArrowTable>()?;
    m.add("InputError", m.py().get_type::<InputError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    readers::register(m)?;
    Ok(())
}
