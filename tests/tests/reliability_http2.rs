//! Hostile HTTP/2 input (the HTTP/2 rows of `tests/RELIABILITY.md`): each row gets the
//! right gRPC status, HTTP/2 error or GOAWAY, never a crash, a hang or unbounded
//! memory, and the server answers normal calls over HTTP/2 and HTTP/1.1 afterwards.
//!
//! Frames no HTTP/2 library would send are written by `rsrpc_tests::h2_raw`; rows that
//! need a decoded response use the `h2` client, or the harness's `raw_call` (hyper).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use prost::Message;
use rsrpc::{BoxStream, Request, Response, Server, Status, Streaming};
use rsrpc_tests::e2e::echo_client::EchoClient;
use rsrpc_tests::e2e::echo_server::{Echo, EchoServer};
use rsrpc_tests::e2e::{EchoReply, EchoRequest};
use rsrpc_tests::echo::EchoService;
use rsrpc_tests::h2_client;
use rsrpc_tests::h2_raw::{self, RawConnection, Sent, error, flag, kind, setting, summary};
use rsrpc_tests::harness::{
    RawResponse, Serving, TestServer, default_server, frame, raw_call, text,
};
use tokio::sync::Notify;

/// Liveness bound: every answer a test waits for must come within this.
const LIVENESS: Duration = Duration::from_secs(10);

const UNARY: &str = "/e2e.Echo/Unary";

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Checks that the server answers a unary call over HTTP/2 and over HTTP/1.1, each on a
/// new connection.
async fn assert_still_serves(server: &TestServer) {
    assert_serves(server.addr).await;
}

/// [`assert_still_serves`] for a server known by its address.
async fn assert_serves(addr: SocketAddr) {
    let url = format!("http://{addr}");
    let http2 = EchoClient::connect(url.clone()).await.unwrap();
    let channel = rsrpc::Channel::builder(url)
        .unwrap()
        .http_version(rsrpc::transport::HttpVersion::Http1)
        .connect()
        .await
        .unwrap();
    let http1 = EchoClient::new(channel);
    for (client, version) in [(http2, "HTTP/2"), (http1, "HTTP/1.1")] {
        let reply = tokio::time::timeout(LIVENESS, client.unary(text("still here")))
            .await
            .unwrap_or_else(|_| panic!("no answer over {version}"))
            .unwrap_or_else(|status| panic!("the call over {version} failed: {status:?}"));
        assert_eq!(reply.get_ref().text, "still here", "over {version}");
    }
}

