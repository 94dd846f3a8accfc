//! `expost simulate`: one simulation of training under preemptions, its
//! one unit.
//!
//! A profile (a Bamboo profiling run folder, or a TOML file) gives the
//! costs; a preemption model gives node removals and additions: a Poisson
//! rate per node-hour, the notebook's per-minute model fitted to a trace,
//! a trace replayed, or `tick`, the notebook's own 5-second simulation.

mod report;
mod settings;

pub use settings::SimSettings;

use crate::study::{Context, Discovered, Provenance, Study, StudyError, UnitDiagnostic};
use expost_formats::spot_trace::{self, ReadOptions};
use expost_model::profile::Profile;
use expost_model::spot::Trace;
use expost_model::{Diagnostic, Diagnostics, Severity};
use expost_render::output::Output;
use expost_render::table::Table;
use expost_sim::engine::{simulate_until, SimConfig, Strategy};
use expost_sim::metrics::{SimResult, YoungDaly};
use expost_sim::model::{
    fit_notebook, generate_minutes, GeneratedTraces, MinuteModel, MinuteParams, Poisson,
    PreemptionModel, Replay,
};
use expost_sim::sweep::job_mtbf_s;
use expost_sim::tick::{self, Live, TickEvent, TickOutcome, TickParams, NOTEBOOK_BIG_ADD_CHANCE};
pub use generator::{parse_burst, Generator, GivenGenerator};
use std::io;
use std::path::PathBuf;

/// Where node removals and additions come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// Each node preempted at a rate per hour, replaced after a delay.
    Poisson,
    /// The notebook's per-minute model fitted to a trace.
    Minute,
    /// A trace replayed.
    Replay,
    /// The notebook's 5-second simulation, exactly (fitted to a trace).
    Tick,
}

impl ModelKind {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Poisson => "poisson",
            ModelKind::Minute => "minute",
            ModelKind::Replay => "replay",
            ModelKind::Tick => "tick",
        }
    }
}

/// `expost simulate`: one simulation and everything it was asked.
#[derive(Debug, Clone)]
pub struct SimulateStudy {
    /// The profile, cluster and prices.
    pub settings: SimSettings,
    /// The preemption model.
    pub model: ModelKind,
    /// The strategy.
    pub strategy: Strategy,
    /// Poisson: preemptions per node-hour.
    pub rate: f64,
    /// Poisson: seconds before a preempted node's replacement arrives.
    pub replace_delay_s: f64,
    /// The trace of replay, minute and tick.
    pub trace: Option<PathBuf>,
    /// Replay: start this many seconds into the trace.
    pub offset_s: f64,
    /// Replay: simulated time = trace time × this.
    pub time_scale: f64,
    /// Compute seconds between checkpoints.
    pub checkpoint_interval_s: f64,
    /// Checkpoint-restart's world size (`None`: the starting nodes rounded
    /// down to whole pipelines).
    pub world_size: Option<u32>,
    /// The notebook's generator (minute, tick): traces to fit and values given.
    pub generator: GivenGenerator,
    /// Minute, tick: also write per-minute traces drawn from the generator.
    pub generated: bool,
    /// The seed.
    pub seed: u64,
}

