//! The provisioning study's tables (one row per node, per node and image,
//! per span) and its Perfetto trace.

use super::charts::origin;
use super::{Phase, Provision, NO_IMAGE};
use expost_render::table::{ColumnData, DictBuilder, Table};
use expost_render::trace::{trace_json, Slice};
use std::collections::HashSet;

fn floats(values: impl Iterator<Item = Option<f64>>) -> ColumnData {
    ColumnData::Float(values.collect())
}

/// One row per phase: its count and percentiles across nodes, seconds.
pub fn phases(p: &Provision) -> Table {
    let mut names = DictBuilder::default();
    let mut count = Vec::new();
    let mut columns: [Vec<Option<f64>>; 5] = Default::default();
    for (phase, stats) in &p.summary.phases {
        names.push(phase);
        count.push(Some(stats.count as i64));
        let values = [stats.mean, stats.p50, stats.p90, stats.p99, stats.max];
        for (column, v) in columns.iter_mut().zip(values) {
            column.push(Some(v));
        }
    }
    let mut t = Table::default();
    t.push("phase", names.finish());
    t.push("count", ColumnData::Int(count));
    for (name, column) in ["mean", "p50", "p90", "p99", "max"]
        .into_iter()
        .zip(columns)
    {
        t.push_with_unit(name, ColumnData::Float(column), "s");
    }
    t
}

/// The stragglers, slowest first: time to ready and MADs above the median.
pub fn stragglers(p: &Provision) -> Table {
    let nodes = &p.summary.stragglers.nodes;
    let mut ids = DictBuilder::default();
    for n in nodes {
        ids.push(&n.node_id);
    }
    let mut t = Table::default();
    t.push("node_id", ids.finish());
    t.push_with_unit(
        "time_to_ready_s",
        floats(nodes.iter().map(|n| Some(n.time_to_ready_s))),
        "s",
    );
    t.push("mads", floats(nodes.iter().map(|n| Some(n.mads))));
    t
}

/// One row per node, in node prep start order.
pub fn nodes(p: &Provision) -> Table {
    let stragglers: HashSet<&str> = p
        .summary
        .stragglers
        .nodes
        .iter()
        .map(|s| s.node_id.as_str())
        .collect();
    let mut t = Table::default();
    let mut ids = DictBuilder::default();
    for n in &p.nodes {
        ids.push(&n.node_id);
    }
    t.push("node_id", ids.finish());
    t.push("start", floats(p.nodes.iter().map(|n| n.start)));
    t.push("ready", floats(p.nodes.iter().map(|n| n.ready)));
    t.push(
        "time_to_ready_s",
        floats(p.nodes.iter().map(|n| n.time_to_ready())),
    );
    for phase in &Phase::ALL[..5] {
        t.push(
            format!("{}_s", phase.key()),
            floats(p.nodes.iter().map(|n| n.timings.get(*phase))),
        );
    }
    for phase in &Phase::ALL[5..] {
        t.push(
            format!("{}_total_s", phase.key()),
            floats(p.nodes.iter().map(|n| Some(n.image_total(*phase)))),
        );
    }
    t.push(
        "images",
        ColumnData::Int(
            p.nodes
                .iter()
                .map(|n| Some(n.images.len() as i64))
                .collect(),
        ),
    );
    t.push(
        "events",
        ColumnData::Int(p.nodes.iter().map(|n| Some(n.events as i64)).collect()),
    );
    t.push(
        "straggler",
        ColumnData::Bool(
            p.nodes
                .iter()
                .map(|n| stragglers.contains(n.node_id.as_str()))
                .collect(),
        ),
    );
    t
}

/// One row per node and image.
pub fn images(p: &Provision) -> Table {
    let (mut node, mut image) = (DictBuilder::default(), DictBuilder::default());
    let mut cols: [Vec<Option<f64>>; 4] = Default::default();
    let mut size = Vec::new();
    for n in &p.nodes {
        for (i, timing) in &n.images {
            node.push(&n.node_id);
            image.push(&p.images[*i as usize]);
            for (c, phase) in cols.iter_mut().zip(&Phase::ALL[5..]) {
                c.push(timing.get(*phase));
            }
            size.push(timing.size_bytes.and_then(|b| i64::try_from(b).ok()));
        }
    }
    let mut t = Table::default();
    t.push("node_id", node.finish());
    t.push("image", image.finish());
    for (c, phase) in cols.into_iter().zip(&Phase::ALL[5..]) {
        t.push(format!("{}_s", phase.key()), ColumnData::Float(c));
    }
    t.push("size_bytes", ColumnData::Int(size));
    t
}

/// One row per span.
pub fn spans(p: &Provision) -> Table {
    let (mut node, mut phase, mut image) = (
        DictBuilder::default(),
        DictBuilder::default(),
        DictBuilder::default(),
    );
    for s in &p.spans {
        node.push(&p.nodes[s.node as usize].node_id);
        phase.push(s.phase.key());
        image.push(if s.image == NO_IMAGE {
            ""
        } else {
            &p.images[s.image as usize]
        });
    }
    let mut t = Table::default();
    t.push("node_id", node.finish());
    t.push("phase", phase.finish());
    t.push("image", image.finish());
    t.push("start", floats(p.spans.iter().map(|s| Some(s.start))));
    t.push("end", floats(p.spans.iter().map(|s| Some(s.end))));
    t.push(
        "duration_s",
        floats(p.spans.iter().map(|s| Some(s.duration))),
    );
    t.push(
        "from_diff",
        ColumnData::Bool(p.spans.iter().map(|s| s.from_diff).collect()),
    );
    t
}

/// The Perfetto trace: one track per node, one slice per span.
pub fn trace(p: &Provision) -> serde_json::Result<Vec<u8>> {
    let tracks: Vec<String> = p.nodes.iter().map(|n| n.node_id.clone()).collect();
    let slices: Vec<Slice> = p
        .spans
        .iter()
        .map(|s| {
            let mut args = serde_json::Map::new();
            if s.image != NO_IMAGE {
                args.insert("image".into(), p.images[s.image as usize].clone().into());
            }
            args.insert("from_diff".into(), s.from_diff.into());
            Slice {
                track: s.node as usize,
                name: if s.image == NO_IMAGE {
                    s.phase.key().to_string()
                } else {
                    format!("{} {}", s.phase.key(), p.images[s.image as usize])
                },
                category: if s.phase.per_image() { "image" } else { "node" }.to_string(),
                start: s.start,
                duration: s.duration,
                args,
            }
        })
        .collect();
    trace_json(&p.partition, &tracks, &slices, origin(p))
}