/// `raw_call` within the liveness bound.
async fn call(
    server: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> RawResponse {
    tokio::time::timeout(LIVENESS, raw_call(server.addr, path, headers, body))
        .await
        .expect("the server answers")
}

const GRPC_HEADERS: [(&str, &str); 2] = [("content-type", "application/grpc"), ("te", "trailers")];

/// The `grpc-message` of a response, from its trailers or Trailers-Only headers.
fn grpc_message(response: &RawResponse) -> String {
    response
        .trailers
        .as_ref()
        .and_then(|trailers| trailers.get("grpc-message"))
        .or_else(|| response.head.headers.get("grpc-message"))
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .unwrap_or_default()
}

/// A test service that counts what the transport makes it do: unary calls in flight at
/// once (the rest is [`EchoService`]), and server-stream messages produced, which only
/// happens as fast as the transport pulls them.
#[derive(Clone, Default)]
struct Counting {
    inner: EchoService,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Server-stream messages produced.
    produced: AtomicUsize,
    /// Server-stream message streams dropped (ended or abandoned).
    streams_dropped: AtomicUsize,
    changed: Notify,
}

impl Counts {
    async fn wait_streams_dropped(&self, count: usize) {
        loop {
            let changed = self.changed.notified();
            if self.streams_dropped.load(Ordering::SeqCst) >= count {
                return;
            }
            changed.await;
        }
    }
}

/// Decrements the calls in flight when dropped.
struct InFlight(Arc<Counts>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts a dropped message stream when dropped.
struct StreamAlive(Arc<Counts>);

impl Drop for StreamAlive {
    fn drop(&mut self) {
        self.0.streams_dropped.fetch_add(1, Ordering::SeqCst);
        self.0.changed.notify_waiters();
    }
}

impl Echo for Counting {
    async fn unary(&self, request: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        let now = self.counts.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.counts.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let _in_flight = InFlight(Arc::clone(&self.counts));
        self.inner.unary(request).await
    }

    type ServerStreamStream = BoxStream<EchoReply>;

    /// `count` messages of `reply_size` bytes, each made only when the transport asks.
    async fn server_stream(
        &self,
        request: Request<EchoRequest>,
    ) -> Result<Response<Self::ServerStreamStream>, Status> {
        let request = request.into_inner();
        let alive = StreamAlive(Arc::clone(&self.counts));
        let size = request.reply_size as usize;
        let replies = (0..request.count).map(move |_| {
            alive.0.produced.fetch_add(1, Ordering::SeqCst);
            Ok(EchoReply {
                payload: vec![7; size],
                ..EchoReply::default()
            })
        });
        let stream: Self::ServerStreamStream = Box::pin(tokio_stream::iter(replies));
        Ok(Response::new(stream))
    }

    async fn client_stream(
        &self,
        request: Request<Streaming<EchoRequest>>,
    ) -> Result<Response<EchoReply>, Status> {
        self.inner.client_stream(request).await
    }

    type BidiStream = <EchoService as Echo>::BidiStream;

    async fn bidi(
        &self,
        request: Request<Streaming<EchoRequest>>,
    ) -> Result<Response<Self::BidiStream>, Status> {
        self.inner.bidi(request).await
    }
}

/// A server of a [`Counting`] service; shuts down when dropped.
struct CountingServer {
    addr: SocketAddr,
    counts: Arc<Counts>,
    _serving: Serving,
}

async fn counting_server() -> CountingServer {
    let service = Counting::default();
    let counts = Arc::clone(&service.counts);
    let serving = Serving::start(Server::builder().add_service(EchoServer::new(service))).await;
    CountingServer {
        addr: serving.addr,
        counts,
        _serving: serving,
    }
}

/// The server's default limit on concurrent streams per connection.
const MAX_CONCURRENT_STREAMS: usize = 200;

// ---------------------------------------------------------------------------------------
// 1. Rapid reset (CVE-2023-44487)
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn rapid_reset_of_20_000_streams_gets_goaway_enhance_your_calm() {
    let server = default_server().await;
    let mut attacker = RawConnection::open(server.addr, &[]).await;
    let block = h2_raw::request_headers(UNARY, &[]);
    let mut pairs_sent = 0;
    'flood: for batch in 0..20u32 {
        let mut bytes = Vec::new();
        for i in 0..1_000 {
            let stream = 2 * (batch * 1_000 + i) + 1;
            h2_raw::push_frame(&mut bytes, kind::HEADERS, flag::END_HEADERS, stream, &block);
            bytes.extend(h2_raw::rst_stream(stream, error::CANCEL));
        }
        match attacker.send_until_stalled(&bytes, LIVENESS).await {
            Sent::All => pairs_sent += 1_000,
            // The server hung up: the rest cannot be sent.
            Sent::Failed { .. } => break 'flood,
            Sent::Stalled { written } => panic!("the server stopped reading at {written}"),
        }
    }
    let seen = attacker.wait_for(LIVENESS, |seen| seen.closed).await;
    // h2 lets 20 streams be reset before the server accepts them; past that the
    // connection is told to go away.
    let goaway = seen
        .goaway()
        .unwrap_or_else(|| panic!("{}", summary(&seen)));
    assert_eq!(goaway.code, error::ENHANCE_YOUR_CALM, "{}", summary(&seen));
    assert_eq!(goaway.debug, "too_many_resets");
    assert!(
        seen.headers.len() < 1_000,
        "the server answered most of the {pairs_sent} reset streams: {}",
        summary(&seen)
    );
    assert_still_serves(&server).await;
}

// ---------------------------------------------------------------------------------------
// 2. Ten thousand streams on one connection
// ---------------------------------------------------------------------------------------

/// Fails at the time of writing: rsrpc's HTTP/2 client (h2 used directly) assumes no
/// stream limit until the server's SETTINGS arrive, so it opens thousands of streams at
/// once; the server refuses all past 200, and after 1,024 refusals h2 sends GOAWAY
/// (ENHANCE_YOUR_CALM) and every call fails. hyper's client starts from 100 streams
/// until it knows the server's limit (`initial_max_send_streams`).
#[tokio::test]
async fn ten_thousand_concurrent_calls_on_one_connection_all_complete() {
    let server = counting_server().await;
    let client = EchoClient::connect(format!("http://{}", server.addr))
        .await
        .unwrap();
    // All 10,000 start at once on the new connection, as a busy client's first calls do.
    let calls: Vec<_> = (0..10_000)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                let request = EchoRequest {
                    sleep_ms: 5,
                    ..text(&format!("call {i}"))
                };
                let reply = client.unary(request).await?.into_inner();
                assert_eq!(reply.text, format!("call {i}"));
                Ok::<_, Status>(())
            })
        })
        .collect();
    let all = async {
        let mut failures = std::collections::BTreeMap::<String, usize>::new();
        for call in calls {
            if let Err(status) = call.await.unwrap() {
                let key = format!("{:?}: {}", status.code(), status.message());
                *failures.entry(key).or_default() += 1;
            }
        }
        failures
    };
    let failures = tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .expect("10,000 calls finish");
    assert!(failures.is_empty(), "calls failed: {failures:#?}");
    // One connection, so the server's stream limit caps the handlers running at once.
    let max = server.counts.max_in_flight.load(Ordering::SeqCst);
    assert!(
        (1..=MAX_CONCURRENT_STREAMS).contains(&max),
        "{max} calls ran at once"
    );
    assert_serves(server.addr).await;
}

