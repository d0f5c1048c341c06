//! The server call kinds on in-memory requests: the head checks (method, content type,
//! `grpc-timeout`, `grpc-encoding`), the unary request rules, handler errors and
//! deadlines as Trailers-Only responses, and the encoded response bodies with their
//! status trailers.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use http_body_util::BodyExt;
use tokio_stream::StreamExt;

use super::{MockBody, Note, Num, Step, byte_by_byte, framed, framed_all, note};
use crate::codec::decode::{FrameDecoder, decode_message};
use crate::codec::encode::FrameEncoder;
use crate::codec::{Compressed, Encoding, EncodingSet, ProstCodec};
use crate::protocol::server_call::{
    bidi_streaming, client_streaming, server_streaming, unary, unimplemented,
};
use crate::protocol::service_config::ServiceConfig;
use crate::protocol::streaming::Streaming;
use crate::request::Request;
use crate::response::Response;
use crate::status::Status;
use crate::transport::body::Body;

const PATH: &str = "/notes.Notes/Shout";

/// A well-formed gRPC request carrying the scripted body.
fn grpc_request(steps: impl IntoIterator<Item = Step>) -> http::Request<MockBody> {
    http::Request::post(PATH)
        .header("content-type", "application/grpc")
        .body(MockBody::new(steps))
        .unwrap()
}

/// A gRPC request with one extra header.
fn request_with(name: &str, value: &str, steps: Vec<Step>) -> http::Request<MockBody> {
    let mut request = grpc_request(steps);
    request.headers_mut().insert(
        http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
        value.parse().unwrap(),
    );
    request
}

/// The unary handler under test: upper-cases the note, and echoes `x-tag` metadata.
async fn shout(request: Request<Note>) -> Result<Response<Note>, Status> {
    let tag = request.metadata().get("x-tag").map(str::to_owned);
    let mut response = Response::new(note(&request.into_inner().text.to_uppercase()));
    if let Some(tag) = tag {
        response.metadata_mut().insert("x-tag", &tag).unwrap();
        response
            .trailers_mut()
            .insert("x-tag-trailer", &tag)
            .unwrap();
    }
    Ok(response)
}

/// Serves `request` with [`shout`] under the default config.
async fn serve_unary(request: http::Request<MockBody>) -> http::Response<Body> {
    unary(request, ServiceConfig::default(), ProstCodec, shout)
        .await
        .unwrap()
}

/// The data and trailers of a response body.
async fn collect(response: http::Response<Body>) -> (Bytes, Option<HeaderMap>) {
    let collected = response.into_body().collect().await.unwrap();
    let trailers = collected.trailers().cloned();
    (collected.to_bytes(), trailers)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|value| value.to_str().unwrap())
}

/// Asserts a Trailers-Only response: HTTP 200, the status in the headers, no body.
#[track_caller]
fn assert_trailers_only(response: &http::Response<Body>, code: i32, message: &str) {
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(header(headers, "content-type"), Some("application/grpc"));
    assert_eq!(
        header(headers, "grpc-status"),
        Some(code.to_string().as_str())
    );
    let sent = header(headers, "grpc-message").unwrap_or_default();
    let decoded = percent_encoding::percent_decode_str(sent)
        .decode_utf8()
        .unwrap();
    assert!(
        decoded.contains(message),
        "grpc-message {decoded:?} lacks {message:?}"
    );
}

#[tokio::test]
async fn unary_answers_with_the_message_and_ok_trailers() {
    let request = request_with("x-tag", "t1", vec![Step::Data(framed(&note("hello")))]);
    let response = serve_unary(request).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(header(headers, "content-type"), Some("application/grpc"));
    assert_eq!(header(headers, "x-tag"), Some("t1"));
    assert_eq!(header(headers, "grpc-status"), None, "not Trailers-Only");
    assert_eq!(header(headers, "grpc-encoding"), None);
    let (data, trailers) = collect(response).await;
    assert_eq!(data, framed(&note("HELLO")));
    let trailers = trailers.expect("status trailers");
    assert_eq!(header(&trailers, "grpc-status"), Some("0"));
    assert_eq!(header(&trailers, "x-tag-trailer"), Some("t1"));
}

#[tokio::test]
async fn unary_reads_a_request_split_byte_by_byte() {
    let request = grpc_request(byte_by_byte(&framed(&note("bit by bit"))));
    let (data, _) = collect(serve_unary(request).await).await;
    assert_eq!(data, framed(&note("BIT BY BIT")));
}

