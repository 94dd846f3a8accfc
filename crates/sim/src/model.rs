//! Preemption models: where node removals and additions come from.
//!
//! - [`Replay`]: a trace, with a start offset and a time scale.
//! - [`MinuteModel`]: the notebook's fitted model: in each period (a minute),
//!   a preemption burst with some chance (size |round(normal)|, at least 1)
//!   and an addition with some chance (5 % of them big: 11–31 nodes).
//! - [`Poisson`]: every node is preempted at a constant hourly rate, and
//!   each preempted node is replaced (a new one requested) after a delay.
//!
//! All draw from the simulation's seeded [`SimRng`].

use crate::trace_stats::Summary;
use expost_model::spot::Trace;
use rand::Rng;
use rand_distr::{Distribution, Exp, Geometric, Normal};
use serde::Serialize;
use std::collections::VecDeque;

/// The simulator's random number generator (ChaCha8: seedable, with
/// independent streams, the same on every platform).
pub type SimRng = rand_chacha::ChaCha8Rng;

/// A change the model asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Change {
    /// Remove this many nodes, chosen uniformly among the live instances.
    Remove(u32),
    /// Add this many nodes (capped by the simulation's instance limit).
    Add(u32),
}

/// A change at a time (seconds since the simulation's start).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ModelEvent {
    /// When, s.
    pub t: f64,
    /// What.
    pub change: Change,
}

/// A source of node removals and additions.
pub trait PreemptionModel {
    /// The next change at or after `now`, given `instances` live now;
    /// `None` when there will be no more. Called after every change the
    /// model returned was applied (so a model whose rate depends on the
    /// number of instances sees every change of it).
    fn next(&mut self, now: f64, instances: u32, rng: &mut SimRng) -> Option<ModelEvent>;
}

/// Replays a trace's joins and leaves.
#[derive(Debug, Clone)]
pub struct Replay {
    events: Vec<ModelEvent>,
    next: usize,
    /// Nodes live at the replay's start.
    pub initial: u32,
}

impl Replay {
    /// Replays `trace` from trace time `offset_s`, with simulated time =
    /// (trace time − offset) × `scale`. Changes before the offset fold into
    /// the initial count. Returns `None` for removal-only traces (they do
    /// not say when nodes join).
    pub fn new(trace: &Trace, offset_s: f64, scale: f64) -> Option<Replay> {
        if !trace.format.has_joins() {
            return None;
        }
        let mut initial = trace.initial;
        let mut events = Vec::new();
        for e in &trace.events {
            if e.t < offset_s {
                initial += e.delta;
                continue;
            }
            let t = (e.t - offset_s) * scale;
            let change = if e.delta > 0 {
                Change::Add(e.delta as u32)
            } else {
                Change::Remove((-e.delta) as u32)
            };
            events.push(ModelEvent { t, change });
        }
        Some(Replay {
            events,
            next: 0,
            initial: initial.max(0) as u32,
        })
    }

    /// Simulated seconds covered by the replay's events.
    pub fn span(&self) -> f64 {
        self.events.last().map_or(0.0, |e| e.t)
    }
}

impl PreemptionModel for Replay {
    fn next(&mut self, _now: f64, _instances: u32, _rng: &mut SimRng) -> Option<ModelEvent> {
        let e = self.events.get(self.next).copied();
        self.next += 1;
        e
    }
}

/// Parameters of the notebook's per-period model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MinuteParams {
    /// Period, s (60: the notebook's fit is per minute).
    pub period_s: f64,
    /// Chance of a preemption burst in a period.
    pub preempt_chance: f64,
    /// Mean and standard deviation of the burst size (nodes).
    pub preempt_mean: f64,
    /// Standard deviation of the burst size.
    pub preempt_std: f64,
    /// Chance of an addition in a period.
    pub add_chance: f64,
    /// Chance that an addition is big (11–31 nodes): fitted, the share of
    /// additions above 10 nodes (the notebook's simulation uses 0.05).
    pub big_add_chance: f64,
    /// Mean of a regular addition's size (nodes).
    pub add_mean: f64,
    /// Standard deviation of a regular addition's size.
    pub add_std: f64,
}

/// Fitting a per-minute model needs joins and removals.
#[derive(Debug, thiserror::Error)]
#[error("cannot fit the per-minute model: {0}")]
pub struct FitError(String);

