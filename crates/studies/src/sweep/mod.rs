//! `expost sweep`: strategies × Poisson preemption rates × checkpoint
//! intervals × seeds. Each simulation of this shard is a unit; they are
//! combined into the sweep table, the summaries per grid point and the
//! best intervals. Deterministic whatever the thread count: a simulation's
//! generator comes from its grid point and seed index, never from the
//! thread that runs it, and units are combined in job order.

pub mod auto_shard;
mod outputs;
mod shards;
pub mod slurm;

use crate::choice::{names_number, FigureChoice};
use crate::simulate::SimSettings;
use crate::study::{Context, Discovered, Provenance, Study, StudyError, UnitDiagnostic};
use expost_model::profile::Profile;
use expost_model::{Diagnostic, Diagnostics};
use expost_render::output::Output;
use expost_render::table::Table;
use expost_sim::engine::{SimConfig, Strategy};
use expost_sim::sweep::{self, GridPoint, Optimum, PointSummary, Shard, SweepRecord, SweepSpec};
use std::io;
use std::sync::OnceLock;

pub use auto_shard::AutoShard;
pub use outputs::sweep_table;
pub use shards::{read_shards, MergeProfile, ProfileUsed, ShardsError, SpecFile};

/// What the grid is made of, besides the shared settings.
#[derive(Debug, Clone)]
pub struct SweepGrid {
    /// Strategies.
    pub strategies: Vec<Strategy>,
    /// Poisson preemption rates per node-hour.
    pub rates: Vec<f64>,
    /// Checkpoint intervals, s of compute; `None`: automatic.
    pub intervals: Vec<Option<f64>>,
    /// Seeds per grid point.
    pub seeds: u32,
    /// Base seed.
    pub base_seed: u64,
    /// Seconds before a preempted node's replacement arrives.
    pub replace_delay_s: f64,
}

/// `expost sweep`: the sweep and the shard of it to run.
#[derive(Debug)]
pub struct SweepStudy {
    /// The profile, cluster and prices every simulation shares.
    pub settings: SimSettings,
    /// The grid.
    pub grid: SweepGrid,
    /// The shard to run (`1/1`: all of it).
    pub shard: Shard,
    /// How `--shard auto` found the shard, when it did.
    pub auto_shard: Option<AutoShard>,
    /// What the figures draw (`--only`, `--label`; by strategy, interval
    /// or rate).
    pub choice: FigureChoice,
    /// The spec and profile, once discovered.
    loaded: OnceLock<Loaded>,
}

#[derive(Debug)]
struct Loaded {
    spec: SweepSpec,
    profile: Profile,
}

/// One simulation of the sweep: a grid point and a seed index.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    /// The grid point.
    pub point: GridPoint,
    /// The seed index within the point.
    pub seed_index: u32,
}

/// A sweep (or a shard of one), combined.
#[derive(Debug)]
pub struct SweepResult {
    /// What was swept.
    pub spec: SweepSpec,
    /// The profile, as used.
    pub profile: Profile,
    /// Where the profile was read.
    pub profile_path: std::path::PathBuf,
    /// Which shard this is (`1/1`: the whole sweep).
    pub shard: Shard,
    /// Every simulation, in job order.
    pub records: Vec<SweepRecord>,
    /// Statistics across seeds per grid point.
    pub summaries: Vec<PointSummary>,
    /// The best searched interval per strategy and rate.
    pub optima: Vec<Optimum>,
    /// What reading the profile reported.
    pub diagnostics: Vec<Diagnostic>,
}

impl SweepResult {
    /// Summarises `records` (in job order) of `spec` under `profile`
    /// (read from `profile_path`).
    pub fn new(
        spec: SweepSpec,
        profile: Profile,
        profile_path: std::path::PathBuf,
        shard: Shard,
        records: Vec<SweepRecord>,
        diagnostics: Vec<Diagnostic>,
    ) -> SweepResult {
        let grid = spec.grid(&profile);
        let summaries = sweep::summarise(&grid, &records);
        let optima = sweep::optima(&spec, &profile, &summaries);
        SweepResult {
            spec,
            profile,
            profile_path,
            shard,
            records,
            summaries,
            optima,
            diagnostics,
        }
    }
}