#[tokio::test]
async fn a_method_other_than_post_is_405() {
    let mut request = grpc_request([Step::Data(framed(&note("x")))]);
    *request.method_mut() = http::Method::GET;
    let response = serve_unary(request).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        header(response.headers(), "content-type"),
        Some("text/plain")
    );
    let (data, trailers) = collect(response).await;
    assert_eq!(data, "gRPC requests must use POST");
    assert!(trailers.is_none());
}

#[tokio::test]
async fn a_content_type_that_is_not_grpc_is_415() {
    for content_type in ["application/grpcx", "application/json"] {
        let request = request_with("content-type", content_type, vec![]);
        let response = serve_unary(request).await;
        assert_eq!(
            response.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type}"
        );
    }
    let mut request = grpc_request([]);
    request.headers_mut().remove("content-type");
    assert_eq!(
        serve_unary(request).await.status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
}

#[tokio::test]
async fn grpc_content_subtypes_are_served() {
    let steps = vec![Step::Data(framed(&note("proto")))];
    let request = request_with("content-type", "application/grpc+proto", steps);
    let (data, _) = collect(serve_unary(request).await).await;
    assert_eq!(data, framed(&note("PROTO")));
}

#[tokio::test]
async fn a_content_subtype_other_than_proto_is_internal() {
    // Its messages are not protobuf: they must not be decoded as if they were (found by
    // the ConnectRPC conformance suite).
    let steps = vec![Step::Data(framed(&note("foo")))];
    let request = request_with("content-type", "application/grpc+foo", steps);
    let response = serve_unary(request).await;
    assert_trailers_only(&response, 13, "no codec for content-subtype \"foo\"");
}

#[tokio::test]
async fn a_bad_grpc_timeout_is_invalid_argument() {
    for timeout in ["1x", "S", "123456789S", "-1S"] {
        let steps = vec![Step::Data(framed(&note("x")))];
        let response = serve_unary(request_with("grpc-timeout", timeout, steps)).await;
        assert_trailers_only(&response, 3, "invalid grpc-timeout");
        let (data, trailers) = collect(response).await;
        assert!(data.is_empty() && trailers.is_none(), "{timeout}: no body");
    }
}

#[tokio::test]
async fn an_unsupported_grpc_encoding_is_unimplemented() {
    let response = serve_unary(request_with("grpc-encoding", "br", vec![])).await;
    assert_trailers_only(&response, 12, "grpc-encoding \"br\" is not supported");
    assert_eq!(
        header(response.headers(), "grpc-accept-encoding"),
        Some("gzip,identity")
    );
}

#[tokio::test]
async fn an_encoding_the_service_refuses_lists_what_it_accepts() {
    let config = ServiceConfig::default().accept_compressed(EncodingSet::identity_only());
    let request = request_with("grpc-encoding", "gzip", vec![]);
    let response = unary(request, config, ProstCodec, shout).await.unwrap();
    assert_trailers_only(&response, 12, "\"gzip\" is not supported");
    assert_eq!(
        header(response.headers(), "grpc-accept-encoding"),
        Some("identity")
    );
}

#[tokio::test]
async fn a_unary_request_with_two_messages_is_unimplemented() {
    // Request cardinality violations are UNIMPLEMENTED (gRPC's doc/statuscodes.md).
    let body = framed_all(&[note("one"), note("two")]);
    let response = serve_unary(grpc_request([Step::Data(body)])).await;
    assert_trailers_only(&response, 12, "more than one message for a unary method");
}

#[tokio::test]
async fn a_unary_request_without_a_message_is_unimplemented() {
    let response = serve_unary(grpc_request([])).await;
    assert_trailers_only(&response, 12, "the request has no message");
}

#[tokio::test]
async fn a_truncated_unary_request_is_internal() {
    let frame = framed(&note("truncated"));
    let response = serve_unary(grpc_request([Step::Data(frame.slice(..6))])).await;
    assert_trailers_only(&response, 13, "in the middle of a message");
}

#[tokio::test]
async fn a_request_over_the_receive_limit_is_resource_exhausted() {
    let config = ServiceConfig::default().max_receive_message_size(8);
    let request = grpc_request([Step::Data(framed(&note("far too long")))]);
    let response = unary(request, config, ProstCodec, shout).await.unwrap();
    assert_trailers_only(&response, 8, "larger than the receive limit of 8 bytes");
}

#[tokio::test]
async fn a_response_over_the_send_limit_is_resource_exhausted() {
    let config = ServiceConfig::default().max_send_message_size(4);
    let request = grpc_request([Step::Data(framed(&note("long answer")))]);
    let response = unary(request, config, ProstCodec, shout).await.unwrap();
    assert_trailers_only(&response, 8, "larger than the send limit of 4 bytes");
}

