//! What one simulation measured: progress, the split of wall time by
//! cause, cost and value; and the Young/Daly checkpoint interval.

use serde::{Deserialize, Serialize};

/// Default spot price per node-hour, $ (Bamboo's simulator: p3.2xlarge spot).
pub const SPOT_PRICE_PER_HOUR: f64 = 0.91;
/// Default on-demand price per node-hour, $ (Bamboo's simulator: p3.2xlarge).
pub const ON_DEMAND_PRICE_PER_HOUR: f64 = 3.06;

/// Wall time split by cause, seconds. The five parts sum to the wall time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeSplit {
    /// Computing iterations that were kept.
    pub useful_s: f64,
    /// Reconfiguring the pipelines, or restarting from a checkpoint (loading it).
    pub reconfiguration_s: f64,
    /// Computing iterations that were later lost (rolled back to the last checkpoint).
    pub rollback_s: f64,
    /// Training stopped while a checkpoint was saved (synchronous checkpoints).
    pub checkpoint_stall_s: f64,
    /// No pipeline could run: waiting for nodes.
    pub waiting_s: f64,
}

impl TimeSplit {
    /// The sum of the parts, s.
    pub fn total(&self) -> f64 {
        self.useful_s
            + self.reconfiguration_s
            + self.rollback_s
            + self.checkpoint_stall_s
            + self.waiting_s
    }

    /// Share of the wall time not spent on useful work (0–1).
    pub fn wasted_fraction(&self) -> f64 {
        let total = self.total();
        if total > 0.0 {
            1.0 - self.useful_s / total
        } else {
            0.0
        }
    }
}

/// Prices per node-hour, $.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prices {
    /// Spot (preemptible) price per node-hour, $.
    pub spot: f64,
    /// On-demand price per node-hour, $.
    pub on_demand: f64,
}

impl Default for Prices {
    fn default() -> Self {
        Prices {
            spot: SPOT_PRICE_PER_HOUR,
            on_demand: ON_DEMAND_PRICE_PER_HOUR,
        }
    }
}

/// The outcome of one simulation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SimResult {
    /// Simulated wall time, s.
    pub wall_s: f64,
    /// Iterations trained and kept (the one in flight at the end counts by its done fraction).
    pub iterations: f64,
    /// Samples trained and kept (iterations × global batch).
    pub samples: f64,
    /// Samples per second of wall time.
    pub throughput: f64,
    /// Wall time by cause.
    pub split: TimeSplit,
    /// Nodes removed by the preemption model.
    pub preemptions: u64,
    /// Nodes added.
    pub additions: u64,
    /// Reconfigurations (and restarts) started.
    pub reconfigurations: u64,
    /// Rollbacks to the last checkpoint.
    pub rollbacks: u64,
    /// Checkpoints completed.
    pub checkpoints: u64,
    /// Time-weighted mean of live instances (prepping, standby and active).
    pub mean_instances: f64,
    /// Instance-hours paid for.
    pub node_hours: f64,
    /// Cost of those instance-hours at the spot price, $.
    pub cost_spot: f64,
    /// Cost of the same instance-hours at the on-demand price, $.
    pub cost_on_demand: f64,
    /// Samples per dollar at the spot price.
    pub samples_per_dollar: f64,
}

impl SimResult {
    /// Fills the derived fields (samples, throughput, costs, value).
    pub fn finish(&mut self, global_batch: u32, prices: Prices) {
        self.samples = self.iterations * f64::from(global_batch);
        self.throughput = if self.wall_s > 0.0 {
            self.samples / self.wall_s
        } else {
            0.0
        };
        self.mean_instances = if self.wall_s > 0.0 {
            self.node_hours * 3600.0 / self.wall_s
        } else {
            0.0
        };
        (self.cost_spot, self.cost_on_demand, self.samples_per_dollar) =
            prices.costs(self.node_hours, self.samples);
    }
}

