//! `expost`: analyse distributed-systems experiments after they ran.
//!
//! A thin binary over [`expost::main_with`].

use std::process::ExitCode;

fn main() -> ExitCode {
    expost::main_with(std::env::args_os())
}
