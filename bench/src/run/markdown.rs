//! Rendering the results as Markdown: `bench/RESULTS.md` and the run's closing summary.

use std::fmt::Write as _;

use super::machine::Machine;
use super::table::{Better, Table};
use super::targets::{Bound, TARGETS, Verdict};

/// How the run was made, for the header of the results.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// The command that produced the results.
    pub command: String,
    /// Rounds per figure.
    pub rounds: usize,
    /// Wall-clock minutes the whole run took.
    pub minutes: f64,
    /// UTC date and time the run started.
    pub started: String,
    /// How the processes were placed, in words.
    pub placement: String,
}

/// The whole results file.
pub fn results(machine: &Machine, run: &RunInfo, tables: &[Table]) -> String {
    let mut out = String::from("# rsrpc benchmark results\n\n");
    let _ = writeln!(
        out,
        "Written by `{}`, started {} and taking {:.1} minutes; {} rounds per figure.\n",
        run.command, run.started, run.minutes, run.rounds
    );
    out.push_str(&machine_section(machine, run));
    out.push_str(METHOD);
    out.push_str(&summary(tables));
    out
}

/// Targets and tables: what the run prints when it ends.
pub fn summary(tables: &[Table]) -> String {
    let mut out = targets_section(tables);
    for table in tables {
        out.push_str(&table_section(table));
    }
    out
}

fn machine_section(machine: &Machine, run: &RunInfo) -> String {
    let mut out = String::from("## Machine and versions\n\n| | |\n| --- | --- |\n");
    let open_files = machine
        .open_files
        .map_or_else(|| "unknown".to_owned(), |limit| limit.to_string());
    let rows = [
        ("CPUs (nproc)", machine.cpus.to_string()),
        ("CPU model", machine.cpu_model.clone()),
        ("kernel", machine.kernel.clone()),
        ("open files limit", open_files),
        ("placement", run.placement.clone()),
        ("rustc", machine.rustc.clone()),
        ("rsrpc revision", machine.rsrpc_rev.clone()),
        ("locked crates", machine.crates.join(", ")),
        ("h2load", machine.h2load.clone()),
    ];
    for (name, value) in rows {
        let _ = writeln!(out, "| {name} | {value} |");
    }
    out.push('\n');
    out
}

const METHOD: &str = "## Method\n\n\
- Every figure runs its variants back to back, A B A B …, a fresh server process for each \
  run. Tables give the **median over rounds**; a ratio column is the **median of the \
  per-round ratios** of the first column to the other, so each ratio compares runs made \
  seconds apart on this shared, noisy machine. Absolute rates drift with the neighbours' \
  load; CPU per call and ratios are the figures to read.\n\
- CPU time is `utime + stime` of `/proc/<pid>/stat` (all threads), read by the load \
  generator at the start and end of the measured window, in clock ticks of 10 ms: windows \
  are seconds long so that the error stays near 1%.\n\
- Every server runs a multi-threaded tokio runtime with 1 worker thread, the system \
  allocator, TCP_NODELAY and hyper's default HTTP/2 settings; the load generator likewise \
  runs 1 worker. Server and load generator are pinned to different CPUs with `taskset`.\n\
- The load generator speaks raw HTTP/2 (the `h2` crate, with hyper's client windows) or \
  hyper's HTTP/1.1 client, with the request frame encoded once; the same for every \
  server. rsrpc and tonic serve the very same prost message types (tonic's services are \
  generated with `extern_path` to rsrpc's messages) and the same handler code.\n\
- `floor` is bare hyper: it echoes the request body with `grpc-status: 0` trailers, no \
  routing, no decoding.\n\
- Saturation on two CPUs: the raw load generator costs about as much per call as a \
  hyper-based server, so under figure 1's load both sides can saturate together, and a \
  cheaper server then takes smaller batches until its CPU per call meets the load's \
  (see the two busy rows). Figure 1b repeats figure 1 with every server held to half a \
  CPU by a cgroup quota, so that the server is the bottleneck and CPU per call is its \
  own; the targets are checked on both.\n\n";

fn targets_section(tables: &[Table]) -> String {
    let mut out = String::from(
        "## Targets\n\n| target | measured ratio | met | floor / tonic |\n| --- | --- | --- | --- |\n",
    );
    for target in &TARGETS {
        let wanted = match target.bound {
            Bound::AtMost(bound) => format!("≤ {bound}"),
            Bound::AtLeast(bound) => format!("≥ {bound}"),
        };
        let (measured, met) = match target.verdict(tables) {
            Verdict::Met(ratio) => (format!("{ratio:.2} ({wanted})"), "**met**"),
            Verdict::NotMet(ratio) => (format!("{ratio:.2} ({wanted})"), "**not met**"),
            Verdict::Unknown => ("—".to_owned(), "not measured"),
        };
        let floor = target
            .floor_ratio(tables)
            .map_or_else(|| "—".to_owned(), |ratio| format!("{ratio:.2}"));
        let _ = writeln!(
            out,
            "| {} (figure {}) | {measured} | {met} | {floor} |",
            target.text, target.figure
        );
    }
    out.push_str(
        "\nThe last column is the bare-hyper floor server's own ratio to tonic in the same \
         figure: the lowest a server on this hyper/h2 stack reaches, since it routes and \
         decodes nothing. A bound below it cannot be met by work done above hyper.\n",
    );
    out.push_str(
        "\nThe *evidence* rows hold figure 9's instruction counts to the CPU targets' bounds: \
         they do not move with the machine's load, but leave out cache misses and system \
         calls, so they back the CPU rows rather than replace them.\n\n",
    );
    out
}

