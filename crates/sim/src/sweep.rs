//! Sweeps: a grid of (strategy, preemption rate, checkpoint interval) ×
//! seeds, run in parallel and deterministic whatever the thread count: each
//! simulation's generator is seeded from the base seed and set to its own
//! stream `(grid point << 32) | seed index`, never from thread order, and
//! results are collected in job order. `--shard i/n` runs the jobs whose
//! index is `i − 1` modulo `n` ([`shard_jobs`]); [`merge`] joins the
//! shards' records back.

use crate::engine::{simulate_until, SimConfig, Strategy};
use crate::metrics::{young_daly_interval, SimResult, TimeSplit};
use crate::model::{Poisson, SimRng};
use crate::trace_stats::Summary;
use expost_model::profile::Profile;
use rand::SeedableRng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a sweep runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepSpec {
    /// Settings shared by every simulation (its strategy and interval are replaced per point).
    pub base: SimConfig,
    /// Strategies.
    pub strategies: Vec<Strategy>,
    /// Poisson preemption rates per node-hour.
    pub rates: Vec<f64>,
    /// Checkpoint intervals, s of compute; `None` = automatic (back to back
    /// for asynchronous strategies, Young/Daly for checkpoint-restart).
    pub intervals: Vec<Option<f64>>,
    /// Seeds per grid point.
    pub seeds: u32,
    /// Base seed.
    pub base_seed: u64,
    /// Delay before a preempted node's replacement arrives, s.
    pub replace_delay_s: f64,
}

/// One grid point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GridPoint {
    /// Index in the grid.
    pub index: u32,
    /// Strategy.
    pub strategy: Strategy,
    /// Preemption rate per node-hour.
    pub rate: f64,
    /// The interval as asked (`None`: automatic).
    pub interval_asked: Option<f64>,
    /// The interval used, s.
    pub interval_s: f64,
}

/// A shard of a sweep: `index` of `count`, 1-based; `i/n` as text (on
/// the command line and in study files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Shard {
    /// Which shard, 1..=count.
    pub index: u32,
    /// How many shards.
    pub count: u32,
}

impl Default for Shard {
    fn default() -> Self {
        Shard { index: 1, count: 1 }
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("shard {s:?} is not i/n"))?;
        let (i, n): (u32, u32) = (
            i.trim()
                .parse()
                .map_err(|_| format!("shard index {i:?} is not a whole number"))?,
            n.trim()
                .parse()
                .map_err(|_| format!("shard count {n:?} is not a whole number"))?,
        );
        if n == 0 || i == 0 || i > n {
            return Err(format!("shard {i}/{n}: need 1 ≤ i ≤ n"));
        }
        Ok(Shard { index: i, count: n })
    }
}

impl TryFrom<String> for Shard {
    type Error = String;
    fn try_from(s: String) -> Result<Shard, String> {
        s.parse()
    }
}

impl From<Shard> for String {
    fn from(s: Shard) -> String {
        s.to_string()
    }
}

