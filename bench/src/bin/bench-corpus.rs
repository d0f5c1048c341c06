//! Writes the code-generation corpus: `bench-corpus DIR [--files N] [--messages M]`.

use std::path::PathBuf;

use bench::codegen::corpus::{self, Shape};
use clap::Parser;

/// Command line of `bench-corpus`.
#[derive(Debug, Parser)]
#[command(about = "Writes a synthetic .proto corpus")]
struct Args {
    /// Directory to write into.
    dir: PathBuf,
    /// Files (one package and one service each).
    #[arg(long, default_value_t = Shape::FULL.files)]
    files: usize,
    /// Messages per file (at least 8).
    #[arg(long, default_value_t = Shape::FULL.messages_per_file)]
    messages: usize,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let shape = Shape {
        files: args.files,
        messages_per_file: args.messages.max(corpus::MIN_MESSAGES),
    };
    let written = corpus::write(&args.dir, shape)?;
    println!(
        "wrote {} files, {} messages, {} services to {}",
        written.len(),
        shape.messages(),
        shape.files,
        args.dir.display()
    );
    Ok(())
}
