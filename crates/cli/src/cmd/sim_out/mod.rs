//! Output helpers shared by `traces`, `simulate` and `sweep`: tables from
//! rows, CSV + Parquet files, JSON files, and figures, each written
//! atomically into the output folder.

use crate::output::OutputDir;
use anyhow::{Context, Result};
use expost_render::figure::{write_figure, Figure, PaperSize};
use expost_render::table::{ColumnData, DictBuilder, Table};
use std::path::PathBuf;

/// Builds a table column by column.
#[derive(Default)]
pub struct TableBuilder {
    table: Table,
}

impl TableBuilder {
    /// A text column.
    pub fn text<'a>(mut self, name: &str, values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut b = DictBuilder::default();
        for v in values {
            b.push(v);
        }
        self.table.push(name, b.finish());
        self
    }

    /// A number column (non-finite values become empty).
    pub fn float(mut self, name: &str, values: impl IntoIterator<Item = f64>) -> Self {
        let data = values
            .into_iter()
            .map(|v| v.is_finite().then_some(v))
            .collect();
        self.table.push(name, ColumnData::Float(data));
        self
    }

    /// An optional number column.
    pub fn opt(mut self, name: &str, values: impl IntoIterator<Item = Option<f64>>) -> Self {
        let data = values
            .into_iter()
            .map(|v| v.filter(|x| x.is_finite()))
            .collect();
        self.table.push(name, ColumnData::Float(data));
        self
    }

    /// A whole-number column.
    pub fn int(mut self, name: &str, values: impl IntoIterator<Item = i64>) -> Self {
        self.table.push(
            name,
            ColumnData::Int(values.into_iter().map(Some).collect()),
        );
        self
    }

    /// The table.
    pub fn build(self) -> Table {
        self.table
    }
}

/// Writes `table` as `<name>.csv`, and `<name>.parquet` too if `parquet`.
pub fn write_tables(
    dir: &OutputDir,
    name: &str,
    table: &Table,
    parquet: bool,
) -> Result<Vec<PathBuf>> {
    dir.write_tables(name, table, parquet)
}

/// Writes `value` as pretty JSON to `<name>`.
pub fn write_json(dir: &OutputDir, name: &str, value: &impl serde::Serialize) -> Result<PathBuf> {
    dir.write_json(name, value)
}

/// Draws `figure` as SVG, PNG and PDF named `stem`.
pub fn figure(
    dir: &OutputDir,
    stem: &str,
    figure: &Figure,
    size: PaperSize,
) -> Result<Vec<PathBuf>> {
    write_figure(figure, size, dir.path(), stem)
        .with_context(|| format!("could not draw figure '{stem}'"))
}

/// The diagnostics table.
pub fn diagnostics_table(items: &[expost_model::Diagnostic]) -> Table {
    crate::output::diagnostics_table(items)
}

/// Reads a profile: a TOML file, or a profiling run folder (the notebook's CSVs).
pub fn read_profile(
    path: &std::path::Path,
    diags: &mut expost_model::Diagnostics,
) -> Result<expost_sim::profile::Profile> {
    use expost_sim::profile::Profile;
    if path.is_dir() {
        Profile::from_run_dir(path, diags).map_err(anyhow::Error::msg)
    } else {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read profile '{}'", path.display()))?;
        Profile::from_toml(&text, &path.display().to_string()).map_err(anyhow::Error::msg)
    }
}
