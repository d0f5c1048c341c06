//! The server's translation: a gRPC-Web or Connect request becomes the gRPC request it
//! stands for, and the services' gRPC response is written back in the request's protocol.

use std::time::Duration;

use bytes::{Buf, Bytes};
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use http_body_util::BodyExt;

use super::base64::{Base64Decode, Base64Encode};
use super::connect::error::{end_stream_frame, error_body, http_status};
use super::connect::get::read_query;
use super::connect::{self, TRAILER_PREFIX};
use super::frames::{Prefixed, TrailersAsFrame};
use super::grpc_web::{self, trailer_frame};
use super::protocol::{ConnectFormat, WebRequest};
use super::{read_limited, rename};
use crate::codec::{Format, HEADER_SIZE};
use crate::metadata::MetadataMap;
use crate::protocol::server_call::{GetRequest, UnknownMethod, status_response};
use crate::protocol::wire::{
    GRPC_ACCEPT_ENCODING, GRPC_ENCODING, GRPC_TIMEOUT, encode_timeout, grpc_content_type,
    is_grpc_content_type, parse_timeout,
};
use crate::status::{Code, Status};
use crate::transport::body::{Body, WithoutTrailers};
use crate::transport::incoming::IncomingBody;
use crate::transport::sent::OnSent;

/// Serves a web request through `call`, which serves gRPC requests. `max_receive` bounds
/// the body of a Connect unary request, read whole before the call.
pub(crate) async fn serve<F, Fut>(
    web: WebRequest,
    request: http::Request<IncomingBody>,
    max_receive: usize,
    call: F,
) -> http::Response<Body>
where
    F: FnOnce(http::Request<IncomingBody>) -> Fut,
    Fut: Future<Output = http::Response<Body>>,
{
    let (web, grpc) = match to_grpc(web, request, max_receive).await {
        Ok(translated) => translated,
        Err(Refusal::UnsupportedMediaType) => return unsupported_media_type(),
        Err(Refusal::Status(status)) => return status_answer(web, status),
    };
    from_grpc(web, call(grpc).await).await
}

/// Why a web request never reached the services.
enum Refusal {
    /// A Connect unary call in a format rsrpc lacks: `415`.
    UnsupportedMediaType,
    /// A status, to write in the request's protocol.
    Status(Status),
}

/// The gRPC request a web request stands for, and the request as now known (a GET's
/// format is in its query).
async fn to_grpc(
    mut web: WebRequest,
    request: http::Request<IncomingBody>,
    max_receive: usize,
) -> Result<(WebRequest, http::Request<IncomingBody>), Refusal> {
    let (mut parts, mut body) = request.into_parts();
    let peer = body.take_peer();
    let headers = &mut parts.headers;
    // A unary body's length becomes its message's length prefix.
    let length = headers
        .remove(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u32>().ok());
    let (format, mut body) = match web {
        WebRequest::GrpcWeb { text, format } => {
            let body = match text {
                true => IncomingBody::boxed(Base64Decode::new(body)),
                false => body,
            };
            (format, body)
        }
        WebRequest::ConnectStream { format } => {
            connect_head(headers)?;
            rename(headers, connect::CONTENT_ENCODING, GRPC_ENCODING);
            rename(headers, connect::ACCEPT_ENCODING, GRPC_ACCEPT_ENCODING);
            (format, body)
        }
        WebRequest::ConnectUnary { get: false, format } => {
            let ConnectFormat::Known(format) = format else {
                return Err(Refusal::UnsupportedMediaType);
            };
            connect_head(headers)?;
            let compression = headers.remove(CONTENT_ENCODING);
            rename(headers, ACCEPT_ENCODING, GRPC_ACCEPT_ENCODING);
            let flags = message_flags(headers, compression);
            let body = match length {
                // The message streams in as the call reads it, within its deadline and
                // its service's limit, which its length is checked against first.
                Some(length) => IncomingBody::boxed(Prefixed::new(body, flags, length)),
                // A chunked body has no length to prefix: read whole, within the call's
                // timeout and the server's default limit.
                None => {
                    let timeout = headers.get(GRPC_TIMEOUT).and_then(parse_timeout);
                    let message = read_whole(body, max_receive, timeout).await?;
                    let frame = super::frames::frame(flags, &message);
                    IncomingBody::boxed(http_body_util::Full::new(frame))
                }
            };
            (format, body)
        }
        WebRequest::ConnectUnary { get: true, .. } => {
            connect_head(headers)?;
            let query = parts.uri.query().unwrap_or_default();
            let get = read_query(query).map_err(Refusal::Status)?;
            let Some(format) = get.format else {
                return Err(Refusal::UnsupportedMediaType);
            };
            web = WebRequest::ConnectUnary {
                get: true,
                format: ConnectFormat::Known(format),
            };
            rename(headers, ACCEPT_ENCODING, GRPC_ACCEPT_ENCODING);
            let compression = get
                .compression
                .and_then(|name| HeaderValue::try_from(name).ok());
            parts.method = Method::POST;
            parts.extensions.insert(GetRequest);
            let flags = message_flags(headers, compression);
            let frame = super::frames::frame(flags, &get.message);
            (
                format,
                IncomingBody::boxed(http_body_util::Full::new(frame)),
            )
        }
    };
    parts
        .headers
        .insert(CONTENT_TYPE, grpc_content_type(format));
    body.set_peer(peer);
    Ok((web, http::Request::from_parts(parts, body)))
}

