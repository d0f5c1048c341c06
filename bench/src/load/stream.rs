//! The server-streaming figure: one call answered by many small messages.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::driver::CpuSample;
use super::raw_h2::{self, Connection};
use super::request_head::RequestHead;
use crate::grpc_frame::{self, FrameCounter};
use crate::proto::bench::StreamRequest;
use crate::report::Report;

/// What to stream.
#[derive(Debug, Clone, Copy)]
pub struct StreamPlan {
    /// Messages in each measured call.
    pub count: u32,
    /// Measured calls are repeated, one after the other, until this much time has
    /// passed: CPU time is read in 10 ms ticks, so the window must be long enough.
    pub min_window: Duration,
    /// Measured calls, at most.
    pub max_calls: u32,
    /// Messages in the warm-up call before it.
    pub warmup_count: u32,
    /// Bytes of payload per message.
    pub payload_size: u32,
    /// A measured call fails if it takes longer.
    pub timeout: Duration,
}

/// Makes a warm-up call, then the measured ones, and reports their messages per second
/// and the CPU the server spent on them.
pub async fn server_stream(addr: SocketAddr, plan: StreamPlan, server: Option<u32>) -> Report {
    match measure(addr, plan, server).await {
        Ok(report) => report,
        Err(error) => Report::failed(error),
    }
}

/// Connects, warms up, then streams until the window is full.
async fn measure(
    addr: SocketAddr,
    plan: StreamPlan,
    server: Option<u32>,
) -> Result<Report, String> {
    let mut connection = raw_h2::connect(addr).await?;
    let head = RequestHead::http2(addr, "/bench.Bench/ServerStream");
    stream(&mut connection, &head, plan.warmup_count, plan.payload_size).await?;

    let before = CpuSample::take(server);
    let started = Instant::now();
    let mut streamed = 0;
    for _ in 0..plan.max_calls.max(1) {
        streamed += tokio::time::timeout(
            plan.timeout,
            stream(&mut connection, &head, plan.count, plan.payload_size),
        )
        .await
        .map_err(|_| format!("a stream took longer than {:?}", plan.timeout))??;
        if started.elapsed() >= plan.min_window {
            break;
        }
    }
    let mut report = Report {
        units: streamed,
        seconds: started.elapsed().as_secs_f64(),
        payload_bytes: u64::from(plan.payload_size),
        ..Report::default()
    };
    CpuSample::take(server).since(&before, &mut report);
    Ok(report)
}

/// One `ServerStream` call for `count` messages; returns how many arrived.
async fn stream(
    connection: &mut Connection,
    head: &RequestHead,
    count: u32,
    payload_size: u32,
) -> Result<u64, String> {
    let request = grpc_frame::encode(&StreamRequest {
        count,
        payload_size,
    });
    let mut counter = FrameCounter::default();
    raw_h2::unary(&mut connection.sender, head, request, |chunk| {
        counter.feed(chunk)
    })
    .await?;
    if counter.frames() == u64::from(count) && counter.at_boundary() {
        Ok(counter.frames())
    } else {
        Err(format!(
            "{} messages arrived, {count} expected",
            counter.frames()
        ))
    }
}
