//! `expost sweep`: strategies × Poisson preemption rates × checkpoint
//! intervals × seeds (the study is `expost_studies::sweep`); `--shard i/n`
//! runs one shard (`--shard auto`: the one an array job's task stands for),
//! `expost sweep merge` joins the shards' folders, and `expost sweep slurm`
//! writes the script that submits both to Slurm.

use super::run::{visit_opt, SavedArgs, SavedStudy};
use super::simulate::{with_sim_settings, StrategyArg};
use crate::driver::{Common, StudyCommand};
use anyhow::Result;
use expost_render::output::OutputDir;
use expost_sim::sweep::Shard;
use expost_studies::choice::FigureChoice;
use expost_studies::simulate::SimSettings;
use expost_studies::sweep::slurm::ArrayJob;
use expost_studies::sweep::{auto_shard, MergeProfile, SweepGrid, SweepStudy};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

/// Examples shown at the end of `expost sweep --help`.
pub const EXAMPLES: &str = "\
Examples:
  expost sweep --profile run-86/ --rates 0.01,0.05,0.1,0.25,0.5 --seeds 1000 -o sweep/
  expost sweep --profile run-86/ --strategies checkpoint-restart --intervals auto,600,1800,3600 -o ckpt/
  expost sweep --profile run-86/ --seeds 10000 --shard 3/8 -o shard-3/   # one array-job task
  expost sweep merge shard-*/ -o sweep/
  expost sweep slurm --profile run-86/ --seeds 10000 --out-dir /scratch/sweep --shards 8 > sweep.sh && sh sweep.sh

--shard auto takes the shard from the scheduler: in a Slurm array task from
SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (less SLURM_ARRAY_TASK_MIN,
so --array=0-3 and --array=1-4 both work), in a Kubernetes Indexed Job from
JOB_COMPLETION_INDEX (0-based) with --shards N. The shard taken and the
variables read are in diagnostics.csv, on the summary line and in --json.

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
    pub sub: Option<Sub>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// `expost sweep merge` and `expost sweep slurm`.
#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    /// Merge shard folders (each with sweep-spec.json and sweep.csv) into one sweep.
    #[command(after_help = MERGE_HELP)]
    Merge(MergeArgs),
    /// Print a script that runs the sweep as a Slurm array job, then merges its shards.
    #[command(after_help = SLURM_HELP)]
    Slurm(Box<SlurmArgs>),
}

/// The end of `expost sweep merge --help`.
pub const MERGE_HELP: &str = "\
The shards must be those of one sweep, each once: their sweep-spec.json
must agree on the grid, seeds, settings, expost version and profile values,
and name shards 1..N of one N. The profile the shards ran with is in their
sweep-spec.json; --profile reads another one instead.

Example:
  expost sweep merge sweep/shard-*/ -o sweep/merged/

Exit codes: 0 merged; 1 a shard cannot be read, a shard is missing or given
twice, or the shards belong to different sweeps (the message names them);
2 bad command line (also: no --profile while the shards' spec files, written
by an older expost, do not record the profile).";

/// The end of `expost sweep slurm --help`.
pub const SLURM_HELP: &str = "\
The script, on stdout, submits an array job (sbatch --array=1-N) whose task
I runs `expost sweep ... --shard auto -o DIR/shard-I`, then a job that runs
`expost sweep merge DIR/shard-* -o DIR/merged` once every task succeeded
(sbatch --dependency=afterok). Job logs go to DIR/logs. Every argument is
shell-quoted; the expost it runs is this binary (its absolute path) unless
--expost says otherwise, and relative paths are made absolute.

Example:
  expost sweep slurm --profile run-86/ --rates 0.01,0.1,0.5 --seeds 10000 \\
      --out-dir /scratch/sweep --shards 16 --partition batch --time 00:30:00 > sweep.sh
  sh sweep.sh        # on a host where sbatch works
  # later: /scratch/sweep/merged/ holds what `expost sweep -o DIR` writes

Exit codes: 0 the script was printed; 1 it could not be written; 2 bad
command line.";

