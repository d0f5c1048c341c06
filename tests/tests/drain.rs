//! A graceful shutdown loses nothing: the two-phase GOAWAY keeps the HTTP/2 streams in
//! flight, a busy HTTP/1.1 connection is told to close, a call that outlives the drain
//! deadline ends with a clear `UNAVAILABLE`, and under h2load every call the server
//! accepted completes. (Calls under way finishing, and idle connections closing at
//! once, are in `reliability_lifecycle.rs`.) Bounds like "within 10 s" only check that
//! something happens at all.

use std::process::Stdio;
use std::time::Duration;

use prost::Message;
use rsrpc::{Code, Server, Status};
use rsrpc_tests::e2e::EchoRequest;
use rsrpc_tests::e2e::echo_client::EchoClient;
use rsrpc_tests::h2_raw::{self, RawConnection, error, flag, kind, summary};
use rsrpc_tests::harness::{TestServer, frame, server_with, text};
use rsrpc_tests::tools;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Long enough for anything that should happen at all.
const PATIENCE: Duration = Duration::from_secs(10);
/// What a call cut by the drain deadline ends with.
const CUT_MESSAGE: &str = "server shutting down: drain deadline passed";

/// A gRPC frame holding `request`.
fn message(request: &EchoRequest) -> bytes::Bytes {
    frame(false, &request.encode_to_vec())
}

#[tokio::test]
async fn http2_two_phase_goaway_keeps_streams_in_flight_and_ignores_later_ones() {
    let mut running = server_with(Server::builder()).await;
    let mut connection = RawConnection::open(running.addr, &[]).await;
    // Stream 1: a bidi call whose request stays open until the test ends it.
    let mut open_call = h2_raw::frame(
        kind::HEADERS,
        flag::END_HEADERS,
        1,
        &h2_raw::request_headers("/e2e.Echo/Bidi", &[]),
    );
    h2_raw::push_frame(&mut open_call, kind::DATA, 0, 1, &message(&text("one")));
    connection.send(&open_call).await.unwrap();
    connection
        .wait_for(PATIENCE, |seen| seen.data_bytes > 0)
        .await;

    running.trigger_shutdown();
    let seen = connection
        .wait_for(PATIENCE, |seen| !seen.goaways.is_empty() && seen.pings > 0)
        .await;
    let first = &seen.goaways[0];
    assert_eq!(
        (first.last_stream, first.code),
        (0x7fff_ffff, error::NO_ERROR),
        "phase one: GOAWAY with the largest stream id; {}",
        summary(&seen)
    );
    assert_eq!(seen.goaways.len(), 1, "{}", summary(&seen));

    // Opened before the client knows of the GOAWAY: it is still served.
    let unary = message(&text("two"));
    connection
        .send(&h2_raw::grpc_request(3, "/e2e.Echo/Unary", &unary))
        .await
        .unwrap();
    connection
        .wait_for(PATIENCE, |seen| seen.stream_ended(3))
        .await;

    // The PING's answer tells the server which streams the client had opened.
    let payload = seen.last_ping.expect("the PING's payload");
    connection.send(&h2_raw::ping_ack(payload)).await.unwrap();
    let seen = connection
        .wait_for(PATIENCE, |seen| seen.goaways.len() == 2)
        .await;
    assert_eq!(
        (seen.goaways[1].last_stream, seen.goaways[1].code),
        (3, error::NO_ERROR),
        "phase two: GOAWAY with the last stream processed; {}",
        summary(&seen)
    );

    // After the final GOAWAY a new stream is never processed.
    connection
        .send(&h2_raw::grpc_request(5, "/e2e.Echo/Unary", &unary))
        .await
        .unwrap();
    // Stream 1, in flight all along, still works: another message, then its end.
    let mut more = h2_raw::frame(kind::DATA, 0, 1, &message(&text("three")));
    h2_raw::push_frame(&mut more, kind::DATA, flag::END_STREAM, 1, &[]);
    connection.send(&more).await.unwrap();
    let seen = connection.wait_for(PATIENCE, |seen| seen.closed).await;
    assert!(seen.stream_ended(1), "{}", summary(&seen));
    assert!(!seen.headers.contains(&5), "{}", summary(&seen));
    assert!(seen.resets.is_empty(), "{}", summary(&seen));
    assert_eq!(seen.read_error, None, "a clean close: {}", summary(&seen));
    running.finished_within(PATIENCE).await;
}

