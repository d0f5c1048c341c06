//! gRPC-Web and Connect calls cut by the drain deadline end in their own protocol, over
//! HTTP/1.1 and HTTP/2: a call that has not answered gets its protocol's error answer,
//! and a stream under way ends with its last frame (gRPC-Web's `0x80` trailer frame,
//! Connect's end-of-stream message), since browsers cannot read HTTP trailers.

use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper_util::rt::{TokioExecutor, TokioIo};
use prost::Message;
use rsrpc::Server;
use rsrpc::server::{Cors, ServiceConfig};
use rsrpc::transport::HttpVersion;
use rsrpc_tests::e2e::EchoRequest;
use rsrpc_tests::echo::EchoService;
use rsrpc_tests::harness::{TestServer, frame, text};

/// How long a test waits for the server's answer.
const PATIENCE: Duration = Duration::from_secs(5);
const CUT_MESSAGE: &str = "server shutting down: drain deadline passed";

/// A request body's frames, sent as the test pushes them.
type Frames = tokio::sync::mpsc::Sender<Result<Frame<Bytes>, std::io::Error>>;

/// What a client read of a call cut by the drain deadline.
#[derive(Debug)]
struct Read {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    trailers: Option<HeaderMap>,
}

/// A call to `path` with the given head, whose body starts with `first`; `open` keeps
/// the body open (a stream) until the drain deadline has cut the call. The server's
/// drain begins once the call runs.
async fn cut_call(
    version: HttpVersion,
    builder: Server,
    (path, head): (&str, http::request::Builder),
    first: Bytes,
    open: bool,
) -> Read {
    let builder = builder.graceful_shutdown_timeout(Duration::from_millis(300));
    let mut server =
        TestServer::start_with(builder, EchoService::default(), ServiceConfig::default()).await;
    let (frames, receiver): (Frames, _) = tokio::sync::mpsc::channel(4);
    frames.send(Ok(Frame::data(first))).await.unwrap();
    let body = StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(receiver));
    let uri = format!("http://{}{path}", server.addr);
    let request = head.uri(uri).body(body).unwrap();
    let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let io = TokioIo::new(tcp);
    let response = match version {
        HttpVersion::Http1 => {
            let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
            tokio::spawn(connection);
            tokio::spawn(async move { sender.send_request(request).await })
        }
        _ => {
            let (mut sender, connection) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                    .await
                    .unwrap();
            tokio::spawn(connection);
            tokio::spawn(async move { sender.send_request(request).await })
        }
    };
    let frames = open.then_some(frames);
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.trigger_shutdown();
    let response = tokio::time::timeout(PATIENCE, response)
        .await
        .expect("the call is answered by the drain deadline")
        .unwrap()
        .unwrap();
    let (head, body) = response.into_parts();
    let collected = tokio::time::timeout(PATIENCE, body.collect())
        .await
        .expect("the answer ends by the drain deadline")
        .unwrap();
    drop(frames);
    Read {
        status: head.status,
        headers: head.headers,
        trailers: collected.trailers().cloned(),
        body: collected.to_bytes(),
    }
}

/// A POST to `path` with `content_type`.
fn post<'a>(path: &'a str, content_type: &str) -> (&'a str, http::request::Builder) {
    let head = http::Request::post(path).header("content-type", content_type);
    (path, head)
}

/// The length-prefixed frames of `body`: each one's flags and payload.
fn frames_of(mut body: &[u8]) -> Vec<(u8, Bytes)> {
    let mut frames = Vec::new();
    while body.len() >= 5 {
        let len = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
        let payload = Bytes::copy_from_slice(&body[5..5 + len]);
        frames.push((body[0], payload));
        body = &body[5 + len..];
    }
    assert!(body.is_empty(), "a frame is cut off: {body:?}");
    frames
}

/// A request message that the echo service answers after a minute.
fn endless() -> Bytes {
    EchoRequest {
        sleep_ms: 60_000,
        ..text("endless")
    }
    .encode_to_vec()
    .into()
}

/// Checks that a stream under way was answered once, then ended with its last frame of
/// `flag`, which holds `status_text`, and no HTTP trailers.
fn assert_ends_with_last_frame(read: &Read, body: &[u8], flag: u8, status_text: &str) {
    assert_eq!(read.status, StatusCode::OK, "{read:?}");
    assert!(
        read.trailers.as_ref().is_none_or(HeaderMap::is_empty),
        "the status went in HTTP trailers, which browsers do not read: {read:?}"
    );
    let frames = frames_of(body);
    assert_eq!(frames.len(), 2, "the echo, then the last frame: {read:?}");
    assert_eq!(frames[0].0, 0, "{read:?}");
    let (last_flag, last) = &frames[1];
    assert_eq!(*last_flag, flag, "{read:?}");
    let last = String::from_utf8_lossy(last).to_lowercase();
    assert!(last.contains(status_text), "{last}");
    assert!(last.contains(CUT_MESSAGE), "{last}");
}

#[tokio::test]
async fn a_grpc_web_stream_cut_by_the_drain_ends_with_its_trailer_frame() {
    for version in [HttpVersion::Http1, HttpVersion::Http2] {
        let head = post("/e2e.Echo/Bidi", "application/grpc-web+proto");
        let first = frame(false, &text("first").encode_to_vec());
        let read = cut_call(version, Server::builder(), head, first, true).await;
        let expected = "application/grpc-web+proto";
        assert_eq!(read.headers["content-type"], expected, "{read:?}");
        assert_ends_with_last_frame(&read, &read.body, 0x80, "grpc-status: 14");
    }
}

