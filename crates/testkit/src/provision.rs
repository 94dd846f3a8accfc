//! A seeded generator of realistic Batch Shipyard pools, for tests and
//! benchmarks: every node writes the event sequence of Batch Shipyard's
//! node prep and cascade (node prep with Docker install, private registry
//! and shipyard container pull; then per image either a direct pull and a
//! save for seeding, or a torrent and a load), with `diff` and `size` where
//! the real scripts record them, and `RowKey`s made unique the way perf.py
//! does it (adding 1 µs per collision).
//!
//! Faults on request: nodes missing one end event, nodes that never finish,
//! events written twice (a retried insert), and times on a 10 ms grid so
//! that `RowKey`s of different nodes collide.
//!
//! Alongside the entities it returns its own record of what each node did,
//! which the tests compare with the analysis. Durations the nodes did not
//! record as `diff` come from timestamps that collisions may have moved by a
//! few microseconds, so comparisons need a tolerance of about 1 ms.

use expost_formats::shipyard::PerfEntity;
use expost_studies::provision::{ImageTiming, Timings};
use std::collections::{BTreeMap, HashSet};

/// A small deterministic random number generator (SplitMix64); not for
/// anything but test data.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }

    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// What pool to generate.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    /// Seed of the generator.
    pub seed: u64,
    /// `<batch account>$<pool id>`.
    pub partition: String,
    /// Number of nodes.
    pub nodes: usize,
    /// Global resources (container images) per node.
    pub images: usize,
    /// Whether the pool sets up a private registry.
    pub private_registry: bool,
    /// How many nodes lose one end event.
    pub missing_pairs: usize,
    /// How many nodes stop in the middle of a pull and never become ready.
    pub unfinished: usize,
    /// How many nodes write one event twice.
    pub duplicates: usize,
    /// Put times on a 10 ms grid, so that `RowKey`s collide.
    pub collide: bool,
    /// Spread of node prep starts, seconds.
    pub start_spread_s: f64,
    /// Let some nodes print Docker sizes without a space (`4.41MB`, as
    /// Docker 17.06 and later do); otherwise always `4.41 MB`.
    pub compact_sizes: bool,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions {
            seed: 1,
            partition: "batchacct$pool-1".into(),
            nodes: 10,
            images: 3,
            private_registry: true,
            missing_pairs: 0,
            unfinished: 0,
            duplicates: 0,
            collide: false,
            start_spread_s: 120.0,
            compact_sizes: true,
        }
    }
}

/// The generator's record of one node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeTruth {
    /// `NodeId`.
    pub node_id: String,
    /// Node prep start, UTC epoch seconds.
    pub start: f64,
    /// `cascade:gr-done`, UTC epoch seconds; `None`: never ready.
    pub ready: Option<f64>,
    /// Timings as the analysis must find them.
    pub timings: Timings,
    /// Per image name, as the analysis must find them.
    pub images: BTreeMap<String, ImageTiming>,
    /// End events left out: (event, image).
    pub missing: Vec<(String, Option<String>)>,
    /// An event written twice: (event, image).
    pub duplicated: Option<(String, Option<String>)>,
}

/// A generated pool: the entities, in write order, and the record.
#[derive(Debug, Clone)]
pub struct SynthPool {
    /// The entities as the nodes wrote them.
    pub entities: Vec<PerfEntity>,
    /// What each node did, in node order.
    pub nodes: Vec<NodeTruth>,
    /// The VM offer every node reports.
    pub offer: String,
    /// The VM SKU every node reports.
    pub sku: String,
}

/// Writes entities with perf.py's `RowKey` rule: on a conflict, add 1 µs.
struct Writer {
    partition: String,
    used: HashSet<String>,
    entities: Vec<PerfEntity>,
}

impl Writer {
    fn write(&mut self, node: &str, event: &str, time: f64, message: Option<String>) {
        let mut ts = time;
        let mut key = format_ts(ts);
        while self.used.contains(&key) {
            ts += 0.000001;
            key = format_ts(ts);
        }
        self.used.insert(key.clone());
        self.entities.push(PerfEntity {
            partition_key: self.partition.clone(),
            row_key: key,
            event: Some(event.to_string()),
            node_id: Some(node.to_string()),
            message,
            line: self.entities.len() as u64 + 1,
        });
    }
}

/// Python's `str(float)`: the shortest text that reads back the same.
fn format_ts(ts: f64) -> String {
    let text = format!("{ts}");
    if text.contains('.') {
        text
    } else {
        format!("{text}.0")
    }
}

/// The image names of a pool of `n` images.
pub fn image_names(n: usize) -> Vec<String> {
    (0..n)
        .map(|j| match j % 3 {
            0 => format!("alpine:3.{j}"),
            1 => format!("shipyardregistry.azurecr.io/app{j}:latest"),
            _ => format!("nvidia/cuda:11.{j}-runtime"),
        })
        .collect()
}