impl MinuteParams {
    /// Fits the notebook's model to a trace: chance per minute = minutes
    /// with a removal (addition) ÷ minutes of trace; burst sizes' mean and
    /// standard deviation; additions above 10 nodes are "big", and their
    /// share is `big_add_chance`.
    pub fn fit(trace: &Trace) -> Result<MinuteParams, FitError> {
        let minutes = trace.duration / 60.0;
        if minutes <= 0.0 {
            return Err(FitError("the trace spans no time".into()));
        }
        let mut per_minute: Vec<(i64, i64, i64)> = Vec::new();
        for e in &trace.events {
            let m = (e.t / 60.0).floor() as i64;
            if per_minute.last().is_none_or(|l| l.0 != m) {
                per_minute.push((m, 0, 0));
            }
            if let Some(last) = per_minute.last_mut() {
                if e.delta < 0 {
                    last.1 -= e.delta;
                } else {
                    last.2 += e.delta;
                }
            }
        }
        let bursts: Vec<f64> = per_minute
            .iter()
            .filter(|m| m.1 > 0)
            .map(|m| m.1 as f64)
            .collect();
        let adds: Vec<f64> = per_minute
            .iter()
            .filter(|m| m.2 > 0)
            .map(|m| m.2 as f64)
            .collect();
        let regular: Vec<f64> = adds.iter().copied().filter(|a| *a <= 10.0).collect();
        let b = Summary::of(&bursts).ok_or_else(|| FitError("the trace has no removals".into()))?;
        let (add_chance, big, r_mean, r_std) = match Summary::of(&regular) {
            Some(r) => (
                adds.len() as f64 / minutes,
                (adds.len() - regular.len()) as f64 / adds.len() as f64,
                r.mean,
                r.std,
            ),
            None => (
                adds.len() as f64 / minutes,
                if adds.is_empty() { 0.0 } else { 1.0 },
                1.0,
                0.0,
            ),
        };
        Ok(MinuteParams {
            period_s: 60.0,
            preempt_chance: (bursts.len() as f64 / minutes).min(1.0),
            preempt_mean: b.mean,
            preempt_std: b.std,
            add_chance: add_chance.min(1.0),
            big_add_chance: big,
            add_mean: r_mean,
            add_std: r_std,
        })
    }
}

/// The notebook's parameters as its cells compute them from two traces:
/// additions from the node-count trace `add` (each rise between rows is
/// one addition; those above 10 nodes are big), preemption bursts from the
/// terminate trace `remove` (one burst per row); the chance of each per
/// minute is the number of them over the node trace's minutes; sizes'
/// standard deviations are sample ones (pandas' `var`).
///
/// # Errors
/// When `add` spans no time, or either trace gives none of what it is for.
pub fn fit_notebook(add: &Trace, remove: &Trace) -> Result<MinuteParams, FitError> {
    let minutes = add.duration / 60.0;
    if minutes <= 0.0 {
        return Err(FitError("the additions trace spans no time".into()));
    }
    let bursts: Vec<f64> = (remove.events.iter())
        .filter(|e| e.delta < 0)
        .map(|e| -e.delta as f64)
        .collect();
    let adds: Vec<f64> = (add.events.iter())
        .filter(|e| e.delta > 0)
        .map(|e| e.delta as f64)
        .collect();
    let regular: Vec<f64> = adds.iter().copied().filter(|a| *a <= 10.0).collect();
    let b = Summary::of(&bursts)
        .ok_or_else(|| FitError("the removals trace has no removals".into()))?;
    let r = Summary::of(&regular).ok_or_else(|| {
        FitError("the additions trace has no addition of 10 nodes or fewer".into())
    })?;
    Ok(MinuteParams {
        period_s: 60.0,
        preempt_chance: (bursts.len() as f64 / minutes).min(1.0),
        preempt_mean: b.mean,
        preempt_std: b.std,
        add_chance: (adds.len() as f64 / minutes).min(1.0),
        big_add_chance: (adds.len() - regular.len()) as f64 / adds.len() as f64,
        add_mean: r.mean,
        add_std: r.std,
    })
}

