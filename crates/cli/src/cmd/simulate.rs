//! `expost simulate`: one simulation of training under preemptions.
//!
//! A profile (a Bamboo profiling run folder, or a TOML file) gives the
//! costs; a preemption model gives node removals and additions: a Poisson
//! rate per node-hour, the notebook's per-minute model fitted to a trace,
//! a trace replayed, or `tick`, the notebook's own 5-second simulation.

use super::sim_out::{self, TableBuilder};
use crate::output::OutputDir;
use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use expost_model::{Diagnostics, Severity};
use expost_sim::engine::{simulate, SimConfig, Strategy};
use expost_sim::metrics::{Prices, SimResult};
use expost_sim::model::{MinuteModel, MinuteParams, Poisson, PreemptionModel, Replay};
use expost_sim::profile::Profile;
use expost_sim::tick::{self, Live, TickParams};
use expost_sim::trace::{self, ReadOptions, Trace};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Examples shown at the end of `expost simulate --help`.
pub const EXAMPLES: &str = "\
Examples:
  expost simulate --profile run-86/ --model poisson --rate 0.1 --strategy redundant
  expost simulate --profile profile.toml --model replay --trace p3-trace.csv --time-scale 0.5
  expost simulate --profile run-86/ --model minute --trace full-64-node-trace.csv --hours 6
  expost simulate --profile run-86/ --model tick --trace full-64-node-trace.csv -o out/

A TOML profile: reconfiguration_s, checkpoint_save_s, checkpoint_load_s,
global_batch, and [iteration_s] with one \"world size\" = seconds per line.
Iteration times at unmeasured world sizes are interpolated (the method is
printed). Outputs in -o DIR: simulate.json (as --json); with --model tick,
tick-trace.csv (the notebook's trace of steps and reconfigurations).

Exit codes: 0 simulated; 1 an input or output failed; 2 bad command line.";

/// Preemption model.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModelArg {
    /// Each node preempted at --rate per hour, replaced after --replace-delay.
    Poisson,
    /// The notebook's per-minute model fitted to --trace.
    Minute,
    /// Replay --trace (from --offset, times × --time-scale).
    Replay,
    /// The notebook's 5-second simulation, exactly (fitted to --trace).
    Tick,
}

/// Strategy.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StrategyArg {
    /// Elastic reconfiguration with asynchronous checkpoints (the notebook).
    Reconfigure,
    /// Stop, wait for the full world size, restart from the last checkpoint.
    CheckpointRestart,
    /// Bamboo's redundant computation.
    Redundant,
}

impl From<StrategyArg> for Strategy {
    fn from(s: StrategyArg) -> Strategy {
        match s {
            StrategyArg::Reconfigure => Strategy::Reconfigure,
            StrategyArg::CheckpointRestart => Strategy::CheckpointRestart,
            StrategyArg::Redundant => Strategy::Redundant,
        }
    }
}

/// Settings shared by `simulate` and `sweep`.
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Profile: a profiling run folder (reconfig.csv, loop_times_0.csv, …) or a TOML file.
    #[arg(long, value_name = "DIR|FILE", required = true)]
    pub profile: Option<PathBuf>,
    /// Simulated hours.
    #[arg(long, default_value_t = 24.0)]
    pub hours: f64,
    /// Nodes ready at the start.
    #[arg(long, default_value_t = 64)]
    pub nodes: u32,
    /// Most instances at once.
    #[arg(long, default_value_t = 64)]
    pub max_instances: u32,
    /// Nodes per pipeline (default: the profile's, else 16).
    #[arg(long)]
    pub pipeline_depth: Option<u32>,
    /// Seconds a new node prepares.
    #[arg(long, default_value_t = 180.0)]
    pub prep: f64,
    /// Redundant: iteration slowdown of redundant computation.
    #[arg(long, default_value_t = 0.1)]
    pub redundancy_overhead: f64,
    /// Redundant: slowdown factor while a pipeline runs with a lost stage.
    #[arg(long, default_value_t = 1.5)]
    pub degraded_slowdown: f64,
    /// Spot price per node-hour, $.
    #[arg(long, default_value_t = 0.91)]
    pub spot_price: f64,
    /// On-demand price per node-hour, $.
    #[arg(long, default_value_t = 3.06)]
    pub on_demand_price: f64,
    /// Use the profile's times rounded to whole seconds, as the notebook does.
    #[arg(long)]
    pub rounded: bool,
}

