//! What `expost inspect` says of a Batch Shipyard performance-event export
//! (the `perf` table's entities as JSON lines or CSV, as
//! `expost provision --export` writes them).

use super::Finding;
use expost_formats::shipyard::{self, ExportFormat};
use expost_model::Diagnostics;
use std::collections::BTreeSet;
use std::path::Path;

/// The export's format, told from its first line: a JSON object or a CSV
/// header naming `PartitionKey` and `RowKey`; `None` when it is neither.
fn export_format(bytes: &[u8]) -> Option<ExportFormat> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let first = head.lines().map(str::trim).find(|l| !l.is_empty())?;
    if !(first.contains("PartitionKey") && first.contains("RowKey")) {
        return None;
    }
    Some(if first.starts_with('{') {
        ExportFormat::JsonLines
    } else {
        ExportFormat::Csv
    })
}

/// A Shipyard perf-event export, or `None` when `bytes` are not one.
pub fn shipyard_export(path: &Path, bytes: &[u8]) -> Option<Finding> {
    let format = export_format(bytes)?;
    let mut diags = Diagnostics::for_file(path.to_string_lossy());
    let entities = match shipyard::parse(bytes, format, &mut diags) {
        Ok(e) => e,
        Err(e) => return Some(Finding::unreadable(path, "Shipyard perf events", &e, diags)),
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
    Some(finding)
}
