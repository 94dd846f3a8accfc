//! `expost sweep`: strategies × Poisson preemption rates × checkpoint
//! intervals × seeds (the study is `expost_studies::sweep`); `--shard i/n`
//! runs one shard (for a batch scheduler's array job) and `expost sweep
//! merge` joins the shards' folders.

use super::run::{visit_opt, SavedArgs, SavedStudy};
use super::simulate::{with_sim_settings, StrategyArg};
use crate::driver::{Common, StudyCommand};
use anyhow::Result;
use expost_render::output::OutputDir;
use expost_sim::sweep::Shard;
use expost_studies::simulate::SimSettings;
use expost_studies::sweep::{SweepGrid, SweepStudy};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;

/// Examples shown at the end of `expost sweep --help`.
pub const EXAMPLES: &str = "\
Examples:
  expost sweep --profile run-86/ --rates 0.01,0.05,0.1,0.25,0.5 --seeds 1000 -o sweep/
  expost sweep --profile run-86/ --strategies checkpoint-restart --intervals auto,600,1800,3600 -o ckpt/
  expost sweep --profile run-86/ --seeds 10000 --shard 3/8 -o shard-3/   # one array-job task
  expost sweep merge shard-*/ -o sweep/

Outputs in -o DIR: sweep.csv/.parquet (one row per simulation, the same
columns in both; also what -o - writes), points.csv (median and p5/p95 per
grid point), optima.csv (best searched checkpoint interval per strategy and
rate, beside Young/Daly), sweep-spec.json, sweep.json (as --json),
diagnostics.csv, manifest.json, and figures throughput, value (samples per
dollar) against preemption rate per strategy (median, p5–p95 band) and
time_split_<strategy> (stacked bars: share of wall time by cause at each
rate). A shard (--shard) writes sweep-spec.json and sweep.csv/.parquet (what
merge reads), sweep.json, diagnostics.csv and manifest.json.

Exit codes: 0 done; 1 an input or output failed; 2 bad command line.";

/// Arguments of `expost sweep`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    pub merge: Option<Sub>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// `expost sweep merge`.
#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    /// Merge shard folders (each with sweep-spec.json and sweep.csv) into one sweep.
    Merge(MergeArgs),
}

/// Arguments of `expost sweep merge`.
#[derive(Debug, Clone, clap::Args, Serialize)]
pub struct MergeArgs {
    /// Shard output folders.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Profile the shards used (to draw the Young/Daly intervals).
    #[arg(long, value_name = "DIR|FILE")]
    pub profile: PathBuf,
    /// Output folder.
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// No progress or summary lines.
    #[arg(short, long)]
    #[serde(skip)]
    pub quiet: bool,
}

/// A checkpoint interval as asked: `auto`, or compute seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IntervalArg {
    /// Back to back for asynchronous strategies; Young/Daly for checkpoint-restart.
    Auto,
    /// Compute seconds between checkpoints.
    Seconds(f64),
}

impl FromStr for IntervalArg {
    type Err = String;
    fn from_str(s: &str) -> Result<IntervalArg, String> {
        match s.trim() {
            "auto" => Ok(IntervalArg::Auto),
            v => v
                .parse()
                .map(IntervalArg::Seconds)
                .map_err(|_| format!("{v:?} is neither auto nor seconds")),
        }
    }
}

impl fmt::Display for IntervalArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntervalArg::Auto => f.write_str("auto"),
            IntervalArg::Seconds(s) => write!(f, "{s}"),
        }
    }
}

/// In study files: `"auto"` or a number of seconds.
impl Serialize for IntervalArg {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            IntervalArg::Auto => s.serialize_str("auto"),
            IntervalArg::Seconds(v) => s.serialize_f64(*v),
        }
    }
}