#[tokio::test]
async fn a_body_read_error_fails_the_call_with_its_status() {
    let request = grpc_request([
        Step::Data(Bytes::from_static(&[0, 0])),
        Step::Error(Status::cancelled("client reset the stream")),
    ]);
    let response = serve_unary(request).await;
    assert_trailers_only(&response, 1, "client reset the stream");
}

#[tokio::test]
async fn a_handler_error_is_a_trailers_only_response() {
    let request = grpc_request([Step::Data(framed(&note("x")))]);
    let handler = |_: Request<Note>| async {
        Err::<Response<Note>, _>(Status::not_found("no note: 100% gone"))
    };
    let response = unary(request, ServiceConfig::default(), ProstCodec, handler)
        .await
        .unwrap();
    assert_trailers_only(&response, 5, "no note: 100% gone");
    let (data, trailers) = collect(response).await;
    assert!(data.is_empty());
    assert!(trailers.is_none());
}

#[tokio::test]
async fn a_handler_past_the_grpc_timeout_is_deadline_exceeded() {
    let request = request_with("grpc-timeout", "50m", vec![Step::Data(framed(&note("x")))]);
    let start = tokio::time::Instant::now();
    let handler = |request: Request<Note>| async move {
        let deadline = request.deadline().expect("the request's deadline");
        assert!(deadline >= start + Duration::from_millis(50));
        std::future::pending::<()>().await;
        Ok(Response::new(note("never")))
    };
    let response = unary(request, ServiceConfig::default(), ProstCodec, handler)
        .await
        .unwrap();
    assert_trailers_only(&response, 4, "deadline exceeded");
    assert!(start.elapsed() >= Duration::from_millis(50));
}

#[tokio::test]
async fn client_streaming_sums_messages_from_a_split_body() {
    let numbers = [Num { value: 5 }, Num { value: 300 }, Num { value: -7 }];
    let request = grpc_request(byte_by_byte(&framed_all(&numbers)));
    let sum = |request: Request<Streaming<Num>>| async move {
        let mut stream = request.into_inner();
        let mut total = 0;
        while let Some(number) = stream.message().await? {
            total += number.value;
        }
        Ok(Response::new(Num { value: total }))
    };
    let response = client_streaming(request, ServiceConfig::default(), ProstCodec, sum)
        .await
        .unwrap();
    let (data, trailers) = collect(response).await;
    assert_eq!(data, framed(&Num { value: 298 }));
    assert_eq!(header(&trailers.unwrap(), "grpc-status"), Some("0"));
}

#[tokio::test]
async fn client_streaming_passes_a_truncated_body_to_the_handler() {
    let frame = framed(&Num { value: 1 });
    let request = grpc_request([Step::Data(frame.slice(..frame.len() - 1))]);
    let count = |request: Request<Streaming<Num>>| async move {
        let mut stream = request.into_inner();
        stream.message().await?;
        Ok(Response::new(Num { value: 0 }))
    };
    let response = client_streaming(request, ServiceConfig::default(), ProstCodec, count)
        .await
        .unwrap();
    assert_trailers_only(&response, 13, "in the middle of a message");
}

/// The response stream of [`words`].
type Words = tokio_stream::Iter<std::vec::IntoIter<Result<Note, Status>>>;

/// A server-streaming handler answering each request with its words, then `ending`.
fn words(
    ending: Option<Status>,
) -> impl FnOnce(Request<Note>) -> std::future::Ready<Result<Response<Words>, Status>> {
    move |request| {
        let mut items: Vec<Result<Note, Status>> = request
            .into_inner()
            .text
            .split(' ')
            .map(|word| Ok(note(word)))
            .collect();
        items.extend(ending.map(Err));
        std::future::ready(Ok(Response::new(tokio_stream::iter(items))))
    }
}

#[tokio::test]
async fn server_streaming_sends_each_message_then_ok_trailers() {
    let request = grpc_request([Step::Data(framed(&note("a few words")))]);
    let response = server_streaming(request, ServiceConfig::default(), ProstCodec, words(None))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (data, trailers) = collect(response).await;
    assert_eq!(data, framed_all(&[note("a"), note("few"), note("words")]));
    assert_eq!(header(&trailers.unwrap(), "grpc-status"), Some("0"));
}