/// Reads an HTTP/1.1 response head and body until the connection closes.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut seen))
        .await
        .expect("the server answers, then closes the connection")
        .unwrap();
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test]
async fn a_busy_http1_connection_gets_connection_close_on_its_response() {
    let mut running = server_with(Server::builder()).await;
    let mut stream = TcpStream::connect(running.addr).await.unwrap();
    let slow = message(&EchoRequest {
        sleep_ms: 500,
        ..text("slow")
    });
    // A keep-alive request: only the drain can make the server close.
    let mut request = format!(
        "POST /e2e.Echo/Unary HTTP/1.1\r\nhost: t\r\ncontent-type: application/grpc\r\n\
         te: trailers\r\ncontent-length: {}\r\n\r\n",
        slow.len()
    )
    .into_bytes();
    request.extend_from_slice(&slow);
    stream.write_all(&request).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    running.trigger_shutdown();
    let response = read_to_close(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\r\nconnection: close\r\n"), "{response}");
    assert!(response.contains("grpc-status: 0"), "{response}");
    running.finished_within(PATIENCE).await;
}

/// Checks that `ended` is the drain deadline's status.
fn assert_cut(ended: Result<impl std::fmt::Debug, Status>) {
    let status = ended.expect_err("the call is cut by the drain deadline");
    assert_eq!(
        (status.code(), status.message()),
        (Code::Unavailable, CUT_MESSAGE),
        "{status:?}"
    );
}

/// A server whose drain deadline is half a second.
async fn short_drain() -> TestServer {
    server_with(Server::builder().graceful_shutdown_timeout(Duration::from_millis(500))).await
}

/// A bidi call whose response has started and that outlives the drain deadline, on
/// `client`, ends with the cut status in the trailers.
async fn bidi_outliving_the_drain(mut running: TestServer, client: EchoClient) {
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    sender.send(text("first")).await.unwrap();
    let mut replies = client
        .bidi(tokio_stream::wrappers::ReceiverStream::new(receiver))
        .await
        .unwrap()
        .into_inner();
    let first = tokio::time::timeout(PATIENCE, replies.message()).await;
    assert_eq!(first.unwrap().unwrap().unwrap().text, "first");
    running.trigger_shutdown();
    // The request stays open: only the deadline ends the call.
    let ended = tokio::time::timeout(PATIENCE, replies.message())
        .await
        .expect("the call ends at the drain deadline");
    assert_cut(ended);
    drop(sender);
    running.finished_within(PATIENCE).await;
}

#[tokio::test]
async fn an_http2_stream_outliving_the_drain_deadline_ends_unavailable() {
    let running = short_drain().await;
    let client = running.client().await;
    bidi_outliving_the_drain(running, client).await;
}

/// Over HTTP/2 this is `shutdown_closes_calls_that_outlast_the_drain`, in
/// `reliability_lifecycle.rs`.
#[tokio::test]
async fn an_http1_unary_call_outliving_the_drain_deadline_ends_unavailable() {
    let mut running = short_drain().await;
    let client = running.http1_client(1).await;
    let endless = EchoRequest {
        sleep_ms: 60_000,
        ..text("endless")
    };
    let call = tokio::spawn(async move { client.unary(endless).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    running.trigger_shutdown();
    let ended = tokio::time::timeout(PATIENCE, call)
        .await
        .expect("the call ends at the drain deadline")
        .unwrap();
    assert_cut(ended);
    running.finished_within(PATIENCE).await;
}

#[tokio::test]
async fn an_http1_stream_outliving_the_drain_deadline_ends_unavailable() {
    let running = short_drain().await;
    let client = running.http1_client(1).await;
    bidi_outliving_the_drain(running, client).await;
}

/// h2load's counts, from its closing lines.
#[derive(Debug)]
struct H2loadCounts {
    /// Calls asked for.
    total: u64,
    /// Calls whose HEADERS h2load sent.
    started: u64,
    /// Streams that closed cleanly with a 2xx answer.
    succeeded: u64,
    /// Streams that closed without success: with an error, or a non-2xx answer.
    failed: u64,
    /// Streams (or calls never started) that ended in an error: reset, refused, or
    /// their connection lost or never made.
    errored: u64,
    /// Responses whose head said 2xx, counted when the head arrives.
    status_2xx: u64,
}

impl H2loadCounts {
    /// Reads `requests: N total, N started, N done, N succeeded, N failed, N errored,
    /// N timeout` and `status codes: N 2xx, ...`.
    fn parse(output: &str) -> H2loadCounts {
        let line = |prefix: &str| {
            output
                .lines()
                .find_map(|line| line.strip_prefix(prefix))
                .unwrap_or_else(|| panic!("h2load printed no `{prefix}` line:\n{output}"))
        };
        let count = |list: &str, what: &str| {
            list.split(',')
                .find_map(|item| {
                    let (number, name) = item.trim().split_once(' ')?;
                    (name == what).then(|| number.parse().ok()).flatten()
                })
                .unwrap_or_else(|| panic!("no `{what}` count in `{list}`"))
        };
        let requests = line("requests: ");
        let statuses = line("status codes: ");
        H2loadCounts {
            total: count(requests, "total"),
            started: count(requests, "started"),
            succeeded: count(requests, "succeeded"),
            failed: count(requests, "failed"),
            errored: count(requests, "errored"),
            status_2xx: count(statuses, "2xx"),
        }
    }
}

/// h2load drives unary calls over 8 connections × 16 streams while the server shuts
/// down. h2load checks only HTTP statuses, so the server's own counts carry the rest:
/// - every stream the server answered (HEADERS received, counted as 2xx) completed
///   cleanly: `2xx == succeeded`, and no answer was anything but 2xx;
/// - no handler was cut, and every handler that finished reached h2load intact:
///   `cancelled == 0` and `finished == succeeded` (a Trailers-Only error would be a
///   2xx that no handler finished);
/// - the rest of h2load's calls are ones the server never accepted: refused by the
///   final GOAWAY, or sent to the closed port; h2load counts them as errored.
#[tokio::test]
async fn under_h2load_every_call_the_server_accepted_completes() {
    const CALLS: u64 = 1_000_000;
    let h2load = tools::h2load();
    let mut running = server_with(Server::builder()).await;
    let service = running.service.clone();
    let body = tempfile::NamedTempFile::new().unwrap();
    // A few milliseconds each, so that many calls are in flight at the shutdown.
    let request = EchoRequest {
        sleep_ms: 2,
        ..text("load")
    };
    std::fs::write(body.path(), message(&request)).unwrap();
    let mut load = tokio::process::Command::new(&h2load)
        .args([
            "-n",
            &CALLS.to_string(),
            "-c",
            "8",
            "-m",
            "16",
            "-t",
            "1",
            "-d",
        ])
        .arg(body.path())
        .args(["-H", "content-type: application/grpc", "-H", "te: trailers"])
        .arg(format!("http://{}/e2e.Echo/Unary", running.addr))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let warmed_up = async {
        while service.finished_unary() < 10_000 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), warmed_up)
        .await
        .expect("h2load's calls reach the server");
    running.trigger_shutdown();
    running.finished_within(PATIENCE).await;
    let stdout = load.stdout.take().unwrap();
    let output = tokio::time::timeout(Duration::from_secs(60), async {
        let mut text = String::new();
        tokio::io::BufReader::new(stdout)
            .read_to_string(&mut text)
            .await
            .unwrap();
        load.wait().await.unwrap();
        text
    })
    .await
    .expect("h2load ends once the server has gone");
    let counts = H2loadCounts::parse(&output);
    let finished = service.finished_unary() as u64;
    eprintln!("h2load: {counts:?}; server: {finished} finished");
    assert!(
        counts.succeeded < counts.total,
        "the shutdown came mid-run: {counts:?}"
    );
    assert_eq!(counts.status_2xx, counts.succeeded, "{output}");
    assert_eq!(counts.failed, counts.errored, "non-2xx answers: {output}");
    assert_eq!(service.cancelled(), 0, "handlers cut: {counts:?}");
    assert_eq!(finished, counts.succeeded, "{output}");
    assert!(counts.started >= counts.succeeded, "{counts:?}");
}
