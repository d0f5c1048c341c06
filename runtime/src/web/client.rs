//! The channel's translation: a call's gRPC request goes out in the channel's protocol,
//! and the response comes back as the gRPC response it stands for.

use bytes::{Buf, Bytes};
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, TE};
use http::uri::PathAndQuery;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use http_body_util::BodyExt;

use super::base64::{Base64Decode, Base64Encode};
use super::connect::error::{read_end_stream, status_from_body};
use super::connect::get::write_query;
use super::connect::{self, END_STREAM_FLAG, TRAILER_PREFIX};
use super::frames::FrameAsTrailers;
use super::grpc_web::{self, TRAILER_FLAG};
use super::protocol::Protocol;
use super::{read_limited, rename};
use crate::codec::{DEFAULT_MAX_RECEIVE_SIZE, Encoding, HEADER_SIZE};
use crate::protocol::client_call::CallShape;
use crate::protocol::wire::{
    GRPC_ACCEPT_ENCODING, GRPC_CONTENT_TYPE, GRPC_ENCODING, GRPC_TIMEOUT, grpc_format,
    is_grpc_content_type, parse_timeout,
};
use crate::status::{Code, GRPC_MESSAGE, GRPC_STATUS, GRPC_STATUS_DETAILS, Status};
use crate::transport::body::Body;
use crate::transport::incoming::IncomingBody;

/// How a channel speaks to its servers, beyond gRPC.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WebSettings {
    pub(crate) protocol: Protocol,
    /// Connect: unary calls without side effects go as GETs.
    pub(crate) connect_get: bool,
}

/// The request a gRPC request stands for in `protocol`.
pub(crate) fn to_web(
    settings: WebSettings,
    shape: CallShape,
    request: http::Request<Body>,
) -> Result<http::Request<Body>, Status> {
    let (mut parts, body) = request.into_parts();
    let format = grpc_format(parts.headers.get(CONTENT_TYPE)).unwrap_or_default();
    let headers = &mut parts.headers;
    headers.remove(TE);
    let body = match (settings.protocol, shape) {
        (Protocol::Grpc, _) => body,
        (Protocol::GrpcWeb | Protocol::GrpcWebText, _) => {
            let text = settings.protocol == Protocol::GrpcWebText;
            headers.insert(CONTENT_TYPE, grpc_web::content_type(text, format));
            headers.insert("x-grpc-web", HeaderValue::from_static("1"));
            match text {
                true => Body::streaming(Base64Encode::new(body)),
                false => body,
            }
        }
        (Protocol::Connect, CallShape::Streaming) => {
            connect_head(headers);
            headers.insert(CONTENT_TYPE, connect::stream_content_type(format));
            rename(headers, GRPC_ENCODING, connect::CONTENT_ENCODING);
            rename(headers, GRPC_ACCEPT_ENCODING, connect::ACCEPT_ENCODING);
            body
        }
        (
            Protocol::Connect,
            CallShape::Unary {
                no_side_effects, ..
            },
        ) => {
            connect_head(headers);
            rename(headers, GRPC_ACCEPT_ENCODING, ACCEPT_ENCODING);
            let encoding = headers.remove(GRPC_ENCODING);
            let (compressed, message) = single_frame(body)?;
            let compression = encoding.filter(|_| compressed);
            if no_side_effects && settings.connect_get {
                let name = compression.as_ref().and_then(|value| value.to_str().ok());
                let query = write_query(format, name, &message);
                parts.uri = with_query(&parts.uri, &query)?;
                parts.method = Method::GET;
                parts.headers.remove(CONTENT_TYPE);
                parts.headers.remove(connect::PROTOCOL_VERSION);
                Body::empty()
            } else {
                headers.insert(CONTENT_TYPE, connect::unary_content_type(format));
                if let Some(compression) = compression {
                    headers.insert(CONTENT_ENCODING, compression);
                }
                // Over HTTP/2 too: the server streams a body of known length to the call.
                headers.insert(CONTENT_LENGTH, HeaderValue::from(message.len()));
                Body::full(Some(message), None)
            }
        }
    };
    Ok(http::Request::from_parts(parts, body))
}

/// The Connect headers every request has: the protocol version, and the timeout in
/// milliseconds.
fn connect_head(headers: &mut HeaderMap) {
    headers.insert(connect::PROTOCOL_VERSION, HeaderValue::from_static("1"));
    if let Some(timeout) = headers
        .remove(GRPC_TIMEOUT)
        .as_ref()
        .and_then(parse_timeout)
    {
        headers.insert(connect::TIMEOUT_MS, connect::encode_timeout(timeout));
    }
}