impl SimulateStudy {
    /// The option checks that need no input: an `Err` says which option
    /// is wrong.
    ///
    /// # Errors
    /// The first option that cannot be used.
    pub fn check(&self) -> Result<(), String> {
        match self.model {
            ModelKind::Poisson => {
                Poisson::new(self.rate, self.replace_delay_s).map_err(|e| e.to_string())?;
            }
            ModelKind::Tick | ModelKind::Minute => {
                self.generator
                    .check(self.trace.is_some())
                    .map_err(|e| format!("--model {}: {e}", self.model.name()))?;
            }
            ModelKind::Replay if self.trace.is_none() => {
                return Err("--model replay needs --trace".into());
            }
            ModelKind::Replay
                if !(self.time_scale.is_finite()
                    && self.time_scale > 0.0
                    && self.offset_s.is_finite()
                    && self.offset_s >= 0.0) =>
            {
                return Err("--time-scale must be > 0 and --offset ≥ 0".into());
            }
            _ => {}
        }
        if self.model != ModelKind::Tick {
            self.config(self.settings.config_unread())
                .check()
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn config(&self, base: SimConfig) -> SimConfig {
        let world_size = self
            .world_size
            .or_else(|| self.strategy.restarts().then(|| base.world_size()));
        SimConfig {
            strategy: self.strategy,
            checkpoint_interval_s: self.checkpoint_interval_s,
            world_size,
            ..base
        }
    }

    /// The model, fitted or set up from the trace, and the configuration
    /// it asks for (a replay starts with the trace's nodes).
    fn prepare(&self, profile: &Profile, traces: &Traces) -> Result<(Run, SimConfig), StudyError> {
        let mut cfg = self.config(self.settings.config(profile.pipeline_depth));
        let input = |e: String| StudyError::Input(e);
        let needed = || {
            traces.trace.as_ref().ok_or_else(|| {
                StudyError::Usage(format!("--model {} needs --trace", self.model.name()))
            })
        };
        let run = match self.model {
            ModelKind::Tick => {
                let generator = self.generator(traces, Some(NOTEBOOK_BIG_ADD_CHANCE))?;
                let fit = generator.params;
                let params = TickParams {
                    preemption_chance_per_minute: fit.preempt_chance,
                    preempt_mean: fit.preempt_mean,
                    preempt_std: fit.preempt_std,
                    addition_chance_per_minute: fit.add_chance,
                    add_mean: fit.add_mean,
                    add_std: fit.add_std,
                    big_add_chance: fit.big_add_chance,
                    total_minutes: cfg.duration_s / 60.0,
                    initial_instances: cfg.initial_nodes.min(cfg.max_instances),
                    pipeline_depth: cfg.pipeline_depth,
                    inst_max: i64::from(cfg.max_instances),
                    inst_min: 0,
                };
                Run::Tick(params, generator)
            }
            kind => {
                cfg.validate(profile)
                    .map_err(|e| StudyError::Usage(e.to_string()))?;
                let (model, generator) = match kind {
                    ModelKind::Poisson => (
                        Model::Poisson(
                            Poisson::new(self.rate, self.replace_delay_s)
                                .map_err(|e| StudyError::Usage(e.to_string()))?,
                        ),
                        None,
                    ),
                    ModelKind::Minute => {
                        let generator = self.generator(traces, None)?;
                        let model = MinuteModel::new(generator.params)
                            .map_err(|e| StudyError::Usage(e.to_string()))?;
                        (Model::Minute(model), Some(generator))
                    }
                    _ => {
                        let replay = Replay::new(needed()?, self.offset_s, self.time_scale)
                            .ok_or_else(|| {
                                input(
                                    "this trace gives removals only: it cannot be replayed (no joins)"
                                        .into(),
                                )
                            })?;
                        cfg.initial_nodes = replay.initial.min(cfg.max_instances);
                        check_world_reached(&cfg, needed()?, self.offset_s)?;
                        (Model::Replay(replay), None)
                    }
                };
                Run::Engine(model, generator)
            }
        };
        Ok((run, cfg))
    }

    /// The generator's parameters: fitted to the traces (one trace, or the
    /// notebook's two), with the values given in their place.
    fn generator(
        &self,
        traces: &Traces,
        big_default: Option<f64>,
    ) -> Result<Generator, StudyError> {
        let name = |p: &Option<PathBuf>| {
            p.as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        };
        let fitted = match (&traces.trace, &traces.add, &traces.remove) {
            (Some(trace), _, _) => Some((
                MinuteParams::fit(trace).map_err(|e| StudyError::Input(e.to_string()))?,
                name(&self.trace),
            )),
            (None, Some(add), Some(remove)) => Some((
                fit_notebook(add, remove).map_err(|e| StudyError::Input(e.to_string()))?,
                format!(
                    "{} (additions) and {} (preemptions), the notebook's way",
                    name(&self.generator.add_trace),
                    name(&self.generator.remove_trace)
                ),
            )),
            _ => None,
        };
        // Nothing fitted: no share of big additions to take, the notebook's.
        let big_default = big_default.or(fitted.is_none().then_some(NOTEBOOK_BIG_ADD_CHANCE));
        self.generator
            .resolve(fitted, big_default)
            .map_err(StudyError::Usage)
    }
}

/// The traces a simulation reads.
#[derive(Debug, Default)]
struct Traces {
    /// `--trace`.
    trace: Option<Trace>,
    /// `--add-trace`.
    add: Option<Trace>,
    /// `--remove-trace`.
    remove: Option<Trace>,
}

/// A preemption model ready to run.
#[derive(Debug, Clone)]
enum Model {
    Poisson(Poisson),
    Minute(MinuteModel),
    Replay(Replay),
}

impl Model {
    fn boxed(&self) -> Box<dyn PreemptionModel> {
        match self {
            Model::Poisson(m) => Box::new(m.clone()),
            Model::Minute(m) => Box::new(m.clone()),
            Model::Replay(m) => Box::new(m.clone()),
        }
    }
}

/// What runs, with the generator's parameters where there is one.
#[derive(Debug, Clone)]
enum Run {
    /// The event-driven simulator under a model.
    Engine(Model, Option<Generator>),
    /// The notebook's 5-second simulation.
    Tick(TickParams, Generator),
}

/// The one unit: the simulation, ready to run.
#[derive(Debug)]
pub struct Prepared {
    profile: Profile,
    cfg: SimConfig,
    run: Run,
}

/// What one simulation gave (`simulate.json`).
#[derive(Debug)]
pub struct Simulation {
    /// The strategy.
    pub strategy: Strategy,
    /// The model as the report names it (a fitted model with its parameters).
    pub model: String,
    /// The model's name on the command line.
    pub model_kind: ModelKind,
    /// The generator's parameters and where they come from (minute, tick).
    pub generator: Option<Generator>,
    /// Per-minute traces drawn from the generator (`--generated`).
    pub generated: Option<GeneratedTraces>,
    /// The seed.
    pub seed: u64,
    /// The configuration simulated.
    pub config: SimConfig,
    /// The profile.
    pub profile: Profile,
    /// How the iteration time at the initial world size was found.
    pub iteration_time_method: String,
    /// The outcome of the event-driven simulator.
    pub result: Option<SimResult>,
    /// The notebook's trace of steps and reconfigurations (`--model tick`).
    pub tick: Option<Vec<TickEvent>>,
    /// What the tick simulation gave: progress, time split, changes, cost.
    pub tick_result: Option<TickOutcome>,
    /// Young/Daly's optimum beside a checkpoint-restart simulation.
    pub young_daly: Option<YoungDaly>,
    /// Why the simulation failed, if it did.
    pub failure: Option<Diagnostic>,
}

/// The simulation and what reading its inputs reported.
#[derive(Debug)]
pub struct Simulated {
    /// The simulation.
    pub simulation: Simulation,
    /// What reading the profile and the trace reported.
    pub diagnostics: Vec<Diagnostic>,
}

/// Checkpoint-restart replaying a trace trains only once the trace has its
/// world size alive: a world size the trace never reaches (from the
/// offset on) would train nothing, so it is an error saying the most the
/// trace has.
fn check_world_reached(cfg: &SimConfig, trace: &Trace, offset_s: f64) -> Result<(), StudyError> {
    if cfg.strategy != Strategy::CheckpointRestart {
        return Ok(());
    }
    let Some(curve) = trace.count_curve() else {
        return Ok(());
    };
    let mut alive = 0;
    let mut most = 0;
    for &(t, count) in &curve {
        if t <= offset_s {
            alive = count;
        } else {
            most = most.max(alive);
            alive = count;
        }
    }
    most = most.max(alive).min(i64::from(cfg.max_instances));
    let world = i64::from(cfg.world_size());
    if most < world {
        return Err(StudyError::Usage(format!(
            "checkpoint-restart at world size {world} can never start: the trace has at most {most} nodes alive from offset {offset_s} s on (give --world-size ≤ {}, a multiple of the pipeline depth {})",
            most / i64::from(cfg.pipeline_depth) * i64::from(cfg.pipeline_depth),
            cfg.pipeline_depth
        )));
    }
    Ok(())
}

/// Young/Daly beside a checkpoint-restart simulation: the job's MTBF from
/// the Poisson rate where there is one, else from the simulation (wall
/// time per rollback); `None` for other strategies, or when no failure
/// hit the job under a model without a rate.
fn young_daly_of(
    cfg: &SimConfig,
    profile: &Profile,
    run: &Run,
    result: &SimResult,
) -> Option<YoungDaly> {
    if cfg.strategy != Strategy::CheckpointRestart {
        return None;
    }
    let (mtbf_s, from) = match run {
        Run::Engine(Model::Poisson(m), _) => {
            (job_mtbf_s(cfg.world_size(), m.rate_per_hour()), "rate")
        }
        _ if result.rollbacks > 0 => (result.wall_s / result.rollbacks as f64, "observed"),
        _ => return None,
    };
    mtbf_s.is_finite().then(|| {
        YoungDaly::new(
            mtbf_s,
            from,
            profile.checkpoint_save_s,
            profile.checkpoint_load_s,
            cfg.checkpoint_interval_s,
            result,
        )
    })
}

fn read_trace(path: &std::path::Path, diags: &mut Diagnostics) -> Result<Trace, StudyError> {
    let file = path.display().to_string();
    let f = std::fs::File::open(path)
        .map_err(|e| StudyError::Input(format!("could not open trace '{file}': {e}")))?;
    diags.set_file(file.clone());
    spot_trace::parse(io::BufReader::new(f), ReadOptions::default(), diags)
        .map_err(|e| StudyError::Input(format!("{file}: {e}")))
}

impl Study for SimulateStudy {
    type Unit = Prepared;
    type Analysed = Simulation;
    type Combined = Simulated;

    fn name(&self) -> &'static str {
        "simulate"
    }

    fn unit_noun(&self) -> &'static str {
        "simulations"
    }