impl Shard {
    /// Whether this is the whole sweep (`1/1`).
    pub fn is_whole(self) -> bool {
        self.count == 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// One simulation's record.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SweepRecord {
    /// Grid point index.
    pub point: u32,
    /// Seed index within the point.
    pub seed_index: u32,
    /// Strategy name.
    pub strategy: Strategy,
    /// Preemption rate per node-hour.
    pub rate_per_node_hour: f64,
    /// Checkpoint interval used, s.
    pub checkpoint_interval_s: f64,
    /// The outcome.
    pub result: SimResult,
}

/// The mean time between job failures for `nodes` nodes at `rate` per node-hour, s.
pub fn job_mtbf_s(nodes: u32, rate_per_hour: f64) -> f64 {
    if rate_per_hour > 0.0 && nodes > 0 {
        3600.0 / (rate_per_hour * f64::from(nodes))
    } else {
        f64::INFINITY
    }
}

impl SweepSpec {
    /// Checks the spec (rates ≥ 0, at least one of everything, valid base
    /// config at every grid point).
    pub fn validate(&self, profile: &Profile) -> Result<(), String> {
        self.check()?;
        for point in self.grid(profile) {
            self.config(&point)
                .validate(profile)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Checks what can be checked without the profile (the option checks
    /// made before any input is read): an automatic interval, known once
    /// the profile is, is stood in for by one that is always valid.
    pub fn check(&self) -> Result<(), String> {
        if self.strategies.is_empty()
            || self.rates.is_empty()
            || self.intervals.is_empty()
            || self.seeds == 0
        {
            return Err("a sweep needs at least one strategy, rate, interval and seed".into());
        }
        if let Some(r) = self.rates.iter().find(|r| !(r.is_finite() && **r >= 0.0)) {
            return Err(format!(
                "preemption rate {r} per node-hour must be a number ≥ 0"
            ));
        }
        if let Some(i) = self
            .intervals
            .iter()
            .flatten()
            .find(|i| !(i.is_finite() && **i > 0.0))
        {
            return Err(format!(
                "checkpoint interval {i} s must be positive (or auto)"
            ));
        }
        Poisson::new(0.0, self.replace_delay_s).map_err(|e| e.to_string())?;
        for &strategy in &self.strategies {
            for &asked in &self.intervals {
                let stand_in = if strategy.restarts() {
                    self.base.duration_s
                } else {
                    0.0
                };
                SimConfig {
                    strategy,
                    checkpoint_interval_s: asked.unwrap_or(stand_in),
                    ..self.base.clone()
                }
                .check()
                .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// The grid, strategy-major, then rate, then interval.
    pub fn grid(&self, profile: &Profile) -> Vec<GridPoint> {
        let mut out = Vec::new();
        for &strategy in &self.strategies {
            for &rate in &self.rates {
                for &asked in &self.intervals {
                    let interval_s =
                        asked.unwrap_or_else(|| self.auto_interval(strategy, rate, profile));
                    out.push(GridPoint {
                        index: out.len() as u32,
                        strategy,
                        rate,
                        interval_asked: asked,
                        interval_s,
                    });
                }
            }
        }
        out
    }

    /// Automatic interval: 0 (back to back) for asynchronous checkpoints;
    /// Young's √(2 δ M) for the restarting strategies, at most the duration.
    pub fn auto_interval(&self, strategy: Strategy, rate: f64, profile: &Profile) -> f64 {
        if !strategy.restarts() {
            return 0.0;
        }
        let m = job_mtbf_s(self.base.world_size(), rate);
        young_daly_interval(profile.checkpoint_save_s, m).min(self.base.duration_s)
    }

    /// The configuration of a grid point.
    pub fn config(&self, point: &GridPoint) -> SimConfig {
        SimConfig {
            strategy: point.strategy,
            checkpoint_interval_s: point.interval_s,
            ..self.base.clone()
        }
    }

    /// Number of simulations in the whole sweep.
    pub fn jobs(&self, profile: &Profile) -> u64 {
        self.grid(profile).len() as u64 * u64::from(self.seeds)
    }
}

/// The generator of simulation (`point`, `seed_index`).
pub fn rng_for(base_seed: u64, point: u32, seed_index: u32) -> SimRng {
    let mut rng = SimRng::seed_from_u64(base_seed);
    rng.set_stream((u64::from(point) << 32) | u64::from(seed_index));
    rng
}

/// Runs one simulation of the sweep.
pub fn run_one(
    spec: &SweepSpec,
    profile: &Profile,
    point: &GridPoint,
    seed_index: u32,
) -> SweepRecord {
    run_one_until(spec, profile, point, seed_index, &|| false)
        .expect("a simulation that is never stopped finishes")
}

/// [`run_one`], looking at `stop` now and then: `None` when it said to stop.
pub fn run_one_until(
    spec: &SweepSpec,
    profile: &Profile,
    point: &GridPoint,
    seed_index: u32,
    stop: &dyn Fn() -> bool,
) -> Option<SweepRecord> {
    let cfg = spec.config(point);
    let mut rng = rng_for(spec.base_seed, point.index, seed_index);
    let result = match Poisson::new(point.rate, spec.replace_delay_s) {
        Ok(mut model) => simulate_until(&cfg, profile, &mut model, &mut rng, stop)?,
        Err(_) => SimResult::default(),
    };
    Some(SweepRecord {
        point: point.index,
        seed_index,
        strategy: point.strategy,
        rate_per_node_hour: point.rate,
        checkpoint_interval_s: point.interval_s,
        result,
    })
}

/// The simulations of `shard`, as (grid point, seed index), in job order
/// (point-major): job `j` is point `j / seeds`, seed `j % seeds`.
pub fn shard_jobs(grid: &[GridPoint], seeds: u32, shard: Shard) -> Vec<(GridPoint, u32)> {
    let seeds = u64::from(seeds);
    let total = grid.len() as u64 * seeds;
    (0..total)
        .filter(|j| j % u64::from(shard.count) == u64::from(shard.index - 1))
        .map(|j| (grid[(j / seeds) as usize], (j % seeds) as u32))
        .collect()
}

/// Runs this shard's simulations in parallel; `progress` is called after
/// each. Records come in job order (point-major), whatever the threads.
pub fn run(
    spec: &SweepSpec,
    profile: &Profile,
    shard: Shard,
    progress: &(dyn Fn() + Sync),
) -> Vec<SweepRecord> {
    let grid = spec.grid(profile);
    shard_jobs(&grid, spec.seeds, shard)
        .par_iter()
        .map(|(point, seed_index)| {
            let record = run_one(spec, profile, point, *seed_index);
            progress();
            record
        })
        .collect()
}

/// Why shards could not be merged.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MergeError {
    /// Two shards ran different sweeps.
    #[error("shard {0} ran a different sweep than shard 1 (its sweep-spec.json differs)")]
    SpecMismatch(usize),
    /// A simulation is missing or repeated.
    #[error("{missing} simulations missing and {repeated} repeated (first missing: point {first_point}, seed {first_seed}); are all shards there, each once?")]
    Incomplete {
        /// Simulations not found.
        missing: u64,
        /// Simulations found more than once.
        repeated: u64,
        /// The first missing point.
        first_point: u32,
        /// Its seed index.
        first_seed: u32,
    },
}

/// Merges shard records (each shard's spec must be equal), sorted in job
/// order; fails unless every simulation is there exactly once.
pub fn merge(
    specs: &[SweepSpec],
    shards: Vec<Vec<SweepRecord>>,
    profile: &Profile,
) -> Result<Vec<SweepRecord>, MergeError> {
    if let Some(i) = specs.iter().position(|s| s != &specs[0]) {
        return Err(MergeError::SpecMismatch(i + 1));
    }
    let Some(spec) = specs.first() else {
        return Ok(Vec::new());
    };
    let mut all: Vec<SweepRecord> = shards.into_iter().flatten().collect();
    all.sort_by_key(|r| (r.point, r.seed_index));
    let total = spec.jobs(profile);
    let seeds = u64::from(spec.seeds);
    let (mut missing, mut repeated) = (0u64, 0u64);
    let mut first_missing = None;
    let mut it = all.iter().peekable();
    for j in 0..total {
        let key = ((j / seeds) as u32, (j % seeds) as u32);
        let mut found = 0u64;
        while it.peek().is_some_and(|r| (r.point, r.seed_index) == key) {
            found += 1;
            it.next();
        }
        if found == 0 {
            missing += 1;
            first_missing.get_or_insert(key);
        }
        repeated += found.saturating_sub(1);
    }
    let extra = it.count() as u64;
    if missing > 0 || repeated > 0 || extra > 0 {
        let (first_point, first_seed) = first_missing.unwrap_or((0, 0));
        return Err(MergeError::Incomplete {
            missing,
            repeated: repeated + extra,
            first_point,
            first_seed,
        });
    }
    Ok(all)
}

/// Statistics across the seeds of one grid point.
#[derive(Debug, Clone, Serialize)]
pub struct PointSummary {
    /// The point.
    pub point: GridPoint,
    /// Throughput across seeds, samples/s.
    pub throughput: Summary,
    /// Samples per dollar (spot) across seeds.
    pub samples_per_dollar: Summary,
    /// Mean time split across seeds, s.
    pub split_mean: TimeSplit,
    /// Mean wasted fraction across seeds.
    pub wasted_fraction: f64,
    /// Mean spot cost, $.
    pub cost_spot: f64,
    /// Mean preemptions.
    pub preemptions: f64,
}

/// Summaries per grid point (records must be in job order, as from [`run`] or [`merge`]).
pub fn summarise(grid: &[GridPoint], records: &[SweepRecord]) -> Vec<PointSummary> {
    grid.iter()
        .filter_map(|point| {
            let rs: Vec<&SweepRecord> = records.iter().filter(|r| r.point == point.index).collect();
            let n = rs.len() as f64;
            let of =
                |f: fn(&SimResult) -> f64| rs.iter().map(|r| f(&r.result)).collect::<Vec<f64>>();
            let mean = |f: fn(&SimResult) -> f64| of(f).iter().sum::<f64>() / n;
            Some(PointSummary {
                point: *point,
                throughput: Summary::of(&of(|r| r.throughput))?,
                samples_per_dollar: Summary::of(&of(|r| r.samples_per_dollar))?,
                split_mean: TimeSplit {
                    useful_s: mean(|r| r.split.useful_s),
                    reconfiguration_s: mean(|r| r.split.reconfiguration_s),
                    rollback_s: mean(|r| r.split.rollback_s),
                    checkpoint_stall_s: mean(|r| r.split.checkpoint_stall_s),
                    waiting_s: mean(|r| r.split.waiting_s),
                },
                wasted_fraction: mean(|r| r.split.wasted_fraction()),
                cost_spot: mean(|r| r.cost_spot),
                preemptions: mean(|r| r.preemptions as f64),
            })
        })
        .collect()
}

/// The best checkpoint interval found for one (strategy, rate).
#[derive(Debug, Clone, Serialize)]
pub struct Optimum {
    /// Strategy.
    pub strategy: Strategy,
    /// Preemption rate per node-hour.
    pub rate: f64,
    /// The searched interval with the highest median throughput, s.
    pub best_interval_s: f64,
    /// Its median throughput, samples/s.
    pub best_throughput: f64,
    /// Young's √(2 δ M) for the job's world size, s.
    pub young_daly_s: f64,
    /// Intervals searched.
    pub searched: usize,
}

/// For each (strategy, rate), the interval with the best median
/// throughput among those swept, beside the Young/Daly estimate.
pub fn optima(spec: &SweepSpec, profile: &Profile, summaries: &[PointSummary]) -> Vec<Optimum> {
    let mut out: Vec<Optimum> = Vec::new();
    for s in summaries {
        let p = s.point;
        let m = job_mtbf_s(spec.base.world_size(), p.rate);
        let yd = young_daly_interval(profile.checkpoint_save_s, m);
        match out
            .iter_mut()
            .find(|o| o.strategy == p.strategy && o.rate == p.rate)
        {
            Some(o) => {
                o.searched += 1;
                if s.throughput.median > o.best_throughput {
                    o.best_throughput = s.throughput.median;
                    o.best_interval_s = p.interval_s;
                }
            }
            None => out.push(Optimum {
                strategy: p.strategy,
                rate: p.rate,
                best_interval_s: p.interval_s,
                best_throughput: s.throughput.median,
                young_daly_s: yd,
                searched: 1,
            }),
        }
    }
    out
}

/// A record as one flat table row (the columns of `sweep.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FlatRecord {
    /// Grid point index.
    pub point: u32,
    /// Seed index.
    pub seed_index: u32,
    /// Strategy.
    pub strategy: Strategy,
    /// Preemption rate per node-hour.
    pub rate_per_node_hour: f64,
    /// Checkpoint interval, s.
    pub checkpoint_interval_s: f64,
    /// Wall time, s.
    pub wall_s: f64,
    /// Iterations kept.
    pub iterations: f64,
    /// Samples kept.
    pub samples: f64,
    /// Samples/s.
    pub throughput: f64,
    /// Useful time, s.
    pub useful_s: f64,
    /// Reconfiguration and restart time, s.
    pub reconfiguration_s: f64,
    /// Work lost to rollbacks, s.
    pub rollback_s: f64,
    /// Checkpoint stalls, s.
    pub checkpoint_stall_s: f64,
    /// Waiting for nodes, s.
    pub waiting_s: f64,
    /// Nodes preempted.
    pub preemptions: u64,
    /// Nodes added.
    pub additions: u64,
    /// Reconfigurations.
    pub reconfigurations: u64,
    /// Rollbacks.
    pub rollbacks: u64,
    /// Checkpoints completed.
    pub checkpoints: u64,
    /// Mean live instances.
    pub mean_instances: f64,
    /// Instance-hours.
    pub node_hours: f64,
    /// Spot cost, $.
    pub cost_spot: f64,
    /// On-demand cost of the same instance-hours, $.
    pub cost_on_demand: f64,
    /// Samples per spot dollar.
    pub samples_per_dollar: f64,
}

impl From<&SweepRecord> for FlatRecord {
    fn from(r: &SweepRecord) -> FlatRecord {
        let x = &r.result;
        FlatRecord {
            point: r.point,
            seed_index: r.seed_index,
            strategy: r.strategy,
            rate_per_node_hour: r.rate_per_node_hour,
            checkpoint_interval_s: r.checkpoint_interval_s,
            wall_s: x.wall_s,
            iterations: x.iterations,
            samples: x.samples,
            throughput: x.throughput,
            useful_s: x.split.useful_s,
            reconfiguration_s: x.split.reconfiguration_s,
            rollback_s: x.split.rollback_s,
            checkpoint_stall_s: x.split.checkpoint_stall_s,
            waiting_s: x.split.waiting_s,
            preemptions: x.preemptions,
            additions: x.additions,
            reconfigurations: x.reconfigurations,
            rollbacks: x.rollbacks,
            checkpoints: x.checkpoints,
            mean_instances: x.mean_instances,
            node_hours: x.node_hours,
            cost_spot: x.cost_spot,
            cost_on_demand: x.cost_on_demand,
            samples_per_dollar: x.samples_per_dollar,
        }
    }
}

impl From<&FlatRecord> for SweepRecord {
    fn from(f: &FlatRecord) -> SweepRecord {
        SweepRecord {
            point: f.point,
            seed_index: f.seed_index,
            strategy: f.strategy,
            rate_per_node_hour: f.rate_per_node_hour,
            checkpoint_interval_s: f.checkpoint_interval_s,
            result: SimResult {
                wall_s: f.wall_s,
                iterations: f.iterations,
                samples: f.samples,
                throughput: f.throughput,
                split: TimeSplit {
                    useful_s: f.useful_s,
                    reconfiguration_s: f.reconfiguration_s,
                    rollback_s: f.rollback_s,
                    checkpoint_stall_s: f.checkpoint_stall_s,
                    waiting_s: f.waiting_s,
                },
                preemptions: f.preemptions,
                additions: f.additions,
                reconfigurations: f.reconfigurations,
                rollbacks: f.rollbacks,
                checkpoints: f.checkpoints,
                mean_instances: f.mean_instances,
                node_hours: f.node_hours,
                cost_spot: f.cost_spot,
                cost_on_demand: f.cost_on_demand,
                samples_per_dollar: f.samples_per_dollar,
            },
        }
    }
}

/// Reads the records of a `sweep.csv` (its columns are [`FlatRecord`]'s;
/// an empty field, a number that was not finite, reads as NaN); errors
/// name the line.
pub fn read_csv(input: impl std::io::Read) -> Result<Vec<SweepRecord>, String> {
    let mut r = csv::Reader::from_reader(input);
    let headers = r.headers().map_err(|e| format!("line 1: {e}"))?.clone();
    let mut records = Vec::new();
    let mut row = csv::StringRecord::new();
    loop {
        match r.read_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return Err(format!("line {line}: {e}"));
            }
        }
        let line = row.position().map_or(0, |p| p.line());
        let filled: csv::StringRecord = row
            .iter()
            .map(|f| if f.is_empty() { "NaN" } else { f })
            .collect();
        let flat: FlatRecord = filled
            .deserialize(Some(&headers))
            .map_err(|e| format!("line {line}: {e}"))?;
        records.push(SweepRecord::from(&flat));
    }
    Ok(records)
}
