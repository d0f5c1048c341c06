//! What figures 1 to 7 are: for each, the variants compared (a server and the load
//! that drives it) and the metrics read off the load generator's reports.

use super::h2load;

use std::time::Duration;

use super::budget::Budget;
use super::table::Better;
use crate::report::Report;
use crate::server::Implementation;

/// One compared variant of a figure: a server and the load to drive it with.
pub struct Variant {
    /// Column label.
    pub label: &'static str,
    /// The server to start.
    pub server: Implementation,
    /// The load generator's arguments: for `bench-load`, those after the target; for
    /// h2load, its options (see [`h2load::H2load::args`]).
    pub mode_args: Vec<String>,
}

/// The program that drives the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// `bench-load`, this crate's load generator.
    BenchLoad,
    /// nghttp2's h2load (figure 1h).
    H2load,
}

/// A metric read off a report.
pub struct Metric {
    /// Row label, with its unit.
    pub label: &'static str,
    /// Which way is better.
    pub better: Better,
    /// The value, if the report has it.
    pub value: fn(&Report) -> Option<f64>,
}

/// A figure to measure.
pub struct Figure {
    /// Figure id.
    pub id: &'static str,
    /// Short title.
    pub title: &'static str,
    /// What runs, in a sentence or two.
    pub description: String,
    /// The compared variants; the first is the subject.
    pub variants: Vec<Variant>,
    /// The metrics.
    pub metrics: Vec<Metric>,
    /// What drives the servers.
    pub driver: Driver,
    /// Whether servers run under the CPU cap.
    pub capped: bool,
    /// The longest one load run may take before it is killed.
    pub timeout: Duration,
}

/// The share of one CPU a capped server gets.
pub const CAPPED_SHARE: f64 = 0.5;

/// Label of the server CPU metric of unary figures (targets refer to it).
pub const SERVER_CPU_PER_CALL: &str = "server CPU µs/call";
/// Label of the server CPU metric of figure 3.
pub const SERVER_CPU_PER_MESSAGE: &str = "server CPU ns/message";
/// Label of the client CPU metric of figure 2.
pub const CLIENT_CPU_PER_CALL: &str = "client CPU µs/call";
/// Label of the p99 latency metric.
pub const P99: &str = "p99 µs";
/// Label of the streaming throughput metric.
pub const MESSAGES_PER_SECOND: &str = "messages/s";
/// Label of the per-connection memory metric.
pub const KIB_PER_CONNECTION: &str = "server RSS growth KiB/connection";
/// Label of the per-stream memory metric.
pub const KIB_PER_STREAM: &str = "server RSS growth KiB/stream";

/// Owned command-line words.
fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(|word| (*word).to_owned()).collect()
}

/// The warm-up and window of a closed-loop run.
fn window_args(budget: &Budget) -> Vec<String> {
    args(&[
        "--warmup-ms",
        &budget.warmup_ms.to_string(),
        "--duration-ms",
        &budget.duration_ms.to_string(),
    ])
}

/// `mode` followed by the window and `rest`.
fn closed_loop_args(budget: &Budget, mode: &str, rest: &[&str]) -> Vec<String> {
    let mut all = args(&[mode]);
    all.extend(window_args(budget));
    all.extend(args(rest));
    all
}

/// One variant per server, each driven with `mode_args`.
fn servers(implementations: &[Implementation], mode_args: &[String]) -> Vec<Variant> {
    implementations
        .iter()
        .map(|&server| Variant {
            label: server.name(),
            server,
            mode_args: mode_args.to_vec(),
        })
        .collect()
}

/// rsrpc and tonic, each driven with `mode_args`.
fn rsrpc_and_tonic(mode_args: &[String]) -> Vec<Variant> {
    servers(&[Implementation::Rsrpc, Implementation::Tonic], mode_args)
}

/// The gRPC servers, rsrpc first: rsrpc, tonic and connect-rust.
const GRPC_SERVERS: [Implementation; 3] = [
    Implementation::Rsrpc,
    Implementation::Tonic,
    Implementation::Connect,
];

