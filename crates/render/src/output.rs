//! Study outputs as data, and the folder they are written to.
//!
//! A study declares what it produces as a list of [`Output`]s: a name, a
//! title, a kind (table, figure, chart, trace, JSON document), the formats
//! to write it in, and a closure that builds its [`Content`] when it is
//! written. [`OutputDir`] is checked before any work starts, writes each
//! output in every format with one exporter per format (atomically), and
//! [`Manifest`] describes what a folder holds, so other commands read any
//! study's folder the same way.

use crate::atomic::write_atomic;
use crate::figure::{render_svg, svg_to_pdf, svg_to_png, Figure, FigureError, PaperSize};
use crate::table::{write_table, write_table_pieces, Csv, Parquet, Table, TableWriter};
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

/// What kind of thing an output is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A tidy table (CSV, Parquet).
    Table,
    /// A line figure (SVG, PNG, PDF).
    Figure,
    /// A bar or Gantt chart (SVG, PNG, PDF).
    Chart,
    /// A trace for a trace viewer (Perfetto JSON).
    Trace,
    /// A JSON document.
    Json,
}

/// A file format an output is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// RFC 4180 CSV with a header.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// SVG.
    Svg,
    /// PNG at 300 dpi.
    Png,
    /// PDF.
    Pdf,
    /// JSON.
    Json,
}

impl Format {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
            Format::Svg => "svg",
            Format::Png => "png",
            Format::Pdf => "pdf",
            Format::Json => "json",
        }
    }
}

/// Pieces of a table, each with the same columns (see
/// [`TableWriter::write_pieces`]); called once per format.
pub type Pieces<'a> = Box<dyn Fn() -> Box<dyn Iterator<Item = Table> + 'a> + Send + Sync + 'a>;

/// What an output holds, built when it is written.
pub enum Content<'a> {
    /// A whole table.
    Table(Table),
    /// A table in pieces, never held whole.
    TablePieces(Pieces<'a>),
    /// A line figure, drawn at the given size.
    Figure(Box<Figure>, PaperSize),
    /// An SVG drawing (bar and Gantt charts), converted to PNG and PDF.
    Svg(String),
    /// The bytes of a JSON document.
    Json(Vec<u8>),
}

/// Builds an output's content.
pub type Build<'a> = Box<dyn Fn() -> Result<Content<'a>, OutputError> + Send + Sync + 'a>;

/// One output of a study.
pub struct Output<'a> {
    /// The file name without extension (`series`, `loss_zoom`, …).
    pub name: String,
    /// A title for people (`Runs`, `Loss across trials`).
    pub title: String,
    /// What it is.
    pub kind: Kind,
    /// The formats it is written in, one file each: `<name>.<ext>`.
    pub formats: Vec<Format>,
    /// Builds its content.
    pub build: Build<'a>,
}

impl<'a> Output<'a> {
    /// A table in CSV, and Parquet too when `parquet`.
    pub fn table(
        name: &str,
        title: &str,
        parquet: bool,
        build: impl Fn() -> Table + Send + Sync + 'a,
    ) -> Output<'a> {
        Output {
            name: name.into(),
            title: title.into(),
            kind: Kind::Table,
            formats: table_formats(parquet),
            build: Box::new(move || Ok(Content::Table(build()))),
        }
    }

    /// A table built in pieces (see [`Content::TablePieces`]).
    pub fn table_pieces(name: &str, title: &str, parquet: bool, pieces: Pieces<'a>) -> Output<'a> {
        let pieces = std::sync::Arc::new(pieces);
        Output {
            name: name.into(),
            title: title.into(),
            kind: Kind::Table,
            formats: table_formats(parquet),
            build: Box::new(move || {
                let pieces = pieces.clone();
                Ok(Content::TablePieces(Box::new(move || pieces())))
            }),
        }
    }

    /// A line figure in SVG, PNG and PDF.
    pub fn figure(name: &str, title: &str, size: PaperSize, figure: Figure) -> Output<'a> {
        Output {
            name: name.into(),
            title: title.into(),
            kind: Kind::Figure,
            formats: vec![Format::Svg, Format::Png, Format::Pdf],
            build: Box::new(move || Ok(Content::Figure(Box::new(figure.clone()), size))),
        }
    }

    /// A chart drawn as SVG by `draw`, in SVG, PNG and PDF.
    pub fn chart(
        name: &str,
        title: &str,
        draw: impl Fn() -> Result<String, FigureError> + Send + Sync + 'a,
    ) -> Output<'a> {
        Output {
            name: name.into(),
            title: title.into(),
            kind: Kind::Chart,
            formats: vec![Format::Svg, Format::Png, Format::Pdf],
            build: Box::new(move || Ok(Content::Svg(draw()?))),
        }
    }

    /// A JSON document (or, with `kind` [`Kind::Trace`], a trace).
    pub fn json(
        name: &str,
        title: &str,
        kind: Kind,
        bytes: impl Fn() -> Result<Vec<u8>, OutputError> + Send + Sync + 'a,
    ) -> Output<'a> {
        Output {
            name: name.into(),
            title: title.into(),
            kind,
            formats: vec![Format::Json],
            build: Box::new(move || Ok(Content::Json(bytes()?))),
        }
    }

    /// `figures.json`: the specs behind `figures` (by file name), which
    /// `expost report` draws as interactive charts.
    pub fn figure_specs(figures: &[(String, Figure)]) -> Output<'a> {
        let specs = crate::report::specs_json(figures);
        Output::json(
            "figures",
            "Figure specs (interactive charts)",
            Kind::Json,
            move || match &specs {
                Ok(bytes) => Ok(bytes.clone()),
                Err(e) => Err(OutputError::Json {
                    name: "figures".into(),
                    source: serde_json::Error::io(std::io::Error::other(e.to_string())),
                }),
            },
        )
    }

    /// The file names it is written to.
    pub fn file_names(&self) -> Vec<String> {
        self.formats
            .iter()
            .map(|f| format!("{}.{}", self.name, f.extension()))
            .collect()
    }
}

