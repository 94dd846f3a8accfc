//! The subcommands, one file each.

pub mod failover;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Analyse distributed-systems experiments after they ran.
///
/// Exit codes: 0 everything was analysed; 1 something failed (a run, a file,
/// an output), with the details on stderr; 2 the command line was wrong.
#[derive(Debug, Parser)]
#[command(name = "expost", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Failover study: loss, throughput and RTT of iperf3 flows through a failover.
    #[command(after_long_help = failover::EXAMPLES)]
    Failover(failover::Args),
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Failover(args) => failover::run(args),
    }
}