fn table_section(table: &Table) -> String {
    let mut out = format!(
        "## Figure {}: {}\n\n{}\n\n",
        table.id, table.title, table.description
    );
    let subject = table.columns.first().cloned().unwrap_or_default();
    let others = table.columns.get(1..).unwrap_or_default();
    let mut header = vec!["metric".to_owned()];
    header.extend(table.columns.iter().cloned());
    header.extend(others.iter().map(|other| format!("{subject} / {other}")));
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", " --- |".repeat(header.len()));
    for row in &table.rows {
        let better = match row.better {
            Better::Lower => "↓",
            Better::Higher => "↑",
        };
        let mut cells = vec![format!("{} {better}", row.label)];
        cells.extend((0..table.columns.len()).map(|column| number(row.median(column))));
        cells.extend((1..table.columns.len()).map(|column| {
            row.ratio_to(column)
                .map_or_else(|| "—".to_owned(), |ratio| format!("{ratio:.2}"))
        }));
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    // With one round the values are the table's own: list them only if there are more.
    let rounds = table.rows.iter().flat_map(|row| &row.samples).map(Vec::len);
    if rounds.max().unwrap_or(0) > 1 {
        out.push_str("\n<details><summary>per-round values and commands</summary>\n\n");
        for row in &table.rows {
            for (column, samples) in table.columns.iter().zip(&row.samples) {
                let values: Vec<String> = samples.iter().map(|value| number(*value)).collect();
                let _ = writeln!(out, "- {} / {column}: {}", row.label, values.join(", "));
            }
        }
    } else {
        out.push_str("\n<details><summary>commands</summary>\n");
    }
    let _ = writeln!(
        out,
        "\n```sh\n{}\n```\n\n</details>\n",
        table.commands.join("\n")
    );
    for details in &table.details {
        let _ = writeln!(
            out,
            "<details><summary>{}</summary>\n\n{}\n\n</details>\n",
            details.summary,
            details.body.trim_end()
        );
    }
    if !table.errors.is_empty() {
        out.push_str("Failures:\n\n");
        for error in &table.errors {
            let _ = writeln!(out, "- {}", error.replace('\n', " "));
        }
        out.push('\n');
    }
    out
}

/// A value with as many decimals as its size calls for; "—" if missing.
fn number(value: Option<f64>) -> String {
    match value {
        None => "—".to_owned(),
        Some(v) if v.abs() >= 100.0 => format!("{v:.0}"),
        Some(v) if v.abs() >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.2}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::table::Row;

    #[test]
    fn table_has_medians_and_ratio_columns() {
        let table = Table {
            id: "9".into(),
            title: "T".into(),
            columns: vec!["rsrpc".into(), "tonic".into()],
            rows: vec![Row {
                label: "x".into(),
                better: Better::Lower,
                samples: vec![vec![Some(1.0), Some(3.0)], vec![Some(4.0), Some(4.0)]],
            }],
            errors: vec!["tonic round 1: boom".into()],
            ..Table::default()
        };
        let text = table_section(&table);
        assert!(
            text.contains("| metric | rsrpc | tonic | rsrpc / tonic |"),
            "{text}"
        );
        assert!(text.contains("| x ↓ | 2.00 | 4.00 | 0.50 |"), "{text}");
        assert!(text.contains("- tonic round 1: boom"), "{text}");
    }

    #[test]
    fn one_round_lists_commands_and_details_only() {
        let table = Table {
            id: "9a".into(),
            columns: vec!["rsrpc".into()],
            rows: vec![Row {
                label: "x".into(),
                better: Better::Lower,
                samples: vec![vec![Some(1.0)]],
            }],
            commands: vec!["run it".into()],
            details: vec![crate::run::table::Details {
                summary: "top".into(),
                body: "| f | 1 |\n".into(),
            }],
            ..Table::default()
        };
        let text = table_section(&table);
        assert!(!text.contains("- x / rsrpc"), "{text}");
        assert!(
            text.contains("<summary>commands</summary>\n\n```sh\nrun it\n```"),
            "{text}"
        );
        assert!(
            text.contains("<details><summary>top</summary>\n\n| f | 1 |\n\n</details>"),
            "{text}"
        );
    }

    #[test]
    fn numbers_round_by_size() {
        assert_eq!(number(Some(12345.6)), "12346");
        assert_eq!(number(Some(12.34)), "12.3");
        assert_eq!(number(Some(1.234)), "1.23");
        assert_eq!(number(None), "—");
    }
}