/// Which faults a node gets.
#[derive(Debug, Clone, Copy, Default)]
struct Faults {
    missing: bool,
    unfinished: bool,
    duplicate: bool,
}

/// Generates a pool.
pub fn generate(options: &SynthOptions) -> SynthPool {
    let mut rng = SplitMix64::new(options.seed);
    let mut writer = Writer {
        partition: options.partition.clone(),
        used: HashSet::new(),
        entities: Vec::new(),
    };
    let images = image_names(options.images);
    let base = 1_700_000_000.0 + rng.below(10_000_000) as f64;
    let mut faults = vec![Faults::default(); options.nodes];
    let mut pick = |count: usize, set: &dyn Fn(&mut Faults)| {
        for _ in 0..count.min(options.nodes) {
            let i = rng.below(options.nodes as u64) as usize;
            set(&mut faults[i]);
        }
    };
    pick(options.missing_pairs, &|f| f.missing = true);
    pick(options.unfinished, &|f| f.unfinished = true);
    pick(options.duplicates, &|f| f.duplicate = true);
    let nodes = (0..options.nodes)
        .map(|i| {
            let id = format!(
                "tvm-{:010}_{}-20240101t000000z",
                options.seed % 10_000_000_000,
                i + 1
            );
            let start = base + rng.uniform(0.0, options.start_spread_s);
            let mut node = NodeGen {
                rng: &mut rng,
                writer: &mut writer,
                id: &id,
                images: &images,
                collide: options.collide,
                compact_sizes: options.compact_sizes,
                faults: faults[i],
            };
            node.run(start, options.private_registry)
        })
        .collect();
    SynthPool {
        entities: writer.entities,
        nodes,
        offer: "UbuntuServer".into(),
        sku: "18.04-LTS".into(),
    }
}

/// The generation of one node's events.
struct NodeGen<'a> {
    rng: &'a mut SplitMix64,
    writer: &'a mut Writer,
    id: &'a str,
    images: &'a [String],
    collide: bool,
    compact_sizes: bool,
    faults: Faults,
}

