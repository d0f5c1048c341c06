//! Framing parity with hyper: the same request bytes go to rsrpc's HTTP/1.1 server and to
//! hyper's, each in front of a service that echoes the body it reads, and the two must
//! agree on every framing decision: whether a head is accepted, where a body ends, and
//! whether the connection stays open. Where rsrpc is deliberately stricter, the case
//! says why, and rsrpc must refuse what hyper accepts.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::time::Instant;

use crate::transport::body::Body;
use crate::transport::incoming::IncomingBody;
use crate::transport::limits::ConnectionLimits;
use crate::transport::shutdown;

/// How long a server may stay silent before it is taken to be waiting for more bytes.
const QUIET: Duration = Duration::from_millis(500);

/// One request stream, and how rsrpc's answer may differ from hyper's.
struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    /// Why rsrpc refuses what hyper accepts; `None` where they must agree.
    stricter: Option<&'static str>,
}

/// What a client saw: each response's status and body, and whether the server closed.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    responses: Vec<(u16, Bytes)>,
    closed: bool,
}

impl Outcome {
    /// Whether the first request was refused (a 4xx or 5xx answer), or the connection
    /// closed without answering it.
    fn refused(&self) -> bool {
        match self.responses.first() {
            Some((status, _)) => *status >= 400,
            None => self.closed,
        }
    }
}

/// A unary gRPC-shaped request head with the given framing lines.
fn head(framing: &str) -> String {
    format!("POST /parity.Echo/Call HTTP/1.1\r\nhost: t\r\n{framing}\r\n")
}

fn case(name: &'static str, bytes: impl AsRef<[u8]>) -> Case {
    Case {
        name,
        bytes: bytes.as_ref().to_vec(),
        stricter: None,
    }
}

fn stricter(name: &'static str, bytes: impl AsRef<[u8]>, why: &'static str) -> Case {
    Case {
        stricter: Some(why),
        ..case(name, bytes)
    }
}

