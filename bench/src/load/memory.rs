//! The memory figure: the server's resident memory while many idle connections, or
//! many open streams, are held.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::task::JoinSet;

use super::driver::{Caller, Failures};
use super::raw_h2::{self, Connection, PingPongCaller};
use super::request_head::RequestHead;
use crate::procfs::{self, Memory, Pid};
use crate::report::Report;

/// Connection attempts in flight at once: well under the listen backlog (1024 in
/// tokio), so no SYN is dropped and retried a second later.
const WAVE: usize = 250;

/// How long to wait after the last connection or stream opened before reading the
/// server's memory, for it to finish taking them in.
const SETTLE: Duration = Duration::from_millis(500);

/// Opens `count` HTTP/2 connections (each handshaken and PINGed, no call made) and
/// reports the server's memory before and with them.
pub async fn idle_connections(addr: SocketAddr, count: usize, server: u32) -> Report {
    let failures = Failures::default();
    let before = server_memory(server);
    let started = Instant::now();
    let connections = open_connections(addr, count, &failures).await;
    let seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(SETTLE).await;
    let mut report = held(connections.len(), seconds, before, server_memory(server));
    failures.fill(&mut report);
    report
}

/// Opens `connections` connections, then `streams` `PingPong` streams on each (each
/// having echoed one message and now waiting for the next), and reports the server's
/// memory with the connections only and with the streams too.
pub async fn open_streams(
    addr: SocketAddr,
    connections: usize,
    streams: usize,
    frame: Bytes,
    server: u32,
) -> Report {
    let failures = Failures::default();
    let opened = open_connections(addr, connections, &failures).await;
    tokio::time::sleep(SETTLE).await;
    let before = server_memory(server);
    let started = Instant::now();
    let head = RequestHead::http2(addr, "/bench.Bench/PingPong");
    let mut tasks = JoinSet::new();
    for connection in opened {
        tasks.spawn(open_pingpongs(
            connection,
            head.clone(),
            streams,
            frame.clone(),
        ));
    }
    let mut held_streams = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(streams)) => held_streams.push(streams),
            Ok(Err(error)) => failures.record(error),
            Err(error) => failures.record(error.to_string()),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(SETTLE).await;
    let count = held_streams.iter().map(|(_, streams)| streams.len()).sum();
    let mut report = held(count, seconds, before, server_memory(server));
    failures.fill(&mut report);
    report
}

/// The server's memory now, if /proc has it.
fn server_memory(server: u32) -> Option<Memory> {
    procfs::memory(Pid::Other(server)).ok()
}

/// A report of `units` held open, with the server's memory before and after.
fn held(units: usize, seconds: f64, before: Option<Memory>, after: Option<Memory>) -> Report {
    Report {
        units: units as u64,
        seconds,
        server_memory_before: before,
        server_memory_after: after,
        ..Report::default()
    }
}

/// Opens `count` connections, `WAVE` at a time, each PINGed so that the server has
/// taken it in. Failures are counted, not retried.
async fn open_connections(addr: SocketAddr, count: usize, failures: &Failures) -> Vec<Connection> {
    let mut connections = Vec::with_capacity(count);
    let mut remaining = count;
    while remaining > 0 {
        let wave = remaining.min(WAVE);
        remaining -= wave;
        let mut tasks = JoinSet::new();
        for _ in 0..wave {
            tasks.spawn(async move {
                let mut connection = raw_h2::connect(addr).await?;
                connection.ping().await?;
                Ok::<_, String>(connection)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(connection)) => connections.push(connection),
                Ok(Err(error)) => failures.record(error),
                Err(error) => failures.record(error.to_string()),
            }
        }
    }
    connections
}

/// Opens `count` ping-pong streams on `connection`, one after the other, each making
/// one round trip. Returns the connection with them, to be held open.
async fn open_pingpongs(
    mut connection: Connection,
    head: RequestHead,
    count: usize,
    frame: Bytes,
) -> Result<(Connection, Vec<PingPongCaller>), String> {
    let mut streams = Vec::with_capacity(count);
    for _ in 0..count {
        let mut stream = PingPongCaller::open(&mut connection.sender, &head, frame.clone()).await?;
        stream.call().await?;
        streams.push(stream);
    }
    Ok((connection, streams))
}
