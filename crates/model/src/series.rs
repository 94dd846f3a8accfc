//! Long ("tidy") samples, spans and run parameters: the shapes every study
//! shares.

use crate::Unit;
use std::collections::BTreeMap;

/// A run's parameters, by name, in a stable order.
pub type Params = BTreeMap<String, String>;

/// Tags of a sample or span beyond its entity (e.g. telegraf's `cpu=cpu0`),
/// by name, in a stable order.
pub type Tags = BTreeMap<String, String>;

/// One observation in tidy form: which entity, which metric, when, the
/// value and its unit. Times are seconds: UTC epoch seconds when absolute,
/// seconds after the run's anchor once aligned.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The entity observed (a flow number, `all`, a host, a node).
    pub entity: String,
    /// The metric's name (`throughput`, `loss`, `usage_user`, …).
    pub metric: String,
    /// Other tags that tell samples of one entity and metric apart.
    pub tags: Tags,
    /// When, seconds.
    pub t: f64,
    /// The value, in `unit`.
    pub value: f64,
    /// The value's unit.
    pub unit: Unit,
}

/// Something that lasted: made by pairing a start and an end event.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// Start, seconds.
    pub start: f64,
    /// End, seconds (not before `start`).
    pub end: f64,
    /// What it was (`node prep`, `image pull`, …).
    pub name: String,
    /// Who did it (a node, a run).
    pub entity: String,
    /// Anything else known about it (`image=…`).
    pub attributes: Tags,
}

impl Span {
    /// How long it lasted, seconds.
    pub fn duration(&self) -> f64 {
        self.end - self.start
    }
}