    /// Reads the profile and the trace and sets the model up: the one unit.
    fn discover(&self) -> Result<Discovered<Prepared>, StudyError> {
        let mut diags = Diagnostics::default();
        let profile = self.settings.load(&mut diags)?;
        let mut read = |path: &Option<PathBuf>| {
            path.as_deref()
                .map(|p| read_trace(p, &mut diags))
                .transpose()
        };
        let traces = Traces {
            trace: read(&self.trace)?,
            add: read(&self.generator.add_trace)?,
            remove: read(&self.generator.remove_trace)?,
        };
        let (run, cfg) = self.prepare(&profile, &traces)?;
        Ok(Discovered {
            units: vec![Prepared { profile, cfg, run }],
            diagnostics: diags.into_items(),
        })
    }

    fn analyse(&self, unit: &Prepared, context: &Context<'_>) -> Simulation {
        let Prepared { profile, cfg, run } = unit;
        let mut rng = expost_sim::model::seeded(self.seed);
        let (mut result, mut events, mut failure) = (None, None, None);
        let mut tick_outcome = None;
        let generator = match run {
            Run::Tick(params, generator) => {
                match tick::run_counted(params, profile, &mut Live::new(rng)) {
                    Ok((e, outcome)) => {
                        events = Some(e);
                        tick_outcome = Some(outcome.priced(cfg.prices));
                    }
                    Err(e) => {
                        failure = Some(Diagnostic {
                            file: String::new(),
                            line: None,
                            message: format!("the tick simulation failed: {e}"),
                            severity: Severity::Error,
                        })
                    }
                }
                Some(generator.clone())
            }
            Run::Engine(model, generator) => {
                let mut model = model.boxed();
                result = simulate_until(cfg, profile, model.as_mut(), &mut rng, &|| {
                    context.interrupted()
                });
                generator.clone()
            }
        };
        // Drawn with a generator of its own (seed + 1), so the simulation's
        // draws are the same with and without them.
        let generated = generator.as_ref().filter(|_| self.generated).map(|g| {
            let minutes = (cfg.duration_s / 60.0).ceil() as u64;
            generate_minutes(
                &g.params,
                minutes,
                &mut expost_sim::model::seeded(self.seed.wrapping_add(1)),
            )
        });
        let young_daly = result
            .as_ref()
            .and_then(|r| young_daly_of(cfg, profile, run, r));
        let world = cfg.initial_nodes;
        let iteration_time_method = profile
            .iteration_time(world)
            .map_or("no training at world size 0".into(), |(t, m)| {
                format!("{t:.3} s at {world} nodes: {}", m.describe())
            });
        Simulation {
            strategy: cfg.strategy,
            model: self.model.name().to_string(),
            model_kind: self.model,
            generator,
            generated,
            seed: self.seed,
            config: cfg.clone(),
            profile: profile.clone(),
            iteration_time_method,
            result,
            tick: events,
            tick_result: tick_outcome,
            young_daly,
            failure,
        }
    }

