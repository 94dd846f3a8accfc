//! The subcommands, one file each.

pub mod check;
pub mod completions;
pub mod failover;
pub mod inspect;
pub mod iperf3;
pub mod man;
pub mod ombt;
pub mod provision;
pub mod report;
pub mod run;
pub mod simulate;
pub mod sweep;
pub mod traces;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Analyse distributed-systems experiments after they ran.
///
/// Exit codes: 0 everything was analysed; 1 something failed (a run, a file,
/// an output), with the details on stderr; 2 the command line was wrong.
/// Progress bars appear on a terminal only; NO_COLOR turns colours off.
#[derive(Debug, Parser)]
#[command(name = "expost", version, about, long_about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Failover study: loss, throughput and RTT of iperf3 flows through a failover.
    #[command(after_long_help = failover::EXAMPLES)]
    Failover(failover::Args),
    /// iperf3 campaigns: flow summaries and their spread across trials.
    #[command(after_long_help = iperf3::EXAMPLES)]
    Iperf3(iperf3::Args),
    /// Messaging benchmark post-mortem: ombt rates, latencies and bus telemetry per run.
    #[command(after_long_help = ombt::EXAMPLES)]
    Ombt(ombt::Args),
    /// Provisioning study: Batch Shipyard pool timeline from Azure Table perf events.
    #[command(after_long_help = provision::EXAMPLES)]
    Provision(provision::Args),
    /// Spot-instance trace statistics: preemption rates, gaps, bursts, node lifetimes.
    #[command(after_long_help = traces::EXAMPLES)]
    Traces(traces::Args),
    /// Simulate training under preemptions (one run, any strategy and model).
    #[command(after_long_help = simulate::EXAMPLES)]
    Simulate(simulate::Args),
    /// Sweep strategies × preemption rates × checkpoint intervals × seeds (shardable).
    #[command(after_long_help = sweep::EXAMPLES)]
    Sweep(sweep::Args),
    /// Say what a file or folder holds (format, runs, time range, diagnostics).
    #[command(after_long_help = inspect::EXAMPLES)]
    Inspect(inspect::Args),
    /// One self-contained HTML page of study outputs: figures, tables, diagnostics.
    #[command(after_long_help = report::EXAMPLES)]
    Report(report::Args),
    /// Rerun a study from the expost.toml that --save-study wrote.
    #[command(after_long_help = run::EXAMPLES)]
    Run(run::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_long_help = completions::EXAMPLES)]
    Completions(completions::Args),
    /// Print the man page (roff) generated from the same definitions as --help.
    #[command(after_long_help = man::EXAMPLES)]
    Man(man::Args),
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Failover(args) => failover::run(args),
        Command::Iperf3(args) => iperf3::run(args),
        Command::Ombt(args) => ombt::run(args),
        Command::Provision(args) => provision::run(args),
        Command::Traces(args) => traces::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Report(args) => report::run(args),
        Command::Run(args) => run::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
    }
}
