//! `expost simulate`: one simulation of training under preemptions (the
//! study is `expost_studies::simulate`).

use super::run::{visit_opt, SavedArgs, SavedStudy};
use crate::driver::StudyCommand;
use clap::ValueEnum;
use expost_sim::engine::Strategy;
use expost_studies::simulate::{
    parse_burst, GivenGenerator, ModelKind, SimSettings, SimulateStudy,
};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Examples shown at the end of `expost simulate --help`.
pub const EXAMPLES: &str = "\
Examples:
  expost simulate --profile run-86/ --model poisson --rate 0.1 --strategy redundant
  expost simulate --profile profile.toml --model replay --trace p3-trace.csv --time-scale 0.5
  expost simulate --profile run-86/ --model minute --trace full-64-node-trace.csv --hours 6
  expost simulate --profile run-86/ --model tick --trace full-64-node-trace.csv -o out/
  expost simulate --profile run-86/ --model tick --nodes 32 --hours 5.9167 \
      --add-trace full-64-node-trace.csv --remove-trace full-64-terminate-trace.csv
  expost simulate --profile run-86/ --model minute --remove-chance 0.2 --remove-burst 2.4:2.1 \
      --add-chance 0.15 --add-burst 2.5:1.9

A TOML profile: reconfiguration_s, checkpoint_save_s, checkpoint_load_s,
global_batch, and [iteration_s] with one \"world size\" = seconds per line.
Iteration times at unmeasured world sizes are interpolated (the method is
printed). Outputs in -o DIR: simulate.json (as --json), diagnostics.csv,
manifest.json; with --model tick, tick-trace.csv (the notebook's trace of
steps and reconfigurations, also what -o - writes).

Exit codes: 0 simulated; 1 an input or output failed; 2 bad command line.";

/// Preemption model.
#[derive(Debug, Clone, Copy, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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

impl From<ModelArg> for ModelKind {
    fn from(m: ModelArg) -> ModelKind {
        match m {
            ModelArg::Poisson => ModelKind::Poisson,
            ModelArg::Minute => ModelKind::Minute,
            ModelArg::Replay => ModelKind::Replay,
            ModelArg::Tick => ModelKind::Tick,
        }
    }
}

/// Strategy.
#[derive(Debug, Clone, Copy, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyArg {
    /// Elastic reconfiguration with asynchronous checkpoints (the notebook).
    Reconfigure,
    /// Stop, wait for the full world size, restart from the last checkpoint.
    CheckpointRestart,
    /// Bamboo's redundant computation.
    Redundant,
    /// Varuna's elastic restart: restart at once on the nodes left, grow at the next checkpoint.
    ElasticRestart,
}

impl From<StrategyArg> for Strategy {
    fn from(s: StrategyArg) -> Strategy {
        match s {
            StrategyArg::Reconfigure => Strategy::Reconfigure,
            StrategyArg::CheckpointRestart => Strategy::CheckpointRestart,
            StrategyArg::Redundant => Strategy::Redundant,
            StrategyArg::ElasticRestart => Strategy::ElasticRestart,
        }
    }
}

/// Defaults shared by the command line and study files.
pub(crate) mod defaults {
    use super::{ModelArg, StrategyArg};

    pub fn hours() -> f64 {
        24.0
    }
    pub fn nodes() -> u32 {
        64
    }
    pub fn max_instances() -> u32 {
        64
    }
    pub fn prep() -> f64 {
        180.0
    }
    pub fn redundancy_overhead() -> f64 {
        0.1
    }
    pub fn degraded_slowdown() -> f64 {
        1.5
    }
    pub fn spot_price() -> f64 {
        0.91
    }
    pub fn on_demand_price() -> f64 {
        3.06
    }
    pub fn model() -> ModelArg {
        ModelArg::Poisson
    }
    pub fn strategy() -> StrategyArg {
        StrategyArg::Reconfigure
    }
    pub fn rate() -> f64 {
        0.1
    }
    pub fn time_scale() -> f64 {
        1.0
    }
}