/// The gRPC servers and the floor.
const ALL_SERVERS: [Implementation; 4] = [
    Implementation::Rsrpc,
    Implementation::Tonic,
    Implementation::Connect,
    Implementation::Floor,
];

/// How long a closed-loop run may take: its window and a minute for the rest.
fn closed_loop_timeout(budget: &Budget) -> Duration {
    Duration::from_millis(budget.warmup_ms + budget.duration_ms) + Duration::from_secs(60)
}

/// Figure 1 (or 1b, with the servers capped): unary calls at 50 × 10 on rsrpc, tonic
/// and the floor.
fn unary_saturation(budget: &Budget, capped: bool) -> Figure {
    let (id, title, cap_note) = if capped {
        (
            "1b",
            "Unary small message, server capped at half a CPU",
            " Each server is held to half a CPU by a cgroup quota (5 ms per 10 ms), so the \
             server, not the load generator, limits throughput.",
        )
    } else {
        ("1", "Unary small message at saturation", "")
    };
    let mode_args = closed_loop_args(budget, "unary", &["--connections", "50", "--streams", "10"]);
    Figure {
        id,
        title,
        description: format!(
            "`SayHello` with a 16-byte name, 50 HTTP/2 connections × 10 calls in flight each, \
             from the raw h2 load generator.{cap_note}"
        ),
        variants: servers(&ALL_SERVERS, &mode_args),
        metrics: vec![
            metric(
                SERVER_CPU_PER_CALL,
                Better::Lower,
                Report::server_cpu_per_unit,
            ),
            metric("calls/s", Better::Higher, |r| Some(r.rate())),
            metric("p50 µs", Better::Lower, |r| r.p50_us),
            metric(P99, Better::Lower, |r| r.p99_us),
            metric("server busy (CPUs)", Better::Higher, Report::server_busy),
            metric("load gen busy (CPUs)", Better::Higher, |r| {
                Some(r.load_busy())
            }),
            metric(
                "load gen CPU µs/call",
                Better::Lower,
                Report::load_cpu_per_unit,
            ),
        ],
        driver: Driver::BenchLoad,
        capped,
        timeout: closed_loop_timeout(budget),
    }
}

/// Figure 1h: unary calls at 50 × 10 from h2load, on every server.
fn unary_under_h2load() -> Figure {
    Figure {
        id: "1h",
        title: "Unary small message under h2load",
        description: format!(
            "`SayHello` with a 16-byte name from nghttp2's h2load (`-c 50 -m 10`: 50 HTTP/2 \
             connections × 10 calls in flight, one thread), {} calls per run after {} \
             unmeasured ones. The request is one fixed gRPC frame (`-d`, \
             `content-type: application/grpc`, `te: trailers`); every call must get a 2xx \
             answer or the run counts as failed (h2load does not read `grpc-status`). h2load \
             costs less per call than the Rust load generator, so the server saturates \
             first. The server's CPU is read around the measured run, h2load's is its \
             process's own; calls/s divides by h2load's wall time, connection setup \
             included.",
            h2load::CALLS,
            h2load::CALLS / 10,
        ),
        variants: servers(&ALL_SERVERS, &h2load::options()),
        metrics: vec![
            metric(
                SERVER_CPU_PER_CALL,
                Better::Lower,
                Report::server_cpu_per_unit,
            ),
            metric("calls/s", Better::Higher, |r| Some(r.rate())),
            metric("server busy (CPUs)", Better::Higher, Report::server_busy),
            metric("h2load busy (CPUs)", Better::Higher, |r| {
                Some(r.load_busy())
            }),
            metric(
                "h2load CPU µs/call",
                Better::Lower,
                Report::load_cpu_per_unit,
            ),
        ],
        driver: Driver::H2load,
        capped: false,
        timeout: Duration::from_secs(120),
    }
}

/// A metric (a shorthand for the struct literal).
fn metric(label: &'static str, better: Better, value: fn(&Report) -> Option<f64>) -> Metric {
    Metric {
        label,
        better,
        value,
    }
}

