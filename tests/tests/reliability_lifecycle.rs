//! Connections and shutdown (the lifecycle rows of `tests/RELIABILITY.md`): every
//! connection is timed, their number is bounded, and a shutdown finishes, whatever the
//! peers do. Bounds like "within 10 s" only check that something happens at all; no
//! test asserts how fast.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use prost::Message;
use rsrpc::Server;
use rsrpc_tests::e2e::EchoRequest;
use rsrpc_tests::harness::{TestServer, frame, server_with, text};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Long enough for anything that should happen at all.
const PATIENCE: Duration = Duration::from_secs(10);
/// A timeout short enough for tests to wait out.
const SHORT: Duration = Duration::from_millis(300);

/// Reads until the server closes the connection; fails if it stays open past `bound`.
async fn read_until_closed(stream: &mut TcpStream, bound: Duration) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(bound, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return String::from_utf8_lossy(&seen).into_owned(),
            Ok(Ok(read)) => seen.extend_from_slice(&buf[..read]),
            Err(_) => panic!("the connection is still open after {bound:?}"),
        }
    }
}

/// A complete HTTP/1.1 unary request that keeps the connection open.
fn keep_alive_request() -> Vec<u8> {
    let message = frame(false, &text("hi").encode_to_vec());
    let mut request = format!(
        "POST /e2e.Echo/Unary HTTP/1.1\r\nhost: t\r\ncontent-type: application/grpc\r\nte: trailers\r\ncontent-length: {}\r\n\r\n",
        message.len()
    )
    .into_bytes();
    request.extend_from_slice(&message);
    request
}

/// Sends a keep-alive request and reads its whole response, leaving the connection idle.
async fn one_call_then_idle(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(&keep_alive_request()).await.unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    // A chunked response ends with its trailer section: `grpc-status`, then a blank line.
    while !(seen.windows(11).any(|w| w == b"grpc-status") && seen.ends_with(b"\r\n\r\n")) {
        let read = tokio::time::timeout(PATIENCE, stream.read(&mut buf))
            .await
            .expect("the response arrives")
            .unwrap();
        assert_ne!(read, 0, "closed before the response ended");
        seen.extend_from_slice(&buf[..read]);
    }
    assert!(seen.starts_with(b"HTTP/1.1 200"));
    stream
}

async fn assert_serves(running: &TestServer) {
    for client in [running.client().await, running.http1_client(1).await] {
        let reply = client.unary(text("ok")).await.unwrap();
        assert_eq!(reply.get_ref().text, "ok");
    }
}

#[tokio::test]
async fn a_silent_connection_is_closed_by_the_header_read_timeout() {
    let running = server_with(Server::builder().header_read_timeout(SHORT)).await;
    let mut stream = TcpStream::connect(running.addr).await.unwrap();
    assert_eq!(read_until_closed(&mut stream, PATIENCE).await, "");
    assert_serves(&running).await;
}

#[tokio::test]
async fn a_connection_that_stops_inside_the_http2_preface_is_closed() {
    let running = server_with(Server::builder().header_read_timeout(SHORT)).await;
    let mut stream = TcpStream::connect(running.addr).await.unwrap();
    stream.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    assert_eq!(read_until_closed(&mut stream, PATIENCE).await, "");
    assert_serves(&running).await;
}

