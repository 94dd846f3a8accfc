//! `read_iperf3`, `read_shremote`, `read_line_protocol`,
//! `read_shipyard_export` and `read_trace`: one file as an Arrow table
//! (see `expost_studies::readers`).

use crate::arrow::ArrowTable;
use crate::InputError;
use expost_studies::readers::{self, Read, ReadError};
use pyo3::exceptions::{PyKeyError, PyRuntimeError};
use pyo3::prelude::*;
use std::path::{Path, PathBuf};

/// A diagnostic as Python gets it: (severity, file, line, message).
type Row = (&'static str, String, Option<u64>, String);

/// A reader of one kind of file.
type Reader = fn(&Path) -> Result<Read, ReadError>;

/// The readers, by the name after `read_`.
const READERS: &[(&str, Reader)] = &[
    ("iperf3", readers::iperf3),
    ("shremote", readers::shremote),
    ("line_protocol", readers::line_protocol),
    ("shipyard_export", readers::shipyard_export),
    ("trace", readers::trace),
];

/// The names of the readers (`iperf3`, …).
#[pyfunction]
fn readers_list() -> Vec<&'static str> {
    READERS.iter().map(|(name, _)| *name).collect()
}

/// Reads `path` with the reader `kind`, without holding the GIL: its
/// table and diagnostics; a file that cannot be used raises InputError
/// (message, file, line).
#[pyfunction]
fn read(py: Python<'_>, kind: &str, path: PathBuf) -> PyResult<(ArrowTable, Vec<Row>)> {
    let reader = (READERS.iter())
        .find(|(name, _)| *name == kind)
        .map(|(_, reader)| *reader)
        .ok_or_else(|| PyKeyError::new_err(kind.to_string()))?;
    let read = py
        .detach(|| reader(&path))
        .map_err(|e| InputError::new_err((e.message, e.file, e.line)))?;
    let rows = (read.diagnostics.into_iter())
        .map(|d| (d.severity.as_str(), d.file, d.line, d.message))
        .collect();
    let table = py
        .detach(|| ArrowTable::from_pieces([read.table]))
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    Ok((table, rows))
}

/// Adds the readers to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(readers_list, m)?)?;
    m.add_function(wrap_pyfunction!(read, m)?)?;
    Ok(())
}
