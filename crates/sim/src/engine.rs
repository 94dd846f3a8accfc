//! The event-driven simulator: time jumps from event to event (a model's
//! change, a node done preparing, a reconfiguration or checkpoint ending),
//! and progress between events is computed, not stepped.
//!
//! Cluster semantics are the notebook's: an added node prepares for
//! `prep_s` (180 s), then waits in standby; training runs pipelines of
//! `pipeline_depth` nodes; the global batch is split across pipelines, so
//! an iteration takes the profile's time at the world size (active nodes).
//! Strategies:
//!
//! - `reconfigure` (the notebook): losing an active node, or having a full
//!   pipeline in standby, starts a reconfiguration (rearranging nodes as the
//!   notebook does) that rolls back to the last saved checkpoint; a change
//!   during a reconfiguration restarts its timer (the notebook adds a whole
//!   reconfiguration time instead: see [`crate::tick`]). Checkpoints are
//!   asynchronous: one starts at the first iteration end after the previous
//!   finished (and after `checkpoint_interval_s`), and saves when done.
//! - `checkpoint-restart`: a fixed world size; every loss stops the job,
//!   which rolls back, waits until the full world size is ready, and
//!   restarts (loading the checkpoint). Checkpoints are synchronous, every
//!   `checkpoint_interval_s` of compute, stalling training.
//! - `elastic-restart` (Varuna): like checkpoint-restart (synchronous
//!   checkpoints every `checkpoint_interval_s`, roll back on a loss), but
//!   it restarts at once on the nodes left, the largest whole number of
//!   pipelines up to its world size, at that size's iteration time; when
//!   nodes return it grows back at the next checkpoint (restarting from it,
//!   loading it). With one pipeline it cannot shrink: it is checkpoint-restart.
//! - `redundant` (Bamboo): every node also computes its neighbour stage,
//!   which slows iterations by `redundancy_overhead`; a lost node is absorbed
//!   by its neighbour (iterations slow by `degraded_slowdown` until it is
//!   replaced at the next reconfiguration, without rollback); only losing
//!   two adjacent stages of one pipeline loses the pipeline and rolls back.

use crate::metrics::{Prices, SimResult, TimeSplit};
use crate::model::{Change, ModelEvent, PreemptionModel, SimRng};
use expost_model::profile::Profile;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// How training reacts to preemptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// The notebook's elastic reconfiguration with asynchronous checkpoints.
    Reconfigure,
    /// Fixed world size; stop, wait for replacements and restart from the last checkpoint.
    CheckpointRestart,
    /// Bamboo's redundant computation.
    Redundant,
    /// Varuna's elastic restart: roll back and restart at once on the nodes
    /// left (whole pipelines), grow back at the next checkpoint.
    ElasticRestart,
}

impl Strategy {
    /// The name on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Reconfigure => "reconfigure",
            Strategy::CheckpointRestart => "checkpoint-restart",
            Strategy::Redundant => "redundant",
            Strategy::ElasticRestart => "elastic-restart",
        }
    }

    /// Whether it stops and restarts from checkpoints taken synchronously
    /// every interval, at a world size it is given (`checkpoint-restart`,
    /// `elastic-restart`), rather than reconfiguring a running job.
    pub fn restarts(self) -> bool {
        matches!(self, Strategy::CheckpointRestart | Strategy::ElasticRestart)
    }
}

