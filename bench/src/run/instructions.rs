//! Figure 9: instructions per call, counted by valgrind's callgrind. Unlike CPU time the
//! counts barely move with the machine's load, so each variant runs once, not per round.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use super::callgrind::{self, Group, Profile};
use super::process::{Launcher, display};
use super::table::{Better, Details, Row, Table};
use crate::server::Implementation;

/// Label of figure 9a's total (targets refer to it).
pub const SERVER_IR_PER_CALL: &str = "server Ir/call";
/// Label of figure 9b's total.
pub const CLIENT_IR_PER_CALL: &str = "client Ir/call";

/// Calls of the shorter run ...
const FEWER_CALLS: u64 = 2_000;
/// ... and of the longer: the difference over the calls between them is the cost of a
/// call, without startup and connection setup.
const MORE_CALLS: u64 = 12_000;
/// Connections (or channels), and calls in flight on each.
const CONNECTIONS: &str = "10";
/// Calls in flight per connection.
const STREAMS: &str = "10";
/// The longest one load run may take: callgrind slows its process some 50 times.
const LOAD_TIMEOUT: Duration = Duration::from_secs(600);
/// Functions listed under each table.
const TOP_FUNCTIONS: usize = 25;
/// Longer function names are cut to this many characters in that list.
const NAME_CHARS: usize = 110;

/// Which process runs under callgrind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The server, driven by the raw h2 load generator.
    Server,
    /// The load generator's generated client, against a floor server.
    Client,
}

/// One compared variant: the server, and the generated client on the client side.
struct Variant {
    label: &'static str,
    server: Implementation,
    client: Option<&'static str>,
}

/// Figure 9a or 9b.
struct Figure {
    id: &'static str,
    title: &'static str,
    description: &'static str,
    side: Side,
    total_label: &'static str,
    variants: Vec<Variant>,
}

fn figures() -> [Figure; 2] {
    let server = |implementation: Implementation| Variant {
        label: implementation.name(),
        server: implementation,
        client: None,
    };
    let client = |label: &'static str| Variant {
        label,
        server: Implementation::Floor,
        client: Some(label),
    };
    [
        Figure {
            id: "9a",
            title: "Instructions per call (callgrind): server",
            description: "Instructions the server executes per `SayHello` (valgrind's callgrind \
                          `Ir`), from the raw h2 load generator with 10 connections × 10 calls \
                          in flight. Each server runs under callgrind twice, for 2,000 and for \
                          12,000 calls; the difference over the 10,000 extra calls leaves out \
                          startup and connection setup. The rows under the total split it by \
                          the crate of each function's own instructions (inlined code counts \
                          where it was inlined): std's generics count towards the crate of \
                          their type parameters, `bench` is the shared handlers and prost \
                          messages (or the floor's echo), `connect` is connectrpc and the \
                          services and buffa messages connectrpc-build generated, `buffa` \
                          the buffa crate, `std` the rest of core/alloc/std, `other` \
                          everything else (tower, axum, hyper-util, tokio-util, libc, …). Instruction counts do not move with the \
                          machine's load, so this figure runs once, not per round; they do not \
                          show cache misses, system calls or time spent waiting.",
            side: Side::Server,
            total_label: SERVER_IR_PER_CALL,
            variants: vec![
                server(Implementation::Rsrpc),
                server(Implementation::Tonic),
                server(Implementation::Connect),
                server(Implementation::Floor),
            ],
        },
        Figure {
            id: "9b",
            title: "Instructions per call (callgrind): client",
            description: "Instructions the client process executes per `SayHello` through each \
                          generated client (figure 2's load), 10 channels × 10 calls in flight, \
                          against a floor server that is not under valgrind; measured as 9a \
                          (2,000 and 12,000 calls, once). `bench` is the load driver and the \
                          messages, alike for both.",
            side: Side::Client,
            total_label: CLIENT_IR_PER_CALL,
            variants: vec![client("rsrpc"), client("tonic")],
        },
    ]
}

/// Measures the figures whose id `selected` accepts, writing callgrind's files under
/// `root/target/bench/callgrind` (they stay there, for `callgrind_annotate`).
pub fn measure(launcher: &Launcher, root: &Path, selected: impl Fn(&str) -> bool) -> Vec<Table> {
    let out_dir = root.join("target/bench/callgrind");
    figures()
        .into_iter()
        .filter(|figure| selected(figure.id))
        .map(|figure| match std::fs::create_dir_all(&out_dir) {
            Ok(()) => measure_figure(launcher, root, &out_dir, &figure),
            Err(error) => Table {
                id: figure.id.to_owned(),
                title: figure.title.to_owned(),
                errors: vec![format!("cannot create {}: {error}", out_dir.display())],
                ..Table::default()
            },
        })
        .collect()
}

