//! Figure 8, code generation: protoc wall time with each plugin over a generated
//! corpus, and the time to compile what each generated.

mod compile;
pub mod corpus;
mod plugins;
mod timing;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run::table::{Better, Row, Table};
use compile::ThrowawayCrate;
use plugins::{Generator, Tools};
use timing::Timing;

/// Where figure 8 reads and writes.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The workspace root.
    pub root: PathBuf,
    /// Scratch space: corpus, outputs, throwaway crates (under `target/`).
    pub work: PathBuf,
}

/// Measures figure 8 with `shape` over `rounds` rounds (`compile_rounds` for the
/// compile times), alternating generators within each round.
pub fn measure(
    paths: &Paths,
    shape: corpus::Shape,
    rounds: usize,
    compile_rounds: usize,
) -> [Table; 2] {
    let tools = Tools {
        protoc: protoc_bin_vendored::protoc_bin_path().unwrap_or_else(|_| "protoc".into()),
        rsrpc: paths.root.join("target/release/protoc-gen-rsrpc"),
        installed: paths.root.join("target/bench-tools"),
    };
    let mut plugin = Table {
        id: "8a".into(),
        title: "Code generation: plugin time".into(),
        description: format!(
            "protoc over a generated corpus of {} files, {} messages, {} services (4 methods \
             each); each file imports the one before. `protoc alone` writes a descriptor set \
             only, the parsing every generator pays. CPU counts protoc and its plugins.",
            shape.files,
            shape.messages(),
            shape.files
        ),
        ..Table::default()
    };
    let mut compile = Table {
        id: "8b".into(),
        title: "Code generation: compile time of the generated code".into(),
        description: "`cargo build` (debug profile, `CARGO_INCREMENTAL=0`) of a throwaway \
                      crate holding only the generated code, its dependencies built \
                      beforehand; the library is rewritten before each timed build."
            .into(),
        ..Table::default()
    };
    let corpus_dir = paths.work.join("corpus");
    let _ = std::fs::remove_dir_all(&corpus_dir);
    let files = match corpus::write(&corpus_dir, shape) {
        Ok(files) => files,
        Err(error) => {
            plugin
                .errors
                .push(format!("cannot write the corpus: {error}"));
            return [plugin, compile];
        }
    };
    let mut generators = vec![
        Generator::Rsrpc,
        Generator::ProstTonic,
        Generator::ProtocOnly,
    ];
    match tools.install_crates_io_plugins() {
        Ok(line) => plugin.commands.push(line),
        Err(error) => {
            plugin.errors.push(format!(
                "prost+tonic not measured: the crates.io plugins did not build: {error}"
            ));
            generators.retain(|generator| *generator != Generator::ProstTonic);
        }
    }
    let outputs = time_plugins(
        &tools,
        &corpus_dir,
        &files,
        &generators,
        rounds,
        paths,
        &mut plugin,
    );
    time_compiles(paths, &outputs, compile_rounds, &mut compile);
    [plugin, compile]
}

/// Runs protoc with each generator `rounds` times; returns each generator's last output
/// directory.
fn time_plugins(
    tools: &Tools,
    corpus_dir: &Path,
    files: &[String],
    generators: &[Generator],
    rounds: usize,
    paths: &Paths,
    table: &mut Table,
) -> Vec<(Generator, PathBuf)> {
    table.columns = generators.iter().map(|g| g.label().to_owned()).collect();
    let mut timings = vec![Vec::new(); generators.len()];
    let mut outputs = Vec::new();
    for round in 1..=rounds {
        for (column, generator) in generators.iter().enumerate() {
            let out = paths
                .work
                .join("out")
                .join(generator.label().replace(['+', ' '], "-"));
            let _ = std::fs::remove_dir_all(&out);
            let timing = std::fs::create_dir_all(&out)
                .map_err(|e| e.to_string())
                .and_then(|()| {
                    timing::timed(&mut tools.protoc(*generator, corpus_dir, files, &out))
                });
            record(
                table,
                generator.label(),
                round,
                timing,
                &mut timings[column],
            );
            if round == rounds {
                outputs.push((*generator, out));
            }
        }
    }
    table.commands = generators
        .iter()
        .map(|generator| {
            let out = PathBuf::from("OUT");
            let command = tools.protoc(*generator, corpus_dir, &["f*.proto".to_owned()], &out);
            format!("# {}\n{}", generator.label(), shown(&command, &paths.root))
        })
        .collect();
    let sizes: Vec<Vec<Option<f64>>> = outputs
        .iter()
        .map(|(generator, out)| {
            let size = (*generator != Generator::ProtocOnly)
                .then(|| compile::tree_size(out).ok())
                .flatten()
                .map(|bytes| bytes as f64 / 1024.0);
            vec![size]
        })
        .collect();
    table.rows = timing_rows(&timings);
    table.rows.push(Row {
        label: "generated Rust KiB".into(),
        better: Better::Lower,
        samples: sizes,
    });
    outputs
}

