//! Measuring figures 1 to 7: a fresh `bench-server` per variant and round, driven by
//! `bench-load` (or h2load), variants back to back within each round.

use super::budget::Budget;
use super::figures::{Driver, Figure, figures};
use super::h2load;
use super::process::{Launcher, display};
use super::table::{Row, Table};
use crate::report::Report;

/// Measures the figures whose id `selected` accepts, each over `rounds` rounds that run
/// the variants back to back (A B A B ...), a fresh server for every run.
pub fn measure(
    launcher: &Launcher,
    budget: &Budget,
    rounds: usize,
    selected: impl Fn(&str) -> bool,
) -> Vec<Table> {
    figures(budget)
        .into_iter()
        .filter(|figure| selected(figure.id))
        .map(|figure| measure_figure(launcher, &figure, rounds))
        .collect()
}

fn measure_figure(launcher: &Launcher, figure: &Figure, rounds: usize) -> Table {
    let mut reports: Vec<Vec<Option<Report>>> = vec![Vec::new(); figure.variants.len()];
    let mut errors = Vec::new();
    for round in 1..=rounds {
        for (column, variant) in figure.variants.iter().enumerate() {
            let outcome = launcher
                .start_server(variant.server, figure.capped)
                .and_then(|server| match figure.driver {
                    Driver::BenchLoad => {
                        launcher.run_load(&server, &variant.mode_args, figure.timeout)
                    }
                    Driver::H2load => {
                        h2load::run(launcher, &server, &variant.mode_args, figure.timeout)
                    }
                });
            let report = match outcome {
                Ok(report) => {
                    if let Some(error) = &report.first_error {
                        errors.push(format!(
                            "{} round {round}: {} failed calls, first: {error}",
                            variant.label, report.errors
                        ));
                    }
                    Some(report)
                }
                Err(error) => {
                    errors.push(format!("{} round {round}: {error}", variant.label));
                    None
                }
            };
            eprintln!(
                "figure {} round {round}/{rounds} {}: {}",
                figure.id,
                variant.label,
                summary(figure, report.as_ref())
            );
            reports[column].push(report);
        }
    }
    Table {
        id: figure.id.to_owned(),
        title: figure.title.to_owned(),
        description: figure.description.clone(),
        columns: figure.variants.iter().map(|v| v.label.to_owned()).collect(),
        rows: figure
            .metrics
            .iter()
            .map(|metric| Row {
                label: metric.label.to_owned(),
                better: metric.better,
                samples: reports
                    .iter()
                    .map(|column| {
                        column
                            .iter()
                            .map(|report| report.as_ref().and_then(metric.value))
                            .collect()
                    })
                    .collect(),
            })
            .collect(),
        commands: commands(launcher, figure),
        errors,
        details: Vec::new(),
    }
}

/// The first metric of a run, for the progress line.
fn summary(figure: &Figure, report: Option<&Report>) -> String {
    let metric = &figure.metrics[0];
    match report.and_then(metric.value) {
        Some(value) => format!("{} {value:.2}", metric.label),
        None => "failed".to_owned(),
    }
}

fn commands(launcher: &Launcher, figure: &Figure) -> Vec<String> {
    let root = launcher.bin_dir.join("../..");
    let root = root.canonicalize().unwrap_or(root);
    let cap = match (&launcher.cap, figure.capped) {
        (Ok(cap), true) => Some(format!(
            "echo PID > {}/cgroup.procs  # quota {}",
            cap.dir().display(),
            cap.quota()
        )),
        _ => None,
    };
    figure
        .variants
        .iter()
        .flat_map(|variant| {
            let server = launcher.server_command(variant.server);
            let load = match figure.driver {
                Driver::BenchLoad => display(
                    &launcher.load_command("127.0.0.1:PORT", "PID", &variant.mode_args),
                    &root,
                ),
                Driver::H2load => [h2load::WARMUP_CALLS, h2load::CALLS]
                    .map(|calls| {
                        let args = launcher.h2load.args(
                            &calls.to_string(),
                            &variant.mode_args,
                            "127.0.0.1:PORT",
                        );
                        display(&launcher.h2load_command(&args), &root)
                    })
                    .join("\n"),
            };
            [
                Some(format!("# {}", variant.label)),
                Some(format!("{} &", display(&server, &root))),
                cap.clone(),
                Some(load),
            ]
        })
        .flatten()
        .collect()
}