fn corpus() -> Vec<Case> {
    let chunked = "transfer-encoding: chunked\r\n";
    let next = "GET /parity.Echo/Next HTTP/1.1\r\nhost: t\r\n\r\n";
    let with = |framing: &str, body: &str| format!("{}{body}", head(framing));
    let pipelined = |framing: &str, body: &str| format!("{}{body}{next}", head(framing));
    vec![
        case("no body", head("")),
        case(
            "content-length",
            pipelined("content-length: 5\r\n", "hello"),
        ),
        case(
            "content-length zero",
            pipelined("content-length: 0\r\n", ""),
        ),
        case(
            "equal content-lengths",
            pipelined("content-length: 5\r\ncontent-length: 5\r\n", "hello"),
        ),
        case(
            "differing content-lengths",
            with("content-length: 5\r\ncontent-length: 6\r\n", "hello"),
        ),
        case(
            "signed content-length",
            with("content-length: +5\r\n", "hello"),
        ),
        case(
            "content-length list",
            with("content-length: 5, 5\r\n", "hello"),
        ),
        case(
            "hex content-length",
            with("content-length: 0x5\r\n", "hello"),
        ),
        case(
            "overflowing content-length",
            with("content-length: 99999999999999999999\r\n", "hello"),
        ),
        case(
            "content-length with trailing space",
            pipelined("content-length: 5 \r\n", "hello"),
        ),
        case(
            "truncated content-length body",
            with("content-length: 10\r\n", "hello"),
        ),
        case("chunked", pipelined(chunked, "5\r\nhello\r\n0\r\n\r\n")),
        case(
            "chunked in two chunks",
            pipelined(chunked, "2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n"),
        ),
        case(
            "uppercase hex and leading zeros",
            pipelined(chunked, "000A\r\n0123456789\r\n0\r\n\r\n"),
        ),
        case(
            "chunk extensions",
            pipelined(chunked, "5;a=b;c\r\nhello\r\n0;z\r\n\r\n"),
        ),
        case(
            "whitespace after chunk size",
            pipelined(chunked, "5 \t ;a\r\nhello\r\n0\r\n\r\n"),
        ),
        case(
            "trailers",
            pipelined(chunked, "5\r\nhello\r\n0\r\nx-a: 1\r\nx-b: 2\r\n\r\n"),
        ),
        case(
            "chunk size without digits",
            with(chunked, ";a\r\nhello\r\n0\r\n\r\n"),
        ),
        case(
            "bare LF after chunk size",
            with(chunked, "5\nhello\r\n0\r\n\r\n"),
        ),
        case(
            "chunk not followed by CRLF",
            with(chunked, "5\r\nhelloXX0\r\n\r\n"),
        ),
        case(
            "overflowing chunk size",
            with(chunked, "fffffffffffffffffff\r\nhello\r\n0\r\n\r\n"),
        ),
        case(
            "non-hex chunk size",
            with(chunked, "5g\r\nhello\r\n0\r\n\r\n"),
        ),
        case("truncated chunked body", with(chunked, "5\r\nhel")),
        case("missing last chunk", with(chunked, "5\r\nhello\r\n")),
        case(
            "uppercase CHUNKED",
            pipelined("transfer-encoding: CHUNKED\r\n", "5\r\nhello\r\n0\r\n\r\n"),
        ),
        case(
            "tab before chunked",
            pipelined("transfer-encoding:\tchunked\r\n", "5\r\nhello\r\n0\r\n\r\n"),
        ),
        case(
            "chunked then identity",
            with(
                "transfer-encoding: chunked\r\ntransfer-encoding: identity\r\n",
                "5\r\nhello\r\n0\r\n\r\n",
            ),
        ),
        case(
            "chunked, identity",
            with(
                "transfer-encoding: chunked, identity\r\n",
                "5\r\nhello\r\n0\r\n\r\n",
            ),
        ),
        case(
            "identity only",
            with("transfer-encoding: identity\r\n", "hello"),
        ),
        case(
            "empty transfer-encoding",
            with("transfer-encoding: \r\n", "hello"),
        ),
        stricter(
            "gzip, chunked",
            with(
                "transfer-encoding: gzip, chunked\r\n",
                "5\r\nhello\r\n0\r\n\r\n",
            ),
            "only `chunked` is decoded; hyper would hand the handler gzip bytes",
        ),
        stricter(
            "chunked, chunked",
            with(
                "transfer-encoding: chunked, chunked\r\n",
                "5\r\nhello\r\n0\r\n\r\n",
            ),
            "RFC 9112 forbids chunking twice",
        ),
        stricter(
            "content-length then transfer-encoding",
            format!(
                "{}{next}",
                with(
                    "content-length: 3\r\ntransfer-encoding: chunked\r\n",
                    "5\r\nhello\r\n0\r\n\r\n"
                )
            ),
            "both framings at once is the classic smuggling vector: refused, not guessed",
        ),
        stricter(
            "transfer-encoding then content-length",
            format!(
                "{}{next}",
                with(
                    "transfer-encoding: chunked\r\ncontent-length: 3\r\n",
                    "5\r\nhello\r\n0\r\n\r\n"
                )
            ),
            "both framings at once is the classic smuggling vector: refused, not guessed",
        ),
        stricter(
            "long chunk extension",
            with(
                chunked,
                &format!("5;{}\r\nhello\r\n0\r\n\r\n", "e".repeat(5000)),
            ),
            "chunk-size lines are limited to 4 KiB (hyper allows 16 KiB of extensions)",
        ),
        stricter(
            "HTTP/1.0",
            "POST /parity.Echo/Call HTTP/1.0\r\nhost: t\r\ncontent-length: 5\r\n\r\nhello",
            "gRPC needs HTTP/1.1 (trailers): HTTP/1.0 gets 505",
        ),
        case(
            "bare LF head",
            pipelined("content-length: 5\n", "hello").replace("\r\n", "\n"),
        ),
        case(
            "leading empty line",
            format!("\r\n{}", pipelined("content-length: 5\r\n", "hello")),
        ),
        case(
            "space before colon",
            with("content-length : 5\r\n", "hello"),
        ),
        case(
            "folded header",
            with("x-a: 1\r\n  continued\r\ncontent-length: 5\r\n", "hello"),
        ),
        case(
            "NUL in header value",
            with("x-a: a\0b\r\ncontent-length: 5\r\n", "hello"),
        ),
        case(
            "obs-text header value",
            pipelined("x-a: caf\u{e9}\r\ncontent-length: 5\r\n", "hello"),
        ),
        case(
            "connection: close",
            pipelined("connection: close\r\ncontent-length: 5\r\n", "hello"),
        ),
        case(
            "Connection: keep-alive, Close",
            pipelined(
                "Connection: keep-alive, Close\r\ncontent-length: 5\r\n",
                "hello",
            ),
        ),
        case(
            "expect 100-continue",
            pipelined("expect: 100-continue\r\ncontent-length: 5\r\n", "hello"),
        ),
        case(
            "invalid method",
            "P@ST /parity.Echo/Call HTTP/1.1\r\nhost: t\r\n\r\n",
        ),
        case(
            "space in target",
            "POST /parity Echo/Call HTTP/1.1\r\nhost: t\r\n\r\n",
        ),
        case(
            "truncated head",
            "POST /parity.Echo/Call HTTP/1.1\r\nhost: t\r\n",
        ),
        case("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
    ]
}

/// The service behind both servers: reads the whole body and answers 200 with it, or
/// 500 when the body is broken.
async fn echo<B>(body: B) -> (u16, Bytes)
where
    B: http_body::Body<Data = Bytes>,
{
    match body.collect().await {
        Ok(collected) => (200, collected.to_bytes()),
        Err(_) => (500, Bytes::new()),
    }
}

async fn rsrpc_echo(request: http::Request<IncomingBody>) -> http::Response<Body> {
    let (status, body) = echo(request.into_body()).await;
    let mut response = http::Response::new(Body::full(Some(body), None));
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
    response
}

async fn serve_rsrpc(io: DuplexStream) {
    let (_trigger, shutdown) = shutdown::channel();
    let limits = ConnectionLimits::default();
    let deadline = Instant::now() + limits.header_read_timeout;
    let io = Box::new(io);
    let served =
        super::server::serve_connection(io, Bytes::new(), rsrpc_echo, &limits, deadline, shutdown);
    let _ = served.await;
}

async fn serve_hyper(io: DuplexStream) {
    let service =
        hyper::service::service_fn(|request: http::Request<hyper::body::Incoming>| async {
            let (status, body) = echo(request.into_body()).await;
            let mut response = http::Response::new(http_body_util::Full::new(body));
            *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
            Ok::<_, Infallible>(response)
        });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(io), service)
        .await;
}

