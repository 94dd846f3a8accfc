//! `expost completions SHELL`: a completion script from the same
//! definitions as `--help`.

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::Shell;
use std::process::ExitCode;

/// Examples shown at the end of `expost completions --help`.
pub const EXAMPLES: &str = "\
Examples:
  expost completions bash > ~/.local/share/bash-completion/completions/expost
  expost completions zsh > \"${fpath[1]}/_expost\"
  expost completions fish > ~/.config/fish/completions/expost.fish";

/// Arguments of `expost completions`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for.
    pub shell: Shell,
}

/// Prints the completion script on stdout.
pub fn run(args: Args) -> Result<ExitCode> {
    let mut command = super::Cli::command();
    clap_complete::generate(args.shell, &mut command, "expost", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}
