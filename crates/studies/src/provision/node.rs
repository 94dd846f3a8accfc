//! One node's events paired into spans, with the script's timing rules:
//! a duration is the `diff` the end event recorded when it has one, else the
//! difference of the two timestamps; Docker install ends at the private
//! registry's start (or is the whole node prep when there is none); a
//! private registry or shipyard pull that never started takes 0 s; the
//! torrent of an image ends when its load starts. Unlike the script, a
//! missing end event is a diagnostic (node, event, image) and the other
//! spans are still computed, duplicates are reported, and a load's size is
//! read from the load's own start event.

use super::events::{Kind, Record, NO_IMAGE};
use super::{ImageTiming, Phase, Span, Timings};
use expost_model::{Diagnostic, Severity};
use std::collections::BTreeMap;

/// What one node's events give.
#[derive(Debug, Clone, Default)]
pub struct NodeOutcome {
    /// `nodeprep:start` time, UTC epoch seconds.
    pub start: Option<f64>,
    /// The node's earliest event, UTC epoch seconds.
    pub first_event: f64,
    /// `cascade:gr-done` time (the node is ready), UTC epoch seconds.
    pub ready: Option<f64>,
    /// The script's per-node timings.
    pub timings: Timings,
    /// Per image index: durations and size.
    pub images: BTreeMap<u32, ImageTiming>,
    /// Spans (node index left at 0; the caller sets it).
    pub spans: Vec<Span>,
    /// Problems found (file left empty; the caller sets it).
    pub diagnostics: Vec<Diagnostic>,
    /// Events used.
    pub events: usize,
}

/// Two events of one node at most this far apart in time, with the same
/// event and image, are one event written twice (perf.py adds 1 µs per
/// conflict when it retries an insert), seconds.
const RETRY_WINDOW_S: f64 = 1e-3;

struct Ctx<'a> {
    node_name: &'a str,
    images: &'a [String],
    out: NodeOutcome,
}

impl Ctx<'_> {
    fn report(&mut self, severity: Severity, line: u64, message: String) {
        self.out.diagnostics.push(Diagnostic {
            file: String::new(),
            line: Some(line),
            message,
            severity,
        });
    }

    fn image_name(&self, image: u32) -> &str {
        if image == NO_IMAGE {
            ""
        } else {
            &self.images[image as usize]
        }
    }

    fn what(&self, kind: Kind, image: u32) -> String {
        if image == NO_IMAGE {
            format!("{} on node {}", kind.name(), self.node_name)
        } else {
            format!(
                "{} of image {} on node {}",
                kind.name(),
                self.image_name(image),
                self.node_name
            )
        }
    }
}

/// Analyses one node's records (any order).
pub fn analyse(node_name: &str, images: &[String], mut records: Vec<Record>) -> NodeOutcome {
    // (time, line) and (kind, image, time, line) tell records apart: an
    // unstable sort gives the same order.
    records.sort_unstable_by(|a, b| a.time.total_cmp(&b.time).then(a.line.cmp(&b.line)));
    let mut ctx = Ctx {
        node_name,
        images,
        out: NodeOutcome {
            first_event: records.first().map_or(f64::NAN, |r| r.time),
            events: records.len(),
            ..NodeOutcome::default()
        },
    };
    // First occurrence of each (kind, image); later copies are duplicates.
    let mut keyed = records.clone();
    keyed.sort_unstable_by(|a, b| {
        (a.kind, a.image)
            .cmp(&(b.kind, b.image))
            .then(a.time.total_cmp(&b.time))
            .then(a.line.cmp(&b.line))
    });
    let mut first = First(Vec::with_capacity(keyed.len()));
    let mut copies: Vec<(Record, Record)> = Vec::new();
    for r in keyed {
        match first.0.last() {
            Some(f) if (f.kind, f.image) == (r.kind, r.image) => copies.push((*f, r)),
            _ => first.0.push(r),
        }
    }
    report_duplicates(&mut ctx, &copies);
    node_phases(&mut ctx, &first);
    image_phases(&mut ctx, &first);
    ctx.out
}