fn table_formats(parquet: bool) -> Vec<Format> {
    if parquet {
        vec![Format::Csv, Format::Parquet]
    } else {
        vec![Format::Csv]
    }
}

/// Why an output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// A file could not be written.
    #[error("could not write '{path}': {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A figure or chart could not be drawn.
    #[error("could not draw '{name}': {source}")]
    Figure {
        /// The output's name.
        name: String,
        /// Why.
        source: FigureError,
    },
    /// A JSON document could not be serialised.
    #[error("could not serialise '{name}': {source}")]
    Json {
        /// The output's name.
        name: String,
        /// Why.
        source: serde_json::Error,
    },
    /// The content cannot be written in this format (a bug in the study).
    #[error("'{name}' cannot be written as {format:?}")]
    Unsupported {
        /// The output's name.
        name: String,
        /// The format asked for.
        format: Format,
    },
    /// The output folder could not be used.
    #[error("{0}")]
    Folder(String),
}

impl From<FigureError> for OutputError {
    fn from(source: FigureError) -> Self {
        OutputError::Figure {
            name: String::new(),
            source,
        }
    }
}

/// The name, type and unit of a table column, as a manifest lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnInfo {
    /// The column's name.
    pub name: String,
    /// `string`, `float`, `int` or `bool`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The unit of its values, if the column has one.
    pub unit: Option<String>,
}

impl ColumnInfo {
    /// The columns of `table`.
    pub fn of(table: &Table) -> Vec<ColumnInfo> {
        table
            .columns
            .iter()
            .map(|c| ColumnInfo {
                name: c.name.clone(),
                type_name: c.data.type_name().into(),
                unit: c.unit.clone(),
            })
            .collect()
    }
}

/// What writing one output produced.
#[derive(Debug, Clone)]
pub struct Written {
    /// The output's name.
    pub name: String,
    /// Its title.
    pub title: String,
    /// Its kind.
    pub kind: Kind,
    /// The files written, with their formats.
    pub files: Vec<(PathBuf, Format)>,
    /// A table's columns.
    pub columns: Option<Vec<ColumnInfo>>,
}

/// A checked, writable output folder.
#[derive(Debug, Clone)]
pub struct OutputDir {
    dir: PathBuf,
    removed: Vec<PathBuf>,
}

impl OutputDir {
    /// Creates `dir` if needed and proves it writable, before any work.
    ///
    /// # Errors
    /// [`OutputError::Folder`] saying what is wrong with the folder.
    pub fn prepare(dir: &Path) -> Result<OutputDir, OutputError> {
        fs::create_dir_all(dir).map_err(|e| {
            OutputError::Folder(format!(
                "could not create output folder '{}': {e}",
                dir.display()
            ))
        })?;
        let removed = crate::atomic::remove_stale_temps(dir).map_err(|e| {
            OutputError::Folder(format!(
                "could not clean output folder '{}' of a killed run's temporary files: {e}",
                dir.display()
            ))
        })?;
        tempfile::Builder::new()
            .prefix(&format!(".expost-probe-{}-", std::process::id()))
            .tempfile_in(dir)
            .map_err(|e| {
                OutputError::Folder(format!(
                    "output folder '{}' is not writable: {e}",
                    dir.display()
                ))
            })?;
        Ok(OutputDir {
            dir: dir.to_path_buf(),
            removed,
        })
    }

