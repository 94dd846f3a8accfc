//! `expost man`: the man page, generated from the same definitions as
//! `--help`, one page for expost and one per subcommand.

use anyhow::{Context, Result};
use clap::CommandFactory;
use std::path::PathBuf;
use std::process::ExitCode;

/// Examples shown at the end of `expost man --help`.
pub const EXAMPLES: &str = "\
Examples:
  expost man | man -l -
  expost man --dir /usr/local/share/man/man1     # expost.1, expost-failover.1, …";

/// Arguments of `expost man`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write expost.1 and one page per subcommand into this folder instead of
    /// printing expost.1 on stdout.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Prints or writes the man pages.
pub fn run(args: Args) -> Result<ExitCode> {
    let command = super::Cli::command();
    match args.dir {
        None => {
            clap_mangen::Man::new(command).render(&mut std::io::stdout())?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("could not create '{}'", dir.display()))?;
            clap_mangen::generate_to(command, &dir)
                .with_context(|| format!("could not write man pages into '{}'", dir.display()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
