//! The client side of a call on in-memory responses: the checks on the response head
//! (Trailers-Only status, HTTP status, content type, encoding), reading a single response
//! message with its trailers, the response stream, and the request head `into_http` sends.

use std::time::Duration;

use http::StatusCode;
use tokio::time::Instant;

use super::{
    MockBody, Note, Step, assert_status, framed, framed_all, note, ok_trailers, status_trailers,
};
use crate::codec::{CodecSettings, Encoding, EncodingSet, Format, MessageForm};
use crate::protocol::client_call::CallShape;
use crate::protocol::client_call::{Outgoing, ResponseHead};
use crate::protocol::wire::parse_timeout;
use crate::request::Request;
use crate::response::Response;
use crate::status::{Code, Status};
use crate::transport::body::Body;
use crate::transport::incoming::IncomingBody;

/// A response head with status 200, `application/grpc` and `headers`, over the body.
fn response(headers: &[(&str, &str)], steps: Vec<Step>) -> http::Response<IncomingBody> {
    let mut builder = http::Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/grpc");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(MockBody::incoming(steps)).unwrap()
}

/// Checks the head under the default codec and no deadline.
fn check(response: http::Response<IncomingBody>) -> Result<ResponseHead, Status> {
    ResponseHead::check(response, &CodecSettings::default(), None, None)
}

/// Checks the head then reads the one message.
async fn read_single(response: http::Response<IncomingBody>) -> Result<Response<Note>, Status> {
    check(response)?.read_single(MessageForm::proto()).await
}

#[test]
fn a_trailers_only_error_is_its_status() {
    let head = response(
        &[("grpc-status", "7"), ("grpc-message", "denied%21")],
        vec![],
    );
    assert_status(check(head), Code::PermissionDenied, "denied!");
}

#[tokio::test]
async fn over_http2_a_status_in_headers_that_do_not_end_the_stream_is_ignored() {
    // Trailers-Only is one header block ending the stream; with a body after it, the
    // trailers carry the status (found by the ConnectRPC conformance suite).
    let http2 = |steps| {
        let mut head = response(&[("grpc-status", "9"), ("x-head", "h")], steps);
        *head.version_mut() = http::Version::HTTP_2;
        head
    };
    let ended = check(http2(vec![]));
    assert_status(ended, Code::FailedPrecondition, "");

    let trailers = status_trailers(Code::ResourceExhausted, "the real one", &[]);
    let result = read_single(http2(vec![Step::Trailers(trailers)])).await;
    assert_status(result, Code::ResourceExhausted, "the real one");

    let result = read_single(http2(vec![Step::Data(framed(&note("no trailers")))])).await;
    assert_status(result, Code::Internal, "without sending trailers");
}

#[test]
fn a_trailers_only_status_wins_over_the_http_status() {
    let mut head = response(&[("grpc-status", "5"), ("grpc-message", "gone")], vec![]);
    *head.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    assert_status(check(head), Code::NotFound, "gone");
}

#[test]
fn a_non_200_http_status_maps_to_a_code() {
    for (http, code) in [
        (503, Code::Unavailable),
        (404, Code::Unimplemented),
        (401, Code::Unauthenticated),
        (500, Code::Unknown),
    ] {
        let mut head = response(&[], vec![]);
        *head.status_mut() = StatusCode::from_u16(http).unwrap();
        assert_status(check(head), code, &format!("unexpected HTTP status {http}"));
    }
}

#[test]
fn a_content_type_that_is_not_grpc_is_unknown() {
    let mut head = response(&[], vec![]);
    head.headers_mut()
        .insert("content-type", "application/grpcx".parse().unwrap());
    assert_status(check(head), Code::Unknown, "application/grpcx");
    let mut head = response(&[], vec![]);
    head.headers_mut().remove("content-type");
    assert_status(check(head), Code::Unknown, "unexpected content-type None");
}

#[test]
fn an_encoding_the_client_does_not_accept_is_internal() {
    let head = response(&[("grpc-encoding", "gzip")], vec![]);
    let codec = CodecSettings {
        accept_compressed: EncodingSet::identity_only(),
        ..CodecSettings::default()
    };
    let result = ResponseHead::check(head, &codec, None, None);
    assert_status(result, Code::Internal, "grpc-encoding \"gzip\"");
}