/// Checks and translates the Connect headers every request has: the protocol version,
/// and the timeout.
fn connect_head(headers: &mut HeaderMap) -> Result<(), Refusal> {
    if connect::wrong_version(headers.get(connect::PROTOCOL_VERSION)) {
        return Err(Refusal::Status(Status::invalid_argument(
            "connect-protocol-version must be 1",
        )));
    }
    headers.remove(connect::PROTOCOL_VERSION);
    if let Some(value) = headers.remove(connect::TIMEOUT_MS) {
        let Some(timeout) = connect::parse_timeout(&value) else {
            return Err(Refusal::Status(Status::invalid_argument(format!(
                "invalid connect-timeout-ms: {value:?}"
            ))));
        };
        headers.insert(GRPC_TIMEOUT, encode_timeout(timeout));
    }
    Ok(())
}

/// A Connect unary request's body, up to `max_receive` bytes, read within `timeout`.
async fn read_whole(
    body: IncomingBody,
    max_receive: usize,
    timeout: Option<Duration>,
) -> Result<Bytes, Refusal> {
    let read = read_limited(body, max_receive, "the request");
    let read = match timeout {
        Some(timeout) => tokio::time::timeout(timeout, read)
            .await
            .unwrap_or_else(|_| {
                Err(Status::deadline_exceeded(
                    "deadline exceeded reading the request",
                ))
            }),
        None => read.await,
    };
    read.map_err(Refusal::Status)
}

/// The flags of a unary message's frame: compressed as a whole when `compression` names
/// an encoding, which becomes the call's `grpc-encoding`.
fn message_flags(headers: &mut HeaderMap, compression: Option<HeaderValue>) -> u8 {
    let compressed = compression.filter(|value| value != "identity");
    let flags = u8::from(compressed.is_some());
    if let Some(encoding) = compressed {
        headers.insert(GRPC_ENCODING, encoding);
    }
    flags
}

/// `415 Unsupported Media Type`, naming the formats Connect unary calls may use.
fn unsupported_media_type() -> http::Response<Body> {
    let mut response = http::Response::new(Body::empty());
    *response.status_mut() = StatusCode::UNSUPPORTED_MEDIA_TYPE;
    let accepted = HeaderValue::from_static("application/proto, application/json");
    response.headers_mut().insert("accept-post", accepted);
    response
}