#[tokio::test]
async fn streams_past_max_concurrent_are_refused_then_the_connection_is_closed() {
    let server = default_server().await;
    let mut attacker = RawConnection::open(server.addr, &[]).await;
    // 10,000 requests whose bodies never come: each stream stays open.
    let block = h2_raw::request_headers(UNARY, &[]);
    for batch in 0..10u32 {
        let mut bytes = Vec::new();
        for i in 0..1_000 {
            let stream = 2 * (batch * 1_000 + i) + 1;
            h2_raw::push_frame(&mut bytes, kind::HEADERS, flag::END_HEADERS, stream, &block);
        }
        if let Sent::Failed { .. } = attacker.send_until_stalled(&bytes, LIVENESS).await {
            break;
        }
    }
    let seen = attacker.wait_for(LIVENESS, |seen| seen.closed).await;
    let refused: Vec<u32> = seen
        .resets
        .iter()
        .filter(|(_, code)| *code == error::REFUSED_STREAM)
        .map(|(stream, _)| *stream)
        .collect();
    // The first 200 streams (ids 1..=399) are accepted, the next ones refused...
    let last_accepted = 2 * MAX_CONCURRENT_STREAMS as u32 - 1;
    assert!(!refused.is_empty(), "{}", summary(&seen));
    assert!(
        refused.iter().all(|stream| *stream > last_accepted),
        "an accepted stream was refused: {}",
        summary(&seen)
    );
    // ... until h2's limit of 1,024 locally reset streams per connection is reached,
    // when the connection is told to go away.
    assert_eq!(refused.len(), 1_024, "{}", summary(&seen));
    let goaway = seen
        .goaway()
        .unwrap_or_else(|| panic!("{}", summary(&seen)));
    assert_eq!(goaway.code, error::ENHANCE_YOUR_CALM, "{}", summary(&seen));
    assert_eq!(goaway.debug, "too_many_internal_resets");
    assert_eq!(goaway.last_stream, last_accepted, "{}", summary(&seen));
    assert_still_serves(&server).await;
}

