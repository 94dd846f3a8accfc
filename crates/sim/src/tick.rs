//! The notebook's simulation, tick by tick (5 s), exactly, for validation.
//!
//! This keeps the notebook's semantics, bugs included: a loss or a new
//! pipeline during a reconfiguration extends it by a whole reconfiguration
//! time; a regular addition rounded up to 1 skips the instance cap; the
//! asynchronous checkpoint saves the step before the one just finished.
//! Its only departures are the smallest fixes needed to run at all, the
//! same as in the baseline script: `random.sample` draws from the sorted
//! ids (a set is not a sequence on Python 3.11), a burst larger than the
//! cluster removes every instance, a world size missing from the profile
//! takes its iteration time from [`Profile::iteration_time`], and at world
//! size 0 no iteration runs.
//!
//! Random draws come from a [`Draws`]: live from a seeded generator, or
//! replayed from a recording of the notebook's own draws ([`Recorded`]).

use crate::model::SimRng;
use expost_model::profile::Profile;
use rand::seq::index::sample;
use rand::Rng;
use rand_distr::{Distribution, Normal};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One tick, µs.
const TICK_US: i64 = 5_000_000;
/// Preparation time of a new node, µs.
const PREP_US: i64 = 180_000_000;

/// Why a tick simulation stopped.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TickError {
    /// The recording ran out or holds another kind of draw than asked for.
    #[error("draw {index}: expected {expected}, found {found}")]
    Draw {
        /// 0-based index of the draw.
        index: usize,
        /// What the simulation asked for.
        expected: String,
        /// What the recording holds.
        found: String,
    },
    /// A recorded sample names an instance that is not in the population.
    #[error("draw {index}: sampled instance {id} is not among the {population} candidates")]
    NotInPopulation {
        /// 0-based index of the draw.
        index: usize,
        /// The id.
        id: u32,
        /// Size of the population.
        population: usize,
    },
    /// A parameter makes no sense.
    #[error("{0}")]
    Param(String),
}

/// The random draws the notebook makes, in its order.
pub trait Draws {
    /// `np.random.random()`: uniform in [0, 1).
    fn random(&mut self) -> Result<f64, TickError>;
    /// `np.random.normal(mean, std)`.
    fn normal(&mut self, mean: f64, std: f64) -> Result<f64, TickError>;
    /// `np.random.randint(lo, hi)`: integer in [lo, hi).
    fn randint(&mut self, lo: i64, hi: i64) -> Result<i64, TickError>;
    /// `random.sample(sorted(population), k)`; `k` ≥ 1.
    fn sample(&mut self, population: &[u32], k: usize) -> Result<Vec<u32>, TickError>;
}

/// One recorded draw.
#[derive(Debug, Clone, PartialEq)]
pub enum Draw {
    /// A uniform number.
    Random(f64),
    /// A normal number (already scaled).
    Normal(f64),
    /// An integer.
    Randint(i64),
    /// Sampled ids, in order.
    Sample(Vec<u32>),
}

/// Draws replayed from a recording.
#[derive(Debug, Clone)]
pub struct Recorded {
    draws: Vec<Draw>,
    next: usize,
}

impl Recorded {
    /// Parses a recording: one draw per line, `r X`, `n X`, `i N` or
    /// `s ID ID …`. Errors name the 1-based line.
    pub fn parse(text: &str) -> Result<Recorded, String> {
        let mut draws = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let mut parts = line.split_whitespace();
            let bad = || {
                format!(
                    "line {}: expected 'r|n X', 'i N' or 's IDS', found {line:?}",
                    i + 1
                )
            };
            let kind = parts.next().ok_or_else(bad)?;
            let draw = match kind {
                "r" | "n" => {
                    let v: f64 = parts.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
                    if kind == "r" {
                        Draw::Random(v)
                    } else {
                        Draw::Normal(v)
                    }
                }
                "i" => Draw::Randint(parts.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?),
                "s" => Draw::Sample(
                    parts
                        .map(|p| p.parse().map_err(|_| bad()))
                        .collect::<Result<_, _>>()?,
                ),
                _ => return Err(bad()),
            };
            draws.push(draw);
        }
        Ok(Recorded { draws, next: 0 })
    }

    /// Draws not used yet.
    pub fn remaining(&self) -> usize {
        self.draws.len() - self.next
    }

    fn take(&mut self, expected: &str) -> Result<(usize, Draw), TickError> {
        let index = self.next;
        let draw = self
            .draws
            .get(index)
            .cloned()
            .ok_or_else(|| TickError::Draw {
                index,
                expected: expected.to_string(),
                found: "the end of the recording".into(),
            })?;
        self.next += 1;
        Ok((index, draw))
    }
}

