//! Spot-instance traces: nodes joining and leaving over time, as the
//! trace readers of `expost-formats` give them, whatever the file's format.
//!
//! Times in a [`Trace`] are seconds from the trace's first record; absolute
//! traces also give that record's UTC epoch time ([`Trace::start_epoch`]).

use serde::Serialize;
use std::fmt;

/// The trace formats expost reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TraceFormat {
    /// `timestamp,count` with ISO-8601 UTC times (`2021-07-26T18:42:00Z`): live nodes.
    NodeCount,
    /// `timestamp,number`: nodes terminated at each time (removals only).
    Terminations,
    /// AWS Auto Scaling group metric, `time,count` (`2021-09-17 04:00:00,16.0`), one row a minute.
    AsgMetric,
    /// Step plot without header, `offset,count`; offsets in seconds (or hours).
    StepPlot,
    /// Per-event trace without header, `ms,add|remove,nodeN`.
    NodeEvents,
    /// Google Cloud text trace, `YYYY-MM-DD, HH:MM:SS, count`.
    GcpText,
    /// SkyPilot JSON, `{"metadata": {"gap_seconds": N}, "data": [count, ...]}`.
    SkyPilot,
}

impl TraceFormat {
    /// Every format, for messages and `--format`.
    pub const ALL: [TraceFormat; 7] = [
        TraceFormat::NodeCount,
        TraceFormat::Terminations,
        TraceFormat::AsgMetric,
        TraceFormat::StepPlot,
        TraceFormat::NodeEvents,
        TraceFormat::GcpText,
        TraceFormat::SkyPilot,
    ];

    /// The format's name, as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            TraceFormat::NodeCount => "node-count",
            TraceFormat::Terminations => "terminations",
            TraceFormat::AsgMetric => "asg-metric",
            TraceFormat::StepPlot => "step-plot",
            TraceFormat::NodeEvents => "node-events",
            TraceFormat::GcpText => "gcp-text",
            TraceFormat::SkyPilot => "skypilot",
        }
    }

    /// True when the trace gives every join and leave (not only removals).
    pub fn has_joins(self) -> bool {
        self != TraceFormat::Terminations
    }
}

impl fmt::Display for TraceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One change in the number of live nodes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NodeEvent {
    /// Seconds since the trace's first record.
    pub t: f64,
    /// Nodes that joined (positive) or left (negative) at `t`.
    pub delta: i64,
    /// The node, for traces that name nodes (one node per event); ids are
    /// given in order of first appearance, from 0.
    pub node: Option<u32>,
}

/// A trace: nodes joining and leaving over time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trace {
    /// The format it was read from.
    pub format: TraceFormat,
    /// UTC epoch seconds of `t = 0`, for traces with absolute times.
    pub start_epoch: Option<f64>,
    /// Seconds from the first to the last record: the end of observation
    /// (node lifetimes still running then are censored there).
    pub duration: f64,
    /// Nodes live at `t = 0` (0 for removal-only traces, which do not say).
    pub initial: i64,
    /// Changes, sorted by time (stable: file order within one time).
    pub events: Vec<NodeEvent>,
}

impl Trace {
    /// True when the trace names its nodes (so lifetimes are known).
    pub fn names_nodes(&self) -> bool {
        self.events.iter().any(|e| e.node.is_some())
    }

    /// The node-count curve as steps `(t, live nodes from t on)`, starting
    /// at `(0, initial)`; `None` for removal-only traces.
    pub fn count_curve(&self) -> Option<Vec<(f64, i64)>> {
        if !self.format.has_joins() {
            return None;
        }
        let mut curve = vec![(0.0, self.initial)];
        let mut live = self.initial;
        for e in &self.events {
            live += e.delta;
            match curve.last_mut() {
                Some(last) if last.0 == e.t => last.1 = live,
                _ => curve.push((e.t, live)),
            }
        }
        Some(curve)
    }
}