// ---------------------------------------------------------------------------------------
// 3. SETTINGS, PING and CONTINUATION floods
// ---------------------------------------------------------------------------------------

/// How many frames the reading floods send.
const FLOOD: usize = 100_000;

#[tokio::test]
async fn settings_flood_is_acknowledged_frame_by_frame_and_the_connection_lives() {
    let server = default_server().await;
    let mut attacker = RawConnection::open(server.addr, &[]).await;
    let one = h2_raw::settings(&[(setting::ENABLE_PUSH, 0)]);
    for _ in 0..FLOOD / 10_000 {
        attacker.send(&one.repeat(10_000)).await.unwrap();
    }
    // One ACK per SETTINGS frame, the handshake's included.
    let seen = attacker
        .wait_for(LIVENESS, |seen| {
            seen.settings_acks > FLOOD || seen.closed || !seen.goaways.is_empty()
        })
        .await;
    assert_eq!(seen.settings_acks, FLOOD + 1, "{}", summary(&seen));
    attacker.assert_alive(7).await;
    assert_still_serves(&server).await;
}

#[tokio::test]
async fn ping_flood_is_answered_ping_by_ping_and_the_connection_lives() {
    let server = default_server().await;
    let mut attacker = RawConnection::open(server.addr, &[]).await;
    for batch in 0..FLOOD / 10_000 {
        let pings: Vec<u8> = (0..10_000)
            .flat_map(|i| h2_raw::ping((batch * 10_000 + i) as u64))
            .collect();
        attacker.send(&pings).await.unwrap();
    }
    let seen = attacker
        .wait_for(LIVENESS, |seen| {
            seen.ping_acks >= FLOOD || seen.closed || !seen.goaways.is_empty()
        })
        .await;
    assert_eq!(seen.ping_acks, FLOOD, "{}", summary(&seen));
    assert_eq!(
        seen.last_ping_ack,
        Some(FLOOD as u64 - 1),
        "answered in order"
    );
    attacker.assert_alive(u64::MAX).await;
    assert_still_serves(&server).await;
}

/// Floods `frame` on a connection that reads nothing, with small socket buffers, until
/// the server stops reading; returns the bytes written and how the last write ended.
/// At most `max_bytes` are written.
async fn flood_without_reading(
    attacker: &mut RawConnection,
    frame: &[u8],
    max_bytes: usize,
) -> (usize, Sent) {
    let chunk = frame.repeat(1024 * 1024 / frame.len());
    let mut total = 0;
    while total < max_bytes {
        match attacker
            .send_until_stalled(&chunk, Duration::from_secs(1))
            .await
        {
            Sent::All => total += chunk.len(),
            Sent::Stalled { written } => return (total + written, Sent::Stalled { written }),
            failed @ Sent::Failed { .. } => return (total, failed),
        }
    }
    (total, Sent::All)
}

/// The largest flood a peer that never reads gets to write before the server stops
/// reading: far below this, or the server would be buffering its answers.
const UNREAD_FLOOD_LIMIT: usize = 256 * 1024 * 1024;

#[tokio::test]
async fn settings_flood_from_a_peer_that_never_reads_only_stalls_its_own_connection() {
    let server = default_server().await;
    let mut attacker = RawConnection::open_unread(server.addr, &[], Some(4096)).await;
    let one = h2_raw::settings(&[(setting::ENABLE_PUSH, 0)]);
    let (written, sent) = flood_without_reading(&mut attacker, &one, UNREAD_FLOOD_LIMIT).await;
    assert!(
        matches!(sent, Sent::Stalled { .. }),
        "the server kept reading {written} bytes of SETTINGS: {sent:?}"
    );
    eprintln!("SETTINGS flood stalled after {written} bytes");
    // The stalled connection holds only its own task.
    assert_still_serves(&server).await;
    // Once the peer reads, the server catches up and the connection works.
    attacker.start_reading();
    let seen = attacker
        .wait_for(LIVENESS, |seen| seen.settings_acks > 0 || seen.closed)
        .await;
    assert!(!seen.closed, "{}", summary(&seen));
    drop(attacker);
    assert_still_serves(&server).await;
}

