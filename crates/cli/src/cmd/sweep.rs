//! `expost sweep`: strategies × Poisson preemption rates × checkpoint
//! intervals × seeds, in parallel, deterministic whatever the thread count;
//! `--shard i/n` runs one shard (for a batch scheduler's array job) and
//! `expost sweep merge` joins the shards' folders.

use super::sim_out::{self, TableBuilder};
use super::simulate::{SimArgs, StrategyArg};
use crate::output::OutputDir;
use crate::progress;
use anyhow::{Context, Result};
use expost_model::Diagnostics;
use expost_render::bars::{render_bars, write_svg_png_pdf, Bar, StackedBars};
use expost_render::figure::{Figure, Line, PaperSize};
use expost_sim::engine::Strategy;
use expost_sim::profile::Profile;
use expost_sim::sweep::{self, Shard, SweepRecord, SweepSpec};
use std::path::PathBuf;
use std::process::ExitCode;

/// Examples shown at the end of `expost sweep --help`.
pub const EXAMPLES: &str = "\
Examples:
  expost sweep --profile run-86/ --rates 0.01,0.05,0.1,0.25,0.5 --seeds 1000 -o sweep/
  expost sweep --profile run-86/ --strategies checkpoint-restart --intervals auto,600,1800,3600 -o ckpt/
  expost sweep --profile run-86/ --seeds 10000 --shard 3/8 -o shard-3/   # one array-job task
  expost sweep merge shard-*/ -o sweep/

Outputs in -o DIR: sweep.csv/.parquet (one row per simulation), points.csv
(median and p5/p95 per grid point), optima.csv (best searched checkpoint
interval per strategy and rate, beside Young/Daly), sweep-spec.json,
sweep.json (as --json), and figures throughput, value (samples per dollar)
against preemption rate per strategy (median, p5–p95 band) and
time_split_<strategy> (stacked bars: share of wall time by cause at each rate).

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
    Merge {
        /// Shard output folders.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Profile the shards used (to draw the Young/Daly intervals).
        #[arg(long, value_name = "DIR|FILE")]
        profile: PathBuf,
        /// Output folder.
        #[arg(short, long, value_name = "DIR")]
        output: PathBuf,
        /// No progress or summary lines.
        #[arg(short, long)]
        quiet: bool,
    },
}

/// A sweep run.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    /// Strategies.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [StrategyArg::Reconfigure, StrategyArg::CheckpointRestart, StrategyArg::Redundant])]
    pub strategies: Vec<StrategyArg>,
    /// Preemption rates per node-hour.
    #[arg(long, value_delimiter = ',', default_values_t = [0.01, 0.05, 0.1, 0.25, 0.5])]
    pub rates: Vec<f64>,
    /// Checkpoint intervals, compute seconds, or auto (back to back; Young/Daly for checkpoint-restart).
    #[arg(long, value_delimiter = ',', default_value = "auto")]
    pub intervals: Vec<String>,
    /// Seeds per grid point.
    #[arg(long, default_value_t = 100)]
    pub seeds: u32,
    /// Base seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Seconds before a preempted node's replacement arrives.
    #[arg(long, default_value_t = 0.0)]
    pub replace_delay: f64,
    /// Run only shard i of n (1-based), e.g. 3/8.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Output folder.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Print the per-point summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// No progress bar or summary.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Runs `expost sweep` or `expost sweep merge`.
pub fn run(args: Args) -> Result<ExitCode> {
    match args.merge {
        Some(Sub::Merge {
            shards,
            profile,
            output,
            quiet,
        }) => merge(&shards, &profile, &output, quiet),
        None => sweep_run(args.run),
    }
}