/// Arguments of `expost sweep slurm`: the sweep's, and the jobs'.
#[derive(Debug, Clone, clap::Args)]
pub struct SlurmArgs {
    /// The sweep every task runs a shard of (--shards: how many, default 8).
    #[command(flatten)]
    pub sweep: RunArgs,
    /// Folder for the shards (DIR/shard-I), the merged sweep (DIR/merged) and the logs (DIR/logs).
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Slurm partition (sbatch --partition).
    #[arg(long, value_name = "P")]
    pub partition: Option<String>,
    /// Time limit of each job (sbatch --time), e.g. 00:30:00.
    #[arg(long, value_name = "HH:MM:SS")]
    pub time: Option<String>,
    /// Account to charge (sbatch --account).
    #[arg(long)]
    pub account: Option<String>,
    /// CPUs per task (sbatch --cpus-per-task); a shard runs its simulations on as many threads.
    #[arg(long, value_name = "N")]
    pub cpus_per_task: Option<u32>,
    /// Memory per node (sbatch --mem), e.g. 4G.
    #[arg(long)]
    pub mem: Option<String>,
    /// Any other sbatch option, for both jobs, e.g. --sbatch-arg=--qos=low (repeatable).
    #[arg(long, value_name = "OPTION", allow_hyphen_values = true)]
    pub sbatch_arg: Vec<String>,
    /// The array job's name (the merge job's adds -merge).
    #[arg(long, default_value = "expost-sweep")]
    pub job_name: String,
    /// The expost binary the jobs run (default: this one).
    #[arg(long, value_name = "PATH")]
    pub expost: Option<PathBuf>,
}

/// Arguments of `expost sweep merge`.
#[derive(Debug, Clone, clap::Args, Serialize)]
pub struct MergeArgs {
    /// Shard output folders.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Profile to draw the Young/Daly intervals with (default: the one the
    /// shards ran with, from their sweep-spec.json).
    #[arg(long, value_name = "DIR|FILE")]
    pub profile: Option<PathBuf>,
    /// Output folder.
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Write only these figures and charts, by name (as `expost sweep`).
    #[arg(long, value_name = "NAME,…", value_delimiter = ',')]
    pub figures: Vec<String>,
    /// Set a line figure's y axis: NAME=MIN:MAX (as `expost sweep`).
    #[arg(long, value_name = "NAME=MIN:MAX", allow_hyphen_values = true)]
    pub ylim: Vec<String>,
    /// Where line figures put their legend (as `expost sweep`).
    #[arg(long, value_enum, value_name = "PLACE")]
    pub legend: Option<crate::driver::LegendArg>,
    /// Draw only the grid points with one of these values: PARAM=V1,V2 (as
    /// `expost sweep`).
    #[arg(long, value_name = "PARAM=V1,V2")]
    pub only: Vec<String>,
    /// Legend text of a strategy or interval: PARAM=VALUE:TEXT (as `expost sweep`).
    #[arg(long, value_name = "PARAM=VALUE:TEXT")]
    pub label: Vec<String>,
    /// No progress or summary lines.
    #[arg(short, long)]
    #[serde(skip)]
    pub quiet: bool,
}

/// The options of `expost sweep` that shape the merged sweep's figures:
/// `expost sweep slurm` gives them to the merge job, not to the shards.
const MERGE_FIGURE_OPTIONS: [&str; 5] = ["figures", "ylim", "legend", "only", "label"];

/// `--shard`: `i/n`, or `auto` (from the array job's variables).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ShardArg {
    /// This shard.
    Fixed(Shard),
    /// The shard this array-job task stands for.
    Auto,
}

impl FromStr for ShardArg {
    type Err = String;
    fn from_str(s: &str) -> Result<ShardArg, String> {
        match s.trim() {
            "auto" => Ok(ShardArg::Auto),
            v => v.parse().map(ShardArg::Fixed),
        }
    }
}

impl TryFrom<String> for ShardArg {
    type Error = String;
    fn try_from(s: String) -> Result<ShardArg, String> {
        s.parse()
    }
}

impl fmt::Display for ShardArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShardArg::Fixed(shard) => shard.fmt(f),
            ShardArg::Auto => f.write_str("auto"),
        }
    }
}