/// Every figure of 1 to 7, with the sizes and durations of `budget`.
pub fn figures(budget: &Budget) -> Vec<Figure> {
    let closed_loop_timeout = closed_loop_timeout(budget);
    let mut figures = vec![
        unary_saturation(budget, false),
        unary_saturation(budget, true),
        unary_under_h2load(),
        Figure {
            id: "2",
            title: "Client cost",
            description: "`SayHello` through each generated client against the floor server, \
                          50 channels × 10 calls in flight; CPU of the client process."
                .into(),
            variants: ["rsrpc", "tonic"]
                .into_iter()
                .map(|client| Variant {
                    label: client,
                    server: Implementation::Floor,
                    mode_args: closed_loop_args(
                        budget,
                        "client",
                        &["--client", client, "--connections", "50", "--streams", "10"],
                    ),
                })
                .collect(),
            metrics: vec![
                metric(
                    CLIENT_CPU_PER_CALL,
                    Better::Lower,
                    Report::load_cpu_per_unit,
                ),
                metric("calls/s", Better::Higher, |r| Some(r.rate())),
                metric("p50 µs", Better::Lower, |r| r.p50_us),
                metric(P99, Better::Lower, |r| r.p99_us),
                metric(
                    "floor server CPU µs/call",
                    Better::Lower,
                    Report::server_cpu_per_unit,
                ),
            ],
            driver: Driver::BenchLoad,
            capped: false,
            timeout: closed_loop_timeout,
        },
        Figure {
            id: "3",
            title: "Server streaming",
            description: format!(
                "`ServerStream` calls of {} messages of 16 bytes each, one after the other on \
                 one connection, repeated until {} ms have passed (after a warm-up call of a \
                 tenth the size).",
                budget.stream_messages, budget.stream_window_ms
            ),
            variants: servers(
                &GRPC_SERVERS,
                &args(&[
                    "server-stream",
                    "--count",
                    &budget.stream_messages.to_string(),
                    "--min-window-ms",
                    &budget.stream_window_ms.to_string(),
                ]),
            ),
            metrics: vec![
                metric(MESSAGES_PER_SECOND, Better::Higher, |r| Some(r.rate())),
                metric(SERVER_CPU_PER_MESSAGE, Better::Lower, |r| {
                    Some(r.server_cpu_per_unit()? * 1000.0)
                }),
                metric("load gen CPU ns/message", Better::Lower, |r| {
                    Some(r.load_cpu_per_unit()? * 1000.0)
                }),
            ],
            driver: Driver::BenchLoad,
            capped: false,
            timeout: Duration::from_secs(180),
        },
        Figure {
            id: "4",
            title: "Bidi ping-pong latency",
            description: "One `PingPong` stream; each round trip sends a 16-byte message and \
                          waits for its echo."
                .into(),
            variants: rsrpc_and_tonic(&closed_loop_args(budget, "ping-pong", &[])),
            metrics: vec![
                metric("p50 µs", Better::Lower, |r| r.p50_us),
                metric(P99, Better::Lower, |r| r.p99_us),
                metric("round trips/s", Better::Higher, |r| Some(r.rate())),
                metric(
                    "server CPU µs/round trip",
                    Better::Lower,
                    Report::server_cpu_per_unit,
                ),
            ],
            driver: Driver::BenchLoad,
            capped: false,
            timeout: closed_loop_timeout,
        },
        Figure {
            id: "5",
            title: "1 MiB unary round trip",
            description: "`Echo` of a 1 MiB payload, 1 HTTP/2 connection × 4 calls in flight. \
                          MiB/s counts the payload one way; the peak is the server's VmHWM \
                          over its whole (fresh) life."
                .into(),
            variants: rsrpc_and_tonic(&closed_loop_args(
                budget,
                "unary",
                &[
                    "--connections",
                    "1",
                    "--streams",
                    "4",
                    "--path",
                    "/bench.Bench/Echo",
                    "--payload",
                    "1048576",
                ],
            )),
            metrics: vec![
                metric("MiB/s", Better::Higher, |r| Some(r.mib_per_second())),
                metric("server peak RSS MiB", Better::Lower, |r| {
                    Some(r.server_memory_after?.peak_kib as f64 / 1024.0)
                }),
                metric(
                    SERVER_CPU_PER_CALL,
                    Better::Lower,
                    Report::server_cpu_per_unit,
                ),
                metric(P99, Better::Lower, |r| r.p99_us),
            ],
            driver: Driver::BenchLoad,
            capped: false,
            timeout: closed_loop_timeout,
        },
        Figure {
            id: "6",
            title: "HTTP/1.1 unary",
            description: "rsrpc only: `SayHello` over 50 HTTP/1.1 connections (chunked request, \
                          `te: trailers`, one call at a time each) against 50 HTTP/2 \
                          connections × 1 call in flight, so that concurrency is equal."
                .into(),
            variants: [("rsrpc HTTP/1.1", "1"), ("rsrpc HTTP/2", "2")]
                .into_iter()
                .map(|(label, http)| Variant {
                    label,
                    server: Implementation::Rsrpc,
                    mode_args: closed_loop_args(
                        budget,
                        "unary",
                        &["--http", http, "--connections", "50", "--streams", "1"],
                    ),
                })
                .collect(),
            metrics: vec![
                metric(
                    SERVER_CPU_PER_CALL,
                    Better::Lower,
                    Report::server_cpu_per_unit,
                ),
                metric("calls/s", Better::Higher, |r| Some(r.rate())),
                metric("p50 µs", Better::Lower, |r| r.p50_us),
                metric(P99, Better::Lower, |r| r.p99_us),
            ],
            driver: Driver::BenchLoad,
            capped: false,
            timeout: closed_loop_timeout,
        },
    ];
    figures.extend(memory_figures(budget));
    figures
}

