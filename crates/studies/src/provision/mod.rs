//! The cluster provisioning study (Batch Shipyard's `cascade/graph.py`,
//! done right): the performance events a pool's nodes wrote into the Azure
//! Table `<prefix>perf`, paired into spans per node and per image, with the
//! script's timings, their spread across nodes, the critical path to "pool
//! ready" and the stragglers.
//!
//! Times are UTC epoch seconds; durations are seconds.
//!
//! As a [`Study`](crate::study::Study) ([`ProvisionStudy`]) its units are
//! the pool's nodes: discovering them reads the events (an export file, or
//! the pool's partition of an Azure Table, see [`source`]) and groups them
//! by node; each node's events are paired on their own; combining orders
//! the nodes and summarises the pool.

mod charts;
mod events;
mod node;
mod report;
pub mod source;
mod study;
mod summary;
mod tables;
mod terminal;

pub use events::{Kind, Record, Records, NO_IMAGE};
pub use report::{NodeReport, Report};
pub use source::{Account, FetchProgress, ShipyardFiles, Source, SourceError, Table, TableSource};
pub use study::{Error, ProvisionStudy};
pub use summary::{CriticalPath, PathStep, PhaseStats, Straggler, Stragglers, Summary};

use expost_formats::shipyard::Entity;
use expost_model::{Diagnostic, Diagnostics};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::sync::Arc;
use thiserror::Error;

/// A phase of provisioning: a span between two events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// `nodeprep:start` → `nodeprep:end`.
    Nodeprep,
    /// `nodeprep:start` → `privateregistry:start` (all of node prep without a registry).
    DockerInstall,
    /// `privateregistry:start` → `privateregistry:end`.
    PrivateRegistrySetup,
    /// `shipyard:pull-start` → `shipyard:pull-end`.
    #[serde(rename = "docker_shipyard_container_pull")]
    ShipyardPull,
    /// `cascade:start` → `cascade:gr-done`.
    #[serde(rename = "global_resources_loaded")]
    GlobalResources,
    /// `cascade:pull-start` → `cascade:pull-end`, per image.
    Pull,
    /// `cascade:save-start` → `cascade:save-end`, per image.
    Save,
    /// `cascade:torrent-start` → `cascade:load-start`, per image.
    Torrent,
    /// `cascade:load-start` → `cascade:load-end`, per image.
    Load,
}

impl Phase {
    /// Every phase, node-level first.
    pub const ALL: [Phase; 9] = [
        Phase::Nodeprep,
        Phase::DockerInstall,
        Phase::PrivateRegistrySetup,
        Phase::ShipyardPull,
        Phase::GlobalResources,
        Phase::Pull,
        Phase::Save,
        Phase::Torrent,
        Phase::Load,
    ];

    /// The name used in tables and JSON (the script's timing keys).
    pub fn key(self) -> &'static str {
        match self {
            Phase::Nodeprep => "nodeprep",
            Phase::DockerInstall => "docker_install",
            Phase::PrivateRegistrySetup => "private_registry_setup",
            Phase::ShipyardPull => "docker_shipyard_container_pull",
            Phase::GlobalResources => "global_resources_loaded",
            Phase::Pull => "pull",
            Phase::Save => "save",
            Phase::Torrent => "torrent",
            Phase::Load => "load",
        }
    }

    /// True for the per-image phases.
    pub fn per_image(self) -> bool {
        self >= Phase::Pull
    }
}

/// One span: a phase on a node (and image), from its start event to its end event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    /// Index into [`Provision::nodes`].
    pub node: u32,
    /// Which phase.
    pub phase: Phase,
    /// Index into [`Provision::images`], or [`NO_IMAGE`].
    pub image: u32,
    /// The start event's time, UTC epoch seconds.
    pub start: f64,
    /// The end event's time, UTC epoch seconds.
    pub end: f64,
    /// The duration, seconds: the end event's recorded `diff` if any, else `end - start`.
    pub duration: f64,
    /// True when `duration` is the node's own recorded `diff`.
    pub from_diff: bool,
}

/// The script's timings of one node, seconds; `None` when a needed event is missing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Timings {
    /// Node prep (includes Docker install, registry setup and shipyard pull).
    pub nodeprep: Option<f64>,
    /// Docker install: node prep start to private registry start.
    pub docker_install: Option<f64>,
    /// Private registry setup (0 without a private registry).
    pub private_registry_setup: Option<f64>,
    /// Pull of the shipyard container (0 when not pulled).
    pub docker_shipyard_container_pull: Option<f64>,
    /// Global resources loaded: cascade start to `gr-done`.
    pub global_resources_loaded: Option<f64>,
}