/// The only message of a unary request's body, and whether it is compressed.
fn single_frame(mut body: Body) -> Result<(bool, Bytes), Status> {
    let (data, _) = body
        .take_full()
        .ok_or_else(|| Status::internal("a unary request's body is built whole"))?;
    let data = data.unwrap_or_default();
    let mut header = data
        .get(..HEADER_SIZE)
        .ok_or_else(|| Status::internal("a unary request has one message"))?;
    let flags = header.get_u8();
    Ok((flags & 1 != 0, data.slice(HEADER_SIZE..)))
}

/// `uri` with `query`.
fn with_query(uri: &http::Uri, query: &str) -> Result<http::Uri, Status> {
    let mut parts = uri.clone().into_parts();
    let path = parts
        .path_and_query
        .as_ref()
        .map_or("/", PathAndQuery::path);
    let path_and_query = PathAndQuery::try_from(format!("{path}?{query}"))
        .map_err(|error| Status::internal(format!("invalid GET request: {error}")))?;
    parts.path_and_query = Some(path_and_query);
    http::Uri::from_parts(parts).map_err(|error| Status::internal(error.to_string()))
}

/// The gRPC response a response in `protocol` stands for.
pub(crate) async fn from_web(
    protocol: Protocol,
    shape: CallShape,
    response: http::Response<IncomingBody>,
) -> Result<http::Response<IncomingBody>, Status> {
    let (mut parts, body) = response.into_parts();
    if is_grpc_status_answer(&parts.headers) {
        // A plain gRPC Trailers-Only status, whatever the protocol: what a gRPC server or
        // proxy in front answers when it cannot speak the call's protocol. Read as it is.
        return Ok(http::Response::from_parts(parts, body));
    }
    match (protocol, shape) {
        (Protocol::Grpc, _) => Ok(http::Response::from_parts(parts, body)),
        (Protocol::GrpcWeb | Protocol::GrpcWebText, _) => {
            if parts.status != StatusCode::OK {
                // Not gRPC-Web's answer: the HTTP status tells the code.
                return Ok(http::Response::from_parts(parts, body));
            }
            expect_content_type(&parts.headers, b"application/grpc-web")?;
            // A status in the headers makes them the trailers (Trailers-Only), unless the
            // body has trailers of its own: they end the body when it has none. One block
            // cannot tell headers from trailers: a stream's keeps its headers as well.
            let in_headers = match (parts.headers.contains_key(GRPC_STATUS), shape) {
                (false, _) => None,
                (true, CallShape::Unary { .. }) => Some(std::mem::take(&mut parts.headers)),
                (true, CallShape::Streaming) => {
                    let trailers = parts.headers.clone();
                    for status_field in [GRPC_STATUS, GRPC_MESSAGE, GRPC_STATUS_DETAILS] {
                        parts.headers.remove(status_field);
                    }
                    Some(trailers)
                }
            };
            parts.headers.insert(CONTENT_TYPE, GRPC_CONTENT_TYPE);
            let encoding = encoding_of(parts.headers.get(GRPC_ENCODING));
            let body = match protocol == Protocol::GrpcWebText {
                true => IncomingBody::boxed(Base64Decode::new(body)),
                false => body,
            };
            let body = FrameAsTrailers::new(body, TRAILER_FLAG, grpc_web::read_trailers, encoding)
                .or_trailers(in_headers);
            Ok(http::Response::from_parts(parts, IncomingBody::boxed(body)))
        }
        (Protocol::Connect, CallShape::Streaming) => {
            if parts.status != StatusCode::OK {
                let error = read_limited(body, DEFAULT_MAX_RECEIVE_SIZE, "the response").await?;
                return Ok(trailers_only(status_from_body(parts.status, &error), parts));
            }
            rename(&mut parts.headers, connect::CONTENT_ENCODING, GRPC_ENCODING);
            rename(
                &mut parts.headers,
                connect::ACCEPT_ENCODING,
                GRPC_ACCEPT_ENCODING,
            );
            expect_content_type(&parts.headers, b"application/connect")?;
            parts.headers.insert(CONTENT_TYPE, GRPC_CONTENT_TYPE);
            let encoding = encoding_of(parts.headers.get(GRPC_ENCODING));
            let body = FrameAsTrailers::new(body, END_STREAM_FLAG, read_end_stream, encoding);
            Ok(http::Response::from_parts(parts, IncomingBody::boxed(body)))
        }
        (Protocol::Connect, CallShape::Unary { max_receive, .. }) => {
            let limit = match parts.status {
                StatusCode::OK => max_receive,
                _ => DEFAULT_MAX_RECEIVE_SIZE,
            };
            let message = read_limited(body, limit, "the response").await?;
            let trailers = take_trailers(&mut parts.headers);
            if parts.status != StatusCode::OK {
                let error = match encoding_of(parts.headers.get(CONTENT_ENCODING)) {
                    Some(encoding) => Bytes::from(encoding.decompress(&message, limit)?),
                    None => message,
                };
                let mut status = status_from_body(parts.status, &error);
                status
                    .metadata_mut()
                    .extend(crate::MetadataMap::from_headers(trailers));
                return Ok(trailers_only(status, parts));
            }
            expect_content_type(&parts.headers, b"application/")?;
            rename(&mut parts.headers, ACCEPT_ENCODING, GRPC_ACCEPT_ENCODING);
            let compression = parts
                .headers
                .remove(CONTENT_ENCODING)
                .filter(|value| value != "identity");
            let flags = u8::from(compression.is_some());
            if let Some(compression) = compression {
                parts.headers.insert(GRPC_ENCODING, compression);
            }
            parts.headers.insert(CONTENT_TYPE, GRPC_CONTENT_TYPE);
            let mut trailers = trailers;
            Status::new(Code::Ok, "").write_to(&mut trailers);
            let frame = super::frames::frame(flags, &message);
            let body = http_body_util::Full::new(frame)
                .map_err(|never| match never {})
                .with_trailers(std::future::ready(Some(Ok::<_, Status>(trailers))));
            Ok(http::Response::from_parts(parts, IncomingBody::boxed(body)))
        }
    }
}