/// Per-minute traces drawn from the notebook's generator, as its
/// "recreation of a preemption trace" cell writes them
/// (`generated-preemptions-trace.csv`, `generated-additions-trace.csv`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GeneratedTraces {
    /// (minute, nodes preempted) for each minute with a burst.
    pub preemptions: Vec<(u64, u32)>,
    /// (minute, nodes added) for each minute with an addition.
    pub additions: Vec<(u64, u32)>,
}

/// Draws `minutes` minutes of the notebook's generator: each minute a
/// burst with `preempt_chance` (size |round(normal)|, at least 1) and an
/// addition with `add_chance` (big, 11–31 nodes, with `big_add_chance`,
/// else |round(normal)|, at least 1). Like the cell, it caps nothing.
pub fn generate_minutes(params: &MinuteParams, minutes: u64, rng: &mut SimRng) -> GeneratedTraces {
    let size = |rng: &mut SimRng, mean: f64, std: f64| -> u32 {
        let x = Normal::new(mean, std.max(0.0))
            .map(|n| n.sample(rng))
            .unwrap_or(mean)
            .round_ties_even()
            .abs();
        (x as u32).max(1)
    };
    let mut out = GeneratedTraces::default();
    for minute in 0..minutes {
        let (preempt_now, add_now) = (rng.random::<f64>(), rng.random::<f64>());
        if preempt_now < params.preempt_chance {
            let n = size(rng, params.preempt_mean, params.preempt_std);
            out.preemptions.push((minute, n));
        }
        if add_now < params.add_chance {
            let n = if rng.random::<f64>() < params.big_add_chance {
                rng.random_range(11..32)
            } else {
                size(rng, params.add_mean, params.add_std)
            };
            out.additions.push((minute, n));
        }
    }
    out
}

/// The notebook's per-period model, drawing the next period with a burst
/// directly (geometric gaps), so idle periods cost nothing.
#[derive(Debug, Clone)]
pub struct MinuteModel {
    params: MinuteParams,
    preempt_size: Normal<f64>,
    add_size: Normal<f64>,
    next_preempt: Option<u64>,
    next_add: Option<u64>,
    started: bool,
}

/// A model parameter that makes no sense.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ModelError(pub String);

impl MinuteModel {
    /// A model with `params`, which must be probabilities in [0, 1] and
    /// finite sizes.
    pub fn new(params: MinuteParams) -> Result<MinuteModel, ModelError> {
        for (name, p) in [
            ("preemption chance", params.preempt_chance),
            ("addition chance", params.add_chance),
            ("big-addition chance", params.big_add_chance),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(ModelError(format!(
                    "{name} {p} is not a probability in [0, 1]"
                )));
            }
        }
        if !(params.period_s.is_finite() && params.period_s > 0.0) {
            return Err(ModelError(format!(
                "period {} s must be positive",
                params.period_s
            )));
        }
        let normal = |m: f64, s: f64, what: &str| {
            Normal::new(m, s).map_err(|_| {
                ModelError(format!(
                    "{what} size mean {m} / std {s} are not a normal distribution"
                ))
            })
        };
        Ok(MinuteModel {
            preempt_size: normal(params.preempt_mean, params.preempt_std, "burst")?,
            add_size: normal(params.add_mean, params.add_std, "addition")?,
            params,
            next_preempt: None,
            next_add: None,
            started: false,
        })
    }

    /// The first period at or after `from` with a success of chance `p`.
    fn draw(from: u64, p: f64, rng: &mut SimRng) -> Option<u64> {
        if p <= 0.0 {
            return None;
        }
        let gap = Geometric::new(p).ok()?.sample(rng);
        from.checked_add(gap)
    }

    fn size(normal: &Normal<f64>, rng: &mut SimRng) -> u32 {
        let n = normal.sample(rng).round().abs();
        if n < 1.0 {
            1
        } else {
            n.min(f64::from(u32::MAX)) as u32
        }
    }
}