impl Timings {
    /// The timing of a node-level phase.
    pub fn get(&self, phase: Phase) -> Option<f64> {
        match phase {
            Phase::Nodeprep => self.nodeprep,
            Phase::DockerInstall => self.docker_install,
            Phase::PrivateRegistrySetup => self.private_registry_setup,
            Phase::ShipyardPull => self.docker_shipyard_container_pull,
            Phase::GlobalResources => self.global_resources_loaded,
            _ => None,
        }
    }
}

/// One image on one node, seconds and bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ImageTiming {
    /// Pull time.
    pub pull: Option<f64>,
    /// Save time (saving the image for seeding).
    pub save: Option<f64>,
    /// Torrent time (torrent start to load start).
    pub torrent: Option<f64>,
    /// Load time.
    pub load: Option<f64>,
    /// Size, bytes: from `pull-end`, else `save-end`, else `load-start`.
    pub size_bytes: Option<u64>,
}

impl ImageTiming {
    /// The duration of a per-image phase.
    pub fn get(&self, phase: Phase) -> Option<f64> {
        match phase {
            Phase::Pull => self.pull,
            Phase::Save => self.save,
            Phase::Torrent => self.torrent,
            Phase::Load => self.load,
            _ => None,
        }
    }
}

/// One node, analysed.
#[derive(Debug, Clone)]
pub struct NodeResult {
    /// The node's id (`NodeId`).
    pub node_id: String,
    /// `nodeprep:start` time, UTC epoch seconds (`None` if it is missing).
    pub start: Option<f64>,
    /// The earliest event of the node, UTC epoch seconds.
    pub first_event: f64,
    /// `cascade:gr-done` time, UTC epoch seconds; `None`: never ready.
    pub ready: Option<f64>,
    /// The script's timings.
    pub timings: Timings,
    /// Per image index (into [`Provision::images`]).
    pub images: BTreeMap<u32, ImageTiming>,
    /// Events used.
    pub events: usize,
    /// Its own diagnostics: indexes into [`Provision::diagnostics`].
    pub diagnostics: Range<usize>,
}

impl NodeResult {
    /// Where the node sits on the time axis: node prep start, else its first event.
    pub fn order_time(&self) -> f64 {
        self.start.unwrap_or(self.first_event)
    }

    /// Sum over images of `phase`, seconds (0 when no image has it).
    pub fn image_total(&self, phase: Phase) -> f64 {
        self.image_sum(&[phase]).unwrap_or(0.0)
    }

    /// Sum over images of every phase in `phases`, seconds, in one pass
    /// over the images (each phase summed on its own, then the phases in
    /// order, as [`NodeResult::image_total`] of each would add up); `None`
    /// when no image has any of them.
    pub fn image_sum<const N: usize>(&self, phases: &[Phase; N]) -> Option<f64> {
        let mut sums = [0.0; N];
        let mut any = false;
        for image in self.images.values() {
            for (sum, &phase) in sums.iter_mut().zip(phases) {
                if let Some(x) = image.get(phase) {
                    *sum += x;
                    any = true;
                }
            }
        }
        any.then(|| sums.iter().sum())
    }

    /// Ready time minus node prep start, seconds.
    pub fn time_to_ready(&self) -> Option<f64> {
        Some(self.ready? - self.start?)
    }
}

/// Options of the analysis.
#[derive(Debug, Clone)]
pub struct Options {
    /// The partition (`<batch account>$<pool id>`) to analyse; `None`: the
    /// only one present.
    pub partition: Option<String>,
    /// A straggler's time to ready exceeds the median by more than this many MADs.
    pub straggler_mads: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            partition: None,
            straggler_mads: 3.0,
        }
    }
}

/// A whole pool, analysed.
#[derive(Debug, Clone)]
pub struct Provision {
    /// `<batch account>$<pool id>`.
    pub partition: String,
    /// VM offer (from the earliest `nodeprep:start` that names one).
    pub offer: Option<String>,
    /// VM SKU (same).
    pub sku: Option<String>,
    /// Nodes ordered by node prep start (then id).
    pub nodes: Vec<NodeResult>,
    /// Image names, by index.
    pub images: Vec<String>,
    /// Every span, by node (in `nodes` order), then start time.
    pub spans: Vec<Span>,
    /// Spread, percentiles, critical path, stragglers.
    pub summary: Summary,
    /// Every entity or event skipped, repaired or questionable.
    pub diagnostics: Vec<Diagnostic>,
}

