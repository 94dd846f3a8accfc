//! What `expost simulate` reports: `simulate.json`, the terminal summary
//! and the tick trace.

use super::{Generator, Simulation};
use crate::table_builder::TableBuilder;
use expost_model::profile::Profile;
use expost_render::table::Table;
use expost_sim::engine::SimConfig;
use expost_sim::metrics::{SimResult, YoungDaly};
use expost_sim::tick::{TickEvent, TickOutcome};
use serde::Serialize;

/// `simulate.json` and `--json`.
#[derive(Serialize)]
pub(super) struct Report<'a> {
    strategy: &'static str,
    model: &'a str,
    seed: u64,
    config: &'a SimConfig,
    profile: &'a Profile,
    iteration_time_method: &'a str,
    result: Option<SimResult>,
    tick_events: Option<usize>,
    tick_reconfigurations: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tick_result: Option<&'a TickOutcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    generator: Option<&'a Generator>,
    #[serde(skip_serializing_if = "Option::is_none")]
    young_daly: Option<&'a YoungDaly>,
}

impl Simulation {
    pub(super) fn report(&self) -> Report<'_> {
        Report {
            strategy: self.strategy.name(),
            model: &self.model,
            seed: self.seed,
            config: &self.config,
            profile: &self.profile,
            iteration_time_method: &self.iteration_time_method,
            result: self.result,
            tick_events: self.tick.as_ref().map(Vec::len),
            tick_reconfigurations: self
                .tick
                .as_ref()
                .map(|t| t.iter().filter(|e| e.reconfig).count()),
            tick_result: self.tick_result.as_ref(),
            generator: self.generator.as_ref(),
            young_daly: self.young_daly.as_ref(),
        }
    }
}

/// `tick-trace`: the notebook's steps and reconfigurations.
pub(super) fn tick_table(events: &[TickEvent]) -> Table {
    TableBuilder::default()
        .int("ws", events.iter().map(|e| i64::from(e.ws)))
        .float("t_s", events.iter().map(|e| e.t_us as f64 / 1e6))
        .text(
            "event",
            events
                .iter()
                .map(|e| if e.reconfig { "reconfig" } else { "step" }),
        )
        .int("id", events.iter().map(|e| e.id as i64))
        .build()
}

/// `generated-preemptions`, `generated-additions`: (minute, nodes) rows.
pub(super) fn minutes_table(rows: &[(u64, u32)], what: &str) -> Table {
    TableBuilder::default()
        .int("minute", rows.iter().map(|r| r.0 as i64))
        .int(what, rows.iter().map(|r| i64::from(r.1)))
        .build()
}

/// What the simulation gave, in a few lines.
pub(super) fn terminal(s: &Simulation) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "strategy {}, model {}, seed {}",
        s.strategy.name(),
        s.model,
        s.seed
    );
    let _ = writeln!(out, "iteration time: {}", s.iteration_time_method);
    if let Some(g) = &s.generator {
        let p = g.params;
        let _ = writeln!(
            out,
            "generator per minute: preemption chance {:.4}, burst {:.3} ± {:.3} nodes; addition chance {:.4}, size {:.3} ± {:.3} nodes, big (11-31) {:.4} ({})",
            p.preempt_chance, p.preempt_mean, p.preempt_std, p.add_chance, p.add_mean, p.add_std, p.big_add_chance, g.source
        );
    }
    if let Some(x) = &s.result {
        let split = x.split;
        let pct = |v: f64| 100.0 * v / x.wall_s;
        let _ = writeln!(
            out,
            "wall {:.1} h: {:.0} iterations, {:.0} samples, {:.3} samples/s",
            x.wall_s / 3600.0,
            x.iterations,
            x.samples,
            x.throughput
        );
        let _ = writeln!(
            out,
            "time: useful {:.1} %, reconfiguration {:.1} %, rollback {:.1} %, checkpoint stall {:.1} %, waiting {:.1} %",
            pct(split.useful_s),
            pct(split.reconfiguration_s),
            pct(split.rollback_s),
            pct(split.checkpoint_stall_s),
            pct(split.waiting_s)
        );
        let _ = writeln!(
            out,
            "{} preemptions, {} additions, {} reconfigurations, {} rollbacks, {} checkpoints; mean {:.1} instances",
            x.preemptions, x.additions, x.reconfigurations, x.rollbacks, x.checkpoints, x.mean_instances
        );
        let _ = writeln!(
            out,
            "cost ${:.2} spot (${:.2} at on-demand prices); {:.0} samples per spot dollar",
            x.cost_spot, x.cost_on_demand, x.samples_per_dollar
        );
    }
    if let Some(y) = &s.young_daly {
        let _ = writeln!(
            out,
            "Young/Daly (MTBF {:.0} s, {}): optimum interval {:.0} s, expected waste {:.1} %; at the simulated {:.0} s, expected {:.1} %, simulated {:.1} %",
            y.mtbf_s,
            if y.mtbf_from == "rate" { "from the rate" } else { "observed" },
            y.interval_s,
            100.0 * y.expected_waste_at_optimum,
            y.simulated_interval_s,
            100.0 * y.expected_waste_at_simulated_interval,
            100.0 * y.simulated_waste
        );
    }
    if let Some(x) = &s.tick_result {
        let pct = |v: f64| 100.0 * v / x.wall_s;
        let _ = writeln!(
            out,
            "wall {:.1} h: {} iterations kept, {:.0} samples, {:.3} samples/s",
            x.wall_s / 3600.0,
            x.iterations,
            x.samples,
            x.throughput
        );
        let _ = writeln!(
            out,
            "time: useful {:.1} %, reconfiguration {:.1} %, rollback {:.1} %, waiting {:.1} %, other {:.1} % (ticks, the iteration under way)",
            pct(x.useful_s),
            pct(x.reconfiguration_s),
            pct(x.rollback_s),
            pct(x.waiting_s),
            pct(x.other_s)
        );
        let _ = writeln!(
            out,
            "{} preemptions, {} additions; mean {:.1} instances; cost ${:.2} spot (${:.2} at on-demand prices); {:.0} samples per spot dollar",
            x.preemptions, x.additions, x.mean_instances, x.cost_spot, x.cost_on_demand, x.samples_per_dollar
        );
    }
    if let Some(events) = &s.tick {
        let reconfigurations = events.iter().filter(|e| e.reconfig).count();
        let _ = writeln!(
            out,
            "tick trace: {} events, {reconfigurations} reconfigurations (tick-trace.csv with -o)",
            events.len()
        );
    }
    out
}