/// Settings of one simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    /// The strategy.
    pub strategy: Strategy,
    /// Simulated wall time, s.
    pub duration_s: f64,
    /// Nodes ready at the start (placed in pipelines at once).
    pub initial_nodes: u32,
    /// Most instances alive at once; additions beyond it are dropped (the notebook's 64).
    pub max_instances: u32,
    /// Nodes per pipeline (1–64).
    pub pipeline_depth: u32,
    /// Time a new node prepares before it can be used, s.
    pub prep_s: f64,
    /// Compute seconds between checkpoints (0: back to back, asynchronous
    /// strategies only).
    pub checkpoint_interval_s: f64,
    /// World size of checkpoint-restart; `None`: the initial nodes rounded
    /// down to whole pipelines.
    pub world_size: Option<u32>,
    /// Redundant: iteration slowdown of redundant computation (0.1 = 10 % slower).
    pub redundancy_overhead: f64,
    /// Redundant: further slowdown factor while any pipeline runs with a lost stage.
    pub degraded_slowdown: f64,
    /// Prices per node-hour.
    pub prices: Prices,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            strategy: Strategy::Reconfigure,
            duration_s: 24.0 * 3600.0,
            initial_nodes: 32,
            max_instances: 64,
            pipeline_depth: 16,
            prep_s: 180.0,
            checkpoint_interval_s: 0.0,
            world_size: None,
            redundancy_overhead: 0.1,
            degraded_slowdown: 1.5,
            prices: Prices::default(),
        }
    }
}

/// A setting that makes no sense.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl SimConfig {
    /// Checks the settings against each other and the profile.
    pub fn validate(&self, profile: &Profile) -> Result<(), ConfigError> {
        self.check()?;
        if profile.iteration_s.is_empty() {
            return Err(ConfigError("the profile has no iteration time".into()));
        }
        Ok(())
    }

    /// Checks the settings against each other, without a profile (the
    /// option checks made before any input is read).
    pub fn check(&self) -> Result<(), ConfigError> {
        let err = |m: String| Err(ConfigError(m));
        if !(self.duration_s.is_finite() && self.duration_s > 0.0) {
            return err(format!("duration {} s must be positive", self.duration_s));
        }
        if !(1..=64).contains(&self.pipeline_depth) {
            return err(format!(
                "pipeline depth {} must be between 1 and 64",
                self.pipeline_depth
            ));
        }
        if self.initial_nodes > self.max_instances {
            return err(format!(
                "{} initial nodes exceed the instance limit {}",
                self.initial_nodes, self.max_instances
            ));
        }
        if self.pipeline_depth > self.max_instances {
            return err(format!(
                "pipeline depth {} is larger than the cluster ({} instances at most)",
                self.pipeline_depth, self.max_instances
            ));
        }
        if !(self.prep_s.is_finite() && self.prep_s >= 0.0) {
            return err(format!("preparation time {} s must be ≥ 0", self.prep_s));
        }
        if !(self.checkpoint_interval_s.is_finite() && self.checkpoint_interval_s >= 0.0) {
            return err(format!(
                "checkpoint interval {} s must be ≥ 0",
                self.checkpoint_interval_s
            ));
        }
        if self.strategy.restarts() {
            if self.checkpoint_interval_s <= 0.0 {
                return err(format!(
                    "{} needs a checkpoint interval > 0 s",
                    self.strategy.name()
                ));
            }
            let ws = self.world_size();
            if ws == 0 || ws % self.pipeline_depth != 0 || ws > self.max_instances {
                return err(format!(
                    "world size {ws} must be a positive multiple of the pipeline depth {} within {} instances",
                    self.pipeline_depth, self.max_instances
                ));
            }
        }
        let redundancy_ok = self.redundancy_overhead.is_finite() && self.redundancy_overhead >= 0.0;
        let slowdown_ok = self.degraded_slowdown.is_finite() && self.degraded_slowdown >= 1.0;
        if !(redundancy_ok && slowdown_ok) {
            return err("redundancy overhead must be ≥ 0 and the degraded slowdown ≥ 1".into());
        }
        if !(self.prices.spot >= 0.0 && self.prices.on_demand >= 0.0) {
            return err("prices must be ≥ 0".into());
        }
        Ok(())
    }

    /// The checkpoint-restart world size.
    pub fn world_size(&self) -> u32 {
        self.world_size
            .unwrap_or(self.initial_nodes / self.pipeline_depth.max(1) * self.pipeline_depth)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Running,
    Reconfiguring { until: f64 },
    Stalled { until: f64, iteration: f64 },
    Waiting,
}