/// Why the analysis could not run at all.
#[derive(Debug, Error, PartialEq)]
pub enum ProvisionError {
    /// No entity at all.
    #[error("no perf entity to analyse")]
    Empty,
    /// Several partitions and none chosen.
    #[error("the input holds {} partitions ({}); choose one", .0.len(), .0.join(", "))]
    SeveralPartitions(Vec<String>),
    /// The chosen partition is not in the input.
    #[error("partition '{wanted}' not found; the input holds: {}", .found.join(", "))]
    PartitionNotFound {
        /// The partition asked for.
        wanted: String,
        /// The partitions present.
        found: Vec<String>,
    },
    /// No entity of the partition could be used.
    #[error("no usable event in partition '{0}' (see the diagnostics)")]
    NoEvents(String),
}

/// Chooses the partition and returns its entities (`None`: all of them).
fn select_partition<'a, E: Entity + Sync>(
    entities: &'a [E],
    wanted: Option<&str>,
) -> Result<(String, Option<Vec<&'a E>>), ProvisionError> {
    if entities.is_empty() {
        return Err(ProvisionError::Empty);
    }
    let first = entities[0].partition_key();
    let single = entities
        .par_iter()
        .with_min_len(1 << 12)
        .all(|e| e.partition_key() == first);
    let found = || -> Vec<String> {
        let set: BTreeSet<&str> = entities.iter().map(|e| e.partition_key()).collect();
        set.into_iter().map(str::to_owned).collect()
    };
    let partition = match wanted {
        Some(w) if single && w == first => w.to_string(),
        Some(w) => {
            if !entities.iter().any(|e| e.partition_key() == w) {
                return Err(ProvisionError::PartitionNotFound {
                    wanted: w.to_string(),
                    found: found(),
                });
            }
            w.to_string()
        }
        None if single => first.to_string(),
        None => return Err(ProvisionError::SeveralPartitions(found())),
    };
    if single {
        return Ok((partition, None));
    }
    let chosen = entities
        .iter()
        .filter(|e| e.partition_key() == partition)
        .collect();
    Ok((partition, Some(chosen)))
}

/// What a pool's events say beyond each node's own, shared by its nodes.
#[derive(Debug)]
struct Pool {
    /// `<batch account>$<pool id>`.
    partition: String,
    /// Where the events came from (a file, or `table <name>`), for diagnostics.
    source: String,
    /// Node names, by index.
    nodes: Vec<String>,
    /// Image names, by index.
    images: Vec<String>,
    /// `offer` and `sku` of each node's first `nodeprep:start` that has them.
    offer_sku: HashMap<u32, (String, String)>,
}

/// One node's events: a unit of the study, analysed on its own.
#[derive(Debug)]
pub struct NodeEvents {
    pool: Arc<Pool>,
    node: u32,
    records: Vec<Record>,
}

impl NodeEvents {
    /// The node's id (`NodeId`).
    pub fn node_id(&self) -> &str {
        &self.pool.nodes[self.node as usize]
    }
}

/// One node's events paired into spans, before the nodes are ordered.
#[derive(Debug)]
pub struct AnalysedNode {
    pool: Arc<Pool>,
    node: u32,
    outcome: node::NodeOutcome,
}

/// A pool's events grouped by node, with what was found reading them.
#[derive(Debug)]
pub struct Grouped {
    /// One item per node, in order of first appearance.
    pub nodes: Vec<NodeEvents>,
    /// Entities left out (other partitions, unusable, unknown events).
    pub diagnostics: Vec<Diagnostic>,
}

/// Chooses the pool (`partition`; `None`: the only one present), reads
/// its perf entities (owned, as [`PerfEntity`], or borrowed from an
/// export's text) into events and groups them by node. `source` names
/// where they came from (a file, or `table <name>`), for diagnostics.
///
/// # Errors
/// When there is no pool to analyse: no entity, no partition chosen among
/// several, the partition absent, or no usable event in it.
///
/// [`PerfEntity`]: expost_formats::shipyard::PerfEntity
pub fn group<E: Entity + Sync>(
    entities: &[E],
    source: &str,
    partition: Option<&str>,
) -> Result<Grouped, ProvisionError> {
    let (partition, chosen) = select_partition(entities, partition)?;
    let mut diags = Diagnostics::for_file(source);
    let skipped = chosen.as_ref().map_or(0, |c| entities.len() - c.len());
    if skipped > 0 {
        diags.note(
            None,
            format!("{skipped} entities of other partitions left out"),
        );
    }
    let records = match &chosen {
        None => events::read(entities, &mut diags),
        Some(chosen) => events::read(chosen, &mut diags),
    };
    let mut unknown: Vec<_> = records.unknown.iter().collect();
    unknown.sort();
    for (name, (count, line)) in unknown {
        diags.note(
            Some(*line),
            format!("{count} events '{name}' are not part of the timeline; left out"),
        );
    }
    if records.records.is_empty() {
        return Err(ProvisionError::NoEvents(partition));
    }
    // Grouped by node with one counting pass, then one placement pass.
    let mut by_node: Vec<Vec<Record>> = vec![Vec::new(); records.nodes.len()];
    let mut counts = vec![0usize; records.nodes.len()];
    for r in &records.records {
        counts[r.node as usize] += 1;
    }
    for (list, count) in by_node.iter_mut().zip(counts) {
        list.reserve_exact(count);
    }
    for r in &records.records {
        by_node[r.node as usize].push(*r);
    }
    let pool = Arc::new(Pool {
        partition,
        source: source.to_string(),
        nodes: records.nodes,
        images: records.images,
        offer_sku: records.offer_sku,
    });
    Ok(Grouped {
        nodes: by_node
            .into_iter()
            .enumerate()
            .map(|(i, records)| NodeEvents {
                pool: pool.clone(),
                node: i as u32,
                records,
            })
            .collect(),
        diagnostics: diags.into_items(),
    })
}