/// The first record of each (kind, image), sorted by that key.
struct First(Vec<Record>);

impl First {
    fn get(&self, key: &(Kind, u32)) -> Option<&Record> {
        self.0
            .binary_search_by(|r| (r.kind, r.image).cmp(key))
            .ok()
            .map(|i| &self.0[i])
    }

    fn contains_key(&self, key: &(Kind, u32)) -> bool {
        self.get(key).is_some()
    }
}

fn report_duplicates(ctx: &mut Ctx<'_>, copies: &[(Record, Record)]) {
    for (kept, copy) in copies {
        let key = (copy.kind, copy.image);
        {
            let gap = copy.time - kept.time;
            let why = if gap <= RETRY_WINDOW_S {
                format!("{:.0} µs after the first: a retried write", gap * 1e6)
            } else {
                format!("{gap:.6} s after the first")
            };
            let message = format!(
                "duplicate {} ({why}); the first (line {}) is used",
                ctx.what(key.0, key.1),
                kept.line
            );
            ctx.report(Severity::Warning, copy.line, message);
        }
    }
}

/// The duration from `start` to `end`: `end`'s recorded diff, or the
/// difference of their times.
fn duration(start: &Record, end: &Record) -> f64 {
    end.diff.unwrap_or(end.time - start.time)
}

/// Pairs `start` with `end`; reports a missing end (or start) and a
/// negative duration. Pushes the span and returns its duration.
fn pair(
    ctx: &mut Ctx<'_>,
    first: &First,
    (start_kind, end_kind): (Kind, Kind),
    image: u32,
    phase: Phase,
) -> Option<f64> {
    let start = first.get(&(start_kind, image));
    let end = first.get(&(end_kind, image));
    match (start, end) {
        (Some(s), Some(e)) => {
            let d = duration(s, e);
            if d < 0.0 {
                let message = format!(
                    "{} ends {:.6} s before it starts ({}); kept as is",
                    ctx.what(start_kind, image),
                    -d,
                    end_kind.name()
                );
                ctx.report(Severity::Warning, e.line, message);
            }
            ctx.out.spans.push(Span {
                node: 0,
                phase,
                image,
                start: s.time,
                end: e.time,
                duration: d,
                from_diff: e.diff.is_some(),
            });
            Some(d)
        }
        (Some(s), None) => {
            let message = format!(
                "missing end event {} for {}; {} left out",
                end_kind.name(),
                ctx.what(start_kind, image),
                phase.key()
            );
            ctx.report(Severity::Warning, s.line, message);
            None
        }
        (None, Some(e)) => {
            let message = format!(
                "{} without its start event {}; {} left out",
                ctx.what(end_kind, image),
                start_kind.name(),
                phase.key()
            );
            ctx.report(Severity::Warning, e.line, message);
            None
        }
        (None, None) => None,
    }
}