fn mismatch(index: usize, expected: &str, found: &Draw) -> TickError {
    TickError::Draw {
        index,
        expected: expected.to_string(),
        found: format!("{found:?}"),
    }
}

impl Draws for Recorded {
    fn random(&mut self) -> Result<f64, TickError> {
        match self.take("r")? {
            (_, Draw::Random(v)) => Ok(v),
            (i, other) => Err(mismatch(i, "r", &other)),
        }
    }
    fn normal(&mut self, _mean: f64, _std: f64) -> Result<f64, TickError> {
        match self.take("n")? {
            (_, Draw::Normal(v)) => Ok(v),
            (i, other) => Err(mismatch(i, "n", &other)),
        }
    }
    fn randint(&mut self, _lo: i64, _hi: i64) -> Result<i64, TickError> {
        match self.take("i")? {
            (_, Draw::Randint(v)) => Ok(v),
            (i, other) => Err(mismatch(i, "i", &other)),
        }
    }
    fn sample(&mut self, population: &[u32], k: usize) -> Result<Vec<u32>, TickError> {
        match self.take("s")? {
            (i, Draw::Sample(ids)) => {
                if ids.len() != k {
                    return Err(mismatch(i, &format!("s with {k} ids"), &Draw::Sample(ids)));
                }
                if let Some(&id) = ids.iter().find(|id| population.binary_search(id).is_err()) {
                    return Err(TickError::NotInPopulation {
                        index: i,
                        id,
                        population: population.len(),
                    });
                }
                Ok(ids)
            }
            (i, other) => Err(mismatch(i, "s", &other)),
        }
    }
}

/// Draws from a seeded generator.
pub struct Live {
    rng: SimRng,
}

impl Live {
    /// Draws from `rng`.
    pub fn new(rng: SimRng) -> Live {
        Live { rng }
    }
}

impl Draws for Live {
    fn random(&mut self) -> Result<f64, TickError> {
        Ok(self.rng.random::<f64>())
    }
    fn normal(&mut self, mean: f64, std: f64) -> Result<f64, TickError> {
        let d = Normal::new(mean, std)
            .map_err(|e| TickError::Param(format!("normal({mean}, {std}): {e}")))?;
        Ok(d.sample(&mut self.rng))
    }
    fn randint(&mut self, lo: i64, hi: i64) -> Result<i64, TickError> {
        Ok(self.rng.random_range(lo..hi))
    }
    fn sample(&mut self, population: &[u32], k: usize) -> Result<Vec<u32>, TickError> {
        Ok(
            sample(&mut self.rng, population.len(), k.min(population.len()))
                .into_iter()
                .map(|i| population[i])
                .collect(),
        )
    }
}

/// The chance of a big addition the notebook's simulation uses.
pub const NOTEBOOK_BIG_ADD_CHANCE: f64 = 0.05;

fn notebook_big_add_chance() -> f64 {
    NOTEBOOK_BIG_ADD_CHANCE
}

/// Inputs of the notebook's `run_simulation`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct TickParams {
    /// Chance of a preemption burst per minute (divided by 12 per tick).
    pub preemption_chance_per_minute: f64,
    /// Burst size mean (nodes).
    pub preempt_mean: f64,
    /// Burst size standard deviation.
    pub preempt_std: f64,
    /// Chance of an addition per minute.
    pub addition_chance_per_minute: f64,
    /// Regular addition size mean.
    pub add_mean: f64,
    /// Regular addition size standard deviation.
    pub add_std: f64,
    /// Chance that an addition is big (11–31 nodes): the notebook's 0.05.
    #[serde(default = "notebook_big_add_chance")]
    pub big_add_chance: f64,
    /// Simulated minutes (the notebook: the trace's 355).
    pub total_minutes: f64,
    /// Instances active at the start (32).
    pub initial_instances: u32,
    /// Nodes per pipeline (16).
    pub pipeline_depth: u32,
    /// Instance cap (64).
    pub inst_max: i64,
    /// No preemption at or below this many instances (0).
    pub inst_min: i64,
}

