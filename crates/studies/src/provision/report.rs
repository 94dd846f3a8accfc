//! The JSON contract of `expost provision --json`, which other tools read:
//!
//! ```text
//! {"partition": "...", "offer": ..., "sku": ...,
//!  "nodes": [{"node_id": ..., "start": <epoch>, "timings": {"nodeprep": x, "docker_install": x,
//!             "private_registry_setup": x, "docker_shipyard_container_pull": x,
//!             "global_resources_loaded": x},
//!             "images": {"<img>": {"pull": x, "save": x, "torrent": x, "load": x, "size_bytes": n}}}],
//!  "summary": {...}, "diagnostics": [...]}
//! ```
//!
//! Field names and shapes are fixed; fields may be added. A duration that
//! could not be computed is `null`.

use super::{ImageTiming, Provision, Summary, Timings};
use expost_model::Diagnostic;
use serde::Serialize;
use std::collections::BTreeMap;

/// The whole JSON object.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    /// `<batch account>$<pool id>`.
    pub partition: &'a str,
    /// VM offer.
    pub offer: Option<&'a str>,
    /// VM SKU.
    pub sku: Option<&'a str>,
    /// Nodes, ordered by node prep start.
    pub nodes: Vec<NodeReport<'a>>,
    /// Across nodes.
    pub summary: &'a Summary,
    /// Every problem found.
    pub diagnostics: &'a [Diagnostic],
}

/// One node.
#[derive(Debug, Serialize)]
pub struct NodeReport<'a> {
    /// `NodeId`.
    pub node_id: &'a str,
    /// Node prep start, UTC epoch seconds.
    pub start: Option<f64>,
    /// `cascade:gr-done`, UTC epoch seconds (null: never ready).
    pub ready: Option<f64>,
    /// The script's timings, seconds.
    pub timings: &'a Timings,
    /// Per image: pull, save, torrent, load (seconds) and size (bytes).
    pub images: BTreeMap<&'a str, &'a ImageTiming>,
}

impl<'a> Report<'a> {
    /// The report of `p`.
    pub fn of(p: &'a Provision) -> Report<'a> {
        Report {
            partition: &p.partition,
            offer: p.offer.as_deref(),
            sku: p.sku.as_deref(),
            nodes: p
                .nodes
                .iter()
                .map(|n| NodeReport {
                    node_id: &n.node_id,
                    start: n.start,
                    ready: n.ready,
                    timings: &n.timings,
                    images: n
                        .images
                        .iter()
                        .map(|(i, t)| (p.images[*i as usize].as_str(), t))
                        .collect(),
                })
                .collect(),
            summary: &p.summary,
            diagnostics: &p.diagnostics,
        }
    }
}