/// How a web request's answer is written.
enum Answer {
    /// Whole, as one message or a JSON error, in `Format`: a Connect unary call's, and
    /// the error of a Connect stream to a method no service has.
    Unary(Format),
    /// Messages as they come, then the status in a last frame.
    Stream(StreamAnswer),
}

/// The streamed answers of the web protocols.
enum StreamAnswer {
    GrpcWeb { text: bool, format: Format },
    Connect { format: Format },
}

impl Answer {
    /// How the answer to `web` is written, given the head of the services' response.
    fn of(web: WebRequest, parts: &http::response::Parts) -> Answer {
        match web {
            WebRequest::GrpcWeb { text, format } => {
                Answer::Stream(StreamAnswer::GrpcWeb { text, format })
            }
            // No such method: Connect answers it as a unary error, in JSON.
            WebRequest::ConnectStream { .. }
                if parts.extensions.get::<UnknownMethod>().is_some() =>
            {
                Answer::Unary(Format::Json)
            }
            WebRequest::ConnectStream { format } => {
                Answer::Stream(StreamAnswer::Connect { format })
            }
            WebRequest::ConnectUnary { format, .. } => Answer::Unary(match format {
                ConnectFormat::Known(format) => format,
                ConnectFormat::Unknown => Format::Proto,
            }),
        }
    }
}

/// Writes the services' gRPC response in the request's protocol. A response that is not
/// gRPC (a plain HTTP refusal) goes as it is.
async fn from_grpc(web: WebRequest, response: http::Response<Body>) -> http::Response<Body> {
    if !is_grpc_content_type(response.headers().get(CONTENT_TYPE)) {
        return response;
    }
    let (parts, body) = response.into_parts();
    if parts.headers.contains_key(crate::status::GRPC_STATUS) {
        return trailers_only_answer(web, parts, body);
    }
    match Answer::of(web, &parts) {
        Answer::Unary(format) => {
            let (data, trailers) = read_answer(body).await;
            unary_response(format, parts, data, trailers)
        }
        Answer::Stream(answer) => stream_response(answer, parts, body, false),
    }
}

/// `status` as the answer to `web`, in its protocol: what a call cut before it answered
/// gets.
pub(crate) fn status_answer(web: WebRequest, status: Status) -> http::Response<Body> {
    let (parts, body) = status_response(status).into_parts();
    trailers_only_answer(web, parts, body)
}

/// A gRPC Trailers-Only response (its headers are its trailers) as the answer to `web`.
fn trailers_only_answer(
    web: WebRequest,
    mut parts: http::response::Parts,
    body: Body,
) -> http::Response<Body> {
    match Answer::of(web, &parts) {
        Answer::Unary(format) => {
            let trailers = std::mem::take(&mut parts.headers);
            unary_response(format, parts, Bytes::new(), trailers)
        }
        Answer::Stream(answer) => stream_response(answer, parts, body, true),
    }
}

/// A gRPC-Web or Connect stream's answer: the messages as they come, then the trailers
/// (or, when `trailers_only`, the headers) as a last frame. gRPC-Web's Trailers-Only
/// answer keeps the status in its headers.
fn stream_response(
    answer: StreamAnswer,
    mut parts: http::response::Parts,
    body: Body,
    trailers_only: bool,
) -> http::Response<Body> {
    let body = match answer {
        StreamAnswer::GrpcWeb { text, format } => {
            parts
                .headers
                .insert(CONTENT_TYPE, grpc_web::content_type(text, format));
            if trailers_only {
                return http::Response::from_parts(parts, body);
            }
            let on_sent = OnSent::take(&mut parts.extensions);
            let body = TrailersAsFrame::new(body, trailer_frame, None, on_sent);
            match text {
                true => Body::ends_itself(Base64Encode::new(body)),
                false => Body::ends_itself(body),
            }
        }
        StreamAnswer::Connect { format } => {
            let on_sent = OnSent::take(&mut parts.extensions);
            let pending = trailers_only.then(|| std::mem::take(&mut parts.headers));
            rename(&mut parts.headers, GRPC_ENCODING, connect::CONTENT_ENCODING);
            rename(
                &mut parts.headers,
                GRPC_ACCEPT_ENCODING,
                connect::ACCEPT_ENCODING,
            );
            let headers = &mut parts.headers;
            headers.insert(CONTENT_TYPE, connect::stream_content_type(format));
            Body::ends_itself(TrailersAsFrame::new(
                body,
                end_stream_frame,
                pending,
                on_sent,
            ))
        }
    };
    parts.extensions.insert(WithoutTrailers);
    http::Response::from_parts(parts, body)
}

