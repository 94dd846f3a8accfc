//! `expost`: analyse distributed-systems experiments after they ran.
//!
//! The command line as a library: [`main_with`] parses a command line,
//! runs one subcommand, and turns errors into one-line messages and exit
//! codes (0 ok, 1 failed, 2 usage); [`embed`] runs the study commands for a
//! host program (the Python module) and keeps their results in memory.

mod cmd;
mod driver;
pub mod embed;
mod progress;

use clap::Parser;
use expost_render::printable::printable;
use std::ffi::OsString;
use std::process::ExitCode;

/// Runs the command line `args` (the program first), as the `expost`
/// binary does, printing on stdout and stderr.
pub fn main_with(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args: Vec<OsString> = args.into_iter().collect();
    driver::set_command(
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
    );
    let cli = cmd::Cli::parse_from(args);
    match cmd::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", printable(&error.to_string()));
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {}", printable(&cause.to_string()));
            }
            ExitCode::from(1)
        }
    }
}

/// The number of an exit code [`main_with`] returns (they are all made
/// from one: 0, 1, 2 or 130).
pub fn exit_status(code: ExitCode) -> u8 {
    (0..=u8::MAX)
        .find(|&n| ExitCode::from(n) == code)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_is_the_number_the_code_was_made_of() {
        assert_eq!(exit_status(ExitCode::SUCCESS), 0);
        assert_eq!(exit_status(ExitCode::from(2)), 2);
        assert_eq!(exit_status(ExitCode::from(130)), 130);
    }
}
