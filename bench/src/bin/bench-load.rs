//! Drives a benchmark server in one mode and prints what it measured as one JSON line
//! (a `bench::report::Report`).

use std::process::ExitCode;

use bench::load::{self, Mode, Target};
use bench::setup;
use clap::Parser;

/// Command line of `bench-load`.
#[derive(Debug, Parser)]
#[command(about = "Load generator for the benchmark servers")]
struct Args {
    #[command(flatten)]
    target: Target,
    /// Tokio worker threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    #[command(subcommand)]
    mode: Mode,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(error) = setup::raise_open_files_limit() {
        eprintln!("bench-load: cannot raise the open files limit: {error}");
    }
    let runtime = match setup::runtime(args.threads) {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("bench-load: {error}");
            return ExitCode::FAILURE;
        }
    };
    let report = runtime.block_on(load::run(&args.target, &args.mode));
    println!(
        "{}",
        serde_json::to_string(&report).expect("a report serializes")
    );
    // Calls still in flight are abandoned rather than awaited: exit now.
    std::process::exit(if report.errors == 0 { 0 } else { 1 })
}