#[tokio::test]
async fn read_single_returns_the_message_and_trailers_metadata() {
    let head = response(
        &[("x-head", "h")],
        vec![
            Step::Data(framed(&note("answer"))),
            Step::Trailers(status_trailers(Code::Ok, "", &[("x-tail", "t")])),
        ],
    );
    let response = read_single(head).await.unwrap();
    assert_eq!(response.metadata().get("x-head"), Some("h"));
    assert!(!response.metadata().contains_key("content-type"));
    assert_eq!(response.trailers().get("x-tail"), Some("t"));
    assert!(!response.trailers().contains_key("grpc-status"));
    assert_eq!(response.into_inner(), note("answer"));
}

#[tokio::test]
async fn read_single_without_trailers_is_internal() {
    let head = response(&[], vec![Step::Data(framed(&note("answer")))]);
    assert_status(
        read_single(head).await,
        Code::Internal,
        "without sending trailers",
    );
}

#[tokio::test]
async fn read_single_returns_the_trailers_error() {
    let head = response(
        &[],
        vec![Step::Trailers(status_trailers(
            Code::Aborted,
            "conflict",
            &[],
        ))],
    );
    assert_status(read_single(head).await, Code::Aborted, "conflict");
}

#[tokio::test]
async fn a_failed_read_single_keeps_the_response_headers() {
    // The headers of a failed unary call are in its status, before the trailers: the
    // caller has no response to read them from (found by the ConnectRPC conformance
    // suite, which checks a client reports them).
    let head = response(
        &[("x-head", "h")],
        vec![Step::Trailers(status_trailers(
            Code::Unauthenticated,
            "who?",
            &[("x-tail", "t")],
        ))],
    );
    let status = read_single(head).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let names: Vec<_> = status.metadata().as_headers().keys().collect();
    assert_eq!(names, ["x-head", "x-tail"]);

    let head = response(
        &[("x-head", "h")],
        vec![Step::Data(framed(&note("no end")))],
    );
    let status = read_single(head).await.unwrap_err();
    assert_eq!(status.code(), Code::Internal);
    assert_eq!(status.metadata().get("x-head"), Some("h"));
}

#[tokio::test]
async fn read_single_without_a_message_is_unimplemented() {
    // Response cardinality violations are UNIMPLEMENTED (gRPC's doc/statuscodes.md).
    let head = response(&[], vec![Step::Trailers(ok_trailers())]);
    assert_status(
        read_single(head).await,
        Code::Unimplemented,
        "the response has no message",
    );
}

#[tokio::test]
async fn read_single_of_a_trailers_only_ok_is_unimplemented() {
    let head = response(&[("grpc-status", "0")], vec![]);
    assert_status(
        read_single(head).await,
        Code::Unimplemented,
        "the response has no message",
    );
}

#[tokio::test]
async fn read_single_with_two_messages_is_unimplemented() {
    let body = framed_all(&[note("one"), note("two")]);
    let head = response(&[], vec![Step::Data(body), Step::Trailers(ok_trailers())]);
    assert_status(
        read_single(head).await,
        Code::Unimplemented,
        "more than one message",
    );
}

#[tokio::test]
async fn read_single_passes_a_body_error_through() {
    let head = response(
        &[],
        vec![Step::Error(Status::unavailable("connection reset"))],
    );
    assert_status(
        read_single(head).await,
        Code::Unavailable,
        "connection reset",
    );
}

#[tokio::test]
async fn read_single_past_the_deadline_is_deadline_exceeded() {
    let deadline = Instant::now() + Duration::from_millis(50);
    let head = response(&[], vec![Step::Pending, Step::Stall]);
    let head = ResponseHead::check(head, &CodecSettings::default(), Some(deadline), None);
    let result = head
        .unwrap_or_else(|_| panic!("head accepted"))
        .read_single::<Note>(MessageForm::proto())
        .await;
    assert_status(result, Code::DeadlineExceeded, "deadline exceeded");
    assert!(Instant::now() >= deadline);
}

#[test]
fn a_cancelled_trailers_only_after_the_deadline_is_deadline_exceeded() {
    let deadline = Instant::now();
    let head = response(&[("grpc-status", "1")], vec![]);
    let result = ResponseHead::check(head, &CodecSettings::default(), Some(deadline), None);
    assert_status(result, Code::DeadlineExceeded, "deadline exceeded");
}