impl PreemptionModel for MinuteModel {
    fn next(&mut self, _now: f64, _instances: u32, rng: &mut SimRng) -> Option<ModelEvent> {
        if !self.started {
            self.started = true;
            self.next_preempt = Self::draw(0, self.params.preempt_chance, rng);
            self.next_add = Self::draw(0, self.params.add_chance, rng);
        }
        // Within one period, removals come before additions (as in the notebook).
        let take_preempt = match (self.next_preempt, self.next_add) {
            (Some(p), Some(a)) => p <= a,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        let period = self.params.period_s;
        if take_preempt {
            let m = self.next_preempt?;
            self.next_preempt = Self::draw(m + 1, self.params.preempt_chance, rng);
            let k = Self::size(&self.preempt_size, rng);
            Some(ModelEvent {
                t: m as f64 * period,
                change: Change::Remove(k),
            })
        } else {
            let m = self.next_add?;
            self.next_add = Self::draw(m + 1, self.params.add_chance, rng);
            let k = if rng.random::<f64>() < self.params.big_add_chance {
                rng.random_range(11..32)
            } else {
                Self::size(&self.add_size, rng)
            };
            Some(ModelEvent {
                t: m as f64 * period,
                change: Change::Add(k),
            })
        }
    }
}

/// Every live node is preempted at `rate_per_hour`; each preempted node is
/// replaced after `replace_delay_s` (the new node then prepares as any).
#[derive(Debug, Clone)]
pub struct Poisson {
    rate_per_s: f64,
    replace_delay_s: f64,
    replacements: VecDeque<f64>,
}

impl Poisson {
    /// Its rate, preemptions per node-hour.
    pub fn rate_per_hour(&self) -> f64 {
        self.rate_per_s * 3600.0
    }

    /// A Poisson model; the rate must be finite and ≥ 0, the delay ≥ 0.
    pub fn new(rate_per_hour: f64, replace_delay_s: f64) -> Result<Poisson, ModelError> {
        if !(rate_per_hour.is_finite() && rate_per_hour >= 0.0) {
            return Err(ModelError(format!(
                "preemption rate {rate_per_hour} per node-hour must be a number ≥ 0"
            )));
        }
        if !(replace_delay_s.is_finite() && replace_delay_s >= 0.0) {
            return Err(ModelError(format!(
                "replacement delay {replace_delay_s} s must be ≥ 0"
            )));
        }
        Ok(Poisson {
            rate_per_s: rate_per_hour / 3600.0,
            replace_delay_s,
            replacements: VecDeque::new(),
        })
    }
}

impl PreemptionModel for Poisson {
    fn next(&mut self, now: f64, instances: u32, rng: &mut SimRng) -> Option<ModelEvent> {
        let total = self.rate_per_s * f64::from(instances);
        let preempt = if total > 0.0 {
            Exp::new(total).ok().map(|d| now + d.sample(rng))
        } else {
            None
        };
        let replace = self.replacements.front().copied();
        match (preempt, replace) {
            (Some(p), r) if r.is_none_or(|r| p < r) => {
                self.replacements.push_back(p + self.replace_delay_s);
                Some(ModelEvent {
                    t: p,
                    change: Change::Remove(1),
                })
            }
            (_, Some(r)) => {
                self.replacements.pop_front();
                Some(ModelEvent {
                    t: r,
                    change: Change::Add(1),
                })
            }
            _ => None,
        }
    }
}

/// A generator seeded from `seed` (stream 0).
pub fn seeded(seed: u64) -> SimRng {
    <SimRng as rand::SeedableRng>::seed_from_u64(seed)
}

#[cfg(test)]
mod generated_tests {
    use super::*;

    #[test]
    fn generated_minutes_follow_the_chances_and_sizes() {
        let params = MinuteParams {
            period_s: 60.0,
            preempt_chance: 0.2,
            preempt_mean: 3.0,
            preempt_std: 1.0,
            add_chance: 0.1,
            big_add_chance: 0.0,
            add_mean: 2.0,
            add_std: 0.5,
        };
        let g = generate_minutes(&params, 100_000, &mut seeded(7));
        let share = g.preemptions.len() as f64 / 100_000.0;
        assert!((share - 0.2).abs() < 0.01, "{share}");
        let mean =
            g.preemptions.iter().map(|p| f64::from(p.1)).sum::<f64>() / g.preemptions.len() as f64;
        assert!((mean - 3.0).abs() < 0.05, "{mean}");
        assert!(g.additions.iter().all(|a| a.1 >= 1 && a.1 <= 10));
        assert_eq!(g, generate_minutes(&params, 100_000, &mut seeded(7)));
    }
}
