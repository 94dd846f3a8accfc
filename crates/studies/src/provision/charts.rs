//! The provisioning study's charts: the script's stacked bars per node
//! (`timeline`) and every span of every node (`gantt`).

use super::{Phase, Provision};
use expost_render::bars::{self, Bar, Gantt, GanttRow, StackedBars};
use expost_render::figure::{FigureError, PaperSize};

/// The timeline as SVG at `size`.
pub fn timeline_svg(p: &Provision, size: PaperSize) -> Result<String, FigureError> {
    bars::render_bars_at(&timeline(p), size)
}

/// The Gantt chart as SVG, as wide as `size`, as tall as its rows need.
pub fn gantt_svg(p: &Provision, size: PaperSize) -> Result<String, FigureError> {
    bars::render_gantt_at(&gantt(p), size)
}

/// The earliest node prep start (else first event), the time origin of the figures.
pub fn origin(p: &Provision) -> f64 {
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

/// Every span of every node, one row per node: node prep (faded, behind
/// its steps: Docker install, registry setup, shipyard pull) above, global
/// resources (faded, behind the per-image pull, save, torrent, load) below.
fn gantt(p: &Provision) -> Gantt {
    let t0 = origin(p);
    // Steps first, so they keep the palette's first colours; the two
    // envelopes last.
    let shown = [
        Phase::DockerInstall,
        Phase::PrivateRegistrySetup,
        Phase::ShipyardPull,
        Phase::Pull,
        Phase::Save,
        Phase::Torrent,
        Phase::Load,
        Phase::Nodeprep,
        Phase::GlobalResources,
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
            let lane = u8::from(s.phase.per_image() || s.phase == Phase::GlobalResources);
            rows[s.node as usize]
                .slices
                .push((s.start - t0, s.start - t0 + s.duration, cat, lane));
        }
    }
    let envelope = |phase: Phase| shown.iter().position(|ph| *ph == phase);
    Gantt {
        title: Some(format!("Provisioning spans of {}", p.partition)),
        x_label: format!("Time (s after {})", utc(t0)),
        y_label: "Node (by node prep start)".into(),
        categories: shown.iter().map(|ph| ph.key().to_string()).collect(),
        envelopes: [Phase::Nodeprep, Phase::GlobalResources]
            .into_iter()
            .filter_map(envelope)
            .collect(),
        rows,
    }
}