#[tokio::test]
async fn ping_flood_from_a_peer_that_never_reads_only_stalls_its_own_connection() {
    let server = default_server().await;
    let mut attacker = RawConnection::open_unread(server.addr, &[], Some(4096)).await;
    let (written, sent) =
        flood_without_reading(&mut attacker, &h2_raw::ping(1), UNREAD_FLOOD_LIMIT).await;
    assert!(
        matches!(sent, Sent::Stalled { .. }),
        "the server kept reading {written} bytes of PINGs: {sent:?}"
    );
    eprintln!("PING flood stalled after {written} bytes");
    assert_still_serves(&server).await;
    attacker.start_reading();
    let seen = attacker
        .wait_for(LIVENESS, |seen| seen.ping_acks > 0 || seen.closed)
        .await;
    assert!(!seen.closed, "{}", summary(&seen));
    drop(attacker);
    assert_still_serves(&server).await;
}

/// Opens stream 1 with a HEADERS frame without END_HEADERS, then sends up to 10,000
/// CONTINUATION frames without END_HEADERS, each carrying `fragment`.
async fn continuation_flood(server: &TestServer, fragment: &[u8]) -> h2_raw::Observed {
    let mut attacker = RawConnection::open(server.addr, &[]).await;
    let block = h2_raw::request_headers(UNARY, &[]);
    let headers = h2_raw::frame(kind::HEADERS, 0, 1, &block);
    attacker.send(&headers).await.unwrap();
    let batch = h2_raw::frame(kind::CONTINUATION, 0, 1, fragment).repeat(100);
    for _ in 0..100 {
        match attacker.send_until_stalled(&batch, LIVENESS).await {
            Sent::All => {}
            Sent::Failed { .. } => break,
            Sent::Stalled { written } => panic!("the server stopped reading at {written}"),
        }
    }
    attacker.wait_for(LIVENESS, |seen| seen.closed).await
}

#[tokio::test]
async fn continuation_flood_gets_goaway_enhance_your_calm_and_a_closed_connection() {
    let server = default_server().await;
    // Frames carrying header fields, which would grow the header list without bound.
    let field = h2_raw::literal("x-flood", &[b'a'; 1000]);
    let seen = continuation_flood(&server, &field).await;
    let goaway = seen
        .goaway()
        .unwrap_or_else(|| panic!("{}", summary(&seen)));
    assert_eq!(goaway.code, error::ENHANCE_YOUR_CALM, "{}", summary(&seen));
    assert_eq!(goaway.debug, "too_many_continuations");
    assert!(seen.headers.is_empty(), "{}", summary(&seen));
    assert_still_serves(&server).await;
}

#[tokio::test]
async fn empty_continuation_flood_gets_goaway_enhance_your_calm_and_a_closed_connection() {
    let server = default_server().await;
    // Empty frames, which cost the server work but no header bytes.
    let seen = continuation_flood(&server, &[]).await;
    let goaway = seen
        .goaway()
        .unwrap_or_else(|| panic!("{}", summary(&seen)));
    assert_eq!(goaway.code, error::ENHANCE_YOUR_CALM, "{}", summary(&seen));
    assert_eq!(goaway.debug, "too_many_continuations");
    assert_still_serves(&server).await;
}