/// Sends `bytes` to a server, and collects what it answers until it closes the
/// connection or stays quiet.
async fn exchange<F>(serve: fn(DuplexStream) -> F, bytes: Vec<u8>) -> Outcome
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let (mut client, server) = tokio::io::duplex(1 << 20);
    tokio::spawn(serve(server));
    client.write_all(&bytes).await.unwrap();
    let (seen, closed) = read_until_quiet(&mut client).await;
    let responses = parse_responses(&seen)
        .into_iter()
        // An error's text is each server's own: only its status is compared.
        .map(|(status, body)| (status, if status >= 400 { Bytes::new() } else { body }))
        .collect();
    Outcome { responses, closed }
}

/// Reads until end of stream (`true`) or `QUIET` passes with nothing read (`false`).
async fn read_until_quiet(io: &mut (impl AsyncRead + Unpin)) -> (Vec<u8>, bool) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout(QUIET, io.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (seen, true),
            Ok(Ok(read)) => seen.extend_from_slice(&buf[..read]),
            Err(_) => return (seen, false),
        }
    }
}

/// The status and body of each complete response in `raw`.
fn parse_responses(mut raw: &[u8]) -> Vec<(u16, Bytes)> {
    let mut responses = Vec::new();
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        let Ok(httparse::Status::Complete(len)) = response.parse(raw) else {
            return responses;
        };
        let status = response.code.unwrap_or_default();
        let length = response
            .headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case("content-length"))
            .and_then(|header| std::str::from_utf8(header.value).ok()?.parse().ok())
            .unwrap_or(0usize);
        raw = &raw[len..];
        let body = Bytes::copy_from_slice(&raw[..length.min(raw.len())]);
        raw = &raw[length.min(raw.len())..];
        responses.push((status, body));
    }
}

#[tokio::test]
async fn framing_decisions_match_hypers() {
    let mut runs = tokio::task::JoinSet::new();
    for case in corpus() {
        runs.spawn(async move {
            let ours = exchange(serve_rsrpc, case.bytes.clone()).await;
            let hypers = exchange(serve_hyper, case.bytes).await;
            (case.name, case.stricter, ours, hypers)
        });
    }
    let mut disagreements = Vec::new();
    while let Some(run) = runs.join_next().await {
        let (name, stricter, ours, hypers) = run.unwrap();
        let agrees = match stricter {
            None => ours == hypers,
            Some(_) => ours.refused() && ours.closed && !hypers.refused(),
        };
        if !agrees {
            disagreements.push(format!(
                "{name} ({}):\n  rsrpc: {ours:?}\n  hyper: {hypers:?}",
                stricter.unwrap_or("must agree")
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