impl From<ShardArg> for String {
    fn from(s: ShardArg) -> String {
        s.to_string()
    }
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
        /// Run only shard i of n (1-based), e.g. 3/8; auto: the one this array-job
        /// task stands for (Slurm or a Kubernetes Indexed Job; see below).
        #[arg(long, value_name = "I/N|auto")]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub shard: Option<ShardArg>,
        /// How many shards: with --shard auto, needed with JOB_COMPLETION_INDEX
        /// and checked against SLURM_ARRAY_TASK_COUNT; for `sweep slurm`, the array's size.
        #[arg(long, value_name = "N")]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub shards: Option<u32>,
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
        /// Draw only the grid points with one of these values: PARAM=V1,V2,
        /// PARAM strategy, interval (auto or seconds) or rate (e.g.
        /// strategy=redundant,checkpoint-restart); repeatable, all must
        /// hold. Tables keep every point.
        #[arg(long, value_name = "PARAM=V1,V2")]
        #[serde(default)]
        pub only: Vec<String>,
        /// Legend text of a strategy or interval: PARAM=VALUE:TEXT (e.g.
        /// strategy=redundant:Bamboo, interval=600:"10 min"); repeatable.
        #[arg(long, value_name = "PARAM=VALUE:TEXT")]
        #[serde(default)]
        pub label: Vec<String>,
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
        let study = match (self.shard, self.shards) {
            (Some(ShardArg::Auto), shards) => {
                let env =
                    |name: &str| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
                SweepStudy::auto(settings, grid, auto_shard::from_env(&env, shards)?)
            }
            (_, Some(_)) => {
                return Err(
                    "--shards goes with --shard auto (with --shard I/N, N is the count)".into(),
                )
            }
            (Some(ShardArg::Fixed(shard)), None) => SweepStudy::new(settings, grid, shard),
            (None, None) => SweepStudy::new(settings, grid, Shard::default()),
        };
        study.check()?;
        study.with_choice(FigureChoice::parse(
            &self.only,
            &self.label,
            &SweepStudy::CHOICE_PARAMS,
        )?)
    }

    fn saved(&self) -> SavedStudy {
        SavedStudy::Sweep(self.clone())
    }
}