/// An event of the notebook's trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TickEvent {
    /// World size recorded with the event.
    pub ws: u32,
    /// µs since the start.
    pub t_us: i64,
    /// True for a reconfiguration, false for a step.
    pub reconfig: bool,
    /// Step number or reconfiguration count.
    pub id: u64,
}

fn seconds_to_us(s: f64) -> i64 {
    (s * 1e6).round_ties_even() as i64
}

/// The cluster as the notebook keeps it.
#[derive(Default)]
struct Cluster {
    active: BTreeSet<u32>,
    standby: BTreeSet<u32>,
    prepping: BTreeMap<u32, i64>,
    all: BTreeSet<u32>,
    next_id: u32,
}

fn sorted(set: &BTreeSet<u32>) -> Vec<u32> {
    set.iter().copied().collect()
}

/// What the notebook's simulation gave besides its trace: its progress,
/// where the wall time went, the cluster's changes and its cost.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TickOutcome {
    /// Simulated wall time, s.
    pub wall_s: f64,
    /// The notebook's last step id (it counts each resume as a step).
    pub last_step_id: u64,
    /// Iterations done and kept (not rolled back).
    pub iterations: u64,
    /// Samples trained: iterations kept × the profile's global batch.
    pub samples: f64,
    /// Samples per wall second.
    pub throughput: f64,
    /// Seconds in steps kept.
    pub useful_s: f64,
    /// Seconds reconfiguring (from a reconfiguration's start to training again).
    pub reconfiguration_s: f64,
    /// Seconds of steps lost to rollbacks (done after the last saved step).
    pub rollback_s: f64,
    /// Seconds with no world size to train at, outside reconfigurations.
    pub waiting_s: f64,
    /// The rest of the wall time: the iteration under way at the end, and
    /// the notebook's 5-second ticks between an iteration's end and the
    /// tick that notices it.
    pub other_s: f64,
    /// Reconfigurations (the trace's reconfig events).
    pub reconfigurations: u64,
    /// Instances preempted.
    pub preemptions: u64,
    /// Instances added.
    pub additions: u64,
    /// Mean instances alive (prepping, standby and active).
    pub mean_instances: f64,
    /// Instance-hours.
    pub node_hours: f64,
    /// Cost at spot prices, $ (see [`TickOutcome::priced`]).
    pub cost_spot: f64,
    /// Cost at on-demand prices, $.
    pub cost_on_demand: f64,
    /// Samples per spot dollar.
    pub samples_per_dollar: f64,
}

impl TickOutcome {
    /// The outcome with its costs at `prices` per instance-hour.
    pub fn priced(mut self, prices: crate::metrics::Prices) -> TickOutcome {
        (self.cost_spot, self.cost_on_demand, self.samples_per_dollar) =
            prices.costs(self.node_hours, self.samples);
        self
    }
}

/// Runs the notebook's simulation; returns its trace of steps and reconfigurations.
pub fn run(
    params: &TickParams,
    profile: &Profile,
    draws: &mut dyn Draws,
) -> Result<Vec<TickEvent>, TickError> {
    run_counted(params, profile, draws).map(|(trace, _)| trace)
}

