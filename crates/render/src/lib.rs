//! Outputs of expost: figures (SVG, PNG, PDF), tidy tables (CSV, Parquet),
//! and the atomic file writing they share. Renderers never compute
//! statistics: they draw and write what the operations produced.

pub mod atomic;
pub mod bars;
pub mod figure;
pub mod output;
pub mod printable;
pub mod report;
pub mod table;
pub mod text_table;
pub mod trace;