fn spec_of(
    args: &RunArgs,
    profile: &Profile,
    base: expost_sim::engine::SimConfig,
) -> Result<SweepSpec> {
    let intervals = args
        .intervals
        .iter()
        .map(|i| match i.trim() {
            "auto" => Ok(None),
            v => v
                .parse::<f64>()
                .map(Some)
                .with_context(|| format!("--intervals: {v:?} is neither auto nor seconds")),
        })
        .collect::<Result<Vec<_>>>()?;
    let spec = SweepSpec {
        base,
        strategies: args.strategies.iter().map(|s| Strategy::from(*s)).collect(),
        rates: args.rates.clone(),
        intervals,
        seeds: args.seeds,
        base_seed: args.seed,
        replace_delay_s: args.replace_delay,
    };
    spec.validate(profile).map_err(anyhow::Error::msg)?;
    Ok(spec)
}

fn sweep_run(args: RunArgs) -> Result<ExitCode> {
    let output = args.output.as_deref().map(OutputDir::prepare).transpose()?;
    let mut diags = Diagnostics::default();
    let (profile, base) = args.sim.load(&mut diags)?;
    let spec = spec_of(&args, &profile, base)?;
    let shard = args.shard.unwrap_or_default();
    let jobs = spec.jobs(&profile);
    let mine = (jobs + u64::from(shard.count) - u64::from(shard.index)) / u64::from(shard.count);
    let bar = progress::bar(mine, "simulations", args.quiet || args.json);
    let records = sweep::run(&spec, &profile, shard, &|| bar.inc(1));
    bar.finish_and_clear();
    let whole = shard.count == 1;
    finish(
        &spec,
        &profile,
        &records,
        output.as_ref(),
        whole,
        args.json,
        args.quiet,
    )
}

fn merge(
    shards: &[PathBuf],
    profile: &std::path::Path,
    output: &std::path::Path,
    quiet: bool,
) -> Result<ExitCode> {
    let out = OutputDir::prepare(output)?;
    let profile = sim_out::read_profile(profile, &mut Diagnostics::default())?;
    let mut specs = Vec::new();
    let mut parts = Vec::new();
    for dir in shards {
        let spec_path = dir.join("sweep-spec.json");
        let text = std::fs::read_to_string(&spec_path)
            .with_context(|| format!("could not read '{}'", spec_path.display()))?;
        specs.push(
            serde_json::from_str::<SweepSpec>(&text)
                .with_context(|| format!("'{}' is not a sweep spec", spec_path.display()))?,
        );
        let csv_path = dir.join("sweep.csv");
        let file = std::fs::File::open(&csv_path)
            .with_context(|| format!("could not read '{}'", csv_path.display()))?;
        parts.push(
            sweep::read_csv(std::io::BufReader::new(file))
                .map_err(|e| anyhow::anyhow!("{}:{e}", csv_path.display()))?,
        );
    }
    let records = sweep::merge(&specs, parts, &profile)?;
    finish(
        &specs[0],
        &profile,
        &records,
        Some(&out),
        true,
        false,
        quiet,
    )
}