fn node_phases(ctx: &mut Ctx<'_>, first: &First) {
    let get = |k: Kind| first.get(&(k, NO_IMAGE)).copied();
    let prep_start = get(Kind::NodeprepStart);
    ctx.out.start = prep_start.map(|r| r.time);
    if prep_start.is_none() {
        let line = first.0.iter().map(|r| r.line).min().unwrap_or(0);
        let message = format!(
            "node {} has no nodeprep:start; ordered by its first event instead",
            ctx.node_name
        );
        ctx.report(Severity::Warning, line, message);
    }
    let t = &mut Timings::default();
    t.nodeprep = pair(
        ctx,
        first,
        (Kind::NodeprepStart, Kind::NodeprepEnd),
        NO_IMAGE,
        Phase::Nodeprep,
    );
    let registry = get(Kind::RegistryStart);
    t.docker_install = match (prep_start, registry) {
        (Some(s), Some(r)) => {
            let d = duration(&s, &r);
            ctx.out.spans.push(Span {
                node: 0,
                phase: Phase::DockerInstall,
                image: NO_IMAGE,
                start: s.time,
                end: r.time,
                duration: d,
                from_diff: r.diff.is_some(),
            });
            Some(d)
        }
        // Without a private registry, Docker's install is the whole node prep.
        (_, None) => t.nodeprep,
        (None, Some(_)) => None,
    };
    t.private_registry_setup = optional_pair(
        ctx,
        first,
        (Kind::RegistryStart, Kind::RegistryEnd),
        Phase::PrivateRegistrySetup,
    );
    t.docker_shipyard_container_pull = optional_pair(
        ctx,
        first,
        (Kind::ShipyardPullStart, Kind::ShipyardPullEnd),
        Phase::ShipyardPull,
    );
    t.global_resources_loaded = pair(
        ctx,
        first,
        (Kind::CascadeStart, Kind::GrDone),
        NO_IMAGE,
        Phase::GlobalResources,
    );
    ctx.out.ready = get(Kind::GrDone).map(|r| r.time);
    if ctx.out.ready.is_none() {
        let line = first
            .0
            .iter()
            .max_by(|a, b| a.time.total_cmp(&b.time))
            .map_or(0, |r| r.line);
        let message = format!(
            "node {} never finished: no cascade:gr-done (its last event is line {line})",
            ctx.node_name
        );
        ctx.report(Severity::Warning, line, message);
    }
    ctx.out.timings = *t;
}

/// A phase that may not exist on a pool: 0 s when it never started.
fn optional_pair(
    ctx: &mut Ctx<'_>,
    first: &First,
    kinds: (Kind, Kind),
    phase: Phase,
) -> Option<f64> {
    let started = first.contains_key(&(kinds.0, NO_IMAGE));
    let ended = first.contains_key(&(kinds.1, NO_IMAGE));
    let d = pair(ctx, first, kinds, NO_IMAGE, phase);
    if !started && !ended {
        Some(0.0)
    } else {
        d
    }
}

fn image_phases(ctx: &mut Ctx<'_>, first: &First) {
    let mut images: Vec<u32> = first
        .0
        .iter()
        .filter(|r| r.image != NO_IMAGE)
        .map(|r| r.image)
        .collect();
    images.sort_unstable();
    images.dedup();
    for image in images {
        let mut timing = ImageTiming {
            pull: pair(
                ctx,
                first,
                (Kind::PullStart, Kind::PullEnd),
                image,
                Phase::Pull,
            ),
            save: pair(
                ctx,
                first,
                (Kind::SaveStart, Kind::SaveEnd),
                image,
                Phase::Save,
            ),
            torrent: None,
            load: pair(
                ctx,
                first,
                (Kind::LoadStart, Kind::LoadEnd),
                image,
                Phase::Load,
            ),
            size_bytes: None,
        };
        let torrent_start = first.get(&(Kind::TorrentStart, image));
        let load_start = first.get(&(Kind::LoadStart, image));
        if let (Some(ts), None) = (torrent_start, load_start) {
            // The script allows this: the image may have been pulled instead.
            let message = format!(
                "{} has no cascade:load-start (pulled instead, or not finished); no torrent time",
                ctx.what(Kind::TorrentStart, image)
            );
            ctx.report(Severity::Note, ts.line, message);
        } else if torrent_start.is_some() {
            timing.torrent = pair(
                ctx,
                first,
                (Kind::TorrentStart, Kind::LoadStart),
                image,
                Phase::Torrent,
            );
        }
        timing.size_bytes = [Kind::PullEnd, Kind::SaveEnd, Kind::LoadStart]
            .iter()
            .find_map(|k| first.get(&(*k, image)).and_then(|r| r.size));
        ctx.out.images.insert(image, timing);
    }
}
