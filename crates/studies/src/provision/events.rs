//! From raw entities to compact, typed event records: the event's kind, its
//! node and image as indexes into interned name lists, its time and the
//! message fields the timings need. Entities that cannot be used (no
//! `NodeId` or `Event`, a `RowKey` that is not a number) are reported.

use expost_formats::shipyard::{parse_message, row_key_time, Entity};
use expost_model::Diagnostics;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::collections::HashMap;

/// The events of Batch Shipyard's perf recorder that the study pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `nodeprep:start` (message: `offer`, `sku`).
    NodeprepStart,
    /// `nodeprep:end`.
    NodeprepEnd,
    /// `privateregistry:start`.
    RegistryStart,
    /// `privateregistry:end`.
    RegistryEnd,
    /// `shipyard:pull-start`.
    ShipyardPullStart,
    /// `shipyard:pull-end`.
    ShipyardPullEnd,
    /// `cascade:start`.
    CascadeStart,
    /// `cascade:gr-done`: every global resource is loaded; the node is ready.
    GrDone,
    /// `cascade:pull-start` (per image).
    PullStart,
    /// `cascade:pull-end` (per image; `diff`, `size`).
    PullEnd,
    /// `cascade:save-start` (per image).
    SaveStart,
    /// `cascade:save-end` (per image; `diff`, `size`).
    SaveEnd,
    /// `cascade:torrent-start` (per image).
    TorrentStart,
    /// `cascade:load-start` (per image; ends the torrent, starts the load).
    LoadStart,
    /// `cascade:load-end` (per image; `diff`).
    LoadEnd,
}

impl Kind {
    /// Every kind, in the order of the `Kind` enum.
    pub const ALL: [Kind; 15] = [
        Kind::NodeprepStart,
        Kind::NodeprepEnd,
        Kind::RegistryStart,
        Kind::RegistryEnd,
        Kind::ShipyardPullStart,
        Kind::ShipyardPullEnd,
        Kind::CascadeStart,
        Kind::GrDone,
        Kind::PullStart,
        Kind::PullEnd,
        Kind::SaveStart,
        Kind::SaveEnd,
        Kind::TorrentStart,
        Kind::LoadStart,
        Kind::LoadEnd,
    ];

    /// The `Event` text of this kind.
    pub fn name(self) -> &'static str {
        match self {
            Kind::NodeprepStart => "nodeprep:start",
            Kind::NodeprepEnd => "nodeprep:end",
            Kind::RegistryStart => "privateregistry:start",
            Kind::RegistryEnd => "privateregistry:end",
            Kind::ShipyardPullStart => "shipyard:pull-start",
            Kind::ShipyardPullEnd => "shipyard:pull-end",
            Kind::CascadeStart => "cascade:start",
            Kind::GrDone => "cascade:gr-done",
            Kind::PullStart => "cascade:pull-start",
            Kind::PullEnd => "cascade:pull-end",
            Kind::SaveStart => "cascade:save-start",
            Kind::SaveEnd => "cascade:save-end",
            Kind::TorrentStart => "cascade:torrent-start",
            Kind::LoadStart => "cascade:load-start",
            Kind::LoadEnd => "cascade:load-end",
        }
    }

    /// The kind named `text` (as written by perf.py: lower case).
    pub fn parse(text: &str) -> Option<Kind> {
        Some(match text {
            "nodeprep:start" => Kind::NodeprepStart,
            "nodeprep:end" => Kind::NodeprepEnd,
            "privateregistry:start" => Kind::RegistryStart,
            "privateregistry:end" => Kind::RegistryEnd,
            "shipyard:pull-start" => Kind::ShipyardPullStart,
            "shipyard:pull-end" => Kind::ShipyardPullEnd,
            "cascade:start" => Kind::CascadeStart,
            "cascade:gr-done" => Kind::GrDone,
            "cascade:pull-start" => Kind::PullStart,
            "cascade:pull-end" => Kind::PullEnd,
            "cascade:save-start" => Kind::SaveStart,
            "cascade:save-end" => Kind::SaveEnd,
            "cascade:torrent-start" => Kind::TorrentStart,
            "cascade:load-start" => Kind::LoadStart,
            "cascade:load-end" => Kind::LoadEnd,
            _ => return None,
        })
    }

    /// True for the per-image events of cascade.
    pub fn has_image(self) -> bool {
        self >= Kind::PullStart
    }
}