/// A gRPC response's data and trailers, read whole; a body that fails ends with its
/// status.
async fn read_answer(body: Body) -> (Bytes, HeaderMap) {
    match body.collect().await {
        Ok(collected) => {
            let trailers = collected.trailers().cloned().unwrap_or_default();
            (collected.to_bytes(), trailers)
        }
        Err(status) => (Bytes::new(), status.to_header_map()),
    }
}

/// A Connect unary response made of a gRPC response's `data` and `trailers`: the
/// message as the body, the trailers as `trailer-` headers; or an error as JSON, with
/// the HTTP status of its code.
fn unary_response(
    format: Format,
    mut parts: http::response::Parts,
    data: Bytes,
    trailers: HeaderMap,
) -> http::Response<Body> {
    let on_sent = OnSent::take(&mut parts.extensions);
    if let Some(on_sent) = on_sent {
        on_sent.sent(&trailers);
    }
    let status = Status::from_headers(&trailers)
        .unwrap_or_else(|| Status::internal("the response ended without a status"));
    let encoding = parts.headers.get(GRPC_ENCODING).cloned();
    let accepted = parts.headers.get(GRPC_ACCEPT_ENCODING).cloned();
    let mut headers = MetadataMap::from_headers(std::mem::take(&mut parts.headers)).into_headers();
    if let Some(accepted) = accepted {
        headers.insert(ACCEPT_ENCODING, accepted);
    }
    for (name, value) in MetadataMap::from_headers(trailers).into_headers().iter() {
        let prefixed = format!("{TRAILER_PREFIX}{name}");
        if let Ok(name) = http::HeaderName::try_from(prefixed) {
            headers.append(name, value.clone());
        }
    }
    let (status_code, content_type, body) = match single_message(status, &data) {
        Ok((compressed, message)) => {
            if let (true, Some(encoding)) = (compressed, encoding) {
                headers.insert(CONTENT_ENCODING, encoding);
            }
            (StatusCode::OK, connect::unary_content_type(format), message)
        }
        Err(status) => {
            let json = HeaderValue::from_static("application/json");
            // No such method: Connect's HTTP answer is "not found", not "not implemented".
            let http = match parts.extensions.get::<UnknownMethod>() {
                Some(UnknownMethod) => StatusCode::NOT_FOUND,
                None => http_status(status.code()),
            };
            (http, json, error_body(&status))
        }
    };
    headers.insert(CONTENT_TYPE, content_type);
    parts.status = status_code;
    parts.headers = headers;
    // Whole, and without trailers: its status is the HTTP status, so an HTTP/1.1 server
    // has no trailers to fold for a client without `te: trailers`, nor a reason to cut it.
    parts.extensions.insert(WithoutTrailers);
    http::Response::from_parts(parts, Body::full(Some(body), None))
}

/// The only message of a successful unary response, and whether it is compressed; the
/// error status otherwise.
fn single_message(status: Status, data: &Bytes) -> Result<(bool, Bytes), Status> {
    if status.code() != Code::Ok {
        return Err(status);
    }
    let malformed = || Status::internal("the service's response is not one message");
    let mut header = data.get(..HEADER_SIZE).ok_or_else(malformed)?;
    let flags = header.get_u8();
    let len = header.get_u32() as usize;
    if data.len() != HEADER_SIZE + len {
        return Err(malformed());
    }
    Ok((flags & 1 != 0, data.slice(HEADER_SIZE..)))
}