    /// The temporary files of killed runs that [`OutputDir::prepare`]
    /// removed from the folder (their writers were dead).
    pub fn removed_stale(&self) -> &[PathBuf] {
        &self.removed
    }

    /// The path of output file `name`.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Builds `output` and writes it in each of its formats.
    ///
    /// # Errors
    /// The first file that could not be built or written.
    pub fn write(&self, output: &Output<'_>) -> Result<Written, OutputError> {
        let content = (output.build)().map_err(|e| name_error(e, &output.name))?;
        let mut written = Written {
            name: output.name.clone(),
            title: output.title.clone(),
            kind: output.kind,
            files: Vec::new(),
            columns: None,
        };
        match content {
            Content::Table(table) => {
                written.columns = Some(ColumnInfo::of(&table));
                for &format in &output.formats {
                    let path = self.path_of(output, format);
                    write_table(&table, &path, table_writer(output, format)?)
                        .map_err(|source| io_error(&path, source))?;
                    written.files.push((path, format));
                }
            }
            Content::TablePieces(pieces) => {
                for &format in &output.formats {
                    let path = self.path_of(output, format);
                    let mut columns = None;
                    let mut iter = pieces().inspect(|piece| {
                        columns.get_or_insert_with(|| ColumnInfo::of(piece));
                    });
                    write_table_pieces(&mut iter, &path, table_writer(output, format)?)
                        .map_err(|source| io_error(&path, source))?;
                    written.columns = written.columns.or(columns);
                    written.files.push((path, format));
                }
            }
            Content::Figure(figure, size) => {
                let svg = render_svg(&figure, size).map_err(|e| figure_error(e, &output.name))?;
                self.write_drawing(output, &svg, &mut written)?;
            }
            Content::Svg(svg) => self.write_drawing(output, &svg, &mut written)?,
            Content::Json(bytes) => {
                for &format in &output.formats {
                    if format != Format::Json {
                        return Err(unsupported(output, format));
                    }
                    let path = self.path_of(output, format);
                    write_atomic(&path, &bytes).map_err(|source| io_error(&path, source))?;
                    written.files.push((path, format));
                }
            }
        }
        Ok(written)
    }

    fn path_of(&self, output: &Output<'_>, format: Format) -> PathBuf {
        self.file(&format!("{}.{}", output.name, format.extension()))
    }

    /// Writes an SVG drawing as SVG, PNG and PDF (whichever are asked),
    /// converting all before writing any.
    fn write_drawing(
        &self,
        output: &Output<'_>,
        svg: &str,
        written: &mut Written,
    ) -> Result<(), OutputError> {
        let mut files = Vec::new();
        for &format in &output.formats {
            let bytes = match format {
                Format::Svg => svg.as_bytes().to_vec(),
                Format::Png => svg_to_png(svg, 300.0).map_err(|e| figure_error(e, &output.name))?,
                Format::Pdf => svg_to_pdf(svg).map_err(|e| figure_error(e, &output.name))?,
                other => return Err(unsupported(output, other)),
            };
            files.push((format, bytes));
        }
        for (format, bytes) in files {
            let path = self.path_of(output, format);
            write_atomic(&path, &bytes).map_err(|source| io_error(&path, source))?;
            written.files.push((path, format));
        }
        Ok(())
    }
}

fn table_writer(
    output: &Output<'_>,
    format: Format,
) -> Result<&'static dyn TableWriter, OutputError> {
    match format {
        Format::Csv => Ok(&Csv),
        Format::Parquet => Ok(&Parquet),
        other => Err(unsupported(output, other)),
    }
}

fn unsupported(output: &Output<'_>, format: Format) -> OutputError {
    OutputError::Unsupported {
        name: output.name.clone(),
        format,
    }
}

fn io_error(path: &Path, source: std::io::Error) -> OutputError {
    OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn figure_error(source: FigureError, name: &str) -> OutputError {
    OutputError::Figure {
        name: name.into(),
        source,
    }
}

/// Gives a build error without a name the output's name.
fn name_error(error: OutputError, name: &str) -> OutputError {
    match error {
        OutputError::Figure { name: n, source } if n.is_empty() => figure_error(source, name),
        other => other,
    }
}

/// The file every study output folder holds: what made it and what it
/// holds, so `report`, `inspect` and other tools read any study's folder
/// the same way.
pub const MANIFEST: &str = "manifest.json";

/// How many diagnostics of each severity a study reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosticCounts {
    /// Errors.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
    /// Notes.
    pub notes: usize,
}