/// Runs `expost sweep`, `expost sweep merge` or `expost sweep slurm`.
pub fn run(args: Args) -> Result<ExitCode> {
    match args.sub {
        Some(Sub::Merge(merge_args)) => merge(merge_args),
        Some(Sub::Slurm(slurm_args)) => slurm(&slurm_args),
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
/// they are the shards of one sweep and every simulation is there once,
/// and writes what the whole sweep writes.
fn merge(args: MergeArgs) -> Result<ExitCode> {
    let profile = match &args.profile {
        Some(path) => MergeProfile::Given(path),
        None => MergeProfile::FromShards,
    };
    let (study, result) = match expost_studies::sweep::read_shards(&args.shards, profile) {
        Ok(read) => read,
        Err(e) if e.is_usage() => {
            return Ok(crate::driver::usage_error("sweep merge", &e.to_string()))
        }
        Err(e) => return Err(e.into()),
    };
    let choice = FigureChoice::parse(&args.only, &args.label, &SweepStudy::CHOICE_PARAMS);
    let study = match choice.and_then(|choice| study.with_choice(choice)) {
        Ok(study) => study,
        Err(message) => return Ok(crate::driver::usage_error("sweep merge", &message)),
    };
    let out = OutputDir::prepare(&args.output)?;
    let provenance = crate::driver::provenance(&args)?;
    let common = Common {
        output: Some(args.output.clone()),
        json: false,
        quiet: args.quiet,
        save_study: None,
        figures: args.figures.clone(),
        ylim: args.ylim.clone(),
        legend: args.legend,
    };
    Ok(crate::driver::finish(
        &study,
        &result,
        &provenance,
        Some(&out),
        &common,
    ))
}

/// The shard count of `expost sweep slurm` when `--shards` is not given.
const DEFAULT_SLURM_SHARDS: u32 = 8;

/// `expost sweep slurm`: prints the script that submits the sweep.
fn slurm(args: &SlurmArgs) -> Result<ExitCode> {
    match slurm_job(args) {
        Ok(job) => {
            let text = expost_studies::sweep::slurm::script(&job);
            match crate::driver::print_stdout(text.as_bytes()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(anyhow::Error::new(e).context("could not write the script to stdout"))
                }
                _ => Ok(ExitCode::SUCCESS),
            }
        }
        Err(message) => Ok(crate::driver::usage_error("sweep slurm", &message)),
    }
}

/// The array job `expost sweep slurm` submits, its options checked; an
/// `Err` is a usage error.
fn slurm_job(args: &SlurmArgs) -> Result<ArrayJob, String> {
    let sweep = &args.sweep;
    let not_here = [
        (
            sweep.output.is_some(),
            "-o (the shards go to --out-dir DIR/shard-I, the merge to DIR/merged)",
        ),
        (
            sweep.shard.is_some(),
            "--shard (each task runs --shard auto)",
        ),
        (sweep.json, "--json"),
        (sweep.save_study.is_some(), "--save-study"),
    ];
    if let Some((_, option)) = not_here.iter().find(|(given, _)| *given) {
        return Err(format!("`expost sweep slurm` does not take {option}"));
    }
    let shards = sweep.shards.unwrap_or(DEFAULT_SLURM_SHARDS);
    // The sweep's own checks, and more shards than simulations is a mistake.
    let whole = RunArgs {
        shards: None,
        ..sweep.clone()
    };
    let study = whole.study()?;
    let simulations = study.grid.strategies.len() as u64
        * study.grid.rates.len() as u64
        * study.grid.intervals.len() as u64
        * u64::from(study.grid.seeds);
    if shards == 0 || u64::from(shards) > simulations {
        return Err(format!(
            "--shards {shards}: need 1 to {simulations} (the sweep's simulations)"
        ));
    }
    if let Some(time) = &args.time {
        expost_studies::sweep::slurm::check_time(time)?;
    }
    let absolute = |path: &Path, what: &str| -> Result<String, String> {
        let path =
            std::path::absolute(path).map_err(|e| format!("{what} {}: {e}", path.display()))?;
        path.to_str()
            .map(str::to_string)
            .ok_or_else(|| format!("{what} {}: not UTF-8", path.display()))
    };
    let expost = match &args.expost {
        Some(path) => absolute(path, "--expost")?,
        None => {
            let exe = std::env::current_exe().map_err(|e| {
                format!("the path of this expost is unknown ({e}); give --expost PATH")
            })?;
            absolute(&exe, "this expost")?
        }
    };
    // --shards N in each task checks N against SLURM_ARRAY_TASK_COUNT.
    let mut task_args = RunArgs {
        shards: Some(shards),
        ..sweep.clone()
    };
    if let Some(profile) = &sweep.profile {
        task_args.profile = Some(absolute(profile, "--profile")?.into());
    }
    let (merge_args, sweep_args): (Vec<_>, Vec<_>) = sweep_flags(&task_args)?
        .into_iter()
        .partition(|(key, _)| MERGE_FIGURE_OPTIONS.contains(&key.as_str()));
    let words = |flags: Vec<(String, String)>| flags.into_iter().map(|(_, flag)| flag).collect();
    Ok(ArrayJob {
        expost,
        sweep_args: words(sweep_args),
        merge_args: words(merge_args),
        out_dir: absolute(&args.out_dir, "--out-dir")?,
        shards,
        job_name: args.job_name.clone(),
        sbatch_options: sbatch_options(args)?,
        quiet: sweep.quiet,
    })
}

/// The options given to both `sbatch` calls, each one word.
fn sbatch_options(args: &SlurmArgs) -> Result<Vec<String>, String> {
    let mut options = Vec::new();
    let named = [
        ("partition", &args.partition),
        ("time", &args.time),
        ("account", &args.account),
        ("mem", &args.mem),
    ];
    for (name, value) in named {
        if let Some(value) = value {
            if value.trim().is_empty() {
                return Err(format!("--{name} is empty"));
            }
            options.push(format!("--{name}={value}"));
        }
    }
    if let Some(cpus) = args.cpus_per_task {
        super::check::whole("--cpus-per-task", cpus, 1, 100_000, "CPUs")?;
        options.push(format!("--cpus-per-task={cpus}"));
    }
    for extra in &args.sbatch_arg {
        if !extra.starts_with('-') {
            return Err(format!(
                "--sbatch-arg {extra:?}: an sbatch option starts with -"
            ));
        }
        options.push(extra.clone());
    }
    Ok(options)
}

/// The command-line options that give `args` back, each with its key (as
/// `--name=value`: a list joined with commas when the option splits at
/// commas, else one `--name=item` per item; unset options left out), from
/// its serde form, whose keys are the options' names.
fn sweep_flags(args: &RunArgs) -> Result<Vec<(String, String)>, String> {
    let value = serde_json::to_value(args).map_err(|e| format!("the sweep's options: {e}"))?;
    let serde_json::Value::Object(map) = value else {
        return Err("the sweep's options are not a table".into());
    };
    let command = <RunArgs as clap::Args>::augment_args(clap::Command::new("sweep"));
    let splits_at_commas = |long: &str| {
        (command.get_arguments())
            .any(|a| a.get_long() == Some(long) && a.get_value_delimiter().is_some())
    };
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut flags = Vec::new();
    for (key, value) in &map {
        let long = key.replace('_', "-");
        let flag = format!("--{long}");
        let mut push = |word: String| flags.push((key.clone(), word));
        match value {
            serde_json::Value::Null | serde_json::Value::Bool(false) => {}
            // An empty list is the option left out (`--figures=` would be one empty name).
            serde_json::Value::Array(items) if items.is_empty() => {}
            serde_json::Value::Bool(true) => push(flag),
            serde_json::Value::Array(items) if splits_at_commas(&long) => {
                let items: Vec<String> = items.iter().map(text).collect();
                push(format!("{flag}={}", items.join(",")));
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    push(format!("{flag}={}", text(item)));
                }
            }
            other => push(format!("{flag}={}", text(other))),
        }
    }
    if args.quiet {
        flags.push(("quiet".into(), "--quiet".into()));
    }
    Ok(flags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }

    fn parse(args: &[&str]) -> RunArgs {
        Cli::try_parse_from(std::iter::once("sweep").chain(args.iter().copied()))
            .unwrap()
            .run
    }

    #[test]
    fn the_tasks_options_parse_back_to_the_same_sweep() {
        let given = parse(&[
            "--profile",
            "/p/run 86",
            "--rates",
            "0.05,-0.0,1e-3",
            "--intervals",
            "auto,600.5",
            "--strategies",
            "checkpoint-restart,redundant",
            "--seeds",
            "7",
            "--hours",
            "2.25",
            "--rounded",
            "--pipeline-depth",
            "4",
            "-q",
        ]);
        let flags: Vec<String> = (sweep_flags(&given).unwrap().into_iter())
            .map(|(_, flag)| flag)
            .collect();
        assert!(
            flags.contains(&"--profile=/p/run 86".to_string()),
            "{flags:?}"
        );
        assert!(
            flags.contains(&"--rates=0.05,-0.0,0.001".to_string()),
            "{flags:?}"
        );
        let words: Vec<&str> = flags.iter().map(String::as_str).collect();
        let back = parse(&words);
        assert_eq!(
            serde_json::to_value(&back).unwrap(),
            serde_json::to_value(&given).unwrap()
        );
        assert!(back.quiet);
    }

    #[test]
    fn shard_auto_and_shards_go_together() {
        let auto = parse(&["--profile", "p", "--shard", "auto", "--shards", "4"]);
        assert_eq!(auto.shard, Some(ShardArg::Auto));
        let fixed = parse(&["--profile", "p", "--shard", "2/4", "--shards", "4"]);
        assert!(fixed
            .study()
            .unwrap_err()
            .contains("--shards goes with --shard auto"));
        assert!(Cli::try_parse_from(["sweep", "--profile", "p", "--shard", "soon"]).is_err());
        assert_eq!(String::from(ShardArg::Auto), "auto");
        assert_eq!(
            "3/8".parse(),
            Ok(ShardArg::Fixed(Shard { index: 3, count: 8 }))
        );
    }
}
