//! `expost`: analyse distributed-systems experiments after they ran.
//!
//! A thin binary: it parses the command line, runs one subcommand from
//! [`cmd`], and turns errors into one-line messages and exit codes
//! (0 ok, 1 failed, 2 usage).

mod cmd;
mod driver;
mod progress;

use clap::Parser;
use expost_render::printable::printable;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
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