#[tokio::test]
async fn a_stream_error_goes_out_in_the_trailers_after_the_messages() {
    let request = grpc_request([Step::Data(framed(&note("two words")))]);
    let handler = words(Some(Status::aborted("ran out")));
    let response = server_streaming(request, ServiceConfig::default(), ProstCodec, handler)
        .await
        .unwrap();
    let (data, trailers) = collect(response).await;
    assert_eq!(data, framed_all(&[note("two"), note("words")]));
    let trailers = trailers.unwrap();
    assert_eq!(header(&trailers, "grpc-status"), Some("10"));
    assert_eq!(header(&trailers, "grpc-message"), Some("ran out"));
}

#[tokio::test]
async fn bidi_streaming_answers_each_request() {
    let request = grpc_request([
        Step::Data(framed(&note("ping"))),
        Step::Pending,
        Step::Data(framed(&note("pong"))),
    ]);
    let echo = |request: Request<Streaming<Note>>| async move {
        let mut stream = request.into_inner();
        let mut seen = Vec::new();
        while let Some(message) = stream.message().await? {
            seen.push(Ok(note(&format!("{}!", message.text))));
        }
        Ok(Response::new(tokio_stream::iter(seen)))
    };
    let response = bidi_streaming(request, ServiceConfig::default(), ProstCodec, echo)
        .await
        .unwrap();
    let (data, trailers) = collect(response).await;
    assert_eq!(data, framed_all(&[note("ping!"), note("pong!")]));
    assert_eq!(header(&trailers.unwrap(), "grpc-status"), Some("0"));
}

#[tokio::test]
async fn unknown_methods_are_unimplemented() {
    let response = unimplemented(grpc_request([])).await.unwrap();
    assert_trailers_only(&response, 12, "method not found: /notes.Notes/Shout");
}

/// `message` as one gzip-compressed frame, through the codec's encoder.
fn gzip_framed(message: &Note) -> Bytes {
    let encoder = FrameEncoder {
        max_size: usize::MAX,
        encoding: Some(Encoding::Gzip),
        switch: None,
    };
    let mut buf = bytes::BytesMut::new();
    encoder.encode(message, &mut buf).unwrap();
    buf.freeze()
}

#[tokio::test]
async fn a_gzip_request_is_decompressed_and_marked() {
    let steps = vec![Step::Data(gzip_framed(&note("squeezed")))];
    let request = request_with("grpc-encoding", "gzip", steps);
    let handler = |request: Request<Note>| async move {
        assert!(
            request.extensions().get::<Compressed>().is_some(),
            "marked compressed"
        );
        shout(request).await
    };
    let response = unary(request, ServiceConfig::default(), ProstCodec, handler)
        .await
        .unwrap();
    let (data, _) = collect(response).await;
    assert_eq!(data, framed(&note("SQUEEZED")));
}

#[tokio::test]
async fn responses_are_compressed_only_when_the_client_accepts_it() {
    let config = ServiceConfig::default().send_compressed(Encoding::Gzip);
    let steps = vec![Step::Data(framed(&note("hi")))];
    let request = request_with("grpc-accept-encoding", "gzip, identity", steps);
    let response = unary(request, config.clone(), ProstCodec, shout)
        .await
        .unwrap();
    assert_eq!(header(response.headers(), "grpc-encoding"), Some("gzip"));
    let (data, _) = collect(response).await;
    assert_eq!(data[0], 1, "compressed flag");
    let mut decoder = FrameDecoder::new(1024, Some(Encoding::Gzip));
    decoder.push(data);
    let payload = decoder.next_frame().unwrap().expect("one whole frame");
    assert_eq!(decode_message::<Note>(payload).unwrap(), note("HI"));

    let request = grpc_request([Step::Data(framed(&note("hi")))]);
    let response = unary(request, config, ProstCodec, shout).await.unwrap();
    assert_eq!(header(response.headers(), "grpc-encoding"), None);
    assert_eq!(collect(response).await.0, framed(&note("HI")));
}

#[tokio::test]
async fn a_response_stream_past_the_deadline_ends_with_deadline_exceeded() {
    let request = request_with("grpc-timeout", "50m", vec![Step::Data(framed(&note("x")))]);
    let handler = |_: Request<Note>| async {
        let first = tokio_stream::iter([Ok(note("first"))]);
        Ok(Response::new(first.chain(tokio_stream::pending())))
    };
    let response = server_streaming(request, ServiceConfig::default(), ProstCodec, handler)
        .await
        .unwrap();
    let (data, trailers) = collect(response).await;
    assert_eq!(data, framed(&note("first")));
    let trailers = trailers.unwrap();
    assert_eq!(header(&trailers, "grpc-status"), Some("4"));
    assert_eq!(header(&trailers, "grpc-message"), Some("deadline exceeded"));
}