fn measure_figure(launcher: &Launcher, root: &Path, out_dir: &Path, figure: &Figure) -> Table {
    let mut profiles = Vec::new();
    let mut errors = Vec::new();
    for variant in &figure.variants {
        let per_call = profile(launcher, out_dir, figure, variant, FEWER_CALLS).and_then(|fewer| {
            let more = profile(launcher, out_dir, figure, variant, MORE_CALLS)?;
            Ok(Profile::per_call(&fewer, &more, MORE_CALLS - FEWER_CALLS))
        });
        match &per_call {
            Ok(profile) => eprintln!(
                "figure {} {}: {} {:.0}",
                figure.id, variant.label, figure.total_label, profile.total
            ),
            Err(error) => {
                eprintln!("figure {} {}: failed", figure.id, variant.label);
                errors.push(format!("{}: {error}", variant.label));
            }
        }
        profiles.push(per_call.ok());
    }
    let row = |label: String, value: &dyn Fn(&Profile) -> f64| Row {
        label,
        better: Better::Lower,
        samples: profiles
            .iter()
            .map(|profile| vec![profile.as_ref().map(|p| whole(value(p)))])
            .collect(),
    };
    let mut rows = vec![row(figure.total_label.to_owned(), &|p| p.total)];
    rows.extend(
        Group::ALL
            .iter()
            .map(|&group| row(format!("of which {}", group.name()), &|p| p.group(group))),
    );
    let columns: Vec<String> = figure.variants.iter().map(|v| v.label.to_owned()).collect();
    let mut details = Vec::new();
    if let Some(Some(subject)) = profiles.first() {
        details.push(Details {
            summary: format!(
                "{} functions with the most own instructions per call in {}",
                TOP_FUNCTIONS, columns[0]
            ),
            body: top_functions(subject, &columns, &profiles),
        });
    }
    Table {
        id: figure.id.to_owned(),
        title: figure.title.to_owned(),
        description: figure.description.to_owned(),
        columns,
        rows,
        commands: commands(launcher, root, out_dir, figure),
        errors,
        details,
    }
}

/// The profile of one variant making `calls` calls.
fn profile(
    launcher: &Launcher,
    out_dir: &Path,
    figure: &Figure,
    variant: &Variant,
    calls: u64,
) -> Result<Profile, String> {
    let out = out_dir.join(file_name(figure, variant, &calls.to_string()));
    // A file left by an earlier run must not pass for this one's.
    let _ = std::fs::remove_file(&out);
    let valgrind = callgrind::valgrind_words(&out);
    let mode_args = mode_args(variant, &calls.to_string());
    let report = match figure.side {
        Side::Server => {
            let server = launcher.start_server_under(variant.server, &valgrind)?;
            let report = launcher.run_load(&server, &mode_args, LOAD_TIMEOUT);
            // callgrind writes its file as the server exits.
            server.stop_slowly()?;
            report?
        }
        Side::Client => {
            let server = launcher.start_server(variant.server, false)?;
            launcher.run_load_under(&server, &mode_args, &valgrind, LOAD_TIMEOUT)?
        }
    };
    if let Some(error) = report.first_error {
        return Err(format!("{} failed calls, first: {error}", report.errors));
    }
    if report.units != calls {
        return Err(format!("{} calls instead of {calls}", report.units));
    }
    callgrind::annotate(&out)
}

/// The callgrind file of a variant at `calls` calls.
fn file_name(figure: &Figure, variant: &Variant, calls: &str) -> String {
    format!("{}-{}-{calls}.out", figure.id, variant.label)
}

/// The `bench-load` arguments for `calls` calls, with no warm-up and all the time needed.
fn mode_args(variant: &Variant, calls: &str) -> Vec<String> {
    let mut words = match variant.client {
        None => vec!["unary"],
        Some(client) => vec!["client", "--client", client],
    };
    words.extend([
        "--warmup-ms",
        "0",
        "--duration-ms",
        "600000",
        "--max-calls",
        calls,
        "--connections",
        CONNECTIONS,
        "--streams",
        STREAMS,
    ]);
    words.into_iter().map(str::to_owned).collect()
}