impl NodeGen<'_> {
    /// The time as written: on the 10 ms grid when colliding.
    fn at(&self, t: f64) -> f64 {
        if self.collide {
            (t * 100.0).round() / 100.0
        } else {
            t
        }
    }

    /// Writes an event at `t` (put on the grid) and returns the written time.
    fn emit(&mut self, event: &str, t: f64, message: Option<String>) -> f64 {
        let t = self.at(t);
        self.writer.write(self.id, event, t, message);
        t
    }

    fn run(&mut self, start: f64, registry: bool) -> NodeTruth {
        let mut truth = NodeTruth {
            node_id: self.id.to_string(),
            start: self.at(start),
            ready: None,
            timings: Timings::default(),
            images: BTreeMap::new(),
            missing: Vec::new(),
            duplicated: None,
        };
        let s = self.emit(
            "nodeprep:start",
            start,
            Some("offer=UbuntuServer,sku=18.04-LTS".into()),
        );
        if self.faults.duplicate {
            // A retried insert: the same event again, 1 µs later (perf.py's rule).
            self.writer.write(
                self.id,
                "nodeprep:start",
                s,
                Some("offer=UbuntuServer,sku=18.04-LTS".into()),
            );
            truth.duplicated = Some(("nodeprep:start".into(), None));
        }
        let mut t = s + self.rng.uniform(20.0, 60.0);
        if registry {
            let r0 = self.emit("privateregistry:start", t, None);
            let d = self.rng.uniform(5.0, 20.0);
            let r1 = self.emit("privateregistry:end", r0 + d, None);
            truth.timings.docker_install = Some(r0 - s);
            truth.timings.private_registry_setup = Some(r1 - r0);
            t = r1;
        } else {
            truth.timings.private_registry_setup = Some(0.0);
        }
        let p0 = self.emit("shipyard:pull-start", t + 0.5, None);
        let d = self.rng.uniform(10.0, 40.0);
        let p1 = self.emit("shipyard:pull-end", p0 + d, None);
        truth.timings.docker_shipyard_container_pull = Some(p1 - p0);
        let e = self.emit("nodeprep:end", p1 + 1.0, None);
        truth.timings.nodeprep = Some(e - s);
        if !registry {
            truth.timings.docker_install = truth.timings.nodeprep;
        }
        let n = self.images.len();
        let d = self.rng.uniform(1.0, 3.0);
        let c0 = self.emit(
            "cascade:start",
            e + d,
            Some(format!("nglobalresources={n}")),
        );
        let stop_at = self
            .faults
            .unfinished
            .then(|| self.rng.below(n.max(1) as u64) as usize);
        let missing_at = self.faults.missing.then_some(0);
        let mut t = c0 + 0.2;
        for (j, image) in self.images.iter().enumerate() {
            let pulled = self.rng.below(10) < 4;
            let stop = stop_at == Some(j);
            let drop_end = missing_at == Some(j) && !stop;
            let (timing, end) = if pulled {
                self.pull_and_save(image, t, stop, drop_end, &mut truth)
            } else {
                self.torrent_and_load(image, t, stop, drop_end, &mut truth)
            };
            truth.images.insert(image.clone(), timing);
            if stop {
                truth.missing.push(("cascade:gr-done".into(), None));
                return truth;
            }
            t = end + 0.2;
        }
        let done = self.emit("cascade:gr-done", t, Some(format!("nglobalresources={n}")));
        truth.timings.global_resources_loaded = Some(done - c0);
        truth.ready = Some(done);
        truth
    }

    /// A direct pull, then a save for seeding. Returns the timing and the
    /// time of the last event.
    fn pull_and_save(
        &mut self,
        image: &str,
        t: f64,
        stop: bool,
        drop_end: bool,
        truth: &mut NodeTruth,
    ) -> (ImageTiming, f64) {
        let mut timing = ImageTiming::default();
        let p0 = self.emit(
            "cascade:pull-start",
            t,
            Some(format!("grtype=docker,img={image}")),
        );
        if stop {
            truth
                .missing
                .push(("cascade:pull-end".into(), Some(image.into())));
            return (timing, p0);
        }
        let diff = round6(self.rng.uniform(5.0, 120.0));
        // Docker's size string: hundredths of MB (base 1000), with or without a space.
        let hundredths = 100 + self.rng.below(200_000);
        let text = format!("{}.{:02}", hundredths / 100, hundredths % 100);
        let compact = self.rng.below(2) == 1 && self.compact_sizes;
        let size = if !compact {
            format!("{text} MB")
        } else {
            format!("{text}MB")
        };
        let size_bytes = hundredths * 10_000;
        // The node measures diff, then runs `docker images` before writing pull-end.
        let p1 = p0 + diff + self.rng.uniform(0.1, 0.5);
        let saved_bytes = size_bytes + self.rng.below(1_000_000);
        if drop_end {
            truth
                .missing
                .push(("cascade:pull-end".into(), Some(image.into())));
        } else {
            self.emit(
                "cascade:pull-end",
                p1,
                Some(format!("grtype=docker,img={image},diff={diff},size={size}")),
            );
            timing.pull = Some(diff);
            timing.size_bytes = Some(size_bytes);
        }
        let s0 = self.emit(
            "cascade:save-start",
            p1 + 0.1,
            Some(format!("grtype=docker,img={image}")),
        );
        let sdiff = round6(self.rng.uniform(2.0, 30.0));
        let s1 = self.emit(
            "cascade:save-end",
            s0 + sdiff + 0.05,
            Some(format!("img={image},size={saved_bytes},diff={sdiff}")),
        );
        timing.save = Some(sdiff);
        if timing.size_bytes.is_none() {
            timing.size_bytes = Some(saved_bytes);
        }
        (timing, s1)
    }

    /// A torrent, then a load. Returns the timing and the time of the last event.
    fn torrent_and_load(
        &mut self,
        image: &str,
        t: f64,
        stop: bool,
        drop_end: bool,
        truth: &mut NodeTruth,
    ) -> (ImageTiming, f64) {
        let mut timing = ImageTiming::default();
        let t0 = self.emit("cascade:torrent-start", t, Some(format!("img={image}")));
        let bytes = 1_000_000 + self.rng.below(2_000_000_000);
        let d = self.rng.uniform(5.0, 60.0);
        let l0 = self.emit(
            "cascade:load-start",
            t0 + d,
            Some(format!("img={image},size={bytes}")),
        );
        timing.torrent = Some(l0 - t0);
        timing.size_bytes = Some(bytes);
        if stop || drop_end {
            truth
                .missing
                .push(("cascade:load-end".into(), Some(image.into())));
            return (timing, l0);
        }
        let ldiff = round6(self.rng.uniform(3.0, 40.0));
        let l1 = self.emit(
            "cascade:load-end",
            l0 + ldiff + 0.05,
            Some(format!("img={image},diff={ldiff}")),
        );
        timing.load = Some(ldiff);
        (timing, l1)
    }
}

/// Rounds to the microsecond, as the nodes print their diffs.
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_pool() {
        let o = SynthOptions {
            nodes: 20,
            collide: true,
            duplicates: 2,
            missing_pairs: 2,
            unfinished: 1,
            ..SynthOptions::default()
        };
        let a = generate(&o);
        let b = generate(&o);
        assert_eq!(a.entities, b.entities);
        let keys: HashSet<&str> = a.entities.iter().map(|e| e.row_key.as_str()).collect();
        assert_eq!(keys.len(), a.entities.len(), "RowKeys are unique");
        assert_eq!(a.nodes.iter().filter(|n| n.ready.is_none()).count(), 1);
    }

    #[test]
    fn python_float_text() {
        assert_eq!(format_ts(1_700_000_000.0), "1700000000.0");
        assert_eq!(format_ts(1_700_000_000.25), "1700000000.25");
    }
}
