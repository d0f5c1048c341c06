//! Edge cases of gRPC-Web and Connect that a review found broken, each fixed: bodies
//! without a deadline or over their service's limit, hostile trailer blocks, calls cut by
//! the drain deadline, CORS for caches and for the fallback's paths, and replies past the
//! HTTP/1.1 buffer.

use std::net::SocketAddr;
use std::time::Duration;

use prost::Message;
use rsrpc::client::Protocol;
use rsrpc::codec::Format;
use rsrpc::server::{Cors, ServiceConfig};
use rsrpc::transport::HttpVersion;
use rsrpc::{Channel, Code, Server};
use rsrpc_tests::e2e::echo_client::EchoClient;
use rsrpc_tests::e2e::{EchoReply, EchoRequest};
use rsrpc_tests::echo::EchoService;
use rsrpc_tests::harness::{TestServer, default_server, http1_exchange, slow, text};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Writes `request` on a new connection, keeps the connection open (the request may be
/// incomplete on purpose), and returns what the server sends within `wait`.
async fn exchange_within(addr: SocketAddr, request: &[u8], wait: Duration) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(read)) => response.extend_from_slice(&buf[..read]),
        }
    }
    response
}

/// A gRPC frame.
fn frame(flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![flags];
    frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// A one-shot HTTP/1.1 server on 127.0.0.1 that answers every request with `response`
/// (head and body, raw) and closes the connection.
async fn canned_http1_server(response: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let response = response.clone();
            tokio::spawn(async move {
                // Read the request head (the body, if any, is not needed).
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => seen.extend_from_slice(&buf[..read]),
                    }
                }
                let _ = stream.write_all(&response).await;
                let _ = stream.flush().await;
                // Let the client read the response before the close.
                tokio::time::sleep(Duration::from_millis(500)).await;
            });
        }
    });
    addr
}

fn http1_response(content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(body);
    response
}

async fn web_client(addr: SocketAddr, protocol: Protocol) -> EchoClient {
    let channel = Channel::builder(format!("http://{addr}"))
        .unwrap()
        .protocol(protocol)
        .http_version(HttpVersion::Http1)
        .connect()
        .await
        .unwrap();
    EchoClient::new(channel)
}

/// More distinct names than an `http::HeaderMap` can hold (it panics past 24,576).
const MANY_NAMES: usize = 30_000;

// Was broken: a Connect unary POST's body is read whole before the call starts, outside the
// call's deadline: `connect-timeout-ms` does not bound it, so a client that stalls its
// body holds the call (and the connection) forever. A gRPC request with `grpc-timeout`
// is answered with DEADLINE_EXCEEDED when the deadline passes.
#[tokio::test]
async fn connect_timeout_ms_bounds_the_read_of_a_unary_body() {
    let server = default_server().await;
    // Control: gRPC over HTTP/1.1, the body stalled, gets its DEADLINE_EXCEEDED.
    let grpc = b"POST /e2e.Echo/Unary HTTP/1.1\r\nhost: x\r\ncontent-type: application/grpc\r\n\
                 te: trailers\r\ngrpc-timeout: 200m\r\ncontent-length: 100\r\n\r\n\0\0\0\0\x5f";
    let answer = exchange_within(server.addr, grpc, Duration::from_secs(3)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.contains("grpc-status: 4"), "gRPC: {answer:?}");

    // The same over Connect: a unary POST with connect-timeout-ms, the body stalled.
    let connect = b"POST /e2e.Echo/Unary HTTP/1.1\r\nhost: x\r\ncontent-type: application/proto\r\n\
                    connect-protocol-version: 1\r\nconnect-timeout-ms: 200\r\ncontent-length: 100\r\n\r\n\x0a";
    let answer = exchange_within(server.addr, connect, Duration::from_secs(3)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 504"),
        "Connect: no answer 3 s after a 200 ms deadline: {answer:?}"
    );
}

// Was broken: `grpc_web::read_trailers` appends every line of a response's trailer frame to an
// `http::HeaderMap`, which panics ("size overflows MAX_SIZE") past 24,576 distinct names.
// A server (or anything in the middle) sending a 420 kB trailer frame, well under the
// 4 MiB the client accepts for it, panics the task that reads the response.
#[tokio::test]
async fn a_grpc_web_trailer_frame_with_many_names_does_not_panic_the_client() {
    let mut block = String::from("grpc-status: 0\r\n");
    for index in 0..MANY_NAMES {
        block.push_str(&format!("x-t{index}: v\r\n"));
    }
    let mut body = frame(0, &EchoReply::default().encode_to_vec());
    body.extend_from_slice(&frame(0x80, block.as_bytes()));
    let addr = canned_http1_server(http1_response("application/grpc-web+proto", &body)).await;
    let client = web_client(addr, Protocol::GrpcWeb).await;
    let call = tokio::spawn(async move { client.unary(text("x")).await.map(drop) });
    let outcome = call.await;
    assert!(
        outcome.is_ok(),
        "the call panicked: {:?}",
        outcome.unwrap_err()
    );
}

