//! expost's tables as Arrow record batches, handed to Python through the
//! Arrow PyCapsule interface (`__arrow_c_stream__`, `__arrow_c_schema__`):
//! pyarrow, polars and others take the buffers as they are, without a copy.
//!
//! Column types follow the Parquet files expost writes: text as a
//! dictionary of distinct values (never null), numbers as nullable
//! float64 (a non-finite value is null, as in Parquet), whole numbers as
//! nullable int64, booleans as non-null booleans. A column's unit is its
//! field's `unit` metadata.

use arrow_array::ffi::FFI_ArrowSchema;
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::types::UInt32Type;
use arrow_array::Array as _;
use arrow_array::{
    ArrayRef, BooleanArray, DictionaryArray, Float64Array, Int64Array, RecordBatch,
    RecordBatchIterator, StringArray, UInt32Array,
};
use arrow_buffer::{NullBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use expost_render::table::{Column, ColumnData, Table};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use std::collections::HashMap;
use std::sync::Arc;

/// An Arrow table: record batches of one schema.
#[pyclass(module = "expost._native", name = "ArrowTable", frozen)]
pub struct ArrowTable {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

impl ArrowTable {
    /// The table `pieces` make (each becomes one record batch); with no
    /// piece, an empty table without columns.
    pub fn from_pieces(pieces: impl IntoIterator<Item = Table>) -> Result<ArrowTable, ArrowError> {
        let batches: Vec<RecordBatch> = (pieces.into_iter())
            .map(record_batch)
            .collect::<Result<_, _>>()?;
        let schema = match batches.first() {
            Some(batch) => batch.schema(),
            None => Arc::new(Schema::empty()),
        };
        // Pieces of one table share the first one's columns; Arrow wants
        // the same schema (the dictionaries may differ).
        if let Some(other) = batches.iter().find(|b| b.schema() != schema) {
            return Err(ArrowError::SchemaError(format!(
                "a piece of the table has columns {:?}, the first {:?}",
                other.schema().fields(),
                schema.fields()
            )));
        }
        Ok(ArrowTable { schema, batches })
    }
}

#[pymethods]
impl ArrowTable {
    /// The rows of every batch.
    #[getter]
    fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// The column names, in order.
    #[getter]
    fn column_names(&self) -> Vec<String> {
        (self.schema.fields().iter())
            .map(|f| f.name().clone())
            .collect()
    }

    fn __len__(&self) -> usize {
        self.num_rows()
    }

    fn __repr__(&self) -> String {
        format!(
            "<expost ArrowTable: {} rows; {}>",
            self.num_rows(),
            self.column_names().join(", ")
        )
    }

    /// The schema, as an `arrow_schema` PyCapsule.
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let schema = FFI_ArrowSchema::try_from(self.schema.as_ref())
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        PyCapsule::new_with_value(py, SendSchema(schema), c"arrow_schema")
    }

    /// The batches, as an `arrow_array_stream` PyCapsule; the buffers are
    /// shared, not copied. A requested schema is not applied (the Arrow
    /// PyCapsule interface leaves that to the producer).
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let batches: Vec<Result<RecordBatch, ArrowError>> =
            self.batches.iter().cloned().map(Ok).collect();
        let reader = RecordBatchIterator::new(batches, self.schema.clone());
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        PyCapsule::new_with_value(py, stream, c"arrow_array_stream")
    }
}

/// An exported schema, moved into its capsule; the consumer that takes it
/// releases it, or the capsule's destructor does.
#[repr(transparent)]
struct SendSchema(FFI_ArrowSchema);

// SAFETY: an exported schema owns what its pointers point to (its release
// callback frees it), and nothing else refers to it.
unsafe impl Send for SendSchema {}

/// One expost table as a record batch.
fn record_batch(table: Table) -> Result<RecordBatch, ArrowError> {
    let rows = table.rows();
    let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) =
        table.columns.into_iter().map(column).unzip();
    let schema = Arc::new(Schema::new(fields));
    let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(rows));
    RecordBatch::try_new_with_options(schema, arrays, &options)
}

/// A column as an Arrow field and array, taking its values.
fn column(column: Column) -> (Field, ArrayRef) {
    let Column { name, data, unit } = column;
    let (data_type, nullable, array): (DataType, bool, ArrayRef) = match data {
        ColumnData::Dict { values, keys } => {
            let keys = UInt32Array::new(ScalarBuffer::from(keys), None);
            let values: ArrayRef = Arc::new(StringArray::from_iter_values(values));
            let array = DictionaryArray::<UInt32Type>::new(keys, values);
            (array.data_type().clone(), false, Arc::new(array))
        }
        ColumnData::Number(values) => {
            let nulls = NullBuffer::from_iter(values.iter().map(|v| v.is_finite()));
            let nulls = Some(nulls).filter(|n| n.null_count() > 0);
            let array = Float64Array::new(ScalarBuffer::from(values), nulls);
            (DataType::Float64, true, Arc::new(array))
        }
        ColumnData::Float(values) => {
            let finite = values.into_iter().map(|v| v.filter(|f| f.is_finite()));
            (
                DataType::Float64,
                true,
                Arc::new(Float64Array::from_iter(finite)),
            )
        }
        ColumnData::Int(values) => (DataType::Int64, true, Arc::new(Int64Array::from(values))),
        ColumnData::Bool(values) => (
            DataType::Boolean,
            false,
            Arc::new(BooleanArray::from(values)),
        ),
    };
    let mut field = Field::new(name, data_type, nullable);
    if let Some(unit) = unit {
        field = field.with_metadata(HashMap::from([("unit".to_string(), unit)]));
    }
    (field, array)
}