/// No image.
pub const NO_IMAGE: u32 = u32::MAX;

/// One usable event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Record {
    /// Index into the node names.
    pub node: u32,
    /// What happened.
    pub kind: Kind,
    /// Index into the image names, or [`NO_IMAGE`].
    pub image: u32,
    /// UTC epoch seconds (the `RowKey`).
    pub time: f64,
    /// The duration the node measured itself (`diff=`), seconds.
    pub diff: Option<f64>,
    /// `size=`, bytes.
    pub size: Option<u64>,
    /// The entity's line (export file) or position (table query).
    pub line: u64,
}

/// Every usable event of one partition, with interned names.
#[derive(Debug, Clone, Default)]
pub struct Records {
    /// The events, in input order.
    pub records: Vec<Record>,
    /// Node names, by index.
    pub nodes: Vec<String>,
    /// Image names, by index.
    pub images: Vec<String>,
    /// `offer` and `sku` of each node's first `nodeprep:start` that has them.
    pub offer_sku: HashMap<u32, (String, String)>,
    /// Events whose `Event` is not one the study knows, by name: (count, first line).
    pub unknown: HashMap<String, (usize, u64)>,
}

/// One entity read without interning (done in parallel).
struct Parsed<'a> {
    node: &'a str,
    kind: Option<Kind>,
    event: &'a str,
    image: Option<&'a str>,
    time: f64,
    diff: Option<f64>,
    size: Option<u64>,
    offer_sku: Option<(&'a str, &'a str)>,
    line: u64,
    problems: Vec<String>,
}

fn parse_entity<E: Entity>(entity: &E) -> Result<Parsed<'_>, String> {
    let node = entity.node_id().filter(|n| !n.is_empty());
    let event = entity.event().filter(|e| !e.is_empty());
    let (node, event) = match (node, event) {
        (Some(n), Some(e)) => (n, e),
        (None, Some(e)) => {
            return Err(format!(
                "entity {} has no NodeId; skipped",
                describe(entity, e)
            ))
        }
        (Some(_), None) => {
            return Err(format!(
                "entity RowKey '{}' has no Event; skipped",
                entity.row_key()
            ))
        }
        (None, None) => {
            return Err(format!(
                "entity RowKey '{}' has neither NodeId nor Event; skipped",
                entity.row_key()
            ))
        }
    };
    let time = row_key_time(entity.row_key()).ok_or_else(|| {
        format!(
            "RowKey '{}' of {event} on node {node} is not an epoch time in seconds; skipped",
            entity.row_key()
        )
    })?;
    let kind = Kind::parse(event);
    let mut problems = Vec::new();
    let message = entity.message().unwrap_or("");
    let m = parse_message(message, &mut problems);
    let mut problems: Vec<String> = problems
        .into_iter()
        .map(|p| format!("{event} on node {node}: {p}"))
        .collect();
    if kind.is_some_and(Kind::has_image) && m.img.is_none() {
        problems.push(format!(
            "{event} on node {node} names no image (img=); skipped"
        ));
    }
    Ok(Parsed {
        node,
        kind,
        event,
        image: m.img,
        time,
        diff: m.diff,
        size: m.size,
        offer_sku: m.offer.zip(m.sku),
        line: entity.line(),
        problems,
    })
}

fn describe<E: Entity>(entity: &E, event: &str) -> String {
    format!("{event} at RowKey '{}'", entity.row_key())
}

/// Entities parsed in parallel per chunk.
const CHUNK: usize = 1 << 13;

/// Reads every entity of `partition` into records. Entities of other
/// partitions must have been set aside by the caller.
pub fn read<'a, E: Entity + Sync>(entities: &'a [E], diags: &mut Diagnostics) -> Records {
    let mut out = Records::default();
    let mut node_index: FxHashMap<&'a str, u32> = FxHashMap::default();
    let mut image_index: FxHashMap<&'a str, u32> = FxHashMap::default();
    out.records.reserve(entities.len());
    // Parsed in parallel chunk by chunk, interned in order; the next chunk
    // is parsed while this one is interned. The chunk buffers stay small
    // and warm instead of one large intermediate list.
    let parse = |chunk: &'a [E], buffer: &mut Vec<Result<Parsed<'a>, (u64, String)>>| {
        chunk
            .par_iter()
            .with_min_len(1 << 10)
            .map(|e| parse_entity(e).map_err(|m| (e.line(), m)))
            .collect_into_vec(buffer);
    };
    let chunks: Vec<&'a [E]> = entities.chunks(CHUNK).collect();
    let mut current = Vec::with_capacity(CHUNK);
    let mut next = Vec::with_capacity(CHUNK);
    if let Some(first) = chunks.first() {
        parse(first, &mut current);
    }
    for k in 0..chunks.len() {
        rayon::join(
            || intern_chunk(&current, &mut out, &mut node_index, &mut image_index, diags),
            || {
                if let Some(chunk) = chunks.get(k + 1) {
                    parse(chunk, &mut next);
                }
            },
        );
        std::mem::swap(&mut current, &mut next);
    }
    out
}

