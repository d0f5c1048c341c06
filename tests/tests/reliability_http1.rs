//! Hostile HTTP/1.1 requests (the HTTP/1.1 rows of `tests/RELIABILITY.md`): each gets a
//! clear answer or a closed connection, never a crash, a hang or unbounded memory, and
//! the server answers normal calls afterwards.

use prost::Message;
use rsrpc::Server;
use rsrpc::server::ServiceConfig;
use rsrpc_tests::e2e::EchoRequest;
use rsrpc_tests::echo::EchoService;
use rsrpc_tests::harness::{TestServer, default_server, frame, http1_attack, text};

/// Headers of a well-formed gRPC request over HTTP/1.1.
const GRPC: &str = "content-type: application/grpc\r\nte: trailers\r\n";

/// A chunked unary request whose trailer section is `trailers` (each line without CRLF).
fn with_trailers(trailers: impl Iterator<Item = String>) -> Vec<u8> {
    let message = frame(false, &text("hi").encode_to_vec());
    let mut request = format!(
        "POST /e2e.Echo/Unary HTTP/1.1\r\nhost: t\r\n{GRPC}transfer-encoding: chunked\r\n\r\n{:x}\r\n",
        message.len()
    )
    .into_bytes();
    request.extend_from_slice(&message);
    request.extend_from_slice(b"\r\n0\r\n");
    for line in trailers {
        request.extend_from_slice(line.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    request
}

/// A unary request with the given framing header lines and raw body, asking to close.
fn framed(framing: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST /e2e.Echo/Unary HTTP/1.1\r\nhost: t\r\n{GRPC}connection: close\r\n{framing}\r\n"
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// One chunk holding a unary request message, then the last chunk.
fn chunked_message() -> Vec<u8> {
    let message = frame(false, &text("hi").encode_to_vec());
    let mut body = format!("{:x}\r\n", message.len()).into_bytes();
    body.extend_from_slice(&message);
    body.extend_from_slice(b"\r\n0\r\n\r\n");
    body
}

/// Checks that the server answers a unary call over HTTP/2 and over HTTP/1.1.
async fn assert_still_serves(server: &TestServer) {
    for client in [server.client().await, server.http1_client(1).await] {
        let reply = client.unary(text("still here")).await.unwrap();
        assert_eq!(reply.get_ref().text, "still here");
    }
}

/// How many responses a raw exchange holds.
fn responses(raw: &str) -> usize {
    raw.matches("HTTP/1.1 ").count()
}

#[tokio::test]
async fn eight_thousand_trailer_lines_fail_the_call_not_the_process() {
    let server = default_server().await;
    let lines = (0..8_000).map(|_| "x-t: 1".to_owned());
    let answer = http1_attack(server.addr, with_trailers(lines)).await;
    assert!(answer.response.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert!(answer.response.contains("grpc-status: 8"), "{answer:?}");
    assert!(answer.response.contains("exceed 100 lines"), "{answer:?}");
    assert_still_serves(&server).await;
}

#[tokio::test]
async fn a_hundred_thousand_trailer_names_fail_the_call_not_a_worker() {
    let server = default_server().await;
    let lines = (0..100_000).map(|i| format!("x-t{i}: 1"));
    let answer = http1_attack(server.addr, with_trailers(lines)).await;
    assert!(answer.response.is_empty() || answer.response.contains("grpc-status: 8"));
    assert_still_serves(&server).await;
}

#[tokio::test]
async fn sixteen_megabytes_of_trailers_are_not_read() {
    let server = default_server().await;
    let lines = (0..2_000_000).map(|_| "x-t: 1".to_owned());
    let answer = http1_attack(server.addr, with_trailers(lines)).await;
    // The server stops reading at its limit and closes, so the rest cannot be written.
    assert!(answer.write_failed, "the server read all 16 MB of trailers");
    assert_still_serves(&server).await;
}

#[tokio::test]
async fn a_trailer_section_over_the_byte_limit_fails_the_call() {
    let server = default_server().await;
    let lines = (0..40).map(|i| format!("x-t{i}: {}", "v".repeat(500)));
    let answer = http1_attack(server.addr, with_trailers(lines)).await;
    assert!(answer.response.contains("grpc-status: 8"), "{answer:?}");
    assert!(answer.response.contains("exceed 16384 bytes"), "{answer:?}");
    assert_still_serves(&server).await;
}

#[tokio::test]
async fn a_client_without_te_trailers_cannot_make_the_server_buffer_without_bound() {
    let server = default_server().await;
    let request = EchoRequest {
        count: 1024,
        reply_size: 1024 * 1024,
        ..text("big")
    };
    let message = frame(false, &request.encode_to_vec());
    let mut raw = format!(
        "POST /e2e.Echo/ServerStream HTTP/1.1\r\nhost: t\r\ncontent-type: application/grpc\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        message.len()
    )
    .into_bytes();
    raw.extend_from_slice(&message);
    let answer = http1_attack(server.addr, raw).await;
    assert!(answer.response.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert!(answer.response.contains("grpc-status: 8"), "{answer:?}");
    assert!(answer.response.contains("content-length: 0"), "{answer:?}");
    assert_still_serves(&server).await;
}

#[tokio::test]
async fn the_buffered_response_limit_is_configurable() {
    let builder = Server::builder().http1_max_buffered_response(64);
    let server =
        TestServer::start_with(builder, EchoService::default(), ServiceConfig::default()).await;
    let small = frame(false, &text("hi").encode_to_vec());
    let framing = format!("content-length: {}\r\n", small.len());
    let raw = framed(&framing, &small).into_iter();
    // Without `te: trailers`: the same request as a client that cannot read trailers.
    let raw: Vec<u8> = String::from_utf8(raw.collect())
        .unwrap()
        .replace("te: trailers\r\n", "")
        .into_bytes();
    let answer = http1_attack(server.addr, raw.clone()).await;
    assert!(answer.response.contains("grpc-status: 0"), "{answer:?}");
    let request = EchoRequest {
        reply_size: 100,
        ..text("too big")
    };
    let big = frame(false, &request.encode_to_vec());
    let raw = String::from_utf8(raw)
        .unwrap()
        .replace(&framing, &format!("content-length: {}\r\n", big.len()));
    let mut raw = raw.into_bytes();
    raw.truncate(raw.len() - small.len());
    raw.extend_from_slice(&big);
    let answer = http1_attack(server.addr, raw).await;
    assert!(answer.response.contains("grpc-status: 8"), "{answer:?}");
}

/// Sends a request with each of `framings` and `body`, followed by a second request, and
/// checks that each gets 400 and a closed connection: the second is never answered.
async fn assert_refused(server: &TestServer, framings: &[&str], body: &[u8]) {
    for framing in framings {
        let mut raw = framed(framing, body);
        raw.extend_from_slice(b"GET /smuggled HTTP/1.1\r\nhost: t\r\n\r\n");
        let answer = http1_attack(server.addr, raw).await;
        assert!(
            answer.response.starts_with("HTTP/1.1 400"),
            "{framing}: {answer:?}"
        );
        assert_eq!(responses(&answer.response), 1, "{framing}: {answer:?}");
    }
    assert_still_serves(server).await;
}

#[tokio::test]
async fn content_length_with_transfer_encoding_is_refused_and_closed() {
    let framings = [
        "content-length: 5\r\ntransfer-encoding: chunked\r\n",
        "transfer-encoding: chunked\r\ncontent-length: 5\r\n",
    ];
    assert_refused(&default_server().await, &framings, &chunked_message()).await;
}

#[tokio::test]
async fn ambiguous_content_lengths_are_refused() {
    let framings = [
        "content-length: 5\r\ncontent-length: 6\r\n",
        "content-length: +5\r\n",
        "content-length: -5\r\n",
        "content-length: 5, 5\r\n",
        "content-length: 0x5\r\n",
        "content-length: 99999999999999999999999\r\n",
    ];
    assert_refused(&default_server().await, &framings, b"hello").await;
}

#[tokio::test]
async fn chunked_must_be_the_only_and_final_transfer_coding() {
    let framings = [
        "transfer-encoding: chunked\r\ntransfer-encoding: identity\r\n",
        "transfer-encoding: chunked, identity\r\n",
        "transfer-encoding: gzip, chunked\r\n",
        "transfer-encoding: chunked, chunked\r\n",
        "transfer-encoding: identity\r\n",
        "transfer-encoding: chunked,\r\n",
    ];
    assert_refused(&default_server().await, &framings, &chunked_message()).await;
}

#[tokio::test]
async fn transfer_coding_names_and_whitespace_are_read_as_rfc_9110_says() {
    let server = default_server().await;
    for framing in [
        "Transfer-Encoding: CHUNKED\r\n",
        "transfer-encoding:\tchunked\r\n",
        "transfer-encoding: chunked \r\n",
        "TRANSFER-ENCODING: Chunked\r\n",
    ] {
        let answer = http1_attack(server.addr, framed(framing, &chunked_message())).await;
        assert!(
            answer.response.starts_with("HTTP/1.1 200"),
            "{framing}: {answer:?}"
        );
        assert!(
            answer.response.contains("grpc-status: 0"),
            "{framing}: {answer:?}"
        );
    }
    assert_still_serves(&server).await;
}

#[tokio::test]
async fn a_head_with_bare_lf_line_ends_is_answered() {
    let server = default_server().await;
    let head = format!(
        "POST /e2e.Echo/Unary HTTP/1.1\nhost: t\n{}connection: close\ntransfer-encoding: chunked\n\n",
        GRPC.replace("\r\n", "\n")
    );
    let mut raw = head.into_bytes();
    raw.extend_from_slice(&chunked_message());
    let answer = http1_attack(server.addr, raw).await;
    assert!(answer.response.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert!(answer.response.contains("grpc-status: 0"), "{answer:?}");
    assert_still_serves(&server).await;
}

#[tokio::test]
async fn bare_lf_inside_a_chunked_body_fails_the_call() {
    let server = default_server().await;
    let message = frame(false, &text("hi").encode_to_vec());
    let mut body = format!("{:x}\n", message.len()).into_bytes();
    body.extend_from_slice(&message);
    body.extend_from_slice(b"\r\n0\r\n\r\n");
    let answer = http1_attack(server.addr, framed("transfer-encoding: chunked\r\n", &body)).await;
    assert!(answer.response.contains("grpc-status: 13"), "{answer:?}");
    assert_still_serves(&server).await;
}

#[tokio::test]
async fn an_overlong_chunk_size_line_fails_the_call() {
    let server = default_server().await;
    let mut body = format!("5;{}\r\n", "x".repeat(5000)).into_bytes();
    body.extend_from_slice(b"hello\r\n0\r\n\r\n");
    let answer = http1_attack(server.addr, framed("transfer-encoding: chunked\r\n", &body)).await;
    assert!(answer.response.contains("grpc-status: 8"), "{answer:?}");
    assert!(
        answer.response.contains("chunk-size line exceeds 4096"),
        "{answer:?}"
    );
    assert_still_serves(&server).await;
}

#[tokio::test]
async fn oversized_heads_get_431() {
    let server = default_server().await;
    let long = format!("x-big: {}\r\n", "v".repeat(20_000));
    let many: String = (0..101).map(|i| format!("x-h{i}: 1\r\n")).collect();
    for headers in [long, many] {
        let answer = http1_attack(server.addr, framed(&headers, b"")).await;
        assert!(answer.response.starts_with("HTTP/1.1 431"), "{answer:?}");
    }
    assert_still_serves(&server).await;
}

#[tokio::test]
async fn head_limits_are_configurable() {
    let builder = Server::builder()
        .http1_max_headers(8)
        .max_header_list_size(1024);
    let server =
        TestServer::start_with(builder, EchoService::default(), ServiceConfig::default()).await;
    let many: String = (0..5).map(|i| format!("x-h{i}: 1\r\n")).collect();
    let answer = http1_attack(server.addr, framed(&many, b"")).await;
    assert!(answer.response.starts_with("HTTP/1.1 431"), "{answer:?}");
    let long = format!("x-big: {}\r\n", "v".repeat(1024));
    let answer = http1_attack(server.addr, framed(&long, b"")).await;
    assert!(answer.response.starts_with("HTTP/1.1 431"), "{answer:?}");
    let lines = (0..9).map(|i| format!("x-t{i}: 1"));
    let answer = http1_attack(server.addr, with_trailers(lines)).await;
    assert!(answer.response.contains("exceed 8 lines"), "{answer:?}");
}

#[tokio::test]
async fn a_connection_closed_under_an_unread_body_says_so_in_its_answer() {
    // A client that reuses a connection the server closes after answering loses its next
    // request to the close (Go's client reports `unexpected EOF`); told in the answer's
    // head, it opens a new connection instead.
    let config = ServiceConfig::default().max_receive_message_size(1024);
    let server = TestServer::start(EchoService::default(), config).await;
    let too_large = [0u8, 0, 0x40, 0, 0];
    let mut sized = vec![7u8; 5 + 1024 * 1024];
    sized[..5].copy_from_slice(&too_large);
    let mut chunked = format!("{:x}\r\n", sized.len()).into_bytes();
    chunked.extend_from_slice(&sized);
    let framings = [
        (
            format!("content-length: {}\r\n", sized.len()),
            sized.clone(),
        ),
        ("transfer-encoding: chunked\r\n".to_owned(), chunked),
    ];
    for (framing, body) in framings {
        let mut request =
            format!("POST /e2e.Echo/Unary HTTP/1.1\r\nhost: t\r\n{GRPC}{framing}\r\n").into_bytes();
        request.extend_from_slice(&body);
        let answer = http1_attack(server.addr, request).await;
        assert!(answer.response.contains("grpc-status: 8"), "{answer:?}");
        assert!(answer.response.contains("connection: close"), "{answer:?}");
    }
}

#[tokio::test]
async fn a_chunked_body_refused_whole_keeps_its_connection() {
    // The refused request's chunks are all there already: skipped at once, they leave the
    // connection ready for the next request, which follows in the same write.
    let server = TestServer::start(EchoService::default(), ServiceConfig::default()).await;
    let mut requests = format!(
        "POST /e2e.Unregistered/Call HTTP/1.1\r\nhost: t\r\n{GRPC}transfer-encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    requests.extend_from_slice(&chunked_message());
    requests.extend_from_slice(&framed(
        "transfer-encoding: chunked\r\n",
        &chunked_message(),
    ));
    let answer = http1_attack(server.addr, requests).await;
    let (refused, served) = answer
        .response
        .split_once("HTTP/1.1 200 OK\r\n")
        .and_then(|(_, rest)| rest.split_once("HTTP/1.1 200 OK\r\n"))
        .unwrap_or_else(|| panic!("two answers: {answer:?}"));
    assert!(refused.contains("grpc-status: 12"), "{answer:?}");
    assert!(!refused.contains("connection: close"), "{answer:?}");
    assert!(served.contains("grpc-status: 0"), "{answer:?}");
}

#[tokio::test]
async fn a_body_refused_early_still_lets_the_client_read_the_answer() {
    // The message is far over the limit and the body over what the server skips to keep
    // a connection: the server answers at the frame header and closes while the client
    // is still sending. Closing on unread bytes would reset the connection: the client's
    // writes fail (grpc-go then reports the broken pipe, not the answer), and it may lose
    // the answer it has not read yet.
    let config = ServiceConfig::default().max_receive_message_size(1024);
    let server = TestServer::start(EchoService::default(), config).await;
    for _ in 0..20 {
        let mut body = vec![0u8, 0, 0x40, 0, 0];
        body.resize(5 + 4 * 1024 * 1024, 7);
        let length = format!("content-length: {}\r\n", body.len());
        let answer = http1_attack(server.addr, framed(&length, &body)).await;
        assert!(answer.response.contains("grpc-status: 8"), "{answer:?}");
        assert!(!answer.write_failed, "the server read the rest: {answer:?}");
    }
}
