//! The load generator: what `bench-load` can measure, one mode per kind of figure.

mod check;
mod clients;
mod driver;
mod memory;
mod raw_h1;
mod raw_h2;
mod request_head;
mod stream;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;

pub use clients::ClientImpl;
pub use driver::{Caller, Window};

use crate::grpc_frame;
use crate::proto::bench::Payload;
use crate::report::Report;

/// The unary method of `helloworld.Greeter`.
pub const SAY_HELLO: &str = "/helloworld.Greeter/SayHello";

/// Which server to load, and how to measure it.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// The server's address.
    #[arg(long)]
    pub addr: SocketAddr,
    /// The server's process id, to read its CPU time and memory from /proc.
    #[arg(long)]
    pub server_pid: Option<u32>,
}

/// The measured window of the closed-loop modes.
#[derive(Debug, Clone, clap::Args)]
pub struct WindowArgs {
    /// Milliseconds of calls before measuring.
    #[arg(long, default_value_t = 1000)]
    pub warmup_ms: u64,
    /// Milliseconds to measure, at most.
    #[arg(long, default_value_t = 5000)]
    pub duration_ms: u64,
    /// Calls to measure, at most.
    #[arg(long, default_value_t = 10_000_000)]
    pub max_calls: u64,
}

impl WindowArgs {
    /// The window these arguments describe.
    fn window(&self) -> Window {
        Window {
            warmup: Duration::from_millis(self.warmup_ms),
            duration: Duration::from_millis(self.duration_ms),
            max_calls: self.max_calls,
        }
    }
}

/// The HTTP version of the raw unary load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Http {
    /// HTTP/1.1: one call at a time per connection, chunked body, `te: trailers`.
    #[value(name = "1")]
    Http1,
    /// HTTP/2: `streams` calls at a time per connection.
    #[value(name = "2")]
    Http2,
}

/// What to measure.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Mode {
    /// Unary calls from the raw HTTP client, closed loop.
    Unary {
        #[command(flatten)]
        window: WindowArgs,
        /// HTTP version.
        #[arg(long, value_enum, default_value = "2")]
        http: Http,
        /// Connections.
        #[arg(long, default_value_t = 50)]
        connections: usize,
        /// Calls in flight per connection (HTTP/2 only).
        #[arg(long, default_value_t = 10)]
        streams: usize,
        /// Method path.
        #[arg(long, default_value = SAY_HELLO)]
        path: String,
        /// Bytes of payload in the request (and the echoed answer).
        #[arg(long, default_value_t = 16)]
        payload: usize,
    },
    /// `SayHello` through a generated client, closed loop; reports this process's CPU.
    Client {
        #[command(flatten)]
        window: WindowArgs,
        /// The generated client to use.
        #[arg(long, value_enum)]
        client: ClientImpl,
        /// Channels (one connection each).
        #[arg(long, default_value_t = 50)]
        connections: usize,
        /// Calls in flight per channel.
        #[arg(long, default_value_t = 10)]
        streams: usize,
        /// Bytes of name in the request.
        #[arg(long, default_value_t = 16)]
        payload: usize,
    },
    /// `ServerStream` calls of many messages each, after a smaller warm-up call.
    ServerStream {
        /// Messages in each call.
        #[arg(long, default_value_t = 1_000_000)]
        count: u32,
        /// Milliseconds of measured calls, at least (calls are repeated until then).
        #[arg(long, default_value_t = 2000)]
        min_window_ms: u64,
        /// Measured calls, at most.
        #[arg(long, default_value_t = 20)]
        max_calls: u32,
        /// Bytes of payload per message.
        #[arg(long, default_value_t = 16)]
        payload: u32,
        /// Seconds each measured call may take.
        #[arg(long, default_value_t = 120)]
        timeout_s: u64,
    },
    /// Round trips on one `PingPong` stream, closed loop.
    PingPong {
        #[command(flatten)]
        window: WindowArgs,
        /// Bytes of payload per message.
        #[arg(long, default_value_t = 16)]
        payload: usize,
    },
    /// Server memory with many idle HTTP/2 connections.
    IdleConnections {
        /// Connections to hold open.
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
    },
    /// Server memory with many open `PingPong` streams.
    OpenStreams {
        /// Connections.
        #[arg(long, default_value_t = 100)]
        connections: usize,
        /// Streams held open on each.
        #[arg(long, default_value_t = 100)]
        streams: usize,
    },
}