/// Builds each generator's output in a throwaway crate, `rounds` timed builds each.
fn time_compiles(
    paths: &Paths,
    outputs: &[(Generator, PathBuf)],
    rounds: usize,
    table: &mut Table,
) {
    let runtime = paths.root.join("runtime");
    let crates: Vec<(Generator, ThrowawayCrate)> = outputs
        .iter()
        .filter_map(|(generator, out)| {
            let dependencies = match generator {
                Generator::Rsrpc => format!(
                    "rsrpc = {{ path = {:?} }}\nprost = \"0.14\"\n",
                    runtime.display().to_string()
                ),
                Generator::ProstTonic => {
                    "tonic = \"0.14\"\ntonic-prost = \"0.14\"\nprost = \"0.14\"\n".to_owned()
                }
                Generator::ProtocOnly => return None,
            };
            let name = format!("codegen-{}", generator.label().replace('+', "-"));
            let written = ThrowawayCrate::write(
                &paths.work.join(&name),
                &paths.work.join("target"),
                &name,
                &dependencies,
                out,
                &paths.root.join("Cargo.lock"),
            );
            match written {
                Ok(crate_) => Some((*generator, crate_)),
                Err(error) => {
                    table.errors.push(format!("{}: {error}", generator.label()));
                    None
                }
            }
        })
        .collect();
    table.columns = crates.iter().map(|(g, _)| g.label().to_owned()).collect();
    // Dependencies first, with the library still empty: not timed.
    for (generator, crate_) in &crates {
        eprintln!(
            "figure 8b: building the dependencies of {}",
            generator.label()
        );
        if let Err(error) = crate_.build() {
            let label = generator.label();
            table
                .errors
                .push(format!("{label}: dependencies do not build: {error}"));
        }
    }
    let mut timings = vec![Vec::new(); crates.len()];
    for round in 1..=rounds {
        for (column, (generator, crate_)) in crates.iter().enumerate() {
            let timing = crate_
                .include_generated()
                .map_err(|e| e.to_string())
                .and_then(|()| crate_.build());
            record(
                table,
                generator.label(),
                round,
                timing,
                &mut timings[column],
            );
        }
    }
    table.commands = crates
        .iter()
        .map(|(generator, crate_)| {
            format!(
                "# {}\n{}",
                generator.label(),
                shown(&crate_.cargo_build(), &paths.root)
            )
        })
        .collect();
    table.rows = timing_rows(&timings);
}

/// Keeps a round's timing (or its failure) and prints progress.
fn record(
    table: &mut Table,
    label: &str,
    round: usize,
    timing: Result<Timing, String>,
    timings: &mut Vec<Option<Timing>>,
) {
    match &timing {
        Ok(timing) => eprintln!(
            "figure {} round {round} {label}: {:.2} s wall, {:.2} s CPU",
            table.id, timing.wall_s, timing.cpu_s
        ),
        Err(error) => {
            eprintln!("figure {} round {round} {label}: {error}", table.id);
            table.errors.push(format!("{label} round {round}: {error}"));
        }
    }
    timings.push(timing.ok());
}

/// Wall and CPU rows from timings by column and round.
fn timing_rows(timings: &[Vec<Option<Timing>>]) -> Vec<Row> {
    let row = |label: &str, value: fn(&Timing) -> f64| Row {
        label: label.to_owned(),
        better: Better::Lower,
        samples: timings
            .iter()
            .map(|column| column.iter().map(|t| t.as_ref().map(value)).collect())
            .collect(),
    };
    vec![row("wall s", |t| t.wall_s), row("CPU s", |t| t.cpu_s)]
}

/// A command line as text, environment first, paths shown relative to `root`.
fn shown(command: &Command, root: &Path) -> String {
    let root = format!("{}/", root.display());
    let env = command
        .get_envs()
        .filter_map(|(key, value)| Some(format!("{}={}", key.to_str()?, value?.to_str()?)));
    let words = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|word| word.to_string_lossy().into_owned());
    env.chain(words)
        .map(|word| word.replace(&root, ""))
        .collect::<Vec<_>>()
        .join(" ")
}