#[tokio::test]
async fn into_streaming_reads_messages_then_trailers() {
    let head = response(
        &[("x-head", "h")],
        vec![
            Step::Data(framed_all(&[note("one"), note("two")])),
            Step::Trailers(status_trailers(Code::Ok, "", &[("x-tail", "t")])),
        ],
    );
    let response = check(head)
        .unwrap_or_else(|_| panic!("head accepted"))
        .into_streaming(MessageForm::proto());
    assert_eq!(response.metadata().get("x-head"), Some("h"));
    let mut stream = response.into_inner();
    assert_eq!(stream.message().await.unwrap(), Some(note("one")));
    assert_eq!(stream.message().await.unwrap(), Some(note("two")));
    assert_eq!(stream.message().await.unwrap(), None);
    assert_eq!(stream.trailers().unwrap().get("x-tail"), Some("t"));
}

#[tokio::test]
async fn into_streaming_of_a_trailers_only_ok_is_an_empty_stream() {
    let head = response(&[("grpc-status", "0"), ("x-tail", "t")], vec![]);
    let mut stream = check(head)
        .unwrap_or_else(|_| panic!("head accepted"))
        .into_streaming::<Note>(MessageForm::proto())
        .into_inner();
    assert_eq!(stream.message().await.unwrap(), None);
    assert_eq!(stream.trailers().unwrap().get("x-tail"), Some("t"));
}

/// An outgoing request with `x-trace` metadata and the given message encoding.
fn outgoing(encoding: Option<Encoding>) -> Outgoing {
    let mut head = Request::new(());
    head.metadata_mut().insert("x-trace", "abc").unwrap();
    Outgoing {
        head,
        body: Body::empty(),
        encoding,
        format: Format::Proto,
        shape: CallShape::Streaming,
        request_guard: None,
    }
}

fn uri() -> http::Uri {
    "http://localhost/notes.Notes/Shout".parse().unwrap()
}

fn header<'a>(request: &'a http::Request<Body>, name: &str) -> Option<&'a str> {
    request
        .headers()
        .get(name)
        .map(|value| value.to_str().unwrap())
}

#[test]
fn into_http_sends_the_grpc_request_head() {
    let deadline = Instant::now() + Duration::from_millis(1500);
    let codec = CodecSettings::default();
    let (request, guard) = outgoing(Some(Encoding::Gzip)).into_http(uri(), &codec, Some(deadline));
    assert!(guard.is_none());
    assert_eq!(request.method(), http::Method::POST);
    assert_eq!(request.uri(), &uri());
    assert_eq!(header(&request, "content-type"), Some("application/grpc"));
    assert_eq!(header(&request, "te"), Some("trailers"));
    assert!(
        header(&request, "user-agent")
            .unwrap()
            .starts_with("rsrpc/")
    );
    assert_eq!(header(&request, "grpc-encoding"), Some("gzip"));
    assert_eq!(
        header(&request, "grpc-accept-encoding"),
        Some("gzip,identity")
    );
    // The time left, rounded up: at most the 1.5 s given, less only by what has elapsed.
    let timeout = request.headers().get("grpc-timeout").expect("grpc-timeout");
    let timeout = parse_timeout(timeout).expect("a valid grpc-timeout");
    assert!(timeout <= Duration::from_millis(1500), "{timeout:?}");
    assert!(timeout > Duration::from_millis(1000), "{timeout:?}");
    assert_eq!(header(&request, "x-trace"), Some("abc"));
}

#[test]
fn into_http_without_a_deadline_sends_no_timeout() {
    let codec = CodecSettings {
        accept_compressed: EncodingSet::identity_only(),
        ..CodecSettings::default()
    };
    let (request, _) = outgoing(None).into_http(uri(), &codec, None);
    assert_eq!(header(&request, "grpc-timeout"), None);
    assert_eq!(header(&request, "grpc-encoding"), None);
    assert_eq!(header(&request, "grpc-accept-encoding"), Some("identity"));
}

#[test]
fn into_http_past_the_deadline_sends_a_zero_timeout() {
    let deadline = Instant::now();
    let codec = CodecSettings::default();
    let (request, _) = outgoing(None).into_http(uri(), &codec, Some(deadline));
    assert_eq!(header(&request, "grpc-timeout"), Some("0n"));
}
