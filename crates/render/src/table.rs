//! Tidy tables and their writers: one [`TableWriter`] per output format
//! (CSV, Parquet), so a study builds a [`Table`] once and writes it in
//! every format. Tables are columnar; repeated text (parameters, metric
//! names, units) is stored once per distinct value.

use crate::atomic::write_atomic_with;
use parquet::basic::{Compression, LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

/// The values of one column.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// Text with few distinct values, stored once each.
    Dict {
        /// The distinct values.
        values: Vec<String>,
        /// For each row, an index into `values`.
        keys: Vec<u32>,
    },
    /// Numbers; `None` is written as an empty CSV field / Parquet null.
    Float(Vec<Option<f64>>),
    /// Numbers, half the memory of `Float`: a non-finite value (NaN) is
    /// written as an empty CSV field / Parquet null.
    Number(Vec<f64>),
    /// Whole numbers; `None` as above.
    Int(Vec<Option<i64>>),
    /// Booleans.
    Bool(Vec<bool>),
}

impl ColumnData {
    /// The type a manifest gives the column: `string`, `float`, `int` or `bool`.
    pub fn type_name(&self) -> &'static str {
        match self {
            ColumnData::Dict { .. } => "string",
            ColumnData::Float(_) | ColumnData::Number(_) => "float",
            ColumnData::Int(_) => "int",
            ColumnData::Bool(_) => "bool",
        }
    }

    fn len(&self) -> usize {
        match self {
            ColumnData::Dict { keys, .. } => keys.len(),
            ColumnData::Float(v) => v.len(),
            ColumnData::Number(v) => v.len(),
            ColumnData::Int(v) => v.len(),
            ColumnData::Bool(v) => v.len(),
        }
    }
}

/// A named column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The column's name (the CSV header, the Parquet field).
    pub name: String,
    /// Its values.
    pub data: ColumnData,
    /// The unit of every value, where the column has one (e.g. `ms`); a
    /// table with a `unit` column has it per row instead.
    pub unit: Option<String>,
}

/// Builds a text column value by value, storing each distinct value once.
#[derive(Debug, Default)]
pub struct DictBuilder {
    values: Vec<String>,
    index: HashMap<String, u32>,
    keys: Vec<u32>,
}

impl DictBuilder {
    /// Appends one value.
    pub fn push(&mut self, value: &str) {
        let key = match self.index.get(value) {
            Some(&k) => k,
            None => {
                let k = self.values.len() as u32;
                self.values.push(value.to_string());
                self.index.insert(value.to_string(), k);
                k
            }
        };
        self.keys.push(key);
    }

    /// Appends the same value `n` times.
    pub fn push_n(&mut self, value: &str, n: usize) {
        if n == 0 {
            return;
        }
        self.push(value);
        let key = *self.keys.last().expect("just pushed");
        self.keys
            .extend(std::iter::repeat_n(key, n.saturating_sub(1)));
    }

    /// The finished column data.
    pub fn finish(self) -> ColumnData {
        ColumnData::Dict {
            values: self.values,
            keys: self.keys,
        }
    }
}

/// A table: columns of equal length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// The columns, in output order.
    pub columns: Vec<Column>,
}

impl Table {
    /// Adds a column. Panics if its length differs from the others' (a bug in the caller).
    pub fn push(&mut self, name: impl Into<String>, data: ColumnData) {
        if let Some(first) = self.columns.first() {
            assert_eq!(
                first.data.len(),
                data.len(),
                "columns of one table must have equal length"
            );
        }
        self.columns.push(Column {
            name: name.into(),
            data,
            unit: None,
        });
    }

    /// Adds a column whose values are all in `unit`.
    pub fn push_with_unit(&mut self, name: impl Into<String>, data: ColumnData, unit: &str) {
        self.push(name, data);
        if let Some(column) = self.columns.last_mut() {
            column.unit = Some(unit.to_string());
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.data.len())
    }
}

/// One output format for tables.
pub trait TableWriter: Sync {
    /// The file extension, without the dot.
    fn extension(&self) -> &'static str;
    /// Writes `table` to `out`.
    fn write(&self, table: &Table, out: &mut io::BufWriter<&mut std::fs::File>) -> io::Result<()>;
    /// Writes a table given in pieces (each with the same columns), so it
    /// is never held whole: one CSV header; in Parquet, each piece starts a
    /// row group. `pieces` yields at least one piece (possibly empty),
    /// which gives the columns.
    fn write_pieces(
        &self,
        pieces: &mut dyn Iterator<Item = Table>,
        out: &mut io::BufWriter<&mut std::fs::File>,
    ) -> io::Result<()>;
}

