//! The provisioning study's charts: the script's stacked bars per node
//! (`timeline`) and every span of every node (`gantt`).

use super::{Phase, Provision};
use crate::choice::FigureChoice;
use expost_render::bars::{self, Bar, Gantt, GanttRow, StackedBars};
use expost_render::figure::{FigureError, PaperSize};

/// The phases the timeline stacks, bottom up, with their legend texts.
const TIMELINE: [(Phase, &str); 4] = [
    (Phase::DockerInstall, "Node prep + Docker install"),
    (Phase::PrivateRegistrySetup, "Private registry setup"),
    (Phase::ShipyardPull, "Shipyard container pull"),
    (Phase::GlobalResources, "Global resources load"),
];

/// The phases the Gantt chart draws: steps first, so they keep the
/// palette's first colours; the two envelopes last.
const GANTT: [Phase; 9] = [
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

/// Checks that every phase `choice` names is one (by its key).
///
/// # Errors
/// The first value that names no phase, with the phases' keys.
pub fn check_choice(choice: &FigureChoice) -> Result<(), String> {
    let has = |_: &str, value: &str| Phase::ALL.iter().any(|ph| ph.key() == value);
    match choice.unmatched(has, "phase").into_iter().next() {
        None => Ok(()),
        Some(said) => {
            let keys: Vec<&str> = Phase::ALL.iter().map(|ph| ph.key()).collect();
            Err(format!("{said} (the phases: {})", keys.join(", ")))
        }
    }
}

/// Whether `choice` draws `phase`.
fn drawn(choice: &FigureChoice, phase: Phase) -> bool {
    choice.keeps(|_, v| v == phase.key())
}

/// `phase`'s legend text: its `--label`, else `default`.
fn legend(choice: &FigureChoice, phase: Phase, default: &str) -> String {
    (choice.label("phase", |v| v == phase.key()))
        .unwrap_or(default)
        .to_string()
}

/// The charts `--only` leaves with no phase to draw, one message each
/// (the Gantt chart draws every phase, so only the timeline can be).
pub fn undrawn(choice: &FigureChoice) -> Vec<String> {
    if draws_timeline(choice) {
        return Vec::new();
    }
    let keys: Vec<&str> = TIMELINE.iter().map(|(ph, _)| ph.key()).collect();
    vec![format!(
        "--only: the timeline stacks none of the phases chosen (only {}), so it is not drawn",
        keys.join(", ")
    )]
}

/// Whether the timeline has a phase to draw.
pub fn draws_timeline(choice: &FigureChoice) -> bool {
    TIMELINE.iter().any(|(ph, _)| drawn(choice, *ph))
}

/// The timeline as SVG at `size`, of the phases `choice` draws.
pub fn timeline_svg(
    p: &Provision,
    size: PaperSize,
    choice: &FigureChoice,
) -> Result<String, FigureError> {
    bars::render_bars_at(&timeline(p, choice), size)
}

/// The Gantt chart as SVG, as wide as `size`, as tall as its rows need,
/// of the phases `choice` draws.
pub fn gantt_svg(
    p: &Provision,
    size: PaperSize,
    choice: &FigureChoice,
) -> Result<String, FigureError> {
    bars::render_gantt_at(&gantt(p, choice), size)
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
fn timeline(p: &Provision, choice: &FigureChoice) -> StackedBars {
    let t0 = origin(p);
    let stack: Vec<(Phase, &str)> = (TIMELINE.into_iter())
        .filter(|(ph, _)| drawn(choice, *ph))
        .collect();
    StackedBars {
        title: Some(format!(
            "Provisioning of {} ({} {})",
            p.partition.rsplit('$').next().unwrap_or(&p.partition),
            p.offer.as_deref().unwrap_or("?"),
            p.sku.as_deref().unwrap_or("?")
        )),
        x_label: format!("Node prep start (s after {})", utc(t0)),
        y_label: "Duration (s)".into(),
        segments: (stack.iter())
            .map(|(ph, text)| legend(choice, *ph, text))
            .collect(),
        bars: p
            .nodes
            .iter()
            .map(|n| Bar {
                x: n.order_time() - t0,
                values: stack
                    .iter()
                    .map(|(ph, _)| n.timings.get(*ph).unwrap_or(f64::NAN))
                    .collect(),
            })
            .collect(),
    }
}

/// Every span of every node, one row per node: node prep (faded, behind
/// its steps: Docker install, registry setup, shipyard pull) above, global
/// resources (faded, behind the per-image pull, save, torrent, load) below.
fn gantt(p: &Provision, choice: &FigureChoice) -> Gantt {
    let t0 = origin(p);
    let shown: Vec<Phase> = GANTT.into_iter().filter(|ph| drawn(choice, *ph)).collect();
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
        categories: (shown.iter())
            .map(|ph| legend(choice, *ph, ph.key()))
            .collect(),
        envelopes: [Phase::Nodeprep, Phase::GlobalResources]
            .into_iter()
            .filter_map(envelope)
            .collect(),
        rows,
    }
}