/// [`run`], also counting what [`TickOutcome`] reports (the draws, and so
/// the trace, are the same).
pub fn run_counted(
    params: &TickParams,
    profile: &Profile,
    draws: &mut dyn Draws,
) -> Result<(Vec<TickEvent>, TickOutcome), TickError> {
    if params.pipeline_depth == 0 {
        return Err(TickError::Param("pipeline depth must be at least 1".into()));
    }
    let p = profile.rounded();
    let end = seconds_to_us(params.total_minutes * 60.0);
    let preempt_chance = params.preemption_chance_per_minute / 12.0;
    let add_chance = params.addition_chance_per_minute / 12.0;
    let depth = params.pipeline_depth as usize;
    let reconfig_us = seconds_to_us(p.reconfiguration_s);
    let ckpt_us = seconds_to_us(p.checkpoint_save_s);

    let mut c = Cluster::default();
    for _ in 0..params.initial_instances {
        c.all.insert(c.next_id);
        c.active.insert(c.next_id);
        c.next_id += 1;
    }
    let mut trace = vec![TickEvent {
        ws: params.initial_instances,
        t_us: 0,
        reconfig: false,
        id: 0,
    }];
    let (mut step, mut reconfig_cnt, mut last_saved, mut checkpoint_step) =
        (0u64, 0u64, 0u64, 0u64);
    let mut reconfig_end: Option<i64> = None;
    let (mut checkpoint_running, mut checkpoint_start) = (false, 0i64);
    let mut now = 0i64;
    let mut count = Counts::default();
    while now < end {
        count.instance_ticks += c.all.len() as u64;
        let all_len = c.all.len() as i64;
        let mut num_to_add = 0i64;
        if draws.random()? < add_chance {
            if draws.random()? < params.big_add_chance {
                num_to_add = draws.randint(11, 32)?;
                if all_len + num_to_add >= params.inst_max {
                    num_to_add = params.inst_max - all_len;
                }
            } else {
                let x = draws
                    .normal(params.add_mean, params.add_std)?
                    .round_ties_even()
                    .abs();
                num_to_add = x as i64;
                if x == 0.0 {
                    num_to_add = 1;
                } else if all_len + num_to_add >= params.inst_max {
                    num_to_add = params.inst_max - all_len;
                }
            }
        }
        let mut num_to_preempt = 0usize;
        if draws.random()? < preempt_chance && all_len > params.inst_min {
            let x = draws
                .normal(params.preempt_mean, params.preempt_std)?
                .round_ties_even()
                .abs();
            num_to_preempt = if x == 0.0 { 1 } else { x as usize };
        }
        let k = num_to_preempt.min(c.all.len());
        let preempted = if k > 0 {
            draws.sample(&sorted(&c.all), k)?
        } else {
            Vec::new()
        };
        count.preemptions += preempted.len() as u64;
        count.additions += num_to_add.max(0) as u64;
        let mut lost_active = false;
        for id in preempted {
            if c.active.remove(&id) {
                lost_active = true;
            } else if !c.standby.remove(&id) {
                c.prepping.remove(&id);
            }
            c.all.remove(&id);
        }
        let done: Vec<u32> = c
            .prepping
            .iter()
            .filter(|(_, since)| now - **since >= PREP_US)
            .map(|(id, _)| *id)
            .collect();
        for id in done {
            c.prepping.remove(&id);
            c.standby.insert(id);
        }
        for _ in 0..num_to_add.max(0) {
            c.all.insert(c.next_id);
            c.prepping.insert(c.next_id, now);
            c.next_id += 1;
        }
        let new_pipeline = c.standby.len() >= depth;
        let last = *trace.last().unwrap_or(&TickEvent {
            ws: 0,
            t_us: 0,
            reconfig: false,
            id: 0,
        });
        if checkpoint_running && now > checkpoint_start + ckpt_us {
            last_saved = checkpoint_step;
            checkpoint_running = false;
        }
        if !last.reconfig {
            if let Some((iter_s, _)) = p.iteration_time(last.ws) {
                let iter_end = last.t_us + seconds_to_us(iter_s);
                if now > iter_end {
                    if !checkpoint_running {
                        checkpoint_start = iter_end;
                        checkpoint_step = step;
                        checkpoint_running = true;
                    }
                    step += 1;
                    count.steps.push((step, iter_end - last.t_us));
                    trace.push(TickEvent {
                        ws: last.ws,
                        t_us: iter_end,
                        reconfig: false,
                        id: step,
                    });
                }
            } else {
                count.waiting_us += TICK_US;
            }
        } else if let Some(mut end_us) = reconfig_end {
            if lost_active || new_pipeline {
                end_us += reconfig_us;
            }
            reconfig_end = Some(end_us);
            if now > end_us {
                count.resume(last_saved, end_us);
                step = last_saved + 1;
                trace.push(TickEvent {
                    ws: c.active.len() as u32,
                    t_us: end_us,
                    reconfig: false,
                    id: step,
                });
                reconfig_end = None;
            }
        }
        if lost_active || new_pipeline {
            trace.push(TickEvent {
                ws: c.active.len() as u32,
                t_us: now,
                reconfig: true,
                id: reconfig_cnt,
            });
            reconfig_cnt += 1;
            if reconfig_end.is_none() {
                reconfig_end = Some(now + reconfig_us);
                count.reconfig_since = Some(now);
            }
            checkpoint_running = false;
            rearrange(&mut c, lost_active, new_pipeline, depth, draws)?;
        }
        now += TICK_US;
    }
    let outcome = count.outcome(end, step, reconfig_cnt, p.global_batch);
    Ok((trace, outcome))
}