/// Pairs one node's events into spans, with the script's timings.
pub fn analyse_node(events: &NodeEvents) -> AnalysedNode {
    let mut outcome = node::analyse(
        events.node_id(),
        &events.pool.images,
        events.records.clone(),
    );
    outcome
        .spans
        .sort_by(|a, b| a.start.total_cmp(&b.start).then(a.phase.cmp(&b.phase)));
    AnalysedNode {
        pool: events.pool.clone(),
        node: events.node,
        outcome,
    }
}

/// Orders the nodes of one pool by node prep start (then id) and
/// summarises the pool. `diagnostics` are the pool's own (reading,
/// grouping), which come first; each node's follow, in node order.
/// `None` without any node.
pub fn combine(
    nodes: Vec<AnalysedNode>,
    diagnostics: Vec<Diagnostic>,
    straggler_mads: f64,
) -> Option<Provision> {
    let pool = nodes.first()?.pool.clone();
    let mut nodes = nodes;
    let key = |n: &AnalysedNode| n.outcome.start.unwrap_or(n.outcome.first_event);
    nodes.sort_by(|a, b| {
        key(a)
            .total_cmp(&key(b))
            .then_with(|| pool.nodes[a.node as usize].cmp(&pool.nodes[b.node as usize]))
    });
    let (offer, sku) = nodes
        .iter()
        .find_map(|n| pool.offer_sku.get(&n.node))
        .map_or((None, None), |(o, s)| (Some(o.clone()), Some(s.clone())));
    let mut provision = Provision {
        partition: pool.partition.clone(),
        offer,
        sku,
        nodes: Vec::with_capacity(nodes.len()),
        images: pool.images.clone(),
        spans: Vec::with_capacity(nodes.iter().map(|n| n.outcome.spans.len()).sum()),
        summary: Summary::default(),
        diagnostics,
    };
    for (rank, n) in nodes.into_iter().enumerate() {
        let o = n.outcome;
        provision.spans.extend(o.spans.into_iter().map(|mut s| {
            s.node = rank as u32;
            s
        }));
        let first = provision.diagnostics.len();
        provision
            .diagnostics
            .extend(o.diagnostics.into_iter().map(|mut d| {
                d.file.clone_from(&pool.source);
                d
            }));
        provision.nodes.push(NodeResult {
            node_id: pool.nodes[n.node as usize].clone(),
            start: o.start,
            first_event: o.first_event,
            ready: o.ready,
            timings: o.timings,
            images: o.images,
            events: o.events,
            diagnostics: first..provision.diagnostics.len(),
        });
    }
    provision.summary = summary::summarise(&provision, straggler_mads);
    Some(provision)
}

/// Analyses the perf entities of one pool: [`group`], [`analyse_node`]
/// on every node (in parallel), [`combine`].
///
/// # Errors
/// As [`group`].
pub fn analyse<E: Entity + Sync>(
    entities: &[E],
    source: &str,
    options: &Options,
) -> Result<Provision, ProvisionError> {
    let grouped = group(entities, source, options.partition.as_deref())?;
    let nodes: Vec<AnalysedNode> = grouped.nodes.par_iter().map(analyse_node).collect();
    let partition = nodes.first().map(|n| n.pool.partition.clone());
    combine(nodes, grouped.diagnostics, options.straggler_mads)
        .ok_or_else(|| ProvisionError::NoEvents(partition.unwrap_or_default()))
}

#[cfg(test)]
mod tests;