impl SweepStudy {
    /// A sweep of `grid` with `settings`, running `shard`.
    pub fn new(settings: SimSettings, grid: SweepGrid, shard: Shard) -> SweepStudy {
        SweepStudy {
            settings,
            grid,
            shard,
            auto_shard: None,
            choice: FigureChoice::default(),
            loaded: OnceLock::new(),
        }
    }

    /// A sweep of `grid` with `settings`, running the shard `--shard auto` found.
    pub fn auto(settings: SimSettings, grid: SweepGrid, auto: AutoShard) -> SweepStudy {
        SweepStudy {
            auto_shard: Some(auto.clone()),
            ..SweepStudy::new(settings, grid, auto.shard)
        }
    }

    /// The study whose shards `expost sweep merge` joins: the settings of
    /// `spec`, with `profile`.
    pub fn merged(spec: &SweepSpec, profile: std::path::PathBuf) -> SweepStudy {
        let base = &spec.base;
        let settings = SimSettings {
            profile,
            hours: base.duration_s / 3600.0,
            nodes: base.initial_nodes,
            max_instances: base.max_instances,
            pipeline_depth: Some(base.pipeline_depth),
            prep_s: base.prep_s,
            redundancy_overhead: base.redundancy_overhead,
            degraded_slowdown: base.degraded_slowdown,
            spot_price: base.prices.spot,
            on_demand_price: base.prices.on_demand,
            rounded: false,
        };
        let grid = SweepGrid {
            strategies: spec.strategies.clone(),
            rates: spec.rates.clone(),
            intervals: spec.intervals.clone(),
            seeds: spec.seeds,
            base_seed: spec.base_seed,
            replace_delay_s: spec.replace_delay_s,
        };
        SweepStudy::new(settings, grid, Shard::default())
    }

    /// The parameters `--only` and `--label` choose the figures' lines and
    /// points by.
    pub const CHOICE_PARAMS: [&'static str; 3] = ["strategy", "interval", "rate"];

    /// This sweep drawing what `choice` chooses.
    ///
    /// # Errors
    /// A value `choice` names that the grid does not have (so nothing
    /// would be chosen or labelled by it).
    pub fn with_choice(self, choice: FigureChoice) -> Result<SweepStudy, String> {
        let grid = &self.grid;
        let has = |param: &str, value: &str| match param {
            "strategy" => grid.strategies.iter().any(|s| s.name() == value),
            "interval" => (grid.intervals.iter()).any(|i| names_interval(value, *i)),
            _ => grid.rates.iter().any(|r| names_number(value, *r)),
        };
        if let Some(said) = choice.unmatched(has, "grid point").into_iter().next() {
            return Err(format!(
                "{said} (the grid's strategies, intervals and rates are given by --strategies, --intervals and --rates)"
            ));
        }
        Ok(SweepStudy { choice, ..self })
    }

    /// The option checks that need no input.
    ///
    /// # Errors
    /// What is wrong with the options.
    pub fn check(&self) -> Result<(), String> {
        self.spec(self.settings.config_unread()).check()
    }

    fn spec(&self, base: SimConfig) -> SweepSpec {
        let g = &self.grid;
        SweepSpec {
            base,
            strategies: g.strategies.clone(),
            rates: g.rates.clone(),
            intervals: g.intervals.clone(),
            seeds: g.seeds,
            base_seed: g.base_seed,
            replace_delay_s: g.replace_delay_s,
        }
    }

    fn loaded(&self) -> &Loaded {
        self.loaded
            .get()
            .expect("a sweep's units are analysed after they are discovered")
    }
}

/// Whether a value given for `interval` names `interval` (`auto` or seconds).
pub(crate) fn names_interval(given: &str, interval: Option<f64>) -> bool {
    match interval {
        None => given.trim() == "auto",
        Some(seconds) => names_number(given, seconds),
    }
}

impl Study for SweepStudy {
    type Unit = Job;
    type Analysed = Option<SweepRecord>;
    type Combined = SweepResult;

    fn name(&self) -> &'static str {
        "sweep"
    }