/// The command lines of every variant, with `N` for the number of calls.
fn commands(launcher: &Launcher, root: &Path, out_dir: &Path, figure: &Figure) -> Vec<String> {
    let relative = out_dir.strip_prefix(root).unwrap_or(out_dir);
    let mut lines = vec![format!(
        "# for N in {FEWER_CALLS} {MORE_CALLS}; Ir/call = (Ir at {MORE_CALLS} - Ir at \
         {FEWER_CALLS}) / {}",
        MORE_CALLS - FEWER_CALLS
    )];
    for variant in &figure.variants {
        let out = relative.join(file_name(figure, variant, "N"));
        let valgrind = callgrind::valgrind_words(&out);
        let mode_args = mode_args(variant, "N");
        let (server, load) = match figure.side {
            Side::Server => (
                launcher.server_command_under(variant.server, &valgrind),
                launcher.load_command("127.0.0.1:PORT", "PID", &mode_args),
            ),
            Side::Client => (
                launcher.server_command(variant.server),
                launcher.load_command_under("127.0.0.1:PORT", "PID", &mode_args, &valgrind),
            ),
        };
        lines.push(format!("# {}", variant.label));
        lines.push(format!("{} &", display(&server, root)));
        lines.push(display(&load, root));
        lines.push(match figure.side {
            Side::Server => "kill PID  # SIGTERM: the server exits and callgrind writes".to_owned(),
            Side::Client => "kill PID".to_owned(),
        });
        lines.push(callgrind::annotate_words(&out).join(" "));
    }
    lines
}

/// A Markdown table of the functions with the most own instructions per call in
/// `subject`, with each column's count of the same function.
fn top_functions(subject: &Profile, columns: &[String], profiles: &[Option<Profile>]) -> String {
    let mut out = format!(
        "Own (self) instructions per call of each function, generic instances together.\n\n\
         | function | group | {} |\n| --- | --- |{}\n",
        columns.join(" | "),
        " ---: |".repeat(columns.len())
    );
    for (name, cost) in subject.top(TOP_FUNCTIONS) {
        let cells: Vec<String> = profiles
            .iter()
            .map(|profile| match profile {
                Some(profile) => profile
                    .functions
                    .get(name)
                    .map_or_else(|| "0".to_owned(), |cost| format!("{}", whole(cost.ir))),
                None => "—".to_owned(),
            })
            .collect();
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            short_name(name),
            cost.group.name(),
            cells.join(" | ")
        );
    }
    out
}

/// `ir` to the nearest whole instruction: finer is noise, and the difference of two
/// runs leaves a few functions at -0.0001 per call, which would read as -0.00.
fn whole(ir: f64) -> f64 {
    // Adding zero turns -0.0 into 0.0.
    ir.round() + 0.0
}

/// `name` cut to [`NAME_CHARS`] characters, made safe for a Markdown table cell.
fn short_name(name: &str) -> String {
    let mut short: String = name.chars().take(NAME_CHARS).collect();
    if short.len() < name.len() {
        short.push('…');
    }
    short.replace('|', "\\|").replace('`', "'")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::callgrind::Cost;
    use std::collections::HashMap;

    #[test]
    fn load_arguments() {
        let [server, client] = figures();
        let args = mode_args(&server.variants[0], "2000");
        assert_eq!(args[0], "unary");
        assert!(args.windows(2).any(|w| w == ["--max-calls", "2000"]));
        let args = mode_args(&client.variants[1], "N");
        assert_eq!(args[..3], ["client", "--client", "tonic"]);
        assert_eq!(client.variants[1].server, Implementation::Floor);
    }

    #[test]
    fn top_functions_table() {
        let profile = |ir: f64| Profile {
            total: ir,
            functions: HashMap::from([(
                "<a::B as c::D>::e|f".to_owned(),
                Cost {
                    group: Group::Other,
                    ir,
                },
            )]),
        };
        let columns = ["rsrpc".to_owned(), "tonic".to_owned(), "floor".to_owned()];
        let profiles = [Some(profile(12.4)), Some(profile(20.0)), None];
        let text = top_functions(profiles[0].as_ref().unwrap(), &columns, &profiles);
        assert!(
            text.contains("| `<a::B as c::D>::e\\|f` | other | 12 | 20 | — |"),
            "{text}"
        );
        assert!(short_name(&"x".repeat(200)).ends_with('…'));
        assert_eq!(whole(-0.0001).to_string(), "0");
    }
}