impl SimArgs {
    /// The profile and the base configuration.
    pub fn load(&self, diags: &mut Diagnostics) -> Result<(Profile, SimConfig)> {
        let path = self.profile.as_deref().context("--profile is required")?;
        let mut profile = sim_out::read_profile(path, diags)?;
        if self.rounded {
            profile = profile.rounded();
        }
        let cfg = SimConfig {
            duration_s: self.hours * 3600.0,
            initial_nodes: self.nodes,
            max_instances: self.max_instances,
            pipeline_depth: self.pipeline_depth.or(profile.pipeline_depth).unwrap_or(16),
            prep_s: self.prep,
            redundancy_overhead: self.redundancy_overhead,
            degraded_slowdown: self.degraded_slowdown,
            prices: Prices {
                spot: self.spot_price,
                on_demand: self.on_demand_price,
            },
            ..SimConfig::default()
        };
        Ok((profile, cfg))
    }
}

/// Arguments of `expost simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub sim: SimArgs,
    /// Preemption model.
    #[arg(long, value_enum, default_value_t = ModelArg::Poisson)]
    pub model: ModelArg,
    /// Strategy.
    #[arg(long, value_enum, default_value_t = StrategyArg::Reconfigure)]
    pub strategy: StrategyArg,
    /// Poisson: preemptions per node-hour.
    #[arg(long, default_value_t = 0.1)]
    pub rate: f64,
    /// Poisson: seconds before a preempted node's replacement arrives.
    #[arg(long, default_value_t = 0.0)]
    pub replace_delay: f64,
    /// Trace for replay, minute and tick.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Replay: start at this many seconds into the trace.
    #[arg(long, default_value_t = 0.0)]
    pub offset: f64,
    /// Replay: simulated time = trace time × this.
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Compute seconds between checkpoints (0: back to back, asynchronous strategies).
    #[arg(long, default_value_t = 0.0)]
    pub checkpoint_interval: f64,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write simulate.json (and tick-trace.csv) into this folder.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Print the JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
}

/// What `simulate` reports.
#[derive(Debug, Serialize)]
struct Report<'a> {
    strategy: &'static str,
    model: String,
    seed: u64,
    config: &'a SimConfig,
    profile: &'a Profile,
    iteration_time_method: String,
    result: Option<SimResult>,
    tick_events: Option<usize>,
    tick_reconfigurations: Option<usize>,
}

fn read_trace(path: &Path, diags: &mut Diagnostics) -> Result<Trace> {
    let file = path.display().to_string();
    let f = std::fs::File::open(path).with_context(|| format!("could not open trace '{file}'"))?;
    diags.set_file(file.clone());
    trace::parse(std::io::BufReader::new(f), ReadOptions::default(), diags)
        .map_err(|e| anyhow::anyhow!("{file}: {e}"))
}