    fn unit_noun(&self) -> &'static str {
        "simulations"
    }

    /// Reads the profile, checks the spec against it, and lists this
    /// shard's simulations.
    fn discover(&self) -> Result<Discovered<Job>, StudyError> {
        let mut diags = Diagnostics::default();
        if let Some(auto) = &self.auto_shard {
            diags.note(None, auto.describe());
        }
        let profile = self.settings.load(&mut diags)?;
        let spec = self.spec(self.settings.config(profile.pipeline_depth));
        spec.validate(&profile).map_err(StudyError::Usage)?;
        let grid = spec.grid(&profile);
        let units = sweep::shard_jobs(&grid, spec.seeds, self.shard)
            .into_iter()
            .map(|(point, seed_index)| Job { point, seed_index })
            .collect();
        // Set once: the driver discovers once.
        let _ = self.loaded.set(Loaded { spec, profile });
        Ok(Discovered {
            units,
            diagnostics: diags.into_items(),
        })
    }

    fn analyse(&self, job: &Job, context: &Context<'_>) -> Option<SweepRecord> {
        let Loaded { spec, profile } = self.loaded();
        sweep::run_one_until(spec, profile, &job.point, job.seed_index, &|| {
            context.interrupted()
        })
    }

    fn combine(
        &self,
        records: Vec<Option<SweepRecord>>,
        diagnostics: Vec<Diagnostic>,
    ) -> Result<SweepResult, StudyError> {
        let records = records
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| StudyError::Input("interrupted".into()))?;
        let Loaded { spec, profile } = self.loaded();
        Ok(SweepResult::new(
            spec.clone(),
            profile.clone(),
            self.settings.profile.clone(),
            self.shard,
            records,
            diagnostics,
        ))
    }

    fn diagnostics<'a>(&self, result: &'a SweepResult) -> Vec<UnitDiagnostic<'a>> {
        result.diagnostics.iter().map(|d| ("", d)).collect()
    }

    fn failed_units(&self, _: &SweepResult) -> usize {
        0
    }

    /// The summaries per grid point and the best intervals; which shard,
    /// and from what when `--shard auto` found it.
    fn write_json(
        &self,
        result: &SweepResult,
        _: &Provenance,
        out: &mut dyn io::Write,
    ) -> io::Result<()> {
        serde_json::to_writer_pretty(
            out,
            &serde_json::json!({
                "points": result.summaries,
                "optima": result.optima,
                "shard": result.shard,
                "shard_from": self.auto_shard,
            }),
        )?;
        Ok(())
    }

    fn summary(&self, result: &SweepResult) -> serde_json::Value {
        serde_json::json!({
            "simulations": result.records.len(),
            "grid_points": result.spec.grid(&result.profile).len(),
            "shard": result.shard,
            "shard_from": self.auto_shard,
        })
    }

    fn outputs<'a>(&'a self, result: &'a SweepResult, _: &'a Provenance) -> Vec<Output<'a>> {
        outputs::outputs(result, &self.choice)
    }

    fn stdout_table<'a>(
        &'a self,
        result: &'a SweepResult,
    ) -> Option<Box<dyn Iterator<Item = Table> + 'a>> {
        Some(Box::new(std::iter::once(sweep_table(&result.records))))
    }

    fn terminal(&self, result: &SweepResult) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for s in &result.summaries {
            let _ = writeln!(
                out,
                "{:<18} rate {:>5} /node-h  interval {:>7.0} s  throughput median {:>7.3} [p5 {:.3}, p95 {:.3}] samples/s  value {:>8.0} samples/$  wasted {:>5.1} %",
                s.point.strategy.name(),
                s.point.rate,
                s.point.interval_s,
                s.throughput.median,
                s.throughput.p5,
                s.throughput.p95,
                s.samples_per_dollar.median,
                100.0 * s.wasted_fraction
            );
        }
        out
    }

    fn headline(&self, result: &SweepResult) -> String {
        let shard = match (&self.auto_shard, result.shard.is_whole()) {
            (Some(auto), _) => format!(", shard {} from {}", result.shard, auto.from.join(", ")),
            (None, true) => String::new(),
            (None, false) => format!(", shard {}", result.shard),
        };
        format!(
            "{} simulations ({} grid points{shard})",
            result.records.len(),
            result.spec.grid(&result.profile).len(),
        )
    }
}

#[cfg(test)]
mod tests;