/// What [`run_counted`] counts as the simulation goes.
#[derive(Default)]
struct Counts {
    /// Instances alive, summed over ticks.
    instance_ticks: u64,
    preemptions: u64,
    additions: u64,
    /// (step id, µs) of the steps done and not yet rolled back.
    steps: Vec<(u64, i64)>,
    rolled_back_us: i64,
    reconfiguring_us: i64,
    waiting_us: i64,
    /// When the reconfiguration under way started.
    reconfig_since: Option<i64>,
}

impl Counts {
    /// Training resumes at `at` from step `last_saved`: the reconfiguration
    /// ends, and the steps after the saved one are lost.
    fn resume(&mut self, last_saved: u64, at: i64) {
        if let Some(since) = self.reconfig_since.take() {
            self.reconfiguring_us += at - since;
        }
        while self.steps.last().is_some_and(|s| s.0 > last_saved) {
            if let Some((_, us)) = self.steps.pop() {
                self.rolled_back_us += us;
            }
        }
    }

    fn outcome(
        &self,
        end: i64,
        steps: u64,
        reconfigurations: u64,
        global_batch: u32,
    ) -> TickOutcome {
        let s = |us: i64| us as f64 / 1e6;
        let wall_s = s(end);
        // A reconfiguration still under way at the end lasts to the end.
        let reconfiguration_s =
            s(self.reconfiguring_us + self.reconfig_since.map_or(0, |since| end - since));
        let iterations = self.steps.len() as u64;
        let samples = iterations as f64 * f64::from(global_batch);
        let useful_s = s(self.steps.iter().map(|st| st.1).sum());
        let (rollback_s, waiting_s) = (s(self.rolled_back_us), s(self.waiting_us));
        let ticks = (end / TICK_US).max(1) as f64;
        let mean_instances = self.instance_ticks as f64 / ticks;
        TickOutcome {
            wall_s,
            last_step_id: steps,
            iterations,
            samples,
            throughput: if wall_s > 0.0 { samples / wall_s } else { 0.0 },
            useful_s,
            reconfiguration_s,
            rollback_s,
            waiting_s,
            other_s: wall_s - useful_s - reconfiguration_s - rollback_s - waiting_s,
            reconfigurations,
            preemptions: self.preemptions,
            additions: self.additions,
            mean_instances,
            node_hours: mean_instances * wall_s / 3600.0,
            cost_spot: 0.0,
            cost_on_demand: 0.0,
            samples_per_dollar: 0.0,
        }
    }
}

fn move_sampled(
    from: &mut BTreeSet<u32>,
    to: &mut BTreeSet<u32>,
    n: usize,
    draws: &mut dyn Draws,
) -> Result<(), TickError> {
    if n == 0 {
        return Ok(());
    }
    for id in draws.sample(&sorted(from), n)? {
        from.remove(&id);
        to.insert(id);
    }
    Ok(())
}

fn rearrange(
    c: &mut Cluster,
    lost: bool,
    new_pipeline: bool,
    depth: usize,
    draws: &mut dyn Draws,
) -> Result<(), TickError> {
    let diff = c.active.len() % depth;
    if lost && !new_pipeline {
        if c.standby.len() > depth - diff {
            move_sampled(&mut c.standby, &mut c.active, depth - diff, draws)
        } else {
            move_sampled(&mut c.active, &mut c.standby, diff, draws)
        }
    } else if !lost && new_pipeline {
        let n = c.standby.len() / depth * depth;
        move_sampled(&mut c.standby, &mut c.active, n, draws)
    } else {
        let n = c.standby.len() / depth * depth - diff;
        move_sampled(&mut c.standby, &mut c.active, n, draws)?;
        while c.standby.len() >= depth {
            move_sampled(&mut c.standby, &mut c.active, depth, draws)?;
        }
        Ok(())
    }
}