/// Runs `expost simulate`.
pub fn run(args: Args) -> Result<ExitCode> {
    let output = args.output.as_deref().map(OutputDir::prepare).transpose()?;
    let mut diags = Diagnostics::default();
    let (profile, mut cfg) = args.sim.load(&mut diags)?;
    cfg.strategy = args.strategy.into();
    cfg.checkpoint_interval_s = args.checkpoint_interval;
    let trace = args
        .trace
        .as_deref()
        .map(|p| read_trace(p, &mut diags))
        .transpose()?;
    let mut rng = expost_sim::model::seeded(args.seed);
    let (result, tick_trace, model_name) = match args.model {
        ModelArg::Tick => {
            let t = trace
                .as_ref()
                .context("--model tick needs --trace (the notebook fits its model to it)")?;
            let fit = MinuteParams::fit(t).map_err(anyhow::Error::msg)?;
            let params = TickParams {
                preemption_chance_per_minute: fit.preempt_chance,
                preempt_mean: fit.preempt_mean,
                preempt_std: fit.preempt_std,
                addition_chance_per_minute: fit.add_chance,
                add_mean: fit.add_mean,
                add_std: fit.add_std,
                total_minutes: cfg.duration_s / 60.0,
                initial_instances: 32.min(cfg.max_instances),
                pipeline_depth: cfg.pipeline_depth,
                inst_max: i64::from(cfg.max_instances),
                inst_min: 0,
            };
            let events =
                tick::run(&params, &profile, &mut Live::new(rng)).map_err(anyhow::Error::msg)?;
            (None, Some(events), format!("tick ({fit:?})"))
        }
        other => {
            cfg.validate(&profile).map_err(anyhow::Error::msg)?;
            let mut model: Box<dyn PreemptionModel> = match other {
                ModelArg::Poisson => Box::new(
                    Poisson::new(args.rate, args.replace_delay).map_err(anyhow::Error::msg)?,
                ),
                ModelArg::Minute => {
                    let t = trace
                        .as_ref()
                        .context("--model minute needs --trace to fit")?;
                    Box::new(
                        MinuteModel::new(MinuteParams::fit(t).map_err(anyhow::Error::msg)?)
                            .map_err(anyhow::Error::msg)?,
                    )
                }
                _ => {
                    let t = trace.as_ref().context("--model replay needs --trace")?;
                    if !(args.time_scale.is_finite() && args.time_scale > 0.0) || args.offset < 0.0
                    {
                        bail!("--time-scale must be > 0 and --offset ≥ 0");
                    }
                    let replay = Replay::new(t, args.offset, args.time_scale).context(
                        "this trace gives removals only: it cannot be replayed (no joins)",
                    )?;
                    cfg.initial_nodes = replay.initial.min(cfg.max_instances);
                    Box::new(replay)
                }
            };
            let model_name = format!("{other:?}").to_lowercase();
            (
                Some(simulate(&cfg, &profile, model.as_mut(), &mut rng)),
                None,
                model_name,
            )
        }
    };
    let world = cfg.initial_nodes;
    let method = profile
        .iteration_time(world)
        .map_or("no training at world size 0".into(), |(t, m)| {
            format!("{t:.3} s at {world} nodes: {}", m.describe())
        });
    let report = Report {
        strategy: cfg.strategy.name(),
        model: model_name,
        seed: args.seed,
        config: &cfg,
        profile: &profile,
        iteration_time_method: method,
        result,
        tick_events: tick_trace.as_ref().map(Vec::len),
        tick_reconfigurations: tick_trace
            .as_ref()
            .map(|t| t.iter().filter(|e| e.reconfig).count()),
    };
    if let Some(dir) = &output {
        sim_out::write_json(dir, "simulate.json", &report)?;
        if let Some(events) = &tick_trace {
            let table = TableBuilder::default()
                .int("ws", events.iter().map(|e| i64::from(e.ws)))
                .float("t_s", events.iter().map(|e| e.t_us as f64 / 1e6))
                .text(
                    "event",
                    events
                        .iter()
                        .map(|e| if e.reconfig { "reconfig" } else { "step" }),
                )
                .int("id", events.iter().map(|e| e.id as i64))
                .build();
            sim_out::write_tables(dir, "tick-trace", &table, false)?;
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    for d in diags
        .items()
        .iter()
        .filter(|d| d.severity >= Severity::Warning)
    {
        eprintln!("{d}");
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(r: &Report<'_>) {
    println!(
        "strategy {}, model {}, seed {}",
        r.strategy, r.model, r.seed
    );
    println!("iteration time: {}", r.iteration_time_method);
    if let Some(x) = &r.result {
        let s = x.split;
        let pct = |v: f64| 100.0 * v / x.wall_s;
        println!(
            "wall {:.1} h: {:.0} iterations, {:.0} samples, {:.3} samples/s",
            x.wall_s / 3600.0,
            x.iterations,
            x.samples,
            x.throughput
        );
        println!(
            "time: useful {:.1} %, reconfiguration {:.1} %, rollback {:.1} %, checkpoint stall {:.1} %, waiting {:.1} %",
            pct(s.useful_s), pct(s.reconfiguration_s), pct(s.rollback_s), pct(s.checkpoint_stall_s), pct(s.waiting_s)
        );
        println!(
            "{} preemptions, {} additions, {} reconfigurations, {} rollbacks, {} checkpoints; mean {:.1} instances",
            x.preemptions, x.additions, x.reconfigurations, x.rollbacks, x.checkpoints, x.mean_instances
        );
        println!(
            "cost ${:.2} spot (${:.2} at on-demand prices); {:.0} samples per spot dollar",
            x.cost_spot, x.cost_on_demand, x.samples_per_dollar
        );
    }
    if let (Some(n), Some(k)) = (r.tick_events, r.tick_reconfigurations) {
        println!("tick trace: {n} events, {k} reconfigurations (tick-trace.csv with -o)");
    }
}