#[tokio::test]
async fn a_half_sent_head_gets_408_and_is_closed() {
    let running = server_with(Server::builder().header_read_timeout(SHORT)).await;
    let mut stream = TcpStream::connect(running.addr).await.unwrap();
    stream
        .write_all(b"POST /e2e.Echo/Unary HTTP/1.1\r\nhost: t\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream, PATIENCE).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_serves(&running).await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let running = server_with(Server::builder().http1_idle_timeout(SHORT)).await;
    let mut stream = one_call_then_idle(running.addr).await;
    assert_eq!(read_until_closed(&mut stream, PATIENCE).await, "");
    assert_serves(&running).await;
}

#[tokio::test]
async fn the_head_timeout_counts_from_the_first_byte_of_each_request() {
    // A second request whose head dribbles in is cut off like the first would be.
    let builder = Server::builder().header_read_timeout(SHORT);
    let running = server_with(builder).await;
    let mut stream = one_call_then_idle(running.addr).await;
    stream
        .write_all(b"POST /e2e.Echo/Unary HTTP/1.1\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream, PATIENCE).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

/// Latencies of `calls` unary calls, half over HTTP/2 and half over HTTP/1.1, sorted.
async fn latencies(running: &TestServer, calls: usize) -> Vec<Duration> {
    let clients = [running.client().await, running.http1_client(1).await];
    let mut seen = Vec::with_capacity(calls);
    for call in 0..calls {
        let started = Instant::now();
        let reply = clients[call % 2].unary(text("timed")).await.unwrap();
        seen.push(started.elapsed());
        assert_eq!(reply.get_ref().text, "timed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    seen.sort();
    seen
}

/// One slowloris connection: sends a head one byte every 100 ms until the server closes
/// the connection; returns how long that took.
async fn slowloris(addr: SocketAddr) -> Duration {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = b"POST /e2e.Echo/Unary HTTP/1.1\r\nhost: t\r\nx-slow: "
        .iter()
        .chain(std::iter::repeat(&b'a'));
    let mut buf = [0u8; 256];
    for &byte in head {
        tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => {} // The 408; the close follows.
            },
            () = tokio::time::sleep(Duration::from_millis(100)) => {
                if stream.write_all(&[byte]).await.is_err() {
                    return started.elapsed();
                }
            }
        }
        assert!(
            started.elapsed() < PATIENCE,
            "a slowloris connection outlived the head timeout"
        );
    }
    unreachable!("the head is endless")
}

#[tokio::test]
async fn slowloris_connections_are_closed_while_other_clients_keep_their_latency() {
    let timeout = Duration::from_secs(1);
    let running = server_with(Server::builder().header_read_timeout(timeout)).await;
    let before = latencies(&running, 40).await;
    let attackers: Vec<_> = (0..500)
        .map(|_| tokio::spawn(slowloris(running.addr)))
        .collect();
    let during = latencies(&running, 40).await;
    let mut held = Vec::new();
    for attacker in attackers {
        held.push(attacker.await.unwrap());
    }
    held.sort();
    println!(
        "500 slowloris connections, header_read_timeout {timeout:?}: closed after {:?} to {:?}",
        held[0],
        held[held.len() - 1]
    );
    println!(
        "unary latency of another client: before p50 {:?} max {:?}; during p50 {:?} max {:?}",
        before[before.len() / 2],
        before[before.len() - 1],
        during[during.len() / 2],
        during[during.len() - 1]
    );
    assert!(
        held[0] >= timeout,
        "closed before the head timeout: {:?}",
        held[0]
    );
    assert_serves(&running).await;
}

#[tokio::test]
async fn connections_past_max_connections_are_closed_at_once() {
    let running = server_with(Server::builder().max_connections(3)).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let stream = TcpStream::connect(running.addr).await.unwrap();
        held.push(stream);
    }
    // Let the server accept the three before the fourth arrives.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut refused = TcpStream::connect(running.addr).await.unwrap();
    // The head timeout is 30 s: a close within 10 s can only be the connection limit.
    assert_eq!(read_until_closed(&mut refused, PATIENCE).await, "");
    held.clear();
    // Once the held connections are gone, new ones are served again.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let client = running.http1_client(1).await;
        match client.unary(text("again")).await {
            Ok(reply) => break assert_eq!(reply.get_ref().text, "again"),
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(status) => panic!("not served after the connections closed: {status:?}"),
        }
    }
}

#[tokio::test]
async fn max_concurrent_streams_is_advertised_to_http2_clients() {
    let running = server_with(Server::builder().max_concurrent_streams(7)).await;
    let stream = TcpStream::connect(running.addr).await.unwrap();
    let (mut sender, mut connection) = h2::client::handshake(stream).await.unwrap();
    let call = async {
        let request = http::Request::post(format!("{}/e2e.Echo/Unary", running.url()))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(())
            .unwrap();
        let (response, mut body) = sender.send_request(request, false).unwrap();
        body.send_data(frame(false, &text("x").encode_to_vec()), true)
            .unwrap();
        response.await.unwrap()
    };
    tokio::select! {
        response = call => assert_eq!(response.status(), 200),
        result = &mut connection => panic!("connection ended: {result:?}"),
    }
    assert_eq!(connection.max_concurrent_send_streams(), 7);
}

#[tokio::test]
async fn shutdown_closes_a_silent_connection_at_once() {
    let mut running = server_with(Server::builder()).await;
    let mut silent = TcpStream::connect(running.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    running.trigger_shutdown();
    // The head timeout is 30 s: only the shutdown closes it this soon.
    assert_eq!(read_until_closed(&mut silent, PATIENCE).await, "");
    running.finished_within(PATIENCE).await;
}

#[tokio::test]
async fn shutdown_closes_idle_http1_connections_at_once() {
    let mut running = server_with(Server::builder()).await;
    let mut idle = one_call_then_idle(running.addr).await;
    running.trigger_shutdown();
    assert_eq!(read_until_closed(&mut idle, PATIENCE).await, "");
    running.finished_within(PATIENCE).await;
}

#[tokio::test]
async fn shutdown_lets_calls_under_way_finish() {
    let mut running = server_with(Server::builder()).await;
    let slow = EchoRequest {
        sleep_ms: 500,
        ..text("slow")
    };
    let calls: Vec<_> = [running.client().await, running.http1_client(1).await]
        .into_iter()
        .map(|client| {
            let slow = slow.clone();
            tokio::spawn(async move { client.unary(slow).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    running.trigger_shutdown();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap().get_ref().text, "slow");
    }
    running.finished_within(PATIENCE).await;
}

#[tokio::test]
async fn shutdown_is_bounded_when_an_http2_peer_never_answers() {
    let builder = Server::builder().graceful_shutdown_timeout(Duration::from_secs(1));
    let mut running = server_with(builder).await;
    let mut mute = TcpStream::connect(running.addr).await.unwrap();
    // The preface and an empty SETTINGS frame; then the peer never reads nor acks.
    mute.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    running.trigger_shutdown();
    running.finished_within(PATIENCE).await;
}

#[tokio::test]
async fn shutdown_closes_calls_that_outlast_the_drain() {
    let builder = Server::builder().graceful_shutdown_timeout(Duration::from_millis(500));
    let mut running = server_with(builder).await;
    let client = running.client().await;
    let endless = EchoRequest {
        sleep_ms: 60_000,
        ..text("endless")
    };
    let call = tokio::spawn(async move { client.unary(endless).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    running.trigger_shutdown();
    running.finished_within(PATIENCE).await;
    let status = tokio::time::timeout(PATIENCE, call)
        .await
        .expect("the call ends with the connection")
        .unwrap()
        .unwrap_err();
    assert_eq!(status.code(), rsrpc::Code::Unavailable, "{status:?}");
    assert_eq!(
        status.message(),
        "server shutting down: drain deadline passed"
    );
}