/// Declares the arguments of a simulating command (`simulate`, `sweep`)
/// with the settings they share first: one definition of those options
/// for both (clap's `flatten` and serde's `deny_unknown_fields` do not mix).
macro_rules! with_sim_settings {
    ($(#[$meta:meta])* pub struct $name:ident { $($fields:tt)* }) => {
        $(#[$meta])*
        pub struct $name {
            /// Profile: a profiling run folder (reconfig.csv, loop_times_0.csv, …) or a TOML file.
            #[arg(long, value_name = "DIR|FILE", required = true)]
            pub profile: Option<PathBuf>,
            /// Simulated hours.
            #[arg(long, default_value_t = $crate::cmd::simulate::defaults::hours(), allow_hyphen_values = true)]
            #[serde(default = "crate::cmd::simulate::defaults::hours")]
            pub hours: f64,
            /// Nodes ready at the start.
            #[arg(long, default_value_t = $crate::cmd::simulate::defaults::nodes(), allow_hyphen_values = true)]
            #[serde(default = "crate::cmd::simulate::defaults::nodes")]
            pub nodes: u32,
            /// Most instances at once.
            #[arg(long, default_value_t = $crate::cmd::simulate::defaults::max_instances(), allow_hyphen_values = true)]
            #[serde(default = "crate::cmd::simulate::defaults::max_instances")]
            pub max_instances: u32,
            /// Nodes per pipeline (default: the profile's, else 16).
            #[arg(long, allow_hyphen_values = true)]
            #[serde(default)]
            pub pipeline_depth: Option<u32>,
            /// Seconds a new node prepares.
            #[arg(long, default_value_t = $crate::cmd::simulate::defaults::prep(), allow_hyphen_values = true)]
            #[serde(default = "crate::cmd::simulate::defaults::prep")]
            pub prep: f64,
            /// Redundant: iteration slowdown of redundant computation.
            #[arg(long, default_value_t = $crate::cmd::simulate::defaults::redundancy_overhead(), allow_hyphen_values = true)]
            #[serde(default = "crate::cmd::simulate::defaults::redundancy_overhead")]
            pub redundancy_overhead: f64,
            /// Redundant: slowdown factor while a pipeline runs with a lost stage.
            #[arg(long, default_value_t = $crate::cmd::simulate::defaults::degraded_slowdown(), allow_hyphen_values = true)]
            #[serde(default = "crate::cmd::simulate::defaults::degraded_slowdown")]
            pub degraded_slowdown: f64,
            /// Spot price per node-hour, $.
            #[arg(long, default_value_t = $crate::cmd::simulate::defaults::spot_price(), allow_hyphen_values = true)]
            #[serde(default = "crate::cmd::simulate::defaults::spot_price")]
            pub spot_price: f64,
            /// On-demand price per node-hour, $.
            #[arg(long, default_value_t = $crate::cmd::simulate::defaults::on_demand_price(), allow_hyphen_values = true)]
            #[serde(default = "crate::cmd::simulate::defaults::on_demand_price")]
            pub on_demand_price: f64,
            /// Use the profile's times rounded to whole seconds, as the notebook does.
            #[arg(long)]
            #[serde(default)]
            pub rounded: bool,
            $($fields)*
        }

        impl $name {
            /// The settings every simulation of the study shares.
            fn sim_settings(&self) -> Result<SimSettings, String> {
                use $crate::cmd::check::{real, whole};
                real("--hours", self.hours, 0.0, true, 100_000.0, "hours")?;
                whole("--nodes", self.nodes, 0, 100_000, "nodes")?;
                whole("--max-instances", self.max_instances, 1, 100_000, "instances")?;
                if let Some(depth) = self.pipeline_depth {
                    whole("--pipeline-depth", depth, 1, 100_000, "nodes")?;
                }
                real("--prep", self.prep, 0.0, false, 86_400.0, "seconds")?;
                real("--redundancy-overhead", self.redundancy_overhead, 0.0, false, 100.0, "a slowdown")?;
                real("--degraded-slowdown", self.degraded_slowdown, 0.0, true, 1000.0, "a factor")?;
                real("--spot-price", self.spot_price, 0.0, false, 1e6, "$ per node-hour")?;
                real("--on-demand-price", self.on_demand_price, 0.0, false, 1e6, "$ per node-hour")?;
                Ok(SimSettings {
                    profile: self.profile.clone().ok_or("--profile is required")?,
                    hours: self.hours,
                    nodes: self.nodes,
                    max_instances: self.max_instances,
                    pipeline_depth: self.pipeline_depth,
                    prep_s: self.prep,
                    redundancy_overhead: self.redundancy_overhead,
                    degraded_slowdown: self.degraded_slowdown,
                    spot_price: self.spot_price,
                    on_demand_price: self.on_demand_price,
                    rounded: self.rounded,
                })
            }
        }
    };
}
pub(crate) use with_sim_settings;

with_sim_settings! {
    /// Arguments of `expost simulate`; also the `[simulate]` table of a
    /// study file (`expost.toml`), where every key but `profile` may be
    /// left out.
    #[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Args {
        /// Preemption model.
        #[arg(long, value_enum, default_value_t = defaults::model())]
        #[serde(default = "defaults::model")]
        pub model: ModelArg,
        /// Strategy.
        #[arg(long, value_enum, default_value_t = defaults::strategy())]
        #[serde(default = "defaults::strategy")]
        pub strategy: StrategyArg,
        /// Poisson: preemptions per node-hour.
        #[arg(long, default_value_t = defaults::rate(), allow_hyphen_values = true)]
        #[serde(default = "defaults::rate")]
        pub rate: f64,
        /// Poisson: seconds before a preempted node's replacement arrives.
        #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
        #[serde(default)]
        pub replace_delay: f64,
        /// Trace for replay, minute and tick.
        #[arg(long)]
        #[serde(default)]
        pub trace: Option<PathBuf>,
        /// Minute, tick: the node-count trace to fit additions to (with
        /// --remove-trace: the notebook's way, in place of --trace).
        #[arg(long, value_name = "FILE")]
        #[serde(default)]
        pub add_trace: Option<PathBuf>,
        /// Minute, tick: the terminate trace to fit preemption bursts to.
        #[arg(long, value_name = "FILE")]
        #[serde(default)]
        pub remove_trace: Option<PathBuf>,
        /// Minute, tick: chance of a preemption burst per minute (replaces the fitted one).
        #[arg(long, value_name = "P", allow_hyphen_values = true)]
        #[serde(default)]
        pub remove_chance: Option<f64>,
        /// Minute, tick: burst size MEAN:STD in nodes (replaces the fitted one).
        #[arg(long, value_name = "MEAN:STD", allow_hyphen_values = true)]
        #[serde(default)]
        pub remove_burst: Option<String>,
        /// Minute, tick: chance of an addition per minute (replaces the fitted one).
        #[arg(long, value_name = "P", allow_hyphen_values = true)]
        #[serde(default)]
        pub add_chance: Option<f64>,
        /// Minute, tick: regular addition size MEAN:STD in nodes (replaces the fitted one).
        #[arg(long, value_name = "MEAN:STD", allow_hyphen_values = true)]
        #[serde(default)]
        pub add_burst: Option<String>,
        /// Minute, tick: chance that an addition is big, 11-31 nodes
        /// (default: tick, the notebook's 0.05; minute, the fitted share).
        #[arg(long, value_name = "P", allow_hyphen_values = true)]
        #[serde(default)]
        pub big_add_chance: Option<f64>,
        /// Minute, tick: also write per-minute traces drawn from the
        /// generator (generated-preemptions.csv, generated-additions.csv in -o DIR).
        #[arg(long)]
        #[serde(default)]
        pub generated: bool,
        /// Replay: start at this many seconds into the trace.
        #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
        #[serde(default)]
        pub offset: f64,
        /// Replay: simulated time = trace time × this.
        #[arg(long, default_value_t = defaults::time_scale(), allow_hyphen_values = true)]
        #[serde(default = "defaults::time_scale")]
        pub time_scale: f64,
        /// Compute seconds between checkpoints (0: back to back, asynchronous strategies).
        #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
        #[serde(default)]
        pub checkpoint_interval: f64,
        /// Checkpoint-restart: the world size it trains at, a multiple of
        /// the pipeline depth (default: --nodes rounded down to whole
        /// pipelines). With --model replay it must be reached by the trace.
        #[arg(long, allow_hyphen_values = true)]
        #[serde(default)]
        pub world_size: Option<u32>,
        /// Seed.
        #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
        #[serde(default)]
        pub seed: u64,
        /// Write simulate.json (and tick-trace.csv) into this folder; `-o -`
        /// writes tick-trace.csv to stdout (--model tick).
        #[arg(short, long, value_name = "DIR")]
        #[serde(default)]
        pub output: Option<PathBuf>,
        /// Print the JSON summary on stdout.
        #[arg(long)]
        #[serde(skip)]
        pub json: bool,
        /// Save these options to a study file (default: expost.toml in the output
        /// folder, else in the current one) to rerun them later with `expost run`.
        #[arg(long, value_name = "FILE")]
        #[serde(skip)]
        pub save_study: Option<Option<PathBuf>>,
        /// Write only these figures and charts, by name (their files' names
        /// without extension, e.g. loss,loss_zoom); tables and the rest are all
        /// written. Default: every figure.
        #[arg(long, value_name = "NAME,…", value_delimiter = ',')]
        #[serde(default)]
        pub figures: Vec<String>,
        /// Set a line figure's y axis: NAME=MIN:MAX (e.g. loss=0:100),
        /// repeatable. The report's interactive chart keeps its own axes.
        #[arg(long, value_name = "NAME=MIN:MAX", allow_hyphen_values = true)]
        #[serde(default)]
        pub ylim: Vec<String>,
        /// Where line figures put their legend: top (above the plot, the
        /// default), bottom (under the x axis label), inside (in the plot's
        /// emptiest corner) or none. Charts (bars, Gantt) and the report's
        /// interactive charts keep theirs.
        #[arg(long, value_enum, value_name = "PLACE")]
        #[serde(default)]
        pub legend: Option<crate::driver::LegendArg>,
        /// No summary on stdout (diagnostics are still printed).
        #[arg(short, long)]
        #[serde(skip)]
        pub quiet: bool,
    }
}

impl StudyCommand for Args {
    const NAME: &'static str = "simulate";
    type Study = SimulateStudy;

    crate::driver::common_options!();

    fn study(&self) -> Result<SimulateStudy, String> {
        use super::check::real;
        real(
            "--rate",
            self.rate,
            0.0,
            false,
            100.0,
            "preemptions per node-hour",
        )?;
        real(
            "--replace-delay",
            self.replace_delay,
            0.0,
            false,
            86_400.0 * 365.0,
            "seconds",
        )?;
        real("--offset", self.offset, 0.0, false, 1e9, "seconds")?;
        real("--time-scale", self.time_scale, 0.0, true, 1e6, "a factor")?;
        real(
            "--checkpoint-interval",
            self.checkpoint_interval,
            0.0,
            false,
            1e7,
            "seconds",
        )?;
        if let Some(world) = self.world_size {
            super::check::whole("--world-size", world, 1, 100_000, "nodes")?;
        }
        self.check_options_apply()?;
        let burst = |name: &str, text: &Option<String>| {
            text.as_deref()
                .map(|t| parse_burst(t).map_err(|e| format!("{name} {e}")))
                .transpose()
        };
        let generator = GivenGenerator {
            add_trace: self.add_trace.clone(),
            remove_trace: self.remove_trace.clone(),
            remove_chance: self.remove_chance,
            remove_burst: burst("--remove-burst", &self.remove_burst)?,
            add_chance: self.add_chance,
            add_burst: burst("--add-burst", &self.add_burst)?,
            big_add_chance: self.big_add_chance,
        };
        let study = SimulateStudy {
            settings: self.sim_settings()?,
            model: self.model.into(),
            strategy: self.strategy.into(),
            rate: self.rate,
            replace_delay_s: self.replace_delay,
            trace: self.trace.clone(),
            offset_s: self.offset,
            time_scale: self.time_scale,
            checkpoint_interval_s: self.checkpoint_interval,
            world_size: self.world_size,
            generator,
            generated: self.generated,
            seed: self.seed,
        };
        study.check()?;
        if self.generated && self.output.is_none() {
            return Err("--generated writes CSV files: it needs -o DIR".into());
        }
        if self.output.as_deref() == Some(Path::new("-")) && study.model != ModelKind::Tick {
            return Err(
                "-o - writes the tick trace to stdout: it needs --model tick (else use --json)"
                    .into(),
            );
        }
        Ok(study)
    }

    fn saved(&self) -> SavedStudy {
        SavedStudy::Simulate(self.clone())
    }
}

impl Args {
    /// Every option given (set to other than its default) must apply to
    /// the model and strategy chosen: one that would be ignored is an error
    /// naming it and what it applies to.
    fn check_options_apply(&self) -> Result<(), String> {
        let model = ModelKind::from(self.model);
        let strategy = Strategy::from(self.strategy);
        let set = |given: f64, default: f64| given != default;
        let mut ignored: Vec<(&str, &str)> = Vec::new();
        if model != ModelKind::Poisson {
            if set(self.rate, defaults::rate()) {
                ignored.push(("--rate", "--model poisson"));
            }
            if set(self.replace_delay, 0.0) {
                ignored.push(("--replace-delay", "--model poisson"));
            }
        } else if self.trace.is_some() {
            ignored.push(("--trace", "--model minute, replay or tick"));
        }
        if model != ModelKind::Replay {
            if set(self.offset, 0.0) {
                ignored.push(("--offset", "--model replay"));
            }
            if set(self.time_scale, defaults::time_scale()) {
                ignored.push(("--time-scale", "--model replay"));
            }
        }
        if strategy != Strategy::Redundant || model == ModelKind::Tick {
            if set(self.redundancy_overhead, defaults::redundancy_overhead()) {
                ignored.push(("--redundancy-overhead", "--strategy redundant"));
            }
            if set(self.degraded_slowdown, defaults::degraded_slowdown()) {
                ignored.push(("--degraded-slowdown", "--strategy redundant"));
            }
        }
        if self.world_size.is_some()
            && (strategy != Strategy::CheckpointRestart || model == ModelKind::Tick)
        {
            ignored.push(("--world-size", "--strategy checkpoint-restart"));
        }
        if model == ModelKind::Replay && !strategy.restarts() && self.nodes != defaults::nodes() {
            ignored.push((
                "--nodes",
                "--strategy checkpoint-restart or elastic-restart under --model replay (the trace gives the starting nodes)",
            ));
        }
        if !matches!(model, ModelKind::Minute | ModelKind::Tick) {
            for (option, set) in [
                ("--add-trace", self.add_trace.is_some()),
                ("--remove-trace", self.remove_trace.is_some()),
                ("--remove-chance", self.remove_chance.is_some()),
                ("--remove-burst", self.remove_burst.is_some()),
                ("--add-chance", self.add_chance.is_some()),
                ("--add-burst", self.add_burst.is_some()),
                ("--big-add-chance", self.big_add_chance.is_some()),
                ("--generated", self.generated),
            ] {
                if set {
                    ignored.push((option, "--model minute or tick (the notebook's generator)"));
                }
            }
        }
        if model == ModelKind::Tick {
            if strategy != Strategy::Reconfigure {
                ignored.push(("--strategy", "the event-driven models (the notebook's tick simulation has one strategy, reconfigure)"));
            }
            let event_driven = "the event-driven models (the notebook's tick simulation fixes it)";
            if set(self.prep, defaults::prep()) {
                ignored.push(("--prep", event_driven));
            }
            if set(self.checkpoint_interval, 0.0) {
                ignored.push(("--checkpoint-interval", event_driven));
            }
        }
        match ignored.as_slice() {
            [] => Ok(()),
            [(option, applies), ..] => Err(format!(
                "{option} does not apply to --model {} --strategy {}: it applies to {applies}",
                model.name(),
                strategy.name()
            )),
        }
    }
}

/// Runs `expost simulate`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    crate::driver::run(args)
}

impl SavedArgs for Args {
    fn visit_paths(&mut self, visit: &mut dyn FnMut(&mut PathBuf)) {
        visit_opt(&mut self.profile, visit);
        visit_opt(&mut self.trace, visit);
        visit_opt(&mut self.add_trace, visit);
        visit_opt(&mut self.remove_trace, visit);
        visit_opt(&mut self.output, visit);
    }

    crate::driver::saved_flags_and_run!();
}
