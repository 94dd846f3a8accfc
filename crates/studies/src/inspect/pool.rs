//! What `expost inspect` says of a Batch Shipyard performance-event export
//! (the `perf` table's entities as JSON lines or CSV, as
//! `expost provision --export` writes them), once `expost_formats::detect`
//! has recognised and read it.

use super::Finding;
use expost_formats::shipyard::{self, ExportFormat, PerfEntity};
use expost_formats::ParseError;
use expost_model::Diagnostics;
use std::collections::BTreeSet;
use std::path::Path;

/// A Shipyard perf-event export, as read.
pub fn shipyard_export(
    path: &Path,
    format: ExportFormat,
    entities: Result<Vec<PerfEntity>, ParseError>,
    diags: Diagnostics,
) -> Finding {
    let entities = match entities {
        Ok(e) => e,
        Err(e) => return Finding::unreadable(path, "Shipyard perf events", &e, diags),
    };
    let nodes: BTreeSet<&str> = entities
        .iter()
        .filter_map(|e| e.node_id.as_deref())
        .collect();
    let pools: BTreeSet<&str> = entities.iter().map(|e| e.partition_key.as_str()).collect();
    let events: BTreeSet<&str> = entities.iter().filter_map(|e| e.event.as_deref()).collect();
    let times = || {
        entities
            .iter()
            .filter_map(|e| shipyard::row_key_time(&e.row_key))
    };
    let mut finding = Finding::new(
        path,
        "Shipyard perf events",
        format!(
            "{} events from {} nodes of {} ({}); read with `expost provision --from`",
            entities.len(),
            nodes.len(),
            pools.iter().copied().collect::<Vec<_>>().join(", "),
            match format {
                ExportFormat::JsonLines => "JSON lines",
                ExportFormat::Csv => "CSV",
            }
        ),
    )
    .with_range(times().reduce(f64::min), times().reduce(f64::max));
    finding.entities = vec![format!("{} nodes", nodes.len())];
    finding.metrics = events.into_iter().map(String::from).collect();
    finding.diagnostics = diags.into_items();
    finding
}