/// A checkpoint: started at `start` (an iteration end) saving `iteration`,
/// after `running` seconds of cumulative compute; done at `end`.
#[derive(Debug, Clone, Copy)]
struct Checkpoint {
    start: f64,
    end: f64,
    iteration: f64,
    running: f64,
}

/// One simulation in progress.
struct Sim<'a> {
    cfg: &'a SimConfig,
    profile: &'a Profile,
    rng: &'a mut SimRng,
    now: f64,
    // Nodes.
    prepping: VecDeque<f64>,
    standby: u32,
    active: u32,
    pipes: Vec<u64>,
    // Training.
    phase: Phase,
    phase_since: f64,
    seg_start: f64,
    seg_iteration: f64,
    seg_running: f64,
    iter_s: f64,
    saved_iteration: f64,
    saved_running: f64,
    checkpoint: Option<Checkpoint>,
    // Accounting.
    running_s: f64,
    split: TimeSplit,
    result: SimResult,
    last_count_change: f64,
}

/// Runs one simulation of `model` under `cfg`. `cfg` must have passed
/// [`SimConfig::validate`].
pub fn simulate(
    cfg: &SimConfig,
    profile: &Profile,
    model: &mut dyn PreemptionModel,
    rng: &mut SimRng,
) -> SimResult {
    simulate_until(cfg, profile, model, rng, &|| false)
        .expect("a simulation that is never stopped finishes")
}

/// How many events a simulation handles between two looks at its stop flag.
const EVENTS_BETWEEN_STOP_CHECKS: u32 = 1024;

/// [`simulate`], looking at `stop` every thousand events or so (cheap):
/// `None` when it said to stop (Ctrl-C) before the simulated time ended.
pub fn simulate_until(
    cfg: &SimConfig,
    profile: &Profile,
    model: &mut dyn PreemptionModel,
    rng: &mut SimRng,
    stop: &dyn Fn() -> bool,
) -> Option<SimResult> {
    let mut sim = Sim {
        cfg,
        profile,
        rng,
        now: 0.0,
        prepping: VecDeque::new(),
        standby: cfg.initial_nodes,
        active: 0,
        pipes: Vec::new(),
        phase: Phase::Waiting,
        phase_since: 0.0,
        seg_start: 0.0,
        seg_iteration: 0.0,
        seg_running: 0.0,
        iter_s: 0.0,
        saved_iteration: 0.0,
        saved_running: 0.0,
        checkpoint: None,
        running_s: 0.0,
        split: TimeSplit::default(),
        result: SimResult::default(),
        last_count_change: 0.0,
    };
    sim.start();
    let mut pending = model.next(0.0, sim.instances(), sim.rng);
    let mut until_check = EVENTS_BETWEEN_STOP_CHECKS;
    loop {
        until_check -= 1;
        if until_check == 0 {
            if stop() {
                return None;
            }
            until_check = EVENTS_BETWEEN_STOP_CHECKS;
        }
        let model_t = pending.map_or(f64::INFINITY, |e| e.t.max(sim.now));
        let prep_t = sim.prepping.front().copied().unwrap_or(f64::INFINITY);
        let phase_t = match sim.phase {
            Phase::Reconfiguring { until } | Phase::Stalled { until, .. } => until,
            _ => f64::INFINITY,
        };
        let ckpt_t = sim.checkpoint_event_time();
        let t = model_t.min(prep_t).min(phase_t).min(ckpt_t);
        if t >= cfg.duration_s {
            break;
        }
        sim.now = t;
        if ckpt_t == t {
            sim.on_checkpoint_event();
        } else if phase_t == t {
            sim.on_phase_end();
        } else if prep_t == t {
            // Nodes ready at one instant join together: one change.
            while sim.prepping.front() == Some(&t) {
                sim.prepping.pop_front();
                sim.standby += 1;
            }
            sim.on_node_ready();
        } else if let Some(e) = pending {
            sim.apply(e);
            pending = model.next(t, sim.instances(), sim.rng);
        }
    }
    Some(sim.finish())
}