/// Measures `mode` against `target`.
pub async fn run(target: &Target, mode: &Mode) -> Report {
    match measure(target, mode).await {
        Ok(report) => report,
        Err(error) => Report::failed(error),
    }
}

/// Runs `mode`; an error here means the measurement could not start.
async fn measure(target: &Target, mode: &Mode) -> Result<Report, String> {
    let (addr, server) = (target.addr, target.server_pid);
    let report = match mode {
        Mode::Unary {
            window,
            http,
            connections,
            streams,
            path,
            payload,
        } => {
            let frame = payload_frame(*payload);
            let mut report = match http {
                Http::Http2 => {
                    let callers =
                        h2_unary_callers(addr, *connections, *streams, path, frame).await?;
                    driver::closed_loop(callers, window.window(), server).await
                }
                Http::Http1 => {
                    let mut callers = Vec::with_capacity(*connections);
                    for _ in 0..*connections {
                        callers
                            .push(raw_h1::UnaryCaller::connect(addr, path, frame.clone()).await?);
                    }
                    driver::closed_loop(callers, window.window(), server).await
                }
            };
            report.payload_bytes = *payload as u64;
            report
        }
        Mode::Client {
            window,
            client,
            connections,
            streams,
            payload,
        } => {
            let name = "x".repeat(*payload);
            let callers = clients::callers(*client, addr, *connections, *streams, &name).await?;
            driver::closed_loop(callers, window.window(), server).await
        }
        Mode::ServerStream {
            count,
            min_window_ms,
            max_calls,
            payload,
            timeout_s,
        } => {
            let plan = stream::StreamPlan {
                count: *count,
                min_window: Duration::from_millis(*min_window_ms),
                max_calls: *max_calls,
                warmup_count: (*count / 10).max(1),
                payload_size: *payload,
                timeout: Duration::from_secs(*timeout_s),
            };
            stream::server_stream(addr, plan, server).await
        }
        Mode::PingPong { window, payload } => {
            let mut connection = raw_h2::connect(addr).await?;
            let head = request_head::RequestHead::http2(addr, "/bench.Bench/PingPong");
            let caller = raw_h2::PingPongCaller::open(
                &mut connection.sender,
                &head,
                payload_frame(*payload),
            )
            .await?;
            let report = driver::closed_loop(vec![caller], window.window(), server).await;
            drop(connection);
            report
        }
        Mode::IdleConnections { connections } => {
            memory::idle_connections(addr, *connections, require_pid(server)?).await
        }
        Mode::OpenStreams {
            connections,
            streams,
        } => {
            let frame = payload_frame(16);
            memory::open_streams(addr, *connections, *streams, frame, require_pid(server)?).await
        }
    };
    Ok(report)
}

/// The request frame of every unary and ping-pong call: field 1 holding `size` bytes of
/// ASCII. It reads as `HelloRequest { name }` and as `Payload { data }` alike, and every
/// server under test echoes it, so answers are as long as requests.
fn payload_frame(size: usize) -> Bytes {
    grpc_frame::encode(&Payload {
        data: vec![b'x'; size].into(),
    })
}

/// `streams` unary callers on each of `connections` raw HTTP/2 connections.
async fn h2_unary_callers(
    addr: SocketAddr,
    connections: usize,
    streams: usize,
    path: &str,
    frame: Bytes,
) -> Result<Vec<raw_h2::UnaryCaller>, String> {
    let head = request_head::RequestHead::http2(addr, path);
    let mut callers = Vec::with_capacity(connections * streams);
    for _ in 0..connections {
        let connection = raw_h2::connect(addr).await?;
        callers.extend((0..streams).map(|_| {
            raw_h2::UnaryCaller::new(connection.sender.clone(), head.clone(), frame.clone())
        }));
    }
    Ok(callers)
}

/// The server pid, which the memory modes cannot do without.
fn require_pid(server: Option<u32>) -> Result<u32, String> {
    server.ok_or_else(|| "memory modes need --server-pid".to_owned())
}
