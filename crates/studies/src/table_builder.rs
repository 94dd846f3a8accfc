//! Builds a [`Table`] column by column from rows already in memory.

use expost_render::table::{ColumnData, DictBuilder, Table};

/// Builds a table column by column.
#[derive(Default)]
pub(crate) struct TableBuilder {
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