impl Sim<'_> {
    fn instances(&self) -> u32 {
        self.prepping.len() as u32 + self.standby + self.active
    }

    fn depth(&self) -> u32 {
        self.cfg.pipeline_depth
    }

    /// Accrues the time since the last phase change to the current phase.
    fn close_phase(&mut self) {
        let dt = self.now - self.phase_since;
        match self.phase {
            Phase::Running => self.running_s += dt,
            Phase::Reconfiguring { .. } => self.split.reconfiguration_s += dt,
            Phase::Stalled { .. } => self.split.checkpoint_stall_s += dt,
            Phase::Waiting => self.split.waiting_s += dt,
        }
        self.phase_since = self.now;
    }

    fn set_phase(&mut self, phase: Phase) {
        self.close_phase();
        self.phase = phase;
    }

    /// Iterations done at `t` in the current running segment.
    fn iteration_at(&self, t: f64) -> f64 {
        self.seg_iteration + (t - self.seg_start) / self.iter_s
    }

    fn running_at(&self, t: f64) -> f64 {
        self.seg_running + (t - self.seg_start)
    }

    fn start(&mut self) {
        match self.cfg.strategy {
            Strategy::ElasticRestart => {
                let ws = self.elastic_size();
                if ws > 0 {
                    self.standby -= ws;
                    self.active = ws;
                    self.begin_running();
                }
            }
            Strategy::CheckpointRestart => {
                let ws = self.cfg.world_size();
                if self.standby >= ws {
                    self.standby -= ws;
                    self.active = ws;
                    self.begin_running();
                }
            }
            Strategy::Reconfigure => {
                let pipelines = self.standby / self.depth();
                self.active = pipelines * self.depth();
                self.standby -= self.active;
                if self.active > 0 {
                    self.begin_running();
                }
            }
            Strategy::Redundant => {
                self.form_pipelines();
                if self.active > 0 {
                    self.begin_running();
                }
            }
        }
    }

    /// Starts a running segment at `now` from the current progress.
    fn begin_running(&mut self) {
        let Some((t, _)) = self.profile.iteration_time(self.world_size_now()) else {
            self.set_phase(Phase::Waiting);
            return;
        };
        self.set_phase(Phase::Running);
        self.iter_s = t * self.speed_factor();
        self.seg_start = self.now;
        self.seg_running = self.running_s;
        self.schedule_checkpoint();
    }

    /// The world size used for iteration times: active nodes, or for
    /// `redundant` the nominal size of the pipelines (a lost stage's work is
    /// done by its neighbour, as the slowdown says).
    fn world_size_now(&self) -> u32 {
        match self.cfg.strategy {
            Strategy::Redundant => self.pipes.len() as u32 * self.depth(),
            _ => self.active,
        }
    }

    fn speed_factor(&self) -> f64 {
        if self.cfg.strategy != Strategy::Redundant {
            return 1.0;
        }
        let degraded = self.pipes.iter().any(|p| *p != 0);
        (1.0 + self.cfg.redundancy_overhead)
            * if degraded {
                self.cfg.degraded_slowdown
            } else {
                1.0
            }
    }

    /// Ends the running segment at `now`, folding its progress in.
    fn pause_running(&mut self) {
        if self.phase == Phase::Running {
            self.seg_iteration = self.iteration_at(self.now);
            self.close_phase();
        }
    }

    /// The next checkpoint, from the current segment: at the first
    /// iteration end at or after both the previous checkpoint's end (or now)
    /// and `interval` after the saved iteration's compute.
    fn schedule_checkpoint(&mut self) {
        if self
            .checkpoint
            .is_some_and(|c| c.start <= self.now && c.end > self.now)
        {
            return; // An asynchronous checkpoint in flight goes on.
        }
        self.checkpoint = None;
        if self.phase != Phase::Running {
            return;
        }
        let interval = self.cfg.checkpoint_interval_s;
        let sync = self.cfg.strategy.restarts();
        // Earliest compute time (cumulative running seconds) for the next start.
        let min_running = self.saved_running + interval;
        let t_min = self.seg_start + (min_running - self.seg_running).max(0.0);
        let k = self
            .iteration_at(t_min.max(self.now))
            .ceil()
            .max(self.seg_iteration.floor() + 1.0);
        let k = k.max(self.saved_iteration + 1.0);
        let start = self.seg_start + (k - self.seg_iteration) * self.iter_s;
        let save = self.profile.checkpoint_save_s;
        self.checkpoint = Some(Checkpoint {
            start,
            end: if sync { start } else { start + save },
            iteration: k,
            running: self.running_at(start),
        });
    }

    fn checkpoint_event_time(&self) -> f64 {
        match (self.phase, self.checkpoint) {
            (Phase::Running, Some(c)) => c.end,
            _ => f64::INFINITY,
        }
    }

    /// An asynchronous checkpoint finished, or a synchronous one is due.
    fn on_checkpoint_event(&mut self) {
        let Some(c) = self.checkpoint.take() else {
            return;
        };
        if self.cfg.strategy.restarts() {
            self.pause_running();
            self.seg_iteration = c.iteration;
            self.set_phase(Phase::Stalled {
                until: self.now + self.profile.checkpoint_save_s,
                iteration: c.iteration,
            });
        } else {
            self.saved_iteration = c.iteration;
            self.saved_running = c.running;
            self.result.checkpoints += 1;
            if self.phase == Phase::Running {
                self.schedule_checkpoint();
            }
        }
    }

    fn on_phase_end(&mut self) {
        match self.phase {
            Phase::Stalled { iteration, .. } => {
                self.saved_iteration = iteration;
                self.saved_running = self.running_s;
                self.result.checkpoints += 1;
                if !self.grow_at_checkpoint() {
                    self.begin_running();
                }
            }
            Phase::Reconfiguring { .. } => {
                if self.cfg.strategy == Strategy::Redundant {
                    self.form_pipelines();
                }
                if self.world_size_now() > 0 {
                    self.begin_running();
                } else {
                    self.set_phase(Phase::Waiting);
                }
            }
            _ => {}
        }
    }

    /// Drops progress back to the last saved checkpoint.
    fn rollback(&mut self) {
        if matches!(self.phase, Phase::Running | Phase::Stalled { .. }) {
            self.result.rollbacks += 1;
        }
        self.pause_running();
        let lost = self.running_s - self.saved_running;
        self.split.rollback_s += lost;
        self.running_s = self.saved_running;
        self.seg_iteration = self.saved_iteration;
        self.checkpoint = None;
    }

    fn reconfigure(&mut self, duration: f64, rollback: bool) {
        if rollback {
            self.rollback();
        } else {
            self.pause_running();
            self.checkpoint = None;
        }
        // Changes at one instant make one reconfiguration (its timer
        // starts again; nothing ran in between to roll back).
        let started_now =
            matches!(self.phase, Phase::Reconfiguring { .. }) && self.phase_since == self.now;
        if !started_now {
            self.result.reconfigurations += 1;
        }
        self.set_phase(Phase::Reconfiguring {
            until: self.now + duration,
        });
    }

    fn accrue_nodes(&mut self) {
        let n = f64::from(self.instances());
        self.result.node_hours += n * (self.now - self.last_count_change) / 3600.0;
        self.last_count_change = self.now;
    }

    fn apply(&mut self, e: ModelEvent) {
        self.accrue_nodes();
        match e.change {
            Change::Add(k) => {
                let room = self.cfg.max_instances.saturating_sub(self.instances());
                let k = k.min(room);
                self.result.additions += u64::from(k);
                for _ in 0..k {
                    self.prepping.push_back(self.now + self.cfg.prep_s);
                }
            }
            Change::Remove(k) => {
                let k = k.min(self.instances());
                self.result.preemptions += u64::from(k);
                self.remove(k);
            }
        }
    }

    /// Removes `k` instances chosen uniformly among all live ones.
    fn remove(&mut self, k: u32) {
        let mut lost_active = 0;
        let mut pipeline_lost = false;
        for _ in 0..k {
            let n = self.instances();
            if n == 0 {
                break;
            }
            let r = self.rng.random_range(0..n);
            let p = self.prepping.len() as u32;
            if r < p {
                self.prepping.remove(r as usize);
            } else if r < p + self.standby {
                self.standby -= 1;
            } else {
                lost_active += 1;
                pipeline_lost |= self.lose_active(r - p - self.standby);
            }
        }
        if lost_active > 0 {
            self.on_active_lost(pipeline_lost);
        }
    }

    /// Removes the `index`-th live active node; true if (redundant) its
    /// pipeline is lost with it.
    fn lose_active(&mut self, index: u32) -> bool {
        self.active -= 1;
        if self.cfg.strategy != Strategy::Redundant {
            return false;
        }
        let depth = self.depth();
        let mut left = index;
        for i in 0..self.pipes.len() {
            let live = depth - self.pipes[i].count_ones();
            if left >= live {
                left -= live;
                continue;
            }
            let slot = (0..depth)
                .filter(|s| self.pipes[i] & (1 << s) == 0)
                .nth(left as usize)
                .unwrap_or(0);
            let dead = self.pipes[i];
            let neighbour_dead = (slot > 0 && dead & (1 << (slot - 1)) != 0)
                || (slot + 1 < depth && dead & (1 << (slot + 1)) != 0);
            self.pipes[i] |= 1 << slot;
            if neighbour_dead {
                let survivors = depth - self.pipes[i].count_ones();
                self.active -= survivors;
                self.standby += survivors;
                self.pipes.swap_remove(i);
                return true;
            }
            return false;
        }
        false
    }

    fn on_active_lost(&mut self, pipeline_lost: bool) {
        let reconfig = self.profile.reconfiguration_s;
        match self.cfg.strategy {
            Strategy::Reconfigure => {
                let new_pipeline = self.standby >= self.depth();
                self.rearrange(true, new_pipeline);
                self.reconfigure(reconfig, true);
            }
            Strategy::ElasticRestart => {
                if matches!(self.phase, Phase::Running | Phase::Stalled { .. }) {
                    self.rollback();
                }
                self.standby += self.active;
                self.active = 0;
                self.set_phase(Phase::Waiting);
                self.elastic_restart();
            }
            Strategy::CheckpointRestart => {
                if matches!(self.phase, Phase::Running | Phase::Stalled { .. }) {
                    self.rollback();
                }
                if self.phase != Phase::Waiting {
                    self.set_phase(Phase::Waiting);
                }
                self.standby += self.active;
                self.active = 0;
                self.try_restart();
            }
            Strategy::Redundant => {
                if pipeline_lost {
                    self.reconfigure(reconfig, true);
                } else if self.phase == Phase::Running {
                    // Absorbed: continue, slower, from the current progress.
                    self.pause_running();
                    self.begin_running();
                }
            }
        }
    }

    fn on_node_ready(&mut self) {
        let depth = self.depth();
        match self.cfg.strategy {
            Strategy::Reconfigure => {
                if self.standby >= depth {
                    self.rearrange(false, true);
                    self.reconfigure(self.profile.reconfiguration_s, true);
                }
            }
            Strategy::CheckpointRestart => self.try_restart(),
            // Stopped for want of a pipeline: start; running: grow at the
            // next checkpoint.
            Strategy::ElasticRestart => {
                if self.phase == Phase::Waiting {
                    self.elastic_restart();
                }
            }
            Strategy::Redundant => {
                let holes = self.pipes.iter().any(|p| *p != 0);
                if matches!(self.phase, Phase::Running | Phase::Waiting)
                    && (holes || self.standby >= depth)
                {
                    self.reconfigure(self.profile.reconfiguration_s, false);
                }
            }
        }
    }

    /// Elastic restart: the world size it can run at now, the nodes
    /// ready in whole pipelines, at most its world size.
    fn elastic_size(&self) -> u32 {
        let ready = self.active + self.standby;
        (ready / self.depth() * self.depth()).min(self.cfg.world_size())
    }

    /// Elastic restart, stopped: restart from the last checkpoint on the
    /// nodes there are (loading it), or wait for a whole pipeline.
    fn elastic_restart(&mut self) {
        let ws = self.elastic_size();
        if ws == 0 {
            return;
        }
        self.standby -= ws - self.active;
        self.active = ws;
        self.reconfigure(self.profile.checkpoint_load_s, false);
    }

    /// Elastic restart, a checkpoint just saved: with more nodes ready than
    /// it runs on (up to its world size), it restarts larger from that
    /// checkpoint. Returns whether it did.
    fn grow_at_checkpoint(&mut self) -> bool {
        if self.cfg.strategy != Strategy::ElasticRestart || self.elastic_size() <= self.active {
            return false;
        }
        let ws = self.elastic_size();
        self.standby -= ws - self.active;
        self.active = ws;
        self.reconfigure(self.profile.checkpoint_load_s, false);
        true
    }

    /// Checkpoint-restart: when stopped and the full world size is ready, restart.
    fn try_restart(&mut self) {
        if matches!(self.phase, Phase::Running | Phase::Stalled { .. }) {
            return;
        }
        let ws = self.cfg.world_size();
        if self.active + self.standby >= ws {
            let needed = ws - self.active;
            self.standby -= needed;
            self.active = ws;
            self.reconfigure(self.profile.checkpoint_load_s, false);
        } else if self.phase != Phase::Waiting {
            self.set_phase(Phase::Waiting);
        }
    }

    /// The notebook's node moves when a reconfiguration starts.
    fn rearrange(&mut self, lost_active: bool, new_pipeline: bool) {
        let depth = self.depth();
        let diff = self.active % depth;
        if lost_active && !new_pipeline {
            if self.standby > depth - diff {
                let n = depth - diff;
                self.standby -= n;
                self.active += n;
            } else {
                self.active -= diff;
                self.standby += diff;
            }
        } else if !lost_active && new_pipeline {
            let n = self.standby / depth * depth;
            self.standby -= n;
            self.active += n;
        } else if lost_active && new_pipeline {
            let n = self.standby / depth * depth - diff;
            self.standby -= n;
            self.active += n;
            let more = self.standby / depth * depth;
            self.standby -= more;
            self.active += more;
        }
    }

    /// Redundant: fills lost stages from standby, then forms new pipelines.
    fn form_pipelines(&mut self) {
        let depth = self.depth();
        for p in &mut self.pipes {
            while *p != 0 && self.standby > 0 {
                *p &= *p - 1;
                self.standby -= 1;
                self.active += 1;
            }
        }
        while self.standby >= depth
            && (self.pipes.len() as u32 + 1) * depth <= self.cfg.max_instances
        {
            self.pipes.push(0);
            self.standby -= depth;
            self.active += depth;
        }
    }

    fn finish(mut self) -> SimResult {
        self.now = self.cfg.duration_s;
        self.accrue_nodes();
        let iterations = if self.phase == Phase::Running {
            self.iteration_at(self.now)
        } else {
            self.seg_iteration
        };
        self.close_phase();
        self.split.useful_s = self.running_s;
        self.result.wall_s = self.cfg.duration_s;
        self.result.iterations = iterations;
        self.result.split = self.split;
        self.result
            .finish(self.profile.global_batch, self.cfg.prices);
        self.result
    }
}

#[cfg(test)]
mod tests;