/// Writes `table` to `path` atomically with `writer`.
pub fn write_table(table: &Table, path: &Path, writer: &dyn TableWriter) -> io::Result<()> {
    write_atomic_with(path, |out| writer.write(table, out))
}

/// Writes the table `pieces` yields to `path` atomically with `writer`
/// (see [`TableWriter::write_pieces`]).
pub fn write_table_pieces(
    pieces: &mut dyn Iterator<Item = Table>,
    path: &Path,
    writer: &dyn TableWriter,
) -> io::Result<()> {
    write_atomic_with(path, |out| writer.write_pieces(pieces, out))
}

/// The error of a piece-wise write that was given no piece.
fn no_piece() -> io::Error {
    io::Error::other("a table written in pieces needs at least one piece")
}

/// RFC 4180 CSV with a header row; numbers in their shortest exact form.
pub struct Csv;

impl Csv {
    /// Writes `table` as CSV to any writer (used for `-o -`).
    pub fn write_to(&self, table: &Table, out: &mut dyn Write) -> io::Result<()> {
        Self::write_all(table, &mut std::iter::empty(), out)
    }

    /// Writes the pieces of a table as one CSV (one header) to any writer.
    pub fn write_pieces_to(
        &self,
        pieces: &mut dyn Iterator<Item = Table>,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let first = pieces.next().ok_or_else(no_piece)?;
        Self::write_all(&first, pieces, out)
    }

    /// `first`'s header and rows, then the rows of the `rest`.
    fn write_all(
        first: &Table,
        rest: &mut dyn Iterator<Item = Table>,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let mut csv = csv::WriterBuilder::new()
            .buffer_capacity(1 << 16)
            .from_writer(out);
        csv.write_record(first.columns.iter().map(|c| c.name.as_str()))?;
        Self::write_rows(&mut csv, first)?;
        for table in rest {
            Self::write_rows(&mut csv, &table)?;
        }
        csv.flush()?;
        Ok(())
    }

    fn write_rows<W: Write>(csv: &mut csv::Writer<W>, table: &Table) -> io::Result<()> {
        let mut floats = ryu::Buffer::new();
        let mut ints = itoa::Buffer::new();
        for row in 0..table.rows() {
            for column in &table.columns {
                match &column.data {
                    ColumnData::Dict { values, keys } => {
                        csv.write_field(&values[keys[row] as usize])?
                    }
                    ColumnData::Number(v) => match v[row] {
                        x if x.is_finite() => csv.write_field(format_float(&mut floats, x))?,
                        _ => csv.write_field("")?,
                    },
                    ColumnData::Float(v) => match v[row] {
                        Some(x) if x.is_finite() => {
                            csv.write_field(format_float(&mut floats, x))?
                        }
                        _ => csv.write_field("")?,
                    },
                    ColumnData::Int(v) => match v[row] {
                        Some(x) => csv.write_field(ints.format(x))?,
                        None => csv.write_field("")?,
                    },
                    ColumnData::Bool(v) => {
                        csv.write_field(if v[row] { "true" } else { "false" })?
                    }
                }
            }
            csv.write_record(None::<&[u8]>)?;
        }
        Ok(())
    }
}

/// `3.0` → `3`, others in ryu's shortest round-trip form.
fn format_float(buffer: &mut ryu::Buffer, x: f64) -> &str {
    let text = buffer.format_finite(x);
    text.strip_suffix(".0").unwrap_or(text)
}

impl TableWriter for Csv {
    fn extension(&self) -> &'static str {
        "csv"
    }

    fn write(&self, table: &Table, out: &mut io::BufWriter<&mut std::fs::File>) -> io::Result<()> {
        self.write_to(table, out)
    }

    fn write_pieces(
        &self,
        pieces: &mut dyn Iterator<Item = Table>,
        out: &mut io::BufWriter<&mut std::fs::File>,
    ) -> io::Result<()> {
        self.write_pieces_to(pieces, out)
    }
}

/// Apache Parquet, Snappy-compressed, one row group per 65,536 rows.
pub struct Parquet;

const ROW_GROUP: usize = 1 << 16;

impl Parquet {
    fn schema(table: &Table) -> parquet::errors::Result<Type> {
        let mut fields = Vec::new();
        for column in &table.columns {
            let (physical, logical, repetition) = match &column.data {
                ColumnData::Dict { .. } => (
                    PhysicalType::BYTE_ARRAY,
                    Some(LogicalType::String),
                    Repetition::REQUIRED,
                ),
                ColumnData::Float(_) | ColumnData::Number(_) => {
                    (PhysicalType::DOUBLE, None, Repetition::OPTIONAL)
                }
                ColumnData::Int(_) => (PhysicalType::INT64, None, Repetition::OPTIONAL),
                ColumnData::Bool(_) => (PhysicalType::BOOLEAN, None, Repetition::REQUIRED),
            };
            let field = Type::primitive_type_builder(&column.name, physical)
                .with_logical_type(logical)
                .with_repetition(repetition)
                .build()?;
            fields.push(Arc::new(field));
        }
        Type::group_type_builder("schema")
            .with_fields(fields)
            .build()
    }

