//! Runs every benchmark figure and writes the results; `bench/run` builds and calls it.

use std::process::ExitCode;

use bench::run::{self, Options};
use clap::Parser;

fn main() -> ExitCode {
    let options = Options::parse();
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let command_line = format!("bench/run {}", arguments.join(" "));
    match run::run(&options, command_line.trim_end()) {
        Ok(output) => {
            eprintln!("results written to {}", output.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("bench-run: {error}");
            ExitCode::FAILURE
        }
    }
}