#[tokio::test]
async fn tiny_data_frame_flood_gets_goaway_enhance_your_calm() {
    let server = default_server().await;
    let mut attacker = RawConnection::open(server.addr, &[]).await;
    let block = h2_raw::request_headers("/e2e.Echo/ClientStream", &[]);
    let mut bytes = h2_raw::frame(kind::HEADERS, flag::END_HEADERS, 1, &block);
    // 20,000 DATA frames of 8 bytes, each a whole request message: 160 KB, well inside
    // the flow-control window, but framing overhead far beyond the payload.
    let message = frame(false, &text("x").encode_to_vec());
    for _ in 0..20_000 {
        h2_raw::push_frame(&mut bytes, kind::DATA, 0, 1, &message);
    }
    h2_raw::push_frame(&mut bytes, kind::DATA, flag::END_STREAM, 1, &[]);
    if let Sent::Stalled { written } = attacker.send_until_stalled(&bytes, LIVENESS).await {
        panic!("the server stopped reading at {written}");
    }
    let seen = attacker
        .wait_for(LIVENESS, |seen| seen.closed || seen.stream_ended(1))
        .await;
    // h2 budgets the overhead of small DATA frames still buffered: about 2,100 frames of
    // this size with hyper's 1 MiB connection window.
    let goaway = seen
        .goaway()
        .unwrap_or_else(|| panic!("{}", summary(&seen)));
    assert_eq!(goaway.code, error::ENHANCE_YOUR_CALM, "{}", summary(&seen));
    assert_eq!(goaway.debug, "too_many_data_frames");
    assert!(seen.closed, "{}", summary(&seen));
    assert_still_serves(&server).await;
}

// ---------------------------------------------------------------------------------------
// 4. Huge headers
// ---------------------------------------------------------------------------------------

/// A unary request with one `x-big` header of `size` bytes, over the `h2` client.
fn big_header_request(size: usize) -> http::Request<()> {
    let mut request = h2_client::grpc_head(UNARY);
    let value = http::HeaderValue::from_str(&"a".repeat(size)).unwrap();
    request.headers_mut().insert("x-big", value);
    request
}