    /// `first`'s rows, then those of the `rest`, under `first`'s schema.
    fn write_parquet(
        first: &Table,
        rest: &mut dyn Iterator<Item = Table>,
        out: &mut io::BufWriter<&mut std::fs::File>,
    ) -> parquet::errors::Result<()> {
        // Statistics only per column chunk: per-page statistics of text
        // columns cost more than the rest of the write.
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_created_by(format!("expost {}", env!("CARGO_PKG_VERSION")))
            .build();
        let mut writer =
            SerializedFileWriter::new(out, Arc::new(Self::schema(first)?), Arc::new(props))?;
        let mut groups = Self::write_row_groups(&mut writer, first)?;
        for table in rest {
            groups += Self::write_row_groups(&mut writer, &table)?;
        }
        if groups == 0 {
            // No row at all: one empty row group, as readers expect.
            let mut group = writer.next_row_group()?;
            for column in &first.columns {
                let mut col = group
                    .next_column()?
                    .expect("one column writer per schema field");
                write_column(&mut col, &column.data, 0..0)?;
                col.close()?;
            }
            group.close()?;
        }
        writer.close()?;
        Ok(())
    }

    /// Writes `table`'s rows as row groups of at most [`ROW_GROUP`] rows;
    /// returns how many.
    fn write_row_groups<W: Write + Send>(
        writer: &mut SerializedFileWriter<W>,
        table: &Table,
    ) -> parquet::errors::Result<usize> {
        let rows = table.rows();
        let mut start = 0;
        let mut groups = 0;
        while start < rows {
            let end = (start + ROW_GROUP).min(rows);
            let mut group = writer.next_row_group()?;
            for column in &table.columns {
                let mut col = group
                    .next_column()?
                    .expect("one column writer per schema field");
                write_column(&mut col, &column.data, start..end)?;
                col.close()?;
            }
            group.close()?;
            groups += 1;
            start = end;
        }
        Ok(groups)
    }
}

fn write_column(
    col: &mut parquet::file::writer::SerializedColumnWriter<'_>,
    data: &ColumnData,
    rows: std::ops::Range<usize>,
) -> parquet::errors::Result<()> {
    match data {
        ColumnData::Dict { values, keys } => {
            let dict: Vec<ByteArray> = values.iter().map(|v| ByteArray::from(v.as_str())).collect();
            let batch: Vec<ByteArray> = keys[rows]
                .iter()
                .map(|&k| dict[k as usize].clone())
                .collect();
            col.typed::<ByteArrayType>()
                .write_batch(&batch, None, None)?;
        }
        ColumnData::Number(v) => {
            let as_options: Vec<Option<f64>> = v[rows].iter().map(|&x| Some(x)).collect();
            let (values, levels) = split_options(&as_options, |x| x.filter(|f| f.is_finite()));
            col.typed::<DoubleType>()
                .write_batch(&values, Some(&levels), None)?;
        }
        ColumnData::Float(v) => {
            let (values, levels) = split_options(&v[rows], |x| x.filter(|f| f.is_finite()));
            col.typed::<DoubleType>()
                .write_batch(&values, Some(&levels), None)?;
        }
        ColumnData::Int(v) => {
            let (values, levels) = split_options(&v[rows], |x| x);
            col.typed::<Int64Type>()
                .write_batch(&values, Some(&levels), None)?;
        }
        ColumnData::Bool(v) => {
            col.typed::<BoolType>().write_batch(&v[rows], None, None)?;
        }
    }
    Ok(())
}

/// Present values and Parquet definition levels (1 present, 0 null).
fn split_options<T: Copy>(
    values: &[Option<T>],
    keep: impl Fn(Option<T>) -> Option<T>,
) -> (Vec<T>, Vec<i16>) {
    let mut present = Vec::with_capacity(values.len());
    let mut levels = Vec::with_capacity(values.len());
    for &v in values {
        match keep(v) {
            Some(x) => {
                present.push(x);
                levels.push(1);
            }
            None => levels.push(0),
        }
    }
    (present, levels)
}