/// Interns the names of one parsed chunk and appends its records.
fn intern_chunk<'a>(
    parsed: &[Result<Parsed<'a>, (u64, String)>],
    out: &mut Records,
    node_index: &mut FxHashMap<&'a str, u32>,
    image_index: &mut FxHashMap<&'a str, u32>,
    diags: &mut Diagnostics,
) {
    for item in parsed {
        let p = match item {
            Ok(p) => p,
            Err((line, message)) => {
                diags.warn(Some(*line), message.clone());
                continue;
            }
        };
        for problem in &p.problems {
            diags.warn(Some(p.line), problem.clone());
        }
        let Some(kind) = p.kind else {
            let entry = out
                .unknown
                .entry(p.event.to_string())
                .or_insert((0, p.line));
            entry.0 += 1;
            continue;
        };
        let image = match (kind.has_image(), p.image) {
            (true, None) => continue,
            (true, Some(img)) => intern(image_index, &mut out.images, img),
            (false, _) => NO_IMAGE,
        };
        let node = intern(node_index, &mut out.nodes, p.node);
        if kind == Kind::NodeprepStart {
            if let Some((offer, sku)) = p.offer_sku {
                out.offer_sku
                    .entry(node)
                    .or_insert_with(|| (offer.to_string(), sku.to_string()));
            }
        }
        out.records.push(Record {
            node,
            kind,
            image,
            time: p.time,
            diff: p.diff,
            size: p.size,
            line: p.line,
        });
    }
}

fn intern<'a>(index: &mut FxHashMap<&'a str, u32>, names: &mut Vec<String>, name: &'a str) -> u32 {
    *index.entry(name).or_insert_with(|| {
        names.push(name.to_string());
        (names.len() - 1) as u32
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use expost_formats::shipyard::PerfEntity;

    fn entity(row_key: &str, event: Option<&str>, node: Option<&str>, message: &str) -> PerfEntity {
        PerfEntity {
            partition_key: "a$p".into(),
            row_key: row_key.into(),
            event: event.map(Into::into),
            node_id: node.map(Into::into),
            message: Some(message.into()),
            line: 7,
        }
    }

    #[test]
    fn kinds_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.name()), Some(k));
        }
        assert_eq!(Kind::parse("cascade:unknown"), None);
    }

    #[test]
    fn bad_entities_are_reported() {
        let entities = vec![
            entity("1.5", None, Some("n"), ""),
            entity("1.5", Some("nodeprep:start"), None, ""),
            entity("abc", Some("nodeprep:start"), Some("n"), ""),
            entity("2", Some("cascade:pull-start"), Some("n"), "grtype=docker"),
            entity("3", Some("nodeprep:start"), Some("n"), "offer=o,sku=s,oops"),
            entity("4", Some("cascade:torrent-seed"), Some("n"), ""),
        ];
        let mut d = Diagnostics::for_file("x");
        let r = read(&entities, &mut d);
        assert_eq!(r.records.len(), 1);
        assert_eq!(r.offer_sku[&0], ("o".to_string(), "s".to_string()));
        assert_eq!(r.unknown["cascade:torrent-seed"], (1, 7));
        let messages: Vec<&str> = d.items().iter().map(|i| i.message.as_str()).collect();
        assert!(messages[0].contains("no Event"), "{messages:?}");
        assert!(messages[1].contains("no NodeId"), "{messages:?}");
        assert!(messages[2].contains("RowKey 'abc'"), "{messages:?}");
        assert!(messages[3].contains("names no image"), "{messages:?}");
        assert!(messages[4].contains("'oops' has no '='"), "{messages:?}");
        assert_eq!(d.len(), 5);
    }
}