/// Figures 7a and 7b: memory with idle connections and with open streams.
fn memory_figures(budget: &Budget) -> [Figure; 2] {
    let rss_mib = |r: &Report| Some(r.server_memory_after?.rss_kib as f64 / 1024.0);
    let baseline_mib = |r: &Report| Some(r.server_memory_before?.rss_kib as f64 / 1024.0);
    [
        Figure {
            id: "7a",
            title: "Memory: idle HTTP/2 connections",
            description: format!(
                "{} HTTP/2 connections opened against a fresh server (handshake and one PING \
                 each, no call), then held idle; RSS read 0.5 s after the last one.",
                budget.idle_connections
            ),
            variants: servers(
                &GRPC_SERVERS,
                &args(&[
                    "idle-connections",
                    "--connections",
                    &budget.idle_connections.to_string(),
                ]),
            ),
            metrics: vec![
                metric(
                    KIB_PER_CONNECTION,
                    Better::Lower,
                    Report::rss_growth_per_unit_kib,
                ),
                metric("server RSS with them MiB", Better::Lower, rss_mib),
                metric("server RSS before MiB", Better::Lower, baseline_mib),
            ],
            driver: Driver::BenchLoad,
            capped: false,
            timeout: Duration::from_secs(120),
        },
        Figure {
            id: "7b",
            title: "Memory: open streams",
            description: format!(
                "{} HTTP/2 connections × {} `PingPong` streams each, every stream having echoed \
                 one message and waiting for the next. Growth is measured from the RSS with the \
                 connections open and no stream.",
                budget.stream_connections, budget.streams_per_connection
            ),
            variants: rsrpc_and_tonic(&args(&[
                "open-streams",
                "--connections",
                &budget.stream_connections.to_string(),
                "--streams",
                &budget.streams_per_connection.to_string(),
            ])),
            metrics: vec![
                metric(
                    KIB_PER_STREAM,
                    Better::Lower,
                    Report::rss_growth_per_unit_kib,
                ),
                metric("server RSS with them MiB", Better::Lower, rss_mib),
                metric(
                    "server RSS with connections only MiB",
                    Better::Lower,
                    baseline_mib,
                ),
            ],
            driver: Driver::BenchLoad,
            capped: false,
            timeout: Duration::from_secs(120),
        },
    ]
}