#[tokio::test]
async fn header_list_just_over_the_limit_gets_431_and_the_connection_lives() {
    let server = default_server().await;
    let (mut sender, _connection) =
        h2_client::connect(server.addr, &h2::client::Builder::new()).await;
    let hello = frame(false, &text("hello").encode_to_vec());
    // A normal call first: the SETTINGS exchange is over when the big one goes out.
    let ok = h2_client::unary(&mut sender, h2_client::grpc_head(UNARY), hello.clone()).await;
    assert_eq!(ok.unwrap(), (http::StatusCode::OK, Some("0".to_owned())));
    // 20 KiB of headers, over the 16 KiB SETTINGS_MAX_HEADER_LIST_SIZE.
    let answer = h2_client::unary(&mut sender, big_header_request(20 * 1024), hello.clone()).await;
    match answer {
        Ok((status, grpc_status)) => {
            assert_eq!(status, http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
            assert_eq!(grpc_status, None);
        }
        // The RST_STREAM that follows the 431 may overtake it in the client.
        Err(error) => assert_eq!(error.reason(), Some(h2::Reason::PROTOCOL_ERROR), "{error}"),
    }
    // The same connection still carries calls.
    let ok = h2_client::unary(&mut sender, h2_client::grpc_head(UNARY), hello).await;
    assert_eq!(ok.unwrap(), (http::StatusCode::OK, Some("0".to_owned())));

    // Frame by frame: a HEADERS with END_STREAM (the 431), then RST_STREAM.
    let mut raw = RawConnection::open(server.addr, &[]).await;
    let big = vec![b'a'; 20 * 1024];
    let block = h2_raw::request_headers(UNARY, &[("x-big", &big)]);
    let (first, rest) = block.split_at(16 * 1024);
    let mut bytes = h2_raw::frame(kind::HEADERS, 0, 1, first);
    h2_raw::push_frame(&mut bytes, kind::CONTINUATION, flag::END_HEADERS, 1, rest);
    raw.send(&bytes).await.unwrap();
    let seen = raw
        .wait_for(LIVENESS, |seen| !seen.resets.is_empty() || seen.closed)
        .await;
    assert_eq!(seen.headers, [1], "{}", summary(&seen));
    assert!(seen.stream_ended(1), "{}", summary(&seen));
    assert_eq!(
        seen.resets,
        [(1, error::PROTOCOL_ERROR)],
        "{}",
        summary(&seen)
    );
    raw.assert_alive(1).await;
    assert_still_serves(&server).await;
}

#[tokio::test]
async fn header_list_far_over_the_limit_gets_goaway_enhance_your_calm() {
    let server = default_server().await;
    let (mut sender, _connection) =
        h2_client::connect(server.addr, &h2::client::Builder::new()).await;
    let hello = frame(false, &text("hello").encode_to_vec());
    let ok = h2_client::unary(&mut sender, h2_client::grpc_head(UNARY), hello.clone()).await;
    assert_eq!(ok.unwrap(), (http::StatusCode::OK, Some("0".to_owned())));
    // 1 MiB of headers: 64 frames of 16 KiB, past h2's allowance of CONTINUATION frames.
    let error = h2_client::unary(&mut sender, big_header_request(1024 * 1024), hello)
        .await
        .expect_err("the server answered a 1 MiB header list");
    assert!(error.is_go_away(), "{error:?}");
    assert_eq!(
        error.reason(),
        Some(h2::Reason::ENHANCE_YOUR_CALM),
        "{error}"
    );
    assert_still_serves(&server).await;
}

// ---------------------------------------------------------------------------------------
// 5.–10. Hostile gRPC messages
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn length_prefix_of_4_gib_is_resource_exhausted_before_the_payload_arrives() {
    let server = default_server().await;
    let (sender, _connection) = h2_client::connect(server.addr, &h2::client::Builder::new()).await;
    let (response, mut stream) = sender
        .ready()
        .await
        .unwrap()
        .send_request(h2_client::grpc_head(UNARY), false)
        .unwrap();
    // The 5-byte prefix only, and the request stream left open: the answer must not
    // wait for (or make room for) the 4 GiB promised.
    stream
        .send_data(Bytes::from_static(&[0, 0xff, 0xff, 0xff, 0xff]), false)
        .unwrap();
    let response = tokio::time::timeout(LIVENESS, response)
        .await
        .expect("the server answers while the request is still open")
        .unwrap();
    assert_eq!(response.status(), http::StatusCode::OK);
    let headers = response.headers();
    assert_eq!(headers["grpc-status"], "8", "{headers:?}");
    let message = headers["grpc-message"].to_str().unwrap();
    assert!(message.contains("4294967295 bytes"), "{message}");
    assert_still_serves(&server).await;
}

#[tokio::test]
async fn message_cut_short_by_end_stream_is_internal() {
    let server = default_server().await;
    // The prefix promises 100 bytes; 10 come, then END_STREAM.
    let mut body = vec![0, 0, 0, 0, 100];
    body.extend_from_slice(&[0; 10]);
    let response = call(&server, UNARY, &GRPC_HEADERS, body.into()).await;
    assert_eq!(response.grpc_status(), Some("13"), "{response:?}");
    assert!(
        grpc_message(&response).contains("ended in the middle of a message"),
        "{response:?}"
    );
    assert_still_serves(&server).await;
}

#[tokio::test]
async fn malformed_grpc_timeouts_are_invalid_argument() {
    let server = default_server().await;
    let body = frame(false, &text("x").encode_to_vec());
    // Empty, no unit, nine digits, a sign, an unknown unit, a non-ASCII digit.
    for timeout in ["", "1", "123456789S", "-1S", "1x", "\u{ff11}S"] {
        let headers = [
            ("content-type", "application/grpc"),
            ("te", "trailers"),
            ("grpc-timeout", timeout),
        ];
        let response = call(&server, UNARY, &headers, body.clone()).await;
        assert_eq!(
            response.grpc_status(),
            Some("3"),
            "{timeout:?}: {response:?}"
        );
        assert!(
            grpc_message(&response).contains("invalid grpc-timeout"),
            "{timeout:?}: {response:?}"
        );
    }
    assert_still_serves(&server).await;
}

#[tokio::test]
async fn invalid_utf8_in_a_string_field_is_internal() {
    let server = default_server().await;
    // Field 1 (`text`), length 2, bytes that are not UTF-8.
    let message = [0x0a, 0x02, 0xc3, 0x28];
    let response = call(&server, UNARY, &GRPC_HEADERS, frame(false, &message)).await;
    assert_eq!(response.grpc_status(), Some("13"), "{response:?}");
    let text = grpc_message(&response);
    assert!(text.contains("failed to decode message"), "{text}");
    assert!(text.contains("UTF-8"), "{text}");
    assert_still_serves(&server).await;
}

#[tokio::test]
async fn groups_nested_10_000_deep_are_internal_not_a_stack_overflow() {
    let server = default_server().await;
    // Unknown field 9 as a group (start tag 9<<3|3), 10,000 deep, then the end tags:
    // prost skips unknown groups recursively, up to its limit of 100.
    let depth = 10_000;
    let mut message = vec![0x4b; depth];
    message.extend(std::iter::repeat_n(0x4c, depth));
    let response = call(&server, UNARY, &GRPC_HEADERS, frame(false, &message)).await;
    assert_eq!(response.grpc_status(), Some("13"), "{response:?}");
    let text = grpc_message(&response);
    assert!(text.contains("recursion limit"), "{text}");
    assert_still_serves(&server).await;
}

#[tokio::test]
async fn gzip_bomb_of_64_mib_is_resource_exhausted() {
    use std::io::Write;

    let server = default_server().await;
    let bomb = EchoRequest {
        payload: vec![0; 64 * 1024 * 1024],
        ..text("bomb")
    };
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(&bomb.encode_to_vec()).unwrap();
    let compressed = gzip.finish().unwrap();
    drop(bomb);
    assert!(compressed.len() < 256 * 1024, "{} bytes", compressed.len());
    let headers = [
        ("content-type", "application/grpc"),
        ("te", "trailers"),
        ("grpc-encoding", "gzip"),
    ];
    let response = call(&server, UNARY, &headers, frame(true, &compressed)).await;
    assert_eq!(response.grpc_status(), Some("8"), "{response:?}");
    let text = grpc_message(&response);
    assert!(text.contains("decompressed message is larger"), "{text}");
    assert_still_serves(&server).await;
}

// ---------------------------------------------------------------------------------------
// 11. Zero flow-control window
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn zero_window_reader_holds_one_message_not_the_stream() {
    let server = counting_server().await;
    let mut builder = h2::client::Builder::new();
    builder.initial_window_size(0);
    let (sender, connection) = h2_client::connect(server.addr, &builder).await;
    let (response, mut stream) = sender
        .clone()
        .ready()
        .await
        .unwrap()
        .send_request(h2_client::grpc_head("/e2e.Echo/ServerStream"), false)
        .unwrap();
    // 100 messages of 1 MB: 100 MB the client will never read.
    let request = EchoRequest {
        count: 100,
        reply_size: 1_000_000,
        ..EchoRequest::default()
    };
    stream
        .send_data(frame(false, &request.encode_to_vec()), true)
        .unwrap();
    let response = tokio::time::timeout(LIVENESS, response)
        .await
        .expect("the response head needs no window")
        .unwrap();
    assert_eq!(response.status(), http::StatusCode::OK);
    // While the stream is stuck, other connections are served.
    assert_serves(server.addr).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // hyper pulls one body frame and waits for window before the next: one message is
    // made, not 100.
    let produced = server.counts.produced.load(Ordering::SeqCst);
    assert!(
        produced <= 2,
        "{produced} messages of 1 MB made for a zero window"
    );
    assert_eq!(server.counts.streams_dropped.load(Ordering::SeqCst), 0);
    // The client goes away: the server drops the stream.
    drop((response, stream, sender, connection));
    tokio::time::timeout(LIVENESS, server.counts.wait_streams_dropped(1))
        .await
        .expect("the server drops the stream of a closed connection");
    assert_serves(server.addr).await;
}
