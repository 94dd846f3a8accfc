//! The files of `expost provision -o DIR`: tables, figures, the Perfetto
//! trace and the JSON summary, written in parallel, each atomically.

use crate::output::OutputDir;
use anyhow::{Context, Result};
use expost_render::bars::{self, Bar, Gantt, GanttRow, StackedBars};
use expost_render::table::{ColumnData, DictBuilder, Table};
use expost_render::trace::{trace_json, Slice};
use expost_studies::provision::{Phase, Provision, Report, NO_IMAGE};
use std::collections::HashSet;

use crate::output::Job;

/// Writes every output; reports failures on stderr and returns true if any.
pub fn write_all(p: &Provision, dir: &OutputDir, quiet: bool) -> bool {
    let tables = |name: &'static str, build: fn(&Provision) -> Table, parquet: bool| -> Job<'_> {
        Box::new(move || dir.write_tables(name, &build(p), parquet))
    };
    let jobs: Vec<Job<'_>> = vec![
        tables("nodes", nodes_table, true),
        tables("images", images_table, false),
        tables("spans", spans_table, true),
        tables("diagnostics", diagnostics_table, false),
        Box::new(|| {
            let path = dir.file("provision.json");
            let json = serde_json::to_vec_pretty(&Report::of(p))?;
            expost_render::atomic::write_atomic(&path, &json)
                .with_context(|| format!("could not write '{}'", path.display()))?;
            Ok(vec![path])
        }),
        Box::new(|| {
            let path = dir.file("trace.json");
            let json = trace(p)?;
            expost_render::atomic::write_atomic(&path, &json)
                .with_context(|| format!("could not write '{}'", path.display()))?;
            Ok(vec![path])
        }),
        Box::new(|| {
            let svg =
                bars::render_bars(&timeline(p), 7.0, 3.2).context("could not draw the timeline")?;
            bars::write_svg_png_pdf(&svg, dir.path(), "timeline")
                .context("could not write the timeline")
        }),
        Box::new(|| {
            let chart = gantt(p);
            let svg = bars::render_gantt(&chart, 7.0, bars::gantt_height(chart.rows.len(), 3.2))
                .context("could not draw the Gantt chart")?;
            bars::write_svg_png_pdf(&svg, dir.path(), "gantt")
                .context("could not write the Gantt chart")
        }),
    ];
    crate::output::run_jobs(&jobs, dir, quiet)
}

fn floats(values: impl Iterator<Item = Option<f64>>) -> ColumnData {
    ColumnData::Float(values.collect())
}

/// One row per node, in node prep start order.
fn nodes_table(p: &Provision) -> Table {
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
fn images_table(p: &Provision) -> Table {
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
fn spans_table(p: &Provision) -> Table {
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

fn diagnostics_table(p: &Provision) -> Table {
    crate::output::diagnostics_table(&p.diagnostics)
}

/// The earliest node prep start (else first event), the time origin of the figures.
fn origin(p: &Provision) -> f64 {
    p.nodes
        .iter()
        .map(|n| n.order_time())
        .fold(f64::INFINITY, f64::min)
}

fn utc(epoch: f64) -> String {
    chrono::DateTime::from_timestamp(epoch.floor() as i64, 0).map_or_else(
        || format!("{epoch}"),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

/// The script's chart: per node, at its node prep start, the stacked
/// Docker install, registry setup, shipyard pull and global resources.
fn timeline(p: &Provision) -> StackedBars {
    let t0 = origin(p);
    let stack = [
        Phase::DockerInstall,
        Phase::PrivateRegistrySetup,
        Phase::ShipyardPull,
        Phase::GlobalResources,
    ];
    StackedBars {
        title: Some(format!(
            "Provisioning of {} ({} {})",
            p.partition.rsplit('$').next().unwrap_or(&p.partition),
            p.offer.as_deref().unwrap_or("?"),
            p.sku.as_deref().unwrap_or("?")
        )),
        x_label: format!("Node prep start (s after {})", utc(t0)),
        y_label: "Duration (s)".into(),
        segments: vec![
            "Node prep + Docker install".into(),
            "Private registry setup".into(),
            "Shipyard container pull".into(),
            "Global resources load".into(),
        ],
        bars: p
            .nodes
            .iter()
            .map(|n| Bar {
                x: n.order_time() - t0,
                values: stack
                    .iter()
                    .map(|ph| n.timings.get(*ph).unwrap_or(f64::NAN))
                    .collect(),
            })
            .collect(),
    }
}

/// Every span of every node, one row per node.
fn gantt(p: &Provision) -> Gantt {
    let t0 = origin(p);
    let shown = [
        Phase::DockerInstall,
        Phase::PrivateRegistrySetup,
        Phase::ShipyardPull,
        Phase::Pull,
        Phase::Save,
        Phase::Torrent,
        Phase::Load,
    ];
    let mut rows: Vec<GanttRow> = p
        .nodes
        .iter()
        .map(|n| GanttRow {
            label: n.node_id.clone(),
            extent: n.ready.map(|r| (n.order_time() - t0, r - t0)),
            slices: Vec::new(),
        })
        .collect();
    for s in &p.spans {
        if let Some(cat) = shown.iter().position(|ph| *ph == s.phase) {
            let lane = u8::from(s.phase.per_image());
            rows[s.node as usize]
                .slices
                .push((s.start - t0, s.start - t0 + s.duration, cat, lane));
        }
    }
    Gantt {
        title: Some(format!("Provisioning spans of {}", p.partition)),
        x_label: format!("Time (s after {})", utc(t0)),
        y_label: "Node (by node prep start)".into(),
        categories: shown.iter().map(|ph| ph.key().to_string()).collect(),
        rows,
    }
}

fn trace(p: &Provision) -> Result<Vec<u8>> {
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
    Ok(trace_json(&p.partition, &tracks, &slices, origin(p))?)
}