impl TableWriter for Parquet {
    fn extension(&self) -> &'static str {
        "parquet"
    }

    fn write(&self, table: &Table, out: &mut io::BufWriter<&mut std::fs::File>) -> io::Result<()> {
        Self::write_parquet(table, &mut std::iter::empty(), out).map_err(io::Error::other)
    }

    fn write_pieces(
        &self,
        pieces: &mut dyn Iterator<Item = Table>,
        out: &mut io::BufWriter<&mut std::fs::File>,
    ) -> io::Result<()> {
        let first = pieces.next().ok_or_else(no_piece)?;
        Self::write_parquet(&first, pieces, out).map_err(io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    fn sample() -> Table {
        let mut metric = DictBuilder::default();
        for m in ["loss", "loss", "throughput"] {
            metric.push(m);
        }
        let mut t = Table::default();
        t.push("metric", metric.finish());
        t.push(
            "time",
            ColumnData::Float(vec![Some(0.1), Some(0.2), Some(3.0)]),
        );
        t.push(
            "value",
            ColumnData::Float(vec![Some(0.5), None, Some(f64::NAN)]),
        );
        t.push("lost", ColumnData::Int(vec![Some(3), None, Some(0)]));
        t.push("ok", ColumnData::Bool(vec![true, false, true]));
        t
    }

    #[test]
    fn push_n_of_zero_adds_nothing() {
        let mut b = DictBuilder::default();
        b.push_n("a", 0);
        b.push_n("b", 2);
        assert_eq!(
            b.finish(),
            ColumnData::Dict {
                values: vec!["b".into()],
                keys: vec![0, 0]
            }
        );
    }

    #[test]
    fn csv_output() {
        let mut out = Vec::new();
        Csv.write_to(&sample(), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "metric,time,value,lost,ok\nloss,0.1,0.5,3,true\nloss,0.2,,,false\nthroughput,3,,0,true\n"
        );
    }

    #[test]
    fn parquet_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        write_table(&sample(), &path, &Parquet).unwrap();
        let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(reader.metadata().file_metadata().num_rows(), 3);
        let rows: Vec<String> = reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap().to_string())
            .collect();
        assert_eq!(
            rows[0],
            "{metric: \"loss\", time: 0.1, value: 0.5, lost: 3, ok: true}"
        );
        assert_eq!(
            rows[1],
            "{metric: \"loss\", time: 0.2, value: null, lost: null, ok: false}"
        );
    }

    #[test]
    fn empty_table_writes_valid_files() {
        let mut t = Table::default();
        t.push("x", ColumnData::Float(vec![]));
        let dir = tempfile::tempdir().unwrap();
        write_table(&t, &dir.path().join("e.parquet"), &Parquet).unwrap();
        write_table(&t, &dir.path().join("e.csv"), &Csv).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("e.csv")).unwrap(),
            "x\n"
        );
    }

    /// Rows `rows` of `table` (a piece of it).
    fn piece(table: &Table, rows: std::ops::Range<usize>) -> Table {
        let mut out = Table::default();
        for c in &table.columns {
            let data = match &c.data {
                ColumnData::Dict { values, keys } => ColumnData::Dict {
                    values: values.clone(),
                    keys: keys[rows.clone()].to_vec(),
                },
                ColumnData::Float(v) => ColumnData::Float(v[rows.clone()].to_vec()),
                ColumnData::Number(v) => ColumnData::Number(v[rows.clone()].to_vec()),
                ColumnData::Int(v) => ColumnData::Int(v[rows.clone()].to_vec()),
                ColumnData::Bool(v) => ColumnData::Bool(v[rows.clone()].to_vec()),
            };
            out.push(c.name.clone(), data);
        }
        out
    }

    #[test]
    fn a_table_written_in_pieces_is_the_same_table() {
        let dir = tempfile::tempdir().unwrap();
        let whole = sample();
        let pieces = || {
            vec![
                piece(&whole, 0..1),
                piece(&whole, 1..1),
                piece(&whole, 1..3),
            ]
        };
        for writer in [&Csv as &dyn TableWriter, &Parquet] {
            let (a, b) = (dir.path().join("a"), dir.path().join("b"));
            write_table(&whole, &a, writer).unwrap();
            write_table_pieces(&mut pieces().into_iter(), &b, writer).unwrap();
            if writer.extension() == "csv" {
                assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
                continue;
            }
            let rows = |path: &Path| -> (Vec<String>, usize) {
                let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
                let groups = reader.metadata().num_row_groups();
                let rows = reader
                    .get_row_iter(None)
                    .unwrap()
                    .map(|r| r.unwrap().to_string())
                    .collect();
                (rows, groups)
            };
            let ((whole_rows, _), (piece_rows, groups)) = (rows(&a), rows(&b));
            assert_eq!(piece_rows, whole_rows);
            assert_eq!(groups, 2, "one row group per non-empty piece");
        }
        let err =
            write_table_pieces(&mut std::iter::empty(), &dir.path().join("c"), &Csv).unwrap_err();
        assert!(err.to_string().contains("at least one piece"), "{err}");
    }
}