impl<'de> Deserialize<'de> for IntervalArg {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<IntervalArg, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = IntervalArg;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"auto\" or a number of seconds")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<IntervalArg, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<IntervalArg, E> {
                Ok(IntervalArg::Seconds(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<IntervalArg, E> {
                Ok(IntervalArg::Seconds(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<IntervalArg, E> {
                Ok(IntervalArg::Seconds(v as f64))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Defaults shared by the command line and study files.
mod defaults {
    use super::{IntervalArg, StrategyArg};

    pub fn strategies() -> Vec<StrategyArg> {
        vec![
            StrategyArg::Reconfigure,
            StrategyArg::CheckpointRestart,
            StrategyArg::Redundant,
            StrategyArg::ElasticRestart,
        ]
    }
    pub fn rates() -> Vec<f64> {
        vec![0.01, 0.05, 0.1, 0.25, 0.5]
    }
    pub fn intervals() -> Vec<IntervalArg> {
        vec![IntervalArg::Auto]
    }
    pub fn seeds() -> u32 {
        100
    }
}

with_sim_settings! {
    /// A sweep run: the arguments of `expost sweep` without `merge`; also
    /// the `[sweep]` table of a study file (`expost.toml`), where every key
    /// but `profile` may be left out.
    #[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RunArgs {
        /// Strategies.
        #[arg(long, value_enum, value_delimiter = ',', default_values_t = defaults::strategies())]
        #[serde(default = "defaults::strategies")]
        pub strategies: Vec<StrategyArg>,
        /// Preemption rates per node-hour.
        #[arg(long, value_delimiter = ',', default_values_t = defaults::rates(), allow_hyphen_values = true)]
        #[serde(default = "defaults::rates")]
        pub rates: Vec<f64>,
        /// Checkpoint intervals, compute seconds, or auto (back to back; Young/Daly for checkpoint-restart).
        #[arg(long, value_delimiter = ',', default_value = "auto")]
        #[serde(default = "defaults::intervals")]
        pub intervals: Vec<IntervalArg>,
        /// Seeds per grid point.
        #[arg(long, default_value_t = defaults::seeds(), allow_hyphen_values = true)]
        #[serde(default = "defaults::seeds")]
        pub seeds: u32,
        /// Base seed.
        #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
        #[serde(default)]
        pub seed: u64,
        /// Seconds before a preempted node's replacement arrives.
        #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
        #[serde(default)]
        pub replace_delay: f64,
        /// Run only shard i of n (1-based), e.g. 3/8.
        #[arg(long, value_name = "I/N")]
        #[serde(default)]
        pub shard: Option<Shard>,
        /// Output folder; `-o -` writes only sweep.csv, to stdout.
        #[arg(short, long, value_name = "DIR")]
        #[serde(default)]
        pub output: Option<PathBuf>,
        /// Print the per-point summary as JSON on stdout.
        #[arg(long)]
        #[serde(skip)]
        pub json: bool,
        /// Save these options to a study file (default: expost.toml in the output
        /// folder, else in the current one) to rerun them later with `expost run`.
        #[arg(long, value_name = "FILE")]
        #[serde(skip)]
        pub save_study: Option<Option<PathBuf>>,
        /// No progress bar or summary.
        #[arg(short, long)]
        #[serde(skip)]
        pub quiet: bool,
    }
}

impl StudyCommand for RunArgs {
    const NAME: &'static str = "sweep";
    type Study = SweepStudy;

    crate::driver::common_options!();

    fn study(&self) -> Result<SweepStudy, String> {
        use super::check::{real, whole};
        for rate in &self.rates {
            real(
                "--rates",
                *rate,
                0.0,
                false,
                100.0,
                "preemptions per node-hour",
            )?;
        }
        for interval in &self.intervals {
            if let IntervalArg::Seconds(s) = interval {
                real("--intervals", *s, 0.0, false, 1e7, "seconds")?;
            }
        }
        whole("--seeds", self.seeds, 1, 100_000, "seeds")?;
        real(
            "--replace-delay",
            self.replace_delay,
            0.0,
            false,
            86_400.0 * 365.0,
            "seconds",
        )?;
        let settings: SimSettings = self.sim_settings()?;
        let grid = SweepGrid {
            strategies: self.strategies.iter().map(|s| (*s).into()).collect(),
            rates: self.rates.clone(),
            intervals: self
                .intervals
                .iter()
                .map(|i| match i {
                    IntervalArg::Auto => None,
                    IntervalArg::Seconds(s) => Some(*s),
                })
                .collect(),
            seeds: self.seeds,
            base_seed: self.seed,
            replace_delay_s: self.replace_delay,
        };
        let study = SweepStudy::new(settings, grid, self.shard.unwrap_or_default());
        study.check()?;
        Ok(study)
    }

    fn saved(&self) -> SavedStudy {
        SavedStudy::Sweep(self.clone())
    }
}

/// Runs `expost sweep` or `expost sweep merge`.
pub fn run(args: Args) -> Result<ExitCode> {
    match args.merge {
        Some(Sub::Merge(merge_args)) => merge(merge_args),
        None => crate::driver::run(args.run),
    }
}

impl SavedArgs for RunArgs {
    fn visit_paths(&mut self, visit: &mut dyn FnMut(&mut PathBuf)) {
        visit_opt(&mut self.profile, visit);
        visit_opt(&mut self.output, visit);
    }

    crate::driver::saved_flags_and_run!();
}

/// `expost sweep merge`: reads each shard's spec and records, checks that
/// every simulation is there once, and writes what the whole sweep writes.
fn merge(args: MergeArgs) -> Result<ExitCode> {
    let out = OutputDir::prepare(&args.output)?;
    let (study, result) = expost_studies::sweep::read_shards(&args.shards, &args.profile)?;
    let provenance = crate::driver::provenance(&args)?;
    let common = Common {
        output: Some(args.output.clone()),
        json: false,
        quiet: args.quiet,
        save_study: None,
    };
    Ok(crate::driver::finish(
        &study,
        &result,
        &provenance,
        Some(&out),
        &common,
    ))
}