/// One file of an output folder, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestOutput {
    /// The file, relative to the folder.
    pub path: String,
    /// What it is.
    pub kind: Kind,
    /// Its title.
    pub title: String,
    /// The output it belongs to (a table's CSV and Parquet share one).
    pub name: String,
    /// Its format.
    pub format: Format,
    /// A table's columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<ColumnInfo>>,
}

/// `manifest.json`: what made an output folder and what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The expost version that wrote it.
    pub expost: String,
    /// The study's name (`failover`, `ombt`, …).
    pub study: String,
    /// The command line, one argument per item.
    pub command: Vec<String>,
    /// The options the study ran with.
    pub options: serde_json::Value,
    /// Every file written, in the order the study declared them.
    pub outputs: Vec<ManifestOutput>,
    /// The study's headline numbers.
    pub summary: serde_json::Value,
    /// How many diagnostics of each severity.
    pub diagnostics: DiagnosticCounts,
}

impl Manifest {
    /// The entries for what was written into `dir`.
    pub fn entries(dir: &Path, written: &[Written]) -> Vec<ManifestOutput> {
        written
            .iter()
            .flat_map(|w| {
                w.files.iter().map(move |(path, format)| ManifestOutput {
                    path: path
                        .strip_prefix(dir)
                        .unwrap_or(path)
                        .to_string_lossy()
                        .into_owned(),
                    kind: w.kind,
                    title: w.title.clone(),
                    name: w.name.clone(),
                    format: *format,
                    columns: if w.kind == Kind::Table {
                        w.columns.clone()
                    } else {
                        None
                    },
                })
            })
            .collect()
    }

    /// Writes the manifest as `manifest.json` in `dir`, atomically.
    ///
    /// # Errors
    /// [`OutputError::Io`] naming the file.
    pub fn write(&self, dir: &Path) -> Result<PathBuf, OutputError> {
        let path = dir.join(MANIFEST);
        let bytes = serde_json::to_vec_pretty(self).map_err(|source| OutputError::Json {
            name: MANIFEST.into(),
            source,
        })?;
        write_atomic(&path, &bytes).map_err(|source| io_error(&path, source))?;
        Ok(path)
    }

    /// Reads `manifest.json` of `dir`; `Ok(None)` when there is none.
    ///
    /// # Errors
    /// A message naming the file when it cannot be read or is not a manifest.
    pub fn read(dir: &Path) -> Result<Option<Manifest>, String> {
        let path = dir.join(MANIFEST);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("could not read '{}': {e}", path.display())),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("'{}' is not an expost manifest: {e}", path.display()))
    }

    /// The entries of one kind.
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &ManifestOutput> {
        self.outputs.iter().filter(move |o| o.kind == kind)
    }

    /// The outputs, each with all its files (a table's CSV and Parquet, a
    /// figure's SVG, PNG and PDF), in the order the study declared them.
    pub fn by_output(&self) -> Vec<Listed<'_>> {
        let mut listed: Vec<Listed<'_>> = Vec::new();
        for entry in &self.outputs {
            match listed
                .iter_mut()
                .find(|l| l.name == entry.name && l.kind == entry.kind)
            {
                Some(l) => {
                    l.files.push(entry);
                    if l.columns.is_none() {
                        l.columns = entry.columns.as_deref();
                    }
                }
                None => listed.push(Listed {
                    name: &entry.name,
                    kind: entry.kind,
                    title: &entry.title,
                    files: vec![entry],
                    columns: entry.columns.as_deref(),
                }),
            }
        }
        listed
    }

    /// The command line, quoted for a POSIX shell where needed, with the
    /// program's folder left out (`expost failover runs/ -o out`).
    pub fn command_line(&self) -> String {
        quote_command(&self.command)
    }
}

/// One output of a manifest with all its files (see [`Manifest::by_output`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<'a> {
    /// The output's name (the files' stem).
    pub name: &'a str,
    /// What it is.
    pub kind: Kind,
    /// Its title.
    pub title: &'a str,
    /// Its files, in the manifest's order.
    pub files: Vec<&'a ManifestOutput>,
    /// A table's columns.
    pub columns: Option<&'a [ColumnInfo]>,
}