fn finish(
    spec: &SweepSpec,
    profile: &Profile,
    records: &[SweepRecord],
    output: Option<&OutputDir>,
    whole: bool,
    json: bool,
    quiet: bool,
) -> Result<ExitCode> {
    let grid = spec.grid(profile);
    let summaries = sweep::summarise(&grid, records);
    let optima = sweep::optima(spec, profile, &summaries);
    if let Some(dir) = output {
        sim_out::write_json(dir, "sweep-spec.json", spec)?;
        let csv_path = dir.file("sweep.csv");
        expost_render::atomic::write_atomic_with(&csv_path, |w| {
            sweep::write_csv(records, w).map_err(std::io::Error::other)
        })
        .with_context(|| format!("could not write '{}'", csv_path.display()))?;
        if whole {
            write_whole(dir, records, &summaries, &optima)?;
        }
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"points": summaries, "optima": optima})
            )?
        );
    } else if !quiet {
        for s in &summaries {
            println!(
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
        eprintln!("{} simulations", records.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn write_whole(
    dir: &OutputDir,
    records: &[SweepRecord],
    summaries: &[sweep::PointSummary],
    optima: &[sweep::Optimum],
) -> Result<()> {
    let r = records;
    let table = TableBuilder::default()
        .int("point", r.iter().map(|x| i64::from(x.point)))
        .int("seed_index", r.iter().map(|x| i64::from(x.seed_index)))
        .text("strategy", r.iter().map(|x| x.strategy.name()))
        .float("rate_per_node_hour", r.iter().map(|x| x.rate_per_node_hour))
        .float(
            "checkpoint_interval_s",
            r.iter().map(|x| x.checkpoint_interval_s),
        )
        .float("throughput", r.iter().map(|x| x.result.throughput))
        .float("samples", r.iter().map(|x| x.result.samples))
        .float("useful_s", r.iter().map(|x| x.result.split.useful_s))
        .float(
            "reconfiguration_s",
            r.iter().map(|x| x.result.split.reconfiguration_s),
        )
        .float("rollback_s", r.iter().map(|x| x.result.split.rollback_s))
        .float(
            "checkpoint_stall_s",
            r.iter().map(|x| x.result.split.checkpoint_stall_s),
        )
        .float("waiting_s", r.iter().map(|x| x.result.split.waiting_s))
        .int("preemptions", r.iter().map(|x| x.result.preemptions as i64))
        .float("mean_instances", r.iter().map(|x| x.result.mean_instances))
        .float("cost_spot", r.iter().map(|x| x.result.cost_spot))
        .float("cost_on_demand", r.iter().map(|x| x.result.cost_on_demand))
        .float(
            "samples_per_dollar",
            r.iter().map(|x| x.result.samples_per_dollar),
        )
        .build();
    let parquet = dir.file("sweep.parquet");
    expost_render::table::write_table(&table, &parquet, &expost_render::table::Parquet)
        .with_context(|| format!("could not write '{}'", parquet.display()))?;
    let s = summaries;
    let points = TableBuilder::default()
        .text("strategy", s.iter().map(|x| x.point.strategy.name()))
        .float("rate_per_node_hour", s.iter().map(|x| x.point.rate))
        .float(
            "checkpoint_interval_s",
            s.iter().map(|x| x.point.interval_s),
        )
        .int("seeds", s.iter().map(|x| x.throughput.n as i64))
        .float("throughput_median", s.iter().map(|x| x.throughput.median))
        .float("throughput_p5", s.iter().map(|x| x.throughput.p5))
        .float("throughput_p95", s.iter().map(|x| x.throughput.p95))
        .float(
            "value_median",
            s.iter().map(|x| x.samples_per_dollar.median),
        )
        .float("value_p5", s.iter().map(|x| x.samples_per_dollar.p5))
        .float("value_p95", s.iter().map(|x| x.samples_per_dollar.p95))
        .float("wasted_fraction_mean", s.iter().map(|x| x.wasted_fraction))
        .float("useful_s_mean", s.iter().map(|x| x.split_mean.useful_s))
        .float(
            "reconfiguration_s_mean",
            s.iter().map(|x| x.split_mean.reconfiguration_s),
        )
        .float("rollback_s_mean", s.iter().map(|x| x.split_mean.rollback_s))
        .float(
            "checkpoint_stall_s_mean",
            s.iter().map(|x| x.split_mean.checkpoint_stall_s),
        )
        .float("waiting_s_mean", s.iter().map(|x| x.split_mean.waiting_s))
        .float("cost_spot_mean", s.iter().map(|x| x.cost_spot))
        .build();
    sim_out::write_tables(dir, "points", &points, false)?;
    let o = optima;
    let table = TableBuilder::default()
        .text("strategy", o.iter().map(|x| x.strategy.name()))
        .float("rate_per_node_hour", o.iter().map(|x| x.rate))
        .int("intervals_searched", o.iter().map(|x| x.searched as i64))
        .float("best_interval_s", o.iter().map(|x| x.best_interval_s))
        .float(
            "best_throughput_median",
            o.iter().map(|x| x.best_throughput),
        )
        .float("young_daly_interval_s", o.iter().map(|x| x.young_daly_s))
        .build();
    sim_out::write_tables(dir, "optima", &table, false)?;
    sim_out::write_json(
        dir,
        "sweep.json",
        &serde_json::json!({"points": summaries, "optima": optima}),
    )?;
    figures(dir, summaries)
}

/// Throughput and value against rate (one line per strategy and interval,
/// median with p5–p95 band), and the time split per strategy.
fn figures(dir: &OutputDir, summaries: &[sweep::PointSummary]) -> Result<()> {
    let mut keys: Vec<(Strategy, Option<u64>)> = Vec::new();
    for s in summaries {
        let k = (s.point.strategy, s.point.interval_asked.map(f64::to_bits));
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let many_intervals = keys.len()
        > summaries
            .iter()
            .map(|s| s.point.strategy)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
    let line = |key: &(Strategy, Option<u64>),
                f: fn(&sweep::PointSummary) -> &expost_sim::trace_stats::Summary| {
        let pts: Vec<&sweep::PointSummary> = summaries
            .iter()
            .filter(|s| (s.point.strategy, s.point.interval_asked.map(f64::to_bits)) == *key)
            .collect();
        let label = if many_intervals {
            format!("{} {}", key.0.name(), interval_label(key.1))
        } else {
            key.0.name().to_string()
        };
        Line {
            label,
            points: pts.iter().map(|s| (s.point.rate, f(s).median)).collect(),
            band: pts
                .iter()
                .map(|s| (s.point.rate, f(s).p5, f(s).p95))
                .collect(),
        }
    };
    let size = PaperSize::Page;
    let fig = Figure {
        x_label: "Preemption rate (per node-hour)".into(),
        y_label: "Throughput (samples/s)".into(),
        lines: keys.iter().map(|k| line(k, |s| &s.throughput)).collect(),
        ..Figure::default()
    };
    sim_out::figure(dir, "throughput", &fig, size)?;
    let fig = Figure {
        x_label: "Preemption rate (per node-hour)".into(),
        y_label: "Value (samples per spot $)".into(),
        lines: keys
            .iter()
            .map(|k| line(k, |s| &s.samples_per_dollar))
            .collect(),
        ..Figure::default()
    };
    sim_out::figure(dir, "value", &fig, size)?;
    for key in &keys {
        let pts: Vec<&sweep::PointSummary> = summaries
            .iter()
            .filter(|s| (s.point.strategy, s.point.interval_asked.map(f64::to_bits)) == *key)
            .collect();
        let share = |s: &sweep::PointSummary, f: fn(&expost_sim::metrics::TimeSplit) -> f64| {
            100.0 * f(&s.split_mean) / s.split_mean.total()
        };
        let chart = StackedBars {
            title: None,
            x_label: "Preemption rate (per node-hour)".into(),
            y_label: "Share of wall time (%)".into(),
            segments: [
                "useful",
                "reconfiguration",
                "rollback",
                "checkpoint stall",
                "waiting",
            ]
            .map(String::from)
            .to_vec(),
            bars: pts
                .iter()
                .map(|s| Bar {
                    x: s.point.rate,
                    values: vec![
                        share(s, |t| t.useful_s),
                        share(s, |t| t.reconfiguration_s),
                        share(s, |t| t.rollback_s),
                        share(s, |t| t.checkpoint_stall_s),
                        share(s, |t| t.waiting_s),
                    ],
                })
                .collect(),
        };
        let stem = if many_intervals {
            format!(
                "time_split_{}_{}",
                key.0.name(),
                interval_label(key.1).replace(' ', "")
            )
        } else {
            format!("time_split_{}", key.0.name())
        };
        let (width, height) = size.inches();
        let svg = render_bars(&chart, width, height)
            .with_context(|| format!("could not draw figure '{stem}'"))?;
        write_svg_png_pdf(&svg, dir.path(), &stem)
            .with_context(|| format!("could not write figure '{stem}'"))?;
    }
    Ok(())
}

fn interval_label(bits: Option<u64>) -> String {
    bits.map_or("auto".into(), |b| format!("{:.0} s", f64::from_bits(b)))
}