#[tokio::test]
async fn a_grpc_web_text_stream_cut_by_the_drain_ends_with_its_trailer_frame_in_base64() {
    for version in [HttpVersion::Http1, HttpVersion::Http2] {
        let head = post("/e2e.Echo/Bidi", "application/grpc-web-text");
        let first = frame(false, &text("first").encode_to_vec());
        let first = base64::engine::general_purpose::STANDARD.encode(first);
        let read = cut_call(version, Server::builder(), head, first.into(), true).await;
        // rsrpc pads only the end of the body.
        let body = base64::engine::general_purpose::STANDARD.decode(&read.body);
        let body = body.unwrap_or_else(|error| panic!("{error}: {read:?}"));
        assert_ends_with_last_frame(&read, &body, 0x80, "grpc-status: 14");
    }
}

#[tokio::test]
async fn a_connect_stream_cut_by_the_drain_ends_with_its_end_of_stream_message() {
    for version in [HttpVersion::Http1, HttpVersion::Http2] {
        let (path, head) = post("/e2e.Echo/Bidi", "application/connect+proto");
        let head = (path, head.header("connect-protocol-version", "1"));
        let first = frame(false, &text("first").encode_to_vec());
        let read = cut_call(version, Server::builder(), head, first, true).await;
        let expected = "application/connect+proto";
        assert_eq!(read.headers["content-type"], expected, "{read:?}");
        assert_ends_with_last_frame(&read, &read.body, 0x02, "\"code\":\"unavailable\"");
    }
}

#[tokio::test]
async fn a_grpc_web_call_cut_before_it_answers_gets_a_grpc_web_answer_a_browser_may_read() {
    for version in [HttpVersion::Http1, HttpVersion::Http2] {
        let (path, head) = post("/e2e.Echo/Unary", "application/grpc-web+proto");
        let head = (path, head.header("origin", "http://page.test"));
        let cors = Server::builder().cors(Cors::allow_origins(["http://page.test"]));
        let read = cut_call(version, cors, head, frame(false, &endless()), false).await;
        assert_eq!(read.status, StatusCode::OK, "{read:?}");
        let headers = &read.headers;
        assert_eq!(
            headers["content-type"], "application/grpc-web+proto",
            "{read:?}"
        );
        assert_eq!(headers["grpc-status"], "14", "{read:?}");
        assert_eq!(headers["grpc-message"], CUT_MESSAGE, "{read:?}");
        // The page's origin may read it, status included.
        assert_eq!(headers["access-control-allow-origin"], "http://page.test");
        let exposed = headers["access-control-expose-headers"].to_str().unwrap();
        assert!(exposed.contains("grpc-status"), "{read:?}");
    }
}

#[tokio::test]
async fn a_connect_unary_call_cut_before_it_answers_gets_a_connect_error() {
    for version in [HttpVersion::Http1, HttpVersion::Http2] {
        let (path, head) = post("/e2e.Echo/Unary", "application/proto");
        let head = (path, head.header("connect-protocol-version", "1"));
        let read = cut_call(version, Server::builder(), head, endless(), false).await;
        assert_eq!(read.status, StatusCode::SERVICE_UNAVAILABLE, "{read:?}");
        assert_eq!(read.headers["content-type"], "application/json", "{read:?}");
        let body = String::from_utf8_lossy(&read.body);
        assert!(body.contains("\"code\":\"unavailable\""), "{body}");
        assert!(body.contains(CUT_MESSAGE), "{body}");
    }
}

#[tokio::test]
async fn a_connect_stream_cut_before_it_answers_gets_only_its_end_of_stream_message() {
    for version in [HttpVersion::Http1, HttpVersion::Http2] {
        // The client keeps streaming: the service never answers.
        let (path, head) = post("/e2e.Echo/ClientStream", "application/connect+proto");
        let head = (path, head.header("connect-protocol-version", "1"));
        let first = frame(false, &text("first").encode_to_vec());
        let read = cut_call(version, Server::builder(), head, first, true).await;
        assert_eq!(read.status, StatusCode::OK, "{read:?}");
        let expected = "application/connect+proto";
        assert_eq!(read.headers["content-type"], expected, "{read:?}");
        let frames = frames_of(&read.body);
        assert_eq!(frames.len(), 1, "{read:?}");
        assert_eq!(frames[0].0, 0x02, "{read:?}");
        let end = String::from_utf8_lossy(&frames[0].1);
        assert!(end.contains("\"code\":\"unavailable\""), "{end}");
    }
}

#[tokio::test]
async fn a_fallback_request_cut_before_it_answers_gets_503() {
    let slow = axum::Router::new().route(
        "/slow",
        axum::routing::post(|| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            "late"
        }),
    );
    // A JSON POST could be a Connect call, but its path is no service's: the fallback's.
    for content_type in ["text/plain", "application/json"] {
        for version in [HttpVersion::Http1, HttpVersion::Http2] {
            let builder = Server::builder().fallback_service(slow.clone());
            let head = post("/slow", content_type);
            let read = cut_call(version, builder, head, Bytes::from_static(b"x"), false).await;
            assert_eq!(read.status, StatusCode::SERVICE_UNAVAILABLE, "{read:?}");
            assert_eq!(read.body, CUT_MESSAGE, "{read:?}");
        }
    }
}
