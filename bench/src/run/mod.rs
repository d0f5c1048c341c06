//! `bench-run`: measures every figure, interleaving implementations over rounds, and
//! writes the results as Markdown.

pub mod budget;
pub mod callgrind;
pub mod cpu_cap;
pub mod figures;
pub mod h2load;
pub mod instructions;
pub mod load_figures;
pub mod machine;
pub mod markdown;
pub mod process;
pub mod stats;
pub mod table;
pub mod targets;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use crate::codegen;
use crate::setup;
use budget::Budget;
use machine::Machine;
use markdown::RunInfo;
use process::Launcher;

/// Command line of `bench-run` (and so of `bench/run`).
#[derive(Debug, Clone, clap::Parser)]
#[command(about = "Runs every benchmark figure and writes bench/RESULTS.md")]
pub struct Options {
    /// Rounds per figure (default 5, or 1 with --quick).
    #[arg(long)]
    pub rounds: Option<usize>,
    /// A fast smoke run: shorter windows, smaller corpus and counts.
    #[arg(long)]
    pub quick: bool,
    /// Only these figures, e.g. `1,3,7b` (`7` means 7a and 7b; 9 needs valgrind).
    #[arg(long, value_delimiter = ',')]
    pub figures: Vec<String>,
    /// Timed compiles of the generated corpus per generator (default 1: each takes
    /// minutes on two CPUs; 1 with --quick too).
    #[arg(long)]
    pub compile_rounds: Option<usize>,
    /// Tokio worker threads of the servers.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Where to write the results (default bench/RESULTS.md, or
    /// target/bench/RESULTS-quick.md with --quick).
    #[arg(long)]
    pub output: Option<PathBuf>,
}

impl Options {
    fn selects(&self, id: &str) -> bool {
        let figure = id.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        self.figures.is_empty() || self.figures.iter().any(|f| f == id || f == figure)
    }
}

/// Runs the selected figures and writes the results; returns where they were written.
pub fn run(options: &Options, command_line: &str) -> Result<PathBuf, String> {
    let started = Instant::now();
    let started_at = utc_now();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .map_err(|e| format!("workspace root: {e}"))?;
    let instructions = options.selects("9a") || options.selects("9b");
    let launcher = Launcher::new(&root, options.threads, figures::CAPPED_SHARE);
    // Say so now rather than after the other figures' minutes.
    if instructions {
        callgrind::require_valgrind()?;
    }
    if options.selects("1h") {
        launcher.h2load.prepare(&root)?;
    }
    let open_files = setup::raise_open_files_limit().ok();
    let machine = Machine::probe(&root, open_files, &launcher.h2load.binary);
    for binary in ["bench-server", "bench-load", "protoc-gen-rsrpc"] {
        if !launcher.bin_dir.join(binary).exists() {
            return Err(format!(
                "target/release/{binary} is missing: build with bench/run, which builds first"
            ));
        }
    }
    let budget = if options.quick {
        Budget::quick()
    } else {
        Budget::full()
    };
    let rounds = options
        .rounds
        .unwrap_or(if options.quick { 1 } else { 5 })
        .max(1);

    let mut tables = load_figures::measure(&launcher, &budget, rounds, |id| options.selects(id));
    if options.selects("8a") || options.selects("8b") {
        let paths = codegen::Paths {
            root: root.clone(),
            work: root.join("target/bench-codegen"),
        };
        let compile_rounds = options
            .compile_rounds
            .unwrap_or(budget.compile_rounds.min(rounds))
            .max(1);
        let [plugin, compile] = codegen::measure(&paths, budget.corpus, rounds, compile_rounds);
        tables.extend(
            [plugin, compile]
                .into_iter()
                .filter(|t| options.selects(&t.id)),
        );
    }
    if instructions {
        tables.extend(instructions::measure(&launcher, &root, |id| {
            options.selects(id)
        }));
    }

    let placement = match launcher.cpus {
        Some((server, load)) => format!(
            "server on CPU {server}, load generator on CPU {load} (taskset); server tokio \
             workers: {}",
            options.threads
        ),
        None => format!("not pinned; server tokio workers: {}", options.threads),
    };
    let info = RunInfo {
        command: command_line.to_owned(),
        rounds,
        minutes: started.elapsed().as_secs_f64() / 60.0,
        started: started_at,
        placement,
    };
    let output = options.output.clone().unwrap_or_else(|| {
        if options.quick {
            root.join("target/bench/RESULTS-quick.md")
        } else {
            root.join("bench/RESULTS.md")
        }
    });
    if let Some(parent) = output.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    std::fs::write(&output, markdown::results(&machine, &info, &tables))
        .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    println!("{}", markdown::summary(&tables));
    Ok(output)
}

fn utc_now() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn figure_filter() {
        let options = Options::parse_from(["bench-run", "--figures", "1,7,8b"]);
        assert!(options.selects("1"));
        assert!(options.selects("7a") && options.selects("7b"));
        assert!(options.selects("8b") && !options.selects("8a"));
        assert!(!options.selects("2"));
        assert!(Options::parse_from(["bench-run"]).selects("5"));
    }
}
