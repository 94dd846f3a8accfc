//! Events: something that happened at one moment, with its attributes.

use serde::Serialize;
use std::collections::BTreeMap;

/// A named moment, at an absolute time (UTC epoch seconds).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// The event's name (e.g. the Shremote command name `iperf_client`).
    pub name: String,
    /// When it happened, UTC epoch seconds.
    pub time: f64,
    /// When it stopped, UTC epoch seconds, for events that have a duration.
    pub stop_time: Option<f64>,
    /// Every other field the source recorded, as JSON values.
    pub attributes: BTreeMap<String, serde_json::Value>,
}