impl Listed<'_> {
    /// The file in `format`, if it was written.
    pub fn file(&self, format: Format) -> Option<&str> {
        self.files
            .iter()
            .find(|f| f.format == format)
            .map(|f| f.path.as_str())
    }
}

/// `argv` as one line for a POSIX shell: arguments quoted where needed, the
/// program by its file name only.
pub fn quote_command(argv: &[String]) -> String {
    let quote = |arg: &str| {
        let plain = !arg.is_empty()
            && arg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
        if plain {
            arg.to_string()
        } else {
            format!("'{}'", arg.replace('\'', "'\\''"))
        }
    };
    argv.iter()
        .enumerate()
        .map(|(i, arg)| {
            if i == 0 {
                Path::new(arg)
                    .file_name()
                    .map(|n| quote(&n.to_string_lossy()))
                    .unwrap_or_else(|| quote(arg))
            } else {
                quote(arg)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::ColumnData;

    fn small_table() -> Table {
        let mut table = Table::default();
        table.push_with_unit("ms", ColumnData::Float(vec![Some(1.5), None]), "ms");
        table.push("ok", ColumnData::Bool(vec![true, false]));
        table
    }

    #[test]
    fn tables_are_written_in_each_format_and_listed_with_their_columns() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputDir::prepare(dir.path()).unwrap();
        let written = out
            .write(&Output::table("runs", "Runs", true, small_table))
            .unwrap();
        assert_eq!(written.files.len(), 2);
        assert_eq!(
            fs::read_to_string(dir.path().join("runs.csv")).unwrap(),
            "ms,ok\n1.5,true\n,false\n"
        );
        let entries = Manifest::entries(dir.path(), &[written]);
        assert_eq!(entries[1].path, "runs.parquet");
        let columns = entries[0].columns.as_ref().unwrap();
        assert_eq!(columns[0].unit.as_deref(), Some("ms"));
        assert_eq!(columns[1].type_name, "bool");
    }

    #[test]
    fn pieces_give_their_columns_too() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputDir::prepare(dir.path()).unwrap();
        let output = Output::table_pieces(
            "series",
            "Series",
            false,
            Box::new(|| Box::new((0..3).map(|_| small_table()))),
        );
        let written = out.write(&output).unwrap();
        assert_eq!(written.columns.unwrap().len(), 2);
        let csv = fs::read_to_string(dir.path().join("series.csv")).unwrap();
        assert_eq!(csv.lines().count(), 7);
    }

    #[test]
    fn a_manifest_reads_back_and_a_folder_without_one_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Manifest::read(dir.path()).unwrap(), None);
        let manifest = Manifest {
            expost: "0.1.0".into(),
            study: "x".into(),
            command: vec!["expost".into(), "x".into()],
            options: serde_json::json!({"a": 1}),
            outputs: Vec::new(),
            summary: serde_json::json!({}),
            diagnostics: DiagnosticCounts::default(),
        };
        manifest.write(dir.path()).unwrap();
        assert_eq!(Manifest::read(dir.path()).unwrap(), Some(manifest));
        fs::write(dir.path().join(MANIFEST), b"{").unwrap();
        assert!(Manifest::read(dir.path())
            .unwrap_err()
            .contains("manifest.json"));
    }

    #[test]
    fn outputs_are_listed_with_all_their_files_and_commands_quoted() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputDir::prepare(dir.path()).unwrap();
        let written = out
            .write(&Output::table("runs", "Runs", true, small_table))
            .unwrap();
        let manifest = Manifest {
            expost: "0.1.0".into(),
            study: "x".into(),
            command: ["/usr/bin/expost", "x", "a b", "it's", "-o", "out/"]
                .map(String::from)
                .to_vec(),
            options: serde_json::json!({}),
            outputs: Manifest::entries(dir.path(), &[written]),
            summary: serde_json::json!({}),
            diagnostics: DiagnosticCounts::default(),
        };
        let listed = manifest.by_output();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].files.len(), 2);
        assert_eq!(listed[0].file(Format::Parquet), Some("runs.parquet"));
        assert_eq!(listed[0].columns.unwrap()[0].unit.as_deref(), Some("ms"));
        assert_eq!(manifest.command_line(), "expost x 'a b' 'it'\\''s' -o out/");
    }

    #[test]
    fn a_bad_folder_fails_before_any_work() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, b"x").unwrap();
        let err = OutputDir::prepare(&file.join("sub")).unwrap_err();
        assert!(err.to_string().contains("could not create output folder"));
    }
}