impl Prices {
    /// The cost of `node_hours` at spot and on-demand prices, and the
    /// samples per spot dollar (0 when it cost nothing).
    pub fn costs(self, node_hours: f64, samples: f64) -> (f64, f64, f64) {
        let spot = node_hours * self.spot;
        let per_dollar = if spot > 0.0 { samples / spot } else { 0.0 };
        (spot, node_hours * self.on_demand, per_dollar)
    }
}

/// Young's first-order optimum checkpoint interval, seconds of compute
/// between checkpoints: √(2 δ M), with δ the checkpoint cost (s) and M the
/// mean time between failures of the job (s).
pub fn young_daly_interval(checkpoint_s: f64, mtbf_s: f64) -> f64 {
    (2.0 * checkpoint_s * mtbf_s).sqrt()
}

/// First-order expected wasted fraction of checkpoint-restart with
/// compute interval τ, checkpoint cost δ, restart cost R (waiting for a
/// replacement and loading) and mean time between job failures M:
/// δ/(τ+δ) + ((τ+δ)/2 + R)/M. A failure loses on average half a period
/// (work and checkpoint since the last completed checkpoint) plus the restart.
pub fn young_daly_waste(interval_s: f64, checkpoint_s: f64, restart_s: f64, mtbf_s: f64) -> f64 {
    let period = interval_s + checkpoint_s;
    checkpoint_s / period + (period / 2.0 + restart_s) / mtbf_s
}

/// Young/Daly's first-order view of one checkpoint-restart simulation:
/// the optimum interval for the job's mean time between failures, and the
/// expected waste there and at the interval simulated, beside the waste
/// the simulation gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YoungDaly {
    /// The job's mean time between failures, s.
    pub mtbf_s: f64,
    /// Where it comes from: `rate` (the Poisson rate × world size) or
    /// `observed` (simulated wall time / rollbacks).
    pub mtbf_from: String,
    /// Young's √(2 δ M), s of compute between checkpoints.
    pub interval_s: f64,
    /// The first-order expected wasted fraction at that interval.
    pub expected_waste_at_optimum: f64,
    /// The interval simulated, s.
    pub simulated_interval_s: f64,
    /// The first-order expected wasted fraction at the simulated interval.
    pub expected_waste_at_simulated_interval: f64,
    /// The wasted fraction the simulation gave (1 − useful / wall).
    pub simulated_waste: f64,
}

impl YoungDaly {
    /// The view for checkpoint cost `checkpoint_s`, restart cost
    /// `restart_s` (loading the checkpoint), the job's MTBF and where it
    /// comes from, and the simulation's interval and outcome.
    pub fn new(
        mtbf_s: f64,
        mtbf_from: &str,
        checkpoint_s: f64,
        restart_s: f64,
        simulated_interval_s: f64,
        result: &SimResult,
    ) -> YoungDaly {
        let interval_s = young_daly_interval(checkpoint_s, mtbf_s);
        YoungDaly {
            mtbf_s,
            mtbf_from: mtbf_from.to_string(),
            interval_s,
            expected_waste_at_optimum: young_daly_waste(
                interval_s,
                checkpoint_s,
                restart_s,
                mtbf_s,
            ),
            simulated_interval_s,
            expected_waste_at_simulated_interval: young_daly_waste(
                simulated_interval_s,
                checkpoint_s,
                restart_s,
                mtbf_s,
            ),
            simulated_waste: if result.wall_s > 0.0 {
                1.0 - result.split.useful_s / result.wall_s
            } else {
                0.0
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn young_interval_minimises_first_order_waste() {
        let (d, m) = (60.0, 45_000.0);
        let tau = young_daly_interval(d, m);
        let at = |t: f64| young_daly_waste(t, d, 0.0, m);
        assert!(at(tau) <= at(tau * 0.8) && at(tau) <= at(tau * 1.25));
    }
}