    fn combine(
        &self,
        mut analysed: Vec<Simulation>,
        diagnostics: Vec<Diagnostic>,
    ) -> Result<Simulated, StudyError> {
        let simulation = analysed
            .pop()
            .ok_or_else(|| StudyError::Input("nothing was simulated".into()))?;
        Ok(Simulated {
            simulation,
            diagnostics,
        })
    }

    fn diagnostics<'a>(&self, simulated: &'a Simulated) -> Vec<UnitDiagnostic<'a>> {
        simulated
            .diagnostics
            .iter()
            .chain(&simulated.simulation.failure)
            .map(|d| ("", d))
            .collect()
    }

    fn failed_units(&self, simulated: &Simulated) -> usize {
        usize::from(simulated.simulation.failure.is_some())
    }

    /// The configuration, the profile and the outcome.
    fn write_json(
        &self,
        simulated: &Simulated,
        _: &Provenance,
        out: &mut dyn io::Write,
    ) -> io::Result<()> {
        serde_json::to_writer_pretty(out, &simulated.simulation.report())?;
        Ok(())
    }

    fn summary(&self, simulated: &Simulated) -> serde_json::Value {
        let s = &simulated.simulation;
        serde_json::json!({
            "strategy": s.strategy.name(),
            "model": s.model_kind.name(),
            "seed": s.seed,
            "result": s.result,
            "tick_events": s.tick.as_ref().map(Vec::len),
            "tick_reconfigurations": s.tick.as_ref().map(|t| t.iter().filter(|e| e.reconfig).count()),
            "tick_result": s.tick_result,
            "generator": s.generator,
            "young_daly": s.young_daly,
        })
    }

    fn outputs<'a>(&'a self, simulated: &'a Simulated, _: &'a Provenance) -> Vec<Output<'a>> {
        let mut outputs = Vec::new();
        if let Some(events) = &simulated.simulation.tick {
            outputs.push(Output::table(
                "tick-trace",
                "The notebook's trace of steps and reconfigurations",
                false,
                move || report::tick_table(events),
            ));
        }
        if let Some(generated) = &simulated.simulation.generated {
            outputs.push(Output::table(
                "generated-preemptions",
                "Preemption bursts per minute drawn from the generator",
                false,
                move || report::minutes_table(&generated.preemptions, "preemptions"),
            ));
            outputs.push(Output::table(
                "generated-additions",
                "Additions per minute drawn from the generator",
                false,
                move || report::minutes_table(&generated.additions, "additions"),
            ));
        }
        outputs
    }

    fn stdout_table<'a>(
        &'a self,
        simulated: &'a Simulated,
    ) -> Option<Box<dyn Iterator<Item = Table> + 'a>> {
        let events = simulated.simulation.tick.as_ref()?;
        Some(Box::new(std::iter::once(report::tick_table(events))))
    }

    fn terminal(&self, simulated: &Simulated) -> String {
        report::terminal(&simulated.simulation)
    }

    fn headline(&self, simulated: &Simulated) -> String {
        let s = &simulated.simulation;
        format!(
            "1 simulation ({}): strategy {}, model {}, seed {}",
            if s.failure.is_some() {
                "failed"
            } else {
                "done"
            },
            s.strategy.name(),
            s.model_kind.name(),
            s.seed
        )
    }
}

mod generator;
#[cfg(test)]
mod tests;