// Was broken: the same in `connect::error::read_end_stream`: a Connect stream's end message
// whose `metadata` has more than 24,576 names panics the reading task.
#[tokio::test]
async fn a_connect_end_message_with_many_names_does_not_panic_the_client() {
    let mut metadata = serde_json::Map::new();
    for index in 0..MANY_NAMES {
        metadata.insert(format!("x-t{index}"), serde_json::json!(["v"]));
    }
    let end = serde_json::json!({ "metadata": metadata }).to_string();
    let body = frame(0x02, end.as_bytes());
    let addr = canned_http1_server(http1_response("application/connect+proto", &body)).await;
    let client = web_client(addr, Protocol::Connect).await;
    let call = tokio::spawn(async move {
        let mut stream = client.server_stream(text("x")).await?.into_inner();
        while stream.message().await?.is_some() {}
        Ok::<_, rsrpc::Status>(())
    });
    let outcome = call.await;
    assert!(
        outcome.is_ok(),
        "the call panicked: {:?}",
        outcome.unwrap_err()
    );
}

// Was broken (found by conformance v1.0.7): a gRPC-Web Trailers-Only answer has one header
// block, headers and trailers in one. A stream read it all as trailers, so its response
// metadata lacked the headers the server sent. A stream now sees the block both ways;
// a unary call's status carries it once.
#[tokio::test]
async fn a_grpc_web_trailers_only_answer_is_a_streams_headers_and_trailers() {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/grpc-web+proto\r\n\
                grpc-status: 16\r\ngrpc-message: no\r\nx-custom-header: foo\r\n\
                x-custom-trailer: bing\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
    let addr = canned_http1_server(head.as_bytes().to_vec()).await;
    let client = web_client(addr, Protocol::GrpcWeb).await;

    let response = client.server_stream(text("x")).await.unwrap();
    assert_eq!(response.metadata().get("x-custom-header").unwrap(), "foo");
    assert!(response.metadata().get("grpc-status").is_none());
    let status = response.into_inner().message().await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert_eq!(status.metadata().get("x-custom-trailer").unwrap(), "bing");

    let status = client.unary(text("x")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    for name in ["x-custom-header", "x-custom-trailer"] {
        assert_eq!(status.metadata().get_all(name).count(), 1, "{status:?}");
    }
}

fn draining_server_builder() -> Server {
    Server::builder().graceful_shutdown_timeout(Duration::from_millis(300))
}

// Was broken: a call still running when the drain deadline passes is answered by the transport
// with `cut_response()`, a plain gRPC Trailers-Only response (`application/grpc`,
// `grpc-status: 14` in the headers), bypassing the web translation. An rsrpc Connect
// channel over HTTP/2 takes that 200 with an `application/...` content type and an empty
// body for a successful reply: the cut call SUCCEEDS with a default message.
#[tokio::test]
async fn a_connect_unary_call_cut_by_the_drain_deadline_fails_unavailable() {
    let mut server = TestServer::start_with(
        draining_server_builder(),
        EchoService::default(),
        ServiceConfig::default(),
    )
    .await;
    let channel = Channel::builder(server.url())
        .unwrap()
        .protocol(Protocol::Connect)
        .format(Format::Proto)
        .http_version(HttpVersion::Http2)
        .connect()
        .await
        .unwrap();
    let client = EchoClient::new(channel);
    let call = tokio::spawn(async move { client.unary(slow(Duration::from_secs(5))).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.trigger_shutdown();
    let outcome = tokio::time::timeout(Duration::from_secs(4), call)
        .await
        .expect("the call ends by the drain deadline")
        .unwrap();
    match outcome {
        Ok(reply) => panic!(
            "a call cut by the drain succeeded: {:?}",
            reply.into_inner()
        ),
        Err(status) => assert_eq!(status.code(), Code::Unavailable, "{status:?}"),
    }
}

// Was broken: with a list of allowed origins, the response depends on the request's `Origin`,
// but only responses to allowed origins say `Vary: origin`. A cacheable response (a
// Connect GET, made for caches) to a request without `Origin`, or from another origin,
// lacks it, so a cache may hand it to an allowed origin's page without
// `access-control-allow-origin`, and the browser refuses it (Fetch standard, "CORS
// protocol and HTTP caches").
#[tokio::test]
async fn responses_that_depend_on_origin_say_vary_origin() {
    let server = TestServer::start_with(
        Server::builder().cors(Cors::allow_origins(["http://page.test"])),
        EchoService::default(),
        ServiceConfig::default(),
    )
    .await;
    let get = "GET /e2e.Echo/Unary?connect=v1&encoding=json&message=%7B%7D HTTP/1.1\r\n\
               host: x\r\nconnection: close\r\n";
    let allowed = http1_exchange(
        server.addr,
        format!("{get}origin: http://page.test\r\n\r\n").as_bytes(),
    )
    .await
    .to_ascii_lowercase();
    assert!(allowed.contains("vary: origin"), "{allowed}");
    for extra in ["", "origin: http://other.test\r\n"] {
        let answer = http1_exchange(server.addr, format!("{get}{extra}\r\n").as_bytes())
            .await
            .to_ascii_lowercase();
        assert!(answer.starts_with("http/1.1 200"), "{answer}");
        assert!(
            answer
                .lines()
                .any(|line| line.starts_with("vary:") && line.contains("origin")),
            "a response that depends on Origin without `vary: origin` ({extra:?}): {answer}"
        );
    }
}

// Was broken: the CORS policy answers every preflight, whatever its path: a preflight for a
// route of the fallback service (REST on the gRPC port) never reaches it, and is told
// that only POST and GET are allowed, so browsers refuse the REST route's PUT even
// though the fallback answers preflights itself.
#[tokio::test]
async fn preflights_for_paths_no_service_has_go_to_the_fallback() {
    let rest = axum::Router::new().route(
        "/rest/items",
        axum::routing::put(|| async { "put" }).options(|| async {
            (
                [
                    ("access-control-allow-origin", "http://page.test"),
                    ("access-control-allow-methods", "PUT"),
                ],
                "",
            )
        }),
    );
    let server = TestServer::start_with(
        Server::builder()
            .cors(Cors::allow_origins(["http://page.test"]))
            .fallback_service(rest),
        EchoService::default(),
        ServiceConfig::default(),
    )
    .await;
    let preflight = "OPTIONS /rest/items HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\
                     origin: http://page.test\r\naccess-control-request-method: PUT\r\n\r\n";
    let answer = http1_exchange(server.addr, preflight.as_bytes()).await;
    let methods = answer
        .lines()
        .find(|line| {
            line.to_ascii_lowercase()
                .starts_with("access-control-allow-methods")
        })
        .unwrap_or_default()
        .to_owned();
    assert!(
        methods.contains("PUT"),
        "the REST route's preflight was answered by the gRPC CORS policy: {answer}"
    );
}

// Was broken: a Connect unary response is not gRPC (no trailers: its status is the HTTP status),
// yet the HTTP/1.1 server holds it to the `http1_max_buffered_response` limit for a client
// without `te: trailers` (browsers, and rsrpc's own Connect channel, which drops `te`):
// past the limit the body is dropped and gRPC's RESOURCE_EXHAUSTED goes in the headers
// of a `200` with `content-length: 0`, which a Connect client reads as a successful,
// empty reply (and an HTTP cache keeps, for a GET).
#[tokio::test]
async fn a_connect_unary_reply_past_the_http1_buffer_limit_is_not_an_empty_success() {
    let server = TestServer::start_with(
        Server::builder().http1_max_buffered_response(1024),
        EchoService::default(),
        ServiceConfig::default(),
    )
    .await;
    let body = r#"{"text":"big","replySize":2000}"#;
    let request = format!(
        "POST /e2e.Echo/Unary HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\
         content-type: application/json\r\nconnect-protocol-version: 1\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = http1_exchange(server.addr, request.as_bytes()).await;
    let (head, reply) = answer.split_once("\r\n\r\n").unwrap();
    assert!(
        !head.starts_with("HTTP/1.1 200") || reply.contains(r#""text":"big""#),
        "a 200 without the reply: {head}\r\n\r\n{reply}"
    );
}

// Was broken: a Connect unary body is read whole up to the server's *default*
// `max_receive_message_size`, not the limit of the service it calls: a service that
// allows 8 MiB messages takes a 5 MiB one over gRPC but refuses it over Connect with
// RESOURCE_EXHAUSTED (and one that allows 1 KiB still has 4 MiB buffered per call).
#[tokio::test]
async fn a_connect_unary_body_is_limited_by_its_services_receive_limit() {
    let config = ServiceConfig::default().max_receive_message_size(8 << 20);
    let server = TestServer::start(EchoService::default(), config).await;
    let request = || EchoRequest {
        payload: vec![1; 5 << 20],
        reply_size: 1,
        ..text("big")
    };
    for protocol in [Protocol::Grpc, Protocol::Connect] {
        let channel = Channel::builder(server.url())
            .unwrap()
            .protocol(protocol)
            .connect()
            .await
            .unwrap();
        let outcome = EchoClient::new(channel).unary(request()).await;
        assert!(outcome.is_ok(), "{protocol:?}: {:?}", outcome.err());
    }
}
