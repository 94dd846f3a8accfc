//! Long ("tidy") series rows and run parameters.

use crate::Unit;
use std::collections::BTreeMap;

/// A run's parameters, by name, in a stable order.
pub type Params = BTreeMap<String, String>;

/// One observation in tidy form: which run and entity, which metric, when
/// (seconds relative to the run's anchor), the value and its unit.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesRow {
    /// Index of the run in the campaign.
    pub run: usize,
    /// The entity observed (a flow number, or `all` for the combination).
    pub entity: String,
    /// The metric's name (`throughput`, `loss`, `rtt`, …).
    pub metric: &'static str,
    /// Seconds relative to the run's anchor.
    pub time: f64,
    /// The value, in `unit`.
    pub value: f64,
    /// The value's unit.
    pub unit: Unit,
}