/// Whether a response is gRPC's Trailers-Only answer, whatever protocol the call spoke.
fn is_grpc_status_answer(headers: &HeaderMap) -> bool {
    headers.contains_key(GRPC_STATUS) && is_grpc_content_type(headers.get(CONTENT_TYPE))
}

/// The encoding a response names.
fn encoding_of(value: Option<&HeaderValue>) -> Option<Encoding> {
    value.and_then(|value| Encoding::parse(value).ok().flatten())
}

/// Refuses a successful response whose content type is not the protocol's.
fn expect_content_type(headers: &HeaderMap, prefix: &[u8]) -> Result<(), Status> {
    match headers.get(CONTENT_TYPE) {
        Some(value) if value.as_bytes().starts_with(prefix) => Ok(()),
        other => Err(Status::unknown(format!(
            "unexpected content-type {:?}",
            other.map(|value| String::from_utf8_lossy(value.as_bytes()))
        ))),
    }
}

/// Takes a unary response's `trailer-` headers out, as trailers.
fn take_trailers(headers: &mut HeaderMap) -> HeaderMap {
    let mut trailers = HeaderMap::new();
    let names: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with(TRAILER_PREFIX))
        .cloned()
        .collect();
    for name in names {
        let Ok(unprefixed) = HeaderName::try_from(&name.as_str()[TRAILER_PREFIX.len()..]) else {
            continue;
        };
        for value in headers.get_all(&name) {
            trailers.append(unprefixed.clone(), value.clone());
        }
        headers.remove(&name);
    }
    trailers
}

/// A Trailers-Only gRPC response with `status`, keeping the other headers of `parts`.
fn trailers_only(status: Status, mut parts: http::response::Parts) -> http::Response<IncomingBody> {
    parts.status = StatusCode::OK;
    parts.headers.remove(CONTENT_ENCODING);
    parts.headers.insert(CONTENT_TYPE, GRPC_CONTENT_TYPE);
    status.write_to(&mut parts.headers);
    http::Response::from_parts(parts, IncomingBody::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unary_trailers_come_out_of_their_prefix() {
        let mut headers = HeaderMap::new();
        headers.insert("trailer-x-a", HeaderValue::from_static("1"));
        headers.append("trailer-x-a", HeaderValue::from_static("2"));
        headers.insert("x-b", HeaderValue::from_static("3"));
        let trailers = take_trailers(&mut headers);
        assert_eq!(trailers.get_all("x-a").iter().count(), 2);
        assert_eq!(headers.len(), 1);
        assert!(headers.contains_key("x-b"));
    }
}
